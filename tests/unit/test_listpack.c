/*
 * listpack unit tests: encoding boundaries, positional edits, iteration in
 * both directions, a randomized comparison against a plain array of
 * strings, and validation of truncated / mutated buffers (meant to be run
 * under ASan too, so that any out-of-bounds read in lp_validate or in the
 * iterators after a successful validation is caught).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/listpack.h"
#include "lib/zmalloc.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static const unsigned char *U(const char *s) { return (const unsigned char *)s; }

/* Entry as text, whatever its encoding. */
static void entry_text(unsigned char *p, char *out, size_t outsz, unsigned int *len) {
    unsigned char buf[LP_INTBUF_SIZE];
    unsigned int l;
    unsigned char *v = lp_get_value(p, buf, &l);
    cr_assert(l < outsz);
    memcpy(out, v, l);
    out[l] = 0;
    if (len) *len = l;
}

static int is_int_entry(unsigned char *p) {
    int64_t v;
    return lp_get_integer(p, &v);
}

Test(listpack, empty) {
    unsigned char *lp = lp_new(0);
    cr_assert_eq(lp_bytes(lp), 7);
    cr_assert_eq(lp_length(lp), 0);
    cr_assert_null(lp_first(lp));
    cr_assert_null(lp_last(lp));
    cr_assert_null(lp_seek(lp, 0));
    cr_assert_null(lp_seek(lp, -1));
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    cr_assert_eq(lp[6], 0xFF);
    lp = lp_delete_range(lp, 0, 10);
    cr_assert_eq(lp_bytes(lp), 7);
    lp_free(lp);

    lp = lp_new(1000);
    cr_assert_geq(zmalloc_size(lp), 1000);
    lp = lp_append(lp, U("x"), 1);
    lp = lp_shrink_to_fit(lp);
    cr_assert_eq(lp_bytes(lp), 10);
    lp_free(lp);
}

struct int_case {
    int64_t v;
    size_t entry_bytes; /* encoding + data + backlen */
};

Test(listpack, integer_boundaries) {
    static const struct int_case cases[] = {
        {0, 2}, {1, 2}, {127, 2},
        {128, 3}, {-1, 3}, {-4096, 3}, {4095, 3},
        {4096, 4}, {-4097, 4}, {INT16_MAX, 4}, {INT16_MIN, 4},
        {INT16_MAX + 1, 5}, {INT16_MIN - 1, 5}, {(1 << 23) - 1, 5}, {-(1 << 23), 5},
        {(1 << 23), 6}, {-(1 << 23) - 1, 6}, {INT32_MAX, 6}, {INT32_MIN, 6},
        {(int64_t)INT32_MAX + 1, 10}, {(int64_t)INT32_MIN - 1, 10},
        {INT64_MAX, 10}, {INT64_MIN, 10}, {INT64_MAX - 1, 10}, {INT64_MIN + 1, 10},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    unsigned char *lp = lp_new(0);
    unsigned char *lp2 = lp_new(0);
    for (size_t i = 0; i < n; i++) {
        size_t before = lp_bytes(lp);
        lp = lp_append_integer(lp, cases[i].v);
        cr_assert_eq(lp_bytes(lp) - before, cases[i].entry_bytes, "v=%" PRId64, cases[i].v);
        /* Same value given as text must be stored identically. */
        char txt[32];
        int tl = snprintf(txt, sizeof txt, "%" PRId64, cases[i].v);
        lp2 = lp_append(lp2, U(txt), (size_t)tl);
    }
    cr_assert_eq(lp_bytes(lp), lp_bytes(lp2));
    cr_assert(memcmp(lp, lp2, lp_bytes(lp)) == 0);
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    cr_assert_eq(lp_length(lp), n);

    size_t i = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        int64_t v = 0;
        unsigned int sl;
        cr_assert_null(lp_get(p, &v, &sl));
        cr_assert_eq(v, cases[i].v, "i=%zu", i);
        char txt[32], got[32];
        snprintf(txt, sizeof txt, "%" PRId64, cases[i].v);
        entry_text(p, got, sizeof got, NULL);
        cr_assert_str_eq(got, txt);
        cr_assert(lp_compare(p, U(txt), strlen(txt)));
    }
    cr_assert_eq(i, n);
    /* Backward too. */
    for (unsigned char *p = lp_last(lp); p; p = lp_prev(lp, p)) {
        int64_t v = 0;
        unsigned int sl;
        i--;
        cr_assert_null(lp_get(p, &v, &sl));
        cr_assert_eq(v, cases[i].v);
    }
    cr_assert_eq(i, 0);
    lp_free(lp);
    lp_free(lp2);
}

