"""SLOWLOG and its configuration, checked against Redis 7.0 behaviour.

The slow log is server-wide: each test sets the threshold it needs through
the `slow` fixture, which resets the log and restores the defaults after.
Timing assertions are lower bounds only (a DEBUG SLEEP 0.1 took at least
100 ms), except where a command waited a whole second while blocked and
its logged run time must not include that wait.
"""

import threading
import time

import pytest

from keel_helpers import WRONGTYPE, err


@pytest.fixture
def slow(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.config_set("slowlog-max-len", 128)
    r.execute_command("SLOWLOG", "RESET")
    yield r
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("slowlog-max-len", 128)
    r.execute_command("SLOWLOG", "RESET")


def entries(r, *count):
    """SLOWLOG GET as raw lists: [id, time, duration, argv, addr, name]."""
    return r.execute_command("SLOWLOG", "GET", *count)


def argvs(r, *count):
    return [e[3] for e in entries(r, *count)]


def test_defaults(r):
    assert r.config_get("slowlog-log-slower-than") == {"slowlog-log-slower-than": "10000"}
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "128"}


def test_help(raw):
    c = raw()
    lines = c.cmd("SLOWLOG", "HELP")
    assert lines[0] == b"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"GET [<count>]" in lines
    assert b"LEN" in lines and b"RESET" in lines
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert len(lines) == 12


def test_errors(raw):
    c = raw()
    assert c.cmd("SLOWLOG") == "ERR wrong number of arguments for 'slowlog' command"
    assert c.cmd("SLOWLOG", "foo") == "ERR unknown subcommand 'foo'. Try SLOWLOG HELP."
    assert c.cmd("SLOWLOG", "LEN", "x") == "ERR wrong number of arguments for 'slowlog|len' command"
    assert c.cmd("SLOWLOG", "RESET", "x") == "ERR wrong number of arguments for 'slowlog|reset' command"
    assert c.cmd("SLOWLOG", "GET", "1", "2") == \
        "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    for bad in ("-2", "abc", "1.5", "99999999999999999999", ""):
        assert c.cmd("SLOWLOG", "GET", bad) == "ERR count should be greater than or equal to -1"


def test_config_bounds(raw):
    c = raw()
    for name, bad in (("slowlog-log-slower-than", "-2"), ("slowlog-max-len", "-1"),
                      ("slowlog-log-slower-than", "abc")):
        err = c.cmd("CONFIG", "SET", name, bad)
        assert err.startswith("ERR CONFIG SET failed (possibly related to argument '%s')" % name)
    got = c.cmd("CONFIG", "GET", "slowlog-*")
    assert dict(zip(got[::2], got[1::2])) == {b"slowlog-log-slower-than": b"10000",
                                              b"slowlog-max-len": b"128"}


def test_slow_command_is_logged(r):
    r.execute_command("SLOWLOG", "RESET")
    r.execute_command("DEBUG", "SLEEP", "0.1")
    log = entries(r)
    sleeps = [e for e in log if e[3][:2] == [b"DEBUG", b"SLEEP"] or e[3][:2] == [b"debug", b"sleep"]]
    assert len(sleeps) == 1
    eid, ts, duration, argv, addr, name = sleeps[0]
    assert duration >= 100000
    assert abs(ts - time.time()) < 60
    assert [a.lower() for a in argv] == [b"debug", b"sleep", b"0.1"]
    assert addr == r.client_info()["addr"].encode()
    assert name == b""
    # A fast command stays out with the default threshold.
    r.set("k", "v")
    assert all(e[3][0].lower() != b"set" for e in entries(r, -1))


def test_entry_shape_and_order(slow):
    r = slow
    r.set("a", "1")
    r.get("a")
    log = entries(r)
    assert [e[3] for e in log[:2]] == [[b"GET", b"a"], [b"SET", b"a", b"1"]]
    for e in log:
        assert len(e) == 6
        assert all(isinstance(x, int) for x in e[:3])
    # Newest first, ids increasing over time, never reused after RESET.
    assert log[0][0] > log[1][0]
    last = log[0][0]
    r.execute_command("SLOWLOG", "RESET")
    r.ping()
    assert min(e[0] for e in entries(r)) > last


def test_reset_and_len(slow):
    r = slow
    for _ in range(5):
        r.ping()
    # 5 PINGs and the SLOWLOG RESET of the fixture.
    assert r.execute_command("SLOWLOG", "LEN") == 6
    assert r.execute_command("SLOWLOG", "RESET") == b"OK"
    # The RESET itself is logged once it has run.
    assert r.execute_command("SLOWLOG", "LEN") == 1
    assert argvs(r) == [[b"SLOWLOG", b"LEN"], [b"SLOWLOG", b"RESET"]]


def test_get_count(slow):
    r = slow
    for i in range(20):
        r.echo(str(i))
    assert len(entries(r)) == 10
    assert len(entries(r, 3)) == 3
    assert entries(r, 0) == []
    total = r.execute_command("SLOWLOG", "LEN")
    assert len(entries(r, -1)) == total + 1  # and the LEN itself
    assert len(entries(r, 1000)) > 20


def test_disabled_with_negative_threshold(slow):
    r = slow
    r.config_set("slowlog-log-slower-than", -1)
    r.execute_command("SLOWLOG", "RESET")
    r.execute_command("DEBUG", "SLEEP", "0")
    r.ping()
    assert r.execute_command("SLOWLOG", "LEN") == 0


def test_threshold(slow):
    r = slow
    r.config_set("slowlog-log-slower-than", 50000)
    r.execute_command("SLOWLOG", "RESET")
    r.ping()
    r.execute_command("DEBUG", "SLEEP", "0.06")
    log = entries(r)
    assert len(log) == 1
    assert log[0][3] == [b"DEBUG", b"SLEEP", b"0.06"]
    assert log[0][2] >= 60000


