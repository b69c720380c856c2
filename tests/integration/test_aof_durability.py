"""Durability of the AOF under kill -9 during a write flood from several
clients: with appendfsync always every acknowledged write survives; with
everysec at most about two seconds of writes are lost (a kill -9 keeps what
reached the kernel, so what can be lost is what waited in Keel's buffer
while a background fsync was slow). Run against redis-server 7.0 too."""

import threading
import time

import pytest
import redis

from aof_helpers import kill9_and_restart, wait_for

THREADS = 6


def flood(srv, stop, acked, tid):
    """SET w<tid>:<n> n until the connection dies; acked[tid] gets
    (n, ack time) of each acknowledged write."""
    c = redis.Redis(host=srv.host, port=srv.port, socket_timeout=10)
    n = 0
    try:
        while not stop.is_set():
            c.set("w%d:%d" % (tid, n), n)
            acked[tid].append((n, time.time()))
            n += 1
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass
    finally:
        c.connection_pool.disconnect()


def run_flood_and_kill(srv, min_writes=3000):
    stop = threading.Event()
    acked = [[] for _ in range(THREADS)]
    threads = [threading.Thread(target=flood, args=(srv, stop, acked, t)) for t in range(THREADS)]
    for t in threads:
        t.start()
    wait_for(lambda: sum(len(a) for a in acked) >= min_writes, timeout=120, what="write flood")
    kill_time = time.time()
    srv.proc.kill()
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join(30)
    return acked, kill_time


def missing_writes(srv, acked):
    c = srv.client()
    missing = []
    try:
        for tid, writes in enumerate(acked):
            if not writes:
                continue
            p = c.pipeline(transaction=False)
            for n, _ in writes:
                p.get("w%d:%d" % (tid, n))
            for (n, ts), got in zip(writes, p.execute()):
                if got != str(n).encode():
                    missing.append((tid, n, ts))
    finally:
        c.connection_pool.disconnect()
    return missing


@pytest.mark.slow
def test_appendfsync_always_keeps_every_acknowledged_write(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always")
    acked, _ = run_flood_and_kill(srv)
    kill9_and_restart(srv)
    total = sum(len(a) for a in acked)
    assert total >= 3000
    assert missing_writes(srv, acked) == []


@pytest.mark.slow
def test_appendfsync_everysec_loses_at_most_two_seconds(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "everysec")
    acked, kill_time = run_flood_and_kill(srv, min_writes=20000)
    kill9_and_restart(srv)
    missing = missing_writes(srv, acked)
    total = sum(len(a) for a in acked)
    print("everysec: %d acknowledged writes, %d lost" % (total, len(missing)))
    # What may be lost waited in the buffer behind a slow fsync: at most
    # about two seconds (a generous margin for a loaded test machine).
    assert all(kill_time - ts < 5.0 for _tid, _n, ts in missing), missing[:5]


@pytest.mark.slow
def test_kill9_during_rewrite_loses_nothing(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always", "--auto-aof-rewrite-min-size", "64kb",
                       "--auto-aof-rewrite-percentage", "10")
    acked, _ = run_flood_and_kill(srv, min_writes=8000)
    kill9_and_restart(srv)
    assert srv.info("persistence")["aof_enabled"] == 1
    assert missing_writes(srv, acked) == []
