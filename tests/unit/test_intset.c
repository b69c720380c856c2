/*
 * intset unit tests: encoding upgrades, ordering, lookups, a randomized
 * comparison with a sorted array, and validation of corrupt blobs.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/intset.h"

static uint64_t rng_state = 0xC0FFEE1234567ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void check_sorted(const intset *is) {
    cr_assert(intset_validate((const unsigned char *)is, intset_blob_len(is)));
    int64_t prev = 0, v;
    for (uint32_t i = 0; i < intset_len(is); i++) {
        cr_assert(intset_get(is, i, &v));
        if (i) cr_assert_gt(v, prev);
        prev = v;
    }
}

Test(intset, basic) {
    intset *is = intset_new();
    cr_assert_eq(intset_len(is), 0);
    cr_assert_eq(intset_blob_len(is), 8);
    cr_assert_eq(intset_encoding(is), 2);
    cr_assert_not(intset_find(is, 0));
    int added, removed;
    is = intset_remove(is, 5, &removed);
    cr_assert_eq(removed, 0);
    int64_t vals[] = {5, 1, 3, 7, -2, 5, 1};
    int expect_added[] = {1, 1, 1, 1, 1, 0, 0};
    for (int i = 0; i < 7; i++) {
        is = intset_add(is, vals[i], &added);
        cr_assert_eq(added, expect_added[i], "i=%d", i);
    }
    cr_assert_eq(intset_len(is), 5);
    cr_assert_eq(intset_blob_len(is), 8 + 5 * 2);
    cr_assert_eq(intset_min(is), -2);
    cr_assert_eq(intset_max(is), 7);
    int64_t want[] = {-2, 1, 3, 5, 7}, v;
    for (uint32_t i = 0; i < 5; i++) {
        cr_assert(intset_get(is, i, &v));
        cr_assert_eq(v, want[i]);
        cr_assert(intset_find(is, want[i]));
    }
    cr_assert_not(intset_get(is, 5, &v));
    cr_assert_not(intset_find(is, 2));
    cr_assert_not(intset_find(is, 100000)); /* wider than the encoding */
    cr_assert_not(intset_find(is, INT64_MIN));
    for (int i = 0; i < 100; i++) {
        int64_t r = intset_random(is);
        cr_assert(intset_find(is, r));
    }
    is = intset_remove(is, 3, &removed);
    cr_assert_eq(removed, 1);
    is = intset_remove(is, 3, &removed);
    cr_assert_eq(removed, 0);
    is = intset_remove(is, 1LL << 40, &removed);
    cr_assert_eq(removed, 0);
    cr_assert_eq(intset_len(is), 4);
    check_sorted(is);
    is = intset_add(is, 9, NULL);
    is = intset_remove(is, 9, NULL);
    intset_free(is);
}

Test(intset, upgrades) {
    intset *is = intset_new();
    is = intset_add(is, 10, NULL);
    is = intset_add(is, INT16_MAX, NULL);
    is = intset_add(is, INT16_MIN, NULL);
    cr_assert_eq(intset_encoding(is), 2);
    /* Upgrade to int32 by a positive value: goes to the end. */
    is = intset_add(is, INT16_MAX + 1, NULL);
    cr_assert_eq(intset_encoding(is), 4);
    cr_assert_eq(intset_blob_len(is), 8 + 4 * 4);
    cr_assert_eq(intset_max(is), INT16_MAX + 1);
    /* Upgrade to int64 by a negative value: goes to the front. */
    is = intset_add(is, (int64_t)INT32_MIN - 1, NULL);
    cr_assert_eq(intset_encoding(is), 8);
    cr_assert_eq(intset_min(is), (int64_t)INT32_MIN - 1);
    is = intset_add(is, INT64_MAX, NULL);
    is = intset_add(is, INT64_MIN, NULL);
    int64_t want[] = {INT64_MIN, (int64_t)INT32_MIN - 1, INT16_MIN, 10, INT16_MAX,
                      INT16_MAX + 1, INT64_MAX};
    cr_assert_eq(intset_len(is), 7);
    for (uint32_t i = 0; i < 7; i++) {
        int64_t v;
        cr_assert(intset_get(is, i, &v));
        cr_assert_eq(v, want[i]);
        cr_assert(intset_find(is, want[i]));
    }
    check_sorted(is);
    /* Removing the wide members does not downgrade. */
    is = intset_remove(is, INT64_MIN, NULL);
    is = intset_remove(is, INT64_MAX, NULL);
    cr_assert_eq(intset_encoding(is), 8);
    intset_free(is);

    /* Upgrade straight from int16 to int64, negative, and 16 -> 32 negative. */
    is = intset_new();
    for (int i = -5; i <= 5; i++) is = intset_add(is, i * 1000, NULL);
    is = intset_add(is, -100000, NULL);
    cr_assert_eq(intset_encoding(is), 4);
    cr_assert_eq(intset_min(is), -100000);
    is = intset_add(is, 1LL << 50, NULL);
    cr_assert_eq(intset_encoding(is), 8);
    cr_assert_eq(intset_max(is), 1LL << 50);
    check_sorted(is);
    intset_free(is);
}

