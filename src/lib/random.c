/* See random.h for why one generator and why this one. */
#include "lib/random.h"

/* random_seed(RANDOM_DEFAULT_SEED) written out, so that the generator
 * needs no "seeded yet?" test on every draw (a unit test checks that the
 * two agree). */
static uint64_t state[4] = {
    0x4cdf42ed502ad21bULL,
    0xdb79a58db7f8869bULL,
    0xaa6d015eca36c98fULL,
    0x3859400833f90aaeULL,
};

uint64_t random_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void random_seed(uint64_t seed) {
    for (int i = 0; i < 4; i++) state[i] = random_splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t random_u64(void) {
    uint64_t result = rotl(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

/* The high 64 bits of x * n are uniform over [0, n) except for the x
 * whose low 64 bits fall under 2^64 mod n; those are drawn again. */
#ifndef __SIZEOF_INT128__
#error "random_below needs a 128-bit product (gcc or clang on a 64-bit target)"
#endif
uint64_t random_below(uint64_t n) {
    unsigned __int128 m = (unsigned __int128)random_u64() * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n; /* 2^64 mod n */
        while (low < threshold) {
            m = (unsigned __int128)random_u64() * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double random_unit(void) { return (double)(random_u64() >> 11) * 0x1.0p-53; }
