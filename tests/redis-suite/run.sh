#!/bin/bash
# Runs units of Redis's own TCL test suite against Keel (or against any
# redis-server, for the baseline) and prints per-unit pass/fail counts.
#
#   tests/redis-suite/run.sh [options] [unit ...]
#
#   -r SRC     Redis source: a directory holding tests/ and runtest (a
#              checkout), or a tag of the mirror (default 7.0.15)
#   -m MODE    external (default): one server started here, per unit, and
#              the suite run with --host/--port/--durable; normal: the
#              suite starts its own servers from src/redis-server
#   -s SERVER  server binary (default: this tree's bin/keel-server;
#              /usr/bin/redis-server gives Redis's own counts)
#   -o DIR     work directory (default /tmp/keel-redis-suite)
#   -t SECS    per-unit time limit (default 900)
#   -k         keep going quietly: no per-test lines, only the table
#   -T         TLS: the suite's --tls mode (normal mode only): its servers
#              listen on tls-port only, its clients speak TLS; the
#              certificates come from the tree's utils/gen-test-certs.sh,
#              run in the copy (DH parameters: the ffdhe2048 group rather
#              than a freshly generated prime, which takes minutes)
#   -p BASE    the suite's base port (default: a free range claimed among
#              21000, 21500, ... below): its servers use BASE..BASE+399 and
#              need BASE+10000.. free for cluster buses, so keep
#              BASE <= 22300 for cluster units (port+10000 then stays below
#              32768, under the kernel's ephemeral ports)
#   -x TEST    skip tests of that name (or /regexp), passed to the suite's
#              --skiptest; repeatable (a test that never ends under Keel,
#              see docs/COMPATIBILITY.md, would otherwise take its unit down)
#
# Units are the names under tests/unit without .tcl (type/list, keyspace,
# ...), or a path under tests/ starting with integration/ (integration/rdb).
# Without units, the list of docs/COMPATIBILITY.md's first table runs.
#
# The copy of the suite gets src/redis-server -> SERVER, and redis-cli,
# redis-benchmark, redis-check-aof/rdb from Debian (Keel has none). Until
# Keel has FUNCTION, `r function flush` in the suite's set-up is wrapped in
# catch (in the copy only). Nothing from the Redis tree enters Keel's.
#
# Output: one line per unit, "unit ok err ignored skipped status", then a
# total; each unit's full log is under DIR/logs.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MIRROR=${REDIS_MIRROR:-/work/.mirror/redis+redis/repo}
SRC=7.0.15
MODE=external
SERVER=$ROOT/bin/keel-server
OUT=/tmp/keel-redis-suite
LIMIT=900
QUIET=0
TLS=0
SKIPS=()
# What the suite's own default.conf enables, for the external server too.
EXTERNAL_ARGS=${EXTERNAL_ARGS:---enable-debug-command yes --enable-protected-configs yes --enable-module-command yes}

DEFAULT_UNITS="protocol keyspace scan type/string type/incr expire type/list type/list-2
type/list-3 type/set type/zset type/hash sort bitops bitfield geo hyperloglog info-command
slowlog pause querybuf"

usage() { sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

FIXED_BASE=
while getopts "r:m:s:o:t:x:p:kTh" opt; do
    case $opt in
    r) SRC=$OPTARG ;;
    m) MODE=$OPTARG ;;
    s) SERVER=$OPTARG ;;
    o) OUT=$OPTARG ;;
    t) LIMIT=$OPTARG ;;
    k) QUIET=1 ;;
    T) TLS=1 ;;
    x) SKIPS+=(--skiptest "$OPTARG") ;;
    p) FIXED_BASE=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
UNITS=${*:-$DEFAULT_UNITS}
case $MODE in external | normal) ;; *) usage ;; esac
[ "$TLS" = 1 ] && [ "$MODE" != normal ] && { echo "run.sh: -T needs -m normal" >&2; exit 2; }
SERVER=$(cd "$(dirname "$SERVER")" && pwd)/$(basename "$SERVER")
[ -x "$SERVER" ] || { echo "run.sh: no server binary at $SERVER (make first?)" >&2; exit 1; }
command -v tclsh >/dev/null || { echo "run.sh: tclsh missing (apt-get install tcl)" >&2; exit 1; }

# ---- the copy of the suite ------------------------------------------------

if [ -d "$SRC/tests" ]; then
    NAME=$(basename "$(cd "$SRC" && pwd)")
else
    NAME=redis-$SRC
fi
TREE=$OUT/$NAME-$(basename "$SERVER")-$MODE
[ "$TLS" = 1 ] && TREE=$TREE-tls
rm -rf "$TREE"
mkdir -p "$TREE/src" "$OUT/logs"
if [ -d "$SRC/tests" ]; then
    cp -r "$SRC/tests" "$SRC/runtest" "$TREE/"
else
    git --git-dir="$MIRROR" archive "$SRC" tests runtest utils/gen-test-certs.sh | tar -x -C "$TREE" ||
        { echo "run.sh: no tag $SRC in $MIRROR" >&2; exit 1; }
fi
TLS_ARGS=""
if [ "$TLS" = 1 ]; then
    [ -f "$SRC/utils/gen-test-certs.sh" ] && mkdir -p "$TREE/utils" && cp "$SRC/utils/gen-test-certs.sh" "$TREE/utils/"
    echo 'package require tls' | tclsh >/dev/null 2>&1 ||
        { echo "run.sh: Tcl's tls package missing (apt-get install tcl-tls)" >&2; exit 1; }
    sed -i 's|^\[ -f tests/tls/redis.dh \] .*|openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out tests/tls/redis.dh|' \
        "$TREE/utils/gen-test-certs.sh"
    (cd "$TREE" && bash utils/gen-test-certs.sh) >"$OUT/logs/gen-test-certs.log" 2>&1 ||
        { echo "run.sh: utils/gen-test-certs.sh failed, see $OUT/logs/gen-test-certs.log" >&2; exit 1; }
    TLS_ARGS=--tls
