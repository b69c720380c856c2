/*
 * SipHash, written from the published description (Aumasson & Bernstein,
 * "SipHash: a fast short-input PRF", 2012). See siphash.h for why Keel uses
 * the 1-2 variant.
 *
 * One generic routine takes the round counts and a case-folding flag; it is
 * static inline and called with constant arguments, so each public entry
 * point is compiled into a specialised loop with no run-time tests.
 */
#include "siphash.h"

static inline uint64_t rotl64(uint64_t x, int b) {
    return (x << b) | (x >> (64 - b));
}

/* Words are read byte by byte in little-endian order: correct on any host
 * and any alignment, and compilers turn it into a single load. */
static inline uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* ASCII only: locale-dependent tolower() would make the hash depend on the
 * environment the server was started in. */
static inline uint8_t ascii_lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static inline uint64_t lower_word(uint64_t w) {
    uint64_t out = 0;
    for (int i = 0; i < 8; i++)
        out |= (uint64_t)ascii_lower((uint8_t)(w >> (8 * i))) << (8 * i);
    return out;
}

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static inline void sip_round(sip_state *s) {
    s->v0 += s->v1; s->v1 = rotl64(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3; s->v3 = rotl64(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = rotl64(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = rotl64(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl64(s->v2, 32);
}

static inline void sip_compress(sip_state *s, uint64_t m, int c_rounds) {
    s->v3 ^= m;
    for (int i = 0; i < c_rounds; i++) sip_round(s);
    s->v0 ^= m;
}

/* The last block: the 0..7 remaining bytes, with the message length
 * (mod 256) in the top byte. */
static inline uint64_t last_block(const uint8_t *tail, size_t len, int nocase) {
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++) {
        uint8_t c = nocase ? ascii_lower(tail[i]) : tail[i];
        b |= (uint64_t)c << (8 * i);
    }
    return b;
}

static inline uint64_t sip_generic(const uint8_t *in, size_t len, const uint8_t k[16],
                                   int c_rounds, int d_rounds, int nocase) {
    uint64_t k0 = load_le64(k), k1 = load_le64(k + 8);
    sip_state s = {
        k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
        k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573),
    };
    const uint8_t *end = in + (len & ~(size_t)7);
    for (; in != end; in += 8) {
        uint64_t m = load_le64(in);
        sip_compress(&s, nocase ? lower_word(m) : m, c_rounds);
    }
    sip_compress(&s, last_block(in, len, nocase), c_rounds);
    s.v2 ^= 0xff;
    for (int i = 0; i < d_rounds; i++) sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash(const uint8_t *in, size_t len, const uint8_t k[16]) {
    return sip_generic(in, len, k, 1, 2, 0);
}

uint64_t siphash_nocase(const uint8_t *in, size_t len, const uint8_t k[16]) {
    return sip_generic(in, len, k, 1, 2, 1);
}

uint64_t siphash_rounds(const uint8_t *in, size_t len, const uint8_t k[16],
                        int c_rounds, int d_rounds) {
    return sip_generic(in, len, k, c_rounds, d_rounds, 0);
}
