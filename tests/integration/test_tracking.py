"""Client-side caching: CLIENT TRACKING in default, BCAST, OPTIN, OPTOUT,
NOLOOP and REDIRECT modes, CLIENT CACHING / GETREDIR / TRACKINGINFO, the
__redis__:invalidate channel for RESP2, invalidation on writes, expiry,
eviction and FLUSH*, tracking-table-max-keys, the INFO fields, and the
error texts.

Runs against redis-server too (KEEL_SERVER=/usr/bin/redis-server).  RESP3
pushes are read with the raw RESP helper.  Waits poll, nothing is timed.
"""

import time

import pytest
import redis

from keel_helpers import Null, Push, RawConn


def wait_for(cond, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def resp3(raw, *tracking_args):
    c = raw()
    c.cmd("HELLO", "3")
    if tracking_args:
        assert c.cmd("CLIENT", "TRACKING", "on", *tracking_args) == b"OK"
    return c


def invalidation(c):
    msg = c.read()
    assert isinstance(msg, Push), msg
    assert msg[0] == b"invalidate"
    return msg[1]


def nothing_pending(c):
    # A PING's reply comes first when nothing else is queued.
    return c.cmd("PING") == b"PONG"


# ---- default mode ---------------------------------------------------------------

def test_default_mode_invalidates_read_keys(r, raw):
    c = resp3(raw, )
    assert c.cmd("CLIENT", "TRACKING", "on") == b"OK"
    r.set("k1", "v")
    assert c.cmd("GET", "k1") == b"v"
    assert c.cmd("MGET", "k2", "k3") == [Null(), Null()]
    r.set("k1", "new")
    assert invalidation(c) == [b"k1"]
    r.set("k3", "x")
    assert invalidation(c) == [b"k3"]
    # Once invalidated, a key is no longer tracked until read again.
    r.set("k1", "again")
    assert nothing_pending(c)
    # Keys never read are not tracked.
    r.set("untracked", 1)
    assert nothing_pending(c)


def test_own_write_is_reported_after_reply(raw):
    c = resp3(raw, )
    c.cmd("CLIENT", "TRACKING", "on")
    c.cmd("GET", "mine")
    assert c.cmd("SET", "mine", "1") == b"OK"
    assert invalidation(c) == [b"mine"]


def test_noloop(r, raw):
    c = resp3(raw, "NOLOOP")
    c.cmd("GET", "nl")
    c.cmd("SET", "nl", "mine")
    assert nothing_pending(c)
    c.cmd("GET", "nl")
    r.set("nl", "other")
    assert invalidation(c) == [b"nl"]


def test_invalidation_on_expiry_and_flush(r, raw):
    c = resp3(raw, )
    c.cmd("CLIENT", "TRACKING", "on")
    # The key must still exist when read; retry with a longer TTL on a slow machine.
    for ttl in (300, 1000, 5000, 20000):
        r.set("ttl", 1, px=ttl)
        if c.cmd("GET", "ttl") == b"1":
            break
    assert invalidation(c) == [b"ttl"]
    c.cmd("GET", "f")
    r.flushall()
    assert c.read() == Push([b"invalidate", Null()])


def test_invalidation_on_eviction(start_server):
    srv = start_server("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru")
    r = srv.client()
    c = RawConn(srv.host, srv.port)
    c.cmd("HELLO", "3")
    c.cmd("CLIENT", "TRACKING", "on")
    r.set("victim", "v")
    c.cmd("GET", "victim")
    for i in range(50000):
        r.set("fill:%d" % i, "x" * 1000)
        if i % 50 == 0 and not r.exists("victim"):
            break
    assert r.exists("victim") == 0
    seen = set()
    while b"victim" not in seen:
        seen.update(invalidation(c))
    c.close()


# ---- BCAST ------------------------------------------------------------------------

def test_bcast_all_keys_and_prefixes(r, raw):
    c = resp3(raw, "BCAST")
    r.set("anything", 1)
    assert invalidation(c) == [b"anything"]
    p = resp3(raw, "BCAST", "PREFIX", "user:", "PREFIX", "obj:")
    r.mset({"user:1": 1, "user:2": 2, "other": 3})
    assert invalidation(p) == [b"user:1", b"user:2"]
    assert invalidation(c) == [b"other", b"user:1", b"user:2"]
    assert nothing_pending(p)
    info = c.cmd("CLIENT", "TRACKINGINFO")
    assert info[b"flags"] == {b"on", b"bcast"}
    assert p.cmd("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b"obj:", b"user:"]
    assert r.info()["tracking_total_prefixes"] == 3


def test_bcast_noloop(r, raw):
    c = resp3(raw, "BCAST", "NOLOOP")
    c.cmd("SET", "self", 1)
    assert nothing_pending(c)
    r.set("peer", 1)
    assert invalidation(c) == [b"peer"]


def test_bcast_prefix_errors(raw):
    c = resp3(raw, )
    reply = c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab")
    assert reply == ("ERR Prefix 'a' overlaps with another provided prefix 'ab'. "
                     "Prefixes for a single client must not overlap.")
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "foo") == b"OK"
    reply = c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "fo")
    assert reply == ("ERR Prefix 'fo' overlaps with an existing prefix 'foo'. "
                     "Prefixes for a single client must not overlap.")
    assert c.cmd("CLIENT", "TRACKING", "on") == ("ERR You can't switch BCAST mode on/off before disabling "
                                                 "tracking for this client, and then re-enabling it with a "
                                                 "different mode.")
    assert c.cmd("CLIENT", "TRACKING", "off") == b"OK"
    assert c.cmd("CLIENT", "TRACKING", "on", "PREFIX", "x") == "ERR PREFIX option requires BCAST mode to be enabled"
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "OPTIN") == "ERR OPTIN and OPTOUT are not compatible with BCAST"


