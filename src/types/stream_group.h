/*
 * stream_group: consumer groups of a stream, their consumers and pending
 * entries lists (PEL).
 *
 * A group's PEL and each consumer's PEL are arrays of pointers to the
 * same nack records, sorted by entry ID: XREADGROUP appends (new IDs are
 * always the greatest), XACK and XCLAIM remove or move single records
 * found by binary search, and XPENDING / XAUTOCLAIM read ranges in
 * order. Redis keeps radix trees for these; sorted arrays cost one pointer
 * per pending entry per list and keep range reads a memory scan. A group
 * list is short (a stream has a handful of groups), so groups and
 * consumers are sorted arrays too.
 */
#ifndef KEEL_TYPES_STREAM_GROUP_H
#define KEEL_TYPES_STREAM_GROUP_H

#include "types/stream.h"

#include <stddef.h>

#define STREAM_ENTRIES_READ_INVALID (-1LL)

struct stream_consumer;

typedef struct stream_nack {
    stream_id id;
    long long delivery_time;    /* ms */
    long long delivery_count;
    struct stream_consumer *consumer;
} stream_nack;

typedef struct stream_pel {
    stream_nack **v;
    size_t n, cap;
} stream_pel;

typedef struct stream_consumer {
    char *name;
    size_t nlen;
    long long seen_time;        /* ms of the last read or claim */
    stream_pel pel;
} stream_consumer;

typedef struct stream_cg {
    char *name;
    size_t nlen;
    stream_id last_id;
    long long entries_read;     /* STREAM_ENTRIES_READ_INVALID when unknown */
    stream_pel pel;
    stream_consumer **consumers; /* sorted by name */
    size_t nconsumers;
} stream_cg;

/* Groups. */
stream_cg *stream_group_find(stream *s, const char *name, size_t len);
/* NULL if a group of that name exists. */
stream_cg *stream_group_create(stream *s, const char *name, size_t len, stream_id last_id, long long entries_read);
int stream_group_destroy(stream *s, const char *name, size_t len);

/* Consumers. */
stream_consumer *stream_consumer_find(stream_cg *g, const char *name, size_t len);
/* Finds or creates; *created tells which (may be NULL). */
stream_consumer *stream_consumer_get(stream_cg *g, const char *name, size_t len, int *created);
/* Deletes the consumer and its pending entries; returns how many it had. */
long long stream_consumer_delete(stream_cg *g, const char *name, size_t len);

/* PELs. */
stream_nack *stream_pel_find(const stream_pel *p, stream_id id);
/* First index whose ID is >= id. */
size_t stream_pel_lower_bound(const stream_pel *p, stream_id id);
/* Add a new nack to the group's and the consumer's PELs. */
stream_nack *stream_nack_add(stream_cg *g, stream_consumer *c, stream_id id, long long now_ms);
/* A nack in the group's PEL only, owned by no consumer yet (loading: the
 * consumers' lists follow); NULL if the ID is already pending. */
stream_nack *stream_nack_add_unowned(stream_cg *g, stream_id id, long long delivery_time, long long count);
/* Move a nack to another consumer (or give an unowned one its owner). */
void stream_nack_assign(stream_nack *n, stream_consumer *to);
/* Remove (XACK) and free a nack. */
void stream_nack_remove(stream_cg *g, stream_nack *n);

/* The group's read counter at id, if it can be known (see stream_group.c). */
long long stream_estimate_entries_read(const stream *s, stream_id id);
/* True if a deleted entry may lie in [start, end]. */
int stream_range_has_tombstones(const stream *s, stream_id start, stream_id end);
/* Advance the group's last ID over an entry delivered to it. */
void stream_group_advance(const stream *s, stream_cg *g, stream_id id);
/* The group's lag; 0 when unknown (*valid cleared). */
long long stream_group_lag(const stream *s, const stream_cg *g, int *valid);

/* Life cycle helpers for stream.c. */
void stream_groups_free(stream *s);
void stream_groups_dup(stream *dst, const stream *src);
size_t stream_groups_mem_usage(const stream *s);
void stream_groups_defrag(stream *s, stream_defrag_fn *move, void *priv);

#endif