fi
ln -s "$SERVER" "$TREE/src/redis-server"
for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
    [ -x "/usr/bin/$tool" ] && ln -s "/usr/bin/$tool" "$TREE/src/$tool"
done
for f in "$TREE"/tests/support/*.tcl "$TREE"/tests/test_helper.tcl; do
    sed -i 's/^\([[:space:]]*\)r function flush[[:space:]]*$/\1catch {r function flush}/' "$f"
done

# ---- running ----------------------------------------------------------------

# Each run takes its own range of ports (runs can go side by side): the
# suite's servers and its test server use BASE-32..BASE+399, the external
# server a free port above. The suite also needs each port + 10000 free
# (cluster bus); the ranges stay below 32768, where the kernel picks
# ephemeral ports for outgoing connections. A range is claimed with a
# directory holding the claiming run's pid (a dead run's claim is taken).
LOCKS=/tmp/keel-redis-suite-ports
mkdir -p "$LOCKS"
claim_range() {
    if [ -n "$FIXED_BASE" ]; then
        b=$FIXED_BASE
        owner=$(cat "$LOCKS/$b/pid" 2>/dev/null)
        if ! mkdir "$LOCKS/$b" 2>/dev/null && [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
            echo "run.sh: base port $b is in use by run $owner" >&2
            exit 1
        fi
        mkdir -p "$LOCKS/$b"
        echo $$ >"$LOCKS/$b/pid"
        BASE=$b
        return 0
    fi
    for i in $(seq 0 22); do
        b=$((21000 + ((i + $$) % 23) * 500))
        if mkdir "$LOCKS/$b" 2>/dev/null; then
            echo $$ >"$LOCKS/$b/pid"
            BASE=$b
            return 0
        fi
        owner=$(cat "$LOCKS/$b/pid" 2>/dev/null)
        if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
            echo $$ >"$LOCKS/$b/pid"
            BASE=$b
            return 0
        fi
    done
    echo "run.sh: no free port range (see $LOCKS)" >&2
    exit 1
}
claim_range
trap 'rm -rf "$LOCKS/$BASE"' EXIT
PORTS="--baseport $BASE --portcount 400"
pick_port() {
    p=$((BASE + 450))
    while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done 2>/dev/null
    echo $p
}

start_external() {
    port=$1 dir=$2
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # EXTERNAL_ARGS is a list of words
    "$SERVER" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --daemonize no \
        $EXTERNAL_ARGS >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    i=0
    while [ $i -lt 100 ]; do
        /usr/bin/redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "run.sh: server did not start, see $dir/server.log" >&2
    return 1
}

stop_external() {
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
}

# Counts from one unit's log: ok err ignored skipped status.
count_log() {
    log=$1 rc=$2
    ok=$(grep -c '^\[ok\]:' "$log")
    # A failed test's line ends "in tests/<unit>.tcl"; an error raised
    # outside any test (in a start_server block, --durable) adds an [err]
    # line of its own that names no test: not counted as a test.
    err=$(grep -c '^\[err\]: .* in tests/[^ ]*\.tcl$' "$log")
    ign=$(grep -c '^\[ignore\]:' "$log")
    skip=$(grep -c '^\[skip\]:' "$log")
    status=done
    grep -qE '^Testing (unit|integration)/' "$log" || status=no-start
    grep -q '^\[exception\]:' "$log" && status=exception
    grep -q 'TIMEOUT\]' "$log" && status=timeout
    [ "$rc" = 124 ] && status=killed
    echo "$ok $err $ign $skip $status"
}

run_unit() {
    unit=$1
    case $unit in integration/*) path=$unit ;; *) path=unit/$unit ;; esac
    log=$OUT/logs/$NAME-$(basename "$SERVER")-$MODE$([ "$TLS" = 1 ] && echo -tls)-$(echo "$unit" | tr / _).log
    if [ "$MODE" = external ]; then
        port=$(pick_port)
        start_external "$port" "$TREE/ext-$(echo "$unit" | tr / _)" || { echo "0 0 0 0 no-server"; return; }
        (cd "$TREE" && timeout "$LIMIT" tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" \
            $PORTS --durable --single "$path" --timeout 600 --dont-clean "${SKIPS[@]}") >"$log" 2>&1
        rc=$?
        stop_external
    else
        (cd "$TREE" && timeout "$LIMIT" tclsh tests/test_helper.tcl --clients 1 $PORTS --durable $TLS_ARGS \
            --single "$path" --timeout 600 "${SKIPS[@]}") >"$log" 2>&1
        rc=$?
    fi
    sed -i 's/\x1b\[[0-9;]*m//g' "$log"
    [ "$QUIET" = 1 ] || grep -E '^\[(err|exception)\]:' "$log" | sed "s|^|  $unit |" >&2
    count_log "$log" "$rc"
}

printf '# %s, %s mode, server %s\n' "$NAME" "$MODE" "$SERVER"
printf '%-24s %5s %5s %7s %7s %s\n' unit ok err ignored skipped status
tok=0 terr=0
for unit in $UNITS; do
    set -- $(run_unit "$unit")
    printf '%-24s %5s %5s %7s %7s %s\n' "$unit" "$1" "$2" "$3" "$4" "$5"
    tok=$((tok + $1)) terr=$((terr + $2))
done
printf '%-24s %5s %5s\n' total "$tok" "$terr"
