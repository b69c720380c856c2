/*
 * skiplist: ordered index of large sorted sets (see skiplist.h for the API).
 *
 * Design
 * ------
 * A classic skiplist (Pugh) with p = 1/4 and at most 32 levels, which
 * gives about 1.33 forward links per node on average and is enough for
 * 4^32 elements. Each forward link stores a span, the number of level-0
 * steps it covers, so the rank of a node is the sum of the spans followed
 * while searching for it; this gives ZRANK, ZRANGE by index and
 * ZREMRANGEBYRANK in O(log N) instead of a level-0 walk. A backward pointer
 * on level 0 gives the reverse iteration ZREVRANGE needs.
 *
 * Memory: one allocation per node. The node is
 *
 *     [score 8][backward 8][len 4][level 4][level x (forward 8, span 8)][member bytes]
 *
 * so the member lives right after the level array, sized exactly for this
 * node's level (no 32-slot array, no separate string allocation and
 * header). With average level 4/3 that is about 45 bytes + member length
 * before allocator rounding, versus two allocations and a kstr header for a
 * separately allocated member. The price: the member cannot be shared with
 * the sorted set's hash index (the caller keys its hash by its own copy or
 * by a pointer into the node, which stays stable because update_score never
 * reallocates the node; it relinks it). Member length is stored in 32 bits:
 * Keel's bulk strings are bounded far below 4 GB by proto-max-bulk-len.
 *
 * Level generation: two zero bits per extra level, read from the count of
 * trailing zeros of one draw from the process generator (lib/random.h)
 * per insert. The server seeds that generator from /dev/urandom, so
 * levels cannot be predicted from the code (a client that could predict
 * them could build a degenerate list); a unit test, or a server started
 * with KEEL_RANDOM_SEED, gets the same levels on every run.
 *
 * Ordering: score first, then member with memcmp, the shorter member first
 * on a common prefix. -0.0 and 0.0 compare equal, so their order comes from
 * the member, as in Redis. NaN is never inserted (the caller rejects it).
 *
 * Range deletions find the predecessors once (O(log N)) and then unlink the
 * consecutive nodes one by one; each unlink keeps the predecessor array
 * valid for the next node, so a range of K elements costs O(log N + K).
 *
 * Memory accounting is maintained incrementally (usable size of every
 * allocation added on create, removed on free) so MEMORY USAGE and the
 * keyspace accounting are O(1).
 */
#include "lib/skiplist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "lib/random.h"
#include "lib/zmalloc.h"

struct sl_level {
    skiplist_node *forward;
    unsigned long span;
};

struct skiplist_node {
    double score;
    skiplist_node *backward;
    uint32_t len;
    uint32_t level;
    struct sl_level lv[];
    /* member bytes follow lv[level] */
};

struct skiplist {
    skiplist_node *header, *tail;
    unsigned long length;
    int level;
    size_t mem;
};

static inline char *node_ele(const skiplist_node *n) { return (char *)&n->lv[n->level]; }

/* ---- random levels ---------------------------------------------------- */

static int random_level(void) {
    /* P(level >= k+1) = 4^-k: each level needs two more trailing zeros.
     * The sentinel bit at 62 caps the count at 62, i.e. level 32. */
    uint64_t r = random_u64() | (1ULL << 62);
    int lvl = 1 + __builtin_ctzll(r) / 2;
    return lvl > SKIPLIST_MAXLEVEL ? SKIPLIST_MAXLEVEL : lvl;
}

/* ---- ordering --------------------------------------------------------- */

static inline int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t min = alen < blen ? alen : blen;
    int c = min ? memcmp(a, b, min) : 0;
    if (c) return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* Compare node n with the key (score, ele). */
static inline int node_cmp(const skiplist_node *n, double score, const char *ele, size_t len) {
    if (n->score < score) return -1;
    if (n->score > score) return 1;
    return bytes_cmp(node_ele(n), n->len, ele, len);
}

/* ---- allocation ------------------------------------------------------- */

static skiplist_node *node_new(skiplist *sl, int level, double score, const char *ele, size_t len) {
    if (len > UINT32_MAX) {
        fprintf(stderr, "skiplist: member too long (%zu bytes)\n", len);
        abort();
    }
    skiplist_node *n = zmalloc(sizeof(*n) + (size_t)level * sizeof(struct sl_level) + len);
    n->score = score;
    n->backward = NULL;
    n->len = (uint32_t)len;
    n->level = (uint32_t)level;
    if (len) memcpy(node_ele(n), ele, len);
    sl->mem += zmalloc_size(n);
    return n;
}

