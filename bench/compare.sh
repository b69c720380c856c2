#!/usr/bin/env bash
# bench/compare.sh - run keel-server and redis-server side by side and print
# keel/redis ratios.
#
#   bench/compare.sh [--markdown] [--only GROUPS]
#
# GROUPS (comma-separated; default all):
#   base        used_memory of 1M string keys; SET/GET/INCR/MSET requests/s
#   streams     memory of streams: 1M entries in one stream, 100k streams of 10
#   memory      memory of the data types (fresh servers per row; ~2-3 min)
#   throughput  requests/s of the data-type commands (lists, sets, hashes,
#               sorted sets)
#   types       memory + throughput
#   all         everything (~10 min on two cores)
#
# Env: KEEL_SERVER  (default <repo>/bin/keel-server, built with make if missing)
#      REDIS_SERVER (default /usr/bin/redis-server)
#      BENCH_N=200000 BENCH_N_PIPE=1000000 BENCH_N_PIPE_MSET=200000
#      BENCH_REPS=2 BENCH_CLIENTS=50 BENCH_HLL_KEYS=50000
#
# Throughput rows: each (test, mode) is run BENCH_REPS times per server, keel
# and redis interleaved (order alternating per repetition); the best (max)
# requests/s of the repetitions is reported. Data-type rows start every run
# from an empty server (FLUSHALL), and the pops start from a key filled with
# more elements than the run pops, so no run measures replies to an empty
# key.
#
# Memory rows: the base row is read on the throughput servers before any
# throughput run. Each data-type row loads its data (bench/types_load.py
# piped through redis-cli --pipe) into a freshly started server, Keel's then
# Redis's, and reports the growth of used_memory and of RSS over the fresh
# server's (a reused server's RSS would carry the previous row's pages).
#
# To add a row: measure both sides, then `add_row "name" rps|bytes KEEL REDIS`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
trap stop_all_servers EXIT   # also removes BENCH_WORKDIR, made by lib.sh

MARKDOWN=0 ONLY=all
while [ $# -gt 0 ]; do
    case $1 in
        --markdown) MARKDOWN=1 ;;
        --only) [ $# -ge 2 ] || die "--only needs a value"; ONLY=$2; shift ;;
        --only=*) ONLY=${1#--only=} ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
    shift
done

declare -A RUN=()
IFS=, read -ra _groups <<<"$ONLY"
for g in "${_groups[@]}"; do
    case $g in
        base|memory|throughput|streams) RUN[$g]=1 ;;
        types) RUN[memory]=1 RUN[throughput]=1 ;;
        all) RUN[base]=1 RUN[memory]=1 RUN[throughput]=1 RUN[streams]=1 ;;
        *) die "unknown group '$g' (base, memory, streams, throughput, types, all)" ;;
    esac
done
runs() { [ -n "${RUN[$1]:-}" ]; }

KEEL_SERVER=${KEEL_SERVER:-$ROOT/bin/keel-server}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
N=${BENCH_N:-200000}
N_PIPE=${BENCH_N_PIPE:-1000000}
N_PIPE_MSET=${BENCH_N_PIPE_MSET:-200000}   # x10 keys per command
REPS=${BENCH_REPS:-2}
CLIENTS=${BENCH_CLIENTS:-50}
HLL_KEYS=${BENCH_HLL_KEYS:-50000}
KEYSPACE=1000000
TYPES_KEYSPACE=100000
LOADER="python3 $ROOT/bench/types_load.py"

if [ ! -x "$KEEL_SERVER" ] && [ "$KEEL_SERVER" = "$ROOT/bin/keel-server" ]; then
    log "building keel-server"
    make -C "$ROOT" >&2
fi

trap 'exit 130' INT TERM

SECONDS=0
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD%% *}" 'BEGIN { exit !(l > 1.0) }' &&
    log "warning: load average $LOAD before starting; other processes will make the numbers noisy"

if runs base || runs throughput; then
    start_server keel "$KEEL_SERVER" "$(free_port)"
    start_server redis "$REDIS_SERVER" "$(free_port)"
fi

# --- base memory: DEBUG POPULATE 1M keys with 16-byte values ----------------
base_memory() {
    local side port
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
}

