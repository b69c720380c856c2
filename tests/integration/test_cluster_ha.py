"""Cluster high availability (issue 15): the coordinated manual failover
(CLUSTER FAILOVER without an option: MFSTART, the master's pause, the
replica catching up to the paused offset), the replica validity factor,
replica migration (cluster-migration-barrier,
cluster-allow-replica-migration) and cluster-link-sendbuf-limit; the
manual failover between Keel and Redis nodes both ways."""
import os
import signal
import threading
import time

import pytest
import redis

from cluster_helpers import (REDIS_SERVER, addr, cli, cluster_info, create_cluster, myid, nodes_view,
                             add_replica, start_node, wait_agreed)
from keel_helpers import cmd, running_against_redis, wait_for


def kill_node(srv):
    srv.proc.kill()
    srv.proc.wait()
    srv.proc = None


def node_lines(srv):
    text = srv.client.execute_command("CLUSTER", "NODES")
    return (text.decode() if isinstance(text, bytes) else text).strip().splitlines()


def master_of(srv):
    """The node id srv replicates (CLUSTER NODES's master field), or None."""
    line = next(l for l in node_lines(srv) if "myself" in l.split()[2])
    return None if line.split()[3] == "-" else line.split()[3]


def role(srv):
    return srv.client.info("replication")["role"]


def pair(nodes):
    """(master, its replica) of a cluster made with --cluster-replicas 1."""
    ids = {myid(n): n for n in nodes}
    for n in nodes:
        m = master_of(n)
        if m:
            return ids[m], n
    raise AssertionError("no replica")


def key_in_slots_of(master, prefix="k"):
    ranges = nodes_view(master)[myid(master)][1]
    start = int(ranges[0].split("-")[0])
    return next("%s%d" % (prefix, i) for i in range(200000)
                if master.client.execute_command("CLUSTER", "KEYSLOT", "%s%d" % (prefix, i)) == start)


def log_has(srv, text):
    with open(srv.log, errors="replace") as f:
        return text in f.read()


def synced(master, replica):
    return wait_for(lambda: replica.client.info("replication").get("master_link_status") == "up" and
                    replica.client.dbsize() == master.client.dbsize(), timeout=30)


@pytest.fixture
def six(start_server):
    nodes = [start_node(start_server) for _ in range(6)]
    create_cluster(nodes, replicas=1)
    return nodes


# ---- the coordinated manual failover -------------------------------------

def test_manual_failover_loses_no_acknowledged_write(six):
    master, replica = pair(six)
    key = key_in_slots_of(master)
    assert synced(master, replica)
    acked = [0]
    stop = threading.Event()
    errors = []

    def writer():
        c = redis.Redis(host=master.host, port=master.port, socket_timeout=60)
        try:
            while not stop.is_set():
                acked[0] = c.incr(key)
        except redis.ResponseError as e:  # -MOVED once the old master is a replica
            errors.append(str(e))
        finally:
            c.close()

    t = threading.Thread(target=writer)
    t.start()
    assert wait_for(lambda: acked[0] > 100, timeout=30)
    assert cmd(replica.client, "CLUSTER", "FAILOVER") == b"OK"
    assert wait_for(lambda: role(replica) == "master", timeout=30)
    assert wait_for(lambda: role(master) == "slave", timeout=30)
    t.join(timeout=60)
    stop.set()
    assert not t.is_alive()
    assert errors and errors[0].startswith("MOVED "), errors
    # Every INCR the old master acknowledged is in the new master.
    assert int(replica.client.get(key)) >= acked[0]
    assert log_has(master, "Manual failover requested by replica %s" % myid(replica))
    assert log_has(replica, "Received replication offset for paused master manual failover")
    assert log_has(replica, "All master replication stream processed, manual failover can start.")
    assert wait_for(lambda: master_of(master) == myid(replica), timeout=30)
    assert wait_agreed(six)
    # The old master serves writes again once it follows the new one.
    assert wait_for(lambda: master.client.info("replication").get("master_link_status") == "up", timeout=30)


def test_manual_failover_refused_when_master_is_down(six):
    master, replica = pair(six)
    assert replica.client.config_set("cluster-replica-no-failover", "yes")
    assert wait_for(lambda: "nofailover" in nodes_view(master)[myid(replica)][0], timeout=30)
    mid = myid(master)
    kill_node(master)
    assert wait_for(lambda: "fail" in nodes_view(replica)[mid][0], timeout=60)
    with pytest.raises(redis.ResponseError, match="^Master is down or failed, please use CLUSTER FAILOVER FORCE$"):
        cmd(replica.client, "CLUSTER", "FAILOVER")
    assert role(replica) == "slave"  # no-failover: no automatic election either
    assert cmd(replica.client, "CLUSTER", "FAILOVER", "FORCE") == b"OK"
    assert wait_for(lambda: role(replica) == "master", timeout=30)


