/*
 * defrag: active defragmentation (activedefrag yes).
 *
 * After many deletes, jemalloc's slabs (runs of equal-sized regions) end up
 * sparsely used: the memory cannot go back to the OS while one region of a
 * slab is live. The remedy is to move live blocks out of sparse slabs into
 * dense ones, so that sparse slabs empty and get released.
 *
 * Which blocks: jemalloc 5.3 reports, for a pointer, its slab's free and
 * total regions, and (verbose form) its bin's totals and the slab being
 * filled. A block is worth moving when its slab is used less than the bin
 * average and is not the current slab: the copy then lands in a fuller
 * slab (allocation bypasses the thread cache, which would return the slot
 * just freed). See zmalloc_defrag_hints.
 *
 * What moves: the entry block itself (re-pointed in the tables by
 * db_replace) and single-block values (raw strings' kstr, listpacks,
 * intsets: copied and re-pointed with entry_set_ptr). The insides of
 * multi-block values belong to their types: a type whose type_ops has
 * defrag_value (streams: nodes, node array, consumer groups) is offered
 * every block and re-points them itself, one block query each; the others
 * (quicklist nodes, hashtable and skiplist elements) are not visited yet,
 * and a pass helps them only through their top-level block.
 *
 * Cost of a move. Almost all of it is cache misses: the table bucket, the
 * entry, then jemalloc's page map and slab header for each block. So keys
 * are taken in batches (several SCAN steps, about 64 entries) and their
 * blocks are asked about in one batch query, whose tight loop lets the
 * misses of independent pointers overlap; the answer also carries the
 * region size, which saves a malloc_usable_size per move. Measured on 3M
 * keys this halves the allocator queries' part of a pass (about 30% of its
 * CPU before, 15% after) and the whole pass takes 10-15% less CPU; what is
 * left is mostly the SCAN itself (bucket and entry misses in
 * hashtable_scan), which this file cannot prefetch.
 *
 * When: cron checks the allocator's fragmentation (active / allocated).
 * Above active-defrag-threshold-lower percent and active-defrag-ignore-bytes
 * a pass starts. Its CPU ceiling is Redis's rule: between
 * active-defrag-cycle-min and -max percent, scaled by how far fragmentation
 * sits between the lower and upper thresholds, and never lowered during a
 * pass (as it succeeds, fragmentation falls, and slowing would only delay
 * the slabs it is about to empty). A pass walks every database with a SCAN
 * cursor, so it is incremental and survives table resizes; it ends when
 * every database was walked once, and the next tick decides whether to go
 * again.
 *
 * Pace. Slabs empty mostly at the end of a pass (the scan meets a slab's
 * survivors in random order), so the memory comes back when the pass ends
 * whatever its pace in between: a slower pass delays the release, while
 * every percent of CPU is a percent of throughput taken from clients when
 * the server is busy. Each tick therefore estimates the CPU the rest of the
 * pass needs (CPU per key so far, times keys left) and uses the share that
 * would finish it PASS_TARGET_MS after it started, clamped between
 * cycle-min and the ceiling above: a large keyspace still gets the full
 * ceiling, a small one is walked gently. The ceiling applies until a few
 * thousand keys have been timed, once the target has passed, and while
 * the main thread was otherwise idle during the last tick (under
 * IDLE_BELOW_PCT of its time outside defrag): CPU that no client wants
 * costs nobody anything, so an idle server finishes as fast as Redis's
 * rule allows and a busy one gives up only the paced share.
 *
 * Slices. The work runs from its own timer in short slices (SLICE_US, with
 * the gap that makes up the share) rather than as one slice per cron tick:
 * at 25% a cron slice would stall every client for 25 ms each 100 ms; 1 ms
 * slices cost the same CPU but add at most about a millisecond to any
 * reply. The cron only starts passes and sets the share.
 *
 * RSS: emptied slabs stay resident until jemalloc's decay returns them,
 * which on a quiet server may be never (decay advances only with arena
 * activity). A pass that moved anything therefore ends with a purge, run
 * by the lazy free thread (the sweep takes ~0.1 s for a GB: too long for
 * the main thread), and idle pages are purged once a second while a pass
 * runs and shortly after (purge_idle_pages). mem_fragmentation_ratio
 * drops during the last seconds of a pass and right after it.
 */
