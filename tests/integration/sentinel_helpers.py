"""Helpers for the Sentinel tests: a replicated Redis deployment (Debian's
redis-server 7.0 as master and replicas, since Keel's own replication is a
separate piece of work) and Sentinel processes watching it.

The sentinel under test is Keel's (the keel-sentinel name beside
$KEEL_SERVER: bin/keel-sentinel, bin/keel-sentinel-asan); when the suite
is validated against Redis (KEEL_SERVER=/usr/bin/redis-server) it is
Debian's redis-sentinel, so the same tests check themselves against Redis.
"""

import os

import redis

from keel_helpers import Server, running_against_redis, server_binary, wait_for

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_SENTINEL = "/usr/bin/redis-sentinel"
MASTER = "mymaster"


def sentinel_binary():
    if running_against_redis():
        return REDIS_SENTINEL
    path = server_binary()
    return os.path.join(os.path.dirname(path), os.path.basename(path).replace("keel-server", "keel-sentinel"))


class SentinelServer(Server):
    """A sentinel started from its own config file (in its directory), which
    it rewrites as its state changes."""

    def __init__(self, lines=(), binary=None, args_before=(), **kw):
        super().__init__(binary=binary or sentinel_binary(), base_args=False, name="sentinel", **kw)
        self.config_file = os.path.join(self.dir, "sentinel.conf")
        self.args_before = list(args_before)
        with open(self.config_file, "w") as f:
            f.write("bind 127.0.0.1\n")
            for line in lines:
                f.write(line + "\n")

    def args(self, port):
        return [self.binary] + self.args_before + [self.config_file, "--port", str(port)] + self.extra_args

    def config_text(self):
        with open(self.config_file) as f:
            return f.read()

    def sentinel(self, *args):
        c = self.client(decode_responses=True)
        try:
            return c.execute_command("SENTINEL", *args)
        finally:
            c.connection_pool.disconnect()

    def master_addr(self, name=MASTER):
        c = self.client(decode_responses=True)
        try:
            addr = c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
            return (addr[0], int(addr[1])) if addr else ()
        finally:
            c.connection_pool.disconnect()

    def master_state(self, name=MASTER):
        return as_dict(self.sentinel("master", name))


def as_dict(flat):
    """A RESP2 field/value array as a dict (RESP3 replies already are)."""
    if isinstance(flat, dict):
        return flat
    return dict(zip(flat[0::2], flat[1::2]))


def monitor_lines(master_port, quorum, down_after=1000, failover_timeout=6000, name=MASTER):
    return ["sentinel monitor %s 127.0.0.1 %d %d" % (name, master_port, quorum),
            "sentinel down-after-milliseconds %s %d" % (name, down_after),
            "sentinel failover-timeout %s %d" % (name, failover_timeout)]


def start_redis(start_server, *args, binary=REDIS_SERVER):
    return start_server("--repl-diskless-sync-delay", "0", *args, binary=binary)


def start_replicated(start_server, replicas=2, binary=REDIS_SERVER):
    """A master and its replicas: Debian's redis-server by default, or
    binary (the server under test: Keel's own replication)."""
    master = start_redis(start_server, binary=binary)
    reps = [start_redis(start_server, "--replicaof", "127.0.0.1", master.port, binary=binary)
            for _ in range(replicas)]
    for rep in reps:
        assert wait_for(lambda: rep.info("replication").get("master_link_status") == "up", 20)
    return master, reps


def start_sentinel(started, lines, binary=None, args_before=()):
    s = SentinelServer(lines=lines, binary=binary, args_before=args_before)
    started.append(s)
    s.start()
    return s


def role(srv):
    c = srv.client(decode_responses=True)
    try:
        return c.execute_command("ROLE")
    finally:
        c.connection_pool.disconnect()


def kill(srv):
    """The master goes away at once (SHUTDOWN NOSAVE: no final save, and
    the process exits cleanly, so the fixture's crash check stays quiet)."""
    srv.expected_exit = True
    c = srv.client()
    try:
        c.execute_command("SHUTDOWN", "NOSAVE")
    except (redis.ConnectionError, redis.ResponseError):
        pass
    srv.proc.wait(30)
