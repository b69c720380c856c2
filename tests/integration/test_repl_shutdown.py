"""Replication, issue 14's second part: SHUTDOWN waiting for lagging
replicas (shutdown-timeout, SHUTDOWN [NOW] [FORCE] [ABORT], SIGTERM), the
replication buffer in INFO memory (mem_total_replication_buffers shared by
the backlog and the replicas), DEBUG REPLICATE and what a replica does
when a command from its master fails (propagation-error-behavior), the
master link in CLIENT LIST / CLIENT KILL on a replica, and a writable
replica expiring its own keys while no client talks to it.

Every test here passes against redis-server 7.0 too (KEEL_SERVER=...)."""
import os
import signal
import time

import pytest
import redis

from keel_helpers import wait_for
from repl_helpers import attach, logs, wait_in_sync


@pytest.fixture
def pair(start_server):
    """A master and a replica attached to it."""
    def make(master_args=(), replica_args=()):
        m = start_server("--repl-diskless-sync-delay", "0", *master_args)
        s = start_server(*replica_args)
        attach(s, m)
        return m, s
    return make


def mem(srv, field):
    return int(srv.info("memory")[field])


def log_count(srv, text):
    return sum(1 for line in srv.log_text().splitlines() if text in line)


@pytest.fixture
def stopped():
    """SIGSTOP a server; SIGCONT it again however the test ends."""
    paused = []

    def stop(srv):
        os.kill(srv.proc.pid, signal.SIGSTOP)
        paused.append(srv)

    def cont(srv):
        os.kill(srv.proc.pid, signal.SIGCONT)
        paused.remove(srv)

    stop.cont = cont
    yield stop
    for srv in list(paused):
        os.kill(srv.proc.pid, signal.SIGCONT)


def fill_replica_link(m, over=2 * 1024 * 1024):
    """Write to the master until what it holds for a stopped replica passes
    `over` bytes (the socket's buffers take the first megabytes)."""
    mc = m.client()
    value = "x" * 1024
    for i in range(200):
        p = mc.pipeline(transaction=False)
        for j in range(1024):
            p.set("junk%d:%d" % (i, j), value)
        p.execute()
        if mem(m, "mem_total_replication_buffers") > over:
            return
    pytest.fail("mem_total_replication_buffers stayed at %d" % mem(m, "mem_total_replication_buffers"))


# ---- the replication buffer ---------------------------------------------

def test_replication_buffer_memory_holds_what_a_stopped_replica_lacks(pair, stopped):
    m, s = pair()
    mc = m.client()
    mc.config_set("repl-backlog-size", "16kb")
    stopped(s)
    fill_replica_link(m)
    info = m.info("memory")
    total = int(info["mem_total_replication_buffers"])
    backlog, slaves = int(info["mem_replication_backlog"]), int(info["mem_clients_slaves"])
    # Redis's meaning: one buffer shared by the backlog (counted up to its
    # size) and the replicas (the rest).
    assert slaves > 1024 * 1024
    assert slaves <= total
    assert backlog < 1024 * 1024
    assert abs(backlog + slaves - total) < 64 * 1024
    stats = mc.memory_stats()
    assert stats["clients.slaves"] >= slaves - 64 * 1024
    stopped.cont(s)
    wait_in_sync(m, s, timeout=60)
    # Once the replica has it all, the buffer shrinks back to the backlog.
    assert wait_for(lambda: mem(m, "mem_total_replication_buffers") < 1024 * 1024, timeout=30)


def test_replication_buffer_freed_with_the_replica_that_needed_it(pair, stopped):
    """Killing the lagging replica frees what only it needed at once: the
    next INFO shows neither replicas' memory nor a backlog over its size
    (Redis's unit/maxmemory 'slave buffer are counted correctly')."""
    m, s = pair()
    mc = m.client()
    mc.config_set("repl-backlog-size", "16kb")
    stopped(s)
    fill_replica_link(m)
    assert mc.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    info = mc.info("memory")
    assert int(info["mem_clients_slaves"]) == 0
    assert int(info["mem_total_replication_buffers"]) < 256 * 1024
    # all of it is the backlog's now (Redis adds its block index's bytes)
    assert int(info["mem_replication_backlog"]) >= int(info["mem_total_replication_buffers"])


