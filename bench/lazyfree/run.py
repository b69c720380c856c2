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
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
MODES = ["unlink", "del", "evict-lazy", "evict-sync"]
MARGIN_S = 0.3


# ------------------------------------------------------------ raw client

def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A minimal RESP client: replies parsed just enough to count them."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode() if kind == b"+" else RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.s.sendall(resp(*args))
        r = self.reply()
        if isinstance(r, RuntimeError):
            raise r
        return r

    def info(self, section):
        text = self.call("INFO", section).decode()
        out = {}
        for line in text.split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def close(self):
        self.s.close()


# ------------------------------------------------------------ server

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, binary):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="keel-lazyfree-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [os.path.abspath(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], cwd=self.dir,
            stdout=open(os.path.join(self.dir, "log"), "w"), stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                c = Conn(self.port)
                c.call("PING")
                c.close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit("%s did not start" % binary)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


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
    c = Conn(port)
    ping = resp("PING")
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
    used = int(c.info("memory")["used_memory"])
    c.call("CONFIG", "SET", "maxmemory", used + 64 * 1024)


def trigger_eviction(c):
    c.s.sendall(resp("SET", "pad2", b"x" * (128 << 10)) + resp("SET", "t", "1"))
    first, second = c.reply(), c.reply()
    return "%s / %s" % (first, second)


def run_mode(srv, mode, payload, ncmds, members, pace_us):
    c = Conn(srv.port)
    c.call("FLUSHALL")
    base_used = int(c.info("memory")["used_memory"])
    build_s = build_set(c, payload, ncmds)
    card = c.call("SCARD", "s")
    assert card == members, "SCARD %s, expected %d" % (card, members)
    full_used = int(c.info("memory")["used_memory"])
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
    ap.add_argument("--keel", default=os.path.join(REPO, "bin", "keel-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
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
        srv = Server(name, binary)
        try:
            for mode in modes:
                r = run_mode(srv, mode, payload, ncmds, args.members, args.pace_us)
                print("%s %s: %s" % (name, mode, r), file=sys.stderr)
                rows.append((name, mode, r))
        finally:
            srv.stop()

    print("\n%d members, PING pace %d us\n" % (args.members, args.pace_us))
    print("| server | removal | set MB | command ms | freed after s | samples | p50 ms | p99 ms "
          "| p99.9 ms | max ms | > 1 ms | p99 before (idle) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, mode, r in rows:
        print("| %s | %s | %.0f | %.2f | %.2f | %d | %.3f | %.3f | %.3f | %.1f | %d | %.3f |" % (
            name, mode, r["used_mb"], r["cmd_ms"], r["free_s"], r["n"], r["p50"], r["p99"],
            r["p999"], r["max"], r["over1ms"], r["idle_p99"]))


if __name__ == "__main__":
    main()
