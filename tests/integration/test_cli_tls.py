"""keel-cli over TLS (--tls, --cacert, --cacertdir, --cert, --key,
--insecure, --sni, rediss://), beside Debian's redis-cli, against a server
with a TLS port."""

import os
import shutil

import pytest

from cli_helpers import REDIS_CLI, keel_cli_binary, run
from keel_helpers import encode_command, free_port
from tls_certs import Certs

pytestmark = pytest.mark.usefixtures("flush_after")


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


def tls_args(srv, certs, client=True, ca=True):
    args = ["-h", "127.0.0.1", "-p", str(srv.tls_port), "--tls"]
    if ca:
        args += ["--cacert", certs.path("ca.crt")]
    if client:
        args += ["--cert", certs.path("client.crt"), "--key", certs.path("client.key")]
    return args


def both(args, stdin=b""):
    return run(keel_cli_binary(), args, stdin=stdin), run(REDIS_CLI, args, stdin=stdin)


def test_commands_over_tls_as_redis_cli(tls_server, certs):
    base = tls_args(tls_server, certs)
    tls_server.client().rpush("l", "a", "b")
    for command in (["SET", "k", "v"], ["GET", "k"], ["--no-raw", "GET", "k"],
                    ["--no-raw", "LRANGE", "l", "0", "-1"],
                    ["-3", "--no-raw", "CONFIG", "GET", "port"], ["NOSUCH"]):
        got, want = both(base + command)
        assert got == want, command
    assert tls_server.client().get("k") == b"v"


def test_rediss_uri_and_cacertdir(tls_server, certs, tmp_path):
    cadir = tmp_path / "cas"
    cadir.mkdir()
    shutil.copy(certs.path("ca.crt"), cadir / "ca.crt")
    os.system("openssl rehash %s >/dev/null 2>&1 || c_rehash %s >/dev/null 2>&1" % (cadir, cadir))
    client = ["--cert", certs.path("client.crt"), "--key", certs.path("client.key")]
    uri = "rediss://127.0.0.1:%d/3" % tls_server.tls_port
    got, want = both(["-u", uri, "--cacert", certs.path("ca.crt")] + client + ["--no-raw", "DBSIZE"])
    assert got == want == (0, b"(integer) 0\n", b"")
    got = run(keel_cli_binary(), ["-u", uri, "--cacertdir", str(cadir)] + client + ["PING"])
    assert got == (0, b"PONG\n", b"")


def test_insecure_and_sni(tls_server, certs):
    got = run(keel_cli_binary(), tls_args(tls_server, certs, ca=False) + ["--insecure", "PING"])
    assert got == (0, b"PONG\n", b"")
    got = run(keel_cli_binary(), tls_args(tls_server, certs) + ["--sni", "localhost", "PING"])
    assert got == (0, b"PONG\n", b"")


def test_unverified_server_is_refused(tls_server, certs):
    """The server's certificate is signed by a CA the client does not
    trust: no connection, redis-cli's message."""
    args = ["-h", "127.0.0.1", "-p", str(tls_server.tls_port), "--tls", "--cacert", certs.path("ca2.crt"),
            "--cert", certs.path("client.crt"), "--key", certs.path("client.key"), "PING"]
    got, want = both(args)
    assert got == want
    assert got == (1, b"", b"Could not connect to Redis at 127.0.0.1:%d: SSL_connect failed: "
                           b"certificate verify failed\n" % tls_server.tls_port)


def test_missing_client_certificate_is_refused(tls_server, certs):
    got = run(keel_cli_binary(), tls_args(tls_server, certs, client=False) + ["PING"])
    assert got[0] == 1 and got[1] == b"", got


def test_bad_certificate_file(tls_server, certs, tmp_path):
    bad = tmp_path / "bad.crt"
    bad.write_text("not a certificate")
    args = tls_args(tls_server, certs, client=False) + ["--cert", str(bad), "--key", certs.path("client.key"),
                                                          "PING"]
    got = run(keel_cli_binary(), args)
    assert got[0] == 1 and got[2].startswith(b"Could not negotiate a TLS connection: "), got


def test_pipe_and_latency_over_tls(r, tls_server, certs):
    payload = b"".join(encode_command("SET", "key:%d" % i, "v" * 100) for i in range(20000))
    rc, out, err = run(keel_cli_binary(), tls_args(tls_server, certs) + ["--pipe"], stdin=payload, timeout=120)
    assert (rc, err) == (0, b"") and out.endswith(b"errors: 0, replies: 20000\n"), out
    assert tls_server.client().dbsize() == 20000
    rc, out, err = run(keel_cli_binary(), tls_args(tls_server, certs) + ["--latency", "-i", "0.2"])
    assert rc == 0 and len(out.split()) == 4
