#!/usr/bin/env python3
"""bench/metrics: the cost of observability (issue 17).

  /usr/bin/python3 bench/metrics/run.py [--reps 3] [--n 300000] [--idle 20]

1. GET throughput (redis-benchmark, 50 clients, 100k keys) with a
   Prometheus-style scrape every second against none: Keel scraped on its
   built-in /metrics, Redis scraped by Debian's redis_exporter (itself
   scraped every second). Runs interleaved, best of --reps.
2. What one scrape of /metrics costs Keel: mean wall time over 200
   requests and the body size.
3. The once-a-second memory ring and the keyspace sampler: CPU seconds per
   second of an idle server over --idle seconds (utime+stime from /proc),
   Keel empty, Keel with 1M keys (the sampler walks them all the time),
   Redis empty for reference; and the ring's fixed size.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

EXPORTER = "/usr/bin/prometheus-redis-exporter"


class Scraper:
    """GETs url once a second in a thread until stopped."""

    def __init__(self, url):
        self.url, self.stop_flag, self.count = url, threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag.is_set():
            with urllib.request.urlopen(self.url, timeout=10) as r:
                r.read()
            self.count += 1
            self.stop_flag.wait(1.0)

    def stop(self):
        self.stop_flag.set()
        self.thread.join()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(srv, seconds):
    c0, t0 = cpu_seconds(srv.pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(srv.pid) - c0) / (time.monotonic() - t0)


def get_rps(port, n):
    return kb.benchmark_rps(port, ["-n", str(n), "-r", "100000", "GET", "key:__rand_int__"])


def main():
    ap = argparse.ArgumentParser()
    kb.add_server_args(ap)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=300000)
    ap.add_argument("--idle", type=float, default=20)
    a = ap.parse_args()

    mport = kb.free_port()
    keel = kb.Server(a.keel, ["--metrics-port", str(mport), "--enable-debug-command", "yes"])
    red = kb.Server(a.redis, ["--enable-debug-command", "yes"])
    for s in (keel, red):
        s.client.execute_command("DEBUG", "POPULATE", 100000, "key", 16)
    eport = kb.free_port()
    exporter = subprocess.Popen([EXPORTER, "-redis.addr", "redis://127.0.0.1:%d" % red.port, "-web.listen-address",
                                 "127.0.0.1:%d" % eport], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    keel_url, red_url = "http://127.0.0.1:%d/metrics" % mport, "http://127.0.0.1:%d/metrics" % eport
    best = {}
    for rep in range(a.reps):
        for name, srv, url in ((("keel", keel, keel_url), ("redis", red, red_url))[::1 if rep % 2 == 0 else -1]):
            for scraped in ((False, True) if rep % 2 == 0 else (True, False)):
                sc = Scraper(url) if scraped else None
                rps = get_rps(srv.port, a.n)
                if sc:
                    sc.stop()
                key = (name, scraped)
                best[key] = max(best.get(key, 0), rps)
    exporter.terminate()
    exporter.wait()

    t0 = time.monotonic()
    for _ in range(200):
        with urllib.request.urlopen(keel_url, timeout=10) as r:
            body = r.read()
    scrape_ms = (time.monotonic() - t0) * 1000 / 200

    print(kb.md_head(["GET rps (100k keys, 50 clients, best of %d)" % a.reps, "no scrape", "scrape every 1 s",
                      "ratio"], "lrrr"))
    for name, how in (("keel", "built-in /metrics"), ("redis", "redis_exporter")):
        base, with_scrape = best[(name, False)], best[(name, True)]
        print(kb.md_row(["%s (%s)" % (name, how), "%.0f" % base, "%.0f" % with_scrape, "%.3f" % (with_scrape / base)]))
    print()
    print("one /metrics scrape of Keel (100k keys): %.2f ms mean over 200, %d bytes" % (scrape_ms, len(body)))
    print()

    keel.client.flushall()
    red.stop()
    keel.stop()
    empty = kb.Server(a.keel)
    full = kb.Server(a.keel, ["--enable-debug-command", "yes"])
    full.client.execute_command("DEBUG", "POPULATE", 1000000, "key", 16)
    red = kb.Server(a.redis)
    time.sleep(2)
    rows = [("keel, empty", idle_cpu(empty, a.idle)), ("keel, 1M keys (sampler walking)", idle_cpu(full, a.idle)),
            ("redis, empty", idle_cpu(red, a.idle))]
    print(kb.md_head(["idle server (hz 10)", "CPU s per s"], "lr"))
    for name, v in rows:
        print(kb.md_row([name, "%.4f" % v]))
    for s in (empty, full, red):
        s.stop()


if __name__ == "__main__":
    main()
