/*
 * analysis_audit_live: --memory-audit [--prefix-depth N] [--pattern P]
 * [--json [FILE]]: one SCAN pass over the selected database feeding the
 * audit accumulator (analysis_audit.c), which --rdb-report shares.
 *
 * Per batch of keys, three pipelined rounds: TYPE, OBJECT ENCODING,
 * MEMORY USAGE and PTTL of each key; then the element count (STRLEN,
 * LLEN, SCARD, ZCARD, HLEN, XLEN); then, only for keys in a full
 * encoding small enough to be worth keeping compact (a bounded number of
 * elements), the elements themselves, to learn the longest one. The
 * compact-form limits are read with CONFIG GET, so the advice is about
 * the server's own settings. A progress bar goes to stderr when it is a
 * terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/analysis_live.h"

typedef struct key_facts {
    char type[16];
    char encoding[24];
    long long mem, ttl, elements;
    unsigned long long largest;
} key_facts;

static void append2(cli_conn *c, const char *a, const char *b, const rr_reply *key) {
    const char *argv[3] = {a, b, key->str};
    size_t lens[3] = {strlen(a), b ? strlen(b) : 0, key->len};
    if (b)
        conn_append(c, 3, argv, lens);
    else {
        const char *argv2[2] = {a, key->str};
        size_t lens2[2] = {strlen(a), key->len};
        conn_append(c, 2, argv2, lens2);
    }
}

static long long int_reply(cli_conn *c) {
    rr_reply *r = an_read(c);
    long long v = r->type == RR_INTEGER ? r->integer : -3;
    rr_reply_free(r);
    return v;
}

static void str_reply(cli_conn *c, char *out, size_t len) {
    rr_reply *r = an_read(c);
    const char *s = an_str(r, NULL);
    snprintf(out, len, "%s", s && r->type != RR_ERROR ? s : "");
    rr_reply_free(r);
}

static void round_basic(cli_conn *c, const rr_reply *keys, key_facts *f) {
    char samples[32];
    snprintf(samples, sizeof(samples), "%lld", an_set.memkeys_samples);
    for (size_t i = 0; i < keys->elements; i++) {
        const rr_reply *k = keys->element[i];
        append2(c, "TYPE", NULL, k);
        append2(c, "OBJECT", "ENCODING", k);
        const char *argv[5] = {"MEMORY", "USAGE", k->str, "SAMPLES", samples};
        size_t lens[5] = {6, 5, k->len, 7, strlen(samples)};
        conn_append(c, an_set.memkeys_samples < 0 ? 3 : 5, argv, lens);
        append2(c, "PTTL", NULL, k);
    }
    for (size_t i = 0; i < keys->elements; i++) {
        str_reply(c, f[i].type, sizeof(f[i].type));
        str_reply(c, f[i].encoding, sizeof(f[i].encoding));
        f[i].mem = int_reply(c);
        f[i].ttl = int_reply(c);
        f[i].largest = 0;
        f[i].elements = 0;
    }
}

static const char *length_command(const char *type) {
    static const char *map[][2] = {{"string", "STRLEN"}, {"list", "LLEN"}, {"set", "SCARD"},
                                   {"zset", "ZCARD"},    {"hash", "HLEN"}, {"stream", "XLEN"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(type, map[i][0])) return map[i][1];
    return NULL;
}

static void round_lengths(cli_conn *c, const rr_reply *keys, key_facts *f) {
    for (size_t i = 0; i < keys->elements; i++)
        if (length_command(f[i].type)) append2(c, length_command(f[i].type), NULL, keys->element[i]);
    for (size_t i = 0; i < keys->elements; i++) {
        if (!length_command(f[i].type)) continue;
        long long n = int_reply(c);
        f[i].elements = n > 0 ? n : 0;
        if (!strcmp(f[i].type, "string")) f[i].largest = (unsigned long long)f[i].elements;
    }
}

static void to_audit_key(const rr_reply *key, const key_facts *f, int dbid, audit_key *k) {
    k->dbid = dbid;
    k->key = key->str;
    k->klen = key->len;
    k->type = f->type;
    k->encoding = f->encoding;
    k->elements = (unsigned long long)f->elements;
    k->largest = f->largest;
    k->mem = f->mem > 0 ? (unsigned long long)f->mem : 0;
    k->ttl_ms = f->ttl >= 0 ? f->ttl : -1;
}

/* Longest element of the keys the audit wants it for (bounded sizes). */
static void round_largest(cli_conn *c, const rr_reply *keys, key_facts *f, const audit *a, int dbid) {
    char *want = calloc(keys->elements ? keys->elements : 1, 1);
    if (!want) exit(1);
    for (size_t i = 0; i < keys->elements; i++) {
        audit_key k;
        to_audit_key(keys->element[i], &f[i], dbid, &k);
        if (!audit_wants_largest(a, &k)) continue;
        want[i] = 1;
        if (!strcmp(f[i].type, "hash"))
            append2(c, "HGETALL", NULL, keys->element[i]);
        else if (!strcmp(f[i].type, "set"))
            append2(c, "SMEMBERS", NULL, keys->element[i]);
        else {
            const char *argv[4] = {"ZRANGE", keys->element[i]->str, "0", "-1"};
            size_t lens[4] = {6, keys->element[i]->len, 1, 2};
            conn_append(c, 4, argv, lens);
        }
    }
    for (size_t i = 0; i < keys->elements; i++) {
        if (!want[i]) continue;
        rr_reply *r = an_read(c);
        for (size_t j = 0; (r->type == RR_ARRAY || r->type == RR_MAP || r->type == RR_SET) && j < r->elements; j++)
            if (r->element[j]->len > f[i].largest) f[i].largest = r->element[j]->len;
        rr_reply_free(r);
    }
    free(want);
}