# --- data-type memory -------------------------------------------------------
# mem_row LABEL LOADER-ARGS...: load into fresh servers, add the two rows.
mem_row() {
    local label=$1 side bin port u0 r0 name; shift
    declare -A USED RSS
    for side in keel redis; do
        bin=$KEEL_SERVER; [ "$side" = redis ] && bin=$REDIS_SERVER
        name=mem-$side
        start_server "$name" "$bin" "$(free_port)"
        port=${SERVER_PORT[$name]}
        u0=$(info_field "$port" memory used_memory)
        r0=$(info_field "$port" memory used_memory_rss)
        log "$side: loading $label"
        if $LOADER "$@" | pipe_load "$port"; then
            USED[$side]=$(( $(info_field "$port" memory used_memory) - u0 ))
            RSS[$side]=$(( $(info_field "$port" memory used_memory_rss) - r0 ))
            log "$side $label: used_memory +${USED[$side]}, rss +${RSS[$side]} (${SECONDS}s)"
        else
            USED[$side]=NA RSS[$side]=NA
        fi
        stop_server "$name"
    done
    add_row "used_memory delta, $label" bytes "${USED[keel]}" "${USED[redis]}"
    add_row "RSS delta, $label" bytes "${RSS[keel]}" "${RSS[redis]}"
}

types_memory() {
    mem_row "1M hashes x 10 fields" hashes
    mem_row "1M sets x 5 small ints" sets
    mem_row "1k zsets x 1k members" zsets
    mem_row "1 list x 10M items" list
    mem_row "$(( HLL_KEYS / 1000 ))k HLLs x 1k elements" hll "$HLL_KEYS"
}

# prep_stream PORT: a fresh stream "stream" of 20,000 entries (the memory
# row's loader) and a group "g" at its start. XRANGE reads its first 10;
# XREADGROUP serves new entries to 10 consumers, one entry a call, 20,000
# calls: each request delivers an entry (and adds it to the PEL).
prep_stream() {
    flush "$1" && $LOADER stream 20000 | pipe_load "$1" && rcli "$1" XGROUP CREATE stream g 0 >/dev/null
}

streams_throughput() {
    bench_pair "XADD rps" flush custom -n "$N" XADD s '*' sensor s1 temp 151 unit C
    bench_pair "XADD rps -P 16" flush custom -n "$N_PIPE" -P 16 XADD s '*' sensor s1 temp 151 unit C
    bench_pair "XRANGE 10 rps" prep_stream custom -n "$N" XRANGE stream - + COUNT 10
    bench_pair "XREADGROUP 1 entry, 10 consumers rps" prep_stream custom -n 20000 -r 10 \
        XREADGROUP GROUP g c__rand_int__ COUNT 1 STREAMS stream '>'
}

streams_memory() {
    mem_row "1 stream x 1M entries x 3 fields" stream
    mem_row "100k streams x 10 entries" streams
}

# --- throughput -------------------------------------------------------------
# bench_pair LABEL PREP TEST ARGS... : interleaved runs, best of REPS, adds a
# row. PREP is a command run with the port before every run (":" for none).
bench_pair() {
    local label=$1 prep=$2 test=$3 rep side order r; shift 3
    local -a keel=() redis=()
    for rep in $(seq "$REPS"); do
        order="keel redis"; [ $((rep % 2)) -eq 0 ] && order="redis keel"
        for side in $order; do
            $prep "${SERVER_PORT[$side]}" || die "$label: preparing $side failed"
            r=$(bench_rps "${SERVER_PORT[$side]}" "$test" -c "$CLIENTS" "$@")
            log "$label $side run $rep: $r rps"
            if [ "$side" = keel ]; then keel+=("$r"); else redis+=("$r"); fi
        done
    done
    add_row "$label" rps "$(best_of "${keel[@]}")" "$(best_of "${redis[@]}")"
}

base_throughput() {
    local t
    for t in set get incr mset; do
        bench_pair "${t^^} rps" : "$t" -n "$N" -r "$KEYSPACE"
    done
    for t in set get incr; do
        bench_pair "${t^^} rps -P 16" : "$t" -n "$N_PIPE" -P 16 -r "$KEYSPACE"
    done
    bench_pair "MSET rps -P 16" : mset -n "$N_PIPE_MSET" -P 16 -r "$KEYSPACE"
}

flush() { rcli "$1" FLUSHALL >/dev/null; }

# fill_cached KIND COUNT PORT: FLUSHALL, then COUNT elements in the key
# redis-benchmark pops from (generated once, replayed for every run).
fill_cached() {
    local file="$BENCH_WORKDIR/fill-$1-$2.resp"
    [ -s "$file" ] || $LOADER "fill-$1" "$2" >"$file"
    flush "$3" && pipe_load "$3" <"$file"
}

