"""Keyspace commands, checked against Redis 7.0 behaviour."""

import random
import time

import pytest
import redis

from keel_helpers import NOT_INT, cmd, exactly, wait_for


def make_list_key(r, key):
    assert cmd(r, "LPUSH", key, "x") == 1


def client_on_db(server, db):
    return server.client(db=db)


# --------------------------------------------------------------------------
# DEL UNLINK EXISTS TYPE
# --------------------------------------------------------------------------

def test_del_unlink(r):
    r.mset({"a": 1, "b": 2, "c": 3, "d": 4})
    assert cmd(r, "DEL", "a", "a", "nokey") == 1
    assert cmd(r, "DEL", "a") == 0
    assert cmd(r, "UNLINK", "b", "c", "nokey", "b") == 2
    assert r.exists("b", "c") == 0
    assert cmd(r, "DEL", "d") == 1
    assert r.dbsize() == 0
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'del' command")):
        cmd(r, "DEL")


def test_exists_counts_duplicates(r):
    r.set("a", 1)
    assert cmd(r, "EXISTS", "a") == 1
    assert cmd(r, "EXISTS", "a", "a", "nokey", "a") == 3
    assert cmd(r, "EXISTS", "nokey") == 0


def test_type(r):
    r.set("s", "v")
    r.set("n", 1)
    assert cmd(r, "TYPE", "s") == b"string"
    assert cmd(r, "TYPE", "n") == b"string"
    assert cmd(r, "TYPE", "nokey") == b"none"
    make_list_key(r, "l")
    assert cmd(r, "TYPE", "l") == b"list"


# --------------------------------------------------------------------------
# RENAME RENAMENX
# --------------------------------------------------------------------------

def test_rename(r):
    with pytest.raises(redis.ResponseError, match=exactly("no such key")):
        cmd(r, "RENAME", "a", "b")
    with pytest.raises(redis.ResponseError, match=exactly("no such key")):
        cmd(r, "RENAMENX", "a", "b")
    r.set("a", 1, ex=100)
    r.set("b", 2)
    assert cmd(r, "RENAME", "a", "b") == b"OK"
    assert r.get("b") == b"1"
    assert r.exists("a") == 0
    assert r.ttl("b") == 100         # the TTL moves with the key
    assert cmd(r, "RENAME", "b", "b") == b"OK"
    assert r.get("b") == b"1"
    assert r.ttl("b") == 100


def test_rename_removes_destination_ttl(r):
    r.set("a", 1)
    r.set("b", 2, ex=100)
    cmd(r, "RENAME", "a", "b")
    assert r.ttl("b") == -1


def test_renamenx(r):
    r.set("a", 1)
    r.set("b", 2)
    assert cmd(r, "RENAMENX", "a", "b") == 0
    assert r.get("a") == b"1" and r.get("b") == b"2"
    assert cmd(r, "RENAMENX", "a", "a") == 0
    assert cmd(r, "RENAMENX", "a", "c") == 1
    assert r.exists("a") == 0
    assert r.get("c") == b"1"


# --------------------------------------------------------------------------
# KEYS with glob patterns
# --------------------------------------------------------------------------

GLOB_KEYS = [b"a", b"b", b"c", b"d", b"ab", b"abc", b"a*", b"a?", b"a[", b"a\\",
             b"h\\llo", b"hello", b"hallo", b"hbllo", b"!"]


@pytest.mark.parametrize("pattern,expected", [
    (b"*", GLOB_KEYS),
    (b"?", [b"a", b"b", b"c", b"d", b"!"]),
    (b"a?", [b"ab", b"a*", b"a?", b"a[", b"a\\"]),
    (b"a*", [b"a", b"ab", b"abc", b"a*", b"a?", b"a[", b"a\\"]),
    (b"[a-c]", [b"a", b"b", b"c"]),
    (b"[c-a]", [b"a", b"b", b"c"]),          # reversed ranges work
    (b"[^a]", [b"b", b"c", b"d", b"!"]),
    (b"[!a]", [b"a", b"!"]),                  # '!' is NOT negation in Redis
    (b"[abd]", [b"a", b"b", b"d"]),
    (b"a\\*", [b"a*"]),
    (b"a\\?", [b"a?"]),
    (b"a\\[", [b"a["]),
    (b"a[\\[]", [b"a["]),
    (b"h[ae]llo", [b"hallo", b"hello"]),
    (b"h[^e]llo", [b"h\\llo", b"hallo", b"hbllo"]),
    (b"h\\\\llo", [b"h\\llo"]),
    (b"h\\ello", [b"hello"]),                 # escaped ordinary char
    (b"h*l?o", [b"h\\llo", b"hello", b"hallo", b"hbllo"]),
    (b"*\\\\*", [b"a\\", b"h\\llo"]),
    (b"abc", [b"abc"]),
    (b"x*", []),
    (b"**c", [b"abc", b"c"]),
])
def test_keys_glob(r, pattern, expected):
    r.mset({k: 1 for k in GLOB_KEYS})
    assert sorted(r.keys(pattern)) == sorted(expected)


