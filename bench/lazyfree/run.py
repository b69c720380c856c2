#!/usr/bin/python3
"""Lazy free benchmark: does deleting a huge set stall other clients?

A set of N members (10M by default, SADD with 1000 members a command, all
pipelined over one raw socket) is removed four ways, each on a freshly
built set:

  unlink      UNLINK s                       (freed in the background)
  del         DEL s                          (freed synchronously: contrast)
  evict-lazy  eviction with lazyfree-lazy-eviction yes
  evict-sync  the same with lazyfree-lazy-eviction no

Eviction is triggered the way an application would: the set carries a TTL
and the policy is volatile-random (so the set, not the padding key, is the
victim), maxmemory is set 64 KB above used_memory, then one pipelined
write of a 128 KB value followed by `SET t 1` puts the server over the limit
and the second write makes it evict. The pipeline's round trip is what is
reported as the command time of the evict-* rows.

Meanwhile a separate process (so that the GIL of the controlling process
cannot disturb it) sends PING in a loop on its own connection and times
each round trip with time.perf_counter (pacing between pings is set with
--pace-us; 0 = back to back). The samples kept are those that start
between 0.3 s before the delete command and 0.3 s after the server's
INFO reported lazyfree_pending_objects back at 0 and used_memory back down
(polled every 20 ms on a third connection), so the whole background free
is inside the window. For reference, the last column is the p99 of the
same pinger over the 0.6 s before that window, when nothing happens: on a
shared two-core machine it is the noise floor.

The two servers run one after the other (the machine has two cores: one
for the server's main thread, one for its freeing thread; the pinger and
the controller share them), with the same settings.

Usage: bench/lazyfree/run.py [--keel PATH] [--redis PATH|''] [--members N]
       [--modes unlink,del,evict-lazy,evict-sync] [--pace-us US]
Prints a Markdown table. About 2-3 minutes with the defaults.
"""

import argparse
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

MODES = ["unlink", "del", "evict-lazy", "evict-sync"]
MARGIN_S = 0.3


# ------------------------------------------------------------ workload

def sadd_payload(key, members, per_cmd=1000):
    parts = []
    for start in range(0, members, per_cmd):
        end = min(members, start + per_cmd)
        items = [b"*%d\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n" % (end - start + 2, len(key), key)]
        for i in range(start, end):
            m = b"member:%d" % i
            items.append(b"$%d\r\n%s\r\n" % (len(m), m))
        parts.append(b"".join(items))
    return b"".join(parts), (members + per_cmd - 1) // per_cmd


def build_set(c, payload, ncmds):
    t = time.perf_counter()
    c.s.sendall(payload)
    for _ in range(ncmds):
        r = c.reply()
        if isinstance(r, RuntimeError):
            raise r
    return time.perf_counter() - t


def pinger(port, pace_us, stop, out):
    c = kb.Conn(port)
    ping = kb.resp("PING")
    pace = pace_us / 1e6
    starts, lats = [], []
    while not stop.is_set():
        t0 = time.perf_counter()
        c.s.sendall(ping)
        c.reply()
        t1 = time.perf_counter()
        starts.append(t0)
        lats.append(t1 - t0)
        if pace:
            time.sleep(pace)
    out.send((starts, lats))
    c.close()


