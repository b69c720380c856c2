/* See snapshot.h for the design, docs/ARCHITECTURE.md for the argument. */
#include "persist/snapshot.h"

#include "core/db.h"
#include "core/server.h"
#include "lib/kstr.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "persist/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int snapshot_key_save_delay;
int snapshot_busy_cpu_percent = 20;

/* Share of the main thread's CPU time the save may take while clients
 * are busy: the walk's slices plus the keys that writes save first (hooks)
 * get this share of the thread's CPU time, measured with the thread's own
 * clock (on a loaded machine wall time would count time the thread was
 * not running). When no command has run for IDLE_AFTER_US the walk takes
 * whole slices of SLICE_MAX_US, the longest a client arriving then waits. */
#define SLICE_MAX_US 1000
#define SLICE_MIN_US 20
#define IDLE_AFTER_US 20000

enum phase { PHASE_IDLE, PHASE_WALK, PHASE_UNMARK };

/* One database of the snapshot ("slot"): which keyspace database holds its
 * tables now (SWAPDB moves them), or the tables FLUSHDB handed over. */
typedef struct slot {
    db *holder;    /* detached tables, or NULL: keyspace db db_of_slot */
    size_t cursor;
    int started, scanned, done;
} slot;

static struct {
    enum phase phase;
    snapshot_job job;
    char *tmp_path, *final_path;
    int fd;
    rdb_writer *w;
    int failed;        /* a write failed: the walk stops at the next slice */
    int fail_errno;
    int stream_db;     /* database of the last SELECTDB written, -1 none */
    int nslots;
    slot *slots;
    int *slot_of_db, *db_of_slot;
    int cur;           /* slot being walked */
    long long keys_total, keys_done, skipped;
    long long timer_id;
    long long last_slice_end_us, last_numcommands, last_command_us;
    long long last_slice_end_cpu, hook_us; /* thread CPU at the last slice end; hook time since */
    double delay_credit;
    /* The file sync on its own thread. */
    int syncing;
    pthread_t syncer;
    atomic_int sync_finished;
    int sync_ok;
    char sync_why[256];
} snap = {.fd = -1, .timer_id = -1};

static long long now_us(void) { return ustime(); }

static long long thread_cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- Slots: which tables hold which snapshot database ---- */

static void slots_init(void) {
    int n = db_count();
    if (!snap.slots) {
        snap.slots = zcalloc(sizeof(slot) * (size_t)n);
        snap.slot_of_db = zcalloc(sizeof(int) * (size_t)n);
        snap.db_of_slot = zcalloc(sizeof(int) * (size_t)n);
    }
    snap.nslots = n;
    for (int i = 0; i < n; i++) {
        snap.slots[i] = (slot){0};
        snap.slot_of_db[i] = snap.db_of_slot[i] = i;
    }
    snap.cur = 0;
}

static db *slot_db(int s) { return snap.slots[s].holder ? snap.slots[s].holder : db_get(snap.db_of_slot[s]); }

/* Tables kept from a FLUSHDB: their keys go to the lazy free thread. */
static void free_holders(void) {
    for (int i = 0; i < snap.nslots; i++) {
        if (!snap.slots[i].holder) continue;
        memory_empty_db(snap.slots[i].holder, 1);
        db_free_detached(snap.slots[i].holder);
        snap.slots[i].holder = NULL;
    }
}

/* ---- Writing keys ---- */

static void note_failure(void) {
    if (snap.failed) return;
    snap.failed = 1;
    snap.fail_errno = errno ? errno : EIO;
}

/* Writes e of slot s to w, whose last SELECTDB is *stream_db. */
static void write_entry_to(rdb_writer *w, int *stream_db, int s, const entry *e) {
    if (snap.failed) return;
    if (rdb_value_type(e) < 0) { /* a type the writer cannot encode (none today) */
        snap.skipped++;
        return;
    }
    if (*stream_db != s) {
        db *d = slot_db(s);
        if (rdb_write_db_start(w, s, db_size(d), db_expires_size(d)) != 0) {
            note_failure();
            return;
        }
        *stream_db = s;
    }
    if (rdb_write_key(w, e) != 0) {
        note_failure();
        return;
    }
    snap.keys_done++;
}

