"""Streams: XADD to XAUTOCLAIM, consumer groups, blocking reads.

Checked against Redis 7.0 too: KEEL_SERVER=/usr/bin/redis-server."""

import threading
import time

import pytest
import redis

from keel_helpers import Null


@pytest.fixture
def r(r, server):
    """The shared fixture's server, with replies decoded; flushed after the
    test (under ASan, values left behind are reported as leaks)."""
    c = server.client(decode_responses=True, socket_timeout=30)
    yield c
    c.flushall()
    c.connection_pool.disconnect()


def error_of(fn, *args):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


def ids(entries):
    return [e[0] for e in entries]


# ---- XADD ----

def test_xadd_explicit_and_auto_ids(r):
    assert r.xadd("s", {"a": 1}, id="1-1") == "1-1"
    assert r.xadd("s", {"a": 2}, id="1-*") == "1-2"
    assert r.xadd("s", {"a": 3}, id="2-*") == "2-0"
    auto = r.xadd("s", {"a": 4})
    ms, seq = auto.split("-")
    assert int(ms) >= int(time.time() * 1000) - 60000 and seq == "0"
    assert r.xlen("s") == 4
    assert r.execute_command("XADD", "z", "0-*", "f", "v") == "0-1"


def test_xadd_errors(r):
    r.xadd("s", {"a": 1}, id="5-5")
    assert error_of(r.xadd, "s", {"a": 1}, "5-5") == \
        "The ID specified in XADD is equal or smaller than the target stream top item"
    assert error_of(r.xadd, "s", {"a": 1}, "4-*") == \
        "The ID specified in XADD is equal or smaller than the target stream top item"
    assert error_of(r.xadd, "t", {"a": 1}, "0-0") == "The ID specified in XADD must be greater than 0-0"
    assert error_of(r.xadd, "t", {"a": 1}, "abc") == "Invalid stream ID specified as stream command argument"
    assert "wrong number of arguments" in error_of(r.execute_command, "XADD", "s", "*", "f")
    r.xadd("m", {"a": 1}, id="18446744073709551615-18446744073709551615")
    assert error_of(r.xadd, "m", {"a": 1}) == \
        "The stream has exhausted the last possible ID, unable to add more items"
    r.set("str", "x")
    assert error_of(r.xadd, "str", {"a": 1}).startswith("WRONGTYPE")


def test_xadd_nomkstream_and_trimming(r):
    assert r.execute_command("XADD", "none", "NOMKSTREAM", "*", "a", "1") is None
    assert r.exists("none") == 0
    for i in range(1, 11):
        r.xadd("s", {"i": i}, id="%d-0" % i, maxlen=5, approximate=False)
    assert r.xlen("s") == 5
    assert ids(r.xrange("s")) == ["6-0", "7-0", "8-0", "9-0", "10-0"]
    r.execute_command("XADD", "s", "MINID", "=", "9", "11-0", "i", "11")
    assert ids(r.xrange("s")) == ["9-0", "10-0", "11-0"]
    assert error_of(r.execute_command, "XADD", "s", "MAXLEN", "-1", "*", "a", "1") == \
        "The MAXLEN argument must be >= 0."
    assert error_of(r.execute_command, "XADD", "s", "MAXLEN", "1", "LIMIT", "10", "*", "a", "1") == \
        "syntax error, LIMIT cannot be used without the special ~ option"
    assert error_of(r.execute_command, "XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "1") == \
        "syntax error, MAXLEN and MINID options at the same time are not compatible"


def test_approximate_trim_removes_whole_nodes_only(r):
    r.config_set("stream-node-max-entries", 10)
    try:
        for i in range(1, 101):
            r.xadd("s", {"i": i}, id="%d-0" % i)
        assert r.xtrim("s", maxlen=55, approximate=True) == 40
        assert r.xlen("s") == 60
        assert r.xtrim("s", maxlen=55, approximate=False) == 5
        assert r.xlen("s") == 55
        assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "20") == 15
        assert r.xlen("s") == 40
    finally:
        r.config_set("stream-node-max-entries", 100)


# ---- XRANGE, XREVRANGE, XLEN, XDEL ----

