/*
 * zset: the sorted set type and its commands.
 *
 * Encodings
 * ---------
 * listpack: flat (member, score) pairs kept sorted by score, then member
 * bytes. While a set is small (zset-max-listpack-entries, 128 by default,
 * members up to zset-max-listpack-value, 64 bytes) a linear scan of one
 * contiguous block beats any pointer structure, and it costs a few bytes
 * per member. Scores are written as their shortest exact text ("%.17g",
 * integers as listpack integers), so they read back bit-exact.
 *
 * skiplist: past either limit the set becomes a skiplist (ordered index
 * with ranks, lib/skiplist.h) plus a hash index member -> node for O(1)
 * ZSCORE/ZADD lookups. The hash table element *is* the skiplist node: the
 * table keys it by the member bytes that live inside the node, and the
 * score is read from the node. So a member is stored once, and the index
 * costs about one pointer per member (where a dictEntry + separate sds
 * would cost ~40 bytes). This works because the skiplist never moves a
 * node for the lifetime of a member (score updates relink it in place).
 *
 * As in Redis, a set never converts back to listpack when it shrinks
 * (that would thrash around the threshold); only the paths that build a
 * whole new set (ZUNIONSTORE & co., ZRANGESTORE, GEOSEARCHSTORE) choose
 * the encoding from the final size.
 *
 * Commands are written once against a small iterator (zit) that hides the
 * encoding: position by rank, by score or by lex bound, step forward or
 * backward. Writes go through zset_add / zset_remove and the range
 * deleters.
 */
#include "types/zset.h"

#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/listpack.h"
#include "lib/util.h"
#include "memory/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct zset {
    skiplist *sl;
    hashtable *index; /* elements: skiplist nodes, keyed by their member */
} zset;

#define SCORE_BUF 64

/* ======================================================================
 * Skiplist + index encoding
 * ==================================================================== */

static const void *node_key(const void *element, size_t *len)
{
    return skiplist_node_ele(element, len);
}

static const hashtable_type zset_index_type = {.element_key = node_key};

static zset *zs_create(void)
{
    zset *z = zmalloc(sizeof(*z));
    z->sl = skiplist_create();
    z->index = hashtable_create(&zset_index_type);
    return z;
}

static void zs_free(zset *z)
{
    hashtable_release(z->index); /* no destructor: nodes belong to the skiplist */
    skiplist_free(z->sl);
    zfree(z);
}

static skiplist_node *zs_find(zset *z, const char *m, size_t len)
{
    void *node;
    return hashtable_find(z->index, m, len, &node) ? node : NULL;
}

static void zs_insert(zset *z, double score, const char *m, size_t len)
{
    hashtable_add(z->index, skiplist_insert(z->sl, score, m, len));
}

static int zs_delete(zset *z, const char *m, size_t len)
{
    void *node;
    if (!hashtable_pop(z->index, m, len, &node)) return 0;
    size_t nlen;
    const char *ele = skiplist_node_ele(node, &nlen);
    skiplist_delete(z->sl, skiplist_node_score(node), ele, nlen);
    return 1;
}

/* Range deletions report each removed member: drop it from the index
 * while its bytes (inside the node) are still valid. */
static void unindex_member(const char *ele, size_t len, double score, void *ctx)
{
    (void)score;
    void *unused;
    hashtable_pop(ctx, ele, len, &unused);
}

/* ======================================================================
 * Listpack encoding: member, score, member, score, ...
 * ==================================================================== */

static double lp_score_at(unsigned char *sp)
{
    int64_t iv;
    unsigned int slen;
    unsigned char *s = lp_get(sp, &iv, &slen);
    if (!s) return (double)iv;
    char buf[SCORE_BUF];
    if (slen >= sizeof(buf)) slen = sizeof(buf) - 1;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    return strtod(buf, NULL);
}

static const char *lp_member_at(unsigned char *p, char *buf, size_t *len)
{
    unsigned int l;
    const char *s = (const char *)lp_get_value(p, (unsigned char *)buf, &l);
    *len = l;
    return s;
}

static int member_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t min = alen < blen ? alen : blen;
    int c = min ? memcmp(a, b, min) : 0;
    if (c) return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static unsigned char *zlp_find(unsigned char *lp, const char *m, size_t len, double *score)
{
    unsigned char *p = lp_first(lp);
    if (!p) return NULL;
    p = lp_find(lp, p, (const unsigned char *)m, len, 1);
    if (p && score) *score = lp_score_at(lp_next(lp, p));
    return p;
}

static unsigned char *zlp_insert(unsigned char *lp, double score, const char *m, size_t len)
{
    char sbuf[SCORE_BUF], mbuf[LP_INTBUF_SIZE];
    int slen = double_to_string(sbuf, sizeof(sbuf), score);
    unsigned char *p = lp_first(lp);
    while (p) {
        unsigned char *sp = lp_next(lp, p);
        double s = lp_score_at(sp);
        if (s > score) break;
        if (s == score) {
            size_t plen;
            const char *pm = lp_member_at(p, mbuf, &plen);
            if (member_cmp(pm, plen, m, len) > 0) break;
        }
        p = lp_next(lp, sp);
    }
    if (!p) {
        lp = lp_append(lp, (const unsigned char *)m, len);
        return lp_append(lp, (const unsigned char *)sbuf, (size_t)slen);
    }
    unsigned char *newp;
    lp = lp_insert_string(lp, (const unsigned char *)m, len, p, LP_BEFORE, &newp);
    return lp_insert_string(lp, (const unsigned char *)sbuf, (size_t)slen, newp, LP_AFTER, NULL);
}

static unsigned char *zlp_delete(unsigned char *lp, unsigned char *p)
{
    return lp_delete_range_with_entry(lp, &p, 2);
}

static unsigned long zlp_length(unsigned char *lp) { return lp_length(lp) / 2; }

static int lp_must_convert(unsigned char *lp, size_t newlen)
{
    return zlp_length(lp) + 1 > (unsigned long long)server.zset_max_listpack_entries ||
           newlen > (unsigned long long)server.zset_max_listpack_value ||
           !lp_safe_to_add(lp, newlen + SCORE_BUF + 16);
}

static void convert_to_skiplist(entry *e)
{
    unsigned char *lp = entry_ptr(e);
    zset *z = zs_create();
    hashtable_expand(z->index, zlp_length(lp) + 1);
    char mbuf[LP_INTBUF_SIZE];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
        size_t len;
        const char *m = lp_member_at(p, mbuf, &len);
        zs_insert(z, lp_score_at(lp_next(lp, p)), m, len);
    }
    lp_free(lp);
    entry_set_ptr(e, z);
    entry_set_encoding(e, ENC_SKIPLIST);
}

/* ======================================================================
 * Encoding-independent access (also the API of zset.h)
 * ==================================================================== */

static int is_lp(const entry *e) { return entry_encoding(e) == ENC_LISTPACK; }

entry *zset_new_entry(const char *key, size_t klen, size_t first_len)
{
    if (server.zset_max_listpack_entries == 0 ||
        first_len > (unsigned long long)server.zset_max_listpack_value)
        return entry_new_ptr(key, klen, TYPE_ZSET, ENC_SKIPLIST, zs_create(), -1);
    return entry_new_ptr(key, klen, TYPE_ZSET, ENC_LISTPACK, lp_new(64), -1);
}

static size_t value_length(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK) return zlp_length((unsigned char *)ptr);
    return skiplist_length(((const zset *)ptr)->sl);
}

size_t zset_length(const entry *e) { return value_length(entry_encoding(e), entry_ptr(e)); }

int zset_score(const entry *e, const char *m, size_t len, double *score)
{
    if (is_lp(e)) return zlp_find(entry_ptr(e), m, len, score) != NULL;
    skiplist_node *n = zs_find(entry_ptr(e), m, len);
    if (n && score) *score = skiplist_node_score(n);
    return n != NULL;
}

#define ZADD_OUT_SAME 4 /* processed, score unchanged */

