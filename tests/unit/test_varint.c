/*
 * varint unit tests: the byte form of known values, round trips on both
 * sides of every byte-length boundary up to SIZE_MAX, and what the bounded
 * decoder promises for input from outside: a truncated or overflowing
 * encoding is refused (0, output untouched) without reading past avail.
 * Inputs are copied into blocks of exactly their size, so that a decoder
 * reading one byte too far would read past a malloc block (caught by ASan
 * or valgrind when the tests run under them).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/varint.h"

static unsigned char *exact_copy(const unsigned char *p, size_t n) {
    unsigned char *c = calloc(n ? n : 1, 1);
    if (n) memcpy(c, p, n);
    return c;
}

/* Encodes v, checks the form (size, continuation bits), decodes it with
 * both decoders; returns its size. */
static size_t round_trip(size_t v) {
    unsigned char buf[VARINT_MAX_BYTES + 4];
    memset(buf, 0xAA, sizeof(buf));
    size_t n = varint_put(buf, v);
    cr_assert_eq(n, varint_size(v), "size of %zu", v);
    cr_assert_leq(n, VARINT_MAX_BYTES);
    cr_assert_eq(buf[n], 0xAA, "wrote past the encoding of %zu", v);
    for (size_t i = 0; i + 1 < n; i++) cr_assert(buf[i] & 0x80, "continuation bit of byte %zu", i);
    cr_assert_eq(buf[n - 1] & 0x80, 0, "last byte of %zu continues", v);

    unsigned char *exact = exact_copy(buf, n);
    size_t got = 0;
    cr_assert_eq(varint_get(exact, &got), n);
    cr_assert_eq(got, v);
    got = 0;
    cr_assert_eq(varint_get_bounded(exact, n, &got), n);
    cr_assert_eq(got, v);
    free(exact);
    /* More input than the encoding: stops at its last byte. */
    got = 0;
    cr_assert_eq(varint_get_bounded(buf, sizeof(buf), &got), n);
    cr_assert_eq(got, v);
    return n;
}

Test(varint, known_bytes) {
    unsigned char buf[VARINT_MAX_BYTES];
    cr_assert_eq(varint_put(buf, 0), 1);
    cr_assert_eq(buf[0], 0x00);
    cr_assert_eq(varint_put(buf, 127), 1);
    cr_assert_eq(buf[0], 0x7F);
    cr_assert_eq(varint_put(buf, 128), 2);
    cr_assert(buf[0] == 0x80 && buf[1] == 0x01);
    cr_assert_eq(varint_put(buf, 300), 2);
    cr_assert(buf[0] == 0xAC && buf[1] == 0x02);
    cr_assert_eq(varint_put(buf, 16384), 3);
    cr_assert(buf[0] == 0x80 && buf[1] == 0x80 && buf[2] == 0x01);
}

Test(varint, every_length_boundary) {
    cr_assert_eq(round_trip(0), 1);
    /* 2^(7k) - 1 is the largest value of k bytes, 2^(7k) the smallest of
     * k + 1. */
    for (unsigned k = 1; 7 * k < sizeof(size_t) * 8; k++) {
        size_t first_of_next = (size_t)1 << (7 * k);
        cr_assert_eq(round_trip(first_of_next - 1), k, "2^%u - 1", 7 * k);
        cr_assert_eq(round_trip(first_of_next), k + 1, "2^%u", 7 * k);
        cr_assert_eq(round_trip(first_of_next + 1), k + 1);
    }
    cr_assert_eq(round_trip(SIZE_MAX), VARINT_MAX_BYTES);
    cr_assert_eq(round_trip(SIZE_MAX - 1), VARINT_MAX_BYTES);
    cr_assert_eq(round_trip(SIZE_MAX >> 1),
                 (sizeof(size_t) * 8 - 1 + 6) / 7); /* 63 bits: 9 bytes */
}

Test(varint, max_value_bytes) {
    unsigned char buf[VARINT_MAX_BYTES];
    size_t n = varint_put(buf, SIZE_MAX);
    cr_assert_eq(n, VARINT_MAX_BYTES);
    for (size_t i = 0; i + 1 < n; i++) cr_assert_eq(buf[i], 0xFF);
    /* 64 bits = 9 groups of 7 + 1 bit. */
    if (sizeof(size_t) == 8) cr_assert_eq(buf[n - 1], 0x01);
}

Test(varint, truncated_input_is_refused) {
    size_t values[] = {128, 300, 16383, 16384, (size_t)1 << 35, SIZE_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        unsigned char buf[VARINT_MAX_BYTES];
        size_t n = varint_put(buf, values[i]);
        for (size_t avail = 0; avail < n; avail++) {
            unsigned char *cut = exact_copy(buf, avail);
            size_t got = 12345;
            cr_assert_eq(varint_get_bounded(cut, avail, &got), 0, "%zu cut to %zu bytes", values[i],
                         avail);
            cr_assert_eq(got, 12345, "output written on failure");
            free(cut);
        }
    }
}

Test(varint, overflow_is_refused) {
    /* Ten bytes whose last carries more than the one bit that fits. */
    unsigned char too_big[VARINT_MAX_BYTES];
    memset(too_big, 0xFF, sizeof(too_big));
    too_big[VARINT_MAX_BYTES - 1] = 0x02;
    size_t got = 7;
    cr_assert_eq(varint_get_bounded(too_big, sizeof(too_big), &got), 0);
    cr_assert_eq(got, 7);
    /* Eleven bytes: the tenth still says "more". */
    unsigned char too_long[VARINT_MAX_BYTES + 1];
    memset(too_long, 0x80, sizeof(too_long));
    too_long[VARINT_MAX_BYTES] = 0x00;
    cr_assert_eq(varint_get_bounded(too_long, sizeof(too_long), &got), 0);
    cr_assert_eq(got, 7);
}

Test(varint, redundant_encoding_decodes) {
    /* 0 written with a useless continuation: two bytes, value 0. */
    unsigned char two[] = {0x80, 0x00};
    size_t got = 99;
    cr_assert_eq(varint_get_bounded(two, sizeof(two), &got), 2);
    cr_assert_eq(got, 0);
    cr_assert_eq(varint_get(two, &got), 2);
    cr_assert_eq(got, 0);
}
