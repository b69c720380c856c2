/*
 * memstats: the memory figures INFO memory, MEMORY STATS and MEMORY DOCTOR
 * print, computed in one place so that the three always agree.
 *
 * Cheap figures (zmalloc's counter, client buffers, table sizes) are read
 * on demand. Expensive ones (RSS from /proc, jemalloc's stats, which need
 * an epoch refresh) are cached by the cron every tick, as Redis does:
 * monitoring tools poll INFO often and should not cost a syscall and an
 * allocator walk each time. Values are therefore up to 1/hz seconds old.
 *
 * Overhead vs dataset: overhead is what the server spends whatever the
 * data (start-up allocations, client buffers, the key tables); dataset is
 * the rest, i.e. the entries and their values. Keel's per-key header lives
 * inside the entry and is counted as dataset, like Redis counts its key
 * strings and value objects; its table overhead is therefore smaller than
 * Redis's, which includes a 24-byte dictEntry per key.
 */
#include "persist/snapshot.h"
#include "repl/repl.h"
#include "cluster/cluster.h"
#include "memory/mem_internal.h"
#include "script/script.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "net/clientmem.h"
#include "core/server.h"
#include "lib/util.h"
#include "types/types.h"

#include <string.h>
#include <unistd.h>

static alloc_figures cache;
static int cache_valid;

void memstats_refresh_cache(void) {
    cache.rss = zmalloc_get_rss();
    size_t allocated = 0, active = 0, resident = 0;
    if (zmalloc_allocator_stats(&allocated, &active, &resident)) {
        cache.allocated = allocated;
        cache.active = active;
        cache.resident = resident;
        cache.idle_pages = zmalloc_allocator_idle_pages_bytes();
    } else {
        /* Without jemalloc, present our own counter and RSS so that the
         * ratios stay meaningful (1.0 rather than a division by zero). */
        cache.allocated = cache.active = zmalloc_used_memory();
        cache.resident = cache.rss;
    }
    cache_valid = 1;
}

const alloc_figures *memstats_cached(void) {
    if (!cache_valid) memstats_refresh_cache();
    return &cache;
}

long long memstats_total_system_memory(void) {
    return (long long)sysconf(_SC_PHYS_PAGES) * (long long)sysconf(_SC_PAGESIZE);
}

/* Memory eviction does not pay for: what clients hold (query buffers,
 * argv, replies), the buffers of a running snapshot (a save never evicts
 * keys to pay for itself) and what the replication buffer holds beyond
 * the backlog for replicas that lag (as Redis 7.0: the backlog itself is
 * counted, it never shrinks). */
static size_t not_counted_for_evict(void) {
    return clients_memory_not_counted_for_evict() + snapshot_buffer_bytes() + repl_replica_buffers_memory();
}

/* Client memory is never paid for by deleting keys (Keel issue 5). It is
 * transient and bounded by backpressure, so eviction sees the clients as
 * always using exactly their budget (client-output-backpressure-total,
 * 2% of maxmemory by default) whatever they use at the moment: a burst of
 * slow readers evicts nothing, and dataset + budget stays within
 * maxmemory, so the whole process stays within what the operator gave
 * it as long as clients stay within their budget. */
size_t memstats_used_for_eviction(void) {
    size_t used = zmalloc_used_memory(), skip = not_counted_for_evict();
    used = used > skip ? used - skip : 0;
    return used + clients_memory_budget();
}

size_t memory_used_for_eviction(void) { return memstats_used_for_eviction(); }

void memstats_collect(mem_figures *f) {
    if (!cache_valid) memstats_refresh_cache();
    memset(f, 0, sizeof(*f));
    server_update_peak_memory();
    f->used = zmalloc_used_memory();
    f->peak = server.stat.peak_memory;
    f->startup = server.initial_memory_usage;
    f->rss = cache.rss;
    f->alloc_allocated = cache.allocated;
    f->alloc_active = cache.active;
    f->alloc_resident = cache.resident;
    for (client *c = server.clients; c; c = c->next) f->clients_normal += client_memory_usage(c);
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        f->tables += db_table_overhead(d);
        f->keys += db_size(d);
    }
    f->repl_backlog = repl_backlog_memory();
    f->clients_slaves = repl_replica_buffers_memory();
    f->overhead = f->startup + f->clients_normal + f->clients_slaves + f->aof_buffer + f->repl_backlog + f->tables;
    f->dataset = f->used > f->overhead ? f->used - f->overhead : 0;
    f->not_counted_for_evict = not_counted_for_evict();
}

static size_t value_usage(const entry *e, size_t samples) {
    int enc = entry_encoding(e);
    if (entry_value_inline(e)) return 0; /* counted in the entry block */
    const type_ops *ops = type_ops_for(entry_type(e));
    if (!ops || !ops->mem_usage) return 0;
    return ops->mem_usage(enc, entry_ptr(e), samples);
}

/* A table slot's share per key for memory_entry_usage_offline: 64-byte
 * buckets of 7 slots, which a table fills to between 38% (just grown) and
 * 77% (about to grow): about 60% on average, 15 bytes per key. MEMORY USAGE in
 * a live database gives 12 to 18 (db_mem_figures). */
#define OFFLINE_SLOT_SHARE 15

