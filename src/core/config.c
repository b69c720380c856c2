/* See config.h for the design. */
#include "core/config.h"
#include "core/command.h"
#include "core/latency.h"
#include "core/server.h"
#include "core/slowlog.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "net/clientmem.h"
#include "net/reply.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

const enum_value config_yesno[] = {{"no", 0}, {"yes", 1}, {NULL, 0}};
#define yesno_enum config_yesno
static const enum_value debug_enum[] = {{"no", 0}, {"yes", 1}, {"local", 2}, {NULL, 0}};
static const enum_value policy_enum[] = {
    {"noeviction", MAXMEMORY_NO_EVICTION}, {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU},
    {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU}, {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM},
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU}, {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM}, {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {NULL, 0}};
static const enum_value loglevel_enum[] = {
    {"debug", LOG_DEBUG}, {"verbose", LOG_VERBOSE}, {"notice", LOG_NOTICE}, {"warning", LOG_WARNING}, {NULL, 0}};

static int apply_maxclients(const char **err);
static int apply_hz(const char **err);
static int apply_jemalloc_bg(const char **err);
static int apply_maxmemory(const char **err);
static int set_bind(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_bind(const config_entry *ce);
static int set_save(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_string_ptr(const config_entry *ce);
static int set_multiword(const config_entry *ce, char **argv, int argc, const char **err);
static int set_obuf_limits(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_obuf_limits(const config_entry *ce);

/* Parameters Keel accepts and reports but does not act on yet: they keep
 * stock redis.conf files loadable and exporters' CONFIG GET answered. */
static char *cfg_appendfsync, *cfg_supervised, *cfg_repl_diskless_sync, *cfg_notify;
static char *cfg_replica_read_only;
static char *cfg_always_show_logo, *cfg_set_proc_title, *cfg_stop_writes;
static char *cfg_rdbcompression, *cfg_rdbchecksum, *cfg_aof_use_rdb_preamble, *cfg_no_appendfsync;
static char *cfg_auto_aof_pct, *cfg_auto_aof_min, *cfg_activerehashing;
static char *cfg_aof_load_truncated, *cfg_aof_ts, *cfg_crash_log, *cfg_replica_serve_stale;
static char *cfg_repl_diskless_load, *cfg_repl_disable_nodelay, *cfg_replica_priority, *cfg_oom_score_adj;
static char *cfg_oom_score_values, *cfg_disable_thp, *cfg_rdb_del_sync, *cfg_replica_lazy_flush;
static char *cfg_appenddirname, *cfg_cluster_enabled, *cfg_io_threads;
static char *cfg_syslog, *cfg_sanitize, *cfg_latency_tracking, *cfg_repl_backlog;
static char *cfg_min_replicas, *cfg_tracking_table, *cfg_rdb_save_incr, *cfg_aof_rewrite_incr;
static char *cfg_locale, *cfg_shutdown_timeout, *cfg_save_on_sigterm;

#define STUB(n, var, d) CONFIG_STRING(n, &var, d, 0, NULL)

static config_entry core_configs[] = {
    /* Networking. */
    CONFIG_INT("port", &server.port, "6379", 0, 65535, CF_IMMUTABLE, NULL),
    CONFIG_SPECIAL("bind", NULL, "127.0.0.1 -::1", set_bind, get_bind, CF_IMMUTABLE),
    CONFIG_STRING("unixsocket", &server.unixsocket, "", CF_IMMUTABLE, NULL),
    CONFIG_INT("unixsocketperm", &server.unixsocketperm, "0", 0, 0777, CF_IMMUTABLE, NULL),
    CONFIG_INT("tcp-backlog", &server.tcp_backlog, "511", 0, INT_MAX, CF_IMMUTABLE, NULL),
    CONFIG_INT("tcp-keepalive", &server.tcpkeepalive, "300", 0, INT_MAX, 0, NULL),
    CONFIG_INT("timeout", &server.maxidletime, "0", 0, INT_MAX, 0, NULL),
    CONFIG_INT("maxclients", &server.maxclients, "10000", 1, INT_MAX, 0, apply_maxclients),
    CONFIG_BOOL("protected-mode", &server.protected_mode, "yes", 0, NULL),
    CONFIG_MEMORY("proto-max-bulk-len", &server.proto_max_bulk_len, "512mb", 1024 * 1024, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("client-query-buffer-limit", &server.client_max_querybuf_len, "1gb", 1024 * 1024, LLONG_MAX, 0, NULL),
    /* Client output: Redis's limits per class, and Keel's backpressure
     * (net/clientmem.h): a client with this much pending output gets no
     * new command until it reads; the total is shared by all clients
     * (percent of maxmemory, none without maxmemory). 0 disables. */
    CONFIG_SPECIAL("client-output-buffer-limit", NULL, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", set_obuf_limits, get_obuf_limits, 0),
    CONFIG_MEMORY("client-output-backpressure", &client_output_backpressure, "1mb", 0, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("client-output-backpressure-total", &client_output_backpressure_total, "2%", 0, LLONG_MAX, CF_PERCENT_OK, NULL),
    /* General. */
    CONFIG_INT("databases", &server.dbnum, "16", 1, INT_MAX, CF_IMMUTABLE, NULL),
    CONFIG_BOOL("daemonize", &server.daemonize, "no", CF_IMMUTABLE, NULL),
    CONFIG_STRING("pidfile", &server.pidfile, "", CF_IMMUTABLE, NULL),
    CONFIG_STRING("logfile", &server.logfile, "", CF_IMMUTABLE, NULL),
    CONFIG_ENUM("loglevel", &server.verbosity, "notice", loglevel_enum, 0, NULL),
    CONFIG_ENUM("enable-debug-command", &server.enable_debug_cmd, "no", debug_enum, CF_IMMUTABLE, NULL),
    CONFIG_INT("hz", &server.hz, "10", 0, INT_MAX, 0, apply_hz),
    CONFIG_BOOL("dynamic-hz", &server.dynamic_hz, "yes", 0, NULL),
    CONFIG_INT("active-expire-effort", &server.active_expire_effort, "1", 1, 10, 0, NULL),
    CONFIG_STRING("requirepass", &server.requirepass, "", 0, NULL),
    CONFIG_STRING("dir", &server.dir, "", 0, NULL),
    CONFIG_STRING("dbfilename", &server.dbfilename, "dump.rdb", 0, NULL),
    CONFIG_SPECIAL("save", &server.save_params, "3600 1 300 100 60 10000", set_save, get_string_ptr, 0),
    CONFIG_BOOL("appendonly", &server.appendonly, "no", 0, NULL),
    CONFIG_STRING("appendfilename", &server.appendfilename, "appendonly.aof", CF_IMMUTABLE, NULL),
    /* Memory. */
    CONFIG_MEMORY("maxmemory", &server.maxmemory, "0", 0, LLONG_MAX, 0, apply_maxmemory),
    CONFIG_ENUM("maxmemory-policy", &server.maxmemory_policy, "noeviction", policy_enum, 0, NULL),
    CONFIG_INT("maxmemory-samples", &server.maxmemory_samples, "5", 1, 64, 0, NULL),
    CONFIG_INT("maxmemory-eviction-tenacity", &server.maxmemory_eviction_tenacity, "10", 0, 100, 0, NULL),
    CONFIG_BOOL("jemalloc-bg-thread", &server.jemalloc_bg_thread, "yes", 0, apply_jemalloc_bg),
    CONFIG_MEMORY("maxmemory-clients", &server.maxmemory_clients, "0", 0, LLONG_MAX, CF_PERCENT_OK, NULL),
    CONFIG_INT("lfu-log-factor", &server.lfu_log_factor, "10", 0, INT_MAX, 0, NULL),
    CONFIG_INT("lfu-decay-time", &server.lfu_decay_time, "1", 0, INT_MAX, 0, NULL),
    CONFIG_BOOL("lazyfree-lazy-eviction", &server.lazyfree_lazy_eviction, "no", 0, NULL),
    CONFIG_BOOL("lazyfree-lazy-expire", &server.lazyfree_lazy_expire, "no", 0, NULL),
    CONFIG_BOOL("lazyfree-lazy-server-del", &server.lazyfree_lazy_server_del, "no", 0, NULL),
    CONFIG_BOOL("lazyfree-lazy-user-del", &server.lazyfree_lazy_user_del, "no", 0, NULL),
    CONFIG_BOOL("lazyfree-lazy-user-flush", &server.lazyfree_lazy_user_flush, "no", 0, NULL),
    CONFIG_BOOL("activedefrag", &server.active_defrag_enabled, "no", 0, NULL),
    CONFIG_MEMORY("active-defrag-ignore-bytes", &server.active_defrag_ignore_bytes, "100mb", 1, LLONG_MAX, 0, NULL),
    CONFIG_INT("active-defrag-threshold-lower", &server.active_defrag_threshold_lower, "10", 0, 1000, 0, NULL),
    CONFIG_INT("active-defrag-threshold-upper", &server.active_defrag_threshold_upper, "100", 0, 1000, 0, NULL),
    CONFIG_INT("active-defrag-cycle-min", &server.active_defrag_cycle_min, "1", 1, 99, 0, NULL),
    CONFIG_INT("active-defrag-cycle-max", &server.active_defrag_cycle_max, "25", 1, 99, 0, NULL),
    CONFIG_LL("active-defrag-max-scan-fields", &server.active_defrag_max_scan_fields, "1000", 1, LLONG_MAX, 0, NULL),
    /* Data type encodings (the *-ziplist-* names are Redis 6's). */
    CONFIG_LL("hash-max-listpack-entries", &server.hash_max_listpack_entries, "128", 0, LLONG_MAX, 0, NULL, .alias = "hash-max-ziplist-entries"),
    CONFIG_MEMORY("hash-max-listpack-value", &server.hash_max_listpack_value, "64", 0, LLONG_MAX, 0, NULL, .alias = "hash-max-ziplist-value"),
    CONFIG_LL("set-max-intset-entries", &server.set_max_intset_entries, "512", 0, LLONG_MAX, 0, NULL),
    CONFIG_LL("set-max-listpack-entries", &server.set_max_listpack_entries, "128", 0, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("set-max-listpack-value", &server.set_max_listpack_value, "64", 0, LLONG_MAX, 0, NULL),
    CONFIG_LL("zset-max-listpack-entries", &server.zset_max_listpack_entries, "128", 0, LLONG_MAX, 0, NULL, .alias = "zset-max-ziplist-entries"),
    CONFIG_MEMORY("zset-max-listpack-value", &server.zset_max_listpack_value, "64", 0, LLONG_MAX, 0, NULL, .alias = "zset-max-ziplist-value"),
    CONFIG_INT("list-max-listpack-size", &server.list_max_listpack_size, "-2", INT_MIN, INT_MAX, 0, NULL, .alias = "list-max-ziplist-size"),
    CONFIG_INT("list-compress-depth", &server.list_compress_depth, "1", 0, INT_MAX, 0, NULL),
    CONFIG_MEMORY("hll-sparse-max-bytes", &server.hll_sparse_max_bytes, "3000", 0, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("stream-node-max-bytes", &server.stream_node_max_bytes, "4096", 0, LLONG_MAX, 0, NULL),
    CONFIG_LL("stream-node-max-entries", &server.stream_node_max_entries, "100", 0, LLONG_MAX, 0, NULL),
    /* Slow log and latency monitor (core/slowlog.h, core/latency.h). */
    CONFIG_LL("slowlog-log-slower-than", &slowlog_log_slower_than, "10000", -1, LLONG_MAX, 0, NULL),
    CONFIG_LL("slowlog-max-len", &slowlog_max_len, "128", 0, LLONG_MAX, 0, NULL),
    CONFIG_LL("latency-monitor-threshold", &latency_monitor_threshold, "0", 0, LLONG_MAX, 0, NULL),
    /* Accepted, reported, not acted upon yet (see docs/COMMANDS.md). */
    CONFIG_STRING("notify-keyspace-events", &cfg_notify, "", 0, NULL),
    CONFIG_SPECIAL("oom-score-adj-values", &cfg_oom_score_values, "0 200 800", set_multiword, get_string_ptr, 0),
    STUB("appendfsync", cfg_appendfsync, "everysec"),
    STUB("appenddirname", cfg_appenddirname, "appendonlydir"),
    STUB("supervised", cfg_supervised, "no"),
    STUB("repl-diskless-sync", cfg_repl_diskless_sync, "yes"),
    STUB("repl-diskless-load", cfg_repl_diskless_load, "disabled"),
    STUB("repl-disable-tcp-nodelay", cfg_repl_disable_nodelay, "no"),
    STUB("repl-backlog-size", cfg_repl_backlog, "1048576"),
    STUB("replica-read-only", cfg_replica_read_only, "yes"),
    STUB("replica-serve-stale-data", cfg_replica_serve_stale, "yes"),
    STUB("replica-priority", cfg_replica_priority, "100"),
    STUB("replica-lazy-flush", cfg_replica_lazy_flush, "no"),
    STUB("min-replicas-to-write", cfg_min_replicas, "0"),
    STUB("latency-tracking", cfg_latency_tracking, "yes"),
    STUB("always-show-logo", cfg_always_show_logo, "no"),
    STUB("set-proc-title", cfg_set_proc_title, "yes"),
    STUB("stop-writes-on-bgsave-error", cfg_stop_writes, "yes"),
    STUB("rdbcompression", cfg_rdbcompression, "yes"),
    STUB("rdbchecksum", cfg_rdbchecksum, "yes"),
    STUB("rdb-del-sync-files", cfg_rdb_del_sync, "no"),
    STUB("rdb-save-incremental-fsync", cfg_rdb_save_incr, "yes"),
    STUB("aof-rewrite-incremental-fsync", cfg_aof_rewrite_incr, "yes"),
    STUB("aof-use-rdb-preamble", cfg_aof_use_rdb_preamble, "yes"),
    STUB("aof-load-truncated", cfg_aof_load_truncated, "yes"),
    STUB("aof-timestamp-enabled", cfg_aof_ts, "no"),
    STUB("no-appendfsync-on-rewrite", cfg_no_appendfsync, "no"),
    STUB("auto-aof-rewrite-percentage", cfg_auto_aof_pct, "100"),
    STUB("auto-aof-rewrite-min-size", cfg_auto_aof_min, "67108864"),
    STUB("activerehashing", cfg_activerehashing, "yes"),
    STUB("crash-log-enabled", cfg_crash_log, "yes"),
    STUB("crash-memcheck-enabled", cfg_sanitize, "yes"),
    STUB("oom-score-adj", cfg_oom_score_adj, "no"),
    STUB("disable-thp", cfg_disable_thp, "yes"),
    STUB("cluster-enabled", cfg_cluster_enabled, "no"),
    STUB("io-threads", cfg_io_threads, "1"),
    STUB("syslog-enabled", cfg_syslog, "no"),
    STUB("tracking-table-max-keys", cfg_tracking_table, "1000000"),
    STUB("locale-collate", cfg_locale, ""),
    STUB("shutdown-timeout", cfg_shutdown_timeout, "10"),
    STUB("shutdown-on-sigterm", cfg_save_on_sigterm, "default"),
    CONFIG_END,
};

/* ---- The registry ------------------------------------------------------
 *
 * Every module's table, core's first. As with commands, a module adds its
 * parameters by listing them in its own table (declared in config.h) and
 * appending that table here; the rest of this file sees one flat list. */
static config_entry *const module_config_tables[] = {
    core_configs,
    script_configs,
};

static config_entry **all_configs; /* flat, in table order */
static size_t nconfigs;

static void config_registry_init(void) {
    if (all_configs) return;
    size_t n = 0;
    for (size_t t = 0; t < sizeof(module_config_tables) / sizeof(module_config_tables[0]); t++)
        for (config_entry *ce = module_config_tables[t]; ce->name; ce++) n++;
    all_configs = zmalloc(sizeof(config_entry *) * (n ? n : 1));
    for (size_t t = 0; t < sizeof(module_config_tables) / sizeof(module_config_tables[0]); t++)
        for (config_entry *ce = module_config_tables[t]; ce->name; ce++) all_configs[nconfigs++] = ce;
}

static config_entry *config_find(const char *name) {
    for (size_t i = 0; i < nconfigs; i++) {
        config_entry *ce = all_configs[i];
        if (!strcasecmp(ce->name, name) || (ce->alias && !strcasecmp(ce->alias, name))) return ce;
    }
    return NULL;
}

static int enum_parse(const enum_value *ev, const char *s, int *out) {
    for (; ev->name; ev++)
        if (!strcasecmp(ev->name, s)) { *out = ev->value; return 1; }
    return 0;
}

static const char *enum_name(const enum_value *ev, int v) {
    for (; ev->name; ev++)
        if (ev->value == v) return ev->name;
    return "unknown";
}

/* Redis's words for an out-of-range number. The text lives until the next
 * call, which is enough: the caller prints it at once. */
static const char *range_error(const config_entry *ce) {
    static char buf[96];
    snprintf(buf, sizeof(buf), "argument must be between %lld and %lld inclusive", (long long)ce->min,
             (long long)ce->max);
    return buf;
}

/* Parse a value into 'out' (an 8-byte scratch holding int or long long),
 * without touching the live value. */
static int parse_value(const config_entry *ce, const char *val, long long *out, const char **err) {
    switch (ce->type) {
    case CT_BOOL: {
        int v;
        if (!enum_parse(yesno_enum, val, &v)) { *err = "argument must be 'yes' or 'no'"; return 0; }
        *out = v;
        return 1;
    }
    case CT_ENUM: {
        int v;
        if (!enum_parse(ce->enums, val, &v)) { *err = "argument(s) must be one of the following values"; return 0; }
        *out = v;
        return 1;
    }
    case CT_INT:
    case CT_LL: {
        long long v;
        if (!string_to_ll(val, strlen(val), &v)) {
            /* Redis also accepts memory units for integer-like sizes. */
            if (!parse_memory_size(val, &v)) { *err = "argument couldn't be parsed into an integer"; return 0; }
        }
        if (v < ce->min || v > ce->max) { *err = range_error(ce); return 0; }
        *out = v;
        return 1;
    }
    case CT_MEMORY: {
        long long v;
        size_t len = strlen(val);
        if ((ce->flags & CF_PERCENT_OK) && len > 1 && val[len - 1] == '%') {
            if (!string_to_ll(val, len - 1, &v) || v < 0) { *err = "argument must be a memory or percent value"; return 0; }
            if (v > 100) { *err = "percentage argument must be less or equal to 100"; return 0; }
            *out = -v; /* percentages are stored negative */
            return 1;
        }
        if (!parse_memory_size(val, &v)) { *err = "argument must be a memory value"; return 0; }
        if (v < ce->min || v > ce->max) { *err = range_error(ce); return 0; }
        *out = v;
        return 1;
    }
    default:
        return 1;
    }
}

static void store_value(const config_entry *ce, long long v) {
    switch (ce->type) {
    case CT_BOOL: case CT_ENUM: case CT_INT: *(int *)ce->ptr = (int)v; break;
    case CT_LL: case CT_MEMORY: *(long long *)ce->ptr = v; break;
    default: break;
    }
}

static long long load_value(const config_entry *ce) {
    switch (ce->type) {
    case CT_BOOL: case CT_ENUM: case CT_INT: return *(int *)ce->ptr;
    case CT_LL: case CT_MEMORY: return *(long long *)ce->ptr;
    default: return 0;
    }
}

/* Set from argv (one value for plain types). Returns 1 on success. */
static int config_set_args(const config_entry *ce, char **argv, int argc, const char **err) {
    if (ce->type == CT_SPECIAL) return ce->sset(ce, argv, argc, err);
    if (argc != 1) { *err = "wrong number of arguments"; return 0; }
    if (ce->type == CT_STRING) {
        char **p = ce->ptr;
        zfree(*p);
        *p = zstrdup(argv[0]);
        return 1;
    }
    long long v;
    if (!parse_value(ce, argv[0], &v, err)) return 0;
    store_value(ce, v);
    return 1;
}

static kstr config_get_value(const config_entry *ce) {
    switch (ce->type) {
    case CT_BOOL: return kstr_new(*(int *)ce->ptr ? "yes" : "no");
    case CT_ENUM: return kstr_new(enum_name(ce->enums, *(int *)ce->ptr));
    case CT_INT: return kstr_from_ll(*(int *)ce->ptr);
    case CT_LL: return kstr_from_ll(*(long long *)ce->ptr);
    case CT_MEMORY: {
        long long v = *(long long *)ce->ptr;
        if (v < 0) return kstr_cat_printf(kstr_empty(), "%lld%%", -v);
        return kstr_from_ll(v);
    }
    case CT_STRING: {
        char *s = *(char **)ce->ptr;
        return kstr_new(s ? s : "");
    }
    case CT_SPECIAL: return ce->sget(ce);
    }
    return kstr_empty();
}

/* ---- Special parameters ---------------------------------------------- */

static int set_bind(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    if (argc < 1 || argc > CONFIG_BINDADDR_MAX) { *err = "Too many bind addresses specified."; return 0; }
    for (int i = 0; i < server.bindaddr_count; i++) zfree(server.bindaddr[i]);
    for (int i = 0; i < argc; i++) server.bindaddr[i] = zstrdup(argv[i]);
    server.bindaddr_count = argc;
    return 1;
}

static kstr get_bind(const config_entry *ce) {
    (void)ce;
    kstr s = kstr_empty();
    for (int i = 0; i < server.bindaddr_count; i++) {
        if (i) s = kstr_cat(s, " ");
        s = kstr_cat(s, server.bindaddr[i]);
    }
    return s;
}

static kstr join_args(char **argv, int argc) {
    kstr s = kstr_empty();
    for (int i = 0; i < argc; i++) {
        if (i) s = kstr_cat(s, " ");
        s = kstr_cat(s, argv[i]);
    }
    return s;
}

static void replace_string(const config_entry *ce, kstr s) {
    char **p = ce->ptr;
    zfree(*p);
    *p = zstrdup(s);
    kstr_free(s);
}

static int set_save(const config_entry *ce, char **argv, int argc, const char **err) {
    /* "save" alone or save "" disables; otherwise pairs of seconds/changes. */
    if (argc == 1 && argv[0][0] == '\0') { replace_string(ce, kstr_empty()); return 1; }
    if (argc % 2 != 0) { *err = "Invalid save parameters"; return 0; }
    for (int i = 0; i < argc; i++) {
        long long v;
        if (!string_to_ll(argv[i], strlen(argv[i]), &v) || v < 0) { *err = "Invalid save parameters"; return 0; }
    }
    replace_string(ce, join_args(argv, argc));
    return 1;
}

static int set_multiword(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)err;
    replace_string(ce, join_args(argv, argc));
    return 1;
}

static int set_obuf_limits(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    return clientmem_set_obuf_limits(argv, argc, err);
}

static kstr get_obuf_limits(const config_entry *ce) {
    (void)ce;
    return clientmem_get_obuf_limits();
}

static kstr get_string_ptr(const config_entry *ce) {
    char *s = *(char **)ce->ptr;
    return kstr_new(s ? s : "");
}

static int apply_maxclients(const char **err) {
    if (!server.el) return 1;
    int want = (int)server.maxclients + 128;
    if (ev_get_size(server.el) < want && ev_set_size(server.el, want) < 0) {
        *err = "The event loop API used by Keel is not able to handle the specified number of clients";
        return 0;
    }
    return 1;
}

static int apply_hz(const char **err) {
    (void)err;
    if (server.hz < 1) server.hz = 1;
    if (server.hz > 500) server.hz = 500;
    return 1;
}

/* Threads do not survive daemonize's fork: at start-up memory_init()
 * applies the setting once the process is final. */
static int apply_jemalloc_bg(const char **err) {
    (void)err;
    if (server.el) zmalloc_set_background_thread(server.jemalloc_bg_thread);
    return 1;
}

static int apply_maxmemory(const char **err) {
    (void)err;
    if (server.el) memory_maxmemory_changed();
    return 1;
}

/* ---- Start-up ---------------------------------------------------------- */

static void fatal_config(const char *source, int line, const char *text, const char *why) {
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Keel %s) ***\n", KEEL_OWN_VERSION);
    if (line > 0) fprintf(stderr, "Reading the configuration file, at line %d\n", line);
    else fprintf(stderr, "Reading the configuration from %s\n", source);
    fprintf(stderr, ">>> '%s'\n%s\n", text, why);
    server_startup_exit(1);
}

static void apply_directive(char **argv, int argc, const char *source, int line, const char *text) {
    config_entry *ce = config_find(argv[0]);
    if (!ce) fatal_config(source, line, text, "Bad directive or wrong number of arguments");
    const char *err = "Bad directive or wrong number of arguments";
    if (!config_set_args(ce, argv + 1, argc - 1, &err)) fatal_config(source, line, text, err);
    if (ce->apply && !ce->apply(&err)) fatal_config(source, line, text, err);
}

static void load_config_text(const char *text, const char *source, int lines_are_real);

static void load_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "Fatal error, can't open config file '%s': %s\n", path, strerror(errno));
        server_startup_exit(1);
    }
    kstr text = kstr_empty();
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text = kstr_cat_len(text, buf, n);
    fclose(f);
    load_config_text(text, path, 1);
    kstr_free(text);
}

static void load_config_text(const char *text, const char *source, int lines_are_real) {
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        kstr line = kstr_new_len(p, len);
        p += len + (nl ? 1 : 0);
        /* Trim, skip comments and blank lines. */
        size_t start = 0, end = kstr_len(line);
        while (start < end && (line[start] == ' ' || line[start] == '\t' || line[start] == '\r')) start++;
        while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) end--;
        kstr_range(line, (long)start, (long)end - 1);
        if (end <= start || line[0] == '#') { kstr_free(line); continue; }
        int argc;
        kstr *argv = kstr_split_args(line, &argc);
        if (!argv) fatal_config(source, lines_are_real ? lineno : 0, line, "Unbalanced quotes in configuration line");
        if (argc == 0) { kstr_free_split(argv, argc); kstr_free(line); continue; }
        kstr_tolower(argv[0]);
        if (!strcmp(argv[0], "include") && argc == 2) load_file(argv[1]);
        else apply_directive(argv, argc, source, lines_are_real ? lineno : 0, line);
        kstr_free_split(argv, argc);
        kstr_free(line);
    }
}

static void load_defaults(void) {
    config_registry_init();
    for (size_t i = 0; i < nconfigs; i++) {
        config_entry *ce = all_configs[i];
        int argc;
        kstr *argv = kstr_split_args(ce->def, &argc);
        const char *err = NULL;
        if (ce->type == CT_STRING) {
            char **pp = ce->ptr;
            *pp = zstrdup(ce->def);
        } else if (!config_set_args(ce, argv, argc, &err)) {
            fprintf(stderr, "keel: bad default for %s: %s\n", ce->name, err);
            abort();
        }
        kstr_free_split(argv, argc);
    }
}

/* Quote an argument for the synthetic config text of command-line
 * options, so that `--save ""` and values with spaces survive. */
static kstr cat_quoted(kstr s, const char *arg) {
    s = kstr_cat(s, "\"");
    for (const char *p = arg; *p; p++) {
        if (*p == '"' || *p == '\\') s = kstr_cat_len(s, "\\", 1);
        s = kstr_cat_len(s, p, 1);
    }
    return kstr_cat(s, "\"");
}

void config_load(int argc, char **argv) {
    load_defaults();
    int i = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char *abs = realpath(argv[1], NULL);
        server.config_file = zstrdup(abs ? abs : argv[1]);
        free(abs);
        load_file(argv[1]);
        i = 2;
    }
    /* Command-line options become config lines: "--port 6380" -> "port 6380". */
    kstr text = kstr_empty();
    for (; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2) && argv[i][2] && !(argv[i][2] >= '0' && argv[i][2] <= '9')) {
            if (kstr_len(text)) text = kstr_cat(text, "\n");
            text = kstr_cat(text, argv[i] + 2);
        } else {
            text = kstr_cat(text, " ");
            text = cat_quoted(text, argv[i]);
        }
    }
    if (kstr_len(text)) load_config_text(text, "the command line", 0);
    kstr_free(text);
}

