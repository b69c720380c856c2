"""keel-cli --memory-audit and --maxmemory-advice (issue 16) on prepared
datasets, against the server under test and a Debian redis-server 7.0."""

import json
import re

import pytest

from cli_helpers import redis_server
from cli_mem_helpers import keel_cli, populate
from keel_helpers import running_against_redis


@pytest.fixture
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


def check_audit_text(out, c):
    n = c.dbsize()
    assert re.search(r"^# Memory audit of (keel|redis)-server 7\.\S+ at 127\.0\.0\.1:\d+ db 0$", out, re.M)
    total = int(re.search(r"^%d keys, \S+ in keys \((\d+) bytes\)$" % n, out, re.M).group(1))
    assert re.search(r"^hash +50 +\S+ +\S+% +3725$", out, re.M)
    assert re.search(r"^stream +3 +", out, re.M)
    pats = dict(re.findall(r"^(\S+) +(\d+) +\S+ +\S+% +\d+  \S+$", out, re.M))
    assert pats["user:*:*"] == "2000" and pats["sess:*"] == "500" and pats["obj:*"] == "50"
    assert re.search(r"^2114 keys without TTL \(\d+\.\d\d% of keys\) hold ", out, re.M)
    assert re.search(r"^1 minute - 1 hour +500 keys", out, re.M)
    top = out.split("-------- 20 largest keys --------\n")[1].split("\n\n")[0].split("\n")[1:]
    assert len(top) == 20
    usage = sorted(((c.memory_usage(k, samples=0), k.decode()) for k in c.scan_iter(count=1000)), reverse=True)
    assert top[0].split()[-1] == "blob:big"
    assert {line.split()[-1] for line in top[:5]} <= {k for _, k in usage[:8]}
    assert "-------- recommendations --------\n" in out
    assert re.search(r"^- \d+% of the memory \(\S+\) is in keys without a TTL", out, re.M)
    return total


