"""ACL users, rules, permission checks on every path, ACL subcommands,
the ACL log and INFO's counters (issue 18). Validated against Redis 7.0
(KEEL_SERVER=/usr/bin/redis-server); each test leaves only the default
user behind."""

import hashlib
import os
import shutil
import subprocess
import time

import pytest
import redis

from keel_helpers import Server, cmd, err, exactly, wait_blocked, wait_for

NOPERM_CMD = "this user has no permissions to run the '%s' command"
NOPERM_KEY = "this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = "this user has no permissions to access one of the channels used as arguments"
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


@pytest.fixture(autouse=True)
def clean_acl(r):
    yield
    for name in r.execute_command("ACL", "USERS"):
        if name != b"default":
            r.execute_command("ACL", "DELUSER", name)
    r.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all")
    r.execute_command("ACL", "LOG", "RESET")
    r.config_set("acllog-max-len", 128)


def user_client(server, user, password, **kw):
    c = redis.Redis(host=server.host, port=server.port, username=user, password=password,
                    socket_timeout=10, **kw)
    return c


def setuser(r, name, *rules):
    assert r.execute_command("ACL", "SETUSER", name, *rules) == b"OK"


def getuser(r, name):
    return cmd(r, "ACL", "GETUSER", name)


def field(reply, name):
    """A field of a flat [k, v, k, v] reply."""
    i = reply.index(name)
    return reply[i + 1]


def log_entries(r, count=None):
    args = ["ACL", "LOG"] + ([count] if count is not None else [])
    return [dict(zip(e[::2], e[1::2])) for e in cmd(r, *args)]


# ---- users and rules ----