def test_keys_skips_expired(r):
    r.set("a", 1)
    r.set("b", 1, px=1)
    time.sleep(0.01)
    assert r.keys("*") == [b"a"]


# --------------------------------------------------------------------------
# SCAN
# --------------------------------------------------------------------------

def full_scan(r, *extra):
    cursor = b"0"
    seen = []
    iterations = 0
    while True:
        cursor, keys = cmd(r, "SCAN", cursor, *extra)
        seen.extend(keys)
        iterations += 1
        assert iterations < 100000
        if cursor == b"0":
            return seen, iterations


def test_scan_basic(r):
    r.mset({"key:%d" % i: i for i in range(1000)})
    keys, iterations = full_scan(r)
    assert set(keys) == {b"key:%d" % i for i in range(1000)}
    assert iterations > 1                # default COUNT is 10
    keys, _ = full_scan(r, "COUNT", 100)
    assert set(keys) == {b"key:%d" % i for i in range(1000)}


def test_scan_match(r):
    r.mset({"foo:%d" % i: i for i in range(200)})
    r.mset({"bar:%d" % i: i for i in range(200)})
    keys, _ = full_scan(r, "MATCH", "foo:1*", "COUNT", 50)
    assert set(keys) == {b"foo:%d" % i for i in range(200) if str(i).startswith("1")}


def test_scan_type(r):
    r.mset({"s:%d" % i: i for i in range(100)})
    keys, _ = full_scan(r, "TYPE", "string", "COUNT", 20)
    assert set(keys) == {b"s:%d" % i for i in range(100)}
    keys, _ = full_scan(r, "TYPE", "hash", "COUNT", 20)
    assert keys == []
    keys, _ = full_scan(r, "TYPE", "nosuchtype")
    assert keys == []


def test_scan_empty_db(r):
    assert cmd(r, "SCAN", 0) == [b"0", []]


def test_scan_errors(r):
    with pytest.raises(redis.ResponseError, match=exactly("invalid cursor")):
        cmd(r, "SCAN", "abc")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "SCAN", 0, "COUNT", 0)
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "SCAN", 0, "COUNT", -1)
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "SCAN", 0, "FOO")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "SCAN", 0, "MATCH")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "SCAN", 0, "COUNT", "abc")


def test_scan_guarantee_with_concurrent_changes(r):
    """Every key present for the whole scan is returned at least once, even
    while other keys are inserted and deleted (and the table rehashes)."""
    rnd = random.Random(1234)
    stable = {b"stable:%d" % i for i in range(10000)}
    p = r.pipeline(transaction=False)
    for i, k in enumerate(stable):
        p.set(k, i)
        if i % 1000 == 999:
            p.execute()
    p.execute()
    volatile = [b"vol:%d" % i for i in range(5000)]
    p.mset({k: 1 for k in volatile[:2500]})
    p.execute()
    seen = set()
    cursor = b"0"
    step = 0
    while True:
        cursor, keys = cmd(r, "SCAN", cursor, "COUNT", 100)
        seen.update(keys)
        step += 1
        # churn: add a batch of new keys (forces growth/rehash), delete some
        p = r.pipeline(transaction=False)
        for _ in range(40):
            p.set(b"new:%d:%d" % (step, rnd.randrange(1 << 30)), 1)
        for _ in range(20):
            p.delete(rnd.choice(volatile))
        p.execute()
        if cursor == b"0":
            break
        assert step < 100000
    missing = stable - seen
    assert not missing, "%d stable keys never returned, e.g. %r" % (len(missing), sorted(missing)[:5])


def test_scan_type_and_match_combined(r):
    r.mset({"a:%d" % i: 1 for i in range(50)})
    make_list_key(r, "a:list")
    keys, _ = full_scan(r, "MATCH", "a:*", "TYPE", "list")
    assert keys == [b"a:list"]


# --------------------------------------------------------------------------
# RANDOMKEY DBSIZE
# --------------------------------------------------------------------------

