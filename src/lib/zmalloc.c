/* See zmalloc.h for the design. */
#include "zmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#include <stdbool.h>
#define usable_size(p) malloc_usable_size((void *)(p))
#else
#include <malloc.h>
#define usable_size(p) malloc_usable_size((void *)(p))
#endif

static _Atomic size_t used_memory;

static void oom_abort(size_t size) {
    fprintf(stderr, "keel: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

static inline void count_alloc(void *p) {
    atomic_fetch_add_explicit(&used_memory, usable_size(p), memory_order_relaxed);
}

static inline void count_free(void *p) {
    atomic_fetch_sub_explicit(&used_memory, usable_size(p), memory_order_relaxed);
}

void *zmalloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oom_abort(size);
    count_alloc(p);
    return p;
}

void *zcalloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) oom_abort(size);
    count_alloc(p);
    return p;
}

void *zrealloc(void *ptr, size_t size) {
    if (!ptr) return zmalloc(size);
    if (size == 0) size = 1;
    size_t old = usable_size(ptr);
    void *p = realloc(ptr, size);
    if (!p) oom_abort(size);
    size_t now = usable_size(p);
    if (now >= old)
        atomic_fetch_add_explicit(&used_memory, now - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&used_memory, old - now, memory_order_relaxed);
    return p;
}

void zfree(void *ptr) {
    if (!ptr) return;
    count_free(ptr);
    free(ptr);
}

char *zstrdup(const char *s) {
    return zmemdup(s, strlen(s) + 1);
}

void *zmemdup(const void *src, size_t len) {
    void *p = zmalloc(len);
    if (len) memcpy(p, src, len);
    return p;
}

size_t zmalloc_size(const void *ptr) {
    return ptr ? usable_size(ptr) : 0;
}

size_t zmalloc_used_memory(void) {
    return atomic_load_explicit(&used_memory, memory_order_relaxed);
}

const char *zmalloc_allocator_name(void) {
#ifdef USE_JEMALLOC
    return "jemalloc-5.3.0";
#else
    return "libc";
#endif
}

size_t zmalloc_get_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

