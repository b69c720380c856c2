/*
 * server_cmds: server-wide commands: TIME, INFO, CONFIG, SHUTDOWN.
 * (Connection commands are in conn_cmds.c, COMMAND in introspect_cmds.c,
 * DEBUG in debug_cmds.c.)
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/config.h"
#include "core/info.h"
#include "core/server.h"
#include "lib/siphash.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static void time_command(client *c) {
    long long us = ustime();
    reply_array_len(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}
/* ---- INFO ---- */

static void info_command(client *c) {
    kstr s = info_generate(c, c->argc - 1, c->argv + 1);
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

/* ---- CONFIG ---- */

static command config_subcommands[] = {
    {"get", config_command_get, -3, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Get configuration parameters.", NULL},
    {"set", config_command_set, -4, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Set configuration parameters.", NULL},
    {"resetstat", config_command_resetstat, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Reset the statistics.", NULL},
    {"rewrite", config_command_rewrite, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.8.0", "Rewrite the configuration file.", NULL},
    {"help", config_command_help, 2, "loading stale", 0, 0, 0, "server", "5.0.0", "Help on CONFIG.", NULL},
    {0},
};
/* ---- SHUTDOWN ---- */

static void shutdown_command(client *c) {
    for (int j = 1; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (!arg_is(a, "nosave") && !arg_is(a, "save") && !arg_is(a, "now") && !arg_is(a, "force") &&
            !arg_is(a, "abort")) {
            reply_error_syntax(c);
            return;
        }
        if (arg_is(a, "abort")) {
            reply_error(c, "ERR No shutdown in progress.");
            return;
        }
    }
    /* Nothing to persist yet (persistence is a later issue): SAVE and
     * NOSAVE both stop at once. */
    server_log(LOG_WARNING, "User requested shutdown...");
    server_prepare_shutdown(0);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}
command server_commands[] = {
    {"time", time_command, 1, "loading stale fast", 0, 0, 0, "server", "2.6.0", "Server time.", NULL},
    {"info", info_command, -1, "loading stale", 0, 0, 0, "server", "1.0.0", "Information and statistics about the server.", NULL},
    {"config", NULL, -2, "", 0, 0, 0, "server", "2.0.0", "Configuration.", config_subcommands},
    {"shutdown", shutdown_command, -1, "admin noscript loading stale no_multi allow_busy", 0, 0, 0, "server", "1.0.0", "Stop the server.", NULL},
    {0},
};
