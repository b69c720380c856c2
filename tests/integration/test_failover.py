"""FAILOVER (issue 14): Redis 7.0's coordinated failover. The master
pauses writes, waits until the target replica (or any replica) has
acknowledged its whole stream, then becomes that replica's replica with
`PSYNC <replid> <offset> FAILOVER`, which promotes the target. TIMEOUT
aborts a wait that lasts too long (or with FORCE fails over anyway),
FAILOVER ABORT stops it, and every invalid use gets Redis's error.

Every test here also passes against redis-server (KEEL_SERVER=
/usr/bin/redis-server); test_failover_interop.py mixes the two."""
import os
import signal
import time
from contextlib import contextmanager

import pytest
import redis

from keel_helpers import exactly, wait_for
from repl_helpers import attach, digest_all, logs, repl_info, wait_in_sync


def state(srv):
    return repl_info(srv)["master_failover_state"]


def role(srv):
    return repl_info(srv)["role"]


def stat(srv, field):
    return srv.info("stats")[field]


@contextmanager
def stopped(srv):
    """The server process stopped (SIGSTOP) for the duration: it neither
    acknowledges nor answers, as a slow or hung replica."""
    os.kill(srv.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(srv.proc.pid, signal.SIGCONT)


@pytest.fixture
def trio(start_server):
    """A master with two replicas attached and in sync."""
    m = start_server("--repl-diskless-sync-delay", "0")
    s1 = start_server("--repl-diskless-sync-delay", "0")
    s2 = start_server("--repl-diskless-sync-delay", "0")
    mc = m.client()
    for i in range(100):
        mc.set("k%d" % i, i)
    mc.rpush("list", *range(50))
    mc.hset("h", mapping={"a": 1, "b": 2})
    attach(s1, m)
    attach(s2, m)
    wait_in_sync(m, s1)
    wait_in_sync(m, s2)
    return m, s1, s2


def wait_no_failover(srv, timeout=30):
    assert wait_for(lambda: state(srv) == "no-failover", timeout=timeout), state(srv)


def wait_state(srv, want, timeout=30):
    assert wait_for(lambda: state(srv) == want, timeout=timeout), state(srv)


def to_args(srv):
    return ("TO", srv.host, srv.port)


# ---- argument and state errors -------------------------------------------

def test_state_is_no_failover_by_default(start_server):
    m = start_server()
    assert state(m) == "no-failover"


def test_errors_without_replicas(start_server):
    m = start_server()
    c = m.client()
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER requires connected replicas.")):
        c.execute_command("FAILOVER")
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER requires connected replicas.")):
        c.execute_command("FAILOVER", "TO", "127.0.0.1", 6379)
    with pytest.raises(redis.ResponseError, match=exactly("No failover in progress.")):
        c.execute_command("FAILOVER", "ABORT")


def test_syntax_errors(start_server):
    m = start_server()
    c = m.client()
    syntax = exactly("syntax error")
    for args in (("TO",), ("TO", "127.0.0.1"), ("FORCE", "FORCE"), ("TIMEOUT",), ("TIMEOUT", 10, "TIMEOUT", 20),
                 ("TO", "h", 1, "TO", "h", 2), ("ABORT", "TIMEOUT", 10), ("ABORT", "ABORT"), ("BOGUS",)):
        with pytest.raises(redis.ResponseError, match=syntax):
            c.execute_command("FAILOVER", *args)
    for bad in ("0", "-5"):
        with pytest.raises(redis.ResponseError, match=exactly("FAILOVER timeout must be greater than 0")):
            c.execute_command("FAILOVER", "TIMEOUT", bad)
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        c.execute_command("FAILOVER", "TIMEOUT", "soon")
    with pytest.raises(redis.ResponseError, match=exactly("value is not an integer or out of range")):
        c.execute_command("FAILOVER", "TO", "127.0.0.1", "invalidport")


def test_errors_with_replicas(trio):
    m, s1, s2 = trio
    c = m.client()
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER is not valid when server is a replica.")):
        s1.client().execute_command("FAILOVER", *to_args(s1))
    with pytest.raises(redis.ResponseError,
                       match=exactly("FAILOVER with force option requires both a timeout and target HOST and IP.")):
        c.execute_command("FAILOVER", *to_args(s1), "FORCE")
    with pytest.raises(redis.ResponseError,
                       match=exactly("FAILOVER with force option requires both a timeout and target HOST and IP.")):
        c.execute_command("FAILOVER", "FORCE", "TIMEOUT", 100)
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER target HOST and PORT is not a replica.")):
        c.execute_command("FAILOVER", "TO", "invalidhost", s1.port)
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER target HOST and PORT is not a replica.")):
        c.execute_command("FAILOVER", "TO", s1.host, m.port)
    assert state(m) == "no-failover"
    assert role(m) == "master"


def test_target_not_online(start_server):
    m = start_server("--repl-diskless-sync-delay", "60")
    s = start_server()
    s.client().replicaof(m.host, m.port)
    assert wait_for(lambda: repl_info(m).get("slave0", {}).get("state") == "wait_bgsave"), repl_info(m)
    with pytest.raises(redis.ResponseError, match=exactly("FAILOVER target replica is not online.")):
        m.client().execute_command("FAILOVER", *to_args(s))


def test_psync_failover_refused_by_a_master_and_for_another_replid(trio):
    m, s1, _ = trio
    with m.raw() as c:
        reply = c.cmd("PSYNC", "0" * 40, "1", "FAILOVER")
        assert type(reply).__name__ == "Error" and str(reply) == "ERR PSYNC FAILOVER can't be sent to a master."
    with s1.raw() as c:
        reply = c.cmd("PSYNC", "0" * 40, "1", "FAILOVER")
        assert type(reply).__name__ == "Error" and str(reply) == "ERR PSYNC FAILOVER replid must match my replid."
    assert role(s1) == "slave"
    assert role(m) == "master"


# ---- the failover itself -------------------------------------------------

def test_failover_to_a_given_replica(trio):
    m, s1, s2 = trio
    psyncs, fulls = stat(s1, "sync_partial_ok"), stat(s1, "sync_full")
    old_id = repl_info(m)["master_replid"]
    mc = m.client()
    mc.set("before", "failover")
    assert mc.execute_command("FAILOVER", *to_args(s1)) == b"OK"
    wait_no_failover(m)
    assert role(m) == "slave", logs(m, s1)
    assert role(s1) == "master"
    info = repl_info(s1)
    assert info["master_replid2"] == old_id
    assert info["master_replid"] != old_id
    # The old master continued the target's history: a partial resync.
    assert wait_for(lambda: repl_info(m).get("master_link_status") == "up"), logs(m, s1)
    assert stat(s1, "sync_partial_ok") == psyncs + 1
    assert stat(s1, "sync_full") == fulls
    # The other replica follows the new master, also partially.
    s2.client().replicaof(s1.host, s1.port)
    wait_in_sync(s1, m)
    wait_in_sync(s1, s2)
    assert stat(s1, "sync_partial_ok") == psyncs + 2
    assert stat(s1, "sync_full") == fulls
    assert digest_all(m.client()) == digest_all(s1.client()) == digest_all(s2.client())
    # Roles really swapped: the old master refuses writes, the new one
    # takes them and streams them to it.
    with pytest.raises(redis.ReadOnlyError):
        mc.set("x", 1)
    s1.client().set("after", "failover")
    wait_in_sync(s1, m)
    assert mc.get("after") == b"failover"
    assert "Failover target %s:%d is synced, failing over." % (s1.host, s1.port) in m.log_text()


def test_failover_to_any_replica_picks_one_that_caught_up(trio):
    m, s1, s2 = trio
    m.client().set("case", 1)
    wait_in_sync(m, s2)
    with stopped(s1):
        assert m.client().execute_command("FAILOVER") == b"OK"
        wait_no_failover(m)
    assert role(s2) == "master", logs(m, s2)
    assert role(m) == "slave"
    assert repl_info(m)["master_port"] == s2.port
    s1.client().replicaof(s2.host, s2.port)
    wait_in_sync(s2, m)
    wait_in_sync(s2, s1)
    assert digest_all(m.client()) == digest_all(s1.client()) == digest_all(s2.client())


def test_writes_wait_during_the_failover_and_abort_releases_them(trio):
    m, s1, s2 = trio
    mc = m.client()
    with stopped(s1):
        mc.set("case", 2)
        assert mc.execute_command("FAILOVER", *to_args(s1), "TIMEOUT", 60000) == b"OK"
        assert state(m) == "waiting-for-sync"
        # Reads are served, writes wait.
        assert mc.get("case") == b"2"
        w = m.raw()
        w.send(b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n")
        assert w.read_raw_available(wait=0.5) == b""
        # Only FAILOVER ABORT ends this pause, not CLIENT UNPAUSE.
        assert mc.execute_command("CLIENT", "UNPAUSE") == b"OK"
        assert w.read_raw_available(wait=0.5) == b""
        with pytest.raises(redis.ResponseError, match=exactly("FAILOVER already in progress.")):
            mc.execute_command("FAILOVER")
        with pytest.raises(redis.ResponseError, match=exactly("REPLICAOF not allowed while failing over.")):
            mc.execute_command("REPLICAOF", s1.host, s1.port)
        with m.raw() as c:
            reply = c.cmd("PSYNC", "?", "-1")
            assert str(reply) == "NOMASTERLINK Can't SYNC while failing over"
        assert mc.execute_command("FAILOVER", "ABORT") == b"OK"
        assert state(m) == "no-failover"
        assert w.read() == b"OK"
        w.close()
    assert mc.get("foo") == b"bar"
    assert role(m) == "master"
    wait_in_sync(m, s1)
    wait_in_sync(m, s2)
    assert digest_all(mc) == digest_all(s1.client()) == digest_all(s2.client())
    assert "aborted: Failover manually aborted" in m.log_text()


def test_timeout_aborts_when_the_replica_never_catches_up(trio):
    m, s1, s2 = trio
    mc = m.client()
    fulls, psyncs = stat(m, "sync_full"), stat(m, "sync_partial_ok")
    with stopped(s1):
        mc.set("case", 1)
        assert mc.execute_command("FAILOVER", *to_args(s1), "TIMEOUT", 500) == b"OK"
        wait_no_failover(m)
    assert role(m) == "master"
    assert "Replica never caught up before timeout" in m.log_text()
    wait_in_sync(m, s1)
    wait_in_sync(m, s2)
    # Nothing was resynchronised.
    assert stat(m, "sync_full") == fulls
    assert stat(m, "sync_partial_ok") == psyncs
    mc.set("writable", "again")
    assert digest_all(mc) == digest_all(s1.client())


def force_failover_to_stopped(m, s1, s2):
    with stopped(s1):
        # s1 will not acknowledge this write before the timeout.
        m.client().set("case", 3)
        assert m.client().execute_command("FAILOVER", *to_args(s1), "TIMEOUT", 100, "FORCE") == b"OK"
        wait_state(m, "failover-in-progress")
        # Never two masters: the old one is already a replica.
        assert role(m) == "slave"
        assert role(s2) == "slave"
    wait_no_failover(m)
    assert role(s1) == "master", logs(m, s1)
    assert "time out exceeded, failing over." in m.log_text()
    s2.client().replicaof(s1.host, s1.port)
    wait_in_sync(s1, m)
    wait_in_sync(s1, s2)
    assert digest_all(m.client()) == digest_all(s1.client()) == digest_all(s2.client())


def test_force_fails_over_after_the_timeout(trio):
    force_failover_to_stopped(*trio)


@pytest.mark.keel_only
def test_force_loses_nothing_already_sent_to_the_target(trio):
    """The write s1 had not acknowledged was in its socket: it applies it
    before it answers the PSYNC FAILOVER, so both continue partially and
    nothing is lost. Keel drains the old master's link before it promotes
    itself. (Against redis-server 7.0 the write was missing on the new
    master in 2 of 6 runs here, the cause not investigated: Keel only.)"""
    m, s1, s2 = trio
    psyncs, fulls = stat(s1, "sync_partial_ok"), stat(s1, "sync_full")
    force_failover_to_stopped(m, s1, s2)
    assert s1.client().get("case") == b"3"
    assert stat(s1, "sync_partial_ok") == psyncs + 2
    assert stat(s1, "sync_full") == fulls


def test_target_rejecting_psync_aborts_and_the_master_stays(trio):
    m, s1, s2 = trio
    psyncs, fulls = stat(m, "sync_partial_ok"), stat(m, "sync_full")
    s1.client().execute_command("ACL", "SETUSER", "default", "-psync")
    assert m.client().execute_command("FAILOVER", *to_args(s1)) == b"OK"
    wait_no_failover(m)
    assert role(m) == "master", logs(m, s1)
    assert role(s1) == "slave"
    assert "Failover target rejected psync request" in m.log_text()
    s1.client().execute_command("ACL", "SETUSER", "default", "+psync")
    # The replicas were cycled (the master changed role twice) and came
    # back with partial resyncs.
    wait_in_sync(m, s1)
    wait_in_sync(m, s2)
    assert wait_for(lambda: stat(m, "sync_partial_ok") == psyncs + 2), (psyncs, stat(m, "sync_partial_ok"))
    assert stat(m, "sync_full") == fulls
    m.client().set("still", "master")
    wait_in_sync(m, s1)
    assert digest_all(m.client()) == digest_all(s1.client()) == digest_all(s2.client())


def test_writes_postponed_by_the_failover_get_readonly_afterwards(trio):
    m, s1, _ = trio
    mc = m.client()
    with stopped(s1):
        # s1 cannot acknowledge this one while stopped: the wait lasts.
        mc.set("case", 4)
        assert mc.execute_command("FAILOVER", *to_args(s1), "TIMEOUT", 60000) == b"OK"
        w = m.raw()
        w.send(b"*3\r\n$3\r\nSET\r\n$4\r\nlate\r\n$1\r\n1\r\n")
        assert w.read_raw_available(wait=0.3) == b""
    wait_no_failover(m)
    assert role(s1) == "master"
    reply = w.read()
    w.close()
    assert str(reply).startswith("READONLY"), reply
    assert s1.client().get("late") is None


def test_failover_twice_back_to_the_first_master(trio):
    m, s1, s2 = trio
    fulls = stat(m, "sync_full")
    assert m.client().execute_command("FAILOVER", *to_args(s1)) == b"OK"
    wait_no_failover(m)
    s2.client().replicaof(s1.host, s1.port)
    wait_in_sync(s1, m)
    wait_in_sync(s1, s2)
    s1.client().set("on", "s1")
    wait_in_sync(s1, m)
    assert s1.client().execute_command("FAILOVER", *to_args(m)) == b"OK"
    wait_no_failover(s1)
    assert role(m) == "master"
    assert role(s1) == "slave"
    s2.client().replicaof(m.host, m.port)
    m.client().set("on", "m")
    wait_in_sync(m, s1)
    wait_in_sync(m, s2)
    assert s2.client().get("on") == b"m"
    assert stat(m, "sync_full") == fulls
    assert stat(s1, "sync_full") == 0
    assert digest_all(m.client()) == digest_all(s1.client()) == digest_all(s2.client())


def test_the_stream_stands_still_while_waiting(trio):
    """While the master waits for its target, nothing enters its stream:
    no writes, no expiries, no PINGs to replicas."""
    m, s1, _ = trio
    mc = m.client()
    mc.config_set("repl-ping-replica-period", 1)
    with stopped(s1):
        mc.set("short", "lived", px=50)
        assert mc.execute_command("FAILOVER", *to_args(s1), "TIMEOUT", 60000) == b"OK"
        offset = repl_info(m)["master_repl_offset"]
        time.sleep(1.5)  # a PING period and the key's TTL pass (no assertion on time)
        assert mc.get("short") is None
        assert repl_info(m)["master_repl_offset"] == offset
        assert state(m) == "waiting-for-sync"
        assert mc.execute_command("FAILOVER", "ABORT") == b"OK"
    # After the pause the expiry and the PINGs go out again.
    assert wait_for(lambda: repl_info(m)["master_repl_offset"] > offset, timeout=30)
    wait_in_sync(m, s1)
    assert s1.client().exists("short") == 0
