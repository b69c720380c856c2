"""Transactions in cluster mode (issue 15), as Redis 7.0: each queued
command is checked when it is queued (a redirection then dooms the
transaction: EXECABORT), and EXEC checks the keys of all the queued
commands together: keys of different slots get -CROSSSLOT, a slot that
moved -MOVED, a slot being migrated -ASK or -TRYAGAIN; the refused
transaction is discarded."""
import pytest

from cluster_helpers import cluster_info, myid, start_node
from keel_helpers import Error, RawConn, cmd, wait_for


@pytest.fixture
def pair(start_server):
    """Two nodes that know each other; the first serves every slot."""
    a, b = start_node(start_server), start_node(start_server)
    cmd(a.client, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    bus = int(b.client.config_get("cluster-port")["cluster-port"])
    assert cmd(a.client, "CLUSTER", "MEET", b.host, b.port, bus) == b"OK"
    assert wait_for(lambda: cluster_info(a)["cluster_known_nodes"] == "2"
                    and cluster_info(b)["cluster_known_nodes"] == "2"
                    and cluster_info(b)["cluster_state"] == "ok", timeout=30)
    # MEET's handshake is done once a knows b by its real ID.
    assert wait_for(lambda: myid(b) in a.client.execute_command("CLUSTER", "NODES").decode(), timeout=30)
    return a, b


def conn(srv):
    return RawConn(srv.host, srv.port)


def slot(srv, key):
    return cmd(srv.client, "CLUSTER", "KEYSLOT", key)


def test_exec_refuses_keys_of_different_slots(pair):
    a, _ = pair
    with conn(a) as c:
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "foo", 1) == b"QUEUED"
        assert c.cmd("SET", "bar", 2) == b"QUEUED"
        assert c.cmd("EXEC") == Error("CROSSSLOT Keys in request don't hash to the same slot")
        # The transaction was discarded: nothing ran, no MULTI left open.
        assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")
        assert c.cmd("EXISTS", "foo", "bar") == Error("CROSSSLOT Keys in request don't hash to the same slot")
        assert c.cmd("GET", "foo") is None and c.cmd("GET", "bar") is None
        # Keys sharing a hash tag run together; commands without keys too.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "{u}foo", 1) == b"QUEUED"
        assert c.cmd("PING") == b"QUEUED"
        assert c.cmd("INCR", "{u}bar") == b"QUEUED"
        assert c.cmd("EXEC") == [b"OK", b"PONG", 1]


def test_cross_slot_command_queued_aborts_exec(pair):
    a, _ = pair
    with conn(a) as c:
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "{x}k", 1) == b"QUEUED"
        assert c.cmd("MSET", "a", 1, "b", 2) == Error("CROSSSLOT Keys in request don't hash to the same slot")
        assert c.cmd("EXEC") == Error("EXECABORT Transaction discarded because of previous errors.")
        assert c.cmd("GET", "{x}k") is None


def test_exec_refused_discards_watches(pair):
    a, _ = pair
    with conn(a) as c, conn(a) as other:
        assert c.cmd("WATCH", "foo") == b"OK"
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "foo", 1) == b"QUEUED"
        assert c.cmd("SET", "bar", 1) == b"QUEUED"
        assert c.cmd("EXEC") == Error("CROSSSLOT Keys in request don't hash to the same slot")
        # The watch went with the transaction: a change of foo does not
        # spoil the next one.
        assert other.cmd("SET", "foo", 9) == b"OK"
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "foo") == b"QUEUED"
        assert c.cmd("EXEC") == [b"9"]


def test_exec_after_the_slot_moved_gets_moved(pair):
    a, b = pair
    s = slot(a, "foo")
    with conn(a) as c:
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "foo", 1) == b"QUEUED"
        assert cmd(a.client, "CLUSTER", "SETSLOT", s, "NODE", myid(b)) == b"OK"
        assert c.cmd("EXEC") == Error("MOVED %d %s:%d" % (s, b.host, b.port))
        assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")
    assert a.client.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == 0


def test_exec_on_a_migrating_slot(pair):
    a, b = pair
    s = slot(a, "{m}")
    a.client.set("{m}here", "v")
    with conn(a) as c:
        # Queued while the slot is stable, then the slot starts migrating.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "{m}here") == b"QUEUED"
        assert c.cmd("GET", "{m}gone") == b"QUEUED"
        assert cmd(a.client, "CLUSTER", "SETSLOT", s, "MIGRATING", myid(b)) == b"OK"
        # One key here, one missing: the request cannot be served anywhere.
        assert c.cmd("EXEC") == Error("TRYAGAIN Multiple keys request during rehashing of slot")
        assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")
        # Only keys that are here: served here.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "{m}here") == b"QUEUED"
        assert c.cmd("EXEC") == [b"v"]
        # Every key missing when EXEC comes: ASK, for the node importing
        # the slot.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "{m}here") == b"QUEUED"
        assert a.client.delete("{m}here") == 1
        assert c.cmd("EXEC") == Error("ASK %d %s:%d" % (s, b.host, b.port))
        assert c.cmd("EXEC") == Error("ERR EXEC without MULTI")
        # Missing when queued: ASK at once, and EXEC aborts.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "{m}gone") == Error("ASK %d %s:%d" % (s, b.host, b.port))
        assert c.cmd("EXEC") == Error("EXECABORT Transaction discarded because of previous errors.")


def test_exec_on_an_importing_slot_needs_asking(pair):
    a, b = pair
    s = slot(a, "{i}")
    assert cmd(a.client, "CLUSTER", "SETSLOT", s, "MIGRATING", myid(b)) == b"OK"
    assert cmd(b.client, "CLUSTER", "SETSLOT", s, "IMPORTING", myid(a)) == b"OK"
    with conn(b) as c:
        # Without ASKING the importing node redirects to the owner.
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "{i}k", 1) == Error("MOVED %d %s:%d" % (s, a.host, a.port))
        assert c.cmd("EXEC") == Error("EXECABORT Transaction discarded because of previous errors.")
        # ASKING before MULTI covers the whole transaction.
        assert c.cmd("ASKING") == b"OK"
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("SET", "{i}k", 1) == b"QUEUED"
        assert c.cmd("INCR", "{i}k") == b"QUEUED"
        assert c.cmd("EXEC") == [b"OK", 2]
        # Several keys, some missing: TRYAGAIN at EXEC.
        assert c.cmd("ASKING") == b"OK"
        assert c.cmd("MULTI") == b"OK"
        assert c.cmd("GET", "{i}k") == b"QUEUED"
        assert c.cmd("GET", "{i}missing") == b"QUEUED"
        assert c.cmd("EXEC") == Error("TRYAGAIN Multiple keys request during rehashing of slot")
