"""keel-cli's key-walking modes (issue 16): --bigkeys, --memkeys and
--hotkeys against Debian's redis-cli 7.0 on the same prepared dataset (same
keys named, same figures), --keystats (Redis 7.4's, which Debian's
redis-cli lacks: its own output is checked against the dataset), and
--scan with --pattern, --count and --type.

Each comparison runs against the server under test and against a Debian
redis-server 7.0 holding the same data, so keel-cli is shown to work with
either server."""

import os
import re
import signal
import subprocess

import pytest

from cli_helpers import client_env, redis_server
from keel_helpers import wait_for
from cli_mem_helpers import BIGGEST, KEEL_CLI, biggest, keel_cli, per_type_counts, populate, redis_cli


@pytest.fixture
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


def both(server, redis7):
    """The server under test and a Debian redis-server, both populated."""
    out = []
    for srv in (server, redis7):
        c = srv.client()
        c.flushall()
        populate(c)
        out.append(srv)
    return out


def test_bigkeys_names_the_keys_redis_cli_names(r, server, redis7):
    for srv in both(server, redis7):
        rc, mine, err = keel_cli(srv, "--bigkeys")
        assert rc == 0, err
        rc, theirs, _ = redis_cli(srv, "--bigkeys")
        assert rc == 0
        assert biggest(mine) == biggest(theirs)
        assert per_type_counts(mine) == per_type_counts(theirs)
        assert {t: k for t, (k, _, _) in biggest(mine).items()} == {t: '"%s"' % k for t, k in BIGGEST.items()}
        assert biggest(mine)["string"] == ('"blob:big"', 100000, "bytes")
        assert biggest(mine)["list"] == ('"queue:19"', 4000, "items")


def test_bigkeys_layout(r, server):
    populate(r, users=10, sessions=5)
    rc, out, _ = keel_cli(server, "--bigkeys")
    assert rc == 0
    lines = out.split("\n")
    assert lines[:5] == ["", "# Scanning the entire keyspace to find biggest keys as well as",
                         "# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec",
                         "# per 100 SCAN commands (not usually needed).", ""]
    assert re.search(r"^\[\d\d\.\d\d%\] Biggest string found so far '\"[^']+\"' with \d+ bytes$", out, re.M)
    assert "\n-------- summary -------\n\nSampled %d keys in the keyspace!\n" % r.dbsize() in out
    assert re.search(r"^Total key length in bytes is \d+ \(avg len \d+\.\d\d\)$", out, re.M)
    assert "\n3 streams with 153 entries (" in out
    assert "\n50 hashs with 3725 fields (" in out


def test_memkeys_names_the_keys_redis_cli_names(r, server, redis7):
    for srv in both(server, redis7):
        # SAMPLES above every key's size: exact figures (redis-cli 7.0 sends
        # no SAMPLES for 0, so 0 cannot be compared).
        rc, mine, err = keel_cli(srv, "--memkeys-samples", "100000")
        assert rc == 0, err
        rc, theirs, _ = redis_cli(srv, "--memkeys-samples", "100000")
        assert rc == 0
        assert biggest(mine) == biggest(theirs)
        assert {t: k for t, (k, _, _) in biggest(mine).items()} == {t: '"%s"' % k for t, k in BIGGEST.items()}
        assert all(unit == "bytes" for _, _, unit in biggest(mine).values())
        c = srv.client()
        assert biggest(mine)["hash"][1] == c.memory_usage("obj:49", samples=0)
        rc, mine, _ = keel_cli(srv, "--memkeys-samples", "0")
        assert rc == 0
        assert biggest(mine)["hash"][1] == c.memory_usage("obj:49", samples=0)
        rc, mine, _ = keel_cli(srv, "--memkeys")
        assert rc == 0
        assert biggest(mine)["string"][0] == '"blob:big"'


def test_hotkeys_names_the_keys_redis_cli_names(server, redis7):
    for srv in (server, redis7):
        c = srv.client()
        c.flushall()
        c.config_set("maxmemory-policy", "allkeys-lfu")
        try:
            for i in range(50):
                c.set("k%d" % i, i)
            for _ in range(300):
                c.get("k7")
            for _ in range(60):
                c.get("k9")
            rc, mine, err = keel_cli(srv, "--hotkeys")
            assert rc == 0, err
            rc, theirs, _ = redis_cli(srv, "--hotkeys")
            hot = re.compile(r"^hot key found with counter: (\d+)\tkeyname: (.*)$", re.M)
            mine_keys = [k for _, k in hot.findall(mine)]
            assert mine_keys[:2] == ['"k7"', '"k9"']
            assert mine_keys == [k for _, k in hot.findall(theirs)]
            assert "Sampled 50 keys in the keyspace!" in mine
        finally:
            c.config_set("maxmemory-policy", "noeviction")


def test_hotkeys_without_lfu_fails_as_redis_cli(r, server):
    r.set("a", 1)
    rc, out, err = keel_cli(server, "--hotkeys")
    rc2, out2, err2 = redis_cli(server, "--hotkeys")
    assert (rc, err) == (rc2, err2)
    assert rc == 1
    assert err.startswith("Error: ERR An LFU maxmemory policy is not selected")


