/*
 * acl_cmds: the ACL command and its subcommands, authentication (AUTH,
 * HELLO AUTH and, through acl.h, the replication and cluster side), the
 * start-up (the default user, "user" lines of the config file, the ACL
 * file: the two are mutually exclusive, as in Redis) and the module's
 * parameters (aclfile, acllog-max-len, acl-pubsub-default, user).
 */
#include "acl/acl_internal.h"
#include "core/cmdutil.h"
#include "core/config.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern long long acl_log_max_len;
void acl_assign_command_ids(void);

static int initialized;

/* ---- Authentication ---- */

int acl_default_user_open(void) {
    if (!acl_default_user) return !server.requirepass || !kstr_len(server.requirepass);
    return (acl_default_user->flags & USER_NOPASS) && !(acl_default_user->flags & USER_OFF);
}

int acl_auth_required(const client *c) { return !(c->flags & CLIENT_AUTHENTICATED) && !acl_default_user_open(); }

/* Compare every password hash in full, whatever matches, so that the
 * time taken says nothing about the passwords. */
static int password_matches(const acl_user *u, const char *pass, size_t plen) {
    char hex[65];
    acl_hash_password(pass, plen, hex);
    int found = 0;
    for (int i = 0; i < u->npass; i++) {
        unsigned char diff = 0;
        for (int j = 0; j < 64; j++) diff |= (unsigned char)(hex[j] ^ u->passwords[i][j]);
        found |= diff == 0;
    }
    return found;
}

int acl_check_credentials(const char *user, size_t ulen, const char *pass, size_t plen) {
    acl_user *u = user ? acl_find_user(user, ulen) : acl_default_user;
    if (!u) {
        /* Hash anyway: an unknown user costs the same as a wrong password. */
        char hex[65];
        acl_hash_password(pass, plen, hex);
        return 0;
    }
    if (u->flags & USER_OFF) return 0;
    if (u->flags & USER_NOPASS) return 1;
    return password_matches(u, pass, plen);
}

int acl_login_as(client *c, const char *name, size_t len) {
    acl_user *u = acl_find_user(name, len);
    if (!u || (u->flags & USER_OFF)) return 0;
    c->user = u == acl_default_user ? NULL : u;
    c->flags |= CLIENT_AUTHENTICATED;
    return 1;
}

int acl_authenticate(client *c, const char *user, size_t ulen, const char *pass, size_t plen) {
    if (acl_check_credentials(user, ulen, pass, plen)) {
        acl_user *u = user ? acl_find_user(user, ulen) : acl_default_user;
        c->user = u == acl_default_user ? NULL : u;
        c->flags |= CLIENT_AUTHENTICATED;
        return 1;
    }
    const char *name = user ? user : "default";
    kstr uname = kstr_new_len(name, user ? ulen : 7);
    const char *obj = c->argc > 0 ? c->argv[0] : "AUTH";
    acl_log_add(c, ACL_DENIED_AUTH, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, obj, strlen(obj),
                uname);
    kstr_free(uname);
    return 0;
}

void acl_set_default_password(const char *pass, size_t len) {
    if (!acl_default_user) return; /* acl_init reads requirepass */
    acl_user_apply(acl_default_user, "resetpass", 9);
    if (pass && len) {
        kstr op = kstr_cat_len(kstr_new(">"), pass, len);
        acl_user_apply(acl_default_user, op, kstr_len(op));
        kstr_free(op);
    } else {
        acl_user_apply(acl_default_user, "nopass", 6);
    }
}

int acl_requirepass_apply(const char **err) {
    (void)err;
    acl_set_default_password(server.requirepass, kstr_len(server.requirepass));
    return 1;
}

/* ---- ACL subcommands ---- */

