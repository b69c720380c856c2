"""Keel's Sentinel: start-up, its command set, replies, events and config
file, with one sentinel watching a redis-server master and two replicas
(failovers are in test_sentinel_failover.py)."""

import os
import re
import subprocess

import pytest
import redis

from keel_helpers import RawConn, err, running_against_redis, server_binary, wait_for
from sentinel_helpers import (MASTER, SentinelServer, as_dict, monitor_lines, sentinel_binary,
                              start_replicated, start_sentinel)


@pytest.fixture
def sentinels():
    started = []
    yield started
    problems = []
    for s in started:
        problems += s.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def deployment(start_server, sentinels):
    master, reps = start_replicated(start_server)
    s = start_sentinel(sentinels, monitor_lines(master.port, 1))
    assert wait_for(lambda: int(s.master_state()["num-slaves"]) == 2, 20)
    return master, reps, s


def test_masters_master_and_replicas(deployment):
    master, reps, s = deployment
    state = s.master_state()
    assert state["name"] == MASTER
    assert (state["ip"], int(state["port"])) == ("127.0.0.1", master.port)
    assert state["flags"] == "master"
    assert state["role-reported"] == "master"
    assert state["runid"] == master.info("server")["run_id"]
    assert int(state["quorum"]) == 1
    assert int(state["down-after-milliseconds"]) == 1000
    assert int(state["failover-timeout"]) == 6000
    assert int(state["parallel-syncs"]) == 1
    for field in ("link-pending-commands", "last-ping-sent", "last-ok-ping-reply", "info-refresh",
                  "config-epoch", "num-other-sentinels"):
        assert field in state
    masters = [as_dict(m) for m in s.sentinel("masters")]
    assert [m["name"] for m in masters] == [MASTER]
    replicas = [as_dict(r) for r in s.sentinel("replicas", MASTER)]
    assert sorted(int(r["port"]) for r in replicas) == sorted(r.port for r in reps)
    assert wait_for(lambda: all(as_dict(r)["master-link-status"] == "ok" for r in s.sentinel("replicas", MASTER)), 20)
    one = as_dict(s.sentinel("replicas", MASTER)[0])
    assert one["flags"] == "slave"
    assert one["name"] == "127.0.0.1:%s" % one["port"]
    assert (one["master-host"], int(one["master-port"])) == ("127.0.0.1", master.port)
    assert int(one["slave-priority"]) == 100
    assert s.sentinel("slaves", MASTER) == s.sentinel("replicas", MASTER) or len(s.sentinel("slaves", MASTER)) == 2


def test_get_master_addr_myid_role_info(deployment):
    master, _reps, s = deployment
    assert s.master_addr() == ("127.0.0.1", master.port)
    c = s.client(decode_responses=True)
    assert c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch") is None
    myid = c.execute_command("SENTINEL", "MYID")
    assert re.fullmatch(r"[0-9a-f]{40}", myid)
    assert c.execute_command("ROLE") == ["sentinel", [MASTER]]
    info = c.info("sentinel")
    assert info["sentinel_masters"] == 1
    assert info["sentinel_tilt"] == 0
    assert info["master0"]["name"] == MASTER
    assert info["master0"]["status"] == "ok"
    assert info["master0"]["address"] == "127.0.0.1:%d" % master.port
    assert info["master0"]["slaves"] == 2
    assert c.info("server")["redis_mode"] == "sentinel"
    assert c.ping()
    with open("/proc/%d/cmdline" % s.proc.pid, "rb") as f:   # the process title
        assert b"[sentinel]" in f.read()
    c.connection_pool.disconnect()


def test_only_sentinel_commands(deployment):
    *_, s = deployment
    c = s.client()
    assert "unknown command" in err(c, "GET", "k")
    assert "unknown command" in err(c, "SET", "k", "v")
    assert err(c, "PUBLISH", "chan", "x") == "Only HELLO messages are accepted by Sentinel instances."
    assert err(c, "SENTINEL", "MASTER", "nosuch") == "No such master with that name"
    assert err(c, "SENTINEL", "REPLICAS", "nosuch") == "No such master with that name"
    assert err(c, "SENTINEL", "SENTINELS", "nosuch") == "No such master with that name"
    assert "wrong number of arguments" in err(c, "SENTINEL", "MASTER")
    assert "unknown subcommand" in err(c, "SENTINEL", "NOSUCH").lower()
    c.connection_pool.disconnect()


