"""String commands, checked against Redis 7.0 behaviour."""

import time

import pytest
import redis

from keel_helpers import NOT_INT, WRONGTYPE, cmd, exactly


OVERFLOW = "increment or decrement would overflow"


def invalid_expire(cmd):
    return exactly("invalid expire time in '%s' command" % cmd)


def make_list_key(r, key):
    assert cmd(r, "LPUSH", key, "x") == 1


# --------------------------------------------------------------------------
# GET / SET
# --------------------------------------------------------------------------

def test_get_set_basic(r):
    assert r.get("k") is None
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "w") is True
    assert r.get("k") == b"w"
    assert r.set("empty", "") is True
    assert r.get("empty") == b""
    assert r.exists("empty") == 1


def test_set_overwrites_ttl(r):
    r.set("k", "v", ex=100)
    assert r.ttl("k") == 100
    r.set("k", "v2")
    assert r.ttl("k") == -1


def test_set_ex_px(r):
    assert cmd(r, "SET", "k", "v", "EX", 100) == b"OK"
    assert 99 <= r.ttl("k") <= 100
    assert cmd(r, "SET", "k", "v", "PX", 100000) == b"OK"
    assert 99000 <= r.pttl("k") <= 100000
    # case-insensitive options
    assert cmd(r, "SET", "k", "v", "ex", 50) == b"OK"
    assert 49 <= r.ttl("k") <= 50


def test_set_exat_pxat(r):
    now = int(time.time())
    cmd(r, "SET", "k", "v", "EXAT", now + 100)
    assert 98 <= r.ttl("k") <= 100
    assert cmd(r, "EXPIRETIME", "k") == now + 100
    cmd(r, "SET", "k", "v", "PXAT", (now + 200) * 1000 + 123)
    assert cmd(r, "PEXPIRETIME", "k") == (now + 200) * 1000 + 123
    # an absolute time in the past: the key is set then immediately expired
    assert cmd(r, "SET", "k", "v", "PXAT", 1) == b"OK"
    assert r.get("k") is None
    assert r.exists("k") == 0


def test_set_expire_in_the_past_deletes_key(r):
    r.set("k", "old")
    assert cmd(r, "SET", "k", "v", "EXAT", 1) == b"OK"
    assert r.exists("k") == 0


def test_set_nx_xx(r):
    assert cmd(r, "SET", "k", "v", "XX") is None
    assert r.exists("k") == 0
    assert cmd(r, "SET", "k", "v", "NX") == b"OK"
    assert cmd(r, "SET", "k", "v2", "NX") is None
    assert r.get("k") == b"v"
    assert cmd(r, "SET", "k", "v3", "XX") == b"OK"
    assert r.get("k") == b"v3"


def test_set_keepttl(r):
    r.set("k", "v", ex=100)
    assert cmd(r, "SET", "k", "v2", "KEEPTTL") == b"OK"
    assert 99 <= r.ttl("k") <= 100
    assert r.get("k") == b"v2"
    cmd(r, "SET", "k", "v3")
    assert r.ttl("k") == -1
    # KEEPTTL on a new key: no TTL
    cmd(r, "SET", "n", "v", "KEEPTTL")
    assert r.ttl("n") == -1


def test_set_get_option(r):
    assert cmd(r, "SET", "k", "v", "GET") is None
    assert r.get("k") == b"v"
    assert cmd(r, "SET", "k", "v2", "GET") == b"v"
    assert r.get("k") == b"v2"
    # NX + GET (allowed since 7.0): returns the old value, does not set
    assert cmd(r, "SET", "k", "v3", "NX", "GET") == b"v2"
    assert r.get("k") == b"v2"
    assert cmd(r, "SET", "k2", "a", "NX", "GET") is None
    assert r.get("k2") == b"a"
    # XX + GET on a missing key: nil, not set
    assert cmd(r, "SET", "k3", "a", "XX", "GET") is None
    assert r.exists("k3") == 0
    assert cmd(r, "SET", "k", "v4", "XX", "GET") == b"v2"
    assert r.get("k") == b"v4"
    # GET with EX
    assert cmd(r, "SET", "k", "v5", "GET", "EX", 100) == b"v4"
    assert r.ttl("k") == 100