#include "memory/mem_internal.h"
#include "lib/zmalloc.h"
#include "core/server.h"
#include "lib/util.h"
#include "types/types.h"
#include "persist/snapshot.h"

#include <string.h>
#include <time.h>

#define BATCH_TARGET 64      /* entries per allocator query */
#define BATCH_MAX 512        /* room for the last SCAN step's chain */
#define SLICE_US 1000        /* work per timer slice at shares up to 50% */
#define PASS_TARGET_MS 40000 /* pace a pass to end this long after it starts */
#define PACE_MIN_KEYS 5000   /* keys timed before the estimate is trusted */
#define IDLE_BELOW_PCT 10    /* main thread busier than this outside defrag: clients are served */
#define PREFETCH_BYTES 256   /* of each block to move, ahead of the copies */
#define PURGE_MIN_BYTES (32LL << 20) /* idle pages worth a purge during/after a pass */
#define PURGE_EVERY_MS 1000
#define PURGE_AFTER_PASS_MS 5000

static struct {
    int running_pct;    /* CPU ceiling of the pass in progress, 0 when idle */
    int pace_pct;       /* share actually used, within [cycle-min, ceiling] */
    int timer_armed;
    int db;             /* database being walked */
    size_t cursor;
    long long hits, misses, key_hits, key_misses;
    long long pass_start_us, pass_start_hits;
    long long done_passes_us; /* total_active_defrag_time of finished passes */
    long long pass_work_us, pass_keys; /* main thread CPU in slices, keys seen */
    long long last_purge_us, purge_until_us;
    long long tick_wall_us, tick_cpu_us, tick_work_us; /* at the previous tick */
} state;

int defrag_running(void) { return state.running_pct; }

void defrag_stats(long long *hits, long long *misses, long long *key_hits, long long *key_misses) {
    *hits = state.hits;
    *misses = state.misses;
    *key_hits = state.key_hits;
    *key_misses = state.key_misses;
}

void defrag_reset_scan(void) { state.cursor = 0; }

void defrag_time_ms(long long *current, long long *total) {
    long long now_us = state.running_pct ? ustime() - state.pass_start_us : 0;
    *current = now_us / 1000;
    *total = (state.done_passes_us + now_us) / 1000;
}

