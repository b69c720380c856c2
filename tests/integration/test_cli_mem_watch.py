"""keel-cli --oom-watch and --stat (issue 16): a server at 90% of
maxmemory, one without maxmemory, one that cannot be reached, one that
grows while watched; and --stat's rolling lines."""

import os
import re
import select
import signal
import subprocess
import time

import pytest

from cli_helpers import client_env, redis_server
from cli_mem_helpers import KEEL_CLI, keel_cli
from keel_helpers import running_against_redis, wait_for


@pytest.fixture
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


def fill_to_90_percent(c):
    """About 5 MB of data, then maxmemory so that used_memory is 90% of it."""
    c.config_set("maxmemory-policy", "noeviction")
    for i in range(50):
        c.set("blob:%d" % i, "x" * 100000)
    used = c.info("memory")["used_memory"]
    c.config_set("maxmemory", int(used / 0.90))


def watch_once(srv, *args):
    return keel_cli(srv, "--oom-watch", "--once", "-i", "0.1", *args)


def check_90(srv):
    c = srv.client()
    fill_to_90_percent(c)
    try:
        rc, out, err = watch_once(srv)
        assert rc == 1, out + err
        m = re.search(r"used \S+/\S+ \((\d+\.\d)%\) policy noeviction frag \d+\.\d\d evict/s 0 expire/s 0 growth \S+/s "
                      r"full in \S+ last save ok save: .* \[WARN\]$", out, re.M)
        assert m and 85 <= float(m.group(1)) < 95, out
        assert re.search(r"^ALERT WARN: used_memory is \d+\.\d% of maxmemory \(\S+ of \S+\), over the warning "
                         r"threshold of 85%$", out, re.M)
        rc, out, _ = watch_once(srv, "--warn", "0.5", "--crit", "0.8")
        assert rc == 2 and "[CRIT]" in out and "ALERT CRIT" in out
        rc, out, _ = watch_once(srv, "--warn", "0.96", "--crit", "0.99")
        assert rc == 0 and "[OK]" in out and "ALERT" not in out
        return out
    finally:
        c.config_set("maxmemory", 0)
        c.flushall()


def test_server_at_90_percent_of_maxmemory(r, server):
    out = check_90(server)
    if not running_against_redis():
        assert "save: fork-less" in out


def test_redis_at_90_percent_of_maxmemory(redis7):
    out = check_90(redis7)
    assert "save: fork may copy up to " in out


def test_server_without_maxmemory(r, server):
    r.config_set("maxmemory", 0)
    rc, out, _ = watch_once(server)
    assert rc == 1
    assert out.startswith("!!! WARNING: maxmemory is not set: ")
    assert re.search(r" used \S+/\S+ system \(\d+\.\d%\) .*\[WARN\]$", out, re.M)


def test_unreachable_server_is_unknown():
    class Nowhere:
        host, port = "127.0.0.1", 1
    rc, out, _ = watch_once(Nowhere)
    assert rc == 3
    assert out == "UNKNOWN: could not connect to the server\n"


def test_bad_thresholds(server):
    rc, _, err = watch_once(server, "--warn", "1.5")
    assert rc == 1 and "--warn takes a ratio" in err
    rc, _, err = watch_once(server, "--warn", "0.9", "--crit", "0.8")
    assert rc == 3 and "must not be above --crit" in err


class LineReader:
    """Lines of a running keel-cli, read with a generous deadline."""

    def __init__(self, args):
        self.p = subprocess.Popen([KEEL_CLI] + [str(a) for a in args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=client_env())
        self.buf = b""

    def line(self, timeout=20):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            assert time.time() < deadline, "no line from keel-cli"
            ready, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                assert chunk, "keel-cli ended: %r" % self.p.stderr.read()
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        rc = self.p.wait(timeout=20)
        self.p.stdout.close()
        self.p.stderr.close()
        return rc


def test_growth_and_time_to_full(r, server):
    r.config_set("maxmemory", 200 * 1024 * 1024)
    try:
        w = LineReader(["-h", server.host, "-p", server.port, "--oom-watch", "-i", "0.2"])
        first = w.line()
        assert "growth - full in -" in first
        written = 0

        def grown():
            nonlocal written
            r.set("grow:%d" % written, "g" * 200000)
            written += 1
            line = w.line()
            return re.search(r"growth \+\d+(\.\d+)?[KM]/s full in (\d+(\.\d)?[smhd])", line)
        assert wait_for(grown, timeout=30)
        assert w.stop() == 0
    finally:
        r.config_set("maxmemory", 0)


def test_stat(r, server):
    for i in range(10):
        r.set("k%d" % i, i)
    w = LineReader(["-h", server.host, "-p", server.port, "--stat", "-i", "0.1"])
    assert w.line() == ("------- data ------ --------------------- load -------------------- - child - "
                        "----- keyspace events -----")
    assert w.line() == ("keys       mem      clients blocked requests            connections           "
                        "evict/s  expire/s hit%")
    first = w.line().split()
    assert first[0] == "10" and first[5] == "(+0)"
    r.get("k1")
    r.get("nokey")

    def later_line_has_rates():
        f = w.line().split()
        return f[0] == "10" and re.fullmatch(r"\d+", f[-3]) and re.fullmatch(r"\d+", f[-2]) and f
    f = wait_for(later_line_has_rates)
    assert f[-1] == "-" or re.fullmatch(r"\d+\.\d\d%", f[-1])
    assert w.stop() == 0
