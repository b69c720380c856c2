"""RDB files and DUMP payloads exchanged with Debian's redis-server 7.0, both
ways: every type in its small and large encodings, TTLs, 16 databases; the
comparison is a full dump of both datasets plus DEBUG DIGEST (which Keel
computes as Redis does). Hand-built files stand in for newer writers
(Redis 7.2/7.4, RDB 11/12) and for broken ones."""

import os
import shutil
import struct

import pytest
import redis

from keel_helpers import Server, ServerError, key_value
from rdb_fixtures import (aux, crc64, intset, key, listpack, payload, rdb_file, rdb_len,
                          rdb_str, selectdb, ziplist)

REDIS = "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not os.path.exists(REDIS), reason="needs Debian's redis-server")


def start(binary=None, *args):
    return Server(extra_args=args, binary=binary).start()


def populate(srv):
    """Every type and encoding, TTLs, 16 databases."""
    for dbid in range(16):
        c = srv.client(db=dbid)
        p = c.pipeline(transaction=False)
        p.set("str:%d" % dbid, "value-%d" % dbid)
        p.rpush("list:%d" % dbid, "a", dbid, "c")
        if dbid % 3 == 0:
            p.set("ttl:%d" % dbid, "x")
            p.expire("ttl:%d" % dbid, 1000 + dbid)
        p.execute()
    c = srv.client()
    p = c.pipeline(transaction=False)
    for v in ("0", "123", "-5", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
              "-9223372036854775808", "007", "1.5", ""):
        p.set("int:%r" % v, v)
    p.set("binary", bytes(range(256)))
    p.set("compressible", "ab" * 5000)
    p.set("random", os.urandom(3000))
    p.set(b"\x00key\xff", "binary key")
    p.rpush("list:small", "x", 1, -2, "y" * 50)
    p.rpush("list:big", *[("e%d-" % i) * (i % 40) or i for i in range(2000)])
    p.rpush("list:hugeelem", "z" * 20000, "small", 17)
    p.sadd("set:ints", 1, 2, 3, -7, 40000, 3000000000)
    p.sadd("set:bigints", *range(600))
    p.sadd("set:small", "a", "b", "c", 1)
    p.sadd("set:big", *["m%d" % i for i in range(300)])
    p.zadd("zset:small", {"a": 1.5, "b": float("-inf"), "c": float("inf"), "d": 1e-300, "e": -0.25, "7": 7})
    p.zadd("zset:big", {"m%d" % i: i / 7 for i in range(300)})
    p.zadd("zset:longmember", {"x" * 100: 1, "y": 2})
    p.hset("hash:small", mapping={"f1": "v1", "f2": 2, "3": "three"})
    p.hset("hash:big", mapping={"f%d" % i: "v%d" % i for i in range(300)})
    p.hset("hash:longvalue", mapping={"f": "v" * 100, "g": "w"})
    p.pfadd("hll", *["e%d" % i for i in range(200)])
    p.set("pexpire", "y")
    p.pexpireat("pexpire", 4102444800123)   # year 2100, ms precision
    p.hset("hash:ttl", "f", "v")
    p.expire("hash:ttl", 5000)
    p.execute()


