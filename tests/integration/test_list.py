"""List commands: replies, errors, edge cases and encoding conversions.

Encoding checks are Keel-only: Redis 7.0 always reports "quicklist" for a
list, Keel follows Redis 7.2 (small lists are one listpack).
"""

import random

import pytest

from keel_helpers import err


@pytest.fixture
def small_lists(r):
    """list-max-listpack-size 4 for the test, restored after."""
    old = r.config_get("list-max-listpack-size")["list-max-listpack-size"]
    r.config_set("list-max-listpack-size", 4)
    yield r
    r.config_set("list-max-listpack-size", old)


def enc(r, key):
    return r.object("encoding", key)


# ---- push / pop -------------------------------------------------------

def test_push_order_and_length(r):
    assert r.lpush("l", "a", "b", "c") == 3
    assert r.rpush("l", "d", "e") == 5
    assert r.lrange("l", 0, -1) == [b"c", b"b", b"a", b"d", b"e"]
    assert r.llen("l") == 5
    assert r.llen("missing") == 0


def test_pushx(r):
    assert r.lpushx("l", "a") == 0
    assert r.execute_command("RPUSHX", "l", "a", "b") == 0
    assert r.exists("l") == 0
    r.rpush("l", "x")
    assert r.lpushx("l", "a", "b") == 3
    assert r.execute_command("RPUSHX", "l", "y", "z") == 5
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"x", b"y", b"z"]


def test_pop_single(r):
    r.rpush("l", "a", "b", "c")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"c"
    assert r.rpop("l") == b"b"
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.rpop("missing") is None


def test_pop_count(r):
    r.rpush("l", *"abcdef")
    assert r.lpop("l", 2) == [b"a", b"b"]
    assert r.rpop("l", 2) == [b"f", b"e"]
    assert r.execute_command("LPOP", "l", 0) == []
    assert r.rpop("l", 100) == [b"d", b"c"]
    assert r.exists("l") == 0
    assert r.execute_command("LPOP", "l", 0) is None
    assert r.execute_command("LPOP", "missing", 3) is None


def test_pop_count_errors(r):
    r.rpush("l", "a")
    for bad in ("-1", "x", "1.5"):
        assert err(r, "LPOP", "l", bad) == "value is out of range, must be positive"
        assert err(r, "RPOP", "l", bad) == "value is out of range, must be positive"
    assert "wrong number of arguments" in err(r, "LPOP", "l", 1, 2)
    assert r.lrange("l", 0, -1) == [b"a"]


def test_wrongtype(r):
    r.set("s", "x")
    cmds = [("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
            ("LPOP", "s"), ("RPOP", "s"), ("LLEN", "s"), ("LRANGE", "s", 0, -1), ("LINDEX", "s", 0),
            ("LSET", "s", 0, "a"), ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", 0, "a"),
            ("LTRIM", "s", 0, 1), ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
            ("RPOPLPUSH", "s", "d"), ("LMPOP", 1, "s", "LEFT"), ("BLPOP", "s", 0), ("BRPOP", "s", 0),
            ("BLMOVE", "s", "d", "LEFT", "LEFT", 0), ("BRPOPLPUSH", "s", "d", 0),
            ("BLMPOP", 0, 1, "s", "LEFT")]
    for c in cmds:
        assert err(r, *c).startswith("WRONGTYPE"), c
    assert r.get("s") == b"x"


# ---- reads ------------------------------------------------------------

def test_lrange_indexes(r):
    r.rpush("l", *"abcde")
    assert r.lrange("l", 0, 0) == [b"a"]
    assert r.lrange("l", -2, -1) == [b"d", b"e"]
    assert r.lrange("l", -100, 1) == [b"a", b"b"]
    assert r.lrange("l", 3, 100) == [b"d", b"e"]
    assert r.lrange("l", 4, 2) == []
    assert r.lrange("l", 5, 10) == []
    assert r.lrange("l", -1, -2) == []
    assert r.lrange("missing", 0, -1) == []
    assert err(r, "LRANGE", "l", "a", 1) == "value is not an integer or out of range"


def test_lindex(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"c"
    assert r.lindex("l", -3) == b"a"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert r.lindex("missing", 0) is None
    assert err(r, "LINDEX", "l", "x") == "value is not an integer or out of range"


def test_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 1, "B")
    assert r.lset("l", -1, "C")
    assert r.lrange("l", 0, -1) == [b"a", b"B", b"C"]
    assert err(r, "LSET", "l", 3, "x") == "index out of range"
    assert err(r, "LSET", "l", -4, "x") == "index out of range"
    assert err(r, "LSET", "missing", 0, "x") == "no such key"
    assert err(r, "LSET", "l", "x", "x") == "value is not an integer or out of range"


# ---- edits ------------------------------------------------------------

def test_linsert(r):
    r.rpush("l", "a", "c")
    assert r.linsert("l", "BEFORE", "c", "b") == 3
    assert r.linsert("l", "after", "c", "d") == 4
    assert r.linsert("l", "BEFORE", "a", "0") == 5
    assert r.lrange("l", 0, -1) == [b"0", b"a", b"b", b"c", b"d"]
    assert r.linsert("l", "BEFORE", "zz", "x") == -1
    assert r.linsert("missing", "BEFORE", "a", "x") == 0
    assert r.exists("missing") == 0
    assert err(r, "LINSERT", "l", "MIDDLE", "a", "x") == "syntax error"


def test_lrem(r):
    r.rpush("l", *"abacabaa")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"b", b"a", b"a"]
    assert r.lrem("l", -2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"b"]
    assert r.lrem("l", 0, "b") == 2
    assert r.lrange("l", 0, -1) == [b"c", b"a"]
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("missing", 0, "a") == 0
    assert r.lrem("l", 0, "c") == 1
    assert r.lrem("l", 0, "a") == 1
    assert r.exists("l") == 0
    assert err(r, "LREM", "l", "x", "a") == "value is not an integer or out of range"


