#!/usr/bin/python3
"""Eviction quality benchmark: a look-aside cache in front of Keel and Redis.

Workload: GET key; on a miss, SET key value (what an application caching a
database does). Keys follow Zipf(0.99) over N keys ("zipf"), or the same
mixed with a sequential scan walking the whole key space ("zipf+scan": a
fifth of the requests come from the scan, the classic pattern that flushes
an LRU cache). maxmemory is sized so that 10% or 30% of the keys fit,
calibrated per server from its own bytes-per-key (Keel stores a key in
fewer bytes than Redis, so the same byte limit would not be a fair test).

The same trace is replayed against each server and each policy, and run
through three simulated caches holding the same number of keys: exact LRU,
exact LFU (in-cache counts, LRU among ties) and Belady's optimum (evict the
key needed furthest in the future), the upper bound for any policy.

Requests are pipelined in batches of BATCH: the GETs of a batch, then the
SETs of its misses. A key missing twice in one batch counts two misses, a
small pessimism (the simulations process the trace strictly in order).

A third workload replays a trace in real time ("live"): a look-aside
cache as an application outside this repository drives one, Zipf(0.99) over
the same N keys, R requests, a cache of 20% of the keys, but spread evenly
over --live-seconds of wall time (150 by default) instead of as fast as the
client can go. That is what a cache in service sees: LFU counters decay
(lfu-decay-time, a point per minute) while the trace runs, which a replay
lasting a few seconds never shows. Each server/policy pair gets a server
process of its own and all of them replay the trace side by side, batch by
batch, so they see the same minute boundaries at the same point of the
trace; the trace has its own generator and seed, printed with the result.

Also measured, on a separate write flood: how far used_memory goes above
maxmemory (sampled after every pipeline of 100 SETs), and how the sum of
MEMORY USAGE over all keys compares with the growth of used_memory.

Reported with each run: the mean number of keys each server held during
the replay as a fraction of the simulated capacity (so that a server is
not credited for holding more keys, nor blamed for holding fewer), and
the number of evictions (each one is a sampling round: this is how many
rounds the approximation was judged on).

Usage: bench/eviction/run.py [--keel PATH] [--redis PATH|''] [--keys N]
       [--requests R] [--samples S] [--workloads zipf,zipf+scan]
       [--fracs 0.1,0.3] [--policies lru,lfu,random] [--no-flood] [--quick]
       [--live-seconds S (0: skip)] [--live-frac F] [--live-seed N] [--also NAME=PATH]
Runs in about 6 minutes with the defaults on two cores (the live replay
takes --live-seconds); the tables are printed in Markdown.
"""

import argparse
import bisect
import collections
import heapq
import itertools
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import keelbench as kb  # noqa: E402

BATCH = 50
VALUE = b"x" * 100
POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random"]


# ---------------------------------------------------------------- traces

def zipf_sampler(n, s, rng):
    cum, total = [], 0.0
    for rank in range(1, n + 1):
        total += 1.0 / rank ** s
        cum.append(total)
    perm = list(range(n))
    rng.shuffle(perm)  # hot keys spread over the key space

    def draw(k):
        return [perm[min(bisect.bisect_left(cum, rng.random() * total), n - 1)] for _ in range(k)]
    return draw


def make_trace(kind, n, requests, seed):
    rng = random.Random(seed)
    draw = zipf_sampler(n, 0.99, rng)
    trace = draw(requests)
    if kind == "zipf+scan":
        cursor = 0
        for i in range(requests):
            if rng.random() < 0.2:
                trace[i] = cursor
                cursor = (cursor + 1) % n
    return trace


# ---------------------------------------------------------- simulations

def sim_lru(trace, cap):
    cache, hits = collections.OrderedDict(), 0
    for k in trace:
        if k in cache:
            hits += 1
            cache.move_to_end(k)
        else:
            cache[k] = True
            if len(cache) > cap:
                cache.popitem(last=False)
    return hits / len(trace)


