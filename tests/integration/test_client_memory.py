"""Client memory: backpressure, output/query buffer limits, client eviction,
and the memory fields of CLIENT LIST / INFO.

Redis and Keel agree on the limits (client-output-buffer-limit,
client-query-buffer-limit, maxmemory-clients) and on the CLIENT LIST fields;
those tests run against both.  Backpressure is Keel's own (a client that does
not read its replies is not given more commands, so its output stays near
client-output-backpressure instead of growing with the pipeline): those
tests are marked keel_only.

No timing assertions: waits poll with generous deadlines.
"""

import socket
import time

import pytest
import redis

from keel_helpers import RawConn, encode_command, running_against_redis, wait_for


def client_entry(r, name):
    for c in r.client_list():
        if c.get("name") == name:
            return c
    return None


def value_for(i, size=1000):
    unit = b"%d-" % i
    return (unit * (size // len(unit) + 1))[:size]


def fill_keys(r, n, size=1000):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set("k%d" % i, value_for(i, size))
    p.execute()


def named_raw(srv, name):
    c = RawConn(srv.host, srv.port)
    assert c.cmd("CLIENT", "SETNAME", name) == b"OK"
    return c


def read_mget(conn, keys):
    reply = conn.read()
    assert reply == [value_for(k) for k in keys]


def stat(r, field):
    """A stats counter, which must exist. Redis 7.0 lacks the
    *_limit_disconnections counters (7.2 added them, Keel has them): when
    the suite is validated against Redis, a missing one reads as None."""
    info = r.info("stats")
    if field not in info and running_against_redis():
        return None
    assert field in info, "INFO stats has no %s" % field
    return int(info[field])


def assert_stat_grew(r, field, before, by=1):
    now = stat(r, field)
    if now is None:  # only when validating against Redis 7.0, see stat()
        return
    assert now == before + by


def connection_closed(conn, timeout=10.0):
    """True once the server has closed conn (data still buffered is skipped)."""
    conn.settimeout(timeout)
    try:
        while True:
            data = conn.sock.recv(1 << 20)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---- CLIENT LIST memory fields ---------------------------------------------

def test_client_list_memory_fields_sane(server, r):
    c = named_raw(server, "fields")
    e = client_entry(r, "fields")
    for f in ("qbuf", "qbuf-free", "argv-mem", "obl", "oll", "omem", "tot-mem"):
        assert int(e[f]) >= 0
    assert int(e["omem"]) == 0 and int(e["oll"]) == 0
    # A new client's query buffer is one read's worth, not a doubled one.
    assert int(e["qbuf"]) + int(e["qbuf-free"]) < 32768
    assert int(e["tot-mem"]) >= int(e["qbuf"]) + int(e["qbuf-free"])
    # The client running CLIENT LIST sees its own request in qbuf/argv-mem.
    me = [x for x in r.client_list() if x["cmd"] == "client|list" and x["name"] == ""]
    assert me and int(me[0]["qbuf"]) == 26 and int(me[0]["argv-mem"]) == 10
    c.close()


def test_big_query_buffer_shrinks_after_use(server, r):
    c = named_raw(server, "shrink")
    assert c.cmd("SET", "big", b"A" * 400000) == b"OK"
    e = client_entry(r, "shrink")
    first = int(e["qbuf"]) + int(e["qbuf-free"])
    assert first > 32768
    shrunk = wait_for(lambda: int(client_entry(r, "shrink")["qbuf-free"]) +
                      int(client_entry(r, "shrink")["qbuf"]) < first, timeout=10)
    assert shrunk
    c.close()


@pytest.mark.slow
def test_idle_client_query_buffer_freed(server, r):
    c = named_raw(server, "idle")

    def freed():
        e = client_entry(r, "idle")
        return int(e["idle"]) >= 3 and int(e["qbuf"]) + int(e["qbuf-free"]) == 0
    assert wait_for(freed, timeout=10)
    # And the client still works.
    assert c.cmd("PING") == b"PONG"
    c.close()


def test_output_memory_visible_in_client_list(server, r):
    r.set("big", b"x" * (4 << 20))
    c = named_raw(server, "omem")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(encode_command("GET", "big") * 4)
    # Some of the output is held by the server until the client reads.
    e = wait_for(lambda: int(client_entry(r, "omem")["omem"]) > 0 and client_entry(r, "omem"))
    assert e and int(e["oll"]) > 0
    assert int(e["tot-mem"]) >= int(e["omem"])
    c.close()


def test_info_clients_recent_max_input_buffer(server, r):
    c = named_raw(server, "recent")
    assert c.cmd("SET", "big", b"A" * 400000) == b"OK"
    assert int(r.info("clients")["client_recent_max_input_buffer"]) >= 400000
    c.close()


# ---- client-output-buffer-limit ---------------------------------------------

def test_output_buffer_limit_config(r):
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert old.startswith("normal 0 0 0 slave ")
    try:
        r.config_set("client-output-buffer-limit", "replica 1mb 512kb 30 normal 1 2 3")
        got = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
        assert got.startswith("normal 1 2 3 slave 1048576 524288 30 pubsub ")
        for bad, why in (("foo 1 2 3", "Invalid client class"), ("master 1 2 3", "Invalid client class"),
                         ("normal 1 2", "Wrong number of arguments"),
                         ("normal 1 2 x", "Error in hard, soft or soft_seconds"),
                         ("normal 1 2 -1", "Error in hard, soft or soft_seconds")):
            with pytest.raises(redis.ResponseError, match=why):
                r.config_set("client-output-buffer-limit", bad)
        # A bad class later in the line leaves the earlier ones untouched.
        with pytest.raises(redis.ResponseError, match="Invalid client class"):
            r.config_set("client-output-buffer-limit", "normal 5 5 5 foo 1 1 1")
        got2 = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
        assert got2 == got
    finally:
        r.config_set("client-output-buffer-limit", old)


def test_output_buffer_hard_limit_closes_client(start_server):
    srv = start_server("--client-output-buffer-limit", "normal 1mb 0 0")
    r = srv.client()
    r.set("big", b"x" * (2 << 20))
    before = stat(r, "client_output_buffer_limit_disconnections")
    c = named_raw(srv, "hard")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(encode_command("GET", "big") * 8)
    assert wait_for(lambda: client_entry(r, "hard") is None)
    assert_stat_grew(r, "client_output_buffer_limit_disconnections", before)
    c.close()  # draining what the kernel still holds at 4 KB a time is slow
    assert "scheduled to be closed ASAP for overcoming of output buffer limits" in srv.log_text()
    assert r.ping()


def test_output_buffer_soft_limit_needs_seconds(start_server):
    srv = start_server("--client-output-buffer-limit", "normal 0 1mb 1")
    r = srv.client()
    r.set("big", b"x" * (2 << 20))
    c = named_raw(srv, "soft")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(encode_command("GET", "big") * 6)
    # Over the soft limit but not for long: still connected right away.
    assert wait_for(lambda: int(client_entry(r, "soft")["omem"]) >= (1 << 20))
    # Redis checks the soft limit when output is queued: queue some more.
    time.sleep(1.5)
    try:
        c.send(encode_command("GET", "big"))
    except OSError:
        pass
    assert wait_for(lambda: client_entry(r, "soft") is None)
    assert_stat_grew(r, "client_output_buffer_limit_disconnections", 0)
    c.close()


def test_output_buffer_soft_limit_not_reached_keeps_client(start_server):
    srv = start_server("--client-output-buffer-limit", "normal 0 1mb 3600")
    r = srv.client()
    r.set("big", b"x" * (2 << 20))
    c = named_raw(srv, "patient")
    c.send(encode_command("GET", "big") * 3)
    for _ in range(3):
        assert c.read() == b"x" * (2 << 20)
    assert client_entry(r, "patient") is not None
    disconnections = stat(r, "client_output_buffer_limit_disconnections")
    assert disconnections == 0 or (disconnections is None and running_against_redis())


# ---- client-query-buffer-limit ---------------------------------------------

def test_query_buffer_limit_disconnects(start_server):
    srv = start_server("--client-query-buffer-limit", "1mb")
    r = srv.client()
    c = named_raw(srv, "qbuf")
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
    chunk = b"z" * 65536
    try:
        for _ in range(64):
            c.send(chunk)
    except OSError:
        pass
    assert wait_for(lambda: client_entry(r, "qbuf") is None)
    assert_stat_grew(r, "client_query_buffer_limit_disconnections", 0)
    assert connection_closed(c)
    assert r.exists("k") == 0


# ---- maxmemory-clients --------------------------------------------------------

def big_partial_request(srv, name, declared):
    """A client holding a large query buffer: a bulk header announcing
    `declared` bytes, followed by most of them."""
    c = named_raw(srv, name)
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$%d\r\n" % declared)
    c.send(b"y" * (declared * 3 // 4))
    return c


def tot_mem(r, name):
    e = client_entry(r, name)
    return int(e["tot-mem"]) if e else 0


def test_maxmemory_clients_evicts_biggest(start_server):
    srv = start_server()
    r = srv.client()
    r.client_setname("control")
    small = big_partial_request(srv, "small", 200000)
    big = big_partial_request(srv, "big", 4000000)
    assert wait_for(lambda: tot_mem(r, "big") > 3000000 and tot_mem(r, "small") > 150000)
    total = sum(int(e["tot-mem"]) for e in r.client_list())
    # Over the limit by less than the biggest client: only it must go.
    r.config_set("maxmemory-clients", str(total - tot_mem(r, "big") // 2))
    assert wait_for(lambda: client_entry(r, "big") is None)
    assert client_entry(r, "small") is not None
    assert client_entry(r, "control") is not None
    assert int(r.info("stats")["evicted_clients"]) == 1
    assert connection_closed(big)
    small.close()


def test_maxmemory_clients_respects_no_evict(start_server):
    srv = start_server()
    r = srv.client()
    r.client_setname("control")
    protected = named_raw(srv, "protected")
    assert protected.cmd("CLIENT", "NO-EVICT", "on") == b"OK"
    protected.send(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$4000000\r\n" + b"y" * 3000000)
    other = big_partial_request(srv, "other", 1000000)
    assert wait_for(lambda: tot_mem(r, "protected") > 3000000 and tot_mem(r, "other") > 700000)
    assert "e" in client_entry(r, "protected")["flags"]
    total = sum(int(e["tot-mem"]) for e in r.client_list())
    r.config_set("maxmemory-clients", str(total - tot_mem(r, "other") // 2))
    assert wait_for(lambda: client_entry(r, "other") is None)
    assert client_entry(r, "protected") is not None
    assert client_entry(r, "control") is not None
    assert int(r.info("stats")["evicted_clients"]) == 1
    protected.close()
    other.close()


def test_maxmemory_clients_config(r):
    try:
        r.config_set("maxmemory-clients", "10%")
        assert r.config_get("maxmemory-clients")["maxmemory-clients"] == "10%"
        r.config_set("maxmemory-clients", "64mb")
        assert r.config_get("maxmemory-clients")["maxmemory-clients"] == str(64 << 20)
        with pytest.raises(redis.ResponseError, match="percentage argument must be less or equal to 100"):
            r.config_set("maxmemory-clients", "200%")
    finally:
        r.config_set("maxmemory-clients", "0")


# ---- pipelines and backpressure ---------------------------------------------

def test_non_reading_pipeline_gets_every_reply_in_order(server, r):
    fill_keys(r, 2000)
    c = RawConn(server.host, server.port)
    batches = [[(j * 7 + i) % 2000 for i in range(200)] for j in range(100)]
    c.send(b"".join(encode_command("MGET", *["k%d" % k for k in b]) for b in batches))
    time.sleep(0.5)
    for b in batches:
        read_mget(c, b)
    assert c.cmd("PING") == b"PONG"
    c.close()


@pytest.mark.keel_only
def test_backpressure_bounds_output_of_non_reading_client(server, r):
    # The session server's counter: earlier test files may have evicted.
    evicted_before = r.info("stats")["evicted_keys"]
    fill_keys(r, 2000)
    threshold = int(r.config_get("client-output-backpressure")["client-output-backpressure"])
    assert threshold == 1 << 20
    c = named_raw(server, "slow")
    batches = [[(j * 13 + i) % 2000 for i in range(200)] for j in range(100)]
    c.send(b"".join(encode_command("MGET", *["k%d" % k for k in b]) for b in batches))
    reply = 200 * 1010 + 64 * 1024   # one MGET reply plus block rounding
    peak = 0
    for _ in range(20):
        e = client_entry(r, "slow")
        peak = max(peak, int(e["omem"]) + int(e["obl"]))
        time.sleep(0.05)
    assert 0 < peak <= threshold + reply
    assert r.info("stats")["evicted_keys"] == evicted_before
    for b in batches:
        read_mget(c, b)
    assert c.cmd("PING") == b"PONG"
    e = client_entry(r, "slow")
    assert int(e["omem"]) == 0
    c.close()


@pytest.mark.keel_only
def test_backpressure_config(r):
    assert r.config_get("client-output-backpressure-total")["client-output-backpressure-total"] == "2%"
    try:
        r.config_set("client-output-backpressure", "256kb")
        assert r.config_get("client-output-backpressure")["client-output-backpressure"] == "262144"
        r.config_set("client-output-backpressure-total", "64mb")
        assert r.config_get("client-output-backpressure-total")["client-output-backpressure-total"] == str(64 << 20)
    finally:
        r.config_set("client-output-backpressure", "1mb")
        r.config_set("client-output-backpressure-total", "2%")


@pytest.mark.keel_only
def test_slow_readers_keep_keys_and_connections(start_server):
    # maxmemory a little above the dataset, allkeys-lru: client buffers
    # must neither evict keys nor get the clients dropped.
    srv = start_server("--maxmemory", "12mb", "--maxmemory-policy", "allkeys-lru")
    r = srv.client()
    fill_keys(r, 5000)
    assert r.dbsize() == 5000
    conns = []
    batches = [[(j * 31 + i) % 5000 for i in range(200)] for j in range(30)]
    payload = b"".join(encode_command("MGET", *["k%d" % k for k in b]) for b in batches)
    for i in range(10):
        c = named_raw(srv, "reader%d" % i)
        c.send(payload)
        conns.append(c)
    time.sleep(1.0)
    assert r.dbsize() == 5000
    assert int(r.info("stats")["evicted_keys"]) == 0
    for c in conns:
        for b in batches:
            read_mget(c, b)
    assert int(r.info("stats")["evicted_clients"]) == 0
    assert r.dbsize() == 5000
    for c in conns:
        c.close()


# ---- parking: a client that writes everything before reading ----------------

def test_client_writing_whole_pipeline_before_reading_is_not_deadlocked(start_server):
    # The request stream (about 8 MB) is more than the kernel buffers hold
    # and the replies (about 10 MB) far more than the backpressure
    # threshold, and the client reads nothing until its send returns, as
    # many client libraries do. Without parking, the server would stop
    # reading and the client would block in send() forever.
    srv = start_server()
    r = srv.client()
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set("k%d" % i, b"v%08d" % i)
    p.execute()
    batches = [[(j * 17 + i) % 2000 for i in range(200)] for j in range(3000)]
    c = RawConn(srv.host, srv.port)
    c.settimeout(60)
    c.send(b"".join(encode_command("MGET", *["k%d" % k for k in b]) for b in batches))
    for b in batches:
        assert c.read() == [b"v%08d" % k for k in b]
    assert c.cmd("PING") == b"PONG"
    c.close()


def parked_bytes(r, name):
    e = client_entry(r, name)
    return int(e["qbuf"]) + int(e["qbuf-free"])


@pytest.mark.keel_only
@pytest.mark.slow
def test_stalled_client_requests_parked_only_within_budget(start_server):
    # A non-reading client is stalled after its first replies. Its
    # remaining requests wait in the kernel; the server parks them in the
    # query buffer after a second only while all clients are within their
    # output budget, since parked requests are client memory too.
    srv = start_server("--maxmemory", "40mb")
    r = srv.client()
    fill_keys(r, 2000)
    batches = [[(j * 13 + i) % 2000 for i in range(200)] for j in range(100)]
    payload = b"".join(encode_command("MGET", *["k%d" % k for k in b]) for b in batches)

    def run(name):
        c = named_raw(srv, name)
        c.send(payload)
        time.sleep(2.5)
        parked = parked_bytes(r, name)
        for b in batches:
            read_mget(c, b)
        assert c.cmd("PING") == b"PONG"
        c.close()
        return parked

    # 2% of 40 MB is 800 KB: one stalled client holding 1 MB is over it.
    assert run("over-budget") < 64 * 1024
    r.config_set("client-output-backpressure-total", "64mb")
    try:
        assert run("within-budget") > len(payload) // 2
    finally:
        r.config_set("client-output-backpressure-total", "2%")
