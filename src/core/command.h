/*
 * command: the command table and dispatch.
 *
 * Every command is described once, in its module's table: name, handler,
 * arity, flags, key positions, group. Dispatch reads the table for the
 * generic checks (unknown command and subcommand, authentication, arity,
 * no-multi, CLIENT PAUSE, denyoom under maxmemory; later: ACL, cluster
 * slots) and COMMAND INFO/DOCS/COUNT read the very same table, so what
 * the server enforces and what it advertises cannot drift apart.
 *
 * Flags are written as a space-separated string in the tables ("write
 * denyoom fast") because that reads like Redis's documentation; they are
 * parsed into bits once at start-up.
 */
#ifndef KEEL_COMMAND_H
#define KEEL_COMMAND_H

#include <stddef.h>
#include <stdint.h>

struct client;
typedef void command_proc(struct client *c);

#define CMD_WRITE (1ULL << 0)
#define CMD_READONLY (1ULL << 1)
#define CMD_DENYOOM (1ULL << 2)
#define CMD_MODULE (1ULL << 3)
#define CMD_ADMIN (1ULL << 4)
#define CMD_PUBSUB (1ULL << 5)
#define CMD_NOSCRIPT (1ULL << 6)
#define CMD_BLOCKING (1ULL << 8)
#define CMD_LOADING (1ULL << 9)
#define CMD_STALE (1ULL << 10)
#define CMD_SKIP_MONITOR (1ULL << 11)
#define CMD_SKIP_SLOWLOG (1ULL << 12)
#define CMD_ASKING (1ULL << 13)
#define CMD_FAST (1ULL << 14)
#define CMD_NO_AUTH (1ULL << 15)
#define CMD_MAY_REPLICATE (1ULL << 16)
#define CMD_SENTINEL (1ULL << 17)
#define CMD_ONLY_SENTINEL (1ULL << 18)
#define CMD_NO_MANDATORY_KEYS (1ULL << 19)
#define CMD_PROTECTED (1ULL << 20)
#define CMD_NO_ASYNC_LOADING (1ULL << 23)
#define CMD_NO_MULTI (1ULL << 24)
#define CMD_MOVABLE_KEYS (1ULL << 25)
#define CMD_ALLOW_BUSY (1ULL << 26)

typedef struct command {
    const char *name;     /* lowercase */
    command_proc *proc;
    int arity;            /* > 0 exact, < 0 at least -arity */
    const char *sflags;
    int first_key, last_key, key_step; /* 1-based; last -1 = last arg */
    const char *group;    /* Redis's command group: string, generic, ... */
    const char *since;
    const char *summary;
    struct command *subcommands; /* NULL-terminated array (name == NULL) */

    /* Filled at start-up / at run time. */
    uint64_t flags;
    char fullname[48];    /* "get", "config|get" */
    struct command *parent;
    long long calls, usec, rejected_calls, failed_calls;
    struct latency_hist *latency_hist; /* owned by core/latency.c */
    int acl_id;              /* owned by acl/: bit in users' command bitmaps */
    uint64_t acl_categories; /* owned by acl/: Redis's ACL categories */
} command;

void command_table_init(void);
/* Before command_table_init: serve only the commands named in keep
 * (NULL-terminated) from the module tables, plus own's, which replace
 * same-named ones (sentinel mode). */
void command_table_restrict(command *own, const char *const *keep);
/* Whether COMMAND (INFO, DOCS, LIST) names cmd. Always, except in the
 * restricted (sentinel) mode, which lists exactly Redis 7.0 Sentinel's
 * commands: subcommands newer than 7.0 (CLIENT NO-TOUCH, SETINFO) still
 * work there but are not listed. */
int command_listed(const command *cmd);
/* Find a command by name (case-insensitive); NULL if unknown. */
command *command_lookup(const char *name, size_t len);
/* rename-command from the config file: the command answers to 'to'
 * from now on, or to nothing when 'to' is "". Returns 0 with Redis's
 * words in *err for an unknown command or a name already taken. */
int command_rename(const char *from, const char *to, const char **err);
/* Resolve argv to a command or subcommand, NULL if unknown. */
command *command_lookup_argv(int argc, char **argv);

/* Execute the request in c->argv: all the generic checks, then the
 * handler, then statistics. */
void command_dispatch(struct client *c);
/* Run cmd with c->argv as it stands, with the statistics (calls, time,
 * slow log): the last step of command_dispatch, and what EXEC does for
 * each queued command. */
void command_call(struct client *c, command *cmd);

/* Positions (argv indexes) of the keys of a request for cmd, including
 * the commands whose keys move (numkeys, SORT ... STORE, GEORADIUS ...
 * STORE). Returns the number stored in idx (at most max), 0 for none, -1
 * when a numkeys argument is invalid. Read by COMMAND GETKEYS; later by
 * cluster slot checks and ACL key patterns. Defined in keyspec.c. */
int command_get_keys(const command *cmd, int argc, char **argv, int *idx, int max);
/* Whether cmd takes keys at all (a key range in its row, or movable). */
int command_has_keys(const command *cmd);

/* How cmd uses the nth key (0-based) that command_get_keys found in argv:
 * Redis 7's key-spec flags, space-separated ("RW access delete"). Static
 * text. Defined in keyspec.c. */
const char *command_key_flags(const command *cmd, int argc, char **argv, int nth);

/* Iterate every top-level command (COMMAND, INFO commandstats). */
typedef void command_visit_fn(command *cmd, void *priv);
void command_foreach(command_visit_fn *fn, void *priv);
int command_count(void);
void command_reset_stats(void);

/* Module tables, defined in each command module. */
extern command string_commands[];
extern command keys_commands[];
extern command server_commands[];
extern command connection_commands[];
extern command introspection_commands[];
extern command debug_commands[];
extern command list_commands[];
extern command hash_commands[];
extern command set_commands[];
extern command zset_commands[];
extern command bitmap_commands[];
extern command hll_commands[];
extern command geo_commands[];
extern command sort_commands[];
extern command memory_commands[];
extern command stream_commands[];
extern command hash_ttl_commands[];
extern command bgsave_commands[];
extern command aof_commands[];
extern command pubsub_commands[];
extern command monitor_commands[];
extern command repl_commands[];   /* repl/repl_cmds.c */
extern command acl_commands[];

#endif
