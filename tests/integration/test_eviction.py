"""maxmemory and eviction policies, checked against Redis 7.0 behaviour.

Eviction is approximate (sampling) in both servers, so assertions about
which keys survive are statistical, with wide margins.  Memory limits are
set relative to the server's own used_memory, never as absolute figures:
Keel and Redis spend different amounts per key.
"""

import time

import pytest
import redis

from keel_helpers import cmd, err, wait_for

OOM = "OOM command not allowed when used memory > 'maxmemory'."
VALUE = b"v" * 1000


def used(c):
    return c.info("memory")["used_memory"]


def fill(c, prefix, n, ttl=None, value=VALUE):
    p = c.pipeline(transaction=False)
    for i in range(n):
        if ttl is None:
            p.set("%s%d" % (prefix, i), value)
        else:
            p.set("%s%d" % (prefix, i), value, ex=ttl(i) if callable(ttl) else ttl)
    p.execute()


def existing(c, prefix, n):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.exists("%s%d" % (prefix, i))
    return [i for i, e in enumerate(p.execute()) if e]


def squeeze(c, bytes_to_free):
    """Lower maxmemory below the current usage and let eviction run."""
    limit = used(c) - bytes_to_free
    c.config_set("maxmemory", limit)
    wait_for(lambda: c.ping() and used(c) <= limit, timeout=5)
    return limit


@pytest.fixture
def srv(start_server):
    s = start_server("--maxmemory-samples", "10")
    c = s.client()
    yield c
    c.connection_pool.disconnect()


# --------------------------------------------------------------------------
# noeviction
# --------------------------------------------------------------------------

def test_noeviction_refuses_writes_keeps_reads(srv):
    c = srv
    c.set("a", "1")
    c.config_set("maxmemory-policy", "noeviction")
    c.config_set("maxmemory", 1)
    with pytest.raises(redis.ResponseError) as e:
        cmd(c, "SET", "b", "2")
    assert str(e.value) == OOM
    with pytest.raises(redis.ResponseError) as e:
        cmd(c, "APPEND", "a", "x")
    assert str(e.value) == OOM
    assert cmd(c, "GET", "a") == b"1"
    assert cmd(c, "EXISTS", "a") == 1
    assert cmd(c, "DEL", "a") == 1
    assert c.dbsize() == 0
    assert c.info("stats")["evicted_keys"] == 0
    c.config_set("maxmemory", 0)
    assert cmd(c, "SET", "b", "2") == b"OK"


def test_oom_counts_as_rejected_call(srv):
    c = srv
    c.config_set("maxmemory", 1)
    assert err(c, "SET", "b", "2") == OOM
    stats = c.info("commandstats")
    assert stats["cmdstat_set"]["rejected_calls"] == 1
    c.config_set("maxmemory", 0)


# --------------------------------------------------------------------------
# volatile-*: keys without a TTL are never evicted
# --------------------------------------------------------------------------

@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_keep_persistent_keys(srv, policy):
    c = srv
    c.config_set("maxmemory-policy", policy)
    fill(c, "p:", 200)
    fill(c, "v:", 400, ttl=10000)
    squeeze(c, 150 * 1024)
    assert len(existing(c, "p:", 200)) == 200
    survivors = len(existing(c, "v:", 400))
    assert survivors < 400
    assert c.info("stats")["evicted_keys"] == 400 - survivors


def test_volatile_policy_without_ttl_keys_refuses(srv):
    c = srv
    c.config_set("maxmemory-policy", "volatile-lru")
    fill(c, "p:", 100)
    c.config_set("maxmemory", used(c) - 10 * 1024)
    with pytest.raises(redis.ResponseError) as e:
        cmd(c, "SET", "x", "y")
    assert str(e.value) == OOM
    assert len(existing(c, "p:", 100)) == 100
    assert cmd(c, "GET", "p:1") == VALUE