def test_memory_audit(r, server):
    populate(r)
    rc, out, err = keel_cli(server, "--memory-audit")
    assert rc == 0, err
    total = check_audit_text(out, r)
    assert total == sum(r.memory_usage(k) for k in r.scan_iter(count=1000))
    # The advice about hashes, applied, keeps them compact.
    m = re.search(r"CONFIG SET hash-max-listpack-entries (\d+) hash-max-listpack-value (\d+)", out)
    entries = int(r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"])
    assert m and (int(m.group(1)), m.group(2)) == (max(148, entries), "147")
    old = r.config_get("hash-max-listpack-*")
    try:
        r.config_set("hash-max-listpack-entries", m.group(1))
        r.config_set("hash-max-listpack-value", m.group(2))
        for i in range(50):
            fields = r.hgetall("obj:%d" % i)
            r.delete("obj:%d" % i)
            r.hset("obj:%d" % i, mapping=fields)
            assert r.object("encoding", "obj:%d" % i) == b"listpack"
    finally:
        for k, v in old.items():
            r.config_set(k, v)


def test_memory_audit_on_redis(redis7):
    c = redis7.client()
    populate(c)
    rc, out, err = keel_cli(redis7, "--memory-audit")
    assert rc == 0, err
    check_audit_text(out, c)
    assert "hash: 28 keys in hashtable" in out
    assert "\nset: " not in out  # Redis 7.0 has no set listpack to advise about


def test_memory_audit_json_file(r, server, tmp_path):
    populate(r, users=100, sessions=10)
    path = tmp_path / "audit.json"
    rc, out, err = keel_cli(server, "--memory-audit", "--json", str(path), "--prefix-depth", "1", "--pattern", "*:1*")
    assert rc == 0, err
    assert out == "Memory audit written to %s\n" % path
    d = json.loads(path.read_text())
    keys = set(k.decode() for k in r.scan_iter(match="*:1*", count=1000))
    assert d["keys"] == len(keys)
    assert d["prefix_depth"] == 1
    assert sum(t["keys"] for t in d["types"].values()) == len(keys)
    assert sum(p["keys"] for p in d["patterns"]) == len(keys)
    assert {p["pattern"] for p in d["patterns"]} <= {"user:*", "sess:*", "queue:*", "tags:*", "rank:*", "obj:*",
                                                     "events:*"}
    assert d["no_ttl"]["keys"] == len([k for k in keys if r.ttl(k) == -1])
    assert [x["key"] for x in d["largest_keys"]] == [x["key"] for x in sorted(d["largest_keys"],
                                                                                key=lambda x: -x["bytes"])]
    rc, out, err = keel_cli(server, "--memory-audit", "--json")
    assert rc == 0 and json.loads(out)["keys"] == r.dbsize()


def test_memory_audit_empty(r, server):
    rc, out, _ = keel_cli(server, "--memory-audit")
    assert rc == 0
    assert "\n0 keys, 0B in keys (0 bytes)\n" in out
    assert "- No keys: nothing to recommend." in out


# ---- --maxmemory-advice ----

GIB32 = 32 * 1024 ** 3


def advised_bytes(out):
    return int(re.search(r"^maxmemory \d+mb  \((\d+) bytes, ", out, re.M).group(1))


@pytest.mark.keel_only
def test_advice_for_keel_needs_no_fork_reserve(server):
    rc, out, err = keel_cli(server, "--maxmemory-advice", "--ram", "32gb", "--use", "cache", "--persistence", "yes")
    assert rc == 0, err
    assert "# server: Keel " in out
    assert "Keel saves without fork" in out
    assert "vm.overcommit_memory" not in out.replace("Keel needs no vm.overcommit_memory", "")
    assert "maxmemory-policy allkeys-lru" in out
    os_reserve = GIB32 * 0.10
    assert advised_bytes(out) == int((GIB32 - os_reserve) / 1.15)
    assert "CONFIG SET maxmemory %d\n" % advised_bytes(out) in out


def test_advice_for_redis_keeps_the_fork_reserve(server, redis7):
    rc, out, err = keel_cli(redis7, "--maxmemory-advice", "--ram", "32gb", "--use", "cache", "--persistence", "yes")
    assert rc == 0, err
    assert "# server: Redis 7.0." in out
    assert "BGSAVE and AOF rewrites fork" in out
    assert "vm.overcommit_memory = 1" in out
    redis_bytes = advised_bytes(out)
    clients = min(max(GIB32 * 0.02, 16 * 1024 ** 2), 1024 ** 3)
    assert redis_bytes == int((GIB32 - GIB32 * 0.10 - clients) / 1.35)
    rc, out, _ = keel_cli(redis7, "--maxmemory-advice", "--ram", "32gb", "--use", "cache", "--persistence", "yes",
                          "--server", "keel")
    assert advised_bytes(out) > redis_bytes


def test_advice_without_a_server(tmp_path):
    class Nowhere:
        host, port = "127.0.0.1", 1
    rc, out, err = keel_cli(Nowhere, "--maxmemory-advice", "--ram", "8gb", "--use", "database", "--replicas", "2")
    assert rc == 0, err
    assert "no server answered" in out
    assert "maxmemory-policy noeviction" in out
    assert re.search(r"^  replication +576\.00M  2 replicas", out, re.M)
    rc, out, err = keel_cli(Nowhere, "--maxmemory-advice", "--ram", "8gb", "--server", "redis")
    assert rc == 0 and "# server: Redis (--server)" in out and "volatile-lru" in out
    rc, out, err = keel_cli(Nowhere, "--maxmemory-advice", "--ram", "1gb", "--replicas", "4", "--server", "redis")
    assert rc == 1 and "too small" in out


def test_advice_compares_with_the_current_settings(r, server):
    old = r.config_get("maxmemory")["maxmemory"]
    try:
        r.config_set("maxmemory", 0)
        rc, out, _ = keel_cli(server, "--maxmemory-advice", "--ram", "16gb")
        assert "Now: maxmemory is not set" in out
        r.config_set("maxmemory", 100 * 1024 ** 3)
        rc, out, _ = keel_cli(server, "--maxmemory-advice", "--ram", "16gb")
        assert re.search(r"^Now: maxmemory 100\.00G \(above the advice\)", out, re.M)
    finally:
        r.config_set("maxmemory", old)


def test_advice_bad_arguments(server):
    rc, _, err = keel_cli(server, "--maxmemory-advice")
    assert rc == 1 and "needs --ram" in err
    rc, _, err = keel_cli(server, "--maxmemory-advice", "--ram", "lots")
    assert rc == 1 and "--ram takes a size" in err
    rc, _, err = keel_cli(server, "--maxmemory-advice", "--ram", "1gb", "--use", "everything")
    assert rc == 1 and "--use takes cache, database or mixed" in err
