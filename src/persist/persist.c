/* See persist.h. Redis 7.0's behaviour is followed throughout: its
 * replies, log lines and INFO fields, so that scripts that watch a Redis
 * server's saves read Keel's unchanged. */
#include "persist/aof.h"
#include "persist/loading.h"
#include "persist/persist.h"

#include "core/cmdutil.h"
#include "core/db.h"
#include "core/multi.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "persist/rdb.h"
#include "persist/snapshot.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

persist_state persist;

static int stop_writes_on_bgsave_error;
static int rdb_del_sync_files; /* no replication yet: nothing to delete */

config_entry bgsave_configs[] = {
    CONFIG_BOOL("stop-writes-on-bgsave-error", &stop_writes_on_bgsave_error, "yes", 0, NULL),
    CONFIG_BOOL("rdb-del-sync-files", &rdb_del_sync_files, "no", 0, NULL),
    CONFIG_INT("rdb-key-save-delay", &snapshot_key_save_delay, "0", INT_MIN, INT_MAX, CF_HIDDEN, NULL),
    CONFIG_INT("snapshot-busy-cpu-percent", &snapshot_busy_cpu_percent, "20", 1, 100, 0, NULL),
    CONFIG_END,
};

/* A failed save is retried by the save points only after this long. */
#define BGSAVE_RETRY_DELAY 5

#define MISCONF_RDB                                                                                         \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "     \
    "Commands that may modify the data set are disabled, because this instance is configured to report "    \
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the " \
    "Redis logs for details about the RDB error."

static long long unix_now(void) { return (long long)time(NULL); }

void persist_init(void) {
    rdb_last_save_time = unix_now();
    persist.lastbgsave_ok = 1;
    persist.last_bgsave_time_sec = -1;
    persist.aof_last_rewrite_time_sec = -1;
    persist.aof_last_bgrewrite_ok = 1;
    persist.aof_last_write_ok = 1;
    snapshot_init();
}

/* ---- Save points ---- */

typedef struct save_point {
    long long seconds, changes;
} save_point;

/* server.save_params holds "s1 c1 s2 c2 ..." as config.c checked it. */
static int save_points(save_point *out, int max) {
    const char *p = server.save_params;
    int n = 0;
    while (p && *p && n < max) {
        char *end;
        long long s = strtoll(p, &end, 10);
        if (end == p) break;
        long long c = strtoll(end, &end, 10);
        out[n++] = (save_point){s, c};
        p = end;
    }
    return n;
}

int persist_save_points_set(void) {
    save_point sp[1];
    return save_points(sp, 1) > 0;
}

/* ---- BGSAVE ---- */


static void bgsave_done(void *ctx, int ok, int aborted, const char *why) {
    (void)ctx;
    (void)why;
    persist.last_bgsave_time_sec = (mstime() - persist.bgsave_start_ms) / 1000;
    if (ok) {
        server_log(LOG_NOTICE, "Background saving terminated with success");
        server_dirty -= persist.dirty_before_bgsave;
        rdb_last_save_time = unix_now();
        persist.lastbgsave_ok = 1;
    } else if (!aborted) {
        server_log(LOG_WARNING, "Background saving error");
        persist.lastbgsave_ok = 0;
    } else {
        server_log(LOG_WARNING, "Background saving terminated: %s", why);
    }
}

/* 0 started (or failed at once: the failure is recorded as a failed
 * BGSAVE, as a fork child's would be); -1 a snapshot is running. */
static int bgsave_start(void) {
    if (!snapshot_can_start()) return -1;
    char tmp[4200], path[4096], dir[4096], err[512];
    rdb_file_path(path, sizeof(path));
    snprintf(dir, sizeof(dir), "%s", path);
    snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dirname(dir), (int)getpid());
    snapshot_job job = {.tmp_path = tmp, .final_path = path, .kind = SNAPSHOT_RDB, .done = bgsave_done};
    persist.dirty_before_bgsave = server_dirty;
    persist.lastbgsave_try = unix_now();
    persist.bgsave_start_ms = mstime();
    persist.rdb_saves++;
    persist.bgsave_scheduled = 0;
    if (snapshot_start(&job, err, sizeof(err)) != 0) {
        server_log(LOG_WARNING, "Background saving error");
        persist.lastbgsave_ok = 0;
        persist.last_bgsave_time_sec = 0;
        return 0;
    }
    server_log(LOG_NOTICE, "Background saving started by pid %d", (int)getpid());
    return 0;
}

