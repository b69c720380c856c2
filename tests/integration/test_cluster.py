"""Cluster mode on one node (issue 15): the CLUSTER commands, their
replies and errors, redirections, nodes.conf, limits of cluster mode."""
import os
import shutil
import tempfile

import pytest
import redis

from cluster_helpers import cluster_info, myid, nodes_view, start_node
from keel_helpers import cmd, err, wait_for


def test_disabled_by_default(r):
    for args in (("CLUSTER", "INFO"), ("CLUSTER", "KEYSLOT", "x"), ("CLUSTER", "HELP"), ("ASKING",),
                 ("READONLY",), ("READWRITE",)):
        assert err(r, *args) == "This instance has cluster support disabled"
    assert r.info("cluster")["cluster_enabled"] == 0


@pytest.fixture
def node(start_server):
    return start_node(start_server)


def test_fresh_node(node):
    c = node.client
    assert c.info("cluster")["cluster_enabled"] == 1
    info = cluster_info(node)
    assert info["cluster_state"] == "fail"
    assert info["cluster_slots_assigned"] == "0"
    assert info["cluster_known_nodes"] == "1"
    assert info["cluster_current_epoch"] == "0"
    me = myid(node)
    assert len(me) == 40 and all(ch in "0123456789abcdef" for ch in me)
    line = cmd(c, "CLUSTER", "NODES").decode().strip()
    f = line.split(" ")
    assert f[0] == me and f[2] == "myself,master" and f[3] == "-" and f[6] == "0" and f[7] == "connected"
    assert f[1].endswith(":%d@%s" % (node.port, c.config_get("cluster-port")["cluster-port"]))


def test_keyslot(node):
    c = node.client
    assert cmd(c, "CLUSTER", "KEYSLOT", "foo") == 12182
    assert cmd(c, "CLUSTER", "KEYSLOT", "{user1000}.following") == cmd(c, "CLUSTER", "KEYSLOT", "user1000")
    assert cmd(c, "CLUSTER", "KEYSLOT", "{}foo") != cmd(c, "CLUSTER", "KEYSLOT", "foo")


def test_addslots_and_errors(node):
    c = node.client
    assert cmd(c, "CLUSTER", "ADDSLOTS", 1, 2, 3) == b"OK"
    assert err(c, "CLUSTER", "ADDSLOTS", 3) == "Slot 3 is already busy"
    assert err(c, "CLUSTER", "ADDSLOTS", 5, 5) == "Slot 5 specified multiple times"
    assert err(c, "CLUSTER", "ADDSLOTS", 16384) == "Invalid or out of range slot"
    assert err(c, "CLUSTER", "ADDSLOTS", "x") == "Invalid or out of range slot"
    assert err(c, "CLUSTER", "DELSLOTS", 10) == "Slot 10 is already unassigned"
    assert cmd(c, "CLUSTER", "DELSLOTS", 2) == b"OK"
    assert cmd(c, "CLUSTER", "ADDSLOTSRANGE", 100, 200, 300, 300) == b"OK"
    assert err(c, "CLUSTER", "ADDSLOTSRANGE", 400, 300) == "start slot number 400 is greater than end slot number 300"
    assert err(c, "CLUSTER", "ADDSLOTSRANGE", 400) == "wrong number of arguments for 'cluster|addslotsrange' command"
    assert err(c, "CLUSTER", "ADDSLOTSRANGE", 1, 2, 3) == "wrong number of arguments for 'cluster|addslotsrange' command"
    assert cmd(c, "CLUSTER", "DELSLOTSRANGE", 150, 160) == b"OK"
    assert nodes_view(node)[myid(node)][1] == ("1", "3", "100-149", "161-200", "300")
    assert cluster_info(node)["cluster_slots_assigned"] == str(2 + 50 + 40 + 1)
    # Partial coverage: the cluster is down.
    assert cluster_info(node)["cluster_state"] == "fail"


