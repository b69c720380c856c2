/*
 * analysis_keys: the key-walking modes of redis-cli, --scan, --bigkeys,
 * --memkeys, --hotkeys (7.0) and --keystats (7.4), printed in redis-cli's
 * layout so that scripts reading its output read ours.
 *
 * Every mode walks the keyspace with SCAN (never KEYS: the server keeps
 * serving), pausing -i seconds every 100 SCAN calls, and asks about each
 * batch of keys in two pipelined rounds (TYPE, then the size command of
 * each type or MEMORY USAGE), so a batch costs two round trips whatever
 * its size. Keys that vanish between SCAN and TYPE are skipped. Ctrl-C
 * stops the walk and the summary covers what was seen.
 *
 * --memkeys-samples 0 means "every element" (MEMORY USAGE ... SAMPLES 0),
 * as in Redis 7.4; redis-cli 7.0 sends no SAMPLES for 0 (the server's
 * default of 5). Without the option, no SAMPLES is sent.
 *
 * One deliberate difference: redis-cli prints the per-type lines in the
 * order of its hash table (which varies); keel-cli prints them in a fixed
 * order (string, list, set, hash, zset, stream, then other types as met).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/analysis_live.h"

#define MAX_TYPES 16

typedef struct type_info {
    char name[32];
    const char *sizecmd; /* NULL: unknown type (modules) */
    const char *unit;
    unsigned long long biggest, count, total;
    char *biggest_key;   /* redis-cli's quoted form */
    char *biggest_raw;   /* --keystats prints the key unquoted */
} type_info;

typedef struct type_table {
    type_info t[MAX_TYPES];
    int n;
} type_table;

static const struct {
    const char *name, *sizecmd, *unit;
} known_types[] = {
    {"string", "STRLEN", "bytes"}, {"list", "LLEN", "items"},  {"set", "SCARD", "members"},
    {"hash", "HLEN", "fields"},    {"zset", "ZCARD", "members"}, {"stream", "XLEN", "entries"},
};

static void types_init(type_table *tt) {
    memset(tt, 0, sizeof(*tt));
    for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++) {
        snprintf(tt->t[i].name, sizeof(tt->t[i].name), "%s", known_types[i].name);
        tt->t[i].sizecmd = known_types[i].sizecmd;
        tt->t[i].unit = known_types[i].unit;
        tt->n++;
    }
}

static void types_free(type_table *tt) {
    for (int i = 0; i < tt->n; i++) {
        free(tt->t[i].biggest_key);
        free(tt->t[i].biggest_raw);
    }
}

/* The type named s ("none": the key is gone, NULL). */
static type_info *type_lookup(type_table *tt, const char *s) {
    if (strcmp(s, "none") == 0) return NULL;
    for (int i = 0; i < tt->n; i++)
        if (strcmp(tt->t[i].name, s) == 0) return &tt->t[i];
    if (tt->n == MAX_TYPES) return &tt->t[MAX_TYPES - 1];
    type_info *t = &tt->t[tt->n++];
    snprintf(t->name, sizeof(t->name), "%s", s);
    t->unit = "?";
    return t;
}

static char *quoted(const char *s, size_t len) {
    cli_buf b = {0};
    buf_repr(&b, s, len);
    return buf_take(&b);
}