static void node_free(skiplist *sl, skiplist_node *n) {
    sl->mem -= zmalloc_size(n);
    zfree(n);
}

skiplist *skiplist_create(void) {
    skiplist *sl = zmalloc(sizeof(*sl));
    sl->mem = zmalloc_size(sl);
    sl->level = 1;
    sl->length = 0;
    sl->tail = NULL;
    sl->header = node_new(sl, SKIPLIST_MAXLEVEL, 0, NULL, 0);
    for (int i = 0; i < SKIPLIST_MAXLEVEL; i++) {
        sl->header->lv[i].forward = NULL;
        sl->header->lv[i].span = 0;
    }
    return sl;
}

void skiplist_free(skiplist *sl) {
    if (!sl) return;
    skiplist_node *n = sl->header->lv[0].forward;
    while (n) {
        skiplist_node *next = n->lv[0].forward;
        zfree(n);
        n = next;
    }
    zfree(sl->header);
    zfree(sl);
}

unsigned long skiplist_length(const skiplist *sl) { return sl->length; }
size_t skiplist_mem_usage(const skiplist *sl) { return sl->mem; }

/* ---- insertion / removal ---------------------------------------------- */

/* Link an allocated node (score, member and level already set). */
static void insert_node(skiplist *sl, skiplist_node *n) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    unsigned long rank[SKIPLIST_MAXLEVEL];
    const char *ele = node_ele(n);
    skiplist_node *x = sl->header;

    for (int i = sl->level - 1; i >= 0; i--) {
        rank[i] = (i == sl->level - 1) ? 0 : rank[i + 1];
        while (x->lv[i].forward && node_cmp(x->lv[i].forward, n->score, ele, n->len) < 0) {
            rank[i] += x->lv[i].span;
            x = x->lv[i].forward;
        }
        update[i] = x;
    }
    int lvl = (int)n->level;
    if (lvl > sl->level) {
        for (int i = sl->level; i < lvl; i++) {
            rank[i] = 0;
            update[i] = sl->header;
            update[i]->lv[i].forward = NULL;
            update[i]->lv[i].span = sl->length;
        }
        sl->level = lvl;
    }
    for (int i = 0; i < lvl; i++) {
        n->lv[i].forward = update[i]->lv[i].forward;
        update[i]->lv[i].forward = n;
        n->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
        update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = lvl; i < sl->level; i++) update[i]->lv[i].span++;

    n->backward = (update[0] == sl->header) ? NULL : update[0];
    if (n->lv[0].forward)
        n->lv[0].forward->backward = n;
    else
        sl->tail = n;
    sl->length++;
}

skiplist_node *skiplist_insert(skiplist *sl, double score, const char *ele, size_t len) {
    skiplist_node *n = node_new(sl, random_level(), score, ele, len);
    insert_node(sl, n);
    return n;
}

/* Unlink x given its predecessors at every level. Does not free. */
static void unlink_node(skiplist *sl, skiplist_node *x, skiplist_node **update) {
    for (int i = 0; i < sl->level; i++) {
        if (update[i]->lv[i].forward == x) {
            update[i]->lv[i].span += x->lv[i].span - 1;
            update[i]->lv[i].forward = x->lv[i].forward;
        } else {
            update[i]->lv[i].span -= 1;
        }
    }
    if (x->lv[0].forward)
        x->lv[0].forward->backward = x->backward;
    else
        sl->tail = x->backward;
    while (sl->level > 1 && sl->header->lv[sl->level - 1].forward == NULL) sl->level--;
    sl->length--;
}

/* Fill update[] with the last node before (score, ele) at every level and
 * return the level-0 successor of update[0] (the candidate match). */
static skiplist_node *find_update(const skiplist *sl, double score, const char *ele, size_t len,
                                  skiplist_node **update) {
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && node_cmp(x->lv[i].forward, score, ele, len) < 0)
            x = x->lv[i].forward;
        update[i] = x;
    }
    return x->lv[0].forward;
}

