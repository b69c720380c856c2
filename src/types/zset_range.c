/*
 * zset_range: every command that selects members by rank, by score or
 * by lex range: ZRANGE (all its forms and the legacy ZREVRANGE,
 * Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), ZRANGESTORE, ZCOUNT, ZLEXCOUNT
 * and ZREMRANGEBY{RANK,SCORE,LEX}, with the parsing of their bounds.
 *
 * One request type (zrange_req) carries any of the three selections; a
 * score or lex selection is a zvalrange, which the iterator and the
 * primitives of zset.c accept as is, so reading, counting and removing
 * a range are each written once for both kinds and both encodings. Rank
 * ranges are normalised by clamp_rank_range (core/cmdutil.h), the same
 * rules as LRANGE and LTRIM.
 *
 * Results go through a sink: straight to the client, or collected for
 * ZRANGESTORE, so that the store form cannot drift from the read form.
 */
#include "types/zset_internal.h"

#include "core/cmdutil.h"
#include "core/command.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Bounds
 * ==================================================================== */

/* "(1.5" exclusive, "1.5" inclusive, "-inf" / "+inf". Deliberately
 * strtod's grammar, as Redis: it also takes " 1", "0x10" and "" (0). */
static int parse_score_bound(const kstr a, double *v, int *ex) {
    const char *s = a, *end = a + kstr_len(a);
    *ex = 0;
    if (s < end && s[0] == '(') {
        *ex = 1;
        s++;
    }
    char *eptr;
    *v = strtod(s, &eptr);
    return eptr == end && !isnan(*v);
}

static int parse_score_range(client *c, const kstr min, const kstr max, sl_range *r) {
    if (!parse_score_bound(min, &r->min, &r->minex) ||
        !parse_score_bound(max, &r->max, &r->maxex)) {
        reply_error(c, "ERR min or max is not a float");
        return 0;
    }
    return 1;
}

/* "[a" inclusive, "(a" exclusive, "-" and "+" the infinities. */
static int parse_lex_bound(const kstr a, const char **s, size_t *len, int *ex, int *inf) {
    size_t n = kstr_len(a);
    *ex = 0;
    *inf = 0;
    *s = NULL;
    *len = 0;
    if (n == 1 && (a[0] == '+' || a[0] == '-')) {
        *inf = a[0] == '+' ? 1 : -1;
        return 1;
    }
    if (n == 0 || (a[0] != '[' && a[0] != '(')) return 0;
    *ex = a[0] == '(';
    *s = a + 1;
    *len = n - 1;
    return 1;
}

static int parse_lex_range(client *c, const kstr min, const kstr max, sl_lexrange *r) {
    if (!parse_lex_bound(min, &r->min, &r->minlen, &r->minex, &r->min_inf) ||
        !parse_lex_bound(max, &r->max, &r->maxlen, &r->maxex, &r->max_inf)) {
        reply_error(c, "ERR min or max not valid string range item");
        return 0;
    }
    return 1;
}

/* ======================================================================
 * ZCOUNT, ZLEXCOUNT
 * ==================================================================== */

static void count_generic(client *c, int type) {
    zvalrange r;
    r.type = type;
    if (type == RANGE_SCORE ? !parse_score_range(c, c->argv[2], c->argv[3], &r.score)
                            : !parse_lex_range(c, c->argv[2], c->argv[3], &r.lex))
        return;
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_ll(c, e ? (long long)zset_count_range(e, &r) : 0);
}

void zcount_command(client *c) { count_generic(c, RANGE_SCORE); }
void zlexcount_command(client *c) { count_generic(c, RANGE_LEX); }

/* ======================================================================
 * ZRANGE and friends
 * ==================================================================== */

typedef struct zrange_req {
    zvalrange by; /* by.type: any RANGE_*; the bounds for SCORE / LEX */
    int rev, withscores;
    long long start, end;    /* RANGE_RANK */
    long long offset, limit; /* LIMIT; limit < 0 means no limit */
} zrange_req;

