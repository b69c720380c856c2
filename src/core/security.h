/*
 * security: the server's guards that are not about who a user is (ACL is
 * src/acl's business) but about where a request comes from and what it
 * looks like, as Redis 7.0 decides them:
 *
 * - protected mode: with protected-mode yes and no password for the
 *   default user, a client that is not on the loopback interface (or a
 *   Unix socket) gets Redis's long -DENIED error and is disconnected
 *   (net/client.c asks client_refused_by_protected_mode at accept time);
 * - "protected" commands and parameters: DEBUG and MODULE run only as
 *   enable-debug-command / enable-module-command allow (no, yes, local),
 *   and CONFIG SET of dir and dbfilename only as enable-protected-configs
 *   allows;
 * - the cross-protocol scripting guard: a request whose command is POST
 *   or "Host:" (an HTTP request a browser was tricked into sending) closes
 *   the connection without a reply, and the attempt is logged at most
 *   once a minute;
 * - MODULE: Keel loads no modules; the command exists so that tools and
 *   the protection above answer as Redis does (LIST is empty, LOAD fails
 *   with Redis's words).
 */
#ifndef KEEL_SECURITY_H
#define KEEL_SECURITY_H

#include "core/command.h"
#include "net/client.h"

/* Values of enable-debug-command, enable-module-command,
 * enable-protected-configs. */
enum { PROTECTED_ACTION_NO = 0, PROTECTED_ACTION_YES = 1, PROTECTED_ACTION_LOCAL = 2 };

/* Whether a protected action under this setting may run for c. */
int security_allows_protected(int setting, const client *c);
/* CONFIG SET of a CF_PROTECTED parameter (dir, dbfilename) by c. */
int security_protected_configs_allowed(const client *c);

/* At dispatch, before anything else: a POST / Host: request closes the
 * connection. Returns 1 when it did (nothing is replied). */
int security_cross_protocol_guard(client *c);
/* At dispatch, after the arity check: DEBUG or MODULE refused by their
 * enable-* setting. Returns 1 when it replied Redis's error. */
int security_rejects_protected_command(client *c, const command *cmd);

/* MODULE (command.c's module_tables). */
extern command security_commands[];

#endif