def wait_freed(c, target_used, timeout=120):
    """Until the background free is over: no pending objects, memory down."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        m = c.info("memory")
        if int(m.get("lazyfree_pending_objects", 0)) == 0 and int(m["used_memory"]) <= target_used:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError("memory was not freed within %d s" % timeout)


def prepare_eviction(c, lazy):
    # Keel reserves part of maxmemory for client buffers (2% by default,
    # docs/ARCHITECTURE.md); with maxmemory set just above the current
    # usage that reserve alone would evict the set before the trigger.
    # Setting it to 0 makes both servers evict at the same point.
    try:
        c.call("CONFIG", "SET", "client-output-backpressure-total", "0")
    except RuntimeError:
        pass  # Redis has no such parameter
    c.call("CONFIG", "SET", "maxmemory-policy", "volatile-random")
    c.call("CONFIG", "SET", "lazyfree-lazy-eviction", "yes" if lazy else "no")
    c.call("EXPIRE", "s", 1000000)
    c.call("SET", "pad", "x")
    used = kb.used_memory(c)
    c.call("CONFIG", "SET", "maxmemory", used + 64 * 1024)


def trigger_eviction(c):
    c.s.sendall(kb.resp("SET", "pad2", b"x" * (128 << 10)) + kb.resp("SET", "t", "1"))
    first, second = c.reply(), c.reply()
    return "%s / %s" % (first, second)


def run_mode(srv, mode, payload, ncmds, members, pace_us):
    c = srv.conn()
    c.call("FLUSHALL")
    base_used = kb.used_memory(c)
    build_s = build_set(c, payload, ncmds)
    card = c.call("SCARD", "s")
    assert card == members, "SCARD %s, expected %d" % (card, members)
    full_used = kb.used_memory(c)
    if mode.startswith("evict"):
        prepare_eviction(c, mode == "evict-lazy")

    stop = mp.Event()
    recv_end, send_end = mp.Pipe(duplex=False)
    p = mp.Process(target=pinger, args=(srv.port, pace_us, stop, send_end))
    p.start()
    time.sleep(1.0)  # warm up; the window starts MARGIN_S before the delete

    t0 = time.perf_counter()
    if mode == "unlink":
        note = c.call("UNLINK", "s")
    elif mode == "del":
        note = c.call("DEL", "s")
    else:
        note = trigger_eviction(c)
    t1 = time.perf_counter()
    # Freed: used_memory back within a tenth of the set's size of the start.
    t_done = wait_freed(c, base_used + (full_used - base_used) // 10 + (2 << 20))
    time.sleep(MARGIN_S + 0.05)
    stop.set()
    starts, lats = recv_end.recv()
    p.join()

    gone = c.call("EXISTS", "s") == 0
    evicted = int(c.info("stats").get("evicted_keys", 0))
    c.call("CONFIG", "SET", "maxmemory", 0)
    c.call("FLUSHALL")
    c.close()
    window = [lat for s, lat in zip(starts, lats) if t0 - MARGIN_S <= s <= t_done + MARGIN_S]
    window.sort()
    # The same pinger just before the delete: what this machine gives with
    # nothing happening, to tell the delete's effect from the noise.
    idle = sorted(lat for st, lat in zip(starts, lats) if t0 - 0.9 <= st < t0 - MARGIN_S)
    return {"idle_p99": pct(idle, 99), "idle_n": len(idle),
        "build_s": build_s, "used_mb": (full_used - base_used) / 1048576, "cmd_ms": (t1 - t0) * 1e3,
        "free_s": t_done - t0, "n": len(window), "p50": pct(window, 50), "p99": pct(window, 99),
        "p999": pct(window, 99.9), "max": window[-1] * 1e3 if window else float("nan"),
        "over1ms": sum(1 for x in window if x > 1e-3), "reply": note, "gone": gone, "evicted": evicted,
    }


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(len(sorted_vals) * p / 100.0))
    return sorted_vals[i] * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--pace-us", type=int, default=0)
    args = ap.parse_args()
    modes = args.modes.split(",")
    for m in modes:
        if m not in MODES:
            sys.exit("unknown mode %s" % m)

    t = time.perf_counter()
    payload, ncmds = sadd_payload(b"s", args.members)
    print("SADD payload: %.0f MB, %d commands, built in %.1f s" %
          (len(payload) / 1e6, ncmds, time.perf_counter() - t), file=sys.stderr)

    servers = [("keel", args.keel)] + ([("redis", args.redis)] if args.redis else [])
    rows = []
    for name, binary in servers:
        with kb.Server(binary, name=name) as srv:
            for mode in modes:
                r = run_mode(srv, mode, payload, ncmds, args.members, args.pace_us)
                print("%s %s: %s" % (name, mode, r), file=sys.stderr)
                rows.append((name, mode, r))

    print("\n%d members, PING pace %d us\n" % (args.members, args.pace_us))
    print(kb.md_head(["server", "removal", "set MB", "command ms", "freed after s", "samples", "p50 ms", "p99 ms",
                      "p99.9 ms", "max ms", "> 1 ms", "p99 before (idle)"], "llrrrrrrrrrr"))
    for name, mode, r in rows:
        print("| %s | %s | %.0f | %.2f | %.2f | %d | %.3f | %.3f | %.3f | %.1f | %d | %.3f |" % (
            name, mode, r["used_mb"], r["cmd_ms"], r["free_s"], r["n"], r["p50"], r["p99"],
            r["p999"], r["max"], r["over1ms"], r["idle_p99"]))


if __name__ == "__main__":
    main()
