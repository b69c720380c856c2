"""MIGRATE (issue 15): keys moved to another server with DUMP payloads
and RESTORE, Redis 7.0's replies and errors, cached connections."""
import socket

import pytest
import redis

from keel_helpers import cmd, err, exactly, free_port, wait_for

pytestmark = pytest.mark.usefixtures("flush_after")


@pytest.fixture
def target(start_server):
    srv = start_server()
    c = redis.Redis(host=srv.host, port=srv.port, socket_timeout=30)
    yield srv, c
    c.connection_pool.disconnect()


def test_moves_key_with_ttl(r, target):
    srv, t = target
    r.set("k", "v")
    r.pexpire("k", 100000)
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000) == b"OK"
    assert not r.exists("k")
    assert t.get("k") == b"v"
    assert 90000 < t.pttl("k") <= 100000


def test_every_type_round_trips(r, target):
    srv, t = target
    r.rpush("l", 1, 2, 3)
    r.hset("h", mapping={"a": 1, "b": 2})
    r.sadd("s", "x", "y")
    r.zadd("z", {"m": 1.5})
    r.xadd("x", {"f": "v"}, id="1-1")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "", 0, 5000, "KEYS", "l", "h", "s", "z", "x") == b"OK"
    assert t.lrange("l", 0, -1) == [b"1", b"2", b"3"]
    assert t.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert t.smembers("s") == {b"x", b"y"}
    assert t.zscore("z", "m") == 1.5
    assert t.xrange("x") == [(b"1-1", {b"f": b"v"})]
    assert r.dbsize() == 0


def test_nokey(r, target):
    srv, _ = target
    assert cmd(r, "MIGRATE", srv.host, srv.port, "missing", 0, 5000) == b"NOKEY"
    assert cmd(r, "MIGRATE", srv.host, srv.port, "", 0, 5000, "KEYS", "a", "b") == b"NOKEY"


def test_keys_form_skips_missing_keys(r, target):
    srv, t = target
    r.mset({"a": 1, "c": 3})
    assert cmd(r, "MIGRATE", srv.host, srv.port, "", 0, 5000, "KEYS", "a", "b", "c") == b"OK"
    assert t.mget("a", "b", "c") == [b"1", None, b"3"]
    assert r.dbsize() == 0


def test_copy_keeps_the_source(r, target):
    srv, t = target
    r.set("k", "v")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "COPY") == b"OK"
    assert r.get("k") == b"v" and t.get("k") == b"v"


def test_busykey_then_replace(r, target):
    srv, t = target
    r.set("k", "new")
    t.set("k", "old")
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000) == \
        "Target instance replied with error: BUSYKEY Target key name already exists."
    assert r.get("k") == b"new"
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "REPLACE") == b"OK"
    assert t.get("k") == b"new" and not r.exists("k")


def test_destination_db(r, target):
    srv, t = target
    r.set("k", "v")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k", 3, 5000) == b"OK"
    assert t.get("k") is None
    t.execute_command("SELECT", 3)
    assert t.get("k") == b"v"
    # Same connection, another database: SELECT is sent again.
    r.set("k2", "v2")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k2", 0, 5000) == b"OK"
    t.execute_command("SELECT", 0)
    assert t.get("k2") == b"v2"


def test_auth_and_auth2(r, start_server):
    srv = start_server()
    redis.Redis(host=srv.host, port=srv.port).config_set("requirepass", "secret")
    t = redis.Redis(host=srv.host, port=srv.port, password="secret")
    r.set("k", "v")
    e = err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000)
    assert e.startswith("Target instance replied with error: NOAUTH")
    assert r.exists("k")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "AUTH", "secret") == b"OK"
    assert t.get("k") == b"v"
    r.set("k2", "v2")
    assert cmd(r, "MIGRATE", srv.host, srv.port, "k2", 0, 5000, "AUTH2", "default", "secret") == b"OK"
    assert t.get("k2") == b"v2"
    r.set("k3", "v3")
    e = err(r, "MIGRATE", srv.host, srv.port, "k3", 0, 5000, "AUTH", "wrong")
    assert e.startswith("Target instance replied with error: WRONGPASS")
    t.connection_pool.disconnect()


def test_connection_refused(r):
    r.set("k", "v")
    port = free_port()  # nobody listens there
    # Keel says "connecting to the client"; Redis 7.0 notices the refusal
    # only when it writes ("writing to target instance").
    assert err(r, "MIGRATE", "127.0.0.1", port, "k", 0, 1000).startswith("IOERR error or timeout ")
    assert r.get("k") == b"v"