def test_replication_buffer_is_the_backlog_without_replicas(start_server):
    m = start_server()
    assert mem(m, "mem_total_replication_buffers") == 0
    s = start_server()
    attach(s, m)
    m.client().set("k", "v" * 1000)
    wait_in_sync(m, s)
    s.client().replicaof("no", "one")
    assert wait_for(lambda: m.info("replication")["connected_slaves"] == 0)
    assert mem(m, "mem_clients_slaves") == 0
    assert mem(m, "mem_total_replication_buffers") > 0      # the backlog stays
    assert mem(m, "mem_replication_backlog") >= mem(m, "mem_total_replication_buffers")


# ---- SHUTDOWN and lagging replicas -----------------------------------------

def lagging_pair(pair, stopped, timeout):
    """A master whose replica is stopped and one write behind, its link
    full so that the write cannot reach the replica's socket."""
    m, s = pair()
    mc, sc = m.client(), s.client()
    mc.config_set("shutdown-timeout", timeout)
    mc.config_set("repl-backlog-size", "16kb")
    mc.set("k", 1)
    wait_in_sync(m, s)
    stopped(s)
    fill_replica_link(m)
    mc.incr("k")
    return m, s, mc, sc


def shutting_down(m):
    try:
        return int(m.info("server").get("shutdown_in_milliseconds", 0)) > 0
    except redis.ConnectionError:
        return False


@pytest.mark.parametrize("how", ["sigterm", "shutdown"])
def test_shutdown_waits_for_a_lagging_replica(pair, stopped, how):
    m, s, mc, sc = lagging_pair(pair, stopped, 300)
    m.expected_exit = True
    if how == "sigterm":
        m.proc.send_signal(signal.SIGTERM)
    else:
        rd = m.raw(timeout=120)
        rd.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
    assert wait_for(lambda: shutting_down(m), timeout=10), logs(m)
    # Writes wait while the master waits for its replica; reads do not.
    assert mc.get("k") == b"2"
    stopped.cont(s)
    assert wait_for(lambda: sc.get("k") == b"2", timeout=60), logs(m, s)
    m.proc.wait(60)
    text = m.log_text()
    assert "Waiting for replicas before shutting down." in text
    assert "1 of 1 replicas are in sync when shutting down." in text
    assert "Lagging replica" not in text
    assert "ready to exit, bye bye" in text


def test_shutdown_gives_up_on_a_replica_after_the_timeout(pair, stopped):
    m, s, mc, sc = lagging_pair(pair, stopped, 1)
    m.expected_exit = True
    m.proc.send_signal(signal.SIGTERM)
    m.proc.wait(60)
    text = m.log_text()
    assert "Lagging replica" in text
    assert "0 of 1 replicas are in sync when shutting down." in text
    stopped.cont(s)
    assert sc.get("k") == b"1"


def test_shutdown_now_does_not_wait(pair, stopped):
    m, s, mc, sc = lagging_pair(pair, stopped, 300)
    m.expected_exit = True
    with pytest.raises(redis.ConnectionError):
        mc.execute_command("SHUTDOWN", "NOW")
    m.proc.wait(30)
    assert "0 of 1 replicas are in sync when shutting down." in m.log_text()


