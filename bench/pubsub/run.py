#!/usr/bin/python3
"""Pub/Sub: fan-out throughput, pattern matching cost, and what a slow
subscriber costs under a publish flood. Keel beside redis-server, one run.

Fan-out rows (issue 11): S subscribers on one channel (S = 1, 100, 1000),
and 1000 pattern subscribers (one pattern each, "bench:<i>:*", of which one
matches the published channel). Publishers: redis-benchmark, C clients,
PUBLISH of a 64-byte message, not pipelined (--requests publishes per
run; a tenth of that for 1000 subscribers). Subscribers: one reader
process per server that drains every subscriber socket as fast as it can
and counts bytes (every message frame has the same length, so bytes give
messages). Reported: PUBLISH requests/s (redis-benchmark) and deliveries/s
(messages received by all subscribers during the run / run time), the
best of --reps runs, Keel and Redis interleaved.

Slow subscriber row: maxmemory M with allkeys-lru, a dataset filling about
75% of it, one subscriber that never reads (a 4 KB receive buffer), and a
publish flood of 8 KB messages (up to --flood-mb MB). Both servers run with
their default client-output-buffer-limit pubsub (32mb 8mb 60), which is
larger than the headroom. Reported: keys lost (dbsize before - after),
whether the subscriber was disconnected, peak RSS sampled every 20 ms
(and as a % of maxmemory).

Usage: bench/pubsub/run.py [--keel PATH|''] [--redis PATH|''] [--reps R]
       [--requests N] [--clients C] [--maxmemory-mb M] [--flood-mb F]
Takes 2-4 minutes on two cores. Prints Markdown tables.
"""

import argparse
import multiprocessing
import os
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

MESSAGE = b"m" * 64


def frame_len(kind, pattern, channel, msg):
    """Bytes of one RESP2 message frame as a subscriber receives it."""
    parts = [kind] + ([pattern] if pattern is not None else []) + [channel, msg]
    out = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    return len(out)


def read_all(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("subscriber closed")
        data += chunk
    return data


def subscriber_process(port, specs, ready, stop, counter):
    """Open one connection per spec (("SUBSCRIBE"|"PSUBSCRIBE", name)),
    wait for the confirmations, then count every byte received until told
    to stop."""
    socks = []
    for cmd, name in specs:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(kb.resp(cmd, name))
        kind = b"subscribe" if cmd == "SUBSCRIBE" else b"psubscribe"
        conf = b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n:1\r\n" % (len(kind), kind, len(name), name.encode())
        got = read_all(s, len(conf))
        assert got == conf, got
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    ready.set()
    total = 0
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.05):
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            total += len(data)
        counter.value = total
    counter.value = total
    for s in socks:
        s.close()


def fanout_run(srv, specs, frame, requests, clients):
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    counter = multiprocessing.Value("q", 0)
    proc = multiprocessing.Process(target=subscriber_process, args=(srv.port, specs, ready, stop, counter))
    proc.start()
    if not ready.wait(120):
        raise RuntimeError("subscribers not ready")
    before = counter.value
    start = time.time()
    rps = kb.benchmark_rps(srv.port, ["-n", str(requests), "publish", "bench:7:x", MESSAGE.decode()],
                           clients=clients)
    elapsed = time.time() - start
    # Let the subscribers drain what was published (bounded wait).
    expected = requests * len(specs) if specs[0][0] == "SUBSCRIBE" else requests
    deadline = time.time() + 30
    while (counter.value - before) < expected * frame and time.time() < deadline:
        time.sleep(0.05)
    drained = time.time() - start
    delivered = (counter.value - before) // frame
    stop.set()
    proc.join(30)
    return rps, delivered / max(elapsed, drained)


def fanout_specs(kind, n):
    if kind == "channel":
        return [("SUBSCRIBE", "bench:7:x")] * n
    return [("PSUBSCRIBE", "bench:%d:*" % i) for i in range(n)]


