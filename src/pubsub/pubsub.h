/*
 * pubsub: channels, patterns and shard channels (SUBSCRIBE, PSUBSCRIBE,
 * SSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB ...).
 *
 * Other modules publish through pubsub_publish() (keyspace notifications,
 * RESP2 tracking redirection) and ask about a client's subscriptions for
 * CLIENT LIST and the RESP2 subscribed-mode rule; they never see the
 * tables. See pubsub.c for the structures and their costs.
 */
#ifndef KEEL_PUBSUB_H
#define KEEL_PUBSUB_H

#include <stddef.h>
#include "net/client.h"

struct command;

/* Deliver msg on a classic channel to its subscribers and to the matching
 * patterns' subscribers. Returns the number of receivers. */
long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen);
/* Whether anybody is subscribed to the channel or to any pattern at all
 * (a fast pre-check for publishers that build their message first). */
int pubsub_has_listeners(void);

/* RESP2 subscribed mode: reject cmd with Redis's error (and return 1) if
 * c may not run it in its current context. */
int pubsub_rejects_command(struct client *c, const struct command *cmd);
/* PING in RESP2 subscribed mode replies ["pong", arg]: returns 1 if it
 * replied so. */
int pubsub_ping_reply(client *c);
/* Whether c is a RESP2 client with subscriptions (only pubsub may talk). */
int pubsub_in_context(const client *c);

/* Channels, patterns and shard channels c is subscribed to. */
void pubsub_client_counts(const client *c, size_t *sub, size_t *psub, size_t *ssub);
/* Whether fn returns 1 for any of c's channels, patterns (is_pattern 1)
 * or shard channels (ACL: a subscription its user may no longer have). */
typedef int pubsub_name_fn(void *priv, const char *name, size_t len, int is_pattern);
int pubsub_client_any(const client *c, pubsub_name_fn *fn, void *priv);
/* Drop every subscription of c, without replies (RESET, disconnect). */
void pubsub_client_gone(client *c);

/* INFO stats. */
size_t pubsub_channel_count(void);
size_t pubsub_pattern_count(void);
size_t pubsub_shard_channel_count(void);

/* Write a ["message", channel, payload] (RESP3: push) to c. payload NULL
 * writes a null; payload_is_proto writes it as already encoded RESP. */
void pubsub_write_message(client *c, const char *ch, size_t chlen, const char *payload, size_t plen,
                          int payload_is_proto);


#endif