/* ---- Long values: written across slices ----
 * A value of many elements (a hash of a million fields) takes hundreds of
 * milliseconds to serialize; written in one go it would stall every
 * client that long. Such a value is written by a coroutine: a thread that
 * runs only while the main thread waits for it (strict alternation under
 * a mutex, so the two never touch the keyspace at the same time), and
 * that hands the turn back whenever the writer's yield point (every 8 KB
 * of output) finds the slice's deadline passed. Between its turns the
 * main thread serves clients.
 *
 * While a long value is half written the file cannot take another key:
 * keys that commands are about to change (the hook) go to a side buffer
 * instead, appended to the file once the long value is complete. A
 * command that changes the long value itself first lets the coroutine
 * finish it: the only stall left, and only for writers of that key. Long
 * keys met by the walk wait, unmarked, in a small pending list, so that
 * the hook still sees them. Active defrag leaves entries where they are
 * while any of this is in flight (snapshot_pins_entries). */
#define PENDING_MAX 64

static struct {
    int active;            /* the coroutine is writing e */
    int coroutine_turn;    /* whose turn: 1 the coroutine, 0 the main thread */
    int finished;
    long long deadline_us; /* the coroutine yields after it; 0: never */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int slot;
    entry *e;
    entry *pending[PENDING_MAX];
    int pending_slot[PENDING_MAX];
    int npending;
    rdb_writer *side;      /* keys written meanwhile, appended after e */
    kstr side_buf;
    int side_db;
} lv = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .side_db = -1};

static int side_sink(void *ctx, const void *buf, size_t len) {
    (void)ctx;
    lv.side_buf = kstr_cat_len(lv.side_buf ? lv.side_buf : kstr_empty(), buf, len);
    return 0;
}

/* Keys are written to the file, or to the side buffer while a long value
 * is half written there. */
static void write_entry(int s, const entry *e) {
    if (!lv.active) {
        write_entry_to(snap.w, &snap.stream_db, s, e);
        return;
    }
    if (!lv.side) lv.side = rdb_writer_new(side_sink, NULL);
    write_entry_to(lv.side, &lv.side_db, s, e);
}

/* In the coroutine, from the writer: give the turn back once past the
 * deadline, and wait for the next one. */
static void lv_yield(void *ctx) {
    (void)ctx;
    if (!lv.deadline_us) return;
    /* rdb-key-save-delay paces long values by yield points (8 KB each),
     * as it paces the walk by keys: tests see a value half written. */
    if (snapshot_key_save_delay <= 0 && now_us() < lv.deadline_us) return;
    pthread_mutex_lock(&lv.mu);
    lv.coroutine_turn = 0;
    pthread_cond_broadcast(&lv.cv);
    while (!lv.coroutine_turn) pthread_cond_wait(&lv.cv, &lv.mu);
    pthread_mutex_unlock(&lv.mu);
}

static void *lv_thread(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lv.mu);
    while (!lv.coroutine_turn) pthread_cond_wait(&lv.cv, &lv.mu);
    pthread_mutex_unlock(&lv.mu);
    write_entry_to(snap.w, &snap.stream_db, lv.slot, lv.e);
    pthread_mutex_lock(&lv.mu);
    lv.finished = 1;
    lv.coroutine_turn = 0;
    pthread_cond_broadcast(&lv.cv);
    pthread_mutex_unlock(&lv.mu);
    return NULL;
}

/* The long value is complete: mark it, then move the side buffer in. */
static void lv_complete(void) {
    pthread_join(lv.th, NULL);
    lv.active = 0;
    rdb_writer_set_yield(snap.w, NULL, NULL);
    entry_set_snapmark(lv.e, 1);
    lv.e = NULL;
    if (!lv.side) return;
    if (rdb_writer_flush(lv.side) != 0) note_failure();
    if (lv.side_buf && kstr_len(lv.side_buf)) {
        if (rdb_writer_append(snap.w, lv.side_buf, kstr_len(lv.side_buf)) != 0) note_failure();
        snap.stream_db = lv.side_db;
        kstr_clear(lv.side_buf);
    }
    lv.side_db = -1;
}

/* Main thread: the coroutine runs until the deadline (0: to the end).
 * 1 when the value is complete. */