def test_set_get_wrongtype(r):
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        cmd(r, "SET", "l", "v", "GET")
    # the list was not overwritten
    assert r.type("l") == b"list"
    # plain SET overwrites any type
    assert r.set("l", "v") is True
    assert r.get("l") == b"v"


@pytest.mark.parametrize("args", [
    ("EX", "10", "PX", "10"),
    ("EX", "10", "EXAT", "10"),
    ("PXAT", "10", "EX", "10"),
    ("NX", "XX"),
    ("XX", "NX"),
    ("KEEPTTL", "EX", "10"),
    ("EX", "10", "KEEPTTL"),
    ("FOO",),
    ("EX",),
    ("PX",),
    ("GET", "GET", "FOO"),
    ("NX", "NX", "XX"),
])
def test_set_syntax_errors(r, args):
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "SET", "k", "v", *args)
    assert r.exists("k") == 0


@pytest.mark.parametrize("args", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"),
    ("EXAT", "0"), ("PXAT", "0"), ("EXAT", "-5"),
    ("EX", "9999999999999999"),          # overflows when converted to ms
    ("EX", "9223372036854775807"),
])
def test_set_invalid_expire(r, args):
    with pytest.raises(redis.ResponseError, match=invalid_expire("set")):
        cmd(r, "SET", "k", "v", *args)
    assert r.exists("k") == 0


def test_set_expire_not_integer(r):
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        cmd(r, "SET", "k", "v", "EX", "abc")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "SET", "k", "v", "PX", "1.5")


def test_set_arity(r):
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'set' command")):
        cmd(r, "SET", "k")
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'get' command")):
        cmd(r, "GET", "a", "b")


# --------------------------------------------------------------------------
# SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX
# --------------------------------------------------------------------------

def test_setnx(r):
    assert cmd(r, "SETNX", "k", "v") == 1
    assert cmd(r, "SETNX", "k", "w") == 0
    assert r.get("k") == b"v"


def test_setex_psetex(r):
    assert cmd(r, "SETEX", "k", 100, "v") == b"OK"
    assert r.get("k") == b"v"
    assert r.ttl("k") == 100
    assert cmd(r, "PSETEX", "p", 100000, "v") == b"OK"
    assert 99000 <= r.pttl("p") <= 100000
    for name, t in (("SETEX", 0), ("SETEX", -1), ("PSETEX", 0), ("PSETEX", -10)):
        with pytest.raises(redis.ResponseError, match=invalid_expire(name.lower())):
            cmd(r, name, "x", t, "v")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "SETEX", "x", "abc", "v")
    assert r.exists("x") == 0


def test_mset_mget(r):
    assert cmd(r, "MSET", "a", "1", "b", "2", "a", "3") == b"OK"
    assert cmd(r, "MGET", "a", "b", "nokey") == [b"3", b"2", None]
    for args in (("a",), ("a", "1", "b")):
        with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'mset' command")):
            cmd(r, "MSET", *args)


def test_mget_wrongtype_returns_nil(r):
    make_list_key(r, "l")
    r.set("s", "v")
    assert cmd(r, "MGET", "s", "l") == [b"v", None]


def test_msetnx(r):
    assert cmd(r, "MSETNX", "a", "1", "b", "2") == 1
    assert cmd(r, "MSETNX", "b", "x", "c", "3") == 0
    assert r.exists("c") == 0
    assert r.get("b") == b"2"
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'msetnx' command")):
        cmd(r, "MSETNX", "a", "1", "b")


def test_mset_removes_ttl(r):
    r.set("a", "1", ex=100)
    cmd(r, "MSET", "a", "2")
    assert r.ttl("a") == -1


def test_getset(r):
    assert cmd(r, "GETSET", "k", "1") is None
    assert cmd(r, "GETSET", "k", "2") == b"1"
    assert r.get("k") == b"2"
    r.set("t", "v", ex=100)
    cmd(r, "GETSET", "t", "w")
    assert r.ttl("t") == -1
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        cmd(r, "GETSET", "l", "v")


def test_getdel(r):
    r.set("k", "v")
    assert cmd(r, "GETDEL", "k") == b"v"
    assert r.exists("k") == 0
    assert cmd(r, "GETDEL", "k") is None
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        cmd(r, "GETDEL", "l")
    assert r.exists("l") == 1


