"""keel-cli --rdb-report (issue 16): a memory report made from a dump, with
no server running, on dumps written by keel-server and by Debian's
redis-server 7.0: redis-rdb-tools' memory CSV, and the audit summary as
text and JSON. For a dump Keel wrote, the size of every key agrees with
Keel's MEMORY USAGE of that key within 10% (docs/CLI_MEMORY.md, "Size model")."""

import csv
import io
import json
import os
import re
import shutil
import tempfile

import pytest

from cli_helpers import client_env, redis_server, run
from cli_mem_helpers import KEEL_CLI, populate


def rdb_report(path, *args):
    rc, out, err = run(KEEL_CLI, ["--rdb-report", path] + list(args), env=client_env())
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def saved_dump(srv):
    """SAVE, then a copy of the dump (so that the server can go on)."""
    c = srv.client()
    c.save()
    d = tempfile.mkdtemp(prefix="cli-mem-rdb-")
    path = os.path.join(d, "dump.rdb")
    shutil.copy(os.path.join(srv.dir, c.config_get("dbfilename")["dbfilename"]), path)
    return path


def csv_rows(out):
    rows = list(csv.DictReader(io.StringIO(out)))
    return {(int(r["database"]), r["key"]): r for r in rows}


@pytest.fixture
def keel_dump(start_server):
    srv = start_server("--enable-debug-command", "yes")
    c = srv.client()
    populate(c)
    c.select(3)
    c.set("in:db3", "x")
    c.select(0)
    return srv, saved_dump(srv)


def length_of(c, key, t):
    return {"string": c.strlen, "list": c.llen, "set": c.scard, "zset": c.zcard, "hash": c.hlen,
            "stream": c.xlen}[t](key)


@pytest.mark.keel_only
def test_csv_of_a_keel_dump_agrees_with_memory_usage(keel_dump):
    srv, path = keel_dump
    c = srv.client()
    rc, out, err = rdb_report(path, "--csv")
    assert (rc, err) == (0, "")
    assert out.split("\n")[0] == "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry"
    rows = csv_rows(out)
    assert len(rows) == c.dbsize() + 1
    assert rows[(3, "in:db3")]["type"] == "string"
    worst = 0
    for (db, key), row in rows.items():
        if db != 0:
            continue
        assert row["type"] == c.type(key).decode()
        assert int(row["num_elements"]) == length_of(c, key, row["type"])
        if row["type"] == "stream":
            continue  # a live stream's last node keeps write headroom: compared after a reload below
        usage = c.memory_usage(key, samples=0)
        worst = max(worst, abs(int(row["size_in_bytes"]) - usage) / usage)
    assert worst <= 0.10
    # After loading that dump, every key (streams too) agrees.
    c.execute_command("DEBUG", "RELOAD")
    for (db, key), row in rows.items():
        if db == 0:
            usage = c.memory_usage(key, samples=0)
            assert abs(int(row["size_in_bytes"]) - usage) / usage <= 0.10, (key, row, usage)


