"""Keyspace notifications (notify-keyspace-events): the configuration (every
flag, canonical CONFIG GET order, errors), the two channels, and the events
of every command family, of expiry (lazy and active) and of eviction, with
the event names Redis uses.

Runs against redis-server too (KEEL_SERVER=/usr/bin/redis-server); what is
Keel's own is marked keel_only.  Waits poll, nothing is timed.
"""

import time

import pytest
import redis

from keel_helpers import RawConn, encode_command

SENTINEL = b"zz-sentinel"


def wait_for(cond, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


@pytest.fixture
def events(r, raw):
    """Subscribe to every keyspace channel; return a function that runs
    nothing itself but collects (key, event) pairs up to a sentinel."""
    r.config_set("notify-keyspace-events", "KA")
    c = raw()
    assert c.cmd("PSUBSCRIBE", "__keyspace@*__:*") == [b"psubscribe", b"__keyspace@*__:*", 1]

    def collect():
        r.publish(b"__keyspace@0__:" + SENTINEL, "end")
        got = []
        while True:
            kind, pattern, channel, msg = c.read()
            key = channel.split(b"__:", 1)[1]
            if key == SENTINEL:
                return got
            got.append((key.decode(), msg.decode()))

    yield collect
    r.config_set("notify-keyspace-events", "")


# ---- configuration -------------------------------------------------------------

@pytest.mark.parametrize("given,canonical", [
    ("", ""),
    ("KEA", "AKE"),
    ("Ex", "xE"),
    ("E$lshz", "$lshzE"),
    ("gKE", "gKE"),
    ("Kt", "tK"),
    ("Km", "Km"),
    ("Ked", "edK"),
    ("AE", "AE"),
    ("zhslg$xe", "g$lshzxe"),
])
def test_config_canonical_order(r, given, canonical):
    r.config_set("notify-keyspace-events", given)
    assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == canonical
    r.config_set("notify-keyspace-events", "")


@pytest.mark.keel_only
def test_config_keeps_n_with_a(r):
    # Redis prints "A" and drops the 'n' class after it (so CONFIG REWRITE
    # loses it); Keel prints it.
    r.config_set("notify-keyspace-events", "KAn")
    assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == "AnK"
    r.config_set("notify-keyspace-events", "")


def test_config_rejects_unknown_class(r):
    with pytest.raises(redis.ResponseError, match="Invalid event class character. Use 'Ag\\$lshzxeKEtmdn'."):
        r.config_set("notify-keyspace-events", "KQ")


def test_nothing_without_k_or_e(r, raw):
    r.config_set("notify-keyspace-events", "A")
    c = raw()
    c.cmd("PSUBSCRIBE", "__key*")
    r.set("quiet", 1)
    assert c.read_raw_available(0.1) == b""
    r.config_set("notify-keyspace-events", "")


def test_keyspace_and_keyevent_channels(r, raw):
    r.config_set("notify-keyspace-events", "KE$")
    c = raw()
    c.cmd("PSUBSCRIBE", "__key*")
    r.execute_command("SELECT", 5)
    r.set("foo", "bar")
    r.execute_command("SELECT", 0)
    assert c.read() == [b"pmessage", b"__key*", b"__keyspace@5__:foo", b"set"]
    assert c.read() == [b"pmessage", b"__key*", b"__keyevent@5__:set", b"foo"]
    r.config_set("notify-keyspace-events", "")


def test_class_filter(r, events):
    r.config_set("notify-keyspace-events", "Kl")
    r.set("s", 1)
    r.lpush("l", 1)
    assert events() == [("l", "lpush")]


# ---- families ----------------------------------------------------------------------

def test_generic_events(r, events):
    r.set("a", 1)
    r.delete("a")
    r.set("b", 1)
    r.rename("b", "c")
    r.expire("c", 100)
    r.persist("c")
    r.copy("c", "d")
    r.move("d", 1)
    r.expire("c", -1)
    r.set("e", 1)
    r.unlink("e")
    assert events() == [
        ("a", "set"), ("a", "del"), ("b", "set"), ("b", "rename_from"), ("c", "rename_to"),
        ("c", "expire"), ("c", "persist"), ("d", "copy_to"), ("d", "move_from"), ("d", "move_to"),
        ("c", "del"), ("e", "set"), ("e", "del"),
    ]


def test_string_events(r, events):
    r.set("s", "1", ex=100)
    r.setnx("n", "1")
    r.setex("x", 100, "v")
    r.mset({"m1": 1, "m2": 2})
    r.append("s", "2")
    r.incr("s")
    r.incrbyfloat("s", 1.5)
    r.setrange("s", 0, "9")
    r.getset("s", "v")
    r.getdel("s")
    r.getex("x", persist=True)
    r.setbit("b", 1, 1)
    r.execute_command("BITFIELD", "b", "SET", "u8", 0, 255)
    r.bitop("OR", "dst", "b")
    assert events() == [
        ("s", "set"), ("s", "expire"), ("n", "set"), ("x", "set"), ("x", "expire"),
        ("m1", "set"), ("m2", "set"), ("s", "append"), ("s", "incrby"), ("s", "incrbyfloat"),
        ("s", "setrange"), ("s", "set"), ("s", "del"), ("x", "persist"), ("b", "setbit"),
        ("b", "setbit"), ("dst", "set"),
    ]


def test_list_events(r, events):
    r.rpush("l", "a", "b", "c")
    r.lpush("l", "z")
    r.linsert("l", "before", "a", "y")
    r.lset("l", 0, "q")
    r.lrem("l", 0, "y")
    r.ltrim("l", 0, 1)
    r.rpoplpush("l", "l2")
    r.lmove("l2", "l", "LEFT", "RIGHT")
    r.lpop("l", 5)
    assert events() == [
        ("l", "rpush"), ("l", "lpush"), ("l", "linsert"), ("l", "lset"), ("l", "lrem"), ("l", "ltrim"),
        ("l2", "lpush"), ("l", "rpop"), ("l", "rpush"), ("l2", "lpop"), ("l2", "del"),
        ("l", "lpop"), ("l", "del"),
    ]


def test_blocking_pop_event(r, events):
    r.rpush("bl", "x")
    r.blpop("bl", timeout=1)
    assert events() == [("bl", "rpush"), ("bl", "lpop"), ("bl", "del")]


def test_hash_events(r, events):
    r.hset("h", mapping={"a": 1, "b": 2})
    r.hsetnx("h", "c", 3)
    r.hincrby("h", "a", 1)
    r.hincrbyfloat("h", "a", 0.5)
    r.hdel("h", "a")
    r.hdel("h", "b", "c")
    assert events() == [
        ("h", "hset"), ("h", "hset"), ("h", "hincrby"), ("h", "hincrbyfloat"), ("h", "hdel"),
        ("h", "hdel"), ("h", "del"),
    ]


def test_set_events(r, events):
    r.sadd("s", "a", "b", "c")
    r.srem("s", "a")
    r.smove("s", "t", "b")
    r.spop("s")
    r.sadd("u", "x")
    r.sunionstore("dst", ["t", "u"])
    r.sinterstore("dst", ["t", "u"])
    assert events() == [
        ("s", "sadd"), ("s", "srem"), ("s", "srem"), ("t", "sadd"), ("s", "spop"), ("s", "del"),
        ("u", "sadd"), ("dst", "sunionstore"), ("dst", "del"),
    ]


def test_zset_events(r, events):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    r.zincrby("z", 1, "a")
    r.zrem("z", "a")
    r.zremrangebyscore("z", 2, 2)
    r.zremrangebyrank("z", 0, 0)
    r.zpopmin("z")
    r.zadd("y", {"m": 1})
    r.zunionstore("dst", ["y"])
    r.zrangestore("dst2", "y", 0, -1)
    assert events() == [
        ("z", "zadd"), ("z", "zincr"), ("z", "zrem"), ("z", "zremrangebyscore"), ("z", "zremrangebyrank"),
        ("z", "zpopmin"), ("z", "del"), ("y", "zadd"), ("dst", "zunionstore"), ("dst2", "zrangestore"),
    ]


def test_geo_hll_sort_events(r, events):
    r.geoadd("g", (13.361389, 38.115556, "Palermo"))
    r.geosearchstore("gs", "g", longitude=15, latitude=37, radius=200, unit="km")
    r.pfadd("hll", "a")
    r.pfmerge("hll2", "hll")
    r.rpush("src", 3, 1, 2)
    r.sort("src", store="sorted")
    assert events() == [
        ("g", "zadd"), ("gs", "geosearchstore"), ("hll", "pfadd"), ("hll2", "pfadd"), ("src", "rpush"),
        ("sorted", "sortstore"),
    ]


def test_stream_events(r, events):
    r.xadd("st", {"f": "v"}, id="1-0")
    r.xadd("st", {"f": "v"}, id="2-0", maxlen=1, approximate=False)
    r.xadd("st", {"f": "v"}, id="3-0")
    r.xdel("st", "3-0")
    r.xtrim("st", maxlen=0, approximate=False)
    r.execute_command("XSETID", "st", "5-0")
    assert events() == [
        ("st", "xadd"), ("st", "xadd"), ("st", "xtrim"), ("st", "xadd"), ("st", "xdel"), ("st", "xtrim"),
        ("st", "xsetid"),
    ]


def test_stream_group_events(r, events):
    """Redis 7.0's order of consumer-group events: a consumer made by
    XREADGROUP, XCLAIM or XAUTOCLAIM emits xgroup-createconsumer as
    XGROUP CREATECONSUMER does; reads and claims by a known consumer, and
    a DELCONSUMER or DESTROY of a missing one, emit nothing."""
    r.xgroup_create("gs", "g", id="$", mkstream=True)
    r.xgroup_createconsumer("gs", "g", "Bob")
    r.xgroup_createconsumer("gs", "g", "Bob")
    r.xadd("gs", {"f": "v"}, id="1-0")
    r.xreadgroup("g", "Alice", {"gs": ">"})
    r.xreadgroup("g", "Alice", {"gs": ">"})
    r.xreadgroup("g", "Carol", {"gs": ">"})  # nothing to read: no consumer made
    r.xreadgroup("g", "Dave", {"gs": "0"})  # a history read makes one
    r.xclaim("gs", "g", "Mike", 0, ["1-0"], force=True)
    r.xclaim("gs", "g", "Nick", 0, ["9-0"])  # nothing claimed: no consumer made
    r.xgroup_delconsumer("gs", "g", "Lee")
    r.xautoclaim("gs", "g", "Bob", 0, "0-0")
    r.xautoclaim("gs", "g", "Eve", 0, "0-0")
    r.xgroup_delconsumer("gs", "g", "Bob")
    r.xgroup_setid("gs", "g", "0-0")
    r.xgroup_destroy("gs", "g")
    r.xgroup_destroy("gs", "g")
    assert events() == [
        ("gs", "xgroup-create"), ("gs", "xgroup-createconsumer"), ("gs", "xadd"),
        ("gs", "xgroup-createconsumer"), ("gs", "xgroup-createconsumer"), ("gs", "xgroup-createconsumer"),
        ("gs", "xgroup-createconsumer"), ("gs", "xgroup-delconsumer"), ("gs", "xgroup-setid"),
        ("gs", "xgroup-destroy"),
    ]


def test_blocked_xreadgroup_makes_its_consumer_after_xadd(r, events, raw):
    r.xgroup_create("bs", "g", id="$", mkstream=True)
    b = raw()
    b.send(encode_command("XREADGROUP", "GROUP", "g", "Zed", "BLOCK", 0, "STREAMS", "bs", ">"))
    assert wait_for(lambda: r.info("clients")["blocked_clients"] >= 1)
    r.xadd("bs", {"f": "v"}, id="1-0")
    reply = b.read()
    assert reply[0][0] == b"bs"
    assert events() == [("bs", "xgroup-create"), ("bs", "xadd"), ("bs", "xgroup-createconsumer")]


def test_new_and_keymiss(r, raw):
    r.config_set("notify-keyspace-events", "Enm")
    c = raw()
    c.cmd("PSUBSCRIBE", "__keyevent@0__:*")
    r.set("fresh", 1)
    r.set("fresh", 2)
    r.get("missing")
    assert c.read() == [b"pmessage", b"__keyevent@0__:*", b"__keyevent@0__:new", b"fresh"]
    assert c.read() == [b"pmessage", b"__keyevent@0__:*", b"__keyevent@0__:keymiss", b"missing"]
    r.config_set("notify-keyspace-events", "")


# ---- expiry and eviction -----------------------------------------------------------------

def test_expired_lazy_and_active(r, raw):
    r.config_set("notify-keyspace-events", "Ex")
    c = raw()
    c.cmd("SUBSCRIBE", "__keyevent@0__:expired")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        r.set("lazy", 1, px=1)
        assert wait_for(lambda: r.pttl("lazy") in (-2,) or r.get("lazy") is None)
        r.get("lazy")
        assert c.read() == [b"message", b"__keyevent@0__:expired", b"lazy"]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    r.set("active", 1, px=1)
    assert c.read() == [b"message", b"__keyevent@0__:expired", b"active"]
    r.config_set("notify-keyspace-events", "")


def test_evicted(start_server):
    srv = start_server("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-random")
    r = srv.client()
    r.config_set("notify-keyspace-events", "Ee")
    c = RawConn(srv.host, srv.port)
    c.cmd("SUBSCRIBE", "__keyevent@0__:evicted")
    for i in range(3000):
        try:
            r.set("key:%d" % i, "x" * 1000)
        except redis.ResponseError:
            break
        if r.info("stats")["evicted_keys"]:
            break
    assert r.info("stats")["evicted_keys"] >= 1
    kind, channel, key = c.read()
    assert (kind, channel) == (b"message", b"__keyevent@0__:evicted") and key.startswith(b"key:")
    c.close()
