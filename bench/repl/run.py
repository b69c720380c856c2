#!/usr/bin/python3
"""Full sync under write load: does a new replica come online, and what
does it cost the master?

For each server (Keel, then Debian's redis-server, one after the other on
this two-core machine), a master and a replica of the same binary, both
with their default replication settings (diskless sync with a 5 s delay,
repl-backlog-size 1mb, client-output-buffer-limit replica 256mb 64mb 60):

  1. the master gets N keys of 1 KB (key:000000000000 ..., the names
     redis-benchmark's -r N writes, so the load overwrites existing keys);
  2. idle sync: a replica attaches with no load; the time from REPLICAOF
     until its master_link_status is up; the replica is then stopped;
  3. a continuous SET load over the same keys from redis-benchmark
     (-c 20 -P 8 -d 1024 -r N -t set), left to settle for --warmup s;
     "before": its throughput over --window s, and the master's PSS;
  4. a new replica attaches (REPLICAOF); every 50 ms until its link is up
     (or --timeout s): the PSS of the master plus any child it has (the
     fork, for Redis), from /proc/PID/smaps_rollup;
  5. the load's throughput over --window s after that.

Also reported: the CPU share (CPU seconds per second, one core = 1.00)
of the master before and during the sync and of the replica during it,
and the master's CPU microseconds per command, from /proc/PID/stat: on
two cores the loading replica competes with the master and the load for
the CPU, which moves the throughput ratio independently of the master's
own work per SET.

Reported: loaded sync time (or "never" within --timeout) and its ratio to
the idle sync, peak PSS / before, throughput during the sync / outside it
(mean of before and after), how many full syncs the master started
(INFO stats sync_full: Redis starts over each time it drops the replica
at the output buffer limit), and the replica's digest check once the load
stops (DEBUG DIGEST equal on both sides). Targets (issue 14): peak/before
<= 1.1, online within twice the idle sync, throughput during >= 0.8.

Memory: each server holds N keys of 1 KB (about 1.2 GB at 1M), the
replica as much, and Redis's fork up to as much again while the load
dirties pages, plus up to the 256 MB output buffer. Before starting, the
script reads MemAvailable from /proc/meminfo, prints it, and when it is
below what the run needs (3.5x the dataset plus 1 GB) it lowers N to the
largest count that fits and says so (--force keeps N). Keel and Redis
run one after the other, never at once.

With --idle-only, only step 2, --runs times per server (the idle full
sync of issue 14's "make the full sync faster"; median and each run);
--sync-delay S sets the master's repl-diskless-sync-delay (default 5, so
the 5 s wait is part of the figure) and --load MODE the replica's
repl-diskless-load (default disabled: through a temp file).

Usage: bench/repl/run.py [--keel PATH] [--redis PATH|''] [--keys N]
       [--warmup S] [--window S] [--timeout S] [--force]
       [--idle-only [--runs N] [--sync-delay S] [--load MODE]]
Prints Markdown tables; about 4 minutes with the defaults (1M keys).
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "snapshot"))
from run import children, commands, fill, pss_kb, rate  # noqa: E402


KEY_BYTES = 1300  # one 1 KB value with its key and overhead, in either server


def mem_available_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def keys_that_fit(keys, avail_mb):
    """The largest key count (a multiple of 100k) whose run fits avail_mb."""
    need = lambda n: 3.5 * n * KEY_BYTES / 2**20 + 1024  # noqa: E731
    while keys > 100000 and need(keys) > avail_mb:
        keys -= 100000
    return keys, need(keys)


def cpu_s(pid):
    """User + system CPU seconds of a process (all its threads) so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def total_pss_kb(pid):
    return pss_kb(pid) + sum(pss_kb(c) for c in children(pid))


def link_up(c):
    return kb.info(c, "replication").get("master_link_status") == "up"


def attach_and_wait(replica, master_port, timeout, on_poll=None):
    c = replica.conn()
    t0 = time.monotonic()
    c.call("REPLICAOF", "127.0.0.1", str(master_port))
    while time.monotonic() - t0 < timeout:
        if on_poll:
            on_poll()
        if link_up(c):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def idle_syncs(name, binary, args):
    """Idle full syncs only: the master filled once, a fresh replica each run."""
    extra = ["--enable-debug-command", "yes"]
    m = kb.Server(binary, extra, name=name + "-master")
    m.conn().call("CONFIG", "SET", "repl-diskless-sync-delay", str(args.sync_delay))
    fill(m.port, args.keys)
    times = []
    for i in range(args.runs):
        r = kb.Server(binary, extra + ["--repl-diskless-load", args.load], name="%s-idle-replica-%d" % (name, i))
        times.append(attach_and_wait(r, m.port, args.timeout))
        r.stop()
    m.stop()
    return times