def test_default_user(r):
    assert cmd(r, "ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert cmd(r, "ACL", "USERS") == [b"default"]
    assert cmd(r, "ACL", "WHOAMI") == b"default"


def test_new_user_is_off_without_permissions(r):
    setuser(r, "newbie")
    u = getuser(r, "newbie")
    assert field(u, b"flags") == [b"off"]
    assert field(u, b"passwords") == []
    assert field(u, b"commands") == b"-@all"
    assert field(u, b"keys") == b""
    assert field(u, b"channels") == b""
    assert field(u, b"selectors") == []
    assert cmd(r, "ACL", "GETUSER", "nosuchuser") is None


def test_passwords_are_stored_hashed(r):
    setuser(r, "alice", ">one", ">two")
    h1 = hashlib.sha256(b"one").hexdigest().encode()
    h2 = hashlib.sha256(b"two").hexdigest().encode()
    assert field(getuser(r, "alice"), b"passwords") == [h1, h2]
    setuser(r, "alice", "<one")
    assert field(getuser(r, "alice"), b"passwords") == [h2]
    setuser(r, "alice", "!" + h2.decode(), "#" + h1.decode())
    assert field(getuser(r, "alice"), b"passwords") == [h1]
    setuser(r, "alice", "nopass")
    u = getuser(r, "alice")
    assert b"nopass" in field(u, b"flags") and field(u, b"passwords") == []
    setuser(r, "alice", ">x", "resetpass")
    u = getuser(r, "alice")
    assert b"nopass" not in field(u, b"flags") and field(u, b"passwords") == []


def test_password_rule_errors(r):
    with pytest.raises(redis.ResponseError, match=exactly(
            "Error in ACL SETUSER modifier '<nothere': The password you are trying to remove "
            "from the user does not exist")):
        cmd(r, "ACL", "SETUSER", "bob", "<nothere")
    with pytest.raises(redis.ResponseError, match="The password hash must be exactly 64 characters"):
        cmd(r, "ACL", "SETUSER", "bob", "#abc")
    with pytest.raises(redis.ResponseError, match="The password hash must be exactly 64 characters"):
        cmd(r, "ACL", "SETUSER", "bob", "#" + "A" * 64)
    # A failed SETUSER changes nothing, not even creates the user.
    assert cmd(r, "ACL", "GETUSER", "bob") is None


def test_setuser_errors(r):
    with pytest.raises(redis.ResponseError, match=exactly(
            "Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in ACL")):
        cmd(r, "ACL", "SETUSER", "bob", "+nosuchcommand")
    with pytest.raises(redis.ResponseError, match=exactly(
            "Error in ACL SETUSER modifier '+@nosuchcat': Unknown command or category name in ACL")):
        cmd(r, "ACL", "SETUSER", "bob", "+@nosuchcat")
    with pytest.raises(redis.ResponseError, match=exactly(
            "Error in ACL SETUSER modifier 'bogus': Syntax error")):
        cmd(r, "ACL", "SETUSER", "bob", "bogus")
    with pytest.raises(redis.ResponseError, match="Adding a pattern after the \\* pattern \\(or the 'allkeys'"):
        cmd(r, "ACL", "SETUSER", "bob", "allkeys", "~foo")
    with pytest.raises(redis.ResponseError, match="Adding a pattern after the \\* pattern \\(or the 'allchannels'"):
        cmd(r, "ACL", "SETUSER", "bob", "allchannels", "&foo")
    with pytest.raises(redis.ResponseError, match=exactly(
            "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported")):
        cmd(r, "ACL", "SETUSER", "bob", "+config|get|x")
    with pytest.raises(redis.ResponseError, match=exactly(
            "Unmatched parenthesis in acl selector starting at '(~x'.")):
        cmd(r, "ACL", "SETUSER", "bob", "(~x", "+get")
    with pytest.raises(redis.ResponseError, match=exactly("Usernames can't contain spaces or null characters")):
        cmd(r, "ACL", "SETUSER", "b ob")
    for bad in ("%X~a", "%~a", "%RR~a"):
        with pytest.raises(redis.ResponseError, match=exactly("Error in ACL SETUSER modifier '%s': Syntax error" % bad)):
            cmd(r, "ACL", "SETUSER", "bob", bad)
    assert cmd(r, "ACL", "GETUSER", "bob") is None


def test_describe_rules(r):
    setuser(r, "u1", "on", "nopass", "~a*", "%R~r*", "%W~w*", "%RW~b*", "&ch*", "+@all", "-@dangerous")
    u = getuser(r, "u1")
    assert field(u, b"keys") == b"~a* %R~r* %W~w* ~b*"
    assert field(u, b"channels") == b"&ch*"
    assert field(u, b"commands") == b"+@all -@dangerous"
    assert cmd(r, "ACL", "LIST")[1] == b"user u1 on nopass ~a* %R~r* %W~w* ~b* resetchannels &ch* +@all -@dangerous"
    setuser(r, "u2", "+@read", "+set", "-get")
    # Categories first, then single commands (in no particular order).
    words = field(getuser(r, "u2"), b"commands").split()
    assert words[:2] == [b"-@all", b"+@read"] and sorted(words[2:]) == [b"+set", b"-get"]
    setuser(r, "u3", "allkeys", "allchannels", "allcommands")
    u = getuser(r, "u3")
    assert (field(u, b"keys"), field(u, b"channels"), field(u, b"commands")) == (b"~*", b"&*", b"+@all")
    setuser(r, "u3", "resetkeys", "resetchannels", "nocommands")
    u = getuser(r, "u3")
    assert (field(u, b"keys"), field(u, b"channels"), field(u, b"commands")) == (b"", b"", b"-@all")


def test_reset_rule(r):
    setuser(r, "u", "on", ">p", "~*", "&*", "+@all", "(~x +get)")
    setuser(r, "u", "reset")
    assert cmd(r, "ACL", "LIST")[1] == b"user u off sanitize-payload resetchannels -@all"


def test_selectors(r, server):
    setuser(r, "sel", "on", ">p", "~a*", "+get", "(~b* +set)", "(%R~c* +@read)")
    u = getuser(r, "sel")
    sels = field(u, b"selectors")
    assert len(sels) == 2
    assert field(sels[0], b"keys") == b"~b*" and field(sels[0], b"commands") == b"-@all +set"
    assert field(sels[1], b"keys") == b"%R~c*"
    assert cmd(r, "ACL", "LIST")[1] == (b"user sel on #" + hashlib.sha256(b"p").hexdigest().encode() +
                                        b" ~a* resetchannels -@all +get (~b* resetchannels -@all +set)"
                                        b" (%R~c* resetchannels -@all +@read)")
    c = user_client(server, "sel", "p")
    assert c.get("a1") is None
    assert c.set("b1", "x") is True
    assert c.get("c1") is None
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.set("a1", "x")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.get("b1")
    # A command no selector allows reports the command.
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "incr")):
        cmd(c, "INCR", "a1")
    setuser(r, "sel", "clearselectors")
    assert field(getuser(r, "sel"), b"selectors") == []
    c.close()


