/*
 * set: the set type's value, seen from outside its command module, plus
 * the random-sampling helpers that SRANDMEMBER/SPOP and HRANDFIELD share.
 *
 * A set value is an (encoding, pointer) pair, exactly what an entry
 * stores: an intset, a listpack of members, or a hashtable of kstr
 * members. Functions that add take the pair by pointer because adding may
 * convert the encoding; the caller writes the pair back into its entry.
 */
#ifndef KEEL_TYPES_SET_H
#define KEEL_TYPES_SET_H

#include <stddef.h>
#include <stdint.h>

typedef struct set_value {
    int enc;   /* ENC_INTSET, ENC_LISTPACK or ENC_HASHTABLE */
    void *ptr;
} set_value;

/* An empty set suited to a first member s/len and about size_hint
 * members (Redis 7.2's choice: intset, listpack or hashtable). */
set_value set_value_new(const char *s, size_t len, size_t size_hint);
void set_value_free(set_value *sv);
/* Returns 1 if s was added, 0 if it was already a member. */
int set_value_add(set_value *sv, const char *s, size_t len);
size_t set_value_size(const set_value *sv);

/* ---- sampling helpers (shared with hash.c) ---- */

/* Fast non-cryptographic random numbers, seeded once from /dev/urandom. */
uint64_t sample_random(void);
/* Uniform in [0, n); n > 0. */
static inline size_t sample_below(size_t n) { return (size_t)(sample_random() % n); }
/* A random element of a non-empty table. The table's own pick favours
 * elements alone in their bucket (up to 7x); picking uniformly among a
 * sample of consecutive elements evens that out, as Redis's "fair"
 * random key does. */
struct hashtable;
void *sample_table_element(struct hashtable *ht);
/* Move k uniformly chosen distinct items of a[0..n) into a[0..k)
 * (a partial Fisher-Yates shuffle); k <= n. */
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