def snapshot(srv):
    """{(db, key): (type, value, ttl-bucket)} for every key."""
    out = {}
    for dbid in range(16):
        c = srv.client(db=dbid)
        for k in c.scan_iter(count=1000):
            t, v = key_value(c, k)
            pttl = c.pttl(k)
            out[(dbid, k)] = (t, v, pttl if pttl < 0 else pttl // 10000)
        c.connection_pool.disconnect()
    return out


def assert_same(a, b):
    assert set(a) == set(b)
    for k in a:
        ta, va, xa = a[k]
        tb, vb, xb = b[k]
        assert (ta, va) == (tb, vb), k
        assert (xa < 0) == (xb < 0) and abs(xa - xb) <= 1, (k, xa, xb)


def copy_dump(src, dst):
    shutil.copy(os.path.join(src.dir, "dump.rdb"), os.path.join(dst.dir, "dump.rdb"))


def digest(srv):
    return srv.client().execute_command("DEBUG", "DIGEST")


def transfer(writer_binary, reader_binary):
    w = start(writer_binary)
    reader = Server(binary=reader_binary)
    try:
        populate(w)
        assert w.client().save()
        want, want_digest = snapshot(w), digest(w)
        copy_dump(w, reader)
    finally:
        assert w.stop() == []
    reader.start()
    try:
        assert_same(snapshot(reader), want)
        assert digest(reader) == want_digest
        return reader.log_text()
    finally:
        assert reader.stop() == []


def test_redis_dump_loads_in_keel():
    log = transfer(REDIS, None)
    assert "Done loading RDB, keys loaded: " in log
    assert "DB loaded from disk" in log
    assert "Loading RDB produced by version 7.0.15" in log


def test_keel_dump_loads_in_redis():
    transfer(None, REDIS)


def test_keel_dump_loads_in_keel():
    transfer(None, None)


def test_dump_restore_both_ways():
    rs = start(REDIS)
    ks = Server().start()
    try:
        populate(rs)
        populate(ks)
        rc, kc = rs.client(), ks.client()
        keys = [k for k in rc.scan_iter(count=1000)]
        assert len(keys) > 30
        for src, dst in ((rc, kc), (kc, rc)):
            for k in keys:
                p = src.dump(k)
                assert p is not None
                dst.delete(k)
                assert dst.restore(k, max(src.pttl(k), 0), p) in (True, b"OK")
            assert [src.execute_command("DEBUG", "DIGEST-VALUE", k) for k in keys] == \
                   [dst.execute_command("DEBUG", "DIGEST-VALUE", k) for k in keys]
    finally:
        assert rs.stop() == []
        assert ks.stop() == []


def test_debug_digest_matches_redis():
    rs = start(REDIS)
    ks = Server().start()
    try:
        for srv in (rs, ks):
            c = srv.client()
            c.set("a", "1")
            c.rpush("l", "x", "y")
            c.sadd("s", "m", 5)
            c.zadd("z", {"m": 1.5, "n": 2})
            c.hset("h", mapping={"f": "v"})
            c.xadd("st", {"f": "v", "n": 1}, id="5-1")
            c.xadd("st", {"g": "w"}, id="7-0")
            c.xgroup_create("st", "grp", id="0")
        rc, kc = rs.client(), ks.client()
        for k in ("a", "l", "s", "z", "h", "st", "missing"):
            assert kc.execute_command("DEBUG", "DIGEST-VALUE", k) == \
                   rc.execute_command("DEBUG", "DIGEST-VALUE", k), k
        assert digest(ks) == digest(rs)
        rc.expire("a", 100)
        kc.expire("a", 100)
        assert digest(ks) == digest(rs)
        rc.flushall()
        kc.flushall()
        assert digest(ks) == digest(rs) == b"0" * 40
    finally:
        assert rs.stop() == []
        assert ks.stop() == []


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_idle_and_freq_survive_a_save(policy):
    """IDLE (LRU policies) and FREQ (LFU) are written with each key and
    read back, by Keel and by Redis."""
    k = Server(extra_args=("--maxmemory-policy", policy)).start()
    readers = [Server(extra_args=("--maxmemory-policy", policy)),
               Server(extra_args=("--maxmemory-policy", policy), binary=REDIS)]
    try:
        c = k.client()
        p = c.dump("x") if c.set("x", "v") else None
        if policy == "allkeys-lfu":
            c.restore("y", 0, p, frequency=100)
        else:
            c.restore("y", 0, p, idletime=5000)
        assert c.save()
        for r in readers:
            copy_dump(k, r)
    finally:
        assert k.stop() == []
    for r in readers:
        r.start()
        try:
            rc = r.client()
            if policy == "allkeys-lfu":
                assert rc.object("freq", "y") in (99, 100)
            else:
                assert rc.object("idletime", "y") >= 5000
                assert rc.object("idletime", "x") < 100
        finally:
            assert r.stop() == []