static void progress(unsigned long long done, unsigned long long total) {
    if (!isatty(STDERR_FILENO)) return;
    double p = total ? (double)done / (double)total : 1;
    if (p > 1) p = 1;
    int w = (int)(p * 40);
    fprintf(stderr, "\r[");
    for (int i = 0; i < 40; i++) fputc(i < w ? '#' : '.', stderr);
    fprintf(stderr, "] %6.2f%% %llu keys", p * 100, done);
    fflush(stderr);
}

static void read_limits(cli_conn *c, audit_limits *l) {
    l->hash_entries = an_config_ll(c, "hash-max-listpack-entries", an_config_ll(c, "hash-max-ziplist-entries", 128));
    l->hash_value = an_config_ll(c, "hash-max-listpack-value", an_config_ll(c, "hash-max-ziplist-value", 64));
    l->zset_entries = an_config_ll(c, "zset-max-listpack-entries", an_config_ll(c, "zset-max-ziplist-entries", 128));
    l->zset_value = an_config_ll(c, "zset-max-listpack-value", an_config_ll(c, "zset-max-ziplist-value", 64));
    /* Redis 7.0 has no set listpack: -1 leaves sets out of the advice. */
    l->set_entries = an_config_ll(c, "set-max-listpack-entries", -1);
    l->set_value = an_config_ll(c, "set-max-listpack-value", -1);
}

static int write_report(const audit *a, const cli_opts *o, const char *json_file, const char *source) {
    int json = o->output == OUTPUT_JSON || o->output == OUTPUT_QUOTED_JSON;
    if (!json) {
        audit_print_text(a, stdout, source);
        return 0;
    }
    FILE *f = json_file ? fopen(json_file, "w") : stdout;
    if (!f) {
        perror(json_file);
        return 1;
    }
    audit_print_json(a, f, source);
    if (json_file) {
        if (fclose(f) != 0) {
            perror(json_file);
            return 1;
        }
        printf("Memory audit written to %s\n", json_file);
    }
    return 0;
}

int mode_memory_audit(cli_ctx *ctx) {
    const char *json_file = NULL;
    int rest = 0;
    if (ctx->argc > 0 && ctx->argv[0][0] != '-') {
        json_file = ctx->argv[0];
        rest = 1;
    }
    if (analysis_parse_rest(ctx->opts, ctx->argc - rest, ctx->argv + rest) < 0) return 1;
    cli_conn *c = ctx->conn;
    audit_limits limits;
    read_limits(c, &limits);
    audit *a = audit_new(an_set.prefix_depth, &limits);
    char *info = an_info(c, "server");
    char ver[64] = "?", source[256];
    an_info_field(info, "redis_version", ver, sizeof(ver));
    snprintf(source, sizeof(source), "%s %s at %s:%d db %d", an_is_keel(info) ? "keel-server" : "redis-server", ver,
             ctx->opts->socket ? ctx->opts->socket : ctx->opts->host, ctx->opts->socket ? 0 : ctx->opts->port,
             ctx->opts->dbnum);
    free(info);
    unsigned long long total = (unsigned long long)an_dbsize(c), done = 0;
    an_catch_sigint();
    an_scanner s;
    an_scan_init(&s, ctx, 0, 100);
    const rr_reply *keys;
    key_facts *f = NULL;
    size_t cap = 0;
    while ((keys = an_scan_next(&s))) {
        if (keys->elements > cap) {
            cap = keys->elements;
            f = realloc(f, cap * sizeof(*f));
            if (!f) exit(1);
        }
        round_basic(c, keys, f);
        round_lengths(c, keys, f);
        round_largest(c, keys, f, a, ctx->opts->dbnum);
        for (size_t i = 0; i < keys->elements; i++) {
            if (!strcmp(f[i].type, "none") || !f[i].type[0]) continue; /* gone since SCAN */
            audit_key k;
            to_audit_key(keys->element[i], &f[i], ctx->opts->dbnum, &k);
            audit_add(a, &k);
            done++;
        }
        progress(done, total);
    }
    an_scan_done(&s);
    if (isatty(STDERR_FILENO)) fputc('\n', stderr);
    if (an_cancel) fprintf(stderr, "Interrupted: the report covers the %llu keys seen.\n", done);
    int rc = write_report(a, ctx->opts, json_file, source);
    free(f);
    audit_free(a);
    return rc;
}
