/*
 * multi: transactions (MULTI, EXEC, DISCARD) and optimistic locking (WATCH,
 * UNWATCH), with Redis's semantics.
 *
 * Inside MULTI, command dispatch (core/command.c) checks each command as
 * usual (unknown name, arity, OOM) and then queues it instead of running
 * it; a command rejected while queueing marks the transaction, and EXEC
 * then answers EXECABORT without running anything. EXEC runs the queue
 * back to back: no other client's command can interleave, since the
 * server is single-threaded and EXEC is one command.
 *
 * WATCH records (database, key) pairs in one table per database; every
 * change of a key (signal_modified_key, expiry, eviction, FLUSHDB,
 * FLUSHALL, SWAPDB) marks the clients watching it, and their EXEC then
 * replies a null array. The cost when nobody watches is one counter test
 * per change.
 */
#ifndef KEEL_MULTI_H
#define KEEL_MULTI_H

#include "core/command.h"
#include "core/db.h"
#include "net/client.h"

extern command multi_commands[];

/* Dispatch: should cmd be queued (c is in MULTI and cmd is not one of the
 * commands that act on the transaction itself)? */
int multi_should_queue(const client *c, const command *cmd);
/* Queue c's parsed command (takes c->argv) and reply +QUEUED. */
void multi_queue(client *c, command *cmd);
/* A command of c was rejected while c is in MULTI: EXEC will abort. */
void multi_note_rejection(client *c);
/* Flags of all queued commands (EXEC is a write when one of them is). */
uint64_t multi_queued_flags(const client *c);
int multi_is_exec(const command *cmd);
/* EXEC refused before running (e.g. OOM): reply EXECABORT with why and
 * discard the transaction. */
void multi_abort_exec(client *c, const char *why);
/* EXEC refused with an error already replied (cluster redirections):
 * discard the transaction and its watches, as DISCARD does. */
void multi_discard(client *c);
/* The queued commands of c in order: fn is called on each until it
 * returns 0 (cluster mode checks every key of a transaction at EXEC). */
typedef int multi_queued_fn(const command *cmd, int argc, kstr *argv, void *priv);
void multi_foreach_queued(const client *c, multi_queued_fn *fn, void *priv);

/* Key changes, for WATCH. */
void multi_touch_key(db *d, const char *key, size_t klen);
/* A key deleted because it expired: watchers that saw it already expired
 * when they watched it are not disturbed (as in Redis 7). */
void multi_touch_expired_key(db *d, const char *key, size_t klen);
/* Every watched key of d that exists in d (or in other, when not NULL:
 * SWAPDB) is touched; called before FLUSHDB/FLUSHALL empty d and before
 * SWAPDB exchanges it. */
void multi_touch_db(db *d, db *other);

/* c is being freed or RESET: drop its transaction and its watches. */
void multi_client_gone(client *c);

#endif
