/*
 * listpack implementation. See listpack.h for the format and the reasons
 * behind it.
 *
 * Implementation notes:
 *
 * - Every multi-byte field is read and written byte by byte (little
 *   endian), never through a cast pointer: entries are not aligned, and
 *   byte loads are what the compiler turns into one unaligned load anyway.
 *
 * - All structural changes (insert, replace, delete) go through one
 *   function, lp_splice, which replaces a byte range with a new encoded
 *   entry (or nothing). Having one place that moves the tail, resizes the
 *   allocation and fixes the header keeps the invariants in one place.
 *
 * - Growth reallocates only when the allocator's usable size is exceeded
 *   (so lp_new(capacity) really avoids reallocations); shrinking always
 *   gives memory back, since listpacks live in the keyspace for a long time
 *   and used_memory should reflect what they hold.
 *
 * - Readers trust the listpack. Untrusted bytes (RDB, RESTORE) must pass
 *   lp_validate first, which checks exactly the properties the readers
 *   rely on: encodings that exist, lengths that fit, and exact backlens.
 */
#include "lib/listpack.h"

#include <assert.h>
#include <string.h>

#include "lib/zmalloc.h"

#define LP_ENC_7BIT_UINT_MASK 0x80
#define LP_ENC_6BIT_STR 0x80
#define LP_ENC_13BIT_INT 0xC0
#define LP_ENC_12BIT_STR 0xE0
#define LP_ENC_32BIT_STR 0xF0
#define LP_ENC_16BIT_INT 0xF1
#define LP_ENC_24BIT_INT 0xF2
#define LP_ENC_32BIT_INT 0xF3
#define LP_ENC_64BIT_INT 0xF4

#define LP_MAX_ENTRY_HDR 9 /* 64-bit int: 1 + 8; string headers are <= 5 */

/* ---------------------------------------------------------------------
 * Little-endian helpers and header access
 * ------------------------------------------------------------------- */

static inline uint32_t rd_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline uint16_t rd_u16(const unsigned char *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline void wr_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline uint32_t hdr_total(const unsigned char *lp) { return rd_u32(lp); }
static inline void set_total(unsigned char *lp, size_t v) { wr_u32(lp, (uint32_t)v); }
static inline uint16_t hdr_count(const unsigned char *lp) { return rd_u16(lp + 4); }
static inline void set_count(unsigned char *lp, unsigned long n) {
    wr_u16(lp + 4, n >= LP_COUNT_UNKNOWN ? LP_COUNT_UNKNOWN : (uint16_t)n);
}

/* ---------------------------------------------------------------------
 * String <-> int64 (the canonical form only: what round-trips exactly)
 * ------------------------------------------------------------------- */

/* 1 if s/len is the canonical decimal text of an int64: optional '-',
 * no leading zeros, no '+', no spaces, and not "-0". Only such strings are
 * stored as integers, so that reading the entry back as text gives exactly
 * the bytes that were written. */
static int lp_str2ll(const unsigned char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 20) return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1) return 0;
    }
    if (s[i] < '1' || s[i] > '9') return 0; /* rejects leading zeros, "-0" */
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 0;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)v;
    }
    return 1;
}

/* Writes v as decimal into buf (>= LP_INTBUF_SIZE), NUL-terminated;
 * returns the length. */
static unsigned int lp_ll2str(unsigned char *buf, int64_t v) {
    unsigned char tmp[LP_INTBUF_SIZE];
    /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned int n = 0;
    do {
        tmp[n++] = (unsigned char)('0' + u % 10);
        u /= 10;
    } while (u);
    unsigned int len = 0;
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/* ---------------------------------------------------------------------
 * Entry encoding
 * ------------------------------------------------------------------- */

/* Encodes v into buf (>= 9 bytes) in the smallest encoding; returns the
 * number of bytes. Negative values are stored as two's complement
 * truncated to the encoding's width. */
static size_t lp_encode_int(unsigned char *buf, int64_t v) {
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        buf[0] = (unsigned char)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        u &= 0x1FFF;
        buf[0] = (unsigned char)(LP_ENC_13BIT_INT | (u >> 8));
        buf[1] = (unsigned char)u;
        return 2;
    }
    size_t width;
    if (v >= INT16_MIN && v <= INT16_MAX) {
        buf[0] = LP_ENC_16BIT_INT;
        width = 2;
    } else if (v >= -(1 << 23) && v < (1 << 23)) {
        buf[0] = LP_ENC_24BIT_INT;
        width = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        buf[0] = LP_ENC_32BIT_INT;
        width = 4;
    } else {
        buf[0] = LP_ENC_64BIT_INT;
        width = 8;
    }
    for (size_t i = 0; i < width; i++) buf[1 + i] = (unsigned char)(u >> (8 * i));
    return 1 + width;
}

