/* See smallpack.h for the format and why. The listpack element encodings
 * are those documented in listpack.h; only their lengths matter here. The
 * back-lengths it checks and writes back are listpack.h's own
 * (lp_backlen_*), so the two formats cannot drift apart. */
#include "lib/smallpack.h"
#include "lib/listpack.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#define LP_HDR 6
#define LP_END 0xFF
#define LP_COUNT_SATURATED 65535u

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Size of the <encoding+data> of the element at p, of which avail bytes
 * are readable; 0 if the encoding is not an element's (terminator, unused
 * codes) or the element does not fit. */
static size_t element_len(const unsigned char *p, size_t avail) {
    if (avail == 0) return 0;
    unsigned char b = p[0];
    size_t len;
    if (!(b & 0x80)) len = 1;                                 /* 7-bit uint */
    else if ((b & 0xC0) == 0x80) len = 1 + (size_t)(b & 0x3F); /* 6-bit str */
    else if ((b & 0xE0) == 0xC0) len = 2;                     /* 13-bit int */
    else if ((b & 0xF0) == 0xE0) {                            /* 12-bit str */
        if (avail < 2) return 0;
        len = 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    } else {
        switch (b) {
        case 0xF0: /* 32-bit str */
            if (avail < 5) return 0;
            if (read_u32(p + 1) > avail - 5) return 0;
            len = 5 + (size_t)read_u32(p + 1);
            break;
        case 0xF1: len = 3; break; /* int16 */
        case 0xF2: len = 4; break; /* int24 */
        case 0xF3: len = 5; break; /* int32 */
        case 0xF4: len = 9; break; /* int64 */
        default: return 0;
        }
    }
    return len <= avail ? len : 0;
}

/* Copies an element of n bytes. Elements are mostly under 16 bytes, where
 * a call to memcpy costs more than the copy: when both buffers have room
 * for it, one 16-byte block or whole 8-byte words are moved instead, the
 * bytes past n landing where the caller writes next anyway. */
static void copy_element(unsigned char *dst, size_t dst_room, const unsigned char *src, size_t src_room,
                         size_t n) {
    if (n <= 16 && dst_room >= 16 && src_room >= 16) {
        memcpy(dst, src, 16); /* one 16-byte load and store */
        return;
    }
    size_t words = (n + 7) & ~(size_t)7;
    if (n <= 64 && words <= dst_room && words <= src_room) {
        for (size_t i = 0; i < words; i += 8) memcpy(dst + i, src + i, 8);
        return;
    }
    memcpy(dst, src, n);
}

/* One pass that checks the listpack (each element's bounds and
 * back-length, the header's total and count, the terminator) and copies
 * the elements' <encoding+data> to dst (unless dst is NULL). */
int smallpack_encode(unsigned char *dst, size_t cap, const unsigned char *lp, size_t lplen, size_t *out) {
    if (lplen < LP_HDR + 1 || read_u32(lp) != lplen || lp[lplen - 1] != LP_END) return 0;
    size_t off = LP_HDR, end = lplen - 1, w = 0, count = 0;
    while (off < end) {
        unsigned char b = lp[off];
        size_t l, bl;
        if (b < 0x80) l = 1;
        else if (b < 0xC0) l = 1 + (size_t)(b & 0x3F);
        else l = element_len(lp + off, end - off);
        if (!l || l > end - off || !lp_backlen_matches(lp + off + l, end - off - l, l, &bl)) return 0;
        if (dst) {
            if (l > cap - w) return 0;
            copy_element(dst + w, cap - w, lp + off, end - off, l);
        }
        w += l;
        off += l + bl;
        count++;
    }
    assert(off == end && "element lengths disagree with the listpack's total");
    unsigned hdr_count = (unsigned)lp[4] | (unsigned)lp[5] << 8;
    if (hdr_count != LP_COUNT_SATURATED && hdr_count != count) return 0;
    *out = w;
    return 1;
}

/* One pass for both sizing (dst NULL) and decoding. Short strings and
 * small integers, nearly every element of an inline value, take the
 * inlined branch. */
static size_t decode(unsigned char *dst, size_t cap, const unsigned char *sp, size_t len) {
    size_t in = 0, out = LP_HDR, count = 0;
    while (in < len) {
        unsigned char b = sp[in];
        size_t l;
        if (b < 0x80) l = 1;                              /* 7-bit uint */
        else if (b < 0xC0) l = 1 + (size_t)(b & 0x3F);    /* 6-bit str */
        else l = element_len(sp + in, len - in);
        if (!l || l > len - in) return 0;
        size_t bl = l <= 127 ? 1 : lp_backlen_size(l);
        if (out + l + bl + 1 > cap) return 0;
        if (dst) {
            copy_element(dst + out, cap - out, sp + in, len - in, l);
            if (bl == 1) dst[out + l] = (unsigned char)l;
            else lp_backlen_write(dst + out + l, l);
        }
        in += l;
        out += l + bl;
        count++;
    }
    assert(in == len);
    size_t total = out + 1;
    if (total > UINT32_MAX) return 0;
    if (dst) {
        dst[out] = LP_END;
        write_u32(dst, (uint32_t)total);
        size_t c = count < LP_COUNT_SATURATED ? count : LP_COUNT_SATURATED;
        dst[4] = (unsigned char)c;
        dst[5] = (unsigned char)(c >> 8);
    }
    return total;
}

size_t smallpack_listpack_size(const unsigned char *sp, size_t len) { return decode(NULL, SIZE_MAX, sp, len); }

size_t smallpack_decode(unsigned char *dst, size_t cap, const unsigned char *sp, size_t len) {
    if (cap < LP_HDR + 1) return 0;
    return decode(dst, cap, sp, len);
}

size_t smallpack_element_size(const unsigned char *sp, size_t len, size_t off) {
    return off < len ? element_len(sp + off, len - off) : 0;
}