Test(listpack, reference_bytes) {
    /* A few byte-exact encodings from the public listpack format. */
    unsigned char *lp = lp_new(0);
    lp = lp_append_integer(lp, 5);
    lp = lp_append_integer(lp, -1);
    lp = lp_append(lp, U("ab"), 2);
    lp = lp_append_integer(lp, 1000);
    static const unsigned char expect[] = {
        24, 0, 0, 0, 4, 0,
        0x05, 0x01,             /* 7-bit uint 5 */
        0xDF, 0xFF, 0x02,       /* 13-bit -1 */
        0x82, 'a', 'b', 0x03,   /* 6-bit str "ab" */
        0xC3, 0xE8, 0x02,       /* 13-bit 1000 */
        0xFF,
    };
    /* total bytes is computed, not hard-coded above. */
    cr_assert_eq(lp_bytes(lp), sizeof expect);
    unsigned char exp2[sizeof expect];
    memcpy(exp2, expect, sizeof expect);
    exp2[0] = sizeof expect;
    cr_assert(memcmp(lp, exp2, sizeof expect) == 0);
    lp_free(lp);
}

Test(listpack, integer_like_strings) {
    struct { const char *s; int as_int; } cases[] = {
        {"0", 1}, {"123", 1}, {"-5", 1}, {"9223372036854775807", 1},
        {"-9223372036854775808", 1}, {"9223372036854775808", 0},
        {"-9223372036854775809", 0}, {"18446744073709551616", 0},
        {"99999999999999999999", 0}, {"0123", 0}, {"-0", 0}, {"+1", 0},
        {" 1", 0}, {"1 ", 0}, {"", 0}, {"-", 0}, {"1a", 0}, {"00", 0},
        {"-01", 0}, {"123456789012345678901", 0},
    };
    unsigned char *lp = lp_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        lp = lp_append(lp, U(cases[i].s), strlen(cases[i].s));
    size_t i = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        char got[64];
        entry_text(p, got, sizeof got, NULL);
        cr_assert_str_eq(got, cases[i].s);
        cr_assert_eq(is_int_entry(p), cases[i].as_int, "%s", cases[i].s);
        cr_assert(lp_compare(p, U(cases[i].s), strlen(cases[i].s)));
        cr_assert(lp_find(lp, lp_first(lp), U(cases[i].s), strlen(cases[i].s), 0) == p);
    }
    /* "-0" stored as a string must not compare equal to integer 0. */
    unsigned char *zero = lp_seek(lp, 0);
    cr_assert_not(lp_compare(zero, U("-0"), 2));
    cr_assert_not(lp_compare(zero, U("00"), 2));
    lp_free(lp);
}

static unsigned char *filled_string(size_t len, char c) {
    unsigned char *s = malloc(len + 1);
    memset(s, c, len);
    /* Not all digits, so it stays a string. */
    return s;
}

Test(listpack, string_boundaries) {
    /* len -> expected entry bytes: header + len + backlen. The enclen
     * values 127/128 and 16382/16383 hit the backlen size boundaries. */
    struct { size_t len; size_t bytes; } cases[] = {
        {0, 2}, {1, 3}, {63, 65}, {64, 67}, {125, 128}, {126, 130},
        {4095, 4099}, {4096, 4103}, {16377, 16384}, {16378, 16386},
        {100000, 100008}, {2097151 - 5, 2097151 + 4}, {2097151 - 6, 2097151 + 2},
    };
    size_t n = sizeof cases / sizeof cases[0];
    unsigned char *lp = lp_new(0);
    for (size_t i = 0; i < n; i++) {
        unsigned char *s = filled_string(cases[i].len, (char)('a' + i));
        size_t before = lp_bytes(lp);
        lp = lp_append(lp, s, cases[i].len);
        cr_assert_eq(lp_bytes(lp) - before, cases[i].bytes, "len=%zu", cases[i].len);
        cr_assert_eq(lp_entry_size_for(s, cases[i].len), cases[i].bytes);
        free(s);
    }
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    size_t i = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        int64_t v;
        unsigned int sl = 12345;
        unsigned char *s = lp_get(p, &v, &sl);
        cr_assert_not_null(s);
        cr_assert_eq(sl, cases[i].len);
        for (size_t k = 0; k < sl; k++) cr_assert_eq(s[k], 'a' + i);
    }
    cr_assert_eq(i, n);
    for (unsigned char *p = lp_last(lp); p; p = lp_prev(lp, p)) {
        int64_t v;
        unsigned int sl;
        i--;
        cr_assert_not_null(lp_get(p, &v, &sl));
        cr_assert_eq(sl, cases[i].len);
    }
    cr_assert_eq(i, 0);
    lp_free(lp);
}

