/*
 * skiplist against a sorted-array reference model: random inserts,
 * deletes, score updates, rank queries, score and lex ranges with
 * exclusive bounds and infinities, and range deletions, with a full
 * structural check (forward/backward order, ranks, spans via by_rank)
 * every few hundred operations.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/skiplist.h"
#include "lib/zmalloc.h"

#define MAXM 8

typedef struct {
    double score;
    size_t len;
    char m[MAXM];
} elem;

typedef struct {
    elem *a;
    size_t n, cap;
} model;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static size_t rndn(size_t n) { return (size_t)(rnd() % n); }

static int bcmp_(const char *a, size_t al, const char *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static int ecmp(const elem *x, double s, const char *m, size_t l)
{
    if (x->score < s) return -1;
    if (x->score > s) return 1;
    return bcmp_(x->m, x->len, m, l);
}

static long model_find(const model *md, const char *m, size_t l)
{
    for (size_t i = 0; i < md->n; i++)
        if (bcmp_(md->a[i].m, md->a[i].len, m, l) == 0) return (long)i;
    return -1;
}

static size_t model_pos(const model *md, double s, const char *m, size_t l)
{
    size_t lo = 0, hi = md->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ecmp(&md->a[mid], s, m, l) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void model_insert(model *md, double s, const char *m, size_t l)
{
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 64;
        md->a = realloc(md->a, md->cap * sizeof(elem));
    }
    size_t p = model_pos(md, s, m, l);
    memmove(&md->a[p + 1], &md->a[p], (md->n - p) * sizeof(elem));
    md->a[p].score = s;
    md->a[p].len = l;
    memcpy(md->a[p].m, m, l);
    md->n++;
}

static void model_remove_at(model *md, size_t p)
{
    memmove(&md->a[p], &md->a[p + 1], (md->n - p - 1) * sizeof(elem));
    md->n--;
}

static const char alphabet[] = {'\0', 'a', 'b', (char)0xff};

static size_t rand_member(char *m, size_t maxlen)
{
    size_t l = rndn(maxlen + 1);
    for (size_t i = 0; i < l; i++) m[i] = alphabet[rndn(4)];
    return l;
}

static const double score_pool[] = {-INFINITY, -2.5, -1, -0.0, 0, 1, 1, 2, 3.5, 10, INFINITY};

static double rand_score(void)
{
    if (rndn(4) == 0) return (double)((int64_t)rndn(2001) - 1000) / 8.0;
    return score_pool[rndn(sizeof(score_pool) / sizeof(score_pool[0]))];
}

static void node_is(const skiplist_node *n, const elem *e)
{
    cr_assert_not_null(n);
    size_t l;
    const char *m = skiplist_node_ele(n, &l);
    cr_assert_eq(l, e->len);
    cr_assert(l == 0 || memcmp(m, e->m, l) == 0);
    double s = skiplist_node_score(n);
    cr_assert(s == e->score || (isinf(s) && isinf(e->score) && signbit(s) == signbit(e->score)));
}

static void full_check(skiplist *sl, const model *md)
{
    cr_assert_eq(skiplist_length(sl), md->n);
    skiplist_node *n = skiplist_first(sl);
    for (size_t i = 0; i < md->n; i++) {
        node_is(n, &md->a[i]);
        if (i == 0)
            cr_assert_null(skiplist_prev(n));
        else
            node_is(skiplist_prev(n), &md->a[i - 1]);
        n = skiplist_next(n);
    }
    cr_assert_null(n);
    n = skiplist_last(sl);
    for (size_t i = md->n; i-- > 0;) {
        node_is(n, &md->a[i]);
        n = skiplist_prev(n);
    }
    cr_assert_null(n);
    for (size_t i = 0; i < md->n; i++) {
        node_is(skiplist_by_rank(sl, i + 1), &md->a[i]);
        cr_assert_eq(skiplist_rank(sl, md->a[i].score, md->a[i].m, md->a[i].len), i + 1);
    }
    cr_assert_null(skiplist_by_rank(sl, 0));
    cr_assert_null(skiplist_by_rank(sl, md->n + 1));
}

/* Model answers for a score range: first index and last index (+1). */
static int in_range(double v, const sl_range *r)
{
    return (r->minex ? v > r->min : v >= r->min) && (r->maxex ? v < r->max : v <= r->max);
}

