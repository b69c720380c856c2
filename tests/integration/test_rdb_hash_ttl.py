"""Hashes with field TTLs as Redis 7.4 writes them (RDB types 24 and 25,
and the 7.4 release candidates' 22 and 23), read from hand-built files and
DUMP payloads: fields keep their TTLs (HPEXPIRETIME shows the exact time),
fields already due are dropped, a hash left empty is not loaded, the
active expiry cycle knows the loaded hashes, and corrupt values are refused
with a message, never a crash. Redis 7.0 reads none of these types, hence
keel_only throughout."""

import struct
import time

import pytest
import redis

from rdb_fixtures import LpInt, key, listpack, payload, rdb_file, rdb_len, rdb_str, selectdb
from test_rdb_load import refused, start_with

pytestmark = pytest.mark.keel_only

HOUR = 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


def ms(t):
    return struct.pack("<Q", t)


def hash_metadata(fields, earliest=None):
    """Type 24: earliest expiry, count, then (relative TTL, field, value);
    fields are (field, value, expiry or None)."""
    due = [w for _, _, w in fields if w is not None]
    if earliest is None:
        earliest = min(due) if due else 0
    body = ms(earliest) + rdb_len(len(fields))
    for f, v, w in fields:
        body += rdb_len(0 if w is None else w - earliest + 1) + rdb_str(f) + rdb_str(v)
    return body


def hash_metadata_pre_ga(fields):
    """Type 22: count, then (absolute expiry or 0, field, value)."""
    body = rdb_len(len(fields))
    for f, v, w in fields:
        body += rdb_len(w or 0) + rdb_str(f) + rdb_str(v)
    return body


def lp_triples(fields):
    items = []
    for f, v, w in fields:
        items += [f, v, LpInt(w) if w else 0]
    return rdb_str(listpack(items))


def hash_listpack_ex(fields):
    """Type 25: earliest expiry, then a listpack of field, value, expiry."""
    due = [w for _, _, w in fields if w]
    return ms(min(due) if due else 0) + lp_triples(fields)


def pexpiretime(c, k, *fields):
    return c.execute_command("HPEXPIRETIME", k, "FIELDS", len(fields), *fields)


def test_type24_fields_keep_their_ttls():
    t = now_ms()
    a, c_ = t + HOUR, t + 2 * HOUR
    body = selectdb(0) + key(24, "h", hash_metadata([("a", "1", a), ("b", "2", None), ("c", "3", c_)]))
    srv = start_with(rdb_file(body, version=12))
    try:
        c = srv.client()
        assert c.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
        assert pexpiretime(c, "h", "a", "b", "c", "nope") == [a, -1, c_, -2]
        ttl = c.execute_command("HTTL", "h", "FIELDS", 1, "c")[0]
        assert 7000 <= ttl <= 7200
        assert c.type("h") == b"hash"
    finally:
        assert srv.stop() == []


def test_expired_fields_are_dropped_and_empty_hash_not_loaded():
    t = now_ms()
    body = (selectdb(0) +
            key(24, "part", hash_metadata([("old", "x", t - 5000), ("new", "y", t + HOUR), ("keep", "z", None)])) +
            key(24, "gone", hash_metadata([("a", "1", t - 5000), ("b", "2", t - 10)])) +
            key(25, "gone-lp", hash_listpack_ex([("a", "1", t - 5000)])) +
            key(25, "part-lp", hash_listpack_ex([("a", "1", t - 5000), ("b", "2", None)])))
    srv = start_with(rdb_file(body, version=12))
    try:
        c = srv.client()
        assert c.hgetall("part") == {b"new": b"y", b"keep": b"z"}
        assert pexpiretime(c, "part", "new", "keep", "old") == [t + HOUR, -1, -2]
        assert c.exists("gone", "gone-lp") == 0
        assert c.hgetall("part-lp") == {b"b": b"2"}
        assert pexpiretime(c, "part-lp", "b") == [-1]
        assert c.dbsize() == 2
    finally:
        assert srv.stop() == []


def test_type25_listpack_triples():
    t = now_ms()
    fields = [("f1", "v1", t + HOUR), ("f2", "v2", None), ("n", "12345", t + 3 * HOUR)]
    srv = start_with(rdb_file(selectdb(0) + key(25, "h", hash_listpack_ex(fields)), version=12))
    try:
        c = srv.client()
        assert c.hgetall("h") == {b"f1": b"v1", b"f2": b"v2", b"n": b"12345"}
        assert pexpiretime(c, "h", "f1", "f2", "n") == [t + HOUR, -1, t + 3 * HOUR]
        assert c.execute_command("HPERSIST", "h", "FIELDS", 1, "f1") == [1]
        assert pexpiretime(c, "h", "f1") == [-1]
    finally:
        assert srv.stop() == []


def test_release_candidate_types_22_and_23():
    t = now_ms()
    body = (selectdb(0) +
            key(22, "h22", hash_metadata_pre_ga([("a", "1", t + HOUR), ("b", "2", None), ("x", "3", t - 1000)])) +
            key(23, "h23", lp_triples([("a", "1", t + HOUR), ("b", "2", None)])))
    srv = start_with(rdb_file(body, version=12))
    try:
        c = srv.client()
        assert c.hgetall("h22") == {b"a": b"1", b"b": b"2"}
        assert pexpiretime(c, "h22", "a", "b") == [t + HOUR, -1]
        assert c.hgetall("h23") == {b"a": b"1", b"b": b"2"}
        assert pexpiretime(c, "h23", "a", "b") == [t + HOUR, -1]
    finally:
        assert srv.stop() == []


