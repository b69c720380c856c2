/*
 * zset: the sorted-set internals other modules build on (GEO stores its
 * points as a sorted set scored by geohash; SORT and persistence iterate
 * through type_ops instead).
 *
 * Callers see a sorted set through its entry only: the encoding (listpack
 * or skiplist + hash index) stays private to zset.c, so it can change
 * without touching geo.c.
 */
#ifndef KEEL_ZSET_H
#define KEEL_ZSET_H

#include <stddef.h>

#include "core/entry.h"
#include "lib/skiplist.h"
#include "net/client.h"

/* ZADD input flags. */
#define ZADD_IN_NX   (1 << 0)
#define ZADD_IN_XX   (1 << 1)
#define ZADD_IN_GT   (1 << 2)
#define ZADD_IN_LT   (1 << 3)
#define ZADD_IN_INCR (1 << 4)
/* ZADD outcome. */
#define ZADD_OUT_NOP     0
#define ZADD_OUT_ADDED   1
#define ZADD_OUT_UPDATED 2
#define ZADD_OUT_NAN     3 /* INCR produced NaN: nothing changed */
#define ZADD_OUT_SAME    4 /* member present with that score already */

/* A new, empty sorted-set entry, with the encoding that fits a first
 * member of length first_len. Not yet in the keyspace. */
entry *zset_new_entry(const char *key, size_t klen, size_t first_len);
size_t zset_length(const entry *e);
/* 1 and *score if the member exists. */
int zset_score(const entry *e, const char *m, size_t len, double *score);
/* Add or update one member following the ZADD flags; *newscore gets the
 * resulting score (for INCR). Converts the encoding when needed. */
int zset_add(entry *e, double score, const char *m, size_t len, int flags, double *newscore);
/* Remove a member; 1 if it was there. The caller deletes the key when the
 * set becomes empty. */
int zset_remove(entry *e, const char *m, size_t len);

/* Visit the members whose score is in range, in ascending order; the
 * visitor returns 0 to stop. */
typedef int zset_visit_fn(void *priv, const char *m, size_t len, double score);
void zset_range_by_score(const entry *e, const sl_range *range, zset_visit_fn *fn, void *priv);

/* Build a sorted-set entry from members already sorted by (score,
 * member) and distinct, picking the encoding from the final size, as the
 * store variants of the commands do. n must be > 0. */
typedef struct zset_item {
    double score;
    const char *m;
    size_t len;
} zset_item;
entry *zset_entry_from_sorted(const char *key, size_t klen, const zset_item *items, size_t n);
/* Sort items by score, then member bytes. */
void zset_sort_items(zset_item *items, size_t n);

/* Store items (sorted, distinct members) at dst, or delete dst when
 * there are none, signal the change and reply the count: the common end
 * of every *STORE command. */
void zset_store_result(client *c, const kstr dst, const zset_item *items, size_t n);

#endif
