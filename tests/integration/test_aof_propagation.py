"""The write stream (core/propagate.c), observed through the AOF's
incremental file: what each write command leaves there, as Redis 7.0
writes it (these tests pass against redis-server 7.0 too)."""

import threading
import time

import pytest
import redis

import os

from aof_helpers import incr_commands, parse_commands, read_manifest, wait_flushed, wait_for


@pytest.fixture
def aof(start_server):
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    c = srv.client(decode_responses=True)
    yield srv, c
    c.connection_pool.disconnect()


def writes(srv):
    """The commands of the incremental file without SELECT and annotations."""
    return [cmd for cmd in incr_commands(srv) if not isinstance(cmd, str) and cmd[0] != "SELECT"]


def test_plain_write_verbatim_and_select(aof):
    srv, c = aof
    c.set("a", "1")
    c.execute_command("SELECT", 5)
    c.execute_command("SET", "b", "2")
    c.execute_command("SELECT", 0)
    c.execute_command("RPUSH", "l", "x", "y")
    cmds = incr_commands(srv)
    assert cmds == [["SELECT", "0"], ["SET", "a", "1"], ["SELECT", "5"], ["SET", "b", "2"],
                    ["SELECT", "0"], ["RPUSH", "l", "x", "y"]]


def test_commands_that_change_nothing_are_not_written(aof):
    srv, c = aof
    c.set("a", "1")
    c.delete("missing")
    c.set("a", "2", nx=True)
    c.expire("missing", 100)
    c.srem("noset", "x")
    c.get("a")
    c.lpop("nolist")
    assert writes(srv) == [["SET", "a", "1"]]


def test_relative_ttls_become_absolute(aof):
    srv, c = aof
    before = int(time.time() * 1000)
    c.set("k", "v")
    c.expire("k", 100)
    c.pexpire("k", 200000)
    c.expireat("k", int(time.time()) + 300)
    c.setex("s", 100, "v")
    c.psetex("p", 100000, "v")
    c.set("e", "v", ex=100)
    c.set("x", "v", px=100000, nx=True)
    c.getex("e", ex=50)
    c.getex("e", persist=True)
    after = int(time.time() * 1000)
    w = writes(srv)
    assert [cmd[0] for cmd in w] == ["SET", "PEXPIREAT", "PEXPIREAT", "PEXPIREAT", "SET", "SET",
                                     "SET", "SET", "PEXPIREAT", "PERSIST"]
    assert w[1][2] and before + 100000 <= int(w[1][2]) <= after + 100000
    assert before + 200000 <= int(w[2][2]) <= after + 200000
    for cmd in w[4:8]:
        assert cmd[3].upper() == "PXAT", cmd
        assert len(cmd) == 5, cmd
        assert before + 100000 <= int(cmd[4]) <= after + 100000
    assert before + 50000 <= int(w[8][2]) <= after + 50000
    assert w[9] == ["PERSIST", "e"]


def test_expire_in_the_past_is_a_delete(aof):
    srv, c = aof
    c.set("k", "v")
    c.expire("k", -1)
    c.set("j", "v")
    c.pexpireat("j", 1)
    assert writes(srv)[1:] == [["DEL", "k"], ["SET", "j", "v"], ["DEL", "j"]]


def test_incrbyfloat_writes_the_result(aof):
    srv, c = aof
    c.incrbyfloat("f", 10.5)
    c.incrbyfloat("f", 0.1)
    c.hincrbyfloat("h", "x", 1.5)
    assert writes(srv) == [["SET", "f", "10.5", "KEEPTTL"], ["SET", "f", "10.6", "KEEPTTL"],
                           ["HSET", "h", "x", "1.5"]]


def srem_members(w):
    return [m for cmd in w if cmd[0] == "SREM" for m in cmd[2:]]


