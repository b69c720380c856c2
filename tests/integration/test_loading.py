"""A server loading its dataset at start-up answers meanwhile, as Redis
does: INFO (with the loading_* progress fields) and the other commands
flagged "loading" are served, the rest (PING included, as in Redis 7.0,
whose suite's wait_done_loading relies on it) get -LOADING, and a
SHUTDOWN or SIGTERM during the load exits without overwriting the dump
with a half-loaded dataset. key-load-delay (Redis's test knob, in
microseconds per key) makes the load slow enough to watch."""

import os
import signal
import time

import pytest
import redis

from keel_helpers import Server, running_against_redis, wait_for

LOADING = "Redis is loading the dataset in memory"
KEYS = 20000


def make_dump(tmp_args=(), aof=False):
    """A server with KEYS keys saved to its dir; returns the dir's dump path."""
    args = ["--appendonly", "yes"] if aof else []
    srv = Server(extra_args=args + list(tmp_args))
    srv.start()
    c = redis.Redis(port=srv.port)
    c.execute_command("DEBUG", "POPULATE", KEYS)
    c.save()
    if aof:
        c.execute_command("BGREWRITEAOF")
        wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=60)
    c.connection_pool.disconnect()
    srv.expected_exit = True
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)
    srv.stop()
    return srv.dir


def assert_exit_logged(srv):
    if not running_against_redis():   # Redis logs no line of its own for it
        assert "Shutdown requested while loading the dataset: exiting without saving." in srv.log_text()


def slow_loading_server(src_dir, *extra):
    """Starts on src_dir's dataset with a slow load; returns while loading."""
    srv = Server(extra_args=["--dir", src_dir, "--key-load-delay", "50",
                             "--loading-process-events-interval-bytes", "1024"] + list(extra))
    srv.start(timeout=30, wait_loaded=False)
    return srv


def test_clients_are_served_during_startup_load():
    src = make_dump()
    srv = slow_loading_server(src)
    try:
        c = redis.Redis(port=srv.port, decode_responses=True)
        info = c.info("persistence")
        assert info["loading"] == 1
        assert info["loading_total_bytes"] == os.path.getsize(os.path.join(src, "dump.rdb"))
        assert 0 <= info["loading_loaded_perc"] < 100
        assert info["loading_start_time"] > 0
        assert "loading_eta_seconds" in info and "loading_loaded_bytes" in info
        with pytest.raises(redis.exceptions.BusyLoadingError, match=LOADING):
            c.ping()
        assert c.execute_command("CONFIG", "GET", "port")
        with pytest.raises(redis.exceptions.BusyLoadingError, match=LOADING):
            c.get("key:1")
        with pytest.raises(redis.exceptions.BusyLoadingError, match=LOADING):
            c.set("x", "1")
        # Progress moves while we watch.
        first = info["loading_loaded_bytes"]
        assert wait_for(lambda: c.info("persistence").get("loading_loaded_bytes", 1 << 62) > first)
        # The load ends with every key, and the loading_* fields go away.
        c2 = redis.Redis(port=srv.port, decode_responses=True)
        assert wait_for(lambda: c2.info("persistence")["loading"] == 0, timeout=120, interval=0.05)
        assert "loading_total_bytes" not in c2.info("persistence")
        assert c2.dbsize() == KEYS
        assert c2.get("key:1") == "value:1"
    finally:
        srv.stop()


def test_shutdown_during_load_keeps_the_dump():
    src = make_dump()
    path = os.path.join(src, "dump.rdb")
    before = open(path, "rb").read()
    # Save points are set: a normal SHUTDOWN would save, but not mid-load.
    srv = slow_loading_server(src, "--save", "3600 1")
    c = redis.Redis(port=srv.port)
    assert c.info("persistence")["loading"] == 1
    srv.expected_exit = True
    try:
        c.shutdown()
    except redis.ConnectionError:
        pass
    assert srv.proc.wait(30) == 0
    assert open(path, "rb").read() == before
    assert_exit_logged(srv)
    srv.stop()


def test_sigterm_during_load_exits_promptly():
    src = make_dump()
    srv = slow_loading_server(src, "--save", "3600 1")
    assert redis.Redis(port=srv.port).info("persistence")["loading"] == 1
    srv.expected_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(30) == 0
    assert_exit_logged(srv)
    srv.stop()


def test_aof_load_serves_clients():
    src = make_dump(aof=True)
    srv = slow_loading_server(src, "--appendonly", "yes")
    try:
        c = redis.Redis(port=srv.port, decode_responses=True)
        assert c.info("persistence")["loading"] == 1
        with pytest.raises(redis.exceptions.BusyLoadingError, match=LOADING):
            c.get("key:1")
        assert wait_for(lambda: c.info("persistence")["loading"] == 0, timeout=120, interval=0.05)
        assert c.dbsize() == KEYS
    finally:
        srv.stop()


@pytest.mark.keel_only   # Redis runs DEBUG RELOAD/POPULATE into the half-loaded keyspace
def test_debug_commands_that_write_wait_for_the_load():
    src = make_dump()
    srv = slow_loading_server(src)
    try:
        c = redis.Redis(port=srv.port)
        assert c.info("persistence")["loading"] == 1
        for sub in (("RELOAD",), ("LOADAOF",), ("POPULATE", "10")):
            with pytest.raises(redis.exceptions.BusyLoadingError, match=LOADING):
                c.execute_command("DEBUG", *sub)
        assert c.execute_command("DEBUG", "SLEEP", "0") == b"OK"
    finally:
        srv.stop()
