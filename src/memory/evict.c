/*
 * evict: victim selection and maxmemory enforcement. What the access bits
 * of an entry mean (LRU stamps, LFU counters) is access.c's business; this
 * file only asks for a victim score.
 *
 * Selection is approximated as in Redis: each round samples
 * maxmemory-samples keys per database (from the expires index for
 * volatile-* policies) and merges them into a pool of the 16 best
 * candidates seen so far; the best one is evicted. The pool persists
 * across rounds and commands, so good candidates found earlier are not
 * forgotten; it holds key copies, never entry pointers (entries move and
 * die), and every candidate is looked up again before it is evicted.
 * Two things differ from Redis, both cheap and both measured to matter:
 *   - Scores do not go stale with time. An LRU score is the (reversed)
 *     access time, not the idle time when sampled, so a candidate sampled
 *     a while ago compares fairly with one sampled now (LFU: except for
 *     keys idle longer than lfu-decay-time, see access_lfu_keep_value).
 *   - A candidate is re-scored when it is picked: a key read since it
 *     was sampled (LRU), or whose counter grew (LFU), goes back into the
 *     pool at its real rank instead of being evicted as if still idle.
 * Ties (same LFU counter and access time) go to the candidate that
 * entered the pool first, the one that has waited longest.
 *
 * LFU adds a newcomer ring. Under LFU the victims are nearly all keys
 * still at their initial counter, created recently and never read since;
 * they are a small share of the keyspace, and five random samples a
 * round find one too rarely, so the pool runs dry of them and evicts
 * keys that had been read (measured: maxmemory-samples 10 gained 0.008
 * hit ratio at a cache of 10% of the keys). The ring is a FIFO of the
 * names of the keys created last (one slot per 12 keys, key names up
 * to 22 bytes; longer ones are left to sampling); each round its oldest
 * entry joins the pool beside the random samples. A newcomer read in the
 * meantime scores like any read key and stays; one never read is the
 * oldest key at the initial counter, the victim exact LFU picks. One per
 * round keeps the ring a delay line as long as the ring (two per round
 * drained it and fed the pool keys too young to judge: -0.006). Cost:
 * 24 bytes per slot, 2 bytes per key (about 1.2% of a cache of 100-byte
 * values), counted in used_memory; a slot per 4 keys measured worse
 * (-0.002), per 6, 8 and 16 the same within noise. With the ghost table,
 * Keel under LFU holds about 2% fewer keys than under LRU for the same
 * maxmemory (bench/eviction's "keys held"); shrinking the ghost table to
 * a slot per 8 keys gave back 0.001 at 30% and lost 0.004 at 10%.
 * Keys created by MOVE or COPY ... DB to another
 * database are not noted (the hook does not say which database).
 *
 * Time: one command may evict for at most the time the tenacity allows
 * (500 us at the default 10). When that is not enough, an event-loop
 * timer keeps evicting between client events, and the command runs
 * anyway (used memory is moving down). Only when nothing can be evicted
 * are denyoom commands refused.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "core/server.h"
#include "lib/util.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define POOL_SIZE 16
#define SAMPLES_MAX 64

/* ---- policies ------------------------------------------------------- */

const char *evict_policy_name(int p) {
    static const char *names[] = {"noeviction",   "allkeys-lru",  "allkeys-lfu",     "allkeys-random",
                                  "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"};
    return p >= 0 && p < 8 ? names[p] : "unknown";
}

int evict_policy_is_lfu(void) {
    return server.maxmemory_policy == MAXMEMORY_ALLKEYS_LFU || server.maxmemory_policy == MAXMEMORY_VOLATILE_LFU;
}

static int policy_is_volatile(void) { return server.maxmemory_policy >= MAXMEMORY_VOLATILE_LRU; }

static int policy_is_random(void) {
    return server.maxmemory_policy == MAXMEMORY_ALLKEYS_RANDOM ||
           server.maxmemory_policy == MAXMEMORY_VOLATILE_RANDOM;
}

/* ---- the candidate pool ----------------------------------------------- */