def test_full_coverage_serves_and_redirects(node):
    c = node.client
    assert cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 16383) == b"OK"
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    assert c.set("foo", "bar") and c.get("foo") == b"bar"
    assert err(c, "MSET", "a", 1, "b", 2) == "CROSSSLOT Keys in request don't hash to the same slot"
    assert cmd(c, "MSET", "{t}a", 1, "{t}b", 2) == b"OK"
    assert cmd(c, "CLUSTER", "COUNTKEYSINSLOT", 12182) == 1
    assert cmd(c, "CLUSTER", "GETKEYSINSLOT", 12182, 10) == [b"foo"]
    slot = cmd(c, "CLUSTER", "KEYSLOT", "{t}")
    assert sorted(cmd(c, "CLUSTER", "GETKEYSINSLOT", slot, 10)) == [b"{t}a", b"{t}b"]
    assert len(cmd(c, "CLUSTER", "GETKEYSINSLOT", slot, 1)) == 1
    assert cmd(c, "CLUSTER", "GETKEYSINSLOT", slot, 0) == []
    assert err(c, "CLUSTER", "GETKEYSINSLOT", 16384, 1) == "Invalid slot or number of keys"
    assert err(c, "CLUSTER", "GETKEYSINSLOT", 1, -1) == "Invalid slot or number of keys"
    assert err(c, "CLUSTER", "COUNTKEYSINSLOT", -1) == "Invalid slot"
    assert err(c, "SELECT", 1) == "SELECT is not allowed in cluster mode"
    assert cmd(c, "SELECT", 0) == b"OK"
    assert err(c, "MOVE", "foo", 1) == "MOVE is not allowed in cluster mode"
    assert err(c, "SWAPDB", 0, 1) == "SWAPDB is not allowed in cluster mode"
    assert err(c, "COPY", "{f}a", "{f}b", "DB", 1) == "Copying to another database is not allowed in cluster mode"
    # A slot nobody serves.
    assert cmd(c, "CLUSTER", "DELSLOTS", 866) == b"OK"
    assert err(c, "GET", "hello") == "CLUSTERDOWN Hash slot not served"
    # The cluster is down (not every slot is served): keyed commands are
    # refused, commands without keys run.
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "fail")
    assert err(c, "GET", "foo") == "CLUSTERDOWN The cluster is down"
    assert c.ping()
    c.config_set("cluster-allow-reads-when-down", "yes")
    assert c.get("foo") == b"bar"
    assert err(c, "SET", "foo", 1) == "CLUSTERDOWN The cluster is down and only accepts read commands"


def test_counts_follow_deletes_and_flush(node):
    c = node.client
    cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    slot = cmd(c, "CLUSTER", "KEYSLOT", "{s}")
    for i in range(300):
        c.set("{s}%d" % i, i)
    assert cmd(c, "CLUSTER", "COUNTKEYSINSLOT", slot) == 300
    got = cmd(c, "CLUSTER", "GETKEYSINSLOT", slot, 1000)
    assert len(got) == 300 and len(set(got)) == 300
    c.delete(*["{s}%d" % i for i in range(100)])
    c.rename("{s}100", "{s}renamed")
    assert cmd(c, "CLUSTER", "COUNTKEYSINSLOT", slot) == 200
    c.set("{s}short", 1, px=1)
    assert wait_for(lambda: cmd(c, "CLUSTER", "COUNTKEYSINSLOT", slot) == 200, timeout=10)
    c.flushall()
    assert cmd(c, "CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert cmd(c, "CLUSTER", "GETKEYSINSLOT", slot, 10) == []


def test_slots_shards_views(node):
    c = node.client
    cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 99, 200, 299)
    me = myid(node).encode()
    slots = cmd(c, "CLUSTER", "SLOTS")
    assert [(s[0], s[1], s[2][1], s[2][2]) for s in slots] == [(0, 99, node.port, me), (200, 299, node.port, me)]
    shards = cmd(c, "CLUSTER", "SHARDS")
    assert len(shards) == 1
    shard = dict(zip(shards[0][::2], shards[0][1::2]))
    assert shard[b"slots"] == [0, 99, 200, 299]
    n = dict(zip(shard[b"nodes"][0][::2], shard[b"nodes"][0][1::2]))
    assert n[b"id"] == me and n[b"port"] == node.port and n[b"role"] == b"master" and n[b"health"] == b"online"
    assert cmd(c, "CLUSTER", "LINKS") == []
    assert cmd(c, "CLUSTER", "REPLICAS", me) == []
    assert cmd(c, "CLUSTER", "COUNT-FAILURE-REPORTS", me) == 0
    assert err(c, "CLUSTER", "COUNT-FAILURE-REPORTS", "x" * 40) == "Unknown node " + "x" * 40
    help_text = cmd(c, "CLUSTER", "HELP")
    assert help_text[0].startswith(b"CLUSTER <subcommand>")


