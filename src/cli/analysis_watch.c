/*
 * analysis_watch: the modes that poll INFO, --stat (redis-cli's rolling
 * line plus evictions/s, expirations/s and the hit ratio) and --oom-watch
 * (used memory against maxmemory, for a terminal, cron or a monitoring
 * check).
 *
 * --oom-watch's exit code is the worst level seen, as monitoring plugins
 * use it: 0 ok, 1 warning, 2 critical, 3 unknown (the server could not be
 * asked). Rates (evictions, expirations, growth) are differences between
 * two INFO samples, so --once takes two samples -i seconds apart (1 s by
 * default) rather than printing rates it cannot know. Growth is smoothed
 * (exponential average over about five samples) so that one burst does not
 * swing the time-to-full estimate.
 *
 * Without maxmemory the server grows until the kernel kills it: the watch
 * then says so loudly, measures against the machine's memory
 * (total_system_memory) and reports at least a warning.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/analysis_live.h"

/* ---- --stat ---- */

typedef struct stat_prev {
    int have;
    long long requests, evicted, expired, hits, misses;
    long long at_us;
} stat_prev;

static void stat_header(void) {
    printf("------- data ------ --------------------- load -------------------- - child - "
           "----- keyspace events -----\n"
           "keys       mem      clients blocked requests            connections           "
           "evict/s  expire/s hit%%\n");
}

static const char *child_state(const char *info) {
    long long v = an_info_ll(info, "rdb_bgsave_in_progress", 0) | an_info_ll(info, "aof_rewrite_in_progress", 0) << 1 |
                  an_info_ll(info, "loading", 0) << 2;
    switch (v) {
    case 1: return "SAVE";
    case 2: return "AOF";
    case 3: return "SAVE+AOF";
    case 4: return "LOAD";
    default: return "";
    }
}

static void stat_line(const char *info, stat_prev *p) {
    char buf[64], mem[32];
    long long now = cli_ustime();
    snprintf(buf, sizeof(buf), "%lld", an_info_total_keys(info));
    printf("%-11s", buf);
    analysis_human_bytes(mem, sizeof(mem), (double)an_info_ll(info, "used_memory", 0));
    printf("%-8s", mem);
    snprintf(buf, sizeof(buf), "%lld", an_info_ll(info, "connected_clients", 0));
    printf(" %-8s", buf);
    snprintf(buf, sizeof(buf), "%lld", an_info_ll(info, "blocked_clients", 0));
    printf("%-8s", buf);
    long long req = an_info_ll(info, "total_commands_processed", 0);
    snprintf(buf, sizeof(buf), "%lld (+%lld)", req, p->have ? req - p->requests : 0);
    printf("%-19s", buf);
    snprintf(buf, sizeof(buf), "%lld", an_info_ll(info, "total_connections_received", 0));
    printf(" %-12s", buf);
    printf("%-9s", child_state(info));
    long long ev = an_info_ll(info, "evicted_keys", 0), ex = an_info_ll(info, "expired_keys", 0);
    long long hits = an_info_ll(info, "keyspace_hits", 0), misses = an_info_ll(info, "keyspace_misses", 0);
    double secs = p->have ? (double)(now - p->at_us) / 1e6 : 0;
    long long dh = p->have ? hits - p->hits : hits, dm = p->have ? misses - p->misses : misses;
    if (secs > 0)
        printf(" %-8.0f %-8.0f", (double)(ev - p->evicted) / secs, (double)(ex - p->expired) / secs);
    else
        printf(" %-8s %-8s", "-", "-");
    if (dh + dm > 0)
        printf(" %.2f%%\n", 100.0 * (double)dh / (double)(dh + dm));
    else
        printf(" -\n");
    *p = (stat_prev){1, req, ev, ex, hits, misses, now};
}

int mode_stat(cli_ctx *ctx) {
    long long interval = ctx->opts->interval_us > 0 ? ctx->opts->interval_us : 1000000;
    stat_prev prev = {0};
    an_catch_sigint();
    for (int i = 0; !an_cancel; i++) {
        char *info = an_info(ctx->conn, NULL);
        if (i % 20 == 0) stat_header();
        stat_line(info, &prev);
        fflush(stdout);
        free(info);
        usleep((useconds_t)interval);
    }
    return 0;
}

/* ---- --oom-watch ---- */

enum { LEVEL_OK, LEVEL_WARN, LEVEL_CRIT, LEVEL_UNKNOWN };
static const char *level_names[] = {"OK", "WARN", "CRIT", "UNKNOWN"};

typedef struct watch_sample {
    long long at_us;
    long long used, max, sysmem, evicted, expired, rejected, rss;
    double frag;
    char policy[32], save_status[16];
    int keel, saving;
} watch_sample;

typedef struct watch_state {
    watch_sample prev;
    int have_prev;
    double growth;   /* bytes/s, smoothed */
    int have_growth;
    int worst, last_level;
    int warned_nomax;
} watch_state;

static void take_sample(cli_conn *c, watch_sample *s) {
    char *info = an_info(c, "all");
    s->at_us = cli_ustime();
    s->used = an_info_ll(info, "used_memory", 0);
    s->max = an_info_ll(info, "maxmemory", 0);
    s->sysmem = an_info_ll(info, "total_system_memory", 0);
    s->evicted = an_info_ll(info, "evicted_keys", 0);
    s->expired = an_info_ll(info, "expired_keys", 0);
    s->rejected = an_info_ll(info, "rejected_connections", 0);
    s->rss = an_info_ll(info, "used_memory_rss", 0);
    s->frag = an_info_double(info, "mem_fragmentation_ratio", 0);
    if (!an_info_field(info, "maxmemory_policy", s->policy, sizeof(s->policy))) snprintf(s->policy, 32, "?");
    if (!an_info_field(info, "rdb_last_bgsave_status", s->save_status, sizeof(s->save_status)))
        snprintf(s->save_status, 16, "?");
    s->keel = an_is_keel(info);
    s->saving = an_info_ll(info, "rdb_bgsave_in_progress", 0) > 0;
    free(info);
}

