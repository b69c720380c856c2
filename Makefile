# Keel build. GNU make only.
#
#   make            bin/keel-server (optimised, jemalloc, asserts off)
#   make asan       bin/keel-server-asan (AddressSanitizer + UBSan, libc malloc,
#                   asserts on)
#   make run        install missing Debian packages, build, start on :6379
#   make test       install, build both, run unit + integration tests
#   make unit       C unit tests only (Criterion, asserts on)
#   make check-deps the includes between src/ folders match the table in
#                   docs/ARCHITECTURE.md (part of make test)
#   make fuzz       build and run the request-parser fuzzer for a while
#
# BUILD names the object directory so that several builds can live side by
# side (helpers, CI, sanitizer) without stepping on each other's objects.

CC      ?= cc
BUILD   ?= build
BIN     ?= bin/keel-server
OPT     ?= -O2
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
INCS    := -Isrc $(shell pkg-config --cflags lua5.1)
CFLAGS  ?= $(OPT) -g
ALLOC   ?= jemalloc

ifeq ($(ALLOC),jemalloc)
  ALLOC_CFLAGS := -DUSE_JEMALLOC
  ALLOC_LIBS   := -ljemalloc
endif

# assert() states the invariants whose breaking would corrupt data
# silently (hashtable probe chains, listpack and smallpack lengths, the
# entry layout); each check is O(1) or paid for by the work it guards. They
# are compiled into the ASan build and the unit tests (ASSERTS empty) and
# left out of the optimised server (NDEBUG).
ASSERTS ?= -DNDEBUG

BASE_CFLAGS := $(CSTD) $(WARN) $(INCS) $(CFLAGS) $(ALLOC_CFLAGS) -MMD -MP
KEEL_CFLAGS := $(BASE_CFLAGS) $(ASSERTS)
# Lua 5.1 and its cjson and bit libraries: Debian's, linked statically
# (the Lua-visible API of both is the one Redis scripts use).
LUA_LIBS    := -l:liblua5.1-cjson.a -l:liblua5.1-bitop.a $(shell pkg-config --libs lua5.1)
LIBS        := $(ALLOC_LIBS) $(LUA_LIBS) -lssl -lcrypto -lmicrohttpd -lm -lpthread

