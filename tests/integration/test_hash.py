"""Hash commands and encodings, checked against Redis 7.0 behaviour.

Run against real Redis too: KEEL_SERVER=/usr/bin/redis-server."""

import random

import pytest
import redis

from keel_helpers import NOT_INT, WRONGTYPE, Null, cmd, exactly


pytestmark = pytest.mark.usefixtures("flush_after")


def enc(r, key):
    return r.object("encoding", key)


@pytest.fixture
def small_limits(r):
    """Set hash listpack limits for one test, restoring them afterwards."""
    saved = {k: r.config_get(k)[k] for k in ("hash-max-listpack-entries", "hash-max-listpack-value")}

    def apply(entries=None, value=None):
        if entries is not None:
            r.config_set("hash-max-listpack-entries", entries)
        if value is not None:
            r.config_set("hash-max-listpack-value", value)

    yield apply
    for k, v in saved.items():
        r.config_set(k, v)


def entries_limit(r):
    # Redis's default is 512; Keel's may differ: read it rather than assume.
    return int(r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"])


def make_big(r, key, n=200, prefix="f"):
    """A hashtable-encoded hash with fields f0..f(m-1), m >= n."""
    n = max(n, entries_limit(r) + 1)
    r.hset(key, mapping={"%s%d" % (prefix, i): "v%d" % i for i in range(n)})
    assert enc(r, key) == b"hashtable"
    return n


# --------------------------------------------------------------------------
# HSET / HGET / HMSET / HSETNX / HMGET

@pytest.mark.parametrize("big", [False, True])
def test_hset_hget(r, big):
    if big:
        make_big(r, "h")
    assert r.hset("h", "a", "1") == 1
    assert r.hset("h", "a", "2") == 0
    assert r.hget("h", "a") == b"2"
    assert cmd(r, "HSET", "h", "b", "x", "c", "y", "a", "3") == 2
    assert r.hget("h", "c") == b"y"
    assert r.hget("h", "a") == b"3"
    assert r.hget("h", "nofield") is None
    assert r.hget("nokey", "a") is None


def test_hset_same_field_twice_in_one_call(r):
    assert cmd(r, "HSET", "h", "a", "1", "a", "2") == 1
    assert r.hget("h", "a") == b"2"
    assert r.hlen("h") == 1


def test_hset_integer_like_values_round_trip(r):
    vals = ["0", "-1", "123", "9223372036854775807", "-9223372036854775808", "01", "+1", " 1", "1.0",
            "18446744073709551616", "-0"]
    for i, v in enumerate(vals):
        r.hset("h", "f%d" % i, v)
    for i, v in enumerate(vals):
        assert r.hget("h", "f%d" % i) == v.encode()
        assert r.hstrlen("h", "f%d" % i) == len(v)


def test_hset_arity_errors(r):
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'hset' command")):
        cmd(r, "HSET", "h", "a", "1", "b")
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'hset' command")):
        cmd(r, "HSET", "h", "a")
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'hmset' command")):
        cmd(r, "HMSET", "h", "a", "1", "b")
    assert r.exists("h") == 0


def test_hmset(r):
    assert cmd(r, "HMSET", "h", "a", "1", "b", "2") == b"OK"
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}


