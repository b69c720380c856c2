#!/usr/bin/python3
"""Active defragmentation benchmark: Keel and Redis side by side.

Workload (the same for both servers, run one after the other):
  1. DEBUG POPULATE N key 64: N small strings (10M by default, about 1.2 GB
     of used_memory on Keel, 1.5 GB on Redis).
  2. Delete 80% of them at random (DEL with 1000 keys a command,
     pipelined): the survivors are scattered over slabs that are now
     about 80% empty, and the allocator cannot give those pages back.
  3. Write M new keys (1M by default) with 200-byte values, a different
     size class, so they cannot fill the holes: what is left is genuine
     fragmentation that only moving the survivors can cure.
  4. Baseline throughput: redis-benchmark GET on the new keys (hits),
     50 clients, for a few seconds, defrag still off.
  5. CONFIG SET activedefrag yes (thresholds: the defaults, or as given),
     then every second for up to --seconds: mem_fragmentation_ratio
     (RSS / used_memory), allocator_frag_ratio (allocator active /
     allocated), used_memory, RSS, active_defrag_running and
     active_defrag_hits. The same redis-benchmark GET runs again at the
     start of this phase, while the defragger works: its rate against the
     baseline is the cost of defragmentation to clients.
  6. The run stops early once the defragger has been idle for 5 samples.

mem_fragmentation_ratio falls only when the allocator returns pages to the
system (jemalloc's dirty page decay, or a purge); allocator_frag_ratio
falls as soon as blocks are moved out of sparse slabs.

Usage: bench/defrag/run.py [--keel PATH] [--redis PATH|''] [--keys N]
       [--new-keys M] [--seconds S] [--config NAME=VALUE ...]
About 2 minutes per server with the defaults. Prints the per-second
series and a Markdown summary.
"""

import argparse
import os
import random
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402


def delete_random(c, n, frac, seed=1):
    rng = random.Random(seed)
    victims = [i for i in range(n) if rng.random() < frac]
    p = c.pipeline(transaction=False)
    for start in range(0, len(victims), 1000):
        p.execute_command("DEL", *["key:%d" % i for i in victims[start:start + 1000]])
        if start % 200000 == 0:
            p.execute()
    p.execute()
    return len(victims)


def write_new(c, m, size):
    value = b"v" * size
    p = c.pipeline(transaction=False)
    for start in range(0, m, 1000):
        args = []
        for i in range(start, min(m, start + 1000)):
            args += ["key:%012d" % i, value]
        p.execute_command("MSET", *args)
        if start % 100000 == 0:
            p.execute()
    p.execute()


def bench_get(port, new_keys, requests):
    """redis-benchmark GET on existing keys; requests per second."""
    return kb.benchmark_rps(port, ["-n", str(requests), "-r", str(new_keys), "GET", "key:__rand_int__"])


