"""Shared helpers for the replication tests: attach a replica, wait until
it has applied everything its master sent, fill every type in several
databases, and compare whole datasets with DEBUG DIGEST."""
from keel_helpers import wait_for


def repl_info(srv):
    return srv.info("replication")


def link_up(srv):
    return repl_info(srv).get("master_link_status") == "up"


def attach(replica, master, timeout=30):
    replica.client().replicaof(master.host, master.port)
    assert wait_for(lambda: link_up(replica), timeout=timeout), logs(master, replica)


def in_sync(master, replica):
    mi, ri = repl_info(master), repl_info(replica)
    return (ri.get("master_link_status") == "up"
            and ri.get("slave_repl_offset") == mi.get("master_repl_offset"))


def logs(*servers):
    return "\n".join("--- %s\n%s" % (s.log, s.log_text()[-3000:]) for s in servers)


def wait_in_sync(master, replica, timeout=30):
    assert wait_for(lambda: in_sync(master, replica), timeout=timeout), logs(master, replica)


def digest_all(c):
    return c.execute_command("DEBUG", "DIGEST")


def fill_all_types(c, dbs=16):
    """Every type, with and without TTLs, in `dbs` databases."""
    for db in range(dbs):
        c.execute_command("SELECT", db)
        p = c.pipeline(transaction=False)
        p.execute_command("SELECT", db)
        k = "db%d:" % db
        p.set(k + "str", "v%d" % db)
        p.set(k + "int", 12345 + db)
        p.set(k + "str:ttl", "x" * 100, ex=1000)
        p.rpush(k + "list", *["e%d" % i for i in range(50)])
        p.rpush(k + "biglist", *["x" * 100 for _ in range(300)])
        p.sadd(k + "intset", *range(30))
        p.sadd(k + "set", *["m%d" % i for i in range(200)])
        p.zadd(k + "zset", {"a": 1, "b": 2.5, "c": -3})
        p.zadd(k + "bigzset", {"m%d" % i: i for i in range(200)})
        p.hset(k + "hash", mapping={"f1": "v1", "f2": "2"})
        p.hset(k + "bighash", mapping={"f%d" % i: "v" * 80 for i in range(200)})
        p.xadd(k + "stream", {"f": "v"}, id="1-1")
        p.xadd(k + "stream", {"f": "w"}, id="2-1")
        p.pfadd(k + "hll", "a", "b", "c")
        p.setbit(k + "bits", 100, 1)
        p.expire(k + "hash", 5000)
        p.execute()
    c.execute_command("SELECT", 0)


def error_of(srv, *args):
    """The whole error line (code included) a command gets, from a raw
    connection (redis-py strips or maps the codes)."""
    with srv.raw() as c:
        reply = c.cmd(*args)
    assert isinstance(reply, str) and type(reply).__name__ == "Error", reply
    return str(reply)
