/* See command.h for the design. */
#include "core/command.h"
#include "core/propagate.h"
#include "core/blocking.h"
#include "core/multi.h"
#include "core/pause.h"
#include "core/db.h"
#include "core/latency.h"
#include "persist/persist_cmds.h"
#include "persist/rdb.h"
#include "core/security.h"
#include "core/server.h"
#include "core/slowlog.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "script/script.h"
#include "pubsub/hooks.h"
#include "pubsub/pubsub.h"
#include "repl/repl.h"

#include "persist/persist.h"
#include "acl/acl.h"
#include "cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every module's table; a module adds commands by listing them in its
 * own table, never by editing this file (except to add a new table). */
static command *const module_tables[] = {
    server_commands, connection_commands, introspection_commands, debug_commands, keys_commands, string_commands, list_commands, hash_commands,
    set_commands, zset_commands, bitmap_commands, hll_commands, geo_commands,
    sort_commands, memory_commands, slowlog_commands, latency_commands, multi_commands,
    stream_commands, hash_ttl_commands, eval_commands, function_commands,
    persist_commands, dump_commands,
    bgsave_commands,
    aof_commands,
    pubsub_commands, monitor_commands,
    repl_commands,
    security_commands,
    acl_commands,
    migrate_commands, cluster_commands,
};

static command **sorted;   /* all top-level commands, sorted by name */
static int ncommands;

/* Lookup by name: an open-addressing table over a case-folding hash, at
 * most a quarter full. A binary search over the sorted names cost about
 * 350 instructions per request (eight case-insensitive compares); this is
 * one hash of the name and usually one compare. */
#define BY_NAME_SIZE 2048
typedef struct named_command {
    const char *name; /* the table's name, or its rename-command name */
    command *cmd;
} named_command;
static named_command by_name[BY_NAME_SIZE];
/* rename-command: the name each top-level command answers to (parallel
 * to sorted[]); NULL once renamed to "" (disabled). */
static const char **names;

static uint32_t name_hash(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z') ch += 'a' - 'A';
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static const struct { const char *name; uint64_t bit; } flag_names[] = {
    {"write", CMD_WRITE}, {"readonly", CMD_READONLY}, {"denyoom", CMD_DENYOOM},
    {"module", CMD_MODULE}, {"admin", CMD_ADMIN}, {"pubsub", CMD_PUBSUB},
    {"noscript", CMD_NOSCRIPT}, {"blocking", CMD_BLOCKING}, {"loading", CMD_LOADING},
    {"stale", CMD_STALE}, {"skip_monitor", CMD_SKIP_MONITOR}, {"skip_slowlog", CMD_SKIP_SLOWLOG},
    {"asking", CMD_ASKING}, {"fast", CMD_FAST}, {"no_auth", CMD_NO_AUTH},
    {"may_replicate", CMD_MAY_REPLICATE}, {"sentinel", CMD_SENTINEL},
    {"only_sentinel", CMD_ONLY_SENTINEL}, {"no_mandatory_keys", CMD_NO_MANDATORY_KEYS},
    {"protected", CMD_PROTECTED}, {"no_async_loading", CMD_NO_ASYNC_LOADING},
    {"no_multi", CMD_NO_MULTI}, {"movablekeys", CMD_MOVABLE_KEYS}, {"allow_busy", CMD_ALLOW_BUSY},
};

static uint64_t parse_flags(const char *s, const char *cmdname) {
    uint64_t flags = 0;
    if (!s) return 0;
    char word[32];
    while (*s) {
        while (*s == ' ') s++;
        size_t n = 0;
        while (s[n] && s[n] != ' ') n++;
        if (n == 0) break;
        if (n >= sizeof(word)) n = sizeof(word) - 1;
        memcpy(word, s, n);
        word[n] = '\0';
        s += n;
        size_t i;
        for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
            if (!strcmp(word, flag_names[i].name)) {
                flags |= flag_names[i].bit;
                break;
            }
        }
        if (i == sizeof(flag_names) / sizeof(flag_names[0])) {
            /* A typo in a table is a programming error: fail loudly. */
            fprintf(stderr, "keel: unknown flag '%s' in command table for '%s'\n", word, cmdname);
            abort();
        }
    }
    return flags;
}