int skiplist_delete(skiplist *sl, double score, const char *ele, size_t len) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    skiplist_node *x = find_update(sl, score, ele, len, update);
    if (!x || node_cmp(x, score, ele, len) != 0) return 0;
    unlink_node(sl, x, update);
    node_free(sl, x);
    return 1;
}

skiplist_node *skiplist_update_score(skiplist *sl, double curscore, const char *ele, size_t len,
                                     double newscore) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    skiplist_node *x = find_update(sl, curscore, ele, len, update);
    if (!x || node_cmp(x, curscore, ele, len) != 0) return NULL;

    /* Still between its neighbours with the new score: no relinking. */
    if ((x->backward == NULL || node_cmp(x->backward, newscore, ele, len) < 0) &&
        (x->lv[0].forward == NULL || node_cmp(x->lv[0].forward, newscore, ele, len) > 0)) {
        x->score = newscore;
        return x;
    }
    unlink_node(sl, x, update);
    x->score = newscore;
    insert_node(sl, x);
    return x;
}

/* ---- rank ------------------------------------------------------------- */

unsigned long skiplist_rank(const skiplist *sl, double score, const char *ele, size_t len) {
    const skiplist_node *x = sl->header;
    unsigned long rank = 0;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && node_cmp(x->lv[i].forward, score, ele, len) <= 0) {
            rank += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (x != sl->header && node_cmp(x, score, ele, len) == 0) return rank;
    }
    return 0;
}

skiplist_node *skiplist_by_rank(const skiplist *sl, unsigned long rank) {
    if (rank == 0 || rank > sl->length) return NULL;
    skiplist_node *x = sl->header;
    unsigned long traversed = 0;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && traversed + x->lv[i].span <= rank) {
            traversed += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (traversed == rank) return x;
    }
    return NULL;
}

/* ---- score ranges ----------------------------------------------------- */

int sl_value_gte_min(double v, const sl_range *r) { return r->minex ? v > r->min : v >= r->min; }
int sl_value_lte_max(double v, const sl_range *r) { return r->maxex ? v < r->max : v <= r->max; }

static int range_nonempty(const skiplist *sl, const sl_range *r) {
    if (r->min > r->max || (r->min == r->max && (r->minex || r->maxex))) return 0;
    if (!sl->tail || !sl_value_gte_min(sl->tail->score, r)) return 0;
    const skiplist_node *first = sl->header->lv[0].forward;
    if (!first || !sl_value_lte_max(first->score, r)) return 0;
    return 1;
}

skiplist_node *skiplist_first_in_range(const skiplist *sl, const sl_range *r) {
    if (!range_nonempty(sl, r)) return NULL;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && !sl_value_gte_min(x->lv[i].forward->score, r))
            x = x->lv[i].forward;
    x = x->lv[0].forward; /* non-NULL: the tail is >= min */
    return (x && sl_value_lte_max(x->score, r)) ? x : NULL;
}

skiplist_node *skiplist_last_in_range(const skiplist *sl, const sl_range *r) {
    if (!range_nonempty(sl, r)) return NULL;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && sl_value_lte_max(x->lv[i].forward->score, r))
            x = x->lv[i].forward;
    if (x == sl->header) return NULL;
    return sl_value_gte_min(x->score, r) ? x : NULL;
}

unsigned long skiplist_delete_range_by_score(skiplist *sl, const sl_range *r, skiplist_del_cb cb,
                                             void *ctx) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    unsigned long removed = 0;
    if (!range_nonempty(sl, r)) return 0;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && !sl_value_gte_min(x->lv[i].forward->score, r))
            x = x->lv[i].forward;
        update[i] = x;
    }
    x = x->lv[0].forward;
    while (x && sl_value_lte_max(x->score, r)) {
        skiplist_node *next = x->lv[0].forward;
        unlink_node(sl, x, update);
        if (cb) cb(node_ele(x), x->len, x->score, ctx);
        node_free(sl, x);
        removed++;
        x = next;
    }
    return removed;
}

/* ---- lexicographic ranges --------------------------------------------- */