def test_epochs(node):
    c = node.client
    assert cmd(c, "CLUSTER", "BUMPEPOCH") == b"BUMPED 1"
    assert cmd(c, "CLUSTER", "BUMPEPOCH") == b"STILL 1"
    assert err(c, "CLUSTER", "SET-CONFIG-EPOCH", 5) == "Node config epoch is already non-zero"
    assert cluster_info(node)["cluster_current_epoch"] == "1"


def test_set_config_epoch(node):
    c = node.client
    assert err(c, "CLUSTER", "SET-CONFIG-EPOCH", -1) == "Invalid config epoch specified: -1"
    assert cmd(c, "CLUSTER", "SET-CONFIG-EPOCH", 7) == b"OK"
    assert cluster_info(node)["cluster_current_epoch"] == "7"
    assert cluster_info(node)["cluster_my_epoch"] == "7"


def test_setslot_errors(node):
    c = node.client
    me = myid(node)
    other = "f" * 40
    assert err(c, "CLUSTER", "SETSLOT", 1, "MIGRATING", me) == "I'm not the owner of hash slot 1"
    cmd(c, "CLUSTER", "ADDSLOTS", 1)
    assert err(c, "CLUSTER", "SETSLOT", 1, "MIGRATING", other) == "I don't know about node " + other
    assert err(c, "CLUSTER", "SETSLOT", 1, "IMPORTING", me) == "I'm already the owner of hash slot 1"
    assert err(c, "CLUSTER", "SETSLOT", 2, "NODE", other) == "Unknown node " + other
    assert err(c, "CLUSTER", "SETSLOT", 1, "BOGUS") == \
        "Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"
    assert cmd(c, "CLUSTER", "SETSLOT", 1, "STABLE") == b"OK"
    assert cmd(c, "CLUSTER", "SETSLOT", 5, "NODE", me) == b"OK"
    assert nodes_view(node)[me][1] == ("1", "5")


def test_forget_reset_meet_errors(node):
    c = node.client
    assert err(c, "CLUSTER", "FORGET", myid(node)) == "I tried hard but I can't forget myself..."
    assert err(c, "CLUSTER", "FORGET", "a" * 40) == "Unknown node " + "a" * 40
    assert err(c, "CLUSTER", "MEET", "not-an-ip", 7000) == "Invalid node address specified: not-an-ip:7000"
    assert err(c, "CLUSTER", "MEET", "127.0.0.1", "x") == "Invalid TCP base port specified: x"
    assert err(c, "CLUSTER", "RESET", "bogus") == "syntax error"
    c.config_set("cluster-require-full-coverage", "no")
    cmd(c, "CLUSTER", "ADDSLOTS", cmd(c, "CLUSTER", "KEYSLOT", "k"))
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    c.set("k", 1)
    assert err(c, "CLUSTER", "RESET") == "CLUSTER RESET can't be called with master nodes containing keys"
    assert err(c, "CLUSTER", "FLUSHSLOTS") == "DB must be empty to perform CLUSTER FLUSHSLOTS."
    c.flushall()
    old = myid(node)
    assert cmd(c, "CLUSTER", "RESET", "HARD") == b"OK"
    assert myid(node) != old
    assert cluster_info(node)["cluster_slots_assigned"] == "0"
    assert err(c, "CLUSTER", "BOGUS") == "unknown subcommand 'BOGUS'. Try CLUSTER HELP."


def test_failover_without_replica(node):
    assert err(node.client, "CLUSTER", "FAILOVER") == "You should send CLUSTER FAILOVER to a replica"
    assert err(node.client, "CLUSTER", "FAILOVER", "bogus") == "syntax error"
    assert err(node.client, "CLUSTER", "REPLICATE", myid(node)) == "Can't replicate myself"


