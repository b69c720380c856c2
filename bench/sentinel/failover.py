#!/usr/bin/python3
"""bench/sentinel/failover.py: time from killing a master to the first write
accepted on the new master, side by side in one run (issue 14), for four
deployments: three keel sentinels or three redis-sentinels, over Debian's
redis-server 7.0 or over keel-server (Keel's replication).

    bench/sentinel/failover.py [--reps N]

Each deployment is a master and two replicas, sentinels with quorum 2,
down-after-milliseconds 1000, failover-timeout 10000. A client does what an application's Sentinel
client does: it asks a sentinel for the master's address, writes there,
and on any error asks again; the clock starts when the master gets SIGKILL
and stops at the first successful SET on a server other than the old
master. Each repetition runs the four deployments, in an order rotated
from one repetition to the next; the median of each is reported.

Env: KEEL_SENTINEL (default <repo>/bin/keel-sentinel), KEEL_SERVER
     (<repo>/bin/keel-server), REDIS_SENTINEL (/usr/bin/redis-sentinel),
     REDIS_SERVER (/usr/bin/redis-server)
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEEL_SENTINEL = os.environ.get("KEEL_SENTINEL", os.path.join(ROOT, "bin", "keel-sentinel"))
REDIS_SENTINEL = os.environ.get("REDIS_SENTINEL", "/usr/bin/redis-sentinel")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
KEEL_SERVER = os.environ.get("KEEL_SERVER", os.path.join(ROOT, "bin", "keel-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, timeout=30, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


class Deployment:
    def __init__(self, sentinel_binary, server_binary):
        self.dir = tempfile.mkdtemp(prefix="bench-sentinel-")
        self.procs = []
        self.server_binary = server_binary
        self.master_port = free_port()
        self.master = self.server(self.master_port)
        self.replicas = [self.server(free_port(), "--replicaof", "127.0.0.1", str(self.master_port)) for _ in range(2)]
        self.sentinel_ports = []
        for i in range(3):
            port = free_port()
            conf = os.path.join(self.dir, "sentinel-%d.conf" % i)
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\n" % port)
                f.write("sentinel monitor m 127.0.0.1 %d 2\n" % self.master_port)
                f.write("sentinel down-after-milliseconds m 1000\nsentinel failover-timeout m 10000\n")
            self.spawn([sentinel_binary, conf], "sentinel-%d.log" % i)
            self.sentinel_ports.append(port)
        for p in self.sentinel_ports:
            s = redis.Redis(port=p, decode_responses=True)
            wait(lambda: int(s.sentinel_master("m")["num-other-sentinels"]) == 2
                 and int(s.sentinel_master("m")["num-slaves"]) == 2, 60, "sentinel discovery")

    def spawn(self, argv, log):
        with open(os.path.join(self.dir, log), "ab") as out:
            p = subprocess.Popen(argv, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def server(self, port, *extra):
        p = self.spawn([self.server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                        "--repl-diskless-sync-delay", "0"] + list(extra), "redis-%d.log" % port)
        c = redis.Redis(port=port)
        wait(lambda: c.ping(), 20, "server start")
        if extra:
            wait(lambda: c.info("replication")["master_link_status"] == "up", 30, "replica link")
        return p

    def failover_seconds(self):
        s = redis.Redis(port=self.sentinel_ports[0], decode_responses=True, socket_timeout=1)
        old = ("127.0.0.1", self.master_port)
        self.master.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        if os.environ.get("BENCH_KEEP"):
            print("killed at", time.strftime("%H:%M:%S"), "%.3f" % (time.time() % 1))
        while time.monotonic() - t0 < 120:
            try:
                addr = tuple(s.sentinel_get_master_addr_by_name("m"))
                if addr[1] != old[1]:
                    c = redis.Redis(host=addr[0], port=addr[1], socket_timeout=1)
                    if c.set("k", "v"):
                        return time.monotonic() - t0
            except (redis.RedisError, OSError, TypeError):
                pass
            time.sleep(0.01)
        raise RuntimeError("no failover within 120 s")

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if os.environ.get("BENCH_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def one_run(sentinel_binary, server_binary):
    d = Deployment(sentinel_binary, server_binary)
    try:
        return d.failover_seconds()
    finally:
        d.close()


DEPLOYMENTS = [  # name, sentinel, server
    ("3 keel-sentinel, redis-server", KEEL_SENTINEL, REDIS_SERVER),
    ("3 redis-sentinel, redis-server", REDIS_SENTINEL, REDIS_SERVER),
    ("3 redis-sentinel, keel-server", REDIS_SENTINEL, KEEL_SERVER),
    ("3 keel-sentinel, keel-server", KEEL_SENTINEL, KEEL_SERVER),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    times = {name: [] for name, _, _ in DEPLOYMENTS}
    for i in range(args.reps):
        order = DEPLOYMENTS[i % len(DEPLOYMENTS):] + DEPLOYMENTS[:i % len(DEPLOYMENTS)]
        for name, sentinel, server in order:
            t = one_run(sentinel, server)
            times[name].append(t)
            print("run %d %-32s %.2f s" % (i + 1, name, t), flush=True)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print("| sentinels, servers | median s (runs) |")
    print("|---|---|")
    for name, _, _ in DEPLOYMENTS:
        print("| %s | %.2f (%s) |" % (name, med[name], ", ".join("%.2f" % t for t in times[name])))
    base = med["3 redis-sentinel, redis-server"]
    print("keel-sentinel/redis-sentinel over redis-server: %.2f" % (med["3 keel-sentinel, redis-server"] / base))
    print("keel-server/redis-server under redis-sentinel: %.2f" % (med["3 redis-sentinel, keel-server"] / base))
    print("all Keel / all Redis: %.2f" % (med["3 keel-sentinel, keel-server"] / base))


if __name__ == "__main__":
    main()
