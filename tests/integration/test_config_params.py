"""Configuration parameters: every Redis 7.0 parameter name is accepted,
Redis's own test configuration (tests/assets/default.conf) loads, and the
start-up log carries the lines Redis's test suite waits for.

Parameters whose feature Keel has not built are stored and returned
(docs/COMMANDS.md, "accepted, no effect yet"): these tests check only what
Redis also does, so the file passes against Redis 7.0 too:

    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q \
        tests/integration/test_config_params.py
"""

import re

import pytest
import redis

from keel_helpers import wait_for

# The parameter names of Redis 7.0 (redis.conf and CONFIG GET *), written
# out here so that a name dropped from Keel's tables fails a test.
REDIS_70_PARAMETERS = """
acl-pubsub-default aclfile acllog-max-len active-defrag-cycle-max active-defrag-cycle-min
active-defrag-ignore-bytes active-defrag-max-scan-fields active-defrag-threshold-lower
active-defrag-threshold-upper active-expire-effort activedefrag activerehashing
always-show-logo aof-disable-auto-gc aof-load-truncated aof-rewrite-incremental-fsync
aof-timestamp-enabled aof-use-rdb-preamble appenddirname appendfilename appendfsync
appendonly auto-aof-rewrite-min-size auto-aof-rewrite-percentage bind bind-source-addr
busy-reply-threshold client-output-buffer-limit client-query-buffer-limit
cluster-allow-pubsubshard-when-down cluster-allow-reads-when-down
cluster-allow-replica-migration cluster-announce-bus-port cluster-announce-hostname
cluster-announce-ip cluster-announce-port cluster-announce-tls-port cluster-config-file
cluster-enabled cluster-link-sendbuf-limit cluster-migration-barrier cluster-node-timeout
cluster-port cluster-preferred-endpoint-type cluster-replica-no-failover
cluster-replica-validity-factor cluster-require-full-coverage crash-log-enabled
crash-memcheck-enabled daemonize databases dbfilename dir disable-thp dynamic-hz
enable-debug-command enable-module-command enable-protected-configs hash-max-listpack-entries
hash-max-listpack-value hll-sparse-max-bytes hz ignore-warnings io-threads io-threads-do-reads
jemalloc-bg-thread latency-monitor-threshold latency-tracking latency-tracking-info-percentiles
lazyfree-lazy-eviction lazyfree-lazy-expire lazyfree-lazy-server-del lazyfree-lazy-user-del
lazyfree-lazy-user-flush lfu-decay-time lfu-log-factor list-compress-depth
list-max-listpack-size logfile loglevel masterauth masteruser maxclients maxmemory
maxmemory-clients maxmemory-eviction-tenacity maxmemory-policy maxmemory-samples
min-replicas-max-lag min-replicas-to-write no-appendfsync-on-rewrite notify-keyspace-events
oom-score-adj oom-score-adj-values pidfile port proc-title-template propagation-error-behavior
protected-mode proto-max-bulk-len rdb-del-sync-files rdb-save-incremental-fsync rdbchecksum
rdbcompression repl-backlog-size repl-backlog-ttl repl-disable-tcp-nodelay repl-diskless-load
repl-diskless-sync repl-diskless-sync-delay repl-diskless-sync-max-replicas
repl-ping-replica-period repl-timeout replica-announce-ip replica-announce-port
replica-announced replica-ignore-disk-write-errors replica-ignore-maxmemory replica-lazy-flush
replica-priority replica-read-only replica-serve-stale-data replicaof requirepass
sanitize-dump-payload save set-max-intset-entries set-proc-title shutdown-on-sigint
shutdown-on-sigterm shutdown-timeout slowlog-log-slower-than slowlog-max-len socket-mark-id
stop-writes-on-bgsave-error stream-node-max-bytes stream-node-max-entries supervised
syslog-enabled syslog-facility syslog-ident tcp-backlog tcp-keepalive timeout
tls-auth-clients tls-ca-cert-dir tls-ca-cert-file tls-cert-file tls-ciphers tls-ciphersuites
tls-client-cert-file tls-client-key-file tls-client-key-file-pass tls-cluster
tls-dh-params-file tls-key-file tls-key-file-pass tls-port tls-prefer-server-ciphers
tls-protocols tls-replication tls-session-cache-size tls-session-cache-timeout
tls-session-caching tracking-table-max-keys unixsocket unixsocketperm
zset-max-listpack-entries zset-max-listpack-value
server_cpulist bio_cpulist aof_rewrite_cpulist bgsave_cpulist
""".split()