static void init_command(command *cmd, command *parent) {
    cmd->flags = parse_flags(cmd->sflags, cmd->name);
    cmd->parent = parent;
    if (parent) snprintf(cmd->fullname, sizeof(cmd->fullname), "%s|%s", parent->name, cmd->name);
    else snprintf(cmd->fullname, sizeof(cmd->fullname), "%s", cmd->name);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) init_command(sub, cmd);
}

static int cmp_commands(const void *a, const void *b) {
    return strcmp((*(command *const *)a)->name, (*(command *const *)b)->name);
}

static command *restrict_own;            /* sentinel mode: its own table */
static const char *const *restrict_keep; /* and the general commands kept */

void command_table_restrict(command *own, const char *const *keep) {
    restrict_own = own;
    restrict_keep = keep;
}

static int in_own_table(const char *name) {
    for (command *c = restrict_own; c && c->name; c++)
        if (!strcmp(c->name, name)) return 1;
    return 0;
}

static int command_served(const command *cmd) {
    if (!restrict_keep) return 1;
    if (in_own_table(cmd->name)) return 0;
    for (const char *const *k = restrict_keep; *k; k++)
        if (!strcmp(*k, cmd->name)) return 1;
    return 0;
}

static void index_names(void) {
    memset(by_name, 0, sizeof(by_name));
    for (int i = 0; i < ncommands; i++) {
        if (!names[i]) continue;
        uint32_t slot = name_hash(names[i], strlen(names[i])) & (BY_NAME_SIZE - 1);
        while (by_name[slot].cmd) slot = (slot + 1) & (BY_NAME_SIZE - 1);
        by_name[slot] = (named_command){names[i], sorted[i]};
    }
}

void command_table_init(void) {
    if (sorted) return; /* already built (rename-command in the config) */
    int n = 0;
    for (size_t t = 0; t < sizeof(module_tables) / sizeof(module_tables[0]); t++)
        for (command *cmd = module_tables[t]; cmd->name; cmd++) n++;
    for (command *cmd = restrict_own; cmd && cmd->name; cmd++) n++;
    sorted = zmalloc(sizeof(command *) * (size_t)(n ? n : 1));
    ncommands = 0;
    for (size_t t = 0; t < sizeof(module_tables) / sizeof(module_tables[0]); t++) {
        for (command *cmd = module_tables[t]; cmd->name; cmd++) {
            if (!command_served(cmd)) continue;
            init_command(cmd, NULL);
            sorted[ncommands++] = cmd;
        }
    }
    for (command *cmd = restrict_own; cmd && cmd->name; cmd++) {
        init_command(cmd, NULL);
        sorted[ncommands++] = cmd;
    }
    qsort(sorted, (size_t)ncommands, sizeof(command *), cmp_commands);
    if (ncommands * 4 > BY_NAME_SIZE) {
        fprintf(stderr, "keel: %d commands: enlarge BY_NAME_SIZE\n", ncommands);
        abort();
    }
    names = zmalloc(sizeof(char *) * (size_t)(ncommands ? ncommands : 1));
    for (int i = 0; i < ncommands; i++) names[i] = sorted[i]->name;
    index_names();
    for (int i = 1; i < ncommands; i++) {
        if (!strcmp(sorted[i]->name, sorted[i - 1]->name)) {
            fprintf(stderr, "keel: command '%s' defined twice\n", sorted[i]->name);
            abort();
        }
    }
}