def test_max_len(slow):
    r = slow
    r.config_set("slowlog-max-len", 3)
    for i in range(10):
        r.echo(str(i))
    assert r.execute_command("SLOWLOG", "LEN") == 3
    assert argvs(r, -1) == [[b"SLOWLOG", b"LEN"], [b"ECHO", b"9"], [b"ECHO", b"8"]]
    # Shrinking does not trim at once: the next logged command does.
    r.config_set("slowlog-max-len", 128)
    for i in range(5):
        r.ping()
    r.config_set("slowlog-log-slower-than", -1)
    r.config_set("slowlog-max-len", 2)
    assert r.execute_command("SLOWLOG", "LEN") > 2
    r.config_set("slowlog-log-slower-than", 0)
    assert r.execute_command("SLOWLOG", "LEN") == 2
    r.config_set("slowlog-max-len", 0)
    r.ping()
    assert r.execute_command("SLOWLOG", "LEN") == 0


def test_argument_truncation(slow):
    r = slow
    r.rpush("l", *range(40))
    r.set("k", "x" * 130)
    r.set("k2", "y" * 128)
    log = argvs(r, 3)
    assert log[0] == [b"SET", b"k2", b"y" * 128]
    assert log[1] == [b"SET", b"k", b"x" * 128 + b"... (2 more bytes)"]
    argv = log[2]
    assert len(argv) == 32
    assert argv[:3] == [b"RPUSH", b"l", b"0"]
    assert argv[30] == b"28"
    assert argv[31] == b"... (11 more arguments)"


def test_exactly_32_arguments_are_kept(slow):
    r = slow
    r.rpush("l", *range(30))  # RPUSH l + 30 values = 32 arguments
    argv = argvs(r, 1)[0]
    assert len(argv) == 32 and argv[-1] == b"29"


def test_binary_arguments(slow):
    r = slow
    r.set(b"k\x00\r\n", b"\xff\x00")
    assert argvs(r, 1)[0] == [b"SET", b"k\x00\r\n", b"\xff\x00"]


def test_client_name_and_address(slow, server):
    r = slow
    c = server.client()
    try:
        c.client_setname("worker-1")
        c.ping()
        addr = c.client_info()["addr"].encode()
    finally:
        c.connection_pool.disconnect()
    log = entries(r, 3)
    ping = [e for e in log if e[3] == [b"PING"]][0]
    assert ping[4] == addr and ping[5] == b"worker-1"
    # The name is the one the client has after the command.
    setname = [e for e in log if e[3][:2] == [b"CLIENT", b"SETNAME"]][0]
    assert setname[5] == b"worker-1"


def test_secrets_are_redacted(slow, raw):
    c = raw()
    c.cmd("AUTH", "not-the-password")
    c.cmd("AUTH", "someuser", "not-the-password")
    c.cmd("CONFIG", "SET", "requirepass", "")
    c.cmd("HELLO", "2", "AUTH", "default", "secret-pass")
    log = c.cmd("SLOWLOG", "GET", "4")
    argv = [e[3] for e in log]
    assert argv[0][:2] == [b"HELLO", b"2"] or argv[0][:2] == [b"hello", b"2"]
    assert argv[0][2:] == [b"AUTH", b"(redacted)", b"(redacted)"]
    assert argv[1] == [b"CONFIG", b"SET", b"requirepass", b"(redacted)"]
    assert argv[2] == [b"AUTH", b"(redacted)", b"(redacted)"]
    assert argv[3] == [b"AUTH", b"(redacted)"]
    for e in log:
        assert b"not-the-password" not in e[3] and b"secret-pass" not in e[3]


def test_rejected_commands_are_not_logged(slow, raw):
    c = raw()
    c.cmd("NOSUCHCOMMAND", "x")
    c.cmd("GET")
    c.cmd("SLOWLOG", "nosuch")
    log = c.cmd("SLOWLOG", "GET")
    assert [e[3] for e in log] == [[b"SLOWLOG", b"RESET"]]


def test_failed_commands_are_logged(slow):
    r = slow
    r.rpush("l", "x")
    assert err(r, "INCR", "l") == WRONGTYPE
    assert argvs(r, 1) == [[b"INCR", b"l"]]


def test_resp3_reply_shape(slow, raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.cmd("PING")
    log = c.cmd("SLOWLOG", "GET", "1")
    assert len(log) == 1 and len(log[0]) == 6
    assert log[0][3] == [b"PING"]


def test_blocked_command_timeout_not_logged(slow):
    r = slow
    assert r.blpop("nolist", timeout=0.2) is None
    assert all(e[3][0].lower() != b"blpop" for e in entries(r, -1))


def test_blocked_wait_is_not_counted(slow, server):
    r = slow
    c = server.client()
    try:
        t = threading.Thread(target=lambda: c.blpop("blist", timeout=10))
        t.start()
        time.sleep(1.0)
        r.rpush("blist", "x")
        t.join(10)
    finally:
        c.connection_pool.disconnect()
    for e in entries(r, -1):
        if e[3][0].lower() == b"blpop":
            assert e[2] < 1000000


def test_served_blocked_command_is_logged(slow, server):
    r = slow
    c = server.client()
    try:
        t = threading.Thread(target=lambda: c.blpop("blist2", timeout=10))
        t.start()
        time.sleep(0.3)
        r.rpush("blist2", "x")
        t.join(10)
    finally:
        c.connection_pool.disconnect()
    assert [b"BLPOP", b"blist2", b"10"] in argvs(r, -1)