static void bgsave_command(client *c) {
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && arg_is(c->argv[1], "schedule")) {
            schedule = 1;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    int running = snapshot_running();
    if (running == SNAPSHOT_RDB || persist.bgsave_scheduled) {
        reply_error(c, "ERR Background save already in progress");
    } else if (running != SNAPSHOT_NONE || (c->flags & CLIENT_MULTI)) {
        if (schedule || (c->flags & CLIENT_MULTI)) {
            persist.bgsave_scheduled = 1;
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                           "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
    } else if (!snapshot_can_start()) {
        /* The last snapshot's marks are still being reset (a few ms per
         * million keys): start as soon as that is done. */
        persist.bgsave_scheduled = 1;
        persist.bgsave_start_ms = mstime();
        reply_status(c, "Background saving started");
    } else {
        bgsave_start();
        reply_status(c, "Background saving started");
    }
}

static void lastsave_command(client *c) { reply_ll(c, rdb_last_save_time); }

command bgsave_commands[] = {
    {"bgsave", bgsave_command, -1, "admin noscript no_async_loading", 0, 0, 0, "server", "1.0.0", "Asynchronously save the dataset to disk.", NULL},
    {"lastsave", lastsave_command, 1, "fast loading stale", 0, 0, 0, "server", "1.0.0", "Unix time of the last successful save to disk.", NULL},
    {0},
};

void persist_cron(void) {
    snapshot_cron();
    if (!snapshot_can_start()) return;
    long long now = unix_now();
    int retry_ok = now - persist.lastbgsave_try > BGSAVE_RETRY_DELAY || persist.lastbgsave_ok;
    if (persist.bgsave_scheduled && retry_ok) {
        bgsave_start();
        return;
    }
    save_point sp[16];
    int n = save_points(sp, 16);
    for (int i = 0; i < n; i++) {
        if (server_dirty >= sp[i].changes && now - rdb_last_save_time > sp[i].seconds && retry_ok) {
            server_log(LOG_NOTICE, "%lld changes in %lld seconds. Saving...", sp[i].changes, sp[i].seconds);
            bgsave_start();
            break;
        }
    }
}

/* ---- Synchronous saves ---- */

int persist_save_now(void) {
    char err[512] = "";
    if (rdb_save(err, sizeof(err)) != 0) return -1; /* logged */
    persist.lastbgsave_ok = 1;
    return 0;
}

int persist_prepare_shutdown(int flags) {
    /* Exiting now would lose the dataset: the AOF is its only copy once
     * the server restarts with appendonly yes, and it is not written yet. */
    if (aof_writing_initial()) {
        if (flags & SHUTDOWN_FORCE) {
            server_log(LOG_WARNING, "Writing initial AOF. Exit anyway.");
        } else {
            server_log(LOG_WARNING, "Writing initial AOF, can't exit.");
            server_log(LOG_WARNING, "Errors trying to shut down the server. Check the logs for more information.");
            return -1;
        }
    }
    if (snapshot_running() == SNAPSHOT_RDB) server_log(LOG_WARNING, "There is a background save in progress. Stopping it!");
    snapshot_abort("shutdown");
    persist.bgsave_scheduled = 0;
    int save = flags & SHUTDOWN_SAVE, nosave = flags & SHUTDOWN_NOSAVE;
    if (rdb_loading) save = 0, nosave = 1; /* a half-loaded dataset must not replace the dump */
    if ((persist_save_points_set() && !nosave) || save) {
        server_log(LOG_NOTICE, "Saving the final RDB snapshot before exiting.");
        if (persist_save_now() != 0) {
            if (flags & SHUTDOWN_FORCE) {
                server_log(LOG_WARNING, "Error trying to save the DB. Exit anyway.");
            } else {
                server_log(LOG_WARNING, "Error trying to save the DB, can't exit.");
                server_log(LOG_WARNING, "Errors trying to shut down the server. Check the logs for more information.");
                return -1;
            }
        }
    }
    return 0;
}

void persist_after_flushall(void) {
    if (snapshot_running() == SNAPSHOT_RDB) snapshot_abort("FLUSHALL");
    /* The save leaves the change counter at 0, as Redis 7.0's FLUSHALL
     * does (FLUSHALL reaches the AOF through propagate_force). */
    if (persist_save_points_set()) persist_save_now();
}

/* ---- MISCONF ---- */

static char aof_misconf[200];

const char *persist_deny_write(client *c, const command *cmd) {
    int rdb_err = stop_writes_on_bgsave_error && !persist.lastbgsave_ok && persist_save_points_set();
    int aof_err = persist.aof_enabled && !persist.aof_last_write_ok;
    if (!rdb_err && !aof_err) return NULL;
    int is_write = (cmd->flags & CMD_WRITE) || (multi_is_exec(cmd) && (multi_queued_flags(c) & CMD_WRITE));
    if (!is_write && strcmp(cmd->name, "ping") != 0) return NULL;
    if (rdb_err) return MISCONF_RDB;
    snprintf(aof_misconf, sizeof(aof_misconf), "MISCONF Errors writing to the AOF file: %s",
             persist.aof_last_write_error[0] ? persist.aof_last_write_error : "unknown error");
    return aof_misconf;
}

/* ---- INFO persistence ---- */

static kstr persist_info_fields(kstr s);

/* The AOF adds the fields Redis shows only while it is on. */
kstr persist_info_section(kstr s) {
    s = persist_info_fields(s);
    s = aof_info_enabled_fields(s);
    return loading_info_fields(s);
}

static kstr persist_info_fields(kstr s) {
    int rdb_running = snapshot_running() == SNAPSHOT_RDB || persist.bgsave_scheduled;
    int aof_running = snapshot_running() == SNAPSHOT_AOF || persist.aof_rewrite_in_progress;
    long long total = snapshot_keys_total(), done = snapshot_keys_processed();
    double perc = total ? (double)done * 100.0 / (double)total : 0.0;
    long long now_ms = mstime();
    return kstr_cat_printf(s,
        "# Persistence\r\n"
        "loading:%d\r\n"
        "async_loading:%d\r\n"
        "current_cow_peak:0\r\n"
        "current_cow_size:0\r\n"
        "current_cow_size_age:0\r\n"
        "current_fork_perc:%.2f\r\n"
        "current_save_keys_processed:%lld\r\n"
        "current_save_keys_total:%lld\r\n"
        "rdb_changes_since_last_save:%lld\r\n"
        "rdb_bgsave_in_progress:%d\r\n"
        "rdb_last_save_time:%lld\r\n"
        "rdb_last_bgsave_status:%s\r\n"
        "rdb_last_bgsave_time_sec:%lld\r\n"
        "rdb_current_bgsave_time_sec:%lld\r\n"
        "rdb_saves:%lld\r\n"
        "rdb_last_cow_size:0\r\n"
        "rdb_last_load_keys_expired:%lld\r\n"
        "rdb_last_load_keys_loaded:%lld\r\n"
        "aof_enabled:%d\r\n"
        "aof_rewrite_in_progress:%d\r\n"
        "aof_rewrite_scheduled:%d\r\n"
        "aof_last_rewrite_time_sec:%lld\r\n"
        "aof_current_rewrite_time_sec:%lld\r\n"
        "aof_last_bgrewrite_status:%s\r\n"
        "aof_rewrites:%lld\r\n"
        "aof_rewrites_consecutive_failures:%lld\r\n"
        "aof_last_write_status:%s\r\n"
        "aof_last_cow_size:0\r\n"
        "module_fork_in_progress:0\r\n"
        "module_fork_last_cow_size:0\r\n",
        rdb_loading ? 1 : 0, rdb_async_loading ? 1 : 0, perc, done, total, server_dirty, rdb_running, rdb_last_save_time,
        persist.lastbgsave_ok ? "ok" : "err", persist.last_bgsave_time_sec,
        rdb_running ? (now_ms - persist.bgsave_start_ms) / 1000 : -1, persist.rdb_saves,
        rdb_last_load_keys_expired, rdb_last_load_keys_loaded, persist.aof_enabled, aof_running,
        persist.aof_rewrite_scheduled, persist.aof_last_rewrite_time_sec,
        aof_running ? (now_ms - persist.aof_rewrite_start_ms) / 1000 : -1,
        persist.aof_last_bgrewrite_ok ? "ok" : "err", persist.aof_rewrites,
        persist.aof_rewrites_consecutive_failures, persist.aof_last_write_ok ? "ok" : "err");
}
