"""What the memory manager tells the rest of the server, and asks it,
through the callbacks core registers at start-up (memory.h's
memory_callbacks) and the keyspace API (db_evict_key): an evicted key
breaks a WATCH, nothing is evicted while clients are paused, and an
eviction cycle reaches the latency monitor. Each test fails if the
corresponding wiring is missing."""

import time

from keel_helpers import wait_for


def over_limit_server(start_server, *extra):
    srv = start_server("--maxmemory-policy", "volatile-lru", *extra)
    return srv, srv.client()


def test_evicted_key_breaks_watch(start_server):
    srv, c = over_limit_server(start_server)
    watcher = srv.client()
    c.set("watched", "v", ex=1000)
    assert watcher.execute_command("WATCH", "watched") in (b"OK", "OK", True)
    c.config_set("maxmemory", "1")
    assert wait_for(lambda: c.exists("watched") == 0, timeout=10)
    c.config_set("maxmemory", "0")
    watcher.execute_command("MULTI")
    watcher.execute_command("SET", "other", "1")
    assert watcher.execute_command("EXEC") is None  # aborted: the key changed
    assert int(c.info("stats")["evicted_keys"]) == 1


def test_nothing_is_evicted_while_clients_are_paused(start_server):
    srv, c = over_limit_server(start_server)
    c.set("kept", "v", ex=1000)
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    c.config_set("maxmemory", "1")
    time.sleep(0.5)  # five cron ticks, each of which would evict
    assert c.exists("kept") == 1
    assert int(c.info("stats")["evicted_keys"]) == 0
    c.execute_command("CLIENT", "UNPAUSE")
    assert wait_for(lambda: c.exists("kept") == 0, timeout=10)
    c.config_set("maxmemory", "0")


def test_eviction_cycle_reaches_the_latency_monitor(start_server):
    srv, c = over_limit_server(start_server, "--maxmemory-eviction-tenacity", "100")
    c.config_set("latency-monitor-threshold", "1")
    c.execute_command("DEBUG", "POPULATE", "200000", "k", "10")
    for i in range(0, 200000, 10000):
        p = c.pipeline(transaction=False)
        for j in range(i, i + 10000):
            p.expire("k:%d" % j, 1000)
        p.execute()
    c.config_set("maxmemory", "1")
    assert wait_for(lambda: c.dbsize() == 0, timeout=30)
    c.config_set("maxmemory", "0")
    events = [e[0] for e in c.execute_command("LATENCY", "LATEST")]
    assert b"eviction-cycle" in events or "eviction-cycle" in events
