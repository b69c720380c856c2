/*
 * tracking: client-side caching (CLIENT TRACKING and friends).
 *
 * Default mode: after a read-only command of a tracking client, the keys
 * it read are remembered in the tracking table (key -> ids of clients that
 * may have cached it); when such a key changes (a write, expiry,
 * eviction), each of those clients gets one invalidation and the key
 * leaves the table. BCAST mode: no table; every change of a key under one
 * of the client's prefixes (all keys without prefix) is broadcast, batched
 * once per event-loop iteration. Invalidations are RESP3 pushes
 * ["invalidate", [keys]], or, with REDIRECT to a RESP2 client subscribed
 * to __redis__:invalidate, Pub/Sub messages on that channel.
 *
 * The table is bounded by tracking-table-max-keys: beyond it, random keys
 * are invalidated (and forgotten) as if they had changed. Its memory is
 * allocated through zmalloc, hence part of used_memory.
 */
#ifndef KEEL_TRACKING_H
#define KEEL_TRACKING_H

#include <stddef.h>
#include "net/client.h"

struct command;

/* A key changed (modifier: the client whose command changed it, NULL for
 * expiry and eviction). Called from signal_modified_key and expiry. */
void tracking_invalidate_key(client *modifier, const char *key, size_t klen);
/* FLUSHDB / FLUSHALL: every tracking client drops its whole cache. */
void tracking_invalidate_all(void);
/* A command is about to run: invalidations for c caused by it wait for
 * its reply (those caused before, by eviction, go first). */
void tracking_before_command(client *c);
/* After a command ran: remember the keys it read, send the invalidations
 * held back until its reply was written. */
void tracking_after_command(client *c, const struct command *cmd);
/* Once per event-loop iteration: BCAST batches, pending invalidations. */
void tracking_before_sleep(void);
void tracking_client_gone(client *c);

/* CLIENT LIST: flag letters ("t", "R", "B") and redir= value. */
const char *tracking_flag_letters(const client *c);
long long tracking_redirect_of(const client *c);

/* INFO. */
unsigned long tracking_clients(void);
size_t tracking_total_keys(void);
size_t tracking_total_items(void);
size_t tracking_total_prefixes(void);

/* CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO handlers. */
void client_tracking_command(client *c);
void client_caching_command(client *c);
void client_getredir_command(client *c);
void client_trackinginfo_command(client *c);

/* tracking-table-max-keys (0: unlimited). */
extern long long tracking_table_max_keys;

#endif
