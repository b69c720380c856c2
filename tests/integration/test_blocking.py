"""Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

A blocked client is a RawConn that sent its command and has no reply yet;
"still blocked" is checked by finding no bytes within a short wait (no
timing assertion beyond that).
"""

import time

import pytest

from keel_helpers import Null, encode_command, wait_blocked


def send(conn, *args):
    conn.send(encode_command(*args))


def test_served_immediately_when_data_exists(r, raw):
    r.rpush("l", "a")
    c = raw()
    assert c.cmd("BLPOP", "l", 0) == [b"l", b"a"]


def test_waits_then_served_by_push(r, raw):
    c = raw()
    send(c, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    assert c.read_raw_available(0.1) == b""
    assert r.rpush("l", "x", "y") == 2
    assert c.read() == [b"l", b"x"]
    assert r.lrange("l", 0, -1) == [b"y"]
    wait_blocked(r, 0)


def test_multiple_keys_served_by_second(r, raw):
    c = raw()
    send(c, "BRPOP", "k1", "k2", 0)
    wait_blocked(r, 1)
    r.rpush("k2", "a", "b")
    assert c.read() == [b"k2", b"b"]


def test_fifo_order_among_waiters(r, raw):
    conns = []
    for i in range(3):
        c = raw()
        send(c, "BLPOP", "q", 0)
        wait_blocked(r, i + 1)
        conns.append(c)
    r.rpush("q", "1", "2", "3")
    assert [c.read() for c in conns] == [[b"q", b"1"], [b"q", b"2"], [b"q", b"3"]]
    assert r.exists("q") == 0


def test_push_of_one_serves_only_the_first(r, raw):
    a, b = raw(), raw()
    send(a, "BLPOP", "q", 0)
    wait_blocked(r, 1)
    send(b, "BLPOP", "q", 0)
    wait_blocked(r, 2)
    r.rpush("q", "only")
    assert a.read() == [b"q", b"only"]
    assert b.read_raw_available(0.1) == b""
    assert r.info("clients")["blocked_clients"] == 1
    r.rpush("q", "next")
    assert b.read() == [b"q", b"next"]


def test_timeout_returns_null(r, raw):
    c = raw()
    assert c.cmd("BLPOP", "l", "0.1") is None
    assert c.cmd("BRPOPLPUSH", "l", "d", "0.05") is None
    assert c.cmd("BLMOVE", "l", "d", "LEFT", "LEFT", "0.05") is None
    assert c.cmd("BLMPOP", "0.05", 1, "l", "LEFT") is None
    assert r.info("clients")["blocked_clients"] == 0


def test_timeout_resp3_null(r, raw):
    c = raw()
    c.cmd("HELLO", 3)
    assert isinstance(c.cmd("BLPOP", "l", "0.05"), Null)


def test_timeout_zero_waits_forever(r, raw):
    c = raw()
    send(c, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    time.sleep(0.3)
    assert c.read_raw_available(0.05) == b""
    r.lpush("l", "late")
    assert c.read() == [b"l", b"late"]


def test_blmove_to_another_list(r, raw):
    c = raw()
    send(c, "BLMOVE", "src", "dst", "RIGHT", "LEFT", 0)
    wait_blocked(r, 1)
    r.rpush("src", "a", "b")
    assert c.read() == b"b"
    assert r.lrange("src", 0, -1) == [b"a"]
    assert r.lrange("dst", 0, -1) == [b"b"]


def test_blmove_same_list(r, raw):
    c = raw()
    send(c, "BLMOVE", "l", "l", "LEFT", "RIGHT", 0)
    wait_blocked(r, 1)
    r.rpush("l", "a")
    assert c.read() == b"a"
    assert r.lrange("l", 0, -1) == [b"a"]


def test_brpoplpush_chain_wakes_next_waiter(r, raw):
    mover, popper = raw(), raw()
    send(mover, "BRPOPLPUSH", "a", "b", 0)
    wait_blocked(r, 1)
    send(popper, "BLPOP", "b", 0)
    wait_blocked(r, 2)
    r.rpush("a", "v")
    assert mover.read() == b"v"
    assert popper.read() == [b"b", b"v"]
    assert r.exists("a", "b") == 0


def test_blmpop(r, raw):
    c = raw()
    send(c, "BLMPOP", 0, 2, "x", "y", "RIGHT", "COUNT", 2)
    wait_blocked(r, 1)
    r.rpush("y", "1", "2", "3")
    assert c.read() == [b"y", [b"3", b"2"]]


def test_other_type_does_not_serve(r, raw):
    c = raw()
    send(c, "BLPOP", "k", 0)
    wait_blocked(r, 1)
    r.set("k", "string")
    assert c.read_raw_available(0.2) == b""
    assert r.info("clients")["blocked_clients"] == 1
    r.delete("k")
    r.rpush("k", "real")
    assert c.read() == [b"k", b"real"]


def test_pipelined_commands_wait_for_the_blocked_one(r, raw):
    c = raw()
    c.send(encode_command("BLPOP", "l", 0) + encode_command("PING") + encode_command("LLEN", "l"))
    wait_blocked(r, 1)
    assert c.read_raw_available(0.1) == b""
    r.rpush("l", "a", "b")
    assert c.read() == [b"l", b"a"]
    assert c.read() == b"PONG"
    assert c.read() == 1


def test_pipelined_commands_after_timeout(r, raw):
    c = raw()
    c.send(encode_command("BLPOP", "l", "0.05") + encode_command("PING"))
    assert c.read() is None
    assert c.read() == b"PONG"


def test_disconnect_while_blocked(r, raw):
    c = raw()
    send(c, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    c.close()
    wait_blocked(r, 0)
    assert r.ping()
    r.rpush("l", "a")
    assert r.lrange("l", 0, -1) == [b"a"]


def test_blocked_clients_in_info(r, raw):
    assert r.info("clients")["blocked_clients"] == 0
    a, b = raw(), raw()
    send(a, "BLPOP", "x", 0)
    send(b, "BLMPOP", 0, 1, "y", "LEFT")
    wait_blocked(r, 2)
    r.rpush("x", "1")
    r.rpush("y", "1")
    assert a.read() == [b"x", b"1"]
    assert b.read() == [b"y", [b"1"]]
    wait_blocked(r, 0)


def test_duplicate_keys(r, raw):
    c = raw()
    send(c, "BLPOP", "d", "d", "d", 0)
    wait_blocked(r, 1)
    r.rpush("d", "1", "2")
    assert c.read() == [b"d", b"1"]
    assert r.lrange("d", 0, -1) == [b"2"]


@pytest.mark.parametrize("n", [20])
def test_many_waiters_one_push_each(r, raw, n):
    conns = []
    for i in range(n):
        c = raw()
        send(c, "BRPOP", "w%d" % (i % 4), 0)
        conns.append(c)
    wait_blocked(r, n)
    for k in range(4):
        r.rpush("w%d" % k, *[str(j) for j in range(n // 4)])
    for c in conns:
        reply = c.read()
        assert reply[0].startswith(b"w")
    wait_blocked(r, 0)
