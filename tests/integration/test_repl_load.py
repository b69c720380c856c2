"""Replica loading and diskless streaming (issue 14): repl-diskless-load
disabled | on-empty-db | swapdb with Redis 7.0's meanings (the RDB parsed
straight from the socket, or from a temp file), clients served during the
load (-LOADING, or the old dataset with swapdb's async loading), a failed
load keeping the old data, replica-lazy-flush, and a diskless master
streaming one snapshot to two replicas at once while it is written.

Slow loads come from the suite's knobs: rdb-key-save-delay on the master
(its snapshot writes one key per delay) and key-load-delay on the replica.
Every test also passes against redis-server 7.0 (KEEL_SERVER=...); values
are large because Redis answers clients during a load only every 2 MB
(loading-process-events-interval-bytes), where Keel also answers every
100 ms while it waits for a slow master."""
import pytest
import redis

from keel_helpers import encode_command, wait_for
from repl_helpers import attach, digest_all, fill_all_types, logs, wait_in_sync


def info(srv, section):
    return srv.info(section)


def loading(srv):
    return int(info(srv, "persistence")["loading"])


def async_loading(srv):
    return int(info(srv, "persistence")["async_loading"])


def force_full_resync(master):
    """Drop the replica's link and push its offset out of the backlog, so
    that its PSYNC (same replication id) ends in a full sync."""
    mc = master.client()
    p = mc.pipeline(transaction=True)
    p.execute_command("CLIENT", "KILL", "TYPE", "replica")
    p.config_set("repl-backlog-size", "16384")
    for i in range(10):
        p.set("filler:%d" % i, "A" * 16384)
    p.execute()


@pytest.mark.parametrize("master_diskless", ["yes", "no"])
@pytest.mark.parametrize("mode,lazy", [("disabled", "no"), ("on-empty-db", "no"), ("swapdb", "no"),
                                       ("swapdb", "yes")])
def test_full_sync_with_each_load_mode(start_server, master_diskless, mode, lazy):
    m = start_server("--repl-diskless-sync", master_diskless, "--repl-diskless-sync-delay", "0")
    s = start_server("--repl-diskless-load", mode, "--replica-lazy-flush", lazy)
    mc = m.client()
    fill_all_types(mc)
    mc.function_load("#!lua name=lib1\nredis.register_function{function_name='f1', "
                     "callback=function() return 'one' end, flags={'no-writes'}}")
    s.client().set("replica-only", "x")  # gone after the sync, whatever the mode
    attach(s, m)
    wait_in_sync(m, s)
    sc = s.client()
    assert digest_all(sc) == digest_all(mc)
    assert sc.get("replica-only") is None
    assert sc.fcall_ro("f1", 0) == b"one"
    # on-empty-db loads from the socket only into an empty replica
    parser = mode == "swapdb"
    log = s.log_text()
    assert ("from master to parser" in log or "with EOF to parser" in log) == parser, logs(s)
    assert ("from master to disk" in log or "with EOF to disk" in log) == (not parser), logs(s)


def test_on_empty_db_loads_an_empty_replica_from_the_socket(start_server):
    m = start_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
    s = start_server("--repl-diskless-load", "on-empty-db")
    mc = m.client()
    fill_all_types(mc, dbs=3)
    attach(s, m)
    wait_in_sync(m, s)
    assert digest_all(s.client()) == digest_all(mc)
    assert "with EOF to parser" in s.log_text(), logs(s)


def test_disk_load_answers_loading_meanwhile(start_server):
    """repl-diskless-load disabled: the replica loads its temp file and
    answers -LOADING (and INFO) while it does."""
    m = start_server("--repl-diskless-sync-delay", "0")
    s = start_server("--repl-diskless-load", "disabled", "--key-load-delay", "2000",
                     "--loading-process-events-interval-bytes", "1024")
    mc = m.client()
    mc.execute_command("DEBUG", "POPULATE", "2000", "key", "100")
    sc = s.client()
    sc.replicaof(m.host, m.port)
    assert wait_for(lambda: loading(s) == 1, timeout=30), logs(m, s)
    with pytest.raises(redis.exceptions.BusyLoadingError):
        sc.get("key:1")
    assert wait_for(lambda: info(s, "replication")["master_link_status"] == "up", timeout=60), logs(m, s)
    wait_in_sync(m, s)
    assert sc.dbsize() == 2000
    assert digest_all(sc) == digest_all(mc)


