/*
 * slowlog: a bounded log of the commands that ran longer than
 * slowlog-log-slower-than microseconds, read with SLOWLOG GET.
 *
 * Design and trade-offs:
 * - The log is a doubly linked list, newest first: SLOWLOG GET reads from
 *   the head, trimming drops from the tail, both O(1) per entry. A ring
 *   buffer would save the links but slowlog-max-len may be changed at any
 *   time (up to LLONG_MAX), and a list never preallocates for it.
 * - Like Redis, shrinking slowlog-max-len does not trim at once: the log
 *   is trimmed when the next entry is pushed, so CONFIG SET stays a plain
 *   variable store and an operator's last entries survive until then.
 * - Each entry copies what it needs (at most 32 arguments of at most 128
 *   bytes, the peer address, the client name) in one kstr per string, so
 *   a logged command never pins a client's argv and an entry is bounded
 *   (about 4 KB) whatever the command's size. The bounds and the
 *   "... (N more arguments)" / "... (N more bytes)" markers are Redis's,
 *   because tools parse them.
 * - Secrets are replaced by "(redacted)" where Redis does it (AUTH, HELLO
 *   ... AUTH, CONFIG SET of a password, MIGRATE ... AUTH/AUTH2). Redis has
 *   each command mark its own arguments; Keel keeps the list here, next to
 *   the only reader of the mark, at the cost of naming those commands in
 *   this file.
 * - Blocked clients are not logged when they block: as in Redis 7.0 the
 *   command is logged when it is served (blocking.c reports the run time
 *   of the serving re-run) and never when it times out.
 */
#include "core/slowlog.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/config.h"
#include "lib/zmalloc.h"
#include "net/client.h"
#include "net/reply.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

static long long slowlog_log_slower_than = 10000; /* microseconds; < 0 disables */
static long long slowlog_max_len = 128;           /* entries kept; trimmed on push */

config_entry slowlog_configs[] = {
    CONFIG_LL("slowlog-log-slower-than", &slowlog_log_slower_than, "10000", -1, LLONG_MAX, 0, NULL),
    CONFIG_LL("slowlog-max-len", &slowlog_max_len, "128", 0, LLONG_MAX, 0, NULL),
    CONFIG_END,
};

typedef struct slowlog_entry {
    struct slowlog_entry *newer, *older;
    long long id;
    long long unix_time;
    long long duration_us;
    kstr peer, name;
    int argc;
    kstr argv[];
} slowlog_entry;

static slowlog_entry *newest, *oldest;
static long length;
static long long next_id;

/* ---- building an entry ---- */

static kstr truncated_arg(const kstr arg) {
    size_t len = kstr_len(arg);
    if (len <= SLOWLOG_MAX_ARGLEN) return kstr_dup(arg);
    kstr s = kstr_new_len(arg, SLOWLOG_MAX_ARGLEN);
    return kstr_cat_printf(s, "... (%zu more bytes)", len - SLOWLOG_MAX_ARGLEN);
}

static int is_sensitive_config(const kstr name) {
    return arg_is(name, "requirepass") || arg_is(name, "masterauth");
}

/* Mark in redact[] the arguments Redis hides from the slow log. */
static void find_secrets(const command *cmd, int argc, char **argv, char *redact) {
    const char *name = cmd->fullname;
    if (!strcmp(name, "auth")) {
        for (int j = 1; j < argc; j++) redact[j] = 1;
    } else if (!strcmp(name, "acl|setuser")) {
        for (int j = 2; j < argc; j++) redact[j] = 1;
    } else if (!strcmp(name, "hello")) {
        for (int j = 2; j < argc; j++) {
            if (arg_is(argv[j], "auth") && j + 2 < argc) { redact[j + 1] = redact[j + 2] = 1; j += 2; }
            else if (arg_is(argv[j], "setname") && j + 1 < argc) j++;
        }
    } else if (!strcmp(name, "config|set")) {
        for (int j = 2; j + 1 < argc; j += 2)
            if (is_sensitive_config(argv[j])) redact[j + 1] = 1;
    } else if (!strcmp(name, "migrate")) {
        for (int j = 6; j < argc; j++) {
            if (arg_is(argv[j], "auth") && j + 1 < argc) redact[++j] = 1;
            else if (arg_is(argv[j], "auth2") && j + 2 < argc) { redact[j + 1] = redact[j + 2] = 1; j += 2; }
        }
    }
}

