/*
 * repl_cmds: replication's commands (REPLICAOF/SLAVEOF, ROLE, PSYNC,
 * SYNC, REPLCONF, WAIT), its parameters, INFO replication, and the
 * module's entry points for the core (init, cron, before_sleep, the
 * dispatch checks).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "repl/repl.h"
#include "repl/repl_internal.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/config.h"
#include "core/db.h"
#include "core/propagate.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "persist/rdb.h"

char *cfg_masterauth, *cfg_masteruser, *cfg_announce_ip;
int cfg_serve_stale, cfg_read_only, cfg_lazy_flush, cfg_ignore_maxmemory, cfg_priority;
int cfg_announce_port, cfg_announced, cfg_diskless_sync, cfg_diskless_delay;
int cfg_diskless_max, cfg_diskless_load, cfg_ping_period, cfg_timeout;
int cfg_min_replicas, cfg_min_replicas_lag, cfg_propagation_error;
long long cfg_backlog_size, cfg_backlog_ttl;
static int cfg_ignore_disk_errors, cfg_disable_nodelay;
static char *startup_master; /* "host port" from the configuration file */

/* ---- parameters ---- */

static int set_replicaof(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    if (argc == 0) return 1;
    if (argc != 2) {
        *err = "wrong number of arguments";
        return 0;
    }
    zfree(startup_master);
    startup_master = NULL;
    if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one")) return 1;
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (!argv[1][0] || *end || port < 0 || port > 65535) {
        *err = "Invalid master port";
        return 0;
    }
    char buf[300];
    snprintf(buf, sizeof(buf), "%s %s", argv[0], argv[1]);
    startup_master = zstrdup(buf);
    rdb_load_keep_expired = 1; /* the start-up load is a replica's */
    return 1;
}

static kstr get_replicaof(const config_entry *ce) {
    (void)ce;
    if (!ML.host) return kstr_empty();
    return kstr_cat_printf(kstr_empty(), "%s %d", ML.host, ML.port);
}

static int read_only_changed(const char **err) {
    (void)err;
    db_set_replica_mode(repl_is_replica(), cfg_read_only);
    return 1;
}

