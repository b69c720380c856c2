/*
 * acl: Redis 7.0's access control lists. Users (on/off, SHA-256 hashed
 * passwords, nopass) each carry a root selector and optional extra
 * selectors "(...)"; a selector allows commands (a bitmap over command
 * ids, plus first-argument exceptions), key patterns (with %R/%W access)
 * and channel patterns. A request is allowed when any selector allows
 * the command with all its keys and channels.
 *
 * The rest of the server sees only this header: dispatch asks
 * acl_check_request(), scripts acl_check_script_call(), AUTH and HELLO
 * call acl_authenticate() (also meant for masterauth/masteruser and
 * MIGRATE AUTH2 on the replication and cluster side), COMMAND INFO asks
 * for a command's categories. A client's user is c->user; NULL means the
 * default user, so a client never points at a freed user (deleting a
 * user closes its clients).
 */
#ifndef KEEL_ACL_H
#define KEEL_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/kstr.h"

struct client;
struct command;

/* Once, after the command table and the configuration are loaded: ids
 * and categories of every command, the default user, the users of the
 * config file ("user" lines) or of the aclfile. Exits on errors, as
 * Redis does. */
void acl_init(void);

/* Whether c must still authenticate before running a command that is
 * not flagged no_auth (the default user has a password or is off). */
int acl_auth_required(const struct client *c);
/* Whether a new connection starts authenticated (default user nopass). */
int acl_default_user_open(void);

/* Check user/pass (user NULL: "default") in constant time and, when they
 * match, make c that user, authenticated; returns 1. Otherwise logs an
 * "auth" ACL LOG entry, counts it and returns 0 without replying. */
int acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass, size_t plen);
/* tls-auth-clients-user CN: c becomes the user its certificate names,
 * authenticated, when that user exists and is on (1); else 0. */
int acl_login_as(struct client *c, const char *name, size_t len);
/* The same check without a client (no log, no state change). */
int acl_check_credentials(const char *user, size_t ulen, const char *pass, size_t plen);

/* Dispatch: may c run cmd with c->argv? Returns 1, or replies -NOPERM
 * in Redis's words, logs the denial and returns 0. */
int acl_check_request(struct client *c, struct command *cmd);
/* redis.call from a script run by caller: 1 when allowed, else 0 with
 * *err set to Redis's script wording (caller's user, context "lua"). */
int acl_check_script_call(struct client *caller, struct command *cmd, int argc, kstr *argv, kstr *err);
/* EXEC: may the queued command still run (rules changed since it was
 * queued)? 1, or 0 with *err set to Redis's NOPERM text. */
int acl_check_queued(struct client *c, struct command *cmd, int argc, kstr *argv, kstr *err);

/* Whether c's user may run cmd with argv, without logging anything
 * (redis.acl_check_cmd). */
int acl_user_may_run(struct client *c, struct command *cmd, int argc, kstr *argv);

/* SORT's BY and GET patterns read keys no argument names: allowed when
 * a selector that allows the request can read every key ("~*",
 * "%R~*" or allkeys), as Redis 7.0 decides. */
int acl_client_reads_all_keys(struct client *c);

/* Whether a user of that name exists (CLIENT KILL USER). */
int acl_user_exists(const char *name, size_t len);

/* The name of c's user ("default"). */
const char *acl_client_user_name(const struct client *c);

/* ACL categories of a command: a bitmask, and its names in Redis's
 * order ("write", "string", ...), returns how many (at most max). */
#define ACL_CATS_MAX 21
uint64_t acl_command_categories(const struct command *cmd);
int acl_category_names(uint64_t cats, const char **names, int max);
/* The bit of a category name, 0 if unknown. */
uint64_t acl_category_by_name(const char *name, size_t len);

/* requirepass was set (CONFIG SET, config file): the default user's
 * passwords become that one, or nopass when empty. */
void acl_set_default_password(const char *pass, size_t len);
/* requirepass's apply hook (config.c's row). */
int acl_requirepass_apply(const char **err);

/* INFO stats lines (acl_access_denied_*), and CONFIG RESETSTAT. */
kstr acl_info_stats(kstr s);
void acl_reset_stats(void);

/* CONFIG REWRITE: "user ..." lines for every user (NULL-terminated list
 * is not needed: the text holds one line per user). */
kstr acl_config_user_lines(kstr s);

/* A client is gone: nothing to free (users own nothing of clients). */

#endif