def test_hsetnx(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == b"1"
    make_big(r, "big")
    assert r.hsetnx("big", "f1", "x") == 0
    assert r.hsetnx("big", "new", "x") == 1
    assert r.hget("big", "f1") == b"v1"


def test_hmget(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hmget("h", "a", "zz", "b") == [b"1", None, b"2"]
    assert r.hmget("nokey", "a", "b") == [None, None]
    make_big(r, "big")
    assert r.hmget("big", "f3", "nope") == [b"v3", None]


def test_wrongtype(r):
    r.set("s", "x")
    calls = [("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HGET", "s", "a"), ("HMGET", "s", "a"),
             ("HMSET", "s", "a", "1"), ("HGETALL", "s"), ("HDEL", "s", "a"), ("HLEN", "s"),
             ("HEXISTS", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"), ("HINCRBY", "s", "a", "1"),
             ("HINCRBYFLOAT", "s", "a", "1"), ("HSTRLEN", "s", "a"), ("HRANDFIELD", "s"),
             ("HRANDFIELD", "s", "2"), ("HSCAN", "s", "0")]
    for c in calls:
        with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
            cmd(r, *c)
    assert r.get("s") == b"x"


# --------------------------------------------------------------------------
# HGETALL / HKEYS / HVALS / HLEN / HEXISTS / HSTRLEN / HDEL

@pytest.mark.parametrize("n", [3, 300])
def test_getall_keys_vals(r, n):
    data = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(n)}
    r.hset("h", mapping=data)
    assert r.hgetall("h") == data
    assert sorted(r.hkeys("h")) == sorted(data)
    assert sorted(r.hvals("h")) == sorted(data.values())
    assert r.hlen("h") == n
    flat = cmd(r, "HGETALL", "h")
    assert dict(zip(flat[::2], flat[1::2])) == data
    assert r.hgetall("nokey") == {}
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []
    assert r.hlen("nokey") == 0


def test_hgetall_resp3_map(r, raw):
    r.hset("h", mapping={"a": "1", "b": "2"})
    c = raw()
    c.cmd("HELLO", "3")
    assert c.cmd("HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    assert c.cmd("HGETALL", "nokey") == {}
    assert c.cmd("HGET", "h", "zz") is Null()
    assert c.cmd("HMGET", "h", "a", "zz") == [b"1", Null()]


def test_hexists_hstrlen(r):
    r.hset("h", mapping={"a": "hello", "n": "-12345", "e": ""})
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "zz") is False
    assert r.hexists("nokey", "a") is False
    assert r.hstrlen("h", "a") == 5
    assert r.hstrlen("h", "n") == 6
    assert r.hstrlen("h", "e") == 0
    assert r.hstrlen("h", "zz") == 0
    assert r.hstrlen("nokey", "a") == 0


@pytest.mark.parametrize("big", [False, True])
def test_hdel(r, big):
    if big:
        make_big(r, "h")
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "a", "zz") == 1
    assert r.hexists("h", "a") is False
    assert r.hdel("nokey", "a") == 0
    if big:
        n = r.hlen("h") - 2
        assert r.hdel("h", *["f%d" % i for i in range(n)]) == n
    assert r.hdel("h", "b", "c") == 2
    assert r.exists("h") == 0   # empty hashes are deleted


# --------------------------------------------------------------------------
# HINCRBY / HINCRBYFLOAT

@pytest.mark.parametrize("big", [False, True])
def test_hincrby(r, big):
    if big:
        make_big(r, "h")
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == b"-2"
    r.hset("h", "m", "9223372036854775806")
    assert r.hincrby("h", "m", 1) == 9223372036854775807
    with pytest.raises(redis.ResponseError, match=exactly("increment or decrement would overflow")):
        r.hincrby("h", "m", 1)
    r.hset("h", "low", "-9223372036854775808")
    with pytest.raises(redis.ResponseError, match=exactly("increment or decrement would overflow")):
        r.hincrby("h", "low", -1)
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match=exactly("hash value is not an integer")):
        r.hincrby("h", "s", 1)
    r.hset("h", "sp", " 1")
    with pytest.raises(redis.ResponseError, match=exactly("hash value is not an integer")):
        r.hincrby("h", "sp", 1)
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        cmd(r, "HINCRBY", "h", "n", "x")
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        cmd(r, "HINCRBY", "h", "n", "1.5")
    assert r.hget("h", "n") == b"-2"


def test_hincrby_creates_key_only_on_success(r):
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "HINCRBY", "h", "n", "x")
    assert r.exists("h") == 0
    assert r.hincrby("h", "n", 0) == 0
    assert r.hget("h", "n") == b"0"


