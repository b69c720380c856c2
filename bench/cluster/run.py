#!/usr/bin/python3
"""bench/cluster/run.py - Keel beside Debian's redis-server, cluster mode.

  bench/cluster/run.py [memory] [reshard] [failover] [manual]   (default: all)

memory:  used_memory per key of 1M small strings (DEBUG POPULATE 1000000
         key 10, values of 10 bytes), standalone and cluster mode (one
         node serving all 16384 slots), Keel and Redis, one server at a
         time. Target (issue 15): Keel's cluster mode at most 1 byte per key
         above its standalone mode.
failover: 3 masters + 3 replicas, cluster-node-timeout 5000; seconds from
         kill -9 of a master to a write on one of its slots succeeding.
manual:  the same cluster; milliseconds from a coordinated CLUSTER FAILOVER
         (no option: MFSTART, the master's pause, the replica catching up)
         sent to a synced replica to that replica answering ROLE master,
         5 handovers (11 s apart: masters vote for one shard's replicas
         once per two node timeouts), median.
reshard: three masters (redis-cli --cluster create), 1M keys, then
         redis-cli --cluster reshard moves 1000 slots (about 61,000 keys)
         from the first to the second while a redis-py RedisCluster client writes and
         reads in a loop; prints the duration and the errors the client saw.

Env: KEEL_SERVER (default <repo>/bin/keel-server), REDIS_SERVER
(/usr/bin/redis-server), BENCH_KEYS (1000000), BENCH_SLOTS (1000).
Only talks to 127.0.0.1.
"""
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.cluster import ClusterNode, RedisCluster

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEEL = os.environ.get("KEEL_SERVER", os.path.join(ROOT, "bin", "keel-server"))
REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
NKEYS = int(os.environ.get("BENCH_KEYS", "1000000"))
NSLOTS = int(os.environ.get("BENCH_SLOTS", "1000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, binary, cluster):
        self.dir = tempfile.mkdtemp(prefix="keel-bench-cluster-")
        self.port = free_port()
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--enable-debug-command", "yes"]
        if cluster:
            args += ["--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                     "--cluster-node-timeout", "5000"]
        self.proc = subprocess.Popen(args, cwd=self.dir, stdout=open(os.path.join(self.dir, "log"), "w"),
                                     stderr=subprocess.STDOUT)
        self.c = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if self.c.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.1)

    def stop(self):
        self.c.connection_pool.disconnect()
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def per_key_bytes(binary, cluster):
    n = Node(binary, cluster)
    try:
        if cluster:
            n.c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        before = n.c.info("memory")["used_memory"]
        n.c.execute_command("DEBUG", "POPULATE", NKEYS, "key", 10)
        after = n.c.info("memory")["used_memory"]
        return (after - before) / NKEYS
    finally:
        n.stop()


def memory():
    rows = {}
    for name, binary in (("Keel", KEEL), ("Redis", REDIS)):
        rows[name] = (per_key_bytes(binary, False), per_key_bytes(binary, True))
    print("memory per key, %d keys (DEBUG POPULATE, 10-byte values)" % NKEYS)
    print("%-6s %12s %12s %10s" % ("", "standalone", "cluster", "cluster-sa"))
    for name, (sa, cl) in rows.items():
        print("%-6s %12.1f %12.1f %+10.1f" % (name, sa, cl, cl - sa))
    print("Keel/Redis: standalone %.2f, cluster %.2f" % (rows["Keel"][0] / rows["Redis"][0],
                                                         rows["Keel"][1] / rows["Redis"][1]))
    return rows


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot_of(key):
    return crc16(key) % 16384  # the bench's keys have no hash tags


def slots_of(node):
    me = node.c.execute_command("CLUSTER", "MYID").decode()
    line = [l for l in node.c.execute_command("CLUSTER", "NODES").decode().splitlines() if l.startswith(me)][0]
    mine = set()
    for r in line.split()[8:]:
        lo, _, hi = r.partition("-")
        mine.update(range(int(lo), int(hi or lo) + 1))
    return mine


def load_by_slot(nodes):
    """key:0 .. key:N-1 (10-byte values), each SET sent to the node that
    serves its slot, through redis-cli --pipe."""
    owners = [slots_of(n) for n in nodes]
    bufs = [[] for _ in nodes]
    for i in range(NKEYS):
        k = b"key:%d" % i
        s = slot_of(k)
        j = next(x for x, o in enumerate(owners) if s in o)
        bufs[j].append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n%010d\r\n" % (len(k), k, i))
    for n, buf in zip(nodes, bufs):
        p = subprocess.run(["redis-cli", "-p", str(n.port), "--pipe"], input=b"".join(buf), capture_output=True)
        assert b"errors: 0" in p.stdout, p.stdout
    return sum(n.c.dbsize() for n in nodes)


def reshard(binary):
    a, b, c = Node(binary, True), Node(binary, True), Node(binary, True)
    try:
        out = subprocess.run(["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % n.port for n in (a, b, c)] +
                             ["--cluster-yes"], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        for _ in range(300):
            if all(n.c.execute_command("CLUSTER", "INFO").decode().startswith("cluster_state:ok")
                   for n in (a, b, c)):
                break
            time.sleep(0.1)
        own = load_by_slot([a, b, c])
        ida = a.c.execute_command("CLUSTER", "MYID").decode()
        idb = b.c.execute_command("CLUSTER", "MYID").decode()
        moved_keys = sum(a.c.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) for s in range(NSLOTS))
        errors, ops = [], [0]
        stop = threading.Event()

        def client():
            rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", a.port)])
            i = 0
            while not stop.is_set():
                k = "key:%d" % (i * 7919 % NKEYS)
                try:
                    rc.set(k, i)
                    if int(rc.get(k)) != i:
                        errors.append("wrong value for " + k)
                    ops[0] += 2
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                i += 1
            rc.close()

        t = threading.Thread(target=client)
        t.start()
        start = time.time()
        out = subprocess.run(["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % a.port, "--cluster-from", ida,
                              "--cluster-to", idb, "--cluster-slots", str(NSLOTS), "--cluster-yes"],
                             capture_output=True, text=True)
        took = time.time() - start
        stop.set()
        t.join()
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr
        return took, own, moved_keys, ops[0], errors
    finally:
        for n in (a, b, c):
            n.stop()


def failover(binary, node_timeout=5000):
    """Seconds from kill -9 of a master to a write on one of its slots
    succeeding (its replica promoted), 3 masters + 3 replicas."""
    nodes = [Node(binary, True) for _ in range(6)]
    try:
        for n in nodes:
            n.c.config_set("cluster-node-timeout", node_timeout)
        out = subprocess.run(["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % n.port for n in nodes] +
                             ["--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        for _ in range(600):
            if all(n.c.execute_command("CLUSTER", "INFO").decode().startswith("cluster_state:ok") for n in nodes):
                break
            time.sleep(0.1)
        victim = next(n for n in nodes if "myself,master" in n.c.execute_command("CLUSTER", "NODES").decode())
        slot = int([l for l in victim.c.execute_command("CLUSTER", "NODES").decode().splitlines()
                    if "myself" in l][0].split()[8].split("-")[0])
        key = next("k%d" % i for i in range(100000) if slot_of(b"k%d" % i) == slot)
        others = [n for n in nodes if n is not victim]
        # Every replica synced with its master (Redis waits
        # repl-diskless-sync-delay, 5 s, before its first full sync).
        for _ in range(600):
            if all(n.c.info("replication").get("master_link_status", "up") == "up" for n in nodes):
                break
            time.sleep(0.1)
        time.sleep(1)
        victim.proc.kill()
        victim.proc.wait()
        start = time.time()
        last = None
        while time.time() - start < 120:
            try:
                rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", others[0].port)])
                rc.set(key, "v")
                rc.close()
                return time.time() - start
            except Exception as e:  # noqa: BLE001 - not yet
                last = e
                time.sleep(0.05)
        print("no write served within 120 s; last error: %r" % last)
        return float("nan")
    finally:
        for n in nodes:
            if n.proc.poll() is None:
                n.stop()
            else:
                shutil.rmtree(n.dir, ignore_errors=True)


def manual_failover(binary, runs=5):
    """Milliseconds of a coordinated CLUSTER FAILOVER, median of runs."""
    nodes = [Node(binary, True) for _ in range(6)]
    try:
        out = subprocess.run(["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % n.port for n in nodes] +
                             ["--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        times = []
        for _ in range(runs):
            replica = None
            while replica is None:
                time.sleep(0.5)
                replica = next((n for n in nodes if n.c.info("replication")["role"] == "slave" and
                                n.c.info("replication").get("master_link_status") == "up"), None)
            time.sleep(11)
            start = time.time()
            replica.c.execute_command("CLUSTER", "FAILOVER")
            while replica.c.info("replication")["role"] != "master" and time.time() - start < 30:
                time.sleep(0.002)
            times.append((time.time() - start) * 1000)
        times.sort()
        return times[len(times) // 2], times
    finally:
        for n in nodes:
            n.stop()


def main():
    logging.disable(logging.CRITICAL)  # redis-py logs each MOVED it follows
    what = sys.argv[1:] or ["memory", "reshard", "failover", "manual"]
    if "memory" in what:
        memory()
    if "reshard" in what:
        res = {}
        for name, binary in (("Keel", KEEL), ("Redis", REDIS)):
            res[name] = reshard(binary)
        print("reshard: %d slots holding the keys below, 3 masters, %d keys in all" % (NSLOTS, NKEYS))
        print("%-6s %10s %12s %14s %8s" % ("", "seconds", "keys moved", "client ops", "errors"))
        for name, (took, own, moved, ops, errors) in res.items():
            print("%-6s %10.1f %12d %14d %8d" % (name, took, moved, ops, len(errors)))
            for e in errors[:5]:
                print("    ", e)
        print("Keel/Redis duration: %.2f" % (res["Keel"][0] / res["Redis"][0]))
    if "failover" in what:
        k, r = failover(KEEL), failover(REDIS)
        print("failover (cluster-node-timeout 5000): kill -9 of a master to a write served by its replica")
        print("Keel %.1f s, Redis %.1f s, Keel/Redis %.2f" % (k, r, k / r))
    if "manual" in what:
        (k, kall), (r, rall) = manual_failover(KEEL), manual_failover(REDIS)
        print("manual failover (CLUSTER FAILOVER, coordinated): command to ROLE master, median of 5")
        print("Keel %.0f ms %s, Redis %.0f ms %s, Keel/Redis %.2f" % (k, [round(t) for t in kall], r,
                                                                       [round(t) for t in rall], k / r))


if __name__ == "__main__":
    main()
