/*
 * aof: state, writing and rewriting of the append-only file (see aof.h
 * for what it guarantees, aof_manifest.h for the files).
 *
 * Writing: the write-stream listener appends each operation in RESP form
 * (with SELECT when the database changes and, with aof-timestamp-enabled,
 * a "#TS:<unix time>" line when the second changes) to a buffer;
 * aof_before_sleep writes the buffer before any reply of this iteration
 * leaves. With appendfsync always, fdatasync follows in the same place:
 * an acknowledged write is on disk. With everysec, a background thread
 * does the fdatasync once a second; while one is still running, writes
 * wait in the buffer for at most two seconds (a write() into a file being
 * synced would block the event loop), then go anyway, counted in
 * aof_delayed_fsync: Redis's rule, and its bound on what a crash loses.
 *
 * Failures: a write the kernel refuses (full disk, I/O error) leaves the
 * data in the buffer, marks aof_last_write_status:err, makes write
 * commands fail with -MISCONF until a retry (every cron tick) succeeds.
 * With appendfsync always that cannot keep the promise, so the server
 * exits, as Redis does.
 *
 * Rewriting: a new incremental file is opened and recorded in the
 * manifest first (from then on the old base, the old incremental files and
 * the new one describe the dataset), then the base is written to a
 * temporary file, renamed, and the manifest switches to new base + new
 * incremental file; the files it replaced become history and are deleted.
 * Turning AOF on (CONFIG SET appendonly yes) is the same with a temporary
 * incremental file (state WAIT_REWRITE) that becomes the first one when
 * the base is installed; a failed attempt is retried from cron.
 *
 * The base is the dataset as of the rewrite's start: with the RDB
 * preamble it comes from the fork-less snapshot (persist/snapshot.h),
 * written in time slices while commands run; in AOF form from a
 * synchronous walk of the keyspace (commands wait), since the snapshot
 * engine writes RDB only.
 */
#include "persist/aof.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cmdutil.h"
#include "core/db.h"
#include "core/propagate.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/eventloop.h"
#include "net/reply.h"
#include "persist/aof_internal.h"
#include "persist/aof_manifest.h"
#include "persist/loading.h"
#include "persist/persist.h"
#include "persist/snapshot.h"
#include "script/script.h"

enum { FSYNC_NO = 0, FSYNC_ALWAYS = 1, FSYNC_EVERYSEC = 2 };
enum { STATE_OFF = 0, STATE_ON = 1, STATE_WAIT_REWRITE = 2 };

static const enum_value fsync_enum[] = {
    {"everysec", FSYNC_EVERYSEC}, {"always", FSYNC_ALWAYS}, {"no", FSYNC_NO}, {NULL, 0}}; /* Redis's order, as its errors list them */

/* Configuration (aof_configs writes these). */
static int cfg_fsync = FSYNC_EVERYSEC;
static int cfg_no_fsync_on_rewrite, cfg_load_truncated, cfg_rdb_preamble;
int aof_cfg_timestamp;
static long flush_sleep_us; /* DEBUG AOF-FLUSH-SLEEP */
int aof_rewrite_incremental_fsync;
static int cfg_auto_pct;
static long long cfg_auto_min;
static char *cfg_dirname;

static struct {
    int state;
    int fd;                    /* current incremental file, -1 when none */
    kstr buf;                  /* written at the next before_sleep */
    int selected_db;           /* -1: the next operation starts with SELECT */
    long long last_ts;         /* last #TS annotation (seconds) */
    aof_manifest *am;
    long long current_size, base_size, rewrite_base_size;
    long long written_since_fsync;
    long long last_fsync_ms, postponed_since_ms;
    unsigned long delayed_fsync;
    int write_ok, write_errno;
    long long last_write_error_log;
    /* rewrites */
    int rewrite_in_progress, rewrite_scheduled, last_rewrite_ok, rewrite_rdb_format;
    long long rewrite_start_us;
    long long last_rewrite_sec, rewrites, consecutive_failures, next_auto_rewrite_ms;
} A = {.fd = -1, .selected_db = -1, .write_ok = 1, .last_rewrite_ok = 1, .last_rewrite_sec = -1};

/* INFO persistence and -MISCONF are persist.c's: it reads these. */
static void publish(void) {
    persist.aof_enabled = A.state != STATE_OFF;
    persist.aof_rewrite_in_progress = A.rewrite_in_progress;
    persist.aof_rewrite_scheduled = A.rewrite_scheduled;
    persist.aof_last_rewrite_time_sec = A.last_rewrite_sec;
    persist.aof_rewrite_start_ms = A.rewrite_start_us / 1000;
    persist.aof_last_bgrewrite_ok = A.last_rewrite_ok;
    persist.aof_rewrites = A.rewrites;
    persist.aof_rewrites_consecutive_failures = A.consecutive_failures;
    persist.aof_last_write_ok = A.write_ok;
    snprintf(persist.aof_last_write_error, sizeof(persist.aof_last_write_error), "%s",
             A.write_ok ? "" : strerror(A.write_errno));
}

