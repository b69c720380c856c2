"""Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO),
checked against Redis 7.0: run with KEEL_SERVER=/usr/bin/redis-server too."""

import random

import pytest

from keel_helpers import WRONGTYPE, err


pytestmark = pytest.mark.usefixtures("flush_after")


ERR_OFFSET = "bit offset is not an integer or out of range"
ERR_BIT = "bit is not an integer or out of range"
ERR_TYPE = ("Invalid bitfield type. Use something like i16 u8. "
            "Note that u64 is not supported but i64 is.")


# ---- model of Redis's bit semantics, for randomized checks ----

def bits_of(data):
    return [(b >> (7 - i)) & 1 for b in data for i in range(8)]


def model_range(n, start, end, isbit):
    """Inclusive bit range for BITCOUNT/BITPOS start/end, or None."""
    total = n * 8 if isbit else n
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    end = min(end, total - 1)
    if start > end:
        return None
    return (start, end) if isbit else (start * 8, end * 8 + 7)


def test_setbit_getbit_basics(r):
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 1) == 1
    assert r.setbit("k", 0, 1) == 0
    assert r.get("k") == b"\x81"
    assert r.getbit("k", 0) == 1 and r.getbit("k", 1) == 0
    assert r.getbit("k", 1000) == 0
    assert r.getbit("nokey", 5) == 0
    assert r.setbit("k", 23, 1) == 0
    assert r.get("k") == b"\x81\x00\x01"
    assert r.setbit("k", 0, 0) == 1
    assert r.get("k") == b"\x01\x00\x01"
    assert r.object("encoding", "k") == b"raw"


def test_setbit_on_int_and_embstr(r):
    r.set("n", 1234)
    assert r.getbit("n", 2) == 1  # '1' = 0x31 = 00110001
    assert r.setbit("n", 0, 1) == 0
    assert r.get("n") == b"\xb1234"
    r.set("e", "abc")
    assert r.setbit("e", 6, 1) == 0
    assert r.get("e") == b"cbc"
    assert r.object("encoding", "e") == b"raw"


def test_setbit_keeps_ttl(r):
    r.set("k", "x", ex=100)
    r.setbit("k", 100, 1)
    assert 0 < r.ttl("k") <= 100


def test_setbit_errors(r):
    assert err(r, "setbit", "k", -1, 1) == ERR_OFFSET
    assert err(r, "setbit", "k", "x", 1) == ERR_OFFSET
    assert err(r, "setbit", "k", 4294967296, 1) == ERR_OFFSET
    assert err(r, "setbit", "k", 1, 2) == ERR_BIT
    assert err(r, "setbit", "k", 1, "x") == ERR_BIT
    assert err(r, "setbit", "k", 1, -1) == ERR_BIT
    assert err(r, "getbit", "k", "x") == ERR_OFFSET
    assert err(r, "getbit", "k", -1) == ERR_OFFSET
    assert err(r, "getbit", "k", 4294967296) == ERR_OFFSET
    assert r.exists("k") == 0
    r.rpush("l", "a")
    assert err(r, "setbit", "l", 1, 1) == WRONGTYPE
    assert err(r, "getbit", "l", 1) == WRONGTYPE


def test_setbit_max_offset(r):
    assert r.getbit("k", 4294967295) == 0
    # proto-max-bulk-len bounds the offset: lower it to test without 512 MB.
    r.config_set("proto-max-bulk-len", 1024 * 1024)
    try:
        assert err(r, "setbit", "k", 8 * 1024 * 1024, 1) == ERR_OFFSET
        assert r.setbit("k", 8 * 1024 * 1024 - 1, 1) == 0
        assert r.strlen("k") == 1024 * 1024
    finally:
        r.config_set("proto-max-bulk-len", 512 * 1024 * 1024)


