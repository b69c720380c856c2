"""keel-cli's modes and connection options, beside redis-cli where their
output is deterministic: --pipe (mass insertion and its summary lines),
--latency / --latency-history / --latency-dist / --intrinsic-latency,
--rdb and --functions-rdb (a dump fetched through SYNC from Debian's
redis-server), -c (following -MOVED and -ASK), passwords (-a, --user,
--pass, -u, REDISCLI_AUTH, --askpass), unix sockets, and --tls (refused:
not built yet)."""

import os
import re
import socket
import subprocess
import threading
import time

import pexpect
import pytest

from cli_helpers import REDIS_CLI, client_env, keel_cli_binary, redis_server, run
from keel_helpers import encode_command

pytestmark = pytest.mark.usefixtures("flush_after")


@pytest.fixture(scope="module")
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


def both(args, stdin=b"", env=None):
    want = run(REDIS_CLI, args, stdin=stdin, env=env)
    got = run(keel_cli_binary(), args, stdin=stdin, env=env)
    return got, want


def addr(srv):
    return ["-h", srv.host, "-p", str(srv.port)]


# -- --pipe ---------------------------------------------------------------

def mass_insert_payload(n):
    return b"".join(encode_command("SET", "key:%d" % i, "value:%d" % i) for i in range(n))


def test_pipe_mass_insertion(r, server):
    payload = mass_insert_payload(20000) + encode_command("INCR", "key:1") + encode_command("PING")
    rc, out, err = run(keel_cli_binary(), addr(server) + ["--pipe"], stdin=payload)
    assert (rc, err) == (1, b"ERR value is not an integer or out of range\n")
    assert out == (b"All data transferred. Waiting for the last reply...\n"
                   b"Last reply received from server.\n"
                   b"errors: 1, replies: 20002\n")
    assert r.dbsize() == 20000 and r.get("key:19999") == b"value:19999"


def test_pipe_output_matches_redis_cli(r, server):
    payload = mass_insert_payload(500) + encode_command("NOSUCH") + encode_command("GET", "key:1")
    got, want = both(addr(server) + ["--pipe"], stdin=payload)
    assert got == want
    r.flushall()
    got, want = both(addr(server) + ["--pipe"], stdin=mass_insert_payload(100))
    assert got == want == (0, b"All data transferred. Waiting for the last reply...\n"
                              b"Last reply received from server.\n"
                              b"errors: 0, replies: 100\n", b"")


def test_pipe_inline_commands(r, server):
    rc, out, _ = run(keel_cli_binary(), addr(server) + ["--pipe"],
                     stdin=b"SET a 1\r\nINCR a\r\nSET b 2\r\n")
    assert rc == 0 and out.endswith(b"errors: 0, replies: 3\n")
    assert r.get("a") == b"2"


# -- latency modes -------------------------------------------------------

LATENCY_RAW = re.compile(rb"^(\d+) (\d+) (\d+\.\d\d) (\d+)\n$")


def test_latency_raw_samples_for_the_interval(server):
    rc, out, err = run(keel_cli_binary(), addr(server) + ["--latency", "-i", "0.3"])
    m = LATENCY_RAW.match(out)
    assert rc == 0 and m, out
    mn, mx, avg, count = int(m.group(1)), int(m.group(2)), float(m.group(3)), int(m.group(4))
    assert mn <= avg <= mx and count >= 2


@pytest.mark.parametrize("fmt,pattern", [
    ("--csv", rb"^\d+,\d+,\d+\.\d\d,\d+\n$"),
    ("--json", rb'^\{"min": \d+, "max": \d+, "avg": \d+\.\d\d, "count": \d+\}\n$'),
])
def test_latency_formats_as_redis_cli(server, fmt, pattern):
    for binary in (REDIS_CLI, keel_cli_binary()):
        rc, out, _ = run(binary, addr(server) + ["--latency", fmt, "-i", "0.2"])
        assert rc == 0 and re.match(pattern, out), (binary, out)