int sl_lex_gte_min(const char *ele, size_t len, const sl_lexrange *r) {
    if (r->min_inf < 0) return 1;
    if (r->min_inf > 0) return 0;
    int c = bytes_cmp(ele, len, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}

int sl_lex_lte_max(const char *ele, size_t len, const sl_lexrange *r) {
    if (r->max_inf > 0) return 1;
    if (r->max_inf < 0) return 0;
    int c = bytes_cmp(ele, len, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}

static int lexrange_nonempty(const skiplist *sl, const sl_lexrange *r) {
    if (r->min_inf > 0 || r->max_inf < 0) return 0;
    if (r->min_inf == 0 && r->max_inf == 0) {
        int c = bytes_cmp(r->min, r->minlen, r->max, r->maxlen);
        if (c > 0 || (c == 0 && (r->minex || r->maxex))) return 0;
    }
    if (!sl->tail || !sl_lex_gte_min(node_ele(sl->tail), sl->tail->len, r)) return 0;
    const skiplist_node *first = sl->header->lv[0].forward;
    if (!first || !sl_lex_lte_max(node_ele(first), first->len, r)) return 0;
    return 1;
}

skiplist_node *skiplist_first_in_lexrange(const skiplist *sl, const sl_lexrange *r) {
    if (!lexrange_nonempty(sl, r)) return NULL;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--)
        while (x->lv[i].forward &&
               !sl_lex_gte_min(node_ele(x->lv[i].forward), x->lv[i].forward->len, r))
            x = x->lv[i].forward;
    x = x->lv[0].forward;
    return (x && sl_lex_lte_max(node_ele(x), x->len, r)) ? x : NULL;
}

skiplist_node *skiplist_last_in_lexrange(const skiplist *sl, const sl_lexrange *r) {
    if (!lexrange_nonempty(sl, r)) return NULL;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--)
        while (x->lv[i].forward &&
               sl_lex_lte_max(node_ele(x->lv[i].forward), x->lv[i].forward->len, r))
            x = x->lv[i].forward;
    if (x == sl->header) return NULL;
    return sl_lex_gte_min(node_ele(x), x->len, r) ? x : NULL;
}

unsigned long skiplist_delete_range_by_lex(skiplist *sl, const sl_lexrange *r, skiplist_del_cb cb,
                                           void *ctx) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    unsigned long removed = 0;
    if (!lexrange_nonempty(sl, r)) return 0;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward &&
               !sl_lex_gte_min(node_ele(x->lv[i].forward), x->lv[i].forward->len, r))
            x = x->lv[i].forward;
        update[i] = x;
    }
    x = x->lv[0].forward;
    while (x && sl_lex_lte_max(node_ele(x), x->len, r)) {
        skiplist_node *next = x->lv[0].forward;
        unlink_node(sl, x, update);
        if (cb) cb(node_ele(x), x->len, x->score, ctx);
        node_free(sl, x);
        removed++;
        x = next;
    }
    return removed;
}

/* ---- rank ranges ------------------------------------------------------ */

unsigned long skiplist_delete_range_by_rank(skiplist *sl, unsigned long start, unsigned long end,
                                            skiplist_del_cb cb, void *ctx) {
    skiplist_node *update[SKIPLIST_MAXLEVEL];
    unsigned long traversed = 0, removed = 0;
    if (start == 0) start = 1;
    if (end > sl->length) end = sl->length;
    if (start > end) return 0;
    skiplist_node *x = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && traversed + x->lv[i].span < start) {
            traversed += x->lv[i].span;
            x = x->lv[i].forward;
        }
        update[i] = x;
    }
    traversed++;
    x = x->lv[0].forward;
    while (x && traversed <= end) {
        skiplist_node *next = x->lv[0].forward;
        unlink_node(sl, x, update);
        if (cb) cb(node_ele(x), x->len, x->score, ctx);
        node_free(sl, x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

/* ---- accessors -------------------------------------------------------- */

double skiplist_node_score(const skiplist_node *n) { return n->score; }

const char *skiplist_node_ele(const skiplist_node *n, size_t *len) {
    if (len) *len = n->len;
    return node_ele(n);
}

skiplist_node *skiplist_next(const skiplist_node *n) { return n->lv[0].forward; }
skiplist_node *skiplist_prev(const skiplist_node *n) { return n->backward; }
skiplist_node *skiplist_first(const skiplist *sl) { return sl->header->lv[0].forward; }
skiplist_node *skiplist_last(const skiplist *sl) { return sl->tail; }
