/*
 * hooks: the messaging modules' (pubsub, tracking, monitor) entry points
 * for the core, one call each, so that the core files (command.c,
 * client.c, main.c) carry a single line per event whatever the number of
 * messaging features behind it.
 */
#ifndef KEEL_MESSAGING_HOOKS_H
#define KEEL_MESSAGING_HOOKS_H

#include "net/client.h"

struct command;

/* Around each executed command (command_call): MONITOR, tracking. */
void messaging_before_command(client *c, const struct command *cmd);
void messaging_after_command(client *c, const struct command *cmd);
/* A client is being freed, or RESET: drop its subscriptions, tracking
 * and monitor state. */
void messaging_client_gone(client *c);
/* Once per event-loop iteration, before replies are written. */
void messaging_before_sleep(void);
/* CLIENT LIST / CLIENT INFO fields: subscription counts, the tracking
 * redirect (redir=, -1 when not tracking) and flag letters (t, R, B). */
void messaging_client_fields(const client *c, size_t *sub, size_t *psub, size_t *ssub, long long *redir,
                             const char **tracking_flags);

#endif