def test_getex(r):
    r.set("k", "v")
    assert cmd(r, "GETEX", "k") == b"v"
    assert r.ttl("k") == -1
    assert cmd(r, "GETEX", "k", "EX", 100) == b"v"
    assert r.ttl("k") == 100
    assert cmd(r, "GETEX", "k", "PX", 50000) == b"v"
    assert 49000 <= r.pttl("k") <= 50000
    now = int(time.time())
    assert cmd(r, "GETEX", "k", "EXAT", now + 1000) == b"v"
    assert cmd(r, "EXPIRETIME", "k") == now + 1000
    assert cmd(r, "GETEX", "k", "PXAT", now * 1000 + 777777) == b"v"
    assert cmd(r, "PEXPIRETIME", "k") == now * 1000 + 777777
    assert cmd(r, "GETEX", "k", "PERSIST") == b"v"
    assert r.ttl("k") == -1
    assert cmd(r, "GETEX", "nokey", "EX", 10) is None
    assert cmd(r, "GETEX", "nokey", "PERSIST") is None
    assert r.exists("nokey") == 0


def test_getex_past_time_deletes(r):
    r.set("k", "v")
    assert cmd(r, "GETEX", "k", "PXAT", 1) == b"v"
    assert r.exists("k") == 0


def test_getex_errors(r):
    r.set("k", "v", ex=100)
    for args in (("EX", 0), ("EX", -1), ("PX", 0), ("EXAT", -1), ("EXAT", "9999999999999999"),
                 ("EX", "9223372036854775807")):
        with pytest.raises(redis.ResponseError, match=invalid_expire("getex")):
            cmd(r, "GETEX", "k", *args)
    for args in (("PERSIST", "EX", 10), ("EX", 10, "PX", 10), ("FOO",), ("PX",), ("EX", 10, "PERSIST")):
        with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
            cmd(r, "GETEX", "k", *args)
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "GETEX", "k", "EX", "abc")
    # nothing changed by the failed calls
    assert r.ttl("k") in (99, 100)
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        cmd(r, "GETEX", "l")


# --------------------------------------------------------------------------
# APPEND STRLEN GETRANGE SETRANGE
# --------------------------------------------------------------------------

def test_append_strlen(r):
    assert r.append("s", "hello") == 5
    assert r.append("s", " world") == 11
    assert r.get("s") == b"hello world"
    assert r.strlen("s") == 11
    assert r.strlen("nokey") == 0
    assert r.append("s", "") == 11
    r.set("n", 12345)
    assert r.strlen("n") == 5       # also for int-encoded values
    assert r.append("n", "6") == 6
    assert r.get("n") == b"123456"
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        r.append("l", "x")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        r.strlen("l")


def test_append_keeps_ttl(r):
    r.set("s", "a", ex=100)
    r.append("s", "b")
    assert r.ttl("s") == 100


@pytest.mark.parametrize("start,end,expected", [
    (0, -1, b"hello world"),
    (0, 4, b"hello"),
    (-3, -1, b"rld"),
    (0, 100, b"hello world"),
    (5, 3, b""),
    (-100, 2, b"hel"),
    (-100, -100, b"h"),
    (100, 200, b""),
    (-1, -5, b""),
    (3, -100, b""),
    (10, 10, b"d"),
    (11, 11, b""),
    (-1, -1, b"d"),
])
def test_getrange(r, start, end, expected):
    r.set("s", "hello world")
    assert r.getrange("s", start, end) == expected


def test_getrange_misc(r):
    assert r.getrange("nokey", 0, -1) == b""
    r.set("n", 1234)
    assert r.getrange("n", 1, 2) == b"23"
    r.set("e", "")
    assert r.getrange("e", 0, -1) == b""
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        r.getrange("n", "a", 1)
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        r.getrange("l", 0, 1)


def test_setrange(r):
    r.set("s", "hello world")
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"hello Redis"
    assert r.setrange("s", 9, "xyz!") == 13
    assert r.get("s") == b"hello Redxyz!"
    # padding with zero bytes
    assert r.setrange("p", 5, "hi") == 7
    assert r.get("p") == b"\x00\x00\x00\x00\x00hi"
    assert r.setrange("s", 15, "Z") == 16
    assert r.get("s") == b"hello Redxyz!\x00\x00Z"
    # int-encoded value
    r.set("n", 123)
    assert r.setrange("n", 1, "9") == 3
    assert r.get("n") == b"193"


