"""Connection and server commands, checked against Redis 7.0 behaviour."""

import os
import re
import socket
import subprocess
import time

import pytest
import redis

from keel_helpers import Closed, RawConn, cmd, exactly, free_port, server_binary, wait_for


def info_fields(text):
    """Parse raw INFO text into {field: value-string}, checking the format."""
    if isinstance(text, bytes):
        text = text.decode()
    fields = {}
    for line in text.split("\r\n"):
        if not line or line.startswith("#"):
            continue
        assert ":" in line, "bad INFO line %r" % line
        k, v = line.split(":", 1)
        fields[k] = v
    return fields


def info_sections(text):
    if isinstance(text, bytes):
        text = text.decode()
    return [l[2:] for l in text.split("\r\n") if l.startswith("# ")]


# --------------------------------------------------------------------------
# PING ECHO QUIT RESET
# --------------------------------------------------------------------------

def test_ping(r, raw):
    c = raw()
    c.send(b"*1\r\n$4\r\nPING\r\n")
    assert c.read_bytes(7) == b"+PONG\r\n"
    c.send(b"*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n")
    assert c.read_bytes(11) == b"$5\r\nhello\r\n"
    c.send(b"*2\r\n$4\r\nping\r\n$0\r\n\r\n")
    assert c.read_bytes(6) == b"$0\r\n\r\n"
    assert c.cmd("PING", "a", "b") == "ERR wrong number of arguments for 'ping' command"


def test_echo(r, raw):
    c = raw()
    assert c.cmd("ECHO", "hello world") == b"hello world"
    assert c.cmd("ECHO", b"a\r\n\x00b") == b"a\r\n\x00b"
    assert c.cmd("ECHO", "") == b""
    assert c.cmd("ECHO") == "ERR wrong number of arguments for 'echo' command"
    assert c.cmd("ECHO", "a", "b") == "ERR wrong number of arguments for 'echo' command"