/* ---- CONFIG command ---------------------------------------------------- */

void config_command_get(client *c) {
    /* Collect matches first: the reply is a map of known length, and a
     * parameter matched by two patterns is listed once. */
    char *matched = zcalloc(nconfigs);
    long count = 0;
    for (int a = 2; a < c->argc; a++) {
        for (size_t i = 0; i < nconfigs; i++) {
            config_entry *ce = all_configs[i];
            if (matched[i]) continue;
            const char *pat = c->argv[a];
            size_t plen = kstr_len(c->argv[a]);
            if (glob_match(pat, plen, ce->name, strlen(ce->name), 1) ||
                (ce->alias && glob_match(pat, plen, ce->alias, strlen(ce->alias), 1) &&
                 !strpbrk(pat, "*?["))) {
                matched[i] = 1;
                count++;
            }
        }
    }
    reply_map_len(c, count);
    for (size_t i = 0; i < nconfigs; i++) {
        config_entry *ce = all_configs[i];
        if (!matched[i]) continue;
        kstr v = config_get_value(ce);
        /* Like Redis, an exact (non-glob) request is answered with the
         * name as the client wrote it (so aliases and case round-trip). */
        const char *shown = ce->name;
        for (int a = 2; a < c->argc; a++) {
            if (!strpbrk(c->argv[a], "*?[") && (!strcasecmp(c->argv[a], ce->name) ||
                                                 (ce->alias && !strcasecmp(c->argv[a], ce->alias)))) {
                shown = c->argv[a];
                break;
            }
        }
        reply_bulk_cstr(c, shown);
        reply_bulk(c, v, kstr_len(v));
        kstr_free(v);
    }
    zfree(matched);
}

