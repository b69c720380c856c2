"""keel-cli prints every reply byte for byte as redis-cli 7.0 does.

A corpus of commands covering every reply type (status, error, integer,
bulk strings with binary and UTF-8 bytes, nil, empty and nested arrays,
and in RESP3 maps, sets, doubles, booleans, verbatim strings, pushes) is
run through Debian's redis-cli and through keel-cli, in each output mode
(raw when stdout is a pipe, --no-raw, --csv, --json, --quoted-json, -d/-D
delimiters, and on a terminal), in RESP2 and RESP3, against the server
under test and against a Debian redis-server: stdout, stderr and the exit
code must be identical.
"""

import pytest

from cli_helpers import REDIS_CLI, keel_cli_binary, redis_server, run, run_tty

pytestmark = pytest.mark.usefixtures("flush_after")

LIST = [b"item%d" % i for i in range(12)]    # 12 elements: two-digit indexes

CORPUS = [
    ["PING"],
    ["ECHO", "hello world"],
    ["GET", "s"],
    ["GET", "bin"],
    ["GET", "utf8"],
    ["GET", "empty"],
    ["GET", "missing"],
    ["INCRBY", "n", "0"],
    ["TYPE", "l"],
    ["LRANGE", "l", "0", "-1"],
    ["LRANGE", "missing", "0", "-1"],
    ["HGETALL", "h"],
    ["HGETALL", "missing"],
    ["SMEMBERS", "st"],
    ["SMEMBERS", "missing"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZSCORE", "z", "b"],
    ["ZSCORE", "z", "nope"],
    ["XRANGE", "x", "-", "+"],
    ["MGET", "s", "missing", "n", "bin"],
    ["EXISTS", "s", "n", "missing"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["COMMAND", "INFO", "get"],
    ["EVAL", "return {1, 'two', {3, {'four', 5}}, {}}", "0"],
    ["EVAL", "return {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, {1, 2}}", "0"],
    ["EVAL", "return redis.error_reply('MYERR custom failure')", "0"],
    ["EVAL", "return {err = 'ERR inside'}", "0"],
    ["NOSUCHCOMMAND", "a", "b"],
    ["GET"],
    ["LPUSH", "s", "x"],
    ["INFO", "keyspace"],
    ["DEBUG", "PROTOCOL", "string"],
    ["DEBUG", "PROTOCOL", "integer"],
    ["DEBUG", "PROTOCOL", "double"],
    ["DEBUG", "PROTOCOL", "null"],
    ["DEBUG", "PROTOCOL", "array"],
    ["DEBUG", "PROTOCOL", "set"],
    ["DEBUG", "PROTOCOL", "map"],
    ["DEBUG", "PROTOCOL", "verbatim"],
    ["DEBUG", "PROTOCOL", "true"],
    ["DEBUG", "PROTOCOL", "false"],
    ["DEBUG", "PROTOCOL", "push"],
]

MODES = [
    [],
    ["--no-raw"],
    ["--csv"],
    ["--json"],
    ["--quoted-json"],
    ["-d", ";", "-D", "|\n"],
    ["-3"],
    ["-3", "--no-raw"],
    ["-3", "--csv"],
    ["-3", "--raw"],
    ["-2", "--json"],
    ["-3", "--quoted-json"],
]

TTY_MODES = [[], ["-3"], ["-3", "--show-pushes", "no"], ["--csv"]]


def load_dataset(c):
    c.set("s", "hello")
    c.set("bin", b"a\x00b\n\"q\"\\\xff\t\x01end")
    c.set("utf8", "h\u00e9llo \u2713")
    c.set("empty", "")
    c.set("n", 42)
    c.rpush("l", *LIST)
    c.hset("h", mapping={"f1": "v1", "f2": "line\nbreak", "f3": "3"})
    c.sadd("st", 1, 2, 3)
    c.zadd("z", {"a": 1, "b": 2.5, "c": -3})
    c.xadd("x", {"f": "v", "g": "w"}, id="1-1")
    c.xadd("x", {"k": "v2"}, id="2-1")


@pytest.fixture(scope="module")
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(params=["server", "redis7"])
def target(request, r):
    srv = request.getfixturevalue(request.param)
    c = srv.client()
    c.flushall()
    load_dataset(c)
    yield srv
    c.flushall()


def compare(srv, args, tty=False, before=None):
    """before(): puts the dataset back before each client's run, for
    commands that change it."""
    base = ["-h", srv.host, "-p", srv.port]
    runner = run_tty if tty else run
    if before:
        before()
    want = runner(REDIS_CLI, base + args)
    if before:
        before()
    got = runner(keel_cli_binary(), base + args)
    assert got == want, "keel-cli %s differs from redis-cli" % " ".join(map(str, args))
    return want


@pytest.mark.parametrize("mode", MODES, ids=lambda m: " ".join(m) or "pipe")
def test_corpus_not_a_tty(target, mode):
    for command in CORPUS:
        compare(target, mode + command)


@pytest.mark.parametrize("mode", TTY_MODES, ids=lambda m: " ".join(m) or "tty")
def test_corpus_on_a_terminal(target, mode):
    for command in CORPUS:
        compare(target, mode + command, tty=True)


def test_terminal_output_is_the_formatted_one(target):
    """The pty runs really are terminal output (not raw): a test of the
    harness itself, so that the comparisons above cannot pass vacuously."""
    rc, out, _ = compare(target, ["LRANGE", "l", "0", "1"], tty=True)
    assert out == b'1) "item0"\r\n2) "item1"\r\n'
    rc, out, _ = compare(target, ["LRANGE", "l", "0", "1"])
    assert out == b"item0\nitem1\n"


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["-e"], ["-e", "--no-raw"]],
                         ids=lambda m: " ".join(m) or "plain")