static const enum_value diskless_load_enum[] = {{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {NULL, 0}};
static const enum_value propagation_error_enum[] = {
    {"ignore", PROPAGATION_ERR_IGNORE}, {"panic", PROPAGATION_ERR_PANIC},
    {"panic-on-replicas", PROPAGATION_ERR_PANIC_ON_REPLICAS}, {NULL, 0}};

config_entry repl_configs[] = {
    CONFIG_SPECIAL("replicaof", NULL, "", set_replicaof, get_replicaof, CF_IMMUTABLE | CF_REWRITE_OMIT_EMPTY, .alias = "slaveof"),
    CONFIG_STRING("masterauth", &cfg_masterauth, "", 0, NULL),
    CONFIG_STRING("masteruser", &cfg_masteruser, "", 0, NULL),
    CONFIG_BOOL("replica-serve-stale-data", &cfg_serve_stale, "yes", 0, NULL, .alias = "slave-serve-stale-data"),
    CONFIG_BOOL("replica-read-only", &cfg_read_only, "yes", 0, read_only_changed, .alias = "slave-read-only"),
    CONFIG_BOOL("replica-lazy-flush", &cfg_lazy_flush, "no", 0, NULL, .alias = "slave-lazy-flush"),
    CONFIG_BOOL("replica-ignore-maxmemory", &cfg_ignore_maxmemory, "yes", 0, NULL, .alias = "slave-ignore-maxmemory"),
    CONFIG_BOOL("replica-ignore-disk-write-errors", &cfg_ignore_disk_errors, "no", 0, NULL),
    CONFIG_BOOL("replica-announced", &cfg_announced, "yes", 0, NULL),
    CONFIG_INT("replica-priority", &cfg_priority, "100", 0, INT_MAX, 0, NULL, .alias = "slave-priority"),
    CONFIG_STRING("replica-announce-ip", &cfg_announce_ip, "", 0, NULL, .alias = "slave-announce-ip"),
    CONFIG_INT("replica-announce-port", &cfg_announce_port, "0", 0, 65535, 0, NULL, .alias = "slave-announce-port"),
    CONFIG_BOOL("repl-diskless-sync", &cfg_diskless_sync, "yes", 0, NULL),
    CONFIG_INT("repl-diskless-sync-delay", &cfg_diskless_delay, "5", 0, INT_MAX, 0, NULL),
    CONFIG_INT("repl-diskless-sync-max-replicas", &cfg_diskless_max, "0", 0, INT_MAX, 0, NULL),
    CONFIG_ENUM("repl-diskless-load", &cfg_diskless_load, "disabled", diskless_load_enum, CF_DENY_LOADING, NULL),
    CONFIG_BOOL("repl-disable-tcp-nodelay", &cfg_disable_nodelay, "no", 0, NULL),
    CONFIG_MEMORY("repl-backlog-size", &cfg_backlog_size, "1mb", 1, LLONG_MAX, 0, NULL),
    CONFIG_LL("repl-backlog-ttl", &cfg_backlog_ttl, "3600", 0, LONG_MAX, 0, NULL),
    CONFIG_INT("repl-ping-replica-period", &cfg_ping_period, "10", 1, INT_MAX, 0, NULL, .alias = "repl-ping-slave-period"),
    CONFIG_INT("repl-timeout", &cfg_timeout, "60", 1, INT_MAX, 0, NULL),
    CONFIG_INT("min-replicas-to-write", &cfg_min_replicas, "0", 0, INT_MAX, 0, NULL, .alias = "min-slaves-to-write"),
    CONFIG_INT("min-replicas-max-lag", &cfg_min_replicas_lag, "10", 0, INT_MAX, 0, NULL, .alias = "min-slaves-max-lag"),
    CONFIG_ENUM("propagation-error-behavior", &cfg_propagation_error, "ignore", propagation_error_enum, 0, NULL),
    CONFIG_END,
};

/* ---- entry points ---- */

/* ---- replication info in RDB files ---- */

repl_aux RAUX;

static int write_aux(rdb_writer *w) {
    if (!RS.head && !repl_is_replica()) return 0;
    char db[16], off[32];
    int sdb = repl_is_replica() ? replica_stream_db() : (RS.stream_db >= 0 ? RS.stream_db : 0);
    snprintf(db, sizeof(db), "%d", sdb);
    snprintf(off, sizeof(off), "%lld", RS.offset);
    return rdb_write_aux(w, "repl-stream-db", db) | rdb_write_aux(w, "repl-id", RS.replid) |
           rdb_write_aux(w, "repl-offset", off);
}

static void on_aux(const char *k, size_t klen, const char *v, size_t vlen) {
    char val[64];
    snprintf(val, sizeof(val), "%.*s", (int)(vlen < sizeof(val) - 1 ? vlen : sizeof(val) - 1), v);
    if (klen == 7 && !memcmp(k, "repl-id", 7) && vlen == 40) {
        memcpy(RAUX.id, v, 40);
        RAUX.id[40] = '\0';
        RAUX.have_id = 1;
    } else if (klen == 11 && !memcmp(k, "repl-offset", 11)) {
        RAUX.off = strtoll(val, NULL, 10);
    } else if (klen == 14 && !memcmp(k, "repl-stream-db", 14)) {
        RAUX.db = atoi(val);
    }
}

void repl_early_init(void) { repl_aux_install(); }

void repl_aux_install(void) {
    rdb_extra_aux = write_aux;
    rdb_aux_listener = on_aux;
}

void repl_init(void) {
    rdb_load_keep_expired = 0;
    rstream_new_replid();
    propagate_add_listener(master_feed_listener, NULL);
    if (startup_master) {
        char host[256];
        int port;
        if (sscanf(startup_master, "%255s %d", host, &port) == 2) {
            replica_set_master(host, port); /* connects; PSYNC comes later */
            replica_resume_from_rdb();
        }
    }
}

void repl_cron(void) {
    replica_cron();
    master_cron();
}

static void wait_check(client *c, long long target, long long n);
static void wait_reply(client *c, long long target, long long n);

int repl_ignores_maxmemory(void) { return repl_is_replica() && cfg_ignore_maxmemory; }

void repl_before_sleep(void) {
    rfailover_update();
    master_before_sleep();
    blocking_foreach_event_of(wait_reply, wait_check);
}

void repl_client_gone(client *c) { master_replica_gone(c); }

/* A replica's connection carries only REPLCONF ACK: anything else would
 * get a reply the replica cannot take (it would corrupt its stream), so
 * the connection is closed with Redis's log lines, and keyspace commands
 * get Redis's error first. */
static const char *replica_sent_command(client *c, command *cmd) {
    const char *name = cmd->parent ? cmd->parent->name : cmd->name;
    if (!strcmp(name, "replconf") || !strcmp(name, "psync") || !strcmp(name, "sync")) return NULL;
    const char *err = "ERR Replica can't interact with the keyspace";
    if (cmd->flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE))
        server_log(LOG_WARNING, "== CRITICAL == This master is sending an error to its replica: '%s' after "
                   "processing the command '%s'", err + 4, cmd->fullname);
    else err = "ERR Replica generated a reply";
    server_log(LOG_WARNING, "Replica generated a reply to command '%s', disconnecting it: addr=%s", cmd->fullname,
               c->addr);
    client_close_async(c);
    return err;
}

