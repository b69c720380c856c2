"""Pub/Sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE, PUBLISH,
SPUBLISH, PUBSUB introspection, RESP2 subscribed-mode rules, RESP3 pushes,
glob patterns (Redis's stringmatch), CLIENT LIST fields, INFO fields,
CLIENT KILL TYPE pubsub, the pubsub output buffer limit, and MONITOR.

Everything runs against redis-server too (KEEL_SERVER=/usr/bin/redis-server),
except what is marked keel_only.  No timing assertions: waits poll.
"""

import socket
import time

import pytest
import redis

from keel_helpers import Error, Null, Push, RawConn, encode_command


def wait_for(cond, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


# ---- SUBSCRIBE / PUBLISH (RESP2) ------------------------------------------

def test_subscribe_publish_unsubscribe(r, raw):
    c = raw()
    assert c.cmd("SUBSCRIBE", "ch1", "ch2") == [b"subscribe", b"ch1", 1]
    assert c.read() == [b"subscribe", b"ch2", 2]
    assert r.publish("ch1", "hello") == 1
    assert c.read() == [b"message", b"ch1", b"hello"]
    assert r.publish("nobody", "x") == 0
    assert c.cmd("UNSUBSCRIBE", "ch1") == [b"unsubscribe", b"ch1", 1]
    assert r.publish("ch1", "again") == 0
    assert c.cmd("UNSUBSCRIBE") == [b"unsubscribe", b"ch2", 0]
    # Out of subscribed mode: ordinary commands work again.
    assert c.cmd("PING") == b"PONG"


def test_unsubscribe_without_subscriptions(raw):
    c = raw()
    assert c.cmd("UNSUBSCRIBE") == [b"unsubscribe", None, 0]
    assert c.cmd("PUNSUBSCRIBE") == [b"punsubscribe", None, 0]
    assert c.cmd("SUNSUBSCRIBE") == [b"sunsubscribe", None, 0]
    assert c.cmd("UNSUBSCRIBE", "never") == [b"unsubscribe", b"never", 0]


def test_subscribe_twice_counts_once(r, raw):
    c = raw()
    assert c.cmd("SUBSCRIBE", "dup") == [b"subscribe", b"dup", 1]
    assert c.cmd("SUBSCRIBE", "dup") == [b"subscribe", b"dup", 1]
    assert r.publish("dup", "m") == 1
    assert c.read() == [b"message", b"dup", b"m"]


def test_fan_out_to_many_subscribers(r, raw):
    subs = [raw() for _ in range(20)]
    for s in subs:
        assert s.cmd("SUBSCRIBE", "fan") == [b"subscribe", b"fan", 1]
    assert r.publish("fan", "all") == 20
    for s in subs:
        assert s.read() == [b"message", b"fan", b"all"]


def test_binary_channel_and_message(r, raw):
    c = raw()
    c.cmd("SUBSCRIBE", b"a\x00b\r\n")
    assert r.publish(b"a\x00b\r\n", b"\x00\xff") == 1
    assert c.read() == [b"message", b"a\x00b\r\n", b"\x00\xff"]


def test_arity_errors(r):
    for cmd in (("SUBSCRIBE",), ("PSUBSCRIBE",), ("SSUBSCRIBE",), ("PUBLISH", "a"), ("SPUBLISH", "a"),
                ("PUBLISH", "a", "b", "c")):
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            r.execute_command(*cmd)


# ---- RESP2 subscribed mode ------------------------------------------------

def test_resp2_context_rejects_other_commands(raw):
    c = raw()
    c.cmd("SUBSCRIBE", "ctx")
    reply = c.cmd("GET", "k")
    assert isinstance(reply, Error)
    assert reply == ("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                     "are allowed in this context")
    reply = c.cmd("CONFIG", "GET", "maxmemory")
    assert "Can't execute 'config|get'" in reply
    assert c.cmd("PING") == [b"pong", b""]
    assert c.cmd("PING", "hi") == [b"pong", b"hi"]
    assert c.cmd("PSUBSCRIBE", "p*") == [b"psubscribe", b"p*", 2]
    assert c.cmd("SSUBSCRIBE", "s") == [b"ssubscribe", b"s", 1]


def test_reset_leaves_subscribed_mode(r, raw):
    c = raw()
    c.cmd("SUBSCRIBE", "rs")
    c.cmd("PSUBSCRIBE", "rs*")
    assert c.cmd("RESET") == b"RESET"
    assert c.cmd("GET", "x") is None
    assert r.publish("rs", "m") == 0
    assert r.execute_command("PUBSUB", "NUMPAT") == 0


def test_quit_in_subscribed_mode(raw):
    c = raw()
    c.cmd("SUBSCRIBE", "q")
    assert c.cmd("QUIT") == b"OK"
    assert c.is_closed()


# ---- RESP3 -----------------------------------------------------------------

def test_resp3_pushes_mix_with_replies(r, raw):
    c = raw()
    c.cmd("HELLO", "3")
    reply = c.cmd("SUBSCRIBE", "r3")
    assert isinstance(reply, Push) and reply == [b"subscribe", b"r3", 1]
    # A RESP3 client may run any command while subscribed.
    assert c.cmd("SET", "k3", "v") == b"OK"
    assert c.cmd("GET", "k3") == b"v"
    assert r.publish("r3", "pushed") == 1
    msg = c.read()
    assert isinstance(msg, Push) and msg == [b"message", b"r3", b"pushed"]
    c.cmd("PSUBSCRIBE", "r*")
    r.publish("r3", "both")
    got = [c.read(), c.read()]
    assert [b"message", b"r3", b"both"] in got
    assert [b"pmessage", b"r*", b"r3", b"both"] in got
    reply = c.cmd("UNSUBSCRIBE")
    assert isinstance(reply, Push) and reply == [b"unsubscribe", b"r3", 1]
    assert c.cmd("PUNSUBSCRIBE") == [b"punsubscribe", b"r*", 0]
    # Unsubscribe with nothing left: a null channel.
    assert c.cmd("UNSUBSCRIBE") == [b"unsubscribe", Null(), 0]
    assert c.cmd("PING") == b"PONG"


# ---- patterns ----------------------------------------------------------------

@pytest.mark.parametrize("pattern,matches,misses", [
    ("news.*", ["news.", "news.art", "news.a.b"], ["news", "xnews.a"]),
    ("h?llo", ["hello", "hallo"], ["hllo", "heello"]),
    ("h[ae]llo", ["hello", "hallo"], ["hillo"]),
    ("h[^e]llo", ["hallo", "hbllo"], ["hello"]),
    ("h[a-b]llo", ["hallo", "hbllo"], ["hcllo"]),
    ("h\\*llo", ["h*llo"], ["hello"]),
    ("*", ["x", "anything"], [""]),
    ("a*b*c", ["abc", "aXbYc", "abbbc"], ["ab", "acb"]),
    ("[[]x", ["[x"], ["x"]),
])
def test_pattern_semantics(r, raw, pattern, matches, misses):
    c = raw()
    assert c.cmd("PSUBSCRIBE", pattern) == [b"psubscribe", pattern.encode(), 1]
    for ch in matches:
        assert r.publish(ch, "m") == 1, ch
        assert c.read() == [b"pmessage", pattern.encode(), ch.encode(), b"m"]
    for ch in misses:
        assert r.publish(ch, "m") == 0, ch


def test_many_patterns_only_matching_deliver(r, raw):
    c = raw()
    pats = ["user:%d:*" % i for i in range(300)] + ["*:tail", "us?r:7:x"]
    c.send(encode_command("PSUBSCRIBE", *pats))
    for i, p in enumerate(pats):
        assert c.read() == [b"psubscribe", p.encode(), i + 1]
    assert r.publish("user:7:x", "m") == 2
    got = {tuple(c.read()), tuple(c.read())}
    assert got == {(b"pmessage", b"user:7:*", b"user:7:x", b"m"), (b"pmessage", b"us?r:7:x", b"user:7:x", b"m")}
    assert r.publish("a:tail", "t") == 1
    assert c.read() == [b"pmessage", b"*:tail", b"a:tail", b"t"]
    assert r.publish("user:300:x", "none") == 0
    assert r.execute_command("PUBSUB", "NUMPAT") == len(pats)
    assert c.cmd("PUNSUBSCRIBE", "user:7:*") == [b"punsubscribe", b"user:7:*", len(pats) - 1]
    assert r.publish("user:7:x", "m") == 1


def test_channel_and_pattern_both_deliver(r, raw):
    c = raw()
    c.cmd("SUBSCRIBE", "both")
    c.cmd("PSUBSCRIBE", "bo*")
    assert r.publish("both", "x") == 2
    assert c.read() == [b"message", b"both", b"x"]
    assert c.read() == [b"pmessage", b"bo*", b"both", b"x"]


# ---- sharded ---------------------------------------------------------------------

def test_ssubscribe_spublish(r, raw):
    c = raw()
    assert c.cmd("SSUBSCRIBE", "s1", "s2") == [b"ssubscribe", b"s1", 1]
    assert c.read() == [b"ssubscribe", b"s2", 2]
    c.cmd("SUBSCRIBE", "s1")
    assert c.read_raw_available(0.05) == b""
    assert r.execute_command("SPUBLISH", "s1", "hi") == 1
    assert c.read() == [b"smessage", b"s1", b"hi"]
    # PUBLISH and SPUBLISH are separate namespaces.
    assert r.publish("s2", "classic") == 0
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") in ([b"s1", b"s2"], [b"s2", b"s1"])
    assert r.execute_command("PUBSUB", "SHARDCHANNELS", "*1") == [b"s1"]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "zz") == [b"s1", 1, b"zz", 0]
    assert c.cmd("SUNSUBSCRIBE", "s1") == [b"sunsubscribe", b"s1", 1]
    assert c.cmd("SUNSUBSCRIBE") == [b"sunsubscribe", b"s2", 0]
    assert r.execute_command("SPUBLISH", "s1", "hi") == 0


# ---- PUBSUB introspection -------------------------------------------------------------

def test_pubsub_channels_numsub_numpat(r, raw):
    a, b = raw(), raw()
    a.cmd("SUBSCRIBE", "news.1", "news.2", "other")
    a.read(), a.read()
    b.cmd("SUBSCRIBE", "news.1")
    b.cmd("PSUBSCRIBE", "n*", "m*")
    b.read()
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == [b"news.1", b"news.2", b"other"]
    assert sorted(r.execute_command("PUBSUB", "CHANNELS", "news.*")) == [b"news.1", b"news.2"]
    assert r.execute_command("PUBSUB", "NUMSUB", "news.1", "news.2", "x") == [b"news.1", 2, b"news.2", 1, b"x", 0]
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.execute_command("PUBSUB", "NUMPAT") == 2
    info = r.info("stats")
    assert info["pubsub_channels"] == 3
    assert info["pubsub_patterns"] == 2
    assert info["pubsubshard_channels"] == 0
    a.close()
    assert wait_for(lambda: r.execute_command("PUBSUB", "NUMSUB", "news.2") == [b"news.2", 0])
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == [b"news.1"]


def test_pubsub_errors_and_help(r):
    with pytest.raises(redis.ResponseError, match="unknown subcommand"):
        r.execute_command("PUBSUB", "NOPE")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("PUBSUB", "NUMPAT", "extra")
    help_lines = r.execute_command("PUBSUB", "HELP")
    assert any(b"NUMSUB" in line for line in help_lines)


# ---- clients ---------------------------------------------------------------------------

def test_client_list_shows_subscriptions(r, raw):
    c = raw()
    c.cmd("CLIENT", "SETNAME", "subber")
    c.cmd("SUBSCRIBE", "a", "b")
    c.read()
    c.cmd("PSUBSCRIBE", "p*")
    c.cmd("SSUBSCRIBE", "s")
    entry = [e for e in r.client_list() if e["name"] == "subber"][0]
    assert entry["sub"] == "2" and entry["psub"] == "1" and entry["ssub"] == "1"
    assert "P" in entry["flags"]
    assert [e["name"] for e in r.client_list(_type="pubsub")] == ["subber"]
    assert "subber" not in [e["name"] for e in r.client_list(_type="normal")]


def test_client_kill_type_pubsub(r, raw):
    c = raw()
    c.cmd("SUBSCRIBE", "killme")
    other = raw()
    other.cmd("PING")
    assert r.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert c.is_closed()
    assert other.cmd("PING") == b"PONG"
    assert r.execute_command("PUBSUB", "NUMSUB", "killme") == [b"killme", 0]


def test_output_buffer_limit_disconnects_slow_subscriber(start_server):
    srv = start_server("--client-output-buffer-limit", "pubsub 256kb 128kb 60")
    r = srv.client()
    slow = RawConn(srv.host, srv.port)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.cmd("SUBSCRIBE", "flood")
    payload = b"x" * 10000
    for _ in range(2000):
        if r.publish("flood", payload) == 0:
            break
    assert wait_for(lambda: r.execute_command("PUBSUB", "NUMSUB", "flood") == [b"flood", 0])
    assert "for overcoming of output buffer limits" in srv.log_text()
    slow.close()


# ---- MONITOR ---------------------------------------------------------------------------

def mline(m):
    """One MONITOR line, lowercased (clients send command names in any case)."""
    return m.read().decode().lower()


def test_monitor_line_format(r, raw):
    m = raw()
    assert m.cmd("MONITOR") == b"OK"
    r.set("mk", "a b\"c\n")
    r.execute_command("SELECT", 3)
    r.get("other")
    line = mline(m)
    assert line.split(" ", 1)[0].replace(".", "").isdigit()
    assert '[0 127.0.0.1:' in line
    assert line.endswith('"set" "mk" "a b\\"c\\n"')
    assert mline(m).endswith('"select" "3"')
    line = mline(m)
    assert "[3 127.0.0.1:" in line and line.endswith('"get" "other"')


def test_monitor_redacts_secrets_and_skips_admin(r, raw):
    m = raw()
    m.cmd("MONITOR")
    with pytest.raises(redis.ResponseError):
        r.execute_command("AUTH", "not-real")
    with pytest.raises(redis.ResponseError):
        r.execute_command("AUTH", "user", "secret")
    with pytest.raises(redis.ResponseError):
        r.execute_command("HELLO", "2", "AUTH", "user", "secret")
    r.config_get("maxmemory")  # admin: not shown
    r.set("after", "1")
    assert mline(m).endswith('"auth" "(redacted)"')
    assert mline(m).endswith('"auth" "(redacted)" "(redacted)"')
    assert mline(m).endswith('"hello" "2" "auth" "(redacted)" "(redacted)"')
    assert mline(m).endswith('"set" "after" "1"')


def test_monitor_multi_exec(r, raw):
    m = raw()
    m.cmd("MONITOR")
    p = r.pipeline(transaction=True)
    p.set("tx", 1)
    p.execute_command("INCR", "tx")
    p.execute()
    lines = [mline(m) for _ in range(4)]
    assert lines[0].endswith('"multi"')
    assert lines[1].endswith('"set" "tx" "1"')
    assert lines[2].endswith('"incr" "tx"')
    assert lines[3].endswith('"exec"')


@pytest.mark.keel_only
def test_monitor_output_is_bounded(start_server):
    # Redis leaves monitors in the unbounded normal class; Keel applies the
    # pubsub limit to them.
    srv = start_server("--client-output-buffer-limit", "pubsub 128kb 64kb 60")
    r = srv.client()
    m = RawConn(srv.host, srv.port)
    m.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    m.cmd("MONITOR")
    assert "O" in [e for e in r.client_list() if e["cmd"] == "monitor"][0]["flags"]
    big = "v" * 5000
    for i in range(3000):
        r.set("k", big)
        if r.info("stats")["client_output_buffer_limit_disconnections"]:
            break
    assert wait_for(lambda: r.info("stats")["client_output_buffer_limit_disconnections"] == 1)
    assert wait_for(lambda: not [e for e in r.client_list() if e["cmd"] == "monitor"])
    assert "for overcoming of output buffer limits" in srv.log_text()
    m.close()


@pytest.mark.keel_only
def test_slow_subscriber_never_costs_keys(start_server):
    # Redis counts a subscriber's output buffer in used_memory, so a publish
    # flood to a subscriber that does not read makes it evict keys; Keel
    # counts it in mem_clients_normal and omem, never evicts for it, and
    # disconnects the subscriber at client-output-buffer-limit pubsub
    # (default 32mb 8mb 60: larger than maxmemory here).
    srv = start_server("--maxmemory", "24mb", "--maxmemory-policy", "allkeys-lru")
    r = srv.client()
    value = "v" * 1000
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.set("key:%d" % i, value)
    p.execute()
    keys = r.dbsize()
    assert keys == 10000 and r.info("stats")["evicted_keys"] == 0
    slow = RawConn(srv.host, srv.port)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.cmd("CLIENT", "SETNAME", "slow")
    slow.cmd("SUBSCRIBE", "flood")
    payload = b"m" * 10000
    for _ in range(1000):
        r.publish("flood", payload)
    omem = int([e for e in r.client_list() if e["name"] == "slow"][0]["omem"])
    assert omem > 1024 * 1024
    assert r.info("memory")["mem_clients_normal"] >= omem
    for _ in range(10000):
        if r.publish("flood", payload) == 0:
            break
    assert wait_for(lambda: not [e for e in r.client_list() if e["name"] == "slow"])
    assert r.dbsize() == keys
    assert r.info("stats")["evicted_keys"] == 0
    assert "for overcoming of output buffer limits" in srv.log_text()
    slow.close()


def test_monitor_shows_script_before_its_commands(r, raw):
    m = raw()
    m.cmd("MONITOR")
    r.eval("return redis.call('set', 'sk', 'v')", 1, "sk")
    assert mline(m).endswith('"eval" "return redis.call(\'set\', \'sk\', \'v\')" "1" "sk"')
    line = mline(m)
    assert "lua]" in line and line.endswith('"set" "sk" "v"')
