"""Lazy freeing: UNLINK, FLUSHALL/FLUSHDB ASYNC, lazyfree-lazy-* options.

Observable through INFO memory's lazyfree_pending_objects and
lazyfreed_objects (Redis 7.0 counts one per key freed in the background,
and only values costly to free go there: more than 64 elements in a
non-compact encoding).
"""

from keel_helpers import cmd, wait_for


def lazyfreed(c):
    return c.info("memory")["lazyfreed_objects"]


def settled(c, target):
    """Wait until the background thread caught up, return lazyfreed_objects."""
    wait_for(lambda: c.info("memory")["lazyfree_pending_objects"] == 0 and lazyfreed(c) >= target, timeout=10)
    return lazyfreed(c)


def big_set(c, key, n):
    assert cmd(c, "SADD", key, "member:0") == 1
    p = c.pipeline(transaction=False)
    for start in range(0, n, 1000):
        p.execute_command("SADD", key, *["member:%d" % i for i in range(start, min(n, start + 1000))])
    p.execute()
    assert c.scard(key) == n


def fill_strings(c, n, prefix="k:"):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("%s%d" % (prefix, i), "value")
    p.execute()


def test_unlink_big_set_is_lazy(r):
    big_set(r, "s", 100000)
    before = lazyfreed(r)
    assert cmd(r, "UNLINK", "s") == 1
    assert cmd(r, "EXISTS", "s") == 0
    assert settled(r, before + 1) == before + 1


def test_unlink_small_values_free_at_once(r):
    r.set("a", "x" * 100000)
    r.set("b", "1")
    before = lazyfreed(r)
    assert cmd(r, "UNLINK", "a", "b", "nokey") == 2
    assert lazyfreed(r) == before
    assert r.dbsize() == 0


def test_del_big_set_sync_unless_configured(r):
    big_set(r, "s", 5000)
    before = lazyfreed(r)
    assert cmd(r, "DEL", "s") == 1
    assert lazyfreed(r) == before
    big_set(r, "s", 5000)
    r.config_set("lazyfree-lazy-user-del", "yes")
    try:
        assert cmd(r, "DEL", "s") == 1
        assert settled(r, before + 1) == before + 1
    finally:
        r.config_set("lazyfree-lazy-user-del", "no")


def test_overwrite_big_set_with_lazy_server_del(r):
    big_set(r, "s", 5000)
    r.config_set("lazyfree-lazy-server-del", "yes")
    try:
        before = lazyfreed(r)
        r.set("s", "now a string")
        assert settled(r, before + 1) == before + 1
        assert r.get("s") == b"now a string"
    finally:
        r.config_set("lazyfree-lazy-server-del", "no")


def test_flushall_async(r):
    fill_strings(r, 1000)
    r.execute_command("SELECT", 2)
    fill_strings(r, 500)
    r.execute_command("SELECT", 0)
    before = lazyfreed(r)
    assert cmd(r, "FLUSHALL", "ASYNC") == b"OK"
    assert r.dbsize() == 0
    assert settled(r, before + 1500) == before + 1500
    # The emptied databases are fully usable at once.
    fill_strings(r, 10)
    assert r.dbsize() == 10
    r.set("t", "v", ex=100)
    assert r.ttl("t") > 0


def test_flushdb_async_only_current_db(r):
    fill_strings(r, 300)
    r.execute_command("SELECT", 1)
    fill_strings(r, 200)
    before = lazyfreed(r)
    assert cmd(r, "FLUSHDB", "ASYNC") == b"OK"
    assert r.dbsize() == 0
    assert settled(r, before + 200) == before + 200
    r.execute_command("SELECT", 0)
    assert r.dbsize() == 300


def test_flushall_sync_not_counted(r):
    fill_strings(r, 100)
    before = lazyfreed(r)
    assert cmd(r, "FLUSHALL", "SYNC") == b"OK"
    assert lazyfreed(r) == before


def test_lazy_user_flush_makes_flushall_async(r):
    fill_strings(r, 100)
    r.config_set("lazyfree-lazy-user-flush", "yes")
    try:
        before = lazyfreed(r)
        assert cmd(r, "FLUSHALL") == b"OK"
        assert settled(r, before + 100) == before + 100
    finally:
        r.config_set("lazyfree-lazy-user-flush", "no")


def test_flush_async_memory_returns(r):
    base = r.info("memory")["used_memory"]
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set("m:%d" % i, "x" * 1000)
    p.execute()
    assert r.info("memory")["used_memory"] > base + 2000 * 1000
    cmd(r, "FLUSHALL", "ASYNC")
    assert wait_for(lambda: r.info("memory")["used_memory"] < base + 200 * 1000, timeout=10)