# Redis 7.0's older names, each answered under the name asked.
REDIS_70_ALIASES = """
slave-serve-stale-data slave-read-only slave-lazy-flush slave-ignore-maxmemory slave-priority
slave-announce-ip slave-announce-port repl-ping-slave-period min-slaves-to-write
min-slaves-max-lag cluster-slave-no-failover cluster-slave-validity-factor lua-time-limit
hash-max-ziplist-entries hash-max-ziplist-value zset-max-ziplist-entries
zset-max-ziplist-value list-max-ziplist-size slaveof
""".split()

# Hidden test knobs: answered by exact name only, not by a pattern.
HIDDEN = ["key-load-delay", "rdb-key-save-delay", "use-exit-on-panic", "watchdog-period",
          "loading-process-events-interval-bytes"]


@pytest.mark.parametrize("name", REDIS_70_PARAMETERS + REDIS_70_ALIASES + HIDDEN)
def test_every_redis_70_parameter_is_known(r, name):
    got = r.config_get(name)
    assert list(got) == [name]


@pytest.mark.parametrize("name", HIDDEN)
def test_hidden_parameters_need_their_exact_name(r, name):
    assert r.config_get(name[:-2] + "*") == {}
    assert name not in r.config_get("*")


def test_config_get_star_lists_every_parameter(r):
    names = set(r.config_get("*"))
    assert set(REDIS_70_PARAMETERS) - names == set()


@pytest.mark.parametrize("name,value,back", [
    ("repl-diskless-sync-delay", "0", "0"),
    ("repl-backlog-size", "2mb", "2097152"),
    ("propagation-error-behavior", "panic", "panic"),
    ("replica-serve-stale-data", "no", "no"),
    ("slave-serve-stale-data", "yes", "yes"),
    ("busy-reply-threshold", "2500", "2500"),
    ("appendfsync", "always", "always"),
    ("tls-protocols", "TLSv1.2 TLSv1.3", "TLSv1.2 TLSv1.3"),
    ("cluster-node-timeout", "5000", "5000"),
])
def test_not_built_parameters_store_and_return_their_value(r, name, value, back):
    old = r.config_get(name)[name]
    try:
        assert r.config_set(name, value)
        assert r.config_get(name) == {name: back}
    finally:
        r.config_set(name, old)


def test_alias_and_name_share_one_value(r):
    old = r.config_get("busy-reply-threshold")["busy-reply-threshold"]
    try:
        r.config_set("lua-time-limit", "1234")
        assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "1234"}
    finally:
        r.config_set("busy-reply-threshold", old)


@pytest.mark.parametrize("name,value,error", [
    ("repl-diskless-sync-delay", "soon", "argument couldn't be parsed into an integer"),
    ("repl-timeout", "0", "argument must be between 1 and 2147483647 inclusive"),
    ("replica-read-only", "maybe", "argument must be 'yes' or 'no'"),
    ("appendfsync", "sometimes", "argument(s) must be one of the following: everysec, always, no"),
    ("propagation-error-behavior", "maybe",
     "argument(s) must be one of the following: ignore, panic, panic-on-replicas"),
])
def test_not_built_parameters_are_validated_as_redis_does(r, name, value, error):
    old = r.config_get(name)[name]
    with pytest.raises(redis.ResponseError) as e:
        r.config_set(name, value)
    assert str(e.value).startswith(
        "CONFIG SET failed (possibly related to argument '%s') - %s" % (name, error))
    assert r.config_get(name) == {name: old}