typedef struct saved_value {
    config_entry *ce;
    long long num;
    char *str;
} saved_value;

void config_command_set(client *c) {
    if ((c->argc - 2) % 2 != 0) {
        reply_error_syntax(c);
        return;
    }
    int n = (c->argc - 2) / 2;
    saved_value *saved = zcalloc(sizeof(saved_value) * (size_t)n);
    const char *err = NULL;
    const char *bad = NULL;
    int i;
    /* Validate every name first: unknown, immutable, duplicate. */
    for (i = 0; i < n; i++) {
        const char *name = c->argv[2 + i * 2];
        config_entry *ce = config_find(name);
        if (!ce) {
            reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", name);
            goto done;
        }
        if (ce->flags & CF_IMMUTABLE) { bad = name; err = "can't set immutable config"; break; }
        for (int j = 0; j < i; j++)
            if (saved[j].ce == ce) { bad = name; err = "duplicate parameter"; break; }
        if (err) break;
        saved[i].ce = ce;
        if (ce->type == CT_STRING || ce->type == CT_SPECIAL) {
            kstr v = config_get_value(ce);
            saved[i].str = zstrdup(v);
            kstr_free(v);
        } else {
            saved[i].num = load_value(ce);
        }
    }
    /* Then set them all, undoing everything if one fails. */
    if (!err) {
        for (i = 0; i < n; i++) {
            config_entry *ce = saved[i].ce;
            const char *val = c->argv[3 + i * 2];
            int ok;
            if (ce->type == CT_SPECIAL) {
                int argc;
                kstr *argv = kstr_split_args(val, &argc);
                if (!argv) { ok = 0; err = "unbalanced quotes"; }
                else {
                    if (argc == 0) {
                        kstr_free_split(argv, argc);
                        argv = zmalloc(sizeof(kstr));
                        argv[0] = kstr_empty();
                        argc = 1;
                    }
                    ok = config_set_args(ce, argv, argc, &err);
                    kstr_free_split(argv, argc);
                }
            } else {
                char *one[1] = {(char *)val};
                ok = config_set_args(ce, one, 1, &err);
            }
            if (ok && ce->apply) ok = ce->apply(&err);
            if (!ok) { bad = c->argv[2 + i * 2]; break; }
        }
        if (err) {
            for (int j = 0; j < n && saved[j].ce; j++) {
                config_entry *ce = saved[j].ce;
                if (ce->type == CT_STRING || ce->type == CT_SPECIAL) {
                    int argc;
                    kstr *argv = kstr_split_args(saved[j].str, &argc);
                    if (argv && argc == 0) {
                        kstr_free_split(argv, argc);
                        argv = zmalloc(sizeof(kstr));
                        argv[0] = kstr_empty();
                        argc = 1;
                    }
                    const char *e2;
                    if (ce->type == CT_STRING) {
                        char *one[1] = {saved[j].str};
                        config_set_args(ce, one, 1, &e2);
                    } else if (argv) {
                        config_set_args(ce, argv, argc, &e2);
                    }
                    kstr_free_split(argv, argc);
                } else {
                    store_value(ce, saved[j].num);
                }
                if (ce->apply) { const char *e3; ce->apply(&e3); }
            }
        }
    }
    if (err) reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", bad, err);
    else reply_ok(c);
done:
    for (i = 0; i < n; i++) zfree(saved[i].str);
    zfree(saved);
}

