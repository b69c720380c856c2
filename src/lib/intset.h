/*
 * intset: a sorted set of integers in one allocation, the small form of a
 * set whose members are all integers (SADD 1 2 3).
 *
 * Why: a set of small integers stored in a hash table costs a table slot,
 * an entry and a string per member (~50+ bytes). An intset stores each
 * member in 2, 4 or 8 bytes, contiguous and sorted, so SISMEMBER is a
 * binary search over a cache-friendly array and the whole set is a single
 * blob for RDB.
 *
 * Encoding: all members use the same width, the smallest that fits every
 * member (int16, then int32, then int64). Adding a member that does not fit
 * upgrades the whole array in place, once; a uniform width is what makes
 * binary search possible. Removing the large member does not downgrade:
 * the cost would be a full rewrite on a rare path, for memory that the set
 * will likely need again.
 *
 * Costs: insert and remove shift the tail (O(n) memmove) and reallocate, so
 * the set type converts to a hash table when a non-integer member is added
 * or when the member count passes set-max-intset-entries (512 by default).
 *
 * Layout (same as Redis's intset, so RDB blobs can be shared later):
 *   <encoding uint32 LE: 2, 4 or 8> <length uint32 LE> <members LE...>
 * Fields are read and written as little-endian bytes whatever the host.
 *
 * Functions that modify return the (possibly moved) intset pointer.
 */
#ifndef KEEL_INTSET_H
#define KEEL_INTSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct intset intset; /* opaque: the bytes are the format above */

#define INTSET_HDR_SIZE 8

intset *intset_new(void);
void intset_free(intset *is);
/* Adds v; *added (may be NULL) = 1 if it was not present. */
intset *intset_add(intset *is, int64_t v, int *added);
/* Removes v; *removed (may be NULL) = 1 if it was present. */
intset *intset_remove(intset *is, int64_t v, int *removed);
/* 1 if v is a member (binary search). */
int intset_find(const intset *is, int64_t v);
/* Number of members. */
uint32_t intset_len(const intset *is);
/* Member at pos (sorted order); returns 0 if pos is out of range. */
int intset_get(const intset *is, uint32_t pos, int64_t *v);
/* A random member (lib/random.h), 0 if the set is empty. */
int64_t intset_random(const intset *is);
/* Smallest / largest member; the set must not be empty (0 if it is). */
int64_t intset_min(const intset *is);
int64_t intset_max(const intset *is);
/* Width in bytes of each member (2, 4 or 8). */
uint32_t intset_encoding(const intset *is);
/* Size in bytes of the whole blob (header + members). */
size_t intset_blob_len(const intset *is);
/* Deep check of size bytes at p: valid encoding, length consistent with
 * size, members strictly increasing. Never reads outside [p, p+size).
 * An empty intset is accepted; callers loading a key should reject it
 * themselves. Returns 1 if valid. */
int intset_validate(const unsigned char *p, size_t size);

#endif
