"""TLS on the cluster bus (issue 18): with `tls-cluster yes` the bus
listener speaks TLS and outgoing bus links connect over TLS, with the
certificates of the tls-* parameters (made here with the openssl CLI);
the node's client port is then its TLS port, and the bus listens 10000
above it unless cluster-port says otherwise, as in Redis 7.0.

The nodes listen on tls-port only (port 0), so every client here speaks
TLS: redis-cli --tls --cluster create forms the cluster, redis-cli -c
follows the redirections. A mixed cluster of Keel and Debian's
redis-server (built with TLS) checks that the two speak the same bus
over TLS.

Every test here passes against Redis 7.0.15 too (KEEL_SERVER=
/usr/bin/redis-server)."""

import socket
import ssl
import subprocess

import pytest
import redis

from cluster_helpers import REDIS_CLI, REDIS_SERVER
from keel_helpers import Server, ServerError, free_port, wait_for
from tls_certs import Certs


@pytest.fixture(scope="module")
def certs():
    c = Certs()
    yield c
    c.cleanup()


class TlsNode(Server):
    """A cluster node on tls-port only; self.port is its TLS port."""

    def __init__(self, certs, binary=None, cluster_port=None):
        super().__init__(binary=binary, name="keeltls")
        self.certs = certs
        self.cluster_port = cluster_port

    def args(self, port):
        a = [self.binary, "--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--cluster-enabled", "yes", "--cluster-node-timeout", "3000",
             "--tls-cluster", "yes", "--tls-replication", "yes"]
        a += self.certs.server_args(port)
        if self.cluster_port != 0:
            a += ["--cluster-port", str(self.cluster_port or free_port())]
        return a

    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        c = self.certs
        return redis.Redis(host=self.host, port=self.port, ssl=True, ssl_ca_certs=c.path("ca.crt"),
                           ssl_certfile=c.path("client.crt"), ssl_keyfile=c.path("client.key"),
                           ssl_cert_reqs="required", **kw)

    def wait_ready(self, timeout, wait_loaded=True):
        def up():
            if self.proc.poll() is not None:
                raise ServerError("server exited with status %s during startup; log:\n%s"
                                  % (self.proc.returncode, self.log_text()[-4000:]))
            try:
                return self.client(socket_timeout=2, socket_connect_timeout=2).ping()
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return False
        if not wait_for(up, timeout=timeout, interval=0.05):
            raise ServerError("server did not answer PING over TLS within %ss; log:\n%s"
                              % (timeout, self.log_text()[-4000:]))


@pytest.fixture
def tls_nodes(certs):
    started = []

    def factory(binary=None, **kw):
        n = TlsNode(certs, binary=binary, **kw)
        started.append(n)
        n.start()
        return n

    yield factory
    problems = []
    for n in started:
        problems += n.stop()
    assert not problems, problems


def tls_cli(certs, *args, timeout=120):
    cmd = [REDIS_CLI, "--tls", "--cacert", certs.path("ca.crt"), "--cert", certs.path("client.crt"),
           "--key", certs.path("client.key")] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).strip()


def cluster_info(n):
    text = n.client().execute_command("CLUSTER", "INFO")
    text = text.decode() if isinstance(text, bytes) else text
    return dict(line.split(":", 1) for line in text.strip().splitlines())


def nodes_lines(n):
    text = n.client().execute_command("CLUSTER", "NODES")
    text = text.decode() if isinstance(text, bytes) else text
    return text.strip().splitlines()


def agreed(nodes):
    try:
        return (all(cluster_info(n)["cluster_state"] == "ok" for n in nodes)
                and all(len(nodes_lines(n)) == len(nodes) for n in nodes))
    except redis.RedisError:
        return False


def create(certs, nodes):
    status, out = tls_cli(certs, "--cluster", "create", *["127.0.0.1:%d" % n.port for n in nodes],
                          "--cluster-yes")
    assert status == 0, out
    assert "[OK] All 16384 slots covered." in out, out
    assert wait_for(lambda: agreed(nodes), timeout=60), [nodes_lines(n) for n in nodes]


