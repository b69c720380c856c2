/*
 * config: every configuration parameter, once, in a table: its name (and
 * older alias), type, where its value lives, default, limits. The same
 * table serves the config file, the command line, CONFIG GET/SET/RESETSTAT
 * and defaults, so a parameter cannot be settable in one place and not in
 * another.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include "lib/kstr.h"
#include "net/client.h"

/* ---- Parameter tables --------------------------------------------------
 *
 * A module that has settings lists them in its own table, terminated by
 * an all-zero row, declares it below and appends it to
 * module_config_tables[] in config.c (as command tables are listed in
 * command.c). That static list is the registration: there is no
 * config_register_table() call to make at run time. Values live where the module keeps them (struct server or
 * the module's own state); only this module writes them, through the
 * table: from the file, the command line, CONFIG SET and defaults. A
 * module reacts to a change through the row's apply hook. Write rows with
 * the CONFIG_* macros, one line per parameter. */
typedef enum { CT_BOOL, CT_INT, CT_LL, CT_MEMORY, CT_ENUM, CT_STRING, CT_SPECIAL } config_type;

#define CF_IMMUTABLE (1 << 0)  /* file and command line only */
#define CF_PERCENT_OK (1 << 1) /* memory value may be "N%" (stored negative) */
#define CF_HIDDEN (1 << 2)
#define CF_PROTECTED (1 << 3) /* CONFIG SET only as enable-protected-configs allows */
#define CF_DENY_LOADING (1 << 5) /* CONFIG SET refused with -LOADING during a load (async too) */
#define CF_DIRECTIVE (1 << 4)  /* a file/command-line directive only: CONFIG
                                  GET and SET do not know it ("user" lines) */

typedef struct enum_value { const char *name; int value; } enum_value;
extern const enum_value config_yesno[];

typedef struct config_entry config_entry;
/* Called after a value changed (CONFIG SET, and once at start-up is NOT
 * implied); returns 0 with *err set to refuse it (the change is undone). */
typedef int apply_fn(const char **err);
/* Special parameters parse and print themselves. */
typedef int special_set_fn(const config_entry *ce, char **argv, int argc, const char **err);
typedef kstr special_get_fn(const config_entry *ce);

struct config_entry {
    const char *name;
    const char *alias;    /* older name, also accepted (e.g. *-ziplist-*) */
    config_type type;
    void *ptr;            /* int* (BOOL, ENUM, INT), long long* (LL, MEMORY), kstr* (STRING) */
    const char *def;
    long long min, max;
    const enum_value *enums;
    int flags;
    apply_fn *apply;
    special_set_fn *sset;
    special_get_fn *sget;
};

/* Extra named fields may follow the fixed ones, e.g. an older name:
 * CONFIG_LL("hash-max-listpack-entries", ..., NULL, .alias = "hash-max-ziplist-entries"). */
#define CONFIG_BOOL(n, p, d, fl, ap, ...) \
    {.name = (n), .type = CT_BOOL, .ptr = (p), .def = (d), .enums = config_yesno, .flags = (fl), .apply = (ap), __VA_ARGS__}
#define CONFIG_INT(n, p, d, lo, hi, fl, ap, ...) \
    {.name = (n), .type = CT_INT, .ptr = (p), .def = (d), .min = (lo), .max = (hi), .flags = (fl), .apply = (ap), __VA_ARGS__}
#define CONFIG_LL(n, p, d, lo, hi, fl, ap, ...) \
    {.name = (n), .type = CT_LL, .ptr = (p), .def = (d), .min = (lo), .max = (hi), .flags = (fl), .apply = (ap), __VA_ARGS__}
#define CONFIG_MEMORY(n, p, d, lo, hi, fl, ap, ...) \
    {.name = (n), .type = CT_MEMORY, .ptr = (p), .def = (d), .min = (lo), .max = (hi), .flags = (fl), .apply = (ap), __VA_ARGS__}
