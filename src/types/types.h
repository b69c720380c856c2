/*
 * types: the per-type operations the keyspace needs without knowing the
 * types themselves (freeing a value, copying it for COPY, measuring it for
 * MEMORY USAGE). Each type module in src/types fills one table; the
 * keyspace dispatches on the entry's type.
 */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <stddef.h>

/* Visit one element of an aggregate: lists in order, sets in any order,
 * sorted sets by rank (with their score), hashes field then value. */
typedef void type_visit_fn(void *priv, const char *s, size_t len, double score);

/* Active defragmentation (memory/defrag.c): offered a block, returns its
 * new address (a copy; the old block is freed) or the block itself when
 * moving it would not help. */
typedef void *type_defrag_fn(void *priv, void *block);

typedef struct type_ops {
    const char *name; /* as TYPE replies */
    void (*free_value)(int enc, void *ptr);
    void *(*dup_value)(int enc, const void *ptr);
    /* Bytes used by the value; samples = 0 means exact. */
    size_t (*mem_usage)(int enc, const void *ptr, size_t samples);
    /* Number of elements (for the eviction/lazy-free "is it big" test). */
    size_t (*length)(int enc, const void *ptr);
    /* Visit every element (SORT, MEMORY USAGE sampling, persistence). */
    void (*iterate)(int enc, const void *ptr, type_visit_fn *fn, void *priv);
    /* Optional, for values of several blocks: offer each block the value
     * alone points to to move and re-point it; returns the value's new
     * top-level pointer (ptr when it stayed). Single-block values
     * (listpacks, intsets, raw strings) are moved by defrag.c itself. */
    void *(*defrag_value)(int enc, void *ptr, type_defrag_fn *move, void *priv);
} type_ops;

/* A new list entry holding items (ownership of the kstrs is taken), with
 * the encoding a list of that size gets (SORT ... STORE). */
struct entry *list_entry_from_strings(const char *key, size_t klen, char **items, size_t n);

extern const type_ops string_type_ops;
extern const type_ops list_type_ops;
extern const type_ops set_type_ops;
extern const type_ops zset_type_ops;
extern const type_ops hash_type_ops;
extern const type_ops stream_type_ops;

const type_ops *type_ops_for(int type);

#endif