void config_command_resetstat(client *c) {
    size_t peak = server_used_memory();
    memset(&server.stat, 0, sizeof(server.stat));
    server.stat.peak_memory = peak;
    command_reset_stats();
    reply_reset_stats();
    reply_ok(c);
}

/* ---- CONFIG REWRITE ----------------------------------------------------
 *
 * The file keeps its comments, blank lines, includes and order: the first
 * line of each parameter is replaced by the parameter's current value,
 * later lines of the same parameter are dropped, and parameters that
 * differ from their default without appearing in the file are appended
 * at the end, under REWRITE_MARKER (written once: a file rewritten before
 * keeps its marker where it is). A parameter at its default that the file does not
 * mention is not added, so the file stays as short as the operator made
 * it. The new text goes to a temporary file in the same directory, synced,
 * then renamed over the old one: a crash midway leaves the old file.
 */
#define REWRITE_MARKER "# Generated by CONFIG REWRITE"

static int needs_quotes(const char *v) {
    if (!*v) return 1;
    for (const char *p = v; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' || *p == '\\' || *p == '\n' || *p == '\r')
            return 1;
    return 0;
}

/* Sizes the way an operator writes them: 100mb rather than 104857600. */
static kstr memory_value(const config_entry *ce) {
    long long v = *(long long *)ce->ptr;
    static const struct { long long unit; const char *suffix; } units[] = {
        {1LL << 30, "gb"}, {1LL << 20, "mb"}, {1LL << 10, "kb"}};
    for (size_t i = 0; v > 0 && i < sizeof(units) / sizeof(units[0]); i++)
        if (v % units[i].unit == 0) return kstr_cat_printf(kstr_empty(), "%lld%s", v / units[i].unit, units[i].suffix);
    return config_get_value(ce);
}

static kstr cat_directive(kstr out, const config_entry *ce) {
    kstr v = ce->type == CT_MEMORY ? memory_value(ce) : config_get_value(ce);
    out = kstr_cat(kstr_cat(out, ce->name), " ");
    /* A special parameter's value is its words (bind, save, client-output-
     * buffer-limit); a string is one word, quoted when it must be. */
    int quote = ce->type == CT_SPECIAL ? kstr_len(v) == 0 : ce->type == CT_STRING && needs_quotes(v);
    out = quote ? cat_quoted(out, v) : kstr_cat_len(out, v, kstr_len(v));
    kstr_free(v);
    return kstr_cat(out, "\n");
}

static int at_default(const config_entry *ce) {
    kstr v = config_get_value(ce);
    int same;
    if (ce->type == CT_STRING || ce->type == CT_SPECIAL) {
        same = !strcmp(v, ce->def);
    } else {
        long long def = 0;
        const char *err;
        same = parse_value(ce, ce->def, &def, &err) && def == load_value(ce);
    }
    kstr_free(v);
    return same;
}

/* The old file's text; empty when it does not exist (it is created). */
static int read_text(const char *path, kstr *text, const char **err) {
    *text = kstr_empty();
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 1;
        *err = strerror(errno);
        return 0;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) *text = kstr_cat_len(*text, buf, n);
    fclose(f);
    return 1;
}

