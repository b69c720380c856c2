#!/usr/bin/python3
"""Differential command fuzzer: random commands to Keel and to Redis 7.0.

Sends the same random command stream (random commands from a vocabulary,
with random keys from a small space, numbers, floats, option words and
junk) to a Keel server and to a redis-server, and reports the first
replies that differ (error vs value, or different values), plus any
server death. Run it against the sanitizer build to hunt crashes:

    make asan
    tests/fuzz/diff_commands.py --keel bin/keel-server-asan --seconds 60

Replies whose order is unspecified (SMEMBERS, HGETALL of hashtables,
random commands, SCAN cursors, INFO, time-dependent values) are not
compared, only checked for liveness. This is an exploration tool, not a
test: Keel differs from Redis 7.0 on purpose in a few places (documented
in docs/ARCHITECTURE.md), and those show up here as differences.
"""
import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

KEYS = ["k%d" % i for i in range(6)]
WORDS = ["NX", "XX", "GT", "LT", "CH", "INCR", "EX", "PX", "KEEPTTL", "GET", "WITHSCORES", "LIMIT", "REV",
         "BYSCORE", "BYLEX", "COUNT", "MATCH", "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "MAXLEN", "IDX",
         "LEN", "WITHMATCHLEN", "ALPHA", "DESC", "STORE", "AND", "OR", "XOR", "NOT", "BIT", "BYTE", "WEIGHTS",
         "AGGREGATE", "SUM", "MIN", "MAX"]
UNORDERED = {"SMEMBERS", "HGETALL", "HKEYS", "HVALS", "SRANDMEMBER", "SPOP", "HRANDFIELD", "ZRANDMEMBER",
             "RANDOMKEY", "SCAN", "SSCAN", "HSCAN", "ZSCAN", "KEYS", "SUNION", "SINTER", "SDIFF", "TTL", "PTTL",
             "OBJECT", "SORT", "DEBUG", "TYPE"}
COMMANDS = {
    "SET": 2, "GET": 1, "APPEND": 2, "INCR": 1, "INCRBY": 2, "INCRBYFLOAT": 2, "DECRBY": 2, "GETRANGE": 3,
    "SETRANGE": 3, "STRLEN": 1, "GETDEL": 1, "GETEX": 2, "MSET": 4, "MGET": 3, "LCS": 3, "SETBIT": 3,
    "GETBIT": 2, "BITCOUNT": 3, "BITPOS": 3, "BITOP": 4, "BITFIELD": 5, "PFADD": 3, "PFCOUNT": 2,
    "LPUSH": 3, "RPUSH": 3, "LPOP": 2, "RPOP": 2, "LRANGE": 3, "LINDEX": 2, "LSET": 3, "LINSERT": 4,
    "LREM": 3, "LTRIM": 3, "LPOS": 4, "LMOVE": 4, "LLEN": 1, "HSET": 3, "HGET": 2, "HDEL": 2,
    "HINCRBY": 3, "HINCRBYFLOAT": 3, "HLEN": 1, "HSTRLEN": 2, "HMGET": 3, "SADD": 3, "SREM": 2,
    "SISMEMBER": 2, "SCARD": 1, "SMOVE": 3, "SINTERCARD": 3, "SINTERSTORE": 3, "SUNIONSTORE": 3,
    "ZADD": 4, "ZINCRBY": 3, "ZREM": 2, "ZCARD": 1, "ZSCORE": 2, "ZRANK": 2, "ZRANGE": 5, "ZCOUNT": 3,
    "ZLEXCOUNT": 3, "ZPOPMIN": 2, "ZREMRANGEBYSCORE": 3, "ZREMRANGEBYRANK": 3, "ZUNIONSTORE": 5,
    "ZINTERSTORE": 5, "ZRANGESTORE": 5, "DEL": 2, "EXISTS": 2, "EXPIRE": 3, "PERSIST": 1, "RENAME": 2,
    "COPY": 3, "SMEMBERS": 1, "HGETALL": 1, "SORT": 3, "GEOADD": 4, "GEODIST": 3, "GEOPOS": 2,
}


def arg(rnd):
    r = rnd.random()
    if r < 0.3:
        return rnd.choice(KEYS)
    if r < 0.5:
        return str(rnd.choice([0, 1, -1, 2, 3, 7, 100, -100, 2**31, 2**63 - 1, -(2**63), rnd.randint(-50, 50)]))
    if r < 0.6:
        return rnd.choice(["1.5", "-0.5", "inf", "-inf", "+inf", "nan", "1e308", "0.1", "(1", "[a", "-", "+"])
    if r < 0.8:
        return rnd.choice(WORDS)
    return "".join(rnd.choice("ab\x00\r\n*$xyz") for _ in range(rnd.randint(0, 8)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(binary, tmp):
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], cwd=tmp, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "log-%d" % port), "w"))
    c = redis.Redis(port=port, socket_timeout=10)
    for _ in range(100):
        try:
            c.ping()
            return proc, c
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("%s did not start" % binary)


def call(c, cmd):
    try:
        return ("ok", c.execute_command(*cmd))
    except redis.ResponseError as e:
        return ("err", str(e).split(" ")[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keel", default="bin/keel-server-asan")
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="keelfuzz-")
    kp, kc = start(os.path.abspath(a.keel), tmp)
    rp, rc = start(a.redis, tmp)
    n = diffs = 0
    end = time.time() + a.seconds
    try:
        while time.time() < end:
            name = rnd.choice(list(COMMANDS))
            cmd = [name] + [arg(rnd) for _ in range(rnd.randint(0, COMMANDS[name] + 1))]
            k, r = call(kc, cmd), call(rc, cmd)
            n += 1
            if kp.poll() is not None:
                print("KEEL DIED after %r (seed %d)" % (cmd, a.seed))
                return 1
            if name in UNORDERED or k == r:
                continue
            if k[0] == r[0] == "err" or (k[0] == r[0] == "ok" and name in ("PFCOUNT",)):
                continue
            diffs += 1
            if diffs <= 20:
                print("DIFF %r\n  keel:  %r\n  redis: %r" % (cmd, k, r))
    finally:
        for p in (kp, rp):
            p.terminate()
            p.wait()
    print("%d commands, %d differences, seed %d" % (n, diffs, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