def test_randomkey_dbsize(r):
    assert r.randomkey() is None
    assert r.dbsize() == 0
    r.mset({"k%d" % i: i for i in range(10)})
    assert r.dbsize() == 10
    got = {r.randomkey() for _ in range(200)}
    assert got <= {b"k%d" % i for i in range(10)}
    assert len(got) > 1
    r.set("k0", "x")
    assert r.dbsize() == 10


def test_randomkey_skips_expired(r):
    r.set("live", 1)
    for i in range(20):
        r.set("dead%d" % i, 1, px=1)
    time.sleep(0.01)
    for _ in range(20):
        assert r.randomkey() == b"live"


# --------------------------------------------------------------------------
# EXPIRE family
# --------------------------------------------------------------------------

def test_expire_pexpire(r):
    assert cmd(r, "EXPIRE", "nokey", 100) == 0
    r.set("k", "v")
    assert cmd(r, "EXPIRE", "k", 100) == 1
    assert r.ttl("k") == 100
    assert cmd(r, "PEXPIRE", "k", 50000) == 1
    assert 49000 <= r.pttl("k") <= 50000
    assert r.ttl("k") in (49, 50)
    now = int(time.time())
    assert cmd(r, "EXPIREAT", "k", now + 300) == 1
    assert 298 <= r.ttl("k") <= 300
    assert cmd(r, "EXPIRETIME", "k") == now + 300
    assert cmd(r, "PEXPIREAT", "k", (now + 400) * 1000 + 5) == 1
    assert cmd(r, "PEXPIRETIME", "k") == (now + 400) * 1000 + 5
    assert cmd(r, "EXPIRETIME", "k") == now + 400


def test_expire_options(r):
    r.set("k", "v")
    # GT on a key without TTL: no TTL counts as infinite -> not set
    assert cmd(r, "EXPIRE", "k", 100, "GT") == 0
    assert r.ttl("k") == -1
    # XX on a key without TTL: not set
    assert cmd(r, "EXPIRE", "k", 100, "XX") == 0
    # LT on a key without TTL: set
    assert cmd(r, "EXPIRE", "k", 100, "LT") == 1
    assert r.ttl("k") == 100
    assert cmd(r, "EXPIRE", "k", 200, "NX") == 0
    assert cmd(r, "EXPIRE", "k", 50, "gt") == 0
    assert cmd(r, "EXPIRE", "k", 200, "GT") == 1
    assert r.ttl("k") == 200
    assert cmd(r, "EXPIRE", "k", 300, "LT") == 0
    assert cmd(r, "EXPIRE", "k", 150, "LT") == 1
    assert r.ttl("k") == 150
    assert cmd(r, "EXPIRE", "k", 120, "XX") == 1
    assert r.ttl("k") == 120
    assert cmd(r, "EXPIRE", "k", 120, "XX", "LT") == 0   # equal is not less
    assert cmd(r, "EXPIRE", "k", 110, "XX", "LT") == 1
    r.persist("k")
    assert cmd(r, "EXPIRE", "k", 10, "NX") == 1
    assert r.ttl("k") == 10
    assert cmd(r, "PEXPIRE", "k", 500000, "GT") == 1
    now = int(time.time())
    assert cmd(r, "EXPIREAT", "k", now + 10, "GT") == 0
    assert cmd(r, "PEXPIREAT", "k", (now + 10) * 1000, "LT") == 1


