#!/usr/bin/python3
"""AOF benchmarks, Keel beside redis-server in one run (issue 10):

1. SET throughput with appendonly yes (appendfsync everysec, and always),
   redis-benchmark -c 50, random keys, plain and pipelined (-P 16); each
   row is the best of --reps runs per server, Keel and Redis interleaved.
2. BGREWRITEAOF peak memory: --keys keys of --value-size bytes (written
   by redis-benchmark itself, so that the load below writes the same keys
   and does not grow the dataset), a SET load over them from 20 clients
   (redis-benchmark -P 8), then BGREWRITEAOF; the peak PSS of the server
   plus its children (Redis forks) while the rewrite runs, divided by the
   PSS just before it. Also the rewrite's duration and the load's
   throughput during it against before.

    /usr/bin/python3 bench/aof/run.py [--only throughput|rewrite] [--keys N] [--reps N] [-n N]
"""

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402


def pss(pid):
    """PSS in bytes of pid and all its descendants (a forked child's pages
    shared with the parent are split between them, so the sum is what the
    machine really holds)."""
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            for child in f.read().split():
                total += pss(int(child))
    except OSError:
        pass
    return total


def set_throughput(srv, pipeline, n):
    args = ["-n", str(n), "-r", "100000", "-d", "64", "-t", "set"]
    if pipeline > 1:
        args += ["-P", str(pipeline)]
    return kb.benchmark_rps(srv.port, args, clients=50)


def throughput_rows(keel_bin, redis_bin, reps, n):
    rows = []
    for fsync in ("everysec", "always"):
        for pipeline in (1, 16):
            best = {"keel": 0.0, "redis": 0.0}
            for rep in range(reps):
                order = [("keel", keel_bin), ("redis", redis_bin)]
                if rep % 2:
                    order.reverse()
                for name, binary in order:
                    with kb.Server(binary, ["--appendonly", "yes", "--appendfsync", fsync]) as srv:
                        # always: one fsync per event-loop turn, far slower:
                        # a tenth of the requests.
                        count = n if fsync == "everysec" else max(n // 10, 1000)
                        best[name] = max(best[name], set_throughput(srv, pipeline, count))
            rows.append(("SET, appendfsync %s%s" % (fsync, ", -P 16" if pipeline > 1 else ""),
                         best["keel"], best["redis"]))
    return rows


class Load(threading.Thread):
    """A SET load over the populated keys until stopped; counts requests
    per interval through redis-benchmark's -l (loop) runs of fixed size."""

    def __init__(self, port, keys, value_size):
        super().__init__(daemon=True)
        self.port, self.keys, self.value_size = port, keys, value_size
        self.stop_flag = threading.Event()
        self.samples = []  # (time, requests/s) per finished batch

    def run(self):
        while not self.stop_flag.is_set():
            t0 = time.time()
            rps = kb.benchmark_rps(self.port, ["-n", "100000", "-r", str(self.keys), "-d", str(self.value_size),
                                               "-P", "8", "-t", "set"], clients=20)
            self.samples.append((t0, time.time(), rps))

    def stop(self):
        self.stop_flag.set()
        self.join(300)


def rewrite_memory(binary, keys, value_size):
    with kb.Server(binary, ["--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-percentage", "0",
                            "--enable-debug-command", "yes"],
                   socket_timeout=600) as srv:
        c = srv.client
        # The keys the load will write (redis-benchmark's key:<12 digits>,
        # not DEBUG POPULATE's key:<n>, which would make the load grow the
        # dataset during the measurement): 5x the key space covers 99%.
        kb.benchmark_rps(srv.port, ["-n", str(keys * 5), "-r", str(keys), "-d", str(value_size), "-P", "16",
                                    "-t", "set"], clients=20, timeout=900)
        c.bgrewriteaof()       # a first rewrite puts the populated keys in the base
        while c.info("persistence")["aof_rewrite_in_progress"]:
            time.sleep(0.05)
        load = Load(srv.port, keys, value_size)
        load.start()
        time.sleep(3)
        before = pss(srv.pid)
        peak = before
        t0 = time.time()
        c.bgrewriteaof()
        while True:
            peak = max(peak, pss(srv.pid))
            if not c.info("persistence")["aof_rewrite_in_progress"]:
                break
            time.sleep(0.02)
        duration = time.time() - t0
        t1 = time.time()
        time.sleep(1)
        load.stop()
        before_rps = [r for s, e, r in load.samples if e < t0]
        during_rps = [r for s, e, r in load.samples if s < t1 and e > t0]
        return {
            "ratio": peak / before if before else float("nan"),
            "before": before, "peak": peak, "duration": duration,
            "rps_before": max(before_rps) if before_rps else float("nan"),
            "rps_during": min(during_rps) if during_rps else float("nan"),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kb.add_server_args(ap)
    ap.add_argument("--keys", type=int, default=500000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--only", choices=["throughput", "rewrite"])
    a = ap.parse_args()

    if a.only != "rewrite":
        rows = throughput_rows(a.keel, a.redis, a.reps, a.n)
        print(kb.md_head(["test", "Keel req/s", "Redis req/s", "Keel/Redis"], "lrrr"))
        for name, k, r in rows:
            print(kb.md_row([name, "%.0f" % k, "%.0f" % r, "%.2fx" % (k / r)]), flush=True)
        print()
    if a.only == "throughput":
        return
    res = {name: rewrite_memory(b, a.keys, a.value_size) for name, b in (("keel", a.keel), ("redis", a.redis))}
    print(kb.md_head(["BGREWRITEAOF under a SET load (%d keys x %d B)" % (a.keys, a.value_size), "Keel", "Redis"],
                     "lrr"))
    k, r = res["keel"], res["redis"]
    print(kb.md_row(["PSS before (server + children)", "%.1f MB" % (k["before"] / 1e6), "%.1f MB" % (r["before"] / 1e6)]))
    print(kb.md_row(["peak PSS during the rewrite", "%.1f MB" % (k["peak"] / 1e6), "%.1f MB" % (r["peak"] / 1e6)]))
    print(kb.md_row(["peak / before", "%.2fx" % k["ratio"], "%.2fx" % r["ratio"]]))
    print(kb.md_row(["rewrite duration", "%.2f s" % k["duration"], "%.2f s" % r["duration"]]))
    print(kb.md_row(["load req/s before (best batch)", "%.0f" % k["rps_before"], "%.0f" % r["rps_before"]]))
    print(kb.md_row(["load req/s during (worst batch)", "%.0f" % k["rps_during"], "%.0f" % r["rps_during"]]))


if __name__ == "__main__":
    main()
