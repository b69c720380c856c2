/*
 * rdb_internal.h: what the RDB loader's files share (rdb_load.c reads the
 * stream, rdb_blob.c walks the packed encodings and builds values).
 * Not an interface for other modules: they use rdb.h.
 */
#ifndef KEEL_RDB_INTERNAL_H
#define KEEL_RDB_INTERNAL_H

#include <stddef.h>

#include "core/entry.h"
#include "lib/kstr.h"
#include "types/hash.h"
#include "types/set.h"

/* One element of a packed blob: bytes (integers already rendered). 0 to
 * go on, -1 to stop (the builder refused it). */
typedef int rdb_elem_fn(void *priv, const char *s, size_t len);

/* Walkers: 0 ok, -1 malformed blob or refused element (*why says which).
 * They check every length against the blob, whatever its origin. */
int rdb_walk_listpack(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why);
int rdb_walk_ziplist(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why);
int rdb_walk_zipmap(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why);
int rdb_walk_intset(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why);

/* Value builders: elements in, one entry out, through the types' own
 * functions (so the encoding is the one Keel would choose). Hashes take
 * field, value, field, value...; sorted sets member, score-text... via
 * rdb_build_add, or member + double via rdb_build_add_scored. */
typedef struct rdb_builder {
    int type;
    const char *key;
    size_t klen;
    size_t hint;   /* expected element count */
    size_t count;  /* elements added */
    const char *why; /* set when an element is refused */
    /* per type */
    kstr *items; size_t nitems, cap; /* list */
    set_value sv; int sv_ready;      /* set */
    hash_value hv; int hv_ready;     /* hash */
    entry *z;                        /* zset */
    kstr pending;                    /* hash field / zset member awaiting its pair */
    int have_pending;
    long long now;                   /* hash fields expiring by then are dropped */
    size_t expired;                  /* hash fields dropped so */
} rdb_builder;

void rdb_build_init(rdb_builder *b, int type, const char *key, size_t klen, size_t hint);
int rdb_build_add(void *b, const char *s, size_t len); /* an rdb_elem_fn */
int rdb_build_add_scored(rdb_builder *b, const char *m, size_t len, double score);
/* A hash field with its expiry (Unix ms; 0: none), from the types Redis
 * 7.4 writes for hashes with field TTLs (22 to 25). A field due by b->now
 * is dropped (counted in b->expired). 0 ok, -1 refused (b->why). */
int rdb_build_add_field_ttl(rdb_builder *b, const char *f, size_t flen, const char *v, size_t vlen, long long when);
/* The finished entry (no TTL), or NULL: *empty set when there was no
 * element (Redis skips such keys), else b->why says what was wrong. */
entry *rdb_build_finish(rdb_builder *b, int *empty);
void rdb_build_discard(rdb_builder *b);

#endif