def test_command_lists_redis_7_0_sentinel_set(deployment):
    """COMMAND describes exactly Redis 7.0 Sentinel's command set (what
    Redis's own Sentinel suite counts): fifteen commands, 72 names with
    subcommands, CLIENT with 7.0's sixteen subcommands."""
    *_, s = deployment
    with RawConn(s.host, s.port) as conn:
        assert conn.cmd("COMMAND", "COUNT") == 15
        names = [n.decode() for n in conn.cmd("COMMAND", "LIST")]
        assert len(names) == 72
        client_subs = sorted(n for n in names if n.startswith("client|"))
        assert client_subs == ["client|" + x for x in sorted([
            "caching", "getname", "getredir", "help", "id", "info", "kill", "list", "no-evict", "pause", "reply",
            "setname", "tracking", "trackinginfo", "unblock", "unpause"])]
        (info,) = conn.cmd("COMMAND", "INFO", "client")
        assert len(info[9]) == 16
        docs = conn.cmd("COMMAND", "DOCS", "client")
        assert len(dict(zip(docs[1][0::2], docs[1][1::2]))[b"subcommands"]) // 2 == 16


@pytest.mark.keel_only
def test_client_extensions_still_work_in_sentinel_mode(deployment):
    """CLIENT SETINFO and NO-TOUCH (Redis 7.2) are not listed in sentinel
    mode, but a client library that sends them still gets OK."""
    *_, s = deployment
    c = s.client(decode_responses=True)
    assert c.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == "OK"
    assert c.execute_command("CLIENT", "NO-TOUCH", "ON") == "OK"
    assert "lib-name=mylib" in c.execute_command("CLIENT", "INFO")
    c.connection_pool.disconnect()


def test_resp3_replies_are_maps(deployment):
    *_, s = deployment
    conn = RawConn(s.host, s.port)
    conn.cmd("HELLO", "3")
    state = conn.cmd("SENTINEL", "MASTER", MASTER)
    assert isinstance(state, dict)
    assert state[b"name"] == b"mymaster"
    assert isinstance(conn.cmd("SENTINEL", "MASTERS")[0], dict)
    conn.close()


def test_is_master_down_by_addr_and_votes(deployment):
    master, _reps, s = deployment
    c = s.client(decode_responses=True)
    port = str(master.port)
    assert c.execute_command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", port, "0", "*") == [0, "*", 0]
    voter = "a" * 40
    assert c.execute_command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", port, "5", voter) == [0, voter, 5]
    # One vote per epoch: a second candidate in the same epoch gets the first one's name.
    assert c.execute_command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", port, "5", "b" * 40) == [0, voter, 5]
    assert c.execute_command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", port, "6", "b" * 40) == [0, "b" * 40, 6]
    assert "sentinel leader-epoch %s 6" % MASTER in s.config_text()
    assert "sentinel current-epoch 6" in s.config_text()
    assert c.execute_command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*") == [0, "*", 0]
    assert "not an integer" in err(c, "SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*")
    c.connection_pool.disconnect()