def test_xrange_and_xrevrange(r):
    for i in range(1, 6):
        r.xadd("s", {"f": "v%d" % i, "n": i}, id="%d-1" % i)
    assert r.xrange("s", "2", "3") == [("2-1", {"f": "v2", "n": "2"}), ("3-1", {"f": "v3", "n": "3"})]
    assert ids(r.xrange("s", "(2-1", "+")) == ["3-1", "4-1", "5-1"]
    assert ids(r.xrange("s", "-", "(4-1")) == ["1-1", "2-1", "3-1"]
    assert ids(r.xrevrange("s", "+", "-", count=2)) == ["5-1", "4-1"]
    assert ids(r.xrevrange("s", "(5-1", "(1-1")) == ["4-1", "3-1", "2-1"]
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert r.xrange("missing") == []
    assert error_of(r.xrange, "s", "(-", "+") == "Invalid stream ID specified as stream command argument"
    assert error_of(r.xrange, "s", "(18446744073709551615-18446744073709551615", "+") == \
        "invalid start ID for the interval"
    assert error_of(r.xrange, "s", "x", "+") == "Invalid stream ID specified as stream command argument"


def test_entries_with_different_fields_and_integers(r):
    r.xadd("s", {"a": "1", "b": "text"}, id="1-0")
    r.xadd("s", {"c": "-5"}, id="2-0")
    r.xadd("s", {"a": "123456789012", "b": ""}, id="3-0")
    assert r.xrange("s") == [("1-0", {"a": "1", "b": "text"}), ("2-0", {"c": "-5"}),
                             ("3-0", {"a": "123456789012", "b": ""})]


def test_xdel_and_first_entry(r):
    for i in range(1, 5):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    assert r.xdel("s", "1-0", "3-0", "9-0") == 2
    assert ids(r.xrange("s")) == ["2-0", "4-0"]
    assert ids(r.xrevrange("s")) == ["4-0", "2-0"]
    info = r.xinfo_stream("s")
    assert info["length"] == 2 and info["first-entry"][0] == "2-0"
    assert info["max-deleted-entry-id"] == "3-0"
    assert r.xdel("s", "2-0", "4-0") == 2
    assert r.xlen("s") == 0 and r.exists("s") == 1
    assert r.xadd("s", {"i": 5}, id="4-1") == "4-1"


