"""Wire protocol (RESP2 requests, inline commands, RESP3 replies, protocol
errors), driven over raw sockets and checked against Redis 7.0."""

import threading
import time

import pytest

from keel_helpers import Null, encode_command


def exchange(c, data, wait=0.3):
    """Send raw bytes, return every byte that arrives within `wait` s."""
    c.send(data)
    return c.read_raw_available(wait)


def read_exact(c, expected):
    got = c.read_bytes(len(expected))
    assert got == expected
    return got


def assert_server_healthy(raw):
    c = raw()
    c.send(b"*1\r\n$4\r\nPING\r\n")
    assert c.read_bytes(7) == b"+PONG\r\n"


# --------------------------------------------------------------------------
# inline commands
# --------------------------------------------------------------------------

def test_inline_ping(r, raw):
    c = raw()
    c.send(b"PING\r\n")
    read_exact(c, b"+PONG\r\n")
    c.send(b"ping hello\r\n")
    read_exact(c, b"$5\r\nhello\r\n")
    c.send(b"PING\n")                 # a bare \n also ends an inline command
    read_exact(c, b"+PONG\r\n")
    c.send(b"   PING   \r\n")         # surrounding spaces are ignored
    read_exact(c, b"+PONG\r\n")


def test_inline_set_get(r, raw):
    c = raw()
    c.send(b"SET a b\r\nGET a\r\n")
    read_exact(c, b"+OK\r\n$1\r\nb\r\n")
    c.send(b"SET  x    y\r\n")        # multiple spaces separate arguments
    read_exact(c, b"+OK\r\n")
    assert r.get("x") == b"y"


def test_inline_quoted_arguments(r, raw):
    c = raw()
    c.send(b'SET "a b" "c\\x41\\n\\t\\"q\\""\r\n')
    read_exact(c, b"+OK\r\n")
    assert r.get("a b") == b'cA\n\t"q"'
    c.send(b"SET 'single quoted' 'it\\'s'\r\n")
    read_exact(c, b"+OK\r\n")
    assert r.get("single quoted") == b"it's"
    c.send(b'SET empty ""\r\n')
    read_exact(c, b"+OK\r\n")
    assert r.get("empty") == b""
    c.send(b"SET bin \"\\x00\\xff\"\r\n")
    read_exact(c, b"+OK\r\n")
    assert r.get("bin") == b"\x00\xff"


def test_inline_empty_lines_ignored(r, raw):
    c = raw()
    c.send(b"\r\n\r\n\n   \r\nPING\r\n")
    read_exact(c, b"+PONG\r\n")
    assert c.read_raw_available(0.2) == b""


def test_inline_split_across_writes(r, raw):
    c = raw()
    for b in b"SET split inline\r\n":
        c.send(bytes([b]))
    read_exact(c, b"+OK\r\n")
    assert r.get("split") == b"inline"


@pytest.mark.parametrize("req", [
    b'SET "abc\r\n',
    b"SET 'abc\r\n",
    b'ECHO "a"b\r\n',                  # a closing quote must be followed by a space
    b"SET 'a' 'it''s'\r\n",
])
def test_inline_unbalanced_quotes(r, raw, req):
    c = raw()
    out = exchange(c, req)
    assert out == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    assert c.is_closed(2.0)
    assert_server_healthy(raw)


def test_inline_too_big(raw):
    c = raw()
    c.send(b"A" * 70000)
    assert c.read_raw_available(1.0) == b"-ERR Protocol error: too big inline request\r\n"
    assert c.is_closed(2.0)
    assert_server_healthy(raw)


def test_multibulk_marker_outside_multibulk_is_inline(r, raw):
    """'$3' on its own is parsed as an inline command named '$3'."""
    c = raw()
    out = exchange(c, b"$3\r\nfoo\r\n")
    assert out == (b"-ERR unknown command '$3', with args beginning with: \r\n"
                   b"-ERR unknown command 'foo', with args beginning with: \r\n")
    c.send(b"*1\r\n$4\r\nPING\r\n")
    read_exact(c, b"+PONG\r\n")


# --------------------------------------------------------------------------
# multibulk requests
# --------------------------------------------------------------------------

def test_pipeline_10000_commands(r, raw):
    c = raw(timeout=30)
    n = 10000
    payload = b"".join(encode_command("INCR", "counter") for _ in range(n))
    payload += encode_command("GET", "counter")
    sender = threading.Thread(target=c.send, args=(payload,))
    sender.start()
    expected = b"".join(b":%d\r\n" % i for i in range(1, n + 1)) + b"$5\r\n10000\r\n"
    got = c.read_bytes(len(expected))
    sender.join()
    assert got == expected