static char *raw_copy(const char *s, size_t len) {
    char *p = malloc(len + 1);
    if (!p) exit(1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* TYPE of every key of the batch, pipelined. */
static void fetch_types(cli_conn *c, type_table *tt, const rr_reply *keys, type_info **types) {
    for (size_t i = 0; i < keys->elements; i++) {
        const char *argv[2] = {"TYPE", keys->element[i]->str};
        size_t lens[2] = {4, keys->element[i]->len};
        conn_append(c, 2, argv, lens);
    }
    for (size_t i = 0; i < keys->elements; i++) {
        rr_reply *r = an_read(c);
        if (r->type != RR_STATUS && r->type != RR_STRING) {
            if (r->type == RR_ERROR)
                fprintf(stderr, "TYPE returned an error: %s\n", r->str);
            else
                fprintf(stderr, "Invalid reply type (%d) for TYPE on key '%s'!\n", (int)r->type,
                        keys->element[i]->str);
            exit(1);
        }
        types[i] = type_lookup(tt, r->str);
        rr_reply_free(r);
    }
}

/* The size of every key (elements, or MEMORY USAGE bytes), pipelined. */
static void fetch_sizes(cli_conn *c, const rr_reply *keys, type_info **types, unsigned long long *sizes, int memkeys,
                        long long samples) {
    char sbuf[32];
    snprintf(sbuf, sizeof(sbuf), "%lld", samples);
    for (size_t i = 0; i < keys->elements; i++) {
        if (!types[i] || (!types[i]->sizecmd && !memkeys)) continue;
        const char *k = keys->element[i]->str;
        size_t klen = keys->element[i]->len;
        if (!memkeys) {
            const char *argv[2] = {types[i]->sizecmd, k};
            size_t lens[2] = {strlen(types[i]->sizecmd), klen};
            conn_append(c, 2, argv, lens);
        } else {
            const char *argv[5] = {"MEMORY", "USAGE", k, "SAMPLES", sbuf};
            size_t lens[5] = {6, 5, klen, 7, strlen(sbuf)};
            conn_append(c, samples < 0 ? 3 : 5, argv, lens);
        }
    }
    for (size_t i = 0; i < keys->elements; i++) {
        sizes[i] = 0;
        if (!types[i] || (!types[i]->sizecmd && !memkeys)) continue;
        rr_reply *r = an_read(c);
        if (r->type == RR_INTEGER)
            sizes[i] = (unsigned long long)r->integer;
        else
            fprintf(stderr, "Warning:  %s on '%s' failed (may have changed type)\n",
                    memkeys ? "MEMORY USAGE" : types[i]->sizecmd, keys->element[i]->str);
        rr_reply_free(r);
    }
}

static void grow_arrays(size_t n, size_t *cap, type_info ***types, unsigned long long **sizes) {
    if (n <= *cap) return;
    *types = realloc(*types, n * sizeof(**types));
    *sizes = realloc(*sizes, n * sizeof(**sizes));
    if (!*types || !*sizes) {
        fprintf(stderr, "Failed to allocate storage for keys!\n");
        exit(1);
    }
    *cap = n;
}

static double percent(unsigned long long part, unsigned long long whole) {
    return whole ? 100 * (double)part / (double)whole : 0;
}

/* ---- --bigkeys / --memkeys ---- */

static int big_keys(cli_ctx *ctx, int memkeys) {
    cli_conn *c = ctx->conn;
    type_table tt;
    types_init(&tt);
    an_catch_sigint();
    unsigned long long total_keys = (unsigned long long)an_dbsize(c), sampled = 0, totlen = 0;
    type_info **types = NULL;
    unsigned long long *sizes = NULL;
    size_t cap = 0;
    double pct = 0;
    printf("\n# Scanning the entire keyspace to find biggest keys as well as\n");
    printf("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    printf("# per 100 SCAN commands (not usually needed).\n\n");
    fflush(stdout);
    an_scanner s;
    an_scan_init(&s, ctx, 0, 100);
    const rr_reply *keys;
    for (;;) {
        pct = total_keys ? 100 * (double)sampled / (double)total_keys : 0;
        if (!(keys = an_scan_next(&s))) break;
        grow_arrays(keys->elements, &cap, &types, &sizes);
        fetch_types(c, &tt, keys, types);
        fetch_sizes(c, keys, types, sizes, memkeys, an_set.memkeys_samples);
        for (size_t i = 0; i < keys->elements; i++) {
            type_info *t = types[i];
            if (!t) continue;
            t->total += sizes[i];
            t->count++;
            totlen += keys->element[i]->len;
            sampled++;
            if (t->biggest < sizes[i]) {
                free(t->biggest_key);
                t->biggest_key = quoted(keys->element[i]->str, keys->element[i]->len);
                printf("[%05.2f%%] Biggest %-6s found so far '%s' with %llu %s\n", pct, t->name, t->biggest_key,
                       sizes[i], memkeys ? "bytes" : t->unit);
                t->biggest = sizes[i];
            }
            if (sampled % 1000000 == 0) printf("[%05.2f%%] Sampled %llu keys so far\n", pct, sampled);
        }
        fflush(stdout);
    }
    an_scan_done(&s);
    free(types);
    free(sizes);
    printf("\n-------- summary -------\n\n");
    if (an_cancel) printf("[%05.2f%%] ", pct);
    printf("Sampled %llu keys in the keyspace!\n", sampled);
    printf("Total key length in bytes is %llu (avg len %.2f)\n\n", totlen, totlen ? (double)totlen / sampled : 0);
    for (int i = 0; i < tt.n; i++)
        if (tt.t[i].biggest_key)
            printf("Biggest %6s found '%s' has %llu %s\n", tt.t[i].name, tt.t[i].biggest_key, tt.t[i].biggest,
                   memkeys ? "bytes" : tt.t[i].unit);
    printf("\n");
    for (int i = 0; i < tt.n; i++) {
        const type_info *t = &tt.t[i];
        printf("%llu %ss with %llu %s (%05.2f%% of keys, avg size %.2f)\n", t->count, t->name, t->total,
               memkeys ? "bytes" : t->unit, percent(t->count, sampled), t->count ? (double)t->total / t->count : 0);
    }
    types_free(&tt);
    return 0;
}

int mode_bigkeys(cli_ctx *ctx) { return big_keys(ctx, 0); }
int mode_memkeys(cli_ctx *ctx) { return big_keys(ctx, 1); }

/* ---- --hotkeys ---- */

#define HOTKEYS_SAMPLE 16

static void fetch_freqs(cli_conn *c, const rr_reply *keys, unsigned long long *freqs) {
    for (size_t i = 0; i < keys->elements; i++) {
        const char *argv[3] = {"OBJECT", "FREQ", keys->element[i]->str};
        size_t lens[3] = {6, 4, keys->element[i]->len};
        conn_append(c, 3, argv, lens);
    }
    for (size_t i = 0; i < keys->elements; i++) {
        rr_reply *r = an_read(c);
        freqs[i] = 0;
        if (r->type == RR_INTEGER) {
            freqs[i] = (unsigned long long)r->integer;
        } else if (r->type == RR_ERROR) {
            fprintf(stderr, "Error: %s\n", r->str);
            exit(1);
        } else {
            char *k = quoted(keys->element[i]->str, keys->element[i]->len);
            fprintf(stderr, "Warning: OBJECT freq on '%s' failed (may have been deleted)\n", k);
            free(k);
        }
        rr_reply_free(r);
    }
}

/* Keep the HOTKEYS_SAMPLE highest counters, lowest first (as redis-cli's
 * eviction-pool-like array). */
static int note_hot(unsigned long long *counters, char **hot, unsigned long long freq, const rr_reply *key) {
    int k = 0;
    while (k < HOTKEYS_SAMPLE && freq > counters[k]) k++;
    if (k == 0) return -1;
    k--;
    if (k == 0 || counters[k] == 0) {
        free(hot[k]);
    } else {
        free(hot[0]);
        memmove(counters, counters + 1, sizeof(counters[0]) * (size_t)k);
        memmove(hot, hot + 1, sizeof(hot[0]) * (size_t)k);
    }
    counters[k] = freq;
    hot[k] = quoted(key->str, key->len);
    return k;
}

int mode_hotkeys(cli_ctx *ctx) {
    cli_conn *c = ctx->conn;
    unsigned long long counters[HOTKEYS_SAMPLE] = {0}, sampled = 0;
    char *hot[HOTKEYS_SAMPLE] = {NULL};
    an_catch_sigint();
    unsigned long long total_keys = (unsigned long long)an_dbsize(c);
    unsigned long long *freqs = NULL;
    size_t cap = 0;
    double pct = 0;
    printf("\n# Scanning the entire keyspace to find hot keys as well as\n");
    printf("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    printf("# per 100 SCAN commands (not usually needed).\n\n");
    fflush(stdout);
    an_scanner s;
    an_scan_init(&s, ctx, 0, 100);
    const rr_reply *keys;
    for (;;) {
        pct = total_keys ? 100 * (double)sampled / (double)total_keys : 0;
        if (!(keys = an_scan_next(&s))) break;
        if (keys->elements > cap) {
            cap = keys->elements;
            freqs = realloc(freqs, cap * sizeof(*freqs));
            if (!freqs) exit(1);
        }
        fetch_freqs(c, keys, freqs);
        for (size_t i = 0; i < keys->elements; i++) {
            sampled++;
            if (sampled % 1000000 == 0) printf("[%05.2f%%] Sampled %llu keys so far\n", pct, sampled);
            int k = note_hot(counters, hot, freqs[i], keys->element[i]);
            if (k >= 0) printf("[%05.2f%%] Hot key '%s' found so far with counter %llu\n", pct, hot[k], freqs[i]);
        }
    }
    an_scan_done(&s);
    free(freqs);
    printf("\n-------- summary -------\n\n");
    if (an_cancel) printf("[%05.2f%%] ", pct);
    printf("Sampled %llu keys in the keyspace!\n", sampled);
    for (int i = 1; i <= HOTKEYS_SAMPLE; i++) {
        int k = HOTKEYS_SAMPLE - i;
        if (counters[k] > 0) printf("hot key found with counter: %llu\tkeyname: %s\n", counters[k], hot[k]);
        free(hot[k]);
    }
    return 0;
}

/* ---- --scan ---- */

int mode_scan(cli_ctx *ctx) {
    an_scanner s;
    an_catch_sigint();
    an_scan_init(&s, ctx, 0, 1);
    const rr_reply *keys;
    int quote = ctx->opts->output == OUTPUT_STANDARD;
    while ((keys = an_scan_next(&s))) {
        for (size_t i = 0; i < keys->elements; i++) {
            if (quote) {
                char *q = quoted(keys->element[i]->str, keys->element[i]->len);
                printf("%s\n", q);
                free(q);
            } else {
                fwrite(keys->element[i]->str, 1, keys->element[i]->len, stdout);
                putchar('\n');
            }
        }
    }
    an_scan_done(&s);
    return 0;
}

/* ---- --keystats (Redis 7.4) ---- */

typedef struct top_size {
    unsigned long long size;
    char type[16];
    char *key; /* quoted */
} top_size;

typedef struct keystats {
    type_table mem, len;
    top_size *top;
    unsigned long ntop, top_limit;
    unsigned long long *all_sizes; /* for the percentiles */
    size_t nsizes, cap_sizes;
    unsigned long long name_buckets[8], name_total, name_bytes, name_max;
    unsigned long long sampled, total_size;
} keystats;

/* Key name length buckets, as 7.4: 32 B, 256 B, 64 KB, 1, 16, 128, 512 MB. */
static const unsigned long long name_limits[7] = {32, 256, 65536, 1 << 20, 16 << 20, 128 << 20, 512ULL << 20};

static void note_top_size(keystats *ks, const rr_reply *key, unsigned long long size, const char *type) {
    if (ks->top_limit == 0) return;
    if (ks->ntop == ks->top_limit && size <= ks->top[ks->ntop - 1].size) return;
    unsigned long pos = 0;
    while (pos < ks->ntop && size <= ks->top[pos].size) pos++;
    if (ks->ntop == ks->top_limit) {
        free(ks->top[ks->ntop - 1].key);
        ks->ntop--;
    }
    memmove(ks->top + pos + 1, ks->top + pos, (ks->ntop - pos) * sizeof(top_size));
    ks->top[pos].size = size;
    snprintf(ks->top[pos].type, sizeof(ks->top[pos].type), "%.9s", type);
    ks->top[pos].key = quoted(key->str, key->len);
    ks->ntop++;
}

static void note_type(type_info *t, const rr_reply *key, unsigned long long size) {
    t->total += size;
    t->count++;
    if (t->biggest < size) {
        free(t->biggest_raw);
        t->biggest_raw = raw_copy(key->str, key->len);
        t->biggest = size;
    }
}

static void note_name(keystats *ks, size_t len) {
    int j = 0;
    while (j < 7 && len > name_limits[j]) j++;
    ks->name_buckets[j]++;
    ks->name_total++;
    ks->name_bytes += len;
    if (len > ks->name_max) ks->name_max = len;
}

static void keystats_batch(cli_ctx *ctx, keystats *ks, const rr_reply *keys, type_info ***mt, type_info ***lt,
                           unsigned long long **ms, unsigned long long **ls, size_t *cap, size_t *cap2) {
    grow_arrays(keys->elements, cap, mt, ms);
    grow_arrays(keys->elements, cap2, lt, ls);
    fetch_types(ctx->conn, &ks->mem, keys, *mt);
    fetch_sizes(ctx->conn, keys, *mt, *ms, 1, an_set.memkeys_samples);
    fetch_types(ctx->conn, &ks->len, keys, *lt);
    fetch_sizes(ctx->conn, keys, *lt, *ls, 0, an_set.memkeys_samples);
    for (size_t i = 0; i < keys->elements; i++) {
        if (!(*mt)[i] || !(*lt)[i]) continue;
        unsigned long long size = (*ms)[i];
        ks->total_size += size;
        ks->sampled++;
        note_top_size(ks, keys->element[i], size, (*mt)[i]->name);
        note_type((*mt)[i], keys->element[i], size);
        note_type((*lt)[i], keys->element[i], (*ls)[i]);
        if (ks->nsizes == ks->cap_sizes) {
            ks->cap_sizes = ks->cap_sizes ? ks->cap_sizes * 2 : 1024;
            ks->all_sizes = realloc(ks->all_sizes, ks->cap_sizes * sizeof(*ks->all_sizes));
            if (!ks->all_sizes) exit(1);
        }
        ks->all_sizes[ks->nsizes++] = size;
        note_name(ks, keys->element[i]->len);
    }
}

static char *human(char *buf, size_t len, double n) {
    analysis_human_bytes(buf, len, n);
    return buf;
}

static void print_keystats_head(const keystats *ks, unsigned long long total_keys, int tty) {
    char buf[64];
    double done = total_keys ? (ks->sampled < total_keys ? (double)ks->sampled / (double)total_keys : 1) : 0;
    if (tty) {
        int w = (int)round(60 * done);
        printf("%6.2f%% \033[32m", done * 100);
        for (int i = 0; i < w; i++) putchar('|');
        printf("\033[31m");
        for (int i = w; i < 60; i++) putchar('-');
        printf("\033[39m\n");
    } else {
        printf("%6.2f%% keys scanned\n", done * 100);
    }
    printf("Keys sampled: %llu\n", ks->sampled);
    printf("Keys size:    %s\n\n", human(buf, sizeof(buf), (double)ks->total_size));
    printf("--- Top %lu key sizes ---\n", ks->top_limit);
    for (unsigned long i = 0; i < ks->ntop; i++)
        printf("%3lu %8s %-10s %s\n", i + 1, human(buf, sizeof(buf), (double)ks->top[i].size), ks->top[i].type,
               ks->top[i].key);
    printf("\n--- Top size per type ---\n");
    for (int i = 0; i < ks->mem.n; i++)
        if (ks->mem.t[i].biggest_raw)
            printf("%-10s %s is %s\n", ks->mem.t[i].name, ks->mem.t[i].biggest_raw,
                   human(buf, sizeof(buf), (double)ks->mem.t[i].biggest));
    printf("\n--- Top length and cardinality per type ---\n");
    for (int i = 0; i < ks->len.n; i++) {
        const type_info *t = &ks->len.t[i];
        if (!t->biggest_raw) continue;
        if (strcmp(t->unit, "bytes") == 0)
            human(buf, sizeof(buf), (double)t->biggest);
        else
            snprintf(buf, sizeof(buf), "%llu %s", t->biggest, t->unit);
        printf("%-10s %s has %s\n", t->name, t->biggest_raw, buf);
    }
}

static int cmp_ull(const void *a, const void *b) {
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

/* Percentiles 0, 50, 75, 87.5, ... as an HDR percentile walk with one
 * tick per half distance lists them, each line once per new count. */
static void print_size_percentiles(keystats *ks) {
    char size[32], mean[32], sd[32];
    printf("\nKey size Percentile Total keys\n");
    printf("-------- ---------- -----------\n");
    size_t n = ks->nsizes;
    qsort(ks->all_sizes, n, sizeof(*ks->all_sizes), cmp_ull);
    size_t last = 0;
    for (double p = 0, step = 50; n; p += step, step = (100 - p) / 2) {
        size_t idx = (size_t)ceil(p / 100 * (double)n);
        if (idx == 0) idx = 1;
        if (idx > n || step < 1e-6) idx = n;
        unsigned long long v = ks->all_sizes[idx - 1];
        while (idx < n && ks->all_sizes[idx] == v) idx++; /* every key of that size */
        if (idx != last) {
            printf("%8s %9.4f%% %11zu\n", human(size, sizeof(size), (double)v), idx == n ? 100.0 : 100.0 * idx / n,
                   idx);
            last = idx;
        }
        if (idx == n) break;
    }
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) sum += (double)ks->all_sizes[i];
    double m = n ? sum / (double)n : 0;
    for (size_t i = 0; i < n; i++) sq += ((double)ks->all_sizes[i] - m) * ((double)ks->all_sizes[i] - m);
    printf("Note: 0.01%% size precision, Mean: %s, StdDeviation: %s\n", human(mean, sizeof(mean), m),
           human(sd, sizeof(sd), n ? sqrt(sq / (double)n) : 0));
}

static void print_name_lengths(const keystats *ks) {
    char buf[32], avg[32];
    unsigned long long total = 0;
    printf("\nKey name length Percentile Total keys\n");
    printf("--------------- ---------- -----------\n");
    for (int j = 0; j < 7; j++) {
        if (!ks->name_buckets[j]) continue;
        total += ks->name_buckets[j];
        unsigned long long size = ks->name_max < name_limits[j] ? ks->name_max : name_limits[j];
        printf("%15s %9.4f%% %11llu\n", human(buf, sizeof(buf), (double)size), 100.0 * total / ks->name_total, total);
    }
    if (total < ks->name_total) printf("           inf %9.4f%% %11llu\n", 100.0, ks->name_total);
    printf("Total key length is %s (%s avg)\n", human(buf, sizeof(buf), (double)ks->name_bytes),
           ks->name_total ? human(avg, sizeof(avg), (double)(ks->name_bytes / ks->name_total)) : "0");
}

static void print_type_table(const keystats *ks) {
    char tot[64], avg[64], tlen[64], alen[64];
    printf("\nType        Total keys  Keys %% Tot size Avg size  Total length/card Avg ln/card\n");
    printf("--------- ------------ ------- -------- -------- ------------------ -----------\n");
    for (int i = 0; i < ks->mem.n; i++) {
        const type_info *m = &ks->mem.t[i];
        if (!m->count) continue;
        human(tot, sizeof(tot), (double)m->total);
        human(avg, sizeof(avg), (double)(m->total / m->count));
        snprintf(tlen, sizeof(tlen), " - ");
        snprintf(alen, sizeof(alen), " - ");
        const type_info *l = &ks->len.t[i];
        if (l->sizecmd && l->count) {
            double a = (double)l->total / (double)l->count;
            if (strcmp(l->unit, "bytes") == 0) {
                human(tlen, sizeof(tlen), (double)l->total);
                human(alen, sizeof(alen), round(a));
            } else {
                snprintf(tlen, sizeof(tlen), "%llu %s", l->total, l->unit);
                snprintf(alen, sizeof(alen), "%.2f", a);
            }
        }
        printf("%-10s %11llu %6.2f%% %8s %8s %18s %11s\n", m->name, m->count, percent(m->count, ks->sampled), tot, avg,
               tlen, alen);
    }
}

int mode_keystats(cli_ctx *ctx) {
    keystats ks;
    memset(&ks, 0, sizeof(ks));
    types_init(&ks.mem);
    types_init(&ks.len);
    ks.top_limit = an_set.top;
    ks.top = calloc(ks.top_limit + 1, sizeof(top_size));
    if (!ks.top) exit(1);
    an_catch_sigint();
    unsigned long long total_keys = (unsigned long long)an_dbsize(ctx->conn);
    printf("\n# Scanning the entire keyspace to find the biggest keys and distribution information.\n");
    printf("# Use -i 0.1 to sleep 0.1 sec per 100 SCAN commands (not usually needed).\n");
    printf("# Use --cursor <n> to start the scan at the cursor <n> (usually after a Ctrl-C).\n");
    printf("# Use --top <n> to display <n> top key sizes (default is 10).\n");
    printf("# Ctrl-C to stop the scan.\n\n");
    fflush(stdout);
    an_scanner s;
    an_scan_init(&s, ctx, an_set.cursor, 100);
    type_info **mt = NULL, **lt = NULL;
    unsigned long long *ms = NULL, *ls = NULL;
    size_t cap = 0, cap2 = 0;
    const rr_reply *keys;
    while ((keys = an_scan_next(&s))) keystats_batch(ctx, &ks, keys, &mt, &lt, &ms, &ls, &cap, &cap2);
    unsigned long long cursor = s.cursor;
    an_scan_done(&s);
    print_keystats_head(&ks, total_keys, isatty(STDOUT_FILENO));
    print_size_percentiles(&ks);
    print_name_lengths(&ks);
    print_type_table(&ks);
    if (an_cancel && cursor != 0) {
        printf("\nScan interrupted:\n");
        printf("Use 'keel-cli --keystats --cursor %llu' to restart from the last cursor.\n", cursor);
    }
    free(mt);
    free(lt);
    free(ms);
    free(ls);
    for (unsigned long i = 0; i < ks.ntop; i++) free(ks.top[i].key);
    free(ks.top);
    free(ks.all_sizes);
    types_free(&ks.mem);
    types_free(&ks.len);
    return 0;
}