def test_selector_split_over_arguments(r):
    setuser(r, "sel", "(~x*", "+get", "+set)")
    sels = field(getuser(r, "sel"), b"selectors")
    words = field(sels[0], b"commands").split()
    assert words[0] == b"-@all" and sorted(words[1:]) == [b"+get", b"+set"]


# ---- authentication ----

def test_auth_as_user(r, server):
    setuser(r, "alice", "on", ">secret", "~*", "+@all")
    c = redis.Redis(host=server.host, port=server.port)
    assert cmd(c, "AUTH", "alice", "secret") == b"OK"
    assert cmd(c, "ACL", "WHOAMI") == b"alice"
    assert b"user=alice" in cmd(c, "CLIENT", "INFO")
    c.close()


def test_wrongpass_never_reveals_the_user(r, server):
    setuser(r, "alice", "on", ">secret")
    setuser(r, "disabled", "off", ">secret")
    c = redis.Redis(host=server.host, port=server.port)
    for user, pw in (("alice", "bad"), ("nosuchuser", "secret"), ("disabled", "secret")):
        with pytest.raises(redis.ResponseError, match=exactly(WRONGPASS)):
            cmd(c, "AUTH", user, pw)
    assert cmd(c, "ACL", "WHOAMI") == b"default"
    entries = log_entries(r)
    assert [(e[b"reason"], e[b"username"], e[b"object"], e[b"context"]) for e in entries] == [
        (b"auth", b"disabled", b"AUTH", b"toplevel"),
        (b"auth", b"nosuchuser", b"AUTH", b"toplevel"),
        (b"auth", b"alice", b"AUTH", b"toplevel")]
    c.close()


def test_auth_one_argument_without_password(r):
    with pytest.raises(redis.ResponseError, match="AUTH <password> called without any password configured"):
        cmd(r, "AUTH", "foo")


def test_hello_auth(r, server):
    setuser(r, "alice", "on", ">secret", "+@all", "~*")
    c = redis.Redis(host=server.host, port=server.port)
    reply = cmd(c, "HELLO", "2", "AUTH", "alice", "secret")
    assert b"proto" in reply
    assert cmd(c, "ACL", "WHOAMI") == b"alice"
    with pytest.raises(redis.ResponseError, match=exactly(WRONGPASS)):
        cmd(c, "HELLO", "2", "AUTH", "alice", "wrong")
    c.close()


def test_default_user_password_and_requirepass(r, server):
    try:
        r.config_set("requirepass", "pw")
        assert field(getuser(r, "default"), b"passwords") == [hashlib.sha256(b"pw").hexdigest().encode()]
        c = redis.Redis(host=server.host, port=server.port)
        with pytest.raises(redis.AuthenticationError):
            c.ping()
        assert cmd(c, "AUTH", "pw") == b"OK"
        assert c.ping()
        c.close()
    finally:
        r.config_set("requirepass", "")
    assert b"nopass" in field(getuser(r, "default"), b"flags")


def test_default_user_off_requires_auth(r, server):
    setuser(r, "admin", "on", ">a", "+@all", "~*", "&*")
    setuser(r, "default", "off")
    c = redis.Redis(host=server.host, port=server.port)
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        cmd(c, "GET", "x")
    assert cmd(c, "AUTH", "admin", "a") == b"OK"
    assert cmd(c, "ACL", "SETUSER", "default", "on") == b"OK"
    c.close()


def test_reset_returns_to_default_user(r, server):
    setuser(r, "alice", "on", ">p", "+@all", "~*")
    c = user_client(server, "alice", "p")
    assert cmd(c, "RESET") == b"RESET"
    assert cmd(c, "ACL", "WHOAMI") == b"default"
    c.close()


# ---- command, key and channel checks ----

def test_command_rules(r, server):
    setuser(r, "u", "on", ">p", "~*", "+@string", "-append", "+config|get", "+client")
    c = user_client(server, "u", "p")
    assert c.set("k", "v") and c.get("k") == b"v"
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "append")):
        c.append("k", "x")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "lpush")):
        c.lpush("l", "x")
    assert cmd(c, "CONFIG", "GET", "maxmemory")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "config|set")):
        cmd(c, "CONFIG", "SET", "maxmemory", "0")
    assert cmd(c, "CLIENT", "ID")
    setuser(r, "u", "-client|kill")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "client|kill")):
        cmd(c, "CLIENT", "KILL", "ID", "99999")
    c.close()