/* Checks lp holds exactly the strings in want (forward, backward, seek). */
static void check_contents(unsigned char *lp, char **want, size_t n) {
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    cr_assert_eq(lp_length(lp), n);
    size_t i = 0;
    char got[8192];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        cr_assert(i < n);
        unsigned int l;
        entry_text(p, got, sizeof got, &l);
        cr_assert_eq(l, strlen(want[i]), "at %zu", i);
        cr_assert(memcmp(got, want[i], l) == 0, "at %zu: %s vs %s", i, got, want[i]);
    }
    cr_assert_eq(i, n);
    for (unsigned char *p = lp_last(lp); p; p = lp_prev(lp, p)) {
        cr_assert(i > 0);
        i--;
        cr_assert(lp_compare(p, U(want[i]), strlen(want[i])), "back at %zu", i);
    }
    cr_assert_eq(i, 0);
}

Test(listpack, insert_positions) {
    unsigned char *lp = lp_new(0);
    unsigned char *np;
    lp = lp_append(lp, U("b"), 1);
    lp = lp_append(lp, U("d"), 1);
    lp = lp_prepend(lp, U("a"), 1);
    lp = lp_insert_string(lp, U("c"), 1, lp_seek(lp, 1), LP_AFTER, &np);
    cr_assert(lp_compare(np, U("c"), 1));
    lp = lp_insert_string(lp, U("e"), 1, lp_seek(lp, -1), LP_AFTER, &np);
    cr_assert(lp_compare(np, U("e"), 1));
    cr_assert_null(lp_next(lp, np));
    lp = lp_insert_integer(lp, 42, lp_first(lp), LP_BEFORE, &np);
    cr_assert_eq(np, lp_first(lp));
    lp = lp_insert_integer(lp, -70000, lp_seek(lp, 3), LP_BEFORE, &np);
    cr_assert_eq(np, lp_seek(lp, 3));
    /* Terminator with LP_BEFORE appends. */
    lp = lp_insert_string(lp, U("z"), 1, lp + lp_bytes(lp) - 1, LP_BEFORE, &np);
    cr_assert_eq(np, lp_last(lp));
    lp = lp_prepend_integer(lp, 7);
    lp = lp_append_integer(lp, 8);
    char *want[] = {"7", "42", "a", "b", "-70000", "c", "d", "e", "z", "8"};
    check_contents(lp, want, 10);
    lp_free(lp);
}

Test(listpack, seek) {
    unsigned char *lp = lp_new(0);
    for (int i = 0; i < 101; i++) lp = lp_append_integer(lp, i * 1000);
    for (long i = 0; i < 101; i++) {
        int64_t v;
        cr_assert(lp_get_integer(lp_seek(lp, i), &v));
        cr_assert_eq(v, i * 1000);
        cr_assert(lp_get_integer(lp_seek(lp, -1 - i), &v));
        cr_assert_eq(v, (100 - i) * 1000);
    }
    cr_assert_null(lp_seek(lp, 101));
    cr_assert_null(lp_seek(lp, -102));
    cr_assert_null(lp_seek(lp, LONG_MIN));
    cr_assert_null(lp_seek(lp, LONG_MAX));
    cr_assert_eq(lp_seek(lp, -101), lp_first(lp));
    lp_free(lp);
}