def test_spop_becomes_srem(aof):
    srv, c = aof
    c.sadd("s", *range(10))
    one = c.spop("s")
    assert writes(srv)[1] == ["SREM", "s", one]
    some = c.spop("s", 3)
    w = writes(srv)[2:]
    assert sorted(srem_members(w)) == sorted(some)
    assert all(cmd[0] in ("SREM", "MULTI", "EXEC") for cmd in w)
    rest = c.spop("s", 100)
    assert len(rest) == 6
    assert writes(srv)[-1] == ["DEL", "s"]


def test_spop_of_a_big_set(aof):
    srv, c = aof
    c.sadd("s", *["m%d" % i for i in range(3000)])
    popped = c.spop("s", 2500)
    cmds = [cmd for cmd in incr_commands(srv) if cmd[0] != "SELECT"][1:]
    # Several SREMs, applied as one transaction.
    assert cmds[0] == ["MULTI"] and cmds[-1] == ["EXEC"]
    assert all(cmd[0] == "SREM" for cmd in cmds[1:-1])
    assert sorted(srem_members(cmds)) == sorted(popped)


@pytest.mark.keel_only
def test_spop_batches_of_1024_members(aof):
    # Redis 7.0 writes one SREM per member; Keel (as Redis 7.2) batches
    # them: the same effect in a far smaller file.
    srv, c = aof
    c.sadd("s", *["m%d" % i for i in range(3000)])
    c.spop("s", 2500)
    cmds = [cmd for cmd in incr_commands(srv) if cmd[0] != "SELECT"]
    assert [len(cmd) - 2 for cmd in cmds[2:-1]] == [1024, 1024, 452]


def test_blocking_pops_served_at_once_are_written_as_plain_pops(aof):
    srv, c = aof
    c.rpush("l", "a", "b", "c")
    c.blpop(["l"], 1)
    c.brpop(["l"], 1)
    c.rpush("src", "1", "2")
    c.blmove("src", "dst", 1, "LEFT", "RIGHT")
    c.brpoplpush("src", "dst", 1)
    c.zadd("z", {"a": 1, "b": 2, "c": 3})
    c.bzpopmin(["z"], 1)
    c.bzpopmax(["z"], 1)
    w = writes(srv)
    assert w[1] == ["LPOP", "l"]
    assert w[2] == ["RPOP", "l"]
    assert w[4] == ["LMOVE", "src", "dst", "LEFT", "RIGHT"]
    assert w[5] == ["LMOVE", "src", "dst", "RIGHT", "LEFT"] or w[5] == ["RPOPLPUSH", "src", "dst"]
    assert w[7] == ["ZPOPMIN", "z"]
    assert w[8] == ["ZPOPMAX", "z"]


def test_blocked_client_served_later_is_written_as_plain_pop(aof):
    srv, c = aof
    got = []

    def waiter():
        cc = srv.client(decode_responses=True)
        got.append(cc.blpop(["wl"], 20))
        cc.connection_pool.disconnect()

    t = threading.Thread(target=waiter)
    t.start()
    wait_for(lambda: c.info("clients")["blocked_clients"] == 1, what="client blocked")
    c.rpush("wl", "v")
    t.join(20)
    assert got == [("wl", "v")]
    assert writes(srv) == [["RPUSH", "wl", "v"], ["LPOP", "wl"]]


def test_multi_exec_is_wrapped(aof):
    srv, c = aof
    p = c.pipeline(transaction=True)
    p.set("a", "1")
    p.get("a")
    p.execute_command("INCR", "n")
    p.execute()
    cmds = [cmd for cmd in incr_commands(srv) if cmd[0] != "SELECT"]
    assert cmds == [["MULTI"], ["SET", "a", "1"], ["INCR", "n"], ["EXEC"]]


def test_multi_with_select_inside(aof):
    srv, c = aof
    p = c.pipeline(transaction=True)
    p.set("a", "1")
    p.execute_command("SELECT", 3)
    p.set("b", "2")
    p.execute()
    cmds = incr_commands(srv)
    assert cmds == [["SELECT", "0"], ["MULTI"], ["SET", "a", "1"], ["SELECT", "3"], ["SET", "b", "2"],
                    ["EXEC"]]