def test_error_replies_and_exit_codes(target, mode):
    for command in (["GET"], ["NOSUCHCOMMAND"], ["LPUSH", "s", "x"], ["GET", "s"]):
        compare(target, mode + command)
    rc, out, err = compare(target, ["-e", "GET"])
    assert rc == 1 and out == b"" and b"wrong number of arguments" in err


def test_repeat_and_select(target):
    c = target.client()
    out = compare(target, ["-r", "3", "INCR", "counter"], before=lambda: c.delete("counter"))[1]
    assert out == b"1\n2\n3\n"
    compare(target, ["-r", "2", "--no-raw", "LRANGE", "l", "0", "2"])
    compare(target, ["-n", "2", "--no-raw", "DBSIZE"])
    compare(target, ["-u", "redis://%s:%d/3" % (target.host, target.port), "--no-raw", "DBSIZE"])
    compare(target, ["-n", "99", "PING"])


def test_stdin_arguments(target):
    base = ["-h", target.host, "-p", target.port]
    c = target.client()
    for args, stdin in ((["-x", "SET", "fromstdin"], b"line one\nline two\n"),
                        (["-X", "TAG", "SET", "tagged", "TAG"], b"v\x00alue"),
                        (["-X", "NOTAG", "SET", "k", "v"], b"x"),
                        (["--quoted-input", "SET", '"q\\x41\\n"', '"val ue"'], b""),
                        (["--quoted-input", "GET", '"unterminated'], b"")):
        c.delete("fromstdin", "tagged", "qA\n")
        want = run(REDIS_CLI, base + args, stdin=stdin)
        c.delete("fromstdin", "tagged", "qA\n")
        got = run(keel_cli_binary(), base + args, stdin=stdin)
        assert got == want, args
    run(keel_cli_binary(), base + ["-x", "SET", "fromstdin"], stdin=b"line one\nline two\n")
    assert c.get("fromstdin") == b"line one\nline two\n"
    run(keel_cli_binary(), base + ["-X", "TAG", "SET", "tagged", "TAG"], stdin=b"v\x00alue")
    assert c.get("tagged") == b"v\x00alue"
    run(keel_cli_binary(), base + ["--quoted-input", "SET", '"q\\x41\\n"', '"val ue"'])
    assert c.get("qA\n") == b"val ue"