@pytest.mark.parametrize("opts,msg", [
    (("NX", "XX"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("NX", "GT"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("NX", "LT"), "NX and XX, GT or LT options at the same time are not compatible"),
    (("GT", "LT"), "GT and LT options at the same time are not compatible"),
    (("FOO",), "Unsupported option FOO"),
    (("nx", "bar"), "Unsupported option bar"),
])
def test_expire_option_errors(r, opts, msg):
    r.set("k", "v")
    for c in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        with pytest.raises(redis.ResponseError, match=exactly(msg)):
            cmd(r, c, "k", 100, *opts)
    assert r.ttl("k") == -1


def test_expire_errors(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "EXPIRE", "k", "abc")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "EXPIRE", "k", "1.5")
    for c, v in (("EXPIRE", "9223372036854775807"), ("PEXPIRE", "9223372036854775807"),
                 ("EXPIREAT", "9223372036854775807"), ("EXPIRE", "-9223372036854775808")):
        with pytest.raises(redis.ResponseError, match=exactly("invalid expire time in '%s' command" % c.lower())):
            cmd(r, c, "k", v)
    assert r.ttl("k") == -1
    assert r.exists("k") == 1


@pytest.mark.parametrize("args", [
    ("EXPIRE", "k", 0), ("EXPIRE", "k", -1), ("PEXPIRE", "k", 0), ("PEXPIRE", "k", -100),
    ("EXPIREAT", "k", 1), ("PEXPIREAT", "k", 1), ("EXPIREAT", "k", 0), ("EXPIREAT", "k", -5),
])
def test_expire_in_past_deletes(r, args):
    r.set("k", "v")
    assert cmd(r, *args) == 1
    assert r.exists("k") == 0
    assert r.get("k") is None
    assert r.dbsize() == 0


def test_ttl_pttl_expiretime_special_values(r):
    assert r.ttl("nokey") == -2
    assert r.pttl("nokey") == -2
    assert cmd(r, "EXPIRETIME", "nokey") == -2
    assert cmd(r, "PEXPIRETIME", "nokey") == -2
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert cmd(r, "EXPIRETIME", "k") == -1
    assert cmd(r, "PEXPIRETIME", "k") == -1


def test_ttl_rounding(r):
    # TTL rounds to the nearest second: (ms + 500) / 1000
    r.set("k", "v", px=1900)
    assert r.ttl("k") == 2
    r.set("k", "v", px=1300)
    assert r.ttl("k") == 1
    r.set("k", "v", px=400)
    assert r.ttl("k") == 0


def test_persist(r):
    assert cmd(r, "PERSIST", "nokey") == 0
    r.set("k", "v")
    assert cmd(r, "PERSIST", "k") == 0
    r.expire("k", 100)
    assert cmd(r, "PERSIST", "k") == 1
    assert r.ttl("k") == -1
    assert cmd(r, "PERSIST", "k") == 0


def test_touch(r):
    r.mset({"a": 1, "b": 2})
    assert cmd(r, "TOUCH", "a", "b", "nokey", "a") == 3
    assert cmd(r, "TOUCH", "nokey") == 0


def test_lazy_expiry(r):
    p = r.pipeline(transaction=False)
    p.set("k", "v", px=50)
    p.pttl("k")
    assert p.execute()[1] > 0
    r.set("keep", "v")
    before = r.info("stats")["expired_keys"]
    time.sleep(0.1)
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.info("stats")["expired_keys"] >= before + 1
    assert r.dbsize() == 1


def test_expired_key_is_absent_for_all_commands(r):
    r.set("k", "v", px=20)
    time.sleep(0.05)
    assert cmd(r, "EXISTS", "k") == 0
    assert cmd(r, "TYPE", "k") == b"none"
    assert cmd(r, "STRLEN", "k") == 0
    assert cmd(r, "APPEND", "k", "x") == 1
    assert r.ttl("k") == -1


@pytest.mark.slow
def test_active_expiry(r):
    before = r.info("stats")["expired_keys"]
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.set("exp:%d" % i, "v", px=100)
    p.execute()
    r.set("persistent", "v")
    assert wait_for(lambda: r.dbsize() == 1, timeout=3.0), \
        "active expiry left %d keys after 3 s" % r.dbsize()
    info = r.info("stats")
    assert info["expired_keys"] - before >= 10000
    assert r.info("keyspace")["db0"]["keys"] == 1
    assert r.info("keyspace")["db0"]["expires"] == 0


# --------------------------------------------------------------------------
# COPY MOVE SELECT SWAPDB FLUSHDB FLUSHALL
# --------------------------------------------------------------------------

def test_copy(r, server):
    r.set("k", "v", ex=100)
    with pytest.raises(redis.ResponseError, match=exactly("source and destination objects are the same")):
        cmd(r, "COPY", "k", "k")
    assert cmd(r, "COPY", "k", "k2") == 1
    assert r.get("k2") == b"v"
    assert r.ttl("k2") == 100          # TTL is copied
    assert cmd(r, "COPY", "k", "k2") == 0
    r.set("k", "v2")
    assert cmd(r, "COPY", "k", "k2", "REPLACE") == 1
    assert r.get("k2") == b"v2"
    assert r.ttl("k2") == -1
    assert cmd(r, "COPY", "nokey", "k3") == 0
    assert r.exists("k3") == 0
    # independent copies
    r.append("k2", "x")
    assert r.get("k") == b"v2"


def test_copy_db(r, server):
    r.set("k", "v")
    assert cmd(r, "COPY", "k", "k", "DB", 1) == 1
    c1 = client_on_db(server, 1)
    assert c1.get("k") == b"v"
    assert cmd(r, "COPY", "k", "k", "DB", 1) == 0
    r.set("k", "w")
    assert cmd(r, "COPY", "k", "k", "DB", 1, "REPLACE") == 1
    assert c1.get("k") == b"w"
    assert cmd(r, "COPY", "k", "other", "DB", 0) == 1
    with pytest.raises(redis.ResponseError, match=exactly("DB index is out of range")):
        cmd(r, "COPY", "k", "k2", "DB", 16)
    with pytest.raises(redis.ResponseError, match=exactly("DB index is out of range")):
        cmd(r, "COPY", "k", "k2", "DB", -1)
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "COPY", "k", "k2", "DB", "abc")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "COPY", "k", "k2", "FOO")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "COPY", "k", "k2", "DB")
    c1.connection_pool.disconnect()


