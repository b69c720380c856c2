"""SORT and SORT_RO on lists, sets and sorted sets, checked against Redis 7.0."""

import pytest

from keel_helpers import WRONGTYPE, cmd, err


pytestmark = pytest.mark.usefixtures("flush_after")


NOT_DOUBLE = "One or more scores can't be converted into double"


def sort(r, *args):
    return r.execute_command("sort", *args)


@pytest.fixture
def lst(r):
    cmd(r, "rpush", "l", 3, 1, 2, 10, 5)
    return r


def test_sort_list_numeric_and_alpha(lst):
    r = lst
    assert sort(r, "l") == [b"1", b"2", b"3", b"5", b"10"]
    assert sort(r, "l", "desc") == [b"10", b"5", b"3", b"2", b"1"]
    assert sort(r, "l", "alpha") == [b"1", b"10", b"2", b"3", b"5"]
    assert sort(r, "l", "alpha", "desc") == [b"5", b"3", b"2", b"10", b"1"]
    assert sort(r, "l", "asc", "desc", "asc") == [b"1", b"2", b"3", b"5", b"10"]
    assert r.execute_command("sort_ro", "l", "desc") == [b"10", b"5", b"3", b"2", b"1"]


def test_sort_limit(lst):
    r = lst
    assert sort(r, "l", "limit", 1, 2) == [b"2", b"3"]
    assert sort(r, "l", "limit", -1, 2) == [b"1", b"2"]
    assert sort(r, "l", "limit", 10, 2) == []
    assert sort(r, "l", "limit", 1, -1) == [b"2", b"3", b"5", b"10"]
    assert sort(r, "l", "limit", 0, 0) == []
    assert sort(r, "l", "limit", 3, 100) == [b"5", b"10"]
    assert sort(r, "l", "desc", "limit", 0, 2) == [b"10", b"5"]


def test_sort_nosort(lst):
    r = lst
    assert sort(r, "l", "by", "nosort") == [b"3", b"1", b"2", b"10", b"5"]
    assert sort(r, "l", "by", "nosort", "desc") == [b"5", b"10", b"2", b"1", b"3"]
    assert sort(r, "l", "by", "nosort", "limit", 1, 2) == [b"1", b"2"]
    assert sort(r, "l", "by", "nosort", "desc", "limit", 1, 2) == [b"10", b"2"]
    # No '*' means no sorting, even for an ALPHA request.
    assert sort(r, "l", "alpha", "by", "nosort") == [b"3", b"1", b"2", b"10", b"5"]


def test_sort_by_and_get_strings(lst):
    r = lst
    r.mset({"w_3": 30, "w_1": 100, "w_2": 20, "w_10": -5})
    # w_5 is missing: weight 0.
    assert sort(r, "l", "by", "w_*") == [b"10", b"5", b"2", b"3", b"1"]
    assert sort(r, "l", "by", "w_*", "desc") == [b"1", b"3", b"2", b"5", b"10"]
    assert sort(r, "l", "by", "w_*", "get", "#") == [b"10", b"5", b"2", b"3", b"1"]
    assert sort(r, "l", "by", "w_*", "get", "#", "get", "w_*") == [
        b"10", b"-5", b"5", None, b"2", b"20", b"3", b"30", b"1", b"100"]
    assert sort(r, "l", "by", "w_*", "get", "w_*", "limit", 1, 2) == [None, b"20"]
    assert sort(r, "l", "get", "nosuch_*", "get", "#") == [
        None, b"1", None, b"2", None, b"3", None, b"5", None, b"10"]
    # A GET pattern without '*' finds nothing.
    assert sort(r, "l", "get", "w_1") == [None] * 5
    r.set("w_5", "abc")
    assert err(r, "sort", "l", "by", "w_*") == NOT_DOUBLE
    # ALPHA weights: missing ones sort first.
    r.delete("w_5")
    assert sort(r, "l", "by", "w_*", "alpha") == [b"5", b"10", b"1", b"2", b"3"]


def test_sort_by_non_string_key_counts_as_missing(lst):
    r = lst
    cmd(r, "rpush", "w_1", "x")
    r.mset({"w_3": 3, "w_2": 2, "w_10": 10, "w_5": 5})
    assert sort(r, "l", "by", "w_*") == [b"1", b"2", b"3", b"5", b"10"]
    assert sort(r, "l", "get", "w_*") == [None, b"2", b"3", b"5", b"10"]


def test_sort_by_and_get_hash_fields(lst):
    r = lst
    for k, f, g in [(1, 9, "x"), (2, 8, None), (3, 7, None), (5, 6, None), (10, 5, None)]:
        cmd(r, "hset", "h_%d" % k, "f", f)
        if g:
            r.hset("h_%d" % k, "g", g)
    assert sort(r, "l", "by", "h_*->f") == [b"10", b"5", b"3", b"2", b"1"]
    assert sort(r, "l", "by", "h_*->f", "get", "h_*->g", "get", "h_*->f") == [
        None, b"5", None, b"6", None, b"7", None, b"8", b"x", b"9"]
    # "->" with nothing after it is part of the key name.
    assert sort(r, "l", "get", "h_*->") == [None] * 5
    r.set("w_1->", "z")
    assert sort(r, "l", "get", "w_*->") == [b"z", None, None, None, None]
    # A string key read as a hash field is missing.
    r.set("s_1", 1)
    assert sort(r, "l", "get", "s_*->f") == [None] * 5