/* Encodes the header of a string of len bytes; returns its size. */
static size_t lp_encode_str_hdr(unsigned char *buf, size_t len) {
    if (len < 64) {
        buf[0] = (unsigned char)(LP_ENC_6BIT_STR | len);
        return 1;
    }
    if (len < 4096) {
        buf[0] = (unsigned char)(LP_ENC_12BIT_STR | (len >> 8));
        buf[1] = (unsigned char)len;
        return 2;
    }
    buf[0] = LP_ENC_32BIT_STR;
    wr_u32(buf + 1, (uint32_t)len);
    return 5;
}

/* The first byte has its high bit clear (it ends a right-to-left decode);
 * each byte to its right carries the next lower 7 bits with the high bit
 * set. */
size_t lp_backlen_write(unsigned char *buf, size_t l) {
    size_t n = lp_backlen_size(l);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)((l >> (7 * (n - 1 - i))) & 127);
        buf[i] = i ? (unsigned char)(b | 128) : b;
    }
    return n;
}

/* Size of <encoding+data> of the (trusted) entry at p. */
static size_t lp_enc_len(const unsigned char *p) {
    unsigned char b = p[0];
    if (!(b & 0x80)) return 1;
    if ((b & 0xC0) == LP_ENC_6BIT_STR) return 1 + (size_t)(b & 0x3F);
    if ((b & 0xE0) == LP_ENC_13BIT_INT) return 2;
    if ((b & 0xF0) == LP_ENC_12BIT_STR) return 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case LP_ENC_32BIT_STR: return 5 + (size_t)rd_u32(p + 1);
    case LP_ENC_16BIT_INT: return 3;
    case LP_ENC_24BIT_INT: return 4;
    case LP_ENC_32BIT_INT: return 5;
    case LP_ENC_64BIT_INT: return 9;
    default: return 0; /* terminator or unused: never reached when trusted */
    }
}

/* Whole entry size including the backlen. */
static inline size_t lp_entry_len(const unsigned char *p) {
    size_t l = lp_enc_len(p);
    return l + lp_backlen_size(l);
}

/* ---------------------------------------------------------------------
 * Creation and size
 * ------------------------------------------------------------------- */

unsigned char *lp_new(size_t capacity) {
    if (capacity < LP_EMPTY_SIZE) capacity = LP_EMPTY_SIZE;
    unsigned char *lp = zmalloc(capacity);
    set_total(lp, LP_EMPTY_SIZE);
    set_count(lp, 0);
    lp[LP_HDR_SIZE] = LP_EOF;
    return lp;
}

void lp_free(unsigned char *lp) { zfree(lp); }

size_t lp_bytes(const unsigned char *lp) { return hdr_total(lp); }

unsigned long lp_length(unsigned char *lp) {
    uint16_t n = hdr_count(lp);
    if (n != LP_COUNT_UNKNOWN) return n;
    unsigned long count = 0;
    unsigned char *p = lp + LP_HDR_SIZE;
    for (; *p != LP_EOF; p += lp_entry_len(p)) count++;
    assert(p == lp + hdr_total(lp) - 1 && "entry lengths disagree with the total size");
    /* The count saturated at some point but deletions may have brought it
     * back into range: cache it so the next call is O(1). */
    if (count < LP_COUNT_UNKNOWN) set_count(lp, count);
    return count;
}

unsigned char *lp_shrink_to_fit(unsigned char *lp) {
    size_t bytes = lp_bytes(lp);
    if (zmalloc_size(lp) > bytes) lp = zrealloc(lp, bytes);
    return lp;
}

int lp_safe_to_add(const unsigned char *lp, size_t add) {
    size_t cur = lp ? lp_bytes(lp) : 0;
    return add <= LP_MAX_BYTES && cur + add <= LP_MAX_BYTES;
}

size_t lp_entry_size_for(const unsigned char *s, size_t len) {
    unsigned char buf[LP_MAX_ENTRY_HDR];
    int64_t v;
    size_t l = lp_str2ll(s, len, &v) ? lp_encode_int(buf, v) : lp_encode_str_hdr(buf, len) + len;
    return l + lp_backlen_size(l);
}

