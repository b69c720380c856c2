/*
 * skiplist: the ordered index of large sorted sets.
 *
 * Elements are (score, member) pairs ordered by score, then by the member
 * bytes (memcmp; on a common prefix the shorter member sorts first). Every
 * forward link carries a span (how many level-0 steps it jumps), so rank
 * queries and access by rank are O(log N) like searches.
 *
 * The skiplist does not own a member->score map: the sorted-set type keeps
 * its own hash index, and the range deletions report each removed member to
 * a callback so that the caller can drop it from that index too. The member
 * bytes handed to the callback are valid only during the call.
 *
 * Ranks are 1-based everywhere in this API (0 means "absent").
 */
#ifndef KEEL_SKIPLIST_H
#define KEEL_SKIPLIST_H

#include <stddef.h>

#define SKIPLIST_MAXLEVEL 32

typedef struct skiplist_node skiplist_node;
typedef struct skiplist skiplist;

/* Score range: [min, max], each end exclusive when its flag is set. */
typedef struct {
    double min, max;
    int minex, maxex;
} sl_range;

/* Lexicographic range (ZRANGEBYLEX), meaningful when all scores are equal.
 * min_inf == -1 means min is '-' (below everything), min_inf == +1 means
 * '+' (above everything, so the range is empty); likewise max_inf == +1 is
 * '+' and max_inf == -1 is '-'. When an *_inf field is 0 the string bound
 * applies, exclusive when the *ex flag is set. */
typedef struct {
    const char *min;
    size_t minlen;
    const char *max;
    size_t maxlen;
    int minex, maxex;
    int min_inf; /* -1 = '-' */
    int max_inf; /* +1 = '+' */
} sl_lexrange;

/* Called for each member removed by a range deletion, before its node is
 * freed. */
typedef void (*skiplist_del_cb)(const char *ele, size_t len, double score, void *ctx);

skiplist *skiplist_create(void);
void skiplist_free(skiplist *sl);
unsigned long skiplist_length(const skiplist *sl);

/* The caller guarantees the member is not present and score is not NaN. */
skiplist_node *skiplist_insert(skiplist *sl, double score, const char *ele, size_t len);
/* Returns 1 if the element (score, member) was found and removed, 0 if not. */
int skiplist_delete(skiplist *sl, double score, const char *ele, size_t len);
/* Moves the element (curscore, ele) to newscore. The element must exist.
 * The node is reused (never reallocated): updated in place when the order
 * does not change, relinked otherwise. Returns the node, NULL if absent. */
skiplist_node *skiplist_update_score(skiplist *sl, double curscore, const char *ele, size_t len,
                                     double newscore);

unsigned long skiplist_rank(const skiplist *sl, double score, const char *ele, size_t len);
skiplist_node *skiplist_by_rank(const skiplist *sl, unsigned long rank);

skiplist_node *skiplist_first_in_range(const skiplist *sl, const sl_range *range);
skiplist_node *skiplist_last_in_range(const skiplist *sl, const sl_range *range);
skiplist_node *skiplist_first_in_lexrange(const skiplist *sl, const sl_lexrange *range);
skiplist_node *skiplist_last_in_lexrange(const skiplist *sl, const sl_lexrange *range);

/* Range deletions return the number of elements removed; cb may be NULL. */
unsigned long skiplist_delete_range_by_score(skiplist *sl, const sl_range *range,
                                             skiplist_del_cb cb, void *ctx);
unsigned long skiplist_delete_range_by_lex(skiplist *sl, const sl_lexrange *range,
                                           skiplist_del_cb cb, void *ctx);
/* start and end are 1-based and inclusive. */
unsigned long skiplist_delete_range_by_rank(skiplist *sl, unsigned long start, unsigned long end,
                                            skiplist_del_cb cb, void *ctx);

double skiplist_node_score(const skiplist_node *n);
const char *skiplist_node_ele(const skiplist_node *n, size_t *len);
skiplist_node *skiplist_next(const skiplist_node *n);
skiplist_node *skiplist_prev(const skiplist_node *n);
skiplist_node *skiplist_first(const skiplist *sl);
skiplist_node *skiplist_last(const skiplist *sl);

/* Bytes allocated for the structure, all nodes and members included
 * (allocator usable sizes). O(1): maintained on every insert/free. */
size_t skiplist_mem_usage(const skiplist *sl);

/* Helpers for range checks shared with other encodings. */
int sl_value_gte_min(double v, const sl_range *r);
int sl_value_lte_max(double v, const sl_range *r);
int sl_lex_gte_min(const char *ele, size_t len, const sl_lexrange *r);
int sl_lex_lte_max(const char *ele, size_t len, const sl_lexrange *r);

#endif
