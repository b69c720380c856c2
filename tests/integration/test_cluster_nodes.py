"""Clusters of several local nodes (issue 15): redis-cli --cluster create,
check, reshard, rebalance, add-node, del-node; redis-py's RedisCluster
through a reshard; PUBLISH over the bus; failure detection; a mixed
cluster of Keel and Debian's redis-server 7.0 nodes."""
import threading
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from cluster_helpers import (REDIS_SERVER, addr, cli, cluster_info, create_cluster, myid, nodes_view,
                             add_replica, start_node, wait_agreed)
from keel_helpers import Error, cmd, running_against_redis, wait_for


@pytest.fixture
def three(start_server):
    nodes = [start_node(start_server) for _ in range(3)]
    create_cluster(nodes)
    return nodes


def kill_node(srv):
    """kill -9, as a crash (the fixture then has nothing to stop)."""
    srv.proc.kill()
    srv.proc.wait()
    srv.proc = None


def cluster_client(nodes):
    return RedisCluster(startup_nodes=[ClusterNode(n.host, n.port) for n in nodes], socket_timeout=30)


def fill(rc, n, prefix="key:"):
    for i in range(n):
        rc.set("%s%d" % (prefix, i), i)


def total_keys(nodes):
    return sum(n.client.dbsize() for n in nodes)


def test_create_and_check(three):
    status, out = cli("--cluster", "check", addr(three[0]))
    assert status == 0, out
    assert "[OK] All nodes agree about slots configuration." in out
    assert "[OK] All 16384 slots covered." in out
    ids = {myid(n) for n in three}
    for n in three:
        view = nodes_view(n)
        assert set(view) == ids
        assert all("master" in flags for flags, _ in view.values())
        info = cluster_info(n)
        assert info["cluster_size"] == "3" and info["cluster_known_nodes"] == "3"
        # Every node got its own config epoch.
    epochs = {cluster_info(n)["cluster_my_epoch"] for n in three}
    assert len(epochs) == 3


def test_redirections_between_nodes(three):
    a = three[0].client
    slot = a.execute_command("CLUSTER", "KEYSLOT", "foo")
    owner = next(n for n in three if str(slot) in str(nodes_view(n)[myid(n)][1]) or
                 any(int(r.split("-")[0]) <= slot <= int(r.split("-")[-1]) for r in nodes_view(n)[myid(n)][1]))
    other = next(n for n in three if n is not owner)
    with pytest.raises(redis.ResponseError, match=r"^MOVED %d 127\.0\.0\.1:%d$" % (slot, owner.port)):
        other.client.set("foo", "bar")
    assert owner.client.set("foo", "bar")


def test_reshard_with_cluster_client(three):
    rc = cluster_client(three)
    fill(rc, 3000)
    src, dst = three[0], three[1]
    errors, writes = [], [0]
    stop = threading.Event()

    def writer():
        w = cluster_client(three)
        i = 0
        while not stop.is_set():
            try:
                w.set("live:%d" % (i % 500), i)
                assert int(w.get("live:%d" % (i % 500))) == i
                writes[0] += 1
            except Exception as e:  # noqa: BLE001 - any error is a failure here
                errors.append(repr(e))
            i += 1
        w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        status, out = cli("--cluster", "reshard", addr(src), "--cluster-from", myid(src), "--cluster-to", myid(dst),
                          "--cluster-slots", 1000, "--cluster-yes", timeout=300)
    finally:
        stop.set()
        t.join()
    assert status == 0, out
    assert errors == []
    assert writes[0] > 0
    assert wait_agreed(three)
    status, out = cli("--cluster", "check", addr(three[2]))
    assert status == 0 and "[OK] All 16384 slots covered." in out, out
    assert total_keys(three) == 3000 + 500
    for i in range(0, 3000, 7):
        assert rc.get("key:%d" % i) == str(i).encode()
    rc.close()