def test_move(r, server):
    c1 = client_on_db(server, 1)
    r.set("k", "v", ex=100)
    assert cmd(r, "MOVE", "k", 1) == 1
    assert r.exists("k") == 0
    assert c1.get("k") == b"v"
    assert c1.ttl("k") == 100
    assert cmd(r, "MOVE", "nokey", 1) == 0
    r.set("k", "other")
    assert cmd(r, "MOVE", "k", 1) == 0          # exists in target
    assert r.get("k") == b"other"
    assert c1.get("k") == b"v"
    with pytest.raises(redis.ResponseError, match=exactly("source and destination objects are the same")):
        cmd(r, "MOVE", "k", 0)
    with pytest.raises(redis.ResponseError, match=exactly("DB index is out of range")):
        cmd(r, "MOVE", "k", 16)
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "MOVE", "k", "abc")
    c1.connection_pool.disconnect()


def test_select(r, raw):
    c = raw()
    assert c.cmd("SET", "k", "db0") == b"OK"
    assert c.cmd("SELECT", "1") == b"OK"
    assert c.cmd("GET", "k") is None
    assert c.cmd("SET", "k", "db1") == b"OK"
    assert c.cmd("SELECT", "15") == b"OK"
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("SELECT", "16") == "ERR DB index is out of range"
    assert c.cmd("SELECT", "-1") == "ERR DB index is out of range"
    assert c.cmd("SELECT", "abc") == "ERR value is not an integer or out of range"
    assert c.cmd("DBSIZE") == 0                 # still on 15
    assert c.cmd("SELECT", "0") == b"OK"
    assert c.cmd("GET", "k") == b"db0"
    assert c.cmd("SELECT", "1") == b"OK"
    assert c.cmd("GET", "k") == b"db1"
    c.cmd("FLUSHALL")


def test_swapdb(r, server):
    c1 = client_on_db(server, 1)
    r.set("a", "0")
    c1.set("b", "1")
    c1.set("t", "x", ex=100)
    assert cmd(r, "SWAPDB", 0, 1) == b"OK"
    assert r.get("b") == b"1"
    assert r.get("a") is None
    assert r.ttl("t") == 100
    assert c1.get("a") == b"0"
    assert cmd(r, "SWAPDB", 0, 0) == b"OK"
    with pytest.raises(redis.ResponseError, match=exactly("DB index is out of range")):
        cmd(r, "SWAPDB", 0, 16)
    with pytest.raises(redis.ResponseError, match=exactly("invalid first DB index")):
        cmd(r, "SWAPDB", "abc", 0)
    with pytest.raises(redis.ResponseError, match=exactly("invalid second DB index")):
        cmd(r, "SWAPDB", 0, "abc")
    c1.connection_pool.disconnect()


def test_flushdb_flushall(r, server):
    c1 = client_on_db(server, 1)
    r.mset({"a": 1, "b": 2})
    c1.set("c", 3)
    assert cmd(r, "FLUSHDB") == b"OK"
    assert r.dbsize() == 0
    assert c1.dbsize() == 1
    r.set("a", 1)
    assert cmd(r, "FLUSHDB", "ASYNC") == b"OK"
    assert r.dbsize() == 0
    r.set("a", 1)
    assert cmd(r, "FLUSHDB", "SYNC") == b"OK"
    assert r.dbsize() == 0
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "FLUSHDB", "FOO")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "FLUSHALL", "FOO")
    assert c1.dbsize() == 1
    r.set("a", 1)
    assert cmd(r, "FLUSHALL") == b"OK"
    assert r.dbsize() == 0
    assert c1.dbsize() == 0
    c1.set("c", 3)
    assert cmd(r, "FLUSHALL", "ASYNC") == b"OK"
    assert c1.dbsize() == 0
    c1.connection_pool.disconnect()