def test_ltrim(r):
    r.rpush("l", *"abcdef")
    assert r.ltrim("l", 1, -2)
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"d", b"e"]
    assert r.ltrim("l", -3, 100)
    assert r.lrange("l", 0, -1) == [b"c", b"d", b"e"]
    assert r.ltrim("l", -100, 0)
    assert r.lrange("l", 0, -1) == [b"c"]
    assert r.ltrim("l", 2, 1)
    assert r.exists("l") == 0
    assert r.ltrim("missing", 0, 1)
    r.rpush("l", "a")
    assert r.ltrim("l", 5, 10)
    assert r.exists("l") == 0
    assert err(r, "LTRIM", "l", "a", 1) == "value is not an integer or out of range"


# ---- LPOS -------------------------------------------------------------

def test_lpos(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "a") == 0
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "zz") is None
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-3) == 2
    assert r.lpos("l", "c", rank=4) is None
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 6]
    assert r.lpos("l", "c", count=2, rank=-1) == [7, 6]
    assert r.lpos("l", "c", count=0, rank=2) == [6, 7]
    assert r.lpos("l", "zz", count=5) == []
    assert r.lpos("l", "c", maxlen=3) == 2
    assert r.lpos("l", "c", maxlen=2) is None
    assert r.lpos("l", "c", rank=-1, maxlen=1) == 7
    assert r.lpos("l", "c", count=0, maxlen=7) == [2, 6]
    assert r.lpos("l", "1") == 3
    assert r.lpos("missing", "a") is None
    assert r.lpos("missing", "a", count=1) == []


def test_lpos_errors(r):
    r.rpush("l", "a")
    assert err(r, "LPOS", "l", "a", "RANK", 0).startswith("RANK can't be zero")
    assert err(r, "LPOS", "l", "a", "RANK", "x") == "value is not an integer or out of range"
    assert err(r, "LPOS", "l", "a", "COUNT", -1) == "COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "MAXLEN", -1) == "MAXLEN can't be negative"
    assert err(r, "LPOS", "l", "a", "FOO", 1) == "syntax error"
    assert err(r, "LPOS", "l", "a", "COUNT") == "syntax error"


# ---- moves ------------------------------------------------------------

def test_lmove_directions(r):
    r.rpush("src", "1", "2", "3")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"1"
    assert r.lmove("src", "dst", "RIGHT", "LEFT") == b"3"
    assert r.lmove("src", "dst", "left", "left") == b"2"
    assert r.exists("src") == 0
    assert r.lrange("dst", 0, -1) == [b"2", b"3", b"1"]
    assert r.lmove("dst", "src", "RIGHT", "RIGHT") == b"1"
    assert r.lrange("src", 0, -1) == [b"1"]
    assert r.lmove("missing", "dst", "LEFT", "LEFT") is None
    assert err(r, "LMOVE", "src", "dst", "UP", "LEFT") == "syntax error"