def test_first_argument_rule(r, server):
    setuser(r, "u", "on", ">p", "~*", "-select", "+select|0")
    assert field(getuser(r, "u"), b"commands") == b"-@all +select|0"
    c = user_client(server, "u", "p")
    assert cmd(c, "SELECT", "0") == b"OK"
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "select")):
        cmd(c, "SELECT", "1")
    c.close()


def test_no_auth_commands_always_allowed(r, server):
    setuser(r, "u", "on", ">p", "nocommands")
    c = user_client(server, "u", "p")   # AUTH itself is allowed
    assert cmd(c, "HELLO", "2")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "ping")):
        cmd(c, "PING")
    c.close()


def test_key_patterns_read_write(r, server):
    setuser(r, "u", "on", ">p", "+@all", "%R~read*", "%W~write*", "~both*")
    r.set("read1", "v")
    c = user_client(server, "u", "p")
    assert c.get("read1") == b"v"
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.set("read1", "v")
    assert c.set("write1", "v")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.get("write1")
    # COPY reads its source and writes its destination.
    assert cmd(c, "COPY", "read1", "write2") == 1
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        cmd(c, "COPY", "write1", "read2")
    # GETDEL reads and deletes: needs both.
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.getdel("read1")
    assert c.set("both1", "v") and c.getdel("both1") == b"v"
    # Keys found through numkeys are checked too.
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        cmd(c, "EVAL", "return 1", "1", "other")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        cmd(c, "MSET", "write1", "a", "other", "b")
    c.close()


def test_channel_patterns(r, server):
    setuser(r, "u", "on", ">p", "+@all", "~*", "resetchannels", "&news.*", "&lit*")
    c = user_client(server, "u", "p")
    assert c.publish("news.a", "x") == 0
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CHANNEL)):
        c.publish("sports", "x")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CHANNEL)):
        cmd(c, "SPUBLISH", "sports", "x")
    ps = c.pubsub()
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CHANNEL)):
        ps.subscribe("sports")
        ps.get_message(timeout=5)
    ps.close()
    ps = c.pubsub()
    ps.subscribe("news.b")
    assert wait_for(lambda: ps.get_message(timeout=1))["type"] == "subscribe"
    ps.close()
    # PSUBSCRIBE patterns must literally be among the allowed ones.
    ps = c.pubsub()
    ps.psubscribe("lit*")
    assert wait_for(lambda: ps.get_message(timeout=1))["type"] == "psubscribe"
    ps.close()
    ps = c.pubsub()
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CHANNEL)):
        ps.psubscribe("news.*x")
        ps.get_message(timeout=5)
    ps.close()
    entries = log_entries(r)
    assert entries[0][b"reason"] == b"channel" and entries[0][b"object"] == b"news.*x"
    c.close()


def test_new_users_get_resetchannels(r):
    setuser(r, "u")
    assert field(getuser(r, "u"), b"channels") == b""


# ---- MULTI, scripts, functions, blocking ----

def test_multi_checked_at_queue_time(r, server):
    setuser(r, "u", "on", ">p", "~*", "+multi", "+exec", "+set")
    c = user_client(server, "u", "p")
    conn = c.connection_pool.get_connection("MULTI")
    conn.send_command("MULTI")
    assert conn.read_response() == b"OK"
    conn.send_command("SET", "k", "v")
    assert conn.read_response() == b"QUEUED"
    conn.send_command("INCR", "k")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "incr")):
        conn.read_response()
    conn.send_command("EXEC")
    with pytest.raises(redis.ResponseError, match="Transaction discarded because of previous errors"):
        conn.read_response()
    c.connection_pool.release(conn)
    e = log_entries(r)[0]
    assert (e[b"reason"], e[b"context"], e[b"object"]) == (b"command", b"multi", b"incr")
    c.close()


