/*
 * quicklist: a doubly linked list of listpack nodes, the large form of the
 * list type.
 *
 * Why not one big listpack: pushing at the head of a listpack moves every
 * byte behind it, so a million-element listpack would cost megabytes of
 * memmove per LPUSH. Why not a linked list of elements: a node per element
 * costs 40+ bytes of pointers and allocator headers for a 10-byte payload.
 * A chain of listpacks bounded in size (list-max-listpack-size) keeps both
 * costs small: inserts move at most one node's bytes (8 KB by default), and
 * the pointer overhead is paid once per few hundred elements.
 *
 * Node size limit ("fill", Redis's list-max-listpack-size):
 *   fill > 0   at most fill entries per node (and at most 8 KB, a safety
 *              limit so that a huge count cannot make nodes enormous);
 *   fill < 0   at most 4/8/16/32/64 KB per node for -1..-5;
 *   fill == 0  one entry per node.
 * An element too large for any node gets a node of its own.
 *
 * Compression (list-compress-depth = d > 0): the d nodes at each end stay
 * plain (pushes and pops work there), interior nodes are compressed with
 * a small LZ77 codec of our own (byte-oriented, 8 KB window: a node is a
 * few KB of similar short strings, which it shrinks 2-4x). A compressed
 * node is expanded when something reads or edits it; a node expanded for
 * a read is remembered as "pending" and compressed again at the next call
 * on the list, so ql_value pointers stay valid until that next call. A
 * node whose compression would not save at least 8 bytes stays plain.
 *
 * Values: readers get bytes through ql_value, whose buffer holds integers
 * rendered as decimal text (listpack stores "123" as an integer). A
 * ql_value points into the node, so it is valid only until the next
 * call on the list (other than ql_iter_next within the same node).
 *
 * External nodes: a caller may build a quicklist around a node it owns
 * (list.c wraps a bare listpack this way to run the same code on both
 * encodings). Such a node is flagged external: the quicklist never frees
 * its struct, only its listpack when it becomes empty.
 */
#ifndef KEEL_QUICKLIST_H
#define KEEL_QUICKLIST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/listpack.h"

#define QL_HEAD 0
#define QL_TAIL 1

#define QL_FILL_MIN (-5)
#define QL_FILL_MAX (1 << 15)
#define QL_SAFETY_BYTES 8192

typedef struct ql_node {
    struct ql_node *prev, *next;
    unsigned char *lp;
    uint32_t sz;      /* lp_bytes(lp), cached */
    uint32_t count;   /* entries, cached */
    uint8_t external; /* struct owned by the caller, see above */
    uint8_t compressed; /* lp holds <uint32 length><compressed bytes> */
} ql_node;

typedef struct quicklist {
    ql_node *head, *tail;
    size_t count; /* entries in all nodes */
    size_t len;   /* nodes */
    int fill;
    int depth;    /* list-compress-depth: plain nodes at each end */
    ql_node *pending; /* expanded for a read, to compress again */
} quicklist;

typedef struct ql_value {
    unsigned char *s;
    unsigned int len;
    unsigned char buf[LP_INTBUF_SIZE];
} ql_value;

/* Iteration from an index toward the tail (QL_TAIL direction = forward)
 * or toward the head. */
typedef struct ql_iter {
    quicklist *ql;
    ql_node *node;
    unsigned char *p;   /* entry to return next (NULL: go to next node) */
    unsigned char *cur; /* entry returned last, NULL after a delete */
    int forward;
} ql_iter;

quicklist *ql_create(int fill, int depth);
void ql_init(quicklist *ql, int fill, int depth);
/* Free all nodes (not ql itself). */
void ql_clear(quicklist *ql);
void ql_release(quicklist *ql);
quicklist *ql_dup(const quicklist *ql);

/* Bytes a node may hold under fill; 0 when fill counts entries. */
size_t ql_node_byte_limit(int fill);
/* Could a node with sz bytes and count entries take one more entry of
 * esz bytes? */
int ql_node_fits(int fill, size_t sz, size_t count, size_t esz);

void ql_push(quicklist *ql, const void *s, size_t len, int where);
/* Value at head/tail; 0 if empty. */
int ql_peek(quicklist *ql, int where, ql_value *v);
/* Remove the head/tail entry; 0 if empty. */
int ql_pop_discard(quicklist *ql, int where);

/* Entry at index (negative from the tail); 0 if out of range. */
int ql_index(quicklist *ql, long long index, ql_value *v);
int ql_replace_at(quicklist *ql, long long index, const void *s, size_t len);
/* Delete count entries starting at index start (0 <= start < count). */
void ql_del_range(quicklist *ql, size_t start, size_t count);

/* Iterator starting at index (negative from the tail), moving toward
 * the tail if forward, else toward the head. An index out of range gives
 * an iterator that returns nothing. */
void ql_iter_init(ql_iter *it, quicklist *ql, long long index, int forward);
int ql_iter_next(ql_iter *it, ql_value *v);
/* Delete the entry returned last; the iteration continues after it. */
void ql_iter_delete(ql_iter *it);
/* Replace the entry returned last. */
void ql_iter_replace(ql_iter *it, const void *s, size_t len);
/* Insert next to the entry returned last; ends the iteration. */
void ql_iter_insert(ql_iter *it, const void *s, size_t len, int after);

/* The plain listpack of a node, expanding it if compressed (it stays
 * expanded: for callers taking the listpack over, e.g. on conversion). */
unsigned char *ql_node_listpack(quicklist *ql, ql_node *n);
/* Number of compressed nodes (tests, MEMORY/DEBUG output). */
size_t ql_compressed_nodes(const quicklist *ql);

/* Bytes used by the list, nodes and listpacks included. With samples > 0,
 * an estimate from that many nodes. */
size_t ql_mem_usage(const quicklist *ql, size_t samples);

/* Consistency check for tests: cached counts and sizes, links, limits.
 * Returns 1 if consistent. */
int ql_check(const quicklist *ql);

#endif
