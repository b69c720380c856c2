"""CLIENT PAUSE / UNPAUSE, CLIENT UNBLOCK and CLIENT REPLY, checked against
Redis 7.0.

A paused command waits (the client is counted in blocked_clients) and runs
when the pause ends; nothing is rejected. Waits poll with generous
deadlines: no timing assertions.
"""

import time

import pytest
import redis

from keel_helpers import Error, encode_command, wait_for


def blocked(r):
    return int(r.info("clients")["blocked_clients"])


def has_reply(conn, timeout=0.3):
    """True if a reply arrives within timeout (the command was not held)."""
    conn.settimeout(timeout)
    try:
        conn._fill()
        return True
    except OSError:
        return False
    finally:
        conn.settimeout(10)


@pytest.fixture
def unpause(r):
    yield
    r.execute_command("CLIENT", "UNPAUSE")


# ---- CLIENT PAUSE WRITE -------------------------------------------------------

def test_pause_write_lets_reads_through(r, raw, unpause):
    r.set("foo", "bar")
    assert r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    c = raw()
    assert c.cmd("GET", "foo") == b"bar"
    assert c.cmd("PING") == b"PONG"
    assert blocked(r) == 0


def test_pause_write_postpones_writes_until_unpause(r, raw, unpause):
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    clients = [raw() for _ in range(3)]
    for i, c in enumerate(clients):
        c.send(encode_command("SET", "k%d" % i, "v"))
    assert wait_for(lambda: blocked(r) == 3)
    assert r.exists("k0", "k1", "k2") == 0
    r.execute_command("CLIENT", "UNPAUSE")
    for c in clients:
        assert c.read() == b"OK"
    assert r.exists("k0", "k1", "k2") == 3
    assert blocked(r) == 0


def test_pause_write_postpones_may_replicate_commands(r, raw, unpause):
    r.pfadd("hll", "a")
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    c = raw()
    c.send(encode_command("PFCOUNT", "hll"))
    assert wait_for(lambda: blocked(r) == 1)
    r.execute_command("CLIENT", "UNPAUSE")
    assert c.read() == 1


def test_paused_pipeline_keeps_its_order(r, raw, unpause):
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    c = raw()
    c.send(encode_command("SET", "x", "1") + encode_command("GET", "x") + encode_command("INCR", "x"))
    assert wait_for(lambda: blocked(r) == 1)
    r.execute_command("CLIENT", "UNPAUSE")
    assert [c.read(), c.read(), c.read()] == [b"OK", b"1", 2]


def test_syntax_errors_answered_during_pause(r, unpause):
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'set' command"):
        r.execute_command("SET", "foo")


def test_pause_ends_by_itself(r, raw):
    r.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    c = raw()
    c.send(encode_command("SET", "late", "1"))
    assert c.read() == b"OK"    # waits for the end of the pause
    assert r.get("late") == b"1"


# ---- CLIENT PAUSE ALL ---------------------------------------------------------

def test_pause_all_postpones_reads_too(r, raw):
    r.set("foo", "bar")
    r.execute_command("CLIENT", "PAUSE", 500)
    c = raw()
    c.send(encode_command("GET", "foo"))
    assert not has_reply(c)
    assert c.read() == b"bar"   # after the pause


def test_a_new_pause_never_shortens_the_current_one(r, raw, unpause):
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    r.execute_command("CLIENT", "PAUSE", 1, "WRITE")
    time.sleep(0.1)
    c = raw()
    c.send(encode_command("SET", "k", "v"))
    assert wait_for(lambda: blocked(r) == 1)


def test_expired_keys_not_deleted_during_pause(r, unpause):
    expired = int(r.info("stats")["expired_keys"])
    r.set("foo", "bar", px=10)
    r.set("baz", "qux", px=10)
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    assert wait_for(lambda: r.get("foo") is None and r.get("baz") is None)
    time.sleep(0.3)   # give the active expire cycle its chances
    assert int(r.info("stats")["expired_keys"]) == expired
    r.execute_command("CLIENT", "UNPAUSE")
    r.get("foo")
    r.get("baz")
    assert int(r.info("stats")["expired_keys"]) == expired + 2


def test_pause_errors(r):
    with pytest.raises(redis.ResponseError, match="timeout is not an integer or out of range"):
        r.execute_command("CLIENT", "PAUSE", "abc")
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        r.execute_command("CLIENT", "PAUSE", -1)
    with pytest.raises(redis.ResponseError, match="CLIENT PAUSE mode must be WRITE or ALL"):
        r.execute_command("CLIENT", "PAUSE", 10, "READ")
    with pytest.raises(redis.ResponseError, match="unknown subcommand or wrong number of arguments for 'PAUSE'"):
        r.execute_command("CLIENT", "PAUSE", 10, "WRITE", "extra")


# ---- CLIENT UNBLOCK -------------------------------------------------------------

def test_unblock_timeout_and_error(r, raw):
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    c.send(encode_command("BLPOP", "list", 0))
    assert wait_for(lambda: blocked(r) == 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 1
    assert c.read() is None
    c.send(encode_command("BLPOP", "list", 0))
    assert wait_for(lambda: blocked(r) == 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert c.read() == Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert c.cmd("PING") == b"PONG"
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0   # not blocked
    assert r.execute_command("CLIENT", "UNBLOCK", 999999) == 0


def test_unblock_resumes_the_pipeline_behind(r, raw):
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    c.send(encode_command("BLPOP", "list", 0) + encode_command("PING"))
    assert wait_for(lambda: blocked(r) == 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 1
    assert c.read() is None
    assert c.read() == b"PONG"


def test_unblock_errors(r):
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("CLIENT", "UNBLOCK", "abc")
    with pytest.raises(redis.ResponseError, match="CLIENT UNBLOCK reason should be TIMEOUT or ERROR"):
        r.execute_command("CLIENT", "UNBLOCK", 1, "LATER")
    with pytest.raises(redis.ResponseError, match="unknown subcommand or wrong number of arguments for 'UNBLOCK'"):
        r.execute_command("CLIENT", "UNBLOCK", 1, "TIMEOUT", "extra")


@pytest.mark.keel_only
def test_unblock_does_not_release_a_paused_client(r, raw, unpause):
    # Redis 7.0 would end the paused SET with a timeout or an error; later
    # Redis versions, like Keel, leave it to CLIENT UNPAUSE.
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    c.send(encode_command("SET", "k", "v"))
    assert wait_for(lambda: blocked(r) == 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 0
    r.execute_command("CLIENT", "UNPAUSE")
    assert c.read() == b"OK"


# ---- CLIENT REPLY ---------------------------------------------------------------

def test_reply_off_and_on(raw):
    c = raw()
    c.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SET", "a", "1") + encode_command("GET", "a"))
    assert c.cmd("CLIENT", "REPLY", "ON") == b"OK"
    assert c.cmd("GET", "a") == b"1"


def test_reply_skip_silences_only_the_next_command(raw):
    c = raw()
    c.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("SET", "a", "1") + encode_command("GET", "a"))
    assert c.read() == b"1"


def test_reply_bad_mode(r):
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("CLIENT", "REPLY", "MAYBE")
