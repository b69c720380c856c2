/*
 * lzf: see lzf.h for the format. The compressor keeps a table (up to 16K
 * slots, sized to the input) of the last offset at which each 3-byte hash
 * was seen (greedy parsing,
 * like liblzf's fast mode); the decompressor checks every run against
 * both buffers, so malformed input yields 0, never an out-of-bounds
 * access.
 */
#include "persist/lzf.h"

#include <stdint.h>
#include <string.h>

#define HASH_BITS 14
#define WINDOW 8192
#define MAX_LIT 32
#define MAX_REF (255 + 7 + 2) /* 264 bytes */

static unsigned hash3(const unsigned char *p, int bits) {
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - bits);
}

/* A table about twice the input's size (at most 16K slots): clearing a
 * 64 KB table for a 1 KB string would cost more than compressing it. */
static int table_bits(size_t inlen) {
    int bits = 8;
    while (bits < HASH_BITS && ((size_t)1 << bits) < inlen * 2) bits++;
    return bits;
}

/* Emit the pending literal run [lit, lit + n) with its control byte. */
static int flush_literals(unsigned char **op, const unsigned char *oend, const unsigned char *lit, size_t n) {
    while (n) {
        size_t k = n > MAX_LIT ? MAX_LIT : n;
        if ((size_t)(oend - *op) < k + 1) return -1;
        *(*op)++ = (unsigned char)(k - 1);
        memcpy(*op, lit, k);
        *op += k;
        lit += k;
        n -= k;
    }
    return 0;
}

static int emit_ref(unsigned char **op, const unsigned char *oend, size_t len, size_t off) {
    /* len >= 3, off in 1..WINDOW: stored as len - 2 and off - 1. */
    size_t l = len - 2, o = off - 1;
    if ((size_t)(oend - *op) < 3) return -1;
    if (l < 7) {
        *(*op)++ = (unsigned char)((l << 5) | (o >> 8));
    } else {
        *(*op)++ = (unsigned char)((7 << 5) | (o >> 8));
        *(*op)++ = (unsigned char)(l - 7);
    }
    *(*op)++ = (unsigned char)(o & 0xff);
    return 0;
}

size_t lzf_compress(const void *in, size_t inlen, void *out, size_t outcap) {
    uint32_t table[1 << HASH_BITS];
    int bits = table_bits(inlen);
    memset(table, 0, sizeof(uint32_t) << bits); /* offsets stored + 1; 0 = empty */
    const unsigned char *ip = in, *base = in, *iend = base + inlen;
    unsigned char *op = out, *oend = op + outcap;
    const unsigned char *lit = ip;
    while (ip + 2 < iend) {
        unsigned h = hash3(ip, bits);
        uint32_t cand = table[h];
        table[h] = (uint32_t)(ip - base) + 1;
        if (cand) {
            const unsigned char *ref = base + cand - 1;
            size_t off = (size_t)(ip - ref);
            if (off <= WINDOW && ref[0] == ip[0] && ref[1] == ip[1] && ref[2] == ip[2]) {
                size_t max = (size_t)(iend - ip);
                if (max > MAX_REF) max = MAX_REF;
                size_t len = 3;
                while (len < max && ref[len] == ip[len]) len++;
                if (flush_literals(&op, oend, lit, (size_t)(ip - lit)) < 0) return 0;
                if (emit_ref(&op, oend, len, off) < 0) return 0;
                /* Index the positions inside the match too (cheaply: the last two). */
                ip += len;
                if (ip + 2 < iend) {
                    table[hash3(ip - 1, bits)] = (uint32_t)(ip - 1 - base) + 1;
                    table[hash3(ip - 2, bits)] = (uint32_t)(ip - 2 - base) + 1;
                }
                lit = ip;
                continue;
            }
        }
        ip++;
    }
    if (flush_literals(&op, oend, lit, (size_t)(iend - lit)) < 0) return 0;
    return (size_t)(op - (unsigned char *)out);
}

/* op[0..len) = the bytes off behind it; when off < len the source
 * overlaps what is being written (a run): copy off bytes at a time, each
 * chunk reading only bytes already written. */
static void copy_ref(unsigned char *op, size_t off, size_t len) {
    if (off >= len) {
        memcpy(op, op - off, len);
    } else if (off == 1) {
        memset(op, op[-1], len);
    } else {
        for (size_t done = 0; done < len; done += off) {
            size_t k = len - done < off ? len - done : off;
            memcpy(op + done, op + done - off, k);
        }
    }
}

size_t lzf_decompress(const void *in, size_t inlen, void *out, size_t outcap) {
    const unsigned char *ip = in, *iend = ip + inlen;
    unsigned char *op = out, *obase = out, *oend = op + outcap;
    while (ip < iend) {
        size_t c = *ip++;
        if (c < 32) {
            size_t n = c + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n) return 0;
            memcpy(op, ip, n);
            ip += n;
            op += n;
            continue;
        }
        size_t len = c >> 5;
        if (len == 7) {
            if (ip >= iend) return 0;
            len += *ip++;
        }
        if (ip >= iend) return 0;
        size_t off = ((c & 31) << 8) + *ip++ + 1;
        len += 2;
        if (off > (size_t)(op - obase) || (size_t)(oend - op) < len) return 0;
        copy_ref(op, off, len);
        op += len;
    }
    return (size_t)(op - obase);
}