static void acl_setuser_command(client *c) {
    const kstr name = c->argv[2];
    if (acl_has_spaces(name, kstr_len(name))) {
        reply_error(c, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    kstr err = acl_set_user_from_args(name, kstr_len(name), c->argv + 3, c->argc - 3);
    if (!err) {
        reply_ok(c);
        acl_close_self_if_doomed(c);
        return;
    }
    for (size_t i = 0; i < kstr_len(err); i++)
        if (err[i] == '\r' || err[i] == '\n') err[i] = ' ';
    reply_errorf(c, "ERR %s", err);
    kstr_free(err);
}

static void acl_deluser_command(client *c) {
    for (int j = 2; j < c->argc; j++) {
        if (!strcmp(c->argv[j], "default")) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) deleted += acl_users_remove(c->argv[j], kstr_len(c->argv[j]));
    reply_ll(c, deleted);
    acl_close_self_if_doomed(c);
}

static void reply_selector(client *c, const selector *s) {
    reply_bulk_cstr(c, "commands");
    kstr v = acl_selector_commands(kstr_empty(), s);
    reply_bulk(c, v, kstr_len(v));
    kstr_free(v);
    reply_bulk_cstr(c, "keys");
    v = acl_selector_keys(kstr_empty(), s);
    reply_bulk(c, v, kstr_len(v));
    kstr_free(v);
    reply_bulk_cstr(c, "channels");
    v = acl_selector_channels(kstr_empty(), s);
    reply_bulk(c, v, kstr_len(v));
    kstr_free(v);
}

static void acl_getuser_command(client *c) {
    acl_user *u = acl_find_user(c->argv[2], kstr_len(c->argv[2]));
    if (!u) {
        reply_null(c);
        return;
    }
    static const struct { int flag; const char *name; } flags[] = {
        {USER_ON, "on"}, {USER_OFF, "off"}, {USER_NOPASS, "nopass"},
        {USER_SKIP_SANITIZE, "skip-sanitize-payload"}, {USER_SANITIZE, "sanitize-payload"},
    };
    reply_map_len(c, 6);
    reply_bulk_cstr(c, "flags");
    int nf = 0;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) nf += (u->flags & flags[i].flag) != 0;
    reply_set_len(c, nf);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (u->flags & flags[i].flag) reply_bulk_cstr(c, flags[i].name);
    reply_bulk_cstr(c, "passwords");
    reply_array_len(c, u->npass);
    for (int i = 0; i < u->npass; i++) reply_bulk(c, u->passwords[i], kstr_len(u->passwords[i]));
    reply_selector(c, u->sels[0]);
    reply_bulk_cstr(c, "selectors");
    reply_array_len(c, u->nsels - 1);
    for (int i = 1; i < u->nsels; i++) {
        reply_map_len(c, 3);
        reply_selector(c, u->sels[i]);
    }
}

static void reply_users(client *c, int names_only) {
    int n;
    acl_user **all = acl_users_sorted(&n);
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        if (names_only) {
            reply_bulk(c, all[i]->name, kstr_len(all[i]->name));
            continue;
        }
        kstr line = kstr_cat_len(kstr_new("user "), all[i]->name, kstr_len(all[i]->name));
        line = acl_user_describe(kstr_cat(line, " "), all[i]);
        reply_bulk(c, line, kstr_len(line));
        kstr_free(line);
    }
}

static void acl_list_command(client *c) { reply_users(c, 0); }
static void acl_users_command(client *c) { reply_users(c, 1); }

static void acl_whoami_command(client *c) { reply_bulk_cstr(c, acl_client_user_name(c)); }

#define NO_ACLFILE_ERR                                                                                             \
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL "  \
    "SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order " \
    "to store users in the Redis configuration."

static void acl_load_command(client *c) {
    if (!acl_filename || !acl_filename[0]) {
        reply_error(c, NO_ACLFILE_ERR);
        return;
    }
    kstr err = acl_load_file(acl_filename);
    if (!err) {
        reply_ok(c);
        acl_close_self_if_doomed(c);
    }
    if (err) {
        reply_errorf(c, "ERR %s", err);
        kstr_free(err);
    }
}