/* ---------------------------------------------------------------------
 * Iteration
 * ------------------------------------------------------------------- */

unsigned char *lp_first(unsigned char *lp) {
    assert(lp[hdr_total(lp) - 1] == LP_EOF && "total size does not end at the terminator");
    unsigned char *p = lp + LP_HDR_SIZE;
    return *p == LP_EOF ? NULL : p;
}

unsigned char *lp_next(unsigned char *lp, unsigned char *p) {
    (void)lp;
    p += lp_entry_len(p);
    assert(p <= lp + hdr_total(lp) - 1 && "an entry runs past the terminator");
    return *p == LP_EOF ? NULL : p;
}

unsigned char *lp_prev(unsigned char *lp, unsigned char *p) {
    if (p <= lp + LP_HDR_SIZE) return NULL;
    size_t l = lp_backlen_read(p - 1);
    unsigned char *prev = p - l - lp_backlen_size(l);
    assert(prev >= lp + LP_HDR_SIZE && lp_enc_len(prev) == l && "back-length disagrees");
    return prev;
}

unsigned char *lp_last(unsigned char *lp) {
    return lp_prev(lp, lp + lp_bytes(lp) - 1);
}

unsigned char *lp_seek(unsigned char *lp, long index) {
    unsigned long len = lp_length(lp);
    unsigned long idx;
    if (index < 0) {
        unsigned long back = (unsigned long)(-(index + 1)) + 1; /* no overflow on LONG_MIN */
        if (back > len) return NULL;
        idx = len - back;
    } else {
        idx = (unsigned long)index;
        if (idx >= len) return NULL;
    }
    unsigned char *p;
    if (idx < len / 2) {
        p = lp + LP_HDR_SIZE;
        for (unsigned long i = 0; i < idx; i++) p += lp_entry_len(p);
    } else {
        p = lp + lp_bytes(lp) - 1;
        for (unsigned long i = len; i > idx; i--) p = lp_prev(lp, p);
    }
    return p;
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

/* Sign-extends the low `bits` bits of u. */
static inline int64_t lp_sext(uint64_t u, unsigned bits) {
    uint64_t m = (uint64_t)1 << (bits - 1);
    u &= (m << 1) - 1;
    return (int64_t)(u ^ m) - (int64_t)m;
}

static inline uint64_t lp_rd_le(const unsigned char *p, size_t n) {
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++) u |= (uint64_t)p[i] << (8 * i);
    return u;
}

unsigned char *lp_get(unsigned char *p, int64_t *ival, unsigned int *slen) {
    unsigned char b = p[0];
    if (!(b & 0x80)) {
        *ival = b;
        return NULL;
    }
    if ((b & 0xC0) == LP_ENC_6BIT_STR) {
        *slen = b & 0x3F;
        return p + 1;
    }
    if ((b & 0xE0) == LP_ENC_13BIT_INT) {
        *ival = lp_sext((uint64_t)(b & 0x1F) << 8 | p[1], 13);
        return NULL;
    }
    if ((b & 0xF0) == LP_ENC_12BIT_STR) {
        *slen = (unsigned int)(b & 0x0F) << 8 | p[1];
        return p + 2;
    }
    switch (b) {
    case LP_ENC_32BIT_STR: *slen = rd_u32(p + 1); return p + 5;
    case LP_ENC_16BIT_INT: *ival = lp_sext(lp_rd_le(p + 1, 2), 16); return NULL;
    case LP_ENC_24BIT_INT: *ival = lp_sext(lp_rd_le(p + 1, 3), 24); return NULL;
    case LP_ENC_32BIT_INT: *ival = lp_sext(lp_rd_le(p + 1, 4), 32); return NULL;
    case LP_ENC_64BIT_INT: *ival = (int64_t)lp_rd_le(p + 1, 8); return NULL;
    default:
        /* Not an entry (terminator): report an empty string rather than
         * reading further. */
        *slen = 0;
        return p;
    }
}

unsigned char *lp_get_value(unsigned char *p, unsigned char *buf, unsigned int *len) {
    int64_t v;
    unsigned char *s = lp_get(p, &v, len);
    if (s) return s;
    *len = lp_ll2str(buf, v);
    return buf;
}

int lp_get_integer(unsigned char *p, int64_t *ival) {
    unsigned int slen;
    return lp_get(p, ival, &slen) == NULL;
}