# ---- OPTIN / OPTOUT ---------------------------------------------------------------------

def test_optin(r, raw):
    c = resp3(raw, "OPTIN")
    c.cmd("GET", "notcached")
    assert c.cmd("CLIENT", "CACHING", "yes") == b"OK"
    assert c.cmd("CLIENT", "TRACKINGINFO")[b"flags"] == {b"on", b"optin", b"caching-yes"}
    c.cmd("GET", "cached")
    # CACHING yes applies to the next command only.
    c.cmd("GET", "alsonot")
    r.mset({"notcached": 1, "cached": 1, "alsonot": 1})
    assert invalidation(c) == [b"cached"]
    assert nothing_pending(c)


def test_optout(r, raw):
    c = resp3(raw, "OPTOUT")
    c.cmd("GET", "tracked")
    assert c.cmd("CLIENT", "CACHING", "no") == b"OK"
    c.cmd("GET", "skipped")
    r.mset({"tracked": 1, "skipped": 1})
    assert invalidation(c) == [b"tracked"]
    assert nothing_pending(c)


def test_caching_errors(raw):
    c = resp3(raw, )
    assert c.cmd("CLIENT", "CACHING", "yes") == ("ERR CLIENT CACHING can be called only when the client is in "
                                                 "tracking mode with OPTIN or OPTOUT mode enabled")
    c.cmd("CLIENT", "TRACKING", "on", "OPTIN")
    assert c.cmd("CLIENT", "CACHING", "no") == "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    assert c.cmd("CLIENT", "CACHING", "maybe") == "ERR syntax error"
    assert c.cmd("CLIENT", "TRACKING", "on", "OPTOUT") == ("ERR You can't switch OPTIN/OPTOUT mode before disabling "
                                                           "tracking for this client, and then re-enabling it with "
                                                           "a different mode.")
    c.cmd("CLIENT", "TRACKING", "off")
    c.cmd("CLIENT", "TRACKING", "on", "OPTOUT")
    assert c.cmd("CLIENT", "CACHING", "yes") == "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
    assert c.cmd("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT") == "ERR You can't specify both OPTIN mode and OPTOUT mode"


# ---- REDIRECT and RESP2 ------------------------------------------------------------------