def test_many_entries_across_nodes(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1, 1001):
        pipe.xadd("s", {"i": i, "same": "x"}, id="%d-%d" % (i // 3, i))
    pipe.execute()
    every = r.xrange("s")
    assert len(every) == 1000 and every[-1][1]["i"] == "1000"
    assert r.xrevrange("s") == every[::-1]
    assert r.xinfo_stream("s")["radix-tree-keys"] >= 10
    # Delete every other entry, then read back.
    pipe = r.pipeline(transaction=False)
    for e in every[::2]:
        pipe.xdel("s", e[0])
    pipe.execute()
    assert r.xrange("s") == every[1::2]
    assert r.xrevrange("s", count=3) == every[1::2][::-1][:3]


# ---- XREAD ----

def test_xread_nonblocking(r):
    r.xadd("a", {"x": 1}, id="1-0")
    r.xadd("a", {"x": 2}, id="2-0")
    r.xadd("b", {"y": 1}, id="1-0")
    assert r.xread({"a": "1-0", "b": "0"}) == [["a", [("2-0", {"x": "2"})]], ["b", [("1-0", {"y": "1"})]]]
    assert r.xread({"a": "2-0", "c": "0"}) == []
    assert r.xread({"a": "0"}, count=1) == [["a", [("1-0", {"x": "1"})]]]
    assert "Unbalanced" in error_of(r.execute_command, "XREAD", "STREAMS", "a", "b", "0")
    assert error_of(r.execute_command, "XREAD", "STREAMS", "a", ">") == \
        "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."


def test_xread_blocks_until_xadd(r, server):
    other = server.client(decode_responses=True)
    result = {}

    def reader():
        result["v"] = other.xread({"s": "$"}, block=10000)

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.time() + 5
    while time.time() < deadline and r.info("clients")["blocked_clients"] == 0:
        time.sleep(0.01)
    r.xadd("s", {"k": "v"}, id="7-0")
    t.join(10)
    assert result["v"] == [["s", [("7-0", {"k": "v"})]]]


def test_xread_block_timeout_returns_nil(r, raw):
    r.xadd("s", {"k": "v"}, id="1-0")
    c = raw()
    assert c.cmd("XREAD", "BLOCK", "50", "STREAMS", "s", "$") is None
    assert c.cmd("HELLO", "3")[b"proto"] == 3
    assert c.cmd("XREAD", "BLOCK", "50", "STREAMS", "s", "$") == Null()
    assert c.cmd("XREAD", "STREAMS", "s", "0") == {b"s": [[b"1-0", [b"k", b"v"]]]}


def test_xread_in_multi_does_not_block(r, raw):
    c = raw()
    assert c.cmd("MULTI") == b"OK"
    assert c.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == b"QUEUED"
    assert c.cmd("EXEC") == [None]


# ---- consumer groups ----

def test_group_create_and_errors(r):
    assert "requires the key to exist" in error_of(r.xgroup_create, "s", "g", "$")
    assert r.xgroup_create("s", "g", "$", mkstream=True) is True
    assert error_of(r.xgroup_create, "s", "g", "$") == "BUSYGROUP Consumer Group name already exists"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("XREADGROUP", "GROUP", "nope", "c", "STREAMS", "s", ">")
    assert str(e.value) == "NOGROUP No such key 's' or consumer group 'nope' in XREADGROUP with GROUP option"
    assert "meaningless" in error_of(r.execute_command, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$")
    assert r.xgroup_createconsumer("s", "g", "alice") == 1
    assert r.xgroup_createconsumer("s", "g", "alice") == 0
    assert r.xgroup_delconsumer("s", "g", "alice") == 0
    assert r.xgroup_destroy("s", "g") == 1
    assert r.xgroup_destroy("s", "g") == 0


def test_readgroup_pending_ack(r):
    for i in range(1, 4):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    r.xgroup_create("s", "g", "0")
    got = r.xreadgroup("g", "alice", {"s": ">"}, count=2)
    assert got == [["s", [("1-0", {"i": "1"}), ("2-0", {"i": "2"})]]]
    assert r.xreadgroup("g", "bob", {"s": ">"}) == [["s", [("3-0", {"i": "3"})]]]
    assert r.xreadgroup("g", "bob", {"s": ">"}) == []
    summary = r.xpending("s", "g")
    assert summary["pending"] == 3 and summary["min"] == "1-0" and summary["max"] == "3-0"
    assert sorted((c["name"], c["pending"]) for c in summary["consumers"]) == [("alice", 2), ("bob", 1)]
    detail = r.xpending_range("s", "g", "-", "+", 10, consumername="alice")
    assert [(d["message_id"], d["times_delivered"]) for d in detail] == [("1-0", 1), ("2-0", 1)]
    # History: alice's pending entries, delivery counts grow.
    assert r.xreadgroup("g", "alice", {"s": "0"}) == [["s", [("1-0", {"i": "1"}), ("2-0", {"i": "2"})]]]
    assert r.xpending_range("s", "g", "-", "+", 1)[0]["times_delivered"] == 2
    assert r.xack("s", "g", "1-0", "9-0") == 1
    r.xdel("s", "2-0")
    assert r.xreadgroup("g", "alice", {"s": "0"}) == [["s", [("2-0", {})]]]  # [id, nil] on the wire
    assert r.xpending("s", "g")["pending"] == 2
    groups = r.xinfo_groups("s")
    assert groups[0]["name"] == "g" and groups[0]["pending"] == 2 and groups[0]["consumers"] == 2
    assert groups[0]["last-delivered-id"] == "3-0"
    assert r.xgroup_delconsumer("s", "g", "alice") == 1
    assert r.xpending("s", "g")["pending"] == 1


def test_noack_and_setid(r):
    r.xadd("s", {"i": 1}, id="1-0")
    r.xadd("s", {"i": 2}, id="2-0")
    r.xgroup_create("s", "g", "0")
    assert len(r.xreadgroup("g", "c", {"s": ">"}, noack=True)[0][1]) == 2
    assert r.xpending("s", "g")["pending"] == 0
    assert r.xgroup_setid("s", "g", "1-0") is True
    assert r.xreadgroup("g", "c", {"s": ">"}) == [["s", [("2-0", {"i": "2"})]]]


def test_xclaim_and_xautoclaim(r, raw):
    for i in range(1, 5):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "alice", {"s": ">"})
    assert r.xclaim("s", "g", "bob", 3600000, ["1-0"]) == []
    claimed = r.xclaim("s", "g", "bob", 0, ["1-0", "2-0"])
    assert [c[0] for c in claimed] == ["1-0", "2-0"]
    assert r.xclaim("s", "g", "carol", 0, ["3-0"], justid=True) == ["3-0"]
    detail = {d["message_id"]: d for d in r.xpending_range("s", "g", "-", "+", 10)}
    assert detail["1-0"]["consumer"] == "bob" and detail["1-0"]["times_delivered"] == 2
    assert detail["3-0"]["consumer"] == "carol" and detail["3-0"]["times_delivered"] == 1
    r.xdel("s", "4-0")
    nxt, got, deleted = r.execute_command("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2")
    assert nxt == "3-0" and [g[0] for g in got] == ["1-0", "2-0"] and deleted == []
    assert raw().cmd("XAUTOCLAIM", "s", "g", "dave", "0", nxt, "JUSTID") == [b"0-0", [b"3-0"], [b"4-0"]]
    assert r.xpending("s", "g")["pending"] == 3
    assert "COUNT must be > 0" in error_of(r.execute_command, "XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT", "0")
    # FORCE creates a pending entry for an entry nobody read.
    r.xadd("s", {"i": 5}, id="5-0")
    assert r.xclaim("s", "g", "erin", 0, ["5-0"], force=True, justid=True) == ["5-0"]
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("s", "g")}
    assert consumers == {"alice": 0, "bob": 0, "carol": 0, "dave": 3, "erin": 1}


def test_xpending_idle_filter_and_errors(r):
    r.xadd("s", {"i": 1}, id="1-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.xpending_range("s", "g", "-", "+", 10, idle=3600000) == []
    assert len(r.xpending_range("s", "g", "-", "+", 10, idle=0)) == 1
    with pytest.raises(redis.ResponseError) as e:
        r.xpending("s", "nope")
    assert str(e.value) == "NOGROUP No such key 's' or consumer group 'nope'"


def test_blocking_readgroup_woken_by_xadd(r, server):
    r.xgroup_create("s", "g", "$", mkstream=True)
    other = server.client(decode_responses=True)
    result = {}

    def reader():
        result["v"] = other.xreadgroup("g", "w", {"s": ">"}, block=10000, count=10)

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.time() + 5
    while time.time() < deadline and r.info("clients")["blocked_clients"] == 0:
        time.sleep(0.01)
    r.xadd("s", {"job": "1"}, id="1-0")
    t.join(10)
    assert result["v"] == [["s", [("1-0", {"job": "1"})]]]
    assert r.xpending("s", "g")["pending"] == 1


def test_xinfo_stream_full_and_lag(r):
    for i in range(1, 4):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)
    info = r.xinfo_stream("s")
    assert info["entries-added"] == 3 and info["groups"] == 1
    assert info["last-generated-id"] == "3-0" and info["recorded-first-entry-id"] == "1-0"
    group = r.xinfo_groups("s")[0]
    assert group["entries-read"] == 1 and group["lag"] == 2
    full = r.execute_command("XINFO", "STREAM", "s", "FULL")
    full = dict(zip(full[::2], full[1::2]))
    assert full["length"] == 3 and len(full["entries"]) == 3 and len(full["groups"]) == 1
    assert "no such key" in error_of(r.xinfo_stream, "missing")


def test_xsetid(r):
    r.xadd("s", {"i": 1}, id="5-0")
    assert error_of(r.execute_command, "XSETID", "s", "4-0") == \
        "The ID specified in XSETID is smaller than the target stream top item"
    assert r.execute_command("XSETID", "s", "10-0", "ENTRIESADDED", "7", "MAXDELETEDID", "3-0") == "OK"
    info = r.xinfo_stream("s")
    assert info["last-generated-id"] == "10-0" and info["entries-added"] == 7
    assert error_of(r.xadd, "s", {"i": 1}, "9-0") == \
        "The ID specified in XADD is equal or smaller than the target stream top item"


def test_type_encoding_copy_and_memory(r):
    r.xadd("s", {"a": "1"}, id="1-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.type("s") == "stream"
    assert r.object("encoding", "s") == "stream"
    assert r.memory_usage("s") > 0
    assert r.copy("s", "t") is True
    assert r.xrange("t") == r.xrange("s")
    assert r.xpending("t", "g")["pending"] == 1
    r.xack("s", "g", "1-0")
    assert r.xpending("t", "g")["pending"] == 1  # the copy is independent


def test_getkeys_for_xread(raw):
    c = raw()
    assert c.cmd("COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0") == [b"a", b"b"]
    assert c.cmd("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">") == [b"k"]


def test_email_worker_pattern(r, server):
    """Seed 003's queue: producers XADD, workers in a group read, ack."""
    r.xgroup_create("tasks:emails", "email-workers", "0", mkstream=True)
    for n in range(25):
        r.xadd("tasks:emails", {"to": "user%d@example.com" % n, "subject": "hello"})
    done = []
    for worker in ("worker-1", "worker-2"):
        while True:
            got = r.xreadgroup("email-workers", worker, {"tasks:emails": ">"}, count=10, block=100)
            if not got:
                break
            for msg_id, fields in got[0][1]:
                done.append(fields["to"])
                r.xack("tasks:emails", "email-workers", msg_id)
    assert sorted(done) == sorted("user%d@example.com" % n for n in range(25))
    assert r.xpending("tasks:emails", "email-workers")["pending"] == 0
    r.xtrim("tasks:emails", maxlen=10, approximate=False)
    assert r.xlen("tasks:emails") == 10
