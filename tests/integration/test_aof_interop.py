"""AOF files move between Keel and Debian's redis-server 7.0 both ways:
Redis 7's multi-part directory (RDB or AOF base, incremental files,
manifest) and a legacy single appendonly.aof (with an RDB preamble)."""

import os
import shutil

import pytest

from aof_helpers import dump_dataset, fill_every_type, read_manifest, stop_keep_dir, wait_for
from conftest import running_against_redis
from keel_helpers import Server, server_binary

REDIS = "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(running_against_redis(), reason="compares Keel with redis-server itself")


@pytest.fixture
def servers():
    started = []

    def start(binary, *args, on_dir=None):
        srv = Server(extra_args=args, binary=binary, name="aofinterop")
        if on_dir:
            shutil.rmtree(srv.dir, ignore_errors=True)
            srv.dir = on_dir
            srv.unixsocket = os.path.join(on_dir, "s%d.sock" % len(started))
            srv.log = os.path.join(on_dir, "server%d.log" % len(started))
        started.append(srv)
        srv.start()
        return srv

    yield start
    problems = []
    for srv in started:
        if srv.alive():
            problems += srv.stop()
    assert not problems, problems


def write_load(c):
    fill_every_type(c, big=True)
    # Incremental traffic after the base: relative TTLs, pops, transactions.
    c.setex("setex", 10000, "v")
    c.incrbyfloat("float", 2.5)
    c.spop("set", 3)
    c.lpop("list")
    p = c.pipeline(transaction=True)
    p.hset("hash", "new", "field")
    p.zincrby("zset", 10, "z1")
    p.execute()
    c.execute_command("SELECT", 7)
    c.sadd("db7", "a", "b")
    c.execute_command("SELECT", 0)


@pytest.mark.parametrize("preamble", ["yes", "no"])
@pytest.mark.parametrize("rewrite", [False, True])
def test_redis_loads_keel_aof(servers, preamble, rewrite):
    keel = servers(server_binary(), "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = keel.client()
    write_load(c)
    if rewrite:
        c.bgrewriteaof()
        wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
        c.set("after", "rewrite")
    expected = dump_dataset(c)
    c.connection_pool.disconnect()
    stop_keep_dir(keel)
    assert read_manifest(keel)[0][0].endswith(".rdb" if preamble == "yes" else ".aof")
    red = servers(REDIS, "--appendonly", "yes", on_dir=keel.dir)
    c = red.client()
    assert dump_dataset(c) == expected
    c.connection_pool.disconnect()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_keel_loads_redis_aof(servers, preamble):
    red = servers(REDIS, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = red.client()
    write_load(c)
    c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
    c.set("after", "rewrite")
    c.rpush("list", "tail")
    expected = dump_dataset(c)
    c.connection_pool.disconnect()
    stop_keep_dir(red)
    keel = servers(server_binary(), "--appendonly", "yes", on_dir=red.dir)
    c = keel.client()
    assert dump_dataset(c) == expected
    # Keel goes on appending to Redis's incremental file and rewrites it.
    c.set("from-keel", "1")
    c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, what="rewrite")
    expected = dump_dataset(c)
    c.connection_pool.disconnect()
    stop_keep_dir(keel)
    red2 = servers(REDIS, "--appendonly", "yes", on_dir=red.dir)
    c = red2.client()
    assert dump_dataset(c) == expected
    c.connection_pool.disconnect()


def test_legacy_aof_with_rdb_preamble(servers):
    """A Redis 6 style appendonly.aof: an RDB image followed by commands.
    Built from a dump Redis wrote plus commands; both servers load it."""
    red = servers(REDIS, "--dbfilename", "dump.rdb")
    c = red.client()
    fill_every_type(c)
    c.save()
    c.connection_pool.disconnect()
    stop_keep_dir(red)
    with open(os.path.join(red.dir, "dump.rdb"), "rb") as f:
        rdb = f.read()
    tail = (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
            b"*3\r\n$3\r\nSET\r\n$4\r\ntail\r\n$3\r\nyes\r\n"
            b"*2\r\n$3\r\nDEL\r\n$3\r\nstr\r\n")
    results = []
    for binary in (REDIS, server_binary()):
        d = os.path.join(red.dir, os.path.basename(binary))
        os.makedirs(d)
        with open(os.path.join(d, "appendonly.aof"), "wb") as f:
            f.write(rdb + tail)
        srv = servers(binary, "--appendonly", "yes", on_dir=d)
        c = srv.client()
        results.append(dump_dataset(c))
        c.connection_pool.disconnect()
        if binary != REDIS:
            # Migrated into the directory as its base.
            assert read_manifest(srv)[0] == ("appendonly.aof", 1, "b")
            assert not os.path.exists(os.path.join(d, "appendonly.aof"))
    assert results[0] == results[1]
    assert results[1][(0, b"tail")] == ("string", b"yes", -1)
    assert (0, b"str") not in results[1]
