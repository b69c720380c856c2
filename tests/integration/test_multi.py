"""MULTI / EXEC / DISCARD / WATCH / UNWATCH, checked against Redis 7.0."""

import time

import pytest
import redis

from keel_helpers import Error, encode_command


def test_exec_runs_the_queue_in_order(raw):
    c = raw()
    assert c.cmd("MULTI") == b"OK"
    assert c.cmd("SET", "a", "1") == b"QUEUED"
    assert c.cmd("INCR", "a") == b"QUEUED"
    assert c.cmd("GET", "a") == b"QUEUED"
    assert c.cmd("EXEC") == [b"OK", 2, b"2"]


def test_redis_py_transaction_pipeline(r):
    p = r.pipeline(transaction=True)
    p.set("k", "v").incr("n").get("k")
    assert p.execute() == [True, 1, b"v"]


def test_errors_at_run_time_do_not_stop_the_rest(raw):
    c = raw()
    c.cmd("SET", "s", "text")
    c.cmd("MULTI")
    c.cmd("INCR", "s")
    c.cmd("SET", "t", "1")
    reply = c.cmd("EXEC")
    assert reply[0] == Error("ERR value is not an integer or out of range")
    assert reply[1] == b"OK"


def test_queueing_errors_abort_exec(raw):
    c = raw()
    c.cmd("MULTI")
    assert c.cmd("SET", "a") == Error("ERR wrong number of arguments for 'set' command")
    assert c.cmd("SET", "b", "1") == b"QUEUED"
    assert c.cmd("EXEC") == Error("EXECABORT Transaction discarded because of previous errors.")
    assert c.cmd("EXISTS", "b") == 0
    c.cmd("MULTI")
    assert c.cmd("NOSUCHCOMMAND").startswith("ERR unknown command")
    assert c.cmd("EXEC").startswith("EXECABORT")


def test_nesting_and_misplaced_commands(raw):
    c = raw()
    assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")
    assert c.cmd("DISCARD") == Error("ERR DISCARD without MULTI")
    c.cmd("MULTI")
    assert c.cmd("MULTI") == Error("ERR MULTI calls can not be nested")
    assert c.cmd("WATCH", "x") == Error("ERR WATCH inside MULTI is not allowed")
    assert c.cmd("SET", "a", "1") == b"QUEUED"
    # neither error dooms the transaction
    assert c.cmd("EXEC") == [b"OK"]


def test_discard(raw):
    c = raw()
    c.cmd("MULTI")
    c.cmd("SET", "discarded", "1")
    assert c.cmd("DISCARD") == b"OK"
    assert c.cmd("EXISTS", "discarded") == 0
    assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")


def test_empty_transaction(raw):
    c = raw()
    c.cmd("MULTI")
    assert c.cmd("EXEC") == []


def test_watch_touched_key_fails_exec(r, raw):
    c = raw()
    c.cmd("SET", "w", "1")
    assert c.cmd("WATCH", "w") == b"OK"
    r.set("w", "2")
    c.cmd("MULTI")
    c.cmd("SET", "w", "3")
    assert c.cmd("EXEC") is None
    assert r.get("w") == b"2"


def test_watch_untouched_key_lets_exec_run(r, raw):
    c = raw()
    c.cmd("WATCH", "w", "other")
    r.set("unrelated", "x")
    c.cmd("MULTI")
    c.cmd("SET", "w", "3")
    assert c.cmd("EXEC") == [b"OK"]


def test_exec_and_unwatch_clear_watches(r, raw):
    c = raw()
    c.cmd("WATCH", "w")
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") == [b"PONG"]
    r.set("w", "changed after exec")
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") == [b"PONG"]
    c.cmd("WATCH", "w")
    r.set("w", "again")
    assert c.cmd("UNWATCH") == b"OK"
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") == [b"PONG"]


def test_flushall_and_swapdb_touch_watched_keys(r, raw):
    c = raw()
    c.cmd("SET", "f", "1")
    c.cmd("WATCH", "f")
    r.flushall()
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") is None
    c.cmd("SET", "s", "1")
    c.cmd("WATCH", "s")
    r.swapdb(0, 1)
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") is None
    r.swapdb(0, 1)


