"""Sentinel's user scripts: notification-script (run for every warning
event of a master, with the event type and text) and client-reconfig-script
(run at every failover with the master's name, the sentinel's part, the old
and the new address), their queue, retries, timeouts and the limit of 16
running at once, SENTINEL PENDING-SCRIPTS, INFO's script counters and
deny-scripts-reconfig. The scripts are small shell scripts appending their
arguments to a file. Validated against Debian's redis-sentinel too."""

import os
import stat

import pytest

from keel_helpers import err, wait_for
from sentinel_helpers import (MASTER, as_dict, kill, monitor_lines, role, start_redis, start_replicated,
                              start_sentinel)


@pytest.fixture
def sentinels():
    started = []
    yield started
    problems = []
    for s in started:
        problems += s.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def make_script(tmp_path, name, body):
    path = str(tmp_path / name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def appender(tmp_path, name, out, tail=""):
    """A script that appends one line per run, its arguments separated by
    '|', in one write (scripts running at once do not mix their lines)."""
    return make_script(tmp_path, name, 'line=$(printf "%%s|" "$@")\nprintf "%%s\\n" "$line" >> %s\n%s' % (out, tail))


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("|\n").split("|") for line in f if line.strip()]


def info_scripts(s):
    info = s.client(decode_responses=True).info("sentinel")
    return info["sentinel_running_scripts"], info["sentinel_scripts_queue_length"]


def pending(s):
    return [as_dict(j) for j in s.sentinel("pending-scripts")]


def sentinel_with_scripts(start_server, sentinels, tmp_path, extra=()):
    master = start_redis(start_server)
    s = start_sentinel(sentinels, monitor_lines(master.port, 1) + ["sentinel deny-scripts-reconfig no"] + list(extra))
    return master, s


def subscribe(s, *channels):
    ps = s.client(decode_responses=True).pubsub()
    ps.subscribe(*channels)
    assert wait_for(lambda: ps.get_message(timeout=0.1) is not None)
    return ps


def next_message(ps, timeout=30):
    return wait_for(lambda: ps.get_message(timeout=0.1), timeout)


def test_notification_script_gets_event_type_and_text(start_server, sentinels, tmp_path):
    out = str(tmp_path / "events")
    script = appender(tmp_path, "notify.sh", out)
    master = start_redis(start_server)
    s = start_sentinel(sentinels, monitor_lines(master.port, 1) + ["sentinel notification-script %s %s" % (MASTER, script)])
    assert as_dict(s.sentinel("master", MASTER))["notification-script"] == script
    assert "sentinel notification-script %s %s" % (MASTER, script) in s.config_text()
    # The start-up +monitor event, a warning, runs the script.
    expected = ["+monitor", "master %s 127.0.0.1 %d quorum 1" % (MASTER, master.port)]
    assert wait_for(lambda: expected in lines(out), 20), lines(out)
    # +set (a warning) too; +sdown of the master when it goes away.
    assert s.sentinel("set", MASTER, "quorum", "1") == "OK"
    expected = ["+set", "master %s 127.0.0.1 %d quorum 1" % (MASTER, master.port)]
    assert wait_for(lambda: expected in lines(out), 20), lines(out)
    s.sentinel("set", MASTER, "down-after-milliseconds", "500")
    kill(master)
    expected = ["+sdown", "master %s 127.0.0.1 %d" % (MASTER, master.port)]
    assert wait_for(lambda: expected in lines(out), 20), lines(out)
    assert wait_for(lambda: info_scripts(s) == (0, 0), 20)
    assert pending(s) == []


