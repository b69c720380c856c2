/*
 * conn_cmds: connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH
 * and CLIENT. They act on the calling connection (or, for CLIENT KILL and
 * LIST, on the others) and never touch the keyspace.
 */
#include "acl/acl.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/multi.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "pubsub/hooks.h"
#include "pubsub/pubsub.h"
#include "pubsub/tracking.h"
#include "repl/repl.h"

#include <limits.h>
#include <string.h>

/* ---- Connection ---- */

static void ping_command(client *c) {
    if (c->argc > 2) {
        reply_error_arity(c);
        return;
    }
    if (pubsub_ping_reply(c)) return;
    if (c->argc == 2) reply_bulk(c, c->argv[1], kstr_len(c->argv[1]));
    else reply_status(c, "PONG");
}

static void echo_command(client *c) { reply_bulk(c, c->argv[1], kstr_len(c->argv[1])); }

static void quit_command(client *c) {
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}
/* Users and passwords are the ACL module's: the same words whether the
 * user does not exist, is off or the password is wrong. */
static int check_auth(client *c, const kstr user, const kstr pass) {
    if (acl_authenticate(c, user, user ? kstr_len(user) : 0, pass, kstr_len(pass))) return 1;
    reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
    return 0;
}

static void auth_command(client *c) {
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc == 2 && acl_default_user_open()) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the default user. "
                       "Are you sure your configuration is correct?");
        return;
    }
    kstr user = c->argc == 3 ? c->argv[1] : NULL;
    kstr pass = c->argv[c->argc - 1];
    if (!check_auth(c, user, pass)) return;
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
    if (acl_auth_required(c)) {
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
    reply_bulk_cstr(c, repl_is_replica() ? "replica" : "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

static void reset_command(client *c) {
    multi_client_gone(c);
    messaging_client_gone(c);
    c->db = db_get(0);
    c->resp = 2;
    kstr_free(c->name);
    c->name = NULL;
    c->flags &= ~(CLIENT_NO_EVICT | CLIENT_NO_TOUCH);
    c->user = NULL; /* the default user, authenticated if it has no password */
    if (acl_default_user_open()) c->flags |= CLIENT_AUTHENTICATED;
    else c->flags &= ~CLIENT_AUTHENTICATED;
    reply_status(c, "RESET");
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

static kstr cat_client_line(kstr s, client *o) {
    s = client_info_string(s, o);
    return kstr_cat(s, "\n");
}

/* CLIENT LIST lists in connection order, ascending ids, as Redis does. The
 * list is kept newest first (a connection is linked at its head), so this
 * walks it from the tail. */
/* CLIENT LIST / KILL TYPE: 0 normal, 1 pubsub (a client with
 * subscriptions), 2 replica, 3 master (the link of repl/replica.c, which
 * has no socket of its own in the client list); -1 unknown name. */
static int client_type_by_name(const kstr t) {
    if (arg_is(t, "normal")) return 0;
    if (arg_is(t, "pubsub")) return 1;
    if (arg_is(t, "replica") || arg_is(t, "slave")) return 2;
    if (arg_is(t, "master")) return 3;
    return -1;
}

static int client_type_of(const client *c) {
    if (c->flags & CLIENT_REPLICA) return 2;
    if (c->flags & CLIENT_MASTER) return 3;
    return (c->flags & CLIENT_PUBSUB) ? 1 : 0;
}

/* The link to the master (replicas) is listed in its place by id, though
 * it is not in the client list (repl/replica.c owns it). */
static kstr clients_oldest_first(int type) {
    kstr s = kstr_empty();
    client *o = server.clients, *m = repl_master_client();
    if (m && type >= 0 && type != 3) m = NULL;
    while (o && o->next) o = o->next;
    for (; o; o = o->prev) {
        if (m && m->id < o->id) {
            s = cat_client_line(s, m);
            m = NULL;
        }
        if (type < 0 || client_type_of(o) == type) s = cat_client_line(s, o);
    }
    if (m) s = cat_client_line(s, m);
    return s;
}

/* CLIENT LIST ID a b ...: in the order asked, an id given twice listed
 * twice, unknown ids skipped (Redis's behaviour). */
static kstr clients_by_ids(const long long *ids, int nids) {
    kstr s = kstr_empty();
    for (int i = 0; i < nids; i++) {
        client *o = client_by_id((uint64_t)ids[i]), *m = repl_master_client();
        if (!o && m && m->id == (uint64_t)ids[i]) o = m;
        if (o) s = cat_client_line(s, o);
    }
    return s;
}

static void client_list_command(client *c) {
    long long *ids = NULL;
    int nids = 0, type = -1;
    if (c->argc > 2) {
        if (arg_is(c->argv[2], "type") && c->argc == 4) {
            type = client_type_by_name(c->argv[3]);
            if (type < 0) {
                reply_errorf(c, "ERR Unknown client type '%s'", c->argv[3]);
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
    kstr s = ids ? clients_by_ids(ids, nids) : clients_oldest_first(type);
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
        if (repl_kill_master_link(c->argv[2])) {
            reply_ok(c);
            return;
        }
        reply_error(c, "ERR No such client");
        return;
    }
    long long id = 0;
    const char *addr = NULL, *laddr = NULL, *user = NULL;
    int skipme = 1, type = -1;
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
            type = client_type_by_name(val);
            if (type < 0) {
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
            if (!acl_user_exists(val, kstr_len(val))) {
                reply_errorf(c, "ERR No such user '%s'", val);
                return;
            }
            user = val;
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
        if (user && strcmp(acl_client_user_name(o), user) != 0) continue;
        if (type >= 0 && client_type_of(o) != type) continue;
        if (skipme && o == c) continue;
        if (maxage && (now - o->ctime_ms) / 1000 < maxage) continue;
        self |= kill_client(c, o);
        killed++;
    }
    /* A replica's link to its master is a client too (flags M), outside
     * the list: the same filters pick it. */
    client *m = repl_master_client();
    if (m && (!id || (long long)m->id == id) && (!addr || !strcmp(m->addr, addr)) &&
        (!laddr || !strcmp(m->laddr, laddr)) && (!user || !strcmp(acl_client_user_name(m), user)) &&
        (type < 0 || type == 3) && (!maxage || (now - m->ctime_ms) / 1000 >= maxage) &&
        repl_kill_master_link(NULL))
        killed++;
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

/* ---- CLIENT PAUSE / UNPAUSE / UNBLOCK / REPLY ---- */

static void client_pause_command(client *c) {
    long long ms;
    if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &ms)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    if (c->argc > 4) {
        reply_error_subcommand_args(c);
        return;
    }
    int mode = PAUSE_ALL;
    if (c->argc == 4 && arg_is(c->argv[3], "write")) mode = PAUSE_WRITE;
    else if (c->argc == 4 && !arg_is(c->argv[3], "all")) {
        reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
        return;
    }
    if (ms > LLONG_MAX - server_mstime()) ms = LLONG_MAX - server_mstime();
    pause_start(server_mstime() + ms, mode);
    reply_ok(c);
}

static void client_unpause_command(client *c) {
    pause_stop();
    reply_ok(c);
}

static void client_unblock_command(client *c) {
    if (c->argc > 4) {
        reply_error_subcommand_args(c);
        return;
    }
    long long id;
    if (!parse_ll(c, c->argv[2], &id)) return;
    int with_error = 0;
    if (c->argc == 4) {
        if (arg_is(c->argv[3], "error")) with_error = 1;
        else if (!arg_is(c->argv[3], "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    client *target = id > 0 ? client_by_id((uint64_t)id) : NULL;
    reply_ll(c, target ? blocking_unblock(target, with_error) : 0);
}

static void client_reply_command(client *c) {
    if (arg_is(c->argv[2], "on")) {
        c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT);
        reply_ok(c);
    } else if (arg_is(c->argv[2], "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is(c->argv[2], "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_error_syntax(c);
    }
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
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend the commands of all clients (or only writes) for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the client waiting in a blocking command, as if it timed out or with an error.",
        "UNPAUSE",
        "    End a pause started with CLIENT PAUSE.",
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
    {"pause", client_pause_command, -3, "admin noscript loading stale", 0, 0, 0, "connection", "3.0.0", "Suspend commands processing.", NULL},
    {"unpause", client_unpause_command, 2, "admin noscript loading stale", 0, 0, 0, "connection", "6.2.0", "Resume processing of clients that were paused.", NULL},
    {"unblock", client_unblock_command, -3, "admin noscript loading stale", 0, 0, 0, "connection", "5.0.0", "Unblock a client blocked in a blocking command.", NULL},
    {"reply", client_reply_command, 3, "noscript loading stale", 0, 0, 0, "connection", "3.2.0", "Instruct the server whether to reply to commands.", NULL},
    {"help", client_help_command, 2, "loading stale", 0, 0, 0, "connection", "5.0.0", "Help on CLIENT.", NULL},
    {"tracking", client_tracking_command, -3, "noscript loading stale", 0, 0, 0, "connection", "6.0.0", "Enable or disable server assisted client side caching support.", NULL},
    {"caching", client_caching_command, 3, "noscript loading stale", 0, 0, 0, "connection", "6.0.0", "Instruct the server about tracking or not keys in the next request.", NULL},
    {"getredir", client_getredir_command, 2, "noscript loading stale", 0, 0, 0, "connection", "6.0.0", "Get tracking notifications redirection client ID if any.", NULL},
    {"trackinginfo", client_trackinginfo_command, 2, "noscript loading stale", 0, 0, 0, "connection", "6.2.0", "Return information about server assisted client side caching for the current connection.", NULL},
    {0},
};
command connection_commands[] = {
    {"ping", ping_command, -1, "fast", 0, 0, 0, "connection", "1.0.0", "Ping the server.", NULL},
    {"echo", echo_command, 2, "fast stale loading", 0, 0, 0, "connection", "1.0.0", "Return the given string.", NULL},
    {"quit", quit_command, -1, "allow_busy noscript loading stale fast no_auth", 0, 0, 0, "connection", "1.0.0", "Close the connection.", NULL},
    {"reset", reset_command, 1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "6.2.0", "Reset the connection.", NULL},
    {"hello", hello_command, -1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "6.0.0", "Handshake with the server.", NULL},
    {"auth", auth_command, -2, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection", "1.0.0", "Authenticate the connection.", NULL},
    {"client", NULL, -2, "", 0, 0, 0, "connection", "2.4.0", "Connection management.", client_subcommands},
    {0},
};
