#!/usr/bin/python3
"""Instructions per PUBLISH, Keel beside redis-server, under valgrind's
callgrind: on a loaded 2-core machine requests/s of a fan-out differ by
a factor of two between runs, instruction counts repeat closely.

For each server and scenario (S subscribers on one channel; 1000 pattern
subscribers of which one matches): start the server under callgrind,
connect the subscribers (a reader process drains them), send N PUBLISHes
with redis-benchmark (-c 10 -P 16), stop; the same with N/10 PUBLISHes;
instructions per PUBLISH = difference / difference of the publishes
(counted from the bytes every subscriber received, all of which are
checked), so start-up, connections and shutdown cancel out.

Usage: bench/pubsub/cpu_cost.py [--keel PATH|''] [--redis PATH|''] [--n N]
Takes 3-6 minutes. Prints a Markdown table.
"""

import argparse
import glob
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keelbench as kb  # noqa: E402
from run import MESSAGE, fanout_specs, subscriber_process  # noqa: E402


def instructions(binary, specs, n):
    port = kb.free_port()
    tmp = tempfile.mkdtemp(prefix="keelcg-")
    out = os.path.join(tmp, "cg.out")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, "--port",
                             str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            kb.Conn(port).call("PING")
            break
        except OSError:
            time.sleep(0.2)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    counter = multiprocessing.Value("q", 0)
    reader = multiprocessing.Process(target=subscriber_process, args=(port, specs, ready, stop, counter))
    reader.start()
    ready.wait(300)
    subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "10", "-P", "16", "-n", str(n),
                    "-q", "publish", "bench:7:x", MESSAGE.decode()], stdout=subprocess.DEVNULL, timeout=1200)
    # Every message must have arrived (a dropped subscriber would make
    # the count meaningless).
    from run import frame_len
    pattern = specs[0][0] == "PSUBSCRIBE"
    frame = frame_len(b"pmessage" if pattern else b"message", b"bench:7:*" if pattern else None, b"bench:7:x",
                      MESSAGE)
    expected = frame * n * (1 if pattern else len(specs))
    deadline = time.time() + 300
    while counter.value < expected and time.time() < deadline:
        time.sleep(0.2)
    per_publish = frame * (1 if pattern else len(specs))
    if counter.value < expected or counter.value % per_publish:
        raise RuntimeError("%s: %d of %d bytes delivered" % (binary, counter.value, expected))
    # redis-benchmark rounds up to whole pipelines: count what was sent.
    publishes = counter.value // per_publish
    stop.set()
    reader.join(60)
    proc.terminate()
    proc.wait(300)
    total = 0
    for path in glob.glob(out + "*"):
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    total = max(total, int(line.split()[1]))
    return total, publishes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    rows = [("1 subscriber", "channel", 1), ("100 subscribers", "channel", 100),
            ("1000 patterns (1 matches)", "pattern", 1000)]
    print(kb.md_head(["scenario", "Keel instructions/PUBLISH", "Redis instructions/PUBLISH", "ratio"], "lrrr"))
    for label, kind, count in rows:
        specs = fanout_specs(kind, count)
        per = {}
        for name, binary in (("keel", args.keel), ("redis", args.redis)):
            if not binary:
                continue
            big, nbig = instructions(binary, specs, args.n)
            small, nsmall = instructions(binary, specs, args.n // 10)
            per[name] = (big - small) / (nbig - nsmall)
        k, r = per.get("keel", 0), per.get("redis", 0)
        print(kb.md_row([label, "%.0f" % k, "%.0f" % r, "%.2f" % (k / r) if r else "-"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
