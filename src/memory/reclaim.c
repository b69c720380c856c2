/*
 * reclaim: give freed pages back to the system when the process nears the
 * memory the operator gave it.
 *
 * jemalloc keeps pages it no longer uses ("dirty" pages) for a while
 * (dirty_decay_ms, 10 s) so that the next allocation of that size does
 * not have to fault them in again. That is a good trade when memory is
 * plentiful and a bad one when it is not: after a burst (a bulk load, a
 * wave of large replies to slow readers, a table rehash) those pages sit
 * in RSS for seconds while the dataset is already at maxmemory, and RSS
 * is what the kernel's OOM killer and the operator's container limit see.
 *
 * So when maxmemory is set, RSS is within RECLAIM_NEAR_PCT of it and the
 * allocator holds more than RECLAIM_MIN_PCT of maxmemory in pages that
 * are resident but unused (dirty and muzzy pages), the lazy free thread is
 * asked to purge them, at most once per RECLAIM_INTERVAL_MS. The purge
 * runs off the main thread (see lazyfree.c); its cost is page faults when
 * those sizes are allocated again, which is the right price only under
 * pressure, hence the thresholds. jemalloc-bg-thread (on by default)
 * handles the unpressured case on jemalloc's own schedule.
 */
#include "memory/mem_internal.h"
#include "core/server.h"

#define RECLAIM_NEAR_PCT 90     /* RSS above this % of maxmemory: under pressure */
#define RECLAIM_MIN_PCT 1       /* idle resident pages worth a purge, % of maxmemory */
#define RECLAIM_MIN_BYTES (1024 * 1024)
#define RECLAIM_INTERVAL_MS 100

static long long last_purge_ms;
static long long purges;

long long reclaim_purges(void) { return purges; }

void reclaim_cron(void) {
    if (server.maxmemory <= 0) return;
    const alloc_figures *a = memstats_cached();
    size_t rss = a->rss, idle = a->idle_pages;
    size_t limit = (size_t)server.maxmemory;
    if (rss < limit / 100 * RECLAIM_NEAR_PCT) return;
    if (idle < limit / 100 * RECLAIM_MIN_PCT || idle < RECLAIM_MIN_BYTES) return;
    long long now = server_mstime();
    if (now - last_purge_ms < RECLAIM_INTERVAL_MS) return;
    last_purge_ms = now;
    purges++;
    lazyfree_purge_async();
}
