"""COMMAND GETKEYS / GETKEYSANDFLAGS, LOLWUT and DEBUG ERROR, checked
against Redis 7.0 (the expected replies below were measured on
/usr/bin/redis-server 7.0.15; running this file against it passes).

These were gaps found by running redis-py's own test suite (4.3.4) against
Keel: its connection-pool tests drive DEBUG ERROR, test_lolwut and
test_command_getkeysandflags call the others.
"""

import pytest
import redis

from keel_helpers import cmd

# --------------------------------------------------------------------------
# COMMAND GETKEYSANDFLAGS (and the key finding it shares with GETKEYS)
# --------------------------------------------------------------------------

RO = ["RO", "access"]
OW = ["OW", "update"]

# request -> [(key, flags), ...] as Redis 7.0 answers
KEYS_AND_FLAGS = [
    ("GET k", [("k", RO)]),
    ("SET k v", [("k", OW)]),
    ("SET k v EX 10 GET", [("k", ["RW", "access", "update"])]),
    ("SET k get", [("k", OW)]),                       # "get" is the value
    ("BITFIELD k GET u8 0", [("k", RO)]),
    ("BITFIELD k OVERFLOW SAT GET u8 0", [("k", RO)]),
    ("BITFIELD k GET u8 0 INCRBY u8 0 1", [("k", ["RW", "access", "update"])]),
    ("BITFIELD k GET u8", [("k", ["RW", "access", "update"])]),   # truncated GET
    ("BITFIELD k", [("k", RO)]),
    ("APPEND k v", [("k", ["RW", "insert"])]),
    ("DEL a b", [("a", ["RM", "delete"]), ("b", ["RM", "delete"])]),
    ("EXISTS a b", [("a", ["RO"]), ("b", ["RO"])]),
    ("MSET a 1 b 2", [("a", OW), ("b", OW)]),
    ("MSETNX a 1 b 2", [("a", ["OW", "insert"]), ("b", ["OW", "insert"])]),
    ("INCR k", [("k", ["RW", "access", "update"])]),
    ("LPUSH k v", [("k", ["RW", "insert"])]),
    ("SREM k m", [("k", ["RW", "delete"])]),
    ("PFCOUNT a b", [("a", ["RW", "access"]), ("b", ["RW", "access"])]),
    ("LMOVE a b LEFT RIGHT", [("a", ["RW", "access", "delete"]), ("b", ["RW", "insert"])]),
    ("BLMOVE a b LEFT RIGHT 0", [("a", ["RW", "access", "delete"]), ("b", ["RW", "insert"])]),
    ("RPOPLPUSH a b", [("a", ["RW", "access", "delete"]), ("b", ["RW", "insert"])]),
    ("SMOVE a b m", [("a", ["RW", "access", "delete"]), ("b", ["RW", "insert"])]),
    ("RENAME a b", [("a", ["RW", "access", "delete"]), ("b", OW)]),
    ("RENAMENX a b", [("a", ["RW", "access", "delete"]), ("b", ["OW", "insert"])]),
    ("COPY a b DB 1", [("a", RO), ("b", OW)]),
    ("PFMERGE d a b", [("d", ["RW", "access", "insert"]), ("a", RO), ("b", RO)]),
    ("BITOP AND d a b", [("d", OW), ("a", RO), ("b", RO)]),
    ("SINTERSTORE d a b", [("d", ["RW", "update"]), ("a", RO), ("b", RO)]),
    ("SUNIONSTORE d a b", [("d", OW), ("a", RO), ("b", RO)]),
    ("ZRANGESTORE d s 0 1", [("d", OW), ("s", RO)]),
    ("ZUNIONSTORE d 2 a b WEIGHTS 1 2", [("d", OW), ("a", RO), ("b", RO)]),
    ("ZINTER 2 a b", [("a", RO), ("b", RO)]),
    ("LMPOP 2 a b LEFT", [("a", ["RW", "access", "delete"]), ("b", ["RW", "access", "delete"])]),
    ("BZMPOP 0 2 a b MIN", [("a", ["RW", "access", "delete"]), ("b", ["RW", "access", "delete"])]),
    ("BLPOP a b 0", [("a", ["RW", "access", "delete"]), ("b", ["RW", "access", "delete"])]),
    ("GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", [("d", OW), ("s", RO)]),
    ("SORT k", [("k", RO)]),
    ("SORT k BY w GET x STORE d", [("k", RO), ("d", OW)]),
    ("SORT k STORE d STORE e", [("k", RO), ("e", OW)]),           # the last STORE wins
    ("SORT k GET store STORE d", [("k", RO), ("d", OW)]),         # GET's pattern is skipped
    ("SORT k LIMIT 0 STORE d", [("k", RO)]),                      # LIMIT takes two arguments
    ("SORT_RO k STORE d", [("k", RO)]),
    ("GEORADIUS k 0 0 1 km STORE d STOREDIST e", [("k", RO), ("d", OW), ("e", OW)]),
    ("GEORADIUS k 0 0 1 km STOREDIST e STORE d", [("k", RO), ("d", OW), ("e", OW)]),
    ("GEORADIUS k 0 0 1 km STORE d STORE e", [("k", RO), ("d", OW)]),   # the first STORE
    ("GEORADIUSBYMEMBER k m 1 km STORE d", [("k", RO), ("d", OW)]),
    ("GEORADIUS_RO k 0 0 1 km STORE d", [("k", RO)]),
    ("OBJECT ENCODING k", [("k", ["RO"])]),
    ("MEMORY USAGE k", [("k", ["RO"])]),
]


