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


def test_always_with_a_client_whose_socket_is_full(start_server):
    # With appendfsync always the event loop's write barrier is on: a
    # socket both readable and writable is written before it is read. A
    # client that pipelines big replies without reading exercises that
    # path; every reply must still arrive, in order, and every write be
    # in the file.
    from aof_helpers import incr_commands
    from keel_helpers import encode_command
    srv = start_server("--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no")
    c = srv.client()
    c.set("big", "x" * 200000)
    c.connection_pool.disconnect()
    with srv.raw() as rc:
        rc.send(b"".join(encode_command("GET", "big") for _ in range(50)))
        rc.send(b"".join(encode_command("SET", "k%d" % i, i) for i in range(200)))
        for _ in range(50):
            assert rc.read() == b"x" * 200000
        for _ in range(200):
            assert rc.read() in ("OK", b"OK")
    sets = [cmd for cmd in incr_commands(srv) if cmd[0] == "SET"]
    assert len(sets) == 201
