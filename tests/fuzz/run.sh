#!/bin/sh
# Build the libFuzzer targets with clang and run each for a while.
#   tests/fuzz/run.sh [seconds-per-target]   (default 60)
#   FUZZ_TARGETS="rdb" tests/fuzz/run.sh 600  (only the RDB loader)
set -e
cd "$(dirname "$0")/../.."
SECS=${1:-60}
TARGETS=${FUZZ_TARGETS:-"reqparse resp_reader rdb"}
OUT=build-fuzz
mkdir -p $OUT tests/fuzz/corpus

for t in $TARGETS; do
case $t in
reqparse)
SRCS="tests/fuzz/fuzz_reqparse.c src/net/reqparse.c src/lib/kstr.c src/lib/util.c src/lib/zmalloc.c"
clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined $SRCS -o $OUT/fuzz_reqparse
# Seeds: a few well-formed and malformed requests.
printf '\001*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' > tests/fuzz/corpus/seed1
printf '\003SET a "b c"\r\nPING\r\n' > tests/fuzz/corpus/seed2
printf '\005*1\r\n$abc\r\n' > tests/fuzz/corpus/seed3
printf '\007*3\r\n$3\r\nSET\r\n$5000\r\n' > tests/fuzz/corpus/seed4
./$OUT/fuzz_reqparse -max_total_time="$SECS" -max_len=4096 tests/fuzz/corpus
;;
resp_reader)
SRCS="tests/fuzz/fuzz_resp_reader.c src/lib/resp_reader.c src/lib/zmalloc.c"
clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined $SRCS -o $OUT/fuzz_resp_reader
mkdir -p tests/fuzz/corpus-replies
printf '\003*3\r\n:1\r\n%%1\r\n+a\r\n,1.5\r\n$-1\r\n' > tests/fuzz/corpus-replies/seed1
printf '\001|1\r\n+t\r\n:1\r\n=7\r\ntxt:abc\r\n>2\r\n#t\r\n(12\r\n' > tests/fuzz/corpus-replies/seed2
./$OUT/fuzz_resp_reader -max_total_time="$SECS" -max_len=4096 tests/fuzz/corpus-replies
;;
rdb)
# The loader needs the server's modules (types, entries, keyspace): build
# them with the fuzzer's instrumentation through the Makefile, without
# core/main.c (src/tools/tool_runtime.c stands in for it).
FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
make -j2 CC=clang BUILD=$OUT/objs ALLOC=libc ASSERTS= OPT="$FLAGS" BIN=$OUT/keel-server \
     CHECK_RDB_BIN=$OUT/keel-check-rdb $OUT/keel-check-rdb >/dev/null
OBJS=$(find $OUT/objs/src -name '*.o' ! -name main.o ! -name check_rdb.o | sort)
clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined tests/fuzz/fuzz_rdb.c $OBJS -lm -lpthread -o $OUT/fuzz_rdb
mkdir -p $OUT/rdb-corpus
# Seeds: real dumps and DUMP payloads (tests/fuzz/rdb_seeds, written by
# Redis 7.0 and Keel), each offered to the three entry points.
for f in tests/fuzz/rdb_seeds/*; do
  b=$(basename "$f")
  case $b in
  payload-*) { printf '\001'; head -c -10 "$f"; } > $OUT/rdb-corpus/p-$b ;;
  *) for m in 0 2; do { printf "\\00$m"; cat "$f"; } > $OUT/rdb-corpus/$m-$b; done ;;
  esac
done
ASAN_OPTIONS=detect_leaks=1 ./$OUT/fuzz_rdb -max_total_time="$SECS" -max_len=65536 -timeout=10 \
     -rss_limit_mb=2048 $OUT/rdb-corpus
;;
esac
done