static void set_score(entry *e, double cur, double score, const char *m, size_t len)
{
    if (is_lp(e)) {
        unsigned char *lp = entry_ptr(e);
        lp = zlp_delete(lp, zlp_find(lp, m, len, NULL));
        entry_set_ptr(e, zlp_insert(lp, score, m, len));
    } else {
        zset *z = entry_ptr(e);
        skiplist_update_score(z->sl, cur, m, len, score);
    }
}

static void insert_new(entry *e, double score, const char *m, size_t len)
{
    if (is_lp(e) && lp_must_convert(entry_ptr(e), len)) convert_to_skiplist(e);
    if (is_lp(e))
        entry_set_ptr(e, zlp_insert(entry_ptr(e), score, m, len));
    else
        zs_insert(entry_ptr(e), score, m, len);
}

int zset_add(entry *e, double score, const char *m, size_t len, int flags, double *newscore)
{
    double cur;
    if (zset_score(e, m, len, &cur)) {
        if (flags & ZADD_IN_NX) return ZADD_OUT_NOP;
        if (flags & ZADD_IN_INCR) {
            score += cur;
            if (isnan(score)) return ZADD_OUT_NAN;
        }
        if (score == 0) score = 0; /* -0 is stored and shown as 0, as Redis does */
        if (((flags & ZADD_IN_LT) && score >= cur) || ((flags & ZADD_IN_GT) && score <= cur))
            return ZADD_OUT_NOP;
        if (newscore) *newscore = score;
        if (score == cur) return ZADD_OUT_SAME;
        set_score(e, cur, score, m, len);
        return ZADD_OUT_UPDATED;
    }
    if (flags & ZADD_IN_XX) return ZADD_OUT_NOP;
    if (score == 0) score = 0;
    insert_new(e, score, m, len);
    if (newscore) *newscore = score;
    return ZADD_OUT_ADDED;
}

int zset_remove(entry *e, const char *m, size_t len)
{
    if (!is_lp(e)) return zs_delete(entry_ptr(e), m, len);
    unsigned char *lp = entry_ptr(e);
    unsigned char *p = zlp_find(lp, m, len, NULL);
    if (!p) return 0;
    entry_set_ptr(e, zlp_delete(lp, p));
    return 1;
}

/* ---- iterator ---- */

typedef struct zit {
    unsigned char *lp, *p; /* listpack: position of the member */
    skiplist_node *n;
    int rev;
    char buf[LP_INTBUF_SIZE];
} zit;

static void zit_init(zit *it, const entry *e, int rev)
{
    memset(it, 0, sizeof(*it));
    it->rev = rev;
    if (is_lp(e)) {
        it->lp = entry_ptr(e);
        it->p = rev ? (lp_last(it->lp) ? lp_prev(it->lp, lp_last(it->lp)) : NULL) : lp_first(it->lp);
    } else {
        zset *z = entry_ptr(e);
        it->n = rev ? skiplist_last(z->sl) : skiplist_first(z->sl);
    }
}

static int zit_valid(const zit *it) { return it->lp ? it->p != NULL : it->n != NULL; }

static void zit_next(zit *it)
{
    if (it->lp) {
        if (it->rev) {
            unsigned char *sp = lp_prev(it->lp, it->p);
            it->p = sp ? lp_prev(it->lp, sp) : NULL;
        } else {
            it->p = lp_next(it->lp, lp_next(it->lp, it->p));
        }
    } else {
        it->n = it->rev ? skiplist_prev(it->n) : skiplist_next(it->n);
    }
}

static const char *zit_member(zit *it, size_t *len)
{
    if (it->lp) return lp_member_at(it->p, it->buf, len);
    return skiplist_node_ele(it->n, len);
}

static double zit_score(const zit *it)
{
    if (it->lp) return lp_score_at(lp_next(it->lp, it->p));
    return skiplist_node_score(it->n);
}

/* Position at the rank-th element (0-based) in the iteration direction. */
static void zit_seek_rank(zit *it, const entry *e, unsigned long rank, int rev)
{
    zit_init(it, e, rev);
    if (it->lp) {
        long idx = rev ? -(long)(2 * rank + 2) : (long)(2 * rank);
        it->p = lp_seek(it->lp, idx);
    } else {
        zset *z = entry_ptr(e);
        unsigned long len = skiplist_length(z->sl);
        it->n = rank < len ? skiplist_by_rank(z->sl, rev ? len - rank : rank + 1) : NULL;
    }
}

/* Range membership in the iteration direction: "not yet past the far
 * end" and "has reached the near end". */
static int score_past_start(double s, const sl_range *r, int rev)
{
    return rev ? sl_value_lte_max(s, r) : sl_value_gte_min(s, r);
}
static int score_before_end(double s, const sl_range *r, int rev)
{
    return rev ? sl_value_gte_min(s, r) : sl_value_lte_max(s, r);
}
static int lex_past_start(const char *m, size_t l, const sl_lexrange *r, int rev)
{
    return rev ? sl_lex_lte_max(m, l, r) : sl_lex_gte_min(m, l, r);
}
static int lex_before_end(const char *m, size_t l, const sl_lexrange *r, int rev)
{
    return rev ? sl_lex_gte_min(m, l, r) : sl_lex_lte_max(m, l, r);
}

static int zit_score_ok(zit *it, const sl_range *r) { return score_before_end(zit_score(it), r, it->rev); }
static int zit_lex_ok(zit *it, const sl_lexrange *r)
{
    size_t len;
    const char *m = zit_member(it, &len);
    return lex_before_end(m, len, r, it->rev);
}

static void zit_seek_score(zit *it, const entry *e, const sl_range *r, int rev)
{
    zit_init(it, e, rev);
    if (it->lp) {
        while (it->p && !score_past_start(zit_score(it), r, rev)) zit_next(it);
    } else {
        zset *z = entry_ptr(e);
        it->n = rev ? skiplist_last_in_range(z->sl, r) : skiplist_first_in_range(z->sl, r);
    }
    if (zit_valid(it) && !zit_score_ok(it, r)) it->p = NULL, it->n = NULL;
}

static void zit_seek_lex(zit *it, const entry *e, const sl_lexrange *r, int rev)
{
    zit_init(it, e, rev);
    if (it->lp) {
        while (it->p) {
            size_t len;
            const char *m = zit_member(it, &len);
            if (lex_past_start(m, len, r, rev)) break;
            zit_next(it);
        }
    } else {
        zset *z = entry_ptr(e);
        it->n = rev ? skiplist_last_in_lexrange(z->sl, r) : skiplist_first_in_lexrange(z->sl, r);
    }
    if (zit_valid(it) && !zit_lex_ok(it, r)) it->p = NULL, it->n = NULL;
}

/* 0-based rank of a member, -1 if absent. */
static long zset_rank(const entry *e, const char *m, size_t len, int rev, double *score)
{
    unsigned long n = zset_length(e);
    if (is_lp(e)) {
        unsigned char *lp = entry_ptr(e);
        long r = 0;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p)), r++) {
            if (lp_compare(p, (const unsigned char *)m, len)) {
                *score = lp_score_at(lp_next(lp, p));
                return rev ? (long)n - 1 - r : r;
            }
        }
        return -1;
    }
    zset *z = entry_ptr(e);
    skiplist_node *node = zs_find(z, m, len);
    if (!node) return -1;
    *score = skiplist_node_score(node);
    unsigned long r = skiplist_rank(z->sl, *score, m, len);
    return rev ? (long)(n - r) : (long)(r - 1);
}

void zset_range_by_score(const entry *e, const sl_range *range, zset_visit_fn *fn, void *priv)
{
    zit it;
    for (zit_seek_score(&it, e, range, 0); zit_valid(&it) && zit_score_ok(&it, range); zit_next(&it)) {
        size_t len;
        const char *m = zit_member(&it, &len);
        if (!fn(priv, m, len, zit_score(&it))) break;
    }
}

