"""Things Redis's own TCL suite relies on beside what its units test: the
DEBUG knobs it turns, OBJECT REFCOUNT of shared integers, INCR in place,
SETBIT/BITFIELD's dirty counting. Each test names the TCL test that
exposed the gap (tests/redis-suite/run.sh runs them; docs/COMPATIBILITY.md).

Only Redis's observable behaviour is checked, so the file also passes
against Redis 7.0:

    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q \
        tests/integration/test_compat_suite_knobs.py
"""

import pytest
import redis

from keel_helpers import cmd, encode_command


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


# ---- unit/type/list: "plain node check compression" and the like ----

@pytest.mark.parametrize("size", ["1b", "5b", "100b", "1k", "0", "4000mb"])
def test_debug_quicklist_packed_threshold_accepts_sizes(r, size):
    try:
        assert r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", size) == b"OK"
    finally:
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")


@pytest.mark.parametrize("size", ["5gb", "-1", "lots"])
def test_debug_quicklist_packed_threshold_refuses_bad_sizes(r, size):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", size)
    assert str(e.value) == "argument must be a memory value bigger than 1 and smaller than 4gb"


def test_lists_of_big_elements_under_a_low_packed_threshold(r):
    # What the suite's plain-node tests exercise: every command on elements
    # above the threshold (Keel keeps them in listpack nodes).
    big = [c * 500 for c in "abcdefg"]
    try:
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b")
        for v in big[:4]:
            r.lpush("l", v)
        r.linsert("l", "after", big[3], big[4])
        r.lset("l", 0, big[5])
        assert r.lrange("l", 0, -1) == [x.encode() for x in [big[5], big[4], big[2], big[1], big[0]]]
        r.ltrim("l", 1, -1)
        assert r.lpos("l", big[1]) == 2
        assert r.lrem("l", 0, big[2]) == 1
        assert r.lmove("l", "m", "RIGHT", "LEFT") == big[0].encode()
        assert r.llen("l") == 2 and r.lindex("m", 0) == big[0].encode()
    finally:
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")


# ---- unit/type/list (7.2 suite), DEBUG LISTPACK / QUICKLIST ----

def test_debug_listpack_and_quicklist_check_the_encoding(r):
    r.rpush("small", "a", "b")
    r.hset("h", "f", "v")
    enc = r.object("encoding", "h")
    assert enc == b"listpack"
    assert r.execute_command("DEBUG", "LISTPACK", "h") == b"Listpack structure printed on stdout"
    with pytest.raises(redis.ResponseError, match="^Not a quicklist encoded object.$"):
        r.execute_command("DEBUG", "QUICKLIST", "h")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.execute_command("DEBUG", "LISTPACK", "missing")


def test_debug_quicklist_on_a_big_list(r):
    r.rpush("big", *["x" * 100] * 200)
    assert r.object("encoding", "big") == b"quicklist"
    assert r.execute_command("DEBUG", "QUICKLIST", "big") == b"Quicklist structure printed on stdout"
    assert r.execute_command("DEBUG", "QUICKLIST", "big", "1") == b"Quicklist structure printed on stdout"


# ---- the suite's other knobs ----