def test_loaded_field_ttls_expire_actively():
    # The hash is never touched by a hash command: only the active expiry
    # cycle can delete it, so it must know about hashes loaded from disk.
    t = now_ms()
    body = (selectdb(0) + key(24, "h", hash_metadata([("a", "1", t + 4000)])) +
            key(25, "l", hash_listpack_ex([("a", "1", t + 4000), ("b", "2", t + 4500)])) +
            key(0, "s", rdb_str("v")))
    srv = start_with(rdb_file(body, version=12))
    try:
        c = srv.client()
        assert c.exists("h", "l") == 2
        deadline = time.time() + 30
        while c.exists("h", "l") and time.time() < deadline:
            time.sleep(0.1)
        assert c.exists("h", "l") == 0
        assert c.get("s") == b"v"
    finally:
        assert srv.stop() == []


def test_restore_payloads_with_field_ttls(r):
    t = now_ms()
    p24 = payload(24, hash_metadata([("a", "1", t + HOUR), ("b", "2", None), ("old", "3", t - 1000)]), version=12)
    assert r.restore("h24", 0, p24)
    assert r.hgetall("h24") == {b"a": b"1", b"b": b"2"}
    assert pexpiretime(r, "h24", "a", "b") == [t + HOUR, -1]
    p25 = payload(25, hash_listpack_ex([("a", "1", t + HOUR), ("b", "2", None)]), version=12)
    assert r.restore("h25", 0, p25)
    assert pexpiretime(r, "h25", "a", "b") == [t + HOUR, -1]
    # every field already due: no key, as for an empty value
    dead = payload(24, hash_metadata([("a", "1", t - 1000)]), version=12)
    with pytest.raises(redis.ResponseError, match="Bad data format"):
        r.restore("dead", 0, dead)
    assert r.exists("dead") == 0


def test_restored_field_ttls_expire_actively(r):
    p = payload(24, hash_metadata([("a", "1", now_ms() + 300)]), version=12)
    assert r.restore("h", 0, p)
    deadline = time.time() + 30
    while r.exists("h") and time.time() < deadline:
        time.sleep(0.05)
    assert r.exists("h") == 0


@pytest.mark.parametrize("value", [
    b"",                                                            # truncated
    ms(1 << 63) + rdb_len(0),                                       # bad earliest expiry
    ms(1000) + rdb_len(5) + rdb_len(0) + rdb_str("a"),              # count past the end
    ms(1000) + rdb_len(1) + rdb_len(2 ** 49) + rdb_str("a") + rdb_str("b"),  # TTL too large
    ms(2 ** 48 - 2) + rdb_len(1) + rdb_len(10) + rdb_str("a") + rdb_str("b"),  # expiry past 48 bits
])
def test_restore_refuses_corrupt_type24(r, value):
    with pytest.raises(redis.ResponseError, match="Bad data format"):
        r.restore("k", 0, payload(24, value, version=12))
    assert r.exists("k") == 0
    assert r.ping()


FAR = now_ms() + 24 * HOUR


@pytest.mark.parametrize("value", [
    ms(0) + rdb_str(listpack(["a", "1", LpInt(FAR), "b"])),         # not triples
    ms(0) + rdb_str(listpack(["a", "1", "soon"])),                  # expiry not an integer
    ms(0) + rdb_str(listpack(["a", "1", LpInt(-5)])),               # negative expiry
    ms(0) + rdb_str(listpack(["a", "1", 0, "a", "2", 0])),          # duplicate field
    ms(0) + rdb_str(listpack(["a", "1", 0])[:-1] + b"\xfe"),        # broken listpack
    ms(0),                                                          # no listpack
])
def test_restore_refuses_corrupt_type25(r, value):
    with pytest.raises(redis.ResponseError, match="Bad data format"):
        r.restore("k", 0, payload(25, value, version=12))
    assert r.exists("k") == 0
    assert r.ping()


@pytest.mark.parametrize("type_byte,value,words", [
    (24, ms(1 << 63) + rdb_len(0), ["earliest hash field expiry"]),
    (24, ms(1000) + rdb_len(1) + rdb_len(2 ** 49) + rdb_str("a") + rdb_str("b"), ["hash field TTL"]),
    (24, ms(1000) + rdb_len(2) + rdb_len(0) + rdb_str("a") + rdb_str("b") + rdb_len(0) + rdb_str("a") +
     rdb_str("c"), ["duplicate hash field"]),
    (25, ms(0) + rdb_str(listpack(["a", "1", LpInt(FAR), "b"])), ["triples"]),
    (25, ms(0) + rdb_str(listpack(["a", "1", "soon"])), ["hash field expiry"]),
    (22, rdb_len(1) + rdb_len(0) + rdb_str("a"), ["string encoding"]),  # value runs into the EOF byte
])
def test_corrupt_files_are_refused(type_byte, value, words):
    log = refused(rdb_file(selectdb(0) + key(type_byte, "h", value), version=12))
    line = [ln for ln in log.splitlines() if "Fatal error loading the DB" in ln]
    assert line, log
    for w in words:
        assert w in line[0], line[0]
