"""Replication (issue 14): a server of the binary under test replicating
from another one (Keel -> Keel, or Redis -> Redis when the suite runs
against redis-server): full syncs (diskless and disk), the command stream,
partial resynchronisation after a lost link and after a replica restart,
chained replicas, replicas' read-only and stale-data rules, expiry and
eviction reaching replicas, WAIT, min-replicas, ROLE and INFO replication.
Interoperation with Debian's redis-server is in test_repl_interop.py."""
import os
import time

import pytest
import redis

from keel_helpers import encode_command, free_port, wait_for
from repl_helpers import (attach, error_of, fill_all_types, digest_all, in_sync, link_up, repl_info,
                          wait_in_sync)


@pytest.fixture
def pair(start_server):
    """A master and a replica attached to it (diskless, no delay)."""
    def make(master_args=(), replica_args=()):
        m = start_server("--repl-diskless-sync-delay", "0", *master_args)
        s = start_server(*replica_args)
        return m, s
    return make


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_every_type_16_dbs(pair, diskless):
    m, s = pair(("--repl-diskless-sync", diskless))
    mc = m.client()
    fill_all_types(mc)
    attach(s, m)
    wait_in_sync(m, s)
    assert digest_all(s.client()) == digest_all(mc)
    sc = s.client()
    # TTLs arrive as absolute times: close to the master's.
    assert abs(sc.pttl("db0:str:ttl") - mc.pttl("db0:str:ttl")) < 5000
    assert sc.pttl("db0:str:ttl") > 0
    assert sc.dbsize() == mc.dbsize()
    for db in range(16):
        mc.execute_command("SELECT", db)
        sc.execute_command("SELECT", db)
        assert sc.dbsize() == mc.dbsize(), db
    # the master's log tells which framing it used
    kind = "replicas sockets" if diskless == "yes" else "disk"
    assert kind in m.log_text() or "Synchronization with replica" in m.log_text()


def test_command_stream_after_sync(pair):
    m, s = pair()
    attach(s, m)
    mc = m.client()
    mc.set("a", "1")
    mc.incrbyfloat("f", 1.5)
    mc.expire("a", 1000)
    mc.rpush("l", *range(10))
    mc.sadd("s", *range(20))
    mc.spop("s", 3)
    mc.zadd("z", {"x": 1, "y": 2})
    p = mc.pipeline(transaction=True)
    p.set("tx1", "v")
    p.incr("tx2")
    p.execute()
    m4 = m.client(db=4)
    m4.hset("h", mapping={"f": "v"})
    m4.lpush("bl", "x")
    m4.blpop("bl", 1)
    wait_in_sync(m, s)
    sc = s.client()
    assert sc.get("f") == b"1.5"
    assert 0 < sc.ttl("a") <= 1000
    assert sc.scard("s") == 17
    assert s.client(db=4).hgetall("h") == {b"f": b"v"}
    assert digest_all(sc) == digest_all(mc)


def test_replica_is_read_only_by_default(pair):
    m, s = pair()
    attach(s, m)
    sc = s.client()
    assert error_of(s, "SET", "k", "v") == ("READONLY You can't write against a read only replica.")
    # inside MULTI the write is refused at queueing and EXEC aborts
    raw = s.raw()
    assert raw.cmd("MULTI") == b"OK"
    assert raw.cmd("SET", "k", "v").startswith("READONLY")
    assert raw.cmd("EXEC").startswith("EXECABORT")
    raw.close()
    assert sc.get("k") is None
    sc.config_set("replica-read-only", "no")
    assert sc.set("k", "v")
    assert sc.get("k") == b"v"


