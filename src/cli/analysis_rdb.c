/*
 * analysis_rdb: keel-cli --rdb-report FILE, a memory report made from a
 * dump with no server running: redis-rdb-tools' memory CSV (--csv), or the
 * --memory-audit summary as text or JSON (--json), for post-mortems.
 *
 * The file is read by the server's own loader (persist's rdb_scan_file),
 * one key at a time: nothing here parses RDB, and the dataset is never
 * held in memory. Sizes follow the size model in docs/CLI_MEMORY.md: what Keel's
 * MEMORY USAGE says of the key once loaded.
 */
#include "cli/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/config.h"
#include "core/entry.h"
#include "core/server.h"
#include "persist/rdb.h"

typedef struct rdb_report {
    const rdb_report_opts *o;
    audit *a;
    long long now_ms;
    char writer[64];   /* redis-ver aux field */
    unsigned long long keys;
} rdb_report;

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* redis-rdb-tools writes expiry as Python's datetime.isoformat() (UTC). */
static void iso_time(char *buf, size_t len, long long ms) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06lld", base, (ms % 1000) * 1000);
}

/* The key between double quotes, a quote inside it doubled (RFC 4180). */
static void csv_key(const char *k, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (k[i] == '"') putchar('"');
        putchar(k[i]);
    }
    putchar('"');
}

static int on_key(void *priv, const rdb_key_summary *ks) {
    rdb_report *r = priv;
    r->keys++;
    const char *type = entry_type_name(ks->type);
    if (r->o->csv) {
        char exp[48] = "";
        if (ks->expire_ms >= 0) iso_time(exp, sizeof(exp), ks->expire_ms);
        printf("%d,%s,", ks->dbid, type);
        csv_key(ks->key, ks->klen);
        printf(",%llu,%s,%llu,%llu,%s\n", ks->mem_bytes, ks->encoding, ks->elements, ks->largest, exp);
        return 0;
    }
    audit_key k = {.dbid = ks->dbid,
                   .key = ks->key,
                   .klen = ks->klen,
                   .type = type,
                   .encoding = ks->keel_encoding,
                   .elements = ks->elements,
                   .largest = ks->largest,
                   .mem = ks->mem_bytes,
                   .ttl_ms = -1};
    if (ks->expire_ms >= 0) k.ttl_ms = ks->expire_ms > r->now_ms ? ks->expire_ms - r->now_ms : -2;
    audit_add(r->a, &k);
    return 0;
}

static void on_aux(void *priv, const char *k, size_t klen, const char *v, size_t vlen) {
    rdb_report *r = priv;
    if (klen == 9 && memcmp(k, "redis-ver", 9) == 0)
        snprintf(r->writer, sizeof(r->writer), "%.*s", (int)(vlen > 60 ? 60 : vlen), v);
}

static void on_warning(void *priv, const char *msg) {
    (void)priv;
    fprintf(stderr, "keel-cli: %s\n", msg);
}

int analysis_rdb_report(const rdb_report_opts *o) {
    rdb_report r;
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.now_ms = now_ms();
    /* The loader reads the server's settings (defaults: no config file)
     * and its clock, as keel-check-rdb does. */
    char *cfg_argv[] = {"keel-cli", NULL};
    config_load(1, cfg_argv);
    server_update_cached_time();
    audit_limits limits;
    audit_default_limits(&limits); /* the limits of the server that wrote the file are not in it */
    r.a = audit_new(o->prefix_depth, &limits);
    if (o->csv) printf("database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n");
    rdb_scan_visitor v = {.priv = &r, .on_aux = on_aux, .on_key = on_key, .on_warning = on_warning};
    rdb_load_stats st;
    memset(&st, 0, sizeof(st));
    char err[512];
    int rc = rdb_scan_file(o->file, &v, &st, err, sizeof(err));
    if (rc < 0) {
        fflush(stdout);
        fprintf(stderr, "keel-cli: %s\n", err);
        audit_free(r.a);
        return 1;
    }
    if (!o->csv) {
        char source[600];
        snprintf(source, sizeof(source), "%s (RDB version %d%s%s)", o->file, st.version,
                 r.writer[0] ? ", redis-ver " : "", r.writer);
        if (o->json)
            audit_print_json(r.a, stdout, source);
        else
            audit_print_text(r.a, stdout, source);
    }
    audit_free(r.a);
    return fflush(stdout) == 0 ? 0 : 1;
}
