"""The built-in HTTP port (issue 17, src/http): /metrics in Prometheus text
and OpenMetrics with redis_exporter's names, types and labels, values
that match INFO, the dashboard's JSON, and the port's settings."""
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
import redis

from keel_helpers import free_port, wait_for

pytestmark = pytest.mark.keel_only

EXPORTER = "/usr/bin/prometheus-redis-exporter"
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
INSTANCE_LABELS = {"run_id", "process_id", "os", "tcp_port", "redis_version", "redis_build_id"}
# The exporter's bookkeeping about itself: nothing to scrape when the server serves its own metrics.
EXPORTER_ONLY = re.compile(r"^redis_(exporter_|target_scrape_request_errors_total|last_key_groups_scrape_duration)")


def get(port, path, accept=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers.get("Content-Type"), resp.read().decode()


def parse(text):
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = LINE.match(line)
            assert m, line
            labels = frozenset(LABEL.findall(m.group(3) or ""))
            series[(m.group(1), labels)] = float(m.group(4))
    return series, types


def value(series, name, **labels):
    return series[(name, frozenset(labels.items()))]


@pytest.fixture
def keel(start_server):
    port = free_port()
    srv = start_server("--metrics-port", port)
    srv.http = port
    return srv


def workload(c):
    for i in range(30):
        c.set("k%d" % i, "v" * i)
    c.expire("k1", 1000)
    c.get("k2")
    c.get("missing")
    c.rpush("list", *range(100))
    with pytest.raises(redis.ResponseError):
        c.lpush("k3", "x")
    c.config_set("latency-tracking", "yes")


def test_off_by_default_and_bound_to_loopback(r):
    assert r.config_get("metrics-port") == {"metrics-port": "0"}
    assert r.config_get("metrics-bind") == {"metrics-bind": "127.0.0.1"}
    with pytest.raises(redis.ResponseError, match="metrics-bind is not an IPv4 or IPv6 address"):
        r.config_set("metrics-bind", "localhost")     # checked even while the port is off


def test_values_match_info(keel):
    c = redis.Redis(host=keel.host, port=keel.port)
    workload(c)
    ctype, body = get(keel.http, "/metrics")
    assert ctype.startswith("text/plain; version=0.0.4")
    s, types = parse(body)
    info = c.info("everything")
    assert value(s, "redis_up") == 1
    assert value(s, "redis_db_keys", db="db0") == info["db0"]["keys"] == 31
    assert value(s, "redis_db_keys_expiring", db="db0") == info["db0"]["expires"] == 1
    assert value(s, "redis_db_keys", db="db15") == 0
    assert value(s, "redis_keyspace_hits_total") == info["keyspace_hits"]
    assert value(s, "redis_keyspace_misses_total") == info["keyspace_misses"]
    assert value(s, "redis_commands_total", cmd="set") == info["cmdstat_set"]["calls"] == 30
    assert value(s, "redis_commands_duration_seconds_total", cmd="set") == pytest.approx(info["cmdstat_set"]["usec"] / 1e6)
    assert value(s, "redis_commands_failed_calls_total", cmd="lpush") == 1
    assert value(s, "redis_errors_total", err="WRONGTYPE") == 1
    assert c.info("errorstats")["errorstat_WRONGTYPE"] in ({"count": 1}, "count=1")
    assert value(s, "redis_memory_max_bytes") == info["maxmemory"]
    assert value(s, "redis_config_maxclients") == info["maxclients"]
    assert value(s, "redis_rdb_last_bgsave_status") == 1
    assert value(s, "redis_memory_used_bytes") == pytest.approx(info["used_memory"], rel=0.05)
    assert value(s, "keel_memory_time_to_full_seconds") == info["maxmemory_time_to_full_seconds"]
    assert ("redis_latency_percentiles_usec", frozenset({("cmd", "set"), ("quantile", "99")})) in s
    assert value(s, "redis_latency_percentiles_usec_count", cmd="set") == 30
    assert types["redis_commands_total"] == "counter" and types["redis_memory_used_bytes"] == "gauge"
    assert types["redis_latency_percentiles_usec"] == "summary"
    # The sampler's memory by type: the list is seen within a pass or two.
    wait_for(lambda: value(parse(get(keel.http, "/metrics")[1])[0], "keel_memory_by_type_bytes", type="list") > 0,
             timeout=30)


def test_openmetrics_when_asked(keel):
    ctype, body = get(keel.http, "/metrics", accept="application/openmetrics-text; version=1.0.0")
    assert ctype.startswith("application/openmetrics-text; version=1.0.0")
    assert body.endswith("# EOF\n")
    assert "# TYPE redis_commands_processed counter\n" in body
    assert "\nredis_commands_processed_total " in body
    # A counter whose name has no _total keeps its sample name, typed unknown.
    assert "# TYPE redis_total_error_replies unknown\n" in body


def compare_with_exporter(keel):
    eport = free_port()
    proc = subprocess.Popen([EXPORTER, "-redis.addr", "redis://127.0.0.1:%d" % keel.port, "-web.listen-address",
                             "127.0.0.1:%d" % eport, "-include-system-metrics", "-redis-only-metrics"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        got = {}

        def scrape():
            try:
                got["body"] = get(eport, "/metrics")[1]
                return True
            except OSError:
                return False
        wait_for(scrape, timeout=30)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    _, body = get(keel.http, "/metrics")
    exp, exp_types = parse(got["body"])
    own, own_types = parse(body)

    def shape(series):
        # Commands the exporter and the HTTP scrape themselves send differ; compare the workload's.
        out = set()
        for name, labels in series:
            if EXPORTER_ONLY.match(name):
                continue
            if any(k == "cmd" and v not in ("set", "get", "expire", "rpush", "lpush") for k, v in labels):
                continue
            out.add((name, frozenset((k, "" if k in INSTANCE_LABELS else v) for k, v in labels)))
        return out
    missing = shape(exp) - shape(own)
    assert not missing, sorted(missing)
    extra = {k for k in shape(own) - shape(exp) if not k[0].startswith("keel_")}
    assert not extra, sorted(extra)
    for name, kind in exp_types.items():
        if not EXPORTER_ONLY.match(name):
            assert own_types.get(name) == kind, name
    return own


@pytest.mark.skipif(not shutil.which(EXPORTER), reason="needs Debian's prometheus-redis-exporter")
def test_same_names_types_and_labels_as_the_exporter(keel):
    c = redis.Redis(host=keel.host, port=keel.port)
    workload(c)
    compare_with_exporter(keel)


@pytest.mark.skipif(not shutil.which(EXPORTER), reason="needs Debian's prometheus-redis-exporter")
def test_replication_metrics_as_the_exporter(start_server):
    """A master and its replica: the per-replica lines of the master and the
    link figures of the replica, with the exporter's labels."""
    master = start_server("--metrics-port", free_port())
    master.http = int(master.extra_args[1])
    replica = start_server("--metrics-port", free_port())
    replica.http = int(replica.extra_args[1])
    m = redis.Redis(host=master.host, port=master.port)
    rc = redis.Redis(host=replica.host, port=replica.port)
    rc.replicaof(master.host, master.port)
    m.set("k", "v")
    wait_for(lambda: rc.info("replication")["master_link_status"] == "up" and rc.get("k") == b"v", timeout=30)
    wait_for(lambda: m.info("replication").get("slave0", {}).get("state") == "online", timeout=30)
    own_master = compare_with_exporter(master)
    own_replica = compare_with_exporter(replica)
    labels = frozenset({("master_host", master.host), ("master_port", str(master.port))})
    assert own_replica[("redis_master_link_up", labels)] == 1
    assert ("redis_slave_info", labels | {("read_only", "1")}) in own_replica
    lag = [k for k in own_master if k[0] == "redis_connected_slave_lag_seconds"]
    assert len(lag) == 1 and ("slave_port", str(replica.port)) in lag[0][1] and ("slave_state", "online") in lag[0][1]


def test_dashboard_json_and_page(keel):
    c = redis.Redis(host=keel.host, port=keel.port)
    workload(c)
    wait_for(lambda: len(json.loads(get(keel.http, "/dashboard.json")[1])["history"]["t"]) >= 2, timeout=30)
    d = json.loads(get(keel.http, "/dashboard.json")[1])
    info = c.info("everything")
    assert d["maxmemory"] == info["maxmemory"]
    assert d["keyspace_hits"] == info["keyspace_hits"]
    assert d["rdb_last_bgsave_status"] == "ok"
    t = d["history"]["t"]
    assert t == sorted(t) and all(len(d["history"][k]) == len(t) for k in ("used", "rss", "frag", "evicted"))
    newer = json.loads(get(keel.http, "/dashboard.json?since=%d" % t[-1])[1])
    assert all(x > t[-1] for x in newer["history"]["t"])
    ctype, page = get(keel.http, "/")
    assert ctype.startswith("text/html") and 'id="time_to_full"' in page
    assert "http://" not in page and "https://" not in page      # nothing from the network
    with pytest.raises(urllib.error.HTTPError) as e:
        get(keel.http, "/nothing")
    assert e.value.code == 404
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % keel.http, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405


def test_port_set_at_run_time(r):
    port = free_port()
    with pytest.raises(urllib.error.URLError):
        get(port, "/metrics")
    r.config_set("metrics-port", port)
    try:
        assert "redis_up 1" in get(port, "/metrics")[1]
        with pytest.raises(redis.ResponseError):
            r.config_set("metrics-bind", "not-an-address")
        assert r.config_get("metrics-bind") == {"metrics-bind": "127.0.0.1"}
        # A port already taken (the RESP port itself) is refused, and the old listener stays.
        resp_port = r.connection_pool.connection_kwargs["port"]
        with pytest.raises(redis.ResponseError, match="cannot listen on metrics-port"):
            r.config_set("metrics-port", resp_port)
        assert r.config_get("metrics-port") == {"metrics-port": str(port)}
        assert "redis_up 1" in get(port, "/metrics")[1]
    finally:
        r.config_set("metrics-port", 0)
    with pytest.raises(urllib.error.URLError):
        get(port, "/metrics")
