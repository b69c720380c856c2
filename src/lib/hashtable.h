/*
 * hashtable: Keel's general hash table of opaque elements.
 *
 * Used for the keyspace (elements are key entries), the expires index, and
 * large hashes and sets. The table stores element pointers only; the key of
 * an element is obtained through the type's element_key callback, so the
 * key bytes are never duplicated in the table.
 *
 * Layout: open addressing over cache-line sized buckets (64 bytes: a
 * presence bitmap, one byte of hash per slot to skip most key compares,
 * seven element pointers). A key's home bucket is hash & mask; when it is
 * full the insertion probes linearly to the next bucket and marks the full
 * bucket "ever full" so that lookups know to continue. A slot costs
 * 64 / 7 = 9.1 bytes; with growth at 77% fill an element costs 12 bytes
 * just before a doubling, 24 just after, about 17 on average (measured:
 * 16.8 at one million elements; see hashtable.c), versus 8 (bucket) + 24
 * (chained entry) for a chained table.
 *
 * Resizing is incremental: during a rehash two tables coexist and every
 * operation moves a bucket from the old to the new one (plus whatever the
 * server cron gives with hashtable_rehash_microseconds).
 *
 * SCAN: the cursor walks home buckets in reverse-binary order (so that it
 * stays valid across a resize), and scanning a bucket also follows its
 * probe chain while buckets are marked ever-full. An element present for
 * the whole scan is therefore always returned (possibly more than once).
 */
#ifndef KEEL_HASHTABLE_H
#define KEEL_HASHTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hashtable hashtable;

typedef struct hashtable_type {
    /* Required: the key bytes of an element. */
    const void *(*element_key)(const void *element, size_t *keylen);
    /* Optional: called on elements removed by delete/empty/release. */
    void (*element_destructor)(void *element);
    /* Optional: consulted before the table grows; returning 0 postpones
     * the growth (the table then keeps filling its existing buckets).
     * 'more' is the number of bytes the new bucket array would take. */
    int (*resize_allowed)(size_t more, double fill_factor);
} hashtable_type;

hashtable *hashtable_create(const hashtable_type *type);
/* Free all elements (via the destructor) and the table. */
void hashtable_release(hashtable *ht);
/* Remove all elements (via the destructor), keep the table. */
void hashtable_empty(hashtable *ht);

size_t hashtable_size(const hashtable *ht);
/* Bytes the table itself uses (bucket arrays and the struct), not elements. */
size_t hashtable_mem_usage(const hashtable *ht);
/* Bytes of the table plus its elements, each measured by elem_size.
 * samples > 0 measures that many elements and extrapolates (MEMORY USAGE
 * on big aggregates); 0 measures every element. */
size_t hashtable_mem_usage_sampled(hashtable *ht, size_t samples, size_t (*elem_size)(const void *element));
/* Number of buckets of the main table (and of the rehash target). */
size_t hashtable_buckets(const hashtable *ht);
/* One word the owner may keep in the table (0 when created): the hash
 * type keeps its earliest field expiry there. */
long long hashtable_user_word(const hashtable *ht);
void hashtable_set_user_word(hashtable *ht, long long v);
int hashtable_is_rehashing(const hashtable *ht);

/* Lookup. Returns 1 and sets *found, or 0. */
int hashtable_find(hashtable *ht, const void *key, size_t keylen, void **found);
/* Lookup returning the address of the slot holding the element, so the
 * caller can replace the element in place (same key) without a second
 * lookup. Valid until the next operation on the table. NULL if absent. */
void **hashtable_find_ref(hashtable *ht, const void *key, size_t keylen);

/* Insert an element whose key is not present. Returns 0 (and inserts
 * nothing) if an element with the same key exists. */
int hashtable_add(hashtable *ht, void *element);
/* Insert or find: if the key exists, returns 0 and sets *existing;
 * otherwise inserts and returns 1. */
int hashtable_add_or_find(hashtable *ht, void *element, void **existing);

/* Remove by key, calling the destructor. Returns 1 if removed. */
int hashtable_delete(hashtable *ht, const void *key, size_t keylen);
/* Remove by key without calling the destructor; *popped gets the element. */
int hashtable_pop(hashtable *ht, const void *key, size_t keylen, void **popped);

/* Incremental rehash driven by time (server cron). Returns the number of
 * buckets moved. */
size_t hashtable_rehash_microseconds(hashtable *ht, uint64_t us);
/* Shrink if the table is much too large for its elements (after deletes). */
void hashtable_shrink_if_needed(hashtable *ht);
/* Make room for n elements in one go (no-op if already large enough). */
void hashtable_expand(hashtable *ht, size_t n);

/* SCAN. Calls fn for each element of the visited buckets; returns the
 * next cursor, 0 when the scan is complete. fn must not modify the table. */
typedef void (*hashtable_scan_fn)(void *privdata, void *element);
size_t hashtable_scan(hashtable *ht, size_t cursor, hashtable_scan_fn fn, void *privdata);

/* A random element, or 0 if empty. Every element equally likely: random
 * (bucket, slot) pairs are drawn until one holds an element (a walk from a
 * random bucket takes over on a very sparse table). The numbers come from
 * the process generator (lib/random.h), as do the sample's. */
int hashtable_random_element(hashtable *ht, void **found);
/* Up to count elements from a random region of the table (for eviction and
 * expiry sampling); may return fewer. Returns the number stored in dst. */
size_t hashtable_sample_elements(hashtable *ht, void **dst, size_t count);

/* Iteration. A safe iterator allows deleting (hashtable_delete/pop) the
 * element just returned and pauses incremental rehashing while it lives;
 * an unsafe one forbids any modification. */
typedef struct hashtable_iterator {
    hashtable *ht;
    int safe;
    int table;          /* 0 or 1 */
    size_t bucket;
    int slot;
    uint64_t fingerprint;
    int started;
} hashtable_iterator;

void hashtable_iter_init(hashtable_iterator *it, hashtable *ht, int safe);
int hashtable_iter_next(hashtable_iterator *it, void **element);
void hashtable_iter_release(hashtable_iterator *it);

/* Default hash: SipHash-1-2 of the bytes with the process seed. */
uint64_t hashtable_hash(const void *key, size_t len);
void hashtable_set_seed(const uint8_t seed[16]);

#endif
