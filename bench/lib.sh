# shellcheck shell=bash disable=SC2034
# bench/lib.sh - helpers for bench/*.sh. Source it; needs bash.
#
#   free_port                       print a free TCP port on 127.0.0.1
#   start_server NAME BIN PORT      start BIN on 127.0.0.1:PORT, wait until ready
#   stop_server NAME                stop it (stop_all_servers: all of them)
#   rcli PORT ARGS...               redis-cli against 127.0.0.1:PORT
#   info_field PORT SECTION FIELD   one field of INFO SECTION
#   bench_rps PORT TEST [ARGS...]   redis-benchmark requests/s for one -t TEST
#   pipe_load PORT < RESP           feed RESP through redis-cli --pipe; fails
#                                   unless every reply came back without error
#   add_row NAME KIND KEEL REDIS    record a result row (KIND: rps | bytes)
#   print_table / print_markdown    print the recorded rows
#
# Only ever talks to 127.0.0.1.

HOST=127.0.0.1
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}     # seconds, per redis-benchmark run
BENCH_WORKDIR=${BENCH_WORKDIR:-$(mktemp -d /tmp/keel-bench.XXXXXX)}

declare -A SERVER_PID=() SERVER_PORT=()

log() { echo "[bench] $*" >&2; }
die() { log "error: $*"; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rcli() { local port=$1; shift; "$REDIS_CLI" -h "$HOST" -p "$port" "$@"; }

start_server() {
    local name=$1 bin=$2 port=$3 i
    [ -x "$bin" ] || die "$name: $bin is not executable"
    mkdir -p "$BENCH_WORKDIR/$name"
    (cd "$BENCH_WORKDIR/$name" && exec "$bin" --port "$port" --bind "$HOST" \
        --save "" --appendonly no --enable-debug-command yes) \
        >"$BENCH_WORKDIR/$name.log" 2>&1 &
    SERVER_PID[$name]=$! SERVER_PORT[$name]=$port
    for i in $(seq 100); do
        [ "$(rcli "$port" PING 2>/dev/null)" = PONG ] && break
        kill -0 "${SERVER_PID[$name]}" 2>/dev/null ||
            { cat "$BENCH_WORKDIR/$name.log" >&2; die "$name exited at startup"; }
        sleep 0.1
    done
    [ "$(rcli "$port" PING 2>/dev/null)" = PONG ] || die "$name: no PONG on port $port"
    # Readiness check that also exercises redis-benchmark's handshake.
    timeout 60 "$REDIS_BENCHMARK" -h "$HOST" -p "$port" -t ping -n 1000 -q >/dev/null 2>&1 ||
        die "$name: redis-benchmark -t ping failed on port $port"
    log "$name ($bin) ready on $HOST:$port, pid ${SERVER_PID[$name]}"
}

stop_server() {
    local name=$1 pid=${SERVER_PID[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "SERVER_PID[$name]"
}

stop_all_servers() {
    local name
    for name in "${!SERVER_PID[@]}"; do stop_server "$name"; done
    rm -rf "$BENCH_WORKDIR"
}

# info_field PORT SECTION FIELD -> value (empty if absent)
info_field() {
    rcli "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2; exit }'
}

# bench_rps PORT TEST [EXTRA ARGS...] -> requests per second, or NA on failure.
bench_rps() {
    local port=$1 test=$2 out rps; shift 2
    out=$(timeout "$BENCH_TIMEOUT" "$REDIS_BENCHMARK" -h "$HOST" -p "$port" \
          -t "$test" --csv "$@" 2>/dev/null) || true
    # --csv: header line, then "TEST","rps",... per test run; the last line
    # is the one asked for (LRANGE_* first print their LPUSH fill).
    rps=$(printf '%s\n' "$out" | awk -F'"' 'NR > 1 && $4 != "" { r = $4 } END { print r }')
    echo "${rps:-NA}"
}

pipe_load() {
    local out
    out=$("$REDIS_CLI" -h "$HOST" -p "$1" --pipe 2>&1) || { log "redis-cli --pipe failed: $out"; return 1; }
    case $out in
        *"errors: 0, replies:"*) return 0 ;;
        *) log "redis-cli --pipe: $(printf '%s\n' "$out" | tail -1)"; return 1 ;;
    esac
}

# max of numeric args, ignoring NA (NA if all are NA)
best_of() { printf '%s\n' "$@" | awk '$1 != "NA" && (m == "" || $1 > m) { m = $1 } END { print (m == "" ? "NA" : m) }'; }

ROW_NAME=() ROW_KIND=() ROW_KEEL=() ROW_REDIS=()

add_row() { ROW_NAME+=("$1"); ROW_KIND+=("$2"); ROW_KEEL+=("$3"); ROW_REDIS+=("$4"); }

# fmt KIND VALUE: rps -> integer, bytes -> MiB with one decimal
fmt() {
    [ "$2" = NA ] && { echo NA; return; }
    case $1 in
        rps)   awk -v v="$2" 'BEGIN { printf "%.0f", v }' ;;
        bytes) awk -v v="$2" 'BEGIN { printf "%.1f MiB", v / 1048576 }' ;;
        *)     echo "$2" ;;
    esac
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "-"; else printf "%.2f", a / b }'; }

# _rows SEP: print header and rows with fields separated by SEP
_rows() {
    local i
    printf 'row\tkeel\tredis\tratio\n'
    for i in "${!ROW_NAME[@]}"; do
        printf '%s\t%s\t%s\t%s\n' "${ROW_NAME[$i]}" \
            "$(fmt "${ROW_KIND[$i]}" "${ROW_KEEL[$i]}")" \
            "$(fmt "${ROW_KIND[$i]}" "${ROW_REDIS[$i]}")" \
            "$(ratio "${ROW_KEEL[$i]}" "${ROW_REDIS[$i]}")"
    done
}

print_table() {
    _rows | awk -F'\t' '
        { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
        END {
            for (r = 1; r <= NR; r++) {
                printf "%-*s | %*s | %*s | %*s\n", w[1], c[r,1], w[2], c[r,2], w[3], c[r,3], w[4], c[r,4]
                if (r == 1) printf "%s-+-%s-+-%s-+-%s\n", dash(w[1]), dash(w[2]), dash(w[3]), dash(w[4])
            }
        }
        function dash(n,  s) { s = ""; while (n-- > 0) s = s "-"; return s }'
}

print_markdown() {
    _rows | awk -F'\t' '
        { printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }
        NR == 1 { print "|---|---:|---:|---:|" }'
}