static int in_lex(const elem *e, const sl_lexrange *r)
{
    int ge, le;
    if (r->min_inf < 0)
        ge = 1;
    else if (r->min_inf > 0)
        ge = 0;
    else {
        int c = bcmp_(e->m, e->len, r->min, r->minlen);
        ge = r->minex ? c > 0 : c >= 0;
    }
    if (r->max_inf > 0)
        le = 1;
    else if (r->max_inf < 0)
        le = 0;
    else {
        int c = bcmp_(e->m, e->len, r->max, r->maxlen);
        le = r->maxex ? c < 0 : c <= 0;
    }
    return ge && le;
}

typedef struct {
    model *md;
    unsigned long calls;
} del_ctx;

/* Deletion callback: the removed member must be in the model (removed
 * from there, so that the model ends up equal to the list). */
static void del_cb(const char *ele, size_t len, double score, void *ctx)
{
    del_ctx *d = ctx;
    long p = model_find(d->md, ele, len);
    cr_assert(p >= 0, "deleted member not in model");
    cr_assert(d->md->a[p].score == score || (isinf(score) && d->md->a[p].score == score));
    model_remove_at(d->md, (size_t)p);
    d->calls++;
}

static sl_range rand_range(void)
{
    sl_range r = {rand_score(), rand_score(), (int)rndn(2), (int)rndn(2)};
    if (rndn(3) && r.min > r.max) {
        double t = r.min;
        r.min = r.max;
        r.max = t;
    }
    return r;
}

static int check_score_range(skiplist *sl, const model *md, const sl_range *r)
{
    long first = -1, last = -1;
    for (size_t i = 0; i < md->n; i++)
        if (in_range(md->a[i].score, r)) {
            if (first < 0) first = (long)i;
            last = (long)i;
        }
    skiplist_node *f = skiplist_first_in_range(sl, r);
    skiplist_node *l = skiplist_last_in_range(sl, r);
    if (first < 0) {
        cr_assert_null(f, "range [%g%s,%g%s] should be empty", r->min, r->minex ? "ex" : "",
                       r->max, r->maxex ? "ex" : "");
        cr_assert_null(l);
    } else {
        node_is(f, &md->a[first]);
        node_is(l, &md->a[last]);
    }
    return first >= 0;
}

