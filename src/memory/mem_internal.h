/*
 * mem_internal: what the memory manager's own files share with each other
 * and nobody else (the rest of the server talks to memory.h only).
 *
 * The manager is split by concern so each piece stays small and testable
 * on its own: access.c (what the LRU/LFU bits mean, their upkeep),
 * evict.c (victim selection, maxmemory enforcement),
 * lazyfree.c (the background freeing thread), memstats.c (the figures
 * INFO memory, MEMORY STATS and MEMORY DOCTOR read), defrag.c (active
 * defragmentation) and memory_cmd.c (the MEMORY command).
 */
#ifndef KEEL_MEM_INTERNAL_H
#define KEEL_MEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/db.h"
#include "core/entry.h"
#include "lib/kstr.h"

/* ---- evict.c: the callbacks core registered (memory.h) ---- */
/* pause: no eviction while the dataset is frozen. */
int mem_dataset_frozen(void);
void mem_latency_event(const char *event, long long start_us);

/* ---- access.c ---- */
#define ACCESS_LFU_INIT 5
void access_init(void);
/* Cron: the LRU stamp ager and the LFU eviction memory's upkeep. */
void access_cron(void);
/* LRU: the stamp an access writes now, and the idle time of a stamp. */
uint32_t access_lru_stamp_now(void);
long long access_lru_idle_ms(uint32_t lru_field);
/* Rewrite an old fine stamp as a coarse one (see access.c); the
 * policy-independent form picks the LRU or LFU layout. */
void access_lru_age_entry(entry *e);
void access_age_entry(entry *e);
/* LFU: minute boundaries crossed since the last access recorded in an
 * LFU field, and the time of that access (ms; coarse stamps: the
 * middle of the minute, which can be up to 30 s ahead of now). */
uint32_t access_lfu_minutes_since(uint32_t lru_field);
uint64_t access_lfu_accessed_ms(uint32_t lru_field);
/* LFU: how much a key is worth keeping (lower: evict first): the
 * counter decayed once the key idled a decay period, then the access
 * time. */
unsigned long long access_lfu_keep_value(uint32_t lru_field);
/* An evicted key's LFU data, to restore if the key comes back. */
void access_ghost_remember(const entry *e);

/* ---- evict.c ---- */
const char *evict_policy_name(int policy);
int evict_policy_is_lfu(void);
/* Decayed LFU counter of an LRU/LFU field (no increment). */
int evict_lfu_counter_now(uint32_t lru_field);
/* A key was created in database dbid (LFU: remembered as a likely
 * victim, see evict.c). */
void evict_note_created(int dbid, const entry *e);
/* Milliseconds of the ongoing over-maxmemory episode (0 when none). */
long long evict_current_exceeded_ms(void);
/* Eviction work for the cron tick: continue a cut-short eviction and
 * react to a lowered maxmemory without waiting for a command. */
void evict_cron(void);

/* ---- lazyfree.c ---- */
void lazyfree_init(void);
/* Free e now or in the background thread, as settings and size decide. */
void lazyfree_free_entry(entry *e, int reason);
/* Empty d; async hands the old tables to the background thread. */
void lazyfree_empty_db(db *d, int async);
size_t lazyfree_pending_objects(void);
size_t lazyfree_freed_objects(void);
/* Block (up to max_us) until the background queue is empty. */
void lazyfree_wait_idle(long long max_us);
/* Return dirty pages to the system from the background thread (after a
 * defrag pass; merged with one already queued). */
void lazyfree_purge_async(void);

/* ---- memstats.c ---- */
typedef struct mem_figures {
    size_t used;            /* zmalloc's counter */
    size_t peak;
    size_t startup;
    size_t rss;             /* cached, refreshed by cron */
    size_t alloc_allocated; /* jemalloc stats (0 with libc) */
    size_t alloc_active;
    size_t alloc_resident;
    size_t clients_normal;
    size_t clients_slaves;
    size_t aof_buffer;
    size_t repl_backlog;
    size_t tables;          /* every db's keys + expires tables */
    size_t overhead;        /* startup + clients + buffers + tables */
    size_t dataset;         /* used - overhead */
    size_t keys;
    size_t not_counted_for_evict;
} mem_figures;

void memstats_refresh_cache(void); /* cron, every tick: the figures below */
typedef struct alloc_figures {
    size_t rss;
    size_t allocated, active, resident; /* jemalloc's; without it used_memory and RSS */
    size_t idle_pages;                  /* resident but unused pages (0 without jemalloc) */
} alloc_figures;
/* The last refresh: the memory cron's consumers read these rather than
 * asking the allocator again (refreshing its statistics merges every
 * arena's). */
const alloc_figures *memstats_cached(void);
void memstats_collect(mem_figures *f);
/* Used memory as maxmemory sees it (replication/AOF buffers excluded). */
size_t memstats_used_for_eviction(void);
long long memstats_total_system_memory(void);
/* Value plus entry plus table slot share, as MEMORY USAGE reports. */
size_t memstats_entry_usage(db *d, const entry *e, size_t samples);
/* The INFO memory section. */
kstr memstats_info_section(kstr s);

/* ---- growth.c ---- */
/* Cron: a sample of the memory history once a second. */
void growth_cron(void);
/* A flush: the next sample starts a new series for the growth rates. */
void growth_reset(void);

/* ---- keysample.c ---- */
/* Cron: a few more keys of the keyspace profile's walk. */
void keysample_cron(void);

/* ---- reclaim.c ---- */
/* Cron: purge the allocator's idle pages when RSS nears maxmemory. */
void reclaim_cron(void);
long long reclaim_purges(void);

/* ---- defrag.c ---- */
void defrag_cron(void);
int defrag_running(void);
void defrag_stats(long long *hits, long long *misses, long long *key_hits, long long *key_misses);
/* A db's tables were swapped: any scan in progress over them restarts. */
void defrag_reset_scan(void);
/* Milliseconds of the pass in progress (0 when idle) and of all passes. */
void defrag_time_ms(long long *current, long long *total);

#endif
