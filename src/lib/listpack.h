/*
 * listpack: a sequence of small strings and integers in one contiguous
 * byte array, used by the small forms of lists, hashes, sets and sorted
 * sets.
 *
 * Why contiguous: a hash of ten short fields stored as ten separately
 * allocated nodes costs ten allocations of headers, pointers and allocator
 * rounding, often 5-10x the payload. A listpack stores each entry in
 * payload + 2..6 bytes, lives in one allocation (one cache-friendly linear
 * scan, one free), and can be written to an RDB file as a single blob.
 *
 * The price is that the array must be shifted on every insert or delete in
 * the middle (O(n) memmove) and that lookups are linear scans. That is
 * cheap while the listpack is small (a few hundred entries, a few KB: the
 * memmove and the scan stay inside L1/L2), so the data types convert to a
 * real hash table / skiplist / quicklist node chain once an entry count or
 * entry size threshold (e.g. hash-max-listpack-entries/value) is crossed.
 * This module knows nothing of those thresholds; it only reports sizes.
 *
 * Layout (the same byte format as Redis's listpack, so an RDB blob can be
 * shared later):
 *
 *   <total-bytes uint32 LE> <count uint16 LE> <entry> ... <entry> <0xFF>
 *
 * count saturates at 65535, which means "unknown, walk and count"; a
 * listpack that large is well past any conversion threshold anyway.
 *
 * Each entry is <encoding+data> <backlen>:
 *
 *   0xxxxxxx                       7-bit unsigned int (0..127)
 *   10llllll <data>                string, length 0..63
 *   110xxxxx xxxxxxxx              13-bit signed int (-4096..4095)
 *   1110llll llllllll <data>       string, length 0..4095
 *   11110000 <len uint32 LE> <data> string, any length
 *   11110001 <int16 LE>            11110010 <int24 LE>
 *   11110011 <int32 LE>            11110100 <int64 LE>
 *   11110101 .. 11111110           unused (rejected by lp_validate)
 *   11111111                       terminator
 *
 * backlen is the length of <encoding+data> in 1..5 bytes, 7 bits per byte,
 * written so that it can be decoded reading right to left: the last byte
 * holds the low 7 bits and its high bit says "more bytes to the left".
 * Why: it makes the listpack walkable backward (LRANGE with negative
 * indexes, RPOP, ZREVRANGE, seeking from whichever end is closer) without
 * a separate index and without the "cascading update" problem of ziplist,
 * where each entry stored the previous entry's length and one growth could
 * ripple through the whole array. Here an entry only describes itself.
 *
 * Strings that are the canonical decimal form of an int64 ("123", "-5",
 * not "0123", "+1", " 1" or "-0") are stored as integers by the string
 * insert functions: "1234" then costs 3 bytes instead of 6, and readers get
 * the value back as an integer (lp_get) or as the same text
 * (lp_get_value), since the conversion is exactly reversible.
 *
 * Positions: an entry is addressed by a pointer p into the listpack. Any
 * function that modifies the listpack may move it (realloc): always use the
 * returned listpack and the new position it reports, never an old p.
 * Functions that read assume a well-formed listpack (one built by this API,
 * or one that passed lp_validate); only lp_validate is safe on untrusted
 * bytes.
 */
#ifndef KEEL_LISTPACK_H
#define KEEL_LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_HDR_SIZE 6          /* total bytes (4) + count (2) */
#define LP_EMPTY_SIZE 7        /* header + terminator */
#define LP_EOF 0xFF
#define LP_COUNT_UNKNOWN 65535
#define LP_INTBUF_SIZE 21      /* "-9223372036854775808" + NUL */
#define LP_MAX_BYTES 0xFFFFFFFFu

/* Where to insert relative to the position given. */
#define LP_BEFORE 0
#define LP_AFTER 1

/* --- creation and size --- */

/* New empty listpack with room for capacity bytes (at least 7) so that the
 * first appends do not reallocate. */
unsigned char *lp_new(size_t capacity);
void lp_free(unsigned char *lp);
/* Total bytes used (header + entries + terminator). */
size_t lp_bytes(const unsigned char *lp);
/* Number of entries; walks the listpack when the header count saturated
 * (and caches the result in the header if it fits again). */
unsigned long lp_length(unsigned char *lp);
/* Release allocator slack left by lp_new(capacity). */
unsigned char *lp_shrink_to_fit(unsigned char *lp);
/* 1 if adding add bytes keeps the listpack under the 4 GB format limit. */
int lp_safe_to_add(const unsigned char *lp, size_t add);
/* Bytes an entry holding s/len would occupy (for conversion thresholds). */
size_t lp_entry_size_for(const unsigned char *s, size_t len);

/* --- iteration (NULL when there is no such entry) --- */

unsigned char *lp_first(unsigned char *lp);
unsigned char *lp_last(unsigned char *lp);
unsigned char *lp_next(unsigned char *lp, unsigned char *p);
/* p may also point at the terminator: then the last entry is returned. */
unsigned char *lp_prev(unsigned char *lp, unsigned char *p);
/* Entry at index; negative counts from the end (-1 is the last). Walks
 * from whichever end is closer. */
unsigned char *lp_seek(unsigned char *lp, long index);

/* --- reading --- */

/* String entry: returns a pointer to its bytes (not NUL-terminated) and
 * sets *slen. Integer entry: returns NULL and sets *ival. */