def test_pipeline_mixed_inline_and_multibulk(r, raw):
    c = raw()
    c.send(b"SET a 1\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\nINCR a\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    read_exact(c, b"+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n")


def test_command_split_into_single_bytes(r, raw):
    c = raw()
    req = encode_command("SET", "key", b"val\r\nue") + encode_command("GET", "key")
    for i in range(len(req)):
        c.send(req[i:i + 1])
        if i % 4 == 0:
            time.sleep(0.001)
    read_exact(c, b"+OK\r\n$7\r\nval\r\nue\r\n")


def test_large_bulk_split_writes(r, raw):
    c = raw()
    value = bytes(range(256)) * 2048          # 512 KB
    req = encode_command("SET", "big", value)
    for i in range(0, len(req), 7777):
        c.send(req[i:i + 7777])
    read_exact(c, b"+OK\r\n")
    assert r.get("big") == value


def test_empty_and_negative_multibulk_ignored(r, raw):
    c = raw()
    out = exchange(c, b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")
    assert out == b"+PONG\r\n"


def test_empty_bulk_argument(r, raw):
    c = raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n")
    read_exact(c, b"+OK\r\n")
    assert r.get(b"") == b""


def test_bare_newline_terminators_in_multibulk_are_an_error(r, raw):
    """Unlike inline commands, multibulk header lines need \\r\\n."""
    c = raw()
    c.send(b"*1\n$4\nPING\r\n")
    assert c.read_raw_available(0.3).startswith(b"-ERR Protocol error: ")
    assert c.is_closed(2.0)


# --------------------------------------------------------------------------
# protocol errors
# --------------------------------------------------------------------------

@pytest.mark.parametrize("req,reply", [
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n+PING\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
    (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"*1\r\n$4\r\nPING\r\n*1\r\n$abc\r\n",
     b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"),
])
def test_protocol_errors_close_connection(r, raw, req, reply):
    other = raw()
    other.cmd("SET", "still", "here")
    c = raw()
    out = exchange(c, req)
    assert out == reply
    assert c.is_closed(2.0)
    # the server keeps serving everybody else
    assert other.cmd("GET", "still") == b"here"
    assert_server_healthy(raw)


def test_too_big_count_strings(raw):
    c = raw()
    c.send(b"*" + b"1" * 70000)
    assert c.read_raw_available(1.0) == b"-ERR Protocol error: too big mbulk count string\r\n"
    assert c.is_closed(2.0)
    c = raw()
    c.send(b"*1\r\n$" + b"1" * 70000)
    assert c.read_raw_available(1.0) == b"-ERR Protocol error: too big bulk count string\r\n"
    assert c.is_closed(2.0)
    assert_server_healthy(raw)


def test_bulk_length_limit_proto_max_bulk_len(start_server):
    srv = start_server("--proto-max-bulk-len", "1mb")
    c = srv.raw()
    out = exchange(c, b"*2\r\n$3\r\nSET\r\n$2000000\r\n")
    assert out == b"-ERR Protocol error: invalid bulk length\r\n"
    assert c.is_closed(2.0)
    c = srv.raw()
    out = exchange(c, b"*2\r\n$3\r\nSET\r\n$1048577\r\n")
    assert out == b"-ERR Protocol error: invalid bulk length\r\n"
    assert c.is_closed(2.0)
    # exactly the limit is accepted (the server waits for the data)
    c = srv.raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n")
    assert c.read_raw_available(0.3) == b""
    c.send(b"z" * 1048576 + b"\r\n")
    read_exact(c, b"+OK\r\n")
    c2 = srv.raw()
    assert c2.cmd("STRLEN", "k") == 1048576


def test_partial_request_then_close_does_not_hurt(r, raw):
    c = raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
    c.close()
    c = raw()
    c.send(b"*2\r\n$3\r\nGET")
    c.close()
    assert_server_healthy(raw)
    assert r.exists("k") == 0


# --------------------------------------------------------------------------
# RESP3
# --------------------------------------------------------------------------

def test_resp3_hello_is_map(raw):
    c = raw()
    c.send(encode_command("HELLO", "3"))
    out = c.read_raw_available(0.3)
    assert out.startswith(b"%7\r\n$6\r\nserver\r\n")
    assert b"$5\r\nproto\r\n:3\r\n" in out
    assert out.endswith(b"$7\r\nmodules\r\n*0\r\n")


def test_resp3_null(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.send(encode_command("GET", "missing"))
    read_exact(c, b"_\r\n")
    c.send(encode_command("MGET", "missing", "missing2"))
    read_exact(c, b"*2\r\n_\r\n_\r\n")
    c.send(encode_command("SET", "k", "v", "NX", "GET"))
    read_exact(c, b"_\r\n")
    c.send(encode_command("SET", "k", "v", "NX"))
    read_exact(c, b"_\r\n")
    c.send(encode_command("CLIENT", "GETNAME"))
    read_exact(c, b"_\r\n")
    c.send(encode_command("GET", "k"))
    read_exact(c, b"$1\r\nv\r\n")


def test_resp3_scalar_replies(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.send(encode_command("SET", "f", "10.5"))
    read_exact(c, b"+OK\r\n")
    # INCRBYFLOAT stays a bulk string in RESP3 (not a ',' double)
    c.send(encode_command("INCRBYFLOAT", "f", "0.1"))
    read_exact(c, b"$4\r\n10.6\r\n")
    c.send(encode_command("INCR", "i"))
    read_exact(c, b":1\r\n")
    c.send(encode_command("EXISTS", "i", "f"))
    read_exact(c, b":2\r\n")
    c.send(encode_command("PING"))
    read_exact(c, b"+PONG\r\n")
    c.send(encode_command("GET", "nokey", "extra"))
    read_exact(c, b"-ERR wrong number of arguments for 'get' command\r\n")
    c.send(encode_command("TTL", "nokey"))
    read_exact(c, b":-2\r\n")


def test_resp3_config_get_map(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.send(encode_command("CONFIG", "GET", "appendonly"))
    read_exact(c, b"%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n")


def test_resp3_back_to_resp2(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    assert c.cmd("GET", "missing") is Null()
    assert isinstance(c.cmd("HELLO", "2"), list)
    c.send(encode_command("GET", "missing"))
    read_exact(c, b"$-1\r\n")
    c.send(encode_command("MGET", "missing"))
    read_exact(c, b"*1\r\n$-1\r\n")