size_t memory_entry_usage_offline(const entry *e) {
    size_t usage = entry_alloc_size(e) + value_usage(e, 0) + OFFLINE_SLOT_SHARE;
    if (entry_has_expire(e)) usage += OFFLINE_SLOT_SHARE;
    return usage;
}

/* The key's share of its tables: see db_mem_figures. */
size_t memstats_entry_usage(db *d, const entry *e, size_t samples) {
    db_mem m;
    db_mem_figures(d, &m);
    size_t usage = entry_alloc_size(e) + value_usage(e, samples) + m.per_key;
    if (entry_has_expire(e)) usage += m.per_expire;
    return usage;
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }
static long long diff(size_t a, size_t b) { return (long long)a - (long long)b; }

kstr memstats_info_section(kstr s) {
    mem_figures f;
    memstats_collect(&f);
    char used_h[32], rss_h[32], peak_h[32], sys_h[32], max_h[32];
    long long sysmem = memstats_total_system_memory();
    bytes_to_human(used_h, sizeof(used_h), f.used);
    bytes_to_human(rss_h, sizeof(rss_h), f.rss);
    bytes_to_human(peak_h, sizeof(peak_h), f.peak);
    bytes_to_human(sys_h, sizeof(sys_h), (unsigned long long)sysmem);
    bytes_to_human(max_h, sizeof(max_h), (unsigned long long)server.maxmemory);
    size_t net = f.used > f.startup ? f.used - f.startup : 0;
    s = kstr_cat_printf(s,
        "# Memory\r\n"
        "used_memory:%zu\r\n"
        "used_memory_human:%s\r\n"
        "used_memory_rss:%zu\r\n"
        "used_memory_rss_human:%s\r\n"
        "used_memory_peak:%zu\r\n"
        "used_memory_peak_human:%s\r\n"
        "used_memory_peak_perc:%.2f%%\r\n"
        "used_memory_overhead:%zu\r\n"
        "used_memory_startup:%zu\r\n"
        "used_memory_dataset:%zu\r\n"
        "used_memory_dataset_perc:%.2f%%\r\n"
        "allocator_allocated:%zu\r\n"
        "allocator_active:%zu\r\n"
        "allocator_resident:%zu\r\n"
        "total_system_memory:%lld\r\n"
        "total_system_memory_human:%s\r\n",
        f.used, used_h, f.rss, rss_h, f.peak, peak_h, ratio(f.used, f.peak) * 100.0, f.overhead, f.startup,
        f.dataset, ratio(f.dataset, net) * 100.0, f.alloc_allocated, f.alloc_active, f.alloc_resident, sysmem,
        sys_h);
    s = script_memory_info(s);
    s = kstr_cat_printf(s,
        "maxmemory:%lld\r\n"
        "maxmemory_human:%s\r\n"
        "maxmemory_policy:%s\r\n"
        "allocator_frag_ratio:%.2f\r\n"
        "allocator_frag_bytes:%lld\r\n"
        "allocator_rss_ratio:%.2f\r\n"
        "allocator_rss_bytes:%lld\r\n"
        "rss_overhead_ratio:%.2f\r\n"
        "rss_overhead_bytes:%lld\r\n"
        "mem_fragmentation_ratio:%.2f\r\n"
        "mem_fragmentation_bytes:%lld\r\n"
        "mem_not_counted_for_evict:%zu\r\n"
        "mem_replication_backlog:%zu\r\n"
        "mem_total_replication_buffers:%zu\r\n"
        "mem_clients_slaves:%zu\r\n"
        "mem_clients_normal:%zu\r\n"
        "mem_cluster_links:%zu\r\n"
        "mem_aof_buffer:%zu\r\n"
        "mem_allocator:%s\r\n"
        "active_defrag_running:%d\r\n"
        "lazyfree_pending_objects:%zu\r\n"
        "lazyfreed_objects:%zu\r\n"
        /* Keel only: purges of idle allocator pages under pressure (reclaim.c). */
        "allocator_reclaim_purges:%lld\r\n"
        /* Keel only: the running snapshot's buffers (persist/snapshot.h). */
        "mem_snapshot_buffers:%zu\r\n"
        /* Keel only: the early warning (growth.c). */
        "used_memory_growth_1min:%.2f\r\n"
        "used_memory_growth_5min:%.2f\r\n"
        "used_memory_growth_60min:%.2f\r\n"
        "maxmemory_time_to_full_seconds:%lld\r\n",
        server.maxmemory, max_h, evict_policy_name(server.maxmemory_policy),
        ratio(f.alloc_active, f.alloc_allocated), diff(f.alloc_active, f.alloc_allocated),
        ratio(f.alloc_resident, f.alloc_active), diff(f.alloc_resident, f.alloc_active),
        ratio(f.rss, f.alloc_resident), diff(f.rss, f.alloc_resident), ratio(f.rss, f.used), diff(f.rss, f.used),
        f.not_counted_for_evict, f.repl_backlog, repl_buffers_memory(), f.clients_slaves, f.clients_normal,
        cluster_links_memory(), f.aof_buffer,
        zmalloc_allocator_name(), defrag_running(), lazyfree_pending_objects(), lazyfree_freed_objects(),
        reclaim_purges(), snapshot_buffer_bytes(), memory_growth_rate(1), memory_growth_rate(5),
        memory_growth_rate(60), memory_seconds_to_full());
    return s;
}