static void acl_save_command(client *c) {
    if (!acl_filename || !acl_filename[0]) {
        reply_error(c, NO_ACLFILE_ERR);
        return;
    }
    if (acl_save_file(acl_filename)) reply_ok(c);
    else reply_error(c, "ERR There was an error trying to save the ACLs. Please check the server logs for more information");
}

typedef struct { client *c; uint64_t cat; long n; } cat_list;

static void cat_one(command *cmd, cat_list *l) {
    if (cmd->acl_categories & l->cat) {
        reply_bulk_cstr(l->c, cmd->fullname);
        l->n++;
    }
}

static void cat_visit(command *cmd, void *priv) {
    cat_one(cmd, priv);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) cat_one(sub, priv);
}

static void acl_cat_command(client *c) {
    if (c->argc > 3) {
        reply_error_subcommand_args(c);
        return;
    }
    if (c->argc == 2) {
        reply_array_len(c, ACL_NCATS);
        for (int i = 0; i < ACL_NCATS; i++) reply_bulk_cstr(c, acl_cat_names[i]);
        return;
    }
    uint64_t cat = acl_category_by_name(c->argv[2], kstr_len(c->argv[2]));
    if (!cat) {
        reply_errorf(c, "ERR Unknown category '%.128s'", c->argv[2]);
        return;
    }
    void *dl = reply_deferred_len(c);
    cat_list l = {c, cat, 0};
    command_foreach(cat_visit, &l);
    reply_set_deferred_array_len(c, dl, l.n);
}

static void acl_genpass_command(client *c) {
    long long bits = 256;
    if (c->argc > 3) {
        reply_error_subcommand_args(c);
        return;
    }
    if (c->argc == 3 && !parse_ll(c, c->argv[2], &bits)) return;
    if (bits <= 0 || bits > 4096) {
        reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                       "number up to 4096");
        return;
    }
    size_t chars = (size_t)((bits + 3) / 4);
    unsigned char raw[512];
    char hex[1024];
    get_random_bytes(raw, (chars + 1) / 2);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < chars; i++) hex[i] = digits[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    reply_bulk(c, hex, chars);
}

static void acl_log_command(client *c) {
    long long count = 10;
    if (c->argc > 3) {
        reply_error_subcommand_args(c);
        return;
    }
    if (c->argc == 3) {
        if (arg_is(c->argv[2], "reset")) {
            acl_log_reset();
            reply_ok(c);
            return;
        }
        if (!parse_ll(c, c->argv[2], &count)) return;
        if (count < 0) count = 0;
    }
    acl_log_reply(c, (long)count);
}

static void acl_dryrun_command(client *c) {
    acl_user *u = acl_find_user(c->argv[2], kstr_len(c->argv[2]));
    if (!u) {
        reply_errorf(c, "ERR User '%s' not found", c->argv[2]);
        return;
    }
    command *cmd = command_lookup_argv(c->argc - 3, c->argv + 3);
    if (!cmd) {
        reply_errorf(c, "ERR Command '%s' not found", c->argv[3]);
        return;
    }
    int argc = c->argc - 3;
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    int pos = 0;
    int r = acl_user_check(u, cmd, argc, c->argv + 3, &pos);
    kstr msg = NULL;
    if (r == ACL_DENIED_CMD)
        msg = kstr_cat_printf(kstr_empty(), "This user has no permissions to run the '%s' command", cmd->fullname);
    else if (r == ACL_DENIED_KEY)
        msg = kstr_cat_printf(kstr_empty(), "This user has no permissions to access the '%s' key", c->argv[pos + 3]);
    else if (r == ACL_DENIED_CHANNEL)
        msg = kstr_cat_printf(kstr_empty(), "This user has no permissions to access the '%s' channel", c->argv[pos + 3]);
    if (!msg) {
        reply_ok(c);
        return;
    }
    reply_bulk(c, msg, kstr_len(msg));
    kstr_free(msg);
}