def test_manual_failover_times_out_on_both_sides(start_server):
    """The master is stopped when the replica asks: the replica gives up
    after 5 s. The master, resumed, reads the stale MFSTART and pauses;
    the replica no longer waits, so the master gives up after 5 s too and
    takes writes again. Nobody was promoted."""
    nodes = [start_node(start_server, None, 60000) for _ in range(6)]
    create_cluster(nodes, replicas=1)
    master, replica = pair(nodes)
    key = key_in_slots_of(master)
    assert synced(master, replica)
    master.proc.send_signal(signal.SIGSTOP)
    try:
        assert cmd(replica.client, "CLUSTER", "FAILOVER") == b"OK"
        assert wait_for(lambda: log_has(replica, "Manual failover timed out."), timeout=30)
    finally:
        master.proc.send_signal(signal.SIGCONT)
    assert wait_for(lambda: log_has(master, "Manual failover requested by replica %s" % myid(replica)), timeout=30)
    assert wait_for(lambda: log_has(master, "Manual failover timed out."), timeout=30)
    c = redis.Redis(host=master.host, port=master.port, socket_timeout=30)
    assert c.set(key, "after") is True  # the pause is over
    c.close()
    assert role(replica) == "slave" and role(master) == "master"
    assert not log_has(replica, "Starting a failover election")


def test_manual_failover_force_and_takeover_need_no_master(six):
    master, replica = pair(six)
    master.proc.send_signal(signal.SIGSTOP)
    try:
        assert cmd(replica.client, "CLUSTER", "FAILOVER", "FORCE") == b"OK"
        assert wait_for(lambda: role(replica) == "master", timeout=30)
        assert log_has(replica, "Forced failover user request accepted.")
        assert not log_has(master, "Manual failover requested by replica")
    finally:
        master.proc.send_signal(signal.SIGCONT)
    assert wait_for(lambda: role(master) == "slave", timeout=60)


def manual_failover_across_kinds(start_server, master_binary, replica_binary):
    """A replica of one server kind takes over from a master of the other
    through the coordinated CLUSTER FAILOVER (MFSTART), both speaking."""
    masters = [start_node(start_server, binary=master_binary) for _ in range(3)]
    create_cluster(masters)
    replica = start_node(start_server, binary=replica_binary)
    victim = masters[0]
    nodes = add_replica(replica, victim, masters)
    key = key_in_slots_of(victim)
    victim.client.set(key, "before")
    assert synced(victim, replica)
    assert cmd(replica.client, "CLUSTER", "FAILOVER") == b"OK"
    assert wait_for(lambda: role(replica) == "master" and role(victim) == "slave", timeout=30)
    assert log_has(victim, "Manual failover requested by replica %s" % myid(replica))
    assert log_has(replica, "All master replication stream processed, manual failover can start.")
    assert wait_for(lambda: master_of(victim) == myid(replica), timeout=30)
    assert wait_agreed(nodes)
    assert replica.client.get(key) == b"before"
    replica.client.set(key, "after")
    assert wait_for(lambda: victim.client.info("replication").get("master_link_status") == "up", timeout=30)


@pytest.mark.skipif(running_against_redis(), reason="the Keel side of a mixed cluster")
def test_manual_failover_keel_replica_of_redis_master(start_server):
    manual_failover_across_kinds(start_server, REDIS_SERVER, None)


@pytest.mark.skipif(running_against_redis(), reason="the Keel side of a mixed cluster")
def test_manual_failover_redis_replica_of_keel_master(start_server):
    manual_failover_across_kinds(start_server, None, REDIS_SERVER)


def cut_replica_off(master, replica, seconds):
    """The replica loses its master's link, sleeps `seconds` (its data
    ages) while the master is stopped, then the master dies."""
    port = master.port
    c = redis.Redis(host=replica.host, port=replica.port, socket_timeout=seconds + 60)
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("CLIENT", "KILL", "127.0.0.1:%d" % port)
    pipe.execute_command("DEBUG", "SLEEP", seconds)
    done = []
    t = threading.Thread(target=lambda: done.append(pipe.execute()))
    t.start()
    time.sleep(0.5)  # the transaction is running: the replica sleeps
    master.proc.send_signal(signal.SIGSTOP)
    t.join(seconds + 60)
    c.close()
    assert done
    kill_node(master)