def test_quit(raw):
    c = raw()
    c.send(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
    assert c.read_bytes(5) == b"+OK\r\n"
    assert c.is_closed(3.0)


def test_quit_processes_preceding_pipeline(r, raw):
    c = raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\n*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n2\r\n")
    assert c.read_bytes(10) == b"+OK\r\n+OK\r\n"
    assert c.is_closed(3.0)
    assert r.get("q") == b"1"


def test_reset(r, raw):
    c = raw()
    assert isinstance(c.cmd("HELLO", "3"), dict)
    assert c.cmd("SELECT", "3") == b"OK"
    assert c.cmd("CLIENT", "SETNAME", "before-reset") == b"OK"
    c.send(b"*1\r\n$5\r\nRESET\r\n")
    assert c.read_bytes(8) == b"+RESET\r\n"
    # back to RESP2, db 0, no name
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_bytes(5) == b"$-1\r\n"
    assert c.cmd("CLIENT", "GETNAME") is None
    r.set("in-db0", "yes")
    assert c.cmd("GET", "in-db0") == b"yes"
    assert c.cmd("RESET", "x") == "ERR wrong number of arguments for 'reset' command"


# --------------------------------------------------------------------------
# HELLO AUTH
# --------------------------------------------------------------------------

HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


def test_hello_2(raw):
    c = raw()
    reply = c.cmd("HELLO", "2")
    assert isinstance(reply, list) and len(reply) == 14
    assert reply[0::2] == HELLO_KEYS
    d = dict(zip(reply[0::2], reply[1::2]))
    assert d[b"proto"] == 2
    assert d[b"id"] == c.cmd("CLIENT", "ID")
    assert d[b"mode"] == b"standalone"
    assert d[b"role"] == b"master"
    assert d[b"modules"] == []


def test_hello_3(raw):
    c = raw()
    c.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
    assert c.read_bytes(3) == b"%7\r"          # a map with 7 entries
    c.buf = b"%7\r" + c.buf
    reply = c.read()
    assert list(reply.keys()) == HELLO_KEYS
    assert reply[b"proto"] == 3
    assert reply[b"id"] == c.cmd("CLIENT", "ID")
    assert reply[b"modules"] == []
    # HELLO without a version: reports, keeps the protocol
    reply = c.cmd("HELLO")
    assert isinstance(reply, dict) and reply[b"proto"] == 3
    reply = c.cmd("HELLO", "2")
    assert isinstance(reply, list)
    reply = c.cmd("HELLO")
    assert isinstance(reply, list) and reply[5] == 2


def test_hello_errors(raw):
    c = raw()
    for v in ("1", "4", "0", "-1"):
        assert c.cmd("HELLO", v) == "NOPROTO unsupported protocol version"
    assert c.cmd("HELLO", "abc") == "ERR Protocol version is not an integer or out of range"
    assert c.cmd("HELLO", "3", "foo") == "ERR Syntax error in HELLO option 'foo'"
    assert c.cmd("HELLO", "2", "SETNAME") == "ERR Syntax error in HELLO option 'SETNAME'"
    assert c.cmd("HELLO", "2", "SETNAME", "a b") == \
        "ERR Client names cannot contain spaces, newlines or special characters."
    # failed HELLOs leave the protocol alone
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_bytes(5) == b"$-1\r\n"


def test_hello_setname(raw):
    c = raw()
    reply = c.cmd("HELLO", "3", "SETNAME", "myname")
    assert reply[b"proto"] == 3
    assert c.cmd("CLIENT", "GETNAME") == b"myname"
    reply = c.cmd("HELLO", "2", "SETNAME", "other")
    assert isinstance(reply, list)
    assert c.cmd("CLIENT", "GETNAME") == b"other"


def test_hello_auth_default_user_nopass(raw):
    c = raw()
    reply = c.cmd("HELLO", "3", "AUTH", "default", "anything")
    assert reply[b"proto"] == 3


def test_auth_without_password(raw):
    c = raw()
    assert c.cmd("AUTH", "foo") == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    # AUTH default <anything> succeeds: the default user is 'nopass'
    assert c.cmd("AUTH", "default", "whatever") == b"OK"
    assert c.cmd("AUTH", "nouser", "x") == "WRONGPASS invalid username-password pair or user is disabled."
    assert c.cmd("AUTH") == "ERR wrong number of arguments for 'auth' command"
    assert c.cmd("AUTH", "a", "b", "c") == "ERR syntax error"
    assert c.cmd("PING") == b"PONG"


def test_requirepass_set_later_spares_existing_connections(r, raw):
    before = raw()
    # Answered, so the server has accepted the connection (the kernel's
    # handshake alone does not make it existing) before the password is set.
    assert before.cmd("PING") == b"PONG"
    r.config_set("requirepass", "secret")
    try:
        assert before.cmd("PING") == b"PONG"
        after = raw()
        assert after.cmd("PING") == "NOAUTH Authentication required."
        assert after.cmd("AUTH", "secret") == b"OK"
        assert after.cmd("PING") == b"PONG"
    finally:
        r.config_set("requirepass", "")


def test_time(r):
    sec, usec = cmd(r, "TIME")
    assert isinstance(sec, bytes) and isinstance(usec, bytes)
    assert abs(int(sec) - time.time()) < 5
    assert 0 <= int(usec) < 1000000
    assert sec.isdigit() and usec.isdigit()


# --------------------------------------------------------------------------
# INFO
# --------------------------------------------------------------------------

def test_info_sections_and_fields(r):
    text = cmd(r, "INFO").decode()
    sections = info_sections(text)
    for s in ("Server", "Clients", "Memory", "Stats", "Keyspace"):
        assert s in sections
    f = info_fields(text)
    for name in ("redis_version", "tcp_port", "connected_clients", "used_memory",
                 "used_memory_human", "used_memory_rss", "used_memory_peak",
                 "mem_fragmentation_ratio", "mem_allocator", "total_connections_received",
                 "total_commands_processed", "expired_keys", "rejected_connections",
                 "keyspace_hits", "keyspace_misses"):
        assert name in f, name
    assert text.endswith("\r\n")
    assert re.fullmatch(r"\d+\.\d+\.\d+", f["redis_version"])
    for name in ("tcp_port", "connected_clients", "used_memory", "used_memory_rss",
                 "used_memory_peak", "total_connections_received", "total_commands_processed",
                 "expired_keys", "rejected_connections", "keyspace_hits", "keyspace_misses"):
        assert f[name].isdigit(), (name, f[name])
    assert re.fullmatch(r"\d+\.\d\d", f["mem_fragmentation_ratio"])
    assert re.fullmatch(r"\d+(\.\d\d)?[BKMGT]?", f["used_memory_human"]), f["used_memory_human"]
    assert int(f["connected_clients"]) >= 1
    assert int(f["used_memory"]) > 0


def test_info_single_section(r, server):
    text = cmd(r, "INFO", "server").decode()
    assert info_sections(text) == ["Server"]
    f = info_fields(text)
    assert int(f["tcp_port"]) == server.port
    assert "redis_version" in f
    assert "used_memory" not in f
    text = cmd(r, "INFO", "MEMORY").decode()
    assert info_sections(text) == ["Memory"]
    f = info_fields(text)
    assert "used_memory_human" in f and "connected_clients" not in f
    assert info_sections(cmd(r, "INFO", "clients").decode()) == ["Clients"]
    assert info_sections(cmd(r, "INFO", "stats").decode()) == ["Stats"]
    assert info_sections(cmd(r, "INFO", "keyspace").decode()) == ["Keyspace"]
    # several sections at once (Redis 7)
    assert info_sections(cmd(r, "INFO", "server", "clients").decode()) == ["Server", "Clients"]
    # unknown section: empty
    assert cmd(r, "INFO", "nosuchsection") == b""


def test_info_keyspace(r, server):
    assert cmd(r, "INFO", "keyspace") == b"# Keyspace\r\n"
    r.set("a", 1)
    r.set("b", 2, ex=1000)
    c5 = server.client(db=5)
    c5.set("x", 1)
    text = cmd(r, "INFO", "keyspace").decode()
    lines = text.split("\r\n")
    assert lines[0] == "# Keyspace"
    assert re.fullmatch(r"db0:keys=2,expires=1,avg_ttl=\d+", lines[1]), lines[1]
    assert lines[2] == "db5:keys=1,expires=0,avg_ttl=0"
    assert lines[3:] == [""]
    c5.connection_pool.disconnect()

    # avg_ttl (ms) is an estimate maintained by the active expire cycle:
    # it may read 0 right after the write, but soon reflects the TTL
    def avg_ttl():
        m = re.search(r"db0:keys=2,expires=1,avg_ttl=(\d+)", cmd(r, "INFO", "keyspace").decode())
        return int(m.group(1))
    assert wait_for(lambda: avg_ttl() > 0, timeout=2.0)
    assert 900000 < avg_ttl() <= 1000000


def test_info_connected_clients(start_server):
    srv = start_server()                 # dedicated: no stray clients
    r = srv.client()

    def connected():
        return int(info_fields(cmd(r, "INFO", "clients"))["connected_clients"])
    assert connected() == 1
    before = int(info_fields(cmd(r, "INFO", "stats"))["total_connections_received"])
    extra = [srv.raw() for _ in range(3)]
    for c in extra:
        assert c.cmd("PING") == b"PONG"
    assert connected() == 4
    for c in extra:
        c.close()
    assert wait_for(lambda: connected() == 1)
    f = info_fields(cmd(r, "INFO", "stats"))
    assert int(f["total_connections_received"]) == before + 3
    r.connection_pool.disconnect()


def test_info_stats_counters(r, server):
    f = info_fields(cmd(r, "INFO", "stats"))
    r.set("k", "v")
    r.get("k")
    r.get("k")
    r.get("missing")
    r.exists("missing")
    c = RawConn(server.host, server.port)
    c.cmd("PING")
    c.close()
    g = info_fields(cmd(r, "INFO", "stats"))
    assert int(g["keyspace_hits"]) - int(f["keyspace_hits"]) == 2
    assert int(g["keyspace_misses"]) - int(f["keyspace_misses"]) == 2
    assert int(g["total_connections_received"]) - int(f["total_connections_received"]) == 1
    # SET GET GET GET EXISTS, and the first INFO is counted once it completes
    assert int(g["total_commands_processed"]) - int(f["total_commands_processed"]) >= 6


def test_config_resetstat(r):
    r.get("missing")
    r.set("k", "v")
    r.get("k")
    assert cmd(r, "CONFIG", "RESETSTAT") == b"OK"
    f = info_fields(cmd(r, "INFO", "stats"))
    assert f["keyspace_hits"] == "0"
    assert f["keyspace_misses"] == "0"
    assert f["expired_keys"] == "0"
    assert f["rejected_connections"] == "0"
    assert f["total_connections_received"] == "0"
    assert int(f["total_commands_processed"]) <= 1


# --------------------------------------------------------------------------
# CONFIG
# --------------------------------------------------------------------------

def config_get(r, *patterns):
    out = cmd(r, "CONFIG", "GET", *patterns)
    return dict(zip(out[0::2], out[1::2]))


def test_config_get(r, server):
    assert config_get(r, "port") == {b"port": str(server.port).encode()}
    assert config_get(r, "nonexistent") == {}
    # a non-pattern name is echoed back as given (case kept)
    assert config_get(r, "PORT") == {b"PORT": str(server.port).encode()}
    got = config_get(r, "maxmemory*")
    assert set(got) >= {b"maxmemory", b"maxmemory-policy", b"maxmemory-samples"}
    assert all(k.startswith(b"maxmemory") for k in got)
    assert got[b"maxmemory-policy"] == b"noeviction"
    # several patterns at once (Redis 7)
    got = config_get(r, "port", "bind", "nomatch*")
    assert got == {b"port": str(server.port).encode(), b"bind": b"127.0.0.1"}
    got = config_get(r, "*")
    assert len(got) > 10 and b"hz" in got and b"timeout" in got
    got = config_get(r, "?z")
    assert got == {b"hz": got[b"hz"]}
    assert cmd(r, "CONFIG", "GET", "save") == [b"save", b""]
    assert cmd(r, "CONFIG", "GET", "appendonly") == [b"appendonly", b"no"]


def test_config_get_resp3_is_map(raw):
    c = raw()
    c.cmd("HELLO", "3")
    assert c.cmd("CONFIG", "GET", "appendonly") == {b"appendonly": b"no"}


def test_config_set_units(r):
    old = config_get(r, "maxmemory")[b"maxmemory"]
    try:
        assert cmd(r, "CONFIG", "SET", "maxmemory", "100mb") == b"OK"
        assert config_get(r, "maxmemory") == {b"maxmemory": b"104857600"}
        assert cmd(r, "CONFIG", "SET", "maxmemory", "1gb") == b"OK"
        assert config_get(r, "maxmemory") == {b"maxmemory": b"1073741824"}
        assert cmd(r, "CONFIG", "SET", "maxmemory", "10k") == b"OK"
        assert config_get(r, "maxmemory") == {b"maxmemory": b"10000"}
        assert cmd(r, "CONFIG", "SET", "maxmemory", "10KB") == b"OK"
        assert config_get(r, "maxmemory") == {b"maxmemory": b"10240"}
        assert cmd(r, "CONFIG", "SET", "maxmemory", "2m") == b"OK"
        assert config_get(r, "maxmemory") == {b"maxmemory": b"2000000"}
        with pytest.raises(redis.ResponseError, match="^CONFIG SET failed"):
            cmd(r, "CONFIG", "SET", "maxmemory", "abc")
        assert config_get(r, "maxmemory") == {b"maxmemory": b"2000000"}
    finally:
        cmd(r, "CONFIG", "SET", "maxmemory", old)


def test_config_set_multiple_atomic(r):
    old = config_get(r, "hz", "maxmemory", "timeout")
    try:
        assert cmd(r, "CONFIG", "SET", "hz", "20", "maxmemory", "10mb", "timeout", "77") == b"OK"
        assert config_get(r, "hz", "maxmemory", "timeout") == {
            b"hz": b"20", b"maxmemory": b"10485760", b"timeout": b"77"}
        # one bad value: nothing changes
        with pytest.raises(redis.ResponseError, match=r"^CONFIG SET failed \(possibly related to argument 'maxmemory'\)"):
            cmd(r, "CONFIG", "SET", "hz", "15", "maxmemory", "abc", "timeout", "5")
        assert config_get(r, "hz", "maxmemory", "timeout") == {
            b"hz": b"20", b"maxmemory": b"10485760", b"timeout": b"77"}
        # duplicate parameter
        with pytest.raises(redis.ResponseError, match="^CONFIG SET failed"):
            cmd(r, "CONFIG", "SET", "hz", "15", "hz", "16")
        assert config_get(r, "hz") == {b"hz": b"20"}
        # unknown parameter
        with pytest.raises(redis.ResponseError,
                           match=exactly("Unknown option or number of arguments for CONFIG SET - 'nosuchparam'")):
            cmd(r, "CONFIG", "SET", "hz", "15", "nosuchparam", "1")
        assert config_get(r, "hz") == {b"hz": b"20"}
        with pytest.raises(redis.ResponseError,
                           match=exactly("wrong number of arguments for 'config|set' command")):
            cmd(r, "CONFIG", "SET", "hz")
        # an odd number of arguments after the first pair
        with pytest.raises(redis.ResponseError, match=exactly("syntax error")):
            cmd(r, "CONFIG", "SET", "hz", "15", "timeout")
        assert config_get(r, "hz") == {b"hz": b"20"}
    finally:
        cmd(r, "CONFIG", "SET", *[x for kv in old.items() for x in kv])


def test_config_set_bad_values(r):
    for args in (("hz", "abc"), ("timeout", "-1"), ("maxmemory-policy", "nosuchpolicy"),
                 ("appendonly", "maybe")):
        with pytest.raises(redis.ResponseError, match="^CONFIG SET failed"):
            cmd(r, "CONFIG", "SET", *args)


def test_config_set_maxmemory_policy(r):
    try:
        assert cmd(r, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == b"OK"
        assert config_get(r, "maxmemory-policy") == {b"maxmemory-policy": b"allkeys-lru"}
        assert cmd(r, "CONFIG", "SET", "MAXMEMORY-POLICY", "VOLATILE-TTL") == b"OK"
        assert config_get(r, "maxmemory-policy") == {b"maxmemory-policy": b"volatile-ttl"}
    finally:
        cmd(r, "CONFIG", "SET", "maxmemory-policy", "noeviction")


# --------------------------------------------------------------------------
# COMMAND
# --------------------------------------------------------------------------

def test_command_count(r):
    n = cmd(r, "COMMAND", "COUNT")
    assert isinstance(n, int) and n > 20
    assert len(cmd(r, "COMMAND")) == n


def test_command_info(r):
    (get,) = cmd(r, "COMMAND", "INFO", "get")
    assert get[0] == b"get"
    assert get[1] == 2                       # arity
    assert set(get[2]) >= {b"readonly", b"fast"}
    assert get[3:6] == [1, 1, 1]             # first key, last key, step
    (s,) = cmd(r, "COMMAND", "INFO", "SET")
    assert s[0] == b"set"
    assert s[1] == -3
    assert set(s[2]) >= {b"write", b"denyoom"}
    assert s[3:6] == [1, 1, 1]
    (mset,) = cmd(r, "COMMAND", "INFO", "mset")
    assert mset[1] == -3 and mset[3:6] == [1, -1, 2]
    (ping,) = cmd(r, "COMMAND", "INFO", "ping")
    assert ping[1] == -1 and ping[3:6] == [0, 0, 0]
    assert cmd(r, "COMMAND", "INFO", "nosuchcommand") == [None]
    assert [x[0] if x else None for x in cmd(r, "COMMAND", "INFO", "get", "nope", "del")] == \
        [b"get", None, b"del"]


def test_command_docs(r, raw):
    out = cmd(r, "COMMAND", "DOCS", "get")
    assert out[0] == b"get"
    doc = dict(zip(out[1][0::2], out[1][1::2]))
    assert b"summary" in doc and b"since" in doc and b"group" in doc
    assert doc[b"group"] == b"string"
    assert cmd(r, "COMMAND", "DOCS", "nosuchcommand") == []
    c = raw()
    c.cmd("HELLO", "3")
    docs = c.cmd("COMMAND", "DOCS", "get", "set")
    assert isinstance(docs, dict) and set(docs) == {b"get", b"set"}
    assert isinstance(docs[b"get"], dict) and docs[b"get"][b"group"] == b"string"


# --------------------------------------------------------------------------
# CLIENT
# --------------------------------------------------------------------------

def client_list(r):
    text = cmd(r, "CLIENT", "LIST").decode()
    assert text.endswith("\n")
    rows = []
    for line in text.strip("\n").split("\n"):
        row = {}
        for item in line.split(" "):
            k, v = item.split("=", 1)
            row[k] = v
        rows.append(row)
    return rows


def test_client_id(raw):
    a, b = raw(), raw()
    ia, ib = a.cmd("CLIENT", "ID"), b.cmd("CLIENT", "ID")
    assert isinstance(ia, int) and isinstance(ib, int)
    assert ib > ia
    assert a.cmd("CLIENT", "ID") == ia


def test_client_setname_getname(raw):
    c = raw()
    assert c.cmd("CLIENT", "GETNAME") is None
    assert c.cmd("CLIENT", "SETNAME", "worker-1") == b"OK"
    assert c.cmd("CLIENT", "GETNAME") == b"worker-1"
    for bad in ("a b", "a\nb", "\x01"):
        assert c.cmd("CLIENT", "SETNAME", bad) == \
            "ERR Client names cannot contain spaces, newlines or special characters."
    assert c.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert c.cmd("CLIENT", "SETNAME", "") == b"OK"      # empty clears the name
    assert c.cmd("CLIENT", "GETNAME") is None


def test_client_list(r, raw):
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    c.cmd("CLIENT", "SETNAME", "listed")
    c.cmd("SELECT", "2")
    c.cmd("PING")
    rows = client_list(r)
    mine = [row for row in rows if row["id"] == str(cid)]
    assert len(mine) == 1
    row = mine[0]
    for field in ("id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "cmd"):
        assert field in row, field
    assert row["name"] == "listed"
    assert row["db"] == "2"
    assert row["cmd"] == "ping"
    host, port = c.sock.getsockname()
    assert row["addr"] == "%s:%d" % (host, port)
    me = [row for row in rows if row["cmd"] == "client|list"]
    assert len(me) == 1 and me[0]["name"] == ""
    assert len(rows) >= 2
    # the order of the first fields is fixed
    line = cmd(r, "CLIENT", "LIST").decode().split("\n")[0]
    assert re.match(r"id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=\S+ db=\d+ ", line)


def test_client_list_id_filter(r, raw):
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    text = cmd(r, "CLIENT", "LIST", "ID", cid).decode()
    assert text.startswith("id=%d " % cid) and text.count("\n") == 1


def test_client_info(raw):
    c = raw()
    cid = c.cmd("CLIENT", "ID")
    c.cmd("CLIENT", "SETNAME", "me")
    text = c.cmd("CLIENT", "INFO").decode()
    assert text.endswith("\n") and text.count("\n") == 1
    assert text.startswith("id=%d addr=" % cid)
    assert " name=me " in text
    assert " cmd=client|info " in text
    assert " db=0 " in text


def test_client_kill_id(raw):
    a, b = raw(), raw()
    bid = b.cmd("CLIENT", "ID")
    assert a.cmd("CLIENT", "KILL", "ID", str(bid)) == 1
    assert b.is_closed(3.0)
    assert a.cmd("CLIENT", "KILL", "ID", "999999999") == 0
    aid = a.cmd("CLIENT", "ID")
    # SKIPME defaults to yes
    assert a.cmd("CLIENT", "KILL", "ID", str(aid)) == 0
    assert a.cmd("CLIENT", "KILL", "ID", "abc") == "ERR client-id should be greater than 0"
    assert a.cmd("CLIENT", "KILL", "FOO", "bar") == "ERR syntax error"
    assert a.cmd("PING") == b"PONG"
    # SKIPME no: the reply is delivered, then the connection closes
    assert a.cmd("CLIENT", "KILL", "ID", str(aid), "SKIPME", "no") == 1
    assert a.is_closed(3.0)


def test_client_kill_addr(raw):
    a, b, c = raw(), raw(), raw()
    b.cmd("PING")
    c.cmd("PING")
    baddr = "%s:%d" % b.sock.getsockname()
    assert a.cmd("CLIENT", "KILL", "ADDR", baddr) == 1
    assert b.is_closed(3.0)
    assert a.cmd("CLIENT", "KILL", "ADDR", "1.2.3.4:5") == 0
    # old form: CLIENT KILL ip:port -> +OK or an error
    caddr = "%s:%d" % c.sock.getsockname()
    assert a.cmd("CLIENT", "KILL", caddr) == b"OK"
    assert c.is_closed(3.0)
    assert a.cmd("CLIENT", "KILL", "1.2.3.4:5") == "ERR No such client"
    assert a.cmd("PING") == b"PONG"


# --------------------------------------------------------------------------
# SHUTDOWN DEBUG
# --------------------------------------------------------------------------

def test_shutdown_nosave(start_server):
    srv = start_server()
    c = srv.raw()
    assert c.cmd("SET", "k", "v") == b"OK"
    srv.expected_exit = True
    c.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
    assert c.is_closed(5.0)
    assert srv.proc.wait(10) == 0
    assert not os.path.exists(os.path.join(srv.dir, "dump.rdb"))


def test_debug_sleep(raw):
    c = raw()
    t = time.time()
    assert c.cmd("DEBUG", "SLEEP", "0") == b"OK"
    assert c.cmd("DEBUG", "SLEEP", "0.1") == b"OK"
    assert 0.09 <= time.time() - t < 2


def test_debug_populate(r):
    assert cmd(r, "DEBUG", "POPULATE", 1000, "key", 16) == b"OK"
    assert r.dbsize() == 1000
    assert r.strlen("key:0") == 16
    assert r.strlen("key:999") == 16
    assert r.get("key:7") == b"value:7" + b"\x00" * 9
    assert r.exists("key:1000") == 0
    # existing keys are not overwritten
    r.set("key:5", "mine")
    assert cmd(r, "DEBUG", "POPULATE", 1000, "key", 16) == b"OK"
    assert r.get("key:5") == b"mine"
    assert r.dbsize() == 1000
    # defaults: prefix "key", value "value:N"
    r.flushall()
    assert cmd(r, "DEBUG", "POPULATE", 3) == b"OK"
    assert sorted(r.keys("*")) == [b"key:0", b"key:1", b"key:2"]
    assert r.get("key:2") == b"value:2"


# --------------------------------------------------------------------------
# command errors
# --------------------------------------------------------------------------

def test_unknown_command(raw):
    c = raw()
    c.send(b"*3\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nb\r\n")
    assert c.read_bytes(64) == b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    assert c.cmd("FOOBAR") == "ERR unknown command 'FOOBAR', with args beginning with: "
    # \r and \n inside the args are replaced by spaces
    assert c.cmd("foo", "x\r\ny") == "ERR unknown command 'foo', with args beginning with: 'x  y' "
    # names and args are truncated at 128 characters in total
    assert c.cmd("x" * 200, "a" * 200) == \
        "ERR unknown command '%s', with args beginning with: '%s' " % ("x" * 128, "a" * 128)
    args = [str(i % 10) for i in range(60)]
    assert c.cmd("foo", *args) == \
        "ERR unknown command 'foo', with args beginning with: %s" % "".join("'%s' " % a for a in args[:32])
    assert c.cmd("PING") == b"PONG"


def test_wrong_arity(raw):
    c = raw()
    assert c.cmd("GET") == "ERR wrong number of arguments for 'get' command"
    assert c.cmd("get", "a", "b") == "ERR wrong number of arguments for 'get' command"
    assert c.cmd("SET", "a") == "ERR wrong number of arguments for 'set' command"
    assert c.cmd("CLIENT") == "ERR wrong number of arguments for 'client' command"
    assert c.cmd("CONFIG", "GET") == "ERR wrong number of arguments for 'config|get' command"
    assert c.cmd("PING") == b"PONG"


def test_unknown_subcommand(raw):
    c = raw()
    assert c.cmd("CLIENT", "FOO") == \
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    assert c.cmd("CONFIG", "foo", "bar") == \
        "ERR unknown subcommand 'foo'. Try CONFIG HELP."


# --------------------------------------------------------------------------
# limits: maxclients, timeout
# --------------------------------------------------------------------------

def test_maxclients(start_server):
    srv = start_server("--maxclients", "2")
    a = srv.raw()
    assert a.cmd("PING") == b"PONG"
    # wait until the startup probe's connection is gone
    assert wait_for(lambda: info_fields(a.cmd("INFO", "clients"))["connected_clients"] == "1")
    b = srv.raw()
    assert b.cmd("PING") == b"PONG"
    c = srv.raw()
    c.settimeout(5)
    assert c.read() == "ERR max number of clients reached"
    assert c.is_closed(3.0)
    f = info_fields(a.cmd("INFO", "stats"))
    assert f["rejected_connections"] == "1"
    assert int(info_fields(a.cmd("INFO", "clients"))["connected_clients"]) == 2
    # a freed slot can be reused
    b.close()

    def try_connect():
        d = srv.raw()
        try:
            return d.cmd("PING") == b"PONG"
        except Closed:   # refused: the slot is not free yet
            return False
        finally:
            d.close()
    assert wait_for(try_connect, timeout=5)


@pytest.mark.slow
def test_idle_timeout(start_server):
    srv = start_server("--timeout", "1")
    idle = srv.raw()
    busy = srv.raw()
    assert idle.cmd("PING") == b"PONG"
    t = time.time()
    closed = False
    while time.time() - t < 4:
        assert busy.cmd("PING") == b"PONG"
        if idle.is_closed(0.2):
            closed = True
            break
    assert closed, "idle client not closed within 4 s"
    assert time.time() - t >= 0.9
    assert busy.cmd("PING") == b"PONG"


# --------------------------------------------------------------------------
# startup and config files
# --------------------------------------------------------------------------

def run_server_expect_exit(args, cwd):
    p = subprocess.run([server_binary()] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=15, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def test_config_file_unknown_directive(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port %d\nbind 127.0.0.1\nsave \"\"\nbogus-directive yes\n" % free_port())
    rc, out = run_server_expect_exit([str(conf)], str(tmp_path))
    assert rc == 1, out
    assert "bogus-directive" in out


def test_config_file_bad_value(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("bind 127.0.0.1\nsave \"\"\nmaxmemory notanumber\n")
    rc, out = run_server_expect_exit([str(conf)], str(tmp_path))
    assert rc == 1, out
    assert "maxmemory" in out


def test_command_line_unknown_option(tmp_path):
    rc, out = run_server_expect_exit(["--bind", "127.0.0.1", "--save", "", "--no-such-option", "1"],
                                     str(tmp_path))
    assert rc == 1, out
    assert "no-such-option" in out


def test_minimal_config_file_loads(start_server, tmp_path):
    conf = tmp_path / "keel.conf"
    conf.write_text(
        "# a minimal redis.conf\n"
        "\n"
        "bind 127.0.0.1\n"
        "protected-mode yes\n"
        "daemonize no\n"
        "loglevel notice\n"
        "logfile \"\"\n"
        "databases 16\n"
        "save \"\"\n"
        "appendonly no\n"
        "maxmemory 100mb\n"
        "maxmemory-policy allkeys-lru\n"
        "timeout 0\n"
        "tcp-keepalive 300\n"
        "hz 10\n"
        "maxclients 1000\n"
    )
    srv = start_server(config_file=str(conf))
    c = srv.client()
    assert c.config_get("maxmemory") == {"maxmemory": "104857600"}
    assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert c.config_get("maxclients") == {"maxclients": "1000"}
    # command-line options override the file
    assert c.config_get("port") == {"port": str(srv.port)}
    c.connection_pool.disconnect()


def test_unix_socket(server, r):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(server.unixsocket)
    s.sendall(b"*1\r\n$4\r\nPING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    s.close()
    c = redis.Redis(unix_socket_path=server.unixsocket)
    c.set("via-unix", "1")
    assert r.get("via-unix") == b"1"
    c.connection_pool.disconnect()