def test_csv_fields(keel_dump):
    srv, path = keel_dump
    rc, out, _ = rdb_report(path, "--csv")
    rows = csv_rows(out)
    big = rows[(0, "blob:big")]
    assert (big["type"], big["encoding"], big["num_elements"], big["len_largest_element"], big["expiry"]) == \
        ("string", "string", "100000", "100000", "")
    assert int(big["size_in_bytes"]) >= 100000
    h = rows[(0, "obj:49")]
    assert (h["type"], h["num_elements"], h["len_largest_element"]) == ("hash", "148", "147")
    z = rows[(0, "rank:19")]
    assert (z["type"], z["encoding"], z["num_elements"], z["len_largest_element"]) == ("zset", "skiplist", "571", "4")
    sess = rows[(0, "sess:00000000abc")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", sess["expiry"])
    assert rows[(0, "events:2")]["num_elements"] == "101"
    assert '\n0,string,"blob:big",' in out


def test_summary_of_a_keel_dump(keel_dump):
    srv, path = keel_dump
    rc, out, err = rdb_report(path, "--prefix-depth", "1")
    assert rc == 0, err
    assert out.startswith("# Memory audit of %s (RDB version " % path)
    assert re.search(r"^2615 keys, \S+ in keys \(\d+ bytes\)$", out, re.M)
    assert re.search(r"^user:\* +2000 ", out, re.M)
    assert re.search(r"^sess:\* +500 +\S+ +\S+% +0  string$", out, re.M)
    assert re.search(r"^2115 keys without TTL \(", out, re.M)
    assert re.search(r"^1 minute - 1 hour +500 keys", out, re.M)
    top = out.split("-------- 20 largest keys --------\n")[1].split("\n")
    assert top[1].split()[-1] == "blob:big"
    assert "hash: " in out and "CONFIG SET hash-max-listpack-entries 148 hash-max-listpack-value 147" in out
    assert "-------- recommendations --------\n- " in out


def test_json_summary(keel_dump):
    srv, path = keel_dump
    rc, out, err = rdb_report(path, "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["keys"] == 2615
    assert sum(t["bytes"] for t in d["types"].values()) == d["bytes"]
    assert d["types"]["stream"]["keys"] == 3
    pats = {p["pattern"]: p for p in d["patterns"]}
    assert pats["user:*:*"]["keys"] == 2000
    assert pats["sess:*"]["no_ttl_keys"] == 0
    assert d["largest_keys"][0]["key"] == "blob:big"
    assert len(d["largest_keys"]) == 20
    hashes = [x for x in d["compact_candidates"] if x["type"] == "hash"][0]
    assert hashes["config"] == {"hash-max-listpack-entries": 148, "hash-max-listpack-value": 147}


def test_dump_written_by_redis(start_server):
    srv = redis_server()
    srv.start()
    try:
        c = srv.client()
        populate(c, users=300, sessions=20)
        c.sadd("ints", *range(10))
        c.hset("small", "a", "1")
        path = saved_dump(srv)
        rc, out, err = rdb_report(path, "--csv")
        assert (rc, err) == (0, "")
        rows = csv_rows(out)
        assert len(rows) == c.dbsize()
        for (db, key), row in rows.items():
            t = c.type(key).decode()
            assert row["type"] == t
            assert int(row["num_elements"]) == length_of(c, key, t)
            enc = c.object("encoding", key).decode()
            if t != "string":
                assert row["encoding"] == {"listpack": "listpack", "quicklist": "quicklist", "intset": "intset",
                                           "hashtable": "hashtable", "skiplist": "skiplist",
                                           "stream": "stream"}[enc], (key, row, enc)
        assert rows[(0, "ints")]["encoding"] == "intset"
        assert rows[(0, "small")]["encoding"] == "listpack"
        rc, out, err = rdb_report(path)
        assert rc == 0
        assert re.search(r"redis-ver 7\.0\.\d+\)", out.split("\n")[0])
        assert re.search(r"^%d keys, " % c.dbsize(), out, re.M)
    finally:
        srv.stop()


def test_bad_files(tmp_path):
    rc, out, err = rdb_report(str(tmp_path / "missing.rdb"))
    assert rc == 1 and "missing.rdb" in err
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(b"REDIS0010\xfa\x09redis-ver\x057.0.1\x00\x01")
    rc, out, err = rdb_report(str(bad), "--csv")
    assert rc == 1
    assert "bad.rdb" in err and "offset" in err
    rc, out, err = rdb_report(str(bad), "--prefix-depth", "0")
    assert rc == 1 and err == "--prefix-depth value should be at least 1.\n"


def test_no_server_needed(tmp_path, keel_dump):
    """The report runs with nothing listening on the address given."""
    srv, path = keel_dump
    rc, out, err = run(KEEL_CLI, ["-p", "1", "--rdb-report", path, "--json"], env=client_env())
    assert rc == 0 and json.loads(out)["keys"] == 2615


SEEDS = os.path.join(os.path.dirname(__file__), "..", "fuzz", "rdb_seeds")


def test_older_and_newer_formats(tmp_path):
    """RDB 9 (Redis 5/6: ziplists, zipmap), 12 (Redis 7.2+: set listpack,
    quicklist 2) and Redis 7.4's hashes with field TTLs (types 24, 25)."""
    rc, out, err = rdb_report(os.path.join(SEEDS, "old-v9.rdb"), "--csv")
    assert rc == 0, err
    rows = csv_rows(out)
    assert (rows[(0, "zl")]["type"], rows[(0, "zl")]["encoding"]) == ("list", "ziplist")
    assert (rows[(0, "zm")]["type"], rows[(0, "zm")]["encoding"]) == ("hash", "zipmap")
    assert rows[(0, "t")]["expiry"].startswith("2033-05-18T03:33:20")
    rc, out, err = rdb_report(os.path.join(SEEDS, "new-v12.rdb"), "--csv")
    assert rc == 0, err
    rows = csv_rows(out)
    assert (rows[(0, "sl")]["type"], rows[(0, "sl")]["encoding"], rows[(0, "sl")]["num_elements"]) == \
        ("set", "listpack", "2")
    from rdb_fixtures import key, rdb_file, selectdb
    from test_rdb_hash_ttl import HOUR, hash_listpack_ex, hash_metadata, now_ms
    t = now_ms()
    body = (selectdb(0) + key(24, "h24", hash_metadata([("a", "1", t + HOUR), ("bb", "22", None)])) +
            key(25, "h25", hash_listpack_ex([("a", "1", t + HOUR), ("b", "2", None), ("c", "333", None)])))
    path = tmp_path / "v12-field-ttl.rdb"
    path.write_bytes(rdb_file(body, version=12))
    rc, out, err = rdb_report(str(path), "--csv")
    assert rc == 0, err
    rows = csv_rows(out)
    assert [(r["type"], r["encoding"], r["num_elements"], r["len_largest_element"])
            for r in (rows[(0, "h24")], rows[(0, "h25")])] == [("hash", "hashtable", "2", "2"),
                                                               ("hash", "listpack", "3", "3")]
