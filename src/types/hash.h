/*
 * hash: the hash type's value, seen from outside its command module
 * (persistence, DEBUG, other types that need to build or read a hash).
 *
 * A hash value is an (encoding, pointer) pair, exactly what an entry
 * stores: a listpack of field, value, field, value... while small, else a
 * hashtable of "hash fields" (one allocation per field, see hash.c). The
 * functions take the pair by pointer because adding may convert the
 * encoding; the caller writes the pair back into its entry afterwards.
 */
#ifndef KEEL_TYPES_HASH_H
#define KEEL_TYPES_HASH_H

#include <stddef.h>

typedef struct hash_value {
    int enc;   /* ENC_LISTPACK or ENC_HASHTABLE */
    void *ptr;
} hash_value;

/* A new, empty listpack hash. */
hash_value hash_value_new(void);
void hash_value_free(hash_value *h);
/* Set field to value (converting the encoding as needed). Returns 1 if the
 * field is new, 0 if an existing value was overwritten. */
int hash_value_set(hash_value *h, const char *f, size_t flen, const char *v, size_t vlen);
size_t hash_value_length(const hash_value *h);
/* A new hash entry for key holding h (taken over), inline when small
 * enough, as HSET would store it. Not yet in the keyspace. */
struct entry *hash_entry_new(const char *key, size_t klen, hash_value *h, long long expire);

#endif