def _keys_and_flags(reply):
    return [(key.decode(), sorted(f.decode() for f in flags)) for key, flags in reply]


@pytest.mark.parametrize("request_", [k for k, _ in KEYS_AND_FLAGS])
def test_command_getkeysandflags(r, request_):
    expected = dict(KEYS_AND_FLAGS)[request_]
    args = request_.split()
    got = cmd(r, "COMMAND", "GETKEYSANDFLAGS", *args)
    assert _keys_and_flags(got) == [(k, sorted(f)) for k, f in expected]
    assert cmd(r, "COMMAND", "GETKEYS", *args) == [k.encode() for k, _ in expected]


def test_command_getkeysandflags_flags_are_a_set_in_resp3(raw):
    c = raw()
    c.cmd("HELLO", "3")
    assert c.cmd("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "LEFT") == \
        [[b"a", {b"RW", b"access", b"delete"}], [b"b", {b"RW", b"insert"}]]


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
@pytest.mark.parametrize("request_, error", [
    ("NOSUCH a", "Invalid command specified"),
    ("PING a b c", "The command has no key arguments"),
    ("CONFIG GET", "The command has no key arguments"),     # checked before the arity
    ("GET k j", "Invalid number of arguments specified for command"),
    ("MEMORY USAGE", "Invalid number of arguments specified for command"),
    ("ZUNIONSTORE d 0 a", "Invalid arguments specified for command"),
    ("ZUNIONSTORE d 3 a", "Invalid arguments specified for command"),
    ("LMPOP x a LEFT", "Invalid arguments specified for command"),
    ("PFMERGE d", "Invalid arguments specified for command"),
])
def test_command_getkeys_errors_as_redis(r, sub, request_, error):
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "COMMAND", sub, *request_.split())
    assert str(e.value) == error


def test_command_help_lists_getkeysandflags(r):
    text = b"\n".join(cmd(r, "COMMAND", "HELP"))
    assert b"GETKEYSANDFLAGS <full-command>" in text


# --------------------------------------------------------------------------
# LOLWUT
# --------------------------------------------------------------------------

def test_lolwut_ends_with_the_version_line(r):
    version = r.info("server")["redis_version"]
    for args in ((), ("5", "6", "7", "8"), ("VERSION", "5"), ("VERSION", "6", "20", "5")):
        out = cmd(r, "LOLWUT", *args).decode()
        assert out.endswith("Redis ver. %s\n" % version), args


def test_lolwut_version_must_be_an_integer(r):
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        cmd(r, "LOLWUT", "VERSION", "x")


@pytest.mark.keel_only
def test_lolwut_draws_its_own_art_to_size(r):
    out = cmd(r, "LOLWUT", "VERSION", "7", "30", "8").decode()
    art = out.split("\n\n")[0].split("\n")
    assert len(art) == 8 and all(len(line) == 30 for line in art)
    assert all("\u2800" <= ch <= "\u28ff" for line in art for ch in line)
    assert any(ch != "\u2800" for line in art for ch in line)
    # the swells move with the version
    assert cmd(r, "LOLWUT", "VERSION", "8", "30", "8").decode() != out
    assert cmd(r, "LOLWUT", "VERSION", "7", "30", "8").decode() == out


# --------------------------------------------------------------------------
# DEBUG ERROR
# --------------------------------------------------------------------------

def test_debug_error_replies_the_message_verbatim(raw):
    c = raw()
    c.send(b'DEBUG ERROR "LOADING fake message"\r\nDEBUG ERROR foo\r\n'
           b'DEBUG ERROR "a\\r\\nb"\r\nDEBUG ERROR ""\r\nPING\r\n')
    assert c.read() == "LOADING fake message"
    assert c.read() == "foo"            # no ERR prefix added
    assert c.read() == "a  b"           # one protocol line
    assert c.read() == ""
    assert c.read() == b"PONG"


def test_debug_error_drives_redis_py_exceptions(r):
    with pytest.raises(redis.BusyLoadingError):
        r.execute_command("DEBUG", "ERROR", "LOADING fake message")
    with pytest.raises(redis.ReadOnlyError):
        r.execute_command("DEBUG", "ERROR", "READONLY blah blah")
    assert r.ping()