# types_pair LABEL-SUFFIX TEST N [ARGS...]: one data-type row; pops get a
# prefilled key with N + CLIENTS*16 elements (a pipelined run can overshoot
# N by up to one pipeline per client).
types_pair() {
    local suffix=$1 test=$2 n=$3 prep=flush fill; shift 3
    fill=$(( n + CLIENTS * 16 ))
    case $test in
        lpop|rpop) prep="fill_cached list $fill" ;;
        spop)      prep="fill_cached set $fill" ;;
        zpopmin)   prep="fill_cached zset $fill" ;;
    esac
    bench_pair "${test^^} rps$suffix" "$prep" "$test" -n "$n" "$@"
}

# requests per run for the slow LRANGE tests (each also pushes that many
# elements first: redis-benchmark's own "LPUSH (needed to benchmark LRANGE)")
N_LR100=$(( N / 2 )) N_LR600=$(( N / 4 ))
N_LR100_PIPE=$(( N_PIPE / 5 )) N_LR600_PIPE=$(( N_PIPE / 10 ))

types_throughput() {
    local t
    for t in lpush lpop rpop spop zpopmin; do types_pair "" "$t" "$N"; done
    for t in sadd hset zadd; do types_pair "" "$t" "$N" -r "$TYPES_KEYSPACE"; done
    types_pair "" lrange_100 "$N_LR100"
    types_pair "" lrange_600 "$N_LR600"
    for t in lpush lpop rpop spop zpopmin; do types_pair " -P 16" "$t" "$N_PIPE" -P 16; done
    for t in sadd hset zadd; do types_pair " -P 16" "$t" "$N_PIPE" -P 16 -r "$TYPES_KEYSPACE"; done
    types_pair " -P 16" lrange_100 "$N_LR100_PIPE" -P 16
    types_pair " -P 16" lrange_600 "$N_LR600_PIPE" -P 16
    flush "${SERVER_PORT[keel]}"; flush "${SERVER_PORT[redis]}"
}

if runs base; then base_memory; fi
if runs memory; then types_memory; fi
if runs streams; then streams_memory; fi
if runs streams; then
    [ -n "${SERVER_PORT[keel]:-}" ] || { start_server keel "$KEEL_SERVER" "$(free_port)"; start_server redis "$REDIS_SERVER" "$(free_port)"; }
    streams_throughput
fi
if runs base; then base_throughput; fi
if runs throughput; then types_throughput; fi

# --- report -----------------------------------------------------------------
version() { local v; v=$("$1" --version 2>/dev/null | head -1); echo "${v:-unknown}"; }
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HEADER="$(date -u '+%Y-%m-%d %H:%M UTC') | CPU: ${CPU:-unknown} x $(nproc) | keel: $(version "$KEEL_SERVER") ($KEEL_SERVER) | redis: $(version "$REDIS_SERVER") ($REDIS_SERVER)"
NOTES=("groups: $ONLY; ratio = keel/redis; load avg at start: $LOAD; took ${SECONDS}s")
runs base && NOTES+=("base rps: best of $REPS, $CLIENTS clients, -r $KEYSPACE, -n $N (-P 16: -n $N_PIPE, MSET $N_PIPE_MSET); MSET = 10 keys/command")
runs memory && NOTES+=("type memory: growth over a fresh server of used_memory / RSS after loading through redis-cli --pipe (bench/types_load.py: HSET of 10 fields; SADD of 5 ints < 1000; ZADD of 1000 members; RPUSH of 1000 10-byte items; PFADD of 100 elements)")
runs throughput && NOTES+=("type rps: best of $REPS, $CLIENTS clients, FLUSHALL before each run; -n $N (-P 16: -n $N_PIPE), LRANGE_100 -n $N_LR100 / $N_LR100_PIPE, LRANGE_600 -n $N_LR600 / $N_LR600_PIPE; -r $TYPES_KEYSPACE on SADD, HSET, ZADD (random members; ZADD random scores too), the other tests use fixed keys; LPOP/RPOP/SPOP/ZPOPMIN pop from a prefilled key; MSET is in the base rows")
log "benchmark took ${SECONDS}s"

echo "$HEADER"
printf '%s\n' "${NOTES[@]}"
echo
print_table
if [ "$MARKDOWN" = 1 ]; then
    echo
    echo "$HEADER"
    echo
    printf '%s\n\n' "${NOTES[@]}"
    print_markdown
fi
