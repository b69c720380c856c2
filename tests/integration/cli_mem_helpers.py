"""Shared by the keel-cli memory analysis tests (test_cli_mem*.py): a
prepared dataset whose biggest key of each type is unambiguous (by element
count and by memory), and parsers of redis-cli's --bigkeys/--memkeys
summary."""

import re

from cli_helpers import client_env, keel_cli_binary, run

KEEL_CLI = keel_cli_binary()


def keel_cli(srv, *args, timeout=60):
    rc, out, err = run(KEEL_CLI, ["-h", srv.host, "-p", srv.port] + list(args), timeout=timeout,
                       env=client_env())
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def redis_cli(srv, *args, timeout=60):
    rc, out, err = run("/usr/bin/redis-cli", ["-h", srv.host, "-p", srv.port] + list(args),
                       timeout=timeout, env=client_env())
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# The winners of each type, by elements and by memory alike.
BIGGEST = {
    "string": "blob:big",
    "list": "queue:19",
    "set": "tags:19",
    "hash": "obj:49",
    "zset": "rank:19",
    "stream": "events:2",
}


def populate(r, users=2000, sessions=500):
    """Strings (2000 user:N:name without TTL, 500 sess:<hex> with a TTL, one
    100 KB blob), 20 lists, 20 sets, 50 hashes (the bigger ones past the
    listpack limits), 20 sorted sets, 3 streams."""
    p = r.pipeline(transaction=False)
    for i in range(users):
        p.set("user:%d:name" % i, "x" * (i % 50))
    for i in range(sessions):
        p.set("sess:%08xabc" % i, "s" * 100, ex=3600)
    p.set("blob:big", "z" * 100000)
    for i in range(20):
        p.rpush("queue:%d" % i, *[str(j) for j in range(10 * (i + 1) ** 2)])
        p.sadd("tags:%d" % i, *["t%d" % j for j in range(i * 20 + 1)])
        p.zadd("rank:%d" % i, {"m%d" % j: j for j in range(i * 30 + 1)})
    for i in range(50):
        p.hset("obj:%d" % i, mapping={"f%d" % j: "v" * j for j in range(i * 3 + 1)})
    for s in range(3):
        for j in range(1 + s * 50):
            p.xadd("events:%d" % s, {"n": str(j), "payload": "p" * 40})
    p.execute()


BIG_LINE = re.compile(r"^Biggest +(\S+) found '(.*)' has (\d+) (\S+)$", re.M)
COUNT_LINE = re.compile(r"^(\d+) (\S+)s with (\d+) (\S+) \((\d+\.\d+)% of keys, avg size (\d+\.\d+)\)$", re.M)


def biggest(out):
    """{type: (quoted key, size, unit)} from a --bigkeys/--memkeys summary."""
    return {m.group(1): (m.group(2), int(m.group(3)), m.group(4)) for m in BIG_LINE.finditer(out)}


def per_type_counts(out):
    return {m.group(2): (int(m.group(1)), int(m.group(3)), m.group(4)) for m in COUNT_LINE.finditer(out)}
