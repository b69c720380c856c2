"""Issue 18 without ACL and TLS: protected mode (seen from a non-loopback
address of the test's own: a network namespace joined to the host by a
veth pair, made here and removed in a finally), the "local" settings of
enable-debug-command / enable-module-command / enable-protected-configs
from both sides, MODULE, rename-command, the cross-protocol scripting
guard, and maxclients lowered to the file-descriptor limit.

The namespace needs root and iproute2 (scripts/install-deps.sh); the
addresses are 10.231.x.1 (host side) and 10.231.x.2 (namespace side) on a
/30 that exists only between the two ends of the pair."""

import contextlib
import os
import socket
import subprocess
import time

import pytest
import redis

from keel_helpers import Server, ServerError, free_port, wait_for

PROTECTED_ERR = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
    b"for the default user. In this mode connections are only accepted from the loopback interface. If you "
    b"want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
    b"disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface "
    b"by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not "
    b"publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. 3) If you started the "
    b"server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    b"authentication password for the default user. NOTE: You only need to do one of the above things in "
    b"order for the server to start accepting connections from the outside.\r\n")

NOT_ALLOWED = ("ERR %s command not allowed. If the %s option is set to \"local\", you can run it from a local "
               "connection, otherwise you need to set this option in the configuration file, and then restart "
               "the server.")

SECURITY_LOG = ("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to "
                "Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to "
                "compromise your Redis instance. Connection aborted.")


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, timeout=30, capture_output=True)


@contextlib.contextmanager
def veth_namespace():
    """A namespace reaching the host through its own veth pair. Yields
    (namespace, host-side address, namespace-side address)."""
    n = os.getpid() % 250 + 1
    ns, host_if, ns_if = "keelpm%d" % os.getpid(), "kpmh%d" % os.getpid(), "kpmn%d" % os.getpid()
    host_ip, ns_ip = "10.231.%d.1" % n, "10.231.%d.2" % n
    try:
        ip("netns", "add", ns)
        ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        ip("link", "set", ns_if, "netns", ns)
        ip("addr", "add", host_ip + "/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("netns", "exec", ns, "ip", "addr", "add", ns_ip + "/30", "dev", ns_if)
        ip("netns", "exec", ns, "ip", "link", "set", ns_if, "up")
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield ns, host_ip, ns_ip
    finally:
        subprocess.run(["ip", "netns", "del", ns], timeout=30, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], timeout=30, capture_output=True)


# Run inside the namespace: connect, send, print everything received until
# the server closes or goes quiet.
# A server that refuses speaks first: then nothing is sent (a request
# sent to a closing socket would turn its close into a reset).
REMOTE_CLIENT = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.settimeout(0.3)
got = b""
try:
    got = s.recv(65536)
except socket.timeout:
    s.sendall(bytes.fromhex(sys.argv[3]))
s.settimeout(1.0)
deadline = time.time() + 5
while time.time() < deadline and not got.endswith(b"<closed>"):
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        chunk = b""
    got += chunk if chunk else b"<closed>"