def test_exec_rechecks_changed_rules(r, server):
    setuser(r, "u", "on", ">p", "~*", "+multi", "+exec", "+set", "+get")
    c = user_client(server, "u", "p")
    conn = c.connection_pool.get_connection("MULTI")
    conn.send_command("MULTI")
    conn.read_response()
    conn.send_command("SET", "k", "v")
    assert conn.read_response() == b"QUEUED"
    conn.send_command("GET", "k")
    assert conn.read_response() == b"QUEUED"
    setuser(r, "u", "-set")
    conn.send_command("EXEC")
    res = conn.read_response()
    assert isinstance(res[0], redis.ResponseError)
    assert str(res[0]).startswith("ACLs rules changed between the moment the transaction was accumulated")
    assert res[1] is None
    c.connection_pool.release(conn)
    c.close()


def test_script_calls_checked_as_caller(r, server):
    setuser(r, "u", "on", ">p", "~*", "+eval", "+get")
    c = user_client(server, "u", "p")
    assert c.eval("return redis.call('get', KEYS[1])", 1, "k") is None
    with pytest.raises(redis.ResponseError, match="The user executing the script can't run this command or subcommand"):
        c.eval("return redis.call('set', KEYS[1], 'v')", 1, "k")
    setuser(r, "u", "+set", "resetkeys", "~k*")
    with pytest.raises(redis.ResponseError,
                       match="The user executing the script can't access at least one of the keys"):
        c.eval("return redis.call('set', 'other', 'v')", 0)
    e = log_entries(r)[0]
    assert (e[b"reason"], e[b"context"], e[b"object"], e[b"username"]) == (b"key", b"lua", b"other", b"u")
    c.close()


def test_function_calls_checked_as_caller(r, server):
    r.execute_command("FUNCTION", "LOAD", "REPLACE",
                      "#!lua name=acltest\nredis.register_function('setit', function(k, a) "
                      "return redis.call('set', k[1], a[1]) end)")
    try:
        setuser(r, "u", "on", ">p", "~*", "+fcall")
        c = user_client(server, "u", "p")
        with pytest.raises(redis.ResponseError, match="The user executing the script can't run this command"):
            c.fcall("setit", 1, "k", "v")
        setuser(r, "u", "+set")
        assert c.fcall("setit", 1, "k", "v") == b"OK"
        c.close()
    finally:
        r.execute_command("FUNCTION", "DELETE", "acltest")


def test_blocking_command_key_checked(r, server):
    setuser(r, "u", "on", ">p", "+@all", "~mine*")
    c = user_client(server, "u", "p")
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_KEY)):
        c.blpop(["mine", "theirs"], timeout=1)
    r.rpush("mine1", "x")
    assert c.blpop(["mine1"], timeout=1) == (b"mine1", b"x")
    c.close()


# ---- the ACL log and counters ----

def test_acl_log_entry_fields(r, server):
    setuser(r, "u", "on", ">p", "~k*", "+get")
    c = user_client(server, "u", "p")
    with pytest.raises(redis.ResponseError):
        c.get("other")
    e = log_entries(r)[0]
    assert e[b"count"] == 1
    assert (e[b"reason"], e[b"context"], e[b"object"], e[b"username"]) == (b"key", b"toplevel", b"other", b"u")
    assert float(e[b"age-seconds"]) >= 0
    assert b"user=u" in e[b"client-info"]
    for _ in range(3):
        with pytest.raises(redis.ResponseError):
            c.get("other")
    entries = log_entries(r)
    assert len(entries) == 1 and entries[0][b"count"] == 4
    with pytest.raises(redis.ResponseError):
        c.set("k1", "v")
    entries = log_entries(r)
    assert [e[b"object"] for e in entries] == [b"set", b"other"]
    assert len(log_entries(r, 1)) == 1
    assert cmd(r, "ACL", "LOG", "RESET") == b"OK"
    assert log_entries(r) == []
    c.close()


@pytest.mark.keel_only
def test_acl_log_has_72_fields(r, server):
    setuser(r, "u", "on", ">p", "+get")
    c = user_client(server, "u", "p")
    with pytest.raises(redis.ResponseError):
        c.get("other")
    with pytest.raises(redis.ResponseError):
        c.set("other", "x")
    entries = log_entries(r)
    assert entries[0][b"entry-id"] == entries[1][b"entry-id"] + 1
    assert entries[0][b"timestamp-created"] <= entries[0][b"timestamp-last-updated"]
    assert abs(entries[0][b"timestamp-created"] - time.time() * 1000) < 600000
    c.close()


