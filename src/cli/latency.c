/*
 * latency: --latency, --latency-history, --latency-dist and
 * --intrinsic-latency, printed as redis-cli prints them.
 *
 * The first three time PING round trips every 10 ms. --latency on a
 * terminal redraws one line forever; with --raw, --csv, --json or a
 * redirected stdout it samples for -i seconds (default 1) and prints one
 * line. --latency-history prints a line per -i seconds (default 15).
 * --latency-dist draws a 256-colour spectrum of round trips per -i seconds
 * (default 1). --intrinsic-latency needs no server: it measures how long
 * this process is kept from running, which bounds what any server on this
 * machine can achieve.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modes.h"

#define SAMPLE_EVERY_MS 10
#define HISTORY_DEFAULT_MS 15000
#define DIST_DEFAULT_MS 1000

static int latency_history;
static int dist_mono;
static long long intrinsic_seconds;

static int opt_latency(cli_opts *o, const char *a) {
    return cli_select_mode(o, mode_latency, "--latency", 1);
}
static int opt_latency_history(cli_opts *o, const char *a) {
    latency_history = 1;
    return cli_select_mode(o, mode_latency, "--latency", 1);
}
static int opt_latency_dist(cli_opts *o, const char *a) {
    return cli_select_mode(o, mode_latency_dist, "--latency-dist", 1);
}
static int opt_mono(cli_opts *o, const char *a) {
    dist_mono = 1;
    return 0;
}
static int opt_intrinsic(cli_opts *o, const char *a) {
    intrinsic_seconds = atoll(a);
    return cli_select_mode(o, mode_intrinsic_latency, "--intrinsic-latency", 0);
}

const cli_option latency_options[] = {
    {"--latency", 0, opt_latency, "          Sample PING round trips (ms): forever on a terminal,\n"
                                  "                     else for -i seconds (default 1) and print one line."},
    {"--latency-history", 0, opt_latency_history, "  Like --latency, one line per -i seconds (default 15)."},
    {"--latency-dist", 0, opt_latency_dist, "     Round trips as a 256-colour spectrum per -i seconds."},
    {"--mono", 0, opt_mono, "             Monochrome --latency-dist."},
    {"--intrinsic-latency", 1, opt_intrinsic, "<sec> Measure this machine's own scheduling latency."},
    {NULL, 0, NULL, NULL},
};

/* Each line is flushed: --latency-history is often piped and stopped
 * with a signal. */
static void print_stats(const cli_opts *o, long long min, long long max, double avg,
                        long long count) {
    switch (o->output) {
    case OUTPUT_STANDARD:
        printf("min: %lld, max: %lld, avg: %.2f (%lld samples)", min, max, avg, count);
        fflush(stdout);
        break;
    case OUTPUT_CSV:
        printf("%lld,%lld,%.2f,%lld\n", min, max, avg, count);
        break;
    case OUTPUT_RAW:
        printf("%lld %lld %.2f %lld\n", min, max, avg, count);
        break;
    case OUTPUT_JSON:
    case OUTPUT_QUOTED_JSON:
        printf("{\"min\": %lld, \"max\": %lld, \"avg\": %.2f, \"count\": %lld}\n", min, max, avg,
               count);
        break;
    }
    fflush(stdout);
}

/* One PING's round trip in microseconds, reconnecting when the link drops. */
static long long ping_us(cli_ctx *ctx) {
    for (int tries = 0;; tries++) {
        if (!ctx->conn) {
            printf("\r\x1b[0KReconnecting... %d\r", tries);
            fflush(stdout);
            sleep(1);
            ctx->conn = cli_connect(ctx->opts, 1);
            if (!ctx->conn) continue;
            printf("\r\x1b[0K");
        }
        long long start = cli_ustime();
        rr_reply *r = conn_call(ctx->conn, "PING", NULL);
        if (r) {
            rr_reply_free(r);
            return cli_ustime() - start;
        }
        if (!conn_lost(ctx->conn)) {
            fprintf(stderr, "Error: %s\n", conn_error(ctx->conn));
            exit(1);
        }
        conn_close(ctx->conn);
        ctx->conn = NULL;
    }
}

int mode_latency(cli_ctx *ctx) {
    const cli_opts *o = ctx->opts;
    long long min = 0, max = 0, tot = 0, count = 0;
    long long history_ms = o->interval_us ? o->interval_us / 1000 : HISTORY_DEFAULT_MS;
    long long once_ms = o->interval_us ? o->interval_us / 1000 : 1000;
    long long start = cli_mstime();
    for (;;) {
        long long ms = ping_us(ctx) / 1000;
        count++;
        if (count == 1) min = max = tot = ms;
        else {
            if (ms < min) min = ms;
            if (ms > max) max = ms;
            tot += ms;
        }
        double avg = (double)tot / (double)count;
        if (o->output == OUTPUT_STANDARD) {
            printf("\x1b[0G\x1b[2K");
            print_stats(o, min, max, avg, count);
        } else if (latency_history) {
            print_stats(o, min, max, avg, count);
        } else if (cli_mstime() - start > once_ms) {
            print_stats(o, min, max, avg, count);
            return 0;
        }
        if (latency_history && cli_mstime() - start > history_ms) {
            printf(" -- %.2f seconds range\n", (double)(cli_mstime() - start) / 1000);
            fflush(stdout);
            start = cli_mstime();
            min = max = tot = count = 0;
        }
        usleep(SAMPLE_EVERY_MS * 1000);
    }
}