Test(skiplist, random_ops_vs_model)
{
    rng_state = 0x1234567887654321ULL;
    skiplist *sl = skiplist_create();
    model md = {0};
    char m[MAXM];
    size_t maxn = 0;
    unsigned long nonempty = 0, rdeleted = 0;

    for (int op = 0; op < 60000; op++) {
        if (md.n > maxn) maxn = md.n;
        int kind = (int)rndn(100);
        size_t l = rand_member(m, 6);
        long p = model_find(&md, m, l);
        /* growth phase first, then a mix that keeps ~1000+ elements */
        int growing = op < 20000;
        if (kind >= 85 && kind < 91 && (growing || rndn(3))) kind = 99;
        if (kind < (growing ? 55 : 40)) { /* insert (or update when present) */
            double s = rand_score();
            if (p < 0) {
                skiplist_node *n = skiplist_insert(sl, s, m, l);
                model_insert(&md, s, m, l);
                elem e = {s, l, {0}};
                memcpy(e.m, m, l);
                node_is(n, &e);
            } else {
                double old = md.a[p].score;
                skiplist_node *n = skiplist_update_score(sl, old, m, l, s);
                model_remove_at(&md, (size_t)p);
                model_insert(&md, s, m, l);
                elem e = {s, l, {0}};
                memcpy(e.m, m, l);
                node_is(n, &e);
            }
        } else if (kind < 60) { /* delete */
            if (p >= 0) {
                double s = md.a[p].score;
                /* wrong score: not found */
                cr_assert_eq(skiplist_delete(sl, s == 1 ? 2 : 1, m, l), 0);
                cr_assert_eq(skiplist_delete(sl, s, m, l), 1);
                model_remove_at(&md, (size_t)p);
            } else {
                cr_assert_eq(skiplist_delete(sl, rand_score(), m, l), 0);
            }
        } else if (kind < 70) { /* rank / by_rank */
            if (p >= 0) {
                cr_assert_eq(skiplist_rank(sl, md.a[p].score, m, l), (unsigned long)p + 1);
                node_is(skiplist_by_rank(sl, (unsigned long)p + 1), &md.a[p]);
            } else {
                cr_assert_eq(skiplist_rank(sl, rand_score(), m, l), 0);
            }
            if (p >= 0 && md.a[p].score != 3.5)
                cr_assert_eq(skiplist_rank(sl, 3.5, m, l), 0);
        } else if (kind < 85) { /* score range queries */
            sl_range r = rand_range();
            nonempty += check_score_range(sl, &md, &r);
        } else if (kind < 88) { /* delete range by score */
            sl_range r = rand_range();
            if (rndn(4)) { /* keep it narrow most of the time */
                r.max = r.min;
                r.maxex = r.minex = 0;
            }
            unsigned long expect = 0;
            for (size_t i = 0; i < md.n; i++) expect += in_range(md.a[i].score, &r);
            del_ctx d = {&md, 0};
            cr_assert_eq(skiplist_delete_range_by_score(sl, &r, del_cb, &d), expect);
            cr_assert_eq(d.calls, expect);
            rdeleted += expect;
            for (size_t i = 0; i < md.n; i++) cr_assert(!in_range(md.a[i].score, &r));
        } else if (kind < 91) { /* delete range by rank */
            if (md.n) {
                unsigned long a = 1 + rndn(md.n), b = a + rndn(5);
                if (rndn(10) == 0) b = a - 1; /* empty */
                unsigned long stop = b > md.n ? md.n : b;
                unsigned long expect = stop >= a ? stop - a + 1 : 0;
                elem *snap = malloc((md.n + 1) * sizeof(elem));
                memcpy(snap, md.a, md.n * sizeof(elem));
                size_t oldn = md.n;
                del_ctx d = {&md, 0};
                cr_assert_eq(skiplist_delete_range_by_rank(sl, a, b, del_cb, &d), expect);
                cr_assert_eq(d.calls, expect);
                rdeleted += expect;
                /* the survivors are exactly snap minus [a-1, stop) */
                cr_assert_eq(md.n, oldn - expect);
                for (size_t i = 0, j = 0; i < oldn; i++) {
                    if (i + 1 >= a && i + 1 <= stop) continue;
                    cr_assert(bcmp_(md.a[j].m, md.a[j].len, snap[i].m, snap[i].len) == 0);
                    j++;
                }
                free(snap);
            }
        } else { /* by_rank of a random rank */
            unsigned long rk = rndn(md.n + 2);
            skiplist_node *n = skiplist_by_rank(sl, rk);
            if (rk == 0 || rk > md.n)
                cr_assert_null(n);
            else
                node_is(n, &md.a[rk - 1]);
        }
        if (op % 500 == 0) full_check(sl, &md);
    }
    full_check(sl, &md);
    cr_log_info("random ops: final size %zu, max size %zu, nonempty ranges %lu, range-deleted %lu",
                md.n, maxn, nonempty, rdeleted);
    cr_assert(maxn > 500 && nonempty > 3000 && rdeleted > 1000);
    cr_assert(skiplist_mem_usage(sl) > md.n * 40);
    skiplist_free(sl);
    free(md.a);
}

