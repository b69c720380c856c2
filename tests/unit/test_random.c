/*
 * random unit tests: the sequence a seed gives (known values, computed by
 * an independent implementation of splitmix64 and xoshiro256**, so that a
 * change to the generator, which would change every reproducible test
 * run, cannot go unnoticed), the default state, and the helpers' ranges
 * and uniformity. Counts are checked against wide bounds: the seed is
 * fixed, so the checks are deterministic, and the bounds are far from
 * what an unbiased helper gives and close to what a biased one would.
 * Criterion runs each test in its own process, so each starts from the
 * generator's initial state.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "lib/random.h"

Test(random, splitmix64_known_values) {
    uint64_t x = 0;
    cr_assert_eq(random_splitmix64(&x), 0xe220a8397b1dcdafULL);
    cr_assert_eq(random_splitmix64(&x), 0x6e789e6aa1b965f4ULL);
    cr_assert_eq(random_splitmix64(&x), 0x06c45d188009454fULL);
}

Test(random, known_sequence_of_a_seed) {
    static const uint64_t seed0[] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL,
                                     0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL};
    static const uint64_t seed42[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                      0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
    random_seed(0);
    for (int i = 0; i < 4; i++) cr_assert_eq(random_u64(), seed0[i], "seed 0, draw %d", i);
    random_seed(42);
    for (int i = 0; i < 4; i++) cr_assert_eq(random_u64(), seed42[i], "seed 42, draw %d", i);
}

Test(random, same_seed_same_sequence) {
    uint64_t first[64];
    random_seed(12345);
    for (int i = 0; i < 64; i++) first[i] = random_u64();
    random_u64();
    random_seed(12345);
    for (int i = 0; i < 64; i++) cr_assert_eq(random_u64(), first[i], "draw %d", i);
    random_seed(12346);
    int same = 0;
    for (int i = 0; i < 64; i++) same += random_u64() == first[i];
    cr_assert_eq(same, 0, "a neighbouring seed repeats %d draws", same);
}

Test(random, initial_state_is_the_default_seed) {
    uint64_t fresh[8];
    for (int i = 0; i < 8; i++) fresh[i] = random_u64();
    random_seed(RANDOM_DEFAULT_SEED);
    for (int i = 0; i < 8; i++) cr_assert_eq(random_u64(), fresh[i], "draw %d", i);
}

Test(random, below_stays_in_range) {
    static const uint64_t ns[] = {
        1, 2, 3, 7, 10, 1000, 4294967297ULL, (1ULL << 63) + 1, UINT64_MAX,
    };
    random_seed(7);
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++)
        for (int i = 0; i < 20000; i++) cr_assert_lt(random_below(ns[k]), ns[k]);
    for (int i = 0; i < 100; i++) cr_assert_eq(random_below(1), 0);
}

Test(random, below_is_roughly_uniform) {
    enum { N = 10, DRAWS = 200000 };
    unsigned count[N] = {0};
    random_seed(99);
    for (int i = 0; i < DRAWS; i++) count[random_below(N)]++;
    double chi2 = 0;
    for (int v = 0; v < N; v++) {
        double d = (double)count[v] - DRAWS / N;
        chi2 += d * d / (DRAWS / N);
    }
    /* 9 degrees of freedom: 27.9 is the 0.1% tail. */
    cr_assert_lt(chi2, 27.9, "chi2 %.1f", chi2);
}

Test(random, below_has_no_modulo_bias) {
    /* n = 3 * 2^62: x % n would give [0, 2^62) half of the time (x in
     * [0, 2^62) and in [n, 2^64)); uniform gives it a third. */
    uint64_t n = 3ULL << 62;
    int low = 0, draws = 60000;
    random_seed(5);
    for (int i = 0; i < draws; i++) low += random_below(n) < (1ULL << 62);
    double share = (double)low / draws;
    cr_assert(share > 0.32 && share < 0.347, "share of the first third: %.4f", share);
}

Test(random, unit_interval) {
    double sum = 0;
    int draws = 100000, below_tenth = 0;
    random_seed(3);
    for (int i = 0; i < draws; i++) {
        double u = random_unit();
        cr_assert(u >= 0.0 && u < 1.0);
        cr_assert_eq(u * 0x1.0p53, floor(u * 0x1.0p53), "not a multiple of 2^-53");
        sum += u;
        below_tenth += u < 0.1;
    }
    cr_assert(fabs(sum / draws - 0.5) < 0.01, "mean %.4f", sum / draws);
    cr_assert(below_tenth > 9000 && below_tenth < 11000, "%d below 0.1", below_tenth);
}
