/*
 * analysis_audit: the one accumulator behind --memory-audit (live) and
 * --rdb-report's summary (from a dump), so that an operator reads the same
 * report whichever way the keys came in.
 *
 * Keys are added one at a time and only aggregates are kept: per type,
 * per key pattern (bounded: past MAX_PATTERNS distinct patterns the rest
 * are counted as "(other patterns)"), TTL buckets, the 20 largest keys and,
 * per type with a compact encoding, the keys in their full encoding that
 * are small enough to be worth keeping compact. Memory use is therefore
 * bounded whatever the dataset's size.
 *
 * Compact-form analysis: a hash (zset, set) in its hashtable (skiplist)
 * encoding whose element count and longest element would both fit a
 * listpack under limits at most COMPACT_CEILING is reported with the
 * CONFIG SET that would have kept every such key compact. Beyond that
 * ceiling listpack operations (linear scans) get slow and the advice
 * would be wrong, so bigger keys are left out of it.
 */
#include "cli/analysis.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERNS 50000
#define PATTERN_LEN 128
#define TOP_KEYS 20
#define TOP_PATTERNS 20
#define COMPACT_CEILING 1024

enum { T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_STREAM, T_OTHER, T_COUNT };
static const char *type_names[T_COUNT] = {"string", "list", "set", "zset", "hash", "stream", "other"};

typedef struct type_stat {
    unsigned long long keys, mem, elements;
} type_stat;

typedef struct pattern_stat {
    char *name;
    unsigned long long keys, mem, no_ttl_keys, no_ttl_mem;
    unsigned types; /* bit per T_* */
} pattern_stat;

typedef struct top_key {
    char *key;
    size_t klen;
    int dbid, type;
    char encoding[24];
    unsigned long long elements, mem;
    long long ttl_ms;
} top_key;

/* Keys of one type in their full encoding that a listpack could hold. */
typedef struct compact_stat {
    unsigned long long keys, mem, max_elements, max_largest;
    unsigned long long shrunk; /* within the current limits yet full: grew, then shrank */
} compact_stat;

enum { TTL_NONE, TTL_EXPIRED, TTL_1M, TTL_1H, TTL_1D, TTL_7D, TTL_MORE, TTL_BUCKETS };
static const char *ttl_names[TTL_BUCKETS] = {"no TTL",       "already expired", "< 1 minute", "1 minute - 1 hour",
                                             "1 hour - 1 day", "1 day - 7 days",  "> 7 days"};

struct audit {
    int depth;
    audit_limits limits;
    unsigned long long keys, mem;
    type_stat types[T_COUNT];
    pattern_stat *patterns; /* open addressing, cap slots */
    size_t npatterns, cap;
    pattern_stat other;     /* past MAX_PATTERNS */
    unsigned long long ttl_keys[TTL_BUCKETS], ttl_mem[TTL_BUCKETS];
    top_key top[TOP_KEYS];
    int ntop;
    compact_stat compact[T_COUNT];
};

void audit_default_limits(audit_limits *l) {
    l->hash_entries = 128;
    l->hash_value = 64;
    l->zset_entries = 128;
    l->zset_value = 64;
    l->set_entries = 128;
    l->set_value = 64;
}

