"""Defects found by running Redis 7.0.15's persistence units against Keel
(docs/COMPATIBILITY.md, "Persistence (issue 10)"), each pinned here so
that it stays fixed. Every test also passes against redis-server
(KEEL_SERVER=/usr/bin/redis-server)."""

import os
import re
import signal
import time

import pytest

from aof_helpers import incr_commands, incr_file, stop_keep_dir
from keel_helpers import encode_command
from rdb_fixtures import crc64, key, listpack, payload, rdb_file, rdb_len, rdb_str, selectdb

PREAMBLE_OFF = ("--aof-use-rdb-preamble", "no")


def _bad_crc(p):
    return p[:-1] + bytes([p[-1] ^ 0xFF])


def test_debug_skip_checksum_validation(start_server):
    srv = start_server()
    c = srv.client()
    c.set("k", "hello")
    bad = _bad_crc(c.dump("k"))
    with pytest.raises(Exception, match="DUMP payload version or checksum are wrong"):
        c.restore("k2", 0, bad)
    assert c.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1")
    assert c.restore("k2", 0, bad)
    assert c.get("k2") == b"hello"
    assert c.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")
    with pytest.raises(Exception, match="DUMP payload version or checksum are wrong"):
        c.restore("k3", 0, bad)
    c.connection_pool.disconnect()


def test_refused_restore_payload_is_logged(start_server):
    # A hash listpack whose header announces one byte more than it holds:
    # the frame (version, CRC) is right, the value is not.
    srv = start_server("--sanitize-dump-payload", "yes", "--loglevel", "verbose")
    c = srv.client()
    lp = bytearray(listpack(["f", "v"]))
    lp[0] += 1
    with pytest.raises(Exception, match="Bad data format"):
        c.restore("h", 0, payload(16, rdb_str(bytes(lp))))
    assert c.exists("h") == 0
    assert c.ping()
    c.connection_pool.disconnect()
    assert "integrity check failed" in srv.log_text()


def test_rdb_with_wrong_crc_refused_naming_crc(start_server):
    srv = start_server()
    c = srv.client()
    c.set("a", "b")
    assert c.save()
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    path = os.path.join(srv.dir, "dump.rdb")
    with open(path, "r+b") as f:
        f.seek(-8, os.SEEK_END)
        f.write(b"foobar00")
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert "CRC error" in srv.log_text()


def test_empty_key_in_rdb_skipped_with_its_name(start_server):
    srv = start_server()
    srv.client().connection_pool.disconnect()
    stop_keep_dir(srv)
    body = selectdb(0) + key(2, "emptyset", rdb_len(0)) + key(0, "k", rdb_str("v"))
    with open(os.path.join(srv.dir, "dump.rdb"), "wb") as f:
        f.write(rdb_file(body))
    srv.start(timeout=10)
    c = srv.client()
    assert c.exists("emptyset") == 0
    assert c.get("k") == b"v"
    c.connection_pool.disconnect()
    assert "skipping empty key: emptyset" in srv.log_text()
    assert "empty keys skipped: 1" in srv.log_text()


def _write_aof(srv, commands):
    """Replace the AOF directory's incremental file by these commands."""
    with open(incr_file(srv), "wb") as f:
        for cmd in commands:
            f.write(encode_command(*cmd))


