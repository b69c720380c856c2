"""Loading RDB files Keel does not write itself: hand-built fixtures for
older encodings (ziplist, zipmap, quicklist v1, text scores, second-precision
TTLs), newer writers (RDB 11/12: Redis 7.2's set listpack, functions, module
aux data), and files that must be refused whole, with a message naming the
file and the offset (newer versions, Valkey 9's magic, unknown or unsupported
types, truncation, a bad checksum, corrupt packed values)."""

import os
import struct

import pytest

from keel_helpers import Server, ServerError
from rdb_fixtures import (aux, intset, key, listpack, rdb_file, rdb_len, rdb_str, selectdb,
                          ziplist)


def start_with(data, *args):
    srv = Server(extra_args=args)
    with open(os.path.join(srv.dir, "dump.rdb"), "wb") as f:
        f.write(data)
    srv.start()
    return srv


def refused(data):
    """Start on data; the server must exit with status 1. Returns the log."""
    srv = Server()
    with open(os.path.join(srv.dir, "dump.rdb"), "wb") as f:
        f.write(data)
    srv.expected_exit = True
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert srv.proc.wait(5) == 1
    log = srv.log_text()
    assert srv.stop() == []
    return log


@pytest.mark.keel_only   # Redis 7.0 reads RDB 10 at most
def test_redis72_set_listpack_and_rdb11():
    body = (aux("redis-ver", "7.2.4") + selectdb(0) +
            key(20, "s", rdb_str(listpack(["a", "b", 7, "hello"]))) +
            key(20, "empty", rdb_str(listpack([]))) +
            key(16, "h", rdb_str(listpack(["f", "v", "g", 5]))) +
            key(17, "z", rdb_str(listpack(["m", "1.5", "n", 3]))) +
            key(18, "l", rdb_len(2) + rdb_len(2) + rdb_str(listpack(["x", 1])) +
                rdb_len(1) + rdb_str("plain-node")))
    srv = start_with(rdb_file(body, version=11))
    try:
        c = srv.client()
        assert sorted(c.smembers("s")) == [b"7", b"a", b"b", b"hello"]
        assert c.exists("empty") == 0          # empty keys are skipped, as Redis does
        assert c.hgetall("h") == {b"f": b"v", b"g": b"5"}
        assert c.zrange("z", 0, -1, withscores=True) == [(b"m", 1.5), (b"n", 3.0)]
        assert c.lrange("l", 0, -1) == [b"x", b"1", b"plain-node"]
    finally:
        assert srv.stop() == []


@pytest.mark.keel_only
def test_rdb12_function_loaded_and_module_aux_skipped():
    module_aux = (b"\xf7" + rdb_len(12345) + rdb_len(2) + rdb_len(0) +
                  rdb_len(2) + rdb_len(7) + rdb_len(5) + rdb_str("blob") + rdb_len(0))
    body = (module_aux + b"\xf5" + rdb_str("#!lua name=lib\nredis.register_function('f', function() return 7 end)") +
            selectdb(0) + key(0, "k", rdb_str("v")))
    srv = start_with(rdb_file(body, version=12))
    try:
        c = srv.client()
        assert c.get("k") == b"v"
        assert c.fcall("f", 0) == 7
        assert "module" in srv.log_text()
    finally:
        assert srv.stop() == []


