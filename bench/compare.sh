#!/usr/bin/env bash
# bench/compare.sh - run keel-server and redis-server side by side and print
# keel/redis ratios.
#
#   bench/compare.sh [--markdown]
#
# Env: KEEL_SERVER  (default <repo>/bin/keel-server, built with make if missing)
#      REDIS_SERVER (default /usr/bin/redis-server)
#      BENCH_N=200000 BENCH_N_PIPE=1000000 BENCH_N_PIPE_MSET=200000
#      BENCH_REPS=2 BENCH_CLIENTS=50
#
# Throughput rows: each (test, mode) is run BENCH_REPS times per server, keel
# and redis interleaved (order alternating per repetition); the best (max)
# requests/s of the repetitions is reported. Memory rows are read once, on
# fresh servers, before the throughput runs.
#
# To add a row: measure both sides, then `add_row "name" rps|bytes KEEL REDIS`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"

MARKDOWN=0
for arg in "$@"; do
    case $arg in
        --markdown) MARKDOWN=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument: $arg" ;;
    esac
done

KEEL_SERVER=${KEEL_SERVER:-$ROOT/bin/keel-server}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
N=${BENCH_N:-200000}
N_PIPE=${BENCH_N_PIPE:-1000000}
N_PIPE_MSET=${BENCH_N_PIPE_MSET:-200000}   # x10 keys per command
REPS=${BENCH_REPS:-2}
CLIENTS=${BENCH_CLIENTS:-50}
KEYSPACE=1000000

if [ ! -x "$KEEL_SERVER" ] && [ "$KEEL_SERVER" = "$ROOT/bin/keel-server" ]; then
    log "building keel-server"
    make -C "$ROOT" >&2
fi

trap stop_all_servers EXIT
trap 'exit 130' INT TERM

start_server keel "$KEEL_SERVER" "$(free_port)"
start_server redis "$REDIS_SERVER" "$(free_port)"
KP=${SERVER_PORT[keel]} RP=${SERVER_PORT[redis]}
SECONDS=0
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD%% *}" 'BEGIN { exit !(l > 1.0) }' &&
    log "warning: load average $LOAD before starting; other processes will make the numbers noisy"

# --- memory: DEBUG POPULATE 1M keys with 16-byte values ---------------------
declare -A MEM
for side in keel redis; do
    port=${SERVER_PORT[$side]}
    rcli "$port" FLUSHALL >/dev/null
    log "$side: DEBUG POPULATE $KEYSPACE key 16"
    rcli "$port" DEBUG POPULATE "$KEYSPACE" key 16 >/dev/null
    MEM[$side.used]=$(info_field "$port" memory used_memory)
    MEM[$side.rss]=$(info_field "$port" memory used_memory_rss)
    rcli "$port" FLUSHALL >/dev/null
done
add_row "used_memory, 1M keys x 16B" bytes "${MEM[keel.used]:-NA}" "${MEM[redis.used]:-NA}"
add_row "used_memory_rss, 1M keys x 16B" bytes "${MEM[keel.rss]:-NA}" "${MEM[redis.rss]:-NA}"

# --- throughput -------------------------------------------------------------
# bench_pair LABEL TEST ARGS... : interleaved runs, best of REPS, adds a row.
bench_pair() {
    local label=$1 test=$2 rep side order; shift 2
    local -a keel=() redis=()
    for rep in $(seq "$REPS"); do
        order="keel redis"; [ $((rep % 2)) -eq 0 ] && order="redis keel"
        for side in $order; do
            local r; r=$(bench_rps "${SERVER_PORT[$side]}" "$test" -c "$CLIENTS" -r "$KEYSPACE" "$@")
            log "$label $side run $rep: $r rps"
            if [ "$side" = keel ]; then keel+=("$r"); else redis+=("$r"); fi
        done
    done
    add_row "$label" rps "$(best_of "${keel[@]}")" "$(best_of "${redis[@]}")"
}

for t in set get incr mset; do
    bench_pair "${t^^} rps" "$t" -n "$N"
done
for t in set get incr; do
    bench_pair "${t^^} rps -P 16" "$t" -n "$N_PIPE" -P 16
done
bench_pair "MSET rps -P 16" mset -n "$N_PIPE_MSET" -P 16

# --- report -----------------------------------------------------------------
version() { local v; v=$(info_field "$1" server keel_version); echo "${v:-$(info_field "$1" server redis_version)}"; }
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HEADER="$(date -u '+%Y-%m-%d %H:%M UTC') | CPU: ${CPU:-unknown} x $(nproc) | keel $(version "$KP") ($KEEL_SERVER) | redis $(version "$RP") ($REDIS_SERVER)"
NOTE="ratio = keel/redis; rps: best of $REPS, $CLIENTS clients, -r $KEYSPACE, -n $N (-P 16: -n $N_PIPE, MSET $N_PIPE_MSET); MSET = 10 keys/command; load avg at start: $LOAD"
log "benchmark took ${SECONDS}s"

echo "$HEADER"
echo "$NOTE"
echo
print_table
if [ "$MARKDOWN" = 1 ]; then
    echo
    echo "$HEADER"
    echo
    echo "$NOTE"
    echo
    print_markdown
fi
