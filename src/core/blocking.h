/*
 * blocking: clients waiting on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
 *
 * A command that finds nothing to serve calls block_on_keys(); the client
 * then stops reading its query buffer (later requests wait, in order).
 * When any client creates or pushes to one of those keys, the key is
 * signalled (blocking_signal_key); after the current command, the server
 * re-runs each blocked client's command, in the order the clients blocked,
 * while the key can still serve them. A re-run that still finds nothing
 * simply blocks again, keeping its place. Timeouts are checked by cron and
 * answer with a null array.
 *
 * Re-running the original command (rather than each type providing a
 * "serve" callback) keeps one code path for the blocking and non-blocking
 * forms of every command.
 */
#ifndef KEEL_BLOCKING_H
#define KEEL_BLOCKING_H

#include "core/db.h"
#include "net/client.h"

void blocking_init(void);

/* Block c on keys (argv indexes given as kstr values) until deadline_ms
 * (0 = forever). The command handler returns right after calling it. */
void block_on_keys(client *c, kstr *keys, int nkeys, long long deadline_ms);
/* Block c on an event rather than keys (WAIT) until blocking_release(c)
 * or deadline_ms (0 = forever): on_end writes the reply in both cases
 * (and for CLIENT UNBLOCK without ERROR), with the two values given. */
typedef void blocking_end_fn(client *c, long long d0, long long d1);
void block_for_event(client *c, long long deadline_ms, blocking_end_fn *on_end, long long d0, long long d1);
void blocking_release(client *c);
/* Call fn for every client blocked on an event (to check whether its
 * event came; fn may release it). */
void blocking_foreach_event(blocking_end_fn *fn);
/* The same for the clients blocked with on_end == kind only (WAIT's
 * clients, SHUTDOWN's). */
void blocking_foreach_event_of(blocking_end_fn *kind, blocking_end_fn *fn);
/* True while the current command runs as a re-run for a ready key: the
 * handler must not block again through the "nothing to serve" path with
 * a new deadline, but call block_on_keys again to keep waiting. */
int blocking_is_rerun(client *c);

/* A key may now serve waiting clients. */
void blocking_signal_key(db *d, const char *key, size_t klen);
/* SWAPDB a b: keys clients wait on in either database may now exist. */
void blocking_db_swapped(int a, int b);

/* Serve clients whose keys were signalled, release postponed clients
 * once the pause is over (called before sleeping). */
void blocking_handle_ready(void);
/* After each command, as Redis does: clients waiting on keys the command
 * pushed to are served at once, in the order they blocked, so that a
 * later command of the same pipeline cannot take the element first. The
 * served clients' own pipelines resume before sleeping. */
void blocking_serve_after_command(void);
/* Time out expired waits (called from cron). */
void blocking_cron(void);
/* A blocked client is being freed or reset. */
void blocking_client_gone(client *c);
/* Number of blocked clients, postponed ones included (INFO blocked_clients). */
long blocking_count(void);

/* CLIENT PAUSE: c's parsed command waits for the end of the pause
 * (core/pause.h); it runs from blocking_handle_ready once the pause is
 * over. */
void blocking_postpone(client *c);
int blocking_is_postponed(const client *c);
/* Every client waiting on keys or on an event gets err (Redis's UNBLOCKED
 * text when a master becomes a replica: what it waits for will come from
 * the master now); postponed commands stay. */
void blocking_unblock_all(const char *err);
/* CLIENT UNBLOCK: end c's wait on keys with a timeout reply, or with an
 * UNBLOCKED error. Returns 0 when c is not waiting on keys. */
int blocking_unblock(client *c, int with_error);
/* End c's wait on keys with this error reply (cluster mode: -MOVED when
 * the slot of a key it waits on moved away). 0 when c is not waiting on
 * keys. */
int blocking_end_with_error(client *c, const char *err);

#endif
