#!/usr/bin/python3
"""How long does a fork-less BGSAVE make other clients wait?

Keel only (Redis's fork takes the save off the main thread; its cost is
memory, see run.py). One client sends PING back to back from a thread and
times each round trip, before and during a BGSAVE of:

  strings     DEBUG POPULATE 1000000 key 100: many small keys, written in
              time slices of at most 1 ms;
  aggregates  one set of 1M integers and one hash of 1M fields: long
              values, written in steps by the snapshot's coroutine
              (docs/ARCHITECTURE.md, "Long values, written in steps").

Usage: bench/snapshot/latency.py [--keel PATH]   (about 30 s)
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402


def fill(c, mode):
    if mode == "strings":
        c.execute_command("DEBUG", "POPULATE", "1000000", "key", "100")
        return
    p = c.pipeline(transaction=False)
    for i in range(0, 1000000, 10000):
        p.sadd("bigset", *range(i, i + 10000))
        p.hset("bighash", mapping={"f%d" % j: "v%d" % j for j in range(i, i + 10000)})
    p.execute()


def run(binary, mode):
    srv = kb.Server(binary, ["--enable-debug-command", "yes"], name="keel")
    c = srv.client
    fill(c, mode)
    lat, stop = [], []

    def pinger():
        import redis
        pc = redis.Redis(port=srv.port)
        while not stop:
            t = time.perf_counter()
            pc.ping()
            lat.append(time.perf_counter() - t)

    th = threading.Thread(target=pinger)
    th.start()
    time.sleep(1.0)
    idle = sorted(lat)
    lat.clear()
    t0 = time.monotonic()
    c.bgsave()
    while c.info("persistence")["rdb_bgsave_in_progress"]:
        time.sleep(0.01)
    save_s = time.monotonic() - t0
    stop.append(1)
    th.join()
    srv.stop()
    s = sorted(lat)
    return [mode, "%.2f" % save_s, "%d" % len(s), "%.3f" % (s[len(s) // 2] * 1e3), "%.3f" % (s[int(len(s) * 0.99)] * 1e3),
            "%.1f" % (s[-1] * 1e3), "%.1f" % (idle[-1] * 1e3)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keel", default=kb.KEEL)
    args = ap.parse_args()
    print(kb.md_head(["dataset", "save (s)", "pings", "p50 ms", "p99 ms", "max ms", "max ms idle"], "lrrrrrr"))
    for mode in ("strings", "aggregates"):
        print(kb.md_row(run(args.keel, mode)))


if __name__ == "__main__":
    main()