/* Exact layout: the Redis-compatible byte format. */
Test(intset, layout) {
    intset *is = intset_new();
    is = intset_add(is, 258, NULL);
    is = intset_add(is, -1, NULL);
    const unsigned char expect[] = {2, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0xFF, 0x02, 0x01};
    cr_assert_eq(intset_blob_len(is), sizeof expect);
    cr_assert(memcmp(is, expect, sizeof expect) == 0);
    intset_free(is);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t random_value(void) {
    switch (rnd() % 4) {
    case 0: return (int64_t)(rnd() % 200) - 100;        /* collisions */
    case 1: return (int16_t)rnd();
    case 2: return (int32_t)rnd();
    default: return (int64_t)rnd() >> (rnd() % 40);
    }
}

Test(intset, random_against_model) {
    for (int round = 0; round < 20; round++) {
        intset *is = intset_new();
        int64_t *model = malloc(sizeof(int64_t) * 5000);
        size_t n = 0;
        /* Let some rounds stay narrow so upgrades happen late. */
        int narrow_until = (int)(rnd() % 3000);
        for (int op = 0; op < 4000; op++) {
            int64_t v = op < narrow_until ? (int64_t)(rnd() % 2000) - 1000 : random_value();
            if (rnd() % 3 != 0 || n == 0) {
                int added;
                is = intset_add(is, v, &added);
                int present = 0;
                for (size_t i = 0; i < n; i++)
                    if (model[i] == v) present = 1;
                cr_assert_eq(added, !present);
                if (!present) model[n++] = v;
            } else {
                if (rnd() & 1) v = model[rnd() % n]; /* remove an existing one */
                int removed;
                is = intset_remove(is, v, &removed);
                size_t i;
                for (i = 0; i < n && model[i] != v; i++) {
                }
                cr_assert_eq(removed, i < n);
                if (i < n) model[i] = model[--n];
            }
            if (op % 500 == 0) check_sorted(is);
        }
        qsort(model, n, sizeof(int64_t), cmp64);
        cr_assert_eq(intset_len(is), n);
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            cr_assert(intset_get(is, (uint32_t)i, &v));
            cr_assert_eq(v, model[i]);
            cr_assert(intset_find(is, model[i]));
            if (i + 1 < n && model[i] + 1 != model[i + 1])
                cr_assert_not(intset_find(is, model[i] + 1));
        }
        if (n) {
            cr_assert_eq(intset_min(is), model[0]);
            cr_assert_eq(intset_max(is), model[n - 1]);
        }
        check_sorted(is);
        free(model);
        intset_free(is);
    }
}

Test(intset, validate) {
    intset *is = intset_new();
    for (int i = 0; i < 50; i++) is = intset_add(is, i * 37 - 500, NULL);
    size_t size = intset_blob_len(is);
    const unsigned char *good = (const unsigned char *)is;
    cr_assert(intset_validate(good, size));
    cr_assert_not(intset_validate(NULL, size));
    cr_assert_not(intset_validate(good, size + 2));
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *b = malloc(cut ? cut : 1);
        memcpy(b, good, cut);
        cr_assert_not(intset_validate(b, cut), "cut=%zu", cut);
        free(b);
    }
    unsigned char *b = malloc(size);
    memcpy(b, good, size);
    b[0] = 3; /* bad encoding */
    cr_assert_not(intset_validate(b, size));
    memcpy(b, good, size);
    b[7] = 0x80; /* huge length */
    cr_assert_not(intset_validate(b, size));
    memcpy(b, good, size);
    b[4] = 0; /* length 0 with trailing bytes */
    cr_assert_not(intset_validate(b, size));
    memcpy(b, good, size);
    memcpy(b + 10, b + 8, 2); /* duplicate member */
    cr_assert_not(intset_validate(b, size));
    memcpy(b, good, size);
    b[8] = 0xFF;
    b[9] = 0x7F; /* first member larger than the second */
    cr_assert_not(intset_validate(b, size));
    /* Same bytes, reinterpreted with another width, must fail on length. */
    memcpy(b, good, size);
    b[0] = 4;
    cr_assert_not(intset_validate(b, size));
    free(b);

    /* Empty set: valid blob. A huge length that wraps 32-bit maths: not. */
    unsigned char empty[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    cr_assert(intset_validate(empty, 8));
    unsigned char wrap[8] = {8, 0, 0, 0, 0, 0, 0, 0x20}; /* 0x20000000 * 8 = 2^32 */
    cr_assert_not(intset_validate(wrap, 8));

    /* Random mutations never crash; anything accepted is really sorted. */
    for (int iter = 0; iter < 5000; iter++) {
        unsigned char *m = malloc(size);
        memcpy(m, good, size);
        int k = 1 + (int)(rnd() % 3);
        for (int j = 0; j < k; j++) m[rnd() % size] ^= (unsigned char)(1u << (rnd() % 8));
        size_t msize = rnd() % 4 == 0 ? size - rnd() % size : size;
        if (intset_validate(m, msize)) check_sorted((const intset *)m);
        free(m);
    }
    intset_free(is);
}
