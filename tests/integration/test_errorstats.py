"""INFO errorstats: error replies counted by error code, as Redis 7.0.

Checked against Redis 7.0 too: KEEL_SERVER=/usr/bin/redis-server."""

import pytest
import redis


def errorstats(raw):
    """{"errorstat_CODE": count}, read from the raw INFO text."""
    text = raw.cmd("INFO", "errorstats").decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("errorstat_"):
            name, value = line.split(":", 1)
            assert value.startswith("count=")
            out[name] = int(value[len("count="):])
    return out


def test_errors_counted_by_code(r, raw):
    conn = raw()
    r.config_resetstat()
    assert errorstats(conn) == {}
    r.set("k", "v")
    for _ in range(2):
        with pytest.raises(redis.ResponseError):
            r.lpush("k", "x")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        r.xreadgroup("nogroup", "c", {"missing": ">"})
    stats = errorstats(conn)
    assert stats == {"errorstat_WRONGTYPE": 2, "errorstat_ERR": 1, "errorstat_NOGROUP": 1}
    assert r.info("stats")["total_error_replies"] == 4
    r.config_resetstat()
    assert errorstats(conn) == {}
    r.delete("k")