static long long thread_cpu_us(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- Moving blocks ---------------------------------------------------- */

static int single_block_value(const entry *e) {
    int enc = entry_encoding(e);
    if (entry_value_inline(e)) return 0; /* moves with the entry block */
    if (entry_type(e) == TYPE_STRING) return enc == ENC_RAW;
    return enc == ENC_LISTPACK || enc == ENC_INTSET;
}

/* The allocation holding e's value (a kstr's header, not its buffer). */
static void *value_block(const entry *e) {
    void *ptr = entry_ptr(e);
    return entry_type(e) == TYPE_STRING ? (void *)KSTR_HDR((kstr)ptr) : ptr;
}

static void *copy_block(void *block, size_t size) {
    void *copy = zmalloc_defrag_alloc(size);
    memcpy(copy, block, size);
    return copy;
}

static void move_value(entry *e, void *block, size_t size) {
    void *copy = copy_block(block, size);
    if (entry_type(e) == TYPE_STRING) entry_set_ptr(e, ((struct kstr_hdr *)copy)->buf);
    else entry_set_ptr(e, copy);
    zmalloc_defrag_free(block);
}

/* A hint of 0 is a miss; sizes come from the batch query. */
static int count_hint(size_t size) {
    if (size) state.hits++;
    else state.misses++;
    return size != 0;
}

/* A type's own blocks, offered one at a time (type_defrag_fn); priv
 * counts the moves. */
static void *move_if_worth(void *priv, void *block) {
    size_t size;
    zmalloc_defrag_hints(&block, 1, &size);
    if (!count_hint(size)) return block;
    ++*(int *)priv;
    void *copy = copy_block(block, size);
    zmalloc_defrag_free(block);
    return copy;
}

/* Values of several blocks whose type knows how to move them. */
static int defrag_type_blocks(entry *e) {
    if (entry_value_inline(e) || single_block_value(e)) return 0;
    const type_ops *ops = type_ops_for(entry_type(e));
    if (!ops || !ops->defrag_value) return 0;
    int moved = 0;
    void *ptr = entry_ptr(e), *now = ops->defrag_value(entry_encoding(e), ptr, move_if_worth, &moved);
    if (now != ptr) entry_set_ptr(e, now);
    return moved;
}

static void defrag_entry(db *d, entry *e, size_t entry_size, void *vblock, size_t value_size) {
    /* The value first: the entry copy then carries its new pointer. */
    int moved = defrag_type_blocks(e);
    if (vblock && count_hint(value_size)) {
        move_value(e, vblock, value_size);
        moved++;
    }
    if (count_hint(entry_size)) {
        /* The value now belongs to the copy; only the old shell goes. */
        db_replace(d, e, copy_block(e, entry_size), 1);
        moved++;
    }
    if (moved) state.key_hits++;
    else state.key_misses++;
}

typedef struct batch {
    entry *items[BATCH_MAX];
    size_t n;
} batch;

static void collect(void *priv, entry *element) {
    batch *b = priv;
    /* Probe chains of neighbouring buckets can report an element twice:
     * moving it twice would free a block still in use. */
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i] == element) return;
    if (b->n < BATCH_MAX) b->items[b->n++] = element;
}

/* Entry blocks first, then the value blocks of the entries that have one
 * (vidx[i] is entry i's value slot, or 0 when it has none). */
static void defrag_batch(db *d, batch *b) {
    static void *blocks[2 * BATCH_MAX];
    static size_t sizes[2 * BATCH_MAX];
    static size_t vidx[BATCH_MAX];
    size_t n = b->n, nblocks = n;
    for (size_t i = 0; i < n; i++) {
        blocks[i] = b->items[i];
        vidx[i] = 0;
        if (single_block_value(b->items[i])) {
            vidx[i] = nblocks;
            blocks[nblocks++] = value_block(b->items[i]);
        }
    }
    zmalloc_defrag_hints(blocks, nblocks, sizes);
    /* The blocks to copy, value blocks above all, were never read: start
     * their misses together rather than one memcpy after the other (the
     * first lines only: the hardware prefetcher follows a long copy). */
    for (size_t i = 0; i < nblocks; i++)
        for (size_t off = 0; off < sizes[i] && off < PREFETCH_BYTES; off += 64)
            __builtin_prefetch((char *)blocks[i] + off);
    for (size_t i = 0; i < n; i++) {
        void *vblock = vidx[i] ? blocks[vidx[i]] : NULL;
        defrag_entry(d, b->items[i], sizes[i], vblock, vidx[i] ? sizes[vidx[i]] : 0);
    }
}

/* ---- Pace --------------------------------------------------------------- */

/* Allocator fragmentation in percent over 100 (active/allocated - 1). */
static int fragmentation_pct(size_t *frag_bytes) {
    const alloc_figures *a = memstats_cached(); /* refreshed by this tick's memory cron */
    size_t allocated = a->allocated, active = a->active;
    if (!allocated || active < allocated) {
        *frag_bytes = 0;
        return 0;
    }
    *frag_bytes = active - allocated;
    return (int)((active - allocated) * 100 / allocated);
}

/* Interpolated between cycle-min at threshold-lower and cycle-max at
 * threshold-upper, clamped to that range: below threshold-lower (a pass
 * that already started and made progress) it stays at cycle-min rather
 * than dropping to 0 or below, which would stall the pass unfinished. */
