"""ACL users from the configuration: the ACL file (loaded at start-up,
ACL LOAD, ACL SAVE), "user" directives, their mutual exclusion, CONFIG
REWRITE's user lines, acl-pubsub-default and requirepass (issue 18).
Validated against Redis 7.0 (KEEL_SERVER=/usr/bin/redis-server)."""

import hashlib
import os
import subprocess

import pytest
import redis

from keel_helpers import RawConn, cmd, free_port, server_binary

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def sha(p):
    return hashlib.sha256(p.encode()).hexdigest()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def start_fails(*args):
    """Run the server with args; it must exit non-zero by itself."""
    proc = subprocess.run([server_binary(), "--port", str(free_port()), "--save", ""] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert proc.returncode != 0
    return proc.stdout.decode(errors="replace")


def test_aclfile_loaded_at_startup(start_server, tmp_path):
    path = write(tmp_path / "users.acl",
                 "user alice on >secret ~app:* +@read\n"
                 "user default on nopass ~* &* +@all\n"
                 "\n"
                 "user bob off #%s\n" % sha("bobpw"))
    srv = start_server("--aclfile", path)
    r = srv.client()
    assert cmd(r, "ACL", "USERS") == [b"alice", b"bob", b"default"]
    assert cmd(r, "ACL", "LIST")[0] == (b"user alice on #" + sha("secret").encode() +
                                        b" ~app:* resetchannels -@all +@read")
    c = redis.Redis(host=srv.host, port=srv.port)
    assert cmd(c, "AUTH", "alice", "secret") == b"OK"
    with pytest.raises(redis.ResponseError, match=WRONGPASS):
        cmd(c, "AUTH", "bob", "bobpw")


def test_aclfile_without_default_user_gets_the_default(start_server, tmp_path):
    path = write(tmp_path / "users.acl", "user alice on nopass ~* +@all\n")
    srv = start_server("--aclfile", path)
    assert cmd(srv.client(), "ACL", "LIST") == [b"user alice on nopass ~* resetchannels +@all",
                                                b"user default on nopass ~* &* +@all"]


def test_acl_save_and_load_round_trip(start_server, tmp_path):
    path = write(tmp_path / "users.acl", "")
    srv = start_server("--aclfile", path)
    r = srv.client()
    assert cmd(r, "ACL", "SETUSER", "alice", "on", ">pw", "~k*", "&ch", "+get", "(%R~r* +@read)") == b"OK"
    assert cmd(r, "ACL", "SAVE") == b"OK"
    saved = open(path).read()
    assert saved == ("user alice on #%s ~k* resetchannels &ch -@all +get (%%R~r* resetchannels -@all +@read)\n"
                     "user default on nopass ~* &* +@all\n" % sha("pw"))
    before = cmd(r, "ACL", "LIST")
    c = RawConn(srv.host, srv.port)
    assert c.cmd("AUTH", "alice", "pw") == b"OK"
    assert cmd(r, "ACL", "SETUSER", "carol", "on") == b"OK"
    assert cmd(r, "ACL", "LOAD") == b"OK"
    assert cmd(r, "ACL", "LIST") == before
    # ACL LOAD replaced alice: her connection was closed.
    assert c.is_closed()
    c.close()


def test_acl_load_errors_keep_the_old_rules(start_server, tmp_path):
    path = write(tmp_path / "users.acl", "user alice on nopass ~* +@all\n")
    srv = start_server("--aclfile", path)
    r = srv.client()
    before = cmd(r, "ACL", "LIST")
    write(path, "user bob on +nosuchcommand\nuser carol on\nnotauser x\n")
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "ACL", "LOAD")
    msg = str(e.value)
    assert "Error in applying operation '+nosuchcommand': Unknown command or category name in ACL" in msg
    assert "should start with user keyword followed by the username" in msg
    assert msg.endswith("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
    assert cmd(r, "ACL", "LIST") == before
    write(path, "user dup on\nuser dup off\n")
    with pytest.raises(redis.ResponseError, match="Duplicate user 'dup' found on line 2"):
        cmd(r, "ACL", "LOAD")


def test_bad_aclfile_stops_startup(tmp_path):
    path = write(tmp_path / "users.acl", "user alice on +nosuchcommand\n")
    out = start_fails("--aclfile", path)
    assert "ACL errors" in out or "nosuchcommand" in out
    start_fails("--aclfile", str(tmp_path / "missing.acl"))


def test_user_directives(start_server):
    srv = start_server("--user", "alice", "on", ">pw", "~*", "+@all",
                       "--user", "default", "on", "nopass", "~*", "&*", "+@all", "-flushall")
    r = srv.client()
    assert cmd(r, "ACL", "USERS") == [b"alice", b"default"]
    # A "user default" line starts from "reset", which sets sanitize-payload.
    assert cmd(r, "ACL", "LIST")[1] == b"user default on nopass sanitize-payload ~* &* +@all -flushall"
    c = redis.Redis(host=srv.host, port=srv.port, username="alice", password="pw")
    assert c.ping()
    # No ACL file: LOAD and SAVE say so.
    with pytest.raises(redis.ResponseError, match="not configured to use an ACL file"):
        cmd(r, "ACL", "SAVE")


def test_user_directive_and_aclfile_are_exclusive(tmp_path):
    path = write(tmp_path / "users.acl", "user alice on nopass\n")
    start_fails("--aclfile", path, "--user", "bob", "on")


def test_bad_user_directive_stops_startup():
    start_fails("--user", "alice", "on", "+nosuchcommand")


def test_config_rewrite_writes_users(start_server, tmp_path):
    conf = write(tmp_path / "keel.conf", "# test config\n")
    srv = start_server(config_file=conf)
    r = srv.client()
    assert cmd(r, "ACL", "SETUSER", "alice", "on", ">pw", "~k*", "+get") == b"OK"
    assert cmd(r, "CONFIG", "REWRITE") == b"OK"
    text = open(conf).read()
    lines = [ln for ln in text.splitlines() if ln.startswith("user ")]
    assert lines == ["user alice on #%s ~k* resetchannels -@all +get" % sha("pw"),
                     "user default on nopass ~* &* +@all"]
    # The rewritten file starts a server with the same users (the default
    # user's line starts from "reset", which adds sanitize-payload).
    srv2 = start_server(config_file=conf)
    assert cmd(srv2.client(), "ACL", "LIST") == [
        b"user alice on #%s ~k* resetchannels -@all +get" % sha("pw").encode(),
        b"user default on nopass sanitize-payload ~* &* +@all"]


def test_acl_pubsub_default_allchannels(start_server):
    srv = start_server("--acl-pubsub-default", "allchannels")
    r = srv.client()
    assert cmd(r, "ACL", "SETUSER", "alice") == b"OK"
    assert cmd(r, "ACL", "LIST")[0] == b"user alice off &* -@all"
    assert r.config_set("acl-pubsub-default", "resetchannels")
    assert cmd(r, "ACL", "SETUSER", "bob") == b"OK"
    assert cmd(r, "ACL", "LIST")[1] == b"user bob off resetchannels -@all"


def test_requirepass_in_config(start_server):
    srv = start_server("--requirepass", "pw")
    c = redis.Redis(host=srv.host, port=srv.port, password="pw")
    assert c.execute_command("ACL", "LIST") == [b"user default on #%s ~* &* +@all" % sha("pw").encode()]
    c2 = redis.Redis(host=srv.host, port=srv.port, username="default", password="pw")
    assert c2.ping()


def test_duplicate_user_directives_stop_startup():
    for name in ("foo", "default"):
        out = start_fails("--user", name, "--user", name)
        assert "Duplicate user" in out


def test_user_is_not_a_config_parameter(start_server):
    srv = start_server("--user", "alice", "on")
    r = srv.client()
    assert r.config_get("user") == {}
    assert "user" not in r.config_get("*")
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET - 'user'"):
        cmd(r, "CONFIG", "SET", "user", "bob")


def test_user_line_with_quoted_password(start_server, tmp_path):
    conf = write(tmp_path / "keel.conf", 'user alice on ">my secret" ~* +@all\n')
    srv = start_server(config_file=conf)
    c = redis.Redis(host=srv.host, port=srv.port, username="alice", password="my secret")
    assert c.ping()


@pytest.mark.keel_only
def test_aof_replay_ignores_the_default_users_rules(start_server, tmp_path):
    """The AOF is the server's own: a restricted default user does not
    stop it from replaying transactions and scripts. Redis 7.0.15 loads
    the AOF as the default user and, at EXEC, silently drops a
    transaction's commands that user may not run (k1 and n are lost)."""
    srv = start_server("--dir", str(tmp_path), "--appendonly", "yes")
    r = srv.client()
    p = r.pipeline(transaction=True)
    p.set("k1", "v1")
    p.incr("n")
    p.execute()
    r.eval("redis.call('set', KEYS[1], 'v2')", 1, "k2")
    srv.expected_exit = True
    srv.stop()
    srv2 = start_server("--dir", str(tmp_path), "--appendonly", "yes",
                        "--user", "default", "on", "nopass", "~*", "&*", "+@all", "-set", "-incr",
                        "-multi", "-exec", "-eval")
    r2 = srv2.client()
    assert (r2.get("k1"), r2.get("k2"), r2.get("n")) == (b"v1", b"v2", b"1")
    with pytest.raises(redis.exceptions.NoPermissionError):
        r2.set("k3", "v")
