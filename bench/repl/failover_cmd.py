#!/usr/bin/python3
"""FAILOVER switch time, Keel beside redis-server in one run.

A master and one replica (DEBUG POPULATE --keys keys), in sync; FAILOVER TO
the replica, then back, --rounds times. Each switch is timed from sending
FAILOVER to the first write accepted by the new master (the old master
reporting master_failover_state:no-failover and the new one role:master in
between). Prints median / min / max per server and the ratio of medians.

    bench/repl/failover_cmd.py [--keel bin/keel-server] [--redis /usr/bin/redis-server]
                               [--rounds 10] [--keys 100000]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.0005)
    raise SystemExit("timed out waiting")


def start(binary, workdir):
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir,
                             "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = redis.Redis(port=port)
    wait(c.ping)
    return proc, c, port


def rinfo(c):
    return c.info("replication")


def run(binary, rounds, keys):
    dirs = [tempfile.mkdtemp(prefix="fobench-") for _ in range(2)]
    procs = []
    try:
        (pa, a, porta), (pb, b, portb) = start(binary, dirs[0]), start(binary, dirs[1])
        procs = [pa, pb]
        a.execute_command("DEBUG", "POPULATE", keys)
        b.replicaof("127.0.0.1", porta)
        wait(lambda: rinfo(b)["master_link_status"] == "up")
        m, s, sport = a, b, portb
        times = []
        for i in range(rounds):
            m.set("round", i)
            wait(lambda: rinfo(s)["slave_repl_offset"] == rinfo(m)["master_repl_offset"])
            t0 = time.perf_counter()
            m.execute_command("FAILOVER", "TO", "127.0.0.1", sport)
            wait(lambda: rinfo(m)["master_failover_state"] == "no-failover")
            wait(lambda: rinfo(s)["role"] == "master")
            s.set("written", i)
            times.append(time.perf_counter() - t0)
            m, s, sport = s, m, (porta if sport == portb else portb)
            wait(lambda: rinfo(s).get("master_link_status") == "up")
        return times
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keel", default=os.path.join(ROOT, "bin", "keel-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--keys", type=int, default=100000)
    args = ap.parse_args()
    medians = {}
    for name, binary in (("keel", args.keel), ("redis", args.redis)):
        t = [x * 1000 for x in run(binary, args.rounds, args.keys)]
        medians[name] = statistics.median(t)
        print("%-6s FAILOVER switch: median %8.1f ms  min %8.1f  max %8.1f  (%d switches, %d keys)"
              % (name, medians[name], min(t), max(t), args.rounds, args.keys))
    print("keel/redis median time: %.4fx" % (medians["keel"] / medians["redis"]))


if __name__ == "__main__":
    main()
