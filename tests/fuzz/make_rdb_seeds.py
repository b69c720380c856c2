"""Write the seed corpus of the RDB fuzzer (tests/fuzz/rdb_seeds): a small
dump of every type written by Debian's redis-server 7.0 and one by Keel,
DUMP payloads of each type from both, and hand-built files in the older
and newer encodings (tests/integration/rdb_fixtures.py).

    /usr/bin/python3 tests/fuzz/make_rdb_seeds.py
"""

import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from keel_helpers import Server  # noqa: E402
from rdb_fixtures import (intset, key, listpack, rdb_file, rdb_len, rdb_str, selectdb,  # noqa: E402
                          ziplist)

OUT = os.path.join(HERE, "rdb_seeds")


def fill(c):
    c.set("s", "hello")
    c.set("n", 12345)
    c.set("lzf", "abcd" * 100)
    c.rpush("l", "a", 1, "b" * 30)
    c.rpush("bigl", *range(300))
    c.sadd("si", 1, 2, 3)
    c.sadd("ss", "a", "b")
    c.sadd("bigs", *["m%d" % i for i in range(200)])
    c.zadd("z", {"a": 1.5, "b": 2})
    c.zadd("bigz", {"m%d" % i: i for i in range(200)})
    c.hset("h", mapping={"f": "v", "g": 1})
    c.hset("bigh", mapping={"f%d" % i: "v" for i in range(200)})
    c.set("ttl", "x")
    c.expire("ttl", 1000)


def dump_from(binary, prefix):
    srv = Server(binary=binary).start()
    try:
        c = srv.client()
        fill(c)
        c.execute_command("SAVE")
        shutil.copy(os.path.join(srv.dir, "dump.rdb"), os.path.join(OUT, prefix + ".rdb"))
        for k in ("s", "n", "lzf", "l", "bigl", "si", "ss", "z", "h"):
            with open(os.path.join(OUT, "payload-%s-%s" % (prefix, k)), "wb") as f:
                f.write(c.dump(k))
    finally:
        srv.stop()


def hand_built():
    zipmap = bytes([1, 1]) + b"a" + bytes([2, 0]) + b"xy" + b"\xff"
    old = (selectdb(0) + key(10, "zl", rdb_str(ziplist(["a", 5]))) +
           key(13, "zh", rdb_str(ziplist(["f", "v"]))) + key(12, "zz", rdb_str(ziplist(["m", 1]))) +
           key(9, "zm", rdb_str(zipmap)) + key(14, "ql", rdb_len(1) + rdb_str(ziplist(["p"]))) +
           key(3, "z1", rdb_len(1) + rdb_str("a") + bytes([3]) + b"1.5") +
           b"\xfd" + struct.pack("<i", 2000000000) + key(0, "t", rdb_str("x")))
    new = (selectdb(0) + key(20, "sl", rdb_str(listpack(["a", 7]))) +
           key(18, "q2", rdb_len(2) + rdb_len(2) + rdb_str(listpack(["x"])) + rdb_len(1) + rdb_str("p")) +
           key(11, "is", rdb_str(intset([1, 2], width=8))) + b"\xf5" + rdb_str("code"))
    with open(os.path.join(OUT, "old-v9.rdb"), "wb") as f:
        f.write(rdb_file(old, version=9))
    with open(os.path.join(OUT, "new-v12.rdb"), "wb") as f:
        f.write(rdb_file(new, version=12))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dump_from("/usr/bin/redis-server", "redis")
    dump_from(os.path.join(HERE, "..", "..", "bin", "keel-server"), "keel")
    hand_built()
    print("\n".join(sorted(os.listdir(OUT))))