typedef struct pool_slot {
    unsigned long long score; /* higher: better victim */
    int dbid;
    size_t klen;
    char *key;  /* owned buffer, kept across uses to avoid churn */
    size_t cap;
} pool_slot;

static pool_slot pool[POOL_SIZE]; /* [0, pool_len) sorted by ascending score */
static int pool_len;

/* LRU: later access, lower score; independent of when it is computed. */
static unsigned long long lru_score(const entry *e) {
    unsigned long long accessed = (unsigned long long)server_mstime() - (unsigned long long)access_lru_idle_ms(entry_lru(e));
    return (1ULL << 62) - accessed;
}

/* LFU: the counter, decayed once the key idled a decay period (see
 * access_lfu_keep_value), then the access time. */
static unsigned long long lfu_score(const entry *e) { return (1ULL << 62) - access_lfu_keep_value(entry_lru(e)); }

static unsigned long long victim_score(const entry *e) {
    switch (server.maxmemory_policy) {
    case MAXMEMORY_ALLKEYS_LRU:
    case MAXMEMORY_VOLATILE_LRU:
        return lru_score(e);
    case MAXMEMORY_ALLKEYS_LFU:
    case MAXMEMORY_VOLATILE_LFU:
        return lfu_score(e);
    case MAXMEMORY_VOLATILE_TTL:
        return ULLONG_MAX - (unsigned long long)entry_expire(e);
    default:
        return 0;
    }
}

static int pool_contains(int dbid, const char *key, size_t klen) {
    for (int i = 0; i < pool_len; i++)
        if (pool[i].dbid == dbid && pool[i].klen == klen && memcmp(pool[i].key, key, klen) == 0) return 1;
    return 0;
}

static void slot_store_key(pool_slot *s, const char *key, size_t klen) {
    if (s->cap < klen) {
        s->key = zrealloc(s->key, klen);
        s->cap = klen;
    }
    memcpy(s->key, key, klen);
    s->klen = klen;
}

/* Insert below every candidate of equal score, so ties are evicted in
 * the order they entered the pool. */
static void pool_insert_scored(int dbid, const char *key, size_t klen, unsigned long long score) {
    if (pool_len == POOL_SIZE && score <= pool[0].score) return;
    int pos = 0;
    while (pos < pool_len && pool[pos].score < score) pos++;
    pool_slot spare;
    if (pool_len < POOL_SIZE) {
        spare = pool[pool_len];
        memmove(&pool[pos + 1], &pool[pos], sizeof(pool_slot) * (size_t)(pool_len - pos));
        pool_len++;
    } else {
        /* Full: the worst candidate (slot 0) leaves, its buffer is reused. */
        spare = pool[0];
        pos--;
        memmove(&pool[0], &pool[1], sizeof(pool_slot) * (size_t)pos);
    }
    spare.score = score;
    spare.dbid = dbid;
    slot_store_key(&spare, key, klen);
    pool[pos] = spare;
}

static void pool_insert(int dbid, entry *e) {
    access_age_entry(e);
    unsigned long long score = victim_score(e);
    if (pool_len == POOL_SIZE && score <= pool[0].score) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    if (pool_contains(dbid, key, klen)) return;
    pool_insert_scored(dbid, key, klen, score);
}

/* Remove slot i, keeping its buffer at the (now unused) end. */
static void pool_remove(int i) {
    pool_slot gone = pool[i];
    memmove(&pool[i], &pool[i + 1], sizeof(pool_slot) * (size_t)(pool_len - i - 1));
    pool_len--;
    pool[pool_len] = gone;
}

/* Slot i's candidate was accessed since it was scored: move it to its
 * real rank (or out, when it no longer ranks). The key is copied out
 * first because removing and inserting recycle slot buffers. */
static void pool_rescore(int i, unsigned long long score) {
    char small[64];
    size_t klen = pool[i].klen;
    char *key = klen <= sizeof(small) ? small : zmalloc(klen);
    memcpy(key, pool[i].key, klen);
    int dbid = pool[i].dbid;
    pool_remove(i);
    pool_insert_scored(dbid, key, klen, score);
    if (key != small) zfree(key);
}