Test(listpack, replace) {
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, U("one"), 3);
    lp = lp_append(lp, U("two"), 3);
    lp = lp_append(lp, U("three"), 5);
    unsigned char *p = lp_seek(lp, 1);
    /* grow: string 3 -> 5000 bytes */
    unsigned char *big = filled_string(5000, 'x');
    lp = lp_replace(lp, &p, big, 5000);
    cr_assert_eq(p, lp_seek(lp, 1));
    unsigned int sl;
    int64_t v;
    cr_assert_not_null(lp_get(p, &v, &sl));
    cr_assert_eq(sl, 5000);
    /* shrink: to an integer */
    lp = lp_replace(lp, &p, U("12"), 2);
    cr_assert(lp_get_integer(p, &v));
    cr_assert_eq(v, 12);
    /* same size in place */
    lp = lp_replace(lp, &p, U("99"), 2);
    lp = lp_replace_integer(lp, &p, INT64_MIN);
    cr_assert(lp_get_integer(p, &v));
    cr_assert_eq(v, INT64_MIN);
    p = lp_first(lp);
    lp = lp_replace(lp, &p, U(""), 0);
    p = lp_last(lp);
    lp = lp_replace(lp, &p, big, 64);
    char big64[65];
    memcpy(big64, big, 64);
    big64[64] = 0;
    char *want[] = {"", "-9223372036854775808", big64};
    check_contents(lp, want, 3);
    /* Replace with bytes that live inside the listpack itself. */
    p = lp_first(lp);
    unsigned char *src = lp_get(lp_last(lp), &v, &sl);
    lp = lp_replace(lp, &p, src, sl);
    char *want2[] = {big64, "-9223372036854775808", big64};
    check_contents(lp, want2, 3);
    p = lp_last(lp);
    src = lp_get(p, &v, &sl);
    lp = lp_replace(lp, &p, src + 1, 10); /* overlaps the replaced entry */
    char *want3[] = {big64, "-9223372036854775808", "xxxxxxxxxx"};
    check_contents(lp, want3, 3);
    lp_free(lp);
    free(big);
}

Test(listpack, append_from_self) {
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, U("hello world"), 11);
    for (int i = 0; i < 20; i++) {
        int64_t v;
        unsigned int sl;
        unsigned char *s = lp_get(lp_first(lp), &v, &sl);
        lp = lp_prepend(lp, s, sl); /* source moves with the tail */
        s = lp_get(lp_last(lp), &v, &sl);
        lp = lp_append(lp, s, sl);
    }
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p))
        cr_assert(lp_compare(p, U("hello world"), 11));
    cr_assert_eq(lp_length(lp), 41);
    lp_free(lp);
}

Test(listpack, delete) {
    unsigned char *lp = lp_new(0);
    for (int i = 0; i < 10; i++) lp = lp_append_integer(lp, i);
    unsigned char *next;
    lp = lp_delete(lp, lp_seek(lp, 5), &next); /* middle */
    cr_assert(lp_compare(next, U("6"), 1));
    lp = lp_delete(lp, lp_first(lp), &next); /* front */
    cr_assert(lp_compare(next, U("1"), 1));
    lp = lp_delete(lp, lp_last(lp), &next); /* back */
    cr_assert_null(next);
    char *want[] = {"1", "2", "3", "4", "6", "7", "8"};
    check_contents(lp, want, 7);

    lp = lp_delete_range(lp, 1, 2);
    char *want2[] = {"1", "4", "6", "7", "8"};
    check_contents(lp, want2, 5);
    lp = lp_delete_range(lp, -2, 100);
    char *want3[] = {"1", "4", "6"};
    check_contents(lp, want3, 3);
    lp = lp_delete_range(lp, 5, 1); /* out of range: no-op */
    check_contents(lp, want3, 3);
    unsigned char *p = lp_seek(lp, 1);
    lp = lp_delete_range_with_entry(lp, &p, 1);
    cr_assert(lp_compare(p, U("6"), 1));
    lp = lp_delete_range_with_entry(lp, &p, 5);
    cr_assert_null(p);
    char *want4[] = {"1"};
    check_contents(lp, want4, 1);
    lp = lp_delete_range(lp, 0, 1);
    cr_assert_eq(lp_bytes(lp), 7);
    check_contents(lp, NULL, 0);
    lp_free(lp);
}

Test(listpack, batch_delete) {
    unsigned char *lp = lp_new(0);
    char *all[20];
    char bufs[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(bufs[i], 16, "v%d", i);
        all[i] = bufs[i];
        lp = lp_append(lp, U(all[i]), strlen(all[i]));
    }
    unsigned char *ps[8];
    int idx[] = {0, 1, 5, 9, 10, 17, 19};
    for (int i = 0; i < 7; i++) ps[i] = lp_seek(lp, idx[i]);
    lp = lp_batch_delete(lp, ps, 7);
    char *want[13];
    int w = 0;
    for (int i = 0, k = 0; i < 20; i++) {
        if (k < 7 && idx[k] == i) { k++; continue; }
        want[w++] = all[i];
    }
    check_contents(lp, want, 13);
    lp_free(lp);
}