def test_connection_errors_match():
    for args in (["-p", "1", "PING"], ["-s", "/nonexistent/keel.sock", "PING"],
                 ["-h", "127.0.0.1", "-p", "1", "--no-raw", "GET", "a"]):
        want = run(REDIS_CLI, args)
        got = run(keel_cli_binary(), args)
        assert got == want, args
        assert got[0] == 1 and b"Could not connect to Redis at" in got[2]


def test_options_refused_as_redis_cli_refuses(target):
    for args in (["--no-such-option"], ["-p"], ["-2", "-3", "PING"], ["-x", "-X", "t", "PING"],
                 ["-c", "-s", "/tmp/x.sock", "PING"], ["-u", "http://x", "PING"]):
        want = run(REDIS_CLI, args)
        got = run(keel_cli_binary(), args)
        assert (got[0], got[2]) == (want[0], want[2]), args


@pytest.mark.keel_only
def test_resp3_types_redis_cli_cannot_print(server):
    """Big numbers and attributes: redis-cli 7.0 stops with "Unknown reply
    type" / a protocol error; keel-cli prints them (the attribute is
    skipped, as RESP3 allows a client to)."""
    base = ["-h", server.host, "-p", server.port, "-3"]
    assert run(keel_cli_binary(), base + ["--no-raw", "DEBUG", "PROTOCOL", "bignum"]) == \
        (0, b"(big number) 1234567999999999999999999999999999999\n", b"")
    assert run(keel_cli_binary(), base + ["DEBUG", "PROTOCOL", "bignum"]) == \
        (0, b"1234567999999999999999999999999999999\n", b"")
    assert run(keel_cli_binary(), base + ["--no-raw", "DEBUG", "PROTOCOL", "attrib"]) == \
        (0, b'"Some real reply following the attribute"\n', b"")


def stream_output(binary, args, ready, action, done, timeout=30):
    """Start a client that streams (SUBSCRIBE, MONITOR), run action() once
    ready() holds, return its output once done(output) holds."""
    import os
    import subprocess
    import time
    from cli_helpers import client_env
    p = subprocess.Popen([binary] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=client_env())
    out = b""
    try:
        deadline = time.time() + timeout
        while not ready() and time.time() < deadline:
            time.sleep(0.02)
        action()
        while not done(out) and time.time() < deadline:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    finally:
        p.terminate()
        p.communicate(timeout=10)
    return out


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["-3", "--no-raw"], ["--csv"]],
                         ids=lambda m: " ".join(m) or "raw")
def test_subscribe_stream(target, mode):
    c = target.client()
    outs = []
    for binary in (REDIS_CLI, keel_cli_binary()):
        args = ["-h", target.host, "-p", target.port] + mode + ["SUBSCRIBE", "news", "weather"]
        outs.append(stream_output(
            binary, args,
            ready=lambda: dict(c.pubsub_numsub("weather")).get(b"weather", 0) == 1,
            action=lambda: (c.publish("news", "hello"), c.publish("weather", "sunny\nday")),
            done=lambda o: b"sunny" in o and (o.endswith(b"\n"))))
    assert outs[0] == outs[1]
    assert b"hello" in outs[1]


def test_monitor_stream(target):
    c = target.client()
    outs = []
    for binary in (REDIS_CLI, keel_cli_binary()):
        args = ["-h", target.host, "-p", target.port, "MONITOR"]
        out = stream_output(
            binary, args,
            ready=lambda: b"cmd=monitor" in c.execute_command("CLIENT", "LIST"),
            action=lambda: c.execute_command("SET", "monitored", "v a l"),
            done=lambda o: b'"monitored"' in o and o.endswith(b"\n"))
        outs.append(out)
    for out in outs:
        assert out.startswith(b"OK\n") and b'"SET" "monitored" "v a l"' in out
    # the monitored lines themselves carry times and ports: same shape
    assert [ln.split(b"]", 1)[1] for ln in outs[1].splitlines()[1:]] == \
        [ln.split(b"]", 1)[1] for ln in outs[0].splitlines()[1:]]
