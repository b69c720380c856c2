#!/usr/bin/env bash
# bench/tls.sh - GET/SET throughput over TLS, Keel beside Redis, both with
# a plain port and a TLS port, measured with redis-benchmark --tls.
#
#   bench/tls.sh [--markdown]
#
# Rows (each: Keel's and Redis's requests/s, keel/redis ratio):
#   SET, GET                 50 clients, one request at a time, 3-byte values
#   SET, GET -P 16           pipelines of 16
#   SET, GET -d 16384        16 KB values (one TLS record per reply)
#   PING, new connection     -k 0: a new TLS connection (handshake) per request
# each over TLS, and the first two also over the plain port for the cost of
# TLS itself. Certificates are made here with the openssl CLI (RSA 2048,
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

# rps NAME tls|plain TEST ARGS... -> best requests/s of REPS runs
one_run() {
    local name=$1 mode=$2 test=$3; shift 3
    if [ "$mode" = tls ]; then
        bench_rps "${TLS_PORT[$name]}" "$test" --tls --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" \
            --key "$CERTS/client.key" -c "$CLIENTS" "$@"
    else
        bench_rps "${SERVER_PORT[$name]}" "$test" -c "$CLIENTS" "$@"
    fi
}

row() {
    local label=$1 mode=$2 test=$3 rep k r; shift 3
    local keel=() redis=()
    for rep in $(seq "$REPS"); do
        if [ $((rep % 2)) = 1 ]; then
            k=$(one_run keel "$mode" "$test" "$@"); r=$(one_run redis "$mode" "$test" "$@")
        else
            r=$(one_run redis "$mode" "$test" "$@"); k=$(one_run keel "$mode" "$test" "$@")
        fi
        keel+=("$k") redis+=("$r")
    done
    add_row "$label" rps "$(best_of "${keel[@]}")" "$(best_of "${redis[@]}")"
    log "$label: keel ${keel[*]} redis ${redis[*]}"
}

make_certs
start_tls_server keel "$KEEL_SERVER"
start_tls_server redis "$REDIS_SERVER"

row "SET plain" plain set -n "$N"
row "GET plain" plain get -n "$N"
row "SET TLS" tls set -n "$N"
row "GET TLS" tls get -n "$N"
row "SET plain -P 16" plain set -n $((N * 5)) -P 16
row "GET plain -P 16" plain get -n $((N * 5)) -P 16
row "SET TLS -P 16" tls set -n $((N * 5)) -P 16
row "GET TLS -P 16" tls get -n $((N * 5)) -P 16
row "SET TLS -d 16384" tls set -n $((N / 4)) -d 16384
row "GET TLS -d 16384" tls get -n $((N / 4)) -d 16384
row "PING TLS, new connection each" tls ping_mbulk -n $((N / 20)) -k 0

if [ "$MARKDOWN" = 1 ]; then print_markdown; else print_table; fi