/* Buckets of the spectrum: upper bound in microseconds (0: the rest). */
static const struct {
    long long max;
    char sym;
} dist_buckets[] = {
    {10, '.'},        {125, '-'},       {250, '*'},       {500, '#'},       {1000, '1'},
    {2000, '2'},      {3000, '3'},      {4000, '4'},      {5000, '5'},      {6000, '6'},
    {7000, '7'},      {8000, '8'},      {9000, '9'},      {10000, 'A'},     {20000, 'B'},
    {30000, 'C'},     {40000, 'D'},     {50000, 'E'},     {100000, 'F'},    {200000, 'G'},
    {300000, 'H'},    {400000, 'I'},    {500000, 'J'},    {1000000, 'K'},   {2000000, 'L'},
    {4000000, 'M'},   {8000000, 'N'},   {16000000, 'O'},  {30000000, 'P'},  {60000000, 'Q'},
    {0, '?'},
};
#define NBUCKETS (sizeof(dist_buckets) / sizeof(dist_buckets[0]))

static const int palette_color[] = {0, 233, 234, 235, 237, 239, 241, 243, 245, 247,
                                    144, 143, 142, 184, 226, 214, 208, 202, 196};
static const int palette_mono[] = {0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253};

static const int *palette(size_t *n) {
    if (dist_mono) {
        *n = sizeof(palette_mono) / sizeof(palette_mono[0]);
        return palette_mono;
    }
    *n = sizeof(palette_color) / sizeof(palette_color[0]);
    return palette_color;
}

static void dist_legend(void) {
    size_t n;
    const int *pal = palette(&n);
    printf("---------------------------------------------\n");
    printf(". - * #          .01 .125 .25 .5 milliseconds\n");
    printf("1,2,3,...,9      from 1 to 9     milliseconds\n");
    printf("A,B,C,D,E        10,20,30,40,50  milliseconds\n");
    printf("F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n");
    printf("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n");
    printf("From 0 to 100%%: ");
    for (size_t i = 0; i < n; i++) printf("\033[48;5;%dm ", pal[i]);
    printf("\033[0m\n");
    printf("---------------------------------------------\n");
}

static void dist_line(long long *counts, long long total) {
    size_t n;
    const int *pal = palette(&n);
    printf("\033[38;5;0m");
    for (size_t i = 0; i < NBUCKETS; i++) {
        int idx = (int)ceil((double)counts[i] / (double)total * (double)(n - 1));
        printf("\033[48;5;%dm%c", pal[idx], dist_buckets[i].sym);
        counts[i] = 0;
    }
    printf("\033[0m\n");
    fflush(stdout);
}

int mode_latency_dist(cli_ctx *ctx) {
    long long counts[NBUCKETS] = {0};
    long long every_ms = ctx->opts->interval_us ? ctx->opts->interval_us / 1000 : DIST_DEFAULT_MS;
    long long start = cli_ustime(), total = 0;
    int shown = 0;
    for (;;) {
        long long us = ping_us(ctx);
        total++;
        for (size_t i = 0; i < NBUCKETS; i++) {
            if (dist_buckets[i].max == 0 || us <= dist_buckets[i].max) {
                counts[i]++;
                break;
            }
        }
        if ((cli_ustime() - start) / 1000 > every_ms) {
            if (shown++ % 20 == 0) dist_legend();
            dist_line(counts, total);
            start = cli_ustime();
            total = 0;
        }
        usleep(SAMPLE_EVERY_MS * 1000);
    }
}

static volatile sig_atomic_t intrinsic_stop;

static void intrinsic_sigint(int sig) {
    intrinsic_stop = 1;
}

/* A little work between clock reads, so the loop is not only syscalls. */
static unsigned long busy_work(unsigned long seed) {
    for (int i = 0; i < 100; i++) seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return seed;
}

int mode_intrinsic_latency(cli_ctx *ctx) {
    long long begin = cli_ustime(), test_end = begin + intrinsic_seconds * 1000000;
    long long max = 0, runs = 0;
    volatile unsigned long sink = 1;
    signal(SIGINT, intrinsic_sigint);
    for (;;) {
        long long start = cli_ustime();
        sink = busy_work(sink);
        long long end = cli_ustime();
        long long latency = end - start;
        runs++;
        if (latency <= 0) continue;
        if (latency > max) {
            max = latency;
            printf("Max latency so far: %lld microseconds.\n", max);
        }
        /* The average run: elapsed time over runs, sleeps included. */
        double avg = (double)(end - begin) / (double)runs;
        if (end > test_end || intrinsic_stop) {
            printf("\n%lld total runs (avg latency: %.4f microseconds / %.2f nanoseconds per run).\n",
                   runs, avg, avg * 1e3);
            printf("Worst run took %.0fx longer than the average latency.\n", (double)max / avg);
            return 0;
        }
    }
}