def test_lmove_same_list_rotates(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a"]
    assert r.rpoplpush("l", "l") == b"a"
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    r.delete("l")
    r.rpush("l", "only")
    assert r.lmove("l", "l", "LEFT", "LEFT") == b"only"
    assert r.lrange("l", 0, -1) == [b"only"]


def test_lmove_wrongtype_destination_pops_nothing(r):
    r.rpush("l", "a")
    r.set("s", "x")
    assert err(r, "LMOVE", "l", "s", "LEFT", "LEFT").startswith("WRONGTYPE")
    assert r.lrange("l", 0, -1) == [b"a"]


def test_rpoplpush(r):
    r.rpush("a", "1", "2")
    assert r.rpoplpush("a", "b") == b"2"
    assert r.rpoplpush("a", "b") == b"1"
    assert r.rpoplpush("a", "b") is None
    assert r.lrange("b", 0, -1) == [b"1", b"2"]


def test_lmpop(r):
    r.rpush("b", "1", "2", "3")
    assert r.execute_command("LMPOP", 2, "a", "b", "LEFT") == [b"b", [b"1"]]
    assert r.execute_command("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 5) == [b"b", [b"3", b"2"]]
    assert r.exists("b") == 0
    assert r.execute_command("LMPOP", 2, "a", "b", "LEFT") is None


def test_lmpop_errors(r):
    r.rpush("l", "a")
    assert err(r, "LMPOP", 0, "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", -1, "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", "x", "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", 5, "l", "LEFT") == "syntax error"
    assert err(r, "LMPOP", 1, "l", "MIDDLE") == "syntax error"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", -1) == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 2) == "syntax error"
    assert err(r, "LMPOP", 1, "l", "LEFT", "FOO") == "syntax error"
    assert r.lrange("l", 0, -1) == [b"a"]


def test_blocking_forms_serve_immediately(r):
    r.rpush("l", "a", "b", "c", "d")
    assert r.blpop(["missing", "l"], 1) == (b"l", b"a")
    assert r.brpop(["l"], 0) == (b"l", b"d")
    assert r.blmove("l", "m", 0, "LEFT", "RIGHT") == b"b"
    assert r.brpoplpush("l", "m", 0) == b"c"
    assert r.exists("l") == 0
    assert r.execute_command("BLMPOP", 0, 1, "m", "LEFT", "COUNT", 2) == [b"m", [b"c", b"b"]]


def test_blocking_argument_errors(r):
    assert err(r, "BLPOP", "l", -1) == "timeout is negative"
    assert err(r, "BLPOP", "l", "x") == "timeout is not a float or out of range"
    assert err(r, "BLMOVE", "a", "b", "UP", "LEFT", 0) == "syntax error"
    assert err(r, "BLMPOP", 0, 0, "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "BLMPOP", -1, 1, "l", "LEFT") == "timeout is negative"
    assert err(r, "BLMPOP", 0, 1, "l", "LEFT", "COUNT", 0) == "count should be greater than 0"


# ---- values -----------------------------------------------------------

def test_binary_and_integer_like_values(r):
    vals = [b"", b"\x00\x01\xff\r\n", b"0", b"-1", b"007", b"+1", b"9223372036854775807",
            b"-9223372036854775808", b"9223372036854775808", b"1.5", b"x" * 5000]
    r.rpush("l", *vals)
    assert r.lrange("l", 0, -1) == vals
    assert r.lpos("l", b"\x00\x01\xff\r\n") == 1
    assert r.lpos("l", b"007") == 4
    assert r.lpos("l", b"7") is None
    assert r.lrem("l", 0, b"-1") == 1
    assert r.lindex("l", -1) == b"x" * 5000


def test_large_list(r):
    n = 100_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, 10_000):
        pipe.rpush("big", *[b"item:%d" % i for i in range(start, start + 10_000)])
    pipe.execute()
    assert r.llen("big") == n
    assert r.lindex("big", 54_321) == b"item:54321"
    assert r.lindex("big", -1) == b"item:99999"
    assert r.lrange("big", 49_998, 50_001) == [b"item:%d" % i for i in range(49_998, 50_002)]
    assert r.linsert("big", "AFTER", "item:50000", "mid") == n + 1
    assert r.lindex("big", 50_001) == b"mid"
    assert r.lset("big", 50_001, "MID")
    assert r.lpos("big", "MID") == 50_001
    assert r.lrem("big", 0, "MID") == 1
    assert r.ltrim("big", 10, -11)
    assert r.llen("big") == n - 20
    assert r.lpop("big") == b"item:10"
    assert r.rpop("big") == b"item:99989"
    got = r.lrange("big", 0, -1)
    assert len(got) == n - 22 and got[0] == b"item:11" and got[-1] == b"item:99988"


def test_copy_and_type(r):
    r.rpush("l", "a", "b")
    assert r.type("l") == b"list"
    assert r.copy("l", "c")
    r.rpush("c", "z")
    assert r.lrange("l", 0, -1) == [b"a", b"b"]
    assert r.lrange("c", 0, -1) == [b"a", b"b", b"z"]


def test_command_info(raw):
    info = raw().cmd("COMMAND", "INFO", "lpush", "blpop", "lmpop", "lrange")
    flags = {i[0]: (i[1], sorted(i[2]), i[3], i[4], i[5]) for i in info}
    assert flags[b"lpush"] == (-3, sorted([b"write", b"denyoom", b"fast"]), 1, 1, 1)
    assert flags[b"blpop"] == (-3, sorted([b"write", b"noscript", b"blocking"]), 1, -2, 1)
    assert flags[b"lmpop"] == (-4, sorted([b"write", b"movablekeys"]), 0, 0, 0)
    assert flags[b"lrange"] == (4, [b"readonly"], 1, 1, 1)


# ---- encodings --------------------------------------------------------

@pytest.mark.keel_only
def test_encoding_by_count(small_lists):
    r = small_lists
    r.rpush("l", 1, 2, 3, 4)
    assert enc(r, "l") == b"listpack"
    r.rpush("l", 5)
    assert enc(r, "l") == b"quicklist"
    r.rpop("l")
    r.rpop("l")
    assert enc(r, "l") == b"quicklist"  # 3 > half of 4: hysteresis
    r.rpop("l")
    assert enc(r, "l") == b"listpack"  # 2 entries: half the limit
    assert r.lrange("l", 0, -1) == [b"1", b"2"]


@pytest.mark.keel_only
def test_encoding_by_bytes(r):
    old = r.config_get("list-max-listpack-size")["list-max-listpack-size"]
    try:
        r.config_set("list-max-listpack-size", -1)  # 4 KB nodes
        r.rpush("l", *[b"x" * 500 for _ in range(7)])
        assert enc(r, "l") == b"listpack"
        r.rpush("l", b"x" * 1000)
        assert enc(r, "l") == b"quicklist"
        r.ltrim("l", 0, 2)
        assert enc(r, "l") == b"listpack"
        r.rpush("big", b"y" * 5000)  # one element over the limit
        assert enc(r, "big") == b"quicklist"
        r.rpush("s", "a", "b")
        r.lset("s", 0, b"z" * 5000)
        assert enc(r, "s") == b"quicklist"
        assert r.lrange("s", 0, -1) == [b"z" * 5000, b"b"]
    finally:
        r.config_set("list-max-listpack-size", old)


@pytest.mark.keel_only
def test_encoding_insert_and_default(small_lists):
    r = small_lists
    r.rpush("l", "a", "b", "c", "d")
    r.linsert("l", "BEFORE", "c", "x")
    assert enc(r, "l") == b"quicklist"
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"x", b"c", b"d"]
    r.config_set("list-max-listpack-size", -2)
    r.rpush("d", *range(100))
    assert enc(r, "d") == b"listpack"


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_random_ops_against_model(small_lists, depth):
    """Many operations on a list that keeps crossing node and encoding
    limits (and, with a compress depth, compressing interior nodes),
    checked against a Python list."""
    r = small_lists
    r.config_set("list-compress-depth", depth)
    try:
        random_ops(r, depth)
    finally:
        r.config_set("list-compress-depth", 0)


def test_compressed_large_list(r):
    r.config_set("list-compress-depth", 1)
    try:
        r.rpush("l", *[b"item:%d" % i for i in range(20000)])
        assert r.lindex("l", 12345) == b"item:12345"
        assert r.lrange("l", 9998, 10001) == [b"item:%d" % i for i in range(9998, 10002)]
        assert r.linsert("l", "BEFORE", "item:15000", "x") == 20001
        assert r.lpos("l", "x") == 15000
        assert r.lrem("l", 0, "x") == 1
        r.ltrim("l", 100, -101)
        got = r.lrange("l", 0, -1)
        assert got == [b"item:%d" % i for i in range(100, 19900)]
    finally:
        r.config_set("list-compress-depth", 0)


def random_ops(r, depth):
    rnd = random.Random(7 + depth)
    model = []
    for step in range(1500):
        op = rnd.randrange(9)
        v = rnd.choice([b"a", b"b", b"12", b"-3", b"long" * rnd.randrange(1, 50)])
        if op == 0:
            r.lpush("l", v)
            model.insert(0, v)
        elif op in (1, 2):
            r.rpush("l", v, v)
            model += [v, v]
        elif op == 3:
            assert r.lpop("l") == (model.pop(0) if model else None)
        elif op == 4:
            k = rnd.randrange(4)
            got = r.rpop("l", k)
            want = [model.pop() for _ in range(min(k, len(model)))] if model else None
            assert got == want
        elif op == 5 and model:
            i = rnd.randrange(len(model))
            pivot = model[i]
            j = model.index(pivot)
            r.linsert("l", "AFTER", pivot, v)
            model.insert(j + 1, v)
        elif op == 6:
            cnt = rnd.randrange(-2, 3)
            got = r.lrem("l", cnt, v)
            if cnt >= 0:
                idx = [i for i, x in enumerate(model) if x == v]
                idx = idx[:cnt] if cnt else idx
            else:
                idx = [i for i, x in enumerate(model) if x == v][cnt:]
            for i in reversed(idx):
                del model[i]
            assert got == len(idx)
        elif op == 7 and model:
            i = rnd.randrange(len(model))
            r.lset("l", i, v)
            model[i] = v
        elif op == 8:
            a, b = rnd.randrange(-5, 10), rnd.randrange(-5, 30)
            r.ltrim("l", a, b)
            n = len(model)
            s = a + n if a < 0 else a
            e = b + n if b < 0 else b
            s = max(s, 0)
            model = [] if s > e or s >= n else model[s:min(e, n - 1) + 1]
        if step % 50 == 0:
            assert r.lrange("l", 0, -1) == model
    assert r.lrange("l", 0, -1) == model


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_random_ops_match_model_with_compression(r, depth):
    """Compressed interior nodes must never change what a list holds:
    random edits everywhere in a multi-node list, checked against a model."""
    import random
    rnd = random.Random(1234 + depth)
    old = r.config_get("list-*")
    try:
        r.config_set("list-max-listpack-size", "32")
        r.config_set("list-compress-depth", str(depth))
        model = []
        for i in range(3000):
            v = ("val-%d-" % i) * rnd.randint(1, 6)
            model.append(v)
        r.rpush("L", *model)
        for step in range(1500):
            op = rnd.randrange(8)
            n = len(model)
            if op == 0:
                v = "L%d" % step
                r.lpush("L", v)
                model.insert(0, v)
            elif op == 1:
                v = "R%d" % step
                r.rpush("L", v)
                model.append(v)
            elif op == 2 and n:
                i = rnd.randrange(n)
                assert r.lindex("L", i).decode() == model[i]
            elif op == 3 and n:
                i = rnd.randrange(n)
                v = "S%d" % step
                r.lset("L", i, v)
                model[i] = v
            elif op == 4 and n:
                i = rnd.randrange(n)
                pivot = model[i]
                v = "I%d" % step
                r.linsert("L", "BEFORE", pivot, v)
                model.insert(model.index(pivot), v)
            elif op == 5 and n > 10:
                assert r.lpop("L").decode() == model.pop(0)
                assert r.rpop("L").decode() == model.pop()
            elif op == 6 and n:
                i = rnd.randrange(n)
                j = min(n - 1, i + rnd.randrange(50))
                got = [x.decode() for x in r.lrange("L", i, j)]
                assert got == model[i:j + 1]
            elif op == 7 and n > 100:
                v = model[rnd.randrange(n)]
                removed = r.lrem("L", 1, v)
                assert removed == 1
                model.remove(v)
        assert [x.decode() for x in r.lrange("L", 0, -1)] == model
        assert r.llen("L") == len(model)
    finally:
        r.config_set("list-max-listpack-size", old[b"list-max-listpack-size"] if b"list-max-listpack-size" in old else old["list-max-listpack-size"])
        r.config_set("list-compress-depth", old[b"list-compress-depth"] if b"list-compress-depth" in old else old["list-compress-depth"])