def slow_master_with_data(start_server, keys, value_size, save_delay_us):
    m = start_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--save", "")
    mc = m.client()
    mc.execute_command("DEBUG", "POPULATE", str(keys), "master", str(value_size))
    mc.config_set("rdbcompression", "no")
    mc.config_set("rdb-key-save-delay", str(save_delay_us))
    return m


def test_swapdb_different_history_loads_with_loading_and_keeps_old_data_on_failure(start_server):
    """swapdb with a replica whose replication history differs from the
    master's: a synchronous load from the socket (-LOADING); when the
    master drops the link mid-load, the old dataset is back."""
    s = start_server("--repl-diskless-load", "swapdb", "--save", "")
    sc = s.client()
    sc.execute_command("DEBUG", "POPULATE", "200", "slave", "10")
    sc.set("mykey", "myvalue")
    m = slow_master_with_data(start_server, 1000, 20000, 10000)  # 10 ms a key: ~10 s
    sc.replicaof(m.host, m.port)
    assert wait_for(lambda: loading(s) == 1, timeout=30), logs(m, s)
    assert async_loading(s) == 0
    m.client().config_set("repl-diskless-sync-delay", "5")  # no new sync at once
    m.client().execute_command("CLIENT", "KILL", "TYPE", "replica")
    assert wait_for(lambda: loading(s) == 0, timeout=30), logs(m, s)
    assert sc.get("mykey") == b"myvalue"
    assert sc.dbsize() == 201
    m.client().config_set("rdb-key-save-delay", "0")


def test_swapdb_async_loading_serves_old_data_then_swaps(start_server):
    """swapdb with the master's own history (a replica that lost its link
    and could not continue): Redis 7.0's async loading. Reads see the old
    dataset while the new one loads; then the new one replaces it."""
    m = start_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--save", "")
    s = start_server("--repl-diskless-load", "swapdb", "--save", "", "--replica-read-only", "no")
    attach(s, m)
    sc, mc = s.client(), m.client()
    sc.execute_command("DEBUG", "POPULATE", "2000", "slave", "10")
    mc.execute_command("DEBUG", "POPULATE", "2000", "master", "10000")
    mc.config_set("rdbcompression", "no")
    sc.set("mykey", "myvalue")
    sc.function_load("#!lua name=test\nredis.register_function('test', function() return 'hello1' end)")
    mc.function_load("#!lua name=test\nredis.register_function('test', function() return 'hello2' end)")
    mc.config_set("rdb-key-save-delay", "2000")  # 2 ms a key: ~4 s
    force_full_resync(m)
    assert wait_for(lambda: async_loading(s) == 1, timeout=30), logs(m, s)
    assert loading(s) == 0
    assert sc.get("mykey") == b"myvalue"
    assert sc.fcall("test", 0) == b"hello1"
    assert sc.dbsize() == 2001
    # commands flagged no-async-loading are refused meanwhile
    with pytest.raises(redis.exceptions.BusyLoadingError):
        sc.replicaof("no", "one")
    with pytest.raises(redis.exceptions.BusyLoadingError):
        sc.config_set("appendonly", "no")
    with pytest.raises(redis.exceptions.BusyLoadingError):
        sc.bgsave()
    assert async_loading(s) == 1
    assert wait_for(lambda: info(s, "replication")["master_link_status"] == "up", timeout=60), logs(m, s)
    assert sc.get("mykey") is None
    assert sc.fcall("test", 0) == b"hello2"
    wait_in_sync(m, s)
    assert sc.dbsize() == mc.dbsize()
    assert digest_all(sc) == digest_all(mc)