def test_nodes_conf_written_and_reloaded(start_server):
    srv = start_node(start_server)
    c = srv.client
    cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 10)
    cmd(c, "CLUSTER", "BUMPEPOCH")
    assert cmd(c, "CLUSTER", "SAVECONFIG") == b"OK"
    text = open(os.path.join(srv.dir, "nodes.conf")).read().splitlines()
    assert text[0].startswith(myid(srv) + " ") and "myself,master" in text[0] and text[0].endswith(" 0-10")
    assert text[-1] == "vars currentEpoch 1 lastVoteEpoch 0"
    # Another server started on that file is that node again.
    me = myid(srv)
    bus_port = c.config_get("cluster-port")["cluster-port"]
    c.connection_pool.disconnect()
    keep = tempfile.mkdtemp(prefix="keel-nodes-conf-")
    path = os.path.join(keep, "nodes.conf")
    shutil.copy(os.path.join(srv.dir, "nodes.conf"), path)
    srv.expected_exit = True
    srv.stop()
    again = start_server("--cluster-enabled", "yes", "--cluster-config-file", path, "--cluster-port", bus_port)
    c2 = redis.Redis(host=again.host, port=again.port)
    assert c2.execute_command("CLUSTER", "MYID").decode() == me
    info = c2.execute_command("CLUSTER", "INFO").decode()
    assert "cluster_slots_assigned:11" in info and "cluster_current_epoch:1" in info
    c2.connection_pool.disconnect()
    again.expected_exit = True
    again.stop()
    shutil.rmtree(keep)


def test_asking_readonly_readwrite(node):
    c = node.client
    assert cmd(c, "ASKING") == b"OK"
    assert cmd(c, "READONLY") == b"OK"
    assert cmd(c, "READWRITE") == b"OK"


def test_config_parameters(node):
    c = node.client
    assert c.config_get("cluster-enabled") == {"cluster-enabled": "yes"}
    assert c.config_get("cluster-node-timeout") == {"cluster-node-timeout": "2000"}
    c.config_set("cluster-require-full-coverage", "no")
    cmd(c, "CLUSTER", "ADDSLOTS", 12182)
    # Without full coverage a node serving its slots is ok.
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    assert c.set("foo", 1)
    with pytest.raises(redis.ResponseError):
        c.config_set("cluster-enabled", "no")


def test_shard_channels_dropped_when_the_slot_goes(node, raw):
    c = node.client
    cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    sub = raw(node)
    assert sub.cmd("SSUBSCRIBE", "news") == [b"ssubscribe", b"news", 1]
    assert c.execute_command("SPUBLISH", "news", "one") == 1
    assert sub.read() == [b"smessage", b"news", b"one"]
    cmd(c, "CLUSTER", "DELSLOTS", cmd(c, "CLUSTER", "KEYSLOT", "news"))
    assert sub.read() == [b"sunsubscribe", b"news", 0]
    assert cmd(c, "PUBSUB", "SHARDCHANNELS") == []


def test_scripts_keys_must_be_local_and_in_one_slot(node):
    c = node.client
    cmd(c, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    two_slots = "#!lua\nredis.call('set', 'foo', 'bar')\nredis.call('set', 'bar', 'foo')\nreturn 'OK'"
    assert err(c, "EVAL", two_slots, 0).startswith("Script attempted to access keys that do not hash to the same slot")
    # Old-style scripts (no shebang) and allow-cross-slot-keys may.
    assert cmd(c, "EVAL", "redis.call('set', 'foo', 'bar'); redis.call('set', 'bar', 'foo')", 0) is None
    assert cmd(c, "EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set', 'foo', 'bar')\n"
                          "redis.call('set', 'bar', 'foo')", 0) is None
    # The declared keys fix the slot.
    assert err(c, "EVAL", "#!lua\nredis.call('set', 'foo', 'bar')\nreturn 'OK'", 1, "bar").startswith(
        "Script attempted to access keys that do not hash to the same slot")
    assert cmd(c, "EVAL", "#!lua\nredis.call('set', KEYS[1], 'x')\nreturn 'OK'", 1, "bar") == b"OK"
    # A slot of another node (here: nobody's).
    cmd(c, "CLUSTER", "DELSLOTS", cmd(c, "CLUSTER", "KEYSLOT", "foo"))
    c.config_set("cluster-require-full-coverage", "no")
    assert wait_for(lambda: cluster_info(node)["cluster_state"] == "ok")
    assert err(c, "EVAL", "redis.call('get', 'foo')", 0).startswith(
        "Script attempted to access a non local key in a cluster node script: ")
    assert err(c, "EVAL", "#!lua flags=no-cluster\nreturn 1", 0) == \
        "Can not run script on cluster, 'no-cluster' flag is set."
