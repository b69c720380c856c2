"""oom-score-adj / oom-score-adj-values (Redis 7.0's unit/oom-score-adj):
the server writes its class's score to /proc/<pid>/oom_score_adj, relative
to the score it had or absolute, restores it when turned off, and leaves
the file alone while off. Each test runs its own server (the scores are
per process). Passes against Redis 7.0 too.
"""

import pytest
import redis


def score(srv):
    with open("/proc/%d/oom_score_adj" % srv.proc.pid) as f:
        return int(f.read())


def set_score(srv, v):
    with open("/proc/%d/oom_score_adj" % srv.proc.pid, "w") as f:
        f.write("%d\n" % v)


def test_relative_score_and_restore(start_server):
    srv = start_server()
    c = srv.client()
    base = score(srv)
    c.config_set("oom-score-adj-values", "10 20 30")
    c.config_set("oom-score-adj", "yes")
    assert score(srv) == base + 10
    c.config_set("oom-score-adj-values", "15 20 30")
    assert score(srv) == base + 15
    c.config_set("oom-score-adj", "no")
    assert score(srv) == base


def test_values_do_not_touch_proc_when_disabled(start_server):
    srv = start_server()
    c = srv.client()
    set_score(srv, 7)
    c.config_set("oom-score-adj-values", "1 1 1")
    assert score(srv) == 7


def test_restored_on_disable(start_server):
    srv = start_server()
    c = srv.client()
    set_score(srv, 22)
    c.execute_command("CONFIG", "SET", "oom-score-adj-values", "9 9 9", "oom-score-adj", "yes")
    assert score(srv) == 31
    c.config_set("oom-score-adj", "no")
    assert score(srv) == 22


def test_relative_and_absolute(start_server):
    srv = start_server()
    c = srv.client()
    base = score(srv)
    c.execute_command("CONFIG", "SET", "oom-score-adj-values", "9 9 9", "oom-score-adj", "relative")
    assert score(srv) == base + 9
    c.config_set("oom-score-adj", "absolute")
    assert score(srv) == 9
    assert c.config_get("oom-score-adj") == {"oom-score-adj": "absolute"}
    c.config_set("oom-score-adj-values", "2000 0 0")     # clamped to 1000
    assert score(srv) == 1000


@pytest.mark.parametrize("values,error", [
    ("-2001 -2001 -2001", "must be between -2000 and 2000"),
    ("2001 2001 2001", "must be between -2000 and 2000"),
    ("a b c", "must be between -2000 and 2000"),
    ("1 2", "wrong number of arguments"),
])
def test_bad_values_are_refused(r, values, error):
    old = r.config_get("oom-score-adj-values")
    with pytest.raises(redis.ResponseError, match=error):
        r.config_set("oom-score-adj-values", values)
    assert r.config_get("oom-score-adj-values") == old