def test_shutdown_abort_answers_the_waiting_shutdowns(pair, stopped):
    m, s = pair()
    mc = m.client()
    mc.config_set("shutdown-timeout", 300)
    stopped(s)
    mc.incr("k")
    rd1, rd2 = m.raw(timeout=30), m.raw(timeout=30)
    rd1.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
    rd2.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
    assert wait_for(lambda: m.info("clients")["blocked_clients"] == 2)
    # mc and the two SHUTDOWNs: the replica is not counted (connected_slaves is)
    assert wait_for(lambda: mc.info("clients")["connected_clients"] == 3)
    assert int(m.info("server")["shutdown_in_milliseconds"]) > 0
    # Writes wait (paused) while reads are served.
    wr = m.raw(timeout=30)
    wr.send(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n")
    assert wait_for(lambda: m.info("clients")["blocked_clients"] == 3)
    assert mc.get("k") == b"1"
    assert mc.execute_command("SHUTDOWN", "ABORT") in (True, b"OK")
    assert str(rd1.read()) == "ERR Errors trying to SHUTDOWN. Check logs."
    assert str(rd2.read()) == "ERR Errors trying to SHUTDOWN. Check logs."
    assert wr.read() == 2
    assert "shutdown_in_milliseconds" not in m.info("server")
    assert "Shutdown manually aborted." in m.log_text()
    # Writes flow again, and a new SHUTDOWN ABORT has nothing to abort.
    assert mc.incr("k") == 3
    with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
        mc.execute_command("SHUTDOWN", "ABORT")
    stopped.cont(s)
    wait_in_sync(m, s)


def test_shutdown_that_fails_after_waiting_answers_the_waiting_clients(pair, stopped):
    m, s = pair(master_args=("--save", "3600 1"))
    mc = m.client()
    mc.config_set("shutdown-timeout", 300)
    stopped(s)
    mc.incr("k")
    rd = m.raw(timeout=30)
    rd.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
    assert wait_for(lambda: m.info("clients")["blocked_clients"] == 1)
    # The final save cannot be written (the dump's name is taken by a
    # directory): the shutdown fails once the replica has caught up.
    dump = os.path.join(m.dir, "dump.rdb")
    os.mkdir(dump)
    stopped.cont(s)
    assert str(rd.read()) == "ERR Errors trying to SHUTDOWN. Check logs."
    os.rmdir(dump)
    text = m.log_text()
    assert "1 of 1 replicas are in sync when shutting down." in text
    assert "Errors trying to shut down the server" in text
    assert mc.incr("k") == 2


def test_shutdown_timeout_zero_does_not_wait(pair, stopped):
    m, s, mc, sc = lagging_pair(pair, stopped, 0)
    m.expected_exit = True
    m.proc.send_signal(signal.SIGTERM)
    m.proc.wait(30)
    assert "Waiting for replicas" not in m.log_text()


def test_shutdown_on_sigterm_flags(start_server):
    m = start_server("--shutdown-on-sigint", "now force")     # one argument, two words
    assert m.client().config_get("shutdown-on-sigint")["shutdown-on-sigint"] == "now force"
    c = m.client()
    for value, shown in (("default", "default"), ("save", "save"), ("nosave", "nosave"), ("now", "now"),
                         ("force", "force"), ("force now", "now force"), ("now save force", "save now force"),
                         ("default now", "now"), ("NOSAVE", "nosave")):
        c.config_set("shutdown-on-sigterm", value)
        assert c.config_get("shutdown-on-sigterm")["shutdown-on-sigterm"] == shown
    for bad in ("save nosave", "bogus", "now later"):
        with pytest.raises(redis.ResponseError):
            c.config_set("shutdown-on-sigterm", bad)
    assert c.config_get("shutdown-on-sigterm")["shutdown-on-sigterm"] == "nosave"
    c.config_set("shutdown-on-sigint", "nosave now")
    assert c.config_get("shutdown-on-sigint")["shutdown-on-sigint"] == "nosave now"


def test_shutdown_on_sigterm_now_skips_the_wait(pair, stopped):
    m, s, mc, sc = lagging_pair(pair, stopped, 300)
    mc.config_set("shutdown-on-sigterm", "now")
    m.expected_exit = True
    m.proc.send_signal(signal.SIGTERM)
    m.proc.wait(30)
    assert "0 of 1 replicas are in sync when shutting down." in m.log_text()


# ---- DEBUG REPLICATE, errors from the master's stream ------------------------

def test_debug_replicate_sends_without_running(pair):
    m, s = pair()
    mc, sc = m.client(), s.client()
    mc.set("before", 1)
    assert mc.execute_command("DEBUG", "REPLICATE", "SET", "foo", "bar") in (True, b"OK")
    mc.set("after", 1)
    wait_in_sync(m, s)
    assert mc.get("foo") is None
    assert sc.get("foo") == b"bar"


def test_replica_logs_a_failing_command_from_its_master(pair):
    m, s = pair()
    mc, sc = m.client(), s.client()
    sc.config_set("propagation-error-behavior", "ignore")
    mc.execute_command("DEBUG", "REPLICATE", "fake-command-1")
    mc.set("foo", "bar2")
    wait_in_sync(m, s)
    assert log_count(s, "fake-command-1") == 1
    assert log_count(s, "== CRITICAL ==") == 1
    assert int(s.info("stats")["unexpected_error_replies"]) == 1
    # A writable replica may hold keys of its own that make a master's
    # command fail: logged, the replica goes on.
    sc.config_set("replica-read-only", "no")
    sc.set("number2", "foo")
    mc.incrby("number2", 1)
    wait_in_sync(m, s)
    assert mc.get("number2") == b"1"
    assert sc.get("number2") == b"foo"
    assert log_count(s, "incrby") == 1


def test_propagation_error_behavior_panic_stops_a_read_only_replica(pair):
    m, s = pair()
    mc, sc = m.client(), s.client()
    sc.config_set("propagation-error-behavior", "panic")
    assert sc.config_get("propagation-error-behavior")["propagation-error-behavior"] == "panic"
    with pytest.raises(redis.ResponseError):
        sc.config_set("propagation-error-behavior", "sometimes")
    mc.execute_command("DEBUG", "REPLICATE", "fake-command-2")
    s.proc.wait(30)
    assert s.proc.returncode != 0
    assert "This replica panicked sending an error to its master" in s.log_text()
    s.proc = None           # it died on purpose: nothing for the fixture to stop


# ---- the master link as a client ------------------------------------------

def test_client_list_on_a_replica_shows_its_master(pair):
    m, s = pair()
    sc = s.client()
    masters = sc.client_list(_type="master")
    assert len(masters) == 1
    mcl = masters[0]
    assert mcl["flags"] == "M"
    assert mcl["addr"] == "%s:%d" % (m.host, m.port)
    assert mcl["laddr"].startswith("127.0.0.1:")
    assert any(c["flags"] == "M" for c in sc.client_list())
    assert sc.client_list(client_id=[mcl["id"]])[0]["flags"] == "M"
    # Its laddr is the replica's end of the link: the master sees it.
    ports = [c["addr"] for c in m.client().client_list(_type="replica")]
    assert mcl["laddr"] in ports
    assert sc.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    assert wait_for(lambda: s.info("replication")["master_link_status"] == "up", timeout=30)
    assert sc.execute_command("CLIENT", "KILL", "ID", sc.client_list(_type="master")[0]["id"]) == 1
    assert wait_for(lambda: s.info("replication")["master_link_status"] == "up", timeout=30)
    assert m.client().client_list(_type="master") == []


# ---- a writable replica's own keys --------------------------------------------

def test_writable_replica_expires_its_own_keys_with_no_client_around(pair):
    """The keys expire by the replica's cron alone: no command touches them
    (nor anything else) between the SET and the check."""
    m, s = pair()
    sc = s.client(db=5)
    sc.config_set("replica-read-only", "no")
    for k in ("key1", "key2", "key3"):
        sc.set(k, 1, px=500)
    assert sc.dbsize() == 3
    time.sleep(3)
    assert sc.dbsize() == 0


# ---- a shutdown that would lose the dataset ----------------------------------

def test_shutdown_refused_while_the_first_aof_is_written(start_server):
    """appendonly yes just turned on: until its first rewrite ends the AOF
    does not hold the dataset, so SHUTDOWN fails unless FORCE."""
    srv = start_server()
    c = srv.client()
    for i in range(20):
        c.set("k%d" % i, i)
    c.config_set("rdb-key-save-delay", 1000000)     # a second per key
    c.config_set("appendonly", "yes")
    with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN. Check logs."):
        c.execute_command("SHUTDOWN", "NOSAVE")
    assert "Writing initial AOF, can't exit." in srv.log_text()
    assert c.ping()
    srv.expected_exit = True
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN", "NOSAVE", "FORCE")
    srv.proc.wait(30)
    assert "Writing initial AOF. Exit anyway." in srv.log_text()


# ---- start-up arguments ---------------------------------------------------

@pytest.mark.parametrize("args,expected", [
    (["--replicaof", "127.0.0.1", "abc"], "Invalid master port"),
    (["--replicaof", "127.0.0.1", "70000"], "Invalid master port"),
    (["--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"], "'shutdown-on-sigterm'"),
    (["--shutdown-on-sigterm", "save nosave"], "SAVE and NOSAVE"),
])
def test_bad_startup_arguments_are_refused(args, expected):
    import subprocess
    from keel_helpers import server_binary
    p = subprocess.run([server_binary(), "--port", "0"] + args, capture_output=True, timeout=30, text=True)
    assert p.returncode != 0
    assert expected in p.stdout + p.stderr
