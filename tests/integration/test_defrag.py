"""Active defragmentation: activedefrag moves blocks and keeps data intact.

Functional, not timed: fragmentation is created on purpose (many small
keys, most deleted at random), the defragger is given low thresholds and a
large CPU share, and the test checks that it moved blocks
(active_defrag_hits grows) and that every key still holds exactly what it
held before (its own checksum over all types, plus DEBUG DIGEST).

Needs jemalloc: skipped for a build the Makefile declares without it
(KEEL_ALLOCATOR=libc, the sanitizer build); any other Keel build must report
jemalloc and accept `CONFIG SET activedefrag yes`. When the suite is
validated against Debian's redis-server, the tests stop at that CONFIG SET
(its stock jemalloc lacks the hint Redis's defragger needs) and skip.
"""

import hashlib
import random

import pytest
import redis

from keel_helpers import requires_jemalloc, running_against_redis, wait_for

KEYS = 200000
FAST_DEFRAG = ("--active-defrag-ignore-bytes", "1mb", "--active-defrag-threshold-lower", "1",
               "--active-defrag-cycle-min", "50", "--active-defrag-cycle-max", "75")


def defrag_server(start_server):
    srv = start_server(*FAST_DEFRAG)
    c = srv.client()
    assert c.info("memory")["mem_allocator"].startswith("jemalloc")
    return c


def enable_defrag(c):
    if running_against_redis():
        pytest.skip("Debian's redis-server links the stock jemalloc, which cannot defragment")
    assert c.config_set("activedefrag", "yes")


def fragment(c, seed=7):
    """Many small keys, 80% deleted at random, plus one key of every type."""
    c.execute_command("DEBUG", "POPULATE", KEYS, "key", 64)
    rng = random.Random(seed)
    victims = ["key:%d" % i for i in range(KEYS) if rng.random() < 0.8]
    p = c.pipeline(transaction=False)
    for start in range(0, len(victims), 1000):
        p.delete(*victims[start:start + 1000])
    for i in range(0, 3000):
        p.set("short:%d" % i, "v%d" % i)                      # embedded strings
        p.set("ttl:%d" % i, "x" * (i % 300), ex=100000)       # raw strings with expiry
    p.hset("hash:small", mapping={"f%d" % i: "v%d" % i for i in range(10)})
    p.hset("hash:big", mapping={"f%d" % i: "v%d" % i for i in range(2000)})
    p.sadd("set:ints", *range(100))
    p.sadd("set:big", *("m%d" % i for i in range(2000)))
    p.rpush("list:small", *("e%d" % i for i in range(20)))
    p.rpush("list:big", *("e%d" % i for i in range(5000)))
    p.zadd("zset:small", {"a": 1, "b": 2})
    p.zadd("zset:big", {"m%d" % i: i for i in range(1000)})
    p.execute()


def checksum(c):
    """One hash over every key's type, value and whether it has a TTL."""
    h = hashlib.sha1()
    keys = sorted(c.scan_iter(count=1000))
    p = c.pipeline(transaction=False)
    for k in keys:
        p.type(k)
    types = p.execute()
    for k, t in zip(keys, types):
        {b"string": p.get, b"hash": p.hgetall, b"set": p.smembers, b"list": lambda k: p.lrange(k, 0, -1),
         b"zset": lambda k: p.zrange(k, 0, -1, withscores=True)}[t](k)
        p.ttl(k)
    replies = p.execute()
    for i, (k, t) in enumerate(zip(keys, types)):
        value, ttl = replies[2 * i], replies[2 * i + 1]
        if isinstance(value, dict):
            value = sorted(value.items())
        elif isinstance(value, set):
            value = sorted(value)
        h.update(repr((k, t, value, ttl > 0)).encode())
    return len(keys), h.hexdigest()


def defrag_stats(c):
    s = c.info("stats")
    return s["active_defrag_hits"], s["active_defrag_key_hits"]


