"""Regression tests for incompatibilities found by running Redis's own TCL
suite (tests/unit/*.tcl of Redis 7.0) against Keel.

Each test names the TCL test that exposed the problem.  They check Redis's
observable behaviour only, so the file also passes against the real Redis:

    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q \
        tests/integration/test_compat_tcl.py
"""

import pytest
import redis

from keel_helpers import encode_command

MAX_BULK_ERR = "string exceeds maximum allowed size (proto-max-bulk-len)"


# ---- unit/type/string: "SETRANGE with huge offset" ----

@pytest.mark.parametrize("offset", [9223372036854775807, 9223372036854775806, 2147483647])
def test_setrange_huge_offset_on_missing_key_is_an_error(r, offset):
    # offset + len(value) overflowed a signed 64-bit sum and crashed the server.
    with pytest.raises(redis.ResponseError, match=r"proto-max-bulk-len"):
        r.setrange("k", offset, "AB")
    assert r.exists("k") == 0
    assert r.ping()


@pytest.mark.parametrize("offset", [9223372036854775807, 2147483647])
def test_setrange_huge_offset_on_existing_key_is_an_error(r, offset):
    r.set("k", "hello")
    with pytest.raises(redis.ResponseError) as e:
        r.setrange("k", offset, "A")
    assert str(e.value) == MAX_BULK_ERR
    assert r.get("k") == b"hello"


def test_setrange_huge_offset_with_empty_value_is_a_noop(r):
    # An empty value never grows the string, whatever the offset.
    assert r.setrange("missing", 9223372036854775807, "") == 0
    r.set("k", "abc")
    assert r.setrange("k", 9223372036854775807, "") == 3
    assert r.get("k") == b"abc"


def test_setrange_respects_lowered_proto_max_bulk_len(r):
    old = r.config_get("proto-max-bulk-len")["proto-max-bulk-len"]
    try:
        r.config_set("proto-max-bulk-len", 1024 * 1024)
        with pytest.raises(redis.ResponseError) as e:
            r.setrange("k", 1024 * 1024, "x")
        assert str(e.value) == MAX_BULK_ERR
        assert r.setrange("k", 1024 * 1024 - 1, "x") == 1024 * 1024
    finally:
        r.config_set("proto-max-bulk-len", old)


# ---- unit/introspection-2: "COMMAND LIST ..." ----

def _command_list(r, *args):
    # redis-py post-processes every "COMMAND ..." reply as COMMAND INFO;
    # send the subcommand as a separate connection-level call instead.
    conn = r.connection_pool.get_connection("COMMAND")
    try:
        conn.send_command("COMMAND", "LIST", *args)
        reply = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    return [x.decode() for x in reply]


def test_command_list_includes_subcommands(r):
    names = _command_list(r)
    assert "set" in names
    assert "client|list" in names
    assert "config|get" in names


def test_command_list_filterby_pattern(r):
    assert _command_list(r, "FILTERBY", "PATTERN", "set") == ["set"]
    assert _command_list(r, "filterby", "pattern", "get") == ["get"]
    names = _command_list(r, "FILTERBY", "PATTERN", "config*")
    assert "config" in names and "config|get" in names
    names = _command_list(r, "FILTERBY", "PATTERN", "config|*re*")
    assert sorted(names) == ["config|resetstat", "config|rewrite"]
    # The pattern is matched without regard to case.
    assert _command_list(r, "FILTERBY", "PATTERN", "SET") == ["set"]


def test_command_list_filterby_aclcat(r):
    assert _command_list(r, "FILTERBY", "ACLCAT", "non_existing_category") == []
    names = _command_list(r, "FILTERBY", "ACLCAT", "keyspace")
    assert "del" in names and "expire" in names
    assert "set" not in names
    names = _command_list(r, "FILTERBY", "ACLCAT", "string")
    assert "set" in names and "del" not in names


def test_command_list_filterby_module(r):
    assert _command_list(r, "FILTERBY", "MODULE", "non_existing_module") == []


@pytest.mark.parametrize("args", [("bad_arg",), ("filterby", "bad_arg"),
                                  ("filterby", "bad_arg", "bad_arg2"),
                                  ("filterby", "pattern", "a", "extra")])
