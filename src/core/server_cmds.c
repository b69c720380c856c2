/*
 * server_cmds: connection and server commands: PING, ECHO, HELLO, AUTH,
 * QUIT, RESET, TIME, INFO, CONFIG, COMMAND, CLIENT, SHUTDOWN, DEBUG.
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/config.h"
#include "core/info.h"
#include "core/server.h"
#include "lib/siphash.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "memory/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- Connection ---- */

static void ping_command(client *c) {
    if (c->argc > 2) {
        reply_error_arity(c);
        return;
    }
    if (c->argc == 2) reply_bulk(c, c->argv[1], kstr_len(c->argv[1]));
    else reply_status(c, "PONG");
}

static void echo_command(client *c) { reply_bulk(c, c->argv[1], kstr_len(c->argv[1])); }

static void quit_command(client *c) {
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void time_command(client *c) {
    long long us = ustime();
    reply_array_len(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}

static int password_matches(const kstr pass) {
    return server.requirepass && server.requirepass[0] && strlen(server.requirepass) == kstr_len(pass) &&
           memcmp(server.requirepass, pass, kstr_len(pass)) == 0;
}

static int check_auth(client *c, const kstr user, const kstr pass) {
    if (!server.requirepass || !server.requirepass[0]) {
        if (!user || !strcmp(user, "default")) return 1;
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return 0;
    }
    if ((user && strcmp(user, "default") != 0) || !password_matches(pass)) {
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return 0;
    }
    return 1;
}

static void auth_command(client *c) {
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc == 2 && (!server.requirepass || !server.requirepass[0])) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the default user. "
                       "Are you sure your configuration is correct?");
        return;
    }
    kstr user = c->argc == 3 ? c->argv[1] : NULL;
    kstr pass = c->argv[c->argc - 1];
    if (!check_auth(c, user, pass)) return;
    c->flags |= CLIENT_AUTHENTICATED;
    reply_ok(c);
}

static int valid_client_name(const kstr name) {
    for (size_t i = 0; i < kstr_len(name); i++)
        if (name[i] < '!' || name[i] > '~') return 0;
    return 1;
}

static void set_client_name(client *c, const kstr name) {
    kstr_free(c->name);
    c->name = kstr_len(name) ? kstr_dup(name) : NULL;
}

