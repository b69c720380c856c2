/*
 * smallpack unit tests. The property that matters is exactness: decoding
 * the smallpack form of a listpack gives back the same bytes, for every
 * element encoding (each integer width, each string header, empty and
 * binary strings), so readers of a decoded value cannot tell it was ever
 * re-encoded. Then sizes (what the form saves), and rejection of malformed
 * input on both sides: buffers are allocated at their exact size so that
 * ASan catches any read or write past them.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/listpack.h"
#include "lib/smallpack.h"

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned char *exact_copy(const unsigned char *p, size_t n) {
    unsigned char *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    return c;
}

/* Encodes lp, decodes the result and checks it is lp again, byte for
 * byte; returns the smallpack size. */
static size_t round_trip(unsigned char *lp) {
    size_t lplen = lp_bytes(lp), splen;
    cr_assert(smallpack_encode(NULL, 0, lp, lplen, &splen), "valid listpack rejected");
    cr_assert(splen < lplen);
    unsigned char *sp = malloc(splen ? splen : 1);
    size_t written;
    cr_assert(smallpack_encode(sp, splen, lp, lplen, &written));
    cr_assert_eq(written, splen);
    if (splen) {
        unsigned char *short_dst = malloc(splen - 1 ? splen - 1 : 1);
        cr_assert_eq(smallpack_encode(short_dst, splen - 1, lp, lplen, &written), 0, "overflowed dst");
        free(short_dst);
    }
    cr_assert_eq(smallpack_listpack_size(sp, splen), lplen);
    unsigned char *out = malloc(lplen);
    cr_assert_eq(smallpack_decode(out, lplen, sp, splen), lplen);
    cr_assert(memcmp(out, lp, lplen) == 0, "decoded listpack differs");
    cr_assert(lp_validate(out, lplen));
    /* One byte short of the listpack: must refuse, not overflow. */
    unsigned char *small = malloc(lplen - 1);
    cr_assert_eq(smallpack_decode(small, lplen - 1, sp, splen), 0);
    free(small);
    free(out);
    free(sp);
    return splen;
}

static unsigned char *append_str(unsigned char *lp, const char *s) {
    return lp_append(lp, (const unsigned char *)s, strlen(s));
}

Test(smallpack, empty_listpack) {
    unsigned char *lp = lp_new(0);
    cr_assert_eq(round_trip(lp), 0);
    unsigned char out[7];
    cr_assert_eq(smallpack_decode(out, sizeof(out), NULL, 0), 7);
    cr_assert(memcmp(out, lp, 7) == 0);
    lp_free(lp);
}

Test(smallpack, benchmark_hash_saves_header_and_backlens) {
    unsigned char *lp = lp_new(0);
    for (int i = 0; i < 10; i++) {
        char f[16], v[32];
        snprintf(f, sizeof(f), "f%d", i);
        snprintf(v, sizeof(v), "v%07d", 1234567 + i);
        lp = append_str(lp, f);
        lp = append_str(lp, v);
    }
    cr_assert_eq(lp_bytes(lp), 147);
    cr_assert_eq(round_trip(lp), 120); /* 6 header + 1 end + 20 backlens fewer */
    lp_free(lp);
}

Test(smallpack, every_integer_width) {
    static const int64_t vals[] = {0, 1, 127, 128, -1, 4095, -4096, 4096, -4097, 32767, -32768,
                                   32768, 8388607, -8388608, 8388608, INT32_MAX, INT32_MIN,
                                   (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN};
    unsigned char *lp = lp_new(0);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) lp = lp_append_integer(lp, vals[i]);
    round_trip(lp);
    /* Decoded integers read back as integers of the same value. */
    size_t lplen = lp_bytes(lp), splen;
    unsigned char *sp = malloc(lplen);
    cr_assert(smallpack_encode(sp, lplen, lp, lplen, &splen));
    unsigned char *out = malloc(lplen);
    smallpack_decode(out, lplen, sp, splen);
    size_t i = 0;
    for (unsigned char *p = lp_first(out); p; p = lp_next(out, p), i++) {
        int64_t v;
        cr_assert(lp_get_integer(p, &v));
        cr_assert_eq(v, vals[i]);
    }
    cr_assert_eq(i, sizeof(vals) / sizeof(vals[0]));
    free(out);
    free(sp);
    lp_free(lp);
}

Test(smallpack, small_integers_cost_one_byte) {
    unsigned char *lp = lp_new(0);
    lp = append_str(lp, "count");
    lp = append_str(lp, "7");
    cr_assert_eq(round_trip(lp), 6 + 1);
    lp_free(lp);
}