static int type_index(const char *t) {
    for (int i = 0; i < T_OTHER; i++)
        if (strcmp(t, type_names[i]) == 0) return i;
    return T_OTHER;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        fputs("keel-cli: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

audit *audit_new(int prefix_depth, const audit_limits *limits) {
    audit *a = xcalloc(1, sizeof(*a));
    a->depth = prefix_depth > 0 ? prefix_depth : 1;
    if (limits)
        a->limits = *limits;
    else
        audit_default_limits(&a->limits);
    a->cap = 1024;
    a->patterns = xcalloc(a->cap, sizeof(pattern_stat));
    a->other.name = "(other patterns)";
    return a;
}

void audit_free(audit *a) {
    if (!a) return;
    for (size_t i = 0; i < a->cap; i++) free(a->patterns[i].name);
    free(a->patterns);
    for (int i = 0; i < a->ntop; i++) free(a->top[i].key);
    free(a);
}

/* ---- key patterns ---- */

static int all_digits(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* Ids that are not decimal: hex of 8+ characters with a digit in it, and
 * UUIDs (hex and dashes). */
static int looks_like_id(const char *s, size_t n) {
    if (n < 8) return 0;
    int digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
            return 0;
    }
    return digits > 0;
}

void audit_key_pattern(const char *key, size_t klen, int depth, char *out, size_t outlen) {
    size_t o = 0, i = 0;
    int seg = 0;
    if (outlen == 0) return;
    while (i <= klen && seg < depth) {
        size_t j = i;
        while (j < klen && key[j] != ':') j++;
        const char *s = key + i;
        size_t n = j - i;
        if (seg > 0 && o + 1 < outlen) out[o++] = ':';
        if (all_digits(s, n) || looks_like_id(s, n)) {
            s = "*";
            n = 1;
        }
        for (size_t k = 0; k < n && o + 1 < outlen; k++) {
            unsigned char ch = (unsigned char)s[k];
            out[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
        }
        seg++;
        i = j + 1;
        if (j >= klen) break;
    }
    if (i <= klen && seg == depth && o + 2 < outlen) {
        out[o++] = ':';
        out[o++] = '*';
    }
    out[o] = '\0';
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void grow_patterns(audit *a) {
    size_t ocap = a->cap;
    pattern_stat *old = a->patterns;
    a->cap *= 2;
    a->patterns = xcalloc(a->cap, sizeof(pattern_stat));
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].name) continue;
        size_t h = hash_str(old[i].name) & (a->cap - 1);
        while (a->patterns[h].name) h = (h + 1) & (a->cap - 1);
        a->patterns[h] = old[i];
    }
    free(old);
}

static pattern_stat *find_pattern(audit *a, const char *name) {
    size_t h = hash_str(name) & (a->cap - 1);
    while (a->patterns[h].name) {
        if (strcmp(a->patterns[h].name, name) == 0) return &a->patterns[h];
        h = (h + 1) & (a->cap - 1);
    }
    if (a->npatterns >= MAX_PATTERNS) return &a->other;
    a->patterns[h].name = strdup(name);
    if (!a->patterns[h].name) return &a->other;
    a->npatterns++;
    pattern_stat *p = &a->patterns[h];
    if (a->npatterns * 2 > a->cap) {
        grow_patterns(a);
        return find_pattern(a, name);
    }
    return p;
}

/* ---- adding keys ---- */

static int ttl_bucket(long long ttl_ms) {
    if (ttl_ms == -1) return TTL_NONE;
    if (ttl_ms < 0) return TTL_EXPIRED;
    if (ttl_ms < 60000LL) return TTL_1M;
    if (ttl_ms < 3600000LL) return TTL_1H;
    if (ttl_ms < 86400000LL) return TTL_1D;
    if (ttl_ms < 7 * 86400000LL) return TTL_7D;
    return TTL_MORE;
}

static void note_top(audit *a, const audit_key *k, int t) {
    if (a->ntop == TOP_KEYS && k->mem <= a->top[TOP_KEYS - 1].mem) return;
    int pos = a->ntop < TOP_KEYS ? a->ntop++ : TOP_KEYS - 1;
    free(a->top[pos].key);
    /* Insertion into the sorted list (largest first). */
    while (pos > 0 && a->top[pos - 1].mem < k->mem) {
        a->top[pos] = a->top[pos - 1];
        pos--;
    }
    top_key *tk = &a->top[pos];
    tk->key = malloc(k->klen + 1);
    if (!tk->key) exit(1);
    memcpy(tk->key, k->key, k->klen);
    tk->key[k->klen] = '\0';
    tk->klen = k->klen;
    tk->dbid = k->dbid;
    tk->type = t;
    snprintf(tk->encoding, sizeof(tk->encoding), "%s", k->encoding ? k->encoding : "");
    tk->elements = k->elements;
    tk->mem = k->mem;
    tk->ttl_ms = k->ttl_ms;
}

/* The full encoding of a type that has a compact one, and the limits. */
static int full_form(const audit *a, int t, const char *enc, long long *entries, long long *value) {
    if (!enc) return 0;
    switch (t) {
    case T_HASH:
        *entries = a->limits.hash_entries;
        *value = a->limits.hash_value;
        return strcmp(enc, "hashtable") == 0;
    case T_ZSET:
        *entries = a->limits.zset_entries;
        *value = a->limits.zset_value;
        return strcmp(enc, "skiplist") == 0;
    case T_SET:
        *entries = a->limits.set_entries;
        *value = a->limits.set_value;
        return *entries >= 0 && strcmp(enc, "hashtable") == 0;
    default: return 0;
    }
}

int audit_wants_largest(const audit *a, const audit_key *k) {
    long long e, v;
    return full_form(a, type_index(k->type), k->encoding, &e, &v) && k->elements <= COMPACT_CEILING;
}

static void note_compact(audit *a, const audit_key *k, int t) {
    long long entries, value;
    if (!full_form(a, t, k->encoding, &entries, &value)) return;
    if (k->elements > COMPACT_CEILING || k->largest == 0 || k->largest > COMPACT_CEILING) return;
    compact_stat *c = &a->compact[t];
    c->keys++;
    c->mem += k->mem;
    if (k->elements > c->max_elements) c->max_elements = k->elements;
    if (k->largest > c->max_largest) c->max_largest = k->largest;
    if ((long long)k->elements <= entries && (long long)k->largest <= value) c->shrunk++;
}

void audit_add(audit *a, const audit_key *k) {
    int t = type_index(k->type);
    a->keys++;
    a->mem += k->mem;
    a->types[t].keys++;
    a->types[t].mem += k->mem;
    a->types[t].elements += k->elements;
    char name[PATTERN_LEN];
    audit_key_pattern(k->key, k->klen, a->depth, name, sizeof(name));
    pattern_stat *p = find_pattern(a, name);
    p->keys++;
    p->mem += k->mem;
    p->types |= 1u << t;
    if (k->ttl_ms == -1) {
        p->no_ttl_keys++;
        p->no_ttl_mem += k->mem;
    }
    int b = ttl_bucket(k->ttl_ms);
    a->ttl_keys[b]++;
    a->ttl_mem[b] += k->mem;
    note_top(a, k, t);
    note_compact(a, k, t);
}

/* ---- reporting ---- */

static double pct(unsigned long long part, unsigned long long whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static int by_mem_desc(const void *x, const void *y) {
    const pattern_stat *a = *(pattern_stat *const *)x, *b = *(pattern_stat *const *)y;
    return a->mem < b->mem ? 1 : a->mem > b->mem ? -1 : strcmp(a->name, b->name);
}

/* Patterns sorted by memory, largest first (the caller frees the array). */
static pattern_stat **sorted_patterns(const audit *a, size_t *n) {
    pattern_stat **v = xcalloc(a->npatterns + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < a->cap; i++)
        if (a->patterns[i].name) v[k++] = &a->patterns[i];
    if (a->other.keys) v[k++] = (pattern_stat *)&a->other;
    qsort(v, k, sizeof(*v), by_mem_desc);
    *n = k;
    return v;
}

static void type_list(char *buf, size_t len, unsigned types) {
    size_t o = 0;
    buf[0] = '\0';
    for (int t = 0; t < T_COUNT; t++)
        if (types & (1u << t)) o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "", type_names[t]);
}

static void format_ttl(char *buf, size_t len, long long ttl_ms) {
    if (ttl_ms == -1)
        snprintf(buf, len, "none");
    else if (ttl_ms < 0)
        snprintf(buf, len, "expired");
    else if (ttl_ms < 60000)
        snprintf(buf, len, "%llds", ttl_ms / 1000);
    else if (ttl_ms < 3600000)
        snprintf(buf, len, "%lldm", ttl_ms / 60000);
    else if (ttl_ms < 86400000)
        snprintf(buf, len, "%lldh", ttl_ms / 3600000);
    else
        snprintf(buf, len, "%lldd", ttl_ms / 86400000);
}

typedef struct compact_advice {
    const char *type, *full, *entries_param, *value_param;
    long long entries, value;     /* current */
    long long new_entries, new_value;
} compact_advice;

/* What the CONFIG SET to keep type t's candidates compact would be. */
static int compact_advice_for(const audit *a, int t, compact_advice *ad) {
    const compact_stat *c = &a->compact[t];
    if (!c->keys) return 0;
    memset(ad, 0, sizeof(*ad));
    ad->type = type_names[t];
    if (t == T_HASH) {
        ad->full = "hashtable";
        ad->entries_param = "hash-max-listpack-entries";
        ad->value_param = "hash-max-listpack-value";
        ad->entries = a->limits.hash_entries;
        ad->value = a->limits.hash_value;
    } else if (t == T_ZSET) {
        ad->full = "skiplist";
        ad->entries_param = "zset-max-listpack-entries";
        ad->value_param = "zset-max-listpack-value";
        ad->entries = a->limits.zset_entries;
        ad->value = a->limits.zset_value;
    } else {
        ad->full = "hashtable";
        ad->entries_param = "set-max-listpack-entries";
        ad->value_param = "set-max-listpack-value";
        ad->entries = a->limits.set_entries;
        ad->value = a->limits.set_value;
    }
    ad->new_entries = (long long)c->max_elements > ad->entries ? (long long)c->max_elements : ad->entries;
    ad->new_value = (long long)c->max_largest > ad->value ? (long long)c->max_largest : ad->value;
    return 1;
}

static void print_types(const audit *a, FILE *out) {
    char h[32];
    fprintf(out, "\n-------- memory per type --------\n");
    fprintf(out, "%-8s %12s %10s %7s %12s\n", "type", "keys", "memory", "share", "elements");
    for (int t = 0; t < T_COUNT; t++) {
        const type_stat *s = &a->types[t];
        if (!s->keys) continue;
        analysis_human_bytes(h, sizeof(h), (double)s->mem);
        fprintf(out, "%-8s %12llu %10s %6.2f%% %12llu\n", type_names[t], s->keys, h, pct(s->mem, a->mem), s->elements);
    }
}

static void print_patterns(const audit *a, FILE *out) {
    size_t n;
    pattern_stat **v = sorted_patterns(a, &n);
    char h[32], types[64];
    fprintf(out, "\n-------- memory per key pattern (prefix depth %d, %zu patterns, largest first) --------\n", a->depth,
            n);
    fprintf(out, "%-40s %10s %10s %7s %10s  %s\n", "pattern", "keys", "memory", "share", "no TTL", "types");
    for (size_t i = 0; i < n && i < TOP_PATTERNS; i++) {
        analysis_human_bytes(h, sizeof(h), (double)v[i]->mem);
        type_list(types, sizeof(types), v[i]->types);
        fprintf(out, "%-40s %10llu %10s %6.2f%% %10llu  %s\n", v[i]->name, v[i]->keys, h, pct(v[i]->mem, a->mem),
                v[i]->no_ttl_keys, types);
    }
    if (n > TOP_PATTERNS) fprintf(out, "(%zu more patterns)\n", n - TOP_PATTERNS);
    free(v);
}

static void print_ttls(const audit *a, FILE *out) {
    char h[32];
    analysis_human_bytes(h, sizeof(h), (double)a->ttl_mem[TTL_NONE]);
    fprintf(out, "\n-------- keys without TTL --------\n");
    fprintf(out, "%llu keys without TTL (%.2f%% of keys) hold %s (%.2f%% of memory)\n", a->ttl_keys[TTL_NONE],
            pct(a->ttl_keys[TTL_NONE], a->keys), h, pct(a->ttl_mem[TTL_NONE], a->mem));
    fprintf(out, "\n-------- TTL distribution --------\n");
    for (int b = 0; b < TTL_BUCKETS; b++) {
        if (b == TTL_EXPIRED && !a->ttl_keys[b]) continue;
        analysis_human_bytes(h, sizeof(h), (double)a->ttl_mem[b]);
        fprintf(out, "%-18s %12llu keys %7.2f%% %10s\n", ttl_names[b], a->ttl_keys[b], pct(a->ttl_keys[b], a->keys), h);
    }
}

static void print_top(const audit *a, FILE *out) {
    char h[32], ttl[32];
    fprintf(out, "\n-------- %d largest keys --------\n", TOP_KEYS);
    fprintf(out, "%10s %-7s %-10s %10s %8s  %s\n", "memory", "type", "encoding", "elements", "ttl", "key");
    for (int i = 0; i < a->ntop; i++) {
        const top_key *k = &a->top[i];
        analysis_human_bytes(h, sizeof(h), (double)k->mem);
        format_ttl(ttl, sizeof(ttl), k->ttl_ms);
        fprintf(out, "%10s %-7s %-10s %10llu %8s  ", h, type_names[k->type], k->encoding, k->elements, ttl);
        if (k->dbid) fprintf(out, "(db %d) ", k->dbid);
        fprintf(out, "%.*s\n", (int)k->klen, k->key);
    }
}

static void print_compact(const audit *a, FILE *out) {
    char h[32];
    int any = 0;
    fprintf(out, "\n-------- encodings past their compact form --------\n");
    for (int t = 0; t < T_COUNT; t++) {
        compact_advice ad;
        if (!compact_advice_for(a, t, &ad)) continue;
        const compact_stat *c = &a->compact[t];
        any = 1;
        analysis_human_bytes(h, sizeof(h), (double)c->mem);
        fprintf(out, "%s: %llu keys in %s (%s) have at most %llu elements of at most %llu bytes\n", ad.type, c->keys,
                ad.full, h, c->max_elements, c->max_largest);
        if (ad.new_entries != ad.entries || ad.new_value != ad.value)
            fprintf(out, "  to keep them listpack: CONFIG SET %s %lld %s %lld (now %lld and %lld)\n", ad.entries_param,
                    ad.new_entries, ad.value_param, ad.new_value, ad.entries, ad.value);
        if (c->shrunk)
            fprintf(out, "  %llu of them fit the current limits: they grew past them and shrank back; "
                         "a restart (or DUMP + RESTORE) makes them compact again\n",
                    c->shrunk);
    }
    if (!any) fprintf(out, "none\n");
}

static void print_recommendations(const audit *a, FILE *out) {
    char h[32];
    int n = 0;
    fprintf(out, "\n-------- recommendations --------\n");
    if (!a->keys) {
        fprintf(out, "- No keys: nothing to recommend.\n");
        return;
    }
    if (pct(a->ttl_mem[TTL_NONE], a->mem) >= 50.0) {
        analysis_human_bytes(h, sizeof(h), (double)a->ttl_mem[TTL_NONE]);
        fprintf(out,
                "- %.0f%% of the memory (%s) is in keys without a TTL. If this data is a cache, give those keys an "
                "expiry (EXPIRE, SET ... EX): without one they leave only when deleted or evicted.\n",
                pct(a->ttl_mem[TTL_NONE], a->mem), h);
        n++;
    }
    if (a->ntop && a->keys > 1 && pct(a->top[0].mem, a->mem) >= 10.0) {
        analysis_human_bytes(h, sizeof(h), (double)a->top[0].mem);
        fprintf(out,
                "- The key \"%.*s\" alone holds %.0f%% of the memory (%s). Deleting or reading it whole blocks the "
                "server; consider splitting it into several keys, and delete it with UNLINK.\n",
                (int)(a->top[0].klen > 60 ? 60 : a->top[0].klen), a->top[0].key, pct(a->top[0].mem, a->mem), h);
        n++;
    }
    size_t np;
    pattern_stat **v = sorted_patterns(a, &np);
    if (np > 1 && pct(v[0]->mem, a->mem) >= 50.0) {
        fprintf(out, "- Keys named like \"%s\" hold %.0f%% of the memory: that is where savings pay most.\n", v[0]->name,
                pct(v[0]->mem, a->mem));
        n++;
    }
    free(v);
    for (int t = 0; t < T_COUNT; t++) {
        compact_advice ad;
        if (!compact_advice_for(a, t, &ad) || (ad.new_entries == ad.entries && ad.new_value == ad.value)) continue;
        analysis_human_bytes(h, sizeof(h), (double)a->compact[t].mem);
        fprintf(out,
                "- %llu %s keys (%s) left their compact listpack form for %s. Raising %s to %lld and %s to %lld "
                "keeps such keys compact, usually at a fraction of the memory, at the cost of slower access "
                "to each (a listpack is scanned).\n",
                a->compact[t].keys, ad.type, h, ad.full, ad.entries_param, ad.new_entries, ad.value_param,
                ad.new_value);
        n++;
    }
    const type_stat *s = &a->types[T_STRING];
    if (s->keys >= 1000 && pct(s->keys, a->keys) >= 50.0 && s->mem / s->keys < 100) {
        fprintf(out,
                "- %llu small strings average %llu bytes each, most of it per-key overhead: grouping related "
                "values into hashes (one hash per object) would use less memory.\n",
                s->keys, s->mem / s->keys);
        n++;
    }
    if (!n) fprintf(out, "- Nothing stands out: no dominant key, pattern or encoding problem found.\n");
}

void audit_print_text(const audit *a, FILE *out, const char *source) {
    char h[32];
    analysis_human_bytes(h, sizeof(h), (double)a->mem);
    fprintf(out, "# Memory audit of %s\n", source);
    fprintf(out, "%llu keys, %s in keys (%llu bytes)\n", a->keys, h, a->mem);
    print_types(a, out);
    print_patterns(a, out);
    print_ttls(a, out);
    print_top(a, out);
    print_compact(a, out);
    print_recommendations(a, out);
}

/* ---- JSON ---- */

static void json_types(const audit *a, FILE *out) {
    fprintf(out, "\"types\":{");
    int first = 1;
    for (int t = 0; t < T_COUNT; t++) {
        const type_stat *s = &a->types[t];
        if (!s->keys) continue;
        fprintf(out, "%s\"%s\":{\"keys\":%llu,\"bytes\":%llu,\"elements\":%llu}", first ? "" : ",", type_names[t],
                s->keys, s->mem, s->elements);
        first = 0;
    }
    fprintf(out, "}");
}

static void json_patterns(const audit *a, FILE *out) {
    size_t n;
    pattern_stat **v = sorted_patterns(a, &n);
    char types[64];
    fprintf(out, "\"patterns\":[");
    for (size_t i = 0; i < n; i++) {
        type_list(types, sizeof(types), v[i]->types);
        fprintf(out, "%s{\"pattern\":", i ? "," : "");
        analysis_json_string(out, v[i]->name, strlen(v[i]->name));
        fprintf(out, ",\"keys\":%llu,\"bytes\":%llu,\"no_ttl_keys\":%llu,\"no_ttl_bytes\":%llu,\"types\":\"%s\"}",
                v[i]->keys, v[i]->mem, v[i]->no_ttl_keys, v[i]->no_ttl_mem, types);
    }
    fprintf(out, "]");
    free(v);
}

static void json_ttls(const audit *a, FILE *out) {
    fprintf(out, "\"no_ttl\":{\"keys\":%llu,\"bytes\":%llu},\"ttl_distribution\":[", a->ttl_keys[TTL_NONE],
            a->ttl_mem[TTL_NONE]);
    for (int b = 0; b < TTL_BUCKETS; b++)
        fprintf(out, "%s{\"bucket\":\"%s\",\"keys\":%llu,\"bytes\":%llu}", b ? "," : "", ttl_names[b], a->ttl_keys[b],
                a->ttl_mem[b]);
    fprintf(out, "]");
}

static void json_top(const audit *a, FILE *out) {
    fprintf(out, "\"largest_keys\":[");
    for (int i = 0; i < a->ntop; i++) {
        const top_key *k = &a->top[i];
        fprintf(out, "%s{\"db\":%d,\"key\":", i ? "," : "", k->dbid);
        analysis_json_string(out, k->key, k->klen);
        fprintf(out, ",\"type\":\"%s\",\"encoding\":\"%s\",\"elements\":%llu,\"bytes\":%llu,\"ttl_ms\":%lld}",
                type_names[k->type], k->encoding, k->elements, k->mem, k->ttl_ms);
    }
    fprintf(out, "]");
}

static void json_compact(const audit *a, FILE *out) {
    fprintf(out, "\"compact_candidates\":[");
    int first = 1;
    for (int t = 0; t < T_COUNT; t++) {
        compact_advice ad;
        if (!compact_advice_for(a, t, &ad)) continue;
        const compact_stat *c = &a->compact[t];
        fprintf(out,
                "%s{\"type\":\"%s\",\"encoding\":\"%s\",\"keys\":%llu,\"bytes\":%llu,\"max_elements\":%llu,"
                "\"max_element_bytes\":%llu,\"shrunk\":%llu,\"config\":{\"%s\":%lld,\"%s\":%lld}}",
                first ? "" : ",", ad.type, ad.full, c->keys, c->mem, c->max_elements, c->max_largest, c->shrunk,
                ad.entries_param, ad.new_entries, ad.value_param, ad.new_value);
        first = 0;
    }
    fprintf(out, "]");
}

void audit_print_json(const audit *a, FILE *out, const char *source) {
    fprintf(out, "{\"source\":");
    analysis_json_string(out, source, strlen(source));
    fprintf(out, ",\"keys\":%llu,\"bytes\":%llu,\"prefix_depth\":%d,", a->keys, a->mem, a->depth);
    json_types(a, out);
    fputc(',', out);
    json_patterns(a, out);
    fputc(',', out);
    json_ttls(a, out);
    fputc(',', out);
    json_top(a, out);
    fputc(',', out);
    json_compact(a, out);
    fprintf(out, "}\n");
}