def test_setrange_empty_value(r):
    # setting nothing on a missing key: 0 and no key created
    assert r.setrange("nokey", 0, "") == 0
    assert r.exists("nokey") == 0
    assert r.setrange("nokey", 100, "") == 0
    assert r.exists("nokey") == 0
    # on an existing key: returns the length, no size check
    r.set("s", "abc")
    assert r.setrange("s", 10, "") == 3
    assert r.setrange("s", 100000000000, "") == 3
    assert r.get("s") == b"abc"


def test_setrange_errors(r):
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError, match=exactly("offset is out of range")):
        r.setrange("s", -1, "x")
    with pytest.raises(redis.ResponseError, match=exactly("offset is out of range")):
        r.setrange("nokey", -1, "x")
    big = exactly("string exceeds maximum allowed size (proto-max-bulk-len)")
    # default proto-max-bulk-len is 512mb: offset + len must be <= 536870912
    with pytest.raises(redis.ResponseError, match=big):
        r.setrange("s", 536870912, "x")
    with pytest.raises(redis.ResponseError, match=big):
        r.setrange("nokey", 536870911, "xx")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        r.setrange("s", "abc", "x")
    assert r.get("s") == b"abc"
    assert r.exists("nokey") == 0
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
        r.setrange("l", 0, "x")


def test_setrange_append_respect_proto_max_bulk_len(r):
    old = r.config_get("proto-max-bulk-len")["proto-max-bulk-len"]
    try:
        r.config_set("proto-max-bulk-len", 1024 * 1024)
        big = exactly("string exceeds maximum allowed size (proto-max-bulk-len)")
        with pytest.raises(redis.ResponseError, match=big):
            r.setrange("s", 1024 * 1024, "x")
        assert r.setrange("s", 1024 * 1024 - 1, "x") == 1024 * 1024
        with pytest.raises(redis.ResponseError, match=big):
            r.append("s", "y")
        assert r.strlen("s") == 1024 * 1024
    finally:
        r.config_set("proto-max-bulk-len", old)


# --------------------------------------------------------------------------
# INCR family
# --------------------------------------------------------------------------

def test_incr_decr(r):
    assert r.incr("i") == 1
    assert r.incrby("i", 10) == 11
    assert r.decrby("i", 3) == 8
    assert r.decr("i") == 7
    assert cmd(r, "INCRBY", "i", -10) == -3
    assert cmd(r, "DECRBY", "i", -3) == 0
    assert r.get("i") == b"0"
    assert r.decr("neg") == -1
    r.set("s", "41")
    assert r.incr("s") == 42
    r.set("big", "9223372036854775806")
    assert r.incr("big") == 9223372036854775807


def test_incr_keeps_ttl(r):
    r.set("i", 1, ex=100)
    r.incr("i")
    assert r.ttl("i") == 100


@pytest.mark.parametrize("value", [
    "abc", " 1", "1 ", "01", "+1", "-0", "1.5", "", "9223372036854775808", "1e3", "0x10",
])
def test_incr_not_integer(r, value):
    r.set("s", value)
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        r.incr("s")
    assert r.get("s") == value.encode()


def test_incrby_argument_not_integer(r):
    for arg in ("abc", "1.5", "9223372036854775808", " 1", ""):
        with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
            cmd(r, "INCRBY", "i", arg)
        with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
            cmd(r, "DECRBY", "i", arg)
    assert r.exists("i") == 0


def test_incr_overflow(r):
    r.set("m", "9223372036854775807")
    with pytest.raises(redis.ResponseError, match=exactly("increment or decrement would overflow")):
        r.incr("m")
    with pytest.raises(redis.ResponseError, match=exactly(OVERFLOW)):
        r.incrby("m", 1)
    r.set("m", "-9223372036854775808")
    with pytest.raises(redis.ResponseError, match=exactly(OVERFLOW)):
        r.decr("m")
    with pytest.raises(redis.ResponseError, match=exactly(OVERFLOW)):
        cmd(r, "INCRBY", "m", -1)
    assert r.get("m") == b"-9223372036854775808"
    r.set("z", 0)
    # DECRBY LLONG_MIN cannot be negated: a special message
    with pytest.raises(redis.ResponseError, match=exactly("decrement would overflow")):
        cmd(r, "DECRBY", "z", "-9223372036854775808")
    assert cmd(r, "INCRBY", "z", "-9223372036854775808") == -9223372036854775808


