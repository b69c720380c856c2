"""Shared plumbing for the Python benchmark drivers in bench/*/run.py.

Each driver measures something different (eviction quality, lazy free
latency, active defragmentation, slow readers) but they all need the same
scaffolding, kept here once:

  REPO, KEEL, REDIS        the repository, bin/keel-server, Debian's redis-server
  add_server_args(ap)      the --keel PATH and --redis PATH ('' to skip) options
  free_port()              a free TCP port on 127.0.0.1
  Server(binary, extra)    starts Keel or Redis on a free port in a temp dir
                           (--save '' --appendonly no, log in srv.log_path),
                           waits for PING; .port, .pid, .stop(), .rss() (VmRSS
                           from /proc), .client (redis-py, made on first use),
                           .conn() (a raw Conn); also a context manager
  resp(*args)              one command in RESP, for raw sockets
  Conn(port)               a minimal raw RESP client: .call(), .reply(),
                           .info(section), .s (the socket) for pipelining
  info(c, *sections)       INFO sections merged in one dict (redis-py or Conn)
  used_memory(c)           INFO used_memory as an int (redis-py or Conn)
  benchmark_rps(port, ...) redis-benchmark --csv, requests/s of the last test
  md_head(cols, align)     Markdown table header and separator lines
  md_row(cells)            one Markdown table row

A driver in bench/<name>/run.py imports it without any packaging:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import keelbench as kb

Design notes. Servers only ever listen on 127.0.0.1; one that fails to start
ends the run with the tail of its log, and any still running at exit (an
exception, sys.exit) is stopped, so a failed run leaves none behind. Start-up is checked with
a raw PING so that drivers that talk raw RESP (bench/lazyfree) do not need
redis-py at all: redis is imported only when Server.client is first used.
Conn reads through a buffered file object rather than its own byte buffer:
a reply of 200 elements of 1 KB is then parsed in linear time, which matters
when 40 clients each read 20 MB (bench/slow_readers).

Stdlib plus Debian's python3-redis; run the drivers with /usr/bin/python3.
The shell side (bench/lib.sh) has its own equivalents for compare.sh.
"""

import atexit
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
KEEL = os.path.join(REPO, "bin", "keel-server")
REDIS = "/usr/bin/redis-server"


def add_server_args(ap, redis_default=REDIS, redis_help=None):
    """The --keel and --redis options every driver takes."""
    ap.add_argument("--keel", default=KEEL)
    ap.add_argument("--redis", default=redis_default, help=redis_help)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- raw RESP

def resp(*args):
    """Encode one command; str and numbers are sent as their text."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A minimal RESP2 client. Error replies are returned by reply() as
    RuntimeError instances (so a pipeline can be drained) and raised by
    call(). A closed connection raises ConnectionError."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def _line(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("server closed the connection")
        return line[:-2]

    def _exact(self, n):
        data = self.f.read(n + 2)
        if len(data) < n + 2:
            raise ConnectionError("server closed the connection")
        return data[:n]

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode() if kind == b"+" else RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.s.sendall(resp(*args))
        r = self.reply()
        if isinstance(r, RuntimeError):
            raise r
        return r

    def info(self, section):
        """INFO section as a dict of strings."""
        out = {}
        for line in self.call("INFO", section).decode().split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def close(self):
        self.f.close()
        self.s.close()


def info(c, *sections):
    """Several INFO sections in one dict; c is a redis-py client or a Conn."""
    out = {}
    for section in sections:
        out.update(c.info(section))
    return out


def used_memory(c):
    return int(c.info("memory")["used_memory"])


# ----------------------------------------------------------------- servers

_running = set()  # the Servers not stopped yet


@atexit.register
def _stop_all():
    for srv in list(_running):
        srv.stop()


class Server:
    """A Keel or Redis server of our own: its working directory (and log) is
    a temp dir removed by stop(), so runs leave nothing behind. Servers
    still running when the driver exits (an exception, sys.exit) are
    stopped then too, so that a failed run leaves no server behind."""

    START_TIMEOUT_S = 10

    def __init__(self, binary, extra=(), name=None, socket_timeout=None):
        self.name = name or os.path.basename(binary)
        self.socket_timeout = socket_timeout
        self.dir = tempfile.mkdtemp(prefix="keelbench-")
        self.log_path = os.path.join(self.dir, "log")
        self.port = free_port()
        # The server runs in self.dir: a relative path must not be looked up
        # from there; a bare name is left to PATH.
        exe = os.path.abspath(binary) if os.sep in binary else binary
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                + list(extra), cwd=self.dir, stdout=log, stderr=subprocess.STDOUT)
        _running.add(self)
        self.pid = self.proc.pid
        if not self._wait_ready():
            with open(self.log_path, errors="replace") as log:
                sys.stderr.write("".join(log.readlines()[-20:]))
            self.stop()
            sys.exit("%s did not start" % binary)

    def _wait_ready(self):
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                c = Conn(self.port)
                try:
                    c.call("PING")
                    return True
                finally:
                    c.close()
            except (OSError, RuntimeError):
                time.sleep(0.05)
        return False

    @functools.cached_property
    def client(self):
        """A redis-py client, made (and redis imported) on first use."""
        import redis
        return redis.Redis(port=self.port, socket_timeout=self.socket_timeout)

    def conn(self):
        return Conn(self.port)

    def rss(self):
        """Resident set size in bytes, from /proc."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        _running.discard(self)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------- redis-benchmark

def benchmark_rps(port, args, clients=50, timeout=300):
    """Run redis-benchmark --csv with args (e.g. ["-n", "1000", "GET",
    "key:__rand_int__"]); requests per second of the last test reported,
    NaN if there is none (as for LRANGE_*, which report their fill first)."""
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients), "--csv"] + list(args),
        capture_output=True, text=True, timeout=timeout).stdout
    rows = [line.split('","') for line in out.splitlines() if line.startswith('"')]
    rows = [r for r in rows if len(r) > 1 and r[0] != '"test']
    return float(rows[-1][1]) if rows else float("nan")


# ---------------------------------------------------------------- Markdown

def md_row(cells):
    return "| " + " | ".join(cells) + " |"


def md_head(columns, align=""):
    """Header and separator; align has one letter a column, 'r' for a
    right-aligned one (numbers), anything else (or missing) left."""
    seps = "".join("---:|" if i < len(align) and align[i] == "r" else "---|" for i in range(len(columns)))
    return md_row(columns) + "\n|" + seps
