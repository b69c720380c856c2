#!/usr/bin/env bash
# Scripting: EVALSHA of seed 003's rate limiter (GET, then SET EX or INCR)
# and of a script making 10 redis.call per run, Keel beside redis-server
# in one run: requests per second (redis-benchmark, -c 10, unpipelined and
# -P 16) and instructions per request (valgrind's callgrind, as
# bench/cpu_cost.sh measures them: start/stop cost subtracted).
#
#   bench/scripting.sh [--markdown]     (about 4 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL=${KEEL_SERVER:-$PWD/bin/keel-server}
REDIS=${REDIS_SERVER:-/usr/bin/redis-server}
N=${SCRIPT_N:-200000}      # requests per requests/s run
CN=${SCRIPT_CPU_N:-20000}  # requests per callgrind run
MD=0; [ "${1:-}" = "--markdown" ] && MD=1
[ -x "$KEEL" ] || make -j2 >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

RATE_LIMIT="local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], 1, 'EX', ARGV[2])
  return {1, 1}
end
current = tonumber(current)
if current >= tonumber(ARGV[1]) then
  return {current, 0}
end
return {redis.call('INCR', KEYS[1]), 1}"
TEN_CALLS="for i = 1, 5 do
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('GET', KEYS[1])
end
return 1"

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

wait_up() { for _ in $(seq 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

# bench_args SCRIPT: the EVALSHA request (after SCRIPT LOAD on port $1)
evalsha_args() {
    local port=$1 name=$2 sha
    if [ "$name" = ratelimit ]; then
        sha=$(redis-cli -p "$port" script load "$RATE_LIMIT")
        echo "EVALSHA $sha 1 rl:__rand_int__ 1000000000 60"
    else
        sha=$(redis-cli -p "$port" script load "$TEN_CALLS")
        echo "EVALSHA $sha 1 k:__rand_int__ value"
    fi
}

# rps BINARY SCRIPT PIPELINE
rps() {
    local bin=$1 name=$2 pipe=$3 port pid args
    port=$(free_port)
    "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
    pid=$!
    wait_up "$port"
    args=$(evalsha_args "$port" "$name")
    # shellcheck disable=SC2086
    redis-benchmark -p "$port" -n "$N" -c 10 -P "$pipe" -r 100000 -q $args 2>/dev/null |
        tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") print $(i-1)}' | tail -1
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
}

# instructions BINARY SCRIPT ("none": start and stop only)
instructions() {
    local bin=$1 name=$2 port out pid args
    port=$(free_port)
    out="$TMP/cg.$RANDOM"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --port "$port" --bind 127.0.0.1 \
        --save "" --appendonly no >/dev/null 2>&1 &
    pid=$!
    wait_up "$port"
    if [ "$name" != none ]; then
        args=$(evalsha_args "$port" "$name")
        # shellcheck disable=SC2086
        redis-benchmark -p "$port" -n "$CN" -c 10 -P 16 -r 100000 -q $args >/dev/null 2>&1
    else
        redis-cli -p "$port" script load "return 1" >/dev/null
    fi
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }

rows=()
for name in ratelimit tencalls; do
    for pipe in 1 16; do
        k=$(rps "$KEEL" "$name" "$pipe"); r=$(rps "$REDIS" "$name" "$pipe")
        rows+=("$name -P $pipe|requests/s|$k|$r|$(ratio "$k" "$r")")
        echo "[rps] $name -P $pipe keel=$k redis=$r" >&2
    done
done
kbase=$(instructions "$KEEL" none); rbase=$(instructions "$REDIS" none)
for name in ratelimit tencalls; do
    k=$(instructions "$KEEL" "$name"); r=$(instructions "$REDIS" "$name")
    kper=$(( (k - kbase) / CN )); rper=$(( (r - rbase) / CN ))
    # Fewer instructions is better: the ratio is Redis's over Keel's.
    rows+=("$name -P 16|instructions/request|$kper|$rper|$(ratio "$rper" "$kper")")
    echo "[cpu] $name keel=$kper redis=$rper" >&2
done
if [ $MD = 1 ]; then
    echo "| EVALSHA of | measure | keel | redis | keel vs redis (higher is better) |"
    echo "|---|---|---:|---:|---:|"
    for row in "${rows[@]}"; do IFS='|' read -r a b k r q <<<"$row"; echo "| $a | $b | $k | $r | $q |"; done
else
    printf "%-16s %-22s %12s %12s %6s\n" script measure keel redis ratio
    for row in "${rows[@]}"; do IFS='|' read -r a b k r q <<<"$row"; printf "%-16s %-22s %12s %12s %6s\n" "$a" "$b" "$k" "$r" "$q"; done
fi