@pytest.mark.keel_only
def test_connection_refused_wording(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=exactly("IOERR error or timeout connecting to the client")):
        cmd(r, "MIGRATE", "127.0.0.1", free_port(), "k", 0, 1000)


def test_read_timeout(r):
    """A target that accepts and never answers: -IOERR ... reading."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    try:
        r.set("k", "v")
        with pytest.raises(redis.ResponseError,
                           match=exactly("IOERR error or timeout reading to target instance")):
            cmd(r, "MIGRATE", "127.0.0.1", lsock.getsockname()[1], "k", 0, 300)
        assert r.get("k") == b"v"
    finally:
        lsock.close()


def test_cached_connection_is_reused_and_reopened(r, target):
    srv, t = target

    def migrate_conns():
        return [c for c in t.client_list() if c["cmd"] in ("restore", "select")]

    r.set("a", 1)
    assert cmd(r, "MIGRATE", srv.host, srv.port, "a", 0, 5000) == b"OK"
    first = migrate_conns()
    assert len(first) == 1
    r.set("b", 2)
    assert cmd(r, "MIGRATE", srv.host, srv.port, "b", 0, 5000) == b"OK"
    assert [c["id"] for c in migrate_conns()] == [first[0]["id"]]
    # The target drops the cached connection: the next MIGRATE reconnects.
    t.client_kill_filter(_id=first[0]["id"])
    assert wait_for(lambda: not migrate_conns())
    r.set("c", 3)
    assert cmd(r, "MIGRATE", srv.host, srv.port, "c", 0, 5000) == b"OK"
    assert t.mget("a", "b", "c") == [b"1", b"2", b"3"]


def test_argument_errors(r, target):
    srv, _ = target
    r.set("k", "v")
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "KEYS", "k") == \
        "When using MIGRATE KEYS option, the key argument must be set to the empty string"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "BOGUS") == "syntax error"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "AUTH") == "syntax error"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "AUTH2", "u") == "syntax error"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", "x", 5000) == \
        "value is not an integer or out of range"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0, "x") == \
        "value is not an integer or out of range"
    assert err(r, "MIGRATE", srv.host, srv.port, "k", 0) == \
        "wrong number of arguments for 'migrate' command"
    assert r.get("k") == b"v"


def test_getkeys(r):
    assert cmd(r, "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10") == [b"k"]
    assert cmd(r, "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "KEYS", "a", "b") == [b"a", b"b"]


def test_monitor_redacts_passwords(r, server, target):
    srv, _ = target
    m = redis.Redis(host=server.host, port=server.port)
    with m.monitor() as mon:
        r.set("k", "v")
        with pytest.raises(redis.ResponseError):  # no such user there
            cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000, "COPY", "AUTH2", "user", "pw")
        lines = []
        for _ in range(2):
            lines.append(mon.next_command()["command"])
    assert "user" not in lines[1] and "pw" not in lines[1]
    assert "(redacted)" in lines[1]


def test_info_counts_cached_sockets(r, target):
    srv, _ = target
    before = r.info("stats")["migrate_cached_sockets"]
    r.set("k", "v")
    cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000)
    assert r.info("stats")["migrate_cached_sockets"] == before + 1


@pytest.mark.slow
def test_cached_sockets_released_after_ten_seconds(r, target):
    srv, _ = target
    r.set("k", "v")
    cmd(r, "MIGRATE", srv.host, srv.port, "k", 0, 5000)
    assert r.info("stats")["migrate_cached_sockets"] >= 1
    assert wait_for(lambda: r.info("stats")["migrate_cached_sockets"] == 0, timeout=30, interval=0.5)


def test_getkeys_skips_auth_arguments(r):
    """A password may be the word KEYS: COMMAND GETKEYS (and ACL DRYRUN,
    which uses the same key extraction) must skip AUTH's and AUTH2's
    arguments before looking for the KEYS keyword."""
    base = ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5000"]
    assert cmd(r, *base, "AUTH", "KEYS", "KEYS", "rw") == [b"rw"]
    assert cmd(r, *base, "AUTH2", "u", "KEYS", "KEYS", "a", "b") == [b"a", b"b"]
    assert cmd(r, *base, "COPY", "KEYS", "x") == [b"x"]