def test_hincrbyfloat(r):
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "-10.6") == b"0"
    assert cmd(r, "HINCRBYFLOAT", "h", "g", "5.0e3") == b"5000"
    assert cmd(r, "HINCRBYFLOAT", "h", "g", "1") == b"5001"
    r.hset("h", "i", "3")
    assert cmd(r, "HINCRBYFLOAT", "h", "i", "1.25") == b"4.25"
    assert r.hget("h", "i") == b"4.25"
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match=exactly("hash value is not a float")):
        cmd(r, "HINCRBYFLOAT", "h", "s", "1")
    with pytest.raises(redis.ResponseError, match=exactly("value is not a valid float")):
        cmd(r, "HINCRBYFLOAT", "h", "f", "x")
    with pytest.raises(redis.ResponseError, match=exactly("value is NaN or Infinity")):
        cmd(r, "HINCRBYFLOAT", "h", "f", "inf")
    r.hset("h", "huge", "1.1e4932")
    with pytest.raises(redis.ResponseError, match=exactly("increment would produce NaN or Infinity")):
        cmd(r, "HINCRBYFLOAT", "h", "huge", "1.1e4932")
    assert r.hget("h", "huge") == b"1.1e4932"


def test_hincrbyfloat_on_hashtable(r):
    make_big(r, "h")
    assert cmd(r, "HINCRBYFLOAT", "h", "x", "2.5") == b"2.5"
    r.hset("h", "f1", "10")
    assert cmd(r, "HINCRBYFLOAT", "h", "f1", "0.5") == b"10.5"


# --------------------------------------------------------------------------
# HRANDFIELD

@pytest.mark.parametrize("n", [5, 300])
def test_hrandfield(r, n):
    data = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(n)}
    r.hset("h", mapping=data)
    for _ in range(20):
        assert cmd(r, "HRANDFIELD", "h") in data
    # positive count: distinct fields
    for count in (1, 3, n - 1, n, n + 10):
        got = cmd(r, "HRANDFIELD", "h", count)
        assert len(got) == min(count, n)
        assert len(set(got)) == len(got)
        assert set(got) <= set(data)
    # with values: pairs match
    got = cmd(r, "HRANDFIELD", "h", 4, "WITHVALUES")
    assert len(got) == 8
    for f, v in zip(got[::2], got[1::2]):
        assert data[f] == v
    got = cmd(r, "HRANDFIELD", "h", n + 5, "withvalues")
    assert dict(zip(got[::2], got[1::2])) == data
    # negative count: repetitions allowed, exact length
    got = cmd(r, "HRANDFIELD", "h", -50)
    assert len(got) == 50 and set(got) <= set(data)
    got = cmd(r, "HRANDFIELD", "h", -7, "WITHVALUES")
    assert len(got) == 14
    for f, v in zip(got[::2], got[1::2]):
        assert data[f] == v
    assert cmd(r, "HRANDFIELD", "h", 0) == []


def test_hrandfield_covers_all_fields(r):
    r.hset("h", mapping={"f%d" % i: i for i in range(10)})
    seen = set(cmd(r, "HRANDFIELD", "h", -2000))
    assert len(seen) == 10


def test_hrandfield_missing_and_errors(r):
    assert cmd(r, "HRANDFIELD", "nokey") is None
    assert cmd(r, "HRANDFIELD", "nokey", 5) == []
    assert cmd(r, "HRANDFIELD", "nokey", -5, "WITHVALUES") == []
    r.hset("h", "a", "1")
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        cmd(r, "HRANDFIELD", "h", "x")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "HRANDFIELD", "h", 1, "foo")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "HRANDFIELD", "h", 1, "withvalues", "x")
    with pytest.raises(redis.ResponseError, match=exactly("value is out of range")):
        cmd(r, "HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES")
    with pytest.raises(redis.ResponseError,
                       match=exactly("value is out of range, value must between "
                                 "-9223372036854775807 and 9223372036854775807")):
        cmd(r, "HRANDFIELD", "h", "-9223372036854775808")


@pytest.mark.parametrize("n", [3, 300])
def test_hrandfield_resp3_pairs(r, raw, n):
    r.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(n)})
    c = raw()
    c.cmd("HELLO", "3")
    for count in (2, -4, n + 1):
        got = c.cmd("HRANDFIELD", "h", count, "WITHVALUES")
        assert len(got) == min(count, n) if count > 0 else -count
        for pair in got:
            assert len(pair) == 2
            assert pair[1] == b"v" + pair[0][1:]
    assert c.cmd("HRANDFIELD", "h", 2) and all(isinstance(x, bytes) for x in c.cmd("HRANDFIELD", "h", 2))
    assert c.cmd("HRANDFIELD", "nokey") is Null()


