/*
 * pause: CLIENT PAUSE and CLIENT UNPAUSE, the server-wide state they set.
 *
 * A pause is lazy, as in Redis: nothing happens to idle clients; a client
 * is postponed only when it tries to run a command the pause covers (every
 * command in ALL mode; in WRITE mode, the commands that could change data
 * or feed replication: write and may_replicate ones). Its parsed command
 * waits in core/blocking.c and runs when the pause ends, by timeout or
 * CLIENT UNPAUSE. While paused, keys are neither expired nor evicted, so
 * the dataset stays exactly as it was: an expired key reads as missing but
 * is deleted only after the pause.
 *
 * A second CLIENT PAUSE never shortens or weakens the current one: the
 * later end and the stronger mode win.
 *
 * The server can also hold a write pause of its own (FAILOVER, while the
 * replica catches up), which CLIENT UNPAUSE does not end: the two pauses
 * are independent and the stronger one applies, as Redis keeps a pause
 * per purpose.
 */
#ifndef KEEL_PAUSE_H
#define KEEL_PAUSE_H

#include "core/command.h"
#include "net/client.h"

enum { PAUSE_OFF = 0, PAUSE_WRITE = 1, PAUSE_ALL = 2 };

void pause_start(long long end_ms, int mode);
void pause_stop(void);
/* The server's own write pause (repl/failover.c): on until released. */
void pause_hold_writes(int on);
/* A shutdown waiting for lagging replicas (core/shutdown.h) pauses writes
 * until it ends or is cancelled, whatever CLIENT PAUSE / UNPAUSE do (a
 * pause of its own, independent of FAILOVER's, as Redis keeps one per
 * purpose). */
void pause_during_shutdown(int on);
/* True while a pause is in force (any mode). */
int pause_active(void);
/* Should c's cmd wait for the end of the pause? */
int pause_postpones(const client *c, const command *cmd);

#endif
