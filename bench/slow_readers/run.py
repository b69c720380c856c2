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
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

VALUE_SIZE = 1000


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


class Reader:
    """One pipelining client: sends everything at once (from a thread, so a
    server that stops reading cannot stall the harness), reads nothing
    until told to, then reads and checks every reply."""

    def __init__(self, port, batches):
        self.conn = kb.Conn(port)
        self.batches = batches
        self.payload = b"".join(kb.resp("MGET", *["key:%d" % k for k in b]) for b in batches)
        self.sent = threading.Thread(target=self._send, daemon=True)
        self.replies = 0
        self.dropped = False
        self.wrong = 0

    def _send(self):
        try:
            self.conn.s.sendall(self.payload)
        except OSError:
            self.dropped = True

    def read_all(self):
        try:
            for b in self.batches:
                values = self.conn.reply()
                if not isinstance(values, list):
                    self.dropped = True
                    return
                # None is an evicted key
                self.wrong += sum(1 for k, v in zip(b, values) if v is not None and v != value(k))
                self.replies += 1
        except (OSError, ValueError):
            self.dropped = True
        finally:
            self.conn.close()


def run(label, binary, extra, args):
    with kb.Server(binary, extra, socket_timeout=30) as srv:
        r = srv.client
        load(r, args.keys)
        maxmemory = int(kb.used_memory(r) / 0.90)
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.config_set("maxmemory", str(maxmemory))
        rng = random.Random(7)
        readers = []
        for _ in range(args.clients):
            batches = [[rng.randrange(args.keys) for _ in range(args.mget)] for _ in range(args.pipeline)]
            readers.append(Reader(srv.port, batches))
        peak_used = peak_rss = 0
        for rd in readers:
            rd.sent.start()
        deadline = time.time() + args.wait
        while time.time() < deadline:
            peak_used = max(peak_used, kb.used_memory(r))
            peak_rss = max(peak_rss, srv.rss())
            time.sleep(0.05)
        threads = [threading.Thread(target=rd.read_all) for rd in readers]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak_used = max(peak_used, kb.used_memory(r))
            peak_rss = max(peak_rss, srv.rss())
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


def mb(n):
    return "%.1f MB" % (n / 1048576.0)


def main():
    ap = argparse.ArgumentParser()
    kb.add_server_args(ap, redis_default=shutil.which("redis-server") or "")
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
    print(kb.md_head(["server", "maxmemory", "keys lost", "clients dropped", "wrong values", "peak used_memory",
                      "peak RSS"]))
    for x in results:
        mm = x["maxmemory"]
        print("| %s | %s | %d (%.1f%%) | %d of %d | %d | %s (%.0f%%) | %s (%.0f%%) |" % (
            x["label"], mb(mm), x["keys_lost"], 100.0 * x["keys_lost"] / args.keys, x["dropped"], args.clients,
            x["wrong"], mb(x["peak_used"]), 100.0 * x["peak_used"] / mm, mb(x["peak_rss"]),
            100.0 * x["peak_rss"] / mm))


if __name__ == "__main__":
    main()
