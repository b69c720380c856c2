"""The replication stream byte for byte (issue 14): what a replica
receives after its full sync is every write as a RESP multibulk, preceded
by a SELECT when the database changes. The other replication tests check
the stream through its effects (DEBUG DIGEST equal on both sides); this
one reads it raw, as a replica of our own, so that the headers of every
width are checked exactly: argument lengths of 0 to 5 digits, a command of
more than 9 arguments, a database number of two digits. (The master
writes these headers on every replicated write: bench/repl/cost.py
measures their cost.)"""
import time

from keel_helpers import RawConn, encode_command

PING = b"*1\r\n$4\r\nPING\r\n"


def read_line_after_keepalives(c):
    """A master preparing the snapshot sends bare newlines first."""
    while True:
        line = c._line().lstrip(b"\n")
        if line:
            return line


def attach_raw_replica(srv):
    """A replica by hand: handshake, PSYNC, the $<len> RDB read and skipped
    (no capa eof: a disk-based transfer, with both servers). Returns the
    connection and the offset +FULLRESYNC gave (the stream's start)."""
    c = RawConn(srv.host, srv.port, timeout=30)
    assert c.cmd("REPLCONF", "listening-port", "1") == b"OK"
    assert c.cmd("REPLCONF", "capa", "psync2") == b"OK"
    c.send(encode_command("PSYNC", "?", "-1"))
    full = read_line_after_keepalives(c)
    assert full.startswith(b"+FULLRESYNC "), full
    header = read_line_after_keepalives(c)
    assert header.startswith(b"$"), header
    assert c.read_bytes(int(header[1:])).startswith(b"REDIS")
    c.send(encode_command("REPLCONF", "ACK", "0"))
    return c, int(full.split()[2])


def read_stream(c, want):
    """(stream bytes with the master's keepalive PINGs left out, how many
    PINGs there were), once `want` bytes have come (the socket's timeout
    fails the test if they do not)."""
    data = c.buf
    c.buf = b""
    while len(data.replace(PING, b"")) < want:
        chunk = c.sock.recv(65536)
        assert chunk, "the master closed the link"
        data += chunk
    return data.replace(PING, b""), data.count(PING)


def test_stream_bytes_on_the_wire(start_server):
    m = start_server("--repl-diskless-sync-delay", "0")
    c, _ = attach_raw_replica(m)
    try:
        mc = m.client(db=12)
        values = [b"", b"x", b"y" * 9, b"z" * 10, b"w" * 99, b"v" * 100, b"u" * 12345]
        for i, v in enumerate(values):
            mc.set("k%d" % i, v)
        pairs = []
        for i in range(6):
            pairs += [b"m%d" % i, b"%d" % (10 ** i)]
        mc.execute_command("MSET", *pairs)
        mc.execute_command("SELECT", 3)  # the client's database only: not a write
        m.client(db=3).set("in3", "v")
        expected = encode_command("SELECT", "12")
        for i, v in enumerate(values):
            expected += encode_command("SET", "k%d" % i, v)
        expected += encode_command("MSET", *pairs)
        expected += encode_command("SELECT", "3") + encode_command("SET", "in3", "v")
        got, _ = read_stream(c, len(expected))
        assert got == expected
    finally:
        c.close()


def test_stream_has_no_bytes_beyond_the_writes(start_server):
    """Every byte the master counts in master_repl_offset reaches the
    replica, and nothing else: once the master is quiet, the bytes
    received since +FULLRESYNC (writes and keepalive PINGs) are exactly
    master_repl_offset minus the offset +FULLRESYNC gave."""
    m = start_server("--repl-diskless-sync-delay", "0")
    c, start = attach_raw_replica(m)
    try:
        mc = m.client()
        mc.set("a", "b" * 1000)
        expected = encode_command("SELECT", "0") + encode_command("SET", "a", "b" * 1000)
        got, pings = read_stream(c, len(expected))
        assert got == expected
        received = len(got) + pings * len(PING)
        deadline = time.monotonic() + 10
        while True:
            end = int(m.info("replication")["master_repl_offset"])
            extra = c.read_raw_available(0.3)
            assert extra.replace(PING, b"") == b"", extra
            received += len(extra)
            if received == end - start or time.monotonic() > deadline:
                break
        assert received == end - start
    finally:
        c.close()