# --------------------------------------------------------------------------
# HSCAN

def test_hscan_listpack_returns_all(r):
    data = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(20)}
    r.hset("h", mapping=data)
    cur, items = cmd(r, "HSCAN", "h", "0", "COUNT", "2")
    assert cur == b"0"
    assert dict(zip(items[::2], items[1::2])) == data
    cur, items = cmd(r, "HSCAN", "h", "0", "MATCH", "f1*")
    assert cur == b"0"
    assert sorted(items[::2]) == sorted(f for f in data if f.startswith(b"f1"))
    assert cmd(r, "HSCAN", "nokey", "0") == [b"0", []]


def full_hscan(r, key, **kw):
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, part = r.hscan(key, cursor, **kw)
        seen.update(part)
        calls += 1
        if cursor == 0:
            return seen, calls


def test_hscan_hashtable(r):
    data = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(1000)}
    r.hset("h", mapping=data)
    seen, calls = full_hscan(r, "h", count=50)
    assert seen == data
    assert calls > 1
    seen, _ = full_hscan(r, "h", match="f99*", count=100)
    assert seen == {f: v for f, v in data.items() if f.startswith(b"f99")}


def test_hscan_guarantee_under_changes(r):
    stable = {("s%d" % i).encode() for i in range(500)}
    r.hset("h", mapping={f: "x" for f in stable})
    rnd = random.Random(7)
    seen = set()
    cursor = 0
    n = 0
    while True:
        cursor, part = r.hscan("h", cursor, count=20)
        seen.update(part)
        # churn: add and remove other fields (forcing resizes) while scanning
        for _ in range(30):
            n += 1
            r.hset("h", "t%d" % n, "y")
        r.hdel("h", *["t%d" % rnd.randint(1, n) for _ in range(25)])
        if cursor == 0:
            break
    assert stable <= seen


def test_hscan_errors(r):
    r.hset("h", "a", "1")
    with pytest.raises(redis.ResponseError, match=exactly("invalid cursor")):
        cmd(r, "HSCAN", "h", "x")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "HSCAN", "h", "0", "COUNT", "0")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "HSCAN", "h", "0", "FOO", "1")
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        cmd(r, "HSCAN", "h", "0", "COUNT", "x")


# --------------------------------------------------------------------------
# Encodings

def test_encoding_entries_threshold(r):
    limit = entries_limit(r)
    r.hset("h", mapping={"f%d" % i: "v" for i in range(limit)})
    assert enc(r, "h") == b"listpack"
    r.hset("h", "f0", "changed")
    assert enc(r, "h") == b"listpack"
    r.hset("h", "f%d" % limit, "v")
    assert enc(r, "h") == b"hashtable"
    r.hdel("h", *["f%d" % i for i in range(limit - 10)])
    assert enc(r, "h") == b"hashtable"     # never converts back
    assert r.hlen("h") == 11


def test_encoding_entries_threshold_in_one_call(r, small_limits):
    small_limits(entries=128)
    r.hset("h", mapping={"f%d" % i: "v" for i in range(129)})
    assert enc(r, "h") == b"hashtable"
    r.hset("g", mapping={"f%d" % i: "v" for i in range(128)})
    assert enc(r, "g") == b"listpack"


def test_encoding_value_threshold(r):
    r.hset("h", "a", "x" * 64)
    assert enc(r, "h") == b"listpack"
    r.hset("h", "b", "x" * 65)
    assert enc(r, "h") == b"hashtable"
    assert r.hget("h", "a") == b"x" * 64
    r.hset("h2", "f" * 65, "v")
    assert enc(r, "h2") == b"hashtable"
    assert r.hget("h2", "f" * 65) == b"v"


def test_encoding_hsetnx_long_value(r):
    r.hset("h", "a", "1")
    r.hsetnx("h", "b", "y" * 100)
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == {b"a": b"1", b"b": b"y" * 100}