static int lv_run(long long deadline_us) {
    pthread_mutex_lock(&lv.mu);
    lv.deadline_us = deadline_us;
    lv.coroutine_turn = 1;
    pthread_cond_broadcast(&lv.cv);
    while (lv.coroutine_turn) pthread_cond_wait(&lv.cv, &lv.mu);
    int done = lv.finished;
    pthread_mutex_unlock(&lv.mu);
    if (done) lv_complete();
    return done;
}

static int lv_start(int s, entry *e, long long deadline_us) {
    lv.slot = s;
    lv.e = e;
    lv.finished = 0;
    lv.coroutine_turn = 0;
    rdb_writer_set_yield(snap.w, lv_yield, NULL);
    if (pthread_create(&lv.th, NULL, lv_thread, NULL) != 0) {
        rdb_writer_set_yield(snap.w, NULL, NULL); /* no thread: write it now */
        write_entry_to(snap.w, &snap.stream_db, s, e);
        entry_set_snapmark(e, 1);
        lv.e = NULL;
        return 1;
    }
    lv.active = 1;
    return lv_run(deadline_us);
}

/* Write pending long values of the walk until the deadline, each turn
 * of the coroutine counting as a key of the pacing budget; 1 when none is
 * left (the walk may go on). */
static int lv_drain(long long deadline_us, long long *keys_left) {
    for (;;) {
        if (lv.active) {
            if (*keys_left <= 0) return 0;
            (*keys_left)--;
            if (!lv_run(deadline_us)) return 0;
        }
        if (lv.npending == 0) return 1;
        if (snap.failed) {
            lv.npending = 0;
            return 1;
        }
        if (*keys_left <= 0) return 0;
        (*keys_left)--;
        lv.npending--;
        if (!lv_start(lv.pending_slot[lv.npending], lv.pending[lv.npending], deadline_us)) return 0;
        if (now_us() >= deadline_us) return lv.npending == 0;
    }
}

static int lv_take_pending(const entry *e) {
    for (int i = 0; i < lv.npending; i++) {
        if (lv.pending[i] != e) continue;
        lv.pending[i] = lv.pending[--lv.npending];
        lv.pending_slot[i] = lv.pending_slot[lv.npending];
        return 1;
    }
    return 0;
}

/* Stop everything in flight (the job ends): the value being written is
 * finished, since the coroutine cannot be stopped half-way. */
static void lv_reset(void) {
    if (lv.active) lv_run(0);
    lv.npending = 0;
    if (lv.side) rdb_writer_free(lv.side);
    lv.side = NULL;
    kstr_free(lv.side_buf);
    lv.side_buf = NULL;
    lv.side_db = -1;
}

int snapshot_pins_entries(void) { return lv.active || lv.npending > 0; }

/* db.c: e (in keyspace database d) is about to change or vanish. */
static void hook_before_change(db *d, entry *e) {
    if (snap.phase == PHASE_WALK && entry_snapmark(e) == 0 && lv.active && lv.e == e) {
        lv_run(0); /* a writer of the long value in progress waits for it */
    } else if (snap.phase == PHASE_WALK && entry_snapmark(e) == 0) {
        lv_take_pending(e);
        /* The command waits for this key: written without trying LZF,
         * which costs several microseconds per KB (more than the command
         * itself) and gains nothing on incompressible values; the walk
         * compresses the rest as rdbcompression says. */
        long long t = now_us();
        int compression = rdb_compression;
        rdb_compression = 0;
        write_entry(snap.slot_of_db[db_id(d)], e);
        rdb_compression = compression;
        entry_set_snapmark(e, 1);
        snap.hook_us += now_us() - t;
    } else if (snap.phase != PHASE_WALK) {
        entry_set_snapmark(e, 0); /* what the mark reset pass would do */
    }
}

/* db.c: d is about to be emptied. Its keys not written yet are part of
 * the snapshot: keep its contents and walk them. */
static int hook_wants_contents(db *d) {
    if (snap.phase != PHASE_WALK || db_get(db_id(d)) != d) return 0;
    int s = snap.slot_of_db[db_id(d)];
    return !snap.slots[s].done && !snap.slots[s].holder;
}

static void hook_keep_contents(db *d, db *old) { snap.slots[snap.slot_of_db[db_id(d)]].holder = old; }