def test_swapdb_async_loading_failure_keeps_old_data(start_server):
    m = start_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--save", "")
    s = start_server("--repl-diskless-load", "swapdb", "--save", "", "--replica-read-only", "no")
    attach(s, m)
    sc, mc = s.client(), m.client()
    sc.execute_command("DEBUG", "POPULATE", "2000", "slave", "10")
    mc.execute_command("DEBUG", "POPULATE", "2000", "master", "10000")
    mc.config_set("rdbcompression", "no")
    sc.set("mykey", "myvalue")
    sc.function_load("#!lua name=test\nredis.register_function('test', function() return 'hello1' end)")
    mc.config_set("rdb-key-save-delay", "10000")  # 10 ms a key: ~20 s
    force_full_resync(m)
    assert wait_for(lambda: async_loading(s) == 1, timeout=30), logs(m, s)
    mc.config_set("repl-diskless-sync-delay", "5")
    mc.execute_command("CLIENT", "KILL", "TYPE", "replica")
    assert wait_for(lambda: async_loading(s) == 0, timeout=30), logs(m, s)
    assert sc.get("mykey") == b"myvalue"
    assert sc.fcall("test", 0) == b"hello1"
    assert sc.dbsize() == 2001
    mc.config_set("rdb-key-save-delay", "0")


def test_diskless_sync_streams_one_snapshot_to_two_replicas(start_server):
    """Two replicas attach within repl-diskless-sync-delay: one snapshot,
    sent to both while it is being written (both are loading from the
    socket before it ends), both end equal to the master."""
    m = start_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "5",
                     "--repl-diskless-sync-max-replicas", "2", "--save", "")
    mc = m.client()
    fill_all_types(mc, dbs=4)
    mc.execute_command("DEBUG", "POPULATE", "1000", "big", "20000")
    mc.config_set("rdbcompression", "no")
    mc.config_set("rdb-key-save-delay", "3000")  # ~3 s of snapshot
    reps = [start_server("--repl-diskless-load", "swapdb", "--save", "") for _ in range(2)]
    for r in reps:
        r.client().set("old", "x")
        r.client().replicaof(m.host, m.port)
    # both load at the same time, from one snapshot still being written
    assert wait_for(lambda: all(loading(r) == 1 for r in reps), timeout=30), logs(m, *reps)
    for r in reps:
        assert wait_for(lambda: info(r, "replication")["master_link_status"] == "up", timeout=60), logs(m, r)
    mc.config_set("rdb-key-save-delay", "0")
    mc.set("after", "sync")
    for r in reps:
        wait_in_sync(m, r)
        assert digest_all(r.client()) == digest_all(mc)
    assert m.log_text().count("for SYNC with target: replicas sockets") == 1, logs(m)
    assert int(info(m, "stats")["sync_full"]) == 2


@pytest.mark.parametrize("command,name", [(("PING",), "ping"), (("XINFO", "HELP"), "xinfo|help"),
                                          (("GET", "foo"), "get"), (("SLOWLOG", "GET"), "slowlog|get")])
def test_a_replica_connection_that_sends_a_command_is_dropped(server, command, name):
    """A replica's link carries only REPLCONF: any other command would get a
    reply the replica cannot take, so the master logs it and closes the
    link (keyspace commands get Redis's error first)."""
    with server.raw() as c:
        c.send(encode_command("PSYNC", "replicationid", "-1"))
        c.send(encode_command(*command))
        assert wait_for(lambda: "Replica generated a reply to command '%s', disconnecting it: " % name
                        in server.log_text(), timeout=10), server.log_text()[-2000:]
    if name == "get":
        assert "This master is sending an error to its replica: 'Replica can't interact with the keyspace'" \
            in server.log_text()
    assert server.client().ping()


def test_psync_with_a_wrong_offset(server):
    with pytest.raises(redis.exceptions.ResponseError, match="value is not an integer or out of range"):
        server.client().execute_command("PSYNC", "replicationid", "offset_str")
    assert "asks for synchronization but with a wrong offset" in server.log_text()
    assert server.client().ping()
