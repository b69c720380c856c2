"""Helpers for the cluster tests: start cluster-enabled nodes (Keel or
Debian's redis-server), form a cluster with redis-cli --cluster, wait for
the nodes to agree."""
import subprocess

import redis

from keel_helpers import free_port, wait_for

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


def start_node(start_server, binary=None, timeout_ms=2000, *extra):
    """A cluster-enabled node; its bus on a port of its own (port+10000
    may be out of range for the test's random port)."""
    kw = {"binary": binary} if binary else {}
    srv = start_server("--cluster-enabled", "yes", "--cluster-node-timeout", str(timeout_ms),
                       "--cluster-port", str(free_port()), *extra, **kw)
    srv.client = redis.Redis(host=srv.host, port=srv.port, socket_timeout=30)
    return srv


def addr(srv):
    return "%s:%d" % (srv.host, srv.port)


def cli(*args, timeout=120):
    """redis-cli with the arguments; returns (exit status, output)."""
    p = subprocess.run([REDIS_CLI] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def cluster_info(srv):
    text = srv.client.execute_command("CLUSTER", "INFO")
    if isinstance(text, bytes):
        text = text.decode()
    return dict(line.split(":", 1) for line in text.strip().splitlines())


def nodes_view(srv):
    """{node id: (flags, slot ranges)} as srv sees them."""
    text = srv.client.execute_command("CLUSTER", "NODES")
    if isinstance(text, bytes):
        text = text.decode()
    view = {}
    for line in text.strip().splitlines():
        f = line.split(" ")
        view[f[0]] = (set(f[2].split(",")) - {"myself"}, tuple(s for s in f[8:] if not s.startswith("[")))
    return view


def wait_agreed(nodes, timeout=60):
    """Every node sees state ok and the same nodes and slots."""
    def agreed():
        try:
            views = [nodes_view(n) for n in nodes]
            infos = [cluster_info(n) for n in nodes]
        except redis.RedisError:
            return False
        return (all(i["cluster_state"] == "ok" for i in infos) and all(v == views[0] for v in views)
                and len(views[0]) == len(nodes))
    return wait_for(agreed, timeout=timeout, interval=0.2)


def create_cluster(nodes, replicas=0):
    status, out = cli("--cluster", "create", *[addr(n) for n in nodes], "--cluster-replicas", replicas,
                      "--cluster-yes")
    assert status == 0, out
    assert "[OK] All 16384 slots covered." in out, out
    assert wait_agreed(nodes), [nodes_view(n) for n in nodes]
    return out


def myid(srv):
    v = srv.client.execute_command("CLUSTER", "MYID")
    return v.decode() if isinstance(v, bytes) else v


def add_replica(replica, master, nodes):
    """Join replica to the cluster as master's replica (redis-cli --cluster
    add-node --cluster-slave) and wait until nodes plus it agree; returns
    that list."""
    status, out = cli("--cluster", "add-node", addr(replica), addr(master), "--cluster-slave", "--cluster-master-id",
                      myid(master))
    assert status == 0, out
    nodes = nodes + [replica]
    assert wait_agreed(nodes)
    return nodes