static void hook_swapped(int a, int b) {
    if (snap.phase == PHASE_IDLE) return;
    int sa = snap.slot_of_db[a], sb = snap.slot_of_db[b];
    snap.slot_of_db[a] = sb;
    snap.slot_of_db[b] = sa;
    snap.db_of_slot[sb] = a;
    snap.db_of_slot[sa] = b;
}

static const db_snapshot_hooks hooks = {
    .before_change = hook_before_change,
    .wants_contents = hook_wants_contents,
    .keep_contents = hook_keep_contents,
    .swapped = hook_swapped,
};

void snapshot_init(void) { db_set_snapshot_hooks(&hooks); }

/* ---- The walk ---- */

typedef struct walk_ctx {
    int slot;
    long long budget_keys;
} walk_ctx;

static void walk_one(void *priv, entry *e) {
    walk_ctx *wc = priv;
    if (snap.phase == PHASE_WALK) {
        if (entry_snapmark(e)) return;
        if (rdb_value_is_long(e) && lv.npending < PENDING_MAX) {
            /* A scan may visit an entry twice: pend it once. */
            for (int i = 0; i < lv.npending; i++)
                if (lv.pending[i] == e) return;
            lv.pending[lv.npending] = e;
            lv.pending_slot[lv.npending++] = wc->slot;
            return;
        }
        write_entry(wc->slot, e);
        entry_set_snapmark(e, 1);
        wc->budget_keys--;
    } else {
        entry_set_snapmark(e, 0);
    }
}

/* Walk slot s for a while; 1 when the slot is finished. */
static int walk_slot(int s, long long deadline_us, long long *keys_left) {
    slot *sl = &snap.slots[s];
    db *d = slot_db(s);
    if (!sl->started) {
        sl->started = 1;
        sl->cursor = 0;
        if (db_size(d) == 0) return 1;
    }
    walk_ctx wc = {s, *keys_left};
    int steps = 0, finished = 0;
    for (;;) {
        if (!lv_drain(deadline_us, &wc.budget_keys)) break; /* long values first */
        if (sl->scanned) {
            finished = 1;
            break;
        }
        /* A failed job stops walking; its mark reset pass goes on. */
        if (wc.budget_keys <= 0 || (snap.phase == PHASE_WALK && snap.failed)) break;
        sl->cursor = db_scan(d, sl->cursor, walk_one, &wc);
        if (sl->cursor == 0) sl->scanned = 1;
        else if ((++steps & 7) == 0 && now_us() >= deadline_us) break;
    }
    *keys_left = wc.budget_keys;
    return finished;
}

static void *sync_thread(void *arg);
static void finish_walk(void);
static void fail_job(const char *why, int aborted);

static long long slice_budget_us(void) {
    long long now = now_us();
    if (server.stat.numcommands != snap.last_numcommands) {
        snap.last_numcommands = server.stat.numcommands;
        snap.last_command_us = now;
    }
    long long hooks = snap.hook_us;
    snap.hook_us = 0;
    if (now - snap.last_command_us > IDLE_AFTER_US) return SLICE_MAX_US;
    long long other = thread_cpu_us() - snap.last_slice_end_cpu - hooks;
    int share = snapshot_busy_cpu_percent;
    long long budget = share >= 100 ? SLICE_MAX_US : other * share / (100 - share) - hooks;
    return budget < SLICE_MIN_US ? SLICE_MIN_US : budget > SLICE_MAX_US ? SLICE_MAX_US : budget;
}

/* rdb-key-save-delay: keys the walk may write now. */
static long long paced_keys(void) {
    if (snap.phase != PHASE_WALK || snapshot_key_save_delay <= 0) return 1LL << 62;
    long long now = now_us();
    snap.delay_credit += (double)(now - snap.last_slice_end_us) / snapshot_key_save_delay;
    if (snap.delay_credit > 1000) snap.delay_credit = 1000;
    long long n = (long long)snap.delay_credit;
    snap.delay_credit -= (double)n;
    return n;
}

