"""The append-only file: Redis 7's multi-part directory, loading at
start-up, BGREWRITEAOF, CONFIG SET appendonly, truncated files, write
errors, INFO fields. Run against redis-server 7.0 too (KEEL_SERVER)."""

import os
import subprocess

import pytest
import redis

from aof_helpers import (dump_dataset, fill_every_type, incr_commands, incr_file, read_manifest,
                         restart, stop_keep_dir, wait_flushed, wait_for)
from conftest import running_against_redis

PREAMBLE_OFF = ("--aof-use-rdb-preamble", "no")


def aof_dir(srv):
    return os.path.join(srv.dir, "appendonlydir")


def test_fresh_start_creates_base_incr_and_manifest(start_server):
    srv = start_server("--appendonly", "yes")
    assert read_manifest(srv) == [("appendonly.aof.1.base.rdb", 1, "b"), ("appendonly.aof.1.incr.aof", 1, "i")]
    assert sorted(os.listdir(aof_dir(srv))) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof",
                                               "appendonly.aof.manifest"]


def test_fresh_start_without_preamble_has_aof_base(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    assert read_manifest(srv)[0] == ("appendonly.aof.1.base.aof", 1, "b")


def test_custom_file_and_dir_names(start_server):
    srv = start_server("--appendonly", "yes", "--appendfilename", "data.aof", "--appenddirname", "mydir",
                       *PREAMBLE_OFF)
    assert os.path.exists(os.path.join(srv.dir, "mydir", "data.aof.manifest"))
    c = srv.client()
    c.set("k", "v")
    c.connection_pool.disconnect()
    restart(srv)
    assert srv.client().get("k") == b"v"


def test_config_names_and_immutables(start_server):
    srv = start_server()
    c = srv.client(decode_responses=True)
    got = c.config_get("a*")
    for name, value in [("appendonly", "no"), ("appendfilename", "appendonly.aof"),
                        ("appenddirname", "appendonlydir"), ("appendfsync", "everysec"),
                        ("aof-load-truncated", "yes"), ("aof-use-rdb-preamble", "yes"),
                        ("aof-timestamp-enabled", "no"), ("auto-aof-rewrite-percentage", "100"),
                        ("auto-aof-rewrite-min-size", "67108864"), ("aof-rewrite-incremental-fsync", "yes")]:
        assert got[name] == value, name
    assert c.config_get("no-appendfsync-on-rewrite") == {"no-appendfsync-on-rewrite": "no"}
    for name in ("appendfilename", "appenddirname"):
        with pytest.raises(redis.ResponseError, match="immutable"):
            c.config_set(name, "x")
    with pytest.raises(redis.ResponseError):
        c.config_set("appendfsync", "sometimes")
    c.config_set("appendfsync", "always")
    assert c.config_get("appendfsync") == {"appendfsync": "always"}
    c.connection_pool.disconnect()


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_every_type_survives_restart_and_rewrite(start_server, preamble):
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = srv.client()
    fill_every_type(c, big=True)
    before = dump_dataset(c)
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert dump_dataset(c) == before
    assert c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
    c.set("after-rewrite", "1")
    before = dump_dataset(c)
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert dump_dataset(c) == before
    c.connection_pool.disconnect()


def test_bgrewriteaof_switches_files_and_deletes_history(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.set("a", "2")
    assert c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0
             and [m[2] for m in read_manifest(srv)] == ["b", "i"], what="rewrite")
    m = read_manifest(srv)
    assert m == [("appendonly.aof.2.base.aof", 2, "b"), ("appendonly.aof.2.incr.aof", 2, "i")]
    wait_for(lambda: sorted(os.listdir(aof_dir(srv))) == sorted([m[0][0], m[1][0], "appendonly.aof.manifest"]),
             what="history files deleted")
    # The new base holds the data; the new incr starts empty.
    with open(os.path.join(aof_dir(srv), m[0][0]), "rb") as f:
        assert b"SET" in f.read()
    assert incr_commands(srv) == []
    c.set("b", "3")
    # With appendfsync everysec the write itself may wait (up to 2 s, as
    # Redis) behind a background fsync still running on a loaded machine.
    wait_for(lambda: incr_commands(srv) == [["SELECT", "0"], ["SET", "b", "3"]], what="SET in the new incr")
    assert c.info("persistence")["aof_rewrites"] >= 1
    c.connection_pool.disconnect()


def test_bgrewriteaof_with_aof_off_writes_a_base(start_server):
    srv = start_server(*PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    assert c.bgrewriteaof()
    wait_for(lambda: os.path.exists(os.path.join(aof_dir(srv), "appendonly.aof.manifest")), what="manifest")
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite done")
    types = [m[2] for m in read_manifest(srv)]
    assert types == ["b"]
    c.connection_pool.disconnect()


def test_config_set_appendonly_yes_writes_current_data(start_server):
    srv = start_server(*PREAMBLE_OFF)
    c = srv.client()
    fill_every_type(c)
    before = dump_dataset(c)
    c.config_set("appendonly", "yes")
    wait_for(lambda: c.info("persistence")["aof_enabled"] == 1
             and c.info("persistence")["aof_rewrite_in_progress"] == 0
             and os.path.exists(os.path.join(aof_dir(srv), "appendonly.aof.manifest")), what="AOF on")
    wait_for(lambda: [m[2] for m in read_manifest(srv)] == ["b", "i"], what="base and incr")
    c.set("later", "x")
    before[(0, b"later")] = ("string", b"x", -1)
    c.connection_pool.disconnect()
    # The file is what a restart with appendonly yes loads.
    srv.extra_args += ["--appendonly", "yes"]
    restart(srv)
    c = srv.client()
    assert dump_dataset(c) == before
    c.config_set("appendonly", "no")
    assert c.info("persistence")["aof_enabled"] == 0
    c.set("not-logged", "1")
    c.connection_pool.disconnect()
    restart(srv)
    assert srv.client().get("not-logged") is None


def test_appendonly_yes_takes_precedence_and_loads_several_dbs(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    for db in (0, 1, 9):
        c.execute_command("SELECT", db)
        c.set("k%d" % db, db)
    c.connection_pool.disconnect()
    restart(srv)
    for db in (0, 1, 9):
        cc = redis.Redis(host=srv.host, port=srv.port, db=db)
        assert cc.get("k%d" % db) == str(db).encode()
        cc.connection_pool.disconnect()


def truncate_last_incr(srv, cut):
    path = incr_file(srv)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - cut)
    return os.path.basename(path), size - cut


def test_truncated_tail_dropped_with_warning(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always", *PREAMBLE_OFF)
    c = srv.client()
    for i in range(10):
        c.set("k%d" % i, "v%d" % i)
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    name, _ = truncate_last_incr(srv, 3)   # the last SET loses its end
    srv.start()
    c = srv.client()
    assert c.get("k8") == b"v8"
    assert c.get("k9") is None
    log = srv.log_text()
    assert "!!! Warning: short read while loading the AOF file %s!!!" % name in log
    assert "Truncating the AOF %s at offset" % name in log
    # The file was cut at the last complete command: appending goes on.
    c.set("after", "1")
    c.connection_pool.disconnect()
    restart(srv)
    assert srv.client().get("after") == b"1"


def test_truncated_tail_refused_without_aof_load_truncated(start_server):
    srv = start_server("--appendonly", "yes", "--aof-load-truncated", "no", *PREAMBLE_OFF)
    c = srv.client()
    for i in range(10):
        c.set("k%d" % i, "v%d" % i)
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    name, _ = truncate_last_incr(srv, 3)
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    log = srv.log_text()
    assert "Unexpected end of file reading the append only file %s" % name in log
    assert srv.proc.returncode == 1


@pytest.mark.keel_only
def test_truncation_message_names_the_offset(start_server):
    srv = start_server("--appendonly", "yes", "--aof-load-truncated", "no", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.set("b", "2")
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    path = incr_file(srv)
    with open(path, "rb") as f:
        data = f.read()
    valid = data.index(b"*3\r\n$3\r\nSET\r\n$1\r\nb")
    with open(path, "r+b") as f:
        f.truncate(len(data) - 2)
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert "last complete command ends at offset %d" % valid in srv.log_text()


def test_unfinished_multi_is_reverted(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    c.set("before", "1")
    p = c.pipeline(transaction=True)
    p.set("t1", "1")
    p.set("t2", "2")
    p.execute()
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    path = incr_file(srv)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:data.index(b"EXEC") - 8])   # cut before EXEC
    srv.start()
    c = srv.client()
    assert c.get("before") == b"1"
    assert c.get("t1") is None and c.get("t2") is None
    assert "Revert incomplete MULTI/EXEC transaction" in srv.log_text()
    c.connection_pool.disconnect()


def test_bad_format_refuses_to_start(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    with open(incr_file(srv), "ab") as f:
        f.write(b"garbage\r\n")
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert "Bad file format reading the append only file" in srv.log_text()


def test_bad_manifest_refuses_to_start(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    stop_keep_dir(srv)
    with open(os.path.join(aof_dir(srv), "appendonly.aof.manifest"), "a") as f:
        f.write("file x seq 1 type z\n")
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert "Unknown AOF file type" in srv.log_text()


def test_legacy_single_file_is_loaded_and_migrated(start_server):
    srv = start_server()
    stop_keep_dir(srv)
    legacy = (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
              b"*3\r\n$3\r\nSET\r\n$6\r\nlegacy\r\n$3\r\nyes\r\n"
              b"*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n"
              b"*2\r\n$6\r\nSELECT\r\n$1\r\n4\r\n"
              b"*3\r\n$3\r\nSET\r\n$2\r\nd4\r\n$1\r\n4\r\n")
    with open(os.path.join(srv.dir, "appendonly.aof"), "wb") as f:
        f.write(legacy)
    srv.extra_args += ["--appendonly", "yes"]
    srv.start()
    c = srv.client()
    assert c.get("legacy") == b"yes"
    assert c.lrange("l", 0, -1) == [b"a", b"b"]
    c4 = redis.Redis(host=srv.host, port=srv.port, db=4)
    assert c4.get("d4") == b"4"
    c4.connection_pool.disconnect()
    assert not os.path.exists(os.path.join(srv.dir, "appendonly.aof"))
    m = read_manifest(srv)
    assert m[0] == ("appendonly.aof", 1, "b")
    assert m[1][2] == "i"
    c.set("new", "1")
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert c.get("legacy") == b"yes" and c.get("new") == b"1"
    c.connection_pool.disconnect()


def test_info_persistence_fields(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    info = srv.info("persistence")
    for field in ("aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
                  "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites",
                  "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size",
                  "aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length",
                  "aof_pending_bio_fsync", "aof_delayed_fsync"):
        assert field in info, field
    assert info["aof_enabled"] == 1
    assert info["aof_last_write_status"] == "ok"
    size = info["aof_current_size"]
    c = srv.client()
    c.set("k", "v" * 100)
    wait_flushed(srv)
    assert srv.info("persistence")["aof_current_size"] > size
    c.connection_pool.disconnect()


def test_auto_rewrite_on_growth(start_server):
    srv = start_server("--appendonly", "yes", "--auto-aof-rewrite-min-size", "10kb",
                       "--auto-aof-rewrite-percentage", "100", *PREAMBLE_OFF)
    c = srv.client()
    for i in range(400):
        c.set("k", "x" * 100)
    wait_for(lambda: c.info("persistence")["aof_rewrites"] >= 1, what="automatic rewrite")
    wait_for(lambda: [m[2] for m in read_manifest(srv)] == ["b", "i"], what="manifest switched")
    assert c.get("k") == b"x" * 100
    c.connection_pool.disconnect()


def limit_file_size(srv, limit):
    """Lower (or lift) the soft file-size limit of the running server; as
    root, permission bits do not make a file unwritable, this does."""
    soft = "unlimited" if limit is None else str(limit)
    subprocess.run(["prlimit", "--pid", str(srv.proc.pid), "--fsize=%s:unlimited" % soft], check=True)


@pytest.mark.keel_only
def test_write_error_refuses_writes_with_misconf(start_server):
    # Keel only because redis-server 7.0 does not survive the test: it
    # leaves SIGXFSZ at its default action and dies at the limit; Keel
    # ignores the signal and reports the write error, as Redis does for a
    # full disk.
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    limit_file_size(srv, 64 * 1024)
    value = "x" * 1000
    errors = 0
    for i in range(200):
        try:
            c.set("k%d" % i, value)
        except redis.ResponseError as e:
            assert str(e).startswith("MISCONF Errors writing to the AOF file: ")
            errors += 1
            break
    assert errors == 1
    info = c.info("persistence")
    assert info["aof_last_write_status"] == "err"
    with pytest.raises(redis.ResponseError, match="^MISCONF Errors writing to the AOF file: File too large"):
        c.set("more", "1")
    assert c.get("k0") == value.encode()   # reads still work
    # The limit goes away: the next retry writes the buffer and writes are
    # accepted again.
    limit_file_size(srv, None)
    wait_for(lambda: c.info("persistence")["aof_last_write_status"] == "ok", what="write recovery")
    c.set("more", "1")
    c.connection_pool.disconnect()
    restart(srv)
    c = srv.client()
    assert c.get("more") == b"1"
    c.connection_pool.disconnect()


def check_aof_binary():
    from keel_helpers import REPO_ROOT
    return os.path.join(REPO_ROOT, "bin", "keel-check-aof")


def run_check(*args, answer=None):
    p = subprocess.run([check_aof_binary()] + list(args), input=answer, capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.keel_only
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_keel_check_aof_valid_dir_and_manifest(start_server, preamble):
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = srv.client()
    fill_every_type(c)
    c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
    c.set("x", "y")
    c.connection_pool.disconnect()
    wait_flushed(srv)
    for target in (aof_dir(srv), os.path.join(aof_dir(srv), "appendonly.aof.manifest")):
        rc, out = run_check(target)
        assert rc == 0, out
        assert "All AOF files and manifest are valid" in out


@pytest.mark.keel_only
def test_keel_check_aof_fix_truncated_tail(start_server):
    srv = start_server("--appendonly", "yes", "--aof-load-truncated", "no", *PREAMBLE_OFF)
    c = srv.client()
    for i in range(5):
        c.set("k%d" % i, "v")
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    name, size = truncate_last_incr(srv, 4)
    rc, out = run_check(aof_dir(srv))
    assert rc == 1
    assert "AOF %s is not valid. Use the --fix option to try fixing it." % incr_file(srv) in out
    assert "ok_up_to=" in out
    rc, out = run_check("--fix", aof_dir(srv), answer="n\n")
    assert rc == 1 and "Aborting..." in out
    assert os.path.getsize(incr_file(srv)) == size
    rc, out = run_check("--fix", aof_dir(srv), answer="y\n")
    assert rc == 0, out
    assert "Successfully truncated AOF" in out
    assert os.path.getsize(incr_file(srv)) < size
    srv.start()   # aof-load-truncated no: it loads only because it was fixed
    c = srv.client()
    assert c.get("k3") == b"v" and c.get("k4") is None
    c.connection_pool.disconnect()


@pytest.mark.keel_only
def test_keel_check_aof_refuses_to_fix_a_middle_file(start_server):
    srv = start_server("--appendonly", "yes", *PREAMBLE_OFF)
    c = srv.client()
    c.set("a", "1")
    c.connection_pool.disconnect()
    stop_keep_dir(srv)
    # A second incremental file after a damaged first one.
    m = read_manifest(srv)
    first = os.path.join(aof_dir(srv), m[1][0])
    with open(first, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n")
    with open(os.path.join(aof_dir(srv), "appendonly.aof.2.incr.aof"), "wb") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
    with open(os.path.join(aof_dir(srv), "appendonly.aof.manifest"), "a") as f:
        f.write("file appendonly.aof.2.incr.aof seq 2 type i\n")
    rc, out = run_check("--fix", aof_dir(srv), answer="y\n")
    assert rc == 1
    assert "can not be fixed" in out
    with pytest.raises(Exception):
        srv.start(timeout=10)
    srv.expected_exit = True
    assert "the truncated file is not the last file" in srv.log_text()


@pytest.mark.keel_only
def test_keel_check_aof_single_file(tmp_path):
    good = tmp_path / "appendonly.aof"
    good.write_bytes(b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n"
                     b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$4\r\nEXEC\r\n")
    rc, out = run_check(str(good))
    assert rc == 0 and "is valid" in out
    bad = tmp_path / "open-multi.aof"
    bad.write_bytes(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")
    rc, out = run_check(str(bad))
    assert rc == 1 and "Reached EOF before reading EXEC for MULTI" in out
    assert "ok_up_to=0" in out


@pytest.mark.keel_only
def test_rewrite_is_forkless_point_in_time_while_writes_go_on(start_server):
    # rdb-key-save-delay slows the snapshot's walk down, so the writes
    # below happen while the base is being written. The base must hold the
    # dataset as of BGREWRITEAOF (checked by loading it alone in
    # redis-server), and base + new incremental file the final dataset.
    srv = start_server("--appendonly", "yes", "--rdb-key-save-delay", "2000")
    c = srv.client()
    for i in range(300):
        c.set("k%d" % i, "old%d" % i)
    c.rpush("list", *range(100))
    at_start = dump_dataset(c)
    assert c.bgrewriteaof() in (True, b"Background append only file rewriting started")
    assert c.info("persistence")["aof_rewrite_in_progress"] == 1
    for i in range(0, 300, 3):
        c.set("k%d" % i, "new%d" % i)
    for i in range(1, 300, 3):
        c.delete("k%d" % i)
    c.set("created", "during")
    c.rpush("list", "more")
    c.expire("k2", 10000)
    assert c.info("persistence")["aof_rewrite_in_progress"] == 1   # commands ran during the rewrite
    final = dump_dataset(c)
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=60, what="rewrite")
    assert c.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    c.connection_pool.disconnect()
    m = read_manifest(srv)
    assert [t for _n, _s, t in m] == ["b", "i"] and m[0][0].endswith(".base.rdb")
    # The base alone, as an RDB file, in redis-server.
    from keel_helpers import Server
    red = Server(extra_args=["--dbfilename", "base.rdb"], binary="/usr/bin/redis-server", name="aofbase")
    import shutil
    shutil.copy(os.path.join(aof_dir(srv), m[0][0]), os.path.join(red.dir, "base.rdb"))
    red.start()
    try:
        rc = red.client()
        assert dump_dataset(rc) == at_start
        rc.connection_pool.disconnect()
    finally:
        assert red.stop() == []
    restart(srv)
    c = srv.client()
    assert dump_dataset(c) == final
    c.connection_pool.disconnect()


def test_bgrewriteaof_during_bgsave_is_scheduled(start_server):
    srv = start_server("--appendonly", "yes", "--rdb-key-save-delay", "2000")
    c = srv.client()
    for i in range(200):
        c.set("k%d" % i, i)
    c.bgsave()
    with srv.raw() as rc:
        reply = rc.cmd("BGREWRITEAOF")
    reply = reply.decode() if isinstance(reply, bytes) else reply
    assert reply == "Background append only file rewriting scheduled"
    assert c.info("persistence")["aof_rewrite_scheduled"] == 1
    wait_for(lambda: c.info("persistence")["aof_rewrites"] >= 1 and
             c.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=60, what="scheduled rewrite")
    c.connection_pool.disconnect()
    restart(srv)
    assert srv.client().get("k199") == b"199"


def test_debug_loadaof_replays_the_files(start_server):
    """DEBUG LOADAOF (unit/expire's KEEPTTL and GETEX PERSIST tests): the
    dataset is replaced by what the AOF replays, TTLs as written."""
    srv = start_server(*PREAMBLE_OFF)
    c = srv.client()
    c.set("gone", "x")
    c.config_set("appendonly", "yes")
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0
             and [m[2] for m in read_manifest(srv)] == ["b", "i"], what="AOF on")
    c.set("foo", "bar", ex=100)
    c.set("foo", "bar2", keepttl=True)
    c.set("p", "v", ex=100)
    c.getex("p", persist=True)
    c.hset("h", mapping={"a": 1, "b": 2})
    before = dump_dataset(c)
    assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
    after = dump_dataset(c)
    assert after.keys() == before.keys()
    assert c.get("foo") == b"bar2"
    assert 90 < c.ttl("foo") <= 100
    assert c.ttl("p") == -1
    assert c.hgetall("h") == {b"a": b"1", b"b": b"2"}
    # Writes after the reload still reach the file.
    c.set("later", "1")
    assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert c.get("later") == b"1"
    assert c.dbsize() == len(before) + 1


@pytest.mark.keel_only
def test_debug_loadaof_without_aof_files_is_refused(start_server):
    # Redis empties the dataset, then exits; Keel refuses and keeps it.
    srv = start_server(*PREAMBLE_OFF)
    c = srv.client()
    c.set("k", "v")
    with pytest.raises(redis.ResponseError, match="no AOF files to load"):
        c.execute_command("DEBUG", "LOADAOF")
    assert c.get("k") == b"v"


def test_debug_loadaof_with_aof_off_loads_the_files_left_on_disk(start_server):
    srv = start_server(*PREAMBLE_OFF)
    c = srv.client()
    c.config_set("appendonly", "yes")
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0
             and [m[2] for m in read_manifest(srv)] == ["b", "i"], what="AOF on")
    c.set("logged", "1")
    c.config_set("appendonly", "no")
    c.set("not-logged", "1")
    assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert c.get("logged") == b"1"
    assert c.get("not-logged") is None
