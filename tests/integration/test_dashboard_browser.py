"""The memory dashboard in headless Chromium (issue 17): the page served on
metrics-port is loaded by a real browser, its script fetches and draws the
figures, and the figures it shows (data-value attributes of the rendered
DOM) are compared with INFO. Chromium runs with a virtual time budget, so
the page's once-a-second refresh runs several times without the test
waiting on a clock."""
import json
import os
import re
import shutil
import subprocess
import urllib.request

import pytest
import redis

from keel_helpers import free_port, wait_for

pytestmark = pytest.mark.keel_only

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def rendered_dom(port, profile_dir, budget_ms=5000):
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--user-data-dir=%s" % profile_dir,
                        "--virtual-time-budget=%d" % budget_ms, "--dump-dom", "http://127.0.0.1:%d/" % port],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def shown(dom, ident):
    m = re.search(r'id="%s" data-value="([^"]*)"' % ident, dom)
    assert m, ident
    return m.group(1)


def dashboard_json(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/dashboard.json" % port, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (scripts/install-deps.sh)")
def test_page_shows_the_figures_info_gives(start_server, tmp_path):
    port = free_port()
    srv = start_server("--metrics-port", port, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
    c = redis.Redis(host=srv.host, port=srv.port)
    for i in range(200):
        c.set("s:%d" % i, "v" * 100)
    c.rpush("biglist", *range(5000))
    c.hset("hash", mapping={"f%d" % i: i for i in range(50)})
    c.sadd("set", *range(20))
    c.get("s:1"), c.get("s:2"), c.get("missing")
    # Two complete passes of the background sampler, so what the page shows is one.
    wait_for(lambda: dashboard_json(port)["profile_passes"] >= 2, timeout=60)

    dom = rendered_dom(port, tmp_path)
    info = c.info("everything")
    assert int(shown(dom, "maxmemory")) == info["maxmemory"] == 100 * 1024 * 1024
    assert int(shown(dom, "keyspace_hits")) == info["keyspace_hits"] == 2
    assert int(shown(dom, "keyspace_misses")) == info["keyspace_misses"] == 1
    assert float(shown(dom, "hit_ratio")) == pytest.approx(2 / 3, abs=1e-4)
    assert int(shown(dom, "evicted_keys")) == info["evicted_keys"]
    assert shown(dom, "last_save_status") == info["rdb_last_bgsave_status"] == "ok"
    assert int(shown(dom, "last_save_time")) == info["rdb_last_save_time"]
    assert int(shown(dom, "used_memory")) == pytest.approx(info["used_memory"], rel=0.1)
    assert int(shown(dom, "used_memory_rss")) == pytest.approx(info["used_memory_rss"], rel=0.25)
    assert float(shown(dom, "memory_pct")) == pytest.approx(info["used_memory"] * 100 / info["maxmemory"], rel=0.1)
    ttf = int(shown(dom, "time_to_full"))
    assert ttf == -1 or ttf > 0
    assert float(shown(dom, "growth_1m")) == pytest.approx(info["used_memory_growth_1min"], abs=1e6)
    # Memory by type and the biggest keys, from the sampler.
    rows = dict(re.findall(r'<tr data-type="(\w+)" data-bytes="\d+" data-keys="(\d+)">', dom))
    assert rows["string"] == "200" and rows["list"] == "1" and rows["hash"] == "1" and rows["set"] == "1"
    keys = re.findall(r'<tr data-key="([^"]+)" data-bytes="(\d+)">', dom)
    assert keys[0][0] == "biglist"
    assert abs(int(keys[0][1]) - c.memory_usage("biglist")) <= 0.1 * c.memory_usage("biglist")
    # Live: the page refreshed itself several times and drew a timeline.
    assert int(re.search(r'data-refreshes="(\d+)"', dom).group(1)) >= 2
    assert int(re.search(r'data-points="(\d+)"', dom).group(1)) >= 2
    assert "<polyline" in dom
