"""Sentinel failovers: three keel sentinels watching a redis-server master
with two replicas fail over when the master dies, reconfigure the other
replica, turn the old master into a replica when it comes back, and
redis-py's Sentinel client follows; and a mixed quorum of keel sentinels
and Debian's redis-sentinel agrees on failovers led by either kind."""

import pytest
import redis
import redis.sentinel

import keel_helpers
from keel_helpers import server_binary, wait_for
from sentinel_helpers import (MASTER, REDIS_SENTINEL, as_dict, kill, monitor_lines, role,
                              start_replicated, start_sentinel)

pytestmark = pytest.mark.slow


@pytest.fixture
def sentinels():
    started = []
    yield started
    problems = []
    for s in started:
        problems += s.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def wait_all_agree(sentinels, not_port, timeout=60):
    """Wait until every sentinel names the same master, other than
    not_port; return its port."""
    def agreed():
        addrs = {s.master_addr() for s in sentinels}
        if len(addrs) == 1:
            (addr,) = addrs
            if addr and addr[1] != not_port:
                return addr[1]
        return None
    port = wait_for(agreed, timeout, 0.1)
    assert port, "sentinels never agreed: %s" % [s.master_addr() for s in sentinels]
    return port


def wait_replica_of(srv, master_port, timeout=60):
    assert wait_for(lambda: role(srv)[:3] == ["slave", "127.0.0.1", master_port] and role(srv)[3] == "connected",
                    timeout, 0.1), role(srv)


def wait_sentinels_know_each_other(sentinels, n, timeout=30):
    for s in sentinels:
        assert wait_for(lambda: int(s.master_state()["num-other-sentinels"]) == n - 1, timeout, 0.1)


def test_three_keel_sentinels_fail_over(start_server, sentinels, monkeypatch):
    master, reps = start_replicated(start_server)
    for _ in range(3):
        start_sentinel(sentinels, monitor_lines(master.port, 2))
    wait_sentinels_know_each_other(sentinels, 3)
    for s in sentinels:
        assert wait_for(lambda: int(s.master_state()["num-slaves"]) == 2, 20, 0.1)
    events = sentinels[0].client(decode_responses=True).pubsub()
    events.subscribe("+switch-master", "+odown", "+sdown")
    client = redis.sentinel.Sentinel([("127.0.0.1", s.port) for s in sentinels], socket_timeout=5)
    assert client.discover_master(MASTER) == ("127.0.0.1", master.port)
    assert sorted(client.discover_slaves(MASTER)) == sorted(("127.0.0.1", r.port) for r in reps)
    client.master_for(MASTER, socket_timeout=5).set("before", "1")
    for r in reps:   # replication is asynchronous: let the write arrive before the kill
        assert wait_for(lambda: r.client().get("before") == b"1", 20)

    old_port = master.port
    kill(master)
    new_port = wait_all_agree(sentinels, old_port)
    promoted = next(r for r in reps if r.port == new_port)
    other = next(r for r in reps if r.port != new_port)
    assert role(promoted)[0] == "master"
    wait_replica_of(other, new_port)

    seen = {}
    wait_for(lambda: (lambda m: m and m["type"] == "message" and seen.setdefault(m["channel"], m["data"]))(
        events.get_message(timeout=0.1)) and "+switch-master" in seen, 10)
    assert seen["+switch-master"] == "%s 127.0.0.1 %d 127.0.0.1 %d" % (MASTER, old_port, new_port)
    assert "+odown" in seen or "+sdown" in seen
    events.close()

    # redis-py follows the new master; what was written before is there.
    m = client.master_for(MASTER, socket_timeout=5)
    assert wait_for(lambda: client.discover_master(MASTER) == ("127.0.0.1", new_port), 10)
    assert m.get("before") == b"1"
    m.set("after", "2")
    assert wait_for(lambda: other.client().get("after") == b"2", 20)
    for s in sentinels:
        # GET-MASTER-ADDR-BY-NAME names the promoted replica while the
        # leader still reconfigures the others; the file changes at the end.
        assert wait_for(lambda: "sentinel monitor %s 127.0.0.1 %d 2" % (MASTER, new_port) in s.config_text(), 30, 0.1)
        text = s.config_text()
        assert "sentinel config-epoch %s 0" % MASTER not in text
        assert "sentinel known-replica %s 127.0.0.1 %d" % (MASTER, old_port) in text
        assert int(s.master_state()["config-epoch"]) >= 1
        assert wait_for(lambda: s.master_state()["flags"] == "master", 10, 0.1)

    # The old master comes back at its address as a master: the sentinels
    # make it a replica of the new one.
    monkeypatch.setattr(keel_helpers, "free_port", lambda: old_port)
    back = start_server("--repl-diskless-sync-delay", "0", binary="/usr/bin/redis-server")
    assert back.port == old_port
    wait_replica_of(back, new_port, 60)


