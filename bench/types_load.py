#!/usr/bin/python3
"""Generate RESP for the data-type benchmarks of bench/compare.sh.

Writes a stream of commands to stdout, meant to be piped through
`redis-cli --pipe` (which streams it while reading the replies, so the
server sees a deep pipeline and loading runs at server speed):

  types_load.py KIND [COUNT]   COUNT replaces the first number below
  types_load.py hashes   1M hashes "hash:N", 10 fields f0..f9, short values
  types_load.py sets     1M sets "set:N" of 5 small integers (intset)
  types_load.py zsets    1,000 sorted sets "zset:N" of 1,000 members each
  types_load.py list     one list "list" of 10M short items, 1,000 per RPUSH
  types_load.py hll      100k HyperLogLogs "hll:N", 1,000 elements each,
                         PFADD with 100 elements per command
  types_load.py stream    one stream "stream" of 1M entries of 3 small fields
  types_load.py streams   100k streams "stream:N" of 10 such entries
  types_load.py fill-list|fill-set|fill-zset COUNT
                         COUNT elements in "mylist" / "myset" / "myzset",
                         the keys redis-benchmark's LPOP/RPOP, SPOP and
                         ZPOPMIN tests pop from (they would otherwise pop
                         from an empty key and measure null replies)

Everything is deterministic: the same bytes go to Keel and to Redis.

Speed matters more than variety (the whole memory group has to load in a
couple of minutes on two cores, generated twice): arguments are encoded
once into pools of ready RESP bulk strings and commands are assembled by
joining pool entries. So values repeat across keys (a pool of 10,007
hash values, 10,000 list items), which changes nothing for memory: neither
server shares equal values between keys or list slots. HyperLogLog
elements come from a pool of 1M elements in 10,000 chunks of 100; a key
takes 10 chunks spread over the pool (a few keys may get the same chunks:
the size of a sparse HLL depends only on how many registers 1,000
elements touch, which is the same in distribution either way).
"""

import sys

OUT = sys.stdout.buffer
FLUSH_BYTES = 1 << 20


def bulk(data):
    return b"$%d\r\n%s\r\n" % (len(data), data)


def header(argc, name):
    return b"*%d\r\n" % argc + bulk(name)


class Writer:
    """Buffers commands and writes them in ~1 MB chunks."""

    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, data):
        self.parts.append(data)
        self.size += len(data)
        if self.size >= FLUSH_BYTES:
            self.flush()

    def flush(self):
        OUT.write(b"".join(self.parts))
        self.parts = []
        self.size = 0


def load_hashes(w, keys=1_000_000, nfields=10):
    fields = [bulk(b"f%d" % f) for f in range(nfields)]
    values = [bulk(b"v%d" % ((i * 7919) % 10_000_000)) for i in range(10_007)]
    head = header(2 + 2 * nfields, b"HSET")
    for k in range(keys):
        base = k * nfields
        parts = [head, bulk(b"hash:%d" % k)]
        for f in range(nfields):
            parts.append(fields[f])
            parts.append(values[(base + f) % 10_007])
        w.add(b"".join(parts))


def load_sets(w, keys=1_000_000, members=5):
    # member j of set k is k%200 + 200*j: distinct within a set, all < 1000
    ints = [bulk(b"%d" % i) for i in range(200 * members)]
    head = header(2 + members, b"SADD")
    for k in range(keys):
        low = k % 200
        w.add(b"".join([head, bulk(b"set:%d" % k)] +
                       [ints[low + 200 * j] for j in range(members)]))


def load_zsets(w, keys=1_000, members=1_000):
    head = header(2 + 2 * members, b"ZADD")
    names = [bulk(b"member:%d" % m) for m in range(members)]
    for k in range(keys):
        parts = [head, bulk(b"zset:%d" % k)]
        for m in range(members):
            score = (k * 7919 + m * 104729) % 1_000_003
            parts.append(bulk(b"%d.%d" % (score, m % 10)))
            parts.append(names[m])
        w.add(b"".join(parts))


def load_list(w, items=10_000_000, per_command=1_000):
    pool = [bulk(b"item:%05d" % i) for i in range(10_000)]
    blocks = [b"".join(pool[b * per_command:(b + 1) * per_command])
              for b in range(len(pool) // per_command)]
    head = header(2 + per_command, b"RPUSH") + bulk(b"list")
    for c in range(items // per_command):
        w.add(head + blocks[c % len(blocks)])


def load_hll(w, keys=100_000, elements=1_000, per_command=100):
    nchunks = 10_000
    chunks = [b"".join(bulk(b"e:%d" % (c * per_command + i))
                       for i in range(per_command))
              for c in range(nchunks)]
    head = header(2 + per_command, b"PFADD")
    per_key = elements // per_command
    for k in range(keys):
        key = bulk(b"hll:%d" % k)
        start = k * per_key + 7 * (k // 1000)
        for j in range(per_key):
            w.add(head + key + chunks[(start + j * 1009) % nchunks])


def load_stream(w, entries=1_000_000):
    """One stream "stream" of entries with 3 small fields, IDs 1-1, 1-2..."""
    head = header(9, b"XADD") + bulk(b"stream")
    fields = [bulk(b"sensor"), bulk(b"temp"), bulk(b"unit")]
    for i in range(1, entries + 1):
        w.add(head + bulk(b"1-%d" % i) + fields[0] + bulk(b"s%d" % (i % 100)) + fields[1] +
              bulk(b"%d" % (150 + i % 200)) + fields[2] + bulk(b"C"))


def load_streams(w, keys=100_000, entries=10):
    """keys streams "stream:N" of entries entries with 3 small fields."""
    head = header(9, b"XADD")
    fields = [bulk(b"sensor"), bulk(b"temp"), bulk(b"unit")]
    for k in range(keys):
        key = bulk(b"stream:%d" % k)
        for i in range(1, entries + 1):
            w.add(head + key + bulk(b"1-%d" % i) + fields[0] + bulk(b"s%d" % (k % 100)) + fields[1] +
                  bulk(b"%d" % (150 + i)) + fields[2] + bulk(b"C"))


def fill(w, cmd, key, count, per_command=1_000, scored=False):
    """count elements "element:%012d" in key, per_command per command."""
    for first in range(0, count, per_command):
        n = min(per_command, count - first)
        parts = [header(2 + n * (2 if scored else 1), cmd), bulk(key)]
        for i in range(first, first + n):
            if scored:
                parts.append(bulk(b"%d" % ((i * 7919) % 1_000_003)))
            parts.append(bulk(b"element:%012d" % i))
        w.add(b"".join(parts))


def main(argv):
    loaders = {"hashes": load_hashes, "sets": load_sets, "zsets": load_zsets,
               "list": load_list, "hll": load_hll, "stream": load_stream, "streams": load_streams}
    fills = {"fill-list": (b"RPUSH", b"mylist", False),
             "fill-set": (b"SADD", b"myset", False),
             "fill-zset": (b"ZADD", b"myzset", True)}
    w = Writer()
    if len(argv) in (2, 3) and argv[1] in loaders:
        if len(argv) == 3:
            loaders[argv[1]](w, int(argv[2]))
        else:
            loaders[argv[1]](w)
    elif len(argv) == 3 and argv[1] in fills:
        cmd, key, scored = fills[argv[1]]
        fill(w, cmd, key, int(argv[2]), scored=scored)
    else:
        sys.exit(__doc__)
    w.flush()
    OUT.flush()


if __name__ == "__main__":
    main(sys.argv)
