"""Cluster behaviours found with Redis 7.0.15's legacy cluster suite
(issue 15): the preferred endpoint in redirections, a removed hostname
propagated, a writing script sent to a replica redirected, an expired key
of a migrating slot."""
import time

import pytest

from cluster_helpers import cluster_info, myid, start_node
from keel_helpers import cmd, err, wait_for


def meet(a, b):
    bus = int(b.client.config_get("cluster-port")["cluster-port"])
    assert cmd(a.client, "CLUSTER", "MEET", b.host, b.port, bus) == b"OK"
    assert wait_for(lambda: myid(b) in a.client.execute_command("CLUSTER", "NODES").decode()
                    and myid(a) in b.client.execute_command("CLUSTER", "NODES").decode()
                    and cluster_info(b)["cluster_state"] == "ok", timeout=30)


@pytest.fixture
def pair(start_server):
    """Two nodes that know each other; the first serves every slot."""
    a, b = start_node(start_server), start_node(start_server)
    cmd(a.client, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    meet(a, b)
    return a, b


def node_line(srv, node_id):
    text = srv.client.execute_command("CLUSTER", "NODES").decode()
    return next(l for l in text.splitlines() if l.startswith(node_id))


def test_redirect_names_the_preferred_endpoint(pair):
    a, b = pair
    s = cmd(a.client, "CLUSTER", "KEYSLOT", "foo")
    for n in (a, b):
        assert cmd(n.client, "CLUSTER", "SETSLOT", s, "NODE", myid(b)) == b"OK"
    b.client.config_set("cluster-announce-hostname", "b.example")
    assert wait_for(lambda: ",b.example" in node_line(a, myid(b)), timeout=30)
    assert err(a.client, "GET", "foo") == "MOVED %d 127.0.0.1:%d" % (s, b.port)
    a.client.config_set("cluster-preferred-endpoint-type", "hostname")
    assert err(a.client, "GET", "foo") == "MOVED %d b.example:%d" % (s, b.port)
    # The hostname is removed: the next PINGs carry none, and a forgets it.
    b.client.config_set("cluster-announce-hostname", "")
    assert wait_for(lambda: ",b.example" not in node_line(a, myid(b)), timeout=30)
    assert err(a.client, "GET", "foo") == "MOVED %d ?:%d" % (s, b.port)
    a.client.config_set("cluster-preferred-endpoint-type", "unknown-endpoint")
    assert err(a.client, "GET", "foo") == "MOVED %d :%d" % (s, b.port)


def test_writing_script_on_a_replica_is_moved(pair):
    a, b = pair
    assert cmd(b.client, "CLUSTER", "REPLICATE", myid(a)) == b"OK"
    a.client.set("a", 1)
    assert wait_for(lambda: b.client.info("replication").get("master_link_status") == "up", timeout=30)
    assert wait_for(lambda: b.client.dbsize() == 1, timeout=30)
    s = cmd(a.client, "CLUSTER", "KEYSLOT", "a")
    moved = "MOVED %d 127.0.0.1:%d" % (s, a.port)
    c = b.client
    assert cmd(c, "READONLY") == b"OK"
    # A script that may write (a shebang without no-writes) goes to the
    # master, as a write command would.
    assert err(c, "EVAL", "#!lua\nreturn redis.call('del', KEYS[1])", 1, "a") == moved
    # A read-only script is served by the replica for a READONLY client.
    assert cmd(c, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, "a") == b"1"
    assert cmd(c, "READWRITE") == b"OK"
    assert err(c, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, "a") == moved


def test_expired_key_of_a_migrating_slot_is_asked_for(start_server):
    """A key that expired (not yet deleted) counts as missing: -ASK, even
    when the previous command ran before it expired."""
    a = start_node(start_server, None, 2000, "--enable-debug-command", "yes")
    b = start_node(start_server)
    cmd(a.client, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    meet(a, b)
    assert cmd(a.client, "DEBUG", "SET-ACTIVE-EXPIRE", 0) == b"OK"
    s = cmd(a.client, "CLUSTER", "KEYSLOT", "FOO")
    a.client.set("FOO", "BAR", px=50)
    assert cmd(b.client, "CLUSTER", "SETSLOT", s, "IMPORTING", myid(a)) == b"OK"
    assert cmd(a.client, "CLUSTER", "SETSLOT", s, "MIGRATING", myid(b)) == b"OK"
    time.sleep(0.2)  # past the expiry; nothing here depends on how long
    assert err(a.client, "GET", "FOO") == "ASK %d 127.0.0.1:%d" % (s, b.port)


def test_announced_hostname_is_validated(start_server):
    n = start_node(start_server)
    c = n.client
    c.config_set("cluster-announce-hostname", "shard-1.example")
    assert "Hostnames must be less than 256 characters" in err(c, "CONFIG", "SET", "cluster-announce-hostname",
                                                                "x" * 256)
    assert "Hostnames may only contain alphanumeric characters, hyphens or dots" in err(
        c, "CONFIG", "SET", "cluster-announce-hostname", "?.com")
    assert c.config_get("cluster-announce-hostname")["cluster-announce-hostname"] == "shard-1.example"
    name = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
    assert cmd(c, "CONFIG", "SET", "cluster-announce-hostname", name) == b"OK"
    assert c.config_get("cluster-announce-hostname")["cluster-announce-hostname"] == name
    assert cmd(c, "CONFIG", "SET", "cluster-announce-hostname", "") == b"OK"