def test_script_paths_are_checked_and_reconfig_denied_by_default(start_server, sentinels, tmp_path):
    master = start_redis(start_server)
    s = start_sentinel(sentinels, monitor_lines(master.port, 1))
    c = s.client(decode_responses=True)
    denied = ("Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig "
              "configuration directive in your Sentinel configuration")
    assert err(c, "SENTINEL", "SET", MASTER, "notification-script", "/bin/true") == denied
    assert err(c, "SENTINEL", "SET", MASTER, "client-reconfig-script", "/bin/true") == denied
    assert "deny-scripts-reconfig" not in s.config_text()

    s2 = start_sentinel(sentinels, monitor_lines(master.port, 1) + ["sentinel deny-scripts-reconfig no"])
    c2 = s2.client(decode_responses=True)
    assert "sentinel deny-scripts-reconfig no" in s2.config_text()
    missing = str(tmp_path / "missing.sh")
    assert err(c2, "SENTINEL", "SET", MASTER, "notification-script", missing) == \
        "Notification script seems non existing or non executable"
    assert err(c2, "SENTINEL", "SET", MASTER, "client-reconfig-script", missing) == \
        "Client reconfiguration script seems non existing or non executable"
    script = appender(tmp_path, "n.sh", str(tmp_path / "out"))
    assert c2.execute_command("SENTINEL", "SET", MASTER, "notification-script", script,
                              "client-reconfig-script", script) == "OK"
    state = as_dict(c2.execute_command("SENTINEL", "MASTER", MASTER))
    assert (state["notification-script"], state["client-reconfig-script"]) == (script, script)
    assert "sentinel client-reconfig-script %s %s" % (MASTER, script) in s2.config_text()
    assert c2.execute_command("SENTINEL", "SET", MASTER, "notification-script", "") == "OK"
    assert "notification-script" not in as_dict(c2.execute_command("SENTINEL", "MASTER", MASTER))
    assert "sentinel notification-script" not in s2.config_text()
    c.connection_pool.disconnect()
    c2.connection_pool.disconnect()


def test_script_exiting_1_is_retried_ten_times_then_reported(start_server, sentinels, tmp_path):
    out = str(tmp_path / "runs")
    script = appender(tmp_path, "fail.sh", out, "exit 1")
    _, s = sentinel_with_scripts(start_server, sentinels, tmp_path)
    s.sentinel("debug", "script-retry-delay", "10")
    ps = subscribe(s, "-script-error")
    s.sentinel("set", MASTER, "notification-script", script)
    s.sentinel("set", MASTER, "quorum", "1")
    mine = lambda: [l for l in lines(out) if l[0] == "+set" and l[1].endswith("quorum 1")]
    # While it waits for its next try the job is listed as scheduled.
    assert wait_for(lambda: any(j["flags"] == "scheduled" and int(j["retry-num"]) >= 1 and
                                j["argv"][1] == "+set" and j["argv"][2].endswith("quorum 1") for j in pending(s)), 30)
    msg = next_message(ps, 60)
    assert msg and msg["channel"] == "-script-error", msg
    # The first script to give up is the first job (the +set of the path
    # itself); both jobs end after ten runs.
    assert msg["data"] == "%s 0 1" % script
    assert wait_for(lambda: len(mine()) == 10 and pending(s) == [], 60), (len(mine()), pending(s))
    assert len(mine()) == 10
    ps.close()


def test_script_exiting_2_is_not_retried(start_server, sentinels, tmp_path):
    out = str(tmp_path / "runs")
    script = appender(tmp_path, "err.sh", out, "exit 2")
    _, s = sentinel_with_scripts(start_server, sentinels, tmp_path)
    ps = subscribe(s, "-script-error")
    s.sentinel("set", MASTER, "notification-script", script)
    msg = next_message(ps)
    assert msg and msg["data"] == "%s 0 2" % script
    assert wait_for(lambda: pending(s) == [], 20)
    assert len(lines(out)) == 1
    ps.close()


def test_script_over_max_runtime_is_killed_and_retried(start_server, sentinels, tmp_path):
    out = str(tmp_path / "runs")
    script = appender(tmp_path, "slow.sh", out, "sleep 60")
    _, s = sentinel_with_scripts(start_server, sentinels, tmp_path)
    s.sentinel("debug", "script-max-runtime", "1000")
    s.sentinel("debug", "script-retry-delay", "600000")
    ps = subscribe(s, "-script-timeout")
    s.sentinel("set", MASTER, "notification-script", script)
    assert wait_for(lambda: info_scripts(s) == (1, 1), 20)
    job = pending(s)[0]
    assert (job["flags"], job["argv"][0], int(job["retry-num"])) == ("running", script, 1)
    assert int(job["pid"]) > 0 and "run-time" in job
    msg = next_message(ps)
    assert msg and msg["data"] == "%s %s" % (script, job["pid"])
    # Killed by a signal: scheduled again, after the retry delay.
    assert wait_for(lambda: info_scripts(s) == (0, 1), 20)
    job = pending(s)[0]
    assert (job["flags"], int(job["retry-num"]), int(job["pid"])) == ("scheduled", 1, 0)
    assert 0 < int(job["run-delay"]) <= 600000
    ps.close()