def test_debug_log_change_repl_id_replybuffer(r):
    assert r.execute_command("DEBUG", "LOG", "### Starting test x") == b"OK"
    assert r.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    assert r.execute_command("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100") == b"OK"
    assert r.execute_command("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never") == b"OK"
    assert r.execute_command("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset") == b"OK"
    assert r.execute_command("DEBUG", "REPLYBUFFER", "RESIZING", "0") == b"OK"
    assert r.execute_command("DEBUG", "REPLYBUFFER", "RESIZING", "1") == b"OK"
    with pytest.raises(redis.ResponseError):
        r.execute_command("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "soon")


def test_debug_log_writes_the_server_log(r, server):
    r.execute_command("DEBUG", "LOG", "marker-5e1f")
    assert "marker-5e1f" in server.log_text()


# ---- unit/type/incr: "INCR uses shared objects in the 0-9999 range" ----

def test_object_refcount_of_shared_integers(r):
    r.set("foo", -1)
    r.incr("foo")
    assert r.object("refcount", "foo") > 1
    r.set("foo", 9998)
    r.incr("foo")
    assert r.object("refcount", "foo") > 1
    r.incr("foo")
    assert r.object("refcount", "foo") == 1
    r.set("s", "abc")
    assert r.object("refcount", "s") == 1
    r.rpush("l", 1)
    assert r.object("refcount", "l") == 1


def test_no_shared_integers_under_an_lru_policy(r):
    old = r.config_get("maxmemory*")
    try:
        r.config_set("maxmemory", "1gb")
        r.config_set("maxmemory-policy", "volatile-ttl")
        r.set("foo", 5)
        assert r.object("refcount", "foo") > 1
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.set("bar", 5)
        assert r.object("refcount", "bar") == 1
    finally:
        r.config_set("maxmemory-policy", old["maxmemory-policy"])
        r.config_set("maxmemory", old["maxmemory"])


# ---- unit/type/incr: "INCR can modify objects in-place" ----

def value_address(r, key):
    return cmd(r, "DEBUG", "OBJECT", key).split()[1]


def test_incr_modifies_the_value_in_place(r):
    r.set("foo", 20000)
    r.incr("foo")
    assert r.object("refcount", "foo") == 1
    old = value_address(r, "foo")
    r.incr("foo")
    r.incrby("foo", 10)
    r.decr("foo")
    new = value_address(r, "foo")
    assert old.startswith(b"at:") and old == new
    assert r.get("foo") == b"20011"


def test_incr_in_place_keeps_ttl_and_watch(r):
    r.set("foo", 20000, ex=100)
    w = r.pipeline()
    w.watch("foo")
    r.incr("foo")
    w.multi()
    w.set("foo", 1)
    with pytest.raises(redis.WatchError):
        w.execute()
    assert r.get("foo") == b"20001"
    assert 0 < r.ttl("foo") <= 100


# ---- unit/bitops: "SETBIT/BITFIELD only increase dirty when the value changed" ----

def test_setbit_and_bitfield_count_only_changes(r):
    d = dirty(r)
    r.setbit("foo", 0, 0)                        # created: a change
    r.bitfield("foo2").set("i5", 0, 0).execute()
    assert dirty(r) == d + 2
    r.setbit("foo", 0, 0)                        # same bits: none
    r.bitfield("foo2").set("i5", 0, 0).execute()
    assert dirty(r) == d + 2
    r.setbit("foo", 0, 1)
    r.setbit("foo", 0, 1)
    r.bitfield("foo2").set("i5", 0, 1).execute()
    r.bitfield("foo2").set("i5", 0, 1).execute()
    assert dirty(r) == d + 4
    r.setbit("foo", 90, 0)                       # grown: a change
    assert dirty(r) == d + 5
    # Two writes that change their fields count two.
    r.bitfield("foo2").set("u4", 0, 1).set("u4", 4, 1).execute()
    assert dirty(r) == d + 7


def test_unchanged_setbit_does_not_break_watch(r):
    r.setbit("k", 3, 1)
    w = r.pipeline()
    w.watch("k")
    r.setbit("k", 3, 1)
    w.multi()
    w.set("other", 1)
    assert w.execute() == [True]


# ---- unit/shutdown, unit/client-eviction: DEBUG PAUSE-CRON ----

def test_debug_pause_cron_stops_active_expiry(r):
    import time
    from keel_helpers import wait_for
    try:
        assert r.execute_command("DEBUG", "PAUSE-CRON", "1") == b"OK"
        r.set("k", "v", px=20)
        time.sleep(0.3)                  # many cron periods, none runs
        assert r.dbsize() == 1           # expired, not collected
        assert r.execute_command("DEBUG", "PAUSE-CRON", "0") == b"OK"
        assert wait_for(lambda: r.dbsize() == 0, timeout=10)
    finally:
        r.execute_command("DEBUG", "PAUSE-CRON", "0")


# ---- unit/latency-monitor: "LATENCY HISTOGRAM with empty histogram" ----

def histograms(r):
    flat = r.execute_command("LATENCY", "HISTOGRAM")
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def test_config_resetstat_clears_latency_histograms(r):
    r.set("a", 1)
    r.get("a")
    assert b"set" in histograms(r)
    r.config_resetstat()
    got = histograms(r)
    assert list(got) == [b"config|resetstat"]      # only the reset itself
    assert r.execute_command("LATENCY", "HISTOGRAM", "set", "get") == []
    r.set("a", 2)
    got = histograms(r)
    assert got[b"set"][:2] == [b"calls", 1]


# ---- unit/introspection-2: "COMMAND GETKEYS MORE THAN 256 KEYS" ----

@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_command_getkeys_returns_every_key(raw, sub):
    keys = ["key%d" % i for i in range(1, 301)]
    got = raw().cmd("COMMAND", sub, "ZUNIONSTORE", "target", str(len(keys)), *keys)
    if sub == "GETKEYSANDFLAGS":
        got = [k[0] for k in got]
    assert got == [b"target"] + [k.encode() for k in keys]


# ---- unit/type/list: "Unblock fairness is kept while pipelining" ----

def wait_blocked(r, n):
    from keel_helpers import wait_for
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == n, timeout=10)