static size_t config_index(const config_entry *ce) {
    for (size_t i = 0; i < nconfigs; i++)
        if (all_configs[i] == ce) return i;
    return 0; /* not reached: ce came from config_find */
}

static kstr rewritten_text(const char *old) {
    char *written = zcalloc(nconfigs);
    kstr out = kstr_empty();
    int marked = 0;
    for (const char *p = old; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        kstr line = kstr_new_len(p, len);
        p += len + (nl ? 1 : 0);
        int argc = 0;
        kstr *argv = kstr_split_args(line, &argc);
        config_entry *ce = argv && argc > 0 ? config_find(argv[0]) : NULL;
        if (ce) {
            size_t i = config_index(ce);
            if (!written[i]) out = cat_directive(out, ce);
            written[i] = 1;
        } else {
            if (!strncmp(line, REWRITE_MARKER, strlen(REWRITE_MARKER))) marked = 1;
            out = kstr_cat(kstr_cat_len(out, line, kstr_len(line)), "\n");
        }
        if (argv) kstr_free_split(argv, argc);
        kstr_free(line);
    }
    for (size_t i = 0; i < nconfigs; i++) {
        config_entry *ce = all_configs[i];
        if (written[i] || at_default(ce)) continue;
        if (!marked++) out = kstr_cat(out, REWRITE_MARKER "\n");
        out = cat_directive(out, ce);
    }
    zfree(written);
    return out;
}