def test_acllog_max_len(r, server):
    setuser(r, "u", "on", ">p", "~*", "-@all")
    c = user_client(server, "u", "p")
    r.config_set("acllog-max-len", 3)
    for name in ("get", "set", "incr", "decr", "append"):
        with pytest.raises(redis.ResponseError):
            cmd(c, name.upper(), "k", *(["v"] if name in ("set", "append") else []))
    assert [e[b"object"] for e in log_entries(r)] == [b"append", b"decr", b"incr"]
    assert len(log_entries(r, 100)) == 3
    c.close()


@pytest.mark.keel_only
def test_info_stats_counters(r, server):
    r.config_resetstat()
    setuser(r, "u", "on", ">p", "~k*", "+get", "+publish", "resetchannels")
    c = user_client(server, "u", "p")
    for f in (lambda: c.get("x"), lambda: c.set("k", "v"), lambda: c.publish("ch", "m"),
              lambda: cmd(c, "AUTH", "u", "bad")):
        with pytest.raises(redis.ResponseError):
            f()
    stats = r.info("stats")
    assert (stats["acl_access_denied_auth"], stats["acl_access_denied_cmd"],
            stats["acl_access_denied_key"], stats["acl_access_denied_channel"]) == (1, 1, 1, 1)
    c.close()


# ---- ACL subcommands ----

def test_acl_cat(r):
    cats = cmd(r, "ACL", "CAT")
    assert cats == [b"keyspace", b"read", b"write", b"set", b"sortedset", b"list", b"hash", b"string",
                    b"bitmap", b"hyperloglog", b"geo", b"stream", b"pubsub", b"admin", b"fast", b"slow",
                    b"blocking", b"dangerous", b"connection", b"transaction", b"scripting"]
    geo = cmd(r, "ACL", "CAT", "geo")
    assert b"geoadd" in geo and b"get" not in geo
    assert b"config|set" in cmd(r, "ACL", "CAT", "dangerous")
    with pytest.raises(redis.ResponseError, match=exactly("Unknown category 'nosuch'")):
        cmd(r, "ACL", "CAT", "nosuch")


def test_acl_genpass(r):
    p = cmd(r, "ACL", "GENPASS")
    assert len(p) == 64 and int(p, 16) >= 0
    assert len(cmd(r, "ACL", "GENPASS", "5")) == 2
    assert cmd(r, "ACL", "GENPASS") != p
    with pytest.raises(redis.ResponseError, match="ACL GENPASS argument must be the number of bits"):
        cmd(r, "ACL", "GENPASS", "0")
    with pytest.raises(redis.ResponseError, match="value is not an integer"):
        cmd(r, "ACL", "GENPASS", "x")


def test_acl_dryrun(r):
    setuser(r, "u", "on", "~k*", "+get", "&ch", "+publish")
    assert cmd(r, "ACL", "DRYRUN", "u", "GET", "k1") == b"OK"
    assert cmd(r, "ACL", "DRYRUN", "u", "SET", "k1", "v") == b"This user has no permissions to run the 'set' command"
    assert cmd(r, "ACL", "DRYRUN", "u", "GET", "x") == b"This user has no permissions to access the 'x' key"
    assert cmd(r, "ACL", "DRYRUN", "u", "PUBLISH", "no", "m") == \
        b"This user has no permissions to access the 'no' channel"
    with pytest.raises(redis.ResponseError, match=exactly("User 'nosuch' not found")):
        cmd(r, "ACL", "DRYRUN", "nosuch", "GET", "k")
    with pytest.raises(redis.ResponseError, match=exactly("Command 'nosuch' not found")):
        cmd(r, "ACL", "DRYRUN", "u", "nosuch", "k")
    with pytest.raises(redis.ResponseError, match=exactly("wrong number of arguments for 'get' command")):
        cmd(r, "ACL", "DRYRUN", "u", "GET")
    assert log_entries(r) == []


@pytest.mark.parametrize("change", [["resetkeys"], ["-blpop"], ["-@all"], ["off"]])
def test_blocked_command_is_not_rechecked_when_it_wakes(r, server, change):
    """As Redis 7.0: permissions are checked when BLPOP is called, not
    again when a push serves it; a user that lost the key, the command or
    every right meanwhile still gets the element, and nothing is logged.
    (Redis 7.0 serves a woken client without going back through the
    command's checks; Keel does the same rather than add a refusal that
    7.0 clients never see.)"""
    import threading
    setuser(r, "u", "on", ">p", "+@all", "~*")
    c = user_client(server, "u", "p")
    got = {}
    t = threading.Thread(target=lambda: got.update(reply=c.blpop(["wake"], timeout=0)))
    t.start()
    try:
        wait_blocked(r)
        setuser(r, "u", *change)
        r.rpush("wake", "x")
    finally:
        t.join(30)
    assert got.get("reply") == (b"wake", b"x")
    assert r.llen("wake") == 0
    assert log_entries(r) == []
    c.close()


