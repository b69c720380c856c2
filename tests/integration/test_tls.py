"""TLS (issue 18): tls-port beside the plain port, server and client
certificates made here with the openssl CLI, redis-py with ssl and
redis-cli --tls against the server, tls-auth-clients, certificates
reloaded by CONFIG SET, big values and pipelines through TLS records,
handshake failures, and the tls-* parameters.

Every test here passes against Redis 7.0.15 too (KEEL_SERVER=
/usr/bin/redis-server), except tls-auth-clients-user (Redis 7.2+/Valkey),
marked keel_only."""

import socket
import ssl
import subprocess

import pytest
import redis

from keel_helpers import free_port, wait_for
from tls_certs import Certs


@pytest.fixture(scope="module")
def certs():
    c = Certs()
    yield c
    c.cleanup()


@pytest.fixture
def tls_server(start_server, certs):
    port = free_port()
    srv = start_server(*certs.server_args(port))
    srv.tls_port = port
    return srv


def tls_client(srv, certs, cert="client", ca="ca", port=None, **kw):
    kw.setdefault("socket_timeout", 10)
    args = dict(host="127.0.0.1", port=port or srv.tls_port, ssl=True, ssl_ca_certs=certs.path(ca + ".crt"),
                ssl_cert_reqs="required", **kw)
    if cert:
        args.update(ssl_certfile=certs.path(cert + ".crt"), ssl_keyfile=certs.path(cert + ".key"))
    return redis.Redis(**args)


def ssl_socket(port, certs, cert="client", ca="ca", min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.path(ca + ".crt"))
    if cert:
        ctx.load_cert_chain(certs.path(cert + ".crt"), certs.path(cert + ".key"))
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="localhost")