def run_until(args, done, timeout=30):
    """Run a mode that never ends until done(output so far) holds."""
    p = subprocess.Popen([keel_cli_binary()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=client_env())
    out = b""
    deadline = time.time() + timeout
    try:
        while not done(out) and time.time() < deadline:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    finally:
        p.terminate()
        p.communicate(timeout=10)
    return out


def test_latency_history_prints_ranges(server):
    out = run_until(addr(server) + ["--latency-history", "-i", "0.3"],
                    lambda o: o.count(b"seconds range") >= 2)
    lines = out.split(b"\n")
    ranges = [i for i, ln in enumerate(lines) if re.match(rb"^ -- 0\.\d\d seconds range$", ln)]
    assert len(ranges) >= 2, out
    # Between two ranges the sample count starts again from 1.
    assert lines[ranges[0] + 1].endswith(b" 1"), out
    assert all(LATENCY_RAW.match(ln + b"\n") for ln in lines[ranges[0] + 1:ranges[1]]), out


def test_latency_dist_draws_a_spectrum(server):
    out = run_until(addr(server) + ["--latency-dist", "-i", "0.2"],
                    lambda o: o.count(b"?\x1b[0m\n") >= 2)
    assert b"From 0 to 100%: " in out and b". - * #          .01 .125 .25 .5 milliseconds" in out
    spectrum = [ln for ln in out.split(b"\n") if ln.startswith(b"\x1b[38;5;0m")]
    assert spectrum and all(ln.endswith(b"?\x1b[0m") for ln in spectrum), out


def test_intrinsic_latency():
    rc, out, _ = run(keel_cli_binary(), ["--intrinsic-latency", "1"])
    assert rc == 0
    assert re.search(rb"^Max latency so far: \d+ microseconds\.$", out, re.M), out
    assert re.search(rb"\n\d+ total runs \(avg latency: \d+\.\d{4} microseconds / \d+\.\d\d "
                     rb"nanoseconds per run\)\.\nWorst run took \d+x longer than the average "
                     rb"latency\.\n$", out), out


# -- --rdb -----------------------------------------------------------------

def test_rdb_fetches_a_dump_from_redis(redis7, tmp_path):
    c = redis7.client()
    c.flushall()
    c.set("rdbkey", "rdbvalue")
    c.rpush("rdblist", *range(100))
    path = tmp_path / "fetched.rdb"
    rc, out, err = run(keel_cli_binary(), addr(redis7) + ["--rdb", str(path)], timeout=60)
    assert rc == 0, err
    assert b"sending REPLCONF capa eof\n" in err and b"sending REPLCONF rdb-only 1\n" in err
    assert re.search(rb"SYNC sent to master, writing (\d+ bytes|bytes of bulk transfer until "
                     rb"EOF marker) to '", err), err
    assert b"Transfer finished with success" in err
    data = path.read_bytes()
    assert data.startswith(b"REDIS0010") and b"rdbkey" in data and b"rdbvalue" in data
    check = subprocess.run(["/usr/bin/redis-check-rdb", str(path)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
    assert check.returncode == 0 and b"RDB looks OK" in check.stdout, check.stdout
    # The same bytes as redis-cli's transfer, apart from the aux fields that
    # carry the time of the save.
    ref = tmp_path / "ref.rdb"
    assert run(REDIS_CLI, addr(redis7) + ["--rdb", str(ref)], timeout=60)[0] == 0
    assert len(ref.read_bytes()) == len(data)
    c.flushall()


def test_rdb_to_stdout(redis7):
    redis7.client().set("k", "v")
    rc, out, err = run(keel_cli_binary(), addr(redis7) + ["--rdb", "-"], timeout=60)
    assert rc == 0 and out.startswith(b"REDIS0010") and b"'-'" in err
    redis7.client().flushall()


def test_functions_rdb(redis7, tmp_path):
    c = redis7.client()
    c.function_load("#!lua name=cliflib\nredis.register_function('clif', function() return 1 end)")
    c.set("datakey", "x")
    path = tmp_path / "functions.rdb"
    rc, out, err = run(keel_cli_binary(), addr(redis7) + ["--functions-rdb", str(path)], timeout=60)
    assert rc == 0, err
    data = path.read_bytes()
    assert b"cliflib" in data and b"datakey" not in data
    c.function_flush()
    c.flushall()


def test_rdb_refused_by_the_server(server, tmp_path):
    """A server that refuses SYNC: redis-cli's message, exit code 1."""
    got, want = both(addr(server) + ["-a", "wrong", "--no-auth-warning", "--rdb", str(tmp_path / "x")])
    assert got[0] == want[0] == 1
    assert got[2].splitlines()[-1] == want[2].splitlines()[-1]


# -- -c: cluster redirections ---------------------------------------------

class FakeNode:
    """A server that answers every request with the given reply (RESP
    bytes, or a function of the request count)."""

    def __init__(self, reply):
        self.reply = reply
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.client, args=(conn,), daemon=True).start()

    def client(self, conn):
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while True:
                req, buf = self.parse(buf)
                if req is None:
                    break
                self.requests.append(req)
                reply = self.reply(req) if callable(self.reply) else self.reply
                conn.sendall(reply)

    @staticmethod
    def parse(buf):
        if not buf.startswith(b"*") or b"\r\n" not in buf:
            return None, buf
        n, rest = buf[1:].split(b"\r\n", 1)
        args = []
        for _ in range(int(n)):
            if b"\r\n" not in rest:
                return None, buf
            ln, rest = rest[1:].split(b"\r\n", 1)
            if len(rest) < int(ln) + 2:
                return None, buf
            args.append(rest[:int(ln)])
            rest = rest[int(ln) + 2:]
        return args, rest

    def close(self):
        self.sock.close()


def test_cluster_mode_follows_moved_and_ask():
    target = FakeNode(lambda req: b"+ASKING-OK\r\n" if req[0].upper() == b"ASKING" else b"$5\r\nvalue\r\n")
    moved = FakeNode(b"-MOVED 3999 127.0.0.1:%d\r\n" % target.port)
    ask = FakeNode(b"-ASK 3999 127.0.0.1:%d\r\n" % target.port)
    try:
        for node in (moved, ask):
            got, want = both(["-p", str(node.port), "-c", "GET", "foo"])
            assert got == want == (0, b"value\n", b"")
        assert [r[0] for r in target.requests].count(b"ASKING") == 2   # redis-cli's, then ours
        got, want = both(["-p", str(moved.port), "GET", "foo"])   # without -c: the error
        assert got == want == (0, b"MOVED 3999 127.0.0.1:%d\n\n" % target.port, b"")
    finally:
        for n in (target, moved, ask):
            n.close()


# -- passwords, URIs, sockets, TLS ----------------------------------------

@pytest.fixture
def password(r, server):
    """requirepass on the session server for one test."""
    def set_password(pw):
        r.config_set("requirepass", pw)
        r.execute_command("AUTH", pw)
        return server
    yield set_password
    r.config_set("requirepass", "")


def test_passwords(password):
    srv = password("s3cret")
    base = addr(srv)
    for args, env in ((["-a", "s3cret", "PING"], None),
                      (["--pass", "s3cret", "--no-auth-warning", "PING"], None),
                      (["--user", "default", "--pass", "s3cret", "PING"], None),
                      (["-a", "wrong", "PING"], None),
                      (["PING"], {"REDISCLI_AUTH": "s3cret"}),
                      (["-u", "redis://default:s3cret@%s:%d/2" % (srv.host, srv.port), "--no-raw",
                        "DBSIZE"], None),
                      (["-u", "redis://default:s3cret@%s:%d" % (srv.host, srv.port), "PING"], None)):
        e = client_env(env)
        got, want = both(base + args, env=e)
        assert got == want, args
    rc, out, err = run(keel_cli_binary(), base + ["-a", "s3cret", "PING"])
    assert out == b"PONG\n" and err.startswith(b"Warning: Using a password with '-a' or '-u'")


@pytest.mark.keel_only
def test_uri_with_password_only(password):
    """redis://:pass@host: redis-cli 7.0 sends AUTH with an empty user name
    (and fails); keel-cli sends the password alone, as the URI means."""
    srv = password("s3cret")
    rc, out, err = run(keel_cli_binary(), ["-u", "redis://:s3cret@%s:%d/2" % (srv.host, srv.port),
                                           "--no-raw", "DBSIZE"])
    assert (rc, out) == (0, b"(integer) 0\n")


def test_askpass(password):
    srv = password("typed-pass")
    c = pexpect.spawn(keel_cli_binary(), addr(srv) + ["--askpass", "PING"],
                      env=client_env(), encoding="utf-8", timeout=10)
    c.expect_exact("Please input password: ")
    c.sendline("typed-pass")
    c.expect_exact("PONG")
    c.expect(pexpect.EOF)
    assert "typed-pass" not in c.before   # not echoed


def test_unix_socket(r, server):
    r.set("sockkey", "v")
    got, want = both(["-s", server.unixsocket, "--no-raw", "GET", "sockkey"])
    assert got == want == (0, b'"v"\n', b"")


@pytest.mark.keel_only
def test_tls_not_built_yet(server):
    for args in (["--tls", "PING"], ["-u", "rediss://127.0.0.1:%d" % server.port, "PING"],
                 ["--tls", "--cacert", "/nonexistent", "--insecure", "PING"]):
        rc, out, err = run(keel_cli_binary(), addr(server) + args)
        assert (rc, out) == (1, b"") and b"TLS is not built in this keel-cli yet." in err, args


def test_help_and_version():
    rc, out, _ = run(keel_cli_binary(), ["--help"])
    assert rc == 0 and out.startswith(b"keel-cli ") and b"--pipe" in out and b"--latency" in out
    rc, out, _ = run(keel_cli_binary(), ["-v"])
    assert rc == 0 and re.match(rb"^keel-cli \S+\n$", out)


def test_eval_script_file(r, server, tmp_path):
    script = tmp_path / "script.lua"
    script.write_text("redis.call('SET', KEYS[1], ARGV[1])\n"
                      "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}\n")
    for args in (["k1", "k2", ",", "a1", "a2"], ["k1", ",", "a1"], [], ["k1", "k2"]):
        for mode in ([], ["--no-raw"]):
            got, want = both(addr(server) + mode + ["--eval", str(script)] + args)
            assert got == want, args
    assert r.get("k1") == b"a1"
    got, want = both(addr(server) + ["--eval", str(tmp_path / "missing.lua")])
    assert got == want and got[0] == 1 and b"Can't open file" in got[2]
    bad = tmp_path / "bad.lua"
    bad.write_text("return +")
    got, want = both(addr(server) + ["--no-raw", "--eval", str(bad)])
    assert got == want and got[1].startswith(b"(error) ERR")