static void hello_command(client *c) {
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!string_to_ll(c->argv[1], kstr_len(c->argv[1]), &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    kstr setname = NULL;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(c->argv[j], "auth") && more >= 2) {
            if (!check_auth(c, c->argv[j + 1], c->argv[j + 2])) return;
            c->flags |= CLIENT_AUTHENTICATED;
            j += 2;
        } else if (arg_is(c->argv[j], "setname") && more >= 1) {
            setname = c->argv[++j];
            if (!valid_client_name(setname)) {
                reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%s'", c->argv[j]);
            return;
        }
    }
    if (server.requirepass && server.requirepass[0] && !(c->flags & CLIENT_AUTHENTICATED)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                       "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                       "select the RESP protocol version at the same time");
        return;
    }
    if (setname) set_client_name(c, setname);
    if (ver) c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, KEEL_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_ll(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_ll(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

static void reset_command(client *c) {
    c->db = db_get(0);
    c->resp = 2;
    kstr_free(c->name);
    c->name = NULL;
    c->flags &= ~(CLIENT_NO_EVICT | CLIENT_NO_TOUCH);
    if (server.requirepass && server.requirepass[0]) c->flags &= ~CLIENT_AUTHENTICATED;
    reply_status(c, "RESET");
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

/* ---- COMMAND ---- */

static const char *const flag_words[] = {
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "", "blocking", "loading",
    "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel",
    "only_sentinel", "no_mandatory_keys", "protected", "", "", "no_async_loading", "no_multi",
    "movablekeys", "allow_busy",
};

static void reply_flags(client *c, const command *cmd) {
    int n = 0;
    for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
        if ((cmd->flags & (1ULL << i)) && flag_words[i][0]) n++;
    reply_set_len(c, n);
    for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
        if ((cmd->flags & (1ULL << i)) && flag_words[i][0]) reply_status(c, flag_words[i]);
}

static const char *group_category(const char *group) {
    static const struct { const char *group, *cat; } map[] = {
        {"string", "@string"}, {"generic", "@keyspace"}, {"list", "@list"}, {"hash", "@hash"},
        {"set", "@set"}, {"sorted-set", "@sortedset"}, {"bitmap", "@bitmap"},
        {"hyperloglog", "@hyperloglog"}, {"geo", "@geo"}, {"stream", "@stream"},
        {"connection", "@connection"}, {"pubsub", "@pubsub"}, {"scripting", "@scripting"},
        {"transactions", "@transaction"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (group && !strcmp(group, map[i].group)) return map[i].cat;
    return NULL;
}

/* The ACL categories ("@write", ...) of cmd, derived from its flags and
 * group; returns how many were stored in cats (room for 8). */
static int command_categories(const command *cmd, const char *cats[8]) {
    int n = 0;
    if (cmd->flags & CMD_WRITE) cats[n++] = "@write";
    if (cmd->flags & CMD_READONLY) cats[n++] = "@read";
    if (cmd->flags & CMD_ADMIN) { cats[n++] = "@admin"; cats[n++] = "@dangerous"; }
    cats[n++] = (cmd->flags & CMD_FAST) ? "@fast" : "@slow";
    if (cmd->flags & CMD_BLOCKING) cats[n++] = "@blocking";
    const char *g = group_category(cmd->group);
    if (g) cats[n++] = g;
    return n;
}

static void reply_acl_categories(client *c, const command *cmd) {
    const char *cats[8];
    int n = command_categories(cmd, cats);
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) reply_status(c, cats[i]);
}

static void reply_key_specs(client *c, const command *cmd) {
    if (cmd->first_key <= 0) {
        reply_empty_array(c);
        return;
    }
    reply_array_len(c, 1);
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    reply_set_len(c, (cmd->flags & CMD_WRITE) ? 1 : 1);
    reply_status(c, (cmd->flags & CMD_WRITE) ? "RW" : "RO");
    reply_bulk_cstr(c, "begin_search");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, "index");
    reply_bulk_cstr(c, "spec");
    reply_map_len(c, 1);
    reply_bulk_cstr(c, "index");
    reply_ll(c, cmd->first_key);
    reply_bulk_cstr(c, "find_keys");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, "range");
    reply_bulk_cstr(c, "spec");
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "lastkey");
    reply_ll(c, cmd->last_key < 0 ? cmd->last_key : cmd->last_key - cmd->first_key);
    reply_bulk_cstr(c, "keystep");
    reply_ll(c, cmd->key_step);
    reply_bulk_cstr(c, "limit");
    reply_ll(c, 0);
}

static void reply_command_info(client *c, const command *cmd) {
    reply_array_len(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_ll(c, cmd->arity);
    reply_flags(c, cmd);
    reply_ll(c, cmd->first_key);
    reply_ll(c, cmd->last_key);
    reply_ll(c, cmd->key_step);
    reply_acl_categories(c, cmd);
    reply_empty_array(c); /* tips */
    reply_key_specs(c, cmd);
    if (cmd->subcommands) {
        int n = 0;
        for (command *sub = cmd->subcommands; sub->name; sub++) n++;
        reply_array_len(c, n);
        for (command *sub = cmd->subcommands; sub->name; sub++) reply_command_info(c, sub);
    } else {
        reply_empty_array(c);
    }
}

static void command_info_visit(command *cmd, void *priv) { reply_command_info(priv, cmd); }

static void command_command(client *c) {
    reply_array_len(c, command_count());
    command_foreach(command_info_visit, c);
}

static void command_count_command(client *c) { reply_ll(c, command_count()); }

static void command_info_command(client *c) {
    if (c->argc == 2) {
        command_command(c);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        command *cmd = command_lookup(c->argv[j], kstr_len(c->argv[j]));
        if (!cmd) {
            /* "container|sub" names. */
            char *bar = strchr(c->argv[j], '|');
            if (bar) {
                kstr parts[2] = {kstr_new_len(c->argv[j], (size_t)(bar - c->argv[j])), kstr_new(bar + 1)};
                cmd = command_lookup_argv(2, parts);
                if (cmd && !cmd->parent) cmd = NULL;
                kstr_free(parts[0]);
                kstr_free(parts[1]);
            }
        }
        if (cmd) reply_command_info(c, cmd);
        else reply_null_array(c);
    }
}

static void reply_command_doc(client *c, const command *cmd) {
    int n = 3 + (cmd->subcommands ? 1 : 0);
    reply_map_len(c, n);
    reply_bulk_cstr(c, "summary");
    reply_bulk_cstr(c, cmd->summary ? cmd->summary : "");
    reply_bulk_cstr(c, "since");
    reply_bulk_cstr(c, cmd->since ? cmd->since : "1.0.0");
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, cmd->group ? cmd->group : "generic");
    if (cmd->subcommands) {
        int m = 0;
        for (command *sub = cmd->subcommands; sub->name; sub++) m++;
        reply_bulk_cstr(c, "subcommands");
        reply_map_len(c, m);
        for (command *sub = cmd->subcommands; sub->name; sub++) {
            reply_bulk_cstr(c, sub->fullname);
            reply_command_doc(c, sub);
        }
    }
}

static void command_doc_visit(command *cmd, void *priv) {
    client *c = priv;
    reply_bulk_cstr(c, cmd->name);
    reply_command_doc(c, cmd);
}

static void command_docs_command(client *c) {
    if (c->argc == 2) {
        reply_map_len(c, command_count());
        command_foreach(command_doc_visit, c);
        return;
    }
    void *len = reply_deferred_len(c);
    long n = 0;
    for (int j = 2; j < c->argc; j++) {
        command *cmd = command_lookup(c->argv[j], kstr_len(c->argv[j]));
        if (!cmd) continue;
        command_doc_visit(cmd, c);
        n++;
    }
    reply_set_deferred_map_len(c, len, n);
}

/* COMMAND LIST [FILTERBY MODULE m | ACLCAT cat | PATTERN p]. Like Redis 7
 * it names subcommands too ("config|get"), each filtered on its own. */
enum { LIST_ALL, LIST_MODULE, LIST_ACLCAT, LIST_PATTERN };

typedef struct list_filter {
    client *c;
    int kind;
    kstr arg;
    long count;
} list_filter;

static int command_in_category(const command *cmd, const kstr cat) {
    const char *cats[8];
    int n = command_categories(cmd, cats);
    for (int i = 0; i < n; i++)
        if (strlen(cats[i] + 1) == kstr_len(cat) && !strcasecmp(cats[i] + 1, cat)) return 1;
    return 0;
}

static int list_filter_matches(const list_filter *f, const command *cmd) {
    switch (f->kind) {
    case LIST_MODULE: return 0; /* no modules */
    case LIST_ACLCAT: return command_in_category(cmd, f->arg);
    case LIST_PATTERN: return glob_match(f->arg, kstr_len(f->arg), cmd->fullname, strlen(cmd->fullname), 1);
    default: return 1;
    }
}

static void command_list_emit(command *cmd, list_filter *f) {
    if (list_filter_matches(f, cmd)) {
        reply_bulk_cstr(f->c, cmd->fullname);
        f->count++;
    }
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) command_list_emit(sub, f);
}

static void command_list_visit(command *cmd, void *priv) { command_list_emit(cmd, priv); }

static void command_list_command(client *c) {
    list_filter f = {.c = c, .kind = LIST_ALL};
    if (c->argc == 5 && arg_is(c->argv[2], "filterby")) {
        if (arg_is(c->argv[3], "module")) f.kind = LIST_MODULE;
        else if (arg_is(c->argv[3], "aclcat")) f.kind = LIST_ACLCAT;
        else if (arg_is(c->argv[3], "pattern")) f.kind = LIST_PATTERN;
        f.arg = c->argv[4];
    }
    if (c->argc != 2 && f.kind == LIST_ALL) {
        reply_error_syntax(c);
        return;
    }
    void *len = reply_deferred_len(c);
    command_foreach(command_list_visit, &f);
    reply_set_deferred_array_len(c, len, f.count);
}

static void command_getkeys_command(client *c) {
    command *cmd = command_lookup_argv(c->argc - 2, c->argv + 2);
    if (!cmd) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    int argc = c->argc - 2;
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    if (cmd->first_key <= 0) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    long n = 0;
    for (int j = cmd->first_key; j <= last; j += cmd->key_step) n++;
    reply_array_len(c, n);
    for (int j = cmd->first_key; j <= last; j += cmd->key_step) reply_bulk(c, c->argv[2 + j], kstr_len(c->argv[2 + j]));
}

static void command_help_command(client *c) {
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        NULL,
    };
    reply_help(c, help);
}