def test_incr_wrongtype(r):
    make_list_key(r, "l")
    for args in (("INCR", "l"), ("DECR", "l"), ("INCRBY", "l", 1), ("DECRBY", "l", 1),
                 ("INCRBYFLOAT", "l", 1)):
        with pytest.raises(redis.ResponseError, match=exactly(WRONGTYPE)):
            cmd(r, *args)


@pytest.mark.parametrize("initial,incr,expected", [
    ("10.5", "0.1", b"10.6"),
    (None, "3.0e3", b"3000"),
    ("5.0e3", "200", b"5200"),
    (None, "0.1", b"0.1"),
    ("0.1", "0.2", b"0.3"),
    ("10", "-5", b"5"),
    ("5", "1.0", b"6"),
    ("1", "-1", b"0"),
    ("-1.5", "0.25", b"-1.25"),
    ("1e10", "0", b"10000000000"),
    (None, "-0.0", b"0"),
    ("1", "0x10", b"17"),           # strtold accepts hex
    (None, "3e-20", b"0"),          # formatted with 17 decimals, trailing zeros trimmed
    (None, "1.5e2", b"150"),
    ("12345678901234567", "1", b"12345678901234568"),
])
def test_incrbyfloat(r, initial, incr, expected):
    if initial is not None:
        r.set("f", initial)
    assert r.incrbyfloat("f", incr) == float(expected)
    assert r.get("f") == expected


def test_incrbyfloat_reply_is_bulk_string(r, raw):
    c = raw()
    c.cmd("SET", "f", "10.5")
    c.send(b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$3\r\n0.1\r\n")
    assert c.read_bytes(len(b"$4\r\n10.6\r\n")) == b"$4\r\n10.6\r\n"


def test_incrbyfloat_long_double_precision(r):
    """Redis computes INCRBYFLOAT in long double (x87 80-bit on x86-64) and
    formats with %.17Lf, trimming trailing zeros."""
    assert r.incrbyfloat("f", "3.0e3") == 3000
    assert cmd(r, "INCRBYFLOAT", "f", "1e-5") == b"3000.00001000000000007"
    assert cmd(r, "INCRBYFLOAT", "g", "1.23456789012345678901") == b"1.23456789012345679"
    # 1.7e308 * 2 does not overflow a long double
    r.set("big", "1.7e308")
    out = cmd(r, "INCRBYFLOAT", "big", "1.7e308")
    assert out.startswith(b"34000000000000000000") and len(out) == 309


@pytest.mark.parametrize("value,incr", [
    ("abc", "1"), ("1", "abc"), ("1", " 1"), ("1", "1 "), ("1", ""), (" 1", "1"),
    ("1", "nan"), ("1", "1.5x"),
])
def test_incrbyfloat_not_float(r, value, incr):
    r.set("f", value)
    with pytest.raises(redis.ResponseError, match=exactly("value is not a valid float")):
        cmd(r, "INCRBYFLOAT", "f", incr)
    assert r.get("f") == value.encode()


def test_incrbyfloat_nan_inf(r):
    r.set("f", "1")
    for incr in ("inf", "-inf", "+inf", "Infinity"):
        with pytest.raises(redis.ResponseError,
                           match=exactly("increment would produce NaN or Infinity")):
            cmd(r, "INCRBYFLOAT", "f", incr)
    assert r.get("f") == b"1"


def test_incrbyfloat_keeps_ttl(r):
    r.set("f", "1.5", ex=100)
    r.incrbyfloat("f", 1)
    assert r.ttl("f") == 100
    assert r.get("f") == b"2.5"


# --------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------

def test_lcs(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert cmd(r, "LCS", "key1", "key2") == b"mytext"
    assert cmd(r, "LCS", "key1", "key2", "LEN") == 6
    assert cmd(r, "LCS", "key1", "nokey") == b""
    assert cmd(r, "LCS", "nokey", "nokey2", "LEN") == 0
    r.set("n", 12345)
    r.set("m", 2945)
    assert cmd(r, "LCS", "n", "m") == b"245"


def test_lcs_idx(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert cmd(r, "LCS", "key1", "key2", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len", 6]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4) == [
        b"matches", [[[4, 7], [5, 8]]],
        b"len", 6]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]],
        b"len", 6]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
        b"len", 6]
    # negative MINMATCHLEN is treated as 0
    assert cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", -5) == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len", 6]
    assert cmd(r, "LCS", "key1", "nokey", "IDX") == [b"matches", [], b"len", 0]


