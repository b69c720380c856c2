"""FAILOVER between Keel and Debian's redis-server 7.0, both ways: the
coordinated failover's protocol (the old master's `PSYNC <replid>
<offset> FAILOVER`, the target promoting itself and answering +CONTINUE)
works whichever side runs which server, with no full resync and DEBUG
DIGEST equal everywhere afterwards."""
import pytest

from keel_helpers import Server, running_against_redis, server_binary, wait_for
from repl_helpers import attach, digest_all, fill_all_types, logs, repl_info, wait_in_sync

REDIS = "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(running_against_redis(), reason="compares Keel with redis-server itself")


@pytest.fixture
def servers():
    started = []

    def start(binary, *args):
        srv = Server(extra_args=("--repl-diskless-sync-delay", "0") + args, binary=binary, name="fointerop")
        started.append(srv)
        srv.start()
        return srv

    yield start
    problems = []
    for srv in started:
        if srv.alive():
            problems += srv.stop()
    assert not problems, problems


def stat(srv, field):
    return srv.info("stats")[field]


def failover_and_check(m, target, other, args):
    mc = m.client()
    fill_all_types(mc, dbs=4)
    attach(target, m)
    attach(other, m)
    wait_in_sync(m, target)
    wait_in_sync(m, other)
    mc.execute_command("SELECT", 3)
    mc.set("last:before", "failover")
    fulls = stat(target, "sync_full")
    assert mc.execute_command("FAILOVER", *args) == b"OK"
    assert wait_for(lambda: repl_info(m)["master_failover_state"] == "no-failover", timeout=30), logs(m, target)
    assert repl_info(target)["role"] == "master", logs(m, target)
    assert repl_info(m)["role"] == "slave"
    assert repl_info(m)["master_port"] == target.port
    other.client().replicaof(target.host, target.port)
    tc = target.client()
    tc.set("after", "failover")
    wait_in_sync(target, m)
    wait_in_sync(target, other)
    # Both continued the target's history: no full resync.
    assert stat(target, "sync_full") == fulls
    assert stat(target, "sync_partial_ok") >= 2
    assert target.client(db=3).get("last:before") == b"failover"
    assert m.client().get("after") == b"failover"
    assert digest_all(m.client()) == digest_all(tc) == digest_all(other.client())


@pytest.mark.parametrize("target_kind", ["redis", "keel"])
def test_keel_master_fails_over(servers, target_kind):
    m = servers(server_binary())
    target = servers(REDIS if target_kind == "redis" else server_binary())
    other = servers(server_binary() if target_kind == "redis" else REDIS)
    failover_and_check(m, target, other, ("TO", target.host, target.port))


@pytest.mark.parametrize("target_kind", ["redis", "keel"])
def test_redis_master_fails_over(servers, target_kind):
    m = servers(REDIS)
    target = servers(REDIS if target_kind == "redis" else server_binary())
    other = servers(server_binary() if target_kind == "redis" else REDIS)
    failover_and_check(m, target, other, ("TO", target.host, target.port))


def test_keel_master_to_any_redis_replica(servers):
    m = servers(server_binary())
    target = servers(REDIS)
    other = servers(REDIS)
    # Both replicas are up to date: either may be picked, and the one
    # picked becomes the new master.
    mc = m.client()
    fill_all_types(mc, dbs=2)
    attach(target, m)
    attach(other, m)
    wait_in_sync(m, target)
    wait_in_sync(m, other)
    assert mc.execute_command("FAILOVER") == b"OK"
    assert wait_for(lambda: repl_info(m)["master_failover_state"] == "no-failover", timeout=30), logs(m)
    new_port = repl_info(m)["master_port"]
    assert new_port in (target.port, other.port)
    new, rest = (target, other) if new_port == target.port else (other, target)
    assert repl_info(new)["role"] == "master"
    rest.client().replicaof(new.host, new.port)
    new.client().set("x", "y")
    wait_in_sync(new, m)
    wait_in_sync(new, rest)
    assert digest_all(m.client()) == digest_all(new.client()) == digest_all(rest.client())