static void run_slice(void) {
    if (snap.phase == PHASE_IDLE) return;
    long long start = now_us();
    long long deadline = start + slice_budget_us();
    long long keys_left = paced_keys();
    while (snap.cur < snap.nslots && keys_left > 0 && !snap.failed) {
        if (walk_slot(snap.cur, deadline, &keys_left)) snap.cur++;
        if (now_us() >= deadline) break;
    }
    /* A scan step writes a whole bucket, so a paced walk may write more
     * keys than it had credit for: the debt delays the next keys, so that
     * rdb-key-save-delay paces N keys over N delays, as Redis's does. */
    if (keys_left < 0) snap.delay_credit += (double)keys_left;
    snap.last_slice_end_us = now_us();
    snap.last_slice_end_cpu = thread_cpu_us();
    if (snap.phase == PHASE_WALK && snap.failed) {
        char why[300];
        snprintf(why, sizeof(why), "Write error saving DB on disk: %s", strerror(snap.fail_errno));
        fail_job(why, 0);
    } else if (snap.cur >= snap.nslots) {
        if (snap.phase == PHASE_WALK) finish_walk();
        else snap.phase = PHASE_IDLE;
    }
}

/* ---- Completion ---- */

static void start_unmark(void) {
    db_new_entry_mark = 0;
    snap.phase = PHASE_UNMARK;
    slots_init();
}

static void release_job(void) {
    if (snap.w) rdb_writer_free(snap.w);
    snap.w = NULL;
    zfree(snap.tmp_path);
    zfree(snap.final_path);
    snap.tmp_path = snap.final_path = NULL;
}

static void deliver(int ok, int aborted, const char *why) {
    snapshot_job job = snap.job;
    snap.job = (snapshot_job){0};
    if (job.done) job.done(job.ctx, ok, aborted, why);
}

static void fail_job(const char *why, int aborted) {
    lv_reset();
    server_log(aborted ? LOG_NOTICE : LOG_WARNING, "Snapshot %s: %s", aborted ? "stopped" : "failed", why);
    if (snap.fd >= 0) close(snap.fd);
    snap.fd = -1;
    if (snap.tmp_path) unlink(snap.tmp_path);
    free_holders();
    release_job();
    start_unmark();
    deliver(0, aborted, why);
}

static void finish_walk(void) {
    lv_reset(); /* nothing in flight: every slot is done */
    if (snap.skipped)
        server_log(LOG_WARNING, "%lld key(s) of a type Keel cannot write NOT saved", snap.skipped);
    if (rdb_write_footer(snap.w) != 0) {
        char why[300];
        snprintf(why, sizeof(why), "Write error saving DB on disk: %s", strerror(errno));
        fail_job(why, 0);
        return;
    }
    free_holders();
    rdb_writer_free(snap.w);
    snap.w = NULL;
    start_unmark();
    snap.syncing = 1;
    atomic_store(&snap.sync_finished, 0);
    if (pthread_create(&snap.syncer, NULL, sync_thread, NULL) != 0) sync_thread(NULL);
}

/* fsync the file, rename it into place, fsync the directory: off the main
 * thread, since syncing a large file takes seconds. */
static void *sync_thread(void *arg) {
    (void)arg;
    const char *op = NULL;
    if (!snap.job.no_fsync && fsync(snap.fd) != 0) op = "fsync";
    if (close(snap.fd) != 0 && !op) op = "close";
    snap.fd = -1;
    if (!op && snap.final_path) {
        if (rename(snap.tmp_path, snap.final_path) != 0) {
            op = "rename";
        } else {
            char dir[1024];
            snprintf(dir, sizeof(dir), "%s", snap.final_path);
            int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
            if (dfd < 0 || fsync(dfd) != 0) op = "fsync of the directory";
            if (dfd >= 0) close(dfd);
        }
    }
    snap.sync_ok = op == NULL;
    if (op) snprintf(snap.sync_why, sizeof(snap.sync_why), "Write error saving DB on disk(%s): %s", op, strerror(errno));
    else snap.sync_why[0] = '\0';
    atomic_store(&snap.sync_finished, 1);
    return NULL;
}

static void collect_sync(int wait) {
    if (!snap.syncing) return;
    if (!wait && !atomic_load(&snap.sync_finished)) return;
    pthread_join(snap.syncer, NULL);
    snap.syncing = 0;
    if (!snap.sync_ok && snap.tmp_path) unlink(snap.tmp_path);
    release_job();
    if (!snap.sync_ok) server_log(LOG_WARNING, "%s", snap.sync_why);
    deliver(snap.sync_ok, 0, snap.sync_ok ? NULL : snap.sync_why);
}