def test_monitor_remove_set_and_events(deployment):
    master, _reps, s = deployment
    c = s.client(decode_responses=True)
    ps = s.client(decode_responses=True).pubsub()
    ps.psubscribe("*")
    assert wait_for(lambda: ps.get_message(timeout=0.1) is not None)   # the psubscribe confirmation
    assert c.execute_command("SENTINEL", "MONITOR", "second", "127.0.0.1", str(master.port), "2") == "OK"
    event = wait_for(lambda: ps.get_message(timeout=0.1), 10)
    assert event["channel"] == "+monitor"
    assert event["data"] == "master second 127.0.0.1 %d quorum 2" % master.port
    assert "sentinel monitor second 127.0.0.1 %d 2" % master.port in s.config_text()
    assert err(c, "SENTINEL", "MONITOR", "second", "127.0.0.1", str(master.port), "2") == "Duplicate master name."
    assert err(c, "SENTINEL", "MONITOR", "x", "127.0.0.1", str(master.port), "0") == "Quorum must be 1 or greater."
    assert err(c, "SENTINEL", "MONITOR", "x", "127.0.0.1", str(master.port), "q") == "Invalid quorum"
    assert err(c, "SENTINEL", "MONITOR", "x", "127.0.0.1", "p", "1") == "Invalid port"
    assert err(c, "SENTINEL", "MONITOR", "x", "not-an-ip", "1", "1") == "Invalid IP address or hostname specified"

    assert c.execute_command("SENTINEL", "SET", "second", "quorum", "3", "down-after-milliseconds", "2500") == "OK"
    state = as_dict(c.execute_command("SENTINEL", "MASTER", "second"))
    assert (int(state["quorum"]), int(state["down-after-milliseconds"])) == (3, 2500)
    assert "sentinel down-after-milliseconds second 2500" in s.config_text()
    assert err(c, "SENTINEL", "SET", "second", "quorum", "0") == "Invalid argument '0' for SENTINEL SET 'quorum'"
    assert err(c, "SENTINEL", "SET", "second", "nosuch", "1") == "Unknown option or number of arguments for SENTINEL SET 'nosuch'"
    assert "denied for security reasons" in err(c, "SENTINEL", "SET", "second", "notification-script", "/bin/true")
    events = []
    wait_for(lambda: events.append(ps.get_message(timeout=0.1)) or any(
        e and e["channel"] == "+set" and "quorum 3" in e["data"] for e in events), 10)
    assert any(e and e["channel"] == "+set" and e["data"].endswith("quorum 3") for e in events)

    assert c.execute_command("SENTINEL", "REMOVE", "second") == "OK"
    assert "sentinel monitor second" not in s.config_text()
    assert err(c, "SENTINEL", "REMOVE", "second") == "No such master with that name"
    ps.close()
    c.connection_pool.disconnect()