/* ---- background fsync thread ------------------------------------------ */

#define JOBS_MAX 64
static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct { int fd, close_after; } jobs[JOBS_MAX];
    int head, count, started;
    atomic_int pending;
} BG = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *bg_main(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&BG.lock);
        while (BG.count == 0) pthread_cond_wait(&BG.cond, &BG.lock);
        int fd = BG.jobs[BG.head].fd, close_after = BG.jobs[BG.head].close_after;
        BG.head = (BG.head + 1) % JOBS_MAX;
        BG.count--;
        pthread_mutex_unlock(&BG.lock);
        fdatasync(fd);
        if (close_after) close(fd);
        atomic_fetch_sub(&BG.pending, 1);
    }
    return NULL;
}

/* Queue an fdatasync (and a close) of fd on the background thread. With
 * the queue full (a disk that stopped answering), do it here. */
static void bg_fsync(int fd, int close_after) {
    if (!BG.started) {
        BG.started = pthread_create(&BG.thread, NULL, bg_main, NULL) == 0;
        if (BG.started) pthread_detach(BG.thread);
    }
    pthread_mutex_lock(&BG.lock);
    if (!BG.started || BG.count == JOBS_MAX) {
        pthread_mutex_unlock(&BG.lock);
        fdatasync(fd);
        if (close_after) close(fd);
        return;
    }
    BG.jobs[(BG.head + BG.count) % JOBS_MAX].fd = fd;
    BG.jobs[(BG.head + BG.count) % JOBS_MAX].close_after = close_after;
    BG.count++;
    atomic_fetch_add(&BG.pending, 1);
    pthread_cond_signal(&BG.cond);
    pthread_mutex_unlock(&BG.lock);
}

static int bg_fsync_pending(void) { return atomic_load(&BG.pending) > 0; }

/* ---- helpers ------------------------------------------------------------ */