@requires_jemalloc
def test_defrag_moves_blocks_and_keeps_data(start_server):
    c = defrag_server(start_server)
    fragment(c)
    before = checksum(c)
    digest = c.execute_command("DEBUG", "DIGEST")
    frag_before = c.info("memory")["allocator_frag_ratio"]
    hits0, key_hits0 = defrag_stats(c)
    enable_defrag(c)
    # Moved blocks, and a pass completed (running back to 0).
    assert wait_for(lambda: defrag_stats(c)[0] > hits0, timeout=20)
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)
    c.config_set("activedefrag", "no")
    hits, key_hits = defrag_stats(c)
    assert hits > hits0 and key_hits > key_hits0
    assert checksum(c) == before
    assert c.execute_command("DEBUG", "DIGEST") == digest
    assert c.info("memory")["allocator_frag_ratio"] < frag_before
    # Everything still writable and deletable after being moved.
    assert c.set("key:1", "new") and c.get("key:1") == b"new"
    assert c.delete("hash:big", "set:big", "list:big", "zset:big") == 4
    assert c.incr("short:counter") == 1


@requires_jemalloc
def test_defrag_then_writes_and_deletes(start_server):
    """Moved entries keep working under a write load during the pass."""
    c = defrag_server(start_server)
    fragment(c, seed=11)
    enable_defrag(c)
    hits0 = defrag_stats(c)[0]
    checked = ["key:%d" % i for i in range(0, 3000, 3)]
    old = c.mget(checked)
    p = c.pipeline(transaction=False)
    for i in range(0, KEYS, 3):
        p.append("key:%d" % i, "+")
        if i % 7 == 0:
            p.delete("key:%d" % (i + 1))
    p.execute()
    assert wait_for(lambda: defrag_stats(c)[0] > hits0, timeout=20)
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)
    c.config_set("activedefrag", "no")
    assert c.mget(checked) == [(v or b"") + b"+" for v in old]
    assert c.get("short:5") == b"v5"
    assert c.ttl("ttl:5") > 0


def test_defrag_config_and_info_fields(r):
    """The knobs and figures exist with Redis's defaults, whatever the allocator."""
    cfg = r.config_get("active*")
    assert cfg["activedefrag"] == "no"
    assert cfg["active-defrag-ignore-bytes"] == "104857600"
    assert cfg["active-defrag-threshold-lower"] == "10"
    assert cfg["active-defrag-threshold-upper"] == "100"
    assert cfg["active-defrag-cycle-min"] == "1"
    assert cfg["active-defrag-cycle-max"] == "25"
    stats = r.info("stats")
    for field in ("active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
                  "active_defrag_key_misses"):
        assert field in stats
    mem = r.info("memory")
    assert mem["active_defrag_running"] == 0
    for field in ("allocator_frag_ratio", "mem_fragmentation_ratio"):
        assert field in mem


@requires_jemalloc
def test_defrag_walks_every_database(start_server):
    """Keys in other databases are moved too and keep their values: the
    batches of a pass cross database boundaries."""
    c = defrag_server(start_server)
    fragment(c, seed=3)
    other = client_on_db(c, 9)
    p = other.pipeline(transaction=False)
    for i in range(20000):
        p.set("db9:%d" % i, "w" * (i % 100))
    p.execute()
    other.execute_command("DEBUG", "POPULATE", 50000, "spare", 64)
    victims = ["spare:%d" % i for i in range(0, 50000, 5) if i % 2]
    for start in range(0, len(victims), 1000):
        other.delete(*victims[start:start + 1000])
    before = (checksum(c), checksum(other))
    enable_defrag(c)
    hits0 = defrag_stats(c)[0]
    assert wait_for(lambda: defrag_stats(c)[0] > hits0, timeout=20)
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)
    c.config_set("activedefrag", "no")
    assert (checksum(c), checksum(other)) == before


def client_on_db(c, db):
    kw = c.connection_pool.connection_kwargs
    return redis.Redis(host=kw.get("host", "127.0.0.1"), port=kw["port"], db=db)