def test_rebalance_add_node_del_node(three, start_server):
    rc = cluster_client(three)
    fill(rc, 1000)
    new = start_node(start_server)
    status, out = cli("--cluster", "add-node", addr(new), addr(three[0]))
    assert status == 0, out
    nodes = three + [new]
    assert wait_agreed(nodes)
    status, out = cli("--cluster", "rebalance", addr(three[0]), "--cluster-use-empty-masters", timeout=300)
    assert status == 0, out
    assert wait_agreed(nodes)
    assert cluster_info(new)["cluster_slots_assigned"] == "16384"
    assert len(nodes_view(new)[myid(new)][1]) > 0
    assert new.client.dbsize() > 0
    assert total_keys(nodes) == 1000
    # Empty it again and take it out.
    status, out = cli("--cluster", "reshard", addr(three[0]), "--cluster-from", myid(new), "--cluster-to",
                      myid(three[0]), "--cluster-slots", 16384, "--cluster-yes", timeout=300)
    assert status == 0, out
    assert wait_for(lambda: nodes_view(three[0])[myid(new)][1] == ())
    status, out = cli("--cluster", "del-node", addr(three[0]), myid(new))
    assert status == 0, out
    assert wait_agreed(three)
    assert all(myid(new) not in nodes_view(n) for n in three)
    assert total_keys(three) == 1000
    rc.close()


def test_publish_reaches_every_node(three):
    sub = three[2].client.pubsub()
    sub.subscribe("news")
    assert wait_for(lambda: sub.get_message(timeout=0.1) is not None)  # the subscribe confirmation
    assert three[0].client.publish("news", "hello") == 0  # nobody on that node
    msg = wait_for(lambda: sub.get_message(timeout=0.1))
    assert msg and msg["type"] == "message" and msg["data"] == b"hello"
    sub.close()


def test_failure_detection(three):
    victim = three[2]
    vid = myid(victim)
    kill_node(victim)
    others = three[:2]

    def failed_everywhere():
        return all("fail" in nodes_view(n)[vid][0] for n in others)
    assert wait_for(failed_everywhere, timeout=30)
    assert all(cluster_info(n)["cluster_state"] == "fail" for n in others)
    assert all(cluster_info(n)["cluster_slots_fail"] == "5461" for n in others)


@pytest.mark.skipif(running_against_redis(), reason="the Keel side of a mixed cluster")
def test_mixed_cluster_with_redis(start_server):
    nodes = [start_node(start_server), start_node(start_server, binary=REDIS_SERVER), start_node(start_server)]
    create_cluster(nodes)
    rc = cluster_client(nodes)
    fill(rc, 2000)
    assert all(n.client.dbsize() > 0 for n in nodes)
    keel, red = nodes[0], nodes[1]
    # Slots move from Keel to Redis and from Redis to Keel.
    for src, dst in ((keel, red), (red, keel)):
        status, out = cli("--cluster", "reshard", addr(src), "--cluster-from", myid(src), "--cluster-to",
                          myid(dst), "--cluster-slots", 500, "--cluster-yes", timeout=300)
        assert status == 0, out
        assert wait_agreed(nodes)
    status, out = cli("--cluster", "check", addr(red))
    assert status == 0 and "[OK] All 16384 slots covered." in out, out
    assert total_keys(nodes) == 2000
    for i in range(0, 2000, 3):
        assert rc.get("key:%d" % i) == str(i).encode()
    # Redis and Keel see each other the same way.
    assert nodes_view(red) == nodes_view(keel)
    rc.close()


@pytest.mark.skipif(running_against_redis(), reason="the Keel side of a mixed cluster")
def test_mixed_cluster_publish_and_failure(start_server):
    nodes = [start_node(start_server), start_node(start_server, binary=REDIS_SERVER),
             start_node(start_server, binary=REDIS_SERVER)]
    create_cluster(nodes)
    keel, red = nodes[0], nodes[1]
    sub = keel.client.pubsub()
    sub.subscribe("ch")
    assert wait_for(lambda: sub.get_message(timeout=0.1) is not None)
    red.client.publish("ch", "from redis")
    msg = wait_for(lambda: sub.get_message(timeout=0.1))
    assert msg and msg["data"] == b"from redis"
    sub.close()
    # Redis nodes and the Keel node agree that a dead Redis node failed.
    victim = nodes[2]
    vid = myid(victim)
    kill_node(victim)
    assert wait_for(lambda: all("fail" in nodes_view(n)[vid][0] for n in nodes[:2]), timeout=30)


def test_blocked_client_redirected_when_its_slot_moves(three, raw):
    # key9184688 hashes to slot 10923, the first slot of the third node.
    a, c = three[0], three[2]
    assert a.client.execute_command("CLUSTER", "KEYSLOT", "key9184688") == 10923
    blocked = raw(c)
    blocked.send(b"*3\r\n$5\r\nBRPOP\r\n$10\r\nkey9184688\r\n$1\r\n0\r\n")
    assert wait_for(lambda: c.client.info("clients")["blocked_clients"] == 1)
    status, out = cli("--cluster", "reshard", addr(c), "--cluster-to", myid(a), "--cluster-from", myid(c),
                      "--cluster-slots", 1, "--cluster-yes")
    assert status == 0, out
    assert blocked.read() == Error("MOVED 10923 127.0.0.1:%d" % a.port)
    assert all(n.client.info("clients")["blocked_clients"] == 0 for n in three)


