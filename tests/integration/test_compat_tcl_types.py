"""Regression tests for incompatibilities found by running Redis 7.0's own
TCL data-type units (unit/type/*, bitops, hyperloglog, geo, sort) against
Keel.

Each test names the TCL test that exposed the problem. They check Redis's
observable behaviour only, so the file also passes against real Redis:

    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q \\
        tests/integration/test_compat_tcl_types.py
"""

import pytest
import redis

from keel_helpers import cmd as raw_cmd

DBL_MAX_DIGITS = (
    "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878"
    "171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075"
    "868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026"
    "184124858368.00000000000000000"
)


# ---- unit/type/zset: "ZRANGESTORE BYSCORE REV LIMIT" ----

def test_zrangestore_rev_stores_an_ordered_zset(r):
    # The REV range was stored in descending order, so the new key's
    # ZRANGE came out backwards.
    r.zadd("z1", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.execute_command("ZRANGESTORE", "z2", "z1", 5, 0, "BYSCORE", "REV", "LIMIT", 0, 2) == 2
    assert r.zrange("z2", 0, -1, withscores=True) == [(b"c", 3.0), (b"d", 4.0)]
    assert r.zrank("z2", "c") == 0
    assert r.execute_command("ZRANGESTORE", "z3", "z1", 0, -1, "REV") == 4
    assert r.zrange("z3", 0, -1) == [b"a", b"b", b"c", b"d"]


# ---- unit/type/zset: "zset score double range" ----

def test_zadd_accepts_dbl_max_written_out_in_full(r):
    # A score longer than 255 characters was rejected as "not a valid float".
    assert r.zadd("zz", {"dblmax": DBL_MAX_DIGITS}) == 1
    assert r.zscore("zz", "dblmax") == 1.7976931348623157e+308
    assert r.zincrby("zz", "-" + DBL_MAX_DIGITS, "dblmax") == 0.0


def test_long_float_that_is_not_a_number_still_fails(r):
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.zadd("zz", {"m": "1" * 400 + "x"})


# ---- unit/type/zset: "ZPOPMIN/ZPOPMAX with negative count" ----

@pytest.mark.parametrize("cmd", ["ZPOPMIN", "ZPOPMAX"])
def test_zpop_negative_count_is_checked_before_the_type(r, cmd):
    r.set("zset", "foo")
    with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive$"):
        r.execute_command(cmd, "zset", -1)
    r.delete("zset")
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.execute_command(cmd, "zset", -2)
    r.zadd("zset", {"a": 1, "b": 2, "c": 3})
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.execute_command(cmd, "zset", -3)
    assert r.zcard("zset") == 3


def test_dirty_counter_counts_writes(r):
    before = int(r.info("persistence")["rdb_changes_since_last_save"])
    r.set("a", "1")
    r.setbit("b", 7, 1)
    r.incr("a")
    after = int(r.info("persistence")["rdb_changes_since_last_save"])
    assert after >= before + 3


def test_incrbyfloat_accepts_long_written_out_numbers(r):
    long_number = "1" + "0" * 300 + ".5"
    r.set("f", "0")
    got = r.execute_command("INCRBYFLOAT", "f", long_number)
    assert float(got) == float(long_number)
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("INCRBYFLOAT", "f", "1" * 6000)


def test_missing_key_answered_before_arguments_are_parsed(r):
    # Found by tests/fuzz/diff_commands.py: Redis looks the key up first.
    assert r.execute_command("LINDEX", "nokey", "notanumber") is None
    assert r.execute_command("GETEX", "nokey", "EX", "notanumber") is None
    r.rpush("l", "a")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("LINDEX", "l", "notanumber")
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("GETEX", "s", "EX", "notanumber")


@pytest.mark.parametrize("cmd,keys", [
    (["SORT", "abc", "STORE", "def"], [b"abc", b"def"]),
    (["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"], [b"d", b"a", b"b"]),
    (["ZINTER", "2", "a", "b"], [b"a", b"b"]),
    (["BLMPOP", "0", "2", "a", "b", "LEFT"], [b"a", b"b"]),
    (["SINTERCARD", "3", "a", "b", "c", "LIMIT", "1"], [b"a", b"b", b"c"]),
    (["MSET", "a", "1", "b", "2"], [b"a", b"b"]),
])
def test_command_getkeys_movable_keys(r, cmd, keys):
    assert raw_cmd(r, "COMMAND", "GETKEYS", *cmd) == keys


def test_command_getkeys_errors(r):
    with pytest.raises(redis.ResponseError, match="^Invalid arguments specified for command$"):
        raw_cmd(r, "COMMAND", "GETKEYS", "ZUNION", "5", "a", "b")
    with pytest.raises(redis.ResponseError, match="^The command has no key arguments$"):
        raw_cmd(r, "COMMAND", "GETKEYS", "PING", "x")