@pytest.mark.parametrize("name,value", [
    ("enable-protected-configs", "yes"), ("io-threads", "2"), ("cluster-enabled", "yes")])
def test_immutable_parameters_are_refused_at_run_time(r, name, value):
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set(name, value)


def test_failed_multi_set_puts_every_value_back(r):
    before = r.config_get("maxmemory-samples")["maxmemory-samples"]
    stub_before = r.config_get("repl-timeout")["repl-timeout"]
    with pytest.raises(redis.ResponseError, match="repl-diskless-sync-delay"):
        r.execute_command("CONFIG", "SET", "maxmemory-samples", "7", "repl-timeout", "99",
                          "repl-diskless-sync-delay", "x")
    assert r.config_get("maxmemory-samples")["maxmemory-samples"] == before
    assert r.config_get("repl-timeout")["repl-timeout"] == stub_before


# The directives of Redis 7.0's tests/assets/default.conf (the suite's own
# servers start from it), with the port, pid file and dir made local.
SUITE_DEFAULT_CONF = """\
always-show-logo yes
notify-keyspace-events KEA
daemonize no
pidfile {dir}/redis.pid
port {port}
timeout 0
bind 127.0.0.1
loglevel verbose
logfile ''
databases 16
latency-monitor-threshold 1
repl-diskless-sync-delay 0
save 900 1
rdbcompression yes
dbfilename dump.rdb
dir {dir}
slave-serve-stale-data yes
appendonly no
appendfsync everysec
no-appendfsync-on-rewrite no
activerehashing yes
enable-protected-configs yes
enable-debug-command yes
enable-module-command yes
propagation-error-behavior panic
"""


def test_redis_suite_default_conf_loads_and_logs_pid(tmp_path):
    from keel_helpers import Server, free_port
    port = free_port()
    conf = tmp_path / "default.conf"
    conf.write_text(SUITE_DEFAULT_CONF.format(port=port, dir=tmp_path))
    srv = Server(config_file=str(conf), base_args=False)
    srv.start = _start_on(srv, port)
    srv.start()
    try:
        c = srv.client()
        assert c.config_get("repl-diskless-sync-delay") == {"repl-diskless-sync-delay": "0"}
        assert c.config_get("propagation-error-behavior") == {"propagation-error-behavior": "panic"}
        assert c.config_get("latency-monitor-threshold") == {"latency-monitor-threshold": "1"}
        pid = srv.proc.pid
        # What Redis's tests/support/server.tcl waits for before talking to
        # a server it started.
        assert wait_for(lambda: re.search(" PID: %d" % pid, srv.log_text()), timeout=10)
        assert wait_for(lambda: "Ready to accept" in srv.log_text(), timeout=10)
    finally:
        assert srv.stop() == []


def _start_on(srv, port):
    """Start srv on a fixed port (its config file names the port)."""
    import subprocess

    def start(timeout=10.0):
        srv.port = port
        with open(srv.log, "ab") as logf:
            srv.proc = subprocess.Popen(srv.args(port), cwd=srv.dir, stdout=logf,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=srv.environment())
        srv.wait_ready(timeout)
        return srv
    return start


def test_default_conf_directive_of_unknown_name_still_fails(tmp_path):
    from keel_helpers import Server, ServerError
    conf = tmp_path / "bad.conf"
    conf.write_text("no-such-directive yes\n")
    srv = Server(config_file=str(conf))
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert "Bad directive" in srv.log_text()
    srv.expected_exit = True
    assert srv.stop() == []