sys.stdout.write(got.hex())
"""


class Remote:
    def __init__(self, ns, host_ip):
        self.ns, self.host_ip = ns, host_ip

    def send(self, port, payload):
        out = subprocess.run(["ip", "netns", "exec", self.ns, "/usr/bin/python3", "-c", REMOTE_CLIENT,
                              self.host_ip, str(port), payload.hex()],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return bytes.fromhex(out.stdout)


@pytest.fixture(scope="module")
def remote():
    with veth_namespace() as (ns, host_ip, ns_ip):
        r = Remote(ns, host_ip)
        r.ns_ip = ns_ip
        yield r


def test_protected_mode_refuses_remote_clients(start_server, remote):
    srv = start_server("--bind", "127.0.0.1", remote.host_ip)
    assert srv.client().config_get("protected-mode") == {"protected-mode": "yes"}
    before = srv.info("stats")["rejected_connections"]
    assert remote.send(srv.port, b"PING\r\n") == PROTECTED_ERR + b"<closed>"
    assert srv.info("stats")["rejected_connections"] == before + 1
    # Loopback and the Unix socket are served as usual.
    assert srv.client().ping()
    assert redis.Redis(unix_socket_path=srv.unixsocket).ping()


def test_protected_mode_with_a_password(start_server, remote):
    srv = start_server("--bind", "127.0.0.1", remote.host_ip)
    srv.client().config_set("requirepass", "pw")
    assert remote.send(srv.port, b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert remote.send(srv.port, b"AUTH pw\r\nPING\r\n") == b"+OK\r\n+PONG\r\n"


def test_protected_mode_off(start_server, remote):
    srv = start_server("--bind", "127.0.0.1", remote.host_ip, "--protected-mode", "no")
    assert remote.send(srv.port, b"PING\r\n") == b"+PONG\r\n"
    srv.client().config_set("protected-mode", "yes")
    assert remote.send(srv.port, b"PING\r\n") == PROTECTED_ERR + b"<closed>"
    srv.client().config_set("protected-mode", "no")
    assert remote.send(srv.port, b"PING\r\n") == b"+PONG\r\n"


def test_remote_client_sees_its_address(start_server, remote):
    srv = start_server("--bind", "127.0.0.1", remote.host_ip, "--protected-mode", "no")
    out = remote.send(srv.port, b"CLIENT INFO\r\n")
    assert (" addr=%s:" % remote.ns_ip).encode() in out
    assert (" laddr=%s:%d " % (remote.host_ip, srv.port)).encode() in out


def test_local_settings_refuse_remote_clients(start_server, remote):
    srv = start_server("--bind", "127.0.0.1", remote.host_ip, "--protected-mode", "no",
                       "--enable-debug-command", "local", "--enable-module-command", "local",
                       "--enable-protected-configs", "local")
    debug_err = ("-" + NOT_ALLOWED % ("DEBUG", "enable-debug-command") + "\r\n").encode()
    module_err = ("-" + NOT_ALLOWED % ("MODULE", "enable-module-command") + "\r\n").encode()
    assert remote.send(srv.port, b"DEBUG SLEEP 0\r\n") == debug_err
    assert remote.send(srv.port, b"MODULE LOAD /nonexistent.so\r\n") == module_err
    assert remote.send(srv.port, b"CONFIG SET dir /tmp\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n")
    # From the loopback interface they are allowed.
    local = srv.client()
    assert local.execute_command("DEBUG", "SLEEP", "0") == b"OK"
    with pytest.raises(redis.ResponseError, match="Error loading the extension"):
        local.execute_command("MODULE", "LOAD", "/nonexistent.so")
    assert local.config_set("dir", srv.dir)


def test_debug_command_default_is_refused(start_server):
    c = start_server("--enable-debug-command", "no").client()
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("DEBUG", "SLEEP", "0")
    assert str(e.value) == NOT_ALLOWED[4:] % ("DEBUG", "enable-debug-command")
    stats = c.info("commandstats")["cmdstat_debug"]
    assert stats["calls"] == 0 and stats["rejected_calls"] == 1


def test_module_command(r):
    assert r.execute_command("MODULE", "LIST") == []
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MODULE", "LOAD", "/nonexistent.so")
    assert str(e.value) == NOT_ALLOWED[4:] % ("MODULE", "enable-module-command")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MODULE", "UNLOAD", "nosuch")
    assert str(e.value) == NOT_ALLOWED[4:] % ("MODULE", "enable-module-command")
    help_lines = r.execute_command("MODULE", "HELP")
    assert any(b"LOADEX" in line for line in help_lines)


def test_module_command_enabled(start_server):
    c = start_server("--enable-module-command", "yes").client()
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("MODULE", "LOAD", "/nonexistent.so")
    assert str(e.value) == "Error loading the extension. Please check the server logs."
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("MODULE", "UNLOAD", "nosuch")
    assert str(e.value) == "Error unloading module: no such module with that name"
    assert c.execute_command("MODULE", "LIST") == []


def test_protected_configs(r, start_server):
    for name in ("dir", "dbfilename"):
        with pytest.raises(redis.ResponseError) as e:
            r.config_set(name, "x")
        assert str(e.value) == "CONFIG SET failed (possibly related to argument '%s') - can't set protected config" % name
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("enable-protected-configs", "yes")
    assert r.config_get("enable-protected-configs") == {"enable-protected-configs": "no"}
    c = start_server("--enable-protected-configs", "yes").client()
    assert c.config_set("dbfilename", "other.rdb")
    assert c.config_get("dbfilename") == {"dbfilename": "other.rdb"}


def test_cross_protocol_post_closes_the_connection(start_server):
    srv = start_server()
    srv.client().set("k", "v")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"PING\r\n")
    assert s.recv(4096) == b"+PONG\r\n"
    s.sendall(b"POST / HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 10\r\n\r\nFLUSHALL\r\n")
    assert s.recv(4096) == b""  # closed, no reply, the rest not run
    s.close()
    assert srv.client().get("k") == b"v"
    assert wait_for(lambda: SECURITY_LOG in srv.log_text())
    assert srv.client().ping()


def test_cross_protocol_host_line_and_multibulk(start_server):
    srv = start_server()
    for payload in (b"Host: evil.example\r\nGET /\r\n", b"*2\r\n$4\r\npost\r\n$1\r\n/\r\n"):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(payload + b"PING\r\n")
        assert s.recv(4096) == b""
        s.close()
    assert srv.log_text().count(SECURITY_LOG) == 1  # logged at most once a minute
    srv.client().set("still", "here")


def test_rename_command_on_the_command_line(start_server):
    srv = start_server("--rename-command", "get", "myget", "--rename-command", "flushall", "")
    c = srv.client()
    c.set("k", "v")
    assert c.execute_command("MYGET", "k") == b"v"
    with pytest.raises(redis.ResponseError, match="(?i)unknown command 'get'"):
        c.get("k")
    with pytest.raises(redis.ResponseError, match="(?i)unknown command 'flushall'"):
        c.flushall()
    raw = srv.raw()
    assert raw.cmd("COMMAND", "INFO", "flushall") == [None]
    assert raw.cmd("COMMAND", "INFO", "get") == [None]
    assert raw.cmd("COMMAND", "INFO", "myget")[0][0] == b"get"  # described under its own name, as Redis
    # COMMAND COUNT: one fewer than the same server without the renames.
    counted = raw.cmd("COMMAND", "COUNT")
    raw.close()
    plain = Server()
    plain.start()
    try:
        other = plain.raw()
        assert counted == other.cmd("COMMAND", "COUNT") - 1
        other.close()
    finally:
        assert plain.stop() == []


def test_rename_command_in_the_config_file(start_server, tmp_path):
    conf = tmp_path / "keel.conf"
    conf.write_text('rename-command CONFIG "cfg-9f2"\nrename-command set put\n')
    srv = Server(config_file=str(conf))
    srv.start()
    try:
        c = srv.client()
        assert c.execute_command("PUT", "k", "v") == b"OK"
        assert c.execute_command("cfg-9f2", "GET", "port") == [b"port", str(srv.port).encode()]
        with pytest.raises(redis.ResponseError, match="unknown command .CONFIG."):
            c.config_get("port")
        # MULTI and scripts see the new names too.
        assert c.execute_command("EVAL", "return redis.call('put', 'a', 'b')", 0) == b"OK"
        with pytest.raises(redis.ResponseError):
            c.execute_command("EVAL", "return redis.call('set', 'a', 'b')", 0)
    finally:
        assert srv.stop() == []


@pytest.mark.parametrize("line,why", [
    ("rename-command nosuchcmd foo", "No such command in rename-command"),
    ("rename-command get set", "Target command name already exists"),
])
def test_rename_command_errors(tmp_path, line, why):
    conf = tmp_path / "keel.conf"
    conf.write_text(line + "\n")
    srv = Server(config_file=str(conf))
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert srv.proc.wait(10) == 1
    assert why in srv.log_text()
    srv.stop()


def test_maxclients_lowered_to_the_descriptor_limit(tmp_path):
    # An unprivileged server cannot raise its hard limit (root could).
    port = free_port()
    log = tmp_path / "server.log"
    os.chmod(tmp_path, 0o777)
    binary = Server().binary
    with open(log, "wb") as out:
        proc = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", binary,
                                 "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--maxclients", "10000"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                preexec_fn=lambda: __import__("resource").setrlimit(
                                    __import__("resource").RLIMIT_NOFILE, (200, 200)))
    try:
        c = redis.Redis(port=port, socket_timeout=5)
        assert wait_for(lambda: _pings(c))
        assert c.config_get("maxclients") == {"maxclients": "168"}
        assert b"maxclients has been reduced to 168" in log.read_bytes()
    finally:
        proc.terminate()
        proc.wait(15)


def _pings(c):
    try:
        return c.ping()
    except redis.ConnectionError:
        time.sleep(0.05)
        return False
