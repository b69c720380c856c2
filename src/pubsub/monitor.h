/*
 * monitor: MONITOR, the stream of every command the server runs, in
 * Redis's line format:
 *   +1700000000.123456 [0 127.0.0.1:50000] "set" "k" "v"
 * Passwords are redacted where Redis redacts them (AUTH, HELLO ... AUTH,
 * CONFIG SET requirepass/masterauth). A monitor's output buffer is
 * bounded by client-output-buffer-limit pubsub (Redis leaves it in the
 * unbounded normal class; see clientmem.c).
 */
#ifndef KEEL_MONITOR_H
#define KEEL_MONITOR_H

#include "net/client.h"

struct command;

/* After a command ran (command_call): tell the monitors. Scripts (EVAL,
 * FCALL, ...) are told before they run instead. */
void monitor_feed(client *c, const struct command *cmd);
void monitor_feed_before(client *c, const struct command *cmd);
void monitor_client_gone(client *c);
int monitor_count(void);


#endif