Test(listpack, find_with_skip) {
    /* A hash: field1 value1 ... where some values equal field names. */
    unsigned char *lp = lp_new(0);
    const char *kv[] = {"name", "age", "age", "42", "42", "name", "city", "x", "100", "-7"};
    for (int i = 0; i < 10; i++) lp = lp_append(lp, U(kv[i]), strlen(kv[i]));
    unsigned char *f = lp_first(lp);
    cr_assert_eq(lp_find(lp, f, U("age"), 3, 1), lp_seek(lp, 2));
    cr_assert_eq(lp_find(lp, f, U("42"), 2, 1), lp_seek(lp, 4));
    cr_assert_eq(lp_find(lp, f, U("100"), 3, 1), lp_seek(lp, 8));
    cr_assert_null(lp_find(lp, f, U("x"), 1, 1)); /* only a value */
    cr_assert_null(lp_find(lp, f, U("-7"), 2, 1));
    cr_assert_eq(lp_find(lp, f, U("x"), 1, 0), lp_seek(lp, 7));
    cr_assert_eq(lp_find(lp, lp_seek(lp, 1), U("x"), 1, 1), lp_seek(lp, 7)); /* values */
    cr_assert_null(lp_find(lp, f, U("nope"), 4, 1));
    cr_assert_null(lp_find(lp, f, U("042"), 3, 0));
    cr_assert_null(lp_find(lp, NULL, U("age"), 3, 1));
    cr_assert_null(lp_find(lp, f, U("city"), 4, 3)); /* compares 0, 4, 8 only */
    cr_assert_eq(lp_find(lp, lp_seek(lp, 2), U("city"), 4, 3), lp_seek(lp, 6)); /* 2, 6 */
    lp_free(lp);
}

Test(listpack, count_saturation) {
    unsigned char *lp = lp_new(0);
    const unsigned long N = 70000;
    for (unsigned long i = 0; i < N; i++) lp = lp_append_integer(lp, (int64_t)i);
    cr_assert_eq(lp[4] | lp[5] << 8, 65535);
    cr_assert_eq(lp_length(lp), N);
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    int64_t v;
    cr_assert(lp_get_integer(lp_seek(lp, -1), &v));
    cr_assert_eq(v, (int64_t)N - 1);
    cr_assert(lp_get_integer(lp_seek(lp, 65536), &v));
    cr_assert_eq(v, 65536);
    lp = lp_delete_range(lp, 0, 10000);
    cr_assert_eq(lp_length(lp), N - 10000);
    cr_assert_eq(lp[4] | lp[5] << 8, N - 10000); /* cached again */
    lp = lp_delete(lp, lp_first(lp), NULL);
    cr_assert_eq(lp_length(lp), N - 10001);
    cr_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}

/* ---------------- randomized model test ---------------- */

static char *random_value(void) {
    char *s;
    switch (rnd() % 6) {
    case 0: { /* integer text of random width */
        int64_t v = (int64_t)rnd();
        int shift = (int)(rnd() % 64);
        v >>= shift;
        s = malloc(24);
        snprintf(s, 24, "%" PRId64, v);
        return s;
    }
    case 1: { /* small int */
        s = malloc(8);
        snprintf(s, 8, "%d", (int)(rnd() % 300) - 150);
        return s;
    }
    case 2: { /* numeric-looking but not canonical */
        s = malloc(8);
        snprintf(s, 8, "0%d", (int)(rnd() % 100));
        return s;
    }
    default: {
        size_t len;
        unsigned r = (unsigned)(rnd() % 100);
        if (r < 70) len = rnd() % 20;
        else if (r < 90) len = 50 + rnd() % 30;  /* around 63/64 */
        else if (r < 98) len = 120 + rnd() % 200; /* around backlen 127/128 */
        else len = 4090 + rnd() % 10;            /* around 4095/4096 */
        s = malloc(len + 1);
        for (size_t i = 0; i < len; i++) s[i] = (char)('a' + rnd() % 26);
        s[len] = 0;
        return s;
    }
    }
}