static int cpu_share_pct(int frag) {
    int lo = server.active_defrag_threshold_lower, hi = server.active_defrag_threshold_upper;
    int min = server.active_defrag_cycle_min, max = server.active_defrag_cycle_max;
    if (max < min) max = min;
    if (frag >= hi || hi <= lo) return max;
    if (frag <= lo) return min;
    return min + (int)((long long)(max - min) * (frag - lo) / (hi - lo));
}

/* Whether the main thread spent less than IDLE_BELOW_PCT of the time since
 * the previous tick on anything but defrag: then no client is waiting for
 * the CPU the defragger takes, and pacing would only waste idle time. */
static int server_idle_since_last_tick(void) {
    long long wall = ustime(), cpu = thread_cpu_us(), work = state.pass_work_us;
    long long dwall = wall - state.tick_wall_us, dcpu = cpu - state.tick_cpu_us;
    long long other = dcpu - (work - state.tick_work_us);
    int first = state.tick_wall_us == 0 || work < state.tick_work_us;
    state.tick_wall_us = wall;
    state.tick_cpu_us = cpu;
    state.tick_work_us = work;
    if (first || dwall <= 0 || !cpu) return 0;
    return other * 100 < (long long)IDLE_BELOW_PCT * dwall;
}

/* The share that ends the pass PASS_TARGET_MS after its start, at the CPU
 * per key measured so far, within [cycle-min, ceiling]. */
static int paced_pct(int ceiling) {
    int floor = server.active_defrag_cycle_min < ceiling ? server.active_defrag_cycle_min : ceiling;
    long long left_us = PASS_TARGET_MS * 1000LL - (ustime() - state.pass_start_us);
    if (state.pass_keys < PACE_MIN_KEYS || left_us <= 0) return ceiling;
    long long keys_left = (long long)db_size_all() - state.pass_keys;
    if (keys_left <= 0) keys_left = PACE_MIN_KEYS; /* an estimate: the tables changed */
    double work_us = (double)state.pass_work_us / (double)state.pass_keys * (double)keys_left;
    int pct = (int)(work_us * 100.0 / (double)left_us) + 1;
    return pct < floor ? floor : pct > ceiling ? ceiling : pct;
}

/* ---- Slices --------------------------------------------------------------- */

/* Moving blocks empties slabs, but their pages stay resident (dirty) until
 * jemalloc's decay returns them, and decay only advances when the arena is
 * used: an idle server would keep its RSS, and mem_fragmentation_ratio
 * (RSS / used_memory) would not move. So every pass that moved something
 * ends with a purge. It runs in the lazy free thread: the madvise sweep
 * over hundreds of MB takes about 0.1 s, far too long for the main thread.
 * Slabs empty mostly at the end of a pass (the scan visits a slab's
 * survivors in random order): that is when purging pays. */
static void end_pass(void) {
    long long moved = state.hits - state.pass_start_hits;
    if (moved) {
        lazyfree_purge_async();
        state.last_purge_us = ustime();
        state.purge_until_us = state.last_purge_us + PURGE_AFTER_PASS_MS * 1000LL;
    }
    state.done_passes_us += ustime() - state.pass_start_us;
    server_log(LOG_VERBOSE, "Active defrag pass done in %lld ms (%lld ms of CPU): %lld blocks moved",
               (ustime() - state.pass_start_us) / 1000, state.pass_work_us / 1000, moved);
    state.running_pct = 0;
}

/* Collects about BATCH_TARGET entries of the current database (fewer at
 * the end of its walk) and moves what is worth moving. */
static void defrag_step(void) {
    db *d = db_get(state.db);
    batch b = {.n = 0};
    do {
        state.cursor = db_scan(d, state.cursor, collect, &b);
    } while (state.cursor != 0 && b.n < BATCH_TARGET);
    defrag_batch(d, &b);
    state.pass_keys += (long long)b.n;
    if (state.cursor == 0) state.db++;
}

