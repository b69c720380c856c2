"""LATENCY (the latency monitor and LATENCY HISTOGRAM), checked against
Redis 7.0 behaviour.

The monitor is server-wide: the `mon` fixture turns it on with a 50 ms
threshold, starts from a reset state and turns it off after. Timing
assertions are lower bounds only (a DEBUG SLEEP 0.1 is a >= 100 ms spike).
DOCTOR and GRAPH are free text for humans: only their presence is checked.
"""

import time

import pytest


@pytest.fixture
def mon(r):
    r.config_set("latency-monitor-threshold", 50)
    r.execute_command("LATENCY", "RESET")
    yield r
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")


def latest(r):
    return {e[0]: e[1:] for e in r.execute_command("LATENCY", "LATEST")}


def test_default_threshold(r):
    assert r.config_get("latency-monitor-threshold") == {"latency-monitor-threshold": "0"}


def test_help(raw):
    c = raw()
    lines = c.cmd("LATENCY", "HELP")
    assert lines[0] == b"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in (b"DOCTOR", b"GRAPH <event>", b"HISTORY <event>", b"LATEST", b"RESET [<event> ...]",
                b"HISTOGRAM [COMMAND ...]"):
        assert sub in lines
    assert lines[-2:] == [b"HELP", b"    Prints this help."]


def test_errors(raw):
    c = raw()
    assert c.cmd("LATENCY") == "ERR wrong number of arguments for 'latency' command"
    assert c.cmd("LATENCY", "foo") == "ERR unknown subcommand 'foo'. Try LATENCY HELP."
    assert c.cmd("LATENCY", "LATEST", "x") == "ERR wrong number of arguments for 'latency|latest' command"
    assert c.cmd("LATENCY", "HISTORY") == "ERR wrong number of arguments for 'latency|history' command"
    assert c.cmd("LATENCY", "HISTORY", "a", "b") == \
        "ERR wrong number of arguments for 'latency|history' command"
    assert c.cmd("LATENCY", "GRAPH") == "ERR wrong number of arguments for 'latency|graph' command"
    assert c.cmd("LATENCY", "DOCTOR", "x") == "ERR wrong number of arguments for 'latency|doctor' command"
    err = c.cmd("CONFIG", "SET", "latency-monitor-threshold", "-1")
    assert err.startswith("ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold')")


def test_monitor_off_records_nothing(r):
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")
    r.execute_command("DEBUG", "SLEEP", "0.06")
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "HISTORY", "command") == []
    doctor = r.execute_command("LATENCY", "DOCTOR")
    assert isinstance(doctor, bytes) and len(doctor) > 0


def test_slow_command_spike(mon):
    r = mon
    before = int(time.time())
    r.execute_command("DEBUG", "SLEEP", "0.1")
    events = latest(r)
    assert b"command" in events
    ts, last_ms, max_ms = events[b"command"]
    assert ts >= before - 1 and ts <= time.time() + 1
    assert last_ms >= 100 and max_ms >= last_ms
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert len(history) >= 1
    assert all(len(s) == 2 for s in history)
    assert history[-1][0] == ts and history[-1][1] >= 100
    # Event names are case-sensitive.
    assert r.execute_command("LATENCY", "HISTORY", "COMMAND") == []


def test_below_threshold_not_recorded(mon):
    r = mon
    r.ping()
    r.execute_command("DEBUG", "SLEEP", "0")
    assert r.execute_command("LATENCY", "LATEST") == []


def test_history_unknown_event(mon):
    assert mon.execute_command("LATENCY", "HISTORY", "nosuch") == []


def test_history_keeps_maximum(mon):
    r = mon
    r.execute_command("DEBUG", "SLEEP", "0.06")
    r.execute_command("DEBUG", "SLEEP", "0.12")
    ts, last_ms, max_ms = latest(r)[b"command"]
    assert max_ms >= 120
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert 1 <= len(history) <= 2
    assert max(s[1] for s in history) >= 120
    assert [s[0] for s in history] == sorted(s[0] for s in history)


def test_reset(mon):
    r = mon
    r.execute_command("DEBUG", "SLEEP", "0.06")
    assert r.execute_command("LATENCY", "RESET", "nosuch") == 0
    assert b"command" in latest(r)
    assert r.execute_command("LATENCY", "RESET", "command", "nosuch") == 1
    assert r.execute_command("LATENCY", "LATEST") == []
    r.execute_command("DEBUG", "SLEEP", "0.06")
    assert r.execute_command("LATENCY", "RESET") == 1
    assert r.execute_command("LATENCY", "RESET") == 0
    assert r.execute_command("LATENCY", "HISTORY", "command") == []


def test_graph(mon, raw):
    r = mon
    c = raw()
    assert c.cmd("LATENCY", "GRAPH", "nosuch") == "ERR No samples available for event 'nosuch'"
    r.execute_command("DEBUG", "SLEEP", "0.06")
    graph = r.execute_command("LATENCY", "GRAPH", "command")
    assert isinstance(graph, bytes) and b"command" in graph
    c.cmd("HELLO", "3")
    graph3 = c.cmd("LATENCY", "GRAPH", "command")
    assert b"command" in graph3


def test_doctor(mon):
    r = mon
    empty = r.execute_command("LATENCY", "DOCTOR")
    assert isinstance(empty, bytes) and len(empty) > 0
    r.execute_command("DEBUG", "SLEEP", "0.06")
    report = r.execute_command("LATENCY", "DOCTOR")
    assert b"command" in report


def test_histogram(r, raw):
    c = raw()
    for i in range(3):
        c.cmd("SET", "k%d" % i, "v")
    c.cmd("CONFIG", "GET", "maxmemory")
    reply = c.cmd("LATENCY", "HISTOGRAM", "set", "config|get", "nosuchcommand")
    assert len(reply) == 4
    hists = dict(zip(reply[::2], reply[1::2]))
    assert set(hists) == {b"set", b"config|get"}
    for name, h in hists.items():
        fields = dict(zip(h[::2], h[1::2]))
        assert set(fields) == {b"calls", b"histogram_usec"}
        calls = fields[b"calls"]
        buckets = fields[b"histogram_usec"]
        assert calls >= 1
        bounds, counts = buckets[::2], buckets[1::2]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
        assert counts == sorted(counts) and counts[-1] == calls
    assert dict(zip(hists[b"set"][::2], hists[b"set"][1::2]))[b"calls"] >= 3


def test_histogram_container_and_unknown(r, raw):
    c = raw()
    c.cmd("CONFIG", "GET", "maxmemory")
    reply = c.cmd("LATENCY", "HISTOGRAM", "config")
    names = reply[::2]
    assert b"config|get" in names
    assert all(n.startswith(b"config|") for n in names)
    assert c.cmd("LATENCY", "HISTOGRAM", "nosuchcommand") == []


def test_histogram_all_resp3(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.cmd("PING")
    reply = c.cmd("LATENCY", "HISTOGRAM")
    assert isinstance(reply, dict)
    assert b"ping" in reply
    h = reply[b"ping"]
    assert h[b"calls"] >= 1
    assert isinstance(h[b"histogram_usec"], dict)
    assert max(h[b"histogram_usec"].values()) == h[b"calls"]