static void format_eta(char *buf, size_t len, double secs) {
    if (secs < 0 || !isfinite(secs))
        snprintf(buf, len, "never");
    else if (secs < 120)
        snprintf(buf, len, "%.0fs", secs);
    else if (secs < 7200)
        snprintf(buf, len, "%.0fm", secs / 60);
    else if (secs < 172800)
        snprintf(buf, len, "%.1fh", secs / 3600);
    else
        snprintf(buf, len, "%.1fd", secs / 86400);
}

static int level_of(double ratio) {
    return ratio >= an_set.crit ? LEVEL_CRIT : ratio >= an_set.warn ? LEVEL_WARN : LEVEL_OK;
}

/* What a save would need: Redis forks, and the child's pages are copied
 * as the parent writes them (up to the whole dataset); Keel's snapshot
 * keeps only the old versions of keys written during the save. */
static void save_need(char *buf, size_t len, const watch_sample *s) {
    char h[32];
    if (s->keel) {
        snprintf(buf, len, "save: fork-less");
    } else {
        analysis_human_bytes(h, sizeof(h), (double)s->used);
        snprintf(buf, len, "save: fork may copy up to %s", h);
    }
}

static void watch_line(watch_state *w, const watch_sample *s) {
    char used[32], max[32], eta[32], growth[32], save[64], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    long long limit = s->max > 0 ? s->max : s->sysmem;
    double ratio = limit > 0 ? (double)s->used / (double)limit : 0;
    int level = level_of(ratio);
    if (s->max == 0) {
        if (!w->warned_nomax)
            printf("!!! WARNING: maxmemory is not set: the server grows until the system runs out of memory and "
                   "the kernel kills it. Measuring against the machine's memory; set maxmemory (keel-cli "
                   "--maxmemory-advice tells how much). !!!\n");
        w->warned_nomax = 1;
        if (level < LEVEL_WARN) level = LEVEL_WARN;
    }
    analysis_human_bytes(used, sizeof(used), (double)s->used);
    analysis_human_bytes(max, sizeof(max), (double)limit);
    double secs = w->have_prev ? (double)(s->at_us - w->prev.at_us) / 1e6 : 0;
    printf("%s used %s/%s%s (%.1f%%) policy %s frag %.2f", stamp, used, max, s->max ? "" : " system", ratio * 100,
           s->policy, s->frag);
    if (secs > 0) {
        double rate = (double)(s->used - w->prev.used) / secs;
        w->growth = w->have_growth ? 0.7 * w->growth + 0.3 * rate : rate;
        w->have_growth = 1;
        analysis_human_bytes(growth, sizeof(growth), w->growth);
        format_eta(eta, sizeof(eta), w->growth > 0 ? (double)(limit - s->used) / w->growth : -1);
        printf(" evict/s %.0f expire/s %.0f growth %s%s/s full in %s", (double)(s->evicted - w->prev.evicted) / secs,
               (double)(s->expired - w->prev.expired) / secs, w->growth >= 0 ? "+" : "", growth, eta);
        if (s->rejected > w->prev.rejected) printf(" rejected +%lld", s->rejected - w->prev.rejected);
    } else {
        printf(" evict/s - expire/s - growth - full in -");
    }
    save_need(save, sizeof(save), s);
    printf(" last save %s %s [%s]\n", s->save_status, save, level_names[level]);
    if (level > w->last_level && level >= LEVEL_WARN && s->max > 0)
        printf("ALERT %s: used_memory is %.1f%% of maxmemory (%s of %s), over the %s threshold of %.0f%%\n",
               level_names[level], ratio * 100, used, max, level == LEVEL_CRIT ? "critical" : "warning",
               (level == LEVEL_CRIT ? an_set.crit : an_set.warn) * 100);
    if (strcmp(s->save_status, "err") == 0) {
        printf("ALERT CRIT: the last save failed (rdb_last_bgsave_status:err)\n");
        level = LEVEL_CRIT;
    }
    if (level > w->worst) w->worst = level;
    w->last_level = level;
    w->prev = *s;
    w->have_prev = 1;
    fflush(stdout);
}

int mode_oom_watch(cli_ctx *ctx) {
    if (an_set.warn > an_set.crit) {
        fprintf(stderr, "--warn (%.2f) must not be above --crit (%.2f).\n", an_set.warn, an_set.crit);
        return LEVEL_UNKNOWN;
    }
    ctx->conn = cli_connect(ctx->opts, 0);
    if (!ctx->conn) {
        printf("UNKNOWN: could not connect to the server\n");
        return LEVEL_UNKNOWN;
    }
    an_io_exit_code = LEVEL_UNKNOWN;
    long long interval = ctx->opts->interval_us > 0 ? ctx->opts->interval_us : 1000000;
    watch_state w;
    memset(&w, 0, sizeof(w));
    an_catch_sigint();
    int samples = an_set.once ? 2 : -1;
    for (int i = 0; !an_cancel && (samples < 0 || i < samples); i++) {
        watch_sample s;
        take_sample(ctx->conn, &s);
        if (!an_set.once || i == samples - 1) watch_line(&w, &s);
        else {
            w.prev = s;
            w.have_prev = 1;
        }
        if (samples < 0 || i < samples - 1) usleep((useconds_t)interval);
    }
    conn_close(ctx->conn);
    ctx->conn = NULL;
    return w.worst;
}