Test(listpack, random_against_model) {
    rng_state = 0x12345678abcdefull;
    size_t cap = 4096, n = 0;
    char **model = calloc(cap, sizeof(char *));
    unsigned char *lp = lp_new(0);
    for (int op = 0; op < 20000; op++) {
        unsigned r = (unsigned)(rnd() % 100);
        if (n + 10 >= cap) r = 60; /* force deletes */
        if (r < 35 || n == 0) { /* insert at random index */
            char *s = random_value();
            size_t at = n ? rnd() % (n + 1) : 0;
            unsigned char *np;
            if (at == n) {
                if (n == 0 || (rnd() & 1)) {
                    lp = lp_append(lp, U(s), strlen(s));
                } else {
                    lp = lp_insert_string(lp, U(s), strlen(s), lp_seek(lp, (long)n - 1), LP_AFTER, &np);
                    cr_assert_eq(np, lp_last(lp));
                }
            } else if (at == 0 && (rnd() & 1)) {
                lp = lp_prepend(lp, U(s), strlen(s));
            } else {
                lp = lp_insert_string(lp, U(s), strlen(s), lp_seek(lp, (long)at), LP_BEFORE, &np);
                cr_assert(lp_compare(np, U(s), strlen(s)));
            }
            memmove(model + at + 1, model + at, (n - at) * sizeof(char *));
            model[at] = s;
            n++;
        } else if (r < 55) { /* delete one */
            size_t at = rnd() % n;
            unsigned char *next;
            long idx = (rnd() & 1) ? (long)at : (long)at - (long)n;
            lp = lp_delete(lp, lp_seek(lp, idx), &next);
            free(model[at]);
            memmove(model + at, model + at + 1, (n - at - 1) * sizeof(char *));
            n--;
            if (at == n) cr_assert_null(next);
            else cr_assert(lp_compare(next, U(model[at]), strlen(model[at])));
        } else if (r < 62) { /* delete range */
            size_t at = rnd() % n, cnt = rnd() % 5;
            lp = lp_delete_range(lp, (long)at, cnt);
            size_t end = at + cnt > n ? n : at + cnt;
            for (size_t i = at; i < end; i++) free(model[i]);
            memmove(model + at, model + end, (n - end) * sizeof(char *));
            n -= end - at;
        } else if (r < 80) { /* replace */
            size_t at = rnd() % n;
            char *s = random_value();
            unsigned char *p = lp_seek(lp, (long)at);
            lp = lp_replace(lp, &p, U(s), strlen(s));
            cr_assert(lp_compare(p, U(s), strlen(s)));
            free(model[at]);
            model[at] = s;
        } else if (r < 95) { /* find */
            size_t at = rnd() % n;
            unsigned char *p = lp_find(lp, lp_first(lp), U(model[at]), strlen(model[at]), 0);
            cr_assert_not_null(p);
            size_t first = 0;
            while (strcmp(model[first], model[at]) != 0) first++;
            cr_assert_eq(p, lp_seek(lp, (long)first));
        } else { /* full check */
            check_contents(lp, model, n);
        }
        cr_assert_eq(lp_length(lp), n);
    }
    check_contents(lp, model, n);
    for (size_t i = 0; i < n; i++) free(model[i]);
    free(model);
    lp_free(lp);
}

/* ---------------- validation ---------------- */

static unsigned char *sample_listpack(void) {
    unsigned char *lp = lp_new(0);
    int64_t ints[] = {0, 127, -1, 4095, -4096, 30000, -30000, 8000000, -8000000,
                      2000000000, -2000000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) lp = lp_append_integer(lp, ints[i]);
    lp = lp_append(lp, U("short"), 5);
    lp = lp_append(lp, U(""), 0);
    unsigned char *m = filled_string(200, 'm');
    lp = lp_append(lp, m, 200);
    free(m);
    unsigned char *l = filled_string(5000, 'l');
    lp = lp_append(lp, l, 5000);
    free(l);
    return lp;
}

/* After a successful validation every reader must stay in bounds: walk
 * forward reading every entry, then backward, and check both agree. */
static void exercise(unsigned char *buf, size_t size) {
    unsigned long cnt = 0, back = 0;
    unsigned char tmp[LP_INTBUF_SIZE];
    for (unsigned char *p = lp_first(buf); p; p = lp_next(buf, p)) {
        unsigned int l;
        unsigned char *v = lp_get_value(p, tmp, &l);
        volatile unsigned char sink = 0;
        for (unsigned int i = 0; i < l; i++) sink ^= v[i];
        (void)sink;
        cnt++;
    }
    for (unsigned char *p = lp_last(buf); p; p = lp_prev(buf, p)) back++;
    cr_assert_eq(cnt, back);
    cr_assert_eq(cnt, lp_length(buf));
    (void)size;
}