SERVER_SRCS := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/tools/*'))
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o)
TOOL_OBJS   := $(filter-out $(BUILD)/src/core/main.o,$(SERVER_OBJS)) $(BUILD)/src/tools/tool_runtime.o
CHECK_RDB_BIN ?= $(subst keel-server,keel-check-rdb,$(BIN))
CHECK_AOF_BIN ?= $(subst keel-server,keel-check-aof,$(BIN))
# keel-cli: the client (src/cli), with the reply reader of src/lib and
# libedit for the prompt; linked, like keel-check-rdb, with the server's
# modules (tool_runtime.c standing in for main), because --rdb-report
# reads dumps with the server's own loader and sizes keys with its
# MEMORY USAGE arithmetic.
CLI_BIN     ?= $(subst keel-server,keel-cli,$(BIN))
CLI_SRCS    := $(sort $(wildcard src/cli/*.c))
CLI_OBJS    := $(CLI_SRCS:%.c=$(BUILD)/%.o) $(TOOL_OBJS)
CLI_LIBS     = $(LIBS) $(shell pkg-config --libs libedit)
LIB_SRCS    := $(sort $(wildcard src/lib/*.c)) src/net/reqparse.c src/persist/lzf.c
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# The unit tests link their own copy of the library objects, asserts on.
UNIT_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/unit-lib/%.o)
# Tests of the key layout and the keyspace (test_core_*.c) also link
# core's entry.c and db.c, with tests/unit/stubs_core.c standing in for
# the rest of the server.
UNIT_CORE_SRCS := src/core/entry.c src/core/db.c tests/unit/stubs_core.c
UNIT_CORE_OBJS := $(UNIT_CORE_SRCS:%.c=$(BUILD)/unit-lib/%.o)
.SECONDARY: $(UNIT_OBJS) $(UNIT_CORE_OBJS)
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

PYTEST  := /usr/bin/python3 -m pytest

.PHONY: all asan run test unit integration integration-asan deps clean fuzz bench check-deps clients redis-suite

all: $(BIN) $(CHECK_RDB_BIN) $(CHECK_AOF_BIN) $(CLI_BIN)

# -rdynamic: crash reports and the watchdog name the server's functions
# (backtrace_symbols_fd reads the dynamic symbol table).
$(BIN): $(SERVER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(SERVER_OBJS) $(LIBS)

# keel-check-rdb: the server's modules without core/main.c, plus a small
# runtime standing in for it (src/tools), so it checks a file with exactly
# the loader the server uses.
$(CHECK_RDB_BIN): $(TOOL_OBJS) $(BUILD)/src/tools/check_rdb.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(TOOL_OBJS) $(BUILD)/src/tools/check_rdb.o $(LIBS)

# keel-check-aof: the same runtime, with the AOF manifest reader and the
# RDB loader (for RDB bases and preambles).
$(CHECK_AOF_BIN): $(TOOL_OBJS) $(BUILD)/src/tools/check_aof.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(TOOL_OBJS) $(BUILD)/src/tools/check_aof.o $(LIBS)

$(CLI_BIN): $(CLI_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CLI_OBJS) $(CLI_LIBS) $(filter -fsanitize=%,$(OPT))

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KEEL_CFLAGS) -c $< -o $@

$(BUILD)/unit-lib/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -I. -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -o $@ $< $(UNIT_OBJS) -lcriterion $(LIBS)

$(BUILD)/unit/test_core_%: tests/unit/test_core_%.c $(UNIT_OBJS) $(UNIT_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -I. -o $@ $< $(UNIT_OBJS) $(UNIT_CORE_OBJS) -lcriterion $(LIBS)

asan:
	$(MAKE) BUILD=build-asan BIN=bin/keel-server-asan ALLOC=libc ASSERTS= \
	  OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LIBS_EXTRA= all
	@true

# The sanitizer flags must reach the link step too.
ifneq ($(findstring sanitize,$(OPT)),)
  LIBS += $(filter -fsanitize=%,$(OPT))
endif

deps:
	@./scripts/install-deps.sh

run: deps all
	./$(BIN) keel.conf

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 1; done

integration: all
	KEEL_SERVER=$(abspath $(BIN)) KEEL_ALLOCATOR=$(ALLOC) $(PYTEST) -q tests/integration

integration-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  KEEL_SERVER=$(abspath bin/keel-server-asan) KEEL_ALLOCATOR=libc $(PYTEST) -q -x tests/integration

check-deps:
	@/usr/bin/python3 scripts/check-deps.py

test: deps check-deps all unit
	$(MAKE) integration
	$(MAKE) integration-asan
	$(MAKE) clients

# Node.js client tests (ioredis from npm) in tests/clients.
clients: all
	cd tests/clients && npm install --no-audit --no-fund --silent && KEEL_SERVER=$(abspath $(BIN)) node --test

# Redis's own TCL suite against this build (not part of `make test`; see
# docs/COMPATIBILITY.md): REDIS is a tag of the mirror or a source tree,
# MODE external or normal, UNITS a list (empty: the default list).
REDIS ?= 7.0.15
MODE  ?= external
UNITS ?=
redis-suite: all
	tests/redis-suite/run.sh -r $(REDIS) -m $(MODE) -s $(abspath $(BIN)) $(UNITS)

fuzz:
	./tests/fuzz/run.sh

bench: all
	./bench/compare.sh

clean:
	rm -rf build build-* bin

-include $(BUILD)/src/tools/*.d $(BUILD)/src/cli/*.d
-include $(SERVER_OBJS:.o=.d) $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(UNIT_CORE_OBJS:.o=.d) $(UNIT_BINS:=.d)
