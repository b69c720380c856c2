#!/usr/bin/python3
"""RDB load time and file size, Keel beside Debian's redis-server.

    /usr/bin/python3 bench/persist/load.py [--keys N] [--size BYTES] [--reps R]

For each server: DEBUG POPULATE N key SIZE, SAVE (file size), then restart
on that file R times and take the best time of (a) the server's own
"DB loaded from disk: X seconds" log line and (b) process start to the
first PING answered, and (c) the CPU time (user + system) the server used
until then: on a busy machine (c) is the stable figure, wall times vary
with other processes. Prints both servers and keel/redis ratios.
Defaults: 1,000,000 keys of 1024 bytes (about 1 GB of values each)."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from keel_helpers import free_port  # noqa: E402

SERVERS = {
    "keel": os.environ.get("KEEL_SERVER", os.path.join(ROOT, "bin", "keel-server")),
    "redis": os.environ.get("REDIS_SERVER", "/usr/bin/redis-server"),
}


def start(binary, d, port):
    log = open(os.path.join(d, "server.log"), "ab")
    t0 = time.time()
    p = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--enable-debug-command", "yes", "--dir", d],
                         cwd=d, stdout=log, stderr=subprocess.STDOUT)
    c = redis.Redis(port=port, socket_timeout=600)
    while True:
        try:
            if c.ping():
                return p, c, time.time() - t0
        except (redis.ConnectionError, redis.BusyLoadingError):
            time.sleep(0.005)
        except redis.ResponseError:
            time.sleep(0.005)


def cpu_seconds(pid):
    """user + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(p):
    p.kill()
    p.wait()


def measure(name, binary, keys, size, reps):
    d = tempfile.mkdtemp(prefix="persist-bench-%s-" % name)
    try:
        port = free_port()
        p, c, _ = start(binary, d, port)
        c.execute_command("DEBUG", "POPULATE", keys, "key", size)
        t0 = time.time()
        c.execute_command("SAVE")
        save_s = time.time() - t0
        stop(p)
        fsize = os.path.getsize(os.path.join(d, "dump.rdb"))
        best_log = best_ready = best_cpu = None
        for _ in range(reps):
            open(os.path.join(d, "server.log"), "w").close()
            p, c, ready = start(binary, d, port)
            cpu = cpu_seconds(p.pid)
            best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
            n = c.dbsize()
            stop(p)
            assert n == keys, (name, n)
            with open(os.path.join(d, "server.log")) as f:
                m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
            logged = float(m.group(1))
            best_log = logged if best_log is None else min(best_log, logged)
            best_ready = ready if best_ready is None else min(best_ready, ready)
        return {"file_bytes": fsize, "save_s": save_s, "load_s": best_log, "ready_s": best_ready,
                "cpu_s": best_cpu}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    res = {n: measure(n, b, a.keys, a.size, a.reps) for n, b in SERVERS.items()}
    print("DEBUG POPULATE %d key %d, best of %d restarts" % (a.keys, a.size, a.reps))
    print("| measure | keel | redis | keel/redis |")
    print("|---|---|---|---|")
    for k, label in (("load_s", "load time, logged (s)"), ("ready_s", "start to first PING (s)"),
                     ("cpu_s", "CPU time to first PING (s)"),
                     ("save_s", "SAVE (s)"), ("file_bytes", "RDB file size (bytes)")):
        kv, rv = res["keel"][k], res["redis"][k]
        fmt = "%d" if k == "file_bytes" else "%.3f"
        print("| %s | %s | %s | %.2f |" % (label, fmt % kv, fmt % rv, kv / rv if rv else 0))


if __name__ == "__main__":
    main()