/* Where results go: to the client, or collected for ZRANGESTORE (the
 * members are copied into one arena: the destination may be the source). */
typedef struct zsink {
    client *c;
    int store, withscores;
    long count;
    void *deferred;
    kstr arena;
    zset_item *items;
    size_t cap;
} zsink;

static void sink_begin(zsink *s, client *c, int store, int withscores) {
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->store = store;
    s->withscores = withscores;
    if (store)
        s->arena = kstr_empty();
    else
        s->deferred = reply_deferred_len(c);
}

static void sink_emit(zsink *s, const char *m, size_t len, double score) {
    if (!s->store) {
        zset_reply_member(s->c, m, len, score, s->withscores);
        s->count++;
        return;
    }
    if ((size_t)s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = zrealloc(s->items, s->cap * sizeof(*s->items));
    }
    /* Offsets for now: the arena may move while it grows. */
    s->items[s->count].m = (const char *)(uintptr_t)kstr_len(s->arena);
    s->items[s->count].len = len;
    s->items[s->count].score = score;
    s->arena = kstr_cat_len(s->arena, m, len);
    s->count++;
}

/* Finish: the reply length, or the stored key and its cardinality. */
static void sink_end(zsink *s, const kstr dst) {
    client *c = s->c;
    if (!s->store) {
        reply_set_deferred_array_len(c, s->deferred, zset_reply_len(c, s->count, s->withscores));
        return;
    }
    if (s->count) {
        for (long i = 0; i < s->count; i++) s->items[i].m = s->arena + (uintptr_t)s->items[i].m;
        /* REV ranges arrive in descending order; the new key needs ascending. */
        zset_sort_items(s->items, (size_t)s->count);
    }
    zset_store_result(c, dst, s->items, (size_t)s->count);
    kstr_free(s->arena);
    zfree(s->items);
}

static void range_by_rank(const entry *e, zrange_req *q, zsink *s) {
    long long start = q->start, end = q->end;
    if (!clamp_rank_range((long long)zset_length(e), &start, &end)) return;
    zit it;
    zit_seek_rank(&it, e, (unsigned long)start, q->rev);
    for (long long n = end - start + 1; n > 0 && zit_valid(&it); n--, zit_next(&it)) {
        size_t mlen;
        const char *m = zit_member(&it, &mlen);
        sink_emit(s, m, mlen, zit_score(&it));
    }
}

static void range_by_value(const entry *e, zrange_req *q, zsink *s) {
    if (q->offset < 0) return;
    zit it;
    long long skip = q->offset, limit = q->limit;
    for (zit_seek_range(&it, e, &q->by, q->rev); zit_valid(&it) && limit != 0; zit_next(&it)) {
        if (!zit_in_range(&it, &q->by)) break;
        if (skip > 0) {
            skip--;
            continue;
        }
        size_t mlen;
        const char *m = zit_member(&it, &mlen);
        sink_emit(s, m, mlen, zit_score(&it));
        if (limit > 0) limit--;
    }
}

/* Options after <key> <min> <max>; type/rev fixed by the legacy commands
 * (RANGE_AUTO / -1 when the caller accepts BYSCORE, BYLEX, REV). */
