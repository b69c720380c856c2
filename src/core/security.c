/* See security.h for the design. */
#include "core/security.h"
#include "core/cmdutil.h"
#include "core/config.h"
#include "core/server.h"
#include "net/reply.h"

#include <string.h>
#include <time.h>

static int enable_protected_configs; /* PROTECTED_ACTION_* */
static int enable_module_cmd;

static const enum_value protected_enum[] = {
    {"no", PROTECTED_ACTION_NO}, {"yes", PROTECTED_ACTION_YES}, {"local", PROTECTED_ACTION_LOCAL}, {NULL, 0}};

config_entry security_configs[] = {
    CONFIG_ENUM("enable-protected-configs", &enable_protected_configs, "no", protected_enum, CF_IMMUTABLE, NULL),
    CONFIG_ENUM("enable-module-command", &enable_module_cmd, "no", protected_enum, CF_IMMUTABLE, NULL),
    CONFIG_END,
};

int security_allows_protected(int setting, const client *c) {
    if (setting == PROTECTED_ACTION_YES) return 1;
    return setting == PROTECTED_ACTION_LOCAL && client_is_local(c);
}

int security_protected_configs_allowed(const client *c) {
    return security_allows_protected(enable_protected_configs, c);
}

/* ---- Cross-protocol scripting ---------------------------------------- */

/* On every request: length and first letter first (two strcasecmp
 * calls cost about 100 instructions, a tenth of a pipelined GET). */
static int is_http_line(const kstr word) {
    size_t len = kstr_len(word);
    if (len == 4 && (word[0] | 0x20) == 'p') return arg_is(word, "post");
    if (len == 5 && (word[0] | 0x20) == 'h') return arg_is(word, "host:");
    return 0;
}

int security_cross_protocol_guard(client *c) {
    if (!is_http_line(c->argv[0])) return 0;
    static time_t logged_at;
    time_t now = time(NULL);
    if (now - logged_at > 60 || logged_at - now > 60) {
        server_log(LOG_WARNING, "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or "
                                "Host: commands to Redis. This is likely due to an attacker attempting to use "
                                "Cross Protocol Scripting to compromise your Redis instance. Connection aborted.");
        logged_at = now;
    }
    client_close_async(c);
    return 1;
}

/* ---- DEBUG and MODULE ------------------------------------------------ */

int security_rejects_protected_command(client *c, const command *cmd) {
    if (!(cmd->flags & CMD_PROTECTED)) return 0;
    const command *top = cmd->parent ? cmd->parent : cmd;
    int is_debug = !strcmp(top->name, "debug");
    int setting = is_debug ? server.enable_debug_cmd : enable_module_cmd;
    if (security_allows_protected(setting, c)) return 0;
    reply_errorf(c, "ERR %s command not allowed. If the %s option is set to \"local\", you can run it from a "
                    "local connection, otherwise you need to set this option in the configuration file, and "
                    "then restart the server.",
                 is_debug ? "DEBUG" : "MODULE", is_debug ? "enable-debug-command" : "enable-module-command");
    return 1;
}

static void module_help_command(client *c) {
    static const char *const help[] = {
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        NULL,
    };
    reply_help(c, help);
}

static void module_list_command(client *c) { reply_empty_array(c); }

/* Keel has no module API: every load fails as a missing library does. */
static void module_load_command(client *c) {
    server_log(LOG_WARNING, "Module %s failed to load: Keel does not load modules", c->argv[2]);
    reply_error(c, "ERR Error loading the extension. Please check the server logs.");
}

static void module_unload_command(client *c) {
    reply_error(c, "ERR Error unloading module: no such module with that name");
}

static command module_subcommands[] = {
    {"help", module_help_command, 2, "loading stale", 0, 0, 0, "server", "5.0.0", "Show helpful text about the different subcommands.", NULL},
    {"list", module_list_command, 2, "admin noscript", 0, 0, 0, "server", "4.0.0", "List all modules loaded by the server.", NULL},
    {"load", module_load_command, -3, "no_async_loading admin noscript protected", 0, 0, 0, "server", "4.0.0", "Load a module.", NULL},
    {"loadex", module_load_command, -3, "no_async_loading admin noscript protected", 0, 0, 0, "server", "7.0.0", "Load a module with extended parameters.", NULL},
    {"unload", module_unload_command, 3, "no_async_loading admin noscript protected", 0, 0, 0, "server", "4.0.0", "Unload a module.", NULL},
    {0},
};

command security_commands[] = {
    {"module", NULL, -2, "", 0, 0, 0, "server", "4.0.0", "A container for module commands.", module_subcommands},
    {0},
};