def test_lcs_idx_resp3_is_map(raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.cmd("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert c.cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4") == {
        b"matches": [[[4, 7], [5, 8]]], b"len": 6}


def test_lcs_errors(r):
    r.mset({"key1": "a", "key2": "b"})
    with pytest.raises(redis.ResponseError,
                       match=exactly("If you want both the length and indexes, please just use IDX.")):
        cmd(r, "LCS", "key1", "key2", "LEN", "IDX")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "LCS", "key1", "key2", "FOO")
    with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
        cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN")
    with pytest.raises(redis.ResponseError, match=exactly(NOT_INT)):
        cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "abc")
    make_list_key(r, "l")
    with pytest.raises(redis.ResponseError,
                       match=exactly("The specified keys must contain string values")):
        cmd(r, "LCS", "key1", "l")


# --------------------------------------------------------------------------
# binary safety, big values
# --------------------------------------------------------------------------

def test_binary_safe_keys_and_values(r):
    key = b"a\x00b\r\nc\xff"
    value = bytes(range(256)) * 4
    assert r.set(key, value)
    assert r.get(key) == value
    assert r.strlen(key) == 1024
    assert r.exists(key) == 1
    assert r.exists(b"a") == 0
    assert r.exists(b"a\x00b") == 0
    assert r.get(b"a\x00b\r\nc\xfe") is None
    assert r.append(key, b"\r\n\x00") == 1027
    assert r.getrange(key, -3, -1) == b"\r\n\x00"
    assert key in r.keys("*")
    r.set(b"", b"empty key")
    assert r.get(b"") == b"empty key"


def test_large_value(r):
    value = bytes((i * 7 + 3) % 256 for i in range(1024 * 1024))
    assert r.set("big", value)
    assert r.get("big") == value
    assert r.strlen("big") == 1024 * 1024
    assert r.append("big", value) == 2 * 1024 * 1024
    got = r.get("big")
    assert got[:1024 * 1024] == value and got[1024 * 1024:] == value
    assert r.getrange("big", 1024 * 1024 - 2, 1024 * 1024 + 1) == value[-2:] + value[:2]


def test_many_large_values_pipelined(r):
    values = [bytes([65 + i]) * (200 * 1024 + i) for i in range(10)]
    p = r.pipeline(transaction=False)
    for i, v in enumerate(values):
        p.set("k%d" % i, v)
    for i in range(10):
        p.get("k%d" % i)
    out = p.execute()
    assert out[:10] == [True] * 10
    assert out[10:] == values


# --------------------------------------------------------------------------
# OBJECT ENCODING
# --------------------------------------------------------------------------

@pytest.mark.parametrize("value,encoding", [
    ("0", b"int"),
    ("12345", b"int"),
    ("-1", b"int"),
    ("9223372036854775807", b"int"),
    ("-9223372036854775808", b"int"),
    ("9223372036854775808", b"embstr"),
    ("012", b"embstr"),
    ("+1", b"embstr"),
    ("1.5", b"embstr"),
    ("", b"embstr"),
    ("hello", b"embstr"),
    ("x" * 44, b"embstr"),
    ("x" * 45, b"raw"),
    ("x" * 1000, b"raw"),
])
def test_object_encoding(r, value, encoding):
    r.set("k", value)
    assert r.object("encoding", "k") == encoding


def test_object_encoding_transitions(r):
    r.set("k", "abc")
    r.append("k", "d")
    assert r.object("encoding", "k") == b"raw"
    r.set("n", "5")
    r.append("n", "6")
    assert r.object("encoding", "n") == b"raw"
    r.set("t", "123")
    r.setrange("t", 0, "5")
    assert r.object("encoding", "t") == b"raw"
    assert r.incr("t") == 524
    assert r.object("encoding", "t") == b"int"
    r.incrbyfloat("f", "1.5")
    assert r.object("encoding", "f") == b"embstr"
    assert r.object("encoding", "nokey") is None