def test_mixed_quorum_with_redis_sentinel(start_server, sentinels):
    """Two keel sentinels and one redis-sentinel: the master dies (any of
    them may lead); then a failover led by redis-sentinel, then one led by
    a keel sentinel; each time all three agree and the replicas follow."""
    master, reps = start_replicated(start_server)
    lines = monitor_lines(master.port, 2)
    keel = [start_sentinel(sentinels, lines) for _ in range(2)]
    red = start_sentinel(sentinels, lines, binary=REDIS_SENTINEL)
    wait_sentinels_know_each_other(sentinels, 3)
    servers = {srv.port: srv for srv in [master] + reps}

    kill(master)
    port = wait_all_agree(sentinels, master.port)
    survivors = [r for r in reps]
    other = next(r for r in survivors if r.port != port)
    wait_replica_of(other, port)

    for leader in (red, keel[0]):
        # A forced failover needs a replica with a fresh INFO that the
        # sentinel leading it has seen connected.
        assert wait_for(lambda: any(as_dict(r)["flags"] == "slave" and as_dict(r)["master-link-status"] == "ok"
                                    for r in leader.sentinel("replicas", MASTER)), 30, 0.1)
        assert wait_for(lambda: _try_failover(leader), 30, 0.5)
        new_port = wait_all_agree(sentinels, port)
        assert role(servers[new_port])[0] == "master"
        wait_replica_of(servers[port], new_port)
        port = new_port
    for s in sentinels:
        assert wait_for(lambda: "sentinel monitor %s 127.0.0.1 %d 2" % (MASTER, port) in s.config_text(), 30, 0.1)


def _try_failover(s):
    try:
        return s.sentinel("failover", MASTER) == "OK"
    except redis.ResponseError as e:
        if "INPROG" in str(e) or "NOGOODSLAVE" in str(e):
            return False
        raise


def test_failover_without_replica_is_refused(start_server, sentinels):
    master, _ = start_replicated(start_server, replicas=0)
    s = start_sentinel(sentinels, monitor_lines(master.port, 1))
    assert wait_for(lambda: s.master_state()["info-refresh"] != "0" or s.master_state()["runid"], 10, 0.1)
    with pytest.raises(redis.ResponseError, match="^NOGOODSLAVE No suitable replica to promote$"):
        s.sentinel("failover", MASTER)
    # The master dies with nobody to promote: it goes down and stays there.
    kill(master)
    assert wait_for(lambda: "s_down" in s.master_state()["flags"], 30, 0.1)
    assert s.master_addr() == ("127.0.0.1", master.port)
    assert wait_for(lambda: s.info("sentinel")["master0"]["status"] in ("sdown", "odown"), 10, 0.1)


def test_keel_servers_under_keel_sentinels(start_server, sentinels):
    """The whole deployment is Keel: a keel-server master with two
    keel-server replicas (Keel's replication), three keel sentinels."""
    master, reps = start_replicated(start_server, binary=server_binary())
    for _ in range(3):
        start_sentinel(sentinels, monitor_lines(master.port, 2))
    wait_sentinels_know_each_other(sentinels, 3)
    for s in sentinels:
        assert wait_for(lambda: int(s.master_state()["num-slaves"]) == 2, 20, 0.1)
    master.client().set("k", "v")
    for r in reps:
        assert wait_for(lambda: r.client().get("k") == b"v", 20)
    kill(master)
    new_port = wait_all_agree(sentinels, master.port)
    promoted = next(r for r in reps if r.port == new_port)
    other = next(r for r in reps if r.port != new_port)
    assert role(promoted)[0] == "master"
    wait_replica_of(other, new_port)
    promoted.client().set("k2", "v2")
    assert wait_for(lambda: other.client().get("k2") == b"v2", 20)
    assert other.client().get("k") == b"v"


def test_keel_servers_under_three_redis_sentinels(start_server, sentinels, monkeypatch):
    """Keel's servers under Debian's redis-sentinel 7.0 alone (no keel
    sentinel in the quorum): a Keel master and two Keel replicas, three
    redis-sentinels; the master is killed, the sentinels promote a
    replica and repoint the other, redis-py's Sentinel follows, and the
    old master, restarted at its address, is made a replica."""
    keel = server_binary()
    master, reps = start_replicated(start_server, binary=keel)
    for _ in range(3):
        start_sentinel(sentinels, monitor_lines(master.port, 2), binary=REDIS_SENTINEL)
    wait_sentinels_know_each_other(sentinels, 3)
    for s in sentinels:
        assert wait_for(lambda: int(s.master_state()["num-slaves"]) == 2, 20, 0.1)
    client = redis.sentinel.Sentinel([("127.0.0.1", s.port) for s in sentinels], socket_timeout=5)
    assert client.discover_master(MASTER) == ("127.0.0.1", master.port)
    assert sorted(client.discover_slaves(MASTER)) == sorted(("127.0.0.1", r.port) for r in reps)
    client.master_for(MASTER, socket_timeout=5).set("before", "1")
    for r in reps:
        assert wait_for(lambda: r.client().get("before") == b"1", 20)

    old_port = master.port
    kill(master)
    new_port = wait_all_agree(sentinels, old_port)
    promoted = next(r for r in reps if r.port == new_port)
    other = next(r for r in reps if r.port != new_port)
    assert role(promoted)[0] == "master"
    wait_replica_of(other, new_port)
    m = client.master_for(MASTER, socket_timeout=5)
    assert client.discover_master(MASTER) == ("127.0.0.1", new_port)
    assert m.get("before") == b"1"
    m.set("after", "2")
    assert wait_for(lambda: other.client().get("after") == b"2", 20)
    for s in sentinels:
        assert wait_for(lambda: "sentinel monitor %s 127.0.0.1 %d 2" % (MASTER, new_port) in s.config_text(), 30, 0.1)

    monkeypatch.setattr(keel_helpers, "free_port", lambda: old_port)
    back = start_server("--repl-diskless-sync-delay", "0", binary=keel)
    assert back.port == old_port
    # Generous: under the full suite's load the rejoin once took just over 60 s.
    wait_replica_of(back, new_port, 180)
    assert wait_for(lambda: back.client().get("after") == b"2", 30)
    assert wait_for(lambda: sorted(client.discover_slaves(MASTER)) ==
                    sorted(("127.0.0.1", p) for p in (other.port, old_port)), 30, 0.2)
