/*
 * zset: the sorted set type's storage. The command files (zset_cmd.c,
 * zset_range.c, zset_setops.c, zset_pop.c; see zset_internal.h) sit on
 * top of this one and never look inside an encoding.
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
 * Why the split
 * -------------
 * Everything that depends on the encoding is in this file: the iterator
 * (zit: position by rank or by a score/lex range, step either way) and a
 * handful of primitives (rank, count or delete a range, delete at the
 * iterator, one ZSCAN step). A range is one zvalrange whether it is of
 * scores or of members, so each primitive has one listpack branch and one
 * skiplist branch instead of one per (encoding, range kind) pair. The
 * commands then exist once, for both encodings.
 */
#include "types/zset.h"

#include "types/zset_internal.h"

#include "core/cmdutil.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/listpack.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct zset {
    skiplist *sl;
    hashtable *index; /* elements: skiplist nodes, keyed by their member */
} zset;

/* ======================================================================
 * Skiplist + index encoding
 * ==================================================================== */

static const void *node_key(const void *element, size_t *len) {
    return skiplist_node_ele(element, len);
}

static const hashtable_type zset_index_type = {.element_key = node_key};

static zset *zs_create(void) {
    zset *z = zmalloc(sizeof(*z));
    z->sl = skiplist_create();
    z->index = hashtable_create(&zset_index_type);
    return z;
}

static void zs_free(zset *z) {
    hashtable_release(z->index); /* no destructor: nodes belong to the skiplist */
    skiplist_free(z->sl);
    zfree(z);
}

static skiplist_node *zs_find(zset *z, const char *m, size_t len) {
    void *node;
    return hashtable_find(z->index, m, len, &node) ? node : NULL;
}

static void zs_insert(zset *z, double score, const char *m, size_t len) {
    hashtable_add(z->index, skiplist_insert(z->sl, score, m, len));
}

static int zs_delete(zset *z, const char *m, size_t len) {
    void *node;
    if (!hashtable_pop(z->index, m, len, &node)) return 0;
    size_t nlen;
    const char *ele = skiplist_node_ele(node, &nlen);
    skiplist_delete(z->sl, skiplist_node_score(node), ele, nlen);
    return 1;
}

/* Range deletions report each removed member: drop it from the index
 * while its bytes (inside the node) are still valid. */
static void unindex_member(const char *ele, size_t len, double score, void *ctx) {
    (void)score;
    void *unused;
    hashtable_pop(ctx, ele, len, &unused);
}

static int is_lp(const entry *e) { return entry_encoding(e) == ENC_LISTPACK; }

/* ======================================================================
 * Listpack encoding: member, score, member, score, ...
 * ==================================================================== */

