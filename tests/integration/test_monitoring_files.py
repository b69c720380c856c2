"""monitoring/: the Prometheus alert rules (promtool check and promtool's
unit tests on synthetic series) and the Grafana dashboard (its JSON
against the dashboard schema's required fields, every query valid PromQL
by promtool, every metric one that Keel serves)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

import pytest

from keel_helpers import REPO_ROOT, free_port

MON = os.path.join(REPO_ROOT, "monitoring")
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
DASHBOARD = os.path.join(MON, "grafana-dashboard.json")
RULES = os.path.join(MON, "keel-alerts.yml")
# Metrics Keel's /metrics does not serve: redis_master_link_up exists only on a replica;
# redis_script_values is redis_exporter's, with -script monitoring/keel-exporter.lua.
NOT_ON_A_MASTER = {"redis_master_link_up", "redis_script_values"}
PROMQL_WORDS = {"rate", "increase", "deriv", "predict_linear", "sum", "by", "and", "unless", "on", "or",
                "instance", "type", "label_values", "redis_up"}

pytestmark = pytest.mark.skipif(not os.path.exists(PROMTOOL), reason="needs promtool (Debian's prometheus)")


def promtool(*args):
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)


def dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def dashboard_exprs():
    return [t["expr"].replace("$instance", ".*") for p in dashboard()["panels"] for t in p["targets"]]


def rule_exprs():
    return re.findall(r"expr: (.*(?:\n {10}.*)*)", open(RULES).read())


def test_rules_check_and_unit_tests():
    r = promtool("check", "rules", RULES)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 10 rules found" in r.stdout
    r = promtool("test", "rules", os.path.join(MON, "keel-alerts.test.yml"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_rule_unit_tests_can_fail(tmp_path):
    """A wrong expectation makes promtool's unit test fail: the tests above test something."""
    shutil.copy(RULES, tmp_path / "keel-alerts.yml")
    text = open(os.path.join(MON, "keel-alerts.test.yml")).read().replace("{severity: critical, instance: b}",
                                                                          "{severity: critical, instance: a}")
    (tmp_path / "t.yml").write_text(text)
    assert promtool("test", "rules", str(tmp_path / "t.yml")).returncode != 0


def test_dashboard_schema_fields():
    d = dashboard()
    for key in ("title", "uid", "schemaVersion", "panels", "templating", "time"):
        assert key in d, key
    assert isinstance(d["schemaVersion"], int) and d["schemaVersion"] >= 36
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        assert p["type"] in {"gauge", "stat", "timeseries", "bargauge", "table"}, p["title"]
        g = p["gridPos"]
        assert set(g) == {"h", "w", "x", "y"} and g["x"] + g["w"] <= 24, p["title"]
        assert p["targets"] and all(t["refId"] and t["expr"] for t in p["targets"])
        assert p["datasource"]["uid"] == "${datasource}"
    names = {v["name"] for v in d["templating"]["list"]}
    assert {"datasource", "instance"} <= names
    titles = " ".join(p["title"].lower() for p in d["panels"])
    for panel in ("maxmemory", "time to", "fragmentation", "evictions", "rejected", "last save", "replication",
                  "clients", "hit ratio"):
        assert panel in titles, panel


def test_dashboard_queries_are_valid_promql(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": "keel:panel_%d" % i, "expr": e}
                                                        for i, e in enumerate(dashboard_exprs())]}]}
    path = tmp_path / "panels.yml"
    path.write_text(json.dumps(rules))    # JSON is YAML
    r = promtool("check", "rules", str(path))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.keel_only
def test_every_metric_used_is_served_by_keel(start_server):
    port = free_port()
    start_server("--metrics-port", port)
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
        served = {line.split(" ")[2] for line in resp.read().decode().splitlines() if line.startswith("# TYPE ")}
    used = set()
    for e in dashboard_exprs() + rule_exprs():
        used |= {w for w in re.findall(r"\b(?:redis|keel)_[a-z0-9_]+\b", e)} - PROMQL_WORDS
    assert used, "no metric found in the files"
    assert not used - served - NOT_ON_A_MASTER, sorted(used - served - NOT_ON_A_MASTER)