/* A key eviction may consider under the policy: any key, or (volatile-*)
 * only keys with a TTL. */
static entry *candidate_find(db *d, const char *key, size_t klen) {
    entry *e = db_find(d, key, klen);
    return e && (!policy_is_volatile() || entry_has_expire(e)) ? e : NULL;
}

static size_t candidates_in(db *d) { return policy_is_volatile() ? db_expires_size(d) : db_size(d); }

/* ---- the newcomer ring (LFU) ------------------------------------------- */

#define RING_KEY_MAX 22
#define RING_DIVISOR 12 /* one slot per 12 keys of the keyspace */
#define RING_MIN_SLOTS 256
#define RING_MAX_SLOTS (1u << 22)
#define RING_PER_ROUND 1
#define RING_MISSES_PER_ROUND 16

typedef struct newcomer {
    uint8_t dbid;
    uint8_t klen;
    char key[RING_KEY_MAX];
} newcomer;

static newcomer *ring;
static size_t ring_slots, ring_head, ring_len;

static size_t ring_target_slots(void) {
    size_t want = db_size_all() / RING_DIVISOR;
    return want < RING_MIN_SLOTS ? RING_MIN_SLOTS : want > RING_MAX_SLOTS ? RING_MAX_SLOTS : want;
}

static size_t ring_index(size_t i) { return i < ring_slots ? i : i - ring_slots; }

static void ring_release(void) {
    zfree(ring);
    ring = NULL;
    ring_slots = ring_head = ring_len = 0;
}

/* Like the ghost table, resizing forgets: the ring is only a hint. */
static void ring_fit(void) {
    size_t want = ring_target_slots();
    if (ring && want * 4 <= ring_slots * 5 && want * 5 >= ring_slots * 4) return;
    ring_release();
    ring = zmalloc(want * sizeof(*ring));
    ring_slots = want;
}

static int ring_wanted(void) { return server.maxmemory && evict_policy_is_lfu(); }

void evict_note_created(int dbid, const entry *e) {
    if (!ring_wanted() || dbid < 0 || dbid > UINT8_MAX) return;
    if (policy_is_volatile() && !entry_has_expire(e)) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    if (klen > RING_KEY_MAX) return;
    if (!ring) ring_fit();
    if (ring_len == ring_slots) { /* full: the oldest is forgotten */
        ring_head = ring_index(ring_head + 1);
        ring_len--;
    }
    newcomer *n = &ring[ring_index(ring_head + ring_len)];
    n->dbid = (uint8_t)dbid;
    n->klen = (uint8_t)klen;
    memcpy(n->key, key, klen);
    ring_len++;
}

static void pool_insert(int dbid, entry *e);

/* The oldest newcomers join the pool: still at their initial counter
 * they are what exact LFU would evict next, and random samples find
 * them too rarely when they are a small share of the keys. */
static void ring_feed_pool(void) {
    int taken = 0, gone = 0;
    while (taken < RING_PER_ROUND && gone < RING_MISSES_PER_ROUND && ring_len) {
        newcomer *n = &ring[ring_head];
        ring_head = ring_index(ring_head + 1);
        ring_len--;
        db *d = n->dbid < db_count() ? db_get(n->dbid) : NULL;
        entry *e = d ? candidate_find(d, n->key, n->klen) : NULL;
        if (e) {
            pool_insert(n->dbid, e);
            taken++;
        } else {
            gone++; /* deleted since, or (volatile-lfu) lost its TTL */
        }
    }
}

static void ring_cron(void) {
    if (!ring_wanted()) ring_release();
    else if (ring) ring_fit();
}

/* Sample every database into the pool. Returns the keys available. */
static size_t pool_populate(void) {
    entry *samples[SAMPLES_MAX];
    size_t want = (size_t)server.maxmemory_samples;
    if (want > SAMPLES_MAX) want = SAMPLES_MAX;
    if (want < 1) want = 1;
    size_t available = 0;
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        size_t size = candidates_in(d);
        if (!size) continue;
        available += size;
        size_t n = db_sample(d, policy_is_volatile(), samples, want);
        for (size_t k = 0; k < n; k++) pool_insert(i, samples[k]);
    }
    if (available && ring_len) ring_feed_pool();
    return available;
}

