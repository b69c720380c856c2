"""CLIENT LIST order and the two Redis 7.2 CLIENT subcommands Keel keeps
(NO-TOUCH, SETINFO; see docs/COMMANDS.md), checked against Redis.

The order and the ID filter are Redis 7.0's (this file passes against
/usr/bin/redis-server except for the 7.2 tests, marked keel_only).
"""

import pytest

from keel_helpers import cmd


def listed_ids(text):
    return [int(line.split(" ", 1)[0][len("id="):]) for line in text.decode().splitlines()]


def test_client_list_in_ascending_id_order(r, raw):
    conns = [raw() for _ in range(4)]
    ids = [c.cmd("CLIENT", "ID") for c in conns]
    listed = listed_ids(cmd(r, "CLIENT", "LIST"))
    assert listed == sorted(listed)
    assert [i for i in listed if i in ids] == ids


def test_client_list_id_keeps_the_order_asked(r, raw):
    ids = [c.cmd("CLIENT", "ID") for c in (raw(), raw(), raw())]
    asked = [ids[2], ids[0], ids[1]]
    assert listed_ids(cmd(r, "CLIENT", "LIST", "ID", *asked)) == asked
    # an id given twice is listed twice; an unknown one is skipped
    assert listed_ids(cmd(r, "CLIENT", "LIST", "ID", ids[1], 999999, ids[1])) == [ids[1], ids[1]]


# --------------------------------------------------------------------------
# Redis 7.2's CLIENT NO-TOUCH and CLIENT SETINFO
# --------------------------------------------------------------------------

@pytest.fixture
def lfu(r):
    """LFU counters that count every access (log factor 0) and never decay,
    so OBJECT FREQ shows exactly which commands touched a key."""
    old = {k: cmd(r, "CONFIG", "GET", k)[1] for k in ("maxmemory-policy", "lfu-log-factor", "lfu-decay-time")}
    cmd(r, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0", "lfu-decay-time", "0")
    yield r
    for k, v in old.items():
        cmd(r, "CONFIG", "SET", k, v)


@pytest.mark.keel_only
def test_client_no_touch_leaves_lfu_data_except_for_touch(lfu, raw):
    lfu.set("k", "v")
    base = cmd(lfu, "OBJECT", "FREQ", "k")
    c = raw()
    assert c.cmd("CLIENT", "NO-TOUCH", "ON") == b"OK"
    assert "T" in c.cmd("CLIENT", "INFO").decode().split(" flags=")[1].split(" ")[0]
    c.cmd("GET", "k")
    c.cmd("GET", "k")
    assert cmd(lfu, "OBJECT", "FREQ", "k") == base
    assert c.cmd("TOUCH", "k") == 1          # TOUCH still touches (7.2)
    assert cmd(lfu, "OBJECT", "FREQ", "k") == base + 1
    assert c.cmd("CLIENT", "NO-TOUCH", "OFF") == b"OK"
    c.cmd("GET", "k")
    assert cmd(lfu, "OBJECT", "FREQ", "k") == base + 2


@pytest.mark.keel_only
def test_client_no_touch_argument(raw):
    c = raw()
    assert c.cmd("CLIENT", "NO-TOUCH", "maybe").startswith("ERR syntax error")


@pytest.mark.keel_only
def test_client_setinfo(raw):
    c = raw()
    assert " lib-name=" not in c.cmd("CLIENT", "INFO").decode()     # 7.0's line until set
    assert c.cmd("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"OK"
    assert c.cmd("CLIENT", "SETINFO", "lib-ver", "4.3.4") == b"OK"
    assert c.cmd("CLIENT", "INFO").decode().rstrip("\n").endswith(" lib-name=redis-py lib-ver=4.3.4")
    assert c.cmd("CLIENT", "SETINFO", "lib-name", "a b") == \
        "ERR lib-name cannot contain spaces, newlines or special characters."
    assert c.cmd("CLIENT", "SETINFO", "colour", "x") == "ERR Unrecognized option 'colour'"