def fanout_table(args):
    rows = [("1 subscriber", "channel", 1), ("100 subscribers", "channel", 100),
            ("1000 subscribers", "channel", 1000), ("1000 patterns (1 matches)", "pattern", 1000)]
    servers = {}
    if args.keel:
        servers["keel"] = kb.Server(args.keel)
    if args.redis:
        servers["redis"] = kb.Server(args.redis)
    print(kb.md_head(["scenario", "Keel PUBLISH/s", "Redis PUBLISH/s", "ratio", "Keel deliveries/s",
                      "Redis deliveries/s", "ratio"], "lrrrrrr"))
    for label, kind, n in rows:
        specs = fanout_specs(kind, n)
        frame = (frame_len(b"message", None, b"bench:7:x", MESSAGE) if kind == "channel"
                 else frame_len(b"pmessage", b"bench:7:*", b"bench:7:x", MESSAGE))
        # Fewer publishes when each one fans out to 1000 clients (same
        # number of deliveries as the 100-subscriber row).
        requests = args.requests // 10 if (kind == "channel" and n >= 1000) else args.requests
        best = {name: (0, 0) for name in servers}
        for rep in range(args.reps):
            order = list(servers) if rep % 2 == 0 else list(reversed(list(servers)))
            for name in order:
                rps, dps = fanout_run(servers[name], specs, frame, requests, args.clients)
                best[name] = (max(best[name][0], rps), max(best[name][1], dps))
        k, r = best.get("keel", (0, 0)), best.get("redis", (0, 0))
        print(kb.md_row([label, "%.0f" % k[0], "%.0f" % r[0], "%.2f" % (k[0] / r[0]) if r[0] else "-",
                         "%.0f" % k[1], "%.0f" % r[1], "%.2f" % (k[1] / r[1]) if r[1] else "-"]))
        sys.stdout.flush()
    for s in servers.values():
        s.stop()


def slow_subscriber_run(binary, args):
    maxmemory = args.maxmemory_mb * 1024 * 1024
    srv = kb.Server(binary, ["--maxmemory", str(maxmemory), "--maxmemory-policy", "allkeys-lru"])
    c = srv.client
    value = b"v" * 1000
    # Fill to about 75% of maxmemory as the server itself counts it.
    i = 0
    while kb.used_memory(c) < maxmemory * 0.75:
        p = c.pipeline(transaction=False)
        for _ in range(1000):
            p.set(b"key:%d" % i, value)
            i += 1
        p.execute()
    keys_before = c.dbsize()
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", srv.port))
    slow.sendall(kb.resp("SUBSCRIBE", "flood"))
    time.sleep(0.2)
    peak = [srv.rss()]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], srv.rss())
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    payload = b"p" * 8192
    published = 0
    disconnected = False
    for _ in range(args.flood_mb * 1024 * 1024 // len(payload)):
        p = c.pipeline(transaction=False)
        for _ in range(16):
            p.publish("flood", payload)
        receivers = p.execute()
        published += len(receivers)
        if receivers[-1] == 0:
            disconnected = True
            break
    done.set()
    t.join()
    keys_after = c.dbsize()
    srv.stop()
    slow.close()
    return {"lost": keys_before - keys_after, "keys": keys_before, "disconnected": disconnected,
            "published_mb": published * len(payload) / 1048576.0, "peak": peak[0], "maxmemory": maxmemory}


def slow_table(args):
    print()
    print(kb.md_head(["server", "keys", "keys lost", "subscriber disconnected", "published before",
                      "peak RSS", "peak RSS / maxmemory"], "lrrrrrr"))
    for name, binary in (("Keel", args.keel), ("Redis", args.redis)):
        if not binary:
            continue
        r = slow_subscriber_run(binary, args)
        print(kb.md_row([name, str(r["keys"]), str(r["lost"]), "yes" if r["disconnected"] else "no",
                         "%.0f MB" % r["published_mb"], "%.0f MB" % (r["peak"] / 1048576.0),
                         "%.0f%%" % (100.0 * r["peak"] / r["maxmemory"])]))
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kb.add_server_args(ap)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--maxmemory-mb", type=int, default=64)
    ap.add_argument("--flood-mb", type=int, default=96)
    ap.add_argument("--only", choices=["fanout", "slow", "all"], default="all")
    args = ap.parse_args()
    if args.only in ("fanout", "all"):
        fanout_table(args)
    if args.only in ("slow", "all"):
        slow_table(args)


if __name__ == "__main__":
    main()