static command command_subcommands[] = {
    {"count", command_count_command, 2, "loading stale", 0, 0, 0, "server", "2.8.13", "Number of commands.", NULL},
    {"info", command_info_command, -2, "loading stale", 0, 0, 0, "server", "2.8.13", "Information about commands.", NULL},
    {"docs", command_docs_command, -2, "loading stale", 0, 0, 0, "server", "7.0.0", "Documentary information about commands.", NULL},
    {"list", command_list_command, -2, "loading stale", 0, 0, 0, "server", "7.0.0", "List of command names.", NULL},
    {"getkeys", command_getkeys_command, -3, "loading stale", 0, 0, 0, "server", "2.8.13", "Extract the keys of a command.", NULL},
    {"help", command_help_command, 2, "loading stale", 0, 0, 0, "server", "5.0.0", "Help on COMMAND.", NULL},
    {0},
};

static void command_dispatcher(client *c) {
    /* COMMAND without subcommand lists everything. */
    command_command(c);
}

/* ---- CLIENT ---- */

static void client_id_command(client *c) { reply_ll(c, (long long)c->id); }

static void client_setname_command(client *c) {
    if (!valid_client_name(c->argv[2])) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    set_client_name(c, c->argv[2]);
    reply_ok(c);
}

static void client_getname_command(client *c) {
    if (c->name) reply_bulk(c, c->name, kstr_len(c->name));
    else reply_null(c);
}