/* ---- building whole sets ---- */

static int item_cmp(const void *a, const void *b)
{
    const zset_item *x = a, *y = b;
    if (x->score < y->score) return -1;
    if (x->score > y->score) return 1;
    return member_cmp(x->m, x->len, y->m, y->len);
}

void zset_sort_items(zset_item *items, size_t n) { qsort(items, n, sizeof(*items), item_cmp); }

entry *zset_entry_from_sorted(const char *key, size_t klen, const zset_item *items, size_t n)
{
    size_t maxlen = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].len > maxlen) maxlen = items[i].len;
        total += items[i].len + SCORE_BUF;
    }
    if (n <= (unsigned long long)server.zset_max_listpack_entries &&
        maxlen <= (unsigned long long)server.zset_max_listpack_value && total < LP_MAX_BYTES / 2) {
        unsigned char *lp = lp_new(total / 2 + 16);
        char sbuf[SCORE_BUF];
        for (size_t i = 0; i < n; i++) {
            int slen = double_to_string(sbuf, sizeof(sbuf), items[i].score);
            lp = lp_append(lp, (const unsigned char *)items[i].m, items[i].len);
            lp = lp_append(lp, (const unsigned char *)sbuf, (size_t)slen);
        }
        return entry_new_ptr(key, klen, TYPE_ZSET, ENC_LISTPACK, lp_shrink_to_fit(lp), -1);
    }
    zset *z = zs_create();
    hashtable_expand(z->index, n);
    for (size_t i = 0; i < n; i++) zs_insert(z, items[i].score, items[i].m, items[i].len);
    return entry_new_ptr(key, klen, TYPE_ZSET, ENC_SKIPLIST, z, -1);
}

/* ======================================================================
 * type_ops
 * ==================================================================== */

static void zset_free_value(int enc, void *ptr)
{
    if (enc == ENC_LISTPACK) lp_free(ptr);
    else zs_free(ptr);
}

static void *zset_dup_value(int enc, const void *ptr)
{
    if (enc == ENC_LISTPACK) {
        size_t n = lp_bytes(ptr);
        unsigned char *copy = zmalloc(n);
        memcpy(copy, ptr, n);
        return copy;
    }
    const zset *src = ptr;
    zset *z = zs_create();
    hashtable_expand(z->index, skiplist_length(src->sl));
    for (skiplist_node *n = skiplist_first(src->sl); n; n = skiplist_next(n)) {
        size_t len;
        const char *m = skiplist_node_ele(n, &len);
        zs_insert(z, skiplist_node_score(n), m, len);
    }
    return z;
}

/* Exact in O(1) for both encodings (the skiplist keeps a running total),
 * so there is nothing to gain from sampling. */
static size_t zset_mem_usage(int enc, const void *ptr, size_t samples)
{
    (void)samples;
    if (enc == ENC_LISTPACK) return zmalloc_size((void *)ptr);
    const zset *z = ptr;
    return zmalloc_size((void *)z) + skiplist_mem_usage(z->sl) + hashtable_mem_usage(z->index);
}

static void zset_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv)
{
    if (enc == ENC_LISTPACK) {
        unsigned char *lp = (unsigned char *)ptr;
        char buf[LP_INTBUF_SIZE];
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
            size_t len;
            const char *m = lp_member_at(p, buf, &len);
            fn(priv, m, len, lp_score_at(lp_next(lp, p)));
        }
        return;
    }
    for (skiplist_node *n = skiplist_first(((const zset *)ptr)->sl); n; n = skiplist_next(n)) {
        size_t len;
        const char *m = skiplist_node_ele(n, &len);
        fn(priv, m, len, skiplist_node_score(n));
    }
}

const type_ops zset_type_ops = {
    .name = "zset",
    .free_value = zset_free_value,
    .dup_value = zset_dup_value,
    .mem_usage = zset_mem_usage,
    .length = value_length,
    .iterate = zset_iterate,
};

/* ======================================================================
 * Argument parsing and reply helpers
 * ==================================================================== */

/* "(1.5" exclusive, "1.5" inclusive, "-inf" / "+inf". Deliberately
 * strtod's grammar, as Redis: it also takes " 1", "0x10" and "" (0). */
static int parse_score_bound(const kstr a, double *v, int *ex)
{
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

static int parse_score_range(client *c, const kstr min, const kstr max, sl_range *r)
{
    if (!parse_score_bound(min, &r->min, &r->minex) || !parse_score_bound(max, &r->max, &r->maxex)) {
        reply_error(c, "ERR min or max is not a float");
        return 0;
    }
    return 1;
}

/* "[a" inclusive, "(a" exclusive, "-" and "+" the infinities. */
static int parse_lex_bound(const kstr a, const char **s, size_t *len, int *ex, int *inf)
{
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

static int parse_lex_range(client *c, const kstr min, const kstr max, sl_lexrange *r)
{
    if (!parse_lex_bound(min, &r->min, &r->minlen, &r->minex, &r->min_inf) ||
        !parse_lex_bound(max, &r->max, &r->maxlen, &r->maxex, &r->max_inf)) {
        reply_error(c, "ERR min or max not valid string range item");
        return 0;
    }
    return 1;
}

static entry *zset_read(client *c, const kstr key, int *wrong)
{
    return lookup_read_typed(c, key, TYPE_ZSET, wrong);
}

static entry *zset_write(client *c, const kstr key, int *wrong)
{
    return lookup_write_typed(c, key, TYPE_ZSET, wrong);
}

/* After a removal: Redis never keeps empty aggregates. */
static void delete_if_empty(client *c, entry *e, const kstr key)
{
    if (zset_length(e) == 0) db_delete(c->db, key, kstr_len(key));
}

/* One element of a WITHSCORES reply: RESP3 nests [member, score] pairs,
 * RESP2 flattens them. */
static void reply_member(client *c, const char *m, size_t len, double score, int withscores)
{
    if (withscores && c->resp >= 3) reply_array_len(c, 2);
    reply_bulk(c, m, len);
    if (withscores) reply_double(c, score);
}

static long reply_len_for(client *c, long n, int withscores)
{
    return withscores && c->resp < 3 ? 2 * n : n;
}

/* ======================================================================
 * ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZCOUNT, ZLEXCOUNT
 * ==================================================================== */

static int parse_zadd_flags(client *c, int *flags, int *ch, int *first)
{
    int j = 2;
    *flags = 0;
    *ch = 0;
    for (; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (arg_is(a, "nx")) *flags |= ZADD_IN_NX;
        else if (arg_is(a, "xx")) *flags |= ZADD_IN_XX;
        else if (arg_is(a, "gt")) *flags |= ZADD_IN_GT;
        else if (arg_is(a, "lt")) *flags |= ZADD_IN_LT;
        else if (arg_is(a, "incr")) *flags |= ZADD_IN_INCR;
        else if (arg_is(a, "ch")) *ch = 1;
        else break;
    }
    *first = j;
    int pairs = c->argc - j;
    if (pairs == 0 || pairs % 2) {
        reply_error_syntax(c);
        return 0;
    }
    int f = *flags;
    if ((f & ZADD_IN_NX) && (f & ZADD_IN_XX)) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return 0;
    }
    if (((f & ZADD_IN_GT) && (f & ZADD_IN_NX)) || ((f & ZADD_IN_LT) && (f & ZADD_IN_NX)) ||
        ((f & ZADD_IN_GT) && (f & ZADD_IN_LT))) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return 0;
    }
    if ((f & ZADD_IN_INCR) && pairs > 2) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return 0;
    }
    return 1;
}