const char *repl_deny_command(client *c, command *cmd, int queued_write) {
    int is_write = (cmd->flags & CMD_WRITE) || queued_write;
    if (repl_is_master_client(c)) return NULL;
    if (c->flags & CLIENT_REPLICA) return replica_sent_command(c, cmd);
    if (repl_is_replica()) {
        if (!link_is_up() && !cfg_serve_stale && !(cmd->flags & CMD_STALE))
            return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
        if (cfg_read_only && is_write) return "READONLY You can't write against a read only replica.";
        return NULL;
    }
    if (cfg_min_replicas && cfg_min_replicas_lag && is_write && replicas_good_count() < cfg_min_replicas)
        return "NOREPLICAS Not enough good replicas to write.";
    return NULL;
}

/* ---- commands ---- */

static void replicaof_command(client *c) {
    if (rfailover_active()) {
        reply_error(c, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if (!strcasecmp(c->argv[1], "no") && !strcasecmp(c->argv[2], "one")) {
        if (repl_is_replica()) {
            replica_unset_master();
            server_log(LOG_NOTICE, "MASTER MODE enabled");
        }
        reply_ok(c);
        return;
    }
    if (c->flags & CLIENT_REPLICA) {
        reply_error(c, "ERR Command is not valid when client is a replica.");
        return;
    }
    long long port;
    if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &port) || port < 0 || port > 65535) {
        reply_error(c, "ERR Invalid master port");
        return;
    }
    if (ML.host && !strcasecmp(ML.host, c->argv[1]) && ML.port == port) {
        server_log(LOG_NOTICE, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        reply_status(c, "OK Already connected to specified master");
        return;
    }
    replica_set_master(c->argv[1], (int)port);
    server_log(LOG_NOTICE, "REPLICAOF %s:%d enabled", ML.host, ML.port);
    reply_ok(c);
}

void repl_replicate(const char *host, int port) {
    if (ML.host && !strcasecmp(ML.host, host) && ML.port == port) return;
    replica_set_master(host, port);
    server_log(LOG_NOTICE, "REPLICAOF %s:%d enabled (cluster)", ML.host, ML.port);
}

void repl_stop_replicating(void) {
    if (repl_is_replica()) replica_unset_master();
}

void repl_feed_replicas_only(int argc, kstr *argv) {
    if (!RS.head || repl_is_replica()) return;
    rstream_command(-1, argc, argv);
}

void repl_change_replid(void) {
    rstream_new_replid();
    RS.replid2[0] = '\0';
    RS.second_offset = -1;
}

/* As Redis's replica offset: what was applied, kept while the link is
 * down (the offset PSYNC continues from; cluster ranks replicas with it),
 * and 0 during a full sync, whose load replaces the data (CLUSTER SLOTS
 * hides such a replica). */
long long repl_offset(void) {
    if (repl_is_replica() && ML.state == LINK_TRANSFER) return 0;
    return RS.offset;
}

long long repl_master_data_age_ms(void) {
    long long now = server_mstime();
    if (link_is_up()) return now - ML.last_io_ms;
    return ML.down_since_ms ? now - ML.down_since_ms : LLONG_MAX / 4;
}

int repl_ping_period(void) { return cfg_ping_period; }

static void role_command(client *c) {
    if (repl_is_replica()) {
        reply_array_len(c, 5);
        reply_bulk_cstr(c, "slave");
        reply_bulk_cstr(c, ML.host);
        reply_ll(c, ML.port);
        reply_bulk_cstr(c, link_state_name());
        reply_ll(c, link_is_up() ? RS.offset : -1);
        return;
    }
    reply_array_len(c, 3);
    reply_bulk_cstr(c, "master");
    reply_ll(c, RS.offset);
    int n = 0;
    for (replica_rec *r = replicas; r; r = r->next) n += r->state != RS_NONE;
    reply_array_len(c, n);
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state == RS_NONE) continue;
        char port[16];
        snprintf(port, sizeof(port), "%d", r->listening_port);
        reply_array_len(c, 3);
        reply_bulk_cstr(c, r->ip);
        reply_bulk_cstr(c, port);
        char off[32];
        snprintf(off, sizeof(off), "%lld", r->ack_off);
        reply_bulk_cstr(c, off);
    }
}