def test_redirect_to_resp2_subscriber(r, raw):
    target = raw()
    tid = target.cmd("CLIENT", "ID")
    assert target.cmd("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    c = raw()
    assert c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", tid) == b"OK"
    assert c.cmd("CLIENT", "GETREDIR") == tid
    c.cmd("GET", "rk")
    r.set("rk", 1)
    assert target.read() == [b"message", b"__redis__:invalidate", [b"rk"]]
    c.cmd("GET", "rk")
    r.flushdb()
    assert target.read() == [b"message", b"__redis__:invalidate", None]
    entry = [e for e in r.client_list() if e["id"] == str(c.cmd("CLIENT", "ID"))][0]
    assert entry["redir"] == str(tid) and "t" in entry["flags"]


def test_redirect_to_resp3_client(r, raw):
    target = resp3(raw, )
    tid = target.cmd("CLIENT", "ID")
    c = raw()
    c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", tid)
    c.cmd("GET", "r3")
    r.set("r3", 1)
    assert invalidation(target) == [b"r3"]


def test_broken_redirect(r, raw):
    target = raw()
    tid = target.cmd("CLIENT", "ID")
    c = resp3(raw, )
    c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", tid)
    c.cmd("GET", "br")
    target.close()
    assert wait_for(lambda: str(tid) not in [e["id"] for e in r.client_list()])
    r.set("br", 1)
    assert c.read() == Push([b"tracking-redir-broken", tid])
    info = c.cmd("CLIENT", "TRACKINGINFO")
    assert b"broken_redirect" in info[b"flags"] and info[b"redirect"] == tid


def test_tracking_errors_and_getredir(raw):
    c = raw()
    assert c.cmd("CLIENT", "GETREDIR") == -1
    assert c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", 999999) == "ERR The client ID you want redirect to does not exist"
    assert c.cmd("CLIENT", "TRACKING", "maybe") == "ERR syntax error"
    assert c.cmd("CLIENT", "TRACKING", "on", "BOGUS") == "ERR syntax error"
    me = c.cmd("CLIENT", "ID")
    assert c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", me, "REDIRECT", me) == \
        "ERR A client can only redirect to a single other client"
    assert c.cmd("CLIENT", "TRACKING", "on") == b"OK"
    assert c.cmd("CLIENT", "GETREDIR") == 0
    info = c.cmd("CLIENT", "TRACKINGINFO")
    assert info == [b"flags", [b"on"], b"redirect", 0, b"prefixes", []]
    c.cmd("CLIENT", "TRACKING", "off")
    assert c.cmd("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]


# ---- table, INFO -------------------------------------------------------------------------

def test_info_fields(r, raw):
    c = resp3(raw, )
    c.cmd("CLIENT", "TRACKING", "on")
    d = resp3(raw, )
    d.cmd("CLIENT", "TRACKING", "on")
    c.cmd("MGET", "i1", "i2")
    d.cmd("GET", "i1")
    info = r.info()
    assert info["tracking_clients"] == 2
    assert info["tracking_total_keys"] == 2
    assert info["tracking_total_items"] == 3
    r.set("i1", 1)
    assert r.info()["tracking_total_keys"] == 1


def test_table_max_keys_invalidates(r, raw):
    r.config_set("tracking-table-max-keys", 10)
    try:
        c = resp3(raw, )
        c.cmd("CLIENT", "TRACKING", "on")
        for i in range(30):
            c.send(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(b"t%d" % i), b"t%d" % i))
        invalidated = []
        got_replies = 0
        c.send(b"*1\r\n$4\r\nPING\r\n")
        while got_replies < 31:
            msg = c.read()
            if isinstance(msg, Push):
                invalidated += msg[1]
            else:
                got_replies += 1
        assert wait_for(lambda: r.info()["tracking_total_keys"] <= 10)
        assert len(invalidated) >= 20
    finally:
        r.config_set("tracking-table-max-keys", 1000000)


def test_client_list_tracking_flags(r, raw):
    c = resp3(raw, "BCAST")
    c.cmd("CLIENT", "SETNAME", "tracker")
    entry = [e for e in r.client_list() if e["name"] == "tracker"][0]
    assert "t" in entry["flags"] and "B" in entry["flags"]
    assert entry["redir"] == "0"


def test_scripts_track_declared_keys_only_when_they_read(r, raw):
    c = resp3(raw, )
    c.cmd("CLIENT", "TRACKING", "on")
    # A script that only writes tracks nothing.
    c.cmd("EVAL", "redis.call('set', 'k3', 'x')", 2, "k1", "k2")
    r.mset({"k1": 1, "k2": 1})
    assert nothing_pending(c)
    # A script that reads tracks the keys it declared.
    c.cmd("EVAL", "redis.call('get', 'k3')", 2, "k1", "k2")
    r.mset({"k2": 2, "k1": 2})
    assert invalidation(c) == [b"k2"]
    assert invalidation(c) == [b"k1"]
