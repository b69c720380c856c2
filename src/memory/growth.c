/*
 * growth: the early warning of INFO memory. Once a second the cron takes a
 * sample (used_memory, RSS, fragmentation ratio, evicted keys) into a fixed
 * ring of an hour (GROWTH_RING samples, static: no allocation, ~190 KB of
 * address space touched as it fills). From it come the growth rate of
 * used_memory over the last 1, 5 and 60 minutes and the seconds left
 * before maxmemory at the current rate; the HTTP dashboard draws the ring.
 *
 * The estimator. Each window's rate is the least-squares slope of
 * used_memory against time over the samples in that window: every sample
 * counts, so the spikes of a single second (a big reply buffer, a lazy
 * free finishing) move it little, unlike a difference of two end points.
 * The time to full divides the headroom (maxmemory minus the memory
 * eviction counts, see memstats.c) by the larger of the 1- and 5-minute
 * rates: a sustained rise shows within seconds, and a short lull does not
 * hide a trend. It is -1 when there is no maxmemory, when neither rate
 * is positive, or when the answer is beyond 30 days (on an idle server the
 * slope is a few bytes a second of client-buffer noise, which would give
 * estimates of years), and 0 once the headroom is gone.
 *
 * Discontinuities. A FLUSHALL/FLUSHDB, or any sample more than 10% below
 * the previous one (a big DEL, a purge, an asynchronous flush finishing),
 * starts a new series: rates use only samples taken since, so the drop is
 * not read as a steep negative trend that would silence the warning for an
 * hour. A bulk load is real growth and is reported as such: the 1-minute
 * rate jumps with it and decays to the new trend within a minute once the
 * load stops; the 60-minute rate shows the long trend. A window needs at
 * least GROWTH_MIN_SAMPLES samples of the current series; before that its
 * rate is 0.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "core/server.h"

#include <string.h>

#define GROWTH_RING 3600
#define GROWTH_PERIOD_MS 1000
#define GROWTH_MIN_SAMPLES 5
#define GROWTH_DROP_RESET 0.10
#define GROWTH_HORIZON_S (30LL * 86400) /* beyond it, noise: reported as -1 */

static struct {
    memory_sample ring[GROWTH_RING];
    size_t next, count;
    long long series_start_ms; /* samples before it are ignored for rates */
    int reset_pending;
    double rate[3]; /* bytes/s over 1, 5, 60 minutes */
} g;

static const int window_seconds[3] = {60, 300, 3600};

static const memory_sample *sample_back(size_t age) { /* 0: newest */
    return &g.ring[(g.next + GROWTH_RING - 1 - age) % GROWTH_RING];
}

/* Least-squares slope over the samples of the current series within the
 * last `seconds`, in bytes per second. */
static double window_rate(long long now_ms, int seconds) {
    long long from = now_ms - (long long)seconds * 1000;
    if (from < g.series_start_ms) from = g.series_start_ms;
    double n = 0, st = 0, su = 0;
    size_t i = 0;
    for (; i < g.count; i++) {
        const memory_sample *s = sample_back(i);
        if (s->ms < from) break;
        n++;
        st += (double)(s->ms - now_ms) / 1000.0;
        su += (double)s->used;
    }
    if (n < GROWTH_MIN_SAMPLES) return 0.0;
    double tm = st / n, um = su / n, num = 0, den = 0;
    for (size_t j = 0; j < i; j++) {
        const memory_sample *s = sample_back(j);
        double dt = (double)(s->ms - now_ms) / 1000.0 - tm;
        num += dt * ((double)s->used - um);
        den += dt * dt;
    }
    return den > 0 ? num / den : 0.0;
}

static void take_sample(long long now) {
    const alloc_figures *a = memstats_cached();
    memory_sample s = {.ms = now, .used = zmalloc_used_memory(), .rss = a->rss,
                       .evicted = server.stat.evictedkeys};
    s.frag = s.used ? (double)s.rss / (double)s.used : 0.0;
    if (g.count) {
        const memory_sample *prev = sample_back(0);
        if ((double)s.used < (double)prev->used * (1.0 - GROWTH_DROP_RESET)) g.reset_pending = 1;
    }
    if (g.reset_pending) {
        g.series_start_ms = now;
        g.reset_pending = 0;
    }
    g.ring[g.next] = s;
    g.next = (g.next + 1) % GROWTH_RING;
    if (g.count < GROWTH_RING) g.count++;
    for (int w = 0; w < 3; w++) g.rate[w] = window_rate(now, window_seconds[w]);
}

void growth_cron(void) {
    long long now = server_mstime();
    if (g.count && now - sample_back(0)->ms < GROWTH_PERIOD_MS) return;
    take_sample(now);
}

void growth_reset(void) { g.reset_pending = 1; }

double memory_growth_rate(int minutes) {
    switch (minutes) {
    case 1: return g.rate[0];
    case 5: return g.rate[1];
    default: return g.rate[2];
    }
}

long long memory_seconds_to_full(void) {
    if (!server.maxmemory) return -1;
    size_t used = memstats_used_for_eviction();
    if (used >= (size_t)server.maxmemory) return 0;
    double rate = g.rate[0] > g.rate[1] ? g.rate[0] : g.rate[1];
    if (rate <= 0.0) return -1;
    double left = (double)((size_t)server.maxmemory - used) / rate;
    return left > (double)GROWTH_HORIZON_S ? -1 : (long long)left;
}

size_t memory_history(memory_sample *out, size_t max) {
    size_t n = g.count < max ? g.count : max;
    for (size_t i = 0; i < n; i++) out[i] = *sample_back(n - 1 - i);
    return n;
}

size_t memory_history_ring_bytes(void) { return sizeof(g.ring); }
