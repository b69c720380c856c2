"""Helpers shared by the integration tests: server process management and a
minimal raw RESP2/RESP3 client.

Everything here uses only the Python standard library plus Debian's
python3-redis (4.3.4) so the suite runs with /usr/bin/python3 -m pytest.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Servers start with this fixed random seed (KEEL_RANDOM_SEED, core/main.c),
# so that every random choice of a run (samples, skiplist levels, SRANDMEMBER)
# repeats when the run is repeated. Set KEEL_RANDOM_SEED in the environment to
# try another seed, or to an empty string for the /dev/urandom seeding a
# production server uses.
TEST_RANDOM_SEED = "9"

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)


# Error texts many test files check (Redis 7.0's words, without the "ERR "
# prefix that redis-py strips).
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "syntax error"
NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"


def running_against_redis():
    """True when the suite is being validated against a real redis-server
    (KEEL_SERVER=/usr/bin/redis-server); tests marked keel_only are then
    skipped (conftest.py)."""
    return "redis-server" in os.path.basename(os.environ.get("KEEL_SERVER", ""))


def expected_allocator():
    """The allocator the server under test was built with: "jemalloc" (the
    default build, and Debian's redis-server) unless KEEL_ALLOCATOR says
    otherwise (the Makefile sets "libc" for the ASan build). Tests of
    jemalloc-only features skip on that setting, never on what the server
    reports, so a jemalloc build that lost jemalloc fails them."""
    return os.environ.get("KEEL_ALLOCATOR", "jemalloc")


requires_jemalloc = pytest.mark.skipif(
    expected_allocator() != "jemalloc",
    reason="KEEL_ALLOCATOR=%s: this build has no jemalloc" % expected_allocator())


def server_binary():
    return os.environ.get("KEEL_SERVER", os.path.join(REPO_ROOT, "bin", "keel-server"))


def free_port():
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(Exception):
    pass


class Server:
    """One server process.  Attributes: host, port, unixsocket, log, dir, proc."""

    host = "127.0.0.1"

    def __init__(self, extra_args=(), binary=None, base_args=True, name="keeltest",
                 config_file=None, random_seed=None):
        self.binary = binary or server_binary()
        # None: the suite's seed (above); "": seeded from /dev/urandom.
        self.random_seed = random_seed
        self.config_file = config_file
        self.extra_args = [str(a) for a in extra_args]
        self.base_args = base_args
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.unixsocket = os.path.join(self.dir, "keel.sock")
        self.log = os.path.join(self.dir, "server.log")
        self.port = None
        self.proc = None
        self.expected_exit = False   # set by tests that SHUTDOWN the server

    # -- lifecycle ---------------------------------------------------------
    def args(self, port):
        head = [self.binary] + ([self.config_file] if self.config_file else [])
        if not self.base_args:
            return head + self.extra_args
        return head + [
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "yes",
            "--unixsocket", self.unixsocket,
        ] + self.extra_args

    def start(self, timeout=10.0, wait_loaded=True):
        if not os.path.exists(self.binary):
            raise ServerError("server binary %s does not exist (set KEEL_SERVER)" % self.binary)
        last_err = None
        for _attempt in range(3):          # retry in case the free port got taken
            self.port = free_port()
            logf = open(self.log, "ab")
            self.proc = subprocess.Popen(
                self.args(self.port), cwd=self.dir, stdout=logf, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.environment())
            logf.close()
            try:
                self.wait_ready(timeout, wait_loaded)
                return self
            except ServerError as e:
                last_err = e
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                if "in use" not in self.log_text():
                    break
        raise last_err

    def environment(self):
        env = dict(os.environ)
        env.setdefault("KEEL_RANDOM_SEED", TEST_RANDOM_SEED)
        if self.random_seed is not None:
            env["KEEL_RANDOM_SEED"] = str(self.random_seed)
        return env

    def wait_ready(self, timeout, wait_loaded=True):
        """Ready when PING answers PONG. While a dataset loads PING gets
        -LOADING (as in Redis, whose suite waits on exactly that); with
        wait_loaded=False that answer is enough."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("server exited with status %s during startup; log:\n%s"
                                  % (self.proc.returncode, self.log_text()[-4000:]))
            try:
                c = redis.Redis(host=self.host, port=self.port, socket_timeout=1,
                                socket_connect_timeout=1)
                try:
                    if c.ping():
                        return
                finally:
                    c.connection_pool.disconnect()
            except redis.AuthenticationError:
                return      # up, and wants a password (requirepass, ACL users)
            except redis.exceptions.BusyLoadingError:
                if not wait_loaded:
                    return
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                pass
            except redis.ResponseError:
                # e.g. LOADING: keep waiting
                pass
            time.sleep(0.02)
        raise ServerError("server did not answer PING within %ss; log:\n%s"
                          % (timeout, self.log_text()[-4000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15.0):
        """Stop the server and return a list of problems (empty if all fine)."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            if not self.expected_exit:
                problems.append("server died unexpectedly with status %s" % rc)
            elif rc < 0:
                problems.append("server was killed by signal %d" % -rc)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("server did not exit within %ss of SIGTERM" % timeout)
                rc = 0
            if rc < 0 and -rc != signal.SIGTERM:
                problems.append("server exited with signal %d after SIGTERM" % -rc)
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                idx = text.index(marker)
                problems.append("sanitizer report in %s:\n%s" % (self.log, text[max(0, idx - 200):idx + 3000]))
                break
        if not problems and not os.environ.get("KEEL_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)   # keep the log only when something broke
        return problems

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- clients -----------------------------------------------------------
    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def raw(self, timeout=10.0):
        return RawConn(self.host, self.port, timeout=timeout)

    def info(self, section=None):
        c = self.client()
        try:
            return c.info(section) if section else c.info()
        finally:
            c.connection_pool.disconnect()


# --------------------------------------------------------------------------
# Raw RESP client
# --------------------------------------------------------------------------

class Error(str):
    """A RESP simple/bulk error reply (the text without the leading '-')."""

    def __repr__(self):
        return "Error(%s)" % str.__repr__(self)


class Push(list):
    """A RESP3 push ('>') reply."""


class Verbatim(bytes):
    """A RESP3 verbatim string; .format holds the 3-letter format."""
    format = b"txt"


class BigNumber(int):
    pass


class Null:
    """RESP3 '_' null, distinct from the RESP2 null bulk (returned as None)."""
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "Null"


class Closed(Exception):
    pass


def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    """A socket speaking RESP by hand.

    send(bytes) writes raw bytes; cmd(*args) sends a multibulk command and
    returns the parsed reply; read() parses one reply.  RESP2 null bulk and
    null array are returned as None, RESP3 '_' as Null(), maps as dict (with
    the key order kept), sets as set/frozenset where hashable, attributes are
    skipped (their content is kept in .last_attribute).
    """

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.last_attribute = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        self.send(encode_command(*args))
        return self.read()

    # -- reading -------------------------------------------------------
    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed("connection closed by server")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_bytes(self, n):
        """Exactly n raw bytes."""
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_raw_available(self, wait=0.2):
        """Whatever arrives within `wait` seconds (raw bytes, no parsing)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        except (socket.timeout, BlockingIOError):
            pass
        except ConnectionResetError:
            pass
        finally:
            self.sock.settimeout(old)
        data, self.buf = self.buf, b""
        return data

    def read(self):
        line = self._line()
        if not line:
            raise ValueError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return Error(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"_":
            return Null()
        if t == b",":
            s = rest.decode()
            return float(s)
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return BigNumber(int(rest))
        if t == b"!":
            return Error(self._exact(int(rest)).decode("utf-8", "replace"))
        if t == b"=":
            data = self._exact(int(rest))
            v = Verbatim(data[4:])
            v.format = data[:3]
            return v
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read()
                d[_hashable(k)] = self.read()
            return d
        if t == b"~":
            n = int(rest)
            items = [self.read() for _ in range(n)]
            try:
                return set(_hashable(i) for i in items)
            except TypeError:
                return items
        if t == b">":
            return Push(self.read() for _ in range(int(rest)))
        if t == b"|":
            n = int(rest)
            attr = {}
            for _ in range(n):
                k = self.read()
                attr[_hashable(k)] = self.read()
            self.last_attribute = attr
            return self.read()
        raise ValueError("unknown RESP type byte %r in line %r" % (t, line))

    def is_closed(self, wait=2.0):
        """True if the server closes the connection within `wait` seconds
        (any pending bytes are discarded)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(old)


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _hashable(x)) for k, x in v.items())
    return v


def wait_for(predicate, timeout=10.0, interval=0.02):
    """Poll predicate() until it is truthy; return its last value. The
    timeout is generous on purpose: it only runs out when the test fails."""
    deadline = time.time() + timeout
    while True:
        v = predicate()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


def wait_blocked(client, n=1, timeout=10.0):
    """Wait until INFO reports n blocked clients (the blocking command
    reached the server and blocked); fails the test otherwise."""
    if not wait_for(lambda: client.info("clients")["blocked_clients"] == n, timeout):
        raise AssertionError("blocked_clients never reached %d" % n)


def err(client, *args):
    """The error text of a command that must fail (fails the test if it
    succeeds); redis-py strips an "ERR " prefix."""
    with pytest.raises(redis.ResponseError) as e:
        cmd(client, *args)
    return str(e.value)


def exactly(msg):
    """A pytest.raises(match=...) pattern matching `msg` as the whole
    error text (match= searches, so a bare message would also match a
    longer, different one)."""
    return "^" + re.escape(msg) + "$"


def cmd(client, *args):
    """Run a command on a redis.Redis client and return the reply exactly as
    parsed from the wire (no redis-py response callbacks: OK stays b'OK',
    INCRBYFLOAT stays a bulk string, ...).  Error replies raise
    redis.ResponseError as usual."""
    pool = client.connection_pool
    conn = pool.get_connection(str(args[0]))
    try:
        conn.send_command(*args)
        return conn.read_response()
    except (redis.ConnectionError, redis.TimeoutError):
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def key_value(c, k):
    """(type, value) of key k, in a form that compares equal across servers
    and reloads: sets and hashes sorted, sorted sets with their scores; the
    value is None for a type not listed here (streams)."""
    t = c.type(k)
    t = t.decode() if isinstance(t, bytes) else t
    if t == "string":
        return t, c.get(k)
    if t == "list":
        return t, c.lrange(k, 0, -1)
    if t == "set":
        return t, sorted(c.smembers(k))
    if t == "zset":
        return t, c.zrange(k, 0, -1, withscores=True)
    if t == "hash":
        return t, sorted(c.hgetall(k).items())
    return t, None