def test_old_encodings():
    zipmap = bytes([2]) + bytes([1]) + b"a" + bytes([2, 0]) + b"xy" + bytes([1]) + b"b" + bytes([1, 1]) + b"zQ" + b"\xff"
    body = (selectdb(0) +
            key(10, "zl-list", rdb_str(ziplist(["a", 5, "c"]))) +
            key(13, "zl-hash", rdb_str(ziplist(["f", "v", "n", 1]))) +
            key(12, "zl-zset", rdb_str(ziplist(["n", 1, "m", "2.5"]))) +
            key(9, "zipmap", rdb_str(zipmap)) +
            key(11, "intset", rdb_str(intset([3, -1, 70000], width=4))) +
            key(14, "ql1", rdb_len(2) + rdb_str(ziplist(["p", "q"])) + rdb_str(ziplist([9]))) +
            key(3, "zset1", rdb_len(2) + rdb_str("a") + bytes([3]) + b"1.5" + rdb_str("b") + bytes([254])) +
            key(1, "list1", rdb_len(2) + rdb_str("u") + rdb_str("v")) +
            key(2, "set1", rdb_len(2) + rdb_str("u") + rdb_str("v")) +
            key(4, "hash1", rdb_len(1) + rdb_str("f") + rdb_str("v")) +
            b"\xfd" + struct.pack("<i", 2000000000) + key(0, "sec-ttl", rdb_str("t")) +
            b"\xf8" + rdb_len(100) + key(0, "idle", rdb_str("i")) +
            b"\xf9" + bytes([200]) + key(0, "freq", rdb_str("f")))
    srv = start_with(rdb_file(body, version=9))
    try:
        c = srv.client()
        assert c.lrange("zl-list", 0, -1) == [b"a", b"5", b"c"]
        assert c.hgetall("zl-hash") == {b"f": b"v", b"n": b"1"}
        assert c.zrange("zl-zset", 0, -1, withscores=True) == [(b"n", 1.0), (b"m", 2.5)]
        assert c.hgetall("zipmap") == {b"a": b"xy", b"b": b"z"}
        assert sorted(int(x) for x in c.smembers("intset")) == [-1, 3, 70000]
        assert c.lrange("ql1", 0, -1) == [b"p", b"q", b"9"]
        assert c.zrange("zset1", 0, -1, withscores=True) == [(b"a", 1.5), (b"b", float("inf"))]
        assert c.lrange("list1", 0, -1) == [b"u", b"v"]
        assert sorted(c.smembers("set1")) == [b"u", b"v"]
        assert c.hgetall("hash1") == {b"f": b"v"}
        assert c.pexpiretime("sec-ttl") == 2000000000000
        assert c.object("idletime", "idle") >= 100
    finally:
        assert srv.stop() == []


def test_expired_keys_are_not_loaded():
    body = selectdb(0) + key(0, "old", rdb_str("x"), expire_ms=1000) + key(0, "new", rdb_str("y"))
    srv = start_with(rdb_file(body))
    try:
        assert srv.client().keys() == [b"new"]
        assert "keys loaded: 1, keys expired: 1" in srv.log_text()
    finally:
        assert srv.stop() == []


def test_checksum_zero_means_unchecked():
    srv = start_with(rdb_file(selectdb(0) + key(0, "k", rdb_str("v")), checksum=False))
    try:
        assert srv.client().get("k") == b"v"
    finally:
        assert srv.stop() == []


GOOD = selectdb(0) + key(0, "k", rdb_str("v"))


@pytest.mark.parametrize("data,words", [
    (rdb_file(GOOD, version=13), ["version 13"]),
    (b"VALKEY080" + GOOD + b"\xff" + bytes(8), ["VALKEY080"]),
    (b"RODIS0010" + GOOD, ["signature"]),
    (rdb_file(selectdb(0) + key(30, "k", rdb_str("v"))), ["type 30"]),
    (rdb_file(selectdb(0) + key(21, "st", rdb_len(1) + rdb_str("x"))), ["stream node key"]),
    (rdb_file(selectdb(0) + key(7, "m", rdb_len(1))), ["type 7", "module"]),
    (rdb_file(selectdb(0) + key(24, "h", struct.pack("<Q", 1 << 63) + rdb_len(1))), ["earliest hash field expiry"]),
    (rdb_file(GOOD)[:-12], ["end of file"]),
    (rdb_file(GOOD)[:-1] + b"\x00", ["checksum"]),
    (rdb_file(selectdb(0) + key(20, "s", rdb_str(listpack(["a", "a"])))), ["duplicate"]),
    (rdb_file(selectdb(0) + key(16, "h", rdb_str(listpack(["f", "v", "g"])))), ["without a value"]),
    (rdb_file(selectdb(0) + key(16, "h", rdb_str(listpack(["f", "v"])[:-1] + b"\xfe"))), ["listpack"]),
    (rdb_file(selectdb(0) + key(2, "s", rdb_len(1000000) + rdb_str("a"))), ["count"]),
    (rdb_file(selectdb(0) + key(0, "k", b"\xc3" + rdb_len(4) + rdb_len(10) + b"\x01ab\x00")), ["LZF"]),
    (rdb_file(selectdb(99) + key(0, "k", rdb_str("v"))), ["databases"]),
    (rdb_file(selectdb(0) + key(0, "k", rdb_str("v")) + key(0, "k", rdb_str("w"))), ["duplicated key"]),
])
@pytest.mark.keel_only   # Redis exits too, with messages of its own
def test_refused_files_stop_startup(data, words):
    log = refused(data)
    line = [ln for ln in log.splitlines() if "Fatal error loading the DB" in ln]
    assert line, log
    assert "dump.rdb" in line[0] and "offset" in line[0]
    for w in words:
        assert w in line[0], line[0]