def test_sort_store(lst):
    r = lst
    assert sort(r, "l", "store", "dst") == 5
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3", b"5", b"10"]
    assert r.type("dst") == b"list"
    r.expire("dst", 100)
    r.mset({"w_1": "a"})
    assert sort(r, "l", "get", "w_*", "get", "#", "store", "dst") == 10
    assert r.ttl("dst") == -1
    assert r.lrange("dst", 0, 3) == [b"a", b"1", b"", b"2"]
    # An empty result deletes the destination.
    assert sort(r, "nokey", "store", "dst") == 0
    assert r.exists("dst") == 0
    r.set("dst", "x")
    assert sort(r, "l", "limit", 10, 1, "store", "dst") == 0
    assert r.exists("dst") == 0
    # Over a string destination, and onto the source itself.
    r.set("dst", "x")
    assert sort(r, "l", "desc", "store", "dst") == 5
    assert sort(r, "l", "store", "l") == 5
    assert r.lrange("l", 0, -1) == [b"1", b"2", b"3", b"5", b"10"]


def test_sort_ro_rejects_store(lst):
    assert err(lst, "sort_ro", "l", "store", "dst") == "syntax error"
    assert lst.exists("dst") == 0


def test_sort_errors(lst):
    r = lst
    assert err(r, "sort", "l", "limit", "a", "b") == "value is not an integer or out of range"
    assert err(r, "sort", "l", "limit", 1) == "syntax error"
    assert err(r, "sort", "l", "foo") == "syntax error"
    assert err(r, "sort", "l", "by") == "syntax error"
    assert err(r, "sort", "l", "get") == "syntax error"
    assert err(r, "sort", "l", "store") == "syntax error"
    r.set("str", "foo")
    assert err(r, "sort", "str") == WRONGTYPE
    assert err(r, "sort_ro", "str") == WRONGTYPE
    cmd(r, "hset", "hh", "a", "1")
    assert err(r, "sort", "hh") == WRONGTYPE
    assert sort(r, "nokey") == []
    r.rpush("bad", "a", "b")
    assert err(r, "sort", "bad") == NOT_DOUBLE
    assert err(r, "sort", "bad", "store", "dst") == NOT_DOUBLE
    assert r.exists("dst") == 0
    assert sort(r, "bad", "alpha") == [b"a", b"b"]
    assert sort(r, "bad", "by", "nosort") == [b"a", b"b"]
    r.rpush("nan", 1, "nan")
    assert err(r, "sort", "nan") == NOT_DOUBLE
    r.rpush("big", 1, "1e400")
    assert err(r, "sort", "big") == NOT_DOUBLE


def test_sort_number_formats(r):
    cmd(r, "rpush", "mix", 1, 1.5, -2, "1e3", "0x10", "inf", "-inf", " 7")
    assert sort(r, "mix") == [b"-inf", b"-2", b"1", b"1.5", b" 7", b"0x10", b"1e3", b"inf"]
    # Equal scores fall back to comparing the elements.
    r.rpush("eq", "1.0", "1", "01", "b")
    r.mset({"k_1.0": 1, "k_1": 1, "k_01": 1, "k_b": 0})
    assert sort(r, "eq", "by", "k_*") == [b"b", b"01", b"1", b"1.0"]


def test_sort_sets(r):
    cmd(r, "sadd", "s", 5, 3, 9, 1)
    assert sort(r, "s") == [b"1", b"3", b"5", b"9"]
    assert sort(r, "s", "desc", "limit", 0, 2) == [b"9", b"5"]
    assert sorted(sort(r, "s", "by", "nosort")) == [b"1", b"3", b"5", b"9"]
    r.sadd("s2", "b", "a", "c")
    assert sort(r, "s2", "alpha") == [b"a", b"b", b"c"]
    # STORE of an unsorted set is sorted ALPHA, so a replica gets the same.
    assert sort(r, "s2", "by", "nosort", "store", "dst") == 3
    assert r.lrange("dst", 0, -1) == [b"a", b"b", b"c"]
    r.sadd("s3", 10, 9, 100)
    assert sort(r, "s3", "by", "nosort", "store", "dst") == 3
    assert r.lrange("dst", 0, -1) == [b"10", b"100", b"9"]
    big = ["m%d" % i for i in range(300)]
    r.sadd("bigset", *big)
    assert sort(r, "bigset", "alpha") == sorted(x.encode() for x in big)


def test_sort_sorted_sets(r):
    cmd(r, "zadd", "z", 1, "c", 2, "b", 3, "a")
    assert sort(r, "z", "alpha") == [b"a", b"b", b"c"]
    assert sort(r, "z", "by", "nosort") == [b"c", b"b", b"a"]
    assert sort(r, "z", "by", "nosort", "desc") == [b"a", b"b", b"c"]
    assert sort(r, "z", "by", "nosort", "limit", 1, 1) == [b"b"]
    assert sort(r, "z", "by", "nosort", "desc", "limit", 0, 2) == [b"a", b"b"]
    r.zadd("zn", {"10": 1, "9": 2, "8": 3})
    # Numeric SORT looks at the members, not the scores.
    assert sort(r, "zn") == [b"8", b"9", b"10"]
    assert sort(r, "zn", "by", "nosort") == [b"10", b"9", b"8"]
    assert sort(r, "zn", "by", "nosort", "store", "dst") == 3
    assert r.lrange("dst", 0, -1) == [b"10", b"9", b"8"]


def test_sort_large_list(r):
    vals = [(i * 7919) % 1000 for i in range(1000)]
    cmd(r, "rpush", "big", *vals)
    assert sort(r, "big") == [str(v).encode() for v in sorted(vals)]
    assert sort(r, "big", "desc", "limit", 10, 5) == [str(v).encode() for v in sorted(vals, reverse=True)[10:15]]
    assert sort(r, "big", "store", "out") == 1000
    assert r.llen("out") == 1000