def test_at_most_sixteen_scripts_run_at_once(start_server, sentinels, tmp_path):
    out = str(tmp_path / "runs")
    go = str(tmp_path / "go")
    script = appender(tmp_path, "wait.sh", out,
                      "i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done" % go)
    _, s = sentinel_with_scripts(start_server, sentinels, tmp_path)
    s.sentinel("set", MASTER, "notification-script", script)
    for q in range(1, 21):
        s.sentinel("set", MASTER, "quorum", str(q))
    assert wait_for(lambda: info_scripts(s) == (16, 21), 30), info_scripts(s)
    jobs = pending(s)
    assert [j["flags"] for j in jobs] == ["running"] * 16 + ["scheduled"] * 5
    # Oldest first: the jobs run in the order of their events.
    assert [j["argv"][2].split()[-1] for j in jobs[1:]] == [str(q) for q in range(1, 21)]
    open(go, "w").close()
    assert wait_for(lambda: info_scripts(s) == (0, 0), 60), info_scripts(s)
    assert len(lines(out)) == 21


def test_client_reconfig_script_on_failover(start_server, sentinels, tmp_path):
    master, (rep,) = start_replicated(start_server, replicas=1)
    outs = [str(tmp_path / ("reconf%d" % i)) for i in range(2)]
    scripts = [appender(tmp_path, "reconf%d.sh" % i, outs[i]) for i in range(2)]
    ss = [start_sentinel(sentinels, monitor_lines(master.port, 1) +
                         ["sentinel client-reconfig-script %s %s" % (MASTER, scripts[i])]) for i in range(2)]
    for s in ss:
        assert wait_for(lambda: int(s.master_state()["num-other-sentinels"]) == 1 and
                        int(s.master_state()["num-slaves"]) == 1, 30)
    kill(master)
    assert wait_for(lambda: all(s.master_addr() == ("127.0.0.1", rep.port) for s in ss), 60)
    assert wait_for(lambda: role(rep)[0] == "master", 30)
    assert wait_for(lambda: all(lines(o) for o in outs), 30), [lines(o) for o in outs]
    got = sorted(lines(o)[0] for o in outs)
    tail = ["start", "127.0.0.1", str(master.port), "127.0.0.1", str(rep.port)]
    assert got == [[MASTER, "leader"] + tail, [MASTER, "observer"] + tail]


def test_queue_keeps_256_jobs_dropping_the_oldest_waiting(start_server, sentinels, tmp_path):
    go = str(tmp_path / "go")
    script = make_script(tmp_path, "wait.sh",
                         "i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done" % go)
    _, s = sentinel_with_scripts(start_server, sentinels, tmp_path)
    s.sentinel("set", MASTER, "notification-script", script)
    c = s.client(decode_responses=True)
    for q in range(1, 16):
        c.execute_command("SENTINEL", "SET", MASTER, "quorum", str(q))
    assert wait_for(lambda: info_scripts(s) == (16, 16), 30), info_scripts(s)
    for q in range(16, 301):
        c.execute_command("SENTINEL", "SET", MASTER, "quorum", str(q))
    assert info_scripts(s) == (16, 256)
    jobs = pending(s)
    quorum = lambda j: int(j["argv"][2].split()[-1])
    running = [j for j in jobs if j["flags"] == "running"]
    waiting = [j for j in jobs if j["flags"] == "scheduled"]
    assert [quorum(j) for j in running[1:]] == list(range(1, 16))
    assert [quorum(j) for j in waiting] == list(range(61, 301))
    open(go, "w").close()
    assert wait_for(lambda: info_scripts(s) == (0, 0), 120), info_scripts(s)
    c.connection_pool.disconnect()
