"""Sorted-set commands, checked against Redis 7.0 behaviour.

Every test passes against /usr/bin/redis-server 7.0 too, except those
marked keel_only (Redis 7.2 features such as ZRANK ... WITHSCORE)."""

import random
import threading

import pytest
import redis

from keel_helpers import NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, cmd, err, wait_blocked


RANGE_FLOAT = "min or max is not a float"
RANGE_LEX = "min or max not valid string range item"


def enc(r, key):
    return cmd(r, "OBJECT", "ENCODING", key)


def flat(pairs):
    out = []
    for m, s in pairs:
        out += [m, s]
    return out


# --------------------------------------------------------------------------
# ZADD / ZINCRBY
# --------------------------------------------------------------------------

def test_zadd_basic_and_ch(r):
    assert cmd(r, "ZADD", "z", "1", "a", "2", "b") == 2
    assert cmd(r, "ZADD", "z", "1", "a", "3", "b", "4", "c") == 1
    assert cmd(r, "ZADD", "z", "CH", "1", "a", "5", "b", "6", "d") == 2
    assert cmd(r, "ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"a", b"1", b"c", b"4", b"b", b"5", b"d", b"6"]


def test_zadd_option_errors(r):
    assert err(r, "ZADD", "z", "XX", "NX", "1", "a") == \
        "XX and NX options at the same time are not compatible"
    for opts in (["GT", "LT"], ["GT", "NX"], ["LT", "NX"]):
        assert err(r, "ZADD", "z", *opts, "1", "a") == \
            "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", "1", "a", "2", "b") == \
        "INCR option supports a single increment-element pair"
    assert err(r, "ZADD", "z", "1", "a", "2") == SYNTAX
    assert err(r, "ZADD", "z", "NX", "1") == SYNTAX
    assert err(r, "ZADD", "z", "abc", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", "nan", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", "1", "a", "x", "b") == NOT_FLOAT
    assert cmd(r, "EXISTS", "z") == 0
    assert "wrong number of arguments" in err(r, "ZADD", "z", "1")


def test_zadd_nx_xx_gt_lt(r):
    cmd(r, "ZADD", "z", "5", "a")
    assert cmd(r, "ZADD", "z", "NX", "1", "a", "1", "b") == 1
    assert cmd(r, "ZSCORE", "z", "a") == b"5"
    assert cmd(r, "ZADD", "z", "XX", "1", "a", "1", "c") == 0
    assert cmd(r, "ZSCORE", "z", "a") == b"1"
    assert cmd(r, "ZSCORE", "z", "c") is None
    assert cmd(r, "ZADD", "z", "GT", "CH", "0", "a", "2", "b") == 1
    assert cmd(r, "ZMSCORE", "z", "a", "b") == [b"1", b"2"]
    assert cmd(r, "ZADD", "z", "LT", "CH", "0", "a", "3", "b", "7", "new") == 2
    assert cmd(r, "ZMSCORE", "z", "a", "b", "new") == [b"0", b"2", b"7"]
    # XX on a missing key creates nothing
    assert cmd(r, "ZADD", "nokey", "XX", "1", "a") == 0
    assert cmd(r, "ZADD", "nokey", "XX", "INCR", "1", "a") is None
    assert cmd(r, "EXISTS", "nokey") == 0


def test_zadd_incr(r):
    assert cmd(r, "ZADD", "z", "INCR", "1.5", "a") == b"1.5"
    assert cmd(r, "ZADD", "z", "INCR", "1", "a") == b"2.5"
    assert cmd(r, "ZADD", "z", "NX", "INCR", "1", "a") is None
    assert cmd(r, "ZADD", "z", "XX", "INCR", "1", "b") is None
    assert cmd(r, "ZADD", "z", "GT", "INCR", "-1", "a") is None
    assert cmd(r, "ZADD", "z", "INCR", "0", "a") == b"2.5"
    assert cmd(r, "ZADD", "z", "INCR", "inf", "a") == b"inf"
    assert err(r, "ZADD", "z", "INCR", "-inf", "a") == "resulting score is not a number (NaN)"
    assert cmd(r, "ZSCORE", "z", "a") == b"inf"


def test_zincrby(r):
    assert cmd(r, "ZINCRBY", "z", "2", "a") == b"2"
    assert cmd(r, "ZINCRBY", "z", "0.1", "a") == b"2.1000000000000001"
    assert cmd(r, "ZINCRBY", "z", "-2.1", "a") == b"0"
    assert err(r, "ZINCRBY", "z", "x", "a") == NOT_FLOAT
    cmd(r, "ZADD", "i", "inf", "a")
    assert err(r, "ZINCRBY", "i", "-inf", "a") == "resulting score is not a number (NaN)"
    cmd(r, "SET", "s", "x")
    assert err(r, "ZINCRBY", "s", "1", "a") == WRONGTYPE