/* The victim picked, as a key copy (the entry dies before we are done). */
typedef struct victim {
    db *d;
    kstr key;
} victim;

/* The best live candidate whose score still holds; stale ones are
 * dropped, re-scored ones move down and the search restarts. */
static int pool_pop_best(victim *v) {
    int i = pool_len - 1;
    while (i >= 0) {
        db *d = db_get(pool[i].dbid);
        entry *found = d ? candidate_find(d, pool[i].key, pool[i].klen) : NULL;
        if (!found) {
            pool_remove(i); /* deleted, or lost its TTL */
            i = pool_len - 1;
            continue;
        }
        unsigned long long score = victim_score(found);
        if (score < pool[i].score) {
            pool_rescore(i, score);
            i = pool_len - 1;
            continue;
        }
        v->d = d;
        v->key = kstr_new_len(pool[i].key, pool[i].klen);
        pool_remove(i);
        return 1;
    }
    return 0;
}

static int pick_from_pool(victim *v) {
    for (;;) {
        if (pool_populate() == 0) return 0;
        if (pool_pop_best(v)) return 1;
    }
}

static int pick_random(victim *v) {
    static int next_db;
    for (int tries = 0; tries < db_count(); tries++) {
        db *d = db_get(next_db++ % db_count());
        entry *e = db_random_entry(d, policy_is_volatile());
        if (!e) continue;
        size_t klen;
        const char *key = entry_key(e, &klen);
        v->d = d;
        v->key = kstr_new_len(key, klen);
        return 1;
    }
    return 0;
}

/* Evict one key; *freed gets the bytes released now (lazy freeing can
 * make that less than the key's size). Returns 0 when nothing is left. */
static int evict_one_key(size_t *freed) {
    victim v;
    if (!(policy_is_random() ? pick_random(&v) : pick_from_pool(&v))) return 0;
    if (evict_policy_is_lfu()) {
        entry *e = db_find(v.d, v.key, kstr_len(v.key));
        if (e) access_ghost_remember(e);
    }
    size_t before = zmalloc_used_memory();
    db_evict_key(v.d, v.key, kstr_len(v.key));
    size_t after = zmalloc_used_memory();
    *freed = before > after ? before - after : 0;
    server.stat.evictedkeys++;
    kstr_free(v.key);
    return 1;
}

/* ---- maxmemory enforcement -------------------------------------------- */

enum { EVICT_OK, EVICT_RUNNING, EVICT_FAIL };

static long long exceeded_since_us; /* start of the over-limit episode */
static long long exceeded_total_us;
static int timer_running;

/* How long one call may evict: linear 0..500 us up to tenacity 10, then
 * growing 15% per step (about two minutes at 99), unbounded at 100. */
static long long eviction_time_limit_us(void) {
    int t = server.maxmemory_eviction_tenacity;
    if (t <= 10) return 50LL * t;
    if (t < 100) return (long long)(500.0 * pow(1.15, (double)(t - 10)));
    return LLONG_MAX;
}

static int over_limit(size_t *tofree) {
    size_t used = memstats_used_for_eviction();
    size_t max = (size_t)server.maxmemory;
    if (!server.maxmemory || used <= max) return 0;
    if (tofree) *tofree = used - max;
    return 1;
}

static void note_episode(int result) {
    if (result == EVICT_OK) {
        if (exceeded_since_us) {
            exceeded_total_us += ustime() - exceeded_since_us;
            exceeded_since_us = 0;
            server.stat.total_eviction_exceeded_time_ms = exceeded_total_us / 1000;
        }
    } else if (!exceeded_since_us) {
        exceeded_since_us = ustime();
    }
}

long long evict_current_exceeded_ms(void) {
    return exceeded_since_us ? (ustime() - exceeded_since_us) / 1000 : 0;
}

static int perform_evictions(void);