def test_encoding_small_limits(r, small_limits):
    small_limits(entries=4, value=8)
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3", "d": "4"})
    assert enc(r, "h") == b"listpack"
    r.hset("h", "e", "5")
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4", b"e": b"5"}
    r.hset("g", "a", "12345678")
    assert enc(r, "g") == b"listpack"
    r.hset("g", "b", "123456789")
    assert enc(r, "g") == b"hashtable"
    small_limits(entries=0)
    r.hset("z", "a", "1")
    assert enc(r, "z") == b"hashtable"
    assert r.hget("z", "a") == b"1"


def test_encoding_incr_results(r, small_limits):
    small_limits(value=4)
    r.hset("h", "n", "1")
    r.hincrbyfloat("h", "n", "0.123456")
    assert r.hget("h", "n") == b"1.123456"
    assert enc(r, "h") == b"hashtable"


# --------------------------------------------------------------------------
# Binary safety, size, COPY

@pytest.mark.parametrize("big", [False, True])
def test_binary_safe(r, big):
    if big:
        make_big(r, "h")
    fields = [b"", b"\x00", b"a\x00b", b"\xff\xfe\r\n", b"\x00" * 70]
    for i, f in enumerate(fields):
        r.hset("h", f, b"val\x00%d" % i)
    for i, f in enumerate(fields):
        assert r.hget("h", f) == b"val\x00%d" % i
    r.hset("h", "emptyval", b"")
    assert r.hget("h", "emptyval") == b""
    assert r.hexists("h", "emptyval")
    got = r.hgetall("h")
    for i, f in enumerate(fields):
        assert got[f] == b"val\x00%d" % i
    assert r.hdel("h", b"\x00") == 1
    assert r.hget("h", b"a\x00b") == b"val\x002"


def test_10k_fields(r):
    n = 10000
    data = {("field:%d" % i).encode(): ("value:%d" % (i * 7)).encode() for i in range(n)}
    p = r.pipeline(transaction=False)
    items = list(data.items())
    for i in range(0, n, 500):
        p.hset("h", mapping=dict(items[i:i + 500]))
    p.execute()
    assert r.hlen("h") == n
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == data
    assert r.hmget("h", "field:0", "field:9999", "nope") == [b"value:0", b"value:69993", None]
    assert r.hdel("h", *["field:%d" % i for i in range(0, n, 2)]) == n // 2
    assert r.hlen("h") == n // 2
    assert r.hget("h", "field:1") == b"value:7"
    assert r.hget("h", "field:2") is None


@pytest.mark.parametrize("big", [False, True])
def test_copy_is_independent(r, big):
    assert cmd(r, "COPY", "nokey", "x") == 0
    if big:
        make_big(r, "h")
    r.hset("h", "a", "1")
    assert r.copy("h", "h2") == 1
    r.hset("h", "a", "2")
    assert r.hget("h2", "a") == b"1"
    assert r.hlen("h2") == r.hlen("h")
    assert enc(r, "h2") == enc(r, "h")


def test_type_and_memory_usage(r):
    r.hset("h", "a", "1")
    assert r.type("h") == b"hash"
    make_big(r, "big", 500)
    small = r.memory_usage("h")
    large = r.memory_usage("big")
    assert small > 0 and large > small
    assert r.memory_usage("big", samples=0) > 500 * 4


def test_single_field_reads_of_small_hashes_with_numbers(r):
    # Small hashes are stored compactly and read in place by HGET, HMGET,
    # HEXISTS and HSTRLEN; numeric fields and values are stored as integers.
    r.hset("nums", mapping={"1": "100", "-7": "x", "007": "leading zero", "f": "-42", "big": "123456789012"})
    assert r.hget("nums", "1") == b"100"
    assert r.hget("nums", "-7") == b"x"
    assert r.hget("nums", "007") == b"leading zero"
    assert r.hget("nums", "7") is None
    assert r.hmget("nums", "f", "big", "missing") == [b"-42", b"123456789012", None]
    assert r.hexists("nums", "007") and not r.hexists("nums", "07")
    assert r.hstrlen("nums", "big") == 12 and r.hstrlen("nums", "nope") == 0
    assert r.object("encoding", "nums") == b"listpack"
