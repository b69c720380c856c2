"""HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG), checked against
Redis 7.0; HLL values are plain strings in Redis's HYLL layout, so bytes
produced by a real Redis must count the same here."""


import pytest
import redis

from keel_helpers import WRONGTYPE, Server, err


pytestmark = pytest.mark.usefixtures("flush_after")


NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
REAL_REDIS = "/usr/bin/redis-server"


def pfadd_batches(r, key, elements, batch=10000):
    pipe = r.pipeline(transaction=False)
    for i in range(0, len(elements), batch):
        pipe.execute_command("pfadd", key, *elements[i:i + batch])
    return pipe.execute()


@pytest.fixture
def real_redis():
    """A real Redis 7.0 beside the server under test, for byte exchange
    (Debian's redis-server, installed by scripts/install-deps.sh)."""
    srv = Server(binary=REAL_REDIS, name="realredis")
    srv.start()
    c = redis.Redis(host=srv.host, port=srv.port)
    yield c
    c.connection_pool.disconnect()
    srv.stop()


def test_pfadd_basics(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a", "b") == 0
    assert r.pfadd("h", "a", "d") == 1
    assert r.pfcount("h") == 4
    assert r.type("h") == b"string"
    assert r.object("encoding", "h") == b"raw"
    assert r.get("h")[:4] == b"HYLL"


def test_pfadd_without_elements(r):
    assert r.execute_command("pfadd", "h") == 1
    assert r.execute_command("pfadd", "h") == 0
    # An empty sparse HLL: header with an invalid cache, one XZERO opcode.
    assert r.get("h") == b"HYLL\x01" + b"\x00" * 10 + b"\x80\x7f\xff"
    assert r.pfcount("h") == 0
    assert r.get("h") == b"HYLL\x01" + b"\x00" * 10 + b"\x00\x7f\xff"


def test_pfcount_caches_in_value(r):
    r.pfadd("h", "a", "b", "c")
    before = r.get("h")
    assert before[15] & 0x80
    assert r.pfcount("h") == 3
    after = r.get("h")
    assert not after[15] & 0x80
    assert int.from_bytes(after[8:16], "little") == 3
    assert after[16:] == before[16:]
    assert r.pfcount("h") == 3


def test_pfcount_missing_and_multi(r):
    assert r.pfcount("nokey") == 0
    assert r.pfcount("n1", "n2") == 0
    r.pfadd("h1", *"abcdefg")
    r.pfadd("h2", *"efghij")
    assert r.pfcount("h1", "h2") == 10
    assert r.pfcount("h1", "h2", "nokey") == 10
    assert "wrong number of arguments" in err(r, "pfcount")


def test_pfmerge(r):
    r.pfadd("h1", *"abcdefg")
    r.pfadd("h2", *"efghij")
    assert r.pfmerge("h3", "h1", "h2")
    assert r.pfcount("h3") == 10
    assert r.execute_command("pfdebug", "encoding", "h3") == b"sparse"
    # The destination's own registers take part.
    r.pfadd("d", "x", "y")
    r.expire("d", 100)
    assert r.pfmerge("d", "h1")
    assert r.pfcount("d") == 9
    assert 0 < r.ttl("d") <= 100
    # No sources: creates an empty HLL.
    assert r.execute_command("pfmerge", "empty")
    assert r.pfcount("empty") == 0
    assert r.type("empty") == b"string"
    assert r.pfmerge("h4", "nokey1", "nokey2")
    assert r.exists("h4") == 1


def test_pfmerge_dense_input_makes_dense(r):
    r.pfadd("small", "a")
    pfadd_batches(r, "big", ["e%d" % i for i in range(5000)])
    assert r.execute_command("pfdebug", "encoding", "big") == b"dense"
    r.pfmerge("m", "small", "big")
    assert r.execute_command("pfdebug", "encoding", "m") == b"dense"
    assert r.strlen("m") == 12304
    assert r.pfcount("m") == r.pfcount("small", "big")


def test_wrong_types_and_invalid_values(r):
    r.rpush("l", "a")
    assert err(r, "pfadd", "l", "a") == WRONGTYPE
    assert err(r, "pfcount", "l") == WRONGTYPE
    assert err(r, "pfcount", "nokey", "l") == WRONGTYPE
    assert err(r, "pfmerge", "l", "nokey") == WRONGTYPE
    r.set("s", "abc")
    r.set("n", 12345)
    r.set("short", "HYLL")
    r.set("badenc", b"HYLL\x02" + b"\x00" * 11 + b"\x7f\xff")
    r.set("baddense", b"HYLL\x00" + b"\x00" * 11 + b"\x7f\xff")
    for key in ("s", "n", "short", "badenc", "baddense"):
        assert err(r, "pfadd", key, "a") == NOT_HLL
        assert err(r, "pfcount", key) == NOT_HLL
        assert err(r, "pfcount", key, "nokey") == NOT_HLL
        assert err(r, "pfmerge", "dst", key) == NOT_HLL
        assert err(r, "pfmerge", key, "nokey") == NOT_HLL
    assert r.get("s") == b"abc"
    assert r.exists("dst") == 0


def test_corrupted_sparse(r):
    # Covers more than 16384 registers: an XZERO of 16384 then a VAL.
    bad = b"HYLL\x01" + b"\x00" * 10 + b"\x80\x7f\xff\xff\x00"
    r.set("bad", bad)
    assert err(r, "pfcount", "bad") == CORRUPT
    assert err(r, "pfcount", "bad", "nokey") == CORRUPT
    assert err(r, "pfmerge", "dst", "bad") == CORRUPT


def test_hll_sparse_max_bytes(r):
    r.config_set("hll-sparse-max-bytes", 0)
    try:
        r.pfadd("h", "a")
        assert r.execute_command("pfdebug", "encoding", "h") == b"dense"
        assert r.strlen("h") == 12304
        assert r.pfcount("h") == 1
    finally:
        r.config_set("hll-sparse-max-bytes", 3000)


def test_sparse_to_dense_transition_is_continuous(r):
    seen_dense = False
    prev = 0
    for i in range(0, 6000, 250):
        r.pfadd("h", *["el%d" % j for j in range(i, i + 250)])
        enc = r.execute_command("pfdebug", "encoding", "h")
        n = r.pfcount("h")
        true = i + 250
        assert abs(n - true) <= true * 0.03 + 2, (true, n)
        assert n >= prev - true * 0.01
        prev = n
        if enc == b"dense":
            seen_dense = True
            assert r.strlen("h") == 12304
        else:
            assert not seen_dense
            assert r.strlen("h") <= 3000
        assert r.object("encoding", "h") == b"raw"
    assert seen_dense


def test_pfdebug(r):
    r.pfadd("h", "a", "b", "c")
    regs = r.execute_command("pfdebug", "getreg", "h")
    assert len(regs) == 16384 and sum(1 for x in regs if x) == 3
    assert r.execute_command("pfdebug", "encoding", "h") == b"dense"
    assert r.execute_command("pfdebug", "todense", "h") == 0
    r.pfadd("s", "a", "b", "c")
    decoded = r.execute_command("pfdebug", "decode", "s")
    assert decoded.count(b"v:") == 3
    assert r.execute_command("pfdebug", "todense", "s") == 1
    assert err(r, "pfdebug", "decode", "s") == "HLL encoding is not sparse"
    assert err(r, "pfdebug", "getreg", "nokey") == "The specified key does not exist"
    assert err(r, "pfdebug", "foo", "s") == "Unknown PFDEBUG subcommand 'foo'"
    assert r.pfcount("h") == 3 and r.pfcount("s") == 3


@pytest.mark.slow
def test_pfcount_one_million_within_2_percent(r):
    n = 1000000
    pfadd_batches(r, "h", ["member:%d" % i for i in range(n)])
    est = r.pfcount("h")
    assert abs(est - n) / n < 0.02, est


def test_bytes_from_real_redis_count_the_same(r, real_redis):
    sizes = [0, 1, 10, 300, 2000, 20000]
    for k in sizes:
        key = "h%d" % k
        elems = ["x%d" % i for i in range(k)]
        if elems:
            pfadd_batches(real_redis, key, elems)
        else:
            real_redis.execute_command("pfadd", key)
        raw = real_redis.get(key)
        r.set(key, raw)
        want = real_redis.pfcount(key)
        assert r.pfcount(key) == want, k
        # The same elements added here give the same registers and count.
        if elems:
            pfadd_batches(r, key + "_local", elems)
            assert r.pfcount(key + "_local") == want
            if len(raw) == 12304:
                assert r.get(key + "_local")[16:] == raw[16:]
    # Union of Redis-made values, and a merge, agree too.
    keys = ["h%d" % k for k in sizes]
    assert r.pfcount(*keys) == real_redis.pfcount(*keys)
    r.pfmerge("m", *keys)
    real_redis.pfmerge("m", *keys)
    assert r.pfcount("m") == real_redis.pfcount("m")
    # And the other way round: our bytes count the same in Redis.
    r.pfadd("mine", *["y%d" % i for i in range(500)])
    real_redis.set("mine", r.get("mine"))
    assert real_redis.pfcount("mine") == r.pfcount("mine")