static void acl_help_command(client *c) {
    static const char *const help[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL,
    };
    reply_help(c, help);
}

#define ACLF "admin noscript loading stale"
static command acl_subcommands[] = {
    {"cat", acl_cat_command, -2, "noscript loading stale", 0, 0, 0, "server", "6.0.0", "List the ACL categories or the commands inside a category.", NULL},
    {"deluser", acl_deluser_command, -3, ACLF, 0, 0, 0, "server", "6.0.0", "Delete ACL users.", NULL},
    {"dryrun", acl_dryrun_command, -4, ACLF, 0, 0, 0, "server", "7.0.0", "Simulate a command run by a user.", NULL},
    {"genpass", acl_genpass_command, -2, "noscript loading stale", 0, 0, 0, "server", "6.0.0", "Generate a random password.", NULL},
    {"getuser", acl_getuser_command, 3, ACLF, 0, 0, 0, "server", "6.0.0", "Get the rules of a user.", NULL},
    {"help", acl_help_command, 2, "loading stale", 0, 0, 0, "server", "6.0.0", "Help on ACL.", NULL},
    {"list", acl_list_command, 2, ACLF, 0, 0, 0, "server", "6.0.0", "List the users in config file format.", NULL},
    {"load", acl_load_command, 2, ACLF, 0, 0, 0, "server", "6.0.0", "Reload the users from the ACL file.", NULL},
    {"log", acl_log_command, -2, ACLF, 0, 0, 0, "server", "6.0.0", "Denied commands and failed authentications.", NULL},
    {"save", acl_save_command, 2, ACLF, 0, 0, 0, "server", "6.0.0", "Save the users to the ACL file.", NULL},
    {"setuser", acl_setuser_command, -3, ACLF, 0, 0, 0, "server", "6.0.0", "Create or modify a user.", NULL},
    {"users", acl_users_command, 2, ACLF, 0, 0, 0, "server", "6.0.0", "List the user names.", NULL},
    {"whoami", acl_whoami_command, 2, "noscript loading stale", 0, 0, 0, "server", "6.0.0", "The user of this connection.", NULL},
    {0},
};

command acl_commands[] = {
    {"acl", NULL, -2, "", 0, 0, 0, "server", "6.0.0", "Access control lists.", acl_subcommands},
    {0},
};

/* ---- Parameters ---- */

static char *aclfile_value;
static int pubsub_default_value;
/* "user" lines, kept as their words until acl_init applies them. */
typedef struct pending_user { kstr *argv; int argc; } pending_user;
static pending_user *pending_users;
static int npending;

static const enum_value pubsub_default_enum[] = {{"allchannels", SEL_ALLCHANNELS}, {"resetchannels", 0}, {NULL, 0}};

static int pubsub_default_apply(const char **err) {
    (void)err;
    acl_pubsub_default = pubsub_default_value;
    return 1;
}

static int aclfile_apply(const char **err) {
    (void)err;
    acl_filename = aclfile_value;
    return 1;
}

static int user_set(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    if (argc == 0 || (argc == 1 && !argv[0][0])) return 1; /* the default: no user line */
    if (initialized) {
        *err = "user lines are read at start-up only";
        return 0;
    }
    pending_user *p;
    pending_users = zrealloc(pending_users, sizeof(pending_user) * (size_t)(npending + 1));
    p = &pending_users[npending++];
    p->argc = argc;
    p->argv = zmalloc(sizeof(kstr) * (size_t)argc);
    for (int i = 0; i < argc; i++) p->argv[i] = kstr_new(argv[i]);
    return 1;
}

/* The users as "user" directives (CONFIG REWRITE writes "user " and
 * this text): none when an ACL file holds them. */
static kstr user_get(const config_entry *ce) {
    (void)ce;
    return acl_config_user_lines(kstr_empty());
}