def sim_lfu(trace, cap):
    count, stamp, heap, hits = {}, {}, [], 0
    for t, k in enumerate(trace):
        if k in count:
            hits += 1
            count[k] += 1
        else:
            if len(count) >= cap:
                while True:  # lazy deletion: skip heap items that are stale
                    c, when, victim = heapq.heappop(heap)
                    if count.get(victim) == c and stamp[victim] == when:
                        del count[victim]
                        break
            count[k] = 1
        stamp[k] = t
        heapq.heappush(heap, (count[k], t, k))
    return hits / len(trace)


def sim_belady(trace, cap):
    n = len(trace)
    nxt, last = [0] * n, {}
    for i in range(n - 1, -1, -1):
        nxt[i] = last.get(trace[i], n + i)
        last[trace[i]] = i
    cached, heap, hits = {}, [], 0
    for i, k in enumerate(trace):
        if k in cached:
            hits += 1
        elif len(cached) >= cap:
            while True:
                neg, victim = heapq.heappop(heap)
                if cached.get(victim) == -neg:
                    del cached[victim]
                    break
        cached[k] = nxt[i]
        heapq.heappush(heap, (-nxt[i], k))
    return hits / n


def live_trace(n, requests, s, seed):
    """The live workload's trace, generated on its own: key ranks drawn by
    inverting the Zipf(s) distribution function over n ranks, each rank
    mapped to a key through a seeded random permutation (so hot keys are
    scattered over the key space, as an application's ids are)."""
    rng = random.Random(seed)
    weights = [1.0 / (rank ** s) for rank in range(1, n + 1)]
    cdf = list(itertools.accumulate(weights))
    ids = rng.sample(range(n), n)
    return [ids[min(bisect.bisect_right(cdf, rng.random() * cdf[-1]), n - 1)] for _ in range(requests)]


# ------------------------------------------------------------- workloads

def load_all(c, n, value=VALUE):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("key:%d" % i, value)
        if i % BATCH == BATCH - 1:
            p.execute()
    p.execute()


def warm_buffers(c):
    """Bring connection buffers to the size they have during a replay, so
    that the base figure includes them and the keys get the rest."""
    for _ in range(20):
        p = c.pipeline(transaction=False)
        for i in range(BATCH):
            p.get("warm:%d" % i)
        p.execute()
        load_all(c, BATCH)
    c.flushall()
    time.sleep(0.2)


def calibrate(srv, n):
    """Base memory, bytes per key, and MEMORY USAGE accuracy."""
    c = srv.client
    c.config_set("maxmemory", 0)
    c.flushall()
    warm_buffers(c)
    base = kb.used_memory(c)
    load_all(c, n)
    grown = kb.used_memory(c) - base
    p = c.pipeline(transaction=False)
    for i in range(0, n, 10):
        p.memory_usage("key:%d" % i, samples=0)
    usage = sum(p.execute()) * 10
    c.flushall()
    time.sleep(0.2)
    return base, grown / n, usage / grown


