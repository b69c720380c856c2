"""MEMORY subcommands and INFO memory, checked against Redis 7.0."""

import os
import re
import time

import pytest
import redis

from keel_helpers import cmd, expected_allocator, requires_jemalloc, running_against_redis


# --------------------------------------------------------------------------
# MEMORY USAGE
# --------------------------------------------------------------------------

def test_usage_missing_key(r):
    assert cmd(r, "MEMORY", "USAGE", "nokey") is None


def test_usage_grows_with_value_size(r):
    r.set("small", "x" * 10)
    r.set("medium", "x" * 1000)
    r.set("large", "x" * 100000)
    s, m, l = (cmd(r, "MEMORY", "USAGE", k) for k in ("small", "medium", "large"))
    assert 0 < s < m < l
    assert 1000 <= m < 1000 * 1.5 + 200
    assert 100000 <= l < 100000 * 1.3 + 200


def test_usage_counts_ttl_and_key(r):
    r.set("k", "x" * 100)
    without = cmd(r, "MEMORY", "USAGE", "k")
    r.set("k" * 200, "x" * 100)
    assert cmd(r, "MEMORY", "USAGE", "k" * 200) > without + 150


def test_usage_samples_argument(r):
    r.set("k", "x" * 100)
    exact = cmd(r, "MEMORY", "USAGE", "k", "SAMPLES", "0")
    assert exact == cmd(r, "MEMORY", "USAGE", "k")
    assert exact == cmd(r, "MEMORY", "USAGE", "k", "samples", "100")


def test_usage_errors(r):
    r.set("k", "v")
    for args in (("SAMPLES",), ("SAMPLES", "-1"), ("FOO", "1"), ("SAMPLES", "1", "X")):
        with pytest.raises(redis.ResponseError) as e:
            cmd(r, "MEMORY", "USAGE", "k", *args)
        assert str(e.value) == "syntax error"
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "MEMORY", "USAGE", "k", "SAMPLES", "abc")
    assert str(e.value) == "value is not an integer or out of range"
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "MEMORY", "USAGE")
    assert str(e.value) == "wrong number of arguments for 'memory|usage' command"


def test_usage_does_not_touch(r):
    r.set("k", "v")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        r.set("f", "v")
        before = cmd(r, "OBJECT", "FREQ", "f")
        for _ in range(50):
            cmd(r, "MEMORY", "USAGE", "f")
        assert cmd(r, "OBJECT", "FREQ", "f") == before
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_usage_aggregate_samples(r):
    cmd(r, "HSET", "h", "f0", "v0")
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.hset("h", "field:%d" % i, "value:%d" % i)
    p.execute()
    exact = cmd(r, "MEMORY", "USAGE", "h", "SAMPLES", "0")
    estimate = cmd(r, "MEMORY", "USAGE", "h")
    assert exact > 2000 * 10
    assert 0.5 * exact < estimate < 2 * exact


def test_usage_list_grows(r):
    cmd(r, "RPUSH", "l", "x")
    small = cmd(r, "MEMORY", "USAGE", "l", "SAMPLES", "0")
    # Random bytes: Keel compresses interior list nodes by default
    # (list-compress-depth 1), and repetitive values would shrink 10x.
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.rpush("l", os.urandom(10))
    p.execute()
    assert cmd(r, "MEMORY", "USAGE", "l", "SAMPLES", "0") > small + 5000 * 8


# --------------------------------------------------------------------------
# MEMORY STATS / DOCTOR / PURGE / MALLOC-STATS / HELP
# --------------------------------------------------------------------------

STATS_FIELDS = [
    "peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
    "clients.slaves", "clients.normal", "aof.buffer", "lua.caches", "overhead.total",
    "keys.count", "keys.bytes-per-key", "dataset.bytes", "dataset.percentage", "peak.percentage",
    "allocator.allocated", "allocator.active", "allocator.resident",
    "allocator-fragmentation.ratio", "allocator-fragmentation.bytes", "allocator-rss.ratio",
    "allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes", "fragmentation",
    "fragmentation.bytes",
]


def stats_map(r):
    flat = cmd(r, "MEMORY", "STATS")
    out = {}
    for i in range(0, len(flat), 2):
        k = flat[i].decode()
        v = flat[i + 1]
        if isinstance(v, list):
            v = {v[j].decode(): v[j + 1] for j in range(0, len(v), 2)}
        out[k] = v
    return out


def test_stats_fields(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    r.execute_command("SELECT", 3)
    r.set("c", "3")
    r.execute_command("SELECT", 0)
    st = stats_map(r)
    for f in STATS_FIELDS:
        assert f in st, f
    assert st["keys.count"] == 3
    assert "db.0" in st and "db.3" in st and "db.1" not in st
    db0 = st["db.0"]
    assert "overhead.hashtable.main" in db0 and "overhead.hashtable.expires" in db0
    assert db0["overhead.hashtable.main"] > 0
    assert st["total.allocated"] >= st["startup.allocated"]
    assert st["peak.allocated"] >= st["startup.allocated"]
    assert float(st["fragmentation"]) > 0
    r.flushall()


def test_stats_arity(r):
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "MEMORY", "STATS", "x")
    assert str(e.value) == "wrong number of arguments for 'memory|stats' command"