def test_debug_reload_keeps_everything(r):
    r.set("s", "v")
    r.rpush("l", *range(1000))
    r.hset("h", mapping={"a": 1})
    r.zadd("z", {"m": 2})
    r.sadd("t", "x", 1)
    r.expire("s", 100)
    before = r.execute_command("DEBUG", "DIGEST")
    assert r.execute_command("DEBUG", "RELOAD") in (True, b"OK")
    assert r.execute_command("DEBUG", "DIGEST") == before
    assert 0 < r.ttl("s") <= 100


def test_save_writes_a_loadable_file(start_server):
    srv = start_server()
    c = srv.client()
    c.set("k", "v")
    assert c.save()
    path = os.path.join(srv.dir, "dump.rdb")
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"REDIS0010")
    assert b"redis-ver" in data
    assert not [n for n in os.listdir(srv.dir) if n.startswith("temp-")]


def check_rdb_binary():
    from keel_helpers import REPO_ROOT
    return os.path.join(REPO_ROOT, "bin", "keel-check-rdb")


@pytest.mark.keel_only
def test_keel_check_rdb_reports(tmp_path):
    import subprocess
    good = tmp_path / "good.rdb"
    good.write_bytes(rdb_file(aux("redis-ver", "7.0.15") + selectdb(0) + key(0, "k", rdb_str("v")) +
                              key(16, "h", rdb_str(listpack(["f", "v"])), expire_ms=4102444800000) +
                              selectdb(3) + key(11, "s", rdb_str(intset([1, 2])))))
    out = subprocess.run([check_rdb_binary(), str(good)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB version 10" in out.stdout
    assert "AUX FIELD redis-ver = '7.0.15'" in out.stdout
    assert "3 keys read" in out.stdout and "1 expires" in out.stdout
    assert "string keys: 1" in out.stdout and "hash keys: 1" in out.stdout and "set keys: 1" in out.stdout
    assert "db 3: 1 keys" in out.stdout
    assert "RDB looks OK" in out.stdout
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(rdb_file(selectdb(0) + key(0, "k", rdb_str("v")) + key(30, "st", rdb_str("x"))))
    out = subprocess.run([check_rdb_binary(), str(bad)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "RDB ERROR DETECTED" in out.stdout
    assert "type 30" in out.stdout and "offset" in out.stdout and "bad.rdb" in out.stdout


def test_rdbcompression_and_rdbchecksum(start_server):
    srv = start_server()
    c = srv.client()
    c.set("big", "ab" * 5000)
    path = os.path.join(srv.dir, "dump.rdb")
    c.save()
    compressed = os.path.getsize(path)
    assert c.config_set("rdbcompression", "no")
    assert c.config_get("rdbcompression") == {"rdbcompression": "no"}
    c.save()
    assert os.path.getsize(path) > compressed + 9000
    with pytest.raises(Exception, match="immutable"):
        c.config_set("rdbchecksum", "no")
    srv2 = start_server("--rdbchecksum", "no")
    c2 = srv2.client()
    c2.set("big", "ab" * 5000)
    c2.save()
    with open(os.path.join(srv2.dir, "dump.rdb"), "rb") as f:
        assert f.read()[-8:] == bytes(8)
    assert c2.execute_command("DEBUG", "RELOAD")
    assert c2.get("big") == b"ab" * 5000


def test_sanitize_dump_payload_config(r):
    assert r.config_get("sanitize-dump-payload") == {"sanitize-dump-payload": "no"}
    for v in ("yes", "clients", "no"):
        assert r.config_set("sanitize-dump-payload", v)
        assert r.config_get("sanitize-dump-payload") == {"sanitize-dump-payload": v}
    with pytest.raises(Exception):
        r.config_set("sanitize-dump-payload", "maybe")


@pytest.mark.keel_only
def test_hash_field_ttls_not_in_rdb10_say_so(start_server):
    # Redis 7.4's field TTLs have no place in RDB 10: the hash is saved
    # with its fields, without their TTLs, and the log says so.
    srv = start_server()
    c = srv.client()
    c.hset("h", mapping={"a": 1, "b": 2})
    c.execute_command("HEXPIRE", "h", 1000, "FIELDS", 1, "a")
    assert c.save()
    assert "1 hash key(s) saved WITHOUT their field TTLs" in srv.log_text()
    assert c.execute_command("DEBUG", "RELOAD")
    assert c.hgetall("h") == {b"a": b"1", b"b": b"2"}