static int parse_zrange_options(client *c, int first, int store, zrange_req *q) {
    int limit_given = 0;
    for (int j = first; j < c->argc; j++) {
        int left = c->argc - j - 1;
        kstr a = c->argv[j];
        if (!store && arg_is(a, "withscores")) {
            q->withscores = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (!parse_ll(c, c->argv[j + 1], &q->offset) || !parse_ll(c, c->argv[j + 2], &q->limit))
                return 0;
            limit_given = 1;
            j += 2;
        } else if (q->rev == -1 && arg_is(a, "rev")) {
            q->rev = 1;
        } else if (q->by.type == RANGE_AUTO && arg_is(a, "bylex")) {
            q->by.type = RANGE_LEX;
        } else if (q->by.type == RANGE_AUTO && arg_is(a, "byscore")) {
            q->by.type = RANGE_SCORE;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    if (q->rev == -1) q->rev = 0;
    if (q->by.type == RANGE_AUTO) q->by.type = RANGE_RANK;
    if (limit_given && q->by.type == RANGE_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either "
                       "BYSCORE or BYLEX");
        return 0;
    }
    if (q->withscores && q->by.type == RANGE_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return 0;
    }
    return 1;
}

static int parse_zrange_bounds(client *c, kstr min, kstr max, zrange_req *q) {
    /* Reverse score/lex ranges are written max first. */
    if (q->rev && q->by.type != RANGE_RANK) {
        kstr t = min;
        min = max;
        max = t;
    }
    switch (q->by.type) {
    case RANGE_RANK: return parse_ll(c, min, &q->start) && parse_ll(c, max, &q->end);
    case RANGE_SCORE: return parse_score_range(c, min, max, &q->by.score);
    default: return parse_lex_range(c, min, max, &q->by.lex);
    }
}

/* keyidx: the source key (the destination, for STORE, is keyidx - 1). */
static void zrange_generic(client *c, int keyidx, int store, int type, int rev) {
    zrange_req q;
    memset(&q, 0, sizeof(q));
    q.by.type = type;
    q.rev = rev;
    q.limit = -1;
    if (!parse_zrange_options(c, keyidx + 3, store, &q)) return;
    if (!parse_zrange_bounds(c, c->argv[keyidx + 1], c->argv[keyidx + 2], &q)) return;
    int wrong;
    entry *e = zset_read(c, c->argv[keyidx], &wrong);
    if (wrong) return;
    if (!e && !store) {
        reply_empty_array(c);
        return;
    }
    zsink s;
    sink_begin(&s, c, store, q.withscores);
    if (e) {
        if (q.by.type == RANGE_RANK)
            range_by_rank(e, &q, &s);
        else
            range_by_value(e, &q, &s);
    }
    sink_end(&s, store ? c->argv[keyidx - 1] : NULL);
}

void zrange_command(client *c) { zrange_generic(c, 1, 0, RANGE_AUTO, -1); }
void zrangestore_command(client *c) { zrange_generic(c, 2, 1, RANGE_AUTO, -1); }
void zrevrange_command(client *c) { zrange_generic(c, 1, 0, RANGE_RANK, 1); }
void zrangebyscore_command(client *c) { zrange_generic(c, 1, 0, RANGE_SCORE, 0); }
void zrevrangebyscore_command(client *c) { zrange_generic(c, 1, 0, RANGE_SCORE, 1); }
void zrangebylex_command(client *c) { zrange_generic(c, 1, 0, RANGE_LEX, 0); }
void zrevrangebylex_command(client *c) { zrange_generic(c, 1, 0, RANGE_LEX, 1); }

/* ======================================================================
 * ZREMRANGEBY*
 * ==================================================================== */

static void zremrange_generic(client *c, int type) {
    zrange_req q;
    memset(&q, 0, sizeof(q));
    q.by.type = type;
    if (!parse_zrange_bounds(c, c->argv[2], c->argv[3], &q)) return;
    int wrong;
    entry *e = zset_write(c, c->argv[1], &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    unsigned long removed = 0;
    if (type == RANGE_RANK) {
        long long start = q.start, end = q.end;
        if (clamp_rank_range((long long)zset_length(e), &start, &end))
            removed = zset_delete_ranks(e, (unsigned long)start, (unsigned long)end);
    } else {
        removed = zset_delete_range(e, &q.by);
    }
    if (removed) {
        zset_delete_if_empty(c, e, c->argv[1]);
        signal_modified_key(c, c->db, c->argv[1]);
        zset_notify_removal(c, c->argv[1], c->cmd->name); /* zremrangebyscore, ...byrank, ...bylex */
    }
    reply_ll(c, (long long)removed);
}

void zremrangebyrank_command(client *c) { zremrange_generic(c, RANGE_RANK); }
void zremrangebyscore_command(client *c) { zremrange_generic(c, RANGE_SCORE); }
void zremrangebylex_command(client *c) { zremrange_generic(c, RANGE_LEX); }