def test_doctor_speaks_to_sam(r):
    out = cmd(r, "MEMORY", "DOCTOR")
    text = out.decode() if isinstance(out, bytes) else str(out)
    assert "Sam" in text


@pytest.mark.keel_only
def test_doctor_reports_volatile_policy_without_ttls(r):
    r.set("k", "v")
    r.config_set("maxmemory-policy", "volatile-lru")
    r.config_set("maxmemory", 1024 * 1024 * 1024)
    try:
        text = cmd(r, "MEMORY", "DOCTOR").decode()
        assert text.startswith("Sam, I detected a few issues")
        assert "volatile-lru" in text and "TTL" in text
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


@pytest.mark.keel_only
def test_doctor_names_big_keys(r):
    r.set("huge:blob", "x" * (3 * 1024 * 1024))
    text = cmd(r, "MEMORY", "DOCTOR").decode()
    assert "huge:blob" in text and "string" in text


def test_purge(r):
    assert cmd(r, "MEMORY", "PURGE") == b"OK"


def test_malloc_stats(r):
    out = cmd(r, "MEMORY", "MALLOC-STATS")
    text = out.decode() if isinstance(out, bytes) else str(out)
    if expected_allocator() == "jemalloc":
        assert text.startswith("___ Begin jemalloc statistics ___")
    else:
        assert text == "Stats not supported for the current allocator"


def test_help(r):
    lines = cmd(r, "MEMORY", "HELP")
    assert lines[0] == b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    text = b"\n".join(lines)
    for sub in (b"DOCTOR", b"MALLOC-STATS", b"PURGE", b"STATS", b"USAGE <key> [SAMPLES <count>]", b"HELP"):
        assert sub in text


def test_unknown_subcommand(r):
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "MEMORY", "NOSUCH")
    assert str(e.value) == "unknown subcommand 'NOSUCH'. Try MEMORY HELP."
    with pytest.raises(redis.ResponseError) as e:
        cmd(r, "MEMORY")
    assert str(e.value) == "wrong number of arguments for 'memory' command"


# --------------------------------------------------------------------------
# INFO memory
# --------------------------------------------------------------------------

INFO_FIELDS = [
    "used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
    "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead", "used_memory_startup",
    "used_memory_dataset", "used_memory_dataset_perc", "allocator_allocated", "allocator_active",
    "allocator_resident", "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio",
    "allocator_rss_bytes", "rss_overhead_ratio", "rss_overhead_bytes", "mem_fragmentation_ratio",
    "mem_fragmentation_bytes", "total_system_memory", "total_system_memory_human", "maxmemory",
    "maxmemory_human", "maxmemory_policy", "mem_not_counted_for_evict", "mem_clients_normal",
    "mem_clients_slaves", "mem_aof_buffer", "mem_replication_backlog", "lazyfree_pending_objects",
    "lazyfreed_objects", "active_defrag_running", "mem_allocator",
]


def test_info_memory_fields(r):
    info = r.info("memory")
    for f in INFO_FIELDS:
        assert f in info, f
    assert info["used_memory"] > 0
    assert info["used_memory_rss"] > 0
    assert info["used_memory_peak"] >= info["used_memory_startup"]
    assert info["total_system_memory"] > info["used_memory"]
    assert re.match(r"^\d+(\.\d+)?[BKMGTP]$", info["used_memory_human"])
    assert info["maxmemory_policy"] == "noeviction"
    if running_against_redis():
        assert info["mem_not_counted_for_evict"] == 0
    else:
        # Keel never evicts keys to pay for client buffers: what clients
        # hold is excluded from the eviction figure (docs/ARCHITECTURE.md).
        assert 0 < info["mem_not_counted_for_evict"] <= info["mem_clients_normal"] * 2
    assert info["lazyfree_pending_objects"] == 0
    assert info["mem_allocator"].startswith(expected_allocator())


def test_info_memory_tracks_data(r):
    before = r.info("memory")
    r.set("big", "x" * 1000000)
    after = r.info("memory")
    assert after["used_memory"] - before["used_memory"] >= 1000000
    assert after["used_memory_dataset"] > before["used_memory_dataset"]
    assert after["used_memory_peak"] >= after["used_memory"]
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory", "1gb")
    try:
        info = r.info("memory")
        assert info["maxmemory"] == 1024 ** 3
        assert info["maxmemory_human"] == "1.00G"
        assert info["maxmemory_policy"] == "allkeys-lru"
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


def test_info_memory_section_only(r):
    text = r.execute_command("INFO", "memory")
    if isinstance(text, dict):
        assert "used_memory" in text
    else:
        s = text.decode() if isinstance(text, bytes) else text
        assert s.startswith("# Memory")


# --------------------------------------------------------------------------
# Every memory parameter is settable live, read back in its canonical form,
# and refuses bad values without changing.