def refused(fn):
    """The TLS handshake or the first exchange fails."""
    try:
        fn()
    except (redis.ConnectionError, ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def test_plain_and_tls_ports_serve_the_same_data(tls_server, certs):
    t = tls_client(tls_server, certs)
    assert t.set("k", "over tls")
    plain = tls_server.client()
    assert plain.get("k") == b"over tls"
    plain.set("k2", "plain")
    assert t.get("k2") == b"plain"
    assert t.ping()


def test_redis_cli_over_tls(tls_server, certs):
    base = ["redis-cli", "-p", str(tls_server.tls_port), "--tls", "--cacert", certs.path("ca.crt"),
            "--cert", certs.path("client.crt"), "--key", certs.path("client.key")]
    out = subprocess.run(base + ["set", "cli", "value"], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "OK"
    out = subprocess.run(base + ["get", "cli"], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "value"


def test_auth_clients_yes_needs_a_certificate(tls_server, certs):
    assert refused(lambda: tls_client(tls_server, certs, cert=None).ping())
    # Signed by a CA the server does not trust.
    assert refused(lambda: tls_client(tls_server, certs, cert="stranger").ping())
    # The server stays up and serves the others.
    assert tls_client(tls_server, certs).ping()


def test_auth_clients_optional_and_no(tls_server, certs):
    admin = tls_server.client()
    admin.config_set("tls-auth-clients", "optional")
    assert tls_client(tls_server, certs, cert=None).ping()
    assert tls_client(tls_server, certs).ping()
    assert refused(lambda: tls_client(tls_server, certs, cert="stranger").ping())
    admin.config_set("tls-auth-clients", "no")
    assert tls_client(tls_server, certs, cert=None).ping()
    assert admin.config_get("tls-auth-clients") == {"tls-auth-clients": "no"}


def test_client_verifies_the_server_certificate(tls_server, certs):
    # A client trusting only the other CA refuses this server.
    assert refused(lambda: tls_client(tls_server, certs, ca="ca2").ping())


def test_big_values_and_pipelines(tls_server, certs):
    t = tls_client(tls_server, certs)
    big = b"x" * (3 * 1024 * 1024 + 17)
    t.set("big", big)
    assert t.get("big") == big
    p = t.pipeline(transaction=False)
    for i in range(3000):
        p.set("k%d" % i, "v%d" % i)
        p.get("k%d" % i)
    res = p.execute()
    assert res[1::2] == [b"v%d" % i for i in range(3000)]
    t.rpush("l", *[b"e" * 1000] * 2000)
    assert t.lrange("l", 0, -1) == [b"e" * 1000] * 2000


def test_many_requests_in_one_record_are_all_answered(tls_server, certs):
    # Many small requests arrive in one TLS record: all are decrypted at
    # once, some only readable from OpenSSL's buffer, never from the
    # socket. Every one must be answered without a further event.
    s = ssl_socket(tls_server.tls_port, certs)
    try:
        n = 2000
        s.sendall(b"PING\r\n" * n)
        want = b"+PONG\r\n" * n
        got = b""
        while len(got) < len(want):
            chunk = s.recv(65536)
            assert chunk, "connection closed after %d bytes" % len(got)
            got += chunk
        assert got == want
    finally:
        s.close()


def test_config_set_certificate_and_key_together(tls_server, certs):
    before = tls_client(tls_server, certs)
    assert before.ping()
    admin = tls_server.client()
    assert admin.execute_command("CONFIG", "SET", "tls-cert-file", certs.path("server2.crt"),
                                 "tls-key-file", certs.path("server2.key")) == b"OK"
    # New connections get the new certificate (only CA2 verifies it)...
    assert tls_client(tls_server, certs, ca="ca2").ping()
    assert refused(lambda: tls_client(tls_server, certs, ca="ca").ping())
    # ...and the connection made before keeps working.
    assert before.get("nothing") is None
    assert before.set("still", "here")


def test_config_set_bad_certificate_keeps_the_old_one(tls_server, certs):
    admin = tls_server.client()
    with pytest.raises(redis.ResponseError) as e:
        admin.config_set("tls-cert-file", certs.path("server2.crt"))
    assert "Unable to update TLS configuration" in str(e.value)
    with pytest.raises(redis.ResponseError):
        admin.config_set("tls-cert-file", certs.path("no-such-file.crt"))
    assert admin.config_get("tls-cert-file")["tls-cert-file"] == certs.path("server.crt")
    assert tls_client(tls_server, certs).ping()


def test_config_set_same_file_reloads_it(tls_server, certs, tmp_path):
    # The operator replaces the files in place, then names them again.
    import shutil
    crt, key = tmp_path / "live.crt", tmp_path / "live.key"
    shutil.copy(certs.path("server.crt"), crt)
    shutil.copy(certs.path("server.key"), key)
    admin = tls_server.client()
    admin.execute_command("CONFIG", "SET", "tls-cert-file", str(crt), "tls-key-file", str(key))
    assert tls_client(tls_server, certs).ping()
    shutil.copy(certs.path("server2.crt"), crt)
    shutil.copy(certs.path("server2.key"), key)
    assert tls_client(tls_server, certs).ping()  # not reloaded yet
    admin.execute_command("CONFIG", "SET", "tls-cert-file", str(crt), "tls-key-file", str(key))
    assert tls_client(tls_server, certs, ca="ca2").ping()


def test_config_set_tls_port(start_server, certs):
    srv = start_server("--tls-cert-file", certs.path("server.crt"), "--tls-key-file", certs.path("server.key"),
                       "--tls-ca-cert-file", certs.path("ca.crt"))
    admin = srv.client()
    assert admin.config_get("tls-port") == {"tls-port": "0"}
    port = free_port()
    admin.config_set("tls-port", port)
    assert tls_client(srv, certs, port=port).ping()
    port2 = free_port()
    admin.config_set("tls-port", port2)
    assert tls_client(srv, certs, port=port2).ping()
    assert refused(lambda: tls_client(srv, certs, port=port).ping())


def test_plain_text_on_the_tls_port_is_dropped(tls_server, certs):
    s = socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10)
    try:
        s.sendall(b"PING\r\n")
        try:
            data = s.recv(1024)
        except ConnectionResetError:
            data = b""
        assert b"PONG" not in data
    finally:
        s.close()
    assert tls_client(tls_server, certs).ping()


def test_a_client_that_leaves_mid_handshake(tls_server, certs):
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10)
        s.sendall(b"\x16\x03\x01\x00\x05")  # the start of a ClientHello record
        s.close()
    assert tls_client(tls_server, certs).ping()
    admin = tls_server.client()
    wait_for(lambda: admin.info("clients")["connected_clients"] == 1)


def test_tls_protocols(start_server, certs):
    port = free_port()
    srv = start_server(*certs.server_args(port), "--tls-protocols", "TLSv1.2")
    s = ssl_socket(port, certs, max_version=ssl.TLSVersion.TLSv1_2)
    assert s.version() == "TLSv1.2"
    s.close()
    assert refused(lambda: ssl_socket(port, certs, min_version=ssl.TLSVersion.TLSv1_3))
    admin = srv.client()
    admin.config_set("tls-protocols", "TLSv1.3")
    s = ssl_socket(port, certs)
    assert s.version() == "TLSv1.3"
    s.close()
    with pytest.raises(redis.ResponseError):
        admin.config_set("tls-protocols", "SSLv9")
    assert admin.config_get("tls-protocols") == {"tls-protocols": "TLSv1.3"}


def test_ciphers_and_ciphersuites(start_server, certs):
    port = free_port()
    srv = start_server(*certs.server_args(port), "--tls-protocols", "TLSv1.2",
                       "--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "--tls-prefer-server-ciphers", "yes")
    s = ssl_socket(port, certs, max_version=ssl.TLSVersion.TLSv1_2)
    assert s.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256"
    s.close()
    admin = srv.client()
    admin.config_set("tls-protocols", "TLSv1.3")
    admin.config_set("tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
    s = ssl_socket(port, certs)
    assert s.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"
    s.close()
    with pytest.raises(redis.ResponseError):
        admin.config_set("tls-ciphers", "NO-SUCH-CIPHER")


def test_key_file_password_and_dh_params(start_server, certs):
    port = free_port()
    srv = start_server("--tls-port", port, "--tls-cert-file", certs.path("server.crt"),
                       "--tls-key-file", certs.path("server-pass.key"), "--tls-key-file-pass", "sekrit",
                       "--tls-ca-cert-file", certs.path("ca.crt"), "--tls-dh-params-file", certs.path("dh.pem"))
    assert tls_client(srv, certs, port=port).ping()
    admin = srv.client()
    with pytest.raises(redis.ResponseError):
        admin.config_set("tls-key-file-pass", "wrong")
    assert tls_client(srv, certs, port=port).ping()


def test_ca_cert_dir(start_server, certs, tmp_path):
    # A CA directory in OpenSSL's hashed layout (openssl rehash).
    import shutil
    shutil.copy(certs.path("ca.crt"), tmp_path / "ca.pem")
    subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, timeout=30, capture_output=True)
    port = free_port()
    srv = start_server("--tls-port", port, "--tls-cert-file", certs.path("server.crt"),
                       "--tls-key-file", certs.path("server.key"), "--tls-ca-cert-dir", str(tmp_path))
    assert tls_client(srv, certs, port=port).ping()
    assert refused(lambda: tls_client(srv, certs, port=port, cert="stranger").ping())


def test_session_cache_parameters(tls_server):
    admin = tls_server.client()
    admin.config_set("tls-session-caching", "no")
    admin.config_set("tls-session-cache-size", "100")
    admin.config_set("tls-session-cache-timeout", "60")
    got = admin.config_get("tls-session-*")
    assert got == {"tls-session-caching": "no", "tls-session-cache-size": "100",
                   "tls-session-cache-timeout": "60"}


def test_tls_replication_and_cluster_are_stored(tls_server):
    admin = tls_server.client()
    admin.config_set("tls-replication", "yes")
    admin.config_set("tls-cluster", "yes")
    assert admin.config_get("tls-replication") == {"tls-replication": "yes"}
    assert admin.config_get("tls-cluster") == {"tls-cluster": "yes"}


def test_start_up_fails_without_certificate(certs):
    from keel_helpers import Server, ServerError
    srv = Server(extra_args=["--tls-port", str(free_port()), "--tls-cert-file", certs.path("missing.crt"),
                             "--tls-key-file", certs.path("server.key")])
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert srv.proc.wait(10) == 1
    assert "Failed to configure TLS" in srv.log_text()
    srv.stop()


def test_tls_needs_a_ca_when_clients_are_authenticated(certs):
    from keel_helpers import Server, ServerError
    srv = Server(extra_args=["--tls-port", str(free_port()), "--tls-cert-file", certs.path("server.crt"),
                             "--tls-key-file", certs.path("server.key")])
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert "tls-ca-cert-file or tls-ca-cert-dir must be specified" in srv.log_text()
    srv.stop()


@pytest.mark.keel_only
def test_tls_auth_clients_user_cn(start_server, certs):
    port = free_port()
    srv = start_server(*certs.server_args(port), "--tls-auth-clients-user", "CN")
    srv.client().config_set("requirepass", "pw")
    # CN=default logs in as the default user without AUTH.
    assert tls_client(srv, certs, port=port).set("a", "1")
    # CN=alice names no user (no ACL users yet): AUTH is still needed.
    alice = tls_client(srv, certs, port=port, cert="alice")
    with pytest.raises(redis.AuthenticationError):
        alice.get("a")
    admin = srv.client(password="pw")
    admin.config_set("tls-auth-clients-user", "off")
    with pytest.raises(redis.AuthenticationError):
        tls_client(srv, certs, port=port).get("a")
    assert admin.config_get("tls-auth-clients-user") == {"tls-auth-clients-user": "off"}


def test_tls_clients_listed_with_the_others(tls_server, certs):
    t = tls_client(tls_server, certs)
    t.client_setname("tlsclient")
    names = [c["name"] for c in tls_server.client().client_list()]
    assert "tlsclient" in names


REDIS = "/usr/bin/redis-server"


@pytest.mark.parametrize("direction", ["keel->keel", "keel->redis", "redis->keel"])
def test_replication_over_tls(certs, direction):
    """tls-replication yes: the replica's link to the master's TLS port,
    full sync then the stream, against Redis both ways."""
    from keel_helpers import Server, server_binary
    from repl_helpers import digest_all, fill_all_types, logs, wait_in_sync
    mbin, rbin = {"keel->keel": (server_binary(), server_binary()), "keel->redis": (server_binary(), REDIS),
                  "redis->keel": (REDIS, server_binary())}[direction]
    mport, rport = free_port(), free_port()
    m = Server(extra_args=certs.server_args(mport) + ["--repl-diskless-sync-delay", "0"], binary=mbin)
    s = Server(extra_args=certs.server_args(rport) + ["--tls-replication", "yes"], binary=rbin)
    try:
        m.start()
        s.start()
        mc = m.client()
        fill_all_types(mc, dbs=3)
        mc.set("big", "x" * (2 << 20))
        s.client().replicaof("127.0.0.1", mport)
        wait_in_sync(m, s)
        assert digest_all(s.client()) == digest_all(mc), logs(m, s)
        p = mc.pipeline(transaction=False)
        for i in range(2000):
            p.rpush("after", i)
        p.execute()
        wait_in_sync(m, s)
        assert digest_all(s.client()) == digest_all(mc)
        assert "Unable to connect to MASTER" not in s.log_text()
    finally:
        problems = m.stop() + s.stop()
    assert problems == []


def test_replication_link_refused_without_tls_replication(start_server, certs):
    # A replica speaking plain TCP to the master's TLS port never gets
    # in; with tls-replication yes it does.
    from repl_helpers import link_up
    mport = free_port()
    m = start_server(*certs.server_args(mport))
    s = start_server(*certs.server_args(free_port()))
    s.client().replicaof("127.0.0.1", mport)
    # The first attempt failed when a second one starts.
    assert wait_for(lambda: s.log_text().count("Connecting to MASTER") >= 2, timeout=30)
    assert not link_up(s)
    s.client().config_set("tls-replication", "yes")
    assert wait_for(lambda: link_up(s), timeout=30), m.log_text()[-2000:] + s.log_text()[-2000:]