def replay(srv, trace, policy, base, per_key, frac, n, samples):
    """Hit ratio, and the mean number of keys held as a fraction of the
    simulated capacity (a server holding fewer keys than the simulations
    is handicapped, one holding more is favoured)."""
    c = srv.client
    c.flushall()
    c.config_set("maxmemory-policy", policy)
    c.config_set("maxmemory-samples", samples)
    c.config_set("maxmemory", int(base + per_key * n * frac))
    c.config_resetstat()
    hits, held, held_samples = 0, 0, 0
    warm = len(trace) // 5  # the cache is full well before that
    for start in range(0, len(trace), BATCH):
        keys = ["key:%d" % k for k in trace[start:start + BATCH]]
        p = c.pipeline(transaction=False)
        for k in keys:
            p.get(k)
        res = p.execute()
        misses = [k for k, v in zip(keys, res) if v is None]
        hits += len(keys) - len(misses)
        if misses:
            for k in set(misses):
                p.set(k, VALUE)
            p.execute()
        if start >= warm and (start // BATCH) % 50 == 0:
            held += c.dbsize()
            held_samples += 1
    c.config_set("maxmemory", 0)
    evicted = c.info("stats")["evicted_keys"]
    return hits / len(trace), held / max(held_samples, 1) / (n * frac), evicted


class LiveTarget:
    """One server process under one policy, replaying the live trace."""

    def __init__(self, binary, name, policy, n, frac, samples):
        self.srv = kb.Server(binary, name=name)
        self.name, self.policy = name, policy
        base, self.per_key, _ = calibrate(self.srv, n)
        c = self.srv.client
        c.config_set("maxmemory-policy", policy)
        c.config_set("maxmemory-samples", samples)
        c.config_set("maxmemory", int(base + self.per_key * n * frac))
        c.config_resetstat()  # evicted_keys of this replay only
        self.hits = 0

    def batch(self, keys):
        p = self.srv.client.pipeline(transaction=False)
        for k in keys:
            p.get(k)
        res = p.execute()
        misses = set(k for k, v in zip(keys, res) if v is None)
        self.hits += sum(1 for v in res if v is not None)
        for k in misses:
            p.set(k, VALUE)
        p.execute()

    def finish(self, requests):
        stats = self.srv.client.info("stats")
        held = self.srv.client.dbsize()
        self.srv.stop()
        return self.hits / requests, held, stats["evicted_keys"]


def live_replay(targets, trace, seconds):
    """Replays the trace batch by batch on every target in turn, paced so
    that the whole trace takes `seconds` of wall time."""
    start = time.monotonic()
    for at in range(0, len(trace), BATCH):
        keys = ["key:%d" % k for k in trace[at:at + BATCH]]
        for t in targets:
            t.batch(keys)
        due = start + seconds * (at + BATCH) / len(trace)
        late = due - time.monotonic()
        if late > 0:
            time.sleep(late)
    return time.monotonic() - start


def run_live(args, binaries, policies):
    n, requests, frac = args.keys, args.requests, args.live_frac
    trace = live_trace(n, requests, 0.99, args.live_seed)
    cap = int(n * frac)
    print("\nlive: look-aside cache (GET, SET on a miss), Zipf(0.99) over %d keys, %d requests, "
          "cache %d%% of the keys (%d), seed %d, replayed over %d s, maxmemory-samples %d"
          % (n, requests, frac * 100, cap, args.live_seed, args.live_seconds, args.samples))
    targets = [LiveTarget(b, name, pol, n, frac, args.samples) for name, b in binaries for pol in policies]
    took = live_replay(targets, trace, args.live_seconds)
    cols = ["%s %s" % (t.name, t.policy.replace("allkeys-", "")) for t in targets]
    results = [t.finish(requests) for t in targets]
    print("(took %.0f s)\n" % took)
    print(kb.md_head(["workload", "cache", "exact LRU", "exact LFU"] + cols))
    print("| live %ds | %d%% | %.4f | %.4f |" % (args.live_seconds, frac * 100, sim_lru(trace, cap), sim_lfu(trace, cap))
          + "".join(" %.4f |" % r[0] for r in results))
    for col, (ratio, held, evicted) in zip(cols, results):
        print("%-12s keys held at the end / capacity %.3f, %7d evictions" % (col, held / cap, evicted))


def flood_overshoot(srv, mb=4, count=40000):
    """Run on a fresh server, so that used_memory_peak (which Keel updates
    after every command, Redis less often) tells the worst overshoot
    between INFO samples too. Returns (sampled worst, peak - limit)."""
    c = srv.client
    warm_buffers(c)
    c.config_set("maxmemory-policy", "allkeys-lru")
    limit = kb.used_memory(c) + mb * 1024 * 1024
    c.config_set("maxmemory", limit)
    worst, p = 0, c.pipeline(transaction=False)
    value = b"y" * 1000
    for i in range(count):
        p.set("flood:%d" % i, value)
        if i % 100 == 99:
            p.execute()
            worst = max(worst, kb.used_memory(c) - limit)
    p.execute()
    peak = c.info("memory")["used_memory_peak"]
    c.config_set("maxmemory", 0)
    c.flushall()
    return worst, peak - limit


# ------------------------------------------------------------------ main

def run_workloads(args, servers, policies, workloads, fracs):
    """The zipf / zipf+scan table: every server and policy in turn, each
    replay as fast as the client goes."""
    cal = {}
    for s in servers:
        base, per_key, accuracy = calibrate(s, args.keys)
        cal[s.name] = (base, per_key)
        print("%-6s base %8d B, %6.1f B/key, sum(MEMORY USAGE)/used_memory growth = %.3f"
              % (s.name, base, per_key, accuracy))
    print("%d keys, %d requests per trace, maxmemory-samples %d\n" % (args.keys, args.requests, args.samples))
    cols = ["%s %s" % (s.name, p.replace("allkeys-", "")) for s in servers for p in policies]
    print(kb.md_head(["workload", "cache", "exact LRU", "exact LFU", "Belady"] + cols))
    details = []
    for wi, kind in enumerate(workloads):
        trace = make_trace(kind, args.keys, args.requests, seed=42 + wi)
        for frac in fracs:
            cap = int(args.keys * frac)
            row = "| %s | %d%% | %.3f | %.3f | %.3f |" % (kind, frac * 100, sim_lru(trace, cap),
                                                        sim_lfu(trace, cap), sim_belady(trace, cap))
            for s in servers:
                base, per_key = cal[s.name]
                for pol in policies:
                    ratio, held, evicted = replay(s, trace, pol, base, per_key, frac, args.keys, args.samples)
                    row += " %.3f |" % ratio
                    details.append("%-10s %3d%%  %-6s %-15s keys held / capacity %.3f, %7d evictions"
                                   % (kind, frac * 100, s.name, pol, held, evicted))
            print(row)
            sys.stdout.flush()
    print("\nexact LRU, exact LFU (in-cache counts, LRU among ties), Belady: simulated with the same "
          "capacity in keys; server columns are measured hit ratios.\n")
    print("\n".join(details))


def main():
    ap = argparse.ArgumentParser()
    kb.add_server_args(ap, redis_help="'' to skip Redis")
    ap.add_argument("--keys", type=int, default=50000)
    ap.add_argument("--requests", type=int, default=300000)
    ap.add_argument("--samples", type=int, default=5, help="maxmemory-samples")
    ap.add_argument("--workloads", default="zipf,zipf+scan")
    ap.add_argument("--fracs", default="0.1,0.3", help="cache sizes, fractions of the keys")
    ap.add_argument("--policies", default="lru,lfu,random")
    ap.add_argument("--no-flood", action="store_true", help="skip the write flood")
    ap.add_argument("--quick", action="store_true", help="one workload, one size, no live replay")
    ap.add_argument("--live-seconds", type=int, default=150, help="live replay's duration, 0 to skip it")
    ap.add_argument("--live-frac", type=float, default=0.2, help="live replay's cache size")
    ap.add_argument("--live-seed", type=int, default=2026)
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH",
                    help="another server binary for the live replay (e.g. the build before a change)")
    args = ap.parse_args()
    policies = ["allkeys-" + p for p in args.policies.split(",")]
    workloads = ["zipf"] if args.quick else [w for w in args.workloads.split(",") if w and w != "none"]
    fracs = [0.1] if args.quick else [float(f) for f in args.fracs.split(",")]

    servers = [kb.Server(args.keel, name="keel")]
    if args.redis and os.path.exists(args.redis):
        servers.append(kb.Server(args.redis, name="redis"))
    try:
        for s in servers if not args.no_flood else []:
            worst, peak_over = flood_overshoot(s)
            print("%-6s write flood (4MB limit, 40k x 1KB SETs, pipelines of 100): used_memory - maxmemory "
                  "after each pipeline: worst %d B; used_memory_peak - maxmemory: %d B" % (s.name, worst, peak_over))
        if workloads:
            run_workloads(args, servers, policies, workloads, fracs)
        if args.live_seconds and not args.quick:
            binaries = [(s.name, b) for s, b in zip(servers, [args.keel, args.redis])]
            binaries += [tuple(a.split("=", 1)) for a in args.also]
            run_live(args, binaries, [p for p in policies if p != "allkeys-random"])
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
