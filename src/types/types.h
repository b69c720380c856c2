/*
 * types: the per-type operations the keyspace needs without knowing the
 * types themselves (freeing a value, copying it for COPY, measuring it for
 * MEMORY USAGE). Each type module in src/types fills one table; the
 * keyspace dispatches on the entry's type.
 */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <stddef.h>

typedef struct type_ops {
    const char *name; /* as TYPE replies */
    void (*free_value)(int enc, void *ptr);
    void *(*dup_value)(int enc, const void *ptr);
    /* Bytes used by the value; samples = 0 means exact. */
    size_t (*mem_usage)(int enc, const void *ptr, size_t samples);
    /* Number of elements (for the eviction/lazy-free "is it big" test). */
    size_t (*length)(int enc, const void *ptr);
} type_ops;

extern const type_ops string_type_ops;
extern const type_ops list_type_ops;
extern const type_ops set_type_ops;
extern const type_ops zset_type_ops;
extern const type_ops hash_type_ops;

const type_ops *type_ops_for(int type);

#endif
