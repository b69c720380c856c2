#!/usr/bin/env bash
# CPU cost per request, Keel beside redis-server, measured in instructions
# with valgrind's callgrind: unlike requests per second on a shared 2-core
# machine (where redis-benchmark competes with the server for the CPU),
# instruction counts repeat to within a fraction of a percent, so they show
# which server does less work per command.
#
#   bench/cpu_cost.sh [--markdown]      (about 3 minutes)
#   CPU_TESTS="set" CPU_SERVER_ARGS="--appendonly yes" bench/cpu_cost.sh
#                                       (both servers get the extra arguments)
#
# For each test: start the server under callgrind, send N requests with
# redis-benchmark (-c 10 -P 16), stop it, read the total; a run with no
# requests gives the fixed start/stop cost, which is subtracted.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL=${KEEL_SERVER:-$PWD/bin/keel-server}
REDIS=${REDIS_SERVER:-/usr/bin/redis-server}
N=${CPU_N:-100000}
TESTS=${CPU_TESTS:-"set get incr lpush lpop sadd hset zadd lrange_100 mset xadd xrange_10"}
MD=0; [ "${1:-}" = "--markdown" ] && MD=1
[ -x "$KEEL" ] || make -j2 >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# instructions NAME BINARY TEST (TEST "none" = start and stop only)
instructions() {
    local bin=$1 test=$2 port out pid dir
    port=$(free_port)
    dir=$(mktemp -d -p "$TMP")   # a fresh directory: nothing to load
    out="$TMP/cg.$RANDOM"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --port "$port" --bind 127.0.0.1 \
        --save "" --appendonly no --dir "$dir" ${CPU_SERVER_ARGS:-} >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    if [ "$test" != none ]; then
        # Tests redis-benchmark has no -t name for: a custom command.
        local -a cmd=()
        case $test in
            xadd) cmd=(XADD bench '*' sensor s1 temp 151 unit C) ;;
            xrange_10) redis-cli -p "$port" eval "for i=1,1000 do redis.call('xadd','bench',i..'-1','sensor','s1','temp',i,'unit','C') end" 0 >/dev/null 2>&1 ||
                         for i in $(seq 1000); do echo "XADD bench $i-1 sensor s1 temp $i unit C"; done | redis-cli -p "$port" >/dev/null
                       cmd=(XRANGE bench - + COUNT 10) ;;
        esac
        redis-benchmark -p "$port" -t "$test" -n "$N" -c 10 -P 16 -r 100000 -q "${cmd[@]}" >/dev/null 2>&1
    fi
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

kbase=$(instructions "$KEEL" none)
rbase=$(instructions "$REDIS" none)
rows=()
for t in $TESTS; do
    k=$(instructions "$KEEL" "$t")
    r=$(instructions "$REDIS" "$t")
    # LRANGE tests also run their LPUSH fill: per request of the whole run.
    kper=$(( (k - kbase) / N )); rper=$(( (r - rbase) / N ))
    rows+=("$t|$kper|$rper|$(awk -v a="$kper" -v b="$rper" 'BEGIN{printf "%.2f", a/b}')")
    echo "[cpu] $t keel=$kper redis=$rper instructions/request" >&2
done
if [ $MD = 1 ]; then
    echo "| test (-c 10 -P 16, $N requests) | keel instr/req | redis instr/req | ratio |"
    echo "|---|---:|---:|---:|"
    for row in "${rows[@]}"; do IFS='|' read -r t k r q <<<"$row"; echo "| $t | $k | $r | $q |"; done
else
    printf "%-12s %14s %14s %6s\n" test keel redis ratio
    for row in "${rows[@]}"; do IFS='|' read -r t k r q <<<"$row"; printf "%-12s %14s %14s %6s\n" "$t" "$k" "$r" "$q"; done
fi