def test_announced_port_changes_at_run_time(three):
    a, b = three[0], three[1]
    aid = myid(a)
    a.client.config_set("cluster-announce-port", 12345)
    a.client.config_set("cluster-announce-bus-port", 12346)
    line = [l for l in a.client.execute_command("CLUSTER", "NODES").decode().splitlines() if l.startswith(aid)][0]
    assert ":12345@12346 " in line

    def b_sees_it():
        text = b.client.execute_command("CLUSTER", "NODES").decode()
        return any(l.startswith(aid) and ":12345@12346 " in l for l in text.splitlines())
    assert wait_for(b_sees_it, timeout=30)
    a.client.config_set("cluster-announce-port", 0)
    a.client.config_set("cluster-announce-bus-port", 0)
    assert ":%d@" % a.port in [l for l in a.client.execute_command("CLUSTER", "NODES").decode().splitlines()
                                if l.startswith(aid)][0]


@pytest.fixture
def six(start_server):
    nodes = [start_node(start_server) for _ in range(6)]
    create_cluster(nodes, replicas=1)
    return nodes


def roles(nodes):
    return {myid(n): ("master" if "master" in nodes_view(n)[myid(n)][0] else "slave") for n in nodes}


def test_replicas_and_automatic_failover(six):
    r = roles(six)
    assert sorted(r.values()) == ["master"] * 3 + ["slave"] * 3
    rc = cluster_client(six)
    fill(rc, 300)
    masters = [n for n in six if r[myid(n)] == "master"]
    victim = masters[0]
    vid = myid(victim)
    # Its replica has the data.
    replica = next(n for n in six if n.client.execute_command("CLUSTER", "NODES").decode().find(
        "%s " % myid(n)) >= 0 and r[myid(n)] == "slave" and
        [l for l in n.client.execute_command("CLUSTER", "NODES").decode().splitlines()
         if l.startswith(myid(n))][0].split()[3] == vid)
    assert wait_for(lambda: replica.client.dbsize() == victim.client.dbsize(), timeout=30)
    kill_node(victim)
    alive = [n for n in six if n is not victim]
    assert wait_for(lambda: "master" in nodes_view(replica)[myid(replica)][0], timeout=60)
    assert wait_for(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in alive), timeout=60)
    # A new client: Debian's redis-py 4.3.4 cannot refresh a RedisCluster's
    # slot map once a node it knows is dead ("cannot pickle
    # '_thread.lock' object" from its node re-initialisation, against
    # redis-server too). ioredis keeps one client through a failover:
    # tests/clients/cluster.test.js.
    rc2 = cluster_client(alive)
    for i in range(300):
        assert rc2.get("key:%d" % i) == str(i).encode()
    rc2.set("after", "failover")
    assert rc2.get("after") == b"failover"
    rc.close()
    rc2.close()


def test_cluster_failover_takeover(six):
    r = roles(six)
    replica = next(n for n in six if r[myid(n)] == "slave")
    assert replica.client.execute_command("CLUSTER", "FAILOVER", "TAKEOVER") == b"OK"
    assert "master" in nodes_view(replica)[myid(replica)][0]
    assert wait_for(lambda: all(roles(six)[myid(replica)] == "master" for _ in [0]), timeout=30)
    assert wait_agreed(six, timeout=60)
    assert sorted(roles(six).values()) == ["master"] * 3 + ["slave"] * 3