static void zadd_generic(client *c, int flags, int ch, int first)
{
    int npairs = (c->argc - first) / 2;
    double stackbuf[16];
    double *scores = npairs <= 16 ? stackbuf : zmalloc(sizeof(double) * (size_t)npairs);
    int incr = flags & ZADD_IN_INCR;
    for (int i = 0; i < npairs; i++) {
        if (!parse_double(c, c->argv[first + 2 * i], &scores[i])) goto done;
    }
    kstr key = c->argv[1];
    int wrong;
    entry *e = zset_write(c, key, &wrong);
    if (wrong) goto done;
    if (!e) {
        if (flags & ZADD_IN_XX) {
            if (incr) reply_null(c);
            else reply_ll(c, 0);
            goto done;
        }
        e = zset_new_entry(key, kstr_len(key), kstr_len(c->argv[first + 1]));
        db_add(c->db, e);
    }
    long added = 0, updated = 0, processed = 0;
    double newscore = 0;
    for (int i = 0; i < npairs; i++) {
        kstr m = c->argv[first + 2 * i + 1];
        int r = zset_add(e, scores[i], m, kstr_len(m), flags, &newscore);
        if (r == ZADD_OUT_NAN) {
            reply_error(c, "ERR resulting score is not a number (NaN)");
            delete_if_empty(c, e, key);
            goto done;
        }
        if (r == ZADD_OUT_ADDED) added++;
        if (r == ZADD_OUT_UPDATED) updated++;
        if (r != ZADD_OUT_NOP) processed++;
    }
    if (added || updated) signal_modified_key(c, c->db, key);
    if (incr) {
        if (processed) reply_double(c, newscore);
        else reply_null(c);
    } else {
        reply_ll(c, ch ? added + updated : added);
    }
done:
    if (scores != stackbuf) zfree(scores);
}

static void zadd_command(client *c)
{
    int flags, ch, first;
    if (!parse_zadd_flags(c, &flags, &ch, &first)) return;
    zadd_generic(c, flags, ch, first);
}

static void zincrby_command(client *c)
{
    /* ZINCRBY key incr member == ZADD key INCR incr member */
    zadd_generic(c, ZADD_IN_INCR, 0, 2);
}

static void zrem_command(client *c)
{
    int wrong;
    entry *e = zset_write(c, c->argv[1], &wrong);
    if (!e) {
        if (!wrong) reply_ll(c, 0);
        return;
    }
    long removed = 0;
    for (int j = 2; j < c->argc; j++) {
        removed += zset_remove(e, c->argv[j], kstr_len(c->argv[j]));
        if (zset_length(e) == 0) break;
    }
    if (removed) {
        delete_if_empty(c, e, c->argv[1]);
        signal_modified_key(c, c->db, c->argv[1]);
    }
    reply_ll(c, removed);
}

static void zcard_command(client *c)
{
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (!wrong) reply_ll(c, e ? (long long)zset_length(e) : 0);
}

static void zscore_command(client *c)
{
    int wrong;
    double s;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (e && zset_score(e, c->argv[2], kstr_len(c->argv[2]), &s)) reply_double(c, s);
    else reply_null(c);
}

static void zmscore_command(client *c)
{
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (e && zset_score(e, c->argv[j], kstr_len(c->argv[j]), &s)) reply_double(c, s);
        else reply_null(c);
    }
}

static void zrank_generic(client *c, int rev)
{
    int withscore = 0;
    if (c->argc > 4) {
        reply_error_arity(c);
        return;
    }
    if (c->argc == 4) {
        if (!arg_is(c->argv[3], "withscore")) {
            reply_error_syntax(c);
            return;
        }
        withscore = 1;
    }
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    double score = 0;
    long r = e ? zset_rank(e, c->argv[2], kstr_len(c->argv[2]), rev, &score) : -1;
    if (r < 0) {
        if (withscore) reply_null_array(c);
        else reply_null(c);
        return;
    }
    if (withscore) {
        reply_array_len(c, 2);
        reply_ll(c, r);
        reply_double(c, score);
    } else {
        reply_ll(c, r);
    }
}

static void zrank_command(client *c) { zrank_generic(c, 0); }
static void zrevrank_command(client *c) { zrank_generic(c, 1); }

/* Number of nodes from first to last inclusive, by rank difference. */
static long nodes_between(skiplist *sl, skiplist_node *first, skiplist_node *last) {
    size_t l1, l2;
    const char *m1 = skiplist_node_ele(first, &l1), *m2 = skiplist_node_ele(last, &l2);
    return (long)(skiplist_rank(sl, skiplist_node_score(last), m2, l2) -
                  skiplist_rank(sl, skiplist_node_score(first), m1, l1) + 1);
}

static void zcount_command(client *c)
{
    sl_range r;
    if (!parse_score_range(c, c->argv[2], c->argv[3], &r)) return;
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    long n = 0;
    if (e && !is_lp(e)) {
        zset *z = entry_ptr(e);
        skiplist_node *first = skiplist_first_in_range(z->sl, &r);
        if (first) n = nodes_between(z->sl, first, skiplist_last_in_range(z->sl, &r));
    } else if (e) {
        zit it;
        for (zit_seek_score(&it, e, &r, 0); zit_valid(&it) && zit_score_ok(&it, &r); zit_next(&it)) n++;
    }
    reply_ll(c, n);
}

static void zlexcount_command(client *c)
{
    sl_lexrange r;
    if (!parse_lex_range(c, c->argv[2], c->argv[3], &r)) return;
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    long n = 0;
    if (e && !is_lp(e)) {
        zset *z = entry_ptr(e);
        skiplist_node *first = skiplist_first_in_lexrange(z->sl, &r);
        if (first) n = nodes_between(z->sl, first, skiplist_last_in_lexrange(z->sl, &r));
    } else if (e) {
        zit it;
        for (zit_seek_lex(&it, e, &r, 0); zit_valid(&it) && zit_lex_ok(&it, &r); zit_next(&it)) n++;
    }
    reply_ll(c, n);
}

/* ======================================================================
 * ZRANGE and friends
 * ==================================================================== */

enum { RANGE_RANK, RANGE_SCORE, RANGE_LEX, RANGE_AUTO };

