#!/usr/bin/python3
"""Snapshot benchmark: what does BGSAVE cost while clients write?

For each server (Keel, then Debian's redis-server, one after the other on
this two-core machine):

  1. N keys of 1 KB (1M by default) under the names redis-benchmark
     writes (key:000000000000 to key:N-1, zero-padded): the issue's
     recipe says DEBUG POPULATE, but its keys are named key:N and the
     load would then add a second million keys, growing the dataset
     during the save whatever the server does; filled this way the load
     overwrites existing keys only, as intended;
  2. a continuous SET load over the same keys from redis-benchmark
     (-c 20 -P 8 -d 1024 -r N -t set), left to settle for --warmup s;
  3. "before": the load's throughput over --window s (commands per second
     from INFO total_commands_processed) and the PSS of the server; the
     throughput is measured again over --window s after the save, and
     "during / outside" divides the throughput during the save by the
     mean of the two (the machine is shared: a single "before" window
     drifts with the other processes' load);
  4. BGSAVE; until rdb_bgsave_in_progress is back at 0, every 50 ms: the
     PSS of the server plus any child it has (the fork, for Redis), summed
     from /proc/PID/smaps_rollup. Reported: peak PSS / PSS before, the
     load's throughput during the save / before, and the save's wall time
     (BGSAVE to the INFO poll that saw it finished).

The last column divides Keel's save time by Redis's. Targets (issue 10):
peak/before <= 1.05, throughput during/before >= 0.8, save time <= 1.5x
Redis's.

Usage: bench/snapshot/run.py [--keel PATH] [--redis PATH|''] [--keys N]
       [--warmup S] [--window S]
Prints a Markdown table. About 2-3 minutes with the defaults.
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def total_pss_kb(pid):
    return pss_kb(pid) + sum(pss_kb(c) for c in children(pid))


def commands(c):
    return int(kb.info(c, "stats")["total_commands_processed"])


def rate(c, seconds):
    """Commands per second over the next `seconds`."""
    n0, t0 = commands(c), time.monotonic()
    time.sleep(seconds)
    return (commands(c) - n0) / (time.monotonic() - t0)


def fill(port, keys):
    """SET key:%012d for every key, pipelined 5000 at a time."""
    value = b"x" * 1024
    c = kb.Conn(port)
    batch = 5000
    for start in range(0, keys, batch):
        n = min(batch, keys - start)
        c.s.sendall(b"".join(
            b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$1024\r\n%s\r\n" % (i, value)
            for i in range(start, start + n)))
        for _ in range(n):
            c.reply()
    c.close()


def run_one(name, binary, args):
    srv = kb.Server(binary, args.keel_args.split() if name == "keel" else [], name=name)
    c = srv.conn()
    t = time.monotonic()
    fill(srv.port, args.keys)
    populate_s = time.monotonic() - t
    load = subprocess.Popen(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-c", "20", "-P", "8", "-d", "1024",
         "-r", str(args.keys), "-t", "set", "-n", "2000000000", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(args.warmup)
        before_rate = rate(c, args.window)
        before_pss = total_pss_kb(srv.pid)
        n0, t0 = commands(c), time.monotonic()
        c.call("BGSAVE")
        peak = before_pss
        while True:
            peak = max(peak, total_pss_kb(srv.pid))
            if int(kb.info(c, "persistence")["rdb_bgsave_in_progress"]) == 0:
                break
            time.sleep(0.05)
        save_s = time.monotonic() - t0
        during_rate = (commands(c) - n0) / save_s
        status = kb.info(c, "persistence")["rdb_last_bgsave_status"]
        after_rate = rate(c, args.window)
    finally:
        load.terminate()
        load.wait()
    size = os.path.getsize(os.path.join(srv.dir, "dump.rdb")) if status == "ok" else 0
    srv.stop()
    return {
        "name": name, "populate_s": populate_s, "before_pss": before_pss, "peak_pss": peak,
        "before_rate": before_rate, "after_rate": after_rate, "during_rate": during_rate, "save_s": save_s, "status": status,
        "size": size,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--window", type=float, default=5.0)
    ap.add_argument("--keel-args", default="", help="extra Keel options, e.g. '--snapshot-busy-cpu-percent 10'")
    args = ap.parse_args()
    rows = [run_one("keel", args.keel, args)]
    if args.redis:
        rows.append(run_one("redis", args.redis, args))
    redis_save = rows[1]["save_s"] if len(rows) > 1 else None
    print("%d keys of 1 KB, SET load -c 20 -P 8 over the same keys, BGSAVE\n" % args.keys)
    print(kb.md_head(["server", "PSS before (MB)", "peak PSS (MB)", "peak / before", "SET/s before",
                      "SET/s after", "SET/s during save", "during / outside", "save (s)", "save vs Redis",
                      "dump (MB)", "status"], "lrrrrrrrrrrl"))
    for r in rows:
        outside = (r["before_rate"] + r["after_rate"]) / 2
        print(kb.md_row([
            r["name"], "%.0f" % (r["before_pss"] / 1024), "%.0f" % (r["peak_pss"] / 1024),
            "%.2fx" % (r["peak_pss"] / r["before_pss"]), "%.0f" % r["before_rate"], "%.0f" % r["after_rate"],
            "%.0f" % r["during_rate"], "%.2fx" % (r["during_rate"] / outside),
            "%.1f" % r["save_s"], "%.2fx" % (r["save_s"] / redis_save) if redis_save else "-",
            "%.0f" % (r["size"] / 1e6), r["status"]]))


if __name__ == "__main__":
    main()
