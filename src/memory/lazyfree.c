/*
 * lazyfree: freeing large values in a background thread.
 *
 * Freeing a hash of a million fields takes a million free() calls, tens of
 * milliseconds during which every client waits. The keyspace removes the
 * key at once (it is gone for everyone from that instant); only the
 * release of the memory is handed to one worker thread.
 *
 * What goes to the thread: values whose free effort (elements to release
 * one by one) exceeds LAZYFREE_THRESHOLD, when the reason allows it:
 * UNLINK always, DEL / expiry / eviction / server-side deletes when the
 * matching lazyfree-lazy-* option is set, and whole databases for
 * FLUSHALL/FLUSHDB ASYNC. Single-block values (embedded and raw strings,
 * listpacks, intsets) cost one free() whatever their size, so they are
 * always freed on the spot: the hand-off would cost more than it saves.
 *
 * Why this is safe: once unlinked, nothing in the main thread can reach
 * the value, the allocator is thread-safe, and zmalloc's counter is an
 * atomic. used_memory keeps counting a pending value until the thread has
 * really freed it, so maxmemory decisions stay truthful (eviction waits a
 * little for the thread when nothing else can be evicted).
 *
 * One thread, one FIFO under a mutex: jobs are rare and large, so
 * contention is irrelevant and ordering makes lazyfree_wait_idle simple.
 *
 * The thread also runs allocator purges for the defragmenter: returning a
 * few hundred MB of emptied pages to the system is one long madvise sweep
 * (about 0.1 s per GB), a stall the main thread must not take. jemalloc
 * 5.3 holds only its decay lock during the sweep, and its allocation paths
 * try-lock that one (skipping decay when it is busy), so the main thread
 * does not wait for the purge.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "core/server.h"
#include "types/types.h"
#include "lib/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define LAZYFREE_THRESHOLD 64

enum { JOB_ENTRY, JOB_TABLES, JOB_PURGE };

typedef struct lazy_job {
    struct lazy_job *next;
    int kind;
    void *a;        /* entry, or a detached database (db_detach) */
    size_t objects; /* as counted by lazyfree_pending_objects */
} lazy_job;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_nonempty = PTHREAD_COND_INITIALIZER;
static lazy_job *queue_head, *queue_tail;
static int thread_started;

static _Atomic size_t pending_objects;
static _Atomic size_t freed_objects;
static _Atomic size_t jobs_in_flight; /* queued + being worked on */
static atomic_int purge_queued;        /* at most one purge waiting */

size_t lazyfree_pending_objects(void) { return atomic_load(&pending_objects); }
size_t lazyfree_freed_objects(void) { return atomic_load(&freed_objects); }

static void run_job(lazy_job *j) {
    if (j->kind == JOB_ENTRY) {
        entry_free(j->a);
    } else if (j->kind == JOB_PURGE) {
        atomic_store(&purge_queued, 0);
        zmalloc_purge();
    } else {
        db_free_detached(j->a);
    }
    atomic_fetch_sub(&pending_objects, j->objects);
    atomic_fetch_add(&freed_objects, j->objects);
    zfree(j);
    atomic_fetch_sub(&jobs_in_flight, 1);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (!queue_head) pthread_cond_wait(&queue_nonempty, &queue_lock);
        lazy_job *j = queue_head;
        queue_head = j->next;
        if (!queue_head) queue_tail = NULL;
        pthread_mutex_unlock(&queue_lock);
        run_job(j);
    }
    return NULL;
}

void lazyfree_init(void) {
    if (thread_started) return;
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, worker, NULL) == 0) thread_started = 1;
    else server_log(LOG_WARNING, "Cannot start the lazy free thread: freeing synchronously");
    pthread_attr_destroy(&attr);
}

/* Without a thread (creation failed) jobs run inline: slower, still correct. */
static void submit(int kind, void *a, size_t objects) {
    lazy_job *j = zmalloc(sizeof(*j));
    j->next = NULL;
    j->kind = kind;
    j->a = a;
    j->objects = objects;
    atomic_fetch_add(&pending_objects, objects);
    atomic_fetch_add(&jobs_in_flight, 1);
    if (!thread_started) {
        run_job(j);
        return;
    }
    pthread_mutex_lock(&queue_lock);
    if (queue_tail) queue_tail->next = j;
    else queue_head = j;
    queue_tail = j;
    pthread_cond_signal(&queue_nonempty);
    pthread_mutex_unlock(&queue_lock);
}

static int single_block_value(const entry *e) {
    int enc = entry_encoding(e);
    if (entry_type(e) == TYPE_STRING) return 1;
    return enc == ENC_LISTPACK || enc == ENC_INTSET;
}

/* Roughly the number of free() calls releasing the value takes. */
static size_t free_effort(const entry *e) {
    if (single_block_value(e)) return 1;
    const type_ops *ops = type_ops_for(entry_type(e));
    if (!ops || !ops->length) return 1;
    return ops->length(entry_encoding(e), entry_ptr(e));
}

static int lazy_allowed(int reason) {
    switch (reason) {
    case FREE_USER_UNLINK: return 1;
    case FREE_USER_DEL: return server.lazyfree_lazy_user_del;
    case FREE_EXPIRE: return server.lazyfree_lazy_expire;
    case FREE_EVICT: return server.lazyfree_lazy_eviction;
    case FREE_SERVER_DEL: return server.lazyfree_lazy_server_del;
    default: return 0;
    }
}

void lazyfree_free_entry(entry *e, int reason) {
    if (lazy_allowed(reason) && free_effort(e) > LAZYFREE_THRESHOLD) submit(JOB_ENTRY, e, 1);
    else entry_free(e);
}

void lazyfree_empty_db(db *d, int async) {
    size_t keys = db_size(d);
    if (!async || keys == 0) {
        db_empty(d);
        return;
    }
    db *old = db_detach(d);
    defrag_reset_scan();
    submit(JOB_TABLES, old, keys);
}

/* Return the allocator's unused dirty pages to the system, off the main
 * thread. Requests made while one is still queued are merged into it. */
void lazyfree_purge_async(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&purge_queued, &expected, 1)) return;
    submit(JOB_PURGE, NULL, 0);
}

void memory_shutdown(void) { lazyfree_wait_idle(5 * 1000000LL); }

void lazyfree_wait_idle(long long max_us) {
    long long start = ustime();
    while (atomic_load(&jobs_in_flight) && ustime() - start < max_us) usleep(200);
}
