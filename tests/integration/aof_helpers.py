"""Helpers for the AOF tests: reading a multi-part AOF directory (manifest,
base and incremental files) and parsing the commands in it, and restarting a
server on the same directory."""

import os
import signal
import time

import redis

from keel_helpers import key_value

DEFAULT_DIR = "appendonlydir"
DEFAULT_PREFIX = "appendonly.aof"


def manifest_path(srv, dirname=DEFAULT_DIR, prefix=DEFAULT_PREFIX):
    return os.path.join(srv.dir, dirname, prefix + ".manifest")


def read_manifest(srv, dirname=DEFAULT_DIR, prefix=DEFAULT_PREFIX):
    """[(name, seq, type)] in file order."""
    out = []
    with open(manifest_path(srv, dirname, prefix)) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            words = line.split()
            kv = dict(zip(words[0::2], words[1::2]))
            out.append((kv["file"], int(kv["seq"]), kv["type"]))
    return out


def incr_file(srv, dirname=DEFAULT_DIR, prefix=DEFAULT_PREFIX):
    files = [m for m in read_manifest(srv, dirname, prefix) if m[2] == "i"]
    return os.path.join(srv.dir, dirname, files[-1][0])


def parse_commands(data):
    """RESP multibulk commands of an AOF (bytes) -> list of lists of str;
    '#' annotation lines are returned as single strings."""
    out = []
    i = 0
    while i < len(data):
        if data[i:i + 1] == b"#":
            end = data.index(b"\r\n", i)
            out.append(data[i:end].decode())
            i = end + 2
            continue
        assert data[i:i + 1] == b"*", "bad AOF at offset %d: %r" % (i, data[i:i + 20])
        end = data.index(b"\r\n", i)
        argc = int(data[i + 1:end])
        i = end + 2
        args = []
        for _ in range(argc):
            assert data[i:i + 1] == b"$"
            end = data.index(b"\r\n", i)
            n = int(data[i + 1:end])
            i = end + 2
            args.append(data[i:i + n].decode("utf-8", "replace"))
            i += n + 2
        out.append(args)
    return out


def incr_commands(srv, flush=True, **kw):
    """Commands of the current incremental file, command names upper-cased."""
    if flush:
        wait_flushed(srv)
    with open(incr_file(srv, **kw), "rb") as f:
        cmds = parse_commands(f.read())
    return [c if isinstance(c, str) else [c[0].upper()] + c[1:] for c in cmds]


def wait_flushed(srv):
    # A PING round trip: the buffer is written before any reply leaves,
    # so the writes of every earlier reply are in the file by now.
    c = srv.client()
    try:
        c.ping()
    finally:
        c.connection_pool.disconnect()


def stop_keep_dir(srv, timeout=30.0):
    """SIGTERM and wait, keeping the directory (Server.stop removes it)."""
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout)
    assert rc == 0, "server exited with %s; log:\n%s" % (rc, srv.log_text()[-3000:])


def restart(srv, timeout=30.0):
    """SIGTERM, then start again on the same directory."""
    stop_keep_dir(srv)
    srv.start(timeout=timeout)
    return srv


def kill9_and_restart(srv, timeout=30.0):
    srv.proc.kill()
    srv.proc.wait()
    srv.start(timeout=timeout)
    return srv


def wait_for(pred, timeout=20.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def dump_dataset(c):
    """Every key of every non-empty database with type, value and TTL
    (rounded to whole seconds so that a reload a moment later compares
    equal)."""
    out = {}
    info = c.info("keyspace")
    for dbname in info:
        dbid = int(dbname[2:])
        cc = redis.Redis(host=c.connection_pool.connection_kwargs["host"],
                         port=c.connection_pool.connection_kwargs["port"], db=dbid)
        try:
            for k in cc.keys("*"):
                t, v = key_value(cc, k)
                pttl = cc.pttl(k)
                ttl = -1 if pttl < 0 else round(pttl / 10000.0)
                out[(dbid, k)] = (t, v, ttl)
        finally:
            cc.connection_pool.disconnect()
    return out


def fill_every_type(c, big=False):
    """Keys of every type Keel has, small and large encodings, TTLs, three
    databases."""
    n = 300 if big else 5
    c.set("str", "hello")
    c.set("int", 12345)
    c.set("bin", b"\x00\x01\xff\r\n")
    c.set("ttl", "v", ex=5000)
    c.rpush("list", *["e%d" % i for i in range(n)])
    c.sadd("intset", *range(n))
    c.sadd("set", *["m%d" % i for i in range(n)])
    c.zadd("zset", {"z%d" % i: i * 1.5 for i in range(n)})
    c.zadd("zinf", {"a": float("inf"), "b": float("-inf"), "c": 0.1})
    c.hset("hash", mapping={"f%d" % i: "v%d" % i for i in range(n)})
    c.hset("hashttl", "f", "v")
    c.pexpire("hashttl", 3000000)
    c.pfadd("hll", "a", "b", "c")
    c.setbit("bits", 100, 1)
    c.execute_command("SELECT", 2)
    c.set("db2key", "two")
    c.rpush("db2list", "x", "y")
    c.execute_command("SELECT", 15)
    c.set("db15key", "fifteen", px=4000000)
    c.execute_command("SELECT", 0)