Test(skiplist, equal_scores_ordered_by_member)
{
    skiplist *sl = skiplist_create();
    const char *ms[] = {"b", "a", "ab", "", "aa", "c", "a\0", "ba"};
    size_t ls[] = {1, 1, 2, 0, 2, 1, 2, 2};
    for (int i = 0; i < 8; i++) skiplist_insert(sl, 5, ms[i], ls[i]);
    const char *want[] = {"", "a", "a\0", "aa", "ab", "b", "ba", "c"};
    size_t wl[] = {0, 1, 2, 2, 2, 1, 2, 1};
    skiplist_node *n = skiplist_first(sl);
    for (int i = 0; i < 8; i++, n = skiplist_next(n)) {
        size_t l;
        const char *m = skiplist_node_ele(n, &l);
        cr_assert_eq(l, wl[i]);
        cr_assert(memcmp(m, want[i], l) == 0);
        cr_assert_eq(skiplist_rank(sl, 5, want[i], wl[i]), (unsigned long)i + 1);
    }
    cr_assert_null(n);
    skiplist_free(sl);
}

Test(skiplist, infinities_and_update_in_place)
{
    skiplist *sl = skiplist_create();
    skiplist_insert(sl, -INFINITY, "lo", 2);
    skiplist_insert(sl, INFINITY, "hi", 2);
    skiplist_node *mid = skiplist_insert(sl, 0, "mid", 3);
    sl_range all = {-INFINITY, INFINITY, 0, 0};
    cr_assert_eq(skiplist_node_score(skiplist_first_in_range(sl, &all)), -INFINITY);
    cr_assert_eq(skiplist_node_score(skiplist_last_in_range(sl, &all)), INFINITY);
    sl_range ex = {-INFINITY, INFINITY, 1, 1};
    cr_assert_eq(skiplist_first_in_range(sl, &ex), mid);
    cr_assert_eq(skiplist_last_in_range(sl, &ex), mid);
    /* in place: same node, still between its neighbours */
    cr_assert_eq(skiplist_update_score(sl, 0, "mid", 3, 42), mid);
    cr_assert_eq(skiplist_rank(sl, 42, "mid", 3), 2);
    /* relinked, node not reallocated */
    cr_assert_eq(skiplist_update_score(sl, 42, "mid", 3, INFINITY), mid);
    cr_assert_eq(skiplist_rank(sl, INFINITY, "mid", 3), 3);
    cr_assert_eq(skiplist_rank(sl, INFINITY, "hi", 2), 2);
    cr_assert_null(skiplist_update_score(sl, 1, "nope", 4, 2));
    sl_range empty = {1, 1, 1, 0};
    cr_assert_null(skiplist_first_in_range(sl, &empty));
    sl_range inv = {3, 2, 0, 0};
    cr_assert_null(skiplist_last_in_range(sl, &inv));
    cr_assert_eq(skiplist_delete_range_by_score(sl, &inv, NULL, NULL), 0);
    cr_assert_eq(skiplist_delete_range_by_score(sl, &all, NULL, NULL), 3);
    cr_assert_eq(skiplist_length(sl), 0);
    cr_assert_null(skiplist_first(sl));
    cr_assert_null(skiplist_last(sl));
    cr_assert_null(skiplist_first_in_range(sl, &all));
    skiplist_free(sl);
}

static sl_lexrange rand_lex(char *a, char *b)
{
    sl_lexrange r = {0};
    r.minlen = rand_member(a, 3);
    r.maxlen = rand_member(b, 3);
    r.min = a;
    r.max = b;
    r.minex = (int)rndn(2);
    r.maxex = (int)rndn(2);
    int k = (int)rndn(10);
    if (k == 0) r.min_inf = -1;
    if (k == 1) r.max_inf = 1;
    if (k == 2) r.min_inf = 1;  /* '+' as min: empty */
    if (k == 3) r.max_inf = -1; /* '-' as max: empty */
    if (k == 4) r.min_inf = -1, r.max_inf = 1;
    if (k >= 5 && rndn(2) && bcmp_(a, r.minlen, b, r.maxlen) > 0) { /* mostly min <= max */
        const char *t = r.min;
        size_t tl = r.minlen;
        r.min = r.max, r.minlen = r.maxlen;
        r.max = t, r.maxlen = tl;
    }
    return r;
}

