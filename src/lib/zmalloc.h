/*
 * zmalloc: the one door every allocation in Keel goes through.
 *
 * Why a wrapper at all: used_memory must be exact from the first byte, and
 * the only way to be exact is to count at the allocator boundary with the
 * allocator's own idea of a block's size (jemalloc's usable size, which
 * includes the size-class rounding), not with the size the caller asked for.
 *
 * The counter is an atomic so that a background thread (lazy free) can
 * release memory while the main thread reads used_memory for eviction.
 * Relaxed ordering is enough: the figure is a gauge, not a lock.
 *
 * Out of memory: the allocator returning NULL is treated as fatal, as in
 * Redis. Keel's job is to never get there (maxmemory, backpressure); if the
 * system still refuses memory, continuing with a half-applied write would
 * lose data silently, which is worse than a clear abort with a message.
 *
 * Built with USE_JEMALLOC (the normal build) the statistics come from
 * jemalloc; without it (the sanitizer build, since ASan replaces malloc)
 * glibc's malloc_usable_size is used instead.
 */
#ifndef KEEL_ZMALLOC_H
#define KEEL_ZMALLOC_H

#include <stddef.h>

void *zmalloc(size_t size);
void *zcalloc(size_t size);
void *zrealloc(void *ptr, size_t size);
void zfree(void *ptr);
char *zstrdup(const char *s);
void *zmemdup(const void *p, size_t len);

/* Usable size of a block returned by zmalloc (>= the size asked for). */
size_t zmalloc_size(const void *ptr);

/* Bytes currently allocated through this wrapper. */
size_t zmalloc_used_memory(void);

/* Name of the allocator, as INFO's mem_allocator shows it. */
const char *zmalloc_allocator_name(void);

/* Resident set size of the process in bytes, read from /proc. */
size_t zmalloc_get_rss(void);

/* Allocator-level figures (jemalloc stats.allocated/active/resident);
 * returns 0 and leaves them untouched when not available. */
int zmalloc_allocator_stats(size_t *allocated, size_t *active, size_t *resident);

/* Bytes of pages the allocator holds unused but resident (jemalloc's
 * dirty and muzzy pages, as of the last zmalloc_allocator_stats()). */
size_t zmalloc_allocator_idle_pages_bytes(void);

/* Return unused dirty pages to the OS (MEMORY PURGE). */
void zmalloc_purge(void);

/* jemalloc's background threads (jemalloc-bg-thread): they return freed
 * pages to the system on jemalloc's decay schedule even when the server
 * is idle. Returns 0 when the allocator has none. */
int zmalloc_set_background_thread(int enable);

/* Allocator statistics as text (jemalloc's malloc_stats_print), handed to
 * cb piece by piece. Returns 0 when the allocator has no such report. */
int zmalloc_stats_print(void (*cb)(void *opaque, const char *text), void *opaque);

/* Active defragmentation support (jemalloc only).
 * zmalloc_defrag_hint: 1 when ptr lives in a slab less than half used or
 * used less than its size class's average (and is not the slab new
 * allocations are served from),
 * so moving it is likely to help empty that slab. 0 otherwise, and always
 * 0 without jemalloc or for large allocations.
 * zmalloc_defrag_alloc / zmalloc_defrag_free: allocate and free around
 * the thread cache, which would otherwise hand the slot just freed back to
 * the next allocation of that size and undo the move. Counted in
 * used_memory like any block. Without jemalloc they are zmalloc/zfree. */
int zmalloc_defrag_supported(void);
int zmalloc_defrag_hint(void *ptr);
/* The batch form of zmalloc_defrag_hint, one allocator query for n
 * blocks: move_sizes[i] is block i's usable size when it is worth moving,
 * else 0. Returns how many are worth moving. */
size_t zmalloc_defrag_hints(void *const *ptrs, size_t n, size_t *move_sizes);
void *zmalloc_defrag_alloc(size_t size);
void zmalloc_defrag_free(void *ptr);

#endif