static void client_list_command(client *c) {
    long long *ids = NULL;
    int nids = 0;
    if (c->argc > 2) {
        if (arg_is(c->argv[2], "type") && c->argc == 4) {
            kstr t = c->argv[3];
            if (!arg_is(t, "normal") && !arg_is(t, "master") && !arg_is(t, "replica") && !arg_is(t, "slave") &&
                !arg_is(t, "pubsub")) {
                reply_errorf(c, "ERR Unknown client type '%s'", t);
                return;
            }
            if (!arg_is(t, "normal")) {
                reply_verbatim(c, "", 0, "txt");
                return;
            }
        } else if (arg_is(c->argv[2], "id") && c->argc >= 4) {
            ids = zmalloc(sizeof(long long) * (size_t)(c->argc - 3));
            for (int j = 3; j < c->argc; j++) {
                long long id;
                if (!string_to_ll(c->argv[j], kstr_len(c->argv[j]), &id) || id <= 0) {
                    reply_error(c, "ERR Invalid client ID");
                    zfree(ids);
                    return;
                }
                ids[nids++] = id;
            }
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    kstr s = kstr_empty();
    for (client *o = server.clients; o; o = o->next) {
        if (ids) {
            int found = 0;
            for (int i = 0; i < nids; i++) found |= ids[i] == (long long)o->id;
            if (!found) continue;
        }
        s = client_info_string(s, o);
        s = kstr_cat(s, "\n");
    }
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
    zfree(ids);
}

static void client_info_command(client *c) {
    kstr s = client_info_string(kstr_empty(), c);
    s = kstr_cat(s, "\n");
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

/* Killing oneself must still deliver the reply: flag it after replying. */
static int kill_client(client *c, client *victim) {
    if (victim == c) return 1;
    client_close_async(victim);
    return 0;
}

static void client_kill_command(client *c) {
    if (c->argc == 3) {
        /* Old form: CLIENT KILL addr:port */
        for (client *o = server.clients; o; o = o->next) {
            if (!strcmp(o->addr, c->argv[2])) {
                reply_ok(c);
                if (kill_client(c, o)) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
                return;
            }
        }
        reply_error(c, "ERR No such client");
        return;
    }
    long long id = 0;
    const char *addr = NULL, *laddr = NULL;
    int skipme = 1, type_normal = -1;
    long long maxage = 0;
    if ((c->argc - 2) % 2 != 0) {
        reply_error_syntax(c);
        return;
    }
    for (int j = 2; j < c->argc; j += 2) {
        kstr opt = c->argv[j], val = c->argv[j + 1];
        if (arg_is(opt, "id")) {
            if (!string_to_ll(val, kstr_len(val), &id) || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (arg_is(opt, "addr")) {
            addr = val;
        } else if (arg_is(opt, "laddr")) {
            laddr = val;
        } else if (arg_is(opt, "type")) {
            if (arg_is(val, "normal")) type_normal = 1;
            else if (arg_is(val, "master") || arg_is(val, "replica") || arg_is(val, "slave") || arg_is(val, "pubsub")) type_normal = 0;
            else {
                reply_errorf(c, "ERR Unknown client type '%s'", val);
                return;
            }
        } else if (arg_is(opt, "skipme")) {
            if (arg_is(val, "yes")) skipme = 1;
            else if (arg_is(val, "no")) skipme = 0;
            else {
                reply_error_syntax(c);
                return;
            }
        } else if (arg_is(opt, "user")) {
            if (strcmp(val, "default") != 0) {
                reply_errorf(c, "ERR No such user '%s'", val);
                return;
            }
        } else if (arg_is(opt, "maxage")) {
            if (!parse_ll(c, val, &maxage)) return;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    long long killed = 0;
    int self = 0;
    long long now = server_mstime();
    for (client *o = server.clients; o; o = o->next) {
        if (id && (long long)o->id != id) continue;
        if (addr && strcmp(o->addr, addr) != 0) continue;
        if (laddr && strcmp(o->laddr, laddr) != 0) continue;
        if (type_normal == 0) continue;
        if (skipme && o == c) continue;
        if (maxage && (now - o->ctime_ms) / 1000 < maxage) continue;
        self |= kill_client(c, o);
        killed++;
    }
    reply_ll(c, killed);
    if (self) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static int parse_on_off(client *c, const kstr arg, int *on) {
    if (arg_is(arg, "on")) *on = 1;
    else if (arg_is(arg, "off")) *on = 0;
    else {
        reply_error_syntax(c);
        return 0;
    }
    return 1;
}

static void client_no_evict_command(client *c) {
    int on;
    if (!parse_on_off(c, c->argv[2], &on)) return;
    if (on) c->flags |= CLIENT_NO_EVICT;
    else c->flags &= ~CLIENT_NO_EVICT;
    reply_ok(c);
}

static void client_no_touch_command(client *c) {
    int on;
    if (!parse_on_off(c, c->argv[2], &on)) return;
    if (on) c->flags |= CLIENT_NO_TOUCH;
    else c->flags &= ~CLIENT_NO_TOUCH;
    reply_ok(c);
}

static void client_setinfo_command(client *c) {
    kstr *slot;
    if (arg_is(c->argv[2], "lib-name")) slot = &c->lib_name;
    else if (arg_is(c->argv[2], "lib-ver")) slot = &c->lib_ver;
    else {
        reply_errorf(c, "ERR Unrecognized option '%s'", c->argv[2]);
        return;
    }
    if (!valid_client_name(c->argv[3])) {
        reply_errorf(c, "ERR %s cannot contain spaces, newlines or special characters.", c->argv[2]);
        return;
    }
    kstr_free(*slot);
    *slot = kstr_dup(c->argv[3]);
    reply_ok(c);
}

static void client_help_command(client *c) {
    static const char *const help[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
        "LIST [options ...]",
        "    Return information about client connections. Options: TYPE, ID.",
        "NO-EVICT (ON|OFF)",
        "    Protect the current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Commands of this client do not change the LRU/LFU data of the keys they access.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attributes (LIB-NAME, LIB-VER).",
        NULL,
    };
    reply_help(c, help);
}

static command client_subcommands[] = {
    {"id", client_id_command, 2, "noscript loading stale", 0, 0, 0, "connection", "5.0.0", "Connection id.", NULL},
    {"setname", client_setname_command, 3, "noscript loading stale", 0, 0, 0, "connection", "2.6.9", "Set the connection name.", NULL},
    {"getname", client_getname_command, 2, "noscript loading stale", 0, 0, 0, "connection", "2.6.9", "Get the connection name.", NULL},
    {"list", client_list_command, -2, "admin noscript loading stale", 0, 0, 0, "connection", "2.4.0", "List client connections.", NULL},
    {"info", client_info_command, 2, "noscript loading stale", 0, 0, 0, "connection", "6.2.0", "Information about this connection.", NULL},
    {"kill", client_kill_command, -3, "admin noscript loading stale", 0, 0, 0, "connection", "2.4.0", "Close connections.", NULL},
    {"no-evict", client_no_evict_command, 3, "admin noscript loading stale", 0, 0, 0, "connection", "7.0.0", "Protect this connection from client eviction.", NULL},
    {"no-touch", client_no_touch_command, 3, "noscript loading stale", 0, 0, 0, "connection", "7.2.0", "Do not touch LRU/LFU data of accessed keys.", NULL},
    {"setinfo", client_setinfo_command, 4, "noscript loading stale", 0, 0, 0, "connection", "7.2.0", "Set client library name and version.", NULL},
    {"help", client_help_command, 2, "loading stale", 0, 0, 0, "connection", "5.0.0", "Help on CLIENT.", NULL},
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

/* ---- DEBUG ---- */

static int debug_allowed(client *c) {
    if (server.enable_debug_cmd == 1) return 1;
    if (server.enable_debug_cmd == 2 &&
        ((c->flags & CLIENT_UNIX_SOCKET) || !strncmp(c->addr, "127.", 4) || !strncmp(c->addr, "::1:", 4)))
        return 1;
    reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
                   "can run it from a local connection, otherwise you need to set this option in the "
                   "configuration file, and then restart the server.");
    return 0;
}

static void debug_populate(client *c) {
    long long count, size = 0;
    if (!parse_ll(c, c->argv[2], &count)) return;
    if (count < 0) {
        reply_error(c, "ERR count is negative");
        return;
    }
    const char *prefix = c->argc >= 4 ? c->argv[3] : "key";
    if (c->argc >= 5) {
        if (!parse_ll(c, c->argv[4], &size)) return;
        if (size < 0) {
            reply_error(c, "ERR size is negative");
            return;
        }
    }
    if (c->argc > 5) {
        reply_error_syntax(c);
        return;
    }
    size_t plen = c->argc >= 4 ? kstr_len(c->argv[3]) : 3;
    hashtable_expand(c->db->keys, db_size(c->db) + (size_t)count);
    kstr key = kstr_empty(), val = kstr_empty();
    for (long long i = 0; i < count; i++) {
        key = kstr_cpy_len(key, prefix, plen);
        key = kstr_cat_printf(key, ":%lld", i);
        if (db_find(c->db, key, kstr_len(key))) continue;
        kstr_clear(val);
        val = kstr_cat_printf(val, "value:%lld", i);
        if (size) {
            size_t have = kstr_len(val);
            if ((size_t)size < have) kstr_set_len(val, (size_t)size);
            else val = kstr_grow_zero(val, (size_t)size);
        }
        db_add(c->db, entry_new_string(key, kstr_len(key), val, kstr_len(val), -1));
    }
    kstr_free(key);
    kstr_free(val);
    reply_ok(c);
}

/* ---- DEBUG DIGEST / DIGEST-VALUE ----
 * A 160-bit content digest (printed as 40 hex digits, like Redis's) used by
 * tests to compare datasets, e.g. a key before and after COPY. The values
 * differ from Redis's (they only have to be stable within one server): three
 * keyed SipHashes give 160 bits. Ordered values (strings, lists, sorted sets)
 * chain element digests; unordered ones (sets, hashes) XOR them, so two
 * equal values compare equal whatever their encoding or table layout. */
typedef struct digest { uint8_t b[20]; } digest;

static void digest_bytes(digest *out, const void *p, size_t len) {
    static const uint8_t keys[3][16] = {
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '0', 1, 2, 3, 4},
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '1', 5, 6, 7, 8},
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '2', 9, 10, 11, 12},
    };
    for (int i = 0; i < 3; i++) {
        uint64_t h = siphash_rounds(p, len, keys[i], 2, 4);
        memcpy(out->b + i * 8, &h, i < 2 ? 8 : 4);
    }
}

static void digest_xor(digest *acc, const digest *d) {
    for (int i = 0; i < 20; i++) acc->b[i] ^= d->b[i];
}

/* acc = H(acc || element): order-dependent accumulation. */
static void digest_chain(digest *acc, const void *p, size_t len) {
    kstr buf = kstr_new_len((const char *)acc->b, sizeof(acc->b));
    buf = kstr_cat_len(buf, p, len);
    digest_bytes(acc, buf, kstr_len(buf));
    kstr_free(buf);
}

typedef struct digest_walk {
    int type;
    digest acc;
    kstr pending; /* hash field waiting for its value */
} digest_walk;

static void digest_visit(void *priv, const char *s, size_t len, double score) {
    digest_walk *w = priv;
    digest d;
    if (w->type == TYPE_SET) {
        digest_bytes(&d, s, len);
        digest_xor(&w->acc, &d);
    } else if (w->type == TYPE_HASH) {
        if (!w->pending) {
            w->pending = kstr_new_len(s, len);
            return;
        }
        /* Length-prefix the field so ("ab","c") differs from ("a","bc"). */
        kstr pair = kstr_cat_printf(kstr_empty(), "%zu:", kstr_len(w->pending));
        pair = kstr_cat_len(pair, w->pending, kstr_len(w->pending));
        pair = kstr_cat_len(pair, s, len);
        digest_bytes(&d, pair, kstr_len(pair));
        digest_xor(&w->acc, &d);
        kstr_free(pair);
        kstr_free(w->pending);
        w->pending = NULL;
    } else {
        digest_chain(&w->acc, s, len);
        if (w->type == TYPE_ZSET) {
            char num[64];
            int n = snprintf(num, sizeof(num), "%.17g", score);
            digest_chain(&w->acc, num, (size_t)n);
        }
    }
}

static void digest_value(entry *e, digest *out) {
    digest_walk w = {.type = entry_type(e)};
    if (w.type == TYPE_STRING) {
        char buf[32];
        size_t len;
        const char *s = entry_string(e, buf, &len);
        digest_chain(&w.acc, s, len);
    } else {
        const type_ops *ops = type_ops_for(w.type);
        if (ops && ops->iterate) ops->iterate(entry_encoding(e), entry_ptr(e), digest_visit, &w);
        kstr_free(w.pending);
    }
    /* Mix the type in so an empty-looking list and set differ. */
    digest_chain(&w.acc, &w.type, sizeof(w.type));
    *out = w.acc;
}

static void reply_digest(client *c, const digest *d) {
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + i * 2, 3, "%02x", d->b[i]);
    reply_status(c, hex);
}

static void debug_digest_value(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        entry *e = db_lookup(c->db, c->argv[j], kstr_len(c->argv[j]), LOOKUP_NOTOUCH | LOOKUP_NOSTATS);
        digest d = {{0}};
        if (e) digest_value(e, &d);
        reply_digest(c, &d);
    }
}

/* The whole dataset: per key H(db, key, value digest, expire), XORed. */
static void debug_digest(client *c) {
    digest all = {{0}};
    long long now = db_now_ms();
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        hashtable_iterator it;
        hashtable_iter_init(&it, d->keys, 1);
        void *el;
        while (hashtable_iter_next(&it, &el)) {
            entry *e = el;
            if (entry_is_expired(e, now)) continue;
            size_t klen;
            const char *k = entry_key(e, &klen);
            digest kd;
            digest_value(e, &kd);
            long long expire = entry_expire(e);
            digest_chain(&kd, &i, sizeof(i));
            digest_chain(&kd, k, klen);
            digest_chain(&kd, &expire, sizeof(expire));
            digest_xor(&all, &kd);
        }
        hashtable_iter_release(&it);
    }
    reply_digest(c, &all);
}

/* DEBUG PROTOCOL <type>: one reply of each RESP type, for client tests.
 * Big numbers and attributes have no reply helper (only this command sends
 * them), so their RESP3 forms are written raw. */
static void debug_protocol_bignum(client *c) {
    static const char num[] = "1234567999999999999999999999999999999";
    if (c->resp >= 3) {
        reply_raw(c, "(", 1);
        reply_raw(c, num, sizeof(num) - 1);
        reply_raw(c, "\r\n", 2);
    } else {
        reply_bulk(c, num, sizeof(num) - 1);
    }
}

static void debug_protocol(client *c) {
    kstr t = c->argv[2];
    if (arg_is(t, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(t, "integer")) {
        reply_ll(c, 12345);
    } else if (arg_is(t, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(t, "bignum")) {
        debug_protocol_bignum(c);
    } else if (arg_is(t, "null")) {
        reply_null(c);
    } else if (arg_is(t, "array") || arg_is(t, "set")) {
        if (arg_is(t, "array")) reply_array_len(c, 3);
        else reply_set_len(c, 3);
        for (int j = 0; j < 3; j++) reply_ll(c, j);
    } else if (arg_is(t, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_ll(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(t, "attrib")) {
        if (c->resp >= 3) {
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_ll(c, 90);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(t, "push")) {
        if (c->resp < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push_len(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_ll(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(t, "true") || arg_is(t, "false")) {
        reply_bool(c, arg_is(t, "true"));
    } else if (arg_is(t, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

static void debug_command(client *c) {
    if (!debug_allowed(c)) return;
    kstr sub = c->argv[1];
    if (arg_is(sub, "help")) {
        static const char *const help[] = {
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL,
        };
        reply_help(c, help);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        double secs;
        if (!parse_double(c, c->argv[2], &secs)) return;
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if (arg_is(sub, "digest") && c->argc == 2) {
        debug_digest(c);
    } else if (arg_is(sub, "digest-value") && c->argc >= 2) {
        debug_digest_value(c);
    } else if (arg_is(sub, "populate") && c->argc >= 3) {
        debug_populate(c);
    } else if (arg_is(sub, "object") && c->argc == 3) {
        entry *e = db_find(c->db, c->argv[2], kstr_len(c->argv[2]));
        if (!e) {
            reply_error(c, "ERR no such key");
            return;
        }
        char buf[32];
        size_t len = 0;
        if (entry_type(e) == TYPE_STRING) entry_string(e, buf, &len);
        uint32_t lru = entry_lru(e);
        long long idle = memory_entry_idle_seconds(e);
        kstr s = kstr_cat_printf(kstr_empty(),
                                 "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lld",
                                 (void *)e, entry_encoding_name(e), len, lru, idle);
        reply_status(c, s);
        kstr_free(s);
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        server.active_expire_enabled = v != 0;
        reply_ok(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", sub);
    }
}

command server_commands[] = {
    {"ping", ping_command, -1, "fast stale loading", 0, 0, 0, "connection", "1.0.0", "Ping the server.", NULL},
    {"echo", echo_command, 2, "fast stale loading", 0, 0, 0, "connection", "1.0.0", "Return the given string.", NULL},
    {"quit", quit_command, -1, "allow_busy noscript loading stale fast no_auth", 0, 0, 0, "connection", "1.0.0", "Close the connection.", NULL},
    {"reset", reset_command, 1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "6.2.0", "Reset the connection.", NULL},
    {"hello", hello_command, -1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "6.0.0", "Handshake with the server.", NULL},
    {"auth", auth_command, -2, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "1.0.0", "Authenticate the connection.", NULL},
    {"time", time_command, 1, "loading stale fast", 0, 0, 0, "server", "2.6.0", "Server time.", NULL},
    {"info", info_command, -1, "loading stale", 0, 0, 0, "server", "1.0.0", "Information and statistics about the server.", NULL},
    {"config", NULL, -2, "", 0, 0, 0, "server", "2.0.0", "Configuration.", config_subcommands},
    {"command", command_dispatcher, -1, "loading stale", 0, 0, 0, "server", "2.8.13", "Information about commands.", command_subcommands},
    {"client", NULL, -2, "", 0, 0, 0, "connection", "2.4.0", "Connection management.", client_subcommands},
    {"shutdown", shutdown_command, -1, "admin noscript loading stale no_multi allow_busy", 0, 0, 0, "server", "1.0.0", "Stop the server.", NULL},
    {"debug", debug_command, -2, "admin noscript loading stale", 0, 0, 0, "server", "1.0.0", "Debugging commands.", NULL},
    {0},
};
