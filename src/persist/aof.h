/*
 * aof: the append-only file. Every write the server makes reaches the AOF
 * through the write stream (core/propagate.h) as the command that
 * reproduces it; the file is Redis 7's multi-part directory (see
 * aof_manifest.h), so Redis 7.0 and Keel load each other's.
 *
 * Writes are buffered during an event-loop iteration and written before
 * replies go out (aof_before_sleep), so a client never sees the answer to
 * a write the file does not hold. appendfsync decides when the kernel is
 * made to reach the disk: always (before the replies), everysec (on a
 * background thread once a second, so the event loop never waits for the
 * disk), no (the kernel decides).
 *
 * BGREWRITEAOF (and turning appendonly on) writes a new base from a
 * snapshot of the dataset and starts a new incremental file at the same
 * moment; the manifest switches to them atomically at the end, and the old
 * files are deleted.
 */
#ifndef KEEL_AOF_H
#define KEEL_AOF_H

#include "core/command.h"
#include "core/config.h"
#include "lib/kstr.h"

/* At start-up, after the configuration and the keyspace exist: if
 * appendonly is yes, load the AOF (a legacy single file is migrated into
 * the directory first). Returns 1 when an AOF was loaded (the RDB must not
 * be), 0 when there is none, -1 when it was refused (start-up stops). */
int aof_load_at_startup(void);
/* Then open the files for appending (creating a base for an empty
 * dataset, as Redis does) and start listening to the write stream. */
void aof_open_at_startup(void);

/* Event-loop hooks: write the buffer (before replies are flushed); the
 * periodic work (retrying a failed write, everysec fsync, automatic
 * rewrites). */
void aof_before_sleep(void);
void aof_cron(void);
/* Shutdown: write and fsync everything. */
void aof_shutdown(void);

/* Its state for INFO persistence and -MISCONF is published in
 * persist.h's persist_state (persist.c prints and enforces it). */
/* The lines Redis shows only while AOF is on (aof_current_size ...),
 * appended to INFO persistence by persist.c. */
kstr aof_info_enabled_fields(kstr s);
int aof_is_on(void);
/* DEBUG LOADAOF: empty the dataset and replay the AOF files on disk
 * (buffer flushed first). 0, or -1 with *err set to the reply's error. */
int aof_debug_reload(const char **err);
/* DEBUG AOF-FLUSH-SLEEP: sleep this long before each write of the AOF
 * buffer (0: never), so that tests can watch replies and the file. */
void aof_set_flush_sleep(long usec);
int aof_rewrite_in_progress(void);
/* appendonly yes was just turned on and the first rewrite, which writes
 * the dataset into the AOF, has not finished: the AOF is not yet whole. */
int aof_writing_initial(void);

extern command aof_commands[];
extern config_entry aof_configs[];

#endif