typedef struct zrange_req {
    int type, rev, withscores;
    long long start, end;   /* RANGE_RANK */
    long long offset, limit; /* LIMIT; limit < 0 means no limit */
    sl_range score;
    sl_lexrange lex;
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

static void sink_begin(zsink *s, client *c, int store, int withscores)
{
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->store = store;
    s->withscores = withscores;
    if (store) s->arena = kstr_empty();
    else s->deferred = reply_deferred_len(c);
}

static void sink_emit(zsink *s, const char *m, size_t len, double score)
{
    if (!s->store) {
        reply_member(s->c, m, len, score, s->withscores);
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
static void sink_end(zsink *s, const kstr dst)
{
    client *c = s->c;
    if (!s->store) {
        reply_set_deferred_array_len(c, s->deferred, reply_len_for(c, s->count, s->withscores));
        return;
    }
    if (s->count == 0) {
        if (db_delete(c->db, dst, kstr_len(dst))) signal_modified_key(c, c->db, dst);
    } else {
        for (long i = 0; i < s->count; i++) s->items[i].m = s->arena + (uintptr_t)s->items[i].m;
        /* REV ranges arrive in descending order; the new key needs ascending. */
        zset_sort_items(s->items, (size_t)s->count);
        db_set(c->db, zset_entry_from_sorted(dst, kstr_len(dst), s->items, (size_t)s->count), 0);
        signal_modified_key(c, c->db, dst);
    }
    reply_ll(c, s->count);
    kstr_free(s->arena);
    zfree(s->items);
}

static void range_by_rank(const entry *e, zrange_req *q, zsink *s)
{
    long long len = (long long)zset_length(e), start = q->start, end = q->end;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return;
    if (end >= len) end = len - 1;
    zit it;
    zit_seek_rank(&it, e, (unsigned long)start, q->rev);
    for (long long n = end - start + 1; n > 0 && zit_valid(&it); n--, zit_next(&it)) {
        size_t mlen;
        const char *m = zit_member(&it, &mlen);
        sink_emit(s, m, mlen, zit_score(&it));
    }
}

static void range_by_score_or_lex(const entry *e, zrange_req *q, zsink *s)
{
    if (q->offset < 0) return;
    zit it;
    if (q->type == RANGE_SCORE) zit_seek_score(&it, e, &q->score, q->rev);
    else zit_seek_lex(&it, e, &q->lex, q->rev);
    long long skip = q->offset, limit = q->limit;
    for (; zit_valid(&it) && limit != 0; zit_next(&it)) {
        if (q->type == RANGE_SCORE ? !zit_score_ok(&it, &q->score) : !zit_lex_ok(&it, &q->lex)) break;
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
static int parse_zrange_options(client *c, int first, int store, zrange_req *q)
{
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
        } else if (q->type == RANGE_AUTO && arg_is(a, "bylex")) {
            q->type = RANGE_LEX;
        } else if (q->type == RANGE_AUTO && arg_is(a, "byscore")) {
            q->type = RANGE_SCORE;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    if (q->rev == -1) q->rev = 0;
    if (q->type == RANGE_AUTO) q->type = RANGE_RANK;
    if (limit_given && q->type == RANGE_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return 0;
    }
    if (q->withscores && q->type == RANGE_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return 0;
    }
    return 1;
}

static int parse_zrange_bounds(client *c, kstr min, kstr max, zrange_req *q)
{
    /* Reverse score/lex ranges are written max first. */
    if (q->rev && q->type != RANGE_RANK) {
        kstr t = min;
        min = max;
        max = t;
    }
    switch (q->type) {
    case RANGE_RANK:
        return parse_ll(c, min, &q->start) && parse_ll(c, max, &q->end);
    case RANGE_SCORE:
        return parse_score_range(c, min, max, &q->score);
    default:
        return parse_lex_range(c, min, max, &q->lex);
    }
}

/* keyidx: the source key (the destination, for STORE, is keyidx - 1). */
static void zrange_generic(client *c, int keyidx, int store, int type, int rev)
{
    zrange_req q;
    memset(&q, 0, sizeof(q));
    q.type = type;
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
        if (q.type == RANGE_RANK) range_by_rank(e, &q, &s);
        else range_by_score_or_lex(e, &q, &s);
    }
    sink_end(&s, store ? c->argv[keyidx - 1] : NULL);
}

static void zrange_command(client *c) { zrange_generic(c, 1, 0, RANGE_AUTO, -1); }
static void zrangestore_command(client *c) { zrange_generic(c, 2, 1, RANGE_AUTO, -1); }
static void zrevrange_command(client *c) { zrange_generic(c, 1, 0, RANGE_RANK, 1); }
static void zrangebyscore_command(client *c) { zrange_generic(c, 1, 0, RANGE_SCORE, 0); }
static void zrevrangebyscore_command(client *c) { zrange_generic(c, 1, 0, RANGE_SCORE, 1); }
static void zrangebylex_command(client *c) { zrange_generic(c, 1, 0, RANGE_LEX, 0); }
static void zrevrangebylex_command(client *c) { zrange_generic(c, 1, 0, RANGE_LEX, 1); }

/* ---- ZREMRANGEBY* ---- */

/* Listpack: the matching elements are consecutive; find the first and
 * count them, then cut the block in one memmove. */
static unsigned long lp_remove_matching(entry *e, int type, const zrange_req *q)
{
    zit it;
    unsigned long first = 0, n = 0;
    for (zit_init(&it, e, 0); zit_valid(&it); zit_next(&it), first++) {
        if (type == RANGE_SCORE ? sl_value_gte_min(zit_score(&it), &q->score) : 1) {
            if (type == RANGE_SCORE) break;
            size_t len;
            const char *m = zit_member(&it, &len);
            if (sl_lex_gte_min(m, len, &q->lex)) break;
        }
    }
    for (; zit_valid(&it); zit_next(&it), n++) {
        if (type == RANGE_SCORE && !zit_score_ok(&it, &q->score)) break;
        if (type == RANGE_LEX && !zit_lex_ok(&it, &q->lex)) break;
    }
    if (n) entry_set_ptr(e, lp_delete_range(entry_ptr(e), (long)(2 * first), 2 * n));
    return n;
}

static void zremrange_generic(client *c, int type)
{
    zrange_req q;
    memset(&q, 0, sizeof(q));
    q.type = type;
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
        long long len = (long long)zset_length(e), start = q.start, end = q.end;
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (start <= end && start < len) {
            if (end >= len) end = len - 1;
            if (is_lp(e)) {
                entry_set_ptr(e, lp_delete_range(entry_ptr(e), (long)(2 * start),
                                                 (unsigned long)(2 * (end - start + 1))));
                removed = (unsigned long)(end - start + 1);
            } else {
                zset *z = entry_ptr(e);
                removed = skiplist_delete_range_by_rank(z->sl, (unsigned long)start + 1,
                                                        (unsigned long)end + 1, unindex_member, z->index);
            }
        }
    } else if (is_lp(e)) {
        removed = lp_remove_matching(e, type, &q);
    } else {
        zset *z = entry_ptr(e);
        removed = type == RANGE_SCORE
                      ? skiplist_delete_range_by_score(z->sl, &q.score, unindex_member, z->index)
                      : skiplist_delete_range_by_lex(z->sl, &q.lex, unindex_member, z->index);
    }
    if (removed) {
        delete_if_empty(c, e, c->argv[1]);
        signal_modified_key(c, c->db, c->argv[1]);
    }
    reply_ll(c, (long long)removed);
}

static void zremrangebyrank_command(client *c) { zremrange_generic(c, RANGE_RANK); }
static void zremrangebyscore_command(client *c) { zremrange_generic(c, RANGE_SCORE); }
static void zremrangebylex_command(client *c) { zremrange_generic(c, RANGE_LEX); }

/* ======================================================================
 * Pops: ZPOPMIN/MAX, ZMPOP, BZPOPMIN/MAX, BZMPOP
 * ==================================================================== */

/* Pop up to count elements from one end, replying each as a member/score
 * (nested pairs when 'nested', flat otherwise). Deletes the key when it
 * empties. Returns the number popped. */
static long pop_elements(client *c, entry *e, const kstr key, int max, long count, int nested)
{
    long n = (long)zset_length(e);
    if (count < n) n = count;
    for (long i = 0; i < n; i++) {
        zit it;
        zit_init(&it, e, max);
        size_t len;
        const char *m = zit_member(&it, &len);
        double score = zit_score(&it);
        if (nested) reply_array_len(c, 2);
        reply_bulk(c, m, len);
        reply_double(c, score);
        if (is_lp(e)) entry_set_ptr(e, zlp_delete(entry_ptr(e), it.p));
        else zs_delete(entry_ptr(e), m, len);
    }
    delete_if_empty(c, e, key);
    if (n) signal_modified_key(c, c->db, key);
    return n;
}

static void zpop_generic(client *c, int max)
{
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    /* Redis validates COUNT before looking the key up, so a bad count wins
     * over WRONGTYPE. */
    long long count = 1;
    if (c->argc == 3) {
        if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &count) || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    int wrong;
    entry *e = zset_write(c, c->argv[1], &wrong);
    if (wrong) return;
    if (!e || count == 0) {
        reply_empty_array(c);
        return;
    }
    int nested = c->argc == 3 && c->resp >= 3;
    long n = (long)zset_length(e);
    if (count < n) n = (long)count;
    reply_array_len(c, nested ? n : 2 * n);
    pop_elements(c, e, c->argv[1], max, n, nested);
}

static void zpopmin_command(client *c) { zpop_generic(c, 0); }
static void zpopmax_command(client *c) { zpop_generic(c, 1); }

/* Transactions and scripts cannot wait: they get the timeout answer. */
static int may_block(client *c)
{
#ifdef CLIENT_MULTI
    if (c->flags & CLIENT_MULTI) return 0;
#endif
#ifdef CLIENT_DENY_BLOCKING
    if (c->flags & CLIENT_DENY_BLOCKING) return 0;
#endif
    return !(c->flags & CLIENT_FAKE);
}

static void bzpop_generic(client *c, int max)
{
    long long deadline;
    if (!parse_timeout(c, c->argv[c->argc - 1], 1, &deadline)) return;
    for (int j = 1; j < c->argc - 1; j++) {
        int wrong;
        entry *e = zset_write(c, c->argv[j], &wrong);
        if (wrong) return;
        if (!e) continue;
        reply_array_len(c, 3);
        reply_bulk(c, c->argv[j], kstr_len(c->argv[j]));
        pop_elements(c, e, c->argv[j], max, 1, 0);
        return;
    }
    if (!may_block(c)) {
        reply_null_array(c);
        return;
    }
    block_on_keys(c, &c->argv[1], c->argc - 2, deadline);
}

static void bzpopmin_command(client *c) { bzpop_generic(c, 0); }
static void bzpopmax_command(client *c) { bzpop_generic(c, 1); }

/* [BZ]MPOP: numkeys key... MIN|MAX [COUNT n], numkeys at argv[first]. */
static void mpop_generic(client *c, int first, long long deadline, int blocking)
{
    long long numkeys, count = -1;
    if (!string_to_ll(c->argv[first], kstr_len(c->argv[first]), &numkeys) || numkeys <= 0 ||
        numkeys > INT_MAX) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    int where = first + 1 + (int)numkeys;
    if (numkeys > c->argc - first - 2) {
        reply_error_syntax(c);
        return;
    }
    int max;
    if (arg_is(c->argv[where], "min")) max = 0;
    else if (arg_is(c->argv[where], "max")) max = 1;
    else {
        reply_error_syntax(c);
        return;
    }
    for (int j = where + 1; j < c->argc; j++) {
        if (count == -1 && arg_is(c->argv[j], "count") && j + 1 < c->argc) {
            if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &count) || count <= 0) {
                reply_error(c, "ERR count should be greater than 0");
                return;
            }
            j++;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    if (count == -1) count = 1;
    for (int j = first + 1; j < where; j++) {
        int wrong;
        entry *e = zset_write(c, c->argv[j], &wrong);
        if (wrong) return;
        if (!e) continue;
        long n = (long)zset_length(e);
        if (count < n) n = (long)count;
        reply_array_len(c, 2);
        reply_bulk(c, c->argv[j], kstr_len(c->argv[j]));
        reply_array_len(c, n);
        pop_elements(c, e, c->argv[j], max, n, 1);
        return;
    }
    if (!blocking || !may_block(c)) {
        reply_null_array(c);
        return;
    }
    block_on_keys(c, &c->argv[first + 1], (int)numkeys, deadline);
}

static void zmpop_command(client *c) { mpop_generic(c, 1, 0, 0); }

static void bzmpop_command(client *c)
{
    long long deadline;
    if (!parse_timeout(c, c->argv[1], 1, &deadline)) return;
    mpop_generic(c, 2, deadline, 1);
}

/* ======================================================================
 * ZRANDMEMBER
 * ==================================================================== */

static unsigned long rand_below(unsigned long n)
{
    return (unsigned long)(((unsigned long long)random() << 31 ^ (unsigned long long)random()) % n);
}

static void reply_at_rank(client *c, const entry *e, unsigned long rank, int withscores)
{
    zit it;
    zit_seek_rank(&it, e, rank, 0);
    size_t len;
    const char *m = zit_member(&it, &len);
    reply_member(c, m, len, zit_score(&it), withscores);
}

static void zrandmember_with_count(client *c, const entry *e, long long count, int withscores)
{
    unsigned long size = zset_length(e);
    if (count < 0) { /* repeats allowed */
        unsigned long n = (unsigned long)(-count);
        reply_array_len(c, reply_len_for(c, (long)n, withscores));
        for (unsigned long i = 0; i < n; i++) reply_at_rank(c, e, rand_below(size), withscores);
        return;
    }
    unsigned long want = (unsigned long)count < size ? (unsigned long)count : size;
    reply_array_len(c, reply_len_for(c, (long)want, withscores));
    /* Selection sampling (Knuth's algorithm S): one pass, each element
     * kept with probability needed/remaining, exactly 'want' distinct. */
    unsigned long needed = want, remaining = size;
    zit it;
    for (zit_init(&it, e, 0); zit_valid(&it) && needed; zit_next(&it), remaining--) {
        if (rand_below(remaining) >= needed) continue;
        size_t len;
        const char *m = zit_member(&it, &len);
        reply_member(c, m, len, zit_score(&it), withscores);
        needed--;
    }
}

static void zrandmember_command(client *c)
{
    long long count = 0;
    int withscores = 0;
    if (c->argc > 4 || (c->argc == 4 && !arg_is(c->argv[3], "withscores"))) {
        reply_error_syntax(c);
        return;
    }
    withscores = c->argc == 4;
    if (c->argc >= 3) {
        if (!parse_ll(c, c->argv[2], &count)) return;
        if (count < -LONG_MAX || (withscores && (count < -LONG_MAX / 2 || count > LONG_MAX / 2))) {
            reply_error(c, "ERR value is out of range");
            return;
        }
    }
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (c->argc == 2) {
        if (!e) reply_null(c);
        else reply_at_rank(c, e, rand_below(zset_length(e)), 0);
        return;
    }
    if (!e || count == 0) {
        reply_empty_array(c);
        return;
    }
    zrandmember_with_count(c, e, count, withscores);
}

/* ======================================================================
 * ZSCAN
 * ==================================================================== */

typedef struct scan_ctx {
    client *c;
    const scan_args *args;
    long n;
} scan_ctx;

static void scan_emit(scan_ctx *s, const char *m, size_t len, double score)
{
    if (!scan_pattern_matches(s->args, m, len)) return;
    char buf[SCORE_BUF];
    int n = double_to_string(buf, sizeof(buf), score);
    reply_bulk(s->c, m, len);
    reply_bulk(s->c, buf, (size_t)n);
    s->n++;
}

static void scan_node(void *priv, void *element)
{
    size_t len;
    const char *m = skiplist_node_ele(element, &len);
    scan_emit(priv, m, len, skiplist_node_score(element));
}

typedef struct node_vec {
    void **nodes;
    size_t n;
} node_vec;

static int cursor_valid(const kstr s)
{
    size_t n = kstr_len(s);
    if (n == 0 || n > 20) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

static void zscan_command(client *c)
{
    scan_args a;
    int wrong;
    /* Redis's order: cursor, then the key, then the options (so a missing
     * key answers an empty scan whatever the options say). */
    if (!cursor_valid(c->argv[2])) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (!e) {
        reply_array_len(c, 2);
        reply_bulk_cstr(c, "0");
        reply_empty_array(c);
        return;
    }
    if (!parse_scan_args(c, 2, 0, &a)) return;
    reply_array_len(c, 2);
    scan_ctx s = {c, &a, 0};
    if (is_lp(e)) { /* small: everything in one call, cursor 0 */
        reply_bulk_cstr(c, "0");
        void *len = reply_deferred_len(c);
        zit it;
        for (zit_init(&it, e, 0); zit_valid(&it); zit_next(&it)) {
            size_t ml;
            const char *m = zit_member(&it, &ml);
            scan_emit(&s, m, ml, zit_score(&it));
        }
        reply_set_deferred_array_len(c, len, 2 * s.n);
        return;
    }
    zset *z = entry_ptr(e);
    /* The cursor goes first in the reply but is known only at the end:
     * collect the nodes of the visited buckets, then reply. Bounded, so a
     * sparse table cannot stall the server on one call. */
    node_vec v;
    size_t cursor = scan_collect(z->index, (size_t)a.cursor, a.count, &v.nodes, &v.n);
    char cbuf[32];
    int cl = snprintf(cbuf, sizeof(cbuf), "%zu", cursor);
    reply_bulk(c, cbuf, (size_t)cl);
    void *len = reply_deferred_len(c);
    for (size_t i = 0; i < v.n; i++) scan_node(&s, v.nodes[i]);
    reply_set_deferred_array_len(c, len, 2 * s.n);
    zfree(v.nodes);
}

/* ======================================================================
 * ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD
 * ==================================================================== */

enum { SETOP_UNION, SETOP_INTER, SETOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

/* A result member being built: its own copy of the bytes, since the
 * destination key may be one of the inputs. */
typedef struct acc_item {
    double score;
    uint32_t len;
    char m[];
} acc_item;

static const void *acc_key(const void *el, size_t *len)
{
    const acc_item *a = el;
    *len = a->len;
    return a->m;
}

static void acc_free(void *el) { zfree(el); }

static const hashtable_type acc_type = {.element_key = acc_key, .element_destructor = acc_free};

static acc_item *acc_new(const char *m, size_t len, double score)
{
    acc_item *a = zmalloc(sizeof(*a) + len);
    a->score = score;
    a->len = (uint32_t)len;
    memcpy(a->m, m, len);
    return a;
}

/* One input: a sorted set, or a plain set whose members score 1 (loaded
 * into a temporary table through set_type_ops, so this module needs no
 * knowledge of the set encodings). */
typedef struct zsrc {
    entry *e;
    hashtable *tmp;
    double weight;
    size_t size;
} zsrc;

static void load_set_member(void *priv, const char *s, size_t len, double score)
{
    (void)score;
    hashtable_add(priv, acc_new(s, len, 1.0));
}

static void src_load(zsrc *src, entry *e)
{
    src->e = e;
    src->tmp = NULL;
    src->weight = 1.0;
    src->size = 0;
    if (!e) return;
    if (entry_type(e) == TYPE_SET) {
        src->tmp = hashtable_create(&acc_type);
        set_type_ops.iterate(entry_encoding(e), entry_ptr(e), load_set_member, src->tmp);
        src->size = hashtable_size(src->tmp);
    } else {
        src->size = zset_length(e);
    }
}

static int src_score(zsrc *src, const char *m, size_t len, double *score)
{
    if (!src->e) return 0;
    if (!src->tmp) return zset_score(src->e, m, len, score);
    void *found;
    if (!hashtable_find(src->tmp, m, len, &found)) return 0;
    *score = 1.0;
    return 1;
}

static void src_foreach(zsrc *src, type_visit_fn *fn, void *priv)
{
    if (!src->e) return;
    if (!src->tmp) {
        zset_iterate(entry_encoding(src->e), entry_ptr(src->e), fn, priv);
        return;
    }
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, src->tmp, 0);
    while (hashtable_iter_next(&it, &el)) {
        acc_item *a = el;
        fn(priv, a->m, a->len, 1.0);
    }
    hashtable_iter_release(&it);
}

static double weighted(double score, double weight)
{
    double v = score * weight;
    return isnan(v) ? 0 : v; /* 0 * inf: Redis's convention is 0 */
}

static double aggregate(int agg, double a, double b)
{
    if (agg == AGG_MIN) return a < b ? a : b;
    if (agg == AGG_MAX) return a > b ? a : b;
    double s = a + b;
    return isnan(s) ? 0 : s; /* inf + -inf */
}

typedef struct setop {
    int op, agg;
    zsrc *src;
    int n;
    hashtable *acc;  /* union */
    acc_item **out;  /* inter / diff */
    size_t nout, cap;
    double weight;   /* of the source being visited */
    long limit;      /* ZINTERCARD: stop after this many (0 = none) */
} setop;

static void out_push(setop *so, acc_item *a)
{
    if (so->nout == so->cap) {
        so->cap = so->cap ? so->cap * 2 : 16;
        so->out = zrealloc(so->out, so->cap * sizeof(*so->out));
    }
    so->out[so->nout++] = a;
}

static void union_visit(void *priv, const char *m, size_t len, double score)
{
    setop *so = priv;
    double v = weighted(score, so->weight);
    void **ref = hashtable_find_ref(so->acc, m, len);
    if (ref) {
        acc_item *a = *ref;
        a->score = aggregate(so->agg, a->score, v);
    } else {
        hashtable_add(so->acc, acc_new(m, len, v));
    }
}

static void inter_visit(void *priv, const char *m, size_t len, double score)
{
    setop *so = priv;
    if (so->limit && (long)so->nout >= so->limit) return;
    double v = weighted(score, so->src[0].weight);
    for (int j = 1; j < so->n; j++) {
        double s;
        if (!src_score(&so->src[j], m, len, &s)) return;
        v = aggregate(so->agg, v, weighted(s, so->src[j].weight));
    }
    out_push(so, acc_new(m, len, v));
}

static void diff_visit(void *priv, const char *m, size_t len, double score)
{
    setop *so = priv;
    for (int j = 1; j < so->n; j++) {
        double s;
        if (src_score(&so->src[j], m, len, &s)) return;
    }
    out_push(so, acc_new(m, len, score));
}

static int src_cmp_size(const void *a, const void *b)
{
    const zsrc *x = a, *y = b;
    return x->size < y->size ? -1 : (x->size > y->size ? 1 : 0);
}

/* Runs the operation; results end up in so->out (unsorted). */
static void setop_run(setop *so)
{
    if (so->op == SETOP_DIFF) {
        src_foreach(&so->src[0], diff_visit, so);
        return;
    }
    /* Smallest first: the intersection then probes the fewest members. */
    qsort(so->src, (size_t)so->n, sizeof(zsrc), src_cmp_size);
    if (so->op == SETOP_INTER) {
        if (so->src[0].size > 0) src_foreach(&so->src[0], inter_visit, so);
        return;
    }
    so->acc = hashtable_create(&acc_type);
    for (int j = 0; j < so->n; j++) {
        so->weight = so->src[j].weight;
        src_foreach(&so->src[j], union_visit, so);
    }
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, so->acc, 0);
    while (hashtable_iter_next(&it, &el)) out_push(so, el);
    hashtable_iter_release(&it);
}

static void setop_free(setop *so)
{
    if (so->acc) {
        hashtable_release(so->acc); /* frees the items, also listed in out */
    } else {
        for (size_t i = 0; i < so->nout; i++) zfree(so->out[i]);
    }
    zfree(so->out);
    for (int j = 0; j < so->n; j++)
        if (so->src[j].tmp) hashtable_release(so->src[j].tmp);
    zfree(so->src);
}

static zset_item *sorted_items(setop *so)
{
    zset_item *items = zmalloc(sizeof(*items) * (so->nout ? so->nout : 1));
    for (size_t i = 0; i < so->nout; i++) {
        items[i].score = so->out[i]->score;
        items[i].m = so->out[i]->m;
        items[i].len = so->out[i]->len;
    }
    zset_sort_items(items, so->nout);
    return items;
}

/* Parse "numkeys key..." at argv[idx], load the inputs. */
static int load_sources(client *c, int idx, int write, setop *so)
{
    long long numkeys;
    if (!parse_ll(c, c->argv[idx], &numkeys)) return 0;
    if (numkeys < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->fullname);
        return 0;
    }
    if (numkeys > c->argc - idx - 1) {
        reply_error_syntax(c);
        return 0;
    }
    so->n = (int)numkeys;
    so->src = zcalloc(sizeof(zsrc) * (size_t)numkeys);
    for (int j = 0; j < so->n; j++) {
        kstr key = c->argv[idx + 1 + j];
        entry *e = write ? lookup_write(c, key) : lookup_read(c, key);
        if (e && entry_type(e) != TYPE_ZSET && entry_type(e) != TYPE_SET) {
            reply_error_wrongtype(c);
            so->n = j; /* only the loaded ones are freed */
            return 0;
        }
        src_load(&so->src[j], e);
    }
    return 1;
}

static int parse_setop_options(client *c, int j, int store, setop *so, int *withscores)
{
    for (; j < c->argc; j++) {
        int left = c->argc - j - 1;
        kstr a = c->argv[j];
        if (so->op != SETOP_DIFF && left >= so->n && arg_is(a, "weights")) {
            for (int k = 0; k < so->n; k++) {
                if (!string_to_double(c->argv[j + 1 + k], kstr_len(c->argv[j + 1 + k]), &so->src[k].weight)) {
                    reply_error(c, "ERR weight value is not a float");
                    return 0;
                }
            }
            j += so->n;
        } else if (so->op != SETOP_DIFF && left >= 1 && arg_is(a, "aggregate")) {
            kstr v = c->argv[++j];
            if (arg_is(v, "sum")) so->agg = AGG_SUM;
            else if (arg_is(v, "min")) so->agg = AGG_MIN;
            else if (arg_is(v, "max")) so->agg = AGG_MAX;
            else {
                reply_error_syntax(c);
                return 0;
            }
        } else if (!store && arg_is(a, "withscores")) {
            *withscores = 1;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

static void setop_generic(client *c, int op, int store)
{
    setop so;
    memset(&so, 0, sizeof(so));
    so.op = op;
    int idx = store ? 2 : 1, withscores = 0;
    if (!load_sources(c, idx, store, &so)) goto done;
    if (!parse_setop_options(c, idx + 1 + so.n, store, &so, &withscores)) goto done;
    setop_run(&so);
    zset_item *items = sorted_items(&so);
    if (store) {
        kstr dst = c->argv[1];
        if (so.nout) {
            db_set(c->db, zset_entry_from_sorted(dst, kstr_len(dst), items, so.nout), 0);
            signal_modified_key(c, c->db, dst);
        } else if (db_delete(c->db, dst, kstr_len(dst))) {
            signal_modified_key(c, c->db, dst);
        }
        reply_ll(c, (long long)so.nout);
    } else {
        reply_array_len(c, reply_len_for(c, (long)so.nout, withscores));
        for (size_t i = 0; i < so.nout; i++) reply_member(c, items[i].m, items[i].len, items[i].score, withscores);
    }
    zfree(items);
done:
    setop_free(&so);
}

static void zunion_command(client *c) { setop_generic(c, SETOP_UNION, 0); }
static void zinter_command(client *c) { setop_generic(c, SETOP_INTER, 0); }
static void zdiff_command(client *c) { setop_generic(c, SETOP_DIFF, 0); }
static void zunionstore_command(client *c) { setop_generic(c, SETOP_UNION, 1); }
static void zinterstore_command(client *c) { setop_generic(c, SETOP_INTER, 1); }
static void zdiffstore_command(client *c) { setop_generic(c, SETOP_DIFF, 1); }

static void zintercard_command(client *c)
{
    setop so;
    memset(&so, 0, sizeof(so));
    so.op = SETOP_INTER;
    if (!load_sources(c, 1, 0, &so)) goto done;
    for (int j = 2 + so.n; j < c->argc; j++) {
        long long limit;
        if (arg_is(c->argv[j], "limit") && j + 1 < c->argc) {
            if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &limit) || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                goto done;
            }
            so.limit = (long)limit;
            j++;
        } else {
            reply_error_syntax(c);
            goto done;
        }
    }
    setop_run(&so);
    reply_ll(c, (long long)so.nout);
done:
    setop_free(&so);
}

/* ======================================================================
 * Command table
 * ==================================================================== */

command zset_commands[] = {
    {"zadd", zadd_command, -4, "write denyoom fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Adds one or more members to a sorted set, or updates their scores.", NULL},
    {"zincrby", zincrby_command, 4, "write denyoom fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Increments the score of a member in a sorted set.", NULL},
    {"zrem", zrem_command, -3, "write fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Removes one or more members from a sorted set.", NULL},
    {"zcard", zcard_command, 2, "readonly fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns the number of members in a sorted set.", NULL},
    {"zcount", zcount_command, 4, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the count of members in a sorted set that have scores within a range.", NULL},
    {"zlexcount", zlexcount_command, 4, "readonly fast", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns the number of members in a sorted set within a lexicographical range.", NULL},
    {"zscore", zscore_command, 3, "readonly fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns the score of a member in a sorted set.", NULL},
    {"zmscore", zmscore_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "6.2.0",
     "Returns the score of one or more members in a sorted set.", NULL},
    {"zrank", zrank_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by ascending scores.", NULL},
    {"zrevrank", zrevrank_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by descending scores.", NULL},
    {"zrange", zrange_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns members in a sorted set within a range of indexes.", NULL},
    {"zrangestore", zrangestore_command, -5, "write denyoom", 1, 2, 1, "sorted-set", "6.2.0",
     "Stores a range of members from sorted set in a key.", NULL},
    {"zrevrange", zrevrange_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns members in a sorted set within a range of indexes in reverse order.", NULL},
    {"zrangebyscore", zrangebyscore_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.0.5",
     "Returns members in a sorted set within a range of scores.", NULL},
    {"zrevrangebyscore", zrevrangebyscore_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.2.0",
     "Returns members in a sorted set within a range of scores in reverse order.", NULL},
    {"zrangebylex", zrangebylex_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range.", NULL},
    {"zrevrangebylex", zrevrangebylex_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range in reverse order.", NULL},
    {"zremrangebyrank", zremrangebyrank_command, 4, "write", 1, 1, 1, "sorted-set", "2.0.0",
     "Removes members in a sorted set within a range of indexes.", NULL},
    {"zremrangebyscore", zremrangebyscore_command, 4, "write", 1, 1, 1, "sorted-set", "1.2.0",
     "Removes members in a sorted set within a range of scores.", NULL},
    {"zremrangebylex", zremrangebylex_command, 4, "write", 1, 1, 1, "sorted-set", "2.8.9",
     "Removes members in a sorted set within a lexicographical range.", NULL},
    {"zpopmin", zpopmin_command, -2, "write fast", 1, 1, 1, "sorted-set", "5.0.0",
     "Returns the lowest-scoring members from a sorted set after removing them.", NULL},
    {"zpopmax", zpopmax_command, -2, "write fast", 1, 1, 1, "sorted-set", "5.0.0",
     "Returns the highest-scoring members from a sorted set after removing them.", NULL},
    {"zmpop", zmpop_command, -4, "write movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them.", NULL},
    {"bzpopmin", bzpopmin_command, -3, "write noscript blocking fast", 1, -2, 1, "sorted-set", "5.0.0",
     "Removes and returns the member with the lowest score from one or more sorted sets, or blocks until one is available.", NULL},
    {"bzpopmax", bzpopmax_command, -3, "write noscript blocking fast", 1, -2, 1, "sorted-set", "5.0.0",
     "Removes and returns the member with the highest score from one or more sorted sets, or blocks until one is available.", NULL},
    {"bzmpop", bzmpop_command, -5, "write blocking movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Removes and returns a member by score from one or more sorted sets, or blocks until one is available.", NULL},
    {"zrandmember", zrandmember_command, -2, "readonly", 1, 1, 1, "sorted-set", "6.2.0",
     "Returns one or more random members from a sorted set.", NULL},
    {"zunionstore", zunionstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set", "2.0.0",
     "Stores the union of multiple sorted sets in a key.", NULL},
    {"zinterstore", zinterstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set", "2.0.0",
     "Stores the intersect of multiple sorted sets in a key.", NULL},
    {"zdiffstore", zdiffstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set", "6.2.0",
     "Stores the difference of multiple sorted sets in a key.", NULL},
    {"zunion", zunion_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the union of multiple sorted sets.", NULL},
    {"zinter", zinter_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the intersect of multiple sorted sets.", NULL},
    {"zdiff", zdiff_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the difference between multiple sorted sets.", NULL},
    {"zintercard", zintercard_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Returns the number of members of the intersect of multiple sorted sets.", NULL},
    {"zscan", zscan_command, -3, "readonly", 1, 1, 1, "sorted-set", "2.8.0",
     "Iterates over members and scores of a sorted set.", NULL},
    {0}};
