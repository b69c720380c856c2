/*
 * introspect_cmds: COMMAND and its subcommands (COUNT, INFO, DOCS, LIST,
 * GETKEYS, GETKEYSANDFLAGS), answered from the command table itself, so what the server
 * enforces and what it advertises cannot drift apart.
 */
#include "acl/acl.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- COMMAND ---- */

static const char *const flag_words[] = {
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "", "blocking", "loading",
    "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel",
    "only_sentinel", "no_mandatory_keys", "" /* protected: hidden, as in Redis */, "", "", "no_async_loading", "no_multi",
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

/* The ACL categories ("@write", ...) of cmd: the ACL module's, which
 * are Redis's for every command Redis has. */
static int command_categories(const command *cmd, const char *cats[ACL_CATS_MAX]) {
    return acl_category_names(acl_command_categories(cmd), cats, ACL_CATS_MAX);
}

static void reply_acl_categories(client *c, const command *cmd) {
    const char *cats[ACL_CATS_MAX];
    int n = command_categories(cmd, cats);
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) {
        char word[32];
        snprintf(word, sizeof(word), "@%s", cats[i]);
        reply_status(c, word);
    }
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
        for (command *sub = cmd->subcommands; sub->name; sub++) n += command_listed(sub);
        reply_array_len(c, n);
        for (command *sub = cmd->subcommands; sub->name; sub++)
            if (command_listed(sub)) reply_command_info(c, sub);
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
        for (command *sub = cmd->subcommands; sub->name; sub++) m += command_listed(sub);
        reply_bulk_cstr(c, "subcommands");
        reply_map_len(c, m);
        for (command *sub = cmd->subcommands; sub->name; sub++) {
            if (!command_listed(sub)) continue;
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
    const char *cats[ACL_CATS_MAX];
    int n = command_categories(cmd, cats);
    for (int i = 0; i < n; i++)
        if (strlen(cats[i]) == kstr_len(cat) && !strcasecmp(cats[i], cat)) return 1;
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
    if (!command_listed(cmd)) return;
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

/* Each word of a space-separated flag list as a status string, in a set. */
static void reply_flag_words(client *c, const char *words) {
    int n = 0;
    for (const char *p = words; *p; p++)
        if (*p != ' ' && (p == words || p[-1] == ' ')) n++;
    reply_set_len(c, n);
    char word[32];
    while (*words) {
        size_t len = strcspn(words, " ");
        snprintf(word, sizeof(word), "%.*s", (int)len, words);
        reply_status(c, word);
        words += len;
        words += strspn(words, " ");
    }
}

/* COMMAND GETKEYS and GETKEYSANDFLAGS: the same keys, the latter with how
 * the command uses each one (see keyspec.c). */
static void getkeys_generic(client *c, int with_flags) {
    command *cmd = command_lookup_argv(c->argc - 2, c->argv + 2);
    if (!cmd) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (!command_has_keys(cmd)) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    int argc = c->argc - 2;
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    /* No command has more keys than arguments: all of them, however many. */
    int *idx = zmalloc(sizeof(int) * (size_t)argc);
    int n = command_get_keys(cmd, argc, c->argv + 2, idx, argc);
    if (n <= 0) {
        reply_error(c, n < 0 ? "ERR Invalid arguments specified for command" : "ERR The command has no key arguments");
        zfree(idx);
        return;
    }
    reply_array_len(c, n);
    for (int j = 0; j < n; j++) {
        kstr key = c->argv[2 + idx[j]];
        if (!with_flags) {
            reply_bulk(c, key, kstr_len(key));
            continue;
        }
        reply_array_len(c, 2);
        reply_bulk(c, key, kstr_len(key));
        reply_flag_words(c, command_key_flags(cmd, argc, c->argv + 2, j));
    }
    zfree(idx);
}

static void command_getkeys_command(client *c) { getkeys_generic(c, 0); }
static void command_getkeysandflags_command(client *c) { getkeys_generic(c, 1); }

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
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full command.",
        NULL,
    };
    reply_help(c, help);
}

static command command_subcommands[] = {
    {"count", command_count_command, 2, "loading stale", 0, 0, 0, "server", "2.8.13", "Number of commands.", NULL},
    {"info", command_info_command, -2, "loading stale", 0, 0, 0, "server", "2.8.13", "Information about commands.", NULL},
    {"docs", command_docs_command, -2, "loading stale", 0, 0, 0, "server", "7.0.0", "Documentary information about commands.", NULL},
    {"list", command_list_command, -2, "loading stale", 0, 0, 0, "server", "7.0.0", "List of command names.", NULL},
    {"getkeys", command_getkeys_command, -4, "loading stale", 0, 0, 0, "server", "2.8.13", "Extract the keys of a command.", NULL},
    {"getkeysandflags", command_getkeysandflags_command, -4, "loading stale", 0, 0, 0, "server", "7.0.0", "Extract the keys of a command and how it uses them.", NULL},
    {"help", command_help_command, 2, "loading stale", 0, 0, 0, "server", "5.0.0", "Help on COMMAND.", NULL},
    {0},
};

static void command_dispatcher(client *c) {
    /* COMMAND without subcommand lists everything. */
    command_command(c);
}
command introspection_commands[] = {
    {"command", command_dispatcher, -1, "loading stale", 0, 0, 0, "server", "2.8.13", "Information about commands.", command_subcommands},
    {0},
};