static int write_replacing(const char *path, const kstr text, const char **err) {
    kstr tmp = kstr_cat_printf(kstr_empty(), "%s.tmp-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0;
    struct stat st;
    if (ok && stat(path, &st) == 0) fchmod(fd, st.st_mode & 07777);
    for (size_t off = 0; ok && off < kstr_len(text);) {
        ssize_t n = write(fd, text + off, kstr_len(text) - off);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) off += (size_t)n;
    }
    if (ok) ok = fsync(fd) == 0;
    if (!ok) *err = strerror(errno ? errno : EIO);
    if (fd >= 0) close(fd);
    if (ok && rename(tmp, path) != 0) {
        *err = strerror(errno);
        ok = 0;
    }
    if (!ok) unlink(tmp);
    kstr_free(tmp);
    return ok;
}

void config_command_rewrite(client *c) {
    if (!server.config_file) {
        reply_error(c, "ERR The server is running without a config file");
        return;
    }
    kstr old;
    const char *err = NULL;
    int ok = read_text(server.config_file, &old, &err);
    if (ok) {
        kstr text = rewritten_text(old);
        ok = write_replacing(server.config_file, text, &err);
        kstr_free(text);
    }
    kstr_free(old);
    if (!ok) {
        server_log(LOG_WARNING, "CONFIG REWRITE failed: %s", err);
        reply_errorf(c, "ERR Rewriting config file: %s", err);
        return;
    }
    server_log(LOG_NOTICE, "CONFIG REWRITE executed with success.");
    reply_ok(c);
}

void config_command_help(client *c) {
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    reply_help(c, help);
}
