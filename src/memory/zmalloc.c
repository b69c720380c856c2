/* See zmalloc.h for the design. */
#include "zmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef USE_JEMALLOC
#include <jemalloc/jemalloc.h>
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

void zmalloc_purge(void) {
#ifdef USE_JEMALLOC
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "arena.%d.purge", 4096 /* MALLCTL_ARENAS_ALL */);
    mallctl(cmd, NULL, NULL, NULL, 0);
#endif
}