Test(smallpack, string_boundaries) {
    static const size_t lens[] = {0, 1, 63, 64, 127, 128, 255, 256, 4095, 4096, 70000};
    char *buf = malloc(70000);
    for (size_t i = 0; i < 70000; i++) buf[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        unsigned char *lp = lp_new(0);
        lp = lp_append(lp, (const unsigned char *)buf, lens[i]);
        lp = append_str(lp, "x");
        round_trip(lp);
        lp_free(lp);
    }
    free(buf);
}

Test(smallpack, elements_of_0_and_255_bytes) {
    unsigned char big[255];
    memset(big, 'z', sizeof(big));
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, (const unsigned char *)"", 0);
    lp = lp_append(lp, big, sizeof(big));
    lp = lp_append(lp, (const unsigned char *)"", 0);
    /* 1 + 2 + 255 + 1 bytes of headers and payload */
    cr_assert_eq(round_trip(lp), 259);
    lp_free(lp);
}

Test(smallpack, binary_bytes) {
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)(255 - i);
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, all, sizeof(all));
    lp = lp_append(lp, all + 200, 56); /* starts with 0x37.. ends with 0x00 */
    lp = lp_append(lp, all, 1);        /* a lone 0xFF, the listpack terminator byte */
    round_trip(lp);
    lp_free(lp);
}

static unsigned char *random_listpack(size_t max_elements) {
    unsigned char *lp = lp_new(0);
    size_t n = rnd() % (max_elements + 1);
    for (size_t i = 0; i < n; i++) {
        switch (rnd() % 4) {
        case 0: lp = lp_append_integer(lp, (int64_t)rnd() >> (rnd() % 64)); break;
        case 1: lp = lp_append_integer(lp, (int64_t)(rnd() % 300) - 150); break;
        default: {
            unsigned char s[300];
            size_t len = rnd() % (rnd() % 2 ? 20 : sizeof(s));
            for (size_t j = 0; j < len; j++) s[j] = (unsigned char)rnd();
            lp = lp_append(lp, s, len);
        }
        }
    }
    return lp;
}

Test(smallpack, random_round_trips) {
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char *lp = random_listpack(40);
        round_trip(lp);
        lp_free(lp);
    }
}

Test(smallpack, decoder_rejects_truncated_elements) {
    unsigned char *lp = lp_new(0);
    lp = append_str(lp, "hello");
    lp = lp_append_integer(lp, 100000);           /* int24: 4 bytes */
    lp = lp_append_integer(lp, INT64_MAX);         /* int64: 9 bytes */
    unsigned char s300[300];
    memset(s300, 'q', sizeof(s300));
    lp = lp_append(lp, s300, sizeof(s300));       /* 12-bit string */
    size_t lplen = lp_bytes(lp), splen;
    unsigned char *sp = malloc(lplen);
    cr_assert(smallpack_encode(sp, lplen, lp, lplen, &splen));
    size_t boundaries[] = {0, 6, 10, 19, 321};
    cr_assert_eq(boundaries[4], splen);
    for (size_t cut = 0; cut < splen; cut++) {
        int at_boundary = 0;
        for (size_t b = 0; b < 5; b++) at_boundary |= boundaries[b] == cut;
        unsigned char *part = exact_copy(sp, cut);
        size_t want = smallpack_listpack_size(part, cut);
        if (at_boundary) cr_assert_neq(want, 0, "cut %zu", cut);
        else cr_assert_eq(want, 0, "cut %zu accepted", cut);
        free(part);
    }
    free(sp);
    lp_free(lp);
}

Test(smallpack, decoder_rejects_unused_codes_and_terminator) {
    for (int b = 0xF5; b <= 0xFF; b++) {
        unsigned char in[9] = {(unsigned char)b, 0, 0, 0, 0, 0, 0, 0, 0};
        unsigned char out[64];
        cr_assert_eq(smallpack_decode(out, sizeof(out), in, sizeof(in)), 0, "code %#x", b);
        cr_assert_eq(smallpack_listpack_size(in, 1), 0);
    }
    /* A 32-bit string header claiming more bytes than there are. */
    unsigned char lie[] = {0xF0, 0x10, 0, 0, 0, 'a', 'b'};
    cr_assert_eq(smallpack_listpack_size(lie, sizeof(lie)), 0);
    unsigned char huge[] = {0xF0, 0xFF, 0xFF, 0xFF, 0xFF};
    cr_assert_eq(smallpack_listpack_size(huge, sizeof(huge)), 0);
    /* A 12-bit string header cut after its first byte. */
    unsigned char half[] = {0xE1};
    cr_assert_eq(smallpack_listpack_size(half, sizeof(half)), 0);
}

