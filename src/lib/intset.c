/*
 * intset implementation. See intset.h for the format and why it exists.
 *
 * Members are accessed through byte-wise little-endian helpers rather than
 * typed pointers: the blob may come from an RDB file (any alignment,
 * little-endian by definition), and the compiler turns the byte loops into
 * single loads on little-endian hosts anyway.
 *
 * Every change reallocates to the exact size: intsets are small and long
 * lived, so a tight footprint matters more than the realloc, which the
 * allocator usually satisfies in place within the same size class.
 */
#include "lib/intset.h"

#include <string.h>

#include "lib/random.h"
#include "lib/zmalloc.h"

struct intset {
    unsigned char hdr[INTSET_HDR_SIZE]; /* encoding, length (uint32 LE) */
    unsigned char contents[];
};

#define ENC16 2u
#define ENC32 4u
#define ENC64 8u

static inline uint32_t rd_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t is_enc(const intset *is) { return rd_u32(is->hdr); }
static inline uint32_t is_len(const intset *is) { return rd_u32(is->hdr + 4); }
static inline void set_enc(intset *is, uint32_t e) { wr_u32(is->hdr, e); }
static inline void set_len(intset *is, uint32_t n) { wr_u32(is->hdr + 4, n); }

/* Value stored at p with width enc, sign-extended. */
static inline int64_t rd_val(const unsigned char *p, uint32_t enc) {
    uint64_t u = 0;
    for (uint32_t i = 0; i < enc; i++) u |= (uint64_t)p[i] << (8 * i);
    if (enc < 8) {
        uint64_t m = (uint64_t)1 << (enc * 8 - 1);
        return (int64_t)(u ^ m) - (int64_t)m;
    }
    return (int64_t)u;
}

static inline void wr_val(unsigned char *p, uint32_t enc, int64_t v) {
    uint64_t u = (uint64_t)v;
    for (uint32_t i = 0; i < enc; i++) p[i] = (unsigned char)(u >> (8 * i));
}

static inline int64_t get_at(const intset *is, uint32_t pos, uint32_t enc) {
    return rd_val(is->contents + (size_t)pos * enc, enc);
}

static inline uint32_t enc_for(int64_t v) {
    if (v >= INT16_MIN && v <= INT16_MAX) return ENC16;
    if (v >= INT32_MIN && v <= INT32_MAX) return ENC32;
    return ENC64;
}

static intset *resize(intset *is, uint32_t len, uint32_t enc) {
    return zrealloc(is, INTSET_HDR_SIZE + (size_t)len * enc);
}

/* Binary search: 1 and *pos = index if found, else 0 and *pos = where v
 * would be inserted. */
static int search(const intset *is, int64_t v, uint32_t *pos) {
    uint32_t enc = is_enc(is), n = is_len(is);
    if (n == 0) {
        *pos = 0;
        return 0;
    }
    /* Appending in order is common (SADD of increasing ids): check the
     * ends first so those cost O(1). */
    if (v > get_at(is, n - 1, enc)) {
        *pos = n;
        return 0;
    }
    if (v < get_at(is, 0, enc)) {
        *pos = 0;
        return 0;
    }
    uint32_t lo = 0, hi = n; /* search in [lo, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t cur = get_at(is, mid, enc);
        if (cur == v) {
            *pos = mid;
            return 1;
        }
        if (cur < v) lo = mid + 1;
        else hi = mid;
    }
    *pos = lo;
    return 0;
}

intset *intset_new(void) {
    intset *is = zmalloc(INTSET_HDR_SIZE);
    set_enc(is, ENC16);
    set_len(is, 0);
    return is;
}

void intset_free(intset *is) { zfree(is); }

/* v needs a wider encoding than the set has: it is either below every
 * member or above every member, so it goes at one end while everything
 * else is widened. Widen from the back so nothing is overwritten before
 * it is read. */
static intset *upgrade_and_add(intset *is, int64_t v) {
    uint32_t old = is_enc(is), nenc = enc_for(v), n = is_len(is);
    int front = v < 0;
    is = resize(is, n + 1, nenc);
    for (uint32_t i = n; i-- > 0;)
        wr_val(is->contents + (size_t)(i + front) * nenc, nenc, get_at(is, i, old));
    wr_val(is->contents + (size_t)(front ? 0 : n) * nenc, nenc, v);
    set_enc(is, nenc);
    set_len(is, n + 1);
    return is;
}

intset *intset_add(intset *is, int64_t v, int *added) {
    if (added) *added = 0;
    uint32_t enc = is_enc(is);
    if (enc_for(v) > enc) {
        if (added) *added = 1;
        return upgrade_and_add(is, v);
    }
    uint32_t pos;
    if (search(is, v, &pos)) return is;
    uint32_t n = is_len(is);
    is = resize(is, n + 1, enc);
    unsigned char *at = is->contents + (size_t)pos * enc;
    memmove(at + enc, at, (size_t)(n - pos) * enc);
    wr_val(at, enc, v);
    set_len(is, n + 1);
    if (added) *added = 1;
    return is;
}

intset *intset_remove(intset *is, int64_t v, int *removed) {
    if (removed) *removed = 0;
    uint32_t enc = is_enc(is), pos;
    /* A value wider than the encoding cannot be a member. */
    if (enc_for(v) > enc || !search(is, v, &pos)) return is;
    uint32_t n = is_len(is);
    unsigned char *at = is->contents + (size_t)pos * enc;
    memmove(at, at + enc, (size_t)(n - pos - 1) * enc);
    set_len(is, n - 1);
    if (removed) *removed = 1;
    return resize(is, n - 1, enc);
}

int intset_find(const intset *is, int64_t v) {
    uint32_t pos;
    return enc_for(v) <= is_enc(is) && search(is, v, &pos);
}

uint32_t intset_len(const intset *is) { return is_len(is); }

uint32_t intset_encoding(const intset *is) { return is_enc(is); }

int intset_get(const intset *is, uint32_t pos, int64_t *v) {
    if (pos >= is_len(is)) return 0;
    *v = get_at(is, pos, is_enc(is));
    return 1;
}

int64_t intset_random(const intset *is) {
    uint32_t n = is_len(is);
    if (n == 0) return 0;
    return get_at(is, (uint32_t)random_below(n), is_enc(is));
}

int64_t intset_min(const intset *is) {
    return is_len(is) ? get_at(is, 0, is_enc(is)) : 0;
}

int64_t intset_max(const intset *is) {
    uint32_t n = is_len(is);
    return n ? get_at(is, n - 1, is_enc(is)) : 0;
}

size_t intset_blob_len(const intset *is) {
    return INTSET_HDR_SIZE + (size_t)is_len(is) * is_enc(is);
}

int intset_validate(const unsigned char *p, size_t size) {
    if (!p || size < INTSET_HDR_SIZE) return 0;
    uint32_t enc = rd_u32(p), n = rd_u32(p + 4);
    if (enc != ENC16 && enc != ENC32 && enc != ENC64) return 0;
    /* 64-bit arithmetic so a huge length cannot wrap around to match. */
    if ((uint64_t)n * enc + INTSET_HDR_SIZE != (uint64_t)size) return 0;
    const unsigned char *c = p + INTSET_HDR_SIZE;
    for (uint32_t i = 1; i < n; i++) {
        if (rd_val(c + (size_t)(i - 1) * enc, enc) >= rd_val(c + (size_t)i * enc, enc)) return 0;
    }
    return 1;
}