void psync_command(client *c);
void replconf_command(client *c);

/* A client blocked in WAIT: its reply when the wait ends (timeout or
 * enough acknowledgements). */
static void wait_reply(client *c, long long target, long long n) {
    (void)n;
    reply_ll(c, master_acked_count(target));
}

static void wait_check(client *c, long long target, long long n) {
    if (master_acked_count(target) >= n) blocking_release(c);
}

static void wait_command(client *c) {
    long long n, timeout;
    if (!parse_ll(c, c->argv[1], &n)) return;
    if (!parse_ll(c, c->argv[2], &timeout)) return;
    if (timeout < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    if (repl_is_replica()) {
        reply_error(c, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    long long target = RS.offset;
    long long acked = master_acked_count(target);
    if (acked >= n || (c->flags & (CLIENT_MULTI | CLIENT_FAKE))) {
        reply_ll(c, acked);
        return;
    }
    master_request_acks();
    block_for_event(c, timeout ? server_mstime() + timeout : 0, wait_reply, target, n);
}

command repl_commands[] = {
    {"replicaof", replicaof_command, 3, "admin noscript stale no_async_loading", 0, 0, 0, "server", "5.0.0",
     "Configures a server as replica of another, or promotes it to a master.", NULL},
    {"slaveof", replicaof_command, 3, "admin noscript stale no_async_loading", 0, 0, 0, "server", "1.0.0",
     "Sets a Redis server as a replica of another, or promotes it to being a master.", NULL},
    {"role", role_command, 1, "noscript loading stale fast", 0, 0, 0, "server", "2.8.12",
     "Returns the replication role.", NULL},
    {"psync", psync_command, -3, "admin noscript no_async_loading no_multi", 0, 0, 0, "server", "2.8.0",
     "An internal command used in replication.", NULL},
    {"sync", psync_command, 1, "admin noscript no_async_loading no_multi", 0, 0, 0, "server", "1.0.0",
     "An internal command used in replication.", NULL},
    {"replconf", replconf_command, -1, "admin noscript loading stale allow_busy", 0, 0, 0, "server", "3.0.0",
     "An internal command for configuring the replication stream.", NULL},
    {"failover", failover_command, -1, "admin noscript stale", 0, 0, 0, "server", "6.2.0",
     "Starts a coordinated failover from a server to one of its replicas.", NULL},
    {"wait", wait_command, 3, "noscript", 0, 0, 0, "generic", "3.0.0",
     "Blocks until the asynchronous replication of all preceding write commands sent by the connection is "
     "completed.", NULL},
    {0},
};

/* ---- INFO replication ---- */

const char *replica_state_name(int st) {
    switch (st) {
    case RS_WAIT_START:
    case RS_WAIT_END: return "wait_bgsave";
    case RS_SEND_BULK: return "send_bulk";
    case RS_ONLINE: return "online";
    }
    return "none";
}

/* A diskless transfer in progress reads wait_bgsave, as in Redis (whose
 * replica waits for the fork child feeding it). */
static const char *replica_info_state(const replica_rec *r) {
    return r->state == RS_SEND_BULK && r->following ? "wait_bgsave" : replica_state_name(r->state);
}

static kstr info_replicas(kstr s) {
    int n = 0;
    for (replica_rec *r = replicas; r; r = r->next) n += r->state != RS_NONE;
    s = kstr_cat_printf(s, "connected_slaves:%d\r\n", n);
    if (cfg_min_replicas && cfg_min_replicas_lag && !repl_is_replica())
        s = kstr_cat_printf(s, "min_slaves_good_slaves:%d\r\n", replicas_good_count());
    int i = 0;
    long long now = server_mstime();
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state == RS_NONE) continue;
        s = kstr_cat_printf(s, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i++, r->ip,
                            r->listening_port, replica_info_state(r), r->ack_off,
                            r->state == RS_ONLINE ? (now - r->ack_ms) / 1000 : 0);
    }
    return s;
}

static kstr info_link(kstr s) {
    long long now = server_mstime();
    s = kstr_cat_printf(s, "master_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"
                        "master_last_io_seconds_ago:%lld\r\nmaster_sync_in_progress:%d\r\n"
                        "slave_read_repl_offset:%lld\r\nslave_repl_offset:%lld\r\n",
                        ML.host, ML.port, link_is_up() ? "up" : "down",
                        link_is_up() ? (now - ML.last_io_ms) / 1000 : -1, ML.state == LINK_TRANSFER,
                        link_is_up() ? ML.read_off : RS.offset, RS.offset);
    if (ML.state == LINK_TRANSFER) {
        long long total = ML.size > 0 ? ML.size : -1;
        long long left = total > 0 ? total - ML.got : -1;
        s = kstr_cat_printf(s, "master_sync_total_bytes:%lld\r\nmaster_sync_read_bytes:%lld\r\n"
                            "master_sync_left_bytes:%lld\r\nmaster_sync_perc:%.2f\r\n"
                            "master_sync_last_io_seconds_ago:%lld\r\n",
                            total, ML.got, left, total > 0 ? (double)ML.got * 100 / (double)total : 0.0,
                            (now - ML.last_io_ms) / 1000);
    }
    if (!link_is_up())
        s = kstr_cat_printf(s, "master_link_down_since_seconds:%lld\r\n",
                            ML.down_since_ms ? (now - ML.down_since_ms) / 1000 : -1);
    return kstr_cat_printf(s, "slave_priority:%d\r\nslave_read_only:%d\r\nreplica_announced:%d\r\n", cfg_priority,
                           cfg_read_only, cfg_announced);
}

kstr repl_info_stats(kstr s) {
    return kstr_cat_printf(s, "sync_full:%lld\r\nsync_partial_ok:%lld\r\nsync_partial_err:%lld\r\n", stat_sync_full,
                           stat_sync_partial_ok, stat_sync_partial_err);
}

kstr repl_info_section(kstr s) {
    s = kstr_cat(s, "# Replication\r\n");
    if (repl_is_replica()) s = info_link(kstr_cat(s, "role:slave\r\n"));
    else s = kstr_cat(s, "role:master\r\n");
    s = info_replicas(s);
    return kstr_cat_printf(s, "master_failover_state:%s\r\nmaster_replid:%s\r\nmaster_replid2:%s\r\n"
                           "master_repl_offset:%lld\r\nsecond_repl_offset:%lld\r\nrepl_backlog_active:%d\r\n"
                           "repl_backlog_size:%lld\r\nrepl_backlog_first_byte_offset:%lld\r\n"
                           "repl_backlog_histlen:%lld\r\n",
                           rfailover_state_name(), RS.replid, RS.replid2[0] ? RS.replid2 : "0000000000000000000000000000000000000000",
                           RS.offset, RS.second_offset, RS.head != NULL, cfg_backlog_size,
                           RS.head ? RS.first_byte : 0, RS.head ? RS.offset + 1 - RS.first_byte : 0);
}
