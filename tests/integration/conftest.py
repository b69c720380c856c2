"""Fixtures for the Keel integration tests.

The server under test is $KEEL_SERVER (default <repo>/bin/keel-server).  The
suite is validated against the real Redis 7.0:

    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q tests/integration

Fixtures:
  server        session-wide server (host, port, unixsocket, log, dir, proc,
                client(), raw(), info())
  r             redis.Redis on db 0 of `server`, FLUSHALL before each test
  raw           factory: raw(srv=None) -> RawConn on srv (default `server`)
  start_server  factory: start_server(*extra_args) -> Server with its own
                config; stopped (and checked for crashes) after the test
  flush_after   FLUSHALL after the test too (opt in per file, see below)

Marker: @pytest.mark.keel_only for Keel behaviour that deliberately differs
from Redis 7.0; such tests are skipped when KEEL_SERVER is a redis-server.
Shared helpers (error texts, err(), exactly(), cmd(), wait_for()) live in
keel_helpers.py: import them from there rather than redefining them.
"""

import os
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(__file__))

from keel_helpers import RawConn, Server, ServerError, running_against_redis  # noqa: E402,F401


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than about 2 seconds")
    config.addinivalue_line("markers", "keel_only: Keel behaviour that deliberately differs from "
                            "Redis 7.0 (skipped when KEEL_SERVER is a redis-server)")


def pytest_collection_modifyitems(config, items):
    if not running_against_redis():
        return
    skip = pytest.mark.skip(reason="Keel-only behaviour")
    for item in items:
        if "keel_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server():
    srv = Server()
    try:
        srv.start()
    except ServerError as e:
        pytest.exit("cannot start %s: %s" % (srv.binary, e), returncode=3)
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail("session server (log %s):\n%s" % (srv.log, "\n".join(problems)),
                    pytrace=False)


@pytest.fixture
def start_server():
    started = []

    def factory(*args, **kw):
        srv = Server(extra_args=args, **kw)
        started.append(srv)
        srv.start()
        return srv

    yield factory
    problems = []
    for srv in started:
        problems += srv.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _check_alive(srv):
    if not srv.alive():
        pytest.fail("session server is dead (status %s); log tail:\n%s"
                    % (srv.proc.returncode, srv.log_text()[-3000:]), pytrace=False)


@pytest.fixture
def r(server):
    _check_alive(server)
    c = redis.Redis(host=server.host, port=server.port, db=0,
                    decode_responses=False, socket_timeout=30)
    c.flushall()
    yield c
    c.connection_pool.disconnect()


@pytest.fixture
def flush_after(r):
    """Leave no keys behind: under ASan, values still in the keyspace when
    the session server exits are reported as leaks (an entry stores their
    pointer unaligned, which LeakSanitizer does not scan). A file opts in
    with pytestmark = pytest.mark.usefixtures("flush_after")."""
    yield
    r.flushall()


@pytest.fixture
def raw(server):
    _check_alive(server)
    conns = []

    def factory(srv=None, timeout=10.0):
        srv = srv or server
        c = RawConn(srv.host, srv.port, timeout=timeout)
        conns.append(c)
        return c

    yield factory
    for c in conns:
        c.close()
