#!/usr/bin/python3
"""What does one attached replica cost a master's write throughput?

Two measurements, Keel beside Debian's redis-server:

throughput: for --reps rounds, each server in turn (one server pair at a
  time): a master and a replica process are started (repl-diskless-sync-
  delay 0, other replication settings at their defaults); SET throughput
  with redis-benchmark (-c 50 -r 100000 -d 64, -P 16 and -P 1) with the
  replica process idle and not attached, then the replica attaches
  (REPLICAOF, link up) and the same runs are repeated. Best of the rounds
  per cell; "with / without" is the throughput kept with one replica.
  On this shared two-core machine the replica competes for the CPU with
  the master and redis-benchmark, for both servers alike, and the other
  helpers' builds move every figure: hence the second measurement.

instructions: the master runs under valgrind --tool=callgrind (every
  thread counted), the replica natively. Four runs per server and
  pipeline depth: with no replica and with one attached, each with no
  requests (start, [attach,] stop: the fixed cost) and with N SETs
  (redis-benchmark -c 10 -r 100000 -d 64, -P 16 or -P 1). Instructions per
  SET = (run with N - its fixed-cost run) / N; the replica's cost per SET
  is the difference between the two. Instruction counts repeat to within
  a fraction of a percent whatever the machine's load, so they say which
  server does less work per replicated write.

Target (issue 14): Keel's cost of one replica no worse than Redis's.

Usage: bench/repl/cost.py [--keel PATH] [--redis PATH|''] [--only
       throughput|instructions] [--reps N] [-n N] [--cg-n N]
Prints Markdown tables; about 10 minutes with the defaults.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

REPL_ARGS = ["--repl-diskless-sync-delay", "0"]


def attach(replica_conn, master_port, master_conn, timeout=120):
    replica_conn.call("REPLICAOF", "127.0.0.1", str(master_port))
    deadline = time.monotonic() + timeout
    while kb.info(replica_conn, "replication").get("master_link_status") != "up":
        if time.monotonic() > deadline:
            sys.exit("replica never came online")
        time.sleep(0.05)
    wait_in_sync(master_conn, replica_conn, timeout)


def wait_in_sync(mc, rc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = int(kb.info(mc, "replication")["master_repl_offset"])
        if int(kb.info(rc, "replication").get("slave_repl_offset", -1)) >= m:
            return
        time.sleep(0.02)
    sys.exit("replica never caught up")


def connected_slaves(mc):
    return int(kb.info(mc, "replication")["connected_slaves"])


# ------------------------------------------------------------ throughput

def set_rps(port, pipeline, n):
    return kb.benchmark_rps(port, ["-t", "set", "-P", str(pipeline), "-n", str(n), "-r", "100000", "-d", "64"],
                            clients=50)


def throughput_round(binary, args):
    """{(pipeline, replicas): SET/s} for one server, one round."""
    m = kb.Server(binary, REPL_ARGS, name="master")
    r = kb.Server(binary, REPL_ARGS, name="replica")
    out = {}
    try:
        mc, rc = m.conn(), r.conn()
        for p, n in ((16, args.n), (1, args.n // 5)):
            out[(p, 0)] = set_rps(m.port, p, n)
        attach(rc, m.port, mc)
        for p, n in ((16, args.n), (1, args.n // 5)):
            assert connected_slaves(mc) == 1
            out[(p, 1)] = set_rps(m.port, p, n)
    finally:
        r.stop()
        m.stop()
    return out


def throughput(servers, args):
    best = {name: {} for name, _ in servers}
    for _ in range(args.reps):
        for name, binary in servers:
            for k, v in throughput_round(binary, args).items():
                best[name][k] = max(best[name].get(k, 0), v)
    print("SET throughput, redis-benchmark -c 50 -r 100000 -d 64 (-n %d at -P 16, %d at -P 1), best of %d rounds\n"
          % (args.n, args.n // 5, args.reps))
    print(kb.md_head(["server", "pipeline", "no replica (SET/s)", "one replica (SET/s)", "with / without"],
                     "lrrrr"))
    for p in (16, 1):
        for name, _ in servers:
            b = best[name]
            print(kb.md_row([name, "-P %d" % p, "%.0f" % b[(p, 0)], "%.0f" % b[(p, 1)],
                             "%.2fx" % (b[(p, 1)] / b[(p, 0)])]))
    print()


# ---------------------------------------------------------- instructions

class CallgrindServer:
    """A server under callgrind in a temp dir; total() stops it and returns
    the instruction count of the whole run."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="keelbench-cg-")
        self.out = os.path.join(self.dir, "callgrind.out")
        self.port = kb.free_port()
        with open(os.path.join(self.dir, "log"), "wb") as log:
            self.proc = subprocess.Popen(
                ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + self.out, binary,
                 "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.dir] + REPL_ARGS, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                c = kb.Conn(self.port)
                c.call("PING")
                self.conn = c
                return
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    sys.exit("%s did not start under callgrind" % binary)
                time.sleep(0.1)

    def total(self):
        try:
            self.conn.call("SHUTDOWN", "NOSAVE")
        except (ConnectionError, OSError, RuntimeError):
            pass
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        total = None
        with open(self.out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        shutil.rmtree(self.dir, ignore_errors=True)
        return total


def cg_run(binary, replica, pipeline, n):
    """Instructions of one callgrind master run (n = 0: no requests)."""
    m = CallgrindServer(binary)
    r = kb.Server(binary, REPL_ARGS, name="replica") if replica else None
    try:
        if r:
            attach(r.conn(), m.port, m.conn)
        if n:
            subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(m.port), "-t", "set", "-c", "10",
                            "-P", str(pipeline), "-n", str(n), "-r", "100000", "-d", "64", "-q"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1200, check=True)
        if r:
            assert connected_slaves(m.conn) == 1
            wait_in_sync(m.conn, r.conn())
    finally:
        if r:
            r.stop()
    return m.total()


def instructions(servers, args):
    rows = []
    for pipeline, n in ((16, args.cg_n), (1, args.cg_n // 2)):
        for name, binary in servers:
            per = {}
            for replica in (0, 1):
                base = cg_run(binary, replica, pipeline, 0)
                full = cg_run(binary, replica, pipeline, n)
                per[replica] = (full - base) / n
            rows.append((name, pipeline, n, per))
    print("Instructions per SET on the master (callgrind, every thread; redis-benchmark -c 10 -r 100000 -d 64; "
          "fixed start/attach/stop cost subtracted)\n")
    print(kb.md_head(["server", "pipeline", "SETs", "no replica", "one replica", "replica's cost / SET",
                      "with / without"], "lrrrrrr"))
    for name, pipeline, n, per in rows:
        print(kb.md_row([name, "-P %d" % pipeline, str(n), "%.0f" % per[0], "%.0f" % per[1],
                         "%.0f" % (per[1] - per[0]), "%.3fx" % (per[1] / per[0])]))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--only", choices=["throughput", "instructions"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("-n", type=int, default=1000000, help="SETs per -P 16 throughput run (-P 1: a fifth)")
    ap.add_argument("--cg-n", type=int, default=100000, help="SETs per -P 16 callgrind run (-P 1: half)")
    args = ap.parse_args()
    servers = [("keel", args.keel)] + ([("redis", args.redis)] if args.redis else [])
    if args.only != "instructions":
        throughput(servers, args)
    if args.only != "throughput":
        instructions(servers, args)


if __name__ == "__main__":
    main()
