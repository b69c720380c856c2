# Keel build. GNU make only.
#
#   make            bin/keel-server (optimised, jemalloc)
#   make asan       bin/keel-server-asan (AddressSanitizer + UBSan, libc malloc)
#   make run        install missing Debian packages, build, start on :6379
#   make test       install, build both, run unit + integration tests
#   make unit       C unit tests only (Criterion)
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
INCS    := -Isrc
CFLAGS  ?= $(OPT) -g
ALLOC   ?= jemalloc

ifeq ($(ALLOC),jemalloc)
  ALLOC_CFLAGS := -DUSE_JEMALLOC
  ALLOC_LIBS   := -ljemalloc
endif

KEEL_CFLAGS := $(CSTD) $(WARN) $(INCS) $(CFLAGS) $(ALLOC_CFLAGS) -MMD -MP
LIBS        := $(ALLOC_LIBS) -lm -lpthread

SERVER_SRCS := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*'))
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o)
LIB_SRCS    := $(sort $(wildcard src/lib/*.c)) src/net/reqparse.c
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

PYTEST  := /usr/bin/python3 -m pytest

.PHONY: all asan run test unit integration integration-asan deps clean fuzz bench

all: $(BIN)

$(BIN): $(SERVER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(SERVER_OBJS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KEEL_CFLAGS) -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(KEEL_CFLAGS) -o $@ $< $(LIB_OBJS) -lcriterion $(LIBS)

asan:
	$(MAKE) BUILD=build-asan BIN=bin/keel-server-asan ALLOC=libc \
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
	KEEL_SERVER=$(abspath $(BIN)) $(PYTEST) -q tests/integration

integration-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  KEEL_SERVER=$(abspath bin/keel-server-asan) $(PYTEST) -q -x tests/integration

test: deps all unit
	$(MAKE) integration
	$(MAKE) integration-asan

fuzz:
	./tests/fuzz/run.sh

bench: all
	./bench/compare.sh

clean:
	rm -rf build build-* bin

-include $(SERVER_OBJS:.o=.d) $(LIB_OBJS:.o=.d) $(UNIT_BINS:=.d)
