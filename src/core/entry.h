/*
 * entry: one key of the keyspace, in one allocation.
 *
 * Redis spends about 80 bytes of bookkeeping on a small key: a dictEntry
 * (24 bytes), a robj header for the value (16), a separate sds for the key,
 * a table slot, and a second dictEntry in the expires table for keys with a
 * TTL. Keel packs a key into a single block:
 *
 *   +--------+--------+---------+-----------+----------+----------------+
 *   | meta   | lru    | keylen  | key bytes | [expire] | value          |
 *   | 1 byte | 3 bytes| varint  |           | 8 bytes  | inline or ptr  |
 *   +--------+--------+---------+-----------+----------+----------------+
 *
 *   meta   type (3 bits), encoding (3 bits), has-expire, snapshot mark
 *   lru    24 bits of access data, written and read only by
 *          memory/access.c (which says why); their meaning follows the
 *          eviction policy:
 *            LRU (and every non-LFU policy): bit 23 clear: a fine stamp,
 *            the last access in milliseconds modulo 2^23; bit 23 set: a
 *            coarse stamp, in seconds modulo 2^23, which the background
 *            ager writes over fine stamps older than 30 minutes;
 *            LFU: bits 8-23 the last access (bit 23 clear: 16 ms units
 *            modulo 2^15; set: minutes modulo 2^15, written by the ager),
 *            bits 0-7 Redis's logarithmic access counter
 *   expire absolute unix time in ms, present only when has-expire is set,
 *          so keys without a TTL pay nothing for it
 *   value  int encoding: 8-byte integer; embstr: varint length + bytes
 *          (strings up to 44 bytes); a small aggregate may be inline
 *          too (varint length + its smallpack or listpack bytes, see
 *          "Inline aggregates" below); every other encoding: a pointer to the
 *          type's own structure (kstr, listpack, hashtable, ...)
 *
 * A 10-byte key with a 16-byte value takes 32 bytes (a jemalloc size
 * class) where Redis takes about 96 plus the table slot.
 *
 * The price: adding or removing a TTL, or changing an inline value's
 * size, reallocates the entry, so its address changes. The keyspace
 * (db.c) is the only code that may do that, and it updates the table slot
 * and the expires index in the same step; callers always continue with the
 * entry pointer they are given back.
 *
 * Inline aggregates: a hash whose listpack is small is stored inside the
 * entry rather than behind a pointer, saving an allocation, its size-class
 * rounding and the pointer (16 to 32 bytes per small hash). It is stored
 * in its smallpack form (lib/smallpack.h: the listpack without header,
 * terminator and back-lengths; 1M hashes of ten short fields drop from
 * jemalloc's 192-byte class to the 160-byte one), marked by the int code
 * in the meta byte of a non-string type. The embstr code of a non-string
 * type marks the same value kept as a plain listpack, the fallback for a
 * listpack too big for the decode buffers. entry_encoding() reports both
 * as ENC_LISTPACK, and entry_ptr() returns a real listpack, so every
 * reader works unchanged:
 *   - smallpack: decoded into one of ENTRY_DECODE_SLOTS buffers that
 *     entry.c owns (per thread) and reuses round-robin, so the pointer
 *     stays valid until that many more entry_ptr() calls on smallpack
 *     entries. Readers use it within one command and hold at most two at a
 *     time (HINCRBY: a read, then a copy for writing); nothing may keep it
 *     across a command or a loop over other keys;
 *   - plain listpack: the bytes inside the entry.
 * In both cases nobody writes through that pointer: writers copy the
 * listpack out, modify the copy, and store the result back with
 * entry_with_inline() (a new entry, through db_replace), which chooses the
 * form.
 *
 * The snapshot mark is reserved for fork-less snapshots: a saver walking
 * the table flips the expected mark as it writes each key, and a writer
 * touching a key that still has the old mark saves it first.
 */
#ifndef KEEL_ENTRY_H
#define KEEL_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Types: same numbering as Redis's object types. */
enum { TYPE_STRING = 0, TYPE_LIST = 1, TYPE_SET = 2, TYPE_ZSET = 3, TYPE_HASH = 4, TYPE_STREAM = 6 };
#define TYPE_COUNT 7

/* Encodings (3 bits; the meaning is per type, the names follow Redis's). */
enum {
    ENC_RAW = 0,       /* string: kstr pointer */
    ENC_INT = 1,       /* string: inline int64 */
    ENC_EMBSTR = 2,    /* string: inline bytes */
    ENC_LISTPACK = 3,  /* list, hash, set, zset: listpack pointer */
    ENC_QUICKLIST = 4, /* list: quicklist pointer */
    ENC_HASHTABLE = 5, /* hash, set: hashtable pointer */
    ENC_INTSET = 6,    /* set: intset pointer */
    ENC_SKIPLIST = 7,  /* zset: zset structure pointer; stream: stream pointer */
};

#define EMBSTR_MAX_LEN 44

typedef struct entry entry; /* opaque: a byte layout, see above */

#define ENTRY_META_TYPE_MASK 0x07
#define ENTRY_META_ENC_SHIFT 3
#define ENTRY_META_ENC_MASK 0x38
#define ENTRY_META_EXPIRE 0x40
#define ENTRY_META_SNAPMARK 0x80

static inline uint8_t entry_meta(const entry *e) { return *(const uint8_t *)e; }
static inline int entry_type(const entry *e) { return entry_meta(e) & ENTRY_META_TYPE_MASK; }
static inline int entry_raw_encoding(const entry *e) {
    return (entry_meta(e) & ENTRY_META_ENC_MASK) >> ENTRY_META_ENC_SHIFT;
}
/* Meta codes of an inline aggregate (non-string types only; see "Inline
 * aggregates" above). */