def test_blocked_client_served_before_the_next_pipelined_command(r, raw):
    from keel_helpers import encode_command
    first, second = raw(), raw()
    first.send(encode_command("BLPOP", "mylist", "0"))
    wait_blocked(r, 1)
    # One write: a push and a blocking pop. The waiting client must get
    # the element (Redis serves waiters after each command).
    second.send(encode_command("LPUSH", "mylist", "1") + encode_command("BLPOP", "mylist", "0"))
    assert first.read() == [b"mylist", b"1"]
    assert second.read() == 1
    wait_blocked(r, 1)                      # the pipelined BLPOP waits now
    r.lpush("mylist", "2")
    assert second.read() == [b"mylist", b"2"]
    wait_blocked(r, 0)


# ---- unit/type/list: "SWAPDB awakes blocked client" ----

def test_swapdb_wakes_a_client_waiting_on_a_key_it_brings(r, raw, server):
    waiter = raw()
    r.execute_command("SELECT", 1)
    r.rpush("k", "hello")
    r.execute_command("SELECT", 0)
    waiter.send(encode_command("BRPOP", "k", "5"))
    wait_blocked(r, 1)
    r.swapdb(1, 0)
    assert waiter.read() == [b"k", b"hello"]
    r.execute_command("SELECT", 1)
    assert r.dbsize() == 0
    r.execute_command("SELECT", 0)


# ---- unit/info: errorstats ----

def test_info_errorstats_counts_by_error_code(r):
    r.config_resetstat()
    assert r.info("errorstats") == {}
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    r.set("k", "v")
    with pytest.raises(redis.ResponseError):
        r.lpush("k", "x")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    stats = r.info("errorstats")
    assert stats == {"errorstat_ERR": "count=2", "errorstat_WRONGTYPE": "count=1"}
    assert r.info("stats")["total_error_replies"] == 3
    r.config_resetstat()
    assert r.info("errorstats") == {}


# ---- unit/info: latencystats ----

def info_text(r, *section):
    return cmd(r, "INFO", *section).decode()


def latency_line(r, name):
    text = info_text(r, "latencystats")
    for line in text.split("\r\n"):
        if line.startswith("latency_percentiles_usec_%s:" % name):
            return line.split(":", 1)[1]
    return None


def test_info_latencystats_percentiles(r):
    import re
    old = r.config_get("latency-tracking*")
    try:
        r.config_resetstat()
        r.config_set("latency-tracking", "no")
        r.set("a", "b")
        assert latency_line(r, "set") is None
        r.config_set("latency-tracking", "yes")
        r.set("a", "b")
        r.client_id()
        assert re.fullmatch(r"p50=[\d.]+,p99=[\d.]+,p99\.9=[\d.]+", latency_line(r, "set"))
        assert latency_line(r, "client|id") is not None
        r.config_set("latency-tracking-info-percentiles", "0.0 50.0 100.0")
        assert r.config_get("latency-tracking-info-percentiles") == {
            "latency-tracking-info-percentiles": "0 50 100"}
        assert re.fullmatch(r"p0=[\d.]+,p50=[\d.]+,p100=[\d.]+", latency_line(r, "set"))
        r.execute_command("DEBUG", "SLEEP", "0.05")
        p50 = float(latency_line(r, "debug").split(",")[1].split("=")[1])
        assert p50 >= 50000
        for bad in ("10.0 50.0 a", "10.0 50.0 101.0"):
            with pytest.raises(redis.ResponseError, match="CONFIG SET failed"):
                r.config_set("latency-tracking-info-percentiles", bad)
        assert r.config_get("latency-tracking-info-percentiles") == {
            "latency-tracking-info-percentiles": "0 50 100"}
        r.config_resetstat()
        assert latency_line(r, "set") is None
        assert "latencystats" not in info_text(r).lower()
    finally:
        r.config_set("latency-tracking", old["latency-tracking"])
        r.config_set("latency-tracking-info-percentiles", old["latency-tracking-info-percentiles"])


# ---- unit/hyperloglog: "HyperLogLog self test passes" ----

def test_pfselftest_passes(r):
    assert cmd(r, "PFSELFTEST") == b"OK"


