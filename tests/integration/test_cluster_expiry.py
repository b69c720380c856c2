"""A key of a migrating slot that has expired counts as missing when the
cluster check decides between serving and -ASK (Redis 7.0.15's
unit/cluster/misc, *Key lazy expires during key migration*): the check
reads the clock itself, not the previous command's time."""
import time

import pytest
import redis

from cluster_helpers import create_cluster, myid, nodes_view, start_node


def owner_of(nodes, slot):
    for n in nodes:
        for r in nodes_view(n)[myid(n)][1]:
            lo, hi = r.split("-") if "-" in r else (r, r)
            if int(lo) <= slot <= int(hi):
                return n
    raise AssertionError("slot %d has no owner" % slot)


def test_expired_key_of_migrating_slot_gets_ask(start_server):
    nodes = [start_node(start_server) for _ in range(3)]
    create_cluster(nodes)
    slot = nodes[0].client.execute_command("CLUSTER", "KEYSLOT", "FOO")
    src = owner_of(nodes, slot)
    dst = next(n for n in nodes if n is not src)
    s = src.client
    s.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        s.set("FOO", "BAR", px=10)
        s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", myid(dst))
        dst.client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", myid(src))
        time.sleep(0.1)  # well past the key's 10 ms
        with pytest.raises(redis.ResponseError, match=r"%d 127\.0\.0\.1:%d$" % (slot, dst.port)):
            s.get("FOO")
        assert s.ping()
    finally:
        s.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