def test_ckquorum_config_debug_misc(deployment):
    *_, s = deployment
    c = s.client(decode_responses=True)
    assert c.execute_command("SENTINEL", "CKQUORUM", MASTER) == \
        "OK 1 usable Sentinels. Quorum and failover authorization can be reached"
    c.execute_command("SENTINEL", "SET", MASTER, "quorum", "2")
    assert err(c, "SENTINEL", "CKQUORUM", MASTER) == (
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master")
    c.execute_command("SENTINEL", "SET", MASTER, "quorum", "1")

    assert as_dict(c.execute_command("SENTINEL", "CONFIG", "GET", "announce-port")) == {"announce-port": "0"}
    assert c.execute_command("SENTINEL", "CONFIG", "SET", "announce-ip", "127.0.0.1") == "OK"
    assert re.search(r'^sentinel announce-ip "?127\.0\.0\.1"?$', s.config_text(), re.M)
    assert as_dict(c.execute_command("SENTINEL", "CONFIG", "GET", "announce-*")) == {
        "announce-ip": "127.0.0.1", "announce-port": "0", "announce-hostnames": "no"}
    assert err(c, "SENTINEL", "CONFIG", "SET", "announce-port", "x") == "Invalid value 'x' to SENTINEL CONFIG SET 'announce-port'"
    assert err(c, "SENTINEL", "CONFIG", "SET", "nosuch", "1") == "Invalid argument 'nosuch' to SENTINEL CONFIG SET"
    assert err(c, "SENTINEL", "CONFIG", "RESETSTAT", "x") == \
        "Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."

    debug = as_dict(c.execute_command("SENTINEL", "DEBUG"))
    assert int(debug["INFO-PERIOD"]) == 10000 and int(debug["PING-PERIOD"]) == 1000
    assert c.execute_command("SENTINEL", "DEBUG", "info-period", "5000") == "OK"
    assert int(as_dict(c.execute_command("SENTINEL", "DEBUG"))["INFO-PERIOD"]) == 5000
    assert err(c, "SENTINEL", "DEBUG", "info-period", "0") == "Invalid argument '0' for SENTINEL DEBUG 'info-period'"

    assert c.execute_command("SENTINEL", "SIMULATE-FAILURE", "HELP") == ["crash-after-election", "crash-after-promotion"]
    assert err(c, "SENTINEL", "SIMULATE-FAILURE", "nosuch") == "Unknown failure simulation specified"
    assert c.execute_command("SENTINEL", "PENDING-SCRIPTS") == []
    assert c.execute_command("SENTINEL", "FLUSHCONFIG") == "OK"
    cache = c.execute_command("SENTINEL", "INFO-CACHE", MASTER)
    assert cache[0] == MASTER and len(cache[1]) == 3
    assert "role:master" in cache[1][0][1]
    assert c.execute_command("SENTINEL", "RESET", "nomatch*") == 0
    assert c.execute_command("SENTINEL", "RESET", "my*") == 1
    assert wait_for(lambda: int(s.master_state()["num-slaves"]) == 2, 20)   # rediscovered
    c.connection_pool.disconnect()


def test_config_file_rewritten_and_reloaded(deployment, sentinels):
    master, reps, s = deployment
    myid = s.sentinel("myid")
    text = s.config_text()
    assert "bind 127.0.0.1" in text            # the user's own lines are kept
    assert "sentinel myid %s" % myid in text
    assert "sentinel monitor %s 127.0.0.1 %d 1" % (MASTER, master.port) in text
    for rep in reps:
        assert "sentinel known-replica %s 127.0.0.1 %d" % (MASTER, rep.port) in text
    assert "sentinel config-epoch %s 0" % MASTER in text
    assert re.search(r"^sentinel current-epoch \d+$", text, re.M)
    # A second sentinel started from a copy of the file has the same state at once.
    copy = SentinelServer(lines=[l for l in text.splitlines() if l.startswith("sentinel ") and "myid" not in l])
    sentinels.append(copy)
    copy.start()
    assert int(copy.master_state()["num-slaves"]) == 2
    assert copy.sentinel("myid") != myid
    # The two find each other through hello messages, and write it down.
    assert wait_for(lambda: int(s.master_state()["num-other-sentinels"]) == 1, 20)
    assert wait_for(lambda: "sentinel known-sentinel %s 127.0.0.1 %d %s" % (MASTER, copy.port, copy.sentinel("myid"))
                    in s.config_text(), 20)
    assert wait_for(lambda: as_dict(s.sentinel("sentinels", MASTER)[0])["flags"] == "sentinel", 20)
    other = as_dict(s.sentinel("sentinels", MASTER)[0])
    assert other["runid"] == copy.sentinel("myid")
    assert (other["ip"], int(other["port"])) == ("127.0.0.1", copy.port)


def test_sentinel_flag_and_config_errors(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("sentinel monitor m 127.0.0.1 6379 0\n")
    binary = "/usr/bin/redis-server" if running_against_redis() else server_binary()
    res = subprocess.run(["timeout", "20", binary, str(conf), "--sentinel", "--port", "0"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "Quorum must be 1 or greater." in res.stdout + res.stderr
    conf.write_text("sentinel nosuch thing\n")
    res = subprocess.run(["timeout", "20", sentinel_binary(), str(conf), "--port", "0"], capture_output=True, text=True)
    assert res.returncode == 1
    assert "Unrecognized sentinel configuration statement." in res.stdout + res.stderr
    res = subprocess.run(["timeout", "20", sentinel_binary(), "--port", "0"], capture_output=True, text=True)
    assert res.returncode == 1


@pytest.mark.keel_only
def test_sentinel_flag_first_and_no_keyspace_config(sentinels, start_server):
    """keel-server --sentinel CONFIGFILE (the flag before the file) works as
    keel-server CONFIGFILE --sentinel does."""
    master, _ = start_replicated(start_server, replicas=0)
    s = SentinelServer(lines=monitor_lines(master.port, 1), binary=server_binary(), args_before=["--sentinel"])
    sentinels.append(s)
    s.start()
    assert s.info("server")["redis_mode"] == "sentinel"
    assert s.info("server")["tcp_port"] == s.port
    assert s.master_addr() == ("127.0.0.1", master.port)
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