def test_empty_transaction_is_not_written(aof):
    srv, c = aof
    c.set("x", "1")
    p = c.pipeline(transaction=True)
    p.get("x")
    p.delete("missing")
    p.execute()
    assert writes(srv) == [["SET", "x", "1"]]


def test_flushall_and_flushdb_written_as_themselves(aof):
    srv, c = aof
    c.set("a", "1")
    c.flushdb()
    c.set("b", "1")
    c.flushall()
    names = [cmd[0] for cmd in writes(srv)]
    assert names == ["SET", "FLUSHDB", "SET", "FLUSHALL"]


def test_lazy_expiry_is_written_as_del(aof):
    srv, c = aof
    c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        c.set("k", "v", px=50)
        time.sleep(0.2)
        assert c.get("k") is None
        assert writes(srv) == [["SET", "k", "v", "PXAT", writes(srv)[0][4]], ["DEL", "k"]]
    finally:
        c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_lazy_expiry_with_lazyfree_is_unlink(aof):
    srv, c = aof
    c.config_set("lazyfree-lazy-expire", "yes")
    c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        c.set("k", "v", px=50)
        time.sleep(0.2)
        assert c.exists("k") == 0
        assert writes(srv)[-1] == ["UNLINK", "k"]
    finally:
        c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry_is_written_as_del(aof):
    srv, c = aof
    c.set("k", "v", px=30)
    wait_for(lambda: ["DEL", "k"] in writes(srv), what="active expiry DEL in the AOF")


def test_eviction_is_written_as_del(aof):
    srv, c = aof
    c.config_set("maxmemory-policy", "allkeys-random")
    for i in range(200):
        c.set("k%d" % i, "x" * 1000)
    used = c.info("memory")["used_memory"]
    c.config_set("maxmemory", used - 100000)
    c.set("trigger", "1")
    c.config_set("maxmemory", 0)
    dels = [cmd for cmd in writes(srv) if cmd[0] == "DEL"]
    evicted = c.info("stats")["evicted_keys"]
    assert evicted > 0
    assert len(dels) == evicted


def test_timestamp_annotations(start_server):
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes")
    c = srv.client()
    c.set("a", "1")
    c.connection_pool.disconnect()
    wait_flushed(srv)
    # The annotation is written when the second changes since the last
    # one: Redis may have put it in the base written at start-up.
    text = b""
    for name, _seq, typ in read_manifest(srv):
        if typ in "bi":
            with open(os.path.join(srv.dir, "appendonlydir", name), "rb") as f:
                text += f.read()
    cmds = parse_commands(text)
    ts = [cmd for cmd in cmds if isinstance(cmd, str)]
    assert ts and ts[0].startswith("#TS:")
    assert abs(int(ts[0][4:]) - time.time()) < 60
    assert ["SET", "a", "1"] in [cmd for cmd in cmds if not isinstance(cmd, str)]


def test_getdel_and_getset(aof):
    srv, c = aof
    c.set("a", "1")
    c.getset("a", "2")
    c.getdel("a")
    w = writes(srv)
    assert w[0] == ["SET", "a", "1"]
    assert w[1][1:3] == ["a", "2"]
    assert w[2] == ["GETDEL", "a"] or w[2] == ["DEL", "a"]
    with pytest.raises(redis.ResponseError):
        c.execute_command("GETSET", "a")


def test_restore_with_relative_ttl_becomes_absttl(aof):
    srv, c = aof
    c.set("src", "value")
    payload = c.dump("src")
    before = int(time.time() * 1000)
    c.restore("dst", 100000, payload)
    c.restore("abs", before + 50000, payload, absttl=True)
    c.restore("nottl", 0, payload)
    after = int(time.time() * 1000)
    w = writes(srv)
    assert w[1][0] == "RESTORE" and w[1][1] == "dst" and w[1][-1].upper() == "ABSTTL"
    assert before + 100000 <= int(w[1][2]) <= after + 100000
    assert w[2][:3] == ["RESTORE", "abs", str(before + 50000)]
    assert w[3][:3] == ["RESTORE", "nottl", "0"] and "ABSTTL" not in [a.upper() for a in w[3]]