static slowlog_entry *slow_entry_create(client *c, const command *cmd, long long duration_us) {
    int argc = c->argc < SLOWLOG_MAX_ARGC ? c->argc : SLOWLOG_MAX_ARGC;
    slowlog_entry *e = zmalloc(sizeof(*e) + sizeof(kstr) * (size_t)argc);
    char redact[SLOWLOG_MAX_ARGC] = {0};
    find_secrets(cmd, argc, c->argv, redact);
    for (int j = 0; j < argc; j++) {
        if (argc != c->argc && j == argc - 1)
            e->argv[j] = kstr_cat_printf(kstr_empty(), "... (%d more arguments)", c->argc - argc + 1);
        else if (redact[j])
            e->argv[j] = kstr_new("(redacted)");
        else
            e->argv[j] = truncated_arg(c->argv[j]);
    }
    e->argc = argc;
    e->id = next_id++;
    e->unix_time = (long long)time(NULL);
    e->duration_us = duration_us;
    e->peer = kstr_new(c->addr);
    e->name = c->name ? kstr_dup(c->name) : kstr_empty();
    e->newer = e->older = NULL;
    return e;
}

static void slow_entry_free(slowlog_entry *e) {
    for (int j = 0; j < e->argc; j++) kstr_free(e->argv[j]);
    kstr_free(e->peer);
    kstr_free(e->name);
    zfree(e);
}

/* ---- the list ---- */

static void push_newest(slowlog_entry *e) {
    e->older = newest;
    if (newest) newest->newer = e;
    else oldest = e;
    newest = e;
    length++;
}

static void drop_oldest(void) {
    slowlog_entry *e = oldest;
    oldest = e->newer;
    if (oldest) oldest->older = NULL;
    else newest = NULL;
    length--;
    slow_entry_free(e);
}

static void trim_to_max_len(void) {
    while (length > 0 && length > slowlog_max_len) drop_oldest();
}

static void reset_log(void) {
    while (length > 0) drop_oldest();
}

long slowlog_length(void) { return length; }

void slowlog_newest(long long *id, long long *duration_us) {
    *id = newest ? newest->id : 0;
    *duration_us = newest ? newest->duration_us : 0;
}

void slowlog_command_done(client *c, const command *cmd, long long duration_us) {
    if (slowlog_log_slower_than < 0 || duration_us < slowlog_log_slower_than) return;
    if (c->flags & (CLIENT_BLOCKED | CLIENT_FAKE)) return;
    if (cmd->flags & CMD_SKIP_SLOWLOG) return;
    push_newest(slow_entry_create(c, cmd, duration_us));
    trim_to_max_len();
}

/* ---- SLOWLOG ---- */

static void reply_entry(client *c, const slowlog_entry *e) {
    reply_array_len(c, 6);
    reply_ll(c, e->id);
    reply_ll(c, e->unix_time);
    reply_ll(c, e->duration_us);
    reply_array_len(c, e->argc);
    for (int j = 0; j < e->argc; j++) reply_bulk(c, e->argv[j], kstr_len(e->argv[j]));
    reply_bulk(c, e->peer, kstr_len(e->peer));
    reply_bulk(c, e->name, kstr_len(e->name));
}

static void slowlog_get_command(client *c) {
    long long count = 10;
    if (c->argc > 3) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try SLOWLOG HELP.",
                     c->argv[1]);
        return;
    }
    if (c->argc == 3 &&
        !parse_ll_range(c, c->argv[2], -1, LONG_MAX, &count, "ERR count should be greater than or equal to -1"))
        return;
    if (count == -1 || count > length) count = length;
    reply_array_len(c, (long)count);
    const slowlog_entry *e = newest;
    for (long long i = 0; i < count; i++, e = e->older) reply_entry(c, e);
}

static void slowlog_len_command(client *c) { reply_ll(c, length); }

static void slowlog_reset_command(client *c) {
    reset_log();
    reply_ok(c);
}

/* Redis's SLOWLOG HELP ends with "Prints this help." (not the common
 * "Print this help." of reply_help), so the lines are written here. */
static void slowlog_help_command(client *c) {
    static const char *const lines[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    };
    long n = (long)(sizeof(lines) / sizeof(lines[0]));
    reply_array_len(c, n);
    for (long i = 0; i < n; i++) reply_status(c, lines[i]);
}

static command slowlog_subcommands[] = {
    {"get", slowlog_get_command, -2, "admin loading stale", 0, 0, 0, "server", "2.2.12", "Get the slow log's entries", NULL},
    {"len", slowlog_len_command, 2, "admin loading stale", 0, 0, 0, "server", "2.2.12", "Get the slow log's length", NULL},
    {"reset", slowlog_reset_command, 2, "admin loading stale", 0, 0, 0, "server", "2.2.12", "Clear all entries from the slow log", NULL},
    {"help", slowlog_help_command, 2, "loading stale", 0, 0, 0, "server", "6.2.0", "Show helpful text about the different subcommands", NULL},
    {0},
};

command slowlog_commands[] = {
    {"slowlog", NULL, -2, "", 0, 0, 0, "server", "2.2.12", "A container for slow log commands", slowlog_subcommands},
    {0},
};