/* The budget is wall time (it bounds how long clients wait); the work is
 * counted in thread CPU time, so that on a crowded host the time the
 * thread spent descheduled does not pass for defrag cost in the pace. */
static void run_slice(long long budget_us) {
    if (snapshot_pins_entries()) return; /* a save holds entry pointers: see snapshot.h */
    long long start = ustime(), cpu_start = thread_cpu_us();
    do {
        if (state.db >= db_count()) {
            state.pass_work_us += thread_cpu_us() - cpu_start;
            end_pass();
            return;
        }
        defrag_step();
    } while (ustime() - start < budget_us);
    state.pass_work_us += thread_cpu_us() - cpu_start;
}

/* Above 50% a 1 ms slice would need a gap under 1 ms, which the timer
 * cannot express: keep the 1 ms gap and lengthen the slice instead. */
static long long slice_us(int pct) {
    return pct <= 50 ? SLICE_US : SLICE_US * pct / (100 - (pct < 99 ? pct : 99));
}

static long long gap_ms(long long worked_us, int pct) {
    long long gap_us = worked_us * (100 - pct) / (pct > 0 ? pct : 1);
    return (gap_us + 500) / 1000;
}

static long long defrag_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    if (state.running_pct) {
        long long start = ustime();
        run_slice(slice_us(state.pace_pct));
        mem_latency_event("active-defrag-cycle", start);
        if (state.running_pct) return gap_ms(ustime() - start, state.pace_pct);
    }
    state.timer_armed = 0;
    return -1;
}

static void start_pass(void) {
    state.db = 0;
    state.cursor = 0;
    state.pass_start_us = ustime();
    state.pass_start_hits = state.hits;
    state.pass_work_us = 0;
    state.pass_keys = 0;
}

/* The purge at the end of a pass is not always the last word: slabs also
 * empty during the pass's last seconds, and a purge that ran while the
 * lazy free thread or the allocator was busy may leave pages behind, which
 * then wait for jemalloc's decay (about 100 MB/s here, many seconds for a
 * GB). So while a pass runs, and for a few seconds after one, idle pages
 * above PURGE_MIN_BYTES are purged again, at most once a second. */
static void purge_idle_pages(void) {
    long long now = ustime();
    if (!state.running_pct && now > state.purge_until_us) return;
    if (now - state.last_purge_us < PURGE_EVERY_MS * 1000LL) return;
    size_t idle = memstats_cached()->idle_pages;
    if ((long long)idle < PURGE_MIN_BYTES) return;
    state.last_purge_us = now;
    lazyfree_purge_async();
    server_log(LOG_VERBOSE, "Active defrag: purging %zu MB of idle pages", idle >> 20);
}

void defrag_cron(void) {
    if (!server.active_defrag_enabled || !zmalloc_defrag_supported()) {
        if (state.running_pct) state.done_passes_us += ustime() - state.pass_start_us;
        state.running_pct = 0; /* the timer sees it and stops */
        return;
    }
    size_t frag_bytes;
    int frag = fragmentation_pct(&frag_bytes);
    purge_idle_pages();
    int idle = server_idle_since_last_tick();
    if (!state.running_pct) {
        if (frag < server.active_defrag_threshold_lower || (long long)frag_bytes < server.active_defrag_ignore_bytes)
            return;
        start_pass();
    }
    /* As the pass succeeds fragmentation falls, but a started pass keeps
     * its ceiling: slowing down would only delay the slabs it is about to
     * empty. It may rise if fragmentation grows meanwhile. */
    int share = cpu_share_pct(frag);
    if (share > state.running_pct) state.running_pct = share;
    state.pace_pct = idle ? state.running_pct : paced_pct(state.running_pct);
    if (!state.timer_armed) {
        ev_add_timer(server.el, 0, defrag_timer, NULL);
        state.timer_armed = 1;
    }
}
