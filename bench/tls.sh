#!/usr/bin/env bash
# bench/tls.sh - GET/SET throughput over TLS, Keel beside Redis, both with
# a plain port and a TLS port, measured with redis-benchmark --tls.
#
#   bench/tls.sh [--markdown]
#
# Rows (each: Keel's and Redis's requests/s, keel/redis ratio):
#   SET, GET                 50 clients, one request at a time, 3-byte values
#   SET, GET -P 16           pipelines of 16
#   GET, 16 KB values        one TLS record per reply
#   PING, new connection     -k 0: a new TLS connection (handshake) per request
# each over TLS, and the first two also over the plain port for the cost of
# TLS itself; and for each, the server's CPU time per request (user +
# system, from /proc): on a shared 2-core machine requests/s swing with
# the load, CPU per request much less. Certificates are made here with the openssl CLI (RSA 2048,
# TLS 1.3, the default ciphersuite). Runs are interleaved Keel/Redis,
# BENCH_REPS times each (best kept).
#
# Env: KEEL_SERVER (default <repo>/bin/keel-server), REDIS_SERVER
#      (default /usr/bin/redis-server), BENCH_N=200000, BENCH_REPS=2,
#      BENCH_CLIENTS=50
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"

KEEL_SERVER=${KEEL_SERVER:-$ROOT/bin/keel-server}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
N=${BENCH_N:-200000}
REPS=${BENCH_REPS:-2}
CLIENTS=${BENCH_CLIENTS:-50}
MARKDOWN=0
[ "${1:-}" = --markdown ] && MARKDOWN=1
[ -x "$KEEL_SERVER" ] || make -C "$ROOT" >/dev/null

CERTS=$BENCH_WORKDIR/certs
declare -A TLS_PORT=()

cleanup() { stop_all_servers; }
trap cleanup EXIT

make_certs() {
    mkdir -p "$CERTS"
    (cd "$CERTS" &&
        openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 2 -keyout ca.key -out ca.crt \
            -subj "/CN=bench CA" &&
        openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout server.key -out server.csr -subj "/CN=bench" &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out server.crt &&
        openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout client.key -out client.csr -subj "/CN=client" &&
        openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt
    ) >/dev/null 2>&1 || die "openssl failed to make the certificates"
}

start_tls_server() {
    local name=$1 bin=$2 port tport i
    port=$(free_port)
    tport=$(free_port)
    mkdir -p "$BENCH_WORKDIR/$name"
    (cd "$BENCH_WORKDIR/$name" && exec "$bin" --port "$port" --bind "$HOST" --save "" --appendonly no \
        --tls-port "$tport" --tls-cert-file "$CERTS/server.crt" --tls-key-file "$CERTS/server.key" \
        --tls-ca-cert-file "$CERTS/ca.crt") >"$BENCH_WORKDIR/$name.log" 2>&1 &
    SERVER_PID[$name]=$! SERVER_PORT[$name]=$port TLS_PORT[$name]=$tport
    for i in $(seq 100); do
        [ "$(rcli "$port" PING 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    [ "$(rcli "$port" PING 2>/dev/null)" = PONG ] || { cat "$BENCH_WORKDIR/$name.log" >&2; die "$name did not start"; }
    log "$name ready: plain $port, TLS $tport"
}

# CPU seconds (user + system) the server has used so far.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# one_run NAME tls|plain TEST N ARGS... -> "rps cpu_us_per_request"
one_run() {
    local name=$1 mode=$2 test=$3 n=$4 pid before after rps; shift 4
    pid=${SERVER_PID[$name]}
    before=$(cpu_seconds "$pid")
    if [ "$mode" = tls ]; then
        rps=$(bench_rps "${TLS_PORT[$name]}" "$test" --tls --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" \
            --key "$CERTS/client.key" -c "$CLIENTS" -n "$n" "$@")
    else
        rps=$(bench_rps "${SERVER_PORT[$name]}" "$test" -c "$CLIENTS" -n "$n" "$@")
    fi
    after=$(cpu_seconds "$pid")
    echo "$rps $(awk -v a="$before" -v b="$after" -v n="$n" 'BEGIN { printf "%.3f", (b - a) * 1e6 / n }')"
}

min_of() { printf '%s\n' "$@" | awk '$1 != "NA" && (m == "" || $1 < m) { m = $1 } END { print (m == "" ? "NA" : m) }'; }

# row LABEL MODE TEST N ARGS...: best requests/s and least server CPU per
# request over REPS runs each, Keel and Redis interleaved.
row() {
    local label=$1 mode=$2 test=$3 n=$4 rep k r; shift 4
    local krps=() rrps=() kcpu=() rcpu=()
    for rep in $(seq "$REPS"); do
        if [ $((rep % 2)) = 1 ]; then
            k=$(one_run keel "$mode" "$test" "$n" "$@"); r=$(one_run redis "$mode" "$test" "$n" "$@")
        else
            r=$(one_run redis "$mode" "$test" "$n" "$@"); k=$(one_run keel "$mode" "$test" "$n" "$@")
        fi
        krps+=("${k% *}") rrps+=("${r% *}") kcpu+=("${k#* }") rcpu+=("${r#* }")
    done
    add_row "$label" rps "$(best_of "${krps[@]}")" "$(best_of "${rrps[@]}")"
    add_row "$label, server CPU us/request" us "$(min_of "${kcpu[@]}")" "$(min_of "${rcpu[@]}")"
    log "$label: keel ${krps[*]} (cpu ${kcpu[*]}) redis ${rrps[*]} (cpu ${rcpu[*]})"
}

make_certs
start_tls_server keel "$KEEL_SERVER"
start_tls_server redis "$REDIS_SERVER"

row "SET plain" plain set "$N"
row "GET plain" plain get "$N"
row "SET TLS" tls set "$N"
row "GET TLS" tls get "$N"
row "SET plain -P 16" plain set $((N * 5)) -P 16
row "GET plain -P 16" plain get $((N * 5)) -P 16
row "SET TLS -P 16" tls set $((N * 5)) -P 16
row "GET TLS -P 16" tls get $((N * 5)) -P 16
# The key GET reads (redis-benchmark's key:__rand_int__ without -r) holds 16 KB.
big=$(head -c 16384 /dev/zero | tr '\0' x)
for name in keel redis; do rcli "${SERVER_PORT[$name]}" SET key:__rand_int__ "$big" >/dev/null; done
row "GET TLS, 16 KB values" tls get $((N / 4))
row "PING TLS, new connection each" tls ping_mbulk $((N / 20)) -k 0

if [ "$MARKDOWN" = 1 ]; then print_markdown; else print_table; fi
