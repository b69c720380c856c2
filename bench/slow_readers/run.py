#!/usr/bin/python3
"""Slow readers: do transient reply buffers cost the dataset or the clients?

Scenario (Keel issue 5): 100,000 keys of 1 KB; maxmemory set so that they
fill about 90% of it (calibrated per server from its own used_memory after
loading); maxmemory-policy allkeys-lru. Then 40 clients each pipeline 100
MGETs of 200 random keys (about 200 KB per reply, 20 MB per client, 800 MB
in all) and do not read anything for 5 seconds. Afterwards every client
reads all its replies, which are checked in order.

Reported per server/configuration: keys lost (evicted), clients dropped
(connection closed before all 100 replies arrived), peak used_memory and
peak RSS (sampled every 50 ms from INFO and /proc), each also as a
percentage of maxmemory.

Configurations: Keel with its defaults; redis-server with its defaults;
redis-server with maxmemory-clients 5%.

Usage: bench/slow_readers/run.py [--keel PATH|''] [--redis PATH|'']
       [--keys N] [--clients C] [--pipeline P] [--mget M] [--wait S]
       [--keel-option NAME=VALUE ...]
Takes about a minute. The table is printed in Markdown.
"""

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
VALUE_SIZE = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, extra):
    port = free_port()
    d = tempfile.mkdtemp(prefix="slowreaders-")
    log = open(os.path.join(d, "server.log"), "wb")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"] + extra, cwd=d, stdout=log, stderr=subprocess.STDOUT)
    r = redis.Redis(port=port, socket_timeout=30)
    for _ in range(200):
        try:
            if r.ping():
                return proc, port, r, d
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("server %s did not start" % binary)


def stop(proc, d):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(d, ignore_errors=True)


def value(i):
    unit = b"%d:" % i
    return (unit * (VALUE_SIZE // len(unit) + 1))[:VALUE_SIZE]


def load(r, n):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set("key:%d" % i, value(i))
        if i % 1000 == 999:
            p.execute()
    p.execute()


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Reader:
    """One pipelining client: sends everything at once (from a thread, so a
    server that stops reading cannot stall the harness), reads nothing
    until told to, then reads and checks every reply."""

    def __init__(self, port, batches):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.batches = batches
        self.payload = b"".join(encode("MGET", *["key:%d" % k for k in b]) for b in batches)
        self.sent = threading.Thread(target=self._send, daemon=True)
        self.replies = 0
        self.dropped = False
        self.wrong = 0

    def _send(self):
        try:
            self.sock.sendall(self.payload)
        except OSError:
            self.dropped = True

    def read_all(self):
        f = self.sock.makefile("rb")
        try:
            for b in self.batches:
                head = f.readline()
                if not head.startswith(b"*"):
                    self.dropped = True
                    return
                for k in b:
                    line = f.readline()
                    if not line:
                        self.dropped = True
                        return
                    n = int(line[1:])
                    if n < 0:
                        continue            # evicted key: a null
                    data = f.read(n + 2)[:-2]
                    if data != value(k):
                        self.wrong += 1
                self.replies += 1
        except (OSError, ValueError):
            self.dropped = True
        finally:
            f.close()
            self.sock.close()


def run(label, binary, extra, args):
    proc, port, r, d = start(binary, extra)
    try:
        load(r, args.keys)
        used = int(r.info("memory")["used_memory"])
        maxmemory = int(used / 0.90)
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.config_set("maxmemory", str(maxmemory))
        rng = random.Random(7)
        readers = []
        for _ in range(args.clients):
            batches = [[rng.randrange(args.keys) for _ in range(args.mget)] for _ in range(args.pipeline)]
            readers.append(Reader(port, batches))
        peak_used = peak_rss = 0
        for rd in readers:
            rd.sent.start()
        deadline = time.time() + args.wait
        while time.time() < deadline:
            peak_used = max(peak_used, int(r.info("memory")["used_memory"]))
            peak_rss = max(peak_rss, rss_bytes(proc.pid))
            time.sleep(0.05)
        threads = [threading.Thread(target=rd.read_all) for rd in readers]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak_used = max(peak_used, int(r.info("memory")["used_memory"]))
            peak_rss = max(peak_rss, rss_bytes(proc.pid))
            time.sleep(0.05)
        stats = r.info("stats")
        return {
            "label": label,
            "maxmemory": maxmemory,
            "keys_lost": args.keys - r.dbsize(),
            "evicted_keys": int(stats.get("evicted_keys", 0)),
            "dropped": sum(1 for rd in readers if rd.dropped),
            "evicted_clients": int(stats.get("evicted_clients", 0)),
            "wrong": sum(rd.wrong for rd in readers),
            "peak_used": peak_used,
            "peak_rss": peak_rss,
        }
    finally:
        stop(proc, d)


def mb(n):
    return "%.1f MB" % (n / 1048576.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keel", default=os.path.join(REPO, "bin", "keel-server"))
    ap.add_argument("--redis", default=shutil.which("redis-server") or "")
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=40)
    ap.add_argument("--pipeline", type=int, default=100)
    ap.add_argument("--mget", type=int, default=200)
    ap.add_argument("--wait", type=float, default=5.0)
    ap.add_argument("--keel-option", action="append", default=[], metavar="NAME=VALUE",
                    help="extra Keel setting, e.g. client-output-backpressure-total=2%% (repeatable)")
    args = ap.parse_args()
    configs = []
    if args.keel:
        extra = []
        for opt in args.keel_option:
            name, _, val = opt.partition("=")
            extra += ["--" + name, val]
        label = "Keel (%s)" % (", ".join(args.keel_option) if args.keel_option else "defaults")
        configs.append((label, args.keel, extra))
    if args.redis:
        configs.append(("Redis 7.0 (defaults)", args.redis, []))
        configs.append(("Redis 7.0, maxmemory-clients 5%", args.redis, ["--maxmemory-clients", "5%"]))
    results = []
    for label, binary, extra in configs:
        print("running %s ..." % label, file=sys.stderr)
        results.append(run(label, binary, extra, args))
    print("%d keys of %d B at ~90%% of maxmemory, allkeys-lru; %d clients x %d pipelined MGET of %d keys, "
          "not reading for %.0f s\n" % (args.keys, VALUE_SIZE, args.clients, args.pipeline, args.mget, args.wait))
    print("| server | maxmemory | keys lost | clients dropped | wrong values | peak used_memory | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for x in results:
        mm = x["maxmemory"]
        print("| %s | %s | %d (%.1f%%) | %d of %d | %d | %s (%.0f%%) | %s (%.0f%%) |" % (
            x["label"], mb(mm), x["keys_lost"], 100.0 * x["keys_lost"] / args.keys, x["dropped"], args.clients,
            x["wrong"], mb(x["peak_used"]), 100.0 * x["peak_used"] / mm, mb(x["peak_rss"]),
            100.0 * x["peak_rss"] / mm))


if __name__ == "__main__":
    main()