def run_server(name, binary, args):
    with kb.Server(binary, ["--enable-debug-command", "yes"], name=name, socket_timeout=600) as srv:
        c = srv.client
        for kv in args.config:
            k, v = kv.split("=", 1)
            c.config_set(k, v)
        t = time.time()
        c.execute_command("DEBUG", "POPULATE", args.keys, "key", 64)
        full = kb.info(c, "memory", "stats")
        deleted = delete_random(c, args.keys, 0.8)
        write_new(c, args.new_keys, 200)
        print("%s: filled %.0f MB, deleted %d keys, wrote %d new, setup %.0f s" % (
            name, full["used_memory"] / 1e6, deleted, args.new_keys, time.time() - t), file=sys.stderr)
        time.sleep(2)
        before = kb.info(c, "memory", "stats")
        base_rps = bench_get(srv.port, args.new_keys, args.requests)

        try:
            c.config_set("activedefrag", "yes")
            supported = True
        except redis.ResponseError as e:
            # Debian's Redis links the system jemalloc, which lacks the
            # hint Redis's defragger needs: record the passive figures.
            print("%s: %s" % (name, e), file=sys.stderr)
            supported = False
        during = {}
        th = threading.Thread(target=lambda: during.update(
            rps=bench_get(srv.port, args.new_keys, args.requests), end=time.time()))
        t0 = time.time()
        th.start()
        series, idle = [], 0
        hits0 = before.get("active_defrag_hits", 0)
        while time.time() - t0 < args.seconds:
            time.sleep(1 - (time.time() - t0) % 1)
            m = kb.info(c, "memory", "stats")
            row = (time.time() - t0, m["mem_fragmentation_ratio"], m["allocator_frag_ratio"],
                   m["used_memory"], m["used_memory_rss"], m.get("active_defrag_running", 0),
                   m.get("active_defrag_hits", 0) - hits0)
            series.append(row)
            print("%s %5.1f s  mem_frag %.2f  alloc_frag %.2f  used %6.0f MB  rss %6.0f MB  running %s  hits %d"
                  % ((name,) + row[:3] + (row[3] / 1e6, row[4] / 1e6) + row[5:]), file=sys.stderr)
            idle = idle + 1 if not row[5] else 0
            if not supported:
                idle = 5 if time.time() - t0 >= 15 else 0
            if idle >= 5 and not th.is_alive():
                break
        th.join()
        log = open(srv.log_path).read().splitlines()
        passes = [l for l in log if "defrag" in l.lower()]
        if passes:
            print("\n".join(passes[-5:]), file=sys.stderr)
        return {"supported": supported, "before": before, "base_rps": base_rps, "during_rps": during.get("rps"),
                "bench_s": during.get("end", t0) - t0, "series": series, "full": full}


def first_below(series, limit):
    for row in series:
        if row[1] < limit:
            return "%.0f s" % row[0]
    return "not within %.0f s" % series[-1][0] if series else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--keys", type=int, default=10_000_000)
    ap.add_argument("--new-keys", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--requests", type=int, default=300000, help="per redis-benchmark run")
    ap.add_argument("--config", action="append", default=[], help="NAME=VALUE set before the fill")
    args = ap.parse_args()

    servers = [("keel", args.keel)] + ([("redis", args.redis)] if args.redis else [])
    results = [(name, run_server(name, binary, args)) for name, binary in servers]

    print("\n%d keys of 64 B, 80%% deleted, %d keys of 200 B written; activedefrag yes%s\n" % (
        args.keys, args.new_keys, (", " + ", ".join(args.config)) if args.config else " (default thresholds)"))
    print(kb.md_head(["server", "used before", "RSS before", "mem_frag before", "alloc_frag before",
                      "mem_frag < 1.2 after", "final mem_frag", "final alloc_frag", "final RSS", "defrag hits",
                      "GET rps before", "GET rps during", "during / before"], "l" + "r" * 12))
    for name, r in results:
        b, last = r["before"], r["series"][-1]
        if not r["supported"]:
            name += " (activedefrag unsupported)"
        print("| %s | %.0f MB | %.0f MB | %.2f | %.2f | %s | %.2f | %.2f | %.0f MB | %d | %.0f | %.0f | %.2f |" % (
            name, b["used_memory"] / 1e6, b["used_memory_rss"] / 1e6, b["mem_fragmentation_ratio"],
            b["allocator_frag_ratio"], first_below(r["series"], 1.2), last[1], last[2], last[4] / 1e6,
            last[6], r["base_rps"], r["during_rps"], r["during_rps"] / r["base_rps"]))
    print("\nmem_fragmentation_ratio / allocator_frag_ratio by second:\n")
    names = [n for n, _ in results]
    print(kb.md_head(["s"] + ["%s mem / alloc" % n for n in names], "r" * (len(names) + 1)))
    longest = max(len(r["series"]) for _, r in results)
    for i in range(longest):
        cells = []
        for _, r in results:
            s = r["series"]
            cells.append("%.2f / %.2f" % (s[i][1], s[i][2]) if i < len(s) else "")
        print(kb.md_row(["%d" % (i + 1)] + cells))
    for name, r in results:
        print("\n%s: the during-defrag GET run lasted %.1f s" % (name, r["bench_s"]))


if __name__ == "__main__":
    main()