static long long snapshot_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    run_slice();
    collect_sync(0);
    if (snap.phase == PHASE_IDLE && !snap.syncing) {
        snap.timer_id = -1;
        return -1;
    }
    return snap.phase == PHASE_IDLE ? 1 : 0;
}

void snapshot_cron(void) {
    run_slice();
    collect_sync(0);
}

/* ---- Starting and stopping ---- */

int snapshot_can_start(void) { return snap.phase == PHASE_IDLE && !snap.syncing; }

int snapshot_running(void) {
    if (snap.phase == PHASE_WALK || snap.syncing) return snap.job.kind ? snap.job.kind : SNAPSHOT_RDB;
    return SNAPSHOT_NONE;
}

static int open_target(const snapshot_job *job, char *err, size_t errlen) {
    int fd = open(job->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        char cwd[1024];
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                 job->tmp_path, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        server_log(LOG_WARNING, "%s", err);
    }
    return fd;
}

static int fd_sink(void *ctx, const void *buf, size_t len) {
    (void)ctx;
    return rdb_fd_sink(&snap.fd, buf, len);
}

int snapshot_start(const snapshot_job *job, char *err, size_t errlen) {
    if (!snapshot_can_start()) {
        snprintf(err, errlen, "a snapshot is already in progress");
        return -1;
    }
    int fd = open_target(job, err, errlen);
    if (fd < 0) return -1;
    snap.fd = fd;
    snap.job = *job;
    snap.tmp_path = zstrdup(job->tmp_path);
    snap.final_path = job->final_path ? zstrdup(job->final_path) : NULL;
    snap.job.tmp_path = snap.tmp_path;
    snap.job.final_path = snap.final_path;
    snap.w = rdb_writer_new(fd_sink, NULL);
    snap.failed = 0;
    snap.stream_db = -1;
    snap.keys_done = 0;
    snap.skipped = 0;
    snap.keys_total = 0;
    for (int i = 0; i < db_count(); i++) snap.keys_total += (long long)db_size(db_get(i));
    snap.delay_credit = 0;
    snap.last_slice_end_us = now_us();
    snap.last_numcommands = server.stat.numcommands;
    snap.last_command_us = snap.last_slice_end_us;
    snap.last_slice_end_cpu = thread_cpu_us();
    snap.hook_us = 0;
    slots_init();
    /* From here every existing key (mark 0) is "not written yet", every
     * new entry "not part of this snapshot" (mark 1). */
    db_new_entry_mark = 1;
    snap.phase = PHASE_WALK;
    if ((job->aof_base ? rdb_write_header_aof(snap.w) : rdb_write_header(snap.w)) != 0) note_failure();
    if (snap.timer_id < 0) snap.timer_id = ev_add_timer(server.el, 0, snapshot_timer, NULL);
    return 0;
}

void snapshot_abort(const char *why) {
    if (snap.syncing) collect_sync(1);
    if (snap.phase == PHASE_WALK) fail_job(why, 1);
    /* Finish the mark reset now: whoever stops a snapshot is about to
     * replace tables (a load) or exit, and tables installed under a
     * running reset pass could keep stale marks. */
    while (snap.phase == PHASE_UNMARK) {
        long long keys = 1LL << 62;
        if (walk_slot(snap.cur, 1LL << 62, &keys)) snap.cur++;
        if (snap.cur >= snap.nslots) snap.phase = PHASE_IDLE;
    }
}

/* ---- Figures ---- */

size_t snapshot_buffer_bytes(void) {
    size_t n = snap.w ? rdb_writer_buffered(snap.w) : 0;
    if (lv.side) n += rdb_writer_buffered(lv.side);
    if (lv.side_buf) n += kstr_len(lv.side_buf);
    return n;
}
long long snapshot_keys_processed(void) { return snap.phase == PHASE_WALK ? snap.keys_done : 0; }
long long snapshot_keys_total(void) { return snap.phase == PHASE_WALK ? snap.keys_total : 0; }