def test_script_keys_are_read_write_for_acl(r):
    """EVAL, EVALSHA and FCALL may do anything with their keys: Redis 7.0's
    key specs say RW, so a read-only key pattern does not let them touch
    the key; their _RO forms only read (acl-v2's odd-commands test)."""
    setuser(r, "u", "on", "+@all", "%R~read*", "%RW~rw*")
    denied = b"This user has no permissions to access the 'read' key"
    for name in ("EVAL", "EVALSHA", "FCALL"):
        assert cmd(r, "ACL", "DRYRUN", "u", name, "x", 1, "read") == denied, name
        assert cmd(r, "ACL", "DRYRUN", "u", name, "x", 1, "rw1") == b"OK", name
        assert cmd(r, "ACL", "DRYRUN", "u", name, "x", 0, "read") == b"OK", name  # an argument, not a key
        assert cmd(r, "ACL", "DRYRUN", "u", name + "_RO", "x", 1, "read") == b"OK", name
    assert cmd(r, "COMMAND", "GETKEYSANDFLAGS", "EVAL", "", 1, "k") == [[b"k", [b"RW", b"access", b"update"]]]
    assert cmd(r, "COMMAND", "GETKEYSANDFLAGS", "FCALL_RO", "f", 1, "k") == [[b"k", [b"RO", b"access"]]]


def test_acl_deluser_disconnects_its_clients(r, raw):
    setuser(r, "u", "on", ">p", "+@all", "~*")
    c = raw()
    assert c.cmd("AUTH", "u", "p") == b"OK"
    other = raw()
    assert cmd(r, "ACL", "DELUSER", "u", "nosuch") == 1
    assert c.is_closed()
    assert other.cmd("PING") == b"PONG"
    with pytest.raises(redis.ResponseError, match=exactly("The 'default' user cannot be removed")):
        cmd(r, "ACL", "DELUSER", "default")


def test_acl_deluser_self_gets_reply_then_closed(r, raw):
    setuser(r, "u", "on", ">p", "+@all", "~*")
    c = raw()
    assert c.cmd("AUTH", "u", "p") == b"OK"
    assert c.cmd("ACL", "DELUSER", "u") == 1
    assert c.is_closed()


def test_revoked_channels_disconnect_subscribers(r, server):
    setuser(r, "u", "on", ">p", "+@all", "~*", "resetchannels", "&a", "&b")
    c = user_client(server, "u", "p")
    ps = c.pubsub()
    ps.subscribe("a")
    assert wait_for(lambda: ps.get_message(timeout=1))["type"] == "subscribe"
    other = user_client(server, "u", "p")
    setuser(r, "u", "resetchannels", "&a", "&c")   # keeps a: still connected
    assert other.ping()
    setuser(r, "u", "resetchannels", "&b")
    assert wait_for(lambda: r.info("clients")["pubsub_clients"] == 0
                    if "pubsub_clients" in r.info("clients") else len(r.client_list(_type="pubsub")) == 0)
    assert other.ping()   # not subscribed: kept
    ps.close()
    other.close()
    c.close()


def test_acl_load_save_need_aclfile(r):
    for sub in ("LOAD", "SAVE"):
        with pytest.raises(redis.ResponseError, match="This Redis instance is not configured to use an ACL file"):
            cmd(r, "ACL", sub)


def test_acl_help_and_unknown(r):
    assert b"WHOAMI" in cmd(r, "ACL", "HELP")
    with pytest.raises(redis.ResponseError, match="unknown subcommand"):
        cmd(r, "ACL", "NOSUCH")


def test_acl_commands_are_admin(r, server):
    setuser(r, "u", "on", ">p", "+@all", "-@admin", "~*")
    c = user_client(server, "u", "p")
    assert cmd(c, "ACL", "WHOAMI") == b"u"
    with pytest.raises(redis.ResponseError, match=exactly(NOPERM_CMD % "acl|setuser")):
        cmd(c, "ACL", "SETUSER", "x")
    c.close()


