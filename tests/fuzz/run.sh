#!/bin/sh
# Build the request-parser fuzzer with clang's libFuzzer and run it.
#   tests/fuzz/run.sh [seconds]   (default 60)
set -e
cd "$(dirname "$0")/../.."
SECS=${1:-60}
OUT=build-fuzz
mkdir -p $OUT tests/fuzz/corpus
SRCS="tests/fuzz/fuzz_reqparse.c src/net/reqparse.c src/lib/kstr.c src/lib/util.c src/lib/zmalloc.c"
clang -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined $SRCS -o $OUT/fuzz_reqparse
# Seeds: a few well-formed and malformed requests.
printf '\001*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' > tests/fuzz/corpus/seed1
printf '\003SET a "b c"\r\nPING\r\n' > tests/fuzz/corpus/seed2
printf '\005*1\r\n$abc\r\n' > tests/fuzz/corpus/seed3
printf '\007*3\r\n$3\r\nSET\r\n$5000\r\n' > tests/fuzz/corpus/seed4
./$OUT/fuzz_reqparse -max_total_time="$SECS" -max_len=4096 tests/fuzz/corpus