kstr acl_config_user_lines(kstr s) {
    if (acl_filename && acl_filename[0]) return s;
    int n;
    acl_user **all = acl_users_sorted(&n);
    for (int i = 0; i < n; i++) {
        if (i) s = kstr_cat(s, "\nuser ");
        s = kstr_cat_len(s, all[i]->name, kstr_len(all[i]->name));
        s = acl_user_describe(kstr_cat(s, " "), all[i]);
    }
    return s;
}

config_entry acl_configs[] = {
    CONFIG_STRING("aclfile", &aclfile_value, "", CF_IMMUTABLE, aclfile_apply),
    CONFIG_LL("acllog-max-len", &acl_log_max_len, "128", 0, LLONG_MAX, 0, NULL),
    CONFIG_ENUM("acl-pubsub-default", &pubsub_default_value, "resetchannels", pubsub_default_enum, 0, pubsub_default_apply),
    CONFIG_SPECIAL("user", NULL, "", user_set, user_get, CF_DIRECTIVE),
    CONFIG_END,
};

/* ---- Start-up ---- */

static void die(const char *fmt, const char *a, const char *b) {
    server_log(LOG_WARNING, fmt, a, b);
    exit(1);
}

static void load_pending_users(void) {
    for (int i = 0; i < npending; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(pending_users[i].argv[0], pending_users[j].argv[0]))
                die("Error in user declaration '%s': %s", pending_users[i].argv[0],
                    acl_rule_error(RULE_DUPLICATE_USER));
    for (int i = 0; i < npending; i++) {
        int argc = pending_users[i].argc;
        kstr *argv = pending_users[i].argv;
        if (acl_has_spaces(argv[0], kstr_len(argv[0]))) die("Spaces not allowed in ACL usernames%s%s", "", "");
        acl_user *u = acl_find_user(argv[0], kstr_len(argv[0]));
        if (u) acl_user_apply(u, "reset", 5);
        else {
            u = acl_user_new(argv[0], kstr_len(argv[0]));
            acl_users_insert(u);
        }
        int merged = 0;
        kstr *ops = acl_merge_selector_args(argv + 1, argc - 1, &merged, NULL);
        if (!ops) die("Unmatched parenthesis in the ACL rules of user '%s'%s", argv[0], "");
        for (int j = 0; j < merged; j++) {
            int e = acl_user_apply(u, ops[j], kstr_len(ops[j]));
            if (e != RULE_OK) {
                server_log(LOG_WARNING, "Error loading ACL rule '%s' for the user named '%s': %s", ops[j], argv[0],
                           acl_rule_error(e));
                exit(1);
            }
        }
        for (int j = 0; j < merged; j++) kstr_free(ops[j]);
        zfree(ops);
        for (int j = 0; j < argc; j++) kstr_free(argv[j]);
        zfree(argv);
    }
    zfree(pending_users);
    pending_users = NULL;
    npending = 0;
}

void acl_init(void) {
    acl_assign_command_ids();
    acl_pubsub_default = pubsub_default_value;
    acl_filename = aclfile_value;
    acl_default_user = acl_user_new("default", 7);
    for (const char *const *r = (const char *const[]){"+@all", "~*", "&*", "on", "nopass", NULL}; *r; r++)
        acl_user_apply(acl_default_user, *r, strlen(*r));
    acl_users_insert(acl_default_user);
    acl_set_default_password(server.requirepass, kstr_len(server.requirepass));
    if (acl_filename && acl_filename[0] && npending) {
        server_log(LOG_WARNING, "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                                "file path is invalid. This setup is very likely to lead to configuration errors "
                                "and security holes, please define either an ACL file or declare users directly in "
                                "your redis.conf, but not both.");
        exit(1);
    }
    load_pending_users();
    if (acl_filename && acl_filename[0]) {
        kstr err = acl_load_file(acl_filename);
        if (err) die("Aborting Redis startup because of ACL errors: %s%s", err, "");
    }
    initialized = 1;
}