Test(listpack, validate_good_and_truncated) {
    unsigned char *lp = sample_listpack();
    size_t size = lp_bytes(lp);
    cr_assert(lp_validate(lp, size));
    unsigned long count = 0;
    cr_assert(lp_validate_with_cb(lp, size, NULL, NULL, &count));
    cr_assert_eq(count, 17);
    cr_assert_not(lp_validate(NULL, 10));
    /* Every truncation, with the header fixed up to claim the new size (the
     * hardest case) and without. Exact-size heap copies so ASan sees any
     * overread. */
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *b = malloc(cut ? cut : 1);
        memcpy(b, lp, cut);
        cr_assert_not(lp_validate(b, cut), "cut=%zu", cut);
        if (cut >= 7) {
            b[0] = (unsigned char)cut;
            b[1] = (unsigned char)(cut >> 8);
            b[2] = b[3] = 0;
            b[cut - 1] = 0xFF;
            if (lp_validate(b, cut)) exercise(b, cut);
        }
        free(b);
    }
    /* Wrong count, wrong total, missing terminator, unused encoding. */
    unsigned char *b = malloc(size);
    memcpy(b, lp, size);
    b[4]++;
    cr_assert_not(lp_validate(b, size));
    b[4] = 0xFF;
    b[5] = 0xFF; /* unknown count is fine */
    cr_assert(lp_validate(b, size));
    memcpy(b, lp, size);
    b[size - 1] = 0;
    cr_assert_not(lp_validate(b, size));
    memcpy(b, lp, size);
    b[0]++;
    cr_assert_not(lp_validate(b, size));
    memcpy(b, lp, size);
    b[6] = 0xF5;
    cr_assert_not(lp_validate(b, size));
    memcpy(b, lp, size);
    b[6] = 0xFF; /* early terminator */
    cr_assert_not(lp_validate(b, size));
    memcpy(b, lp, size);
    b[7] = 0x02; /* wrong backlen */
    cr_assert_not(lp_validate(b, size));
    free(b);
    lp_free(lp);
}

static int reject_long(unsigned char *p, void *ud) {
    int64_t v;
    unsigned int sl;
    (*(int *)ud)++;
    return lp_get(p, &v, &sl) == NULL || sl < 1000;
}

Test(listpack, validate_callback) {
    unsigned char *lp = sample_listpack();
    int calls = 0;
    cr_assert_not(lp_validate_with_cb(lp, lp_bytes(lp), reject_long, &calls, NULL));
    cr_assert_eq(calls, 17);
    lp_free(lp);
}

Test(listpack, validate_fuzz) {
    rng_state = 0xfeedfacecafebeefull;
    unsigned char *lp = sample_listpack();
    /* A smaller one too: mutations on it hit the interesting bytes often. */
    unsigned char *small = lp_new(0);
    small = lp_append(small, U("ab"), 2);
    small = lp_append_integer(small, -3000);
    small = lp_append_integer(small, 1 << 20);
    unsigned char *l = filled_string(70, 'q');
    small = lp_append(small, l, 70);
    free(l);
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned char *src = (iter & 1) ? lp : small;
        size_t size = lp_bytes(src);
        size_t nsize = size;
        if (rnd() % 4 == 0) nsize = size - rnd() % (size < 64 ? size : 64); /* shrink */
        unsigned char *b = malloc(nsize ? nsize : 1);
        memcpy(b, src, nsize);
        int muts = 1 + (int)(rnd() % 4);
        for (int m = 0; m < muts && nsize; m++) {
            size_t at = rnd() % nsize;
            if (at >= 6 && rnd() % 3 == 0) at = 6 + rnd() % (nsize - 6 < 32 ? nsize - 6 : 32);
            if (at >= nsize) at = nsize - 1;
            switch (rnd() % 3) {
            case 0: b[at] = (unsigned char)rnd(); break;
            case 1: b[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
            default: b[at] = (unsigned char[]){0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xEF, 0xF0,
                                               0xF1, 0xF4, 0xF5, 0xFF}[rnd() % 12];
            }
        }
        if (nsize >= 4 && rnd() % 2) { /* keep the header total consistent */
            b[0] = (unsigned char)nsize;
            b[1] = (unsigned char)(nsize >> 8);
            b[2] = (unsigned char)(nsize >> 16);
            b[3] = 0;
        }
        if (lp_validate(b, nsize)) {
            accepted++;
            exercise(b, nsize);
        }
        free(b);
    }
    cr_log_info("fuzz: %d of 20000 mutated listpacks accepted", accepted);
    lp_free(lp);
    lp_free(small);
}