Test(skiplist, lex_ranges_vs_model)
{
    rng_state = 0xfeedface12345ULL;
    skiplist *sl = skiplist_create();
    model md = {0};
    char m[MAXM], a[MAXM], b[MAXM];

    for (int op = 0; op < 30000; op++) {
        int kind = (int)rndn(100);
        size_t l = rand_member(m, 5);
        long p = model_find(&md, m, l);
        if (kind < 45) {
            if (p < 0) {
                skiplist_insert(sl, 7, m, l);
                model_insert(&md, 7, m, l);
            }
        } else if (kind < 60) {
            if (p >= 0) {
                cr_assert_eq(skiplist_delete(sl, 7, m, l), 1);
                model_remove_at(&md, (size_t)p);
            }
        } else if (kind < 95) {
            sl_lexrange r = rand_lex(a, b);
            long first = -1, last = -1;
            for (size_t i = 0; i < md.n; i++)
                if (in_lex(&md.a[i], &r)) {
                    if (first < 0) first = (long)i;
                    last = (long)i;
                }
            skiplist_node *f = skiplist_first_in_lexrange(sl, &r);
            skiplist_node *z = skiplist_last_in_lexrange(sl, &r);
            if (first < 0) {
                cr_assert_null(f);
                cr_assert_null(z);
            } else {
                node_is(f, &md.a[first]);
                node_is(z, &md.a[last]);
            }
        } else {
            sl_lexrange r = rand_lex(a, b);
            if (r.min_inf == -1 && r.max_inf == 1 && rndn(4)) continue; /* keep the set alive */
            unsigned long expect = 0;
            for (size_t i = 0; i < md.n; i++) expect += in_lex(&md.a[i], &r);
            del_ctx d = {&md, 0};
            cr_assert_eq(skiplist_delete_range_by_lex(sl, &r, del_cb, &d), expect);
            cr_assert_eq(d.calls, expect);
        }
        if (op % 1000 == 0) full_check(sl, &md);
    }
    full_check(sl, &md);
    skiplist_free(sl);
    free(md.a);
}

Test(skiplist, large_sequential_and_memory)
{
    skiplist *sl = skiplist_create();
    size_t base = skiplist_mem_usage(sl);
    char buf[32];
    const int N = 100000;
    for (int i = 0; i < N; i++) {
        int l = snprintf(buf, sizeof buf, "member:%08d", i);
        skiplist_insert(sl, (double)(i % 1000), buf, (size_t)l);
    }
    cr_assert_eq(skiplist_length(sl), (unsigned long)N);
    size_t per = (skiplist_mem_usage(sl) - base) / N;
    cr_log_info("skiplist: %zu bytes/node with 15-byte members", per);
    cr_assert(per < 96, "bytes per node %zu", per);
    /* ranks of the middle */
    int l = snprintf(buf, sizeof buf, "member:%08d", 50500);
    unsigned long rk = skiplist_rank(sl, 500, buf, (size_t)l);
    /* score 500 members: those with i%1000 < 500 come first: 500*100 of them,
     * then among score 500, i=500,1500,...,50500 -> 51st */
    cr_assert_eq(rk, 500UL * 100 + 51);
    cr_assert_eq(skiplist_delete_range_by_rank(sl, 1, (unsigned long)N / 2, NULL, NULL),
                 (unsigned long)N / 2);
    cr_assert_eq(skiplist_rank(sl, 500, buf, (size_t)l), 51);
    cr_assert_eq(skiplist_delete_range_by_rank(sl, 1, (unsigned long)N * 2, NULL, NULL),
                 (unsigned long)N / 2);
    cr_assert_eq(skiplist_mem_usage(sl), base);
    skiplist_free(sl);
}