def test_replica_redirects_writes_and_serves_readonly_reads(six):
    r = roles(six)
    replica = next(n for n in six if r[myid(n)] == "slave")
    line = [l for l in replica.client.execute_command("CLUSTER", "NODES").decode().splitlines()
            if l.startswith(myid(replica))][0]
    master = next(n for n in six if myid(n) == line.split()[3])
    slot_range = nodes_view(master)[myid(master)][1][0]
    slot = int(slot_range.split("-")[0])
    key = next("k%d" % i for i in range(100000)
               if master.client.execute_command("CLUSTER", "KEYSLOT", "k%d" % i) == slot)
    master.client.set(key, "v")
    assert wait_for(lambda: replica.client.dbsize() == master.client.dbsize(), timeout=30)

    def owner_port_seen_by_replica():
        # After the previous tests' failovers the replica's view of the
        # slot's owner may still be converging: wait until it names master.
        for start, end, owner, *_ in replica.client.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return owner[1]
        return None
    assert wait_for(lambda: owner_port_seen_by_replica() == master.port, timeout=30)
    with pytest.raises(redis.ResponseError, match=r"^MOVED %d 127\.0\.0\.1:%d$" % (slot, master.port)):
        replica.client.set(key, "w")
    with pytest.raises(redis.ResponseError, match=r"^MOVED "):
        replica.client.get(key)
    c = redis.Redis(host=replica.host, port=replica.port)
    assert cmd(c, "READONLY") == b"OK"
    assert c.get(key) == b"v"
    with pytest.raises(redis.ResponseError, match=r"^MOVED "):
        c.set(key, "w")
    c.connection_pool.disconnect()


def test_reset_of_a_replica_stops_replication(six):
    r = roles(six)
    replica = next(n for n in six if r[myid(n)] == "slave")
    assert wait_for(lambda: replica.client.info("replication")["role"] == "slave")
    assert cmd(replica.client, "CLUSTER", "RESET", "HARD") == b"OK"
    assert replica.client.info("replication")["role"] == "master"
    assert "master" in nodes_view(replica)[myid(replica)][0]
    assert cluster_info(replica)["cluster_known_nodes"] == "1"


@pytest.mark.skipif(running_against_redis(), reason="the Keel side of a mixed cluster")
def test_keel_replica_of_a_redis_master_promoted(start_server):
    masters = [start_node(start_server, binary=REDIS_SERVER) for _ in range(3)]
    create_cluster(masters)
    keel = start_node(start_server)
    victim = masters[0]
    nodes = add_replica(keel, victim, masters)
    rc = cluster_client(masters)
    fill(rc, 200)
    rc.close()
    assert wait_for(lambda: keel.client.info("replication").get("master_link_status") == "up", timeout=30)
    assert wait_for(lambda: keel.client.dbsize() == victim.client.dbsize(), timeout=30)
    kill_node(victim)
    assert wait_for(lambda: "master" in nodes_view(keel)[myid(keel)][0], timeout=60)
    alive = masters[1:] + [keel]
    assert wait_for(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in alive), timeout=60)
    assert all("master" in nodes_view(n)[myid(keel)][0] for n in masters[1:])
    rc = cluster_client(alive)
    for i in range(200):
        assert rc.get("key:%d" % i) == str(i).encode()
    rc.set("after", "promotion")
    assert rc.get("after") == b"promotion"
    rc.close()


def test_redis_replica_of_a_keel_master_promoted(start_server):
    """Two Keel masters and a Redis master; a Redis replica of a Keel
    master takes over when that master dies, and the cluster (slots served
    by both kinds) passes redis-cli --cluster check."""
    masters = [start_node(start_server), start_node(start_server), start_node(start_server, binary=REDIS_SERVER)]
    create_cluster(masters)
    red = start_node(start_server, binary=REDIS_SERVER)
    victim = masters[0]
    nodes = add_replica(red, victim, masters)
    rc = cluster_client(masters)
    fill(rc, 300)
    rc.close()
    assert wait_for(lambda: red.client.info("replication").get("master_link_status") == "up", timeout=30)
    assert wait_for(lambda: red.client.dbsize() == victim.client.dbsize() > 0, timeout=30)
    vid = myid(victim)
    kill_node(victim)
    assert wait_for(lambda: "master" in nodes_view(red)[myid(red)][0], timeout=60)
    alive = masters[1:] + [red]
    assert wait_for(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in alive), timeout=60)
    assert all("master" in nodes_view(n)[myid(red)][0] for n in masters[1:])
    # The dead master is forgotten, so that check sees only live nodes.
    for n in alive:
        assert cmd(n.client, "CLUSTER", "FORGET", vid) == b"OK"
    assert wait_agreed(alive)
    status, out = cli("--cluster", "check", addr(masters[1]))
    assert status == 0 and "[OK] All 16384 slots covered." in out, out
    # Slots served by Keel and by Redis (the promoted replica and the
    # Redis master).
    view = nodes_view(masters[1])
    assert all(view[myid(n)][1] for n in alive), view
    rc = cluster_client(alive)
    for i in range(300):
        assert rc.get("key:%d" % i) == str(i).encode()
    rc.set("after", "promotion")
    assert rc.get("after") == b"promotion"
    rc.close()