def test_score_formatting_and_infinities(r):
    cmd(r, "ZADD", "z", "1.1", "a", "+inf", "b", "-inf", "c", "1e20", "d",
        "-0", "e", "3.0", "f", "1.5e-7", "g")
    assert cmd(r, "ZMSCORE", "z", "a", "b", "c", "d", "e", "f", "g", "nope") == [
        b"1.1000000000000001", b"inf", b"-inf", b"1e+20", b"0", b"3", b"1.4999999999999999e-07", None]
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"c", b"e", b"g", b"a", b"f", b"d", b"b"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "-inf") == [b"c"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "(1e20", "+inf") == [b"b"]
    assert cmd(r, "ZCOUNT", "z", "-inf", "+inf") == 7


def test_equal_scores_order_by_member(r):
    members = ["b", "a", "c", "aa", "", "B", "10", "9", "-1"]
    for m in members:
        cmd(r, "ZADD", "z", "1", m)
    expected = sorted(x.encode() for x in members)
    assert cmd(r, "ZRANGE", "z", "0", "-1") == expected
    assert cmd(r, "ZREVRANGE", "z", "0", "-1") == expected[::-1]
    assert cmd(r, "ZRANGEBYLEX", "z", "[a", "(b") == [b"a", b"aa"]


# --------------------------------------------------------------------------
# ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK
# --------------------------------------------------------------------------