# ---- categories ----

def _commands_by_name(c):
    c.response_callbacks.pop("COMMAND", None)
    out = {}

    def walk(e):
        out[e[0]] = sorted(e[6])
        for s in e[9]:
            walk(s)
    for e in c.execute_command("COMMAND"):
        walk(e)
    return out


def test_categories_match_redis(r, tmp_path):
    """COMMAND's ACL categories for every command both servers know are
    Redis 7.0's (Debian's redis-server, started here)."""
    redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
    ref = Server(binary=redis_bin, name="aclref")
    ref.start()
    try:
        theirs = _commands_by_name(ref.client())
    finally:
        ref.stop()
    ours = _commands_by_name(redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                                         port=r.connection_pool.connection_kwargs["port"]))
    common = set(ours) & set(theirs)
    assert len(common) > 250
    diffs = {n: (ours[n], theirs[n]) for n in common if ours[n] != theirs[n]}
    assert diffs == {}


def test_sort_by_and_get_need_read_access_to_all_keys(r, server):
    r.rpush("mylist", 1)
    setuser(r, "u", "on", ">p", "+sort", "~mylist", "~v*")
    c = user_client(server, "u", "p")
    with pytest.raises(redis.ResponseError, match=exactly("BY option of SORT denied due to insufficient ACL permissions.")):
        cmd(c, "SORT", "mylist", "BY", "v*")
    with pytest.raises(redis.ResponseError, match=exactly("GET option of SORT denied due to insufficient ACL permissions.")):
        cmd(c, "SORT", "mylist", "GET", "v*")
    assert cmd(c, "SORT", "mylist", "BY", "nosort") == [b"1"]   # no pattern: no other key read
    setuser(r, "u", "%R~*")
    assert cmd(c, "SORT", "mylist", "BY", "v*", "GET", "#") == [b"1"]
    c.close()


def test_unauthenticated_requests_are_small(r, server, raw):
    setuser(r, "default", "resetpass", ">pw")
    try:
        c = raw()
        c.send(b"*100\r\n")
        assert c.is_closed()
        c = raw()
        c.send(b"*1\r\n$100000000\r\n")
        assert c.is_closed()
        c = raw()
        assert c.cmd("AUTH", "pw") == b"OK"
        assert c.cmd("SET", "k", "x" * 20000) == b"OK"
    finally:
        r.execute_command("ACL", "SETUSER", "default", "nopass")


def test_client_kill_user(r, raw):
    setuser(r, "u", "on", ">p", "+@all", "~*")
    a = raw()
    assert a.cmd("AUTH", "u", "p") == b"OK"
    b = raw()
    assert b.cmd("PING") == b"PONG"
    assert cmd(r, "CLIENT", "KILL", "USER", "u") == 1
    assert a.is_closed()
    assert b.cmd("PING") == b"PONG"
    with pytest.raises(redis.ResponseError, match=exactly("No such user 'nosuch'")):
        cmd(r, "CLIENT", "KILL", "USER", "nosuch")


def test_slowlog_redacts_setuser(r):
    r.config_set("slowlog-log-slower-than", 0)
    try:
        r.slowlog_reset()
        setuser(r, "u", "on", ">secret")
        entries = cmd(r, "SLOWLOG", "GET")
        assert [b"ACL", b"SETUSER", b"(redacted)", b"(redacted)", b"(redacted)"] in [e[3] for e in entries]
    finally:
        r.config_set("slowlog-log-slower-than", 10000)


def test_lua_acl_check_cmd(r, server):
    setuser(r, "bob", "on", ">123", "+@scripting", "+set", "~x*")
    c = user_client(server, "bob", "123")
    assert c.eval("return redis.acl_check_cmd('set','xx',1)", 1, "xx") == 1
    assert c.eval("return redis.acl_check_cmd('hset','xx','f',1)", 1, "xx") is None
    assert c.eval("return redis.acl_check_cmd('set','yy',1)", 0) is None
    with pytest.raises(redis.ResponseError, match="Invalid command passed to redis.acl_check_cmd"):
        c.eval("return redis.acl_check_cmd('invalid-cmd','arg')", 0)
    assert log_entries(r) == []
    c.close()