#define CONFIG_ENUM(n, p, d, ev, fl, ap, ...) \
    {.name = (n), .type = CT_ENUM, .ptr = (p), .def = (d), .enums = (ev), .flags = (fl), .apply = (ap), __VA_ARGS__}
/* A string parameter's value is a kstr kept in a char* (never NULL after
 * start-up): readers that want a C string read it as one, readers that
 * must be binary-safe (requirepass, masterauth, masteruser) use kstr_len. */
#define CONFIG_STRING(n, p, d, fl, ap, ...) \
    {.name = (n), .type = CT_STRING, .ptr = (p), .def = (d), .flags = (fl), .apply = (ap), __VA_ARGS__}
#define CONFIG_SPECIAL(n, p, d, setter, getter, fl, ...) \
    {.name = (n), .type = CT_SPECIAL, .ptr = (p), .def = (d), .flags = (fl), .sset = (setter), .sget = (getter), __VA_ARGS__}
#define CONFIG_END {0}

/* A mode of the process (sentinel) may give its own defaults, applied
 * after the table defaults and before the file, and take the lines that
 * start with one directive word (argv without that word). Both are set
 * before config_load(). */
typedef int config_line_fn(char **argv, int argc, const char **err);
void config_set_mode_defaults(const char *text);
void config_set_line_handler(const char *directive, config_line_fn *fn);

/* Modules' parameter tables (each module defines its own). */
extern config_entry persist_configs[]; /* persist/rdb.c: rdbcompression, rdbchecksum, sanitize-dump-payload */
extern config_entry proctitle_configs[]; /* core/proctitle.c: set-proc-title, proc-title-template */
extern config_entry crash_configs[];   /* core/crash.c: crash-log-enabled, crash-memcheck-enabled, watchdog-period */
extern config_entry loading_configs[]; /* persist/loading.c: loading-process-events-interval-bytes, key-load-delay */
extern config_entry bgsave_configs[];  /* persist/persist.c: stop-writes-on-bgsave-error, rdb-del-sync-files, rdb-key-save-delay */
extern config_entry aof_configs[];
extern config_entry slowlog_configs[];   /* core/slowlog.c */
extern config_entry latency_configs[];   /* core/latency.c */
extern config_entry clientmem_configs[]; /* net/clientmem.c */
extern config_entry acl_configs[];       /* acl/acl_cmds.c: aclfile, acllog-max-len, acl-pubsub-default, user */
extern config_entry oomadj_configs[];    /* core/oomadj.c */
extern config_entry stub_configs[];      /* core/config_stubs.c: accepted, no effect yet */
extern config_entry script_configs[]; /* script/script.c */
extern config_entry pubsub_configs[]; /* pubsub/notify.c */
extern config_entry repl_configs[];   /* repl/repl_cmds.c */
extern config_entry tls_configs[]; /* tls/tls.c: tls-port and every tls-* parameter */
extern config_entry security_configs[]; /* core/security.c: enable-protected-configs, enable-module-command */
extern config_entry http_configs[];   /* http/http.c: metrics-port, metrics-bind */
extern config_entry cluster_configs[]; /* cluster/cluster.c */
extern config_entry shutdown_configs[]; /* core/shutdown.c: shutdown-timeout, shutdown-on-sigint/sigterm */

/* Load defaults, then the file (if any), then command-line options.
 * On error prints which line and why, and exits with status 1. */
void config_load(int argc, char **argv);

/* The server's own adjustment of a setting after start-up checks (e.g.
 * maxclients lowered to what the file descriptor limit allows, as Redis
 * does): goes through the parameter's row like CONFIG SET, so config stays
 * the only writer. Returns 1, or 0 with *err set. */
int config_set_internal(const char *name, const char *value, const char **err);

/* CONFIG GET/SET/RESETSTAT/REWRITE/HELP handlers. */
void config_command_get(client *c);
void config_command_set(client *c);
void config_command_resetstat(client *c);
void config_command_rewrite(client *c);
void config_command_help(client *c);

#endif