@pytest.mark.parametrize("factor", [1, 0])
def test_replica_validity_factor(six, factor):
    master, replica = pair(six)
    assert synced(master, replica)
    for k, v in (("cluster-replica-validity-factor", factor), ("repl-ping-replica-period", 1)):
        assert replica.client.config_set(k, v)
    # Limit: node timeout (2 s) + 1 s ping period + factor x 2 s = 5 s of age.
    cut_replica_off(master, replica, 7)
    others = [n for n in six if n is not master and n is not replica]
    if factor:
        assert wait_for(lambda: log_has(replica, "Currently unable to failover: Disconnected from master for longer "
                                                 "than allowed."), timeout=60)
        assert role(replica) == "slave"
        assert not log_has(replica, "Starting a failover election")
        assert wait_for(lambda: cluster_info(replica)["cluster_state"] == "fail", timeout=30)
        # A manual failover is not subject to the limit.
        assert cmd(replica.client, "CLUSTER", "FAILOVER", "FORCE") == b"OK"
    assert wait_for(lambda: role(replica) == "master", timeout=60)
    assert wait_for(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in others + [replica]), timeout=60)


# ---- replica migration ---------------------------------------------------

@pytest.fixture
def unbalanced(start_server):
    """3 masters; A has two replicas, B and C one each."""
    nodes = [start_node(start_server) for _ in range(6)]
    create_cluster(nodes, replicas=1)
    a, _ = pair(nodes)
    extra = start_node(start_server)
    status, out = cli("--cluster", "add-node", addr(extra), addr(a), "--cluster-slave", "--cluster-master-id", myid(a))
    assert status == 0, out
    nodes.append(extra)
    assert wait_agreed(nodes)
    ids = {myid(n): n for n in nodes}
    masters = [n for n in nodes if master_of(n) is None]
    replicas_of = {myid(m): [n for n in nodes if master_of(n) == myid(m)] for m in masters}
    assert wait_for(lambda: len(a.client.info("replication")) and a.client.info("replication")["connected_slaves"] == 2,
                    timeout=30)
    return nodes, ids, a, replicas_of


def test_replica_migrates_to_an_orphaned_master(unbalanced):
    nodes, ids, a, replicas_of = unbalanced
    b = next(ids[m] for m, rs in replicas_of.items() if len(rs) == 1)
    donors = replicas_of[myid(a)]
    for n in nodes:
        n.client.config_set("cluster-migration-barrier", 2)
    dead = myid(replicas_of[myid(b)][0])
    kill_node(replicas_of[myid(b)][0])
    alive = [n for n in nodes if n.proc]
    assert wait_for(lambda: all("fail" in nodes_view(n)[dead][0] for n in alive), timeout=60)
    # Barrier 2: A would keep one replica only, so none moves.
    time.sleep(7)
    assert all(master_of(d) == myid(a) for d in donors)
    for n in alive:
        n.client.config_set("cluster-migration-barrier", 1)
    assert wait_for(lambda: any(master_of(d) == myid(b) for d in donors), timeout=60)
    moved = next(d for d in donors if master_of(d) == myid(b))
    assert moved is min(donors, key=myid)  # the smallest node id moves
    assert log_has(moved, "Migrating to orphaned master %s" % myid(b))
    assert wait_for(lambda: moved.client.info("replication").get("master_link_status") == "up", timeout=30)
    assert wait_for(lambda: b.client.info("replication")["connected_slaves"] == 1, timeout=30)
    assert all(master_of(d) == myid(a) for d in donors if d is not moved)


def test_no_replica_migration_when_not_allowed(unbalanced):
    nodes, ids, a, replicas_of = unbalanced
    b = next(ids[m] for m, rs in replicas_of.items() if len(rs) == 1)
    donors = replicas_of[myid(a)]
    for n in nodes:
        n.client.config_set("cluster-allow-replica-migration", "no")
    dead = myid(replicas_of[myid(b)][0])
    kill_node(replicas_of[myid(b)][0])
    alive = [n for n in nodes if n.proc]
    assert wait_for(lambda: all("fail" in nodes_view(n)[dead][0] for n in alive), timeout=60)
    time.sleep(7)
    assert all(master_of(d) == myid(a) for d in donors)


def move_all_slots(src, dst):
    status, out = cli("--cluster", "reshard", addr(src), "--cluster-from", myid(src), "--cluster-to", myid(dst),
                      "--cluster-slots", 16384, "--cluster-yes")
    assert status == 0, out


@pytest.mark.parametrize("allowed", ["yes", "no"])
def test_emptied_master_follows_the_new_owner_only_when_allowed(six, allowed):
    master, replica = pair(six)
    other = next(n for n in six if master_of(n) is None and n is not master)
    for n in six:
        n.client.config_set("cluster-allow-replica-migration", allowed)
    move_all_slots(master, other)
    if allowed == "yes":
        assert wait_for(lambda: master_of(master) == myid(other), timeout=30)
        assert wait_for(lambda: master_of(replica) == myid(other), timeout=30)
        assert role(master) == "slave"
    else:
        assert wait_for(lambda: all(not nodes_view(n)[myid(master)][1] for n in six), timeout=30)
        time.sleep(3)
        assert master_of(master) is None and role(master) == "master"
        assert master_of(replica) == myid(master)
    assert wait_agreed(six)