# ---- unit/type/list (7.2 suite): dirty counts of moves ----

def test_lmove_counts_one_change(r):
    r.rpush("a", 1, 2, 3)
    d = dirty(r)
    r.lmove("a", "b", "LEFT", "LEFT")
    r.rpoplpush("a", "b")
    assert dirty(r) == d + 2


# ---- unit/type/list (7.2 suite): "BLPOP unblock but the key is expired ..." ----

def test_key_that_expired_during_exec_serves_nobody(r, raw):
    try:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        waiter = raw()
        waiter.send(encode_command("BLPOP", "mylist", "1"))
        wait_blocked(r, 1)
        p = r.pipeline(transaction=True)
        p.rpush("mylist", "a")
        p.pexpire("mylist", 100)
        p.execute_command("DEBUG", "SLEEP", "0.2")
        p.execute()
        assert waiter.read() is None         # the timeout's null, not the element
        assert r.exists("mylist") == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# ---- unit/type/list (7.2 suite): "List listpack -> quicklist encoding conversion" ----

@pytest.mark.keel_only  # Redis 7.2's list encodings (7.0 reports quicklist always)
def test_lset_converts_a_full_listpack_as_redis_72(r):
    old = r.config_get("list-max-listpack-size")["list-max-listpack-size"]
    try:
        r.config_set("list-max-listpack-size", 3)
        r.rpush("full", "a", "b", "c")
        assert r.object("encoding", "full") == b"listpack"
        r.lset("full", 0, "x")
        assert r.object("encoding", "full") == b"quicklist"
        r.rpush("room", "a", "b")
        r.lset("room", 0, "x")
        assert r.object("encoding", "room") == b"listpack"
        assert r.lrange("full", 0, -1) == [b"x", b"b", b"c"]
    finally:
        r.config_set("list-max-listpack-size", old)


# ---- unit/info: "errorstats: rejected call due to wrong arity" and the like ----

def cmdstat(r, name):
    return r.info("commandstats").get("cmdstat_" + name, {})


def test_rejected_calls_are_not_failed_calls(r):
    r.config_resetstat()
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")                      # arity: rejected
    r.set("k", "v")
    with pytest.raises(redis.ResponseError):
        r.lpush("k", "x")                             # WRONGTYPE: failed
    get, lpush = cmdstat(r, "get"), cmdstat(r, "lpush")
    assert (get["calls"], get["rejected_calls"], get["failed_calls"]) == (0, 1, 0)
    assert (lpush["calls"], lpush["rejected_calls"], lpush["failed_calls"]) == (1, 0, 1)
    assert r.info("errorstats") == {"errorstat_ERR": "count=1", "errorstat_WRONGTYPE": "count=1"}


# ---- unit/scan (7.2 suite): "SCAN with expired keys" ----

def test_scan_deletes_the_expired_keys_it_walks(r):
    import time
    try:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        for i in range(20):
            r.set("k%d" % i, i)
        r.set("gone1", 1, px=1)
        r.set("gone2", 1, px=1)
        time.sleep(0.05)
        assert r.dbsize() == 22                     # expired, still stored
        keys, cursor = [], 0
        while True:
            cursor, batch = r.scan(cursor)
            keys += batch
            if cursor == 0:
                break
        assert sorted(keys) == sorted(b"k%d" % i for i in range(20))
        assert r.dbsize() == 20
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# ---- unit/obuf-limits: "Obuf limit, HRANDFIELD with huge count stopped mid-run" ----

@pytest.mark.parametrize("setup,command", [
    (("HSET", "h", "a", "b"), ("HRANDFIELD", "h", "-999999999")),
    (("SADD", "s", "a"), ("SRANDMEMBER", "s", "-999999999")),
    (("ZADD", "z", "1", "a"), ("ZRANDMEMBER", "z", "-999999999")),
])
def test_huge_random_reply_stops_when_the_output_limit_closes_the_client(r, raw, setup, command):
    import socket
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    try:
        r.config_set("client-output-buffer-limit", "normal 1000000 0 0")
        r.execute_command(*setup)
        conn = raw(timeout=60)
        conn.send(encode_command(*command))
        conn.sock.settimeout(60)      # a run to the end would take minutes
        while True:
            try:
                data = conn.sock.recv(1 << 16)
            except (ConnectionResetError, socket.timeout) as e:
                assert not isinstance(e, socket.timeout), "the command ran on"
                break
            if not data:
                break
        assert r.ping()
    finally:
        r.config_set("client-output-buffer-limit", old)
