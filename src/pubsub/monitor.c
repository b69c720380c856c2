/*
 * monitor: see monitor.h. Monitors are few (a debugging tool), so they are
 * an array scanned on each command; the line is built once and copied to
 * each monitor. With no monitor the cost per command is one test.
 */
#include "pubsub/monitor.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>

static client **monitors;
static int nmonitors, cap;

int monitor_count(void) { return nmonitors; }

/* Which arguments of this request are secrets (1 = redact argv[i]). */
static int is_secret(const client *c, const struct command *cmd, int i) {
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    if (!strcmp(top->name, "auth")) return i >= 1;
    if (!strcmp(top->name, "hello")) {
        for (int j = 2; j + 2 < c->argc; j++)
            if (!strcasecmp(c->argv[j], "auth") && (i == j + 1 || i == j + 2)) return 1;
        return 0;
    }
    if (!strcmp(top->name, "migrate")) {
        for (int j = 6; j < c->argc && j < i; j++) {
            if (!strcasecmp(c->argv[j], "keys")) return 0;
            if (!strcasecmp(c->argv[j], "auth") && i == j + 1) return 1;
            if (!strcasecmp(c->argv[j], "auth2") && (i == j + 1 || i == j + 2)) return 1;
        }
        return 0;
    }
    if (!strcmp(cmd->fullname, "config|set") && i >= 3 && (i - 3) % 2 == 0) {
        const char *name = c->argv[i - 1];
        return !strcasecmp(name, "requirepass") || !strcasecmp(name, "masterauth");
    }
    return 0;
}

static kstr monitor_line(const client *c, const struct command *cmd) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    kstr s = kstr_cat_printf(kstr_empty(), "+%ld.%06ld [%d ", (long)tv.tv_sec, (long)tv.tv_usec,
                             c->db ? db_id(c->db) : 0);
    if (c->flags & CLIENT_FAKE) s = kstr_cat(s, "lua] ");
    else if (c->flags & CLIENT_UNIX_SOCKET) s = kstr_cat_printf(s, "unix:%s] ", server.unixsocket ? server.unixsocket : "");
    else s = kstr_cat_printf(s, "%s] ", c->addr);
    for (int i = 0; i < c->argc; i++) {
        if (i) s = kstr_cat(s, " ");
        if (is_secret(c, cmd, i)) s = kstr_cat(s, "\"(redacted)\"");
        else s = kstr_cat_repr(s, c->argv[i], kstr_len(c->argv[i]));
    }
    return kstr_cat(s, "\r\n");
}

/* EVAL, EVALSHA, FCALL and their _RO forms are shown before they run, so
 * that the commands their script calls (shown as [db lua]) come after
 * them, as in Redis. */
static int shown_before(const struct command *cmd) {
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    return !strncmp(top->name, "eval", 4) || !strncmp(top->name, "fcall", 5);
}

static void feed(client *c, const struct command *cmd) {
    kstr line = monitor_line(c, cmd);
    for (int i = 0; i < nmonitors; i++) reply_raw(monitors[i], line, kstr_len(line));
    kstr_free(line);
}

void monitor_feed_before(client *c, const struct command *cmd) {
    if (nmonitors && shown_before(cmd) && !(cmd->flags & CMD_ADMIN)) feed(c, cmd);
}

void monitor_feed(client *c, const struct command *cmd) {
    if (!nmonitors || (cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) || shown_before(cmd)) return;
    feed(c, cmd);
}

void monitor_client_gone(client *c) {
    if (!(c->flags & CLIENT_MONITOR)) return;
    for (int i = 0; i < nmonitors; i++) {
        if (monitors[i] == c) {
            memmove(monitors + i, monitors + i + 1, (size_t)(nmonitors - i - 1) * sizeof(client *));
            nmonitors--;
            break;
        }
    }
    c->flags &= ~CLIENT_MONITOR;
}

static void monitor_command(client *c) {
    if (c->flags & CLIENT_MONITOR) return; /* already monitoring: Redis ignores it, no reply */
    if (nmonitors == cap) {
        cap = cap ? cap * 2 : 4;
        monitors = zrealloc(monitors, (size_t)cap * sizeof(client *));
    }
    monitors[nmonitors++] = c;
    c->flags |= CLIENT_MONITOR;
    reply_ok(c);
}

command monitor_commands[] = {
    {"monitor", monitor_command, 1, "admin noscript loading stale", 0, 0, 0, "server", "1.0.0", "Listen for all requests received by the server in real time.", NULL},
    {0},
};
