/*
 * defrag: active defragmentation (activedefrag yes).
 *
 * After many deletes, jemalloc's slabs (runs of equal-sized regions) end up
 * sparsely used: the memory cannot go back to the OS while one region of a
 * slab is live. The remedy is to move live blocks out of sparse slabs into
 * dense ones, so that sparse slabs empty and get released.
 *
 * Which blocks: jemalloc 5.3 answers "experimental.utilization.query" for
 * a pointer with its slab's free/total regions, its bin's totals and the
 * slab currently being filled. A block is worth moving when its slab is
 * used less than the bin average and is not the current slab: the copy
 * then lands in a fuller slab (allocation bypasses the thread cache, which
 * would return the slot just freed). See zmalloc_defrag_hint.
 *
 * What moves: the entry block itself (re-pointed in the tables by
 * db_replace) and single-block values (raw strings' kstr, listpacks,
 * intsets: copied and re-pointed with entry_set_ptr). The insides of
 * multi-block values (quicklist nodes, hashtable and skiplist elements)
 * belong to their types and are not visited: a pass helps them only
 * through their top-level block.
 *
 * When: cron checks the allocator's fragmentation (active / allocated).
 * Above active-defrag-threshold-lower percent and active-defrag-ignore-bytes
 * a pass starts; each tick gets a CPU share between active-defrag-cycle-min
 * and -max percent, scaled by how far fragmentation sits between the lower
 * and upper thresholds; a started pass never slows down (as it succeeds,
 * fragmentation falls, and slowing would only delay the slabs it is about
 * to empty). A pass walks every database with a SCAN cursor, so it is
 * incremental and survives table resizes; it ends when every database was
 * walked once, and the next tick decides whether to go again.
 *
 * RSS: emptied slabs stay resident until jemalloc's decay returns them,
 * which on a quiet server may be never (decay advances only with arena
 * activity). A pass that moved anything therefore ends with a purge, run
 * by the lazy free thread (the sweep takes ~0.1 s for a GB: too long for
 * the main thread). mem_fragmentation_ratio drops right after each pass.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "memory/zmalloc.h"
#include "core/server.h"
#include "lib/util.h"

#include <string.h>

#define BATCH_MAX 256

static struct {
    int running_pct;    /* CPU % of the pass in progress, 0 when idle */
    int db;             /* database being walked */
    size_t cursor;
    long long hits, misses, key_hits, key_misses;
    long long pass_start_us, pass_start_hits;
} state;

int defrag_running(void) { return state.running_pct; }

void defrag_stats(long long *hits, long long *misses, long long *key_hits, long long *key_misses) {
    *hits = state.hits;
    *misses = state.misses;
    *key_hits = state.key_hits;
    *key_misses = state.key_misses;
}

void defrag_reset_scan(void) { state.cursor = 0; }

/* Move one block if the allocator suggests it; NULL when left in place. */
static void *maybe_move(void *block) {
    if (!zmalloc_defrag_hint(block)) {
        state.misses++;
        return NULL;
    }
    size_t size = zmalloc_size(block);
    void *copy = zmalloc_defrag_alloc(size);
    memcpy(copy, block, size);
    state.hits++;
    return copy;
}

static int single_block_value(const entry *e) {
    int enc = entry_encoding(e);
    if (entry_value_inline(e)) return 0; /* moves with the entry block */
    if (entry_type(e) == TYPE_STRING) return enc == ENC_RAW;
    return enc == ENC_LISTPACK || enc == ENC_INTSET;
}

/* Returns the number of blocks moved. */
static int defrag_value(entry *e) {
    if (!single_block_value(e)) return 0;
    void *ptr = entry_ptr(e);
    if (entry_type(e) == TYPE_STRING) {
        struct kstr_hdr *h = KSTR_HDR((kstr)ptr);
        struct kstr_hdr *moved = maybe_move(h);
        if (!moved) return 0;
        entry_set_ptr(e, moved->buf);
        zmalloc_defrag_free(h);
        return 1;
    }
    void *moved = maybe_move(ptr);
    if (!moved) return 0;
    entry_set_ptr(e, moved);
    zmalloc_defrag_free(ptr);
    return 1;
}

static int defrag_entry(db *d, entry *e) {
    int moved = defrag_value(e);
    entry *copy = maybe_move(e);
    if (copy) {
        /* The value now belongs to the copy; only the old shell goes. */
        db_replace(d, e, copy, 1);
        moved++;
    }
    if (moved) state.key_hits++;
    else state.key_misses++;
    return moved;
}

typedef struct batch {
    entry *items[BATCH_MAX];
    size_t n;
} batch;

static void collect(void *priv, void *element) {
    batch *b = priv;
    /* Probe chains of neighbouring buckets can report an element twice:
     * moving it twice would free a block still in use. */
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i] == element) return;
    if (b->n < BATCH_MAX) b->items[b->n++] = element;
}

/* Allocator fragmentation in percent over 100 (active/allocated - 1). */
static int fragmentation_pct(size_t *frag_bytes) {
    size_t allocated = 0, active = 0, resident = 0;
    if (!zmalloc_allocator_stats(&allocated, &active, &resident) || !allocated || active < allocated) {
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

/* Until mem_internal.h declares it (lazyfree.c defines it). */

/* Moving blocks empties slabs, but their pages stay resident (dirty) until
 * jemalloc's decay returns them, and decay only advances when the arena is
 * used: an idle server would keep its RSS, and mem_fragmentation_ratio
 * (RSS / used_memory) would not move. So every pass that moved something
 * ends with a purge. It runs in the lazy free thread: the madvise sweep
 * over hundreds of MB takes about 0.1 s, far too long for the main thread.
 * Once per pass, not per tick, because slabs empty mostly at the end of a
 * pass (the scan visits a slab's survivors in random order). */
static void end_pass(void) {
    long long moved = state.hits - state.pass_start_hits;
    if (moved) lazyfree_purge_async();
    server_log(LOG_VERBOSE, "Active defrag pass done in %lld ms: %lld blocks moved",
               (ustime() - state.pass_start_us) / 1000, moved);
    state.running_pct = 0;
}

static void run_slice(long long budget_us) {
    long long start = ustime();
    while (ustime() - start < budget_us) {
        if (state.db >= db_count()) {
            end_pass();
            return;
        }
        db *d = db_get(state.db);
        batch b = {.n = 0};
        state.cursor = hashtable_scan(d->keys, state.cursor, collect, &b);
        for (size_t i = 0; i < b.n; i++) defrag_entry(d, b.items[i]);
        if (state.cursor == 0) state.db++;
    }
}

void defrag_cron(void) {
    if (!server.active_defrag_enabled || !zmalloc_defrag_supported()) {
        state.running_pct = 0;
        return;
    }
    size_t frag_bytes;
    int frag = fragmentation_pct(&frag_bytes);
    if (!state.running_pct) {
        if (frag < server.active_defrag_threshold_lower || (long long)frag_bytes < server.active_defrag_ignore_bytes)
            return;
        state.db = 0;
        state.cursor = 0;
        state.pass_start_us = ustime();
        state.pass_start_hits = state.hits;
    }
    /* As the pass succeeds fragmentation falls, but a started pass keeps
     * its pace: slowing down would only delay the slabs it is about to
     * empty. It may speed up if fragmentation grows meanwhile. */
    int share = cpu_share_pct(frag);
    if (share > state.running_pct) state.running_pct = share;
    int hz = server.hz > 0 ? server.hz : 10;
    run_slice(1000000LL / hz * state.running_pct / 100);
}