int aof_write_fully(int fd, const void *p, size_t len) {
    const char *s = p;
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *prefix(void) { return server.appendfilename; }

static int ensure_dir(void) {
    if (mkdir(cfg_dirname, 0755) == 0 || errno == EEXIST) return 0;
    server_log(LOG_WARNING, "Can't open or create append-only dir %s: %s", cfg_dirname, strerror(errno));
    return -1;
}

static int open_incr(const char *name) {
    char *path = aof_path(cfg_dirname, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) server_log(LOG_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
    zfree(path);
    return fd;
}

static int persist_manifest(const aof_manifest *am) {
    char err[512];
    if (aof_manifest_persist(am, cfg_dirname, prefix(), err, sizeof(err)) == 0) return 0;
    server_log(LOG_WARNING, "%s", err);
    return -1;
}

static void delete_history(void) {
    if (!A.am || A.am->nhist == 0) return;
    for (int i = 0; i < A.am->nhist; i++) {
        server_log(LOG_NOTICE, "Removing the history file %s", A.am->hist[i].name);
        char *path = aof_path(cfg_dirname, A.am->hist[i].name);
        unlink(path);
        zfree(path);
    }
    aof_manifest_clear_history(A.am);
    persist_manifest(A.am);
}

static long long files_size(const aof_manifest *am, long long *base) {
    long long total = 0;
    *base = 0;
    if (am->base) {
        off_t s = aof_file_size(cfg_dirname, am->base->name);
        *base = s > 0 ? s : 0;
        total += *base;
    }
    for (int i = 0; i < am->nincr; i++) {
        off_t s = aof_file_size(cfg_dirname, am->incr[i].name);
        total += s > 0 ? s : 0;
    }
    return total;
}

/* ---- the write stream into the buffer --------------------------------- */

static kstr cat_command(kstr s, int argc, kstr *argv) {
    char hdr[32];
    s = kstr_cat_len(s, hdr, resp_header(hdr, '*', argc));
    for (int i = 0; i < argc; i++) {
        size_t len = kstr_len(argv[i]);
        s = kstr_cat_len(s, hdr, resp_header(hdr, '$', (long long)len));
        s = kstr_cat_len(s, argv[i], len);
        s = kstr_cat_len(s, "\r\n", 2);
    }
    return s;
}

static void feed(int dbid, int argc, kstr *argv, void *priv) {
    (void)priv;
    if (A.state == STATE_OFF) return;
    if (aof_cfg_timestamp) {
        long long now = server_mstime() / 1000;
        if (now > A.last_ts) {
            A.buf = kstr_cat_printf(A.buf, "#TS:%lld\r\n", now);
            A.last_ts = now;
        }
    }
    if (dbid >= 0 && dbid != A.selected_db) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", dbid);
        A.buf = kstr_cat_printf(A.buf, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", n, num);
        A.selected_db = dbid;
    }
    A.buf = cat_command(A.buf, argc, argv);
}

/* ---- writing the buffer ------------------------------------------------- */

static void note_write_error(int err, int partial) {
    long long now = server_mstime();
    if (now - A.last_write_error_log > 30000) {
        if (partial)
            server_log(LOG_WARNING, "Short write while writing to the AOF file: (nwritten less than expected): %s",
                       strerror(err));
        else server_log(LOG_WARNING, "Error writing to the AOF file: %s", strerror(err));
        A.last_write_error_log = now;
    }
    A.write_ok = 0;
    A.write_errno = err;
    publish();
    if (cfg_fsync == FSYNC_ALWAYS) {
        server_log(LOG_WARNING, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        _exit(1);
    }
}

static int fsync_skipped_for_rewrite(void) { return cfg_no_fsync_on_rewrite && A.rewrite_in_progress; }

static void maybe_fsync_everysec(void) {
    if (cfg_fsync != FSYNC_EVERYSEC || A.written_since_fsync == 0 || fsync_skipped_for_rewrite()) return;
    long long now = server_mstime();
    if (now - A.last_fsync_ms < 1000 || bg_fsync_pending()) return;
    bg_fsync(A.fd, 0);
    A.last_fsync_ms = now;
    A.written_since_fsync = 0;
}

/* Write the buffer. force: write even while a background fsync runs. */
static void flush_buffer(int force) {
    if (A.fd < 0) return;
    size_t len = kstr_len(A.buf);
    if (len == 0) {
        maybe_fsync_everysec();
        return;
    }
    if (flush_sleep_us > 0) usleep((useconds_t)flush_sleep_us); /* a test's window, as Redis's */
    if (cfg_fsync == FSYNC_EVERYSEC && !force && bg_fsync_pending()) {
        long long now = server_mstime();
        if (A.postponed_since_ms == 0) A.postponed_since_ms = now;
        if (now - A.postponed_since_ms < 2000) return;
        A.delayed_fsync++;
        server_log(LOG_NOTICE, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer "
                               "without waiting for fsync to complete, this may slow down Keel.");
    }
    A.postponed_since_ms = 0;
    ssize_t n;
    do n = write(A.fd, A.buf, len);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        kstr_consume(A.buf, (size_t)n);
        A.current_size += n;
        A.written_since_fsync += n;
    }
    if (n != (ssize_t)len) {
        note_write_error(n < 0 ? errno : ENOSPC, n > 0);
        return;
    }
    if (!A.write_ok) {
        server_log(LOG_WARNING, "AOF write error looks solved, Keel can write again.");
        A.write_ok = 1;
        publish();
    }
    if (kstr_alloc_size(A.buf) > 4 * 1024 * 1024) {
        kstr_free(A.buf);
        A.buf = kstr_empty();
    }
    if (cfg_fsync == FSYNC_ALWAYS && !fsync_skipped_for_rewrite()) {
        if (fdatasync(A.fd) == -1) {
            server_log(LOG_WARNING, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. "
                                    "Exiting...", strerror(errno));
            _exit(1);
        }
        A.written_since_fsync = 0;
        A.last_fsync_ms = server_mstime();
        return;
    }
    maybe_fsync_everysec();
}

void aof_before_sleep(void) {
    if (A.state != STATE_OFF) flush_buffer(0);
    /* appendfsync always: no reply may leave before its write is synced,
     * including from a write handler in the same event-loop turn. */
    ev_set_write_barrier(server.el, A.state != STATE_OFF && cfg_fsync == FSYNC_ALWAYS);
}

/* ---- rewrite ------------------------------------------------------------ */

/* The base writer: the dataset as of this instant to tmp_path, then done()
 * on the main thread. An RDB base comes from the fork-less snapshot
 * (persist/snapshot.h: written in time slices while commands run); an
 * AOF-format base (aof-use-rdb-preamble no) from a synchronous walk of the
 * keyspace (commands wait), since the snapshot engine writes RDB only. */
typedef void base_done_fn(int ok, int aborted, const char *why);

static int write_base_sync(const char *tmp_path, int rdb_format) {
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char err[256] = "";
    int ok = fd >= 0 && aof_write_base(fd, rdb_format, err, sizeof(err)) == 0;
    if (ok && fsync(fd) < 0) {
        ok = 0;
        snprintf(err, sizeof(err), "%s", strerror(errno));
    }
    if (fd < 0) snprintf(err, sizeof(err), "%s", strerror(errno));
    if (fd >= 0) close(fd);
    if (!ok) {
        server_log(LOG_WARNING, "Error writing the AOF base file %s: %s", tmp_path, err);
        unlink(tmp_path);
        return -1;
    }
    return 0;
}

static base_done_fn *snapshot_done_fn;

static void on_snapshot_done(void *ctx, int ok, int aborted, const char *why) {
    (void)ctx;
    snapshot_done_fn(ok, aborted, why);
}

/* 0 started (done() comes later, or already came for the walk), -1 not. */
static int base_start(const char *tmp_path, int rdb_format, base_done_fn *done) {
    if (!rdb_format) {
        if (write_base_sync(tmp_path, rdb_format) < 0) return -1;
        done(1, 0, NULL);
        return 0;
    }
    snapshot_done_fn = done;
    snapshot_job job = {.tmp_path = tmp_path, .final_path = NULL, .aof_base = 1, .kind = SNAPSHOT_AOF,
                        .done = on_snapshot_done, .ctx = NULL};
    char err[256];
    if (snapshot_start(&job, err, sizeof(err)) < 0) {
        server_log(LOG_WARNING, "Can't start the AOF rewrite's snapshot: %s", err);
        return -1;
    }
    return 0;
}

static void switch_incr_fd(int fd) {
    if (A.fd >= 0) bg_fsync(A.fd, 1);
    A.fd = fd;
    A.selected_db = -1;
    A.last_ts = 0;
    A.written_since_fsync = 0;
}

static void unlink_in_dir(const char *name) {
    char *path = aof_path(cfg_dirname, name);
    unlink(path);
    zfree(path);
}

/* Start a new incremental file and record it (state ON): from here on the
 * old files plus this one describe the dataset, whatever the rewrite does. */
static int open_new_incr(void) {
    aof_manifest *am = aof_manifest_dup(A.am);
    const char *name = aof_manifest_new_incr(am, prefix());
    int fd = open_incr(name);
    if (fd < 0 || persist_manifest(am) < 0) {
        if (fd >= 0) {
            close(fd);
            unlink_in_dir(name);
        }
        aof_manifest_free(am);
        return -1;
    }
    flush_buffer(1);
    switch_incr_fd(fd);
    aof_manifest_free(A.am);
    A.am = am;
    return 0;
}

static char *temp_incr_name(void) {
    kstr n = kstr_cat_printf(kstr_empty(), "temp-%s.incr", prefix());
    char *s = zstrdup(n);
    kstr_free(n);
    return s;
}

static char *temp_base_path(void) {
    char name[64];
    snprintf(name, sizeof(name), "temp-rewriteaof-bg-%d.aof", (int)getpid());
    return aof_path(cfg_dirname, name);
}

/* Install the written base: rename it, retire what it covers, and (when
 * AOF is being turned on) promote the temporary incremental file. */
static int install_base(const char *tmp) {
    aof_manifest *am = aof_manifest_dup(A.am);
    const char *base = aof_manifest_new_base(am, prefix(), A.rewrite_rdb_format);
    char *path = aof_path(cfg_dirname, base);
    int ok = rename(tmp, path) == 0;
    if (!ok) server_log(LOG_WARNING, "Error trying to rename the temporary AOF base file into %s: %s", base, strerror(errno));
    zfree(path);
    /* The new base covers every incremental file but the one opened at
     * the start of this rewrite (none when AOF is off or turning on). */
    if (ok) aof_manifest_retire_incrs(am, A.state == STATE_ON);
    if (ok && A.state == STATE_WAIT_REWRITE) {
        char *tmpincr = temp_incr_name();
        const char *incr = aof_manifest_new_incr(am, prefix());
        char *from = aof_path(cfg_dirname, tmpincr), *to = aof_path(cfg_dirname, incr);
        ok = rename(from, to) == 0;
        if (!ok) server_log(LOG_WARNING, "Error trying to rename the temporary incr AOF file into %s: %s", incr, strerror(errno));
        zfree(from);
        zfree(to);
        zfree(tmpincr);
    }
    if (ok) ok = persist_manifest(am) == 0;
    if (!ok) {
        unlink(tmp);
        aof_manifest_free(am);
        return -1;
    }
    aof_manifest_free(A.am);
    A.am = am;
    return 0;
}

static void rewrite_stats(int ok) {
    A.rewrite_in_progress = 0;
    A.last_rewrite_sec = (ustime() - A.rewrite_start_us) / 1000000;
    A.last_rewrite_ok = ok;
    if (ok) {
        A.rewrites++;
        A.consecutive_failures = 0;
        A.current_size = files_size(A.am, &A.base_size);
        A.rewrite_base_size = A.current_size;
        server_log(LOG_NOTICE, "Background AOF rewrite finished successfully");
    } else {
        A.consecutive_failures++;
        server_log(LOG_WARNING, "Background AOF rewrite failed");
    }
}

static void rewrite_finished(int ok, int aborted, const char *why) {
    char *tmp = temp_base_path();
    if (!A.rewrite_in_progress) ok = 0; /* AOF was turned off meanwhile */
    if (ok) ok = install_base(tmp) == 0;
    else unlink(tmp);
    zfree(tmp);
    if (!ok && why) server_log(LOG_WARNING, "AOF rewrite: %s", why);
    if (ok && A.state == STATE_WAIT_REWRITE) {
        A.state = STATE_ON;
        server_log(LOG_NOTICE, "Background AOF rewrite terminated with success; AOF is on");
    } else if (!ok && A.state == STATE_WAIT_REWRITE && !aborted) {
        A.rewrite_scheduled = 1; /* AOF was asked for: try again from cron */
    }
    rewrite_stats(ok);
    if (ok) delete_history();
    publish();
}

/* Start a rewrite: 0 started (with the synchronous writer: done), 1
 * scheduled (a BGSAVE holds the snapshot engine: cron starts it after),
 * -1 failed. */
static int rewrite_start(void) {
    if (A.rewrite_in_progress || ensure_dir() < 0) return -1;
    if (cfg_rdb_preamble && !snapshot_can_start()) {
        A.rewrite_scheduled = 1;
        publish();
        return 1;
    }
    A.rewrite_scheduled = 0;
    A.rewrite_start_us = ustime();
    if (A.state == STATE_ON && open_new_incr() < 0) {
        A.last_rewrite_ok = 0;
        A.consecutive_failures++;
        return -1;
    }
    A.rewrite_in_progress = 1;
    A.rewrite_rdb_format = cfg_rdb_preamble;
    server_log(LOG_NOTICE, "Background append only file rewriting started");
    char *tmp = temp_base_path();
    int r = base_start(tmp, A.rewrite_rdb_format, rewrite_finished);
    zfree(tmp);
    if (r < 0) rewrite_stats(0);
    publish();
    return r;
}

/* ---- turning on and off ------------------------------------------------- */

/* CONFIG SET appendonly yes: writes from now on go to a temporary
 * incremental file, which becomes the first incremental file of the new
 * AOF when the base (the dataset as of now) is complete. */
static int aof_start(void) {
    if (ensure_dir() < 0) return -1;
    char *tmpincr = temp_incr_name();
    char *path = aof_path(cfg_dirname, tmpincr);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) server_log(LOG_WARNING, "Can't open the append-only file %s: %s", tmpincr, strerror(errno));
    zfree(path);
    zfree(tmpincr);
    if (fd < 0) return -1;
    A.state = STATE_WAIT_REWRITE;
    publish();
    switch_incr_fd(fd);
    propagate_add_listener(feed, NULL);
    if (rewrite_start() < 0) {
        server_log(LOG_WARNING, "Keel needs to enable the AOF but can't trigger a background AOF rewrite "
                                "operation. Check the above logs for more info about the error.");
        propagate_remove_listener(feed, NULL);
        close(A.fd);
        A.fd = -1;
        A.state = STATE_OFF;
        return -1;
    }
    return 0;
}

static void aof_stop(void) {
    if (A.rewrite_in_progress && snapshot_running() == SNAPSHOT_AOF) snapshot_abort("AOF turned off");
    A.rewrite_in_progress = 0;
    flush_buffer(1);
    if (A.fd >= 0) {
        fdatasync(A.fd);
        close(A.fd);
        A.fd = -1;
    }
    propagate_remove_listener(feed, NULL);
    A.state = STATE_OFF;
    A.rewrite_scheduled = 0;
    kstr_clear(A.buf);
    A.write_ok = 1;
    publish();
}

/* ---- start-up ----------------------------------------------------------- */

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read dir/<prefix>.manifest if there is one; -1 when it is invalid. */
static int load_manifest(void) {
    A.am = aof_manifest_new();
    if (!dir_exists(cfg_dirname)) return 0;
    char name[512], err[768];
    snprintf(name, sizeof(name), "%s.manifest", prefix());
    char *path = aof_path(cfg_dirname, name);
    int missing;
    aof_manifest *am = aof_manifest_load(path, &missing, err, sizeof(err));
    zfree(path);
    if (!am) {
        if (missing) return 0;
        server_log(LOG_WARNING, "*** FATAL AOF MANIFEST FILE ERROR *** %s", err);
        return -1;
    }
    aof_manifest_free(A.am);
    A.am = am;
    return 0;
}

/* An old single appendonly.aof in dir: move it into the directory as the
 * base (seq 1), as Redis 7.0 does when it meets a 6.x AOF. */
static int upgrade_legacy(void) {
    const char *legacy = prefix();
    if (!file_exists(legacy)) return 0;
    int upgrade = !dir_exists(cfg_dirname) || (!A.am->base && A.am->nincr == 0);
    if (!upgrade && A.am->base && A.am->nincr == 0 && !strcmp(A.am->base->name, legacy)) {
        char *p = aof_path(cfg_dirname, legacy);
        upgrade = !file_exists(p);
        zfree(p);
    }
    if (!upgrade) return 0;
    if (ensure_dir() < 0) return -1;
    aof_manifest_free(A.am);
    A.am = aof_manifest_new();
    A.am->base = zmalloc(sizeof(aof_file));
    A.am->base->name = zstrdup(legacy);
    A.am->base->seq = A.am->base_seq = 1;
    A.am->base->type = AOF_TYPE_BASE;
    if (persist_manifest(A.am) < 0) return -1;
    char *dst = aof_path(cfg_dirname, legacy);
    int r = rename(legacy, dst);
    zfree(dst);
    if (r < 0) {
        server_log(LOG_WARNING, "Error trying to move the old AOF file %s into dir %s: %s", legacy, cfg_dirname,
                   strerror(errno));
        return -1;
    }
    server_log(LOG_NOTICE, "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", legacy,
               cfg_dirname);
    return 0;
}

static int load_listed(const char *name, int last, const char *kind) {
    long long start = ustime();
    int r = aof_load_file(cfg_dirname, name, cfg_load_truncated, last);
    if (r == AOF_OK || r == AOF_EMPTY || (r == AOF_TRUNCATED && last)) {
        server_log(LOG_NOTICE, "DB loaded from %s file %s: %.3f seconds", kind, name, (double)(ustime() - start) / 1e6);
        return 0;
    }
    if (r == AOF_TRUNCATED) server_log(LOG_WARNING, "Fatal error: the truncated file is not the last file");
    if (r == AOF_NOT_EXIST) server_log(LOG_WARNING, "The AOF file %s listed in the manifest is missing", name);
    return -1;
}

/* A file the manifest lists must be there, empty or not (Redis refuses to
 * start without it: loading the others would lose its writes). */
static int listed_file_exists(const char *name) {
    if (aof_file_size(cfg_dirname, name) >= 0) return 1;
    server_log(LOG_WARNING, "Unable to obtain the AOF file %s length. stat: %s", name, strerror(errno));
    return 0;
}

static int listed_files_exist(void) {
    if (A.am->base && !listed_file_exists(A.am->base->name)) return 0;
    for (int i = 0; i < A.am->nincr; i++)
        if (!listed_file_exists(A.am->incr[i].name)) return 0;
    return 1;
}

/* The files of the manifest in order; their commands are not new writes. */
static int load_all(void) {
    propagate_set_enabled(0);
    int total = (A.am->base ? 1 : 0) + A.am->nincr, n = 0, failed = 0;
    if (A.am->base) failed = load_listed(A.am->base->name, ++n == total, "base") < 0;
    for (int i = 0; !failed && i < A.am->nincr; i++)
        failed = load_listed(A.am->incr[i].name, ++n == total, "incr") < 0;
    propagate_set_enabled(1);
    return failed ? -1 : 0;
}

int aof_load_at_startup(void) {
    if (!A.buf) A.buf = kstr_empty();
    if (load_manifest() < 0) return server.appendonly ? -1 : 0;
    if (!server.appendonly) return 0;
    if (upgrade_legacy() < 0) return -1;
    if (!A.am->base && A.am->nincr == 0) return 0;
    if (!listed_files_exist()) return -1;
    long long base;
    if (files_size(A.am, &base) == 0) return 0;
    long long start = ustime();
    loading_serve_clients(1);
    int rc = load_all();
    loading_serve_clients(0);
    if (rc < 0) return -1;
    A.current_size = files_size(A.am, &A.base_size);
    A.rewrite_base_size = A.base_size;
    server_log(LOG_NOTICE, "DB loaded from append only file: %.3f seconds", (double)(ustime() - start) / 1e6);
    return 1;
}

void aof_open_at_startup(void) {
    if (!A.buf) A.buf = kstr_empty();
    if (!A.am) A.am = aof_manifest_new();
    if (!server.appendonly) return;
    if (ensure_dir() < 0) server_startup_exit(1);
    if (!A.am->base && A.am->nincr == 0) {
        /* Nothing on disk yet: the base is the dataset as loaded (empty). */
        char *tmp = temp_base_path();
        A.rewrite_rdb_format = cfg_rdb_preamble;
        if (write_base_sync(tmp, cfg_rdb_preamble) < 0 || install_base(tmp) < 0) server_startup_exit(1);
        zfree(tmp);
        server_log(LOG_NOTICE, "Creating AOF base file %s on server start", A.am->base->name);
    }
    int created = A.am->nincr == 0;
    if (created) aof_manifest_new_incr(A.am, prefix());
    const char *incr = A.am->incr[A.am->nincr - 1].name;
    A.fd = open_incr(incr);
    if (A.fd < 0 || persist_manifest(A.am) < 0) server_startup_exit(1);
    server_log(LOG_NOTICE, "%s AOF incr file %s on server start", created ? "Creating" : "Opening", incr);
    A.current_size = files_size(A.am, &A.base_size);
    if (!A.rewrite_base_size) A.rewrite_base_size = A.base_size;
    A.state = STATE_ON;
    A.last_fsync_ms = server_mstime();
    propagate_add_listener(feed, NULL);
    publish();
}

/* DEBUG LOADAOF: the buffer written out, the dataset emptied and replaced
 * by what the files listed in the manifest on disk replay, as Redis does
 * (which exits when that fails; Keel answers an error and keeps the part
 * it loaded). Refused while a rewrite runs (the manifest is changing) and
 * when the manifest lists no file (Redis empties the dataset and exits;
 * Keel leaves the dataset alone). */
void aof_set_flush_sleep(long usec) { flush_sleep_us = usec; }

int aof_debug_reload(const char **err) {
    if (A.rewrite_in_progress) {
        *err = "ERR Background append only file rewriting in progress";
        return -1;
    }
    if (A.state != STATE_OFF) flush_buffer(1);
    aof_manifest_free(A.am);
    A.am = NULL;
    if (load_manifest() < 0) {
        *err = "ERR the AOF manifest is invalid, check server logs";
        return -1;
    }
    if (!A.am->base && A.am->nincr == 0) {
        *err = "ERR no AOF files to load (the dataset is left as it is)";
        return -1;
    }
    delete_history();
    snapshot_abort("DEBUG LOADAOF"); /* the keyspace is about to be replaced */
    db_empty_all();
    script_libraries_free(script_libraries_detach()); /* the AOF brings its own, as in Redis */
    propagate_set_enabled(0);
    int total = (A.am->base ? 1 : 0) + A.am->nincr, n = 0, failed = 0;
    if (A.am->base) failed = load_listed(A.am->base->name, ++n == total, "base") < 0;
    for (int i = 0; !failed && i < A.am->nincr; i++)
        failed = load_listed(A.am->incr[i].name, ++n == total, "incr") < 0;
    propagate_set_enabled(1);
    A.current_size = files_size(A.am, &A.base_size);
    publish();
    if (failed) {
        *err = "ERR Error loading the AOF, check server logs";
        return -1;
    }
    server_dirty = 0; /* what was read back is on disk already */
    server_log(LOG_WARNING, "Append Only File loaded by DEBUG LOADAOF");
    return 0;
}

/* ---- cron, shutdown, refusal -------------------------------------------- */

static void maybe_auto_rewrite(void) {
    if (A.state != STATE_ON || A.rewrite_in_progress || !cfg_auto_pct) return;
    if (A.current_size <= cfg_auto_min) return;
    long long now = server_mstime();
    if (A.consecutive_failures >= 3 && now < A.next_auto_rewrite_ms) return;
    long long base = A.rewrite_base_size ? A.rewrite_base_size : 1;
    long long growth = (A.current_size * 100 / base) - 100;
    if (growth < cfg_auto_pct) return;
    server_log(LOG_NOTICE, "Starting automatic rewriting of AOF on %lld%% growth", growth);
    if (rewrite_start() < 0 && A.consecutive_failures >= 3) {
        long long minutes = 1LL << (A.consecutive_failures - 3 < 6 ? A.consecutive_failures - 3 : 6);
        if (minutes > 60) minutes = 60;
        A.next_auto_rewrite_ms = now + minutes * 60000;
        server_log(LOG_WARNING, "Background AOF rewrite has repeatedly failed; the next automatic one waits %lld minutes",
                   minutes);
    }
}

void aof_cron(void) {
    if (A.state == STATE_OFF && !A.rewrite_scheduled) return;
    if (A.state != STATE_OFF) {
        if (!A.write_ok || kstr_len(A.buf)) flush_buffer(0);
        else maybe_fsync_everysec();
    }
    if (A.rewrite_scheduled && !A.rewrite_in_progress && (!cfg_rdb_preamble || snapshot_can_start()))
        rewrite_start();
    maybe_auto_rewrite();
}

void aof_shutdown(void) {
    if (A.state == STATE_OFF) return;
    flush_buffer(1);
    if (A.fd >= 0 && fdatasync(A.fd) == 0) server_log(LOG_NOTICE, "Calling fsync() on the AOF file.");
}

int aof_is_on(void) { return A.state != STATE_OFF; }
int aof_rewrite_in_progress(void) { return A.rewrite_in_progress; }
int aof_writing_initial(void) { return A.state == STATE_WAIT_REWRITE; }

kstr aof_info_enabled_fields(kstr s) {
    if (A.state == STATE_OFF) return s;
    return kstr_cat_printf(s,
                           "aof_current_size:%lld\r\n"
                           "aof_base_size:%lld\r\n"
                           "aof_pending_rewrite:%d\r\n"
                           "aof_buffer_length:%zu\r\n"
                           "aof_pending_bio_fsync:%d\r\n"
                           "aof_delayed_fsync:%lu\r\n",
                           A.current_size, A.base_size, A.rewrite_scheduled, kstr_len(A.buf),
                           atomic_load(&BG.pending), A.delayed_fsync);
}

/* ---- BGREWRITEAOF ------------------------------------------------------- */

static void bgrewriteaof_command(client *c) {
    if (A.rewrite_in_progress || A.rewrite_scheduled) {
        reply_error(c, "ERR Background append only file rewriting already in progress");
        return;
    }
    int r = rewrite_start();
    if (r < 0) {
        reply_error(c, "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
                       "information.");
        return;
    }
    reply_status(c, r == 1 ? "Background append only file rewriting scheduled"
                           : "Background append only file rewriting started");
}

command aof_commands[] = {
    {"bgrewriteaof", bgrewriteaof_command, 1, "admin noscript no_async_loading", 0, 0, 0, "server", "1.0.0",
     "Asynchronously rewrites the append-only file to disk.", NULL},
    {0}};

/* ---- configuration ------------------------------------------------------ */

static int apply_appendonly(const char **err) {
    if (!server.el) return 1; /* start-up: aof_open_at_startup acts */
    if (server.appendonly && A.state == STATE_OFF) {
        if (aof_start() < 0) {
            *err = "Unable to turn on AOF. Check server logs.";
            return 0;
        }
    } else if (!server.appendonly && A.state != STATE_OFF) {
        aof_stop();
    }
    return 1;
}

static int apply_filename(const char **err) {
    if (strchr(server.appendfilename, '/') || !server.appendfilename[0]) {
        *err = "appendfilename can't be a path, just a filename";
        return 0;
    }
    return 1;
}

static int apply_dirname(const char **err) {
    if (strchr(cfg_dirname, '/') || !cfg_dirname[0]) {
        *err = "appenddirname can't be a path, just a dirname";
        return 0;
    }
    return 1;
}

config_entry aof_configs[] = {
    CONFIG_BOOL("appendonly", &server.appendonly, "no", CF_DENY_LOADING, apply_appendonly),
    CONFIG_STRING("appendfilename", &server.appendfilename, "appendonly.aof", CF_IMMUTABLE, apply_filename),
    CONFIG_STRING("appenddirname", &cfg_dirname, "appendonlydir", CF_IMMUTABLE, apply_dirname),
    CONFIG_ENUM("appendfsync", &cfg_fsync, "everysec", fsync_enum, 0, NULL),
    CONFIG_BOOL("no-appendfsync-on-rewrite", &cfg_no_fsync_on_rewrite, "no", 0, NULL),
    CONFIG_BOOL("aof-load-truncated", &cfg_load_truncated, "yes", 0, NULL),
    CONFIG_BOOL("aof-use-rdb-preamble", &cfg_rdb_preamble, "yes", 0, NULL),
    CONFIG_BOOL("aof-timestamp-enabled", &aof_cfg_timestamp, "no", 0, NULL),
    CONFIG_BOOL("aof-rewrite-incremental-fsync", &aof_rewrite_incremental_fsync, "yes", 0, NULL),
    CONFIG_INT("auto-aof-rewrite-percentage", &cfg_auto_pct, "100", 0, INT_MAX, 0, NULL),
    CONFIG_MEMORY("auto-aof-rewrite-min-size", &cfg_auto_min, "64mb", 0, LLONG_MAX, 0, NULL),
    CONFIG_END};