int zmalloc_allocator_stats(size_t *allocated, size_t *active, size_t *resident) {
#ifdef USE_JEMALLOC
    /* jemalloc caches its statistics; bump the epoch to refresh them. */
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(size_t);
    if (mallctl("stats.allocated", allocated, &sz, NULL, 0) != 0) return 0;
    sz = sizeof(size_t);
    mallctl("stats.active", active, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("stats.resident", resident, &sz, NULL, 0);
    return 1;
#else
    (void)allocated; (void)active; (void)resident;
    return 0;
#endif
}

size_t zmalloc_allocator_idle_pages_bytes(void) {
#ifdef USE_JEMALLOC
    /* Call after zmalloc_allocator_stats(), which refreshes the epoch. */
    size_t dirty = 0, muzzy = 0, page = 0, sz = sizeof(size_t);
    if (mallctl("stats.arenas.4096.pdirty", &dirty, &sz, NULL, 0) != 0) return 0;
    sz = sizeof(size_t);
    mallctl("stats.arenas.4096.pmuzzy", &muzzy, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("arenas.page", &page, &sz, NULL, 0);
    return (dirty + muzzy) * page;
#else
    return 0;
#endif
}

void zmalloc_purge(void) {
#ifdef USE_JEMALLOC
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "arena.%d.purge", 4096 /* MALLCTL_ARENAS_ALL */);
    mallctl(cmd, NULL, NULL, NULL, 0);
#endif
}

int zmalloc_set_background_thread(int enable) {
#ifdef USE_JEMALLOC
    bool on = enable != 0;
    return mallctl("background_thread", NULL, NULL, &on, sizeof(on)) == 0;
#else
    (void)enable;
    return 0;
#endif
}

int zmalloc_stats_print(void (*cb)(void *opaque, const char *text), void *opaque) {
#ifdef USE_JEMALLOC
    malloc_stats_print(cb, opaque, NULL);
    return 1;
#else
    (void)cb; (void)opaque;
    return 0;
#endif
}

#ifdef USE_JEMALLOC
/* experimental.utilization.query output, as jemalloc 5.3 documents it. */
typedef struct utilization {
    void *slabcur_addr;
    size_t nfree, nregs, size, bin_nfree, bin_nregs;
} utilization;

static size_t util_mib[4];
static size_t util_miblen;
static int util_state; /* 0 unknown, 1 available, -1 not */

int zmalloc_defrag_supported(void) {
    if (util_state == 0) {
        util_miblen = sizeof(util_mib) / sizeof(util_mib[0]);
        util_state = mallctlnametomib("experimental.utilization.query", util_mib, &util_miblen) == 0 ? 1 : -1;
    }
    return util_state == 1;
}

int zmalloc_defrag_hint(void *ptr) {
    if (!ptr || !zmalloc_defrag_supported()) return 0;
    utilization u;
    size_t sz = sizeof(u);
    if (mallctlbymib(util_mib, util_miblen, &u, &sz, &ptr, sizeof(ptr)) != 0) return 0;
    if (u.nregs <= 1 || u.nfree == 0 || !u.bin_nregs) return 0; /* large, or slab full */
    const char *p = ptr, *cur = u.slabcur_addr;
    if (cur && p >= cur && p < cur + u.size) return 0; /* the slab being filled */
    /* Less than half used: always worth moving. jemalloc refills the
     * oldest non-full slab, not the fullest, so in a bin where every slab
     * is sparse the "below average" test alone would leave half of them. */
    if (u.nfree * 2 > u.nregs) return 1;
    /* Used share of this slab below the bin's average: nfree/nregs above
     * bin_nfree/bin_nregs, cross-multiplied to stay in integers. */
    return u.nfree * u.bin_nregs > u.bin_nfree * u.nregs;
}

/* One jemalloc call for a whole batch: "experimental.utilization.batch_query"
 * reads each pointer's slab (free and total regions, slab size) in a
 * tight loop, so the cache misses on jemalloc's page map and slab headers
 * of independent pointers overlap instead of being paid one after the
 * other, and it skips the bin lock the verbose query takes per pointer.
 * It knows nothing of the bin, so each size class seen in the batch gets
 * one verbose query (bin average and current slab), shared by its other
 * pointers: they are almost always in the same arena, and a stale answer
 * only costs a useless move or a skipped one, never correctness.
 * Both queries give the slab's (extent's) size, not the region's: a
 * region is size / nregs, slabs being cut without a remainder. */
typedef struct slab_util {
    size_t nfree, nregs, size;
} slab_util;

typedef struct bin_view {
    size_t slab_size, nregs; /* together they name the size class */
    const char *slabcur, *slabcur_end;
    size_t bin_nfree, bin_nregs;
} bin_view;

#define DEFRAG_BATCH_MAX 256
#define BIN_VIEWS_MAX 16

static size_t batch_mib[4];
static size_t batch_miblen;
static int batch_state; /* 0 unknown, 1 available, -1 not */

static int batch_query_supported(void) {
    if (batch_state == 0) {
        batch_miblen = sizeof(batch_mib) / sizeof(batch_mib[0]);
        batch_state = mallctlnametomib("experimental.utilization.batch_query", batch_mib, &batch_miblen) == 0 ? 1 : -1;
    }
    return batch_state == 1;
}

static int bin_view_of(void *ptr, bin_view *v) {
    utilization u;
    size_t sz = sizeof(u);
    if (mallctlbymib(util_mib, util_miblen, &u, &sz, &ptr, sizeof(ptr)) != 0) return 0;
    v->slab_size = u.size;
    v->nregs = u.nregs;
    v->slabcur = u.slabcur_addr;
    v->slabcur_end = v->slabcur ? v->slabcur + u.size : NULL;
    v->bin_nfree = u.bin_nfree;
    v->bin_nregs = u.bin_nregs;
    return 1;
}

/* The view of ptr's size class, queried on first sight in this batch. */
static const bin_view *find_bin_view(bin_view *views, size_t *nviews, void *ptr, const slab_util *s) {
    for (size_t i = 0; i < *nviews; i++)
        if (views[i].slab_size == s->size && views[i].nregs == s->nregs) return &views[i];
    if (*nviews == BIN_VIEWS_MAX || !bin_view_of(ptr, &views[*nviews])) return NULL;
    return &views[(*nviews)++];
}

static int worth_moving(const slab_util *s, const bin_view *v, const void *ptr) {
    if (s->nregs <= 1 || s->nfree == 0) return 0; /* large, or slab full */
    const char *p = ptr;
    if (v->slabcur && p >= v->slabcur && p < v->slabcur_end) return 0; /* the slab being filled */
    if (s->nfree * 2 > s->nregs) return 1;
    if (!v->bin_nregs) return 0;
    return s->nfree * v->bin_nregs > v->bin_nfree * s->nregs;
}

size_t zmalloc_defrag_hints(void *const *ptrs, size_t n, size_t *move_sizes) {
    size_t movable = 0;
    while (n > DEFRAG_BATCH_MAX) {
        movable += zmalloc_defrag_hints(ptrs, DEFRAG_BATCH_MAX, move_sizes);
        ptrs += DEFRAG_BATCH_MAX;
        move_sizes += DEFRAG_BATCH_MAX;
        n -= DEFRAG_BATCH_MAX;
    }
    memset(move_sizes, 0, n * sizeof(*move_sizes));
    if (!n || !zmalloc_defrag_supported() || !batch_query_supported()) return movable;
    slab_util out[DEFRAG_BATCH_MAX];
    size_t outlen = n * sizeof(out[0]);
    if (mallctlbymib(batch_mib, batch_miblen, out, &outlen, (void *)ptrs, n * sizeof(ptrs[0])) != 0) return movable;
    bin_view views[BIN_VIEWS_MAX];
    size_t nviews = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i].nregs <= 1 || out[i].nfree == 0) continue;
        const bin_view *v = find_bin_view(views, &nviews, ptrs[i], &out[i]);
        if (v && worth_moving(&out[i], v, ptrs[i])) {
            size_t region = out[i].size / out[i].nregs;
            move_sizes[i] = region * out[i].nregs == out[i].size ? region : usable_size(ptrs[i]);
            movable++;
        }
    }
    return movable;
}

void *zmalloc_defrag_alloc(size_t size) {
    void *p = mallocx(size ? size : 1, MALLOCX_TCACHE_NONE);
    if (!p) oom_abort(size);
    count_alloc(p);
    return p;
}

void zmalloc_defrag_free(void *ptr) {
    if (!ptr) return;
    count_free(ptr);
    dallocx(ptr, MALLOCX_TCACHE_NONE);
}
#else
int zmalloc_defrag_supported(void) { return 0; }
int zmalloc_defrag_hint(void *ptr) { (void)ptr; return 0; }
size_t zmalloc_defrag_hints(void *const *ptrs, size_t n, size_t *move_sizes) {
    (void)ptrs;
    memset(move_sizes, 0, n * sizeof(*move_sizes));
    return 0;
}
void *zmalloc_defrag_alloc(size_t size) { return zmalloc(size); }
void zmalloc_defrag_free(void *ptr) { zfree(ptr); }
#endif