/* Compare a NUL-terminated lowercase name with user bytes, ignoring case. */
static int name_cmp(const char *name, const char *s, size_t len) {
    size_t i = 0;
    for (; i < len && name[i]; i++) {
        int a = (unsigned char)name[i], b = (unsigned char)s[i];
        if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
        if (a != b) return a - b;
    }
    if (i < len) return -1;       /* name shorter */
    return name[i] ? 1 : 0;       /* name longer */
}

command *command_lookup(const char *name, size_t len) {
    uint32_t slot = name_hash(name, len) & (BY_NAME_SIZE - 1);
    for (; by_name[slot].cmd; slot = (slot + 1) & (BY_NAME_SIZE - 1))
        if (name_cmp(by_name[slot].name, name, len) == 0) return by_name[slot].cmd;
    return NULL;
}

int command_rename(const char *from, const char *to, const char **err) {
    command_table_init();
    command *cmd = command_lookup(from, strlen(from));
    if (!cmd) {
        *err = "No such command in rename-command";
        return 0;
    }
    if (to[0] && command_lookup(to, strlen(to))) {
        *err = "Target command name already exists";
        return 0;
    }
    for (int i = 0; i < ncommands; i++) {
        if (sorted[i] != cmd) continue;
        char *lower = zstrdup(to);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p += 'a' - 'A';
        names[i] = to[0] ? lower : NULL; /* kept for the process's life */
        if (!to[0]) zfree(lower);
    }
    index_names();
    return 1;
}

static command *subcommand_lookup(command *parent, const char *name, size_t len) {
    for (command *sub = parent->subcommands; sub->name; sub++)
        if (name_cmp(sub->name, name, len) == 0) return sub;
    return NULL;
}

command *command_lookup_argv(int argc, char **argv) {
    if (argc < 1) return NULL;
    command *cmd = command_lookup(argv[0], kstr_len(argv[0]));
    if (!cmd || !cmd->subcommands || argc < 2) return cmd;
    return subcommand_lookup(cmd, argv[1], kstr_len(argv[1]));
}

/* A command disabled by rename-command "" is gone, as in Redis: not
 * listed by COMMAND, not counted. */
void command_foreach(command_visit_fn *fn, void *priv) {
    for (int i = 0; i < ncommands; i++)
        if (names[i]) fn(sorted[i], priv);
}

int command_count(void) {
    int n = 0;
    for (int i = 0; i < ncommands; i++) n += names[i] != NULL;
    return n;
}

static void reset_one(command *cmd, void *priv) {
    (void)priv;
    cmd->calls = cmd->usec = cmd->rejected_calls = cmd->failed_calls = 0;
    latency_forget_histogram(cmd);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) reset_one(sub, NULL);
}

void command_reset_stats(void) { command_foreach(reset_one, NULL); }

static void reject_unknown_command(client *c) {
    kstr args = kstr_empty();
    for (int i = 1; i < c->argc && kstr_len(args) < 128; i++)
        args = kstr_cat_printf(args, "'%.*s' ", 128 - (int)kstr_len(args), c->argv[i]);
    reply_errorf(c, "ERR unknown command '%.128s', with args beginning with: %s", c->argv[0], args);
    kstr_free(args);
}

