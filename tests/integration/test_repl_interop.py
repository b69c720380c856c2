"""Replication between Keel and Debian's redis-server 7.0 both ways:
full syncs (diskless `$EOF:` and disk `$len`), every type, TTLs, 16
databases, the command stream after the sync, and partial resync after a
lost link, with DEBUG DIGEST equal on both sides."""
import pytest

from keel_helpers import Server, running_against_redis, server_binary, wait_for
from repl_helpers import attach, digest_all, fill_all_types, repl_info, wait_in_sync

REDIS = "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(running_against_redis(), reason="compares Keel with redis-server itself")


@pytest.fixture
def servers():
    started = []

    def start(binary, *args):
        srv = Server(extra_args=args, binary=binary, name="replinterop")
        started.append(srv)
        srv.start()
        return srv

    yield start
    problems = []
    for srv in started:
        if srv.alive():
            problems += srv.stop()
    assert not problems, problems


def stream_some_writes(c):
    c.set("after:str", "v")
    c.incrbyfloat("after:float", 2.25)
    c.rpush("after:list", *range(100))
    c.expire("after:list", 3000)
    c.execute_command("SELECT", 9)
    c.hset("after:hash", mapping={"a": "1"})
    c.zadd("after:z", {"m": 3})
    c.execute_command("SELECT", 0)
    p = c.pipeline(transaction=True)
    p.incr("after:tx")
    p.sadd("after:set", "x", "y")
    p.execute()
    c.spop("after:set")


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
@pytest.mark.parametrize("diskless", ["yes", "no"])
@pytest.mark.parametrize("direction", ["redis->keel", "keel->redis"])
def test_sync_and_stream(servers, direction, diskless, load):
    """load: the replica's repl-diskless-load (swapdb: parsed from the socket)."""
    mbin, rbin = (REDIS, server_binary()) if direction == "redis->keel" else (server_binary(), REDIS)
    m = servers(mbin, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
    s = servers(rbin, "--repl-diskless-load", load)
    mc = m.client()
    fill_all_types(mc)
    attach(s, m)
    wait_in_sync(m, s)
    assert digest_all(s.client()) == digest_all(mc)
    stream_some_writes(m.client())
    wait_in_sync(m, s)
    sc = s.client()
    assert digest_all(sc) == digest_all(mc)
    assert sc.dbsize() == mc.dbsize()
    assert 0 < sc.ttl("after:list") <= 3000
    si = repl_info(s)
    assert si["master_replid"] == repl_info(m)["master_replid"]


@pytest.mark.parametrize("direction", ["redis->keel", "keel->redis"])
def test_partial_resync_after_link_loss(servers, direction):
    mbin, rbin = (REDIS, server_binary()) if direction == "redis->keel" else (server_binary(), REDIS)
    m = servers(mbin, "--repl-diskless-sync-delay", "0")
    s = servers(rbin)
    mc = m.client()
    mc.set("k", "v")
    attach(s, m)
    wait_in_sync(m, s)
    before = s.log_text().count("Successful partial resynchronization with master")
    assert mc.client_kill_filter(_type="slave") == 1
    mc.set("during", "x")
    assert wait_for(lambda: s.log_text().count("Successful partial resynchronization with master") > before, timeout=20)
    wait_in_sync(m, s)
    assert s.client().get("during") == b"x"
    assert digest_all(s.client()) == digest_all(mc)


def test_redis_replica_of_keel_replica_chain(servers):
    """Redis -> Keel -> Redis: Keel proxies its master's stream verbatim."""
    a = servers(REDIS, "--repl-diskless-sync-delay", "0")
    b = servers(server_binary(), "--repl-diskless-sync-delay", "0")
    c = servers(REDIS)
    ac = a.client()
    fill_all_types(ac, dbs=3)
    attach(b, a)
    a.client(db=2).set("x", "1")
    wait_in_sync(a, b)
    attach(c, b)
    a.client(db=2).set("y", "2")
    wait_in_sync(a, b)
    wait_in_sync(b, c)
    assert c.client(db=2).get("y") == b"2"
    assert digest_all(c.client()) == digest_all(ac)
