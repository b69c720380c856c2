#!/usr/bin/python3
"""Replication lag under a write flood: how far behind its master does a
replica run while clients write as fast as they can, and how long does it
take to catch up once they stop?

For each server (Keel, then Debian's redis-server, alternating for --reps
rounds, one pair of processes at a time on this two-core machine), a
master and one replica of the same binary (repl-diskless-sync-delay 0,
every other replication setting at its default):

  1. the replica attaches to the empty master and is waited for (link up,
     offsets equal);
  2. a SET flood from redis-benchmark (-c 50 -P 16 -d 128 -r 1000000
     -t set) runs for --seconds s;
  3. every 100 ms during the flood: the replica's slave_repl_offset
     (INFO replication on the replica), then the master's
     master_repl_offset, read in that order, so that a sample can only
     overstate the lag (by what the master wrote during one INFO round
     trip), never hide it. lag = master - replica, in bytes of the
     replication stream. Also sampled: the master's own view, its slave0
     line's offset (what the replica last acknowledged with REPLCONF ACK,
     sent once a second by both servers, so that figure lags by up to a
     second of writes by construction and is reported only beside);
  4. the flood is stopped (redis-benchmark killed); the lag is read once
     more right then ("lag at stop"); catch-up time is from the kill
     until the replica's offset reaches the master's (polled every 5 ms;
     the master's offset is read first here, so this is never early).

Reported per server: median, p99 and max of the sampled lag (bytes, and
in milliseconds of the master's stream at the flood's mean rate), the
median of the acknowledged lag, the flood's SET/s, the catch-up time,
the full resyncs the master started during the flood (a replica dropped
at the output buffer limit comes back with one: then "catch-up"
includes that sync), and Keel/Redis ratios. The issue sets no number
for lag; it asks for it to be measured beside Redis.

Usage: bench/repl/lag.py [--keel PATH] [--redis PATH|''] [--seconds S]
       [--reps N] [--clients N] [--pipeline N] [--size BYTES]
Prints a Markdown table; about 2.5 minutes with the defaults.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402


def repl_info(c):
    return kb.info(c, "replication")


def replica_offset(rc):
    return int(repl_info(rc).get("slave_repl_offset", -1))


def master_offsets(mc):
    """(master_repl_offset, slave0's acknowledged offset)."""
    i = repl_info(mc)
    acked = -1
    for field in i.get("slave0", "").split(","):
        if field.startswith("offset="):
            acked = int(field[7:])
    return int(i["master_repl_offset"]), acked


def wait_in_sync(mc, rc, timeout=60, t0=None):
    """Seconds from t0 (default: now) until the replica's offset reaches the
    master's (master read first), or None after timeout."""
    t0 = time.monotonic() if t0 is None else t0
    while time.monotonic() - t0 < timeout:
        m, _ = master_offsets(mc)
        if replica_offset(rc) >= m:
            return time.monotonic() - t0
        time.sleep(0.005)
    return None


def attach(mc, rc, master_port, timeout=60):
    rc.call("REPLICAOF", "127.0.0.1", str(master_port))
    deadline = time.monotonic() + timeout
    while repl_info(rc).get("master_link_status") != "up":
        if time.monotonic() > deadline:
            sys.exit("replica never came online")
        time.sleep(0.05)
    if wait_in_sync(mc, rc) is None:
        sys.exit("replica never caught up before the flood")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def run_one(name, binary, args):
    extra = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]
    m = kb.Server(binary, extra, name=name + "-master")
    r = kb.Server(binary, extra, name=name + "-replica")
    mc, rc = m.conn(), r.conn()
    try:
        attach(mc, rc, m.port)
        off0, _ = master_offsets(mc)
        full0 = int(kb.info(mc, "stats")["sync_full"])
        cmd0 = int(kb.info(mc, "stats")["total_commands_processed"])
        flood = subprocess.Popen(
            ["redis-benchmark", "-h", "127.0.0.1", "-p", str(m.port), "-c", str(args.clients),
             "-P", str(args.pipeline), "-d", str(args.size), "-r", "1000000", "-t", "set",
             "-n", "2000000000", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        lags, acked_lags = [], []
        try:
            while time.monotonic() - t0 < args.seconds:
                ro = replica_offset(rc)
                mo, acked = master_offsets(mc)
                lags.append(mo - ro)
                if acked >= 0:
                    acked_lags.append(mo - acked)
                time.sleep(0.1)
        finally:
            flood.kill()
            flood.wait()
        t_stop = time.monotonic()
        ro = replica_offset(rc)
        lag_at_stop = master_offsets(mc)[0] - ro
        catch_up = wait_in_sync(mc, rc, t0=t_stop)
        off1, _ = master_offsets(mc)
        resyncs = int(kb.info(mc, "stats")["sync_full"]) - full0
        elapsed = t_stop - t0
        sets = int(kb.info(mc, "stats")["total_commands_processed"]) - cmd0
        digest_ok = catch_up is not None and mc.call("DEBUG", "DIGEST") == rc.call("DEBUG", "DIGEST") \
            if args.digest else None
    finally:
        r.stop()
        m.stop()
    return {"name": name, "lags": lags, "acked": acked_lags, "stream_bps": (off1 - off0) / elapsed,
            "sets_per_s": sets / elapsed, "catch_up": catch_up, "lag_at_stop": lag_at_stop, "resyncs": resyncs,
            "digest_ok": digest_ok}


def summary(runs):
    """Pool the samples of several rounds of one server."""
    lags = [x for r in runs for x in r["lags"]]
    acked = [x for r in runs for x in r["acked"]]
    bps = statistics.mean(r["stream_bps"] for r in runs)
    catch = [r["catch_up"] for r in runs]
    return {"med": statistics.median(lags), "p99": pct(lags, 99), "max": max(lags),
            "acked_med": statistics.median(acked) if acked else float("nan"), "bps": bps,
            "sets": statistics.mean(r["sets_per_s"] for r in runs),
            "catch_up": None if None in catch else statistics.median(catch), "catch_all": catch,
            "at_stop": [r["lag_at_stop"] for r in runs], "resyncs": [r["resyncs"] for r in runs],
            "samples": len(lags), "digest": [r["digest_ok"] for r in runs]}


def fmt_bytes(b):
    return "%.0f" % b if b < 10240 else "%.0f KB" % (b / 1024) if b < 10 * 2**20 else "%.1f MB" % (b / 2**20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--no-digest", dest="digest", action="store_false",
                    help="skip the DEBUG DIGEST check after catch-up")
    args = ap.parse_args()
    servers = [("keel", args.keel)] + ([("redis", args.redis)] if args.redis else [])
    runs = {n: [] for n, _ in servers}
    for _ in range(args.reps):
        for name, binary in servers:
            runs[name].append(run_one(name, binary, args))
    rows = {n: summary(rs) for n, rs in runs.items()}
    print("SET flood (redis-benchmark -c %d -P %d -d %d -r 1000000) for %.0f s x %d rounds, one replica; "
          "lag = master_repl_offset - replica's slave_repl_offset, sampled every 100 ms\n"
          % (args.clients, args.pipeline, args.size, args.seconds, args.reps))
    cols = ["server", "SET/s", "stream MB/s", "samples", "lag median", "lag p99", "lag max", "p99 in ms of stream",
            "acked lag median", "lag at stop", "catch-up after stop (ms)", "full resyncs", "digest equal"]
    print(kb.md_head(cols, "lrrrrrrrrrrrl"))
    for name, s in rows.items():
        ms = lambda b: "%.1f" % (1000.0 * b / s["bps"]) if s["bps"] else "-"  # noqa: E731
        catch = "/".join("%.0f" % (1000 * c) if c is not None else "never" for c in s["catch_all"])
        print(kb.md_row([name, "%.0f" % s["sets"], "%.1f" % (s["bps"] / 2**20), str(s["samples"]),
                         fmt_bytes(s["med"]), fmt_bytes(s["p99"]), fmt_bytes(s["max"]), ms(s["p99"]),
                         fmt_bytes(s["acked_med"]), "/".join(fmt_bytes(b) for b in s["at_stop"]), catch,
                         "/".join(str(n) for n in s["resyncs"]),
                         "/".join({None: "-", True: "yes", False: "NO"}[d] for d in s["digest"])]))
    if "redis" in rows:
        k, r = rows["keel"], rows["redis"]
        ratio = lambda a, b: "%.2fx" % (a / b) if b else "-"  # noqa: E731
        print("\nKeel/Redis: SET/s %s, lag median %s, p99 %s, max %s, catch-up %s"
              % (ratio(k["sets"], r["sets"]), ratio(k["med"], r["med"]), ratio(k["p99"], r["p99"]),
                 ratio(k["max"], r["max"]),
                 ratio(k["catch_up"], r["catch_up"]) if k["catch_up"] is not None and r["catch_up"] else "-"))


if __name__ == "__main__":
    main()