def test_bitcount(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", 5, 30, "bit") == 17
    assert r.bitcount("s", -5, -1, "bit") == 2
    assert r.bitcount("s", 1, 1, "BYTE") == 6
    assert r.bitcount("s", -1, -5) == 0
    assert r.bitcount("s", 2, -2) == 12
    assert r.bitcount("s", 0, -100) == 4
    assert r.bitcount("s", 100, 200) == 0
    assert r.bitcount("nokey") == 0
    r.set("n", 255)
    assert r.bitcount("n") == 11  # "255": 0x32 0x35 0x35


def test_bitcount_errors(r):
    # A missing key answers 0 before the arguments are looked at.
    assert r.execute_command("bitcount", "nokey", "a", "b") == 0
    assert r.execute_command("bitcount", "nokey", "1") == 0
    r.set("s", "foobar")
    assert err(r, "bitcount", "s", 1) == "syntax error"
    assert err(r, "bitcount", "s", "a", "b") == "value is not an integer or out of range"
    assert err(r, "bitcount", "s", 1, 2, "bitx") == "syntax error"
    assert err(r, "bitcount", "s", 1, 2, "bit", "x") == "syntax error"
    r.rpush("l", "a")
    assert err(r, "bitcount", "l") == WRONGTYPE


def test_bitcount_large_random(r):
    rnd = random.Random(7)
    data = bytes(rnd.getrandbits(8) for _ in range(10000))
    r.set("k", data)
    assert r.bitcount("k") == sum(bin(b).count("1") for b in data)
    for _ in range(50):
        s, e = rnd.randint(-12000, 12000), rnd.randint(-12000, 12000)
        isbit = rnd.random() < 0.5
        rng = model_range(len(data), s, e, isbit)
        bits = bits_of(data) if rng else None
        want = 0 if rng is None or (s < 0 and e < 0 and s > e) else sum(bits[rng[0]:rng[1] + 1])
        args = ["bitcount", "k", s, e] + (["bit"] if isbit else [])
        assert r.execute_command(*args) == want, args


def test_bitpos(r):
    r.set("s", b"\xff\xf0\x00")
    assert r.bitpos("s", 0) == 12
    assert r.bitpos("s", 1) == 0
    r.set("s", b"\x00\xff\xf0")
    assert r.bitpos("s", 1, 0) == 8
    assert r.bitpos("s", 1, 2) == 16
    assert r.bitpos("s", 1, 2, -1, "byte") == 16
    assert r.bitpos("s", 1, 7, 15, "bit") == 8
    assert r.bitpos("s", 1, 7, -3, "bit") == 8
    r.set("s", b"\x00\x00\x00")
    assert r.bitpos("s", 1) == -1
    assert r.bitpos("nokey", 0) == 0
    assert r.bitpos("nokey", 1) == -1
    r.set("e", "")
    assert r.bitpos("e", 0) == -1
    assert r.bitpos("e", 1) == -1


def test_bitpos_clear_bit_end_rule(r):
    r.set("s", b"\xff\xff\xff")
    # No end given: the string is considered zero-padded on the right.
    assert r.bitpos("s", 0) == 24
    assert r.bitpos("s", 0, 1) == 24
    assert r.bitpos("s", 0, 3, 20, "bit") == -1
    # An explicit end: no 0 in range means -1.
    assert r.bitpos("s", 0, 0, -1) == -1
    assert r.bitpos("s", 0, 0, -1, "bit") == -1
    assert r.bitpos("s", 1, 3, 20, "bit") == 3


def test_bitpos_errors(r):
    assert r.execute_command("bitpos", "nokey", 0, "a") == 0
    assert err(r, "bitpos", "nokey", 2) == "The bit argument must be 1 or 0."
    r.set("s", "foobar")
    assert err(r, "bitpos", "s", 2) == "The bit argument must be 1 or 0."
    assert err(r, "bitpos", "s", 0, "a") == "value is not an integer or out of range"
    assert err(r, "bitpos", "s", 0, 1, 2, 3, 4) == "syntax error"
    assert err(r, "bitpos", "s", 1, 1, 2, "bitx") == "syntax error"
    r.rpush("l", "a")
    assert err(r, "bitpos", "l", 1) == WRONGTYPE


def test_bitpos_random(r):
    rnd = random.Random(11)
    for _ in range(30):
        n = rnd.randint(1, 60)
        data = bytes(rnd.choice([0, 255, rnd.getrandbits(8)]) for _ in range(n))
        r.set("k", data)
        bits = bits_of(data)
        for _ in range(20):
            bit = rnd.randint(0, 1)
            s, e = rnd.randint(-70, 70), rnd.randint(-70, 70)
            isbit = rnd.random() < 0.5
            form = rnd.randint(0, 2)
            if form == 0:
                args, rng, end_given = [], model_range(n, 0, -1, False), False
            elif form == 1:
                args, rng, end_given = [s], model_range(n, s, -1, False), False
            else:
                args = [s, e] + (["bit"] if isbit else [])
                rng, end_given = model_range(n, s, e, isbit), True
            if rng is None:
                want = -1
            else:
                found = [i for i in range(rng[0], rng[1] + 1) if bits[i] == bit]
                if found:
                    want = found[0]
                elif bit == 0 and not end_given:
                    want = rng[1] + 1
                else:
                    want = -1
            assert r.execute_command("bitpos", "k", bit, *args) == want, (data, bit, args)


def test_bitop(r):
    r.set("a", b"\xff\x0f")
    r.set("b", b"\x0f")
    assert r.bitop("and", "d", "a", "b") == 2
    assert r.get("d") == b"\x0f\x00"
    assert r.bitop("or", "d", "a", "b") == 2
    assert r.get("d") == b"\xff\x0f"
    assert r.bitop("xor", "d", "a", "b", "nokey") == 2
    assert r.get("d") == b"\xf0\x0f"
    assert r.bitop("not", "d", "a") == 2
    assert r.get("d") == b"\x00\xf0"
    assert r.bitop("AND", "d", "a") == 2
    assert r.get("d") == b"\xff\x0f"
    # The destination may be a source.
    assert r.bitop("not", "a", "a") == 2
    assert r.get("a") == b"\x00\xf0"


def test_bitop_empty_result_deletes(r):
    r.set("d", "x", ex=100)
    assert r.bitop("or", "d", "n1", "n2") == 0
    assert r.exists("d") == 0
    r.set("d", "x", ex=100)
    r.set("s", "ab")
    assert r.bitop("or", "d", "s") == 2
    assert r.ttl("d") == -1
    r.rpush("l", "x")
    assert r.bitop("or", "l", "s") == 2
    assert r.type("l") == b"string"


def test_bitop_errors(r):
    assert err(r, "bitop", "not", "d", "a", "b") == "BITOP NOT must be called with a single source key."
    assert err(r, "bitop", "foo", "d", "a") == "syntax error"
    assert "wrong number of arguments" in err(r, "bitop", "and", "d")
    r.rpush("l", "x")
    r.set("s", "x")
    assert err(r, "bitop", "and", "d", "s", "l") == WRONGTYPE
    assert r.exists("d") == 0


def test_bitfield_basics(r):
    assert r.execute_command("bitfield", "k", "set", "u8", 0, 255, "get", "u8", 0) == [0, 255]
    assert r.execute_command("bitfield", "k", "get", "i8", 0, "get", "u4", 0, "get", "i4", 4) == [-1, 15, -1]
    assert r.execute_command("bitfield", "k", "incrby", "u8", 0, 1) == [0]
    assert r.execute_command("bitfield", "k", "set", "i16", "#1", -2, "get", "i16", 16) == [0, -2]
    assert r.get("k") == b"\x00\x00\xff\xfe"
    assert r.execute_command("bitfield", "k", "get", "u8", 1000) == [0]
    assert r.execute_command("bitfield", "nokey", "get", "i64", 0) == [0]
    assert r.exists("nokey") == 0
    assert r.execute_command("bitfield", "nokey") == []
    assert r.exists("nokey") == 0


def test_bitfield_overflow(r):
    bf = lambda *a: r.execute_command("bitfield", "w", *a)
    assert bf("incrby", "u2", 100, 1, "incrby", "u2", 100, 1, "incrby", "u2", 100, 1,
              "incrby", "u2", 100, 1) == [1, 2, 3, 0]
    assert bf("overflow", "sat", "incrby", "u2", 100, 5, "incrby", "u2", 100, -9,
              "incrby", "i5", 0, 100, "incrby", "i5", 0, -100) == [3, 0, 15, -16]
    assert bf("overflow", "fail", "incrby", "u2", 100, 5, "incrby", "i5", 0, -100,
              "incrby", "i5", 0, 1) == [None, None, -15]
    assert bf("overflow", "wrap", "incrby", "i5", 0, 100, "set", "i8", "#3", -128,
              "set", "i8", "#3", 128, "get", "i8", "#3", "get", "u8", "#3") == [-11, 0, -128, -128, 128]
    r.delete("w")
    assert bf("set", "i64", 0, -1, "get", "u63", 0, "get", "i64", 0) == [0, (1 << 63) - 1, -1]
    assert bf("get", "u63", 0, "get", "i64", 0) == [(1 << 63) - 1, -1]
    assert bf("incrby", "i64", 0, -(1 << 63)) == [(1 << 63) - 1]
    assert bf("overflow", "sat", "set", "i16", 0, 40000, "get", "i16", 0,
              "set", "i16", 0, -40000, "get", "i16", 0) == [32767, 32767, 32767, -32768]
    # Unsigned SET takes the value as an unsigned 64-bit number: -1 is huge.
    r.delete("w")
    assert bf("overflow", "sat", "set", "u8", 0, -1, "get", "u8", 0) == [0, 255]
    assert bf("overflow", "fail", "set", "u8", 0, -1) == [None]
    r.delete("w")
    assert bf("set", "u8", 0, -1) == [0]
    assert bf("get", "u8", 0) == [255]


def test_bitfield_fail_still_creates_key(r):
    assert r.execute_command("bitfield", "k", "overflow", "fail", "set", "u8", 0, 300) == [None]
    assert r.get("k") == b"\x00"


def test_bitfield_errors(r):
    bf = lambda *a: err(r, "bitfield", "b", *a)
    assert bf("get", "u64", 0) == ERR_TYPE
    assert bf("get", "i65", 0) == ERR_TYPE
    assert bf("get", "u0", 0) == ERR_TYPE
    assert bf("get", "x8", 0) == ERR_TYPE
    assert bf("get", "i", 0) == ERR_TYPE
    assert bf("get", "i8", "#-1") == ERR_OFFSET
    assert bf("get", "i8", -1) == ERR_OFFSET
    assert bf("get", "i8", "#9223372036854775807") == ERR_OFFSET
    assert bf("get", "i8", "#1152921504606846976") == ERR_OFFSET
    assert bf("get", "i8", 4294967296) == ERR_OFFSET
    assert bf("get", "i8") == "syntax error"
    assert bf("foo", "i8", 0) == "syntax error"
    assert bf("set", "i8", 0, "x") == "value is not an integer or out of range"
    assert bf("overflow", "foo") == "Invalid OVERFLOW type specified"
    # Nothing runs when any operation is invalid.
    assert err(r, "bitfield", "b", "set", "u8", 0, 1, "get", "u64", 0) == ERR_TYPE
    assert r.exists("b") == 0
    r.rpush("l", "x")
    assert err(r, "bitfield", "l", "get", "u8", 0) == WRONGTYPE
    assert err(r, "bitfield_ro", "l", "get", "u8", 0) == WRONGTYPE


def test_bitfield_ro(r):
    r.set("k", b"\xff")
    assert r.execute_command("bitfield_ro", "k", "get", "u4", 0, "get", "i8", 0) == [15, -1]
    assert r.execute_command("bitfield_ro", "k", "overflow", "sat", "get", "u8", 0) == [255]
    assert r.execute_command("bitfield_ro", "nokey", "get", "u8", 0) == [0]
    assert err(r, "bitfield_ro", "k", "set", "u8", 0, 1) == "BITFIELD_RO only supports the GET subcommand"
    assert err(r, "bitfield_ro", "k", "incrby", "u8", 0, 1) == "BITFIELD_RO only supports the GET subcommand"
    assert err(r, "bitfield_ro", "k", "get", "u64", 0) == ERR_TYPE
    assert r.get("k") == b"\xff"


def test_bitfield_random_roundtrip(r):
    rnd = random.Random(3)
    for _ in range(200):
        signed = rnd.random() < 0.5
        bits = rnd.randint(1, 64 if signed else 63)
        off = rnd.randint(0, 200)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        v = rnd.randint(lo, hi)
        t = ("i" if signed else "u") + str(bits)
        r.execute_command("bitfield", "k", "set", t, off, v)
        assert r.execute_command("bitfield", "k", "get", t, off) == [v]


def test_bitfield_sat_set_far_below_range(r):
    # Redis saturates to the maximum when max - value overflows 64 bits.
    bf = lambda *a: r.execute_command("bitfield", "q", "overflow", "sat", *a)
    assert bf("set", "i63", 0, -5000000000000000000, "get", "i63", 0)[1] == (1 << 62) - 1
    assert bf("set", "i62", 0, -5000000000000000000, "get", "i62", 0)[1] == -(1 << 61)
    assert bf("set", "i62", 0, -9000000000000000000, "get", "i62", 0)[1] == (1 << 61) - 1
    assert bf("set", "i8", 0, -9223372036854775800, "get", "i8", 0)[1] == 127
    assert bf("set", "i8", 0, -9223372036854775000, "get", "i8", 0)[1] == -128
    assert bf("set", "i64", 0, -9223372036854775808, "get", "i64", 0)[1] == -(1 << 63)
