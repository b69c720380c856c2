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


class Screen:
    """Enough of a terminal to read what a line editor drew: libedit moves
    the cursor and redraws single characters, so the bytes of a line are
    not contiguous in the output stream. Handles CR, LF, BS, CSI n G/C/D/K/J/H
    and ignores colours."""

    def __init__(self, width=250):
        self.width = width
        self.lines = [[]]
        self.row = self.col = 0

    def _put(self, ch):
        line = self.lines[self.row]
        while len(line) < self.col:
            line.append(" ")
        if self.col < len(line):
            line[self.col] = ch
        else:
            line.append(ch)
        self.col += 1

    def feed(self, text):
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b" and i + 1 < len(text) and text[i + 1] == "[":
                j = i + 2
                while j < len(text) and not text[j].isalpha():
                    j += 1
                if j >= len(text):
                    break
                self._csi(text[i + 2:j], text[j])
                i = j + 1
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row += 1
                if self.row == len(self.lines):
                    self.lines.append([])
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch >= " " or ch == "\t":
                self._put(ch)
            i += 1

    def _csi(self, params, op):
        n = int(params.split(";")[0]) if params.split(";")[0].isdigit() else None
        if op == "G":
            self.col = (n or 1) - 1
        elif op == "C":
            self.col += n or 1
        elif op == "D":
            self.col = max(0, self.col - (n or 1))
        elif op == "K":
            del self.lines[self.row][self.col:]
        elif op == "J":
            self.lines = [[] for _ in self.lines]
        elif op == "H":
            self.row = self.col = 0
        elif op == "A":
            self.row = max(0, self.row - (n or 1))

    def text(self):
        return "\n".join("".join(line).rstrip() for line in self.lines)

    def text_from(self, row):
        return "\n".join("".join(line).rstrip() for line in self.lines[row:])

    def current_line(self):
        return "".join(self.lines[self.row]).rstrip()


def expect_screen(child, screen, text, timeout=10):
    """Feed child's output to screen until text is drawn on it."""
    import pexpect
    deadline = time.time() + timeout
    while text not in screen.text():
        if time.time() > deadline:
            raise AssertionError("%r never appeared on the screen:\n%s" % (text, screen.text()[-3000:]))
        try:
            screen.feed(child.read_nonblocking(65536, timeout=0.2))
        except pexpect.TIMEOUT:
            pass