unsigned char *lp_get(unsigned char *p, int64_t *ival, unsigned int *slen);
/* Always bytes: integers are written as decimal text into buf (at least
 * LP_INTBUF_SIZE bytes) and buf is returned; strings point into lp. */
unsigned char *lp_get_value(unsigned char *p, unsigned char *buf, unsigned int *len);
/* 1 if the entry is an integer (and *ival set), 0 if a string. */
int lp_get_integer(unsigned char *p, int64_t *ival);
/* 1 if the entry equals the string s/len (integer entries compare equal to
 * their canonical decimal text). */
int lp_compare(unsigned char *p, const unsigned char *s, size_t len);
/* First entry equal to s/len starting at p, comparing p and then every
 * (skip+1)-th entry after it: skip=1 on a hash listpack compares only the
 * fields. NULL if none. */
unsigned char *lp_find(unsigned char *lp, unsigned char *p,
                       const unsigned char *s, size_t len, unsigned int skip);

/* --- modification: all return the new listpack pointer; NULL only when
 * the result would exceed LP_MAX_BYTES (the input is then unchanged). --- */

unsigned char *lp_append(unsigned char *lp, const unsigned char *s, size_t len);
unsigned char *lp_prepend(unsigned char *lp, const unsigned char *s, size_t len);
unsigned char *lp_append_integer(unsigned char *lp, int64_t v);
unsigned char *lp_prepend_integer(unsigned char *lp, int64_t v);
/* Insert before/after the entry at p (p may be the terminator with
 * LP_BEFORE, which appends). *newp (may be NULL) gets the new entry. */
unsigned char *lp_insert_string(unsigned char *lp, const unsigned char *s, size_t len,
                                unsigned char *p, int where, unsigned char **newp);
unsigned char *lp_insert_integer(unsigned char *lp, int64_t v,
                                 unsigned char *p, int where, unsigned char **newp);
/* Replace the entry at *p; *p is updated to the new entry. */
unsigned char *lp_replace(unsigned char *lp, unsigned char **p,
                          const unsigned char *s, size_t len);
unsigned char *lp_replace_integer(unsigned char *lp, unsigned char **p, int64_t v);
/* Delete the entry at p; *next (may be NULL) gets the entry that followed
 * it, or NULL if it was the last. */
unsigned char *lp_delete(unsigned char *lp, unsigned char *p, unsigned char **next);
/* Delete count entries from index (negative counts from the end); deleting
 * past the end stops at the end. */
unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count);
/* Same from a position; *p becomes the entry after the range or NULL. */
unsigned char *lp_delete_range_with_entry(unsigned char *lp, unsigned char **p,
                                          unsigned long count);
/* Delete n entries given by positions sorted in increasing order, without
 * duplicates, in a single pass over the listpack. */
unsigned char *lp_batch_delete(unsigned char *lp, unsigned char **ps, size_t n);

/* --- back-lengths ---
 * Exported for code that reads or writes listpack bytes itself
 * (lib/smallpack.c), so that the format has one definition. */

/* Bytes of the backlen of an entry whose <encoding+data> is l bytes. The
 * thresholds are those of the reference format (one short of the 7*k-bit
 * maximum), kept so that listpacks are byte-identical. */
static inline size_t lp_backlen_size(size_t l) {
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

/* Writes the backlen of l at buf (room for lp_backlen_size(l) bytes);
 * returns its size. Not inline: callers in loops handle the one-byte case
 * (l <= 127) themselves, and the multi-byte loop inlined into them made
 * smallpack's encode and decode 5% slower. */
size_t lp_backlen_write(unsigned char *buf, size_t l);

/* Decodes the backlen whose last byte is at q, walking left. Trusted
 * listpacks only: validation guarantees at most 5 bytes, all within the
 * entry. */
static inline size_t lp_backlen_read(const unsigned char *q) {
    size_t v = 0;
    unsigned shift = 0;
    for (;;) {
        v |= (size_t)(q[0] & 127) << shift;
        if (!(q[0] & 128)) return v;
        shift += 7;
        q--;
    }
}

/* 1 if the avail bytes at p begin with exactly the backlen
 * lp_backlen_write writes for l (its size in *size): the property
 * validation requires, so that lp_prev always lands on an entry start. */
static inline int lp_backlen_matches(const unsigned char *p, size_t avail, size_t l, size_t *size) {
    if (l <= 127) { /* the common case: one byte holding l */
        *size = 1;
        return avail >= 1 && p[0] == l;
    }
    unsigned char expect[5];
    size_t n = lp_backlen_write(expect, l);
    *size = n;
    if (avail < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != expect[i]) return 0;
    return 1;
}

/* --- integrity --- */

/* Called on each entry during validation; return 0 to reject. */
typedef int (*lp_validate_cb)(unsigned char *p, void *ud);

/* Deep check of size bytes at lp: header total equals size, every entry
 * has a valid encoding that fits, a backlen that is exactly the canonical
 * one for that entry (so backward walks land on entry starts), the
 * terminator is last, and the count matches (unless saturated). Never
 * reads outside [lp, lp+size). Returns 1 if valid. */
int lp_validate(const unsigned char *lp, size_t size);
int lp_validate_with_cb(const unsigned char *lp, size_t size,
                        lp_validate_cb cb, void *ud, unsigned long *count);

#endif
