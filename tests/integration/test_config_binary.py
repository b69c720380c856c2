"""Binary-safe string parameters (issue 18): a string parameter keeps
every byte of its value, NULs included, from CONFIG SET, the config file
and the command line; CONFIG GET returns it whole; CONFIG REWRITE writes
what is not printable as \\xHH escapes, which the file parser reads back.
The consumers that must see every byte do: requirepass (the default
user's password) and masterauth/masteruser (the replica's AUTH to its
master), against a Keel master and a redis-server master.

Every test here passes against Redis 7.0.15 too (KEEL_SERVER=
/usr/bin/redis-server)."""

import pytest
import redis

from keel_helpers import RawConn, Server, wait_for
from repl_helpers import link_up, logs

REDIS_SERVER = "/usr/bin/redis-server"
BINARY = b"abc\x00def"


def config_get(srv, name, password=None):
    """CONFIG GET's value as bytes (redis-py would decode it as text)."""
    with RawConn(srv.host, srv.port) as c:
        if password is not None:
            assert c.cmd("AUTH", password) == b"OK"
        reply = c.cmd("CONFIG", "GET", name)
    assert reply[0] == name.encode(), reply
    return reply[1]


def auth_fails(srv, *args):
    c = srv.client(socket_timeout=10)
    try:
        with pytest.raises((redis.ResponseError, redis.AuthenticationError), match="WRONGPASS"):
            c.execute_command("AUTH", *args)
    finally:
        c.connection_pool.disconnect()


def test_binary_requirepass_is_kept_whole(start_server):
    srv = start_server()
    c = srv.client(socket_timeout=10)
    assert c.config_set("requirepass", BINARY)
    auth_fails(srv, b"abc")
    auth_fails(srv, b"abc\x00de")
    auth_fails(srv, b"abc\x00defg")
    assert c.execute_command("AUTH", BINARY) is True  # the connection that set it
    other = srv.client(password=BINARY, socket_timeout=10)
    assert config_get(srv, "requirepass", BINARY) == BINARY
    assert other.execute_command("AUTH", "default", BINARY) is True
    # Back to no password: a new client needs none.
    other.config_set("requirepass", "")
    assert srv.client(socket_timeout=10).ping()


def test_binary_requirepass_from_the_config_file(start_server, tmp_path):
    conf = tmp_path / "binary.conf"
    conf.write_text('requirepass "a\\x00b\\xff\\n c"\n')
    srv = Server(config_file=str(conf))
    try:
        srv.start()
        auth_fails(srv, b"a")
        assert config_get(srv, "requirepass", b"a\x00b\xff\n c") == b"a\x00b\xff\n c"
    finally:
        problems = srv.stop()
    assert not problems, problems


def test_binary_strings_survive_config_rewrite(tmp_path):
    conf = tmp_path / "rewrite.conf"
    conf.write_text("# kept\ndir %s\n" % tmp_path)  # Redis writes its dir: keep it one that lasts
    values = {
        "requirepass": b"p\x00q\r\n\"quoted\" 'single' \\back\x7f\x01",
        "masterauth": b"\x00leading nul",
        "masteruser": b"user with space",
    }
    srv = Server(config_file=str(conf))
    try:
        srv.start()
        c = srv.client(socket_timeout=10)
        for name, value in values.items():
            assert c.config_set(name, value)
        c = srv.client(password=values["requirepass"], socket_timeout=10)
        assert c.config_rewrite()
        text = conf.read_bytes()
        assert b"\x00" not in text, text  # every byte written as an escape
        assert b"# kept\n" in text
    finally:
        problems = srv.stop()
    assert not problems, problems
    again = Server(config_file=str(conf))
    try:
        again.start()
        for name, value in values.items():
            assert config_get(again, name, values["requirepass"]) == value, text
    finally:
        problems = again.stop()
    assert not problems, problems


def test_config_set_failure_puts_binary_strings_back(start_server):
    """All or nothing: a later bad pair restores the earlier string whole."""
    srv = start_server()
    c = srv.client(socket_timeout=10)
    c.config_set("masterauth", b"old\x00value")
    with pytest.raises(redis.ResponseError):
        c.execute_command("CONFIG", "SET", "masterauth", b"new\x00value", "maxmemory", "notanumber")
    assert config_get(srv, "masterauth") == b"old\x00value"


def replica_of_binary_master(start_server, master_binary=None, user=None):
    kw = {"binary": master_binary} if master_binary else {}
    master = start_server(**kw)
    m = master.client(socket_timeout=10)
    m.set("k", "v")
    if user:
        m.execute_command("ACL", "SETUSER", user, "on", b">" + BINARY, "+@all", "~*", "&*")
        m.execute_command("ACL", "SETUSER", "default", "off")
    else:
        m.config_set("requirepass", BINARY)
    replica = start_server()
    rc = replica.client(socket_timeout=10)
    rc.config_set("masterauth", BINARY)
    if user:
        rc.config_set("masteruser", user)
    rc.replicaof(master.host, master.port)
    assert wait_for(lambda: link_up(replica), timeout=30), logs(master, replica)
    assert wait_for(lambda: rc.get("k") == b"v", timeout=30)
    return master, replica


def test_replica_authenticates_with_binary_masterauth(start_server):
    replica_of_binary_master(start_server)


def test_replica_authenticates_with_masteruser_and_binary_masterauth(start_server):
    replica_of_binary_master(start_server, user="repl")


def test_prefix_of_binary_masterauth_is_refused(start_server):
    """The whole password, not its part before the NUL: a master whose
    password is that part refuses it."""
    master = start_server()
    master.client(socket_timeout=10).config_set("requirepass", b"abc")
    replica = start_server()
    rc = replica.client(socket_timeout=10)
    rc.config_set("masterauth", BINARY)
    rc.replicaof(master.host, master.port)
    assert wait_for(lambda: "Unable to AUTH to MASTER" in replica.log_text(), timeout=30), logs(master, replica)
    assert not link_up(replica)


def test_keel_replica_of_redis_master_with_binary_password(start_server):
    replica_of_binary_master(start_server, master_binary=REDIS_SERVER)
