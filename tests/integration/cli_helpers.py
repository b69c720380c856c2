"""Running keel-cli (and Debian's redis-cli beside it) from the tests.

keel_cli_binary(): $KEEL_CLI, else the keel-cli built beside $KEEL_SERVER
(bin/keel-server-asan -> bin/keel-cli-asan), else <repo>/bin/keel-cli; when
the suite is validated against redis-server, <repo>/bin/keel-cli.

run(binary, args, ...) runs a client with stdout on a pipe (not a tty);
run_tty(...) runs it with stdout on a pseudo-terminal, so that both clients
choose their terminal output; both return (exit code, stdout bytes, stderr
bytes).
"""

import os
import pty
import select
import subprocess
import time

from keel_helpers import REPO_ROOT, Server

REDIS_CLI = "/usr/bin/redis-cli"
REDIS_SERVER = "/usr/bin/redis-server"


def keel_cli_binary():
    if os.environ.get("KEEL_CLI"):
        return os.environ["KEEL_CLI"]
    srv = os.environ.get("KEEL_SERVER", "")
    if "keel-server" in os.path.basename(srv):
        return os.path.join(os.path.dirname(srv), os.path.basename(srv).replace("keel-server", "keel-cli"))
    return os.path.join(REPO_ROOT, "bin", "keel-cli")


def client_env(extra=None):
    env = dict(os.environ)
    env.pop("REDISCLI_AUTH", None)
    env["HOME"] = env.get("KEEL_CLI_TEST_HOME", "/nonexistent-keel-cli-home")
    env.pop("FAKETTY", None)
    if extra:
        env.update(extra)
    return env


def run(binary, args, stdin=b"", timeout=30, env=None):
    p = subprocess.run([binary] + [str(a) for a in args], input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env or client_env())
    return p.returncode, p.stdout, p.stderr


def run_tty(binary, args, timeout=30, env=None):
    """stdout on a pty (stdin from /dev/null, stderr on a pipe)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([binary] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=subprocess.PIPE, env=env or client_env())
    os.close(slave)
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if p.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:          # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    err = p.stderr.read()
    p.stderr.close()
    rc = p.wait(timeout=timeout)
    return rc, out, err


def redis_server(*args):
    """A Debian redis-server 7.0 beside the server under test."""
    return Server(extra_args=args, binary=REDIS_SERVER, name="cli-redis")