# ---- cluster-link-sendbuf-limit -----------------------------------------

def links_to(srv, peer_id, direction):
    for link in srv.client.execute_command("CLUSTER", "LINKS"):
        d = {link[i].decode(): link[i + 1] for i in range(0, len(link), 2)}
        if d["node"].decode() == peer_id and d["direction"].decode() == direction:
            return d
    return None


def test_link_freed_when_its_send_buffer_exceeds_the_limit(start_server):
    p1, p2 = start_node(start_server), start_node(start_server)
    p1.client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 8191)
    p2.client.execute_command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383)
    p1.client.execute_command("CLUSTER", "MEET", p2.host, p2.port,
                              p2.client.config_get("cluster-port")["cluster-port"])
    assert wait_agreed([p1, p2])
    p2id = myid(p2)
    assert wait_for(lambda: links_to(p1, p2id, "to") and links_to(p1, p2id, "from"), timeout=30)
    p1.client.config_set("cluster-node-timeout", 3600000)
    p1.client.config_set("cluster-link-sendbuf-limit", 256 * 1024)
    assert cluster_info(p1)["total_cluster_links_buffer_limit_exceeded"] == "0"
    assert p1.client.info("memory")["mem_cluster_links"] > 0
    to_before = links_to(p1, p2id, "to")
    from_before = links_to(p1, p2id, "from")
    p2.proc.send_signal(signal.SIGSTOP)
    try:
        msg = "x" * (128 * 1024)

        def exceeded():
            p1.client.publish("channel", msg)
            return int(cluster_info(p1)["total_cluster_links_buffer_limit_exceeded"]) >= 1
        assert wait_for(exceeded, timeout=120, interval=0.2)
        assert log_has(p1, "due to exceeding send buffer memory limit.")
        assert wait_for(lambda: links_to(p1, p2id, "to") is not None, timeout=30)
        assert links_to(p1, p2id, "to")["create-time"] > to_before["create-time"]
        assert links_to(p1, p2id, "from")["create-time"] == from_before["create-time"]
    finally:
        p2.proc.send_signal(signal.SIGCONT)
    p1.client.config_set("cluster-link-sendbuf-limit", 0)
    p1.client.config_set("cluster-node-timeout", 2000)
    assert wait_agreed([p1, p2])


def test_link_send_buffer_shrinks_after_a_burst(start_server):
    p1, p2 = start_node(start_server), start_node(start_server)
    p1.client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    p1.client.execute_command("CLUSTER", "MEET", p2.host, p2.port,
                              p2.client.config_get("cluster-port")["cluster-port"])
    p2id = myid(p2)
    assert wait_for(lambda: links_to(p1, p2id, "to") is not None, timeout=30)
    p1.client.publish("channel", "x" * (1024 * 1024))
    assert wait_for(lambda: links_to(p1, p2id, "to")["send-buffer-allocated"] < 64 * 1024, timeout=30)


def test_debug_clusterlink_kill(start_server):
    p1, p2 = start_node(start_server), start_node(start_server)
    p1.client.execute_command("CLUSTER", "MEET", p2.host, p2.port,
                              p2.client.config_get("cluster-port")["cluster-port"])
    p2id = myid(p2)
    assert wait_for(lambda: links_to(p1, p2id, "to") and links_to(p1, p2id, "from"), timeout=30)
    to_before, from_before = links_to(p1, p2id, "to"), links_to(p1, p2id, "from")
    with pytest.raises(redis.ResponseError, match="^Unknown node nosuchnode$"):
        cmd(p1.client, "DEBUG", "CLUSTERLINK", "KILL", "to", "nosuchnode")
    assert cmd(p1.client, "DEBUG", "CLUSTERLINK", "KILL", "to", p2id) == b"OK"
    # The outbound link is made again; the inbound one is untouched.
    assert wait_for(lambda: links_to(p1, p2id, "to") is not None and
                    links_to(p1, p2id, "to")["create-time"] > to_before["create-time"], timeout=30)
    assert links_to(p1, p2id, "from")["create-time"] == from_before["create-time"]
    assert cmd(p1.client, "DEBUG", "CLUSTERLINK", "KILL", "all", p2id) == b"OK"
    assert wait_for(lambda: links_to(p1, p2id, "to") and links_to(p1, p2id, "from"), timeout=30)


def test_debug_clusterlink_kill_needs_cluster_mode(r):
    with pytest.raises(redis.ResponseError, match="^Debug option only available for cluster mode enabled setup!$"):
        cmd(r, "DEBUG", "CLUSTERLINK", "KILL", "to", "a" * 40)
