/*
 * shutdown: how the server stops, by SHUTDOWN or by SIGTERM/SIGINT, as
 * Redis 7.0 does it.
 *
 * A shutdown that finds replicas behind the master's offset does not stop
 * at once (unless NOW, or shutdown-timeout 0): writes are paused, the
 * replicas are asked for an acknowledgement (REPLCONF GETACK), and the
 * cron waits until every replica has acknowledged the whole stream or
 * shutdown-timeout seconds have passed. Then the final save runs (SAVE,
 * NOSAVE, FORCE as given) and the process exits. While it waits, clients
 * that sent SHUTDOWN stay blocked; SHUTDOWN ABORT, or a final save that
 * fails, answers them "Errors trying to SHUTDOWN. Check logs." and the
 * server goes on serving. INFO server shows shutdown_in_milliseconds
 * meanwhile. A signal uses the flags of shutdown-on-sigterm or
 * shutdown-on-sigint.
 *
 * Keel difference: a second SIGTERM while the first waits for replicas
 * stops waiting and shuts down at once (Redis ignores it; a second
 * SIGINT exits at once in both).
 */
#ifndef KEEL_SHUTDOWN_H
#define KEEL_SHUTDOWN_H

#include <signal.h>
#include "lib/kstr.h"
#include "net/client.h"

/* Start a shutdown with SHUTDOWN's flags (persist/persist.h's
 * SHUTDOWN_*). 0: done, the event loop is stopping and the process will
 * exit; 1: waiting for replicas (the cron finishes it); -1: failed (the
 * final save), logged, the server goes on. */
int shutdown_start(int flags);
/* Once per cron tick: act on a SIGTERM/SIGINT the handler recorded in
 * *pending (cleared once handled or cancelled), and finish a shutdown
 * whose replicas caught up or whose time ran out. */
void shutdown_cron(volatile sig_atomic_t *pending);
/* The event loop stopped without a finished shutdown because a second
 * signal insisted (or the cron is paused): shut down now, without
 * waiting. 0: done; -1: failed (the server goes on). */
int shutdown_after_signal(int sig);
/* The shutdown is complete: the main loop may exit. */
int shutdown_finished(void);
/* INFO server's shutdown_in_milliseconds while waiting for replicas. */
kstr shutdown_info_fields(kstr s);
/* The SHUTDOWN command (server_cmds.c lists it). */
void shutdown_command(client *c);

#endif
