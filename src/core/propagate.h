/*
 * propagate: the write stream. After a command changed the dataset, its
 * effect is handed to every registered listener (the AOF today;
 * replication and keyspace notifications later) as a command vector with
 * the database it applies to. Listeners track the database themselves
 * and emit SELECT when it changes.
 *
 * Most commands are propagated verbatim: command_call compares the dirty
 * counter (server_dirty) before and after the handler and, when it grew,
 * hands over c->argv. A handler whose effect is not its text (relative
 * TTLs, random pops, blocking forms, INCRBYFLOAT) calls propagate_rewrite()
 * with what must be replayed instead; propagate_also() adds further
 * operations (SPOP's SREM batches, the DEL of a key that expired while a
 * command looked it up).
 *
 * The operations of one top-level call (a command, an EXEC, a blocked
 * client served) form one unit: a unit of more than one operation is
 * wrapped in MULTI/EXEC so that a reader of the stream applies it
 * atomically, as Redis 7.0 does. Deletions made outside any command
 * (active expiry, eviction) are units of their own.
 */
#ifndef KEEL_PROPAGATE_H
#define KEEL_PROPAGATE_H

#include "lib/kstr.h"

struct client;
struct command;

/* A listener sees each operation of the stream in order. argv stays the
 * propagator's: copy what must outlive the call. */
typedef void propagate_listener_fn(int dbid, int argc, kstr *argv, void *priv);
void propagate_add_listener(propagate_listener_fn *fn, void *priv);
void propagate_remove_listener(propagate_listener_fn *fn, void *priv);

/* For handlers. Both take ownership of the kstrs in argv (the array itself
 * stays the caller's). Ignored when the call changes nothing. */
void propagate_rewrite(struct client *c, int argc, kstr *argv);
void propagate_also(struct client *c, int argc, kstr *argv);
/* Shorthand: rewrite as a vector built from C strings and kstrs:
 * fmt has one letter per argument: 's' a C string, 'k' a kstr (copied),
 * 'l' a long long. */
void propagate_rewritef(struct client *c, const char *fmt, ...);
void propagate_alsof(struct client *c, const char *fmt, ...);

/* A key removed by the server itself (expiry, eviction): DEL, or UNLINK
 * when lazy freeing applies. Part of the current unit if a command runs. */
void propagate_deletion(int dbid, const char *key, size_t klen, int lazy);
/* Any other change the server makes by itself (hash fields expiring:
 * HDEL); takes ownership of the kstrs, as propagate_also. */
void propagate_server_op(int dbid, int argc, kstr *argv);

/* command_call and the blocked-client runner bracket each handler. */
void propagate_call_begin(struct client *c);
void propagate_call_end(struct client *c);

/* The running write command goes out even if it changed nothing (FLUSHDB
 * and FLUSHALL of empty databases, as Redis 7.0 propagates them: a replica
 * or an AOF may hold what the master no longer has). */
void propagate_force(struct client *c);

/* Whether anyone listens (handlers skip building a rewrite otherwise). */
int propagate_wanted(void);

/* Off while a file is being loaded (its commands are not new writes). */
void propagate_set_enabled(int on);

#endif
