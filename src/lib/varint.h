/*
 * varint: an unsigned length in 1 to VARINT_MAX_BYTES bytes, 7 bits per
 * byte, least significant group first, the high bit set on every byte but
 * the last (the LEB128 form).
 *
 * Keel stores lengths this way where most of them are small and every
 * byte counts: the key length in an entry header (core/entry.c) and the
 * field and value lengths of a hash field block (types/hash.c). Below 128
 * a length takes one byte, below 16384 two.
 *
 * Two decoders, for two kinds of input:
 *   varint_get          bytes Keel wrote itself (an entry, a field block):
 *                       no bounds are checked, the caller knows the
 *                       encoding is complete. It is on the lookup path.
 *   varint_get_bounded  bytes from outside (a future snapshot loader,
 *                       RESTORE): it reads at most avail bytes and returns
 *                       0 for a truncated encoding or one whose value does
 *                       not fit in a size_t, instead of reading past the
 *                       input. Redundant encodings (a zero group after a
 *                       continuation) decode to their value.
 * The functions are inline because entry_key and entry_layout call them on
 * every key lookup.
 */
#ifndef KEEL_VARINT_H
#define KEEL_VARINT_H

#include <stddef.h>

/* Bytes of the longest encoding of a size_t. */
#define VARINT_MAX_BYTES ((sizeof(size_t) * 8 + 6) / 7)

/* Bytes varint_put writes for v. */
static inline size_t varint_size(size_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Writes v at p (which must have room for varint_size(v) bytes); returns
 * the bytes written. */
static inline size_t varint_put(unsigned char *p, size_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Decodes the varint at p, which must be complete (see above); returns
 * its size in bytes. */
static inline size_t varint_get(const unsigned char *p, size_t *v) {
    size_t r = 0, n = 0;
    unsigned shift = 0;
    for (;;) {
        unsigned char b = p[n++];
        r |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
    }
    *v = r;
    return n;
}

/* Decodes the varint at p reading at most avail bytes; returns its size,
 * or 0 (*v untouched) if it is truncated or overflows a size_t. */
static inline size_t varint_get_bounded(const unsigned char *p, size_t avail, size_t *v) {
    size_t r = 0;
    unsigned shift = 0;
    for (size_t n = 0; n < avail && n < VARINT_MAX_BYTES; n++) {
        size_t group = (size_t)(p[n] & 0x7f);
        if (shift && group >> (sizeof(size_t) * 8 - shift)) return 0; /* bits past the top */
        r |= group << shift;
        if (!(p[n] & 0x80)) {
            *v = r;
            return n + 1;
        }
        shift += 7;
    }
    return 0;
}

#endif
