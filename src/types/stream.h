/*
 * stream: the stream type's value, seen from outside its command modules
 * (persistence, DEBUG, MEMORY USAGE, consumer groups).
 *
 * Storage. Entries live in nodes; a node is a listpack laid out as Redis
 * lays out its stream nodes (so that an RDB file can carry a node as one
 * blob): a master entry (live count, deleted count, the master field
 * names, a 0 terminator), then for each entry its flags, the ID as deltas
 * from the node's master ID, either only the values (when the entry has
 * exactly the master fields: the common case of a producer writing the
 * same fields every time) or a field count and field/value pairs, and the
 * entry's element count so that the node can be walked backward.
 *
 * Index. Redis finds nodes through a radix tree keyed by the master ID.
 * Entries are appended in ID order and removed mostly from the front
 * (XTRIM), so Keel keeps the nodes in a plain array sorted by master ID,
 * with a start offset so that trimming the front costs no memmove: a
 * binary search finds the node of an ID, and the array costs 24 bytes a
 * node instead of the tree's nodes and child pointers.
 *
 * Deletion (XDEL) sets the entry's deleted flag and updates the node's
 * counts; a node whose entries are all deleted is removed.
 */
#ifndef KEEL_TYPES_STREAM_H
#define KEEL_TYPES_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct stream_id {
    uint64_t ms, seq;
} stream_id;

typedef struct stream_node {
    stream_id master;       /* ID every entry's deltas are taken from */
    unsigned char *lp;
} stream_node;

struct stream_cg;           /* consumer groups: types/stream_group.c */

typedef struct stream {
    stream_node *nodes;     /* nodes[head .. head + nnodes - 1], by master ID */
    size_t head, nnodes, cap;
    uint64_t length;        /* live entries */
    stream_id last_id;      /* greatest ID ever added (or set by XSETID) */
    stream_id first_id;     /* first live entry, 0-0 when empty */
    stream_id max_deleted_id;
    uint64_t entries_added;
    struct stream_cg **groups; /* sorted by name */
    size_t ngroups;
} stream;

/* One entry as read: fields and values point into the node (valid until
 * the stream changes); integers are rendered into the iterator's buffer. */
typedef struct stream_field {
    const unsigned char *f, *v;
    uint32_t flen, vlen;
} stream_field;

typedef struct stream_iter {
    stream *s;
    stream_id start, end;
    int rev;
    size_t node;            /* index into nodes[], relative to head */
    unsigned char *p;       /* next entry's flags element, NULL: node done */
    /* The current entry. */
    stream_id id;
    stream_field *fields;
    size_t nfields, fields_cap;
    unsigned char *numbuf;  /* rendered integers of the current entry */
    size_t numbuf_cap;
    unsigned char *cur_flags; /* position of the current entry's flags */
    size_t cur_node;          /* and its node */
} stream_iter;

stream *stream_new(void);
void stream_free(stream *s);
stream *stream_dup(const stream *s);
size_t stream_mem_usage(const stream *s, size_t samples);

int stream_id_cmp(stream_id a, stream_id b);
/* a + 1 / a - 1 in ID order; 0 if there is no such ID. */
int stream_id_incr(stream_id *id);
int stream_id_decr(stream_id *id);
/* Parse "ms-seq" or "ms" (then seq = missing_seq; *seq_given cleared,
 * may be NULL); unless strict, "-" and "+" are the smallest and greatest
 * IDs. Returns 0 if s is not an ID. */
int stream_id_parse(const char *s, size_t len, uint64_t missing_seq, stream_id *id, int *seq_given, int strict);
/* "ms-seq" into buf (at least 44 bytes); returns the length. */
int stream_id_format(stream_id id, char *buf);

/* Append an entry with the given ID (already checked to be greater than
 * last_id) and field/value pairs (f0, v0, f1, v1, ...). */
void stream_append(stream *s, stream_id id, const char *const *fv, const size_t *fvlen, size_t nfv,
                   long long node_max_bytes, long long node_max_entries);

/* Iterate live entries with start <= id <= end, forward or backward. */
void stream_iter_start(stream_iter *it, stream *s, stream_id start, stream_id end, int rev);
int stream_iter_next(stream_iter *it);
/* Delete the entry the iterator stands on (it stays usable). */
void stream_iter_delete(stream_iter *it);
void stream_iter_stop(stream_iter *it);

/* Delete one entry by ID; returns 1 if it existed. */
int stream_delete(stream *s, stream_id id);
/* Trim to at most maxlen entries, or remove entries below minid.
 * approx: only whole nodes are removed. limit > 0 bounds the entries
 * removed (approx only). Returns the number removed. */
int64_t stream_trim_maxlen(stream *s, uint64_t maxlen, int approx, long long limit);
int64_t stream_trim_minid(stream *s, stream_id minid, int approx, long long limit);
/* The first / last live entry's ID; 0 if the stream is empty. */
int stream_first_id(stream *s, stream_id *id);
int stream_last_live_id(stream *s, stream_id *id);


/* ---- persistence ---- */

/* Node i (0 <= i < s->nnodes), oldest first. */
const stream_node *stream_node_at(const stream *s, size_t i);
/* Append a node read from outside (an RDB file, RESTORE): the listpack is
 * checked entry by entry (layout, counts, IDs ascending and after the
 * previous node's) before a copy is taken. *live gets its live entries.
 * 0, or -1 with *why set. */
/* Set first_id from the entries (files that do not record it). */
void stream_first_id_rebuild(stream *s);
int stream_load_node(stream *s, stream_id master, const unsigned char *lp, size_t len, uint64_t *live,
                     const char **why);

/* ---- active defragmentation (memory/defrag.c, through type_ops) ---- */

/* Offered a block, returns its new address (a copy, the old block freed)
 * or the block itself when it stays. */
typedef void *stream_defrag_fn(void *priv, void *block);
/* Offer every block only s points to: the node listpacks, the node
 * array, the consumer groups with their names, consumers, PEL arrays and
 * pending-entry records (stream_group.c), and s itself; re-points them.
 * Returns s's address after the move: the caller re-points its entry.
 * Nothing outside the stream holds these pointers between commands
 * (blocked XREAD/XREADGROUP re-run their command on wake-up). */
stream *stream_defrag(stream *s, stream_defrag_fn *move, void *priv);

#endif
