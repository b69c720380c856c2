"""Drive Debian's redis-cli (redis-tools) against the server: this exercises
what real tooling sends (COMMAND DOCS at startup, SCAN/TYPE/STRLEN/MEMORY
USAGE for --bigkeys/--memkeys, RESP3 via -3, ...)."""

import os
import re
import subprocess

REDIS_CLI = os.environ.get("REDIS_CLI", "/usr/bin/redis-cli")


def cli(server, *args, stdin=None, timeout=20):
    p = subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port)] + list(args),
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def test_set_get(r, server):
    assert cli(server, "SET", "a", "1") == (0, "OK\n", "")
    assert cli(server, "GET", "a") == (0, "1\n", "")
    assert cli(server, "GET", "nokey") == (0, "\n", "")
    assert r.get("a") == b"1"


def test_no_raw_output(r, server):
    r.set("a", 1)
    assert cli(server, "--no-raw", "INCR", "a") == (0, "(integer) 2\n", "")
    assert cli(server, "--no-raw", "GET", "a") == (0, '"2"\n', "")
    assert cli(server, "--no-raw", "GET", "nokey") == (0, "(nil)\n", "")
    assert cli(server, "--no-raw", "MGET", "a", "nokey") == (0, '1) "2"\n2) (nil)\n', "")
    assert cli(server, "--no-raw", "TTL", "nokey") == (0, "(integer) -2\n", "")
    rc, out, _ = cli(server, "--no-raw", "foo", "a")
    assert out == "(error) ERR unknown command 'foo', with args beginning with: 'a' \n"


def test_resp3_mode(r, server):
    rc, out, _ = cli(server, "-3", "--no-raw", "GET", "nokey")
    assert (rc, out) == (0, "(nil)\n")
    rc, out, _ = cli(server, "-3", "--no-raw", "HELLO", "3")
    assert rc == 0
    assert '"proto" => (integer) 3' in out
    rc, out, _ = cli(server, "-3", "--no-raw", "INCRBYFLOAT", "f", "1.5")
    assert (rc, out) == (0, '"1.5"\n')


def test_select_db(r, server):
    assert cli(server, "-n", "1", "SET", "q", "1") == (0, "OK\n", "")
    assert cli(server, "-n", "1", "--no-raw", "DBSIZE") == (0, "(integer) 1\n", "")
    assert cli(server, "--no-raw", "DBSIZE") == (0, "(integer) 0\n", "")


def test_info_memory(r, server):
    rc, out, _ = cli(server, "INFO", "memory")
    assert rc == 0
    assert "# Memory" in out
    assert "used_memory_human:" in out


def test_unix_socket(r, server):
    p = subprocess.run([REDIS_CLI, "-s", server.unixsocket, "PING"], stdout=subprocess.PIPE,
                       timeout=20)
    assert p.stdout == b"PONG\n"


def test_scan_pattern(r, server):
    r.mset({"k%d" % i: i for i in range(300)})
    r.mset({"other%d" % i: i for i in range(50)})
    rc, out, _ = cli(server, "--scan", "--pattern", "k1*")
    assert rc == 0
    got = out.split()               # SCAN may legally repeat keys: compare sets
    assert set(got) == {"k%d" % i for i in range(300) if str(i).startswith("1")}
    rc, out, _ = cli(server, "--scan")
    assert len(set(out.split())) == 350


def test_bigkeys(r, server):
    r.mset({"s%d" % i: "x" * i for i in range(1, 50)})
    r.set("biggest", "y" * 5000)
    rc, out, err = cli(server, "--bigkeys")
    assert rc == 0, out + err
    assert "Biggest string found" in out
    assert '"biggest"' in out and "5000 bytes" in out
    # SCAN may legally return a key twice, so the sample count is >= 50
    m = re.search(r"Sampled (\d+) keys", out)
    assert m and int(m.group(1)) >= 50, out


def test_memkeys(r, server):
    r.mset({"s%d" % i: "x" * i for i in range(1, 50)})
    total = sum(r.memory_usage("s%d" % i) for i in range(1, 50))
    rc, out, err = cli(server, "--memkeys")
    assert rc == 0, out + err
    m = re.search(r"Sampled (\d+) keys", out)
    assert m and int(m.group(1)) >= 49, out
    # The byte total is the sum of MEMORY USAGE (redis-cli asks it per key;
    # a missing MEMORY USAGE would show as 0 bytes).
    assert "\n49 strings with %d bytes" % total in out, out


def test_interactive_stdin(r, server):
    """redis-cli with commands on stdin (not a tty) runs its REPL, which
    first sends COMMAND DOCS to build its help."""
    rc, out, err = cli(server, stdin=b"SET x 5\nGET x\nINCR x\nPING\n")
    assert rc == 0, err
    assert out == "OK\n5\n6\nPONG\n"
    assert r.get("x") == b"6"


def test_interactive_stdin_survives_errors(r, server):
    rc, out, err = cli(server, stdin=b"PING\nNOSUCHCMD\nPING\n")
    assert rc == 0
    lines = [l for l in out.split("\n") if l]
    assert lines[0] == "PONG"
    assert lines[1].startswith("ERR unknown command 'NOSUCHCMD'")
    assert lines[-1] == "PONG"


def test_bigkeys_and_memkeys_report_streams(r, server):
    """Seed 001's remedy for an unbounded event log starts with --bigkeys
    naming the biggest stream."""
    for i in range(1, 31):
        r.xadd("events:small", {"n": i})
    for i in range(1, 301):
        r.xadd("events:log", {"n": i, "payload": "x" * 20})
    rc, out, err = cli(server, "--bigkeys")
    assert rc == 0, out + err
    assert 'Biggest stream found \'"events:log"\' has 300 entries' in out or \
        'Biggest stream found "events:log" has 300 entries' in out, out
    assert "2 streams with 330 entries" in out, out
    size = r.memory_usage("events:log") + r.memory_usage("events:small")
    rc, out, err = cli(server, "--memkeys")
    assert rc == 0, out + err
    assert "2 streams with %d bytes" % size in out, out