def test_expired_key_touches_watchers(r, raw):
    c = raw()
    c.cmd("SET", "e", "1", "PX", "100")
    c.cmd("WATCH", "e")
    time.sleep(0.2)
    assert r.get("e") is None      # lazily expired, deleted
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") is None


def test_key_already_expired_when_watched_does_not_fail_exec(r, raw):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        c = raw()
        c.cmd("SET", "stale", "1", "PX", "1")
        time.sleep(0.05)
        c.cmd("WATCH", "stale")
        assert r.get("stale") is None   # deleted now, after the WATCH
        c.cmd("MULTI")
        c.cmd("PING")
        assert c.cmd("EXEC") == [b"PONG"]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


def test_blocking_command_inside_multi_does_not_block(raw):
    c = raw()
    c.cmd("MULTI")
    c.cmd("BLPOP", "nolist", 0)
    c.cmd("BZPOPMIN", "nozset", 0)
    assert c.cmd("EXEC") == [None, None]


def test_transaction_is_not_interleaved(r, raw):
    c = raw()
    c.cmd("MULTI")
    for _ in range(100):
        c.cmd("INCR", "counter")
    c.send(encode_command("EXEC"))
    r.set("counter", "1000")       # runs before or after the whole EXEC
    reply = c.read()
    assert reply == list(range(1, 101)) or reply == list(range(1001, 1101))


def test_oom_while_queueing_aborts(r, raw):
    c = raw()
    c.cmd("MULTI")
    r.config_set("maxmemory", 1)
    try:
        assert c.cmd("SET", "x", "y").startswith("OOM")
        # queueing grows memory whatever the command: rejected too
        assert c.cmd("PING").startswith("OOM")
        assert c.cmd("EXEC").startswith("EXECABORT")
    finally:
        r.config_set("maxmemory", 0)


def test_reset_discards_transaction(raw):
    c = raw()
    c.cmd("MULTI")
    c.cmd("SET", "a", "1")
    assert c.cmd("RESET") == b"RESET"
    assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")


def test_exec_waits_for_a_write_pause(r, raw):
    c = raw()
    c.cmd("MULTI")
    c.cmd("SET", "p", "1")
    r.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    try:
        c.send(encode_command("EXEC"))
        deadline = time.time() + 5
        while time.time() < deadline and int(r.info("clients")["blocked_clients"]) != 1:
            time.sleep(0.02)
        assert int(r.info("clients")["blocked_clients"]) == 1
    finally:
        r.execute_command("CLIENT", "UNPAUSE")
    assert c.read() == [b"OK"]


def test_commandstats_count_queued_commands(r, raw):
    r.config_resetstat()
    c = raw()
    c.cmd("MULTI")
    c.cmd("INCR", "x")
    c.cmd("INCR", "x")
    c.cmd("EXEC")
    stats = r.info("commandstats")
    assert stats["cmdstat_incr"]["calls"] == 2
    assert stats["cmdstat_exec"]["calls"] == 1


def test_exec_with_a_write_refused_when_oom(r, raw):
    c = raw()
    c.cmd("MULTI")
    c.cmd("SET", "x", "1")
    c.cmd("GET", "x")
    r.config_set("maxmemory", 1)
    try:
        reply = c.cmd("EXEC")
        assert reply.startswith("EXECABORT") and "OOM" in reply
    finally:
        r.config_set("maxmemory", 0)
    assert c.cmd("EXISTS", "x") == 0


def test_exec_with_only_reads_runs_when_oom(r, raw):
    c = raw()
    c.cmd("SET", "x", "value")
    c.cmd("MULTI")
    c.cmd("GET", "x")
    c.cmd("PING")
    r.config_set("maxmemory", 1)
    try:
        assert c.cmd("EXEC") == [b"value", b"PONG"]
    finally:
        r.config_set("maxmemory", 0)