def test_aof_replaying_eval_loads(start_server):
    # Loading used to run before scripting was set up: the server crashed.
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    srv.client().connection_pool.disconnect()
    stop_keep_dir(srv)
    _write_aof(srv, [("SET", "a", "1"), ("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "b", "2")])
    srv.start(timeout=10)
    c = srv.client()
    assert c.mget("a", "b") == [b"1", b"2"]
    c.connection_pool.disconnect()


def test_pid_logged_before_a_refused_aof(start_server):
    # Redis's test suite waits for " PID: <pid>" before it looks at a
    # server it started; a server that refuses its AOF must have said it.
    srv = start_server("--appendonly", "yes", "--always-show-logo", "yes", *PREAMBLE_OFF)
    srv.client().connection_pool.disconnect()
    stop_keep_dir(srv)
    with open(incr_file(srv), "ab") as f:
        f.write(b"!!!garbage\r\n")
    with open(srv.log, "wb"):
        pass  # keep only the failed start's lines
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    log = srv.log_text()
    m = re.search(r" PID: (\d+)", log)
    assert m and int(m.group(1)) == srv.proc.pid
    assert log.index(" PID: ") < log.index("Bad file format reading the append only file")


def test_aof_past_expire_kept_while_loading(start_server):
    # PEXPIREAT in the past, then RPUSH onto the key: while loading the
    # key does not expire, so RPUSH appends to it and the whole list goes
    # once loading is over (as the commands did when first run).
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    srv.client().connection_pool.disconnect()
    stop_keep_dir(srv)
    _write_aof(srv, [("SELECT", "0"), ("RPUSH", "list", "foo"), ("PEXPIREAT", "list", "1000"),
                     ("RPUSH", "list", "bar")])
    srv.start(timeout=10)
    c = srv.client()
    assert c.llen("list") == 0
    c.connection_pool.disconnect()


def test_flush_of_empty_databases_goes_to_aof(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always", *PREAMBLE_OFF)
    c = srv.client()
    c.set("key", "value")
    c.flushdb()
    c.flushdb()      # empty
    c.flushall()     # empty
    c.flushall()     # empty
    c.connection_pool.disconnect()
    cmds = [x[0] for x in incr_commands(srv) if not isinstance(x, str)]
    assert cmds == ["SELECT", "SET", "FLUSHDB", "FLUSHDB", "FLUSHALL", "FLUSHALL"]


def test_flushall_of_empty_databases_with_save_points_goes_to_aof(start_server):
    # FLUSHALL saves when save points are set; the save resets the change
    # counter, which must not hide the FLUSHALL from the AOF.
    srv = start_server("--appendonly", "yes", "--save", "3600 1", *PREAMBLE_OFF)
    c = srv.client()
    for _ in range(3):
        c.flushall()
    c.connection_pool.disconnect()
    cmds = [x[0] for x in incr_commands(srv) if not isinstance(x, str)]
    assert cmds.count("FLUSHALL") == 3


def test_flushall_with_save_points_leaves_no_changes_to_save(start_server):
    srv = start_server("--save", "3600 1 300 100 60 10000")
    c = srv.client()
    c.set("key", "value")
    c.flushall()
    assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    c.connection_pool.disconnect()


def test_flushall_without_save_points_counts_as_changes(start_server):
    srv = start_server("--save", "")
    c = srv.client()
    c.set("key", "value")
    c.flushall()
    assert c.info("persistence")["rdb_changes_since_last_save"] > 0
    c.connection_pool.disconnect()


def test_debug_loadaof_reads_the_files_back(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.setex("b", 1000, "2")
    c.rpush("l", "x", "y")
    digest = c.execute_command("DEBUG", "DIGEST")
    incr_commands(srv)  # everything written so far is in the file
    with open(incr_file(srv), "ab") as f:
        f.write(encode_command("SET", "fromfile", "yes"))
    c.set("a", "1")  # the buffer is written out first (as it is)
    assert c.execute_command("DEBUG", "LOADAOF")
    assert c.get("fromfile") == b"yes"
    c.delete("fromfile")
    assert c.execute_command("DEBUG", "DIGEST") == digest
    assert 0 < c.ttl("b") <= 1000
    c.connection_pool.disconnect()
    assert "Append Only File loaded by DEBUG LOADAOF" in srv.log_text()


def test_shutdown_abort_cancels_a_pending_sigterm(start_server):
    srv = start_server()
    c = srv.client()
    with pytest.raises(Exception, match="No shutdown in progress"):
        c.execute_command("SHUTDOWN", "ABORT")
    assert c.execute_command("DEBUG", "PAUSE-CRON", "1")
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)  # the signal is taken by the (paused) cron
    assert c.execute_command("SHUTDOWN", "ABORT")
    assert c.execute_command("DEBUG", "PAUSE-CRON", "0")
    time.sleep(0.3)  # a few cron runs
    assert c.ping()
    assert "Shutdown manually aborted" in srv.log_text()
    c.connection_pool.disconnect()
    # A later SIGTERM still stops the server.
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(15) == 0
    srv.expected_exit = True


def test_manifest_listing_a_missing_file_refuses_to_start(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    os.unlink(incr_file(srv))
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert re.search(r"appendonly\.aof\.1\.incr\.aof .*No such file or directory", srv.log_text())