def test_flushall_with_save_points_is_written(start_server):
    # FLUSHALL saves when save points are set, and a save resets the dirty
    # counter: the FLUSHALL must reach the AOF all the same.
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--save", "3600 1")
    c = srv.client()
    for i in range(10):
        c.set("k%d" % i, i)
    c.flushall()
    c.set("after", "1")
    c.connection_pool.disconnect()
    assert [cmd[0] for cmd in writes(srv)][-2:] == ["FLUSHALL", "SET"]


@pytest.mark.keel_only
def test_hash_field_ttls_are_absolute_and_expiry_is_hdel(aof):
    # Redis 7.4's HEXPIRE family (redis-server 7.0 has none of it).
    srv, c = aof
    c.hset("h", mapping={"f": "1", "g": "2", "k": "3"})
    before = int(time.time() * 1000)
    c.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "f")
    c.execute_command("HPEXPIRE", "h", 100000, "NX", "FIELDS", 1, "k")
    after = int(time.time() * 1000)
    w = writes(srv)
    assert w[1][0] == "HPEXPIREAT" and w[1][1] == "h" and w[1][3:] == ["FIELDS", "1", "f"]
    assert before + 100000 <= int(w[1][2]) <= after + 100000
    assert w[2][0] == "HPEXPIREAT" and w[2][3:] == ["NX", "FIELDS", "1", "k"]
    c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        c.execute_command("HPEXPIRE", "h", 30, "FIELDS", 1, "g")
        time.sleep(0.1)
        assert c.hget("h", "g") is None
        assert writes(srv)[-1] == ["HDEL", "h", "g"]
    finally:
        c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    # Replayed, the file gives the same hash.
    expected = c.hgetall("h")
    c.connection_pool.disconnect()
    from aof_helpers import restart
    restart(srv)
    c2 = srv.client(decode_responses=True)
    assert c2.hgetall("h") == expected
    assert c2.execute_command("HTTL", "h", "FIELDS", 1, "f")[0] > 0
    c2.connection_pool.disconnect()


def test_rewritten_command_base_starts_with_a_timestamp(start_server):
    """With aof-timestamp-enabled, a base in command form (no RDB
    preamble) starts with a #TS line, as Redis's rewrite writes it."""
    srv = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    c = srv.client()
    c.config_set("aof-timestamp-enabled", "yes")
    c.set("foo", "bar")
    c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0
             and c.info("persistence")["aof_rewrite_scheduled"] == 0, timeout=30, what="rewrite done")
    base = [name for name, _seq, typ in read_manifest(srv) if typ == "b"][0]
    with open(os.path.join(srv.dir, "appendonlydir", base), "rb") as f:
        first = f.readline()
    assert first.startswith(b"#TS:")
    assert abs(int(first[4:].strip()) - time.time()) < 60


@pytest.mark.keel_only   # DEBUG AOF-FLUSH-SLEEP exists in Redis too, but its effect is timing only
def test_debug_aof_flush_sleep(start_server):
    srv = start_server("--appendonly", "yes", "--appendfsync", "always")
    c = srv.client()
    assert c.execute_command("DEBUG", "AOF-FLUSH-SLEEP", "1000") == b"OK"
    c.incr("n")                                  # still written before the reply
    assert [cmd[1] for cmd in writes(srv)] == ["n"]
    assert c.execute_command("DEBUG", "AOF-FLUSH-SLEEP", "0") == b"OK"
    with pytest.raises(redis.ResponseError):
        c.execute_command("DEBUG", "AOF-FLUSH-SLEEP", "soon")
