/*
 * persist: what the server does with its snapshots and the state INFO
 * persistence reports: BGSAVE and LASTSAVE, the save points ("save
 * 3600 1 300 100"), saving at SHUTDOWN, SIGTERM and FLUSHALL,
 * stop-writes-on-bgsave-error (-MISCONF), INFO persistence.
 *
 * The snapshot engine itself is persist/snapshot.h; the file format is
 * persist/rdb.h. The AOF module fills the aof_* fields of persist_state
 * (INFO persistence prints them) and its write status (MISCONF).
 */
#ifndef KEEL_PERSIST_H
#define KEEL_PERSIST_H

#include "core/command.h"
#include "core/config.h"
#include "lib/kstr.h"
#include "net/client.h"

typedef struct persist_state {
    /* RDB (this module). */
    int lastbgsave_ok;               /* rdb_last_bgsave_status */
    long long last_bgsave_time_sec;  /* -1 before the first */
    long long bgsave_start_ms;       /* of the running BGSAVE */
    long long lastbgsave_try;        /* unix seconds */
    long long rdb_saves;             /* rdb_saves: SAVE and BGSAVE */
    long long dirty_before_bgsave;
    int bgsave_scheduled;            /* start one when possible */
    /* AOF (filled by the AOF module). */
    int aof_enabled;
    int aof_rewrite_in_progress;
    int aof_rewrite_scheduled;
    long long aof_last_rewrite_time_sec;   /* -1 before the first */
    long long aof_rewrite_start_ms;        /* of the running rewrite */
    int aof_last_bgrewrite_ok;
    long long aof_rewrites;
    long long aof_rewrites_consecutive_failures;
    int aof_last_write_ok;
    char aof_last_write_error[128];        /* strerror of the failed write */
} persist_state;

extern persist_state persist;

/* Parameters: stop-writes-on-bgsave-error, rdb-del-sync-files,
 * rdb-key-save-delay. */
extern config_entry bgsave_configs[];
extern command bgsave_commands[];

/* Start-up (after the keyspace exists) and the server cron. */
void persist_init(void);
void persist_cron(void);

/* The -MISCONF error a command gets while saving is failing (Redis's
 * rule: write commands, EXEC of queued writes, and PING), or NULL. */
const char *persist_deny_write(client *c, const command *cmd);

/* Save dir/dbfilename now, synchronously (SHUTDOWN, FLUSHALL): rdb_save
 * (which logs, resets the dirty counter and sets rdb_last_save_time) and
 * rdb_last_bgsave_status ok, as Redis's rdbSave. 0 or -1. */
int persist_save_now(void);
/* True when save points are configured (save is not ""). */
int persist_save_points_set(void);

/* SHUTDOWN's flags (and a signal's: none). */
#define SHUTDOWN_SAVE 1
#define SHUTDOWN_NOSAVE 2
#define SHUTDOWN_NOW 4
#define SHUTDOWN_FORCE 8
/* Stop a running snapshot and save if the flags and save points say so.
 * 0: the server may exit; -1: saving failed without FORCE (logged). */
int persist_prepare_shutdown(int flags);

/* FLUSHALL: stop a running BGSAVE and, with save points, save the (now
 * empty) dataset, as Redis does. */
void persist_after_flushall(void);

/* INFO persistence. */
kstr persist_info_section(kstr s);

#endif
