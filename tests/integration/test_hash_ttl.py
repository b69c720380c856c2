"""Hash field expiration: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL,
HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST, with Redis 7.4's replies.

Redis 7.0 has none of these commands, hence keel_only throughout."""

import time

import pytest
import redis

pytestmark = pytest.mark.keel_only


@pytest.fixture
def r(r, server):
    c = server.client(decode_responses=True, socket_timeout=30)
    yield c
    c.flushall()
    c.connection_pool.disconnect()


def x(r, *args):
    return r.execute_command(*args)


def wait_until(pred, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_set_and_read_ttls(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert x(r, "HEXPIRE", "h", "100", "FIELDS", "2", "a", "nope") == [1, -2]
    assert x(r, "HTTL", "h", "FIELDS", "3", "a", "b", "nope") == [100, -1, -2]
    assert 99000 < x(r, "HPTTL", "h", "FIELDS", "1", "a")[0] <= 100000
    at = int(time.time()) + 1000
    assert x(r, "HEXPIREAT", "h", str(at), "FIELDS", "1", "b") == [1]
    assert x(r, "HEXPIRETIME", "h", "FIELDS", "1", "b") == [at]
    assert x(r, "HPEXPIRETIME", "h", "FIELDS", "1", "b") == [at * 1000]
    assert x(r, "HPEXPIREAT", "h", str(at * 1000 + 5), "FIELDS", "1", "c") == [1]
    assert x(r, "HPEXPIRETIME", "h", "FIELDS", "1", "c") == [at * 1000 + 5]
    assert r.hgetall("h") == {"a": "1", "b": "2", "c": "3"}
    assert r.hlen("h") == 3


def test_conditions(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert x(r, "HEXPIRE", "h", "100", "XX", "FIELDS", "1", "a") == [0]
    assert x(r, "HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a") == [1]
    assert x(r, "HEXPIRE", "h", "200", "NX", "FIELDS", "1", "a") == [0]
    assert x(r, "HEXPIRE", "h", "50", "GT", "FIELDS", "1", "a") == [0]
    assert x(r, "HEXPIRE", "h", "300", "GT", "FIELDS", "1", "a") == [1]
    assert x(r, "HEXPIRE", "h", "400", "LT", "FIELDS", "1", "a") == [0]
    assert x(r, "HEXPIRE", "h", "10", "LT", "FIELDS", "1", "a") == [1]
    # No TTL counts as infinite: GT never applies, LT always does.
    assert x(r, "HEXPIRE", "h", "10", "GT", "FIELDS", "1", "b") == [0]
    assert x(r, "HEXPIRE", "h", "10", "LT", "FIELDS", "1", "b") == [1]


def test_past_time_deletes_the_field_and_the_last_one_the_key(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert x(r, "HEXPIRE", "h", "0", "FIELDS", "1", "a") == [2]
    assert r.hgetall("h") == {"b": "2"}
    assert x(r, "HPEXPIREAT", "h", "1", "FIELDS", "1", "b") == [2]
    assert r.exists("h") == 0


def test_missing_key_and_errors(r):
    assert x(r, "HEXPIRE", "nokey", "10", "FIELDS", "1", "a") is None
    assert x(r, "HTTL", "nokey", "FIELDS", "2", "a", "b") == [-2, -2]
    assert x(r, "HPERSIST", "nokey", "FIELDS", "1", "a") == [-2]
    r.hset("h", "a", "1")
    with pytest.raises(redis.ResponseError, match="numfields"):
        x(r, "HEXPIRE", "h", "10", "FIELDS", "2", "a")
    with pytest.raises(redis.ResponseError, match="numFields"):
        x(r, "HEXPIRE", "h", "10", "FIELDS", "0", "a")
    with pytest.raises(redis.ResponseError, match="FIELDS is missing"):
        x(r, "HEXPIRE", "h", "10", "NX", "a", "1", "b")
    with pytest.raises(redis.ResponseError, match="invalid expire time"):
        x(r, "HEXPIRE", "h", "-1", "FIELDS", "1", "a")
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        x(r, "HEXPIRE", "s", "10", "FIELDS", "1", "a")


def test_hpersist_and_hset_clear_the_ttl(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    x(r, "HEXPIRE", "h", "100", "FIELDS", "2", "a", "b")
    assert x(r, "HPERSIST", "h", "FIELDS", "3", "a", "a2", "a") == [1, -2, -1]
    assert x(r, "HTTL", "h", "FIELDS", "1", "a") == [-1]
    r.hset("h", "b", "new")
    assert x(r, "HTTL", "h", "FIELDS", "1", "b") == [-1]


def test_lazy_expiry_hides_fields_from_every_read(r):
    r.hset("h", mapping={"a": "1", "b": "2", "keep": "3"})
    assert x(r, "HPEXPIRE", "h", "30", "FIELDS", "2", "a", "b") == [1, 1]
    assert wait_until(lambda: r.hget("h", "a") is None)
    assert r.hget("h", "b") is None
    assert r.hlen("h") == 1
    assert r.hgetall("h") == {"keep": "3"}
    assert r.hkeys("h") == ["keep"]
    assert r.hscan("h")[1] == {"keep": "3"}
    assert r.hexists("h", "a") is False


def test_active_expiry_deletes_the_key_without_access(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    x(r, "HPEXPIRE", "h", "20", "FIELDS", "2", "a", "b")
    assert r.dbsize() == 1
    # DBSIZE does not look at the hash: only the expiry cycle can remove it.
    assert wait_until(lambda: r.dbsize() == 0)


def test_copy_keeps_field_ttls(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    x(r, "HEXPIRE", "h", "100", "FIELDS", "1", "a")
    assert r.copy("h", "h2") is True
    assert x(r, "HTTL", "h2", "FIELDS", "2", "a", "b") == [100, -1]
    x(r, "HPERSIST", "h", "FIELDS", "1", "a")
    assert x(r, "HTTL", "h2", "FIELDS", "1", "a") == [100]


def test_small_hash_converts_and_memory_counts_the_ttl(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.object("encoding", "h") == "listpack"
    x(r, "HEXPIRE", "h", "100", "FIELDS", "1", "nope")
    assert r.object("encoding", "h") == "listpack"  # no field touched: unchanged
    before = r.memory_usage("h")
    x(r, "HEXPIRE", "h", "100", "FIELDS", "2", "a", "b")
    assert r.object("encoding", "h") == "hashtable"
    assert r.memory_usage("h") > before