@pytest.mark.parametrize("name,error", [
    ("maxmemory-policy", "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
     "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
    ("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"),
])
def test_enum_errors_list_the_values_in_redis_order(r, name, error):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set(name, "bogus")
    assert str(e.value) == "CONFIG SET failed (possibly related to argument '%s') - %s" % (name, error)


# ---- CONFIG SET port / bind at run time (unit/networking) ----

def test_config_set_port_moves_the_listener(start_server):
    from keel_helpers import free_port
    srv = start_server()
    c = srv.client()
    new = free_port()
    old = srv.port
    assert c.config_set("port", new)
    assert c.ping()                       # the connection made before stays
    moved = redis.Redis(host="127.0.0.1", port=new, socket_timeout=5)
    assert moved.ping()
    assert moved.config_get("port") == {"port": str(new)}
    with pytest.raises(redis.ConnectionError):
        redis.Redis(host="127.0.0.1", port=old, socket_timeout=2).ping()
    srv.port = new                        # so that stop() finds it
    moved.connection_pool.disconnect()


def test_config_set_port_in_use_keeps_the_old_port(start_server):
    srv = start_server()
    other = start_server()
    c = srv.client()
    with pytest.raises(redis.ResponseError, match="Unable to listen on this port"):
        c.config_set("port", other.port)
    assert c.config_get("port") == {"port": str(srv.port)}
    assert redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=5).ping()


def test_config_set_bind_rebinds(start_server):
    srv = start_server()
    c = srv.client()
    assert c.config_set("bind", "127.0.0.1 -::1")
    assert c.config_get("bind") == {"bind": "127.0.0.1 -::1"}
    assert redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=5).ping()
    with pytest.raises(redis.ResponseError, match="Failed to bind to specified addresses"):
        c.config_set("bind", "192.0.2.1")        # TEST-NET: not on this host
    assert c.config_get("bind") == {"bind": "127.0.0.1 -::1"}
    assert redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=5).ping()


# ---- unit/introspection: "CONFIG GET multiple args" ----

def test_config_get_patterns_match_older_names_too(r):
    assert set(r.config_get("*of")) == {"replicaof", "slaveof"}
    assert set(r.config_get("hash-max-*")) == {
        "hash-max-listpack-entries", "hash-max-listpack-value",
        "hash-max-ziplist-entries", "hash-max-ziplist-value"}


def test_config_get_multiple_args_lists_each_spelling_once(r):
    flat = r.execute_command("CONFIG", "GET", "maxmemory", "maxmemory*", "bind", "*of")
    names = flat[0::2]
    assert len(names) == len(set(names))
    got = set(n.decode() for n in names)
    assert {"maxmemory", "maxmemory-samples", "maxmemory-clients", "bind", "replicaof",
            "slaveof"} <= got


# ---- unit/introspection: "redis-server command line arguments - ..." ----

@pytest.mark.parametrize("args,want", [
    (["--proc-title-template", "--my--title--template", "--loglevel", "verbose"],
     {"proc-title-template": "--my--title--template", "loglevel": "verbose"}),
    (["--proc-title-template --my--title--template", "--loglevel verbose"],
     {"proc-title-template": "--my--title--template", "loglevel": "verbose"}),
    (["--save", "60 1", "--loglevel", "verbose", "--save"], {"save": "", "loglevel": "verbose"}),
    (["--save", "60 1", "--save", "--loglevel", "verbose"], {"save": "", "loglevel": "verbose"}),
    (["--proc-title-template", "--save", "--save", "", "--loglevel", "verbose"],
     {"proc-title-template": "--save", "save": "", "loglevel": "verbose"}),
])
def test_command_line_option_values(start_server, args, want):
    c = start_server(*args).client()
    for name, value in want.items():
        assert c.config_get(name) == {name: value}


# ---- unit/introspection: "CONFIG save params special case handled properly" ----

@pytest.mark.parametrize("extra,want", [([], "900 1 100 100"), (["--save", ""], "")])
def test_save_lines_of_a_config_file_add_up(tmp_path, extra, want):
    from keel_helpers import Server, free_port
    port = free_port()
    conf = tmp_path / "save.conf"
    conf.write_text("save 900 1\nsave 100 100\nport %d\nbind 127.0.0.1\n" % port)
    srv = Server(config_file=str(conf), base_args=False, extra_args=extra)
    srv.start = _start_on(srv, port)
    srv.start()
    try:
        assert srv.client().config_get("save") == {"save": want}
    finally:
        assert srv.stop() == []