static int arity_ok(const command *cmd, int argc) {
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

/* Resolve, check, run. Each rejection uses Redis's exact words. */
#define OOM_ERROR "OOM command not allowed when used memory > 'maxmemory'."

/* Refused when over maxmemory: denyoom commands, every command MULTI would
 * queue (queueing itself grows memory), and EXEC when it queued a denyoom
 * command. */
static int may_grow_memory(const client *c, const command *cmd, int queue) {
    if (queue || (script_request_flags(c, cmd) & CMD_DENYOOM)) return 1;
    return multi_is_exec(cmd) && (multi_queued_flags(c) & CMD_DENYOOM);
}

/* Every rejection goes through here: inside MULTI it also dooms the
 * transaction (EXEC answers EXECABORT), as in Redis. */
/* Every rejection has just replied an error, which reply_error counted
 * as a failed call of c->cmd: a rejected call is not a failed one (Redis
 * counts it under rejected_calls only). */
static void rejected(client *c, command *cmd) {
    if (cmd) cmd->rejected_calls++;
    if (c->cmd && c->cmd->failed_calls) c->cmd->failed_calls--;
    multi_note_rejection(c);
}

void command_dispatch(client *c) {
    if (c->argc == 0) return;
    server_update_cached_time();
    if (security_cross_protocol_guard(c)) return;
    command *cmd = command_lookup(c->argv[0], kstr_len(c->argv[0]));
    if (!cmd) {
        c->cmd = NULL;
        reject_unknown_command(c);
        rejected(c, NULL);
        return;
    }
    if (cmd->subcommands && c->argc >= 2) {
        command *sub = subcommand_lookup(cmd, c->argv[1], kstr_len(c->argv[1]));
        if (!sub) {
            c->cmd = cmd;
            reply_error_subcommand(c);
            rejected(c, cmd);
            return;
        }
        cmd = sub;
    }
    c->cmd = cmd;
    if (!(cmd->flags & CMD_NO_AUTH) && acl_auth_required(c)) {
        reply_error(c, "NOAUTH Authentication required.");
        rejected(c, cmd);
        return;
    }
    if (!arity_ok(cmd, c->argc)) {
        reply_error_arity(c);
        rejected(c, cmd);
        return;
    }
    if (security_rejects_protected_command(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    if (pubsub_rejects_command(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        reply_error(c, "ERR Command not allowed inside a transaction");
        rejected(c, cmd);
        return;
    }
    if (!acl_check_request(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    /* Cluster redirections come before the replication and loading
     * errors, as in Redis: a write sent to a replica gets -MOVED. */
    if (!cluster_check_request(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    /* -LOADING before -BUSY, as Redis orders them: a slow script replayed
     * from the AOF is part of the load. */
    if ((rdb_loading && !(cmd->flags & CMD_LOADING)) || (rdb_async_loading && (cmd->flags & CMD_NO_ASYNC_LOADING))) {
        reply_error(c, RDB_LOADING_ERR);
        rejected(c, cmd);
        return;
    }
    if (script_busy_reject(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    const char *repl_err = repl_deny_command(c, cmd, (multi_is_exec(cmd) && (multi_queued_flags(c) & CMD_WRITE)) ||
                                                            (script_request_flags(c, cmd) & CMD_WRITE));
    if (repl_err) {
        if (multi_is_exec(cmd)) multi_abort_exec(c, repl_err);
        else reply_error(c, repl_err);
        rejected(c, cmd);
        return;
    }
    if (pause_postpones(c, cmd)) {
        blocking_postpone(c);
        return;
    }
    int queue = multi_should_queue(c, cmd);
    if (server.maxmemory && !memory_make_room() && may_grow_memory(c, cmd, queue)) {
        if (multi_is_exec(cmd)) multi_abort_exec(c, OOM_ERROR);
        else reply_error(c, OOM_ERROR);
        rejected(c, cmd);
        return;
    }
    const char *misconf = persist_deny_write(c, cmd);
    if (misconf) {
        if (multi_is_exec(cmd)) multi_abort_exec(c, misconf);
        else reply_error(c, misconf);
        rejected(c, cmd);
        return;
    }
    if (queue) {
        multi_queue(c, cmd);
        return;
    }
    command_call(c, cmd);
    blocking_serve_after_command();
}

void command_call(client *c, command *cmd) {
    if (!script_is_running()) db_set_command_time(server_mstime());
    c->lastcmd = cmd;
    long long start = ustime();
    propagate_call_begin(c);
    messaging_before_command(c, cmd);
    cmd->proc(c);
    propagate_call_end(c);
    long long dur = ustime() - start;
    messaging_after_command(c, cmd);
    cmd->calls++;
    cmd->usec += dur;
    slowlog_command_done(c, cmd, dur);
    latency_command_done(cmd, dur);
    server.stat.numcommands++;
    server_update_peak_memory();
}