#define ENC_INLINE_LISTPACK ENC_EMBSTR
#define ENC_INLINE_SMALLPACK ENC_INT
/* entry_ptr() results of smallpack entries that stay valid at once. */
#define ENTRY_DECODE_SLOTS 8

/* True when the value lives inside the entry (int, embstr, inline
 * aggregate in either form). */
static inline int entry_value_inline(const entry *e) {
    int enc = entry_raw_encoding(e);
    return enc == ENC_EMBSTR || enc == ENC_INT;
}
/* True for an aggregate whose listpack is stored inside the entry. */
static inline int entry_is_inline_aggregate(const entry *e) {
    return entry_value_inline(e) && entry_type(e) != TYPE_STRING;
}
static inline int entry_encoding(const entry *e) {
    return entry_is_inline_aggregate(e) ? ENC_LISTPACK : entry_raw_encoding(e);
}
static inline int entry_has_expire(const entry *e) { return (entry_meta(e) & ENTRY_META_EXPIRE) != 0; }

/* The snapshot mark (0 or 1); see persist/snapshot.h for its meaning. */
static inline int entry_snapmark(const entry *e) { return (entry_meta(e) & ENTRY_META_SNAPMARK) != 0; }
static inline void entry_set_snapmark(entry *e, int mark) {
    uint8_t *p = (uint8_t *)e;
    *p = (uint8_t)(mark ? (*p | ENTRY_META_SNAPMARK) : (*p & ~ENTRY_META_SNAPMARK));
}

static inline uint32_t entry_lru(const entry *e) {
    const uint8_t *p = (const uint8_t *)e;
    return (uint32_t)p[1] | ((uint32_t)p[2] << 8) | ((uint32_t)p[3] << 16);
}
static inline void entry_set_lru(entry *e, uint32_t lru) {
    uint8_t *p = (uint8_t *)e;
    p[1] = (uint8_t)lru;
    p[2] = (uint8_t)(lru >> 8);
    p[3] = (uint8_t)(lru >> 16);
}

/* Key bytes and length. */
const char *entry_key(const entry *e, size_t *len);
/* Expire time in unix ms, or -1 when the key has none. */
long long entry_expire(const entry *e);

/* Build a string entry, choosing int / embstr / raw as Redis would.
 * expire < 0 means none. */
entry *entry_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire);
/* Build a string entry taking ownership of a kstr (raw encoding, unless
 * it is short enough to inline, in which case the kstr is freed). */
entry *entry_new_string_kstr(const char *key, size_t klen, char *kstr_val, long long expire);
entry *entry_new_int(const char *key, size_t klen, long long v, long long expire);
/* Build an entry for a pointer-encoded value (aggregates, raw strings). */
entry *entry_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr, long long expire);
/* An aggregate (hash) whose listpack of len bytes is copied inside. */
entry *entry_new_inline(const char *key, size_t klen, int type, const void *lp, size_t len, long long expire);
/* Bytes an inline aggregate entry with this key and listpack takes at
 * most (the plain-listpack form; the smallpack form is smaller). */
size_t entry_inline_size(size_t klen, size_t lplen, int has_expire);

/* Same key/expire/lru as e, new value; e itself is left untouched. */
entry *entry_with_inline(const entry *e, int type, const void *lp, size_t len);
entry *entry_with_string(const entry *e, const char *val, size_t vlen);
entry *entry_with_ptr(const entry *e, int type, int enc, void *ptr);
entry *entry_with_int(const entry *e, long long v);
/* An int-encoded string's value rewritten where it is (the slot is always
 * 8 bytes): INCR and friends keep the entry, as Redis keeps the object. */
void entry_set_int(entry *e, long long v);

/* Returns the entry, possibly moved. Only db.c should call these. */
entry *entry_set_expire(entry *e, long long when_ms);
entry *entry_clear_expire(entry *e);

/* The stored smallpack of an inline aggregate in that form (NULL for any
 * other entry), for readers that walk it in place instead of asking
 * entry_ptr() for a decoded listpack (lib/smallpack.h). */
const unsigned char *entry_smallpack(const entry *e, size_t *len);

/* Pointer-encoded values; for an inline aggregate, its listpack (read
 * only, see "Inline aggregates" for how long it stays valid). */
void *entry_ptr(const entry *e);
void entry_set_ptr(entry *e, void *ptr);
void entry_set_encoding(entry *e, int enc); /* keeps the value slot size class */

/* String values: bytes and length; for the int encoding the digits are
 * written to buf (which must hold 32 bytes). */
const char *entry_string(const entry *e, char *buf, size_t *len);
/* Integer value if the string is (or parses as) an integer. */
int entry_string_as_ll(const entry *e, long long *v);

/* Free the value (through the type's ops) and the entry. */
void entry_free(entry *e);
/* Free only the entry block, not the value it points to. */
void entry_free_shell(entry *e);
/* Copy with a new key (COPY, RENAME across tables): the value is
 * duplicated through the type's ops. */
entry *entry_dup(const entry *e, const char *newkey, size_t newklen);

/* Bytes of the entry block itself (not the pointed-to value). */
size_t entry_alloc_size(const entry *e);

const char *entry_type_name(int type);
const char *entry_encoding_name(const entry *e);



/* Move e's value, TTL and LRU to a new entry under another key; e's block
 * is freed (not its value). For RENAME and MOVE. */
entry *entry_rekey(entry *e, const char *newkey, size_t newklen);
#endif