def tls_handshake_ok(certs, port):
    """A TLS client (with the client certificate) completes a handshake
    on the port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.path("ca.crt"))
    ctx.load_cert_chain(certs.path("client.crt"), certs.path("client.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.version() is not None


def bus_port(n):
    mine = [line for line in nodes_lines(n) if "myself" in line][0]
    return int(mine.split()[1].split("@")[1].split(",")[0])


def test_tls_only_cluster_forms_and_redirects(certs, tls_nodes):
    nodes = [tls_nodes() for _ in range(3)]
    create(certs, nodes)
    for n in nodes:
        # The node's address is its TLS port; its bus speaks TLS.
        mine = [line for line in nodes_lines(n) if "myself" in line][0]
        assert mine.split()[1].startswith("127.0.0.1:%d@" % n.port), mine
        assert tls_handshake_ok(certs, bus_port(n))
    # Written through one node, readable through every node with -c.
    for i in range(20):
        status, out = tls_cli(certs, "-c", "-p", nodes[i % 3].port, "SET", "key:%d" % i, "v%d" % i)
        assert (status, out) == (0, "OK"), out
    for n in nodes:
        for i in range(20):
            status, out = tls_cli(certs, "-c", "-p", n.port, "GET", "key:%d" % i)
            assert (status, out) == (0, "v%d" % i), out
    # A MOVED names the owner's TLS port.
    slot = nodes[0].client().execute_command("CLUSTER", "KEYSLOT", "key:0")
    owner = [n for n in nodes if slot in range(*owned_range(n))][0]
    other = [n for n in nodes if n is not owner][0]
    with pytest.raises(redis.ResponseError, match=r"%d 127\.0\.0\.1:%d$" % (slot, owner.port)):
        other.client().get("key:0")


def owned_range(n):
    mine = [line for line in nodes_lines(n) if "myself" in line][0]
    lo, hi = mine.split()[8].split("-")
    return int(lo), int(hi) + 1


def test_plain_bus_peer_is_refused(certs, tls_nodes):
    """The bus listener speaks TLS only: a cluster message sent in clear
    does not reach the node (it never learns of the sender)."""
    n = tls_nodes()
    before = nodes_lines(n)
    with socket.create_connection(("127.0.0.1", bus_port(n)), timeout=10) as s:
        header = bytearray(2256)
        header[0:4] = b"RCmb"
        header[4:8] = (2256).to_bytes(4, "big")
        header[8:10] = (1).to_bytes(2, "big")
        header[12:14] = (2).to_bytes(2, "big")  # MEET
        header[40:80] = b"f" * 40
        s.sendall(bytes(header))
        s.settimeout(10)
        try:
            got = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            got = b""
        assert not got.startswith(b"RCmb")
    assert nodes_lines(n) == before


def test_bus_port_defaults_to_tls_port_plus_10000(certs, tls_nodes):
    for _ in range(50):
        n = tls_nodes(cluster_port=0)
        if n.port + 10000 <= 65535:
            break
        n.expected_exit = True
        n.stop()
    else:
        pytest.fail("no TLS port below 55536 offered by the OS")
    assert bus_port(n) == n.port + 10000
    assert tls_handshake_ok(certs, n.port + 10000)


def test_replica_in_tls_cluster(certs, tls_nodes):
    """A replica added to a TLS cluster replicates from its master's TLS
    port (tls-replication) and answers READONLY reads."""
    nodes = [tls_nodes() for _ in range(3)]
    create(certs, nodes)
    replica = tls_nodes()
    status, out = tls_cli(certs, "--cluster", "add-node", "127.0.0.1:%d" % replica.port,
                          "127.0.0.1:%d" % nodes[0].port, "--cluster-slave")
    assert status == 0, out
    assert wait_for(lambda: agreed(nodes + [replica]), timeout=60), nodes_lines(replica)
    assert wait_for(lambda: replica.client().info("replication").get("master_link_status") == "up",
                    timeout=60), replica.log_text()[-3000:]
    master_port = replica.client().info("replication")["master_port"]
    master = [n for n in nodes if n.port == master_port][0]
    lo, _ = owned_range(master)
    key = next("k%d" % i for i in range(100000)
               if master.client().execute_command("CLUSTER", "KEYSLOT", "k%d" % i) == lo)
    master.client().set(key, "from-master")
    c = replica.client()
    c.execute_command("READONLY")
    assert wait_for(lambda: c.get(key) == b"from-master", timeout=30)


def test_mixed_keel_and_redis_tls_cluster(certs, tls_nodes):
    nodes = [tls_nodes(), tls_nodes(), tls_nodes(binary=REDIS_SERVER)]
    create(certs, nodes)
    for i in range(30):
        status, out = tls_cli(certs, "-c", "-p", nodes[i % 3].port, "SET", "mixed:%d" % i, i)
        assert (status, out) == (0, "OK"), out
    for n in nodes:
        for i in range(30):
            status, out = tls_cli(certs, "-c", "-p", n.port, "GET", "mixed:%d" % i)
            assert (status, out) == (0, str(i)), out