MEMORY_PARAMS = [
    # name, a new valid value, its CONFIG GET form, an invalid value
    ("maxmemory", "100mb", "104857600", "lots"),
    ("maxmemory-policy", "volatile-ttl", "volatile-ttl", "most-recent"),
    ("maxmemory-samples", "7", "7", "0"),
    ("maxmemory-eviction-tenacity", "50", "50", "101"),
    ("lfu-log-factor", "20", "20", "-1"),
    ("lfu-decay-time", "3", "3", "-1"),
    ("lazyfree-lazy-eviction", "yes", "yes", "maybe"),
    ("lazyfree-lazy-expire", "yes", "yes", "maybe"),
    ("lazyfree-lazy-server-del", "yes", "yes", "maybe"),
    ("lazyfree-lazy-user-del", "yes", "yes", "maybe"),
    ("lazyfree-lazy-user-flush", "yes", "yes", "maybe"),
    ("active-defrag-ignore-bytes", "200mb", "209715200", "lots"),
    ("active-defrag-threshold-lower", "20", "20", "-5"),
    ("active-defrag-threshold-upper", "80", "80", "-5"),
    ("active-defrag-cycle-min", "5", "5", "0"),
    ("active-defrag-cycle-max", "50", "50", "0"),
    ("active-defrag-max-scan-fields", "500", "500", "0"),
    ("jemalloc-bg-thread", "no", "no", "maybe"),
]


@pytest.mark.parametrize("name,value,shown,bad", MEMORY_PARAMS, ids=[p[0] for p in MEMORY_PARAMS])
def test_memory_parameter_config_set_live(r, name, value, shown, bad):
    old = r.config_get(name)[name]
    try:
        assert r.config_set(name, value)
        assert r.config_get(name)[name] == shown
        with pytest.raises(redis.ResponseError, match="^CONFIG SET failed"):
            r.config_set(name, bad)
        assert r.config_get(name)[name] == shown
    finally:
        r.config_set(name, old)


def test_maxmemory_live_change_evicts_and_shows_in_info(r):
    r.config_set("maxmemory-policy", "allkeys-random")
    try:
        p = r.pipeline(transaction=False)
        for i in range(2000):
            p.set("k%d" % i, "x" * 1000)
        p.execute()
        used = int(r.info("memory")["used_memory"])
        r.config_set("maxmemory", str(used - 500 * 1024))
        r.set("trigger", "1")
        assert int(r.info("stats")["evicted_keys"]) > 0
        assert int(r.info("memory")["maxmemory"]) == used - 500 * 1024
    finally:
        r.config_set("maxmemory", "0")
        r.config_set("maxmemory-policy", "noeviction")


def jemalloc_stats(r):
    text = cmd(r, "MEMORY", "MALLOC-STATS")
    text = text.decode() if isinstance(text, bytes) else text
    assert text.startswith("___ Begin jemalloc statistics ___")
    return text


@requires_jemalloc
def test_jemalloc_bg_thread_toggles_the_allocator(r):
    # jemalloc reports the live setting as "(background_thread: true)".
    assert r.config_get("jemalloc-bg-thread")["jemalloc-bg-thread"] == "yes"
    assert "background_thread: true" in jemalloc_stats(r)
    try:
        r.config_set("jemalloc-bg-thread", "no")
        assert "background_thread: false" in jemalloc_stats(r)
    finally:
        r.config_set("jemalloc-bg-thread", "yes")
    assert "background_thread: true" in jemalloc_stats(r)


def rss(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.keel_only
@requires_jemalloc
def test_idle_pages_returned_when_rss_nears_maxmemory(start_server):
    # 48 MB of values deleted: jemalloc keeps part of the freed pages
    # resident (dirty) for its decay time, 10 s, and without its
    # background thread a quiet server keeps them indefinitely. With
    # maxmemory just above RSS, Keel purges them at once (reclaim.c).
    srv = start_server("--jemalloc-bg-thread", "no")
    r = srv.client()
    jemalloc_stats(r)
    base = rss(srv)
    big = b"x" * (1 << 20)
    for i in range(48):
        r.set("big%d" % i, big)
    r.flushall()
    time.sleep(0.3)
    before = rss(srv)
    assert before > base + (16 << 20)
    assert int(r.info("memory")["allocator_reclaim_purges"]) == 0
    r.config_set("maxmemory", str(before + (before >> 4)))
    deadline = time.time() + 10
    while time.time() < deadline and rss(srv) > base + (8 << 20):
        time.sleep(0.05)
    assert rss(srv) <= base + (8 << 20)
    assert int(r.info("memory")["allocator_reclaim_purges"]) >= 1


@pytest.mark.keel_only
@requires_jemalloc
def test_no_purge_without_memory_pressure(start_server):
    srv = start_server("--jemalloc-bg-thread", "no", "--maxmemory", "1gb")
    r = srv.client()
    jemalloc_stats(r)
    big = b"x" * (1 << 20)
    for i in range(16):
        r.set("big%d" % i, big)
    r.flushall()
    time.sleep(0.5)
    assert int(r.info("memory")["allocator_reclaim_purges"]) == 0
    assert int(r.info("memory")["allocator_resident"]) > int(r.info("memory")["allocator_active"]) + (1 << 20)
