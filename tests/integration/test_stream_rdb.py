"""Streams in RDB files and DUMP payloads, exchanged with Debian's
redis-server 7.0 both ways: entries across nodes, deleted entries, the
counters XINFO shows, consumer groups with their pending entries and
consumers. Corrupt stream payloads are refused, never loaded half."""

import os
import shutil

import pytest
import redis

from keel_helpers import Server
from rdb_fixtures import payload

REDIS = "/usr/bin/redis-server"


def start(binary=None, *args):
    return Server(extra_args=args, binary=binary).start()


def populate(c):
    c.xadd("s:small", {"a": "1"}, id="1-1")
    p = c.pipeline(transaction=False)
    for i in range(1, 351):
        fields = {"sensor": "s%d" % (i % 7), "temp": i} if i % 50 else {"other": "x" * 40, "n": -i}
        p.xadd("s:big", fields, id="%d-%d" % (1000 + i // 3, i))
    p.execute()
    c.xdel("s:big", "1003-10", "1100-300")
    c.xgroup_create("s:big", "g1", "0")
    c.xgroup_create("s:big", "g2", "$")
    c.xreadgroup("g1", "alice", {"s:big": ">"}, count=5)
    c.xreadgroup("g1", "bob", {"s:big": ">"}, count=3)
    c.xack("s:big", "g1", "1000-2")
    c.xgroup_createconsumer("s:big", "g1", "carol")
    c.xadd("s:empty", {"a": "1"}, id="5-5")
    c.xdel("s:empty", "5-5")
    c.xgroup_create("s:empty", "lonely", "$")
    c.xadd("s:ttl", {"k": "v"}, id="7-0")
    c.expire("s:ttl", 5000)


def snapshot(c):
    out = {}
    for k in sorted(c.scan_iter(_type="stream")):
        info = c.xinfo_stream(k)
        groups = []
        for g in c.xinfo_groups(k):
            pending = [(p["message_id"], p["consumer"], p["times_delivered"])
                       for p in c.xpending_range(k, g["name"], "-", "+", 1000)]
            consumers = sorted((x["name"], x["pending"]) for x in c.xinfo_consumers(k, g["name"]))
            groups.append((g["name"], g["last-delivered-id"], g["entries-read"], g["lag"], pending, consumers))
        counters = tuple(info[f] for f in ("length", "last-generated-id", "max-deleted-entry-id",
                                          "entries-added", "recorded-first-entry-id"))
        out[k] = (c.xrange(k), counters, groups, c.ttl(k) > 0)
    return out


def transfer(writer, reader_binary):
    w = start(writer)
    reader = Server(binary=reader_binary)
    try:
        wc = w.client()
        populate(wc)
        want, digest = snapshot(wc), wc.execute_command("DEBUG", "DIGEST")
        assert wc.save()
        shutil.copy(os.path.join(w.dir, "dump.rdb"), os.path.join(reader.dir, "dump.rdb"))
    finally:
        assert w.stop() == []
    reader.start()
    try:
        rc = reader.client()
        assert snapshot(rc) == want
        assert rc.execute_command("DEBUG", "DIGEST") == digest
        # The loaded stream keeps working: groups deliver, IDs go on.
        assert rc.xreadgroup("g1", "dave", {"s:big": ">"}, count=1)[0][1][0][0] == b"1003-9"
        with pytest.raises(redis.ResponseError, match="equal or smaller"):
            rc.xadd("s:big", {"x": "1"}, id="1001-5")
    finally:
        assert reader.stop() == []


def test_redis_streams_load_in_keel():
    transfer(REDIS, None)


def test_keel_streams_load_in_redis():
    transfer(None, REDIS)


def test_keel_streams_load_in_keel():
    transfer(None, None)


def test_stream_dump_restore_both_ways():
    rs, ks = start(REDIS), start(None)
    try:
        rc, kc = rs.client(), ks.client()
        populate(rc)
        populate(kc)
        for src, dst in ((rc, kc), (kc, rc)):
            for k in (b"s:small", b"s:big", b"s:empty"):
                payload = src.dump(k)
                dst.delete(k)
                assert dst.restore(k, 0, payload)
            assert snapshot(dst) == snapshot(src)
    finally:
        assert rs.stop() == []
        assert ks.stop() == []


def test_corrupt_stream_payloads_are_refused(r):
    r.xadd("s", {"a": "1"}, id="1-1")
    r.xadd("s", {"a": "2"}, id="1-2")
    good = r.dump("s")
    assert good[0] == 19  # Redis 7.0's stream type
    body = bytearray(good[1:-10])
    # Flip bytes inside the node listpack, one at a time: every result is
    # either refused or a valid stream; the server never crashes.
    for i in range(len(body)):
        bad = bytearray(body)
        bad[i] ^= 0x5A
        try:
            r.restore("t%d" % i, 0, payload(19, bytes(bad)), replace=True)
        except redis.ResponseError as e:
            assert "Bad data format" in str(e) or "payload" in str(e)
    assert r.ping()


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_streams_survive_aof_restart_and_rewrite(start_server, preamble):
    """Through the AOF: the incremental file (XADD, XGROUP, XREADGROUP, XACK
    as sent or rewritten), then a rewrite's base, as commands (Redis's
    XADD / XSETID / XGROUP CREATE / XCLAIM form) or as an RDB preamble."""
    from aof_helpers import restart, wait_for
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = srv.client()
    populate(c)
    want = snapshot(c)
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert snapshot(c) == want
    assert c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert snapshot(c) == want
    c.connection_pool.disconnect()
