"""INFO memory's early warning (issue 17): the growth rate of used_memory
over 1, 5 and 60 minutes and the estimated seconds until maxmemory, from a
ring sampled once a second (src/memory/growth.c); MEMORY DOCTOR's advice.

The server is filled at a steady rate that the test measures itself (a
least-squares line through its own used_memory readings); the estimate
must be within 20% of the time to full that this rate gives. Nothing here
asserts on how long anything takes."""
import time

import pytest
import redis

from keel_helpers import wait_for

pytestmark = pytest.mark.keel_only

MAXMEMORY = 64 << 20
BUDGET = 1 << 20          # client-output-backpressure-total: counted as used by eviction
VALUE = b"x" * 65536


def info_mem(c):
    return c.info("memory")


def slope(points):
    n = len(points)
    tm = sum(t for t, _ in points) / n
    um = sum(u for _, u in points) / n
    num = sum((t - tm) * (u - um) for t, u in points)
    den = sum((t - tm) ** 2 for t, _ in points)
    return num / den


def fill(c, seconds, prefix):
    """SETs 64 KB values every 0.1 s for `seconds`; returns the
    (time, used_memory) readings taken along the way."""
    points, i, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end:
        c.set("%s:%d" % (prefix, i), VALUE)
        i += 1
        points.append((time.monotonic(), info_mem(c)["used_memory"]))
        time.sleep(0.1)
    return points


def check_estimate(c, points):
    rate = slope(points)
    assert rate > 100_000            # the drive really grew memory
    m = info_mem(c)
    headroom = MAXMEMORY - (m["used_memory"] - m["mem_not_counted_for_evict"] + BUDGET)
    truth = headroom / rate
    estimate = m["maxmemory_time_to_full_seconds"]
    assert abs(estimate - truth) <= 0.2 * truth, (estimate, truth, rate, m["used_memory_growth_1min"])
    assert abs(m["used_memory_growth_1min"] - rate) <= 0.2 * rate
    return m


def test_time_to_full_on_a_server_filled_at_a_known_rate(start_server):
    srv = start_server("--maxmemory", MAXMEMORY, "--client-output-backpressure-total", BUDGET)
    c = redis.Redis(host=srv.host, port=srv.port)
    m = info_mem(c)
    for field in ("used_memory_growth_1min", "used_memory_growth_5min", "used_memory_growth_60min"):
        assert isinstance(m[field], (int, float))
    assert m["maxmemory_time_to_full_seconds"] == -1      # not growing yet
    m = check_estimate(c, fill(c, 12, "a"))
    assert m["used_memory_growth_5min"] > 0
    doctor = c.execute_command("MEMORY", "DOCTOR")
    doctor = doctor.decode() if isinstance(doctor, bytes) else str(doctor)
    assert "Growth: used memory grows by" in doctor and "reaches maxmemory in about" in doctor

    # A FLUSHALL starts a new series: the drop is not taken for a trend,
    # and the next fill is estimated from its own samples only.
    c.flushall()
    wait_for(lambda: info_mem(c)["maxmemory_time_to_full_seconds"] == -1, timeout=30)
    check_estimate(c, fill(c, 12, "b"))


def test_no_estimate_without_maxmemory(start_server):
    srv = start_server()
    c = redis.Redis(host=srv.host, port=srv.port)
    fill(c, 7, "a")
    m = info_mem(c)
    assert m["used_memory_growth_1min"] > 0
    assert m["maxmemory_time_to_full_seconds"] == -1