Test(listpack, figures) {
    /* 10 field/value pairs of ~8 bytes each, as a small hash would hold. */
    unsigned char *lp = lp_new(0);
    for (int i = 0; i < 10; i++) {
        char f[32], v[32];
        snprintf(f, sizeof f, "field_%02d", i);
        snprintf(v, sizeof v, "value_%02d", i);
        lp = lp_append(lp, U(f), strlen(f));
        lp = lp_append(lp, U(v), strlen(v));
    }
    cr_assert_eq(lp_bytes(lp), 7 + 20 * 10);
    printf("listpack: 10 pairs of 8-byte strings = %zu bytes\n", lp_bytes(lp));
    lp_free(lp);
    lp = lp_new(0);
    for (int i = 0; i < 100; i++) lp = lp_append_integer(lp, 1000 + i);
    cr_assert_eq(lp_bytes(lp), 7 + 100 * 3);
    lp_free(lp);
}

/* The back-length helpers listpack.h exports for smallpack.c: sizes at
 * every threshold of the reference format, exact bytes, a right-to-left
 * read from the last byte, and lp_backlen_matches refusing anything but
 * the canonical form. */
static void check_backlen(size_t l, size_t want_size) {
    unsigned char buf[8];
    memset(buf, 0xEE, sizeof buf);
    cr_assert_eq(lp_backlen_size(l), want_size, "size of backlen(%zu)", l);
    size_t n = lp_backlen_write(buf, l);
    cr_assert_eq(n, want_size, "bytes written for %zu", l);
    cr_assert_eq(buf[n], 0xEE, "wrote past the backlen of %zu", l);
    cr_assert_eq(buf[0] & 128, 0, "first byte of %zu must end a backward read", l);
    for (size_t i = 1; i < n; i++) cr_assert(buf[i] & 128, "byte %zu of %zu", i, l);
    cr_assert_eq(lp_backlen_read(buf + n - 1), l, "read back %zu", l);
    size_t sz = 0;
    cr_assert(lp_backlen_matches(buf, n, l, &sz));
    cr_assert_eq(sz, n);
    cr_assert_not(lp_backlen_matches(buf, n - 1, l, &sz), "truncated backlen of %zu accepted", l);
    cr_assert_not(lp_backlen_matches(buf, n, l + 1, &sz), "backlen of %zu taken for %zu", l, l + 1);
}

Test(listpack, backlen_boundaries) {
    check_backlen(1, 1);
    check_backlen(127, 1);
    check_backlen(128, 2);
    check_backlen(16382, 2);
    check_backlen(16383, 3); /* one short of 2^14: the reference format's threshold */
    check_backlen(2097150, 3);
    check_backlen(2097151, 4);
    check_backlen(268435454, 4);
    check_backlen(268435455, 5);
    check_backlen(LP_MAX_BYTES - 1, 5);
    unsigned char buf[5];
    lp_backlen_write(buf, 300); /* 300 = 2 * 128 + 44: high group first */
    cr_assert(buf[0] == 0x02 && buf[1] == (0x80 | 44));
    /* A redundant two-byte form of 100 reads as 100 but is not canonical,
     * so validation (and smallpack_encode) must refuse it. */
    unsigned char redundant[2] = {0x00, 0x80 | 100};
    size_t sz;
    cr_assert_eq(lp_backlen_read(redundant + 1), 100);
    cr_assert_not(lp_backlen_matches(redundant, 2, 100, &sz));
}

Test(listpack, backlen_of_real_entries) {
    /* The helper's bytes are the ones the listpack itself writes after
     * each entry, for entries on both sides of the 127-byte step. */
    size_t lens[] = {0, 1, 62, 63, 64, 125, 126, 127, 200, 4094, 4095, 4096, 20000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char *s = malloc(lens[i] + 1);
        memset(s, 'x', lens[i]);
        unsigned char *lp = lp_append(lp_new(0), s, lens[i]);
        unsigned char *p = lp_first(lp);
        size_t enc = lens[i] + (lens[i] < 64 ? 1 : lens[i] < 4096 ? 2 : 5); /* string header */
        cr_assert_eq(lp_bytes(lp), LP_EMPTY_SIZE + enc + lp_backlen_size(enc));
        size_t sz;
        cr_assert(lp_backlen_matches(p + enc, lp_backlen_size(enc), enc, &sz), "string of %zu",
                  lens[i]);
        cr_assert_eq(lp_backlen_read(lp + lp_bytes(lp) - 2), enc);
        free(s);
        lp_free(lp);
    }
}