def test_zrem_zcard_and_empty_key_deletion(r):
    cmd(r, "ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert cmd(r, "ZREM", "z", "a", "x", "a") == 1
    assert cmd(r, "ZCARD", "z") == 2
    assert cmd(r, "ZREM", "z", "b", "c") == 2
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZCARD", "z") == 0
    assert cmd(r, "ZREM", "z", "a") == 0
    cmd(r, "SET", "s", "x")
    for args in (["ZREM", "s", "a"], ["ZCARD", "s"], ["ZSCORE", "s", "a"], ["ZMSCORE", "s", "a"],
                 ["ZRANK", "s", "a"], ["ZRANGE", "s", "0", "1"], ["ZCOUNT", "s", "0", "1"]):
        assert err(r, *args) == WRONGTYPE


def test_zscore_zmscore_missing(r):
    assert cmd(r, "ZSCORE", "nokey", "a") is None
    assert cmd(r, "ZMSCORE", "nokey", "a", "b") == [None, None]
    assert "wrong number of arguments" in err(r, "ZMSCORE", "nokey")


def test_zrank_zrevrank(r):
    cmd(r, "ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert cmd(r, "ZRANK", "z", "a") == 0
    assert cmd(r, "ZRANK", "z", "c") == 2
    assert cmd(r, "ZREVRANK", "z", "a") == 2
    assert cmd(r, "ZRANK", "z", "x") is None
    assert cmd(r, "ZRANK", "nokey", "x") is None


@pytest.mark.keel_only
def test_zrank_withscore(r):
    cmd(r, "ZADD", "z", "1.5", "a", "2", "b")
    assert cmd(r, "ZRANK", "z", "b", "WITHSCORE") == [1, b"2"]
    assert cmd(r, "ZREVRANK", "z", "a", "WITHSCORE") == [1, b"1.5"]
    assert cmd(r, "ZRANK", "z", "x", "WITHSCORE") is None
    assert err(r, "ZRANK", "z", "a", "foo") == SYNTAX


# --------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------

@pytest.fixture
def abc(r):
    cmd(r, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    return r


def test_zrange_by_rank(abc):
    r = abc
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", "1", "2", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZRANGE", "z", "-2", "100") == [b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", "-100", "0") == [b"a"]
    assert cmd(r, "ZRANGE", "z", "3", "1") == []
    assert cmd(r, "ZRANGE", "z", "5", "10") == []
    assert cmd(r, "ZRANGE", "z", "0", "1", "REV") == [b"e", b"d"]
    assert cmd(r, "ZREVRANGE", "z", "0", "1", "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZRANGE", "nokey", "0", "-1") == []


def test_zrange_by_score(abc):
    r = abc
    assert cmd(r, "ZRANGE", "z", "(1", "3", "BYSCORE") == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", "3", "(1", "BYSCORE", "REV") == [b"c", b"b"]
    assert cmd(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2", "WITHSCORES") == [
        b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "1", "-1") == [b"c", b"d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "10", "2") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "0") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "(2", "(3") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "3", "2") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "2", "2", "WITHSCORES") == [b"b", b"2"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "+inf", "(3", "WITHSCORES", "LIMIT", "0", "1") == [
        b"e", b"5"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "2", "4") == []


def test_zrange_by_lex(r):
    cmd(r, "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert cmd(r, "ZRANGE", "z", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2") == [b"d", b"c"]
    assert cmd(r, "ZRANGEBYLEX", "z", "-", "+") == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGEBYLEX", "z", "+", "-") == []
    assert cmd(r, "ZRANGEBYLEX", "z", "(a", "[c", "LIMIT", "1", "5") == [b"c"]
    assert cmd(r, "ZREVRANGEBYLEX", "z", "[c", "-") == [b"c", b"b", b"a"]
    assert cmd(r, "ZLEXCOUNT", "z", "(a", "+") == 4
    assert cmd(r, "ZLEXCOUNT", "z", "[e", "(a") == 0


def test_zrange_syntax_errors(abc):
    r = abc
    assert err(r, "ZRANGE", "z", "0", "-1", "LIMIT", "0", "1") == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(r, "ZRANGE", "z", "[a", "[b", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGE", "z", "0", "1", "REV", "REV") == SYNTAX
    assert err(r, "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX") == SYNTAX
    assert err(r, "ZRANGE", "z", "0", "1", "LIMIT", "1") == SYNTAX
    assert err(r, "ZRANGE", "z", "0", "1", "FOO") == SYNTAX
    assert err(r, "ZRANGE", "z", "a", "b") == NOT_INT
    assert err(r, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1") == NOT_INT
    assert err(r, "ZRANGEBYSCORE", "z", "a", "b") == RANGE_FLOAT
    assert cmd(r, "ZCOUNT", "z", "(", "1") == 1  # strtod's grammar: "" is 0
    assert cmd(r, "ZCOUNT", "z", " 1", "0x2") == 2
    assert err(r, "ZRANGEBYSCORE", "z", "nan", "1") == RANGE_FLOAT
    assert err(r, "ZRANGEBYLEX", "z", "a", "b") == RANGE_LEX
    assert err(r, "ZRANGEBYLEX", "z", "", "+") == RANGE_LEX
    assert err(r, "ZRANGEBYLEX", "z", "-a", "+") == RANGE_LEX
    assert err(r, "ZRANGEBYSCORE", "z", "0", "1", "BYLEX") == SYNTAX
    assert err(r, "ZREVRANGE", "z", "0", "1", "REV") == SYNTAX
    assert err(r, "ZCOUNT", "z", "x", "1") == RANGE_FLOAT
    assert err(r, "ZLEXCOUNT", "z", "x", "+") == RANGE_LEX
    assert err(r, "ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES") == SYNTAX


def test_zcount(abc):
    r = abc
    assert cmd(r, "ZCOUNT", "z", "2", "4") == 3
    assert cmd(r, "ZCOUNT", "z", "(2", "(4") == 1
    assert cmd(r, "ZCOUNT", "z", "-inf", "+inf") == 5
    assert cmd(r, "ZCOUNT", "z", "6", "+inf") == 0
    assert cmd(r, "ZCOUNT", "nokey", "0", "1") == 0


def test_zrangestore(abc):
    r = abc
    assert cmd(r, "ZRANGESTORE", "dst", "z", "1", "3") == 3
    assert cmd(r, "ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"b", b"2", b"c", b"3", b"d", b"4"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", "+inf", "(3", "BYSCORE", "REV", "LIMIT", "0", "1") == 1
    assert cmd(r, "ZRANGE", "dst", "0", "-1") == [b"e"]
    # into itself
    assert cmd(r, "ZRANGESTORE", "z", "z", "0", "1") == 2
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"a", b"b"]
    # empty result deletes the destination; missing source too
    assert cmd(r, "ZRANGESTORE", "dst", "z", "10", "20") == 0
    assert cmd(r, "EXISTS", "dst") == 0
    cmd(r, "SET", "dst", "x")
    assert cmd(r, "ZRANGESTORE", "dst", "nokey", "0", "-1") == 0
    assert cmd(r, "EXISTS", "dst") == 0
    cmd(r, "SET", "s", "x")
    assert err(r, "ZRANGESTORE", "dst", "s", "0", "-1") == WRONGTYPE


def test_zremrange(r):
    def fill():
        cmd(r, "DEL", "z")
        cmd(r, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")

    fill()
    assert cmd(r, "ZREMRANGEBYRANK", "z", "1", "-2") == 3
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"a", b"e"]
    assert cmd(r, "ZREMRANGEBYRANK", "z", "5", "10") == 0
    fill()
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "(1", "3") == 2
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"a", b"d", b"e"]
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert cmd(r, "EXISTS", "z") == 0
    cmd(r, "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d")
    assert cmd(r, "ZREMRANGEBYLEX", "z", "(a", "[c") == 2
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [b"a", b"d"]
    assert cmd(r, "ZREMRANGEBYLEX", "z", "-", "+") == 2
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZREMRANGEBYRANK", "nokey", "0", "-1") == 0
    assert err(r, "ZREMRANGEBYRANK", "z", "a", "1") == NOT_INT
    assert err(r, "ZREMRANGEBYSCORE", "z", "a", "1") == RANGE_FLOAT
    assert err(r, "ZREMRANGEBYLEX", "z", "a", "+") == RANGE_LEX


# --------------------------------------------------------------------------
# Pops
# --------------------------------------------------------------------------

def test_zpopmin_zpopmax(abc):
    r = abc
    assert cmd(r, "ZPOPMIN", "z") == [b"a", b"1"]
    assert cmd(r, "ZPOPMAX", "z", "2") == [b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZPOPMIN", "z", "0") == []
    assert cmd(r, "ZPOPMIN", "z", "10") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZPOPMIN", "z") == []
    assert err(r, "ZPOPMIN", "z", "-1") == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", "x") == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", "1", "2") == SYNTAX
    cmd(r, "SET", "s", "x")
    assert err(r, "ZPOPMIN", "s", "0") == WRONGTYPE


def test_zmpop(r):
    cmd(r, "ZADD", "z2", "1", "a", "2", "b", "3", "c")
    assert cmd(r, "ZMPOP", "2", "z1", "z2", "MIN") == [b"z2", [[b"a", b"1"]]]
    assert cmd(r, "ZMPOP", "1", "z2", "MAX", "COUNT", "5") == [b"z2", [[b"c", b"3"], [b"b", b"2"]]]
    assert cmd(r, "EXISTS", "z2") == 0
    assert cmd(r, "ZMPOP", "1", "z2", "MIN") is None
    assert err(r, "ZMPOP", "0", "z", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", "-1", "z", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", "3", "z", "MIN") == SYNTAX
    assert err(r, "ZMPOP", "1", "z", "FOO") == SYNTAX
    assert err(r, "ZMPOP", "1", "z", "MIN", "COUNT") == SYNTAX
    assert err(r, "ZMPOP", "1", "z", "MIN", "COUNT", "0") == "count should be greater than 0"
    assert err(r, "ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2") == SYNTAX


def test_bzpop_immediate_and_timeout(r):
    cmd(r, "ZADD", "z", "1", "a", "2", "b")
    assert cmd(r, "BZPOPMIN", "nokey", "z", "0") == [b"z", b"a", b"1"]
    assert cmd(r, "BZPOPMAX", "z", "0") == [b"z", b"b", b"2"]
    assert cmd(r, "BZPOPMIN", "z", "0.05") is None
    assert cmd(r, "BZMPOP", "0.05", "1", "z", "MIN") is None
    assert err(r, "BZPOPMIN", "z", "-1") == "timeout is negative"
    assert err(r, "BZPOPMIN", "z", "x") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", "-1", "1", "z", "MIN") == "timeout is negative"
    cmd(r, "SET", "s", "x")
    assert err(r, "BZPOPMIN", "s", "0") == WRONGTYPE


def _blocked_pop(server, args, out):
    c = redis.Redis(host=server.host, port=server.port, socket_timeout=10)
    try:
        out.append(cmd(c, *args))
    finally:
        c.connection_pool.disconnect()


@pytest.mark.parametrize("args,expected", [
    (["BZPOPMIN", "z1", "z2", "5"], [b"z2", b"m", b"3"]),
    (["BZPOPMAX", "z2", "5"], [b"z2", b"m", b"3"]),
    (["BZMPOP", "5", "2", "z1", "z2", "MAX", "COUNT", "2"], [b"z2", [[b"m", b"3"]]]),
])
def test_bzpop_wakes_up(r, server, args, expected):
    out = []
    t = threading.Thread(target=_blocked_pop, args=(server, args, out))
    t.start()
    wait_blocked(r)
    cmd(r, "ZADD", "z2", "3", "m")
    t.join(10)
    assert out == [expected]
    assert cmd(r, "EXISTS", "z2") == 0


# --------------------------------------------------------------------------
# ZRANDMEMBER
# --------------------------------------------------------------------------

def test_zrandmember(r):
    assert cmd(r, "ZRANDMEMBER", "nokey") is None
    assert cmd(r, "ZRANDMEMBER", "nokey", "5") == []
    members = {str(i).encode(): str(i * 2).encode() for i in range(20)}
    for m, s in members.items():
        cmd(r, "ZADD", "z", s, m)
    assert cmd(r, "ZRANDMEMBER", "z") in members
    got = cmd(r, "ZRANDMEMBER", "z", "5")
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= set(members)
    got = cmd(r, "ZRANDMEMBER", "z", "50")
    assert sorted(got) == sorted(members)
    got = cmd(r, "ZRANDMEMBER", "z", "-50", "WITHSCORES")
    assert len(got) == 100
    for m, s in zip(got[::2], got[1::2]):
        assert members[m] == s
    assert cmd(r, "ZRANDMEMBER", "z", "0") == []
    assert err(r, "ZRANDMEMBER", "z", "x") == NOT_INT
    assert err(r, "ZRANDMEMBER", "z", "1", "foo") == SYNTAX
    assert err(r, "ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES") == "value is out of range"


def test_zrandmember_large_distinct(r):
    cmd(r, "ZADD", "z", *flat((str(i), "m%d" % i) for i in range(500)))
    got = cmd(r, "ZRANDMEMBER", "z", "300")
    assert len(got) == 300 and len(set(got)) == 300


# --------------------------------------------------------------------------
# Set operations
# --------------------------------------------------------------------------

@pytest.fixture
def two(r):
    cmd(r, "ZADD", "z1", "1", "a", "2", "b", "3", "c")
    cmd(r, "ZADD", "z2", "10", "b", "20", "c", "30", "d")
    return r


def test_zunion_zinter_zdiff(two):
    r = two
    assert cmd(r, "ZUNION", "2", "z1", "z2", "WITHSCORES") == [
        b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert cmd(r, "ZINTER", "2", "z1", "z2", "WITHSCORES") == [b"b", b"12", b"c", b"23"]
    assert cmd(r, "ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES") == [
        b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "-1", "AGGREGATE", "MAX",
               "WITHSCORES") == [b"d", b"-30", b"a", b"2", b"b", b"4", b"c", b"6"]
    assert cmd(r, "ZDIFF", "2", "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert cmd(r, "ZDIFF", "1", "z1") == [b"a", b"b", b"c"]
    assert cmd(r, "ZUNION", "2", "z1", "nokey") == [b"a", b"b", b"c"]
    assert cmd(r, "ZINTER", "2", "z1", "nokey") == []


def test_store_variants(two):
    r = two
    assert cmd(r, "ZUNIONSTORE", "d", "2", "z1", "z2") == 4
    assert cmd(r, "ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert cmd(r, "ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "1", "0") == 2
    assert cmd(r, "ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZDIFFSTORE", "d", "2", "z2", "z1") == 1
    assert cmd(r, "ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"d", b"30"]
    # destination is also a source
    assert cmd(r, "ZUNIONSTORE", "z1", "2", "z1", "z1") == 3
    assert cmd(r, "ZRANGE", "z1", "0", "-1", "WITHSCORES") == [b"a", b"2", b"b", b"4", b"c", b"6"]
    # empty result deletes the destination, whatever it held
    cmd(r, "SET", "d", "x")
    assert cmd(r, "ZINTERSTORE", "d", "2", "z1", "nokey") == 0
    assert cmd(r, "EXISTS", "d") == 0


def test_setops_with_plain_sets(two):
    r = two
    cmd(r, "SADD", "s", "a", "d", "x")
    assert cmd(r, "ZUNION", "2", "z1", "s", "WITHSCORES") == [
        b"d", b"1", b"x", b"1", b"a", b"2", b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZINTER", "2", "s", "z2", "WEIGHTS", "5", "1", "WITHSCORES") == [b"d", b"35"]
    assert cmd(r, "ZDIFF", "2", "s", "z1") == [b"d", b"x"]
    assert cmd(r, "ZINTERCARD", "2", "s", "z1") == 1


def test_setop_aggregate_edge_cases(r):
    cmd(r, "ZADD", "a", "inf", "x", "1", "y")
    cmd(r, "ZADD", "b", "-inf", "x", "2", "y")
    assert cmd(r, "ZUNION", "2", "a", "b", "WITHSCORES") == [b"x", b"0", b"y", b"3"]
    assert cmd(r, "ZUNION", "2", "a", "b", "WEIGHTS", "0", "1", "WITHSCORES") == [
        b"x", b"-inf", b"y", b"2"]
    assert cmd(r, "ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES") == [
        b"y", b"2", b"x", b"inf"]


def test_setop_errors(two):
    r = two
    assert err(r, "ZUNIONSTORE", "d", "0", "z1") == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZINTER", "0", "z1") == "at least 1 input key is needed for 'zinter' command"
    assert err(r, "ZDIFF", "0", "z1") == "at least 1 input key is needed for 'zdiff' command"
    assert err(r, "ZINTERSTORE", "d", "2", "z1") == SYNTAX
    assert err(r, "ZUNION", "x", "z1") == NOT_INT
    assert err(r, "ZUNION", "1", "z1", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNION", "2", "z1", "z2", "WEIGHTS", "1") == SYNTAX
    assert err(r, "ZUNIONSTORE", "d", "1", "z1", "AGGREGATE", "foo") == SYNTAX
    assert err(r, "ZINTERSTORE", "d", "1", "z1", "WITHSCORES") == SYNTAX
    assert err(r, "ZDIFF", "1", "z1", "WEIGHTS", "1") == SYNTAX
    assert err(r, "ZDIFF", "1", "z1", "AGGREGATE", "SUM") == SYNTAX
    cmd(r, "SET", "str", "x")
    assert err(r, "ZUNION", "2", "z1", "str") == WRONGTYPE
    assert err(r, "ZUNIONSTORE", "d", "1", "str") == WRONGTYPE


def test_zintercard(two):
    r = two
    assert cmd(r, "ZINTERCARD", "2", "z1", "z2") == 2
    assert cmd(r, "ZINTERCARD", "2", "z1", "z2", "LIMIT", "1") == 1
    assert cmd(r, "ZINTERCARD", "2", "z1", "z2", "LIMIT", "0") == 2
    assert cmd(r, "ZINTERCARD", "2", "z1", "nokey") == 0
    assert err(r, "ZINTERCARD", "0", "z1") == \
        "at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZINTERCARD", "2", "z1") == SYNTAX
    assert err(r, "ZINTERCARD", "1", "z1", "LIMIT", "-1") == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", "1", "z1", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", "1", "z1", "LIMIT") == SYNTAX


# --------------------------------------------------------------------------
# ZSCAN
# --------------------------------------------------------------------------

def _full_scan(r, key, *opts):
    cursor, seen = b"0", {}
    for _ in range(100000):
        cursor, items = cmd(r, "ZSCAN", key, cursor, *opts)
        for m, s in zip(items[::2], items[1::2]):
            seen[m] = s
        if cursor == b"0":
            return seen
    raise AssertionError("scan did not terminate")


@pytest.mark.parametrize("n", [10, 1000])
def test_zscan_returns_everything(r, n):
    cmd(r, "ZADD", "z", *flat((str(i / 2), "m%d" % i) for i in range(n)))
    seen = _full_scan(r, "z", "COUNT", "20")
    assert len(seen) == n
    assert seen[b"m3"] == b"1.5"
    matched = _full_scan(r, "z", "MATCH", "m1*")
    assert set(matched) == {("m%d" % i).encode() for i in range(n) if str(i).startswith("1")}


def test_zscan_guarantee_under_modification(r):
    """Members present for the whole scan are returned at least once."""
    cmd(r, "ZADD", "z", *flat((str(i), "keep%d" % i) for i in range(400)))
    cursor, seen, extra = b"0", set(), 0
    while True:
        cursor, items = cmd(r, "ZSCAN", "z", cursor, "COUNT", "10")
        seen.update(items[::2])
        cmd(r, "ZADD", "z", *flat((str(extra + j), "new%d" % (extra + j)) for j in range(25)))
        extra += 25
        if cursor == b"0":
            break
    assert {("keep%d" % i).encode() for i in range(400)} <= seen


def test_zscan_errors(r):
    assert cmd(r, "ZSCAN", "nokey", "0") == [b"0", []]
    assert cmd(r, "ZSCAN", "nokey", "0", "COUNT", "0") == [b"0", []]
    cmd(r, "ZADD", "z", "1", "a")
    assert err(r, "ZSCAN", "z", "x") == "invalid cursor"
    assert err(r, "ZSCAN", "z", "0", "COUNT", "0") == SYNTAX
    assert err(r, "ZSCAN", "z", "0", "FOO", "1") == SYNTAX


# --------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------

def test_listpack_to_skiplist_by_count(r):
    cmd(r, "ZADD", "z", *flat((str(i), "m%d" % i) for i in range(128)))
    assert enc(r, "z") == b"listpack"
    cmd(r, "ZADD", "z", "1000", "extra")
    assert enc(r, "z") == b"skiplist"
    # never converted back by removals
    cmd(r, "ZREMRANGEBYRANK", "z", "0", "-3")
    assert enc(r, "z") == b"skiplist"
    assert cmd(r, "ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"m127", b"127", b"extra", b"1000"]


def test_listpack_to_skiplist_by_value_length(r):
    cmd(r, "ZADD", "z", "1", "a" * 64)
    assert enc(r, "z") == b"listpack"
    cmd(r, "ZADD", "z", "2", "b" * 65)
    assert enc(r, "z") == b"skiplist"
    cmd(r, "ZADD", "big", "1", "c" * 65)
    assert enc(r, "big") == b"skiplist"
    assert cmd(r, "ZSCORE", "z", "b" * 65) == b"2"


def test_store_paths_choose_encoding_from_result(r):
    cmd(r, "ZADD", "z", *flat((str(i), "m%d" % i) for i in range(200)))
    assert enc(r, "z") == b"skiplist"
    assert cmd(r, "ZRANGESTORE", "small", "z", "0", "9") == 10
    assert enc(r, "small") == b"listpack"
    assert cmd(r, "ZUNIONSTORE", "u", "1", "z") == 200
    assert enc(r, "u") == b"skiplist"
    cmd(r, "ZREMRANGEBYRANK", "z", "10", "-1")
    assert cmd(r, "ZUNIONSTORE", "u2", "1", "z") == 10
    assert enc(r, "u2") == b"listpack"


def test_small_config_limits(r):
    old = cmd(r, "CONFIG", "GET", "zset-max-listpack-entries")[1]
    old_v = cmd(r, "CONFIG", "GET", "zset-max-listpack-value")[1]
    try:
        cmd(r, "CONFIG", "SET", "zset-max-listpack-entries", "4")
        cmd(r, "CONFIG", "SET", "zset-max-listpack-value", "8")
        cmd(r, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
        assert enc(r, "z") == b"listpack"
        cmd(r, "ZADD", "z", "5", "e")
        assert enc(r, "z") == b"skiplist"
        cmd(r, "ZADD", "v", "1", "12345678")
        assert enc(r, "v") == b"listpack"
        cmd(r, "ZADD", "v", "1", "123456789")
        assert enc(r, "v") == b"skiplist"
        cmd(r, "CONFIG", "SET", "zset-max-listpack-entries", "0")
        cmd(r, "ZADD", "zero", "1", "a")
        assert enc(r, "zero") == b"skiplist"
        assert cmd(r, "ZRANGE", "zero", "0", "-1", "WITHSCORES") == [b"a", b"1"]
    finally:
        cmd(r, "CONFIG", "SET", "zset-max-listpack-entries", old)
        cmd(r, "CONFIG", "SET", "zset-max-listpack-value", old_v)


def _model_check(r, key, model):
    pairs = sorted(model.items(), key=lambda kv: (kv[1], kv[0]))
    got = cmd(r, "ZRANGE", key, "0", "-1", "WITHSCORES")
    assert got[::2] == [m for m, _ in pairs]
    assert [float(s) for s in got[1::2]] == [s for _, s in pairs]
    assert cmd(r, "ZCARD", key) == len(model)
    return pairs


@pytest.mark.parametrize("size", [60, 400])
def test_randomised_against_model(r, size):
    """Same operations on both encodings, compared with a Python model."""
    rnd = random.Random(size)
    model = {}
    for step in range(1500):
        op = rnd.random()
        m = ("m%d" % rnd.randrange(size)).encode()
        if op < 0.5:
            s = float(rnd.randrange(-50, 50)) / 2
            cmd(r, "ZADD", "z", repr(s), m)
            model[m] = s
        elif op < 0.65:
            s = float(rnd.randrange(-4, 4))
            got = float(cmd(r, "ZINCRBY", "z", repr(s), m))
            model[m] = model.get(m, 0.0) + s
            assert got == model[m]
        elif op < 0.8:
            assert cmd(r, "ZREM", "z", m) == (1 if m in model else 0)
            model.pop(m, None)
        else:
            pairs = sorted(model.items(), key=lambda kv: (kv[1], kv[0]))
            if m in model:
                assert cmd(r, "ZRANK", "z", m) == pairs.index((m, model[m]))
            lo, hi = sorted([rnd.randrange(-30, 30) / 2, rnd.randrange(-30, 30) / 2])
            expect = [p[0] for p in pairs if lo < p[1] <= hi]
            assert cmd(r, "ZRANGEBYSCORE", "z", "(%r" % lo, repr(hi)) == expect
            assert cmd(r, "ZCOUNT", "z", "(%r" % lo, repr(hi)) == len(expect)
            assert cmd(r, "ZREVRANGEBYSCORE", "z", repr(hi), "(%r" % lo) == expect[::-1]
    _model_check(r, "z", model)
    assert enc(r, "z") == (b"listpack" if size <= 128 else b"skiplist")


def test_ten_thousand_members(r):
    n = 10000
    pipe = r.pipeline(transaction=False)
    for base in range(0, n, 1000):
        pipe.execute_command("ZADD", "z", *flat((str(i % 100), "m%05d" % i)
                                                for i in range(base, base + 1000)))
    pipe.execute()
    assert cmd(r, "ZCARD", "z") == n
    assert enc(r, "z") == b"skiplist"
    # equal scores are ordered by member
    assert cmd(r, "ZRANGE", "z", "0", "2") == [b"m00000", b"m00100", b"m00200"]
    assert cmd(r, "ZRANK", "z", "m09999") == n - 1
    assert cmd(r, "ZREVRANK", "z", "m00000") == n - 1
    assert cmd(r, "ZCOUNT", "z", "10", "(20") == 1000
    assert cmd(r, "ZRANGEBYSCORE", "z", "99", "99", "LIMIT", "99", "5") == [b"m09999"]
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "50", "+inf") == 5000
    assert cmd(r, "ZREMRANGEBYRANK", "z", "0", "999") == 1000
    assert cmd(r, "ZCARD", "z") == 4000
    assert cmd(r, "ZPOPMIN", "z")[0] == b"m00010"
    assert len(cmd(r, "ZRANGE", "z", "0", "-1")) == 3999
    assert cmd(r, "ZINTERCARD", "2", "z", "z") == 3999


def test_copy_and_memory_usage(r):
    cmd(r, "ZADD", "small", "1", "a", "2", "b")
    cmd(r, "ZADD", "big", *flat((str(i), "m%d" % i) for i in range(300)))
    for key in ("small", "big"):
        assert cmd(r, "COPY", key, key + "2") == 1
        assert cmd(r, "ZRANGE", key + "2", "0", "-1", "WITHSCORES") == \
            cmd(r, "ZRANGE", key, "0", "-1", "WITHSCORES")
        assert enc(r, key + "2") == enc(r, key)
    cmd(r, "ZADD", "big2", "1000", "new")
    assert cmd(r, "ZCARD", "big") == 300
    assert cmd(r, "MEMORY", "USAGE", "big") > cmd(r, "MEMORY", "USAGE", "small")


def test_type_and_binary_members(r):
    m = b"\x00\xffbin\r\nary"
    cmd(r, "ZADD", "z", "1", m, "2", "12345", "3", "-7")
    assert cmd(r, "TYPE", "z") == b"zset"
    assert cmd(r, "ZSCORE", "z", m) == b"1"
    assert cmd(r, "ZRANGE", "z", "0", "-1") == [m, b"12345", b"-7"]
    assert cmd(r, "ZSCORE", "z", "12345") == b"2"
    assert cmd(r, "ZRANK", "z", "-7") == 2


# --------------------------------------------------------------------------
# RESP3 reply shapes
# --------------------------------------------------------------------------

def test_resp3_shapes(raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.cmd("ZADD", "r3", "1", "a", "2.5", "b")
    assert c.cmd("ZSCORE", "r3", "b") == 2.5
    assert c.cmd("ZRANGE", "r3", "0", "-1", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert c.cmd("ZRANGE", "r3", "0", "-1") == [b"a", b"b"]
    assert c.cmd("ZUNION", "1", "r3", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert c.cmd("ZMSCORE", "r3", "a", "x")[0] == 1.0
    assert c.cmd("ZRANDMEMBER", "r3", "-1", "WITHSCORES")[0][0] in (b"a", b"b")
    assert c.cmd("ZSCAN", "r3", "0") == [b"0", [b"a", b"1", b"b", b"2.5"]]
    assert c.cmd("ZPOPMIN", "r3") == [b"a", 1.0]
    c.cmd("ZADD", "r3", "1", "a")
    assert c.cmd("ZPOPMIN", "r3", "1") == [[b"a", 1.0]]
    assert c.cmd("ZMPOP", "1", "r3", "MAX") == [b"r3", [[b"b", 2.5]]]
    c.cmd("ZADD", "r3", "1", "a")
    assert c.cmd("BZPOPMIN", "r3", "0") == [b"r3", b"a", 1.0]
    c.cmd("DEL", "r3")