static double lp_score_at(unsigned char *sp) {
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

static const char *lp_member_at(unsigned char *p, char *buf, size_t *len) {
    unsigned int l;
    const char *s = (const char *)lp_get_value(p, (unsigned char *)buf, &l);
    *len = l;
    return s;
}

static int member_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t min = alen < blen ? alen : blen;
    int c = min ? memcmp(a, b, min) : 0;
    if (c) return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static unsigned char *zlp_find(unsigned char *lp, const char *m, size_t len, double *score) {
    unsigned char *p = lp_first(lp);
    if (!p) return NULL;
    p = lp_find(lp, p, (const unsigned char *)m, len, 1);
    if (p && score) *score = lp_score_at(lp_next(lp, p));
    return p;
}

static unsigned char *zlp_insert(unsigned char *lp, double score, const char *m, size_t len) {
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

static unsigned char *zlp_delete(unsigned char *lp, unsigned char *p) {
    return lp_delete_range_with_entry(lp, &p, 2);
}

static unsigned long zlp_length(unsigned char *lp) { return lp_length(lp) / 2; }

static int lp_must_convert(unsigned char *lp, size_t newlen) {
    return zlp_length(lp) + 1 > (unsigned long long)server.zset_max_listpack_entries ||
           newlen > (unsigned long long)server.zset_max_listpack_value ||
           !lp_safe_to_add(lp, newlen + SCORE_BUF + 16);
}

static size_t value_length(int enc, const void *ptr) {
    if (enc == ENC_LISTPACK) return zlp_length((unsigned char *)ptr);
    return skiplist_length(((const zset *)ptr)->sl);
}

static void zset_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv);

static void insert_visit(void *priv, const char *m, size_t len, double score) {
    zs_insert(priv, score, m, len);
}

/* A skiplist encoding holding the members of a value of either encoding;
 * the index is sized for 'extra' more members to come. */
static zset *zs_from_value(int enc, const void *ptr, size_t extra) {
    zset *z = zs_create();
    hashtable_expand(z->index, value_length(enc, ptr) + extra);
    zset_iterate(enc, ptr, insert_visit, z);
    return z;
}

static void convert_to_skiplist(entry *e) {
    unsigned char *lp = entry_ptr(e);
    zset *z = zs_from_value(ENC_LISTPACK, lp, 1);
    lp_free(lp);
    entry_set_ptr(e, z);
    entry_set_encoding(e, ENC_SKIPLIST);
}

/* ======================================================================
 * Encoding-independent access (also the API of zset.h)
 * ==================================================================== */

entry *zset_new_entry(const char *key, size_t klen, size_t first_len) {
    if (server.zset_max_listpack_entries == 0 ||
        first_len > (unsigned long long)server.zset_max_listpack_value)
        return entry_new_ptr(key, klen, TYPE_ZSET, ENC_SKIPLIST, zs_create(), -1);
    return entry_new_ptr(key, klen, TYPE_ZSET, ENC_LISTPACK, lp_new(64), -1);
}

size_t zset_length(const entry *e) { return value_length(entry_encoding(e), entry_ptr(e)); }

int zset_score(const entry *e, const char *m, size_t len, double *score) {
    if (is_lp(e)) return zlp_find(entry_ptr(e), m, len, score) != NULL;
    skiplist_node *n = zs_find(entry_ptr(e), m, len);
    if (n && score) *score = skiplist_node_score(n);
    return n != NULL;
}

static void set_score(entry *e, double cur, double score, const char *m, size_t len) {
    if (is_lp(e)) {
        unsigned char *lp = entry_ptr(e);
        lp = zlp_delete(lp, zlp_find(lp, m, len, NULL));
        entry_set_ptr(e, zlp_insert(lp, score, m, len));
    } else {
        zset *z = entry_ptr(e);
        skiplist_update_score(z->sl, cur, m, len, score);
    }
}

static void insert_new(entry *e, double score, const char *m, size_t len) {
    if (is_lp(e) && lp_must_convert(entry_ptr(e), len)) convert_to_skiplist(e);
    if (is_lp(e))
        entry_set_ptr(e, zlp_insert(entry_ptr(e), score, m, len));
    else
        zs_insert(entry_ptr(e), score, m, len);
}

int zset_add(entry *e, double score, const char *m, size_t len, int flags, double *newscore) {
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

int zset_remove(entry *e, const char *m, size_t len) {
    if (!is_lp(e)) return zs_delete(entry_ptr(e), m, len);
    unsigned char *lp = entry_ptr(e);
    unsigned char *p = zlp_find(lp, m, len, NULL);
    if (!p) return 0;
    entry_set_ptr(e, zlp_delete(lp, p));
    return 1;
}

/* ======================================================================
 * Iterator
 * ==================================================================== */

static void zit_init_value(zit *it, int enc, const void *ptr, int rev) {
    memset(it, 0, sizeof(*it));
    it->rev = rev;
    if (enc == ENC_LISTPACK) {
        it->lp = (unsigned char *)ptr;
        it->p =
            rev ? (lp_last(it->lp) ? lp_prev(it->lp, lp_last(it->lp)) : NULL) : lp_first(it->lp);
    } else {
        const zset *z = ptr;
        it->n = rev ? skiplist_last(z->sl) : skiplist_first(z->sl);
    }
}

void zit_init(zit *it, const entry *e, int rev) {
    zit_init_value(it, entry_encoding(e), entry_ptr(e), rev);
}

int zit_valid(const zit *it) { return it->lp ? it->p != NULL : it->n != NULL; }

void zit_next(zit *it) {
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

const char *zit_member(zit *it, size_t *len) {
    if (it->lp) return lp_member_at(it->p, it->buf, len);
    return skiplist_node_ele(it->n, len);
}

double zit_score(const zit *it) {
    if (it->lp) return lp_score_at(lp_next(it->lp, it->p));
    return skiplist_node_score(it->n);
}

void zit_seek_rank(zit *it, const entry *e, unsigned long rank, int rev) {
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

/* Whether the current element is inside r's lower bound (lower) or its
 * upper bound (!lower). */
static int zit_inside(zit *it, const zvalrange *r, int lower) {
    if (r->type == RANGE_SCORE) {
        double s = zit_score(it);
        return lower ? sl_value_gte_min(s, &r->score) : sl_value_lte_max(s, &r->score);
    }
    size_t len;
    const char *m = zit_member(it, &len);
    return lower ? sl_lex_gte_min(m, len, &r->lex) : sl_lex_lte_max(m, len, &r->lex);
}

/* In the iteration direction, the near end of r is its lower bound
 * walking up and its upper bound walking down (rev); the far end is the
 * other one. */
static int zit_past_start(zit *it, const zvalrange *r) { return zit_inside(it, r, !it->rev); }
int zit_in_range(zit *it, const zvalrange *r) { return zit_inside(it, r, it->rev); }

/* The skiplist's first (or last) node in r. */
static skiplist_node *zs_range_edge(const zset *z, const zvalrange *r, int last) {
    if (r->type == RANGE_SCORE)
        return last ? skiplist_last_in_range(z->sl, &r->score)
                    : skiplist_first_in_range(z->sl, &r->score);
    return last ? skiplist_last_in_lexrange(z->sl, &r->lex)
                : skiplist_first_in_lexrange(z->sl, &r->lex);
}

void zit_seek_range(zit *it, const entry *e, const zvalrange *r, int rev) {
    zit_init(it, e, rev);
    if (it->lp) {
        while (it->p && !zit_past_start(it, r)) zit_next(it);
    } else {
        it->n = zs_range_edge(entry_ptr(e), r, rev);
    }
    if (zit_valid(it) && !zit_in_range(it, r)) it->p = NULL, it->n = NULL;
}

/* ======================================================================
 * Primitives over either encoding (zset_internal.h)
 * ==================================================================== */

long zset_rank(const entry *e, const char *m, size_t len, int rev, double *score) {
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

/* 1-based rank of a node. */
static unsigned long node_rank(const zset *z, const skiplist_node *node) {
    size_t len;
    const char *m = skiplist_node_ele(node, &len);
    return skiplist_rank(z->sl, skiplist_node_score(node), m, len);
}

unsigned long zset_count_range(const entry *e, const zvalrange *r) {
    unsigned long n = 0;
    if (!is_lp(e)) {
        /* By rank difference: no walk. */
        zset *z = entry_ptr(e);
        skiplist_node *first = zs_range_edge(z, r, 0);
        if (first) n = node_rank(z, zs_range_edge(z, r, 1)) - node_rank(z, first) + 1;
        return n;
    }
    zit it;
    for (zit_seek_range(&it, e, r, 0); zit_valid(&it) && zit_in_range(&it, r); zit_next(&it)) n++;
    return n;
}

/* Listpack: the matching elements are consecutive; find the first and
 * count them, then cut the block in one memmove. */
static unsigned long zlp_delete_in_range(entry *e, const zvalrange *r) {
    zit it;
    unsigned long first = 0, n = 0;
    for (zit_init(&it, e, 0); zit_valid(&it) && !zit_past_start(&it, r); zit_next(&it)) first++;
    for (; zit_valid(&it) && zit_in_range(&it, r); zit_next(&it)) n++;
    if (n) entry_set_ptr(e, lp_delete_range(entry_ptr(e), (long)(2 * first), 2 * n));
    return n;
}

unsigned long zset_delete_range(entry *e, const zvalrange *r) {
    if (is_lp(e)) return zlp_delete_in_range(e, r);
    zset *z = entry_ptr(e);
    return r->type == RANGE_SCORE
               ? skiplist_delete_range_by_score(z->sl, &r->score, unindex_member, z->index)
               : skiplist_delete_range_by_lex(z->sl, &r->lex, unindex_member, z->index);
}

unsigned long zset_delete_ranks(entry *e, unsigned long start, unsigned long end) {
    if (is_lp(e)) {
        entry_set_ptr(e, lp_delete_range(entry_ptr(e), (long)(2 * start), 2 * (end - start + 1)));
        return end - start + 1;
    }
    zset *z = entry_ptr(e);
    return skiplist_delete_range_by_rank(z->sl, start + 1, end + 1, unindex_member, z->index);
}

void zset_delete_at(entry *e, zit *it) {
    if (it->lp) {
        entry_set_ptr(e, zlp_delete(entry_ptr(e), it->p));
        return;
    }
    size_t len;
    const char *m = skiplist_node_ele(it->n, &len);
    zs_delete(entry_ptr(e), m, len);
}

void zset_scan(const entry *e, size_t cursor, long long count, zset_scan_begin_fn *begin,
               type_visit_fn *visit, void *priv) {
    if (is_lp(e)) {
        begin(priv, 0);
        zset_iterate(ENC_LISTPACK, entry_ptr(e), visit, priv);
        return;
    }
    zset *z = entry_ptr(e);
    /* The cursor goes first in the reply but is known only at the end:
     * collect the nodes of the visited buckets, then visit. Bounded, so a
     * sparse table cannot stall the server on one call. */
    void **nodes;
    size_t n;
    begin(priv, scan_collect(z->index, cursor, count, &nodes, &n));
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *m = skiplist_node_ele(nodes[i], &len);
        visit(priv, m, len, skiplist_node_score(nodes[i]));
    }
    zfree(nodes);
}

void zset_range_by_score(const entry *e, const sl_range *range, zset_visit_fn *fn, void *priv) {
    zvalrange r = {.type = RANGE_SCORE, .score = *range};
    zit it;
    for (zit_seek_range(&it, e, &r, 0); zit_valid(&it) && zit_in_range(&it, &r); zit_next(&it)) {
        size_t len;
        const char *m = zit_member(&it, &len);
        if (!fn(priv, m, len, zit_score(&it))) break;
    }
}

/* ---- building whole sets ---- */

static int item_cmp(const void *a, const void *b) {
    const zset_item *x = a, *y = b;
    if (x->score < y->score) return -1;
    if (x->score > y->score) return 1;
    return member_cmp(x->m, x->len, y->m, y->len);
}

void zset_sort_items(zset_item *items, size_t n) { qsort(items, n, sizeof(*items), item_cmp); }

entry *zset_entry_from_sorted(const char *key, size_t klen, const zset_item *items, size_t n) {
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

static void zset_free_value(int enc, void *ptr) {
    if (enc == ENC_LISTPACK)
        lp_free(ptr);
    else
        zs_free(ptr);
}

static void *zset_dup_value(int enc, const void *ptr) {
    if (enc == ENC_LISTPACK) {
        size_t n = lp_bytes(ptr);
        unsigned char *copy = zmalloc(n);
        memcpy(copy, ptr, n);
        return copy;
    }
    return zs_from_value(enc, ptr, 0);
}

/* Exact in O(1) for both encodings (the skiplist keeps a running total),
 * so there is nothing to gain from sampling. */
static size_t zset_mem_usage(int enc, const void *ptr, size_t samples) {
    (void)samples;
    if (enc == ENC_LISTPACK) return zmalloc_size((void *)ptr);
    const zset *z = ptr;
    return zmalloc_size((void *)z) + skiplist_mem_usage(z->sl) + hashtable_mem_usage(z->index);
}

static void zset_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv) {
    zit it;
    for (zit_init_value(&it, enc, ptr, 0); zit_valid(&it); zit_next(&it)) {
        size_t len;
        const char *m = zit_member(&it, &len);
        fn(priv, m, len, zit_score(&it));
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