@requires_jemalloc
def test_defrag_toggled_and_flushed_mid_pass(start_server):
    """Turning activedefrag off and on during a pass, and FLUSHALL under a
    pass, leave the server consistent and able to start new passes."""
    c = defrag_server(start_server)
    c.config_set("active-defrag-cycle-min", "5")
    c.config_set("active-defrag-cycle-max", "5")
    fragment(c, seed=5)
    before = checksum(c)
    enable_defrag(c)
    for _ in range(5):
        c.config_set("activedefrag", "no")
        c.config_set("activedefrag", "yes")
    assert c.ping()
    c.config_set("active-defrag-cycle-min", "50")
    c.config_set("active-defrag-cycle-max", "75")
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)
    assert checksum(c) == before
    # A new fragmented keyspace, then FLUSHALL while the pass runs over it.
    c.flushall()
    fragment(c, seed=6)
    c.flushall()
    assert c.dbsize() == 0
    c.set("after", "flush")
    assert c.get("after") == b"flush"
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)


STREAMS = 1000


def stream_state(c, names):
    """Entries, groups and pending entries (without idle times) of streams."""
    p = c.pipeline(transaction=False)
    for k in names:
        p.xrange(k)
        p.execute_command("XINFO", "GROUPS", k)
        p.xpending_range(k, "g1", "-", "+", 1000)
    replies = p.execute()
    out = []
    for i, k in enumerate(names):
        entries, groups, pending = replies[3 * i:3 * i + 3]
        pending = [(pe["message_id"], pe["consumer"], pe["times_delivered"]) for pe in pending]
        out.append((k, entries, groups, pending))
    return out


@requires_jemalloc
def test_defrag_moves_stream_nodes_and_groups(start_server):
    """Streams of many nodes (stream-node-max-entries 10), with consumer
    groups and pending entries, 80% of them deleted: the defragger moves
    their inner blocks (more blocks move than there are keys, which
    entry and single-block value moves alone cannot do) and every
    stream, group and PEL reads back the same and keeps working."""
    c = defrag_server(start_server)
    c.config_set("stream-node-max-entries", "10")
    p = c.pipeline(transaction=False)
    for s in range(STREAMS):
        k = "st:%d" % s
        for i in range(200):
            p.xadd(k, {"field": "value-%d-%d" % (s, i), "n": i}, id="%d-1" % (i + 1))
        p.xgroup_create(k, "g1", id="0")
        p.xgroup_create(k, "g2", id="$")
        p.xreadgroup("g1", "alice", {k: ">"}, count=30)
        p.xreadgroup("g1", "bob", {k: ">"}, count=20)
        if s % 50 == 0:
            p.execute()
    p.execute()
    rng = random.Random(13)
    victims = ["st:%d" % s for s in range(STREAMS) if rng.random() < 0.8]
    for start in range(0, len(victims), 200):
        c.delete(*victims[start:start + 200])
    kept = sorted(k.decode() for k in c.scan_iter("st:*", count=1000))
    assert len(kept) == c.dbsize() and 100 < len(kept) < STREAMS
    before = stream_state(c, kept)
    digest = c.execute_command("DEBUG", "DIGEST")
    hits0 = defrag_stats(c)[0]
    enable_defrag(c)
    assert wait_for(lambda: defrag_stats(c)[0] > hits0, timeout=20)
    assert wait_for(lambda: c.info("memory")["active_defrag_running"] == 0, timeout=30)
    c.config_set("activedefrag", "no")
    assert defrag_stats(c)[0] - hits0 > len(kept)
    assert stream_state(c, kept) == before
    assert c.execute_command("DEBUG", "DIGEST") == digest
    # Moved nodes, groups, consumers and nacks keep working.
    k = kept[0]
    assert c.xadd(k, {"field": "new"}) is not None
    assert c.xlen(k) == 201
    assert c.xack(k, "g1", "1-1", "31-1") == 2
    claimed = c.xclaim(k, "g1", "carol", 0, ["2-1", "32-1"], justid=True)
    assert sorted(claimed) == [b"2-1", b"32-1"]
    assert c.xpending(k, "g1")["pending"] == 48
    assert c.xgroup_delconsumer(k, "g1", "alice") == 28
    assert c.xreadgroup("g2", "dave", {k: ">"})[0][1][0][1] == {b"field": b"new"}
    assert c.xtrim(k, maxlen=5, approximate=False) == 196
    assert c.delete(*kept) == len(kept)