def test_keystats(r, server):
    populate(r)
    rc, out, err = keel_cli(server, "--keystats", "--keystats-samples", "0", "--top", "3")
    assert rc == 0, err
    assert "# Scanning the entire keyspace to find the biggest keys and distribution information.\n" in out
    n = r.dbsize()
    assert "100.00%% keys scanned\nKeys sampled: %d\n" % n in out
    top = re.findall(r"^ +(\d) +(\S+) (\S+) +(.*)$", out.split("--- Top 3 key sizes ---\n")[1].split("\n\n")[0], re.M)
    sizes = sorted(((r.memory_usage(k, samples=0), k.decode()) for k in r.scan_iter(count=1000)), reverse=True)
    assert [k for _, _, _, k in top] == ['"%s"' % k for _, k in sizes[:3]]
    assert [t for _, _, t, _ in top][0] == "string"
    per_type = dict(re.findall(r"^(\w+) +(\S+) is \S+$", out.split("--- Top size per type ---\n")[1].split("\n\n")[0],
                               re.M))
    assert per_type == BIGGEST
    lengths = re.findall(r"^(\w+) +(\S+) has (.*)$",
                         out.split("--- Top length and cardinality per type ---\n")[1].split("\n\n")[0], re.M)
    assert ("list", "queue:19", "4000 items") in lengths
    assert ("hash", "obj:49", "148 fields") in lengths
    assert ("string", "blob:big", "97.66K") in lengths
    assert "Key size Percentile Total keys\n-------- ---------- -----------\n" in out
    last = re.findall(r"^ *\S+ +100\.0000% +(\d+)$", out, re.M)
    assert last[0] == str(n)
    assert re.search(r"^Note: 0\.01% size precision, Mean: \S+, StdDeviation: \S+$", out, re.M)
    assert "Key name length Percentile Total keys\n" in out
    assert re.search(r"^ +16B +100\.0000%% +%d$" % n, out, re.M)  # the longest name: 16 bytes
    table = re.findall(r"^(\w+) +(\d+) +(\d+\.\d\d)% .*$", out.split("--------- ------------ -------")[1], re.M)
    assert ("hash", "50", "%.2f" % (100 * 50 / n)) in table
    assert ("stream", "3", "%.2f" % (100 * 3 / n)) in table


def test_keystats_ctrl_c_gives_the_cursor(r, server):
    for i in range(3000):
        r.set("k%d" % i, i)
    p = subprocess.Popen([KEEL_CLI, "-h", server.host, "-p", str(server.port), "--keystats", "--count", "1",
                          "-i", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client_env())
    # The walk pauses 0.2 s every 100 SCAN calls of one key: thousands of
    # calls take many pauses, so the interrupt lands mid-walk, once the
    # server has seen the walk start.
    def scans():
        return r.info("commandstats").get("cmdstat_scan", {}).get("calls", 0)
    r.config_resetstat()
    assert wait_for(lambda: scans() > 10)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    out = out.decode()
    assert p.returncode == 0
    m = re.search(r"Use 'keel-cli --keystats --cursor (\d+)' to restart from the last cursor.", out)
    assert m and int(m.group(1)) != 0, out
    sampled = int(re.search(r"Keys sampled: (\d+)", out).group(1))
    assert 0 < sampled < 3000


def test_scan_pattern_count_type(r, server):
    populate(r, users=300, sessions=10)
    rc, out, _ = keel_cli(server, "--scan")
    assert rc == 0
    assert sorted(out.split()) == sorted(k.decode() for k in r.keys("*"))
    rc, out, _ = keel_cli(server, "--scan", "--pattern", "user:1*", "--count", "7")
    assert sorted(out.split()) == sorted(k.decode() for k in r.keys("user:1*"))
    rc, out, _ = keel_cli(server, "--scan", "--type", "zset")
    assert sorted(out.split()) == sorted("rank:%d" % i for i in range(20))
    rc, theirs, _ = redis_cli(server, "--scan", "--pattern", "obj:*")
    rc, mine, _ = keel_cli(server, "--scan", "--pattern", "obj:*")
    assert sorted(mine.split()) == sorted(theirs.split())


def test_scan_quotes_binary_keys_on_a_terminal_form(r, server):
    r.set(b"a\nb", 1)
    rc, out, _ = keel_cli(server, "--no-raw", "--scan")
    rc2, out2, _ = redis_cli(server, "--no-raw", "--scan")
    assert out == out2 == '"a\\nb"\n'


def test_bad_option_values(server):
    rc, _, err = keel_cli(server, "--memkeys-samples", "x")
    assert (rc, err) == (1, "--memkeys-samples conversion error.\n")
    rc, _, err = keel_cli(server, "--bigkeys", "--memory-audit")
    assert rc == 1 and "cannot be used together" in err
    assert os.path.exists(KEEL_CLI)
