/*
 * sample: picking random elements fairly, for the commands that return
 * random members (SRANDMEMBER and SPOP in types/set.c, HRANDFIELD in
 * types/hash.c). The numbers come from the process generator
 * (lib/random.h).
 *
 * Two ways to pick k distinct elements, chosen by the caller from k and
 * the collection's size: from a compact collection, a partial
 * Fisher-Yates shuffle of an array of its items; from a big hashtable,
 * random picks filtered through a small pointer set (ptr_set), so that the
 * cost follows k and not the table's size.
 */
#ifndef KEEL_SAMPLE_H
#define KEEL_SAMPLE_H

#include <stddef.h>

struct hashtable;

/* A random element of a non-empty table: one chosen uniformly among up
 * to 16 consecutive elements from a random bucket
 * (hashtable_sample_elements). Written when the table's own pick
 * favoured elements alone in their bucket (up to 7x), which this evens
 * out as Redis's "fair" random key does; hashtable_random_element is now
 * uniform by itself (it retries empty (bucket, slot) pairs), and this
 * stays so that the distribution SRANDMEMBER, SPOP and HRANDFIELD show
 * does not change. */
void *sample_table_element(struct hashtable *ht);

/* Move k uniformly chosen distinct items of a[0..n) into a[0..k) (a
 * partial Fisher-Yates shuffle); k <= n. */
void sample_shuffle_prefix(void **a, size_t n, size_t k);

/* A tiny set of pointers, to pick distinct random elements of a big
 * hashtable without copying it. */
typedef struct ptr_set {
    void **slots;
    size_t mask;
    size_t used;
} ptr_set;
void ptr_set_init(ptr_set *ps, size_t expected);
/* Returns 1 if p was added, 0 if present. */
int ptr_set_add(ptr_set *ps, void *p);
void ptr_set_release(ptr_set *ps);

#endif