def test_volatile_ttl_evicts_nearest_expiry_first(srv):
    c = srv
    c.config_set("maxmemory-policy", "volatile-ttl")
    n = 400
    fill(c, "t:", n, ttl=lambda i: 1000 + 10 * i)
    squeeze(c, 100 * 1024)
    alive = set(existing(c, "t:", n))
    evicted = [i for i in range(n) if i not in alive]
    assert len(evicted) >= 50
    # The longest-lived quarter is (nearly) untouched, and what went is
    # mostly from the short-lived end.
    top = range(3 * n // 4, n)
    assert sum(1 for i in top if i in alive) >= 0.95 * len(top)
    assert sum(evicted) / len(evicted) < n / 3


# --------------------------------------------------------------------------
# allkeys-*
# --------------------------------------------------------------------------

def test_allkeys_random_evicts_under_limit(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-random")
    fill(c, "r:", 600)
    limit = squeeze(c, 200 * 1024)
    assert used(c) <= limit
    left = len(existing(c, "r:", 600))
    assert 0 < left < 600


def test_allkeys_lru_keeps_recently_read_keys(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lru")
    n = 600
    fill(c, "k:", n)
    time.sleep(2.2)  # the LRU clock ticks in seconds (as Redis's)
    hot = range(0, n, 2)
    p = c.pipeline(transaction=False)
    for i in hot:
        p.get("k:%d" % i)
    p.execute()
    squeeze(c, 250 * 1024)
    alive = set(existing(c, "k:", n))
    hot_alive = sum(1 for i in hot if i in alive)
    cold_alive = sum(1 for i in range(1, n, 2) if i in alive)
    assert hot_alive > cold_alive + len(hot) // 4


def test_allkeys_lfu_keeps_frequently_read_keys(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lfu")
    n = 600
    fill(c, "f:", n)
    hot = range(0, n, 2)
    p = c.pipeline(transaction=False)
    for _ in range(30):
        for i in hot:
            p.get("f:%d" % i)
    p.execute()
    squeeze(c, 250 * 1024)
    alive = set(existing(c, "f:", n))
    hot_alive = sum(1 for i in hot if i in alive)
    cold_alive = sum(1 for i in range(1, n, 2) if i in alive)
    assert hot_alive > cold_alive + len(hot) // 4


# --------------------------------------------------------------------------
# LFU counters and OBJECT FREQ / IDLETIME
# --------------------------------------------------------------------------

LFU_OFF = ("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
           "switching between policies at runtime LRU and LFU data will take some time to adjust.")
LFU_ON = ("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
          "between policies at runtime LRU and LFU data will take some time to adjust.")


def test_lfu_counter_grows_with_accesses(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lfu")
    c.set("k", "v")
    assert cmd(c, "OBJECT", "FREQ", "k") == 5
    p = c.pipeline(transaction=False)
    for _ in range(200):
        p.get("k")
    p.execute()
    f200 = cmd(c, "OBJECT", "FREQ", "k")
    assert f200 > 5
    for _ in range(5):
        for _ in range(2000):
            p.get("k")
        p.execute()
    assert cmd(c, "OBJECT", "FREQ", "k") >= f200
    assert cmd(c, "OBJECT", "FREQ", "nokey") is None
    with pytest.raises(redis.ResponseError) as e:
        cmd(c, "OBJECT", "IDLETIME", "k")
    assert str(e.value) == LFU_ON


def test_object_freq_needs_lfu_policy(srv):
    c = srv
    start = time.time()
    c.set("k", "v")
    for policy in ("noeviction", "allkeys-lru", "volatile-ttl"):
        c.config_set("maxmemory-policy", policy)
        with pytest.raises(redis.ResponseError) as e:
            cmd(c, "OBJECT", "FREQ", "k")
        assert str(e.value) == LFU_OFF
        # IDLETIME works under every non-LFU policy, in whole seconds, and
        # cannot exceed the time since the SET (measured here, not assumed).
        idle = cmd(c, "OBJECT", "IDLETIME", "k")
        assert 0 <= idle <= int(time.time() - start)
    c.config_set("maxmemory-policy", "volatile-lfu")
    # A key written under an LRU policy holds an access stamp, not a
    # counter: its FREQ is some byte until LFU data replaces it (Redis
    # says the same). A key created under LFU starts at 5.
    assert 0 <= cmd(c, "OBJECT", "FREQ", "k") <= 255
    c.set("k2", "v")
    assert cmd(c, "OBJECT", "FREQ", "k2") == 5


def test_object_idletime_and_touch(srv):
    c = srv
    c.set("k", "v")
    time.sleep(1.5)
    assert cmd(c, "OBJECT", "IDLETIME", "k") >= 1
    c.get("k")
    assert cmd(c, "OBJECT", "IDLETIME", "k") == 0


# --------------------------------------------------------------------------
# Live limits and write floods
# --------------------------------------------------------------------------

def test_config_set_maxmemory_live(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lru")
    fill(c, "m:", 1000)
    limit = used(c) - 400 * 1024
    c.config_set("maxmemory", limit)
    assert wait_for(lambda: used(c) <= limit, timeout=5)
    assert c.info("stats")["evicted_keys"] > 0
    assert c.info("memory")["maxmemory"] == limit
    c.config_set("maxmemory", 0)
    fill(c, "m2:", 100)
    assert len(existing(c, "m2:", 100)) == 100


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_write_flood_stays_near_limit(srv, policy):
    c = srv
    c.config_set("maxmemory-policy", policy)
    limit = used(c) + 2 * 1024 * 1024
    c.config_set("maxmemory", limit)
    worst = 0
    p = c.pipeline(transaction=False)
    for batch in range(60):
        for i in range(100):
            p.set("w:%d:%d" % (batch, i), VALUE)
        p.execute()
        worst = max(worst, used(c) - limit)
    # Every command evicts before it runs, so what remains above the limit
    # is at most one command's own allocations plus connection buffers.
    assert worst <= 128 * 1024
    assert c.info("stats")["evicted_keys"] > 0
    assert c.dbsize() < 6000


def test_write_flood_overshoot_within_one_percent(srv):
    """A pipelined flood of new keys: used_memory seen between pipelines
    stays within 1% of maxmemory, and once the flood stops it is under."""
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lru")
    limit = used(c) + 4 * 1024 * 1024
    c.config_set("maxmemory", limit)
    worst = 0
    p = c.pipeline(transaction=False)
    for batch in range(100):
        for i in range(100):
            p.set("o:%d:%d" % (batch, i), VALUE)
        p.execute()
        worst = max(worst, used(c) - limit)
    assert worst <= limit // 100
    assert wait_for(lambda: used(c) <= limit, timeout=5)
    assert c.info("stats")["evicted_keys"] > 0


@pytest.mark.keel_only
def test_lru_orders_accesses_within_a_second(srv):
    """Keel's LRU stamps have millisecond resolution (Redis's: seconds, so
    keys read in the same second tie): keys read a few milliseconds after
    the others were written survive eviction without any sleep."""
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lru")
    n = 600
    fill(c, "s:", n)
    time.sleep(0.05)
    hot = range(0, n, 2)
    p = c.pipeline(transaction=False)
    for i in hot:
        p.get("s:%d" % i)
    p.execute()
    squeeze(c, 250 * 1024)
    alive = set(existing(c, "s:", n))
    hot_alive = sum(1 for i in hot if i in alive)
    cold_alive = sum(1 for i in range(1, n, 2) if i in alive)
    assert hot_alive >= 0.95 * len(hot)
    assert hot_alive > cold_alive + len(hot) // 2


def test_object_idletime_reports_seconds(srv):
    c = srv
    c.set("k", "v")
    assert cmd(c, "OBJECT", "IDLETIME", "k") == 0
    time.sleep(2.1)
    assert 2 <= cmd(c, "OBJECT", "IDLETIME", "k") <= 3
    cmd(c, "TOUCH", "k")
    assert cmd(c, "OBJECT", "IDLETIME", "k") == 0


@pytest.mark.keel_only
def test_lfu_evicts_older_of_equal_counters(srv):
    """Keel's LFU data orders accesses to 16 ms (Redis's: to the minute, so
    keys of equal counter tie and go at random): among keys never read,
    all at counter 5, the ones written first are evicted first."""
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lfu")
    n = 300
    fill(c, "old:", n)
    time.sleep(0.1)
    fill(c, "new:", n)
    assert cmd(c, "OBJECT", "FREQ", "new:0") == 5
    squeeze(c, 250 * 1024)
    new_alive = len(existing(c, "new:", n))
    old_alive = len(existing(c, "old:", n))
    assert new_alive >= 0.95 * n
    assert new_alive > old_alive + n // 2


def test_lfu_fresh_key_starts_at_five_under_eviction(srv):
    c = srv
    c.config_set("maxmemory-policy", "allkeys-lfu")
    fill(c, "e:", 400)
    squeeze(c, 100 * 1024)
    c.set("fresh", "v")
    assert cmd(c, "OBJECT", "FREQ", "fresh") == 5