def test_command_list_syntax_errors(r, args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("COMMAND", "LIST", *args)
    assert str(e.value) == "syntax error"


# ---- unit/keyspace "COPY basic usage for <type>" and unit/other use
# ---- DEBUG DIGEST-VALUE / DEBUG DIGEST to compare values.

def _digest_value(r, *keys):
    return [d.decode() if isinstance(d, bytes) else d
            for d in r.execute_command("DEBUG", "DIGEST-VALUE", *keys)]


ZERO_DIGEST = "0" * 40


def test_debug_digest_of_empty_dataset_is_zero(r):
    assert r.execute_command("DEBUG", "DIGEST") in (ZERO_DIGEST, ZERO_DIGEST.encode())


def test_debug_digest_value_of_missing_key_is_zero(r):
    assert _digest_value(r, "nokey") == [ZERO_DIGEST]
    assert _digest_value(r) == []


def test_debug_digest_value_is_stable_across_copy(r):
    r.rpush("l", "a", "b", "c")
    r.sadd("s", *range(200))
    r.hset("h", mapping={"f%d" % i: i for i in range(200)})
    r.set("str", "12345")
    for k in ("l", "s", "h", "str"):
        assert r.copy(k, k + "2") == 1
        a, b = _digest_value(r, k, k + "2")
        assert len(a) == 40 and a != ZERO_DIGEST
        assert a == b


def test_debug_digest_value_depends_on_content(r):
    r.rpush("l1", "a", "b")
    r.rpush("l2", "b", "a")
    r.sadd("s1", "a", "b", "c")
    r.sadd("s2", "c", "b", "a")
    r.sadd("s3", "a", "b")
    r.hset("h1", mapping={"ab": "c"})
    r.hset("h2", mapping={"a": "bc"})
    l1, l2, s1, s2, s3, h1, h2 = _digest_value(r, "l1", "l2", "s1", "s2", "s3", "h1", "h2")
    assert l1 != l2          # lists are ordered
    assert s1 == s2          # sets are not
    assert s1 != s3
    assert h1 != h2


def test_debug_digest_changes_with_dataset(r):
    empty = r.execute_command("DEBUG", "DIGEST")
    r.set("k", "v")
    one = r.execute_command("DEBUG", "DIGEST")
    assert one != empty
    r.set("k", "w")
    assert r.execute_command("DEBUG", "DIGEST") != one
    r.set("k", "v")
    assert r.execute_command("DEBUG", "DIGEST") == one


# ---- unit/protocol "RESP3 attributes", "test big number parsing", "test
# ---- bool parsing", "test verbatim str parsing": DEBUG PROTOCOL <type>.

PROTOCOL_RESP2 = {
    "string": b"$11\r\nHello World\r\n",
    "integer": b":12345\r\n",
    "double": b"$5\r\n3.141\r\n",
    "bignum": b"$37\r\n1234567999999999999999999999999999999\r\n",
    "null": b"$-1\r\n",
    "array": b"*3\r\n:0\r\n:1\r\n:2\r\n",
    "set": b"*3\r\n:0\r\n:1\r\n:2\r\n",
    "map": b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
    "attrib": b"$39\r\nSome real reply following the attribute\r\n",
    "push": b"-ERR RESP2 is not supported by this command\r\n",
    "verbatim": b"$25\r\nThis is a verbatim\nstring\r\n",
    "true": b":1\r\n",
    "false": b":0\r\n",
}

PROTOCOL_RESP3 = {
    "string": b"$11\r\nHello World\r\n",
    "integer": b":12345\r\n",
    "double": b",3.141\r\n",
    "bignum": b"(1234567999999999999999999999999999999\r\n",
    "null": b"_\r\n",
    "array": b"*3\r\n:0\r\n:1\r\n:2\r\n",
    "set": b"~3\r\n:0\r\n:1\r\n:2\r\n",
    "map": b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
    "attrib": b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
              b"$39\r\nSome real reply following the attribute\r\n",
    "push": b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
            b"$40\r\nSome real reply following the push reply\r\n",
    "verbatim": b"=29\r\ntxt:This is a verbatim\nstring\r\n",
    "true": b"#t\r\n",
    "false": b"#f\r\n",
}


def _read_exact_reply(conn, expected):
    return conn.read_bytes(len(expected))


@pytest.mark.parametrize("resp", [2, 3])
def test_debug_protocol_replies(raw, resp):
    conn = raw()
    if resp == 3:
        conn.cmd("HELLO", "3")
    table = PROTOCOL_RESP3 if resp == 3 else PROTOCOL_RESP2
    for name, expected in table.items():
        conn.send(encode_command("DEBUG", "PROTOCOL", name))
        assert _read_exact_reply(conn, expected) == expected, name
    # The connection is still in sync afterwards.
    assert conn.cmd("PING") == b"PONG"


def test_debug_protocol_unknown_type(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "PROTOCOL", "bogus")
    assert str(e.value) == ("Wrong protocol type name. Please use one of the following: "
                            "string|integer|double|bignum|null|array|set|map|attrib|push|"
                            "verbatim|true|false")