static long long eviction_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    if (!mem_dataset_frozen() && perform_evictions() == EVICT_RUNNING) return 0;
    timer_running = 0;
    return -1;
}

static void continue_in_background(void) {
    if (timer_running || !server.el) return;
    timer_running = 1;
    ev_add_timer(server.el, 0, eviction_timer, NULL);
}

/* Nothing evictable: lazily freed values may still bring us under. */
static int wait_for_lazyfree(long long start, long long limit) {
    while (lazyfree_pending_objects() && ustime() - start < limit) {
        if (!over_limit(NULL)) return EVICT_OK;
        usleep(limit < 1000 ? (useconds_t)limit : 1000);
    }
    return over_limit(NULL) ? EVICT_FAIL : EVICT_OK;
}

static int evict_until_under(size_t tofree) {
    long long start = ustime(), limit = eviction_time_limit_us();
    size_t freed = 0;
    long long keys = 0;
    while (freed < tofree) {
        size_t delta;
        if (!evict_one_key(&delta)) return wait_for_lazyfree(start, limit);
        freed += delta;
        keys++;
        if (keys % 16 == 0) {
            /* Lazy eviction frees in the thread: re-read the real gauge. */
            if (server.lazyfree_lazy_eviction && !over_limit(NULL)) return EVICT_OK;
            if (ustime() - start > limit) {
                continue_in_background();
                return EVICT_RUNNING;
            }
        }
    }
    return EVICT_OK;
}

static int perform_evictions(void) {
    size_t tofree;
    int result;
    if (!over_limit(&tofree)) result = EVICT_OK;
    else if (server.maxmemory_policy == MAXMEMORY_NO_EVICTION) result = wait_for_lazyfree(ustime(), eviction_time_limit_us());
    else {
        long long t0 = ustime();
        result = evict_until_under(tofree);
        mem_latency_event("eviction-cycle", t0);
    }
    note_episode(result);
    return result;
}

int memory_make_room(void) {
    /* CLIENT PAUSE freezes the dataset: no eviction, and the commands
     * that could need memory are the paused ones. */
    if (mem_dataset_frozen()) return 1;
    return perform_evictions() != EVICT_FAIL;
}

void evict_cron(void) {
    ring_cron();
    if (!server.maxmemory) {
        note_episode(EVICT_OK);
        return;
    }
    if (!timer_running && !mem_dataset_frozen() && over_limit(NULL)) perform_evictions();
}

/* ---- remaining hooks ---------------------------------------------------- */

static memory_callbacks callbacks;

void memory_set_callbacks(const memory_callbacks *cb) { callbacks = *cb; }

int mem_dataset_frozen(void) { return callbacks.dataset_frozen && callbacks.dataset_frozen(); }

void mem_latency_event(const char *event, long long start_us) {
    if (callbacks.latency_event) callbacks.latency_event(event, start_us);
}

void memory_init(void) {
    access_init();
    lazyfree_init();
    zmalloc_set_background_thread(server.jemalloc_bg_thread);
    memstats_refresh_cache();
}

kstr memory_info_section(kstr s) { return memstats_info_section(s); }

void memory_cron(void) {
    memstats_refresh_cache();
    access_cron();
    evict_cron();
    defrag_cron();
    reclaim_cron();
    growth_cron();
    keysample_cron();
}

/* A lower limit may put RSS under pressure at once: return idle pages
 * now rather than at the next tick, before new work dirties more. */
void memory_maxmemory_changed(void) {
    memstats_refresh_cache();
    reclaim_cron();
}

long long memory_current_eviction_exceeded_ms(void) { return evict_current_exceeded_ms(); }

void memory_defrag_stats(long long *hits, long long *misses, long long *key_hits, long long *key_misses) {
    defrag_stats(hits, misses, key_hits, key_misses);
}

void memory_defrag_time_ms(long long *current, long long *total) { defrag_time_ms(current, total); }

void memory_free_entry(entry *e, int reason) { lazyfree_free_entry(e, reason); }

void memory_empty_db(db *d, int async) {
    lazyfree_empty_db(d, async);
    growth_reset();
}