def test_replica_serve_stale_data_no(start_server):
    dead_port = free_port()   # nobody listens there
    s = start_server("--replica-serve-stale-data", "no")
    sc = s.client()
    sc.replicaof("127.0.0.1", dead_port)
    assert error_of(s, "GET", "k") == (
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
    # commands flagged stale (INFO, CONFIG, REPLICAOF...) still run; PING does not
    assert error_of(s, "PING").startswith("MASTERDOWN")
    assert sc.info("replication")["master_link_status"] == "down"
    sc.replicaof("no", "one")
    assert sc.get("k") is None


def test_role_and_info_replication(pair):
    m, s = pair()
    attach(s, m)
    mc, sc = m.client(), s.client()
    mc.set("k", "v")
    wait_in_sync(m, s)
    role = mc.execute_command("ROLE")
    assert role[0] == b"master"
    assert role[1] == repl_info(m)["master_repl_offset"]
    assert len(role[2]) == 1 and role[2][0][1] == str(s.port).encode()
    srole = sc.execute_command("ROLE")
    assert srole[:4] == [b"slave", b"127.0.0.1", m.port, b"connected"]
    mi, si = repl_info(m), repl_info(s)
    for field in ["role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2",
                  "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
                  "repl_backlog_first_byte_offset", "repl_backlog_histlen"]:
        assert field in mi, field
        assert field in si, field
    assert mi["role"] == "master" and mi["connected_slaves"] == 1
    assert mi["slave0"]["state"] == "online" and mi["slave0"]["port"] == s.port
    for field in ["master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
                  "master_sync_in_progress", "slave_read_repl_offset", "slave_repl_offset", "slave_priority",
                  "slave_read_only", "replica_announced"]:
        assert field in si, field
    assert si["role"] == "slave" and si["master_link_status"] == "up"
    assert si["master_replid"] == mi["master_replid"]
    assert si["slave_repl_offset"] == mi["master_repl_offset"]
    # the replica is a client with flag S on the master
    assert any("S" in c["flags"] for c in mc.client_list())
    stats = mc.memory_stats()
    assert stats["replication.backlog"] > 0
    assert "clients.slaves" in stats


def test_replicaof_errors_and_already_connected(pair):
    m, s = pair()
    sc = s.client()
    assert error_of(s, "REPLICAOF", "127.0.0.1", "notaport") == ("ERR Invalid master port")
    attach(s, m)
    assert sc.execute_command("REPLICAOF", "127.0.0.1", m.port) == b"OK Already connected to specified master"
    assert sc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert repl_info(s)["role"] == "master"


def test_partial_resync_after_killing_the_link(pair):
    m, s = pair()
    attach(s, m)
    mc = m.client()
    mc.set("before", "1")
    wait_in_sync(m, s)
    log_before = s.log_text().count("Successful partial resynchronization with master")
    assert mc.client_kill_filter(_type="slave") == 1
    mc.set("during", "2")
    m.client(db=7).set("in7", "x")
    assert wait_for(lambda: s.log_text().count("Successful partial resynchronization with master") > log_before,
             timeout=20)
    wait_in_sync(m, s)
    assert s.client().get("during") == b"2"
    st = m.info("stats")
    assert st["sync_full"] == 1 and st["sync_partial_ok"] == 1
    assert digest_all(s.client()) == digest_all(mc)
    # and from the replica's side
    before = s.log_text().count("Successful partial resynchronization with master")
    assert s.client().client_kill_filter(_type="master") == 1
    mc.set("after", "3")
    assert wait_for(lambda: s.log_text().count("Successful partial resynchronization with master") > before, timeout=20)
    wait_in_sync(m, s)
    assert s.client().get("after") == b"3"
    # the old form, CLIENT KILL ip:port, with the master's address
    before = s.log_text().count("Successful partial resynchronization with master")
    assert s.client().execute_command("CLIENT", "KILL", "%s:%d" % (m.host, m.port)) == b"OK"
    assert wait_for(lambda: s.log_text().count("Successful partial resynchronization with master") > before, timeout=20)


def test_partial_resync_after_replica_restart(start_server, tmp_path):
    m = start_server("--repl-diskless-sync-delay", "0")
    mc = m.client()
    mc.set("k", "v")
    args = ("--dir", str(tmp_path), "--replicaof", "127.0.0.1", str(m.port))
    s = start_server(*args)
    wait_in_sync(m, s)
    mc.set("k2", "v2")
    wait_in_sync(m, s)
    s.client().save()              # the RDB keeps repl-id and repl-offset
    assert not s.stop()
    s.expected_exit = True
    mc.set("k3", "v3")
    s = start_server(*args)
    wait_in_sync(m, s)
    assert "Successful partial resynchronization with master" in s.log_text()
    assert s.client().get("k3") == b"v3"
    assert digest_all(s.client()) == digest_all(mc)


def test_chained_replicas(start_server):
    a = start_server("--repl-diskless-sync-delay", "0")
    b = start_server("--repl-diskless-sync-delay", "0")
    c = start_server()
    ac = a.client()
    fill_all_types(ac, dbs=4)
    attach(b, a)
    ac.execute_command("SELECT", 3)
    a3 = a.client(db=3)
    a3.set("chain", "x")          # the stream is now on database 3
    wait_in_sync(a, b)
    attach(c, b)
    a3.set("chain2", "y")          # no SELECT before it: C must know the db
    wait_in_sync(a, b)
    wait_in_sync(b, c)
    assert c.client(db=3).get("chain2") == b"y"
    assert digest_all(c.client()) == digest_all(ac)
    # a chained replica has the top master's id and offset
    assert repl_info(c)["master_replid"] == repl_info(a)["master_replid"]
    assert repl_info(c)["master_repl_offset"] == repl_info(a)["master_repl_offset"]


def test_promotion_keeps_history_as_replid2(start_server):
    a = start_server("--repl-diskless-sync-delay", "0")
    b = start_server("--repl-diskless-sync-delay", "0")
    c = start_server()
    attach(b, a)
    attach(c, a)
    a.client().set("k", "v")
    wait_in_sync(a, b)
    wait_in_sync(a, c)
    old_id = repl_info(a)["master_replid"]
    bc = b.client()
    bc.replicaof("no", "one")
    bi = repl_info(b)
    assert bi["role"] == "master"
    assert bi["master_replid2"] == old_id
    assert bi["second_repl_offset"] == bi["master_repl_offset"] + 1
    before = c.log_text().count("Successful partial resynchronization with master")
    c.client().replicaof("127.0.0.1", b.port)
    assert wait_for(lambda: c.log_text().count("Successful partial resynchronization with master") > before, timeout=20)
    bc.set("new", "1")
    wait_in_sync(b, c)
    assert c.client().get("new") == b"1"
    assert repl_info(c)["master_replid"] == bi["master_replid"]


def test_expired_keys_hidden_on_replica_until_master_deletes(pair):
    m, s = pair()
    attach(s, m)
    mc, sc = m.client(), s.client()
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    mc.set("gone", "v", px=100)
    mc.set("stays", "v")
    wait_in_sync(m, s)
    time.sleep(0.3)
    # logically expired: the replica hides it but keeps it (the master decides)
    assert sc.get("gone") is None
    assert sc.exists("gone") == 0
    assert sc.dbsize() == 2
    mc.get("gone")                   # lazy expiry on the master: DEL goes out
    wait_in_sync(m, s)
    assert sc.dbsize() == 1
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry_and_eviction_reach_the_replica(pair):
    m, s = pair()
    attach(s, m)
    mc, sc = m.client(), s.client()
    for i in range(50):
        mc.set("e%d" % i, "v", px=50)
    assert wait_for(lambda: mc.dbsize() == 0, timeout=20)
    wait_in_sync(m, s)
    assert sc.dbsize() == 0
    mc.config_set("maxmemory-policy", "allkeys-random")
    used = mc.info("memory")["used_memory"]
    mc.config_set("maxmemory", used + 3_000_000)   # room for the 1 MB backlog
    for i in range(6000):
        mc.set("big%d" % i, "x" * 1000)
    assert mc.info("stats")["evicted_keys"] > 0
    wait_in_sync(m, s)
    assert sc.dbsize() == mc.dbsize()
    assert digest_all(sc) == digest_all(mc)
    mc.config_set("maxmemory", 0)


def test_replica_ignores_its_own_maxmemory(pair):
    m, s = pair()
    attach(s, m)
    sc = s.client()
    sc.config_set("maxmemory", 1)       # far below what it holds
    mc = m.client()
    for i in range(200):
        mc.set("k%d" % i, "x" * 100)
    wait_in_sync(m, s)
    assert sc.dbsize() == 200           # replica-ignore-maxmemory yes: nothing evicted
    assert s.info("stats")["evicted_keys"] == 0
    sc.config_set("maxmemory", 0)


def test_wait(pair):
    m, s = pair()
    attach(s, m)
    mc = m.client()
    mc.set("k", "v")
    assert mc.execute_command("WAIT", 1, 5000) == 1
    t0 = time.monotonic()
    assert mc.execute_command("WAIT", 2, 300) == 1   # only one replica: times out
    assert time.monotonic() - t0 >= 0.25
    assert error_of(s, "WAIT", 0, 0).startswith("ERR WAIT cannot be used with replica instances")
    assert error_of(m, "WAIT", 1, -1) == ("ERR timeout is negative")


def test_min_replicas_to_write(pair):
    m, s = pair()
    mc = m.client()
    mc.config_set("min-replicas-to-write", 1)
    assert error_of(m, "SET", "k", "v") == ("NOREPLICAS Not enough good replicas to write.")
    assert mc.get("k") is None                          # reads still work
    attach(s, m)
    assert wait_for(lambda: repl_info(m).get("min_slaves_good_slaves") == 1, timeout=10)
    assert mc.set("k", "v")
    mc.config_set("min-replicas-to-write", 2)
    assert error_of(m, "SET", "k", "v") == ("NOREPLICAS Not enough good replicas to write.")
    mc.config_set("min-replicas-to-write", 0)


def test_replconf_and_psync_on_the_wire(server, raw):
    c = raw()
    assert c.cmd("REPLCONF", "listening-port", "1234") == b"OK"
    assert c.cmd("REPLCONF", "capa", "eof", "capa", "psync2") == b"OK"
    assert c.cmd("REPLCONF", "bogus", "1").startswith("ERR Unrecognized REPLCONF option")
    assert c.cmd("REPLCONF", "listening-port").startswith("ERR syntax error")


@pytest.mark.keel_only
def test_full_sync_under_writes_keeps_the_change_stream_on_disk(start_server):
    """Keel's bounded full sync: the writes made while a replica syncs
    wait in a spill file, not in memory, so a small
    client-output-buffer-limit does not drop the replica (Redis drops it
    and starts over)."""
    m = start_server("--repl-diskless-sync-delay", "0", "--repl-backlog-size", "16kb",
                     "--client-output-buffer-limit", "slave 256kb 128kb 5",
                     "--rdb-key-save-delay", "500")
    mc = m.client()
    for i in range(0, 2000, 500):
        mc.mset({"pre%d" % j: "v" * 100 for j in range(i, i + 500)})
    s = start_server()
    s.client().replicaof(m.host, m.port)
    assert wait_for(lambda: "slave0" in repl_info(m), timeout=10)
    assert repl_info(m)["slave0"]["state"] == "wait_bgsave"
    for i in range(600):                       # about 2 MB of stream while the snapshot is slow
        mc.set("during%d" % (i % 100), "x" * 3000)
    peak_slaves = mc.memory_stats()["clients.slaves"]
    m.client().config_set("rdb-key-save-delay", 0)
    wait_in_sync(m, s, timeout=60)
    assert digest_all(s.client()) == digest_all(mc)
    assert "spill file" in m.log_text()
    assert m.info("stats")["client_output_buffer_limit_disconnections"] == 0
    assert peak_slaves < 256 * 1024
    assert s.log_text().count("Full resync from master") == 1


def test_stream_faster_than_the_replica_reads(pair):
    """The master writes more than the socket takes at once: the rest is
    sent when the socket is writable again, while the replica's own
    requests (REPLCONF ACK) keep being read."""
    m, s = pair()
    attach(s, m)
    mc = m.client()
    value = "v" * 20000
    for _ in range(5):
        p = mc.pipeline(transaction=False)
        for i in range(1000):
            p.set("flood%d" % i, value)
        p.execute()
    assert mc.ping()
    wait_in_sync(m, s, timeout=60)
    assert digest_all(s.client()) == digest_all(mc)


def test_script_writes_refused_on_replica_and_without_good_replicas(pair):
    m, s = pair()
    attach(s, m)
    assert error_of(s, "EVAL", "return redis.call('set','k','v')", 0).startswith("READONLY ")
    assert s.client().eval("return redis.call('get','k')", 0) is None   # reads are fine
    mc = m.client()
    mc.config_set("min-replicas-to-write", 2)
    assert error_of(m, "EVAL", "return redis.call('set','k','v')", 0).startswith("NOREPLICAS ")
    assert mc.eval("return redis.call('get','k')", 0) is None
    mc.config_set("min-replicas-to-write", 0)
    assert mc.eval("return redis.call('set','k','v')", 0) == b"OK"


def test_ttl_in_the_past_from_the_master_keeps_the_key(pair):
    """A replica applies the master's SET ... PXAT as sent, even when that
    time has passed (the key then reads as missing until the master's DEL)."""
    m, s = pair()
    attach(s, m)
    mc = m.client()
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    busy = s.raw()
    busy.send(encode_command("DEBUG", "SLEEP", "0.5"))   # the replica applies nothing meanwhile
    time.sleep(0.05)
    mc.set("k1", "v", px=10)
    mc.set("k2", "v", px=10)
    mc.set("sync", "1")
    assert busy.read() == b"OK"
    busy.close()
    wait_in_sync(m, s)
    sc = s.client()
    assert sc.dbsize() == 3 and sc.exists("k1", "k2") == 0
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_blocked_clients_unblocked_when_a_master_becomes_replica(pair):
    m, s = pair()
    waiter = s.raw()
    waiter.send(encode_command("BLPOP", "l", "0"))
    assert wait_for(lambda: s.info("clients")["blocked_clients"] == 1)
    attach(s, m)
    assert str(waiter.read()) == ("UNBLOCKED force unblock from blocking operation, instance state changed "
                                  "(master -> replica?)")
    waiter.close()
    m.client().rpush("l", "x")          # the master's push is not served on the replica
    wait_in_sync(m, s)
    assert s.client().lrange("l", 0, -1) == [b"x"]


def test_writable_replica_expires_its_own_keys(pair):
    """Keys a writable replica's clients give a TTL expire on the replica
    (the master never sends a DEL for them); the master's keys wait for
    the master's DEL."""
    m, s = pair()
    attach(s, m)
    sc = s.client()
    sc.config_set("replica-read-only", "no")
    m.client().execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    m.client().set("from_master", "v", px=100)
    wait_in_sync(m, s)
    sc.set("own1", "v", px=100)
    sc.set("own2", "v")
    sc.pexpire("own2", 100)
    assert wait_for(lambda: sc.dbsize() == 1, timeout=10)   # only the master's key is left
    assert sc.get("from_master") is None                        # hidden, not deleted
    m.client().execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    assert wait_for(lambda: sc.dbsize() == 0, timeout=10)


def test_read_only_replica_never_deletes_an_expired_key(pair):
    """PFCOUNT writes its cache through a write lookup: on a read-only
    replica that does not delete the expired key (Redis 7.0)."""
    m, s = pair()
    attach(s, m)
    mc, sc = m.client(), s.client()
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    mc.pfadd("hll", *"abcdefghijklmnopq")
    mc.pexpire("hll", 50)
    wait_in_sync(m, s)
    time.sleep(0.2)
    assert sc.pfcount("hll") == 0
    assert sc.dbsize() == 1
    mc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_rdb_only_sync_ends_the_connection(r, server, tmp_path):
    """REPLCONF rdb-only 1 then SYNC (what redis-cli --rdb sends): the
    master sends the RDB and closes the connection instead of going on
    with the stream, so the dump reader stops (as with Redis)."""
    import subprocess
    r.set("k", "v")
    r.config_set("repl-diskless-sync-delay", 0)
    for i in range(3):
        out = tmp_path / ("dump%d.rdb" % i)
        p = subprocess.run(["redis-cli", "-p", str(server.port), "--rdb", str(out)],
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert b"Transfer finished with success" in p.stdout + p.stderr
        assert out.read_bytes().startswith(b"REDIS")