def print_idle(rows, args):
    print("Idle full sync of %d keys of 1 KB (master: repl-diskless-sync yes, repl-diskless-sync-delay %d; "
          "replica: repl-diskless-load %s), REPLICAOF to master_link_status up, %d runs\n"
          % (args.keys, args.sync_delay, args.load, args.runs))
    print(kb.md_head(["server", "median (s)", "runs (s)"], "lrl"))
    for name, times in rows:
        ok = sorted(t for t in times if t is not None)
        med = "%.1f" % ok[len(ok) // 2] if ok else "-"
        print(kb.md_row([name, med, " ".join("%.1f" % t if t is not None else "never" for t in times)]))


def run_one(name, binary, args):
    extra = ["--enable-debug-command", "yes"]
    m = kb.Server(binary, extra, name=name + "-master")
    mc = m.conn()
    fill(m.port, args.keys)
    r0 = kb.Server(binary, extra, name=name + "-idle-replica")
    idle_s = attach_and_wait(r0, m.port, args.timeout)
    r0.stop()
    load = subprocess.Popen(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(m.port), "-c", "20", "-P", "8", "-d", "1024",
         "-r", str(args.keys), "-t", "set", "-n", "2000000000", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r1 = kb.Server(binary, extra, name=name + "-replica")
    try:
        time.sleep(args.warmup)
        c0, n_0, w0 = cpu_s(m.pid), commands(mc), time.monotonic()
        before_rate = rate(mc, args.window)
        before_cpu = ((cpu_s(m.pid) - c0) / (time.monotonic() - w0), (cpu_s(m.pid) - c0) / (commands(mc) - n_0))
        before_pss = total_pss_kb(m.pid)
        full0 = int(kb.info(mc, "stats")["sync_full"])
        peak = [before_pss]
        n0, t0 = commands(mc), time.monotonic()
        mc0, rc0 = cpu_s(m.pid), cpu_s(r1.pid)

        def poll():
            peak[0] = max(peak[0], total_pss_kb(m.pid))

        loaded_s = attach_and_wait(r1, m.port, args.timeout, poll)
        during_s, during_n = time.monotonic() - t0, commands(mc) - n0
        during_rate = during_n / during_s
        during_cpu = ((cpu_s(m.pid) - mc0) / during_s, (cpu_s(m.pid) - mc0) / during_n,
                      (cpu_s(r1.pid) - rc0) / during_s)
        full_syncs = int(kb.info(mc, "stats")["sync_full"]) - full0
        after_rate = rate(mc, args.window)
    finally:
        load.terminate()
        load.wait()
    digest_ok = None
    if loaded_s is not None:
        rc = r1.conn()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            mo = int(kb.info(mc, "replication")["master_repl_offset"])
            ro = int(kb.info(rc, "replication").get("slave_repl_offset", -1))
            if mo == ro:
                break
            time.sleep(0.1)
        digest_ok = mc.call("DEBUG", "DIGEST") == rc.call("DEBUG", "DIGEST")
    r1.stop()
    m.stop()
    return {"name": name, "idle_s": idle_s, "loaded_s": loaded_s, "before_pss": before_pss, "peak_pss": peak[0],
            "before_rate": before_rate, "after_rate": after_rate, "during_rate": during_rate,
            "full_syncs": full_syncs, "digest_ok": digest_ok, "before_cpu": before_cpu, "during_cpu": during_cpu}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--window", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--force", action="store_true", help="keep --keys even when memory looks short")
    ap.add_argument("--idle-only", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sync-delay", type=int, default=5)
    ap.add_argument("--load", default="disabled")
    args = ap.parse_args()
    avail = mem_available_mb()
    fit, need = keys_that_fit(args.keys, avail)
    print("MemAvailable %d MB; %d keys need about %.0f MB" % (avail, args.keys, keys_that_fit(args.keys, 1e12)[1]))
    if fit < args.keys and not args.force:
        print("not enough memory for %d keys: running %d (needs about %.0f MB)" % (args.keys, fit, need))
        args.keys = fit
    sys.stdout.flush()
    if args.idle_only:
        rows = [("keel", idle_syncs("keel", args.keel, args))]
        if args.redis:
            rows.append(("redis", idle_syncs("redis", args.redis, args)))
        print_idle(rows, args)
        return
    rows = [run_one("keel", args.keel, args)]
    if args.redis:
        rows.append(run_one("redis", args.redis, args))
    print("%d keys of 1 KB, SET load -c 20 -P 8 -d 1024 over the same keys, a replica attaches "
          "(default replication settings)\n" % args.keys)
    print(kb.md_head(["server", "idle sync (s)", "sync under load (s)", "loaded / idle", "full syncs started",
                      "PSS before (MB)", "peak PSS (MB)", "peak / before", "SET/s outside", "SET/s during sync",
                      "during / outside", "digest equal"], "lrrrrrrrrrrl"))
    for r in rows:
        outside = (r["before_rate"] + r["after_rate"]) / 2
        loaded = "%.1f" % r["loaded_s"] if r["loaded_s"] is not None else "never (%.0f s)" % args.timeout
        ratio = "%.2fx" % (r["loaded_s"] / r["idle_s"]) if r["loaded_s"] and r["idle_s"] else "-"
        print(kb.md_row([
            r["name"], "%.1f" % r["idle_s"] if r["idle_s"] else "-", loaded, ratio, str(r["full_syncs"]),
            "%.0f" % (r["before_pss"] / 1024), "%.0f" % (r["peak_pss"] / 1024),
            "%.2fx" % (r["peak_pss"] / r["before_pss"]), "%.0f" % outside, "%.0f" % r["during_rate"],
            "%.2fx" % (r["during_rate"] / outside), {None: "-", True: "yes", False: "NO"}[r["digest_ok"]]]))
    print("\nCPU (from /proc/PID/stat; a share of 1.00 is one core, the machine has %d):\n" % os.cpu_count())
    print(kb.md_head(["server", "master CPU share before", "master CPU share during sync", "replica CPU share during",
                      "master us/SET before", "master us/SET during"], "lrrrrr"))
    for r in rows:
        print(kb.md_row([r["name"], "%.2f" % r["before_cpu"][0], "%.2f" % r["during_cpu"][0],
                         "%.2f" % r["during_cpu"][2], "%.2f" % (1e6 * r["before_cpu"][1]),
                         "%.2f" % (1e6 * r["during_cpu"][1])]))


if __name__ == "__main__":
    main()
