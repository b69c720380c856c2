/*
 * clientmem: how much memory clients hold, and the policies that keep it
 * bounded without sacrificing the dataset or the connections.
 *
 * The problem it solves: a burst of large replies to clients that read
 * slowly makes reply buffers grow without bound. Redis counts those
 * buffers in used_memory, so eviction deletes keys to pay for transient
 * output; maxmemory-clients instead disconnects the clients. Keel keeps
 * both, in this order of defence:
 *
 *   1. Backpressure (client-output-backpressure, per client, default 1mb;
 *      client-output-backpressure-total, all clients, default 2% of
 *      maxmemory). A client whose pending reply is over its share is not
 *      given its next command until the socket drains it: requests wait
 *      in order, nothing is dropped. Pending output is thus bounded by the
 *      threshold plus one reply per client, whatever the pipeline depth.
 *      The only cost is latency for a client that does not read, which is
 *      the client's own doing. Why not also hold a client with nothing
 *      pending while the total is over: its reply may be exactly what
 *      another connection of the same application is waiting for before
 *      it reads the others, and holding it would deadlock that
 *      application (a test does this). Every pause must be one that the
 *      paused client's own reading can lift. The budget is small instead.
 *   2. client-output-buffer-limit (Redis's classes and defaults): for the
 *      clients backpressure cannot govern (pub/sub, replicas, MONITOR),
 *      whose output does not come from their own commands, and for normal
 *      clients when the user asks for it.
 *   3. maxmemory-clients (opt-in): disconnects the biggest clients when
 *      all clients together exceed it. With backpressure in place it
 *      rarely fires.
 *
 * What counts toward maxmemory (docs/ARCHITECTURE.md says why): maxmemory
 * is the whole budget, and a fixed share of it,
 * client-output-backpressure-total (clients_memory_budget()), is reserved
 * for clients; the rest is the dataset's. Eviction (memory/memstats.c)
 * counts used_memory minus what clients hold at this instant (their
 * structs, query buffers, argv, reply blocks:
 * clients_memory_not_counted_for_evict()) plus that fixed budget, so a
 * burst of client memory never makes it delete keys, and dataset plus
 * clients stays within maxmemory as long as clients stay within their
 * budget, which the mechanisms above keep them near.
 *
 * Accounting is incremental so that the checks run on every command: the
 * reply part is exact at every block allocation and release; the rest
 * (query buffer, argv, parser state) is refreshed after each read and
 * each batch of commands. CLIENT LIST recomputes a client exactly.
 */
#ifndef KEEL_CLIENTMEM_H
#define KEEL_CLIENTMEM_H

#include <stddef.h>
#include "lib/kstr.h"
#include "net/client.h"

/* Its settings (client-output-buffer-limit, client-output-backpressure,
 * client-output-backpressure-total) are in its own parameter table,
 * clientmem_configs (core/config.h). */

enum { CLIENT_CLASS_NORMAL = 0, CLIENT_CLASS_REPLICA, CLIENT_CLASS_PUBSUB, CLIENT_CLASS_COUNT };

/* ---- for the memory module ---- */
/* All memory held by all clients (struct, query buffers, argv, replies). */
size_t clients_memory_total(void);
/* The part of used_memory the eviction code must not count toward
 * maxmemory: today all of clients_memory_total(). */
size_t clients_memory_not_counted_for_evict(void);

/* The memory reserved for clients inside maxmemory
 * (client-output-backpressure-total resolved to bytes). */
size_t clients_memory_budget(void);

/* client-output-buffer-limit of a class (repl/: replicas' lag). */
void clientmem_class_limit(int cls, long long *hard, long long *soft, long long *soft_seconds);

/* ---- for INFO clients (core/info.c) ---- */
/* Largest input (query buffer + argv) and output (reply list) of any
 * client over the last 8 seconds, as Redis reports them. */
size_t clients_recent_max_input_buffer(void);
size_t clients_recent_max_output_buffer(void);
/* Clients currently held back by backpressure, and how many times a
 * client was held back since start (INFO clients / stats, Keel only). */
unsigned long clients_backpressured(void);
long long clients_backpressure_events(void);

/* ---- for client.c / reply.c ---- */
/* Query buffers: an idle client shares one empty, unwritable buffer. */
kstr querybuf_shared_empty(void);
int querybuf_is_shared(const kstr qb);
size_t querybuf_alloc_size(const kstr qb);
void querybuf_release(kstr qb);
void clientmem_note_pause(void);
void clientmem_reply_alloc(client *c, size_t bytes);
void clientmem_reply_release(client *c, size_t bytes);
/* Output grew: enforce the output buffer limits, track the peak. */
void clientmem_output_grew(client *c);
/* Refresh the non-reply part of c in the global total. */
void clientmem_update(client *c);
/* c is being freed: remove it from the totals. */
void clientmem_forget(client *c);
/* Should c wait before its next command (backpressure)? */
int clientmem_should_pause(const client *c);
/* Output memory in Redis's sense (reply blocks after the first). */
size_t client_output_list_memory(const client *c);
/* maxmemory-clients: disconnect the biggest clients while over. */
void clients_evict_if_needed(void);
/* Periodic work: query buffer trimming, soft limits, peaks, eviction. */
void clientmem_cron(void);
void clientmem_track_input(client *c);

#endif