int lp_compare(unsigned char *p, const unsigned char *s, size_t len) {
    int64_t v, sv;
    unsigned int slen;
    unsigned char *es = lp_get(p, &v, &slen);
    if (es) return slen == len && (len == 0 || memcmp(es, s, len) == 0);
    return lp_str2ll(s, len, &sv) && sv == v;
}

unsigned char *lp_find(unsigned char *lp, unsigned char *p,
                       const unsigned char *s, size_t len, unsigned int skip) {
    (void)lp;
    if (!p) return NULL;
    /* Parse the needle once instead of formatting every integer entry. */
    int64_t sv = 0;
    int s_is_int = lp_str2ll(s, len, &sv);
    unsigned int skipcnt = 0;
    while (*p != LP_EOF) {
        if (skipcnt == 0) {
            int64_t v;
            unsigned int slen;
            unsigned char *es = lp_get(p, &v, &slen);
            if (es) {
                if (slen == len && (len == 0 || memcmp(es, s, len) == 0)) return p;
            } else if (s_is_int && v == sv) {
                return p;
            }
            skipcnt = skip;
        } else {
            skipcnt--;
        }
        p += lp_entry_len(p);
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Modification
 * ------------------------------------------------------------------- */

#ifndef NDEBUG
/* True when offset at of lp is where an entry ends (or the entries
 * begin): the back-length just before it describes an entry that starts
 * after the header and whose <encoding+data> has that length. */
static int entry_boundary(const unsigned char *lp, size_t at) {
    if (at == LP_HDR_SIZE) return 1;
    size_t l = lp_backlen_read(lp + at - 1), whole = l + lp_backlen_size(l);
    return whole <= at - LP_HDR_SIZE && lp_enc_len(lp + at - whole) == l;
}
#endif

/* Replaces `oldlen` bytes at offset `off` with the entry made of hdr/hdrlen
 * followed by data/datalen plus its backlen (or with nothing when hdr is
 * NULL). `delta_count` is the change in the number of entries. Returns the
 * new listpack, or NULL (lp untouched) if it would exceed the format's
 * 4 GB limit. */
static unsigned char *lp_splice(unsigned char *lp, size_t off, size_t oldlen,
                                const unsigned char *hdr, size_t hdrlen,
                                const unsigned char *data, size_t datalen,
                                long delta_count) {
    size_t total = lp_bytes(lp);
    assert(lp[total - 1] == LP_EOF && off >= LP_HDR_SIZE && off + oldlen <= total - 1);
    assert(entry_boundary(lp, off) && entry_boundary(lp, off + oldlen) && "splice inside an entry");
    size_t enclen = hdr ? hdrlen + datalen : 0;
    size_t newlen = hdr ? enclen + lp_backlen_size(enclen) : 0;
    if (hdr && (datalen > LP_MAX_BYTES || newlen > LP_MAX_BYTES ||
                total - oldlen + newlen > LP_MAX_BYTES))
        return NULL;
    size_t newtotal = total - oldlen + newlen;
    size_t tail = total - off - oldlen;

    /* data may point into lp itself (e.g. copying one entry over another):
     * remember its offset so it survives the realloc and the move. */
    int data_inside = data && data >= lp && data < lp + total;
    size_t data_off = data_inside ? (size_t)(data - lp) : 0;
    if (data_inside && data_off >= off + oldlen) {
        data_off = data_off - oldlen + newlen; /* it sits in the moved tail */
    } else if (data_inside && data_off + datalen > off) {
        /* Overlaps the bytes being replaced or straddles the move: take a
         * copy rather than reason about every overlap. */
        unsigned char *copy = zmalloc(datalen ? datalen : 1);
        memcpy(copy, data, datalen);
        unsigned char *res = lp_splice(lp, off, oldlen, hdr, hdrlen, copy, datalen, delta_count);
        zfree(copy);
        return res;
    }

    if (newtotal > total) {
        if (newtotal > zmalloc_size(lp)) lp = zrealloc(lp, newtotal);
        memmove(lp + off + newlen, lp + off + oldlen, tail);
    } else {
        if (newlen != oldlen) memmove(lp + off + newlen, lp + off + oldlen, tail);
        if (newtotal < total) lp = zrealloc(lp, newtotal);
    }
    if (data_inside) data = lp + data_off;

    if (hdr) {
        unsigned char *dst = lp + off;
        memcpy(dst, hdr, hdrlen);
        if (datalen) memmove(dst + hdrlen, data, datalen);
        lp_backlen_write(dst + enclen, enclen);
    }
    set_total(lp, newtotal);
    assert(lp[newtotal - 1] == LP_EOF);
    uint16_t n = hdr_count(lp);
    assert(n == LP_COUNT_UNKNOWN || (long)n + delta_count >= 0);
    if (n != LP_COUNT_UNKNOWN) set_count(lp, (unsigned long)((long)n + delta_count));
    return lp;
}

/* Offset where an insertion relative to p lands. */
static size_t lp_insert_off(unsigned char *lp, unsigned char *p, int where) {
    if (where == LP_AFTER && *p != LP_EOF) p += lp_entry_len(p);
    return (size_t)(p - lp);
}

static unsigned char *lp_insert_encoded(unsigned char *lp, const unsigned char *hdr, size_t hdrlen,
                                        const unsigned char *data, size_t datalen,
                                        unsigned char *p, int where, unsigned char **newp) {
    size_t off = lp_insert_off(lp, p, where);
    unsigned char *res = lp_splice(lp, off, 0, hdr, hdrlen, data, datalen, 1);
    if (res && newp) *newp = res + off;
    return res;
}

unsigned char *lp_insert_integer(unsigned char *lp, int64_t v,
                                 unsigned char *p, int where, unsigned char **newp) {
    unsigned char buf[LP_MAX_ENTRY_HDR];
    size_t n = lp_encode_int(buf, v);
    return lp_insert_encoded(lp, buf, n, NULL, 0, p, where, newp);
}

unsigned char *lp_insert_string(unsigned char *lp, const unsigned char *s, size_t len,
                                unsigned char *p, int where, unsigned char **newp) {
    int64_t v;
    if (lp_str2ll(s, len, &v)) return lp_insert_integer(lp, v, p, where, newp);
    unsigned char buf[LP_MAX_ENTRY_HDR];
    if (len > LP_MAX_BYTES) return NULL;
    size_t n = lp_encode_str_hdr(buf, len);
    return lp_insert_encoded(lp, buf, n, s, len, p, where, newp);
}

unsigned char *lp_append(unsigned char *lp, const unsigned char *s, size_t len) {
    return lp_insert_string(lp, s, len, lp + lp_bytes(lp) - 1, LP_BEFORE, NULL);
}

unsigned char *lp_prepend(unsigned char *lp, const unsigned char *s, size_t len) {
    return lp_insert_string(lp, s, len, lp + LP_HDR_SIZE, LP_BEFORE, NULL);
}

unsigned char *lp_append_integer(unsigned char *lp, int64_t v) {
    return lp_insert_integer(lp, v, lp + lp_bytes(lp) - 1, LP_BEFORE, NULL);
}

unsigned char *lp_prepend_integer(unsigned char *lp, int64_t v) {
    return lp_insert_integer(lp, v, lp + LP_HDR_SIZE, LP_BEFORE, NULL);
}

unsigned char *lp_replace_integer(unsigned char *lp, unsigned char **p, int64_t v) {
    unsigned char buf[LP_MAX_ENTRY_HDR];
    size_t n = lp_encode_int(buf, v);
    size_t off = (size_t)(*p - lp);
    unsigned char *res = lp_splice(lp, off, lp_entry_len(*p), buf, n, NULL, 0, 0);
    if (res) *p = res + off;
    return res;
}

unsigned char *lp_replace(unsigned char *lp, unsigned char **p,
                          const unsigned char *s, size_t len) {
    int64_t v;
    if (lp_str2ll(s, len, &v)) return lp_replace_integer(lp, p, v);
    if (len > LP_MAX_BYTES) return NULL;
    unsigned char buf[LP_MAX_ENTRY_HDR];
    size_t n = lp_encode_str_hdr(buf, len);
    size_t off = (size_t)(*p - lp);
    unsigned char *res = lp_splice(lp, off, lp_entry_len(*p), buf, n, s, len, 0);
    if (res) *p = res + off;
    return res;
}

unsigned char *lp_delete(unsigned char *lp, unsigned char *p, unsigned char **next) {
    size_t off = (size_t)(p - lp);
    lp = lp_splice(lp, off, lp_entry_len(p), NULL, 0, NULL, 0, -1);
    if (next) *next = lp[off] == LP_EOF ? NULL : lp + off;
    return lp;
}

unsigned char *lp_delete_range_with_entry(unsigned char *lp, unsigned char **p,
                                          unsigned long count) {
    unsigned char *start = *p, *end = start;
    unsigned long n = 0;
    while (n < count && *end != LP_EOF) {
        end += lp_entry_len(end);
        n++;
    }
    size_t off = (size_t)(start - lp);
    if (n) lp = lp_splice(lp, off, (size_t)(end - start), NULL, 0, NULL, 0, -(long)n);
    *p = lp[off] == LP_EOF ? NULL : lp + off;
    return lp;
}

unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count) {
    if (count == 0) return lp;
    unsigned char *p = lp_seek(lp, index);
    if (!p) return lp;
    return lp_delete_range_with_entry(lp, &p, count);
}

unsigned char *lp_batch_delete(unsigned char *lp, unsigned char **ps, size_t n) {
    if (n == 0) return lp;
    size_t total = lp_bytes(lp);
    unsigned char *eof = lp + total - 1;
    unsigned char *dst = ps[0];
    for (size_t i = 0; i < n; i++) {
        unsigned char *keep = ps[i] + lp_entry_len(ps[i]);
        /* Keep everything up to the next victim (or the terminator,
         * inclusive), sliding it down over the gap opened so far. */
        unsigned char *keep_end = i + 1 < n ? ps[i + 1] : eof + 1;
        size_t seg = (size_t)(keep_end - keep);
        memmove(dst, keep, seg);
        dst += seg;
    }
    size_t newtotal = (size_t)(dst - lp);
    set_total(lp, newtotal);
    uint16_t c = hdr_count(lp);
    if (c != LP_COUNT_UNKNOWN) set_count(lp, c - n);
    return zrealloc(lp, newtotal);
}

/* ---------------------------------------------------------------------
 * Validation of untrusted bytes
 * ------------------------------------------------------------------- */

/* Size of <encoding+data> of the entry at p given that only `avail` bytes
 * (>= 1) are readable from p, or 0 if the encoding is invalid or does not
 * fit. Unlike lp_enc_len it never reads past p + avail. */
static size_t lp_enc_len_checked(const unsigned char *p, size_t avail) {
    unsigned char b = p[0];
    size_t need;
    if (!(b & 0x80)) {
        need = 1;
    } else if ((b & 0xC0) == LP_ENC_6BIT_STR) {
        need = 1 + (size_t)(b & 0x3F);
    } else if ((b & 0xE0) == LP_ENC_13BIT_INT) {
        need = 2;
    } else if ((b & 0xF0) == LP_ENC_12BIT_STR) {
        if (avail < 2) return 0;
        need = 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    } else {
        switch (b) {
        case LP_ENC_32BIT_STR:
            if (avail < 5) return 0;
            /* uint64 arithmetic: no wrap even where size_t is 32 bits. */
            if ((uint64_t)5 + rd_u32(p + 1) > avail) return 0;
            need = 5 + (size_t)rd_u32(p + 1);
            break;
        case LP_ENC_16BIT_INT: need = 3; break;
        case LP_ENC_24BIT_INT: need = 4; break;
        case LP_ENC_32BIT_INT: need = 5; break;
        case LP_ENC_64BIT_INT: need = 9; break;
        default: return 0; /* unused encodings, or a terminator too early */
        }
    }
    return need <= avail ? need : 0;
}

int lp_validate_with_cb(const unsigned char *lp, size_t size,
                        lp_validate_cb cb, void *ud, unsigned long *count) {
    if (!lp || size < LP_EMPTY_SIZE || size > LP_MAX_BYTES) return 0;
    if (hdr_total(lp) != size) return 0;
    if (lp[size - 1] != LP_EOF) return 0;
    const unsigned char *p = lp + LP_HDR_SIZE;
    const unsigned char *eof = lp + size - 1;
    unsigned long n = 0;
    while (p < eof) {
        size_t avail = (size_t)(eof - p);
        size_t l = lp_enc_len_checked(p, avail);
        if (l == 0) return 0;
        size_t bl;
        /* Require the exact canonical backlen: then lp_prev, which trusts
         * it, always lands on the start of the previous entry. */
        if (!lp_backlen_matches(p + l, avail - l, l, &bl)) return 0;
        if (cb && !cb((unsigned char *)p, ud)) return 0;
        p += l + bl;
        n++;
    }
    uint16_t hc = hdr_count(lp);
    if (hc != LP_COUNT_UNKNOWN && hc != n) return 0;
    if (count) *count = n;
    return 1;
}

int lp_validate(const unsigned char *lp, size_t size) {
    return lp_validate_with_cb(lp, size, NULL, NULL, NULL);
}