Test(smallpack, decoder_random_bytes_never_overrun) {
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rnd() % 64;
        unsigned char *in = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) in[i] = (unsigned char)rnd();
        size_t cap = rnd() % 200;
        unsigned char *out = malloc(cap ? cap : 1);
        size_t n = smallpack_decode(out, cap, in, len);
        size_t want = smallpack_listpack_size(in, len);
        if (n) {
            cr_assert_eq(n, want);
            cr_assert(lp_validate(out, n), "decoder produced an invalid listpack");
        } else {
            cr_assert(want == 0 || want > cap);
        }
        free(out);
        free(in);
    }
}

Test(smallpack, encoder_rejects_malformed_listpacks) {
    unsigned char *lp = lp_new(0);
    lp = append_str(lp, "field");
    lp = append_str(lp, "value");
    size_t lplen = lp_bytes(lp), splen;
    unsigned char *bad = exact_copy(lp, lplen);

    cr_assert_eq(smallpack_encode(NULL, 0, bad, lplen - 1, &splen), 0); /* total mismatch */
    bad[lplen - 1] = 0x00; /* no terminator */
    cr_assert_eq(smallpack_encode(NULL, 0, bad, lplen, &splen), 0);
    memcpy(bad, lp, lplen);
    bad[6 + 6] = 0x05; /* wrong backlen of "field" */
    cr_assert_eq(smallpack_encode(NULL, 0, bad, lplen, &splen), 0);
    memcpy(bad, lp, lplen);
    bad[4] = 3; /* wrong count */
    cr_assert_eq(smallpack_encode(NULL, 0, bad, lplen, &splen), 0);
    memcpy(bad, lp, lplen);
    bad[6] = 0xF7; /* unused encoding */
    cr_assert_eq(smallpack_encode(NULL, 0, bad, lplen, &splen), 0);
    cr_assert_eq(smallpack_encode(NULL, 0, lp, 3, &splen), 0); /* shorter than a header */
    free(bad);
    lp_free(lp);
}

Test(smallpack, encoder_accepts_only_what_lp_validate_accepts) {
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char *lp = random_listpack(8);
        size_t lplen = lp_bytes(lp), splen;
        unsigned char *m = exact_copy(lp, lplen);
        size_t flips = 1 + rnd() % 3;
        for (size_t i = 0; i < flips; i++) m[rnd() % lplen] ^= (unsigned char)(1u << (rnd() % 8));
        unsigned char *sp = malloc(lplen);
        if (smallpack_encode(sp, lplen, m, lplen, &splen)) {
            cr_assert(lp_validate(m, lplen), "encoder accepted a listpack lp_validate rejects");
            unsigned char *out = malloc(lplen);
            cr_assert_eq(smallpack_decode(out, lplen, sp, splen), lplen);
            cr_assert(memcmp(out, m, lplen) == 0);
            free(out);
        }
        free(sp);
        free(m);
        lp_free(lp);
    }
}

/* Walking in place visits the listpack's elements, in order, with the
 * same values, and stops at the end (and at a truncated element). */
Test(smallpack, walk_in_place_matches_listpack) {
    unsigned char *lp = lp_new(0);
    const char *items[] = {"f0", "v1234567", "12", "-5", "", "a longer string value of forty bytes....", "99999999999"};
    size_t n = sizeof(items) / sizeof(items[0]);
    for (size_t i = 0; i < n; i++) lp = lp_append(lp, (const unsigned char *)items[i], strlen(items[i]));
    size_t splen;
    cr_assert(smallpack_encode(NULL, 0, lp, lp_bytes(lp), &splen));
    unsigned char *sp = malloc(splen);
    cr_assert(smallpack_encode(sp, splen, lp, lp_bytes(lp), &splen));
    size_t off = 0, seen = 0, size;
    while ((size = smallpack_element_size(sp, splen, off))) {
        cr_assert(seen < n);
        cr_assert(lp_compare(sp + off, (const unsigned char *)items[seen], strlen(items[seen])), "element %zu", seen);
        off += size;
        seen++;
    }
    cr_assert_eq(seen, n);
    cr_assert_eq(off, splen);
    /* A smallpack cut in the middle of its last element ends the walk early. */
    off = 0;
    seen = 0;
    while ((size = smallpack_element_size(sp, splen - 1, off))) {
        off += size;
        seen++;
    }
    cr_assert_eq(seen, n - 1);
    free(sp);
    lp_free(lp);
}
