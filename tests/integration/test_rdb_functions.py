"""Function libraries in RDB files and AOF bases, as Redis 7.0 keeps them:
each library's code under the FUNCTION2 opcode before the keys (or FUNCTION
LOAD commands at the head of a command-form AOF base). They survive a
restart, DEBUG RELOAD and an AOF rewrite, travel both ways between Keel and
Debian's redis-server 7.0, and a library that no longer loads refuses the
whole file."""

import os
import shutil

import pytest
import redis

from keel_helpers import Server, ServerError, running_against_redis, wait_for
from rdb_fixtures import key, rdb_file, rdb_str, selectdb

REDIS = "/usr/bin/redis-server"
LIB_A = "#!lua name=liba\nredis.register_function('fa', function(keys, args) return 'a' end)"
LIB_B = ("#!lua name=libb\nredis.register_function{function_name='fb', "
         "callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}}")


def libraries(c):
    """(name, code) of each library; FUNCTION LIST's RESP2 entries are flat
    field/value lists."""
    out = []
    for flat in c.function_list(withcode=True):
        lib = dict(zip(flat[::2], flat[1::2]))
        name = lib.get("library_name", lib.get(b"library_name"))
        code = lib.get("library_code", lib.get(b"library_code"))
        out.append((name, code))
    return sorted(out)


def load_libs(c):
    c.function_load(LIB_A)
    c.function_load(LIB_B)
    c.set("k", "v")


def restart_on(dump_dir, binary=None, *args):
    srv = Server(extra_args=args, binary=binary)
    shutil.copy(os.path.join(dump_dir, "dump.rdb"), os.path.join(srv.dir, "dump.rdb"))
    return srv.start()


def test_functions_survive_a_restart(start_server):
    srv = start_server()
    c = srv.client(decode_responses=True)
    load_libs(c)
    c.save()
    again = restart_on(srv.dir)
    try:
        c2 = again.client(decode_responses=True)
        assert libraries(c2) == [("liba", LIB_A), ("libb", LIB_B)]
        assert c2.fcall("fa", 0) == "a"
        assert c2.fcall_ro("fb", 1, "k") == "v"
    finally:
        assert again.stop() == []


def test_debug_reload_options(r):
    load_libs(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert [name for name, _ in libraries(r)] == [b"liba", b"libb"]
    # NOFLUSH loads over the libraries already there: a conflict.
    with pytest.raises(redis.ResponseError, match="^Error trying to load the RDB dump$"):
        r.execute_command("DEBUG", "RELOAD", "NOFLUSH")
    # MERGE lets the file's libraries (and keys) replace them.
    r.function_delete("libb")
    r.delete("k")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
    assert [name for name, _ in libraries(r)] == [b"liba", b"libb"]
    assert r.get("k") == b"v"


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_functions_in_the_aof_base(start_server, preamble):
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    c = srv.client(decode_responses=True)
    load_libs(c)
    c.bgrewriteaof()
    assert wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30)
    assert c.execute_command("DEBUG", "LOADAOF") == "OK"
    assert libraries(c) == [("liba", LIB_A), ("libb", LIB_B)]
    assert c.fcall("fa", 0) == "a"


def test_a_library_that_does_not_load_refuses_the_file():
    body = b"\xf5" + rdb_str("#!lua name=bad\nthis is not lua") + selectdb(0) + key(0, "k", rdb_str("v"))
    srv = Server()
    with open(os.path.join(srv.dir, "dump.rdb"), "wb") as f:
        f.write(rdb_file(body, version=10))
    srv.expected_exit = True
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    status = srv.proc.wait(5)
    log = srv.log_text()
    assert srv.stop() == []
    assert "Failed loading library, " in log
    if not running_against_redis():   # Redis exits through redis-check-rdb, status 0
        assert status == 1 and "dump.rdb" in log


@pytest.mark.skipif(not os.path.exists(REDIS), reason="needs Debian's redis-server")
@pytest.mark.parametrize("writer,reader", [(None, REDIS), (REDIS, None)])
def test_functions_travel_between_keel_and_redis(writer, reader):
    src = Server(binary=writer).start()
    try:
        c = src.client(decode_responses=True)
        load_libs(c)
        c.save()
        dst = restart_on(src.dir, reader)
        try:
            c2 = dst.client(decode_responses=True)
            assert libraries(c2) == [("liba", LIB_A), ("libb", LIB_B)]
            assert c2.fcall_ro("fb", 1, "k") == "v"
        finally:
            assert dst.stop() == []
    finally:
        assert src.stop() == []
