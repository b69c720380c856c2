/*
 * snapshot: a point-in-time copy of the whole keyspace written as an RDB
 * file without fork(), so without copy-on-write and its memory spike.
 *
 * A cursor walks every database in short time slices on the event loop
 * and writes each key through the RDB writer (persist/rdb.h). The entry's
 * snapshot mark says which side of the cursor a key is on: at the start
 * every key carries mark 0 ("not written yet") and new entries get mark
 * 1. Before a key with mark 0 changes or disappears, db.c calls our hook,
 * which writes the key first and flips its mark; the walk skips keys with
 * mark 1. So each key present when the snapshot started is written
 * exactly once, with the value it had then, and keys created later are
 * not written. FLUSHDB/FLUSHALL hand the old tables to the snapshot
 * instead of freeing them; SWAPDB is followed. After the walk a second,
 * cheap pass puts every mark back to 0, so that entries built anywhere
 * (entry_new_* gives mark 0) are always correct when the next snapshot
 * starts. The full argument is in docs/ARCHITECTURE.md, "Fork-less
 * snapshots".
 *
 * Memory: the writer's buffer (mem_snapshot_buffers in INFO memory, left
 * out of the eviction computation); nothing per key, nothing per write.
 *
 * One job runs at a time. BGSAVE (persist.c) and the AOF rewrite's base
 * file use the same engine through snapshot_start().
 */
#ifndef KEEL_SNAPSHOT_H
#define KEEL_SNAPSHOT_H

#include <stddef.h>

typedef struct snapshot_job {
    const char *tmp_path;   /* written, then fsynced */
    const char *final_path; /* tmp_path is renamed to it and its directory
                             * fsynced; NULL leaves the file at tmp_path */
    int aof_base;           /* RDB header with aof-base:1 (AOF preamble) */
    int kind;               /* SNAPSHOT_RDB or SNAPSHOT_AOF: who asked */
    int no_fsync;           /* a scratch file read back at once (a full
                             * sync's): closed without fsync */
    /* Called on the main thread once the file is complete (ok = 1) or the
     * job failed or was aborted (ok = 0, why says what happened; aborted
     * is 1 when snapshot_abort stopped it rather than an error). */
    void (*done)(void *ctx, int ok, int aborted, const char *why);
    void *ctx;
} snapshot_job;

enum { SNAPSHOT_NONE = 0, SNAPSHOT_RDB = 1, SNAPSHOT_AOF = 2 };

/* Install the keyspace hooks (once, at start-up). */
void snapshot_init(void);

/* Start a job. 0: started (the paths are copied); -1: another job is
 * running or the file cannot be created, with the reason in err (the
 * reason is also logged). */
int snapshot_start(const snapshot_job *job, char *err, size_t errlen);

/* The kind of job running (walking or syncing its file), or SNAPSHOT_NONE. */
int snapshot_running(void);
/* True when a new job can start now (no job, no mark reset pass). */
int snapshot_can_start(void);

/* Stop the running job: its temp file is removed and done() is called
 * with ok = 0, aborted = 1. A job whose file is already being synced is
 * waited for instead (it completes). The mark reset pass is then finished
 * at once (O(keys), flipping one bit each), so that the caller may
 * replace tables (a load) safely. No-op without a job. */
void snapshot_abort(const char *why);

/* Drive the walk; persist's cron calls it too (the engine keeps its own
 * timer while a job runs, this is for tests and shutdown paths). */
void snapshot_cron(void);

/* True while the job holds pointers to entries between slices (long
 * values written in steps): active defrag must not move entries then. */
int snapshot_pins_entries(void);

/* Figures for INFO. */
size_t snapshot_buffer_bytes(void);       /* memory the running job holds */
long long snapshot_keys_processed(void);  /* keys written by the running job */
long long snapshot_keys_total(void);      /* keys present when it started */

/* rdb-key-save-delay (microseconds): pace the walk to one key per delay,
 * for tests that need a slow snapshot; writes still save keys at once. */
extern int snapshot_key_save_delay;
/* snapshot-busy-cpu-percent (Keel only, 20 by default): the share of the
 * main thread's CPU time a save may take while commands are running
 * (walk plus keys saved by writes); lower keeps more throughput for
 * clients and makes the save longer. An idle server saves at full speed. */
extern int snapshot_busy_cpu_percent;

#endif
