/*
 * set: the set type's value, seen from outside its command module.
 *
 * A set value is an (encoding, pointer) pair, exactly what an entry
 * stores: an intset, a listpack of members, or a hashtable of kstr
 * members. Functions that add take the pair by pointer because adding may
 * convert the encoding; the caller writes the pair back into its entry.
 */
#ifndef KEEL_TYPES_SET_H
#define KEEL_TYPES_SET_H

#include <stddef.h>

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

#endif
