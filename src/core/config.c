/* See config.h for the design. */
#include "acl/acl.h"
#include "core/config.h"
#include "core/command.h"
#include "core/db.h"
#include "core/security.h"
#include "core/server.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "persist/rdb.h"

#include <ctype.h>
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
/* Enum values in Redis's order: its error message lists them so. */
static const enum_value policy_enum[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU}, {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM}, {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU}, {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM}, {"noeviction", MAXMEMORY_NO_EVICTION},
    {NULL, 0}};
static const enum_value loglevel_enum[] = {
    {"debug", LOG_DEBUG}, {"verbose", LOG_VERBOSE}, {"notice", LOG_NOTICE}, {"warning", LOG_WARNING}, {NULL, 0}};

static int apply_maxclients(const char **err);
static int apply_bind(const char **err);
static int apply_hz(const char **err);
static int apply_jemalloc_bg(const char **err);
static int apply_maxmemory(const char **err);
static int set_bind(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_bind(const config_entry *ce);
static int set_save(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_string_ptr(const config_entry *ce);


static config_entry core_configs[] = {
    /* Networking. */
    CONFIG_INT("port", &server.port, "6379", 0, 65535, 0, server_rebind_tcp),
    CONFIG_SPECIAL("bind", NULL, "127.0.0.1 -::1", set_bind, get_bind, 0, .apply = apply_bind),
    CONFIG_STRING("unixsocket", &server.unixsocket, "", CF_IMMUTABLE, NULL),
    CONFIG_INT("unixsocketperm", &server.unixsocketperm, "0", 0, 0777, CF_IMMUTABLE, NULL),
    CONFIG_INT("tcp-backlog", &server.tcp_backlog, "511", 0, INT_MAX, CF_IMMUTABLE, NULL),
    CONFIG_INT("tcp-keepalive", &server.tcpkeepalive, "300", 0, INT_MAX, 0, NULL),
    CONFIG_INT("timeout", &server.maxidletime, "0", 0, INT_MAX, 0, NULL),
    CONFIG_INT("maxclients", &server.maxclients, "10000", 1, INT_MAX, 0, apply_maxclients),
    CONFIG_BOOL("protected-mode", &server.protected_mode, "yes", 0, NULL),
    CONFIG_MEMORY("proto-max-bulk-len", &server.proto_max_bulk_len, "512mb", 1024 * 1024, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("client-query-buffer-limit", &server.client_max_querybuf_len, "1gb", 1024 * 1024, LLONG_MAX, 0, NULL),
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
    CONFIG_STRING("requirepass", &server.requirepass, "", 0, acl_requirepass_apply),
    CONFIG_STRING("dir", &server.dir, "", CF_PROTECTED | CF_DENY_LOADING, NULL),
    CONFIG_STRING("dbfilename", &server.dbfilename, "dump.rdb", CF_PROTECTED, NULL),
    CONFIG_SPECIAL("save", &server.save_params, "3600 1 300 100 60 10000", set_save, get_string_ptr, 0),
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
    CONFIG_END,
};

/* ---- The registry ------------------------------------------------------
 *
 * Every module's table, core's first. As with commands, a module adds its
 * parameters by listing them in its own table (declared in config.h) and
 * appending that table here; the rest of this file sees one flat list. */
static config_entry *const module_config_tables[] = {
    core_configs,
    persist_configs,
    bgsave_configs,
    loading_configs,
    crash_configs,
    proctitle_configs,
    aof_configs,
    slowlog_configs,
    latency_configs,
    clientmem_configs,
    oomadj_configs,
    stub_configs,
    script_configs,
    pubsub_configs,
    repl_configs,
    security_configs,
    tls_configs,
    acl_configs,
    http_configs,
    cluster_configs,
    shutdown_configs,
};

static config_entry **all_configs; /* flat, in table order */
static size_t nconfigs;

static int same_name(const char *a, const config_entry *ce) {
    return !strcasecmp(a, ce->name) || (ce->alias && !strcasecmp(a, ce->alias));
}

/* Two rows for one name (say a stub left behind when a module made the
 * parameter real) would make one of them unreachable: refuse to start. */
static void refuse_duplicate_names(void) {
    for (size_t i = 0; i < nconfigs; i++)
        for (size_t j = i + 1; j < nconfigs; j++)
            if (same_name(all_configs[i]->name, all_configs[j]) ||
                (all_configs[i]->alias && same_name(all_configs[i]->alias, all_configs[j]))) {
                fprintf(stderr, "keel: configuration parameter '%s' is defined twice\n", all_configs[i]->name);
                abort();
            }
}

static void config_registry_init(void) {
    if (all_configs) return;
    size_t n = 0;
    for (size_t t = 0; t < sizeof(module_config_tables) / sizeof(module_config_tables[0]); t++)
        for (config_entry *ce = module_config_tables[t]; ce->name; ce++) n++;
    all_configs = zmalloc(sizeof(config_entry *) * (n ? n : 1));
    for (size_t t = 0; t < sizeof(module_config_tables) / sizeof(module_config_tables[0]); t++)
        for (config_entry *ce = module_config_tables[t]; ce->name; ce++) all_configs[nconfigs++] = ce;
    refuse_duplicate_names();
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

/* Redis's words for a value not in an enum: the accepted names, in the
 * table's order. Same lifetime as range_error's text. */
static const char *enum_error(const config_entry *ce) {
    static char buf[256];
    size_t off = (size_t)snprintf(buf, sizeof(buf), "argument(s) must be one of the following: ");
    for (const enum_value *ev = ce->enums; ev->name && off < sizeof(buf); ev++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", ev == ce->enums ? "" : ", ", ev->name);
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
        if (!enum_parse(ce->enums, val, &v)) { *err = enum_error(ce); return 0; }
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

/* Set from argv (one value for plain types). argv are kstr: a string
 * parameter keeps every byte of its value, NULs included (requirepass,
 * masterauth), and is stored as a kstr, which C-string readers can still
 * read up to its first NUL. Returns 1 on success. */
static int config_set_args(const config_entry *ce, char **argv, int argc, const char **err) {
    if (ce->type == CT_SPECIAL) return ce->sset(ce, argv, argc, err);
    if (argc != 1) { *err = "wrong number of arguments"; return 0; }
    if (ce->type == CT_STRING) {
        char **p = ce->ptr;
        kstr_free(*p);
        *p = kstr_dup(argv[0]);
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
        return s ? kstr_dup(s) : kstr_empty();
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
    /* "save" alone or save "" disables; otherwise pairs of seconds/changes,
     * given as words or in one argument (--save "60 1" on the command line). */
    if (argc == 1 && argv[0][0] == '\0') { replace_string(ce, kstr_empty()); return 1; }
    if (argc == 1 && strchr(argv[0], ' ')) {
        int n;
        kstr *words = kstr_split_args(argv[0], &n);
        int ok = words && n > 1 && set_save(ce, words, n, err);
        if (words) kstr_free_split(words, n);
        if (!words || n <= 1) *err = "Invalid save parameters";
        return ok;
    }
    if (argc % 2 != 0) { *err = "Invalid save parameters"; return 0; }
    for (int i = 0; i < argc; i++) {
        long long v;
        if (!string_to_ll(argv[i], strlen(argv[i]), &v) || v < 0) { *err = "Invalid save parameters"; return 0; }
    }
    replace_string(ce, join_args(argv, argc));
    return 1;
}

static kstr get_string_ptr(const config_entry *ce) {
    char *s = *(char **)ce->ptr;
    return kstr_new(s ? s : "");
}

/* Redis's words differ for bind and port failures. */
static int apply_bind(const char **err) {
    if (server_rebind_tcp(err) && server_rebind_tls(err)) return 1;
    *err = "Failed to bind to specified addresses.";
    return 0;
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

/* At start-up, as in Redis, the first "save" line replaces the default
 * save points and each later one adds its own ("save 900 1" then
 * "save 100 100" keeps both; "save" with no points clears them). */
static int save_lines_seen;

static int set_directive(config_entry *ce, char **argv, int argc, const char **err) {
    int appending = !strcmp(ce->name, "save") && save_lines_seen++ > 0 && argc > 0 && argv[0][0];
    if (!appending) return config_set_args(ce, argv, argc, err);
    kstr all = config_get_value(ce), words = join_args(argv, argc);
    if (kstr_len(all)) all = kstr_cat(all, " ");
    all = kstr_cat_len(all, words, kstr_len(words));
    char *one[1] = {all};
    int ok = config_set_args(ce, one, 1, err);
    kstr_free(words);
    kstr_free(all);
    return ok;
}

static const char *mode_defaults;
static const char *handled_directive;
static config_line_fn *directive_handler;

void config_set_mode_defaults(const char *text) { mode_defaults = text; }

void config_set_line_handler(const char *directive, config_line_fn *fn) {
    handled_directive = directive;
    directive_handler = fn;
}

static void apply_directive(char **argv, int argc, const char *source, int line, const char *text) {
    if (handled_directive && !strcmp(argv[0], handled_directive)) {
        const char *why = "Bad directive or wrong number of arguments";
        if (!directive_handler(argv + 1, argc - 1, &why)) fatal_config(source, line, text, why);
        return;
    }
    config_entry *ce = config_find(argv[0]);
    if (!ce) fatal_config(source, line, text, "Bad directive or wrong number of arguments");
    const char *err = "Bad directive or wrong number of arguments";
    if (!set_directive(ce, argv + 1, argc - 1, &err)) fatal_config(source, line, text, err);
    if (ce->apply && !ce->apply(&err)) fatal_config(source, line, text, err);
}

static void load_config_text(const char *text, const char *source, int lines_are_real);

/* rename-command NAME NEWNAME (or "" to disable), as Redis: file and
 * command line only; CONFIG REWRITE keeps the line as written. */
static void rename_directive(char **argv, const char *source, int line, const char *text) {
    const char *err;
    if (!command_rename(argv[1], argv[2], &err)) fatal_config(source, line, text, err);
}

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
        else if (!strcmp(argv[0], "rename-command") && argc == 3) rename_directive(argv, source, lines_are_real ? lineno : 0, line);
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
            *pp = kstr_new(ce->def);
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

static int is_option_arg(const char *a) {
    return a[0] == '-' && a[1] == '-' && a[2] && !(a[2] >= '0' && a[2] <= '9');
}

void config_load(int argc, char **argv) {
    load_defaults();
    if (mode_defaults) load_config_text(mode_defaults, "the mode's defaults", 0);
    int i = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char *abs = realpath(argv[1], NULL);
        server.config_file = zstrdup(abs ? abs : argv[1]);
        free(abs);
        load_file(argv[1]);
        i = 2;
    }
    /* Command-line options become config lines, read as Redis 7.0 reads
     * them: "--port 6380" -> "port 6380"; the argument right after a bare
     * option name is its value even when it starts with "--"
     * (--proc-title-template --my-title); "--port 6380" in one argument is
     * a whole line; a bare --save followed by an option, or last, is
     * save "". */
    kstr text = kstr_empty();
    int want_value = 0;
    for (; i < argc; i++) {
        if (is_option_arg(argv[i]) && !want_value) {
            if (kstr_len(text)) text = kstr_cat(text, "\n");
            text = kstr_cat(text, argv[i] + 2);
            want_value = !strpbrk(argv[i] + 2, " \t");
            if (want_value && !strcasecmp(argv[i], "--save") && (i == argc - 1 || is_option_arg(argv[i + 1]))) {
                text = kstr_cat(text, " \"\"");
                want_value = 0;
            }
        } else {
            text = kstr_cat(text, " ");
            text = cat_quoted(text, argv[i]);
            want_value = 0;
        }
    }
    if (kstr_len(text)) load_config_text(text, "the command line", 0);
    kstr_free(text);
}

int config_set_internal(const char *name, const char *value, const char **err) {
    config_registry_init();
    config_entry *ce = config_find(name);
    if (!ce) { *err = "no such parameter"; return 0; }
    kstr v = kstr_new(value);
    char *one[1] = {v};
    int ok = config_set_args(ce, one, 1, err);
    kstr_free(v);
    return ok && (!ce->apply || ce->apply(err));
}

/* ---- CONFIG command ---------------------------------------------------- */

/* CONFIG GET as Redis 7.0 answers it: a pattern matches names and older
 * names alike, each listed under the spelling that matched (so "*of"
 * gives replicaof and slaveof); an exact request is answered under the
 * words the client used; hidden parameters need their exact name; a
 * parameter is listed once per spelling however many arguments match it. */
#define GOT_NAME 1
#define GOT_ALIAS 2

typedef struct get_match {
    const char *label;
    const config_entry *ce;
} get_match;

static void add_match(get_match *m, long *n, unsigned char *got, size_t i, int which, const char *label) {
    if (got[i] & which) return;
    got[i] |= (unsigned char)which;
    m[(*n)++] = (get_match){label, all_configs[i]};
}

static void match_pattern(const kstr pat, get_match *m, long *n, unsigned char *got) {
    size_t plen = kstr_len(pat);
    for (size_t i = 0; i < nconfigs; i++) {
        const config_entry *ce = all_configs[i];
        if (ce->flags & (CF_HIDDEN | CF_DIRECTIVE)) continue;
        if (glob_match(pat, plen, ce->name, strlen(ce->name), 1)) add_match(m, n, got, i, GOT_NAME, ce->name);
        if (ce->alias && glob_match(pat, plen, ce->alias, strlen(ce->alias), 1))
            add_match(m, n, got, i, GOT_ALIAS, ce->alias);
    }
}

static void match_exact(const kstr name, get_match *m, long *n, unsigned char *got) {
    for (size_t i = 0; i < nconfigs; i++) {
        const config_entry *ce = all_configs[i];
        if (ce->flags & CF_DIRECTIVE) continue;
        if (!strcasecmp(name, ce->name)) add_match(m, n, got, i, GOT_NAME, name);
        else if (ce->alias && !strcasecmp(name, ce->alias)) add_match(m, n, got, i, GOT_ALIAS, name);
    }
}

void config_command_get(client *c) {
    /* Collect first: the reply is a map of known length. */
    get_match *m = zmalloc(sizeof(get_match) * (2 * nconfigs + 1));
    unsigned char *got = zcalloc(nconfigs);
    long n = 0;
    for (int a = 2; a < c->argc; a++) {
        if (strpbrk(c->argv[a], "*?[")) match_pattern(c->argv[a], m, &n, got);
        else match_exact(c->argv[a], m, &n, got);
    }
    reply_map_len(c, n);
    for (long i = 0; i < n; i++) {
        kstr v = config_get_value(m[i].ce);
        reply_bulk_cstr(c, m[i].label);
        reply_bulk(c, v, kstr_len(v));
        kstr_free(v);
    }
    zfree(got);
    zfree(m);
}

/* CONFIG SET name value [name value ...] is all or nothing: every name is
 * checked first (unknown, immutable, duplicate), each old value is saved,
 * then the values are set in order; if one fails, all are put back. */
typedef struct saved_value {
    config_entry *ce;
    long long num;
    kstr str;
} saved_value;

/* A value's words: a special parameter's value is split ("" is one empty
 * word, so that `CONFIG SET save ""` means "no save points"); others are
 * one word. Returns NULL for unbalanced quotes. */
static kstr *value_words(const config_entry *ce, const kstr val, int *argc) {
    if (ce->type != CT_SPECIAL) {
        kstr *one = zmalloc(sizeof(kstr));
        one[0] = kstr_dup(val);
        *argc = 1;
        return one;
    }
    kstr *argv = kstr_split_args(val, argc);
    if (argv && *argc == 0) {
        kstr_free_split(argv, *argc);
        argv = zmalloc(sizeof(kstr));
        argv[0] = kstr_empty();
        *argc = 1;
    }
    return argv;
}

static int set_from_text(config_entry *ce, const kstr val, const char **err) {
    int argc;
    kstr *argv = value_words(ce, val, &argc);
    if (!argv) { *err = "unbalanced quotes"; return 0; }
    int ok = config_set_args(ce, argv, argc, err);
    kstr_free_split(argv, argc);
    return ok;
}

static void save_value(saved_value *sv, config_entry *ce) {
    sv->ce = ce;
    if (ce->type == CT_STRING || ce->type == CT_SPECIAL) {
        sv->str = config_get_value(ce);
    } else {
        sv->num = load_value(ce);
    }
}

/* Whether an earlier pair of this CONFIG SET has the same apply hook. */
static int hook_seen_before(const saved_value *saved, int i) {
    for (int j = 0; j < i; j++)
        if (saved[j].ce->apply == saved[i].ce->apply) return 1;
    return 0;
}

/* Each apply hook once, after every value is in place, as Redis does: a
 * certificate and its key set together are checked together, and a hook
 * shared by several parameters runs once. Returns the index of the pair
 * whose hook refused, or n. */
static int run_apply_hooks(saved_value *saved, int n, const char **err) {
    for (int i = 0; i < n; i++) {
        if (!saved[i].ce->apply || hook_seen_before(saved, i)) continue;
        if (!saved[i].ce->apply(err)) return i;
    }
    return n;
}

static void restore_all(saved_value *saved, int n) {
    const char *ignored;
    for (int i = 0; i < n; i++) {
        if (saved[i].str) set_from_text(saved[i].ce, saved[i].str, &ignored);
        else store_value(saved[i].ce, saved[i].num);
    }
    run_apply_hooks(saved, n, &ignored);
}

/* Check the names and save the old values. Returns the index of the
 * first bad name (with *err set; NULL for an unknown name), or n. */
static const char loading_err[] = RDB_LOADING_ERR;

static int check_and_save(client *c, saved_value *saved, int n, const char **err) {
    for (int i = 0; i < n; i++) {
        config_entry *ce = config_find(c->argv[2 + i * 2]);
        if (!ce || (ce->flags & CF_DIRECTIVE)) { *err = NULL; return i; }
        if ((ce->flags & CF_DENY_LOADING) && (rdb_loading || rdb_async_loading)) { *err = loading_err; return i; }
        if (ce->flags & CF_IMMUTABLE) { *err = "can't set immutable config"; return i; }
        if ((ce->flags & CF_PROTECTED) && !security_protected_configs_allowed(c)) {
            *err = "can't set protected config";
            return i;
        }
        for (int j = 0; j < i; j++)
            if (saved[j].ce == ce) { *err = "duplicate parameter"; return i; }
        save_value(&saved[i], ce);
    }
    return n;
}

/* Set them all, then run their apply hooks; on the first failure put
 * every saved value back. Returns the index of the failing pair, or n. */
static int apply_all(client *c, saved_value *saved, int n, const char **err) {
    for (int i = 0; i < n; i++) {
        if (set_from_text(saved[i].ce, c->argv[3 + i * 2], err)) continue;
        restore_all(saved, n);
        return i;
    }
    int bad = run_apply_hooks(saved, n, err);
    if (bad < n) restore_all(saved, n);
    return bad;
}

void config_command_set(client *c) {
    if ((c->argc - 2) % 2 != 0) {
        reply_error_syntax(c);
        return;
    }
    int n = (c->argc - 2) / 2;
    saved_value *saved = zcalloc(sizeof(saved_value) * (size_t)n);
    const char *err = NULL;
    int bad = check_and_save(c, saved, n, &err);
    if (bad == n) bad = apply_all(c, saved, n, &err);
    if (bad == n) reply_ok(c);
    else if (err == loading_err) reply_error(c, loading_err); /* as Redis: the plain -LOADING */
    else if (!err) reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", c->argv[2 + bad * 2]);
    else reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", c->argv[2 + bad * 2], err);
    for (int i = 0; i < n; i++) kstr_free(saved[i].str);
    zfree(saved);
}

void config_command_resetstat(client *c) {
    size_t peak = server_used_memory();
    memset(&server.stat, 0, sizeof(server.stat));
    server.stat.peak_memory = peak;
    command_reset_stats();
    reply_reset_stats();
    acl_reset_stats();
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

/* A string is written quoted, with escapes for what is not printable
 * ("a\x00b"), when it is empty or a bare word would not read back as it. */
static int needs_quotes(const kstr v) {
    if (!kstr_len(v)) return 1;
    for (size_t i = 0; i < kstr_len(v); i++) {
        unsigned char ch = (unsigned char)v[i];
        if (!isgraph(ch) || ch == '"' || ch == '\'' || ch == '\\') return 1;
    }
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
    if (ce->type == CT_STRING && needs_quotes(v)) out = kstr_cat_repr(out, v, kstr_len(v));
    else if (ce->type == CT_SPECIAL && !kstr_len(v)) out = cat_quoted(out, v);
    else out = kstr_cat_len(out, v, kstr_len(v));
    kstr_free(v);
    return kstr_cat(out, "\n");
}

static int at_default(const config_entry *ce) {
    kstr v = config_get_value(ce);
    int same;
    if (ce->type == CT_STRING || ce->type == CT_SPECIAL) {
        same = kstr_len(v) == strlen(ce->def) && !memcmp(v, ce->def, kstr_len(v));
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
