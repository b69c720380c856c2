/*
 * crc64 and lzf unit tests: the CRC check value Redis's crc64 uses, LZF
 * round trips over varied data, a hand-encoded liblzf stream, and
 * malformed streams (truncated, bad back-reference, output overflow),
 * which must yield 0, never a crash.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist/crc64.h"
#include "persist/lzf.h"

Test(crc64, check_value) {
    cr_assert_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    cr_assert_eq(crc64(0, "", 0), 0);
}

Test(crc64, incremental_equals_whole) {
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (unsigned char)(i * 7 + 3);
    uint64_t whole = crc64(0, buf, sizeof(buf));
    for (size_t cut = 0; cut < sizeof(buf); cut += 37)
        cr_assert_eq(crc64(crc64(0, buf, cut), buf + cut, sizeof(buf) - cut), whole);
}

static void roundtrip(const unsigned char *in, size_t n) {
    size_t cap = n + n / 16 + 64;
    unsigned char *c = malloc(cap), *d = malloc(n + 1);
    size_t clen = lzf_compress(in, n, c, cap);
    cr_assert(clen > 0 || n == 0);
    size_t dlen = lzf_decompress(c, clen, d, n + 1);
    cr_assert_eq(dlen, n);
    cr_assert(memcmp(in, d, n) == 0);
    free(c);
    free(d);
}

Test(lzf, roundtrips) {
    size_t n = 100000;
    unsigned char *buf = malloc(n);
    uint64_t x = 88172645463325252ULL;
    for (int kind = 0; kind < 4; kind++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            if (kind == 0) buf[i] = (unsigned char)x;             /* random */
            else if (kind == 1) buf[i] = 'a';                     /* one run */
            else if (kind == 2) buf[i] = "hello world "[i % 12];  /* text */
            else buf[i] = (unsigned char)((x % 4) + 'a');         /* low entropy */
        }
        for (size_t len = 0; len < 300; len++) roundtrip(buf, len);
        roundtrip(buf, n);
    }
    free(buf);
}

Test(lzf, compresses_repetition) {
    unsigned char in[1000], out[1000];
    memset(in, 'x', sizeof(in));
    size_t c = lzf_compress(in, sizeof(in), out, sizeof(out));
    cr_assert(c > 0 && c < 20);
    cr_assert_eq(lzf_compress(in, sizeof(in), out, 5), 0); /* does not fit */
}

Test(lzf, decodes_hand_encoded_stream) {
    /* literal "a", then a 9-byte reference at distance 1 (long form). */
    const unsigned char s[] = {0x00, 'a', 0xe0, 0x00, 0x00};
    unsigned char out[16];
    cr_assert_eq(lzf_decompress(s, sizeof(s), out, sizeof(out)), 10);
    cr_assert(memcmp(out, "aaaaaaaaaa", 10) == 0);
    /* short form: "ab" then a 3-byte reference at distance 2 -> "ababa" */
    const unsigned char t[] = {0x01, 'a', 'b', 0x20, 0x01};
    cr_assert_eq(lzf_decompress(t, sizeof(t), out, sizeof(out)), 5);
    cr_assert(memcmp(out, "ababa", 5) == 0);
}

Test(lzf, rejects_malformed) {
    unsigned char out[16];
    const unsigned char trunc_lit[] = {0x05, 'a', 'b'};
    cr_assert_eq(lzf_decompress(trunc_lit, sizeof(trunc_lit), out, sizeof(out)), 0);
    const unsigned char ref_before_start[] = {0x00, 'a', 0x20, 0x05};
    cr_assert_eq(lzf_decompress(ref_before_start, sizeof(ref_before_start), out, sizeof(out)), 0);
    const unsigned char trunc_ref[] = {0x00, 'a', 0xe0};
    cr_assert_eq(lzf_decompress(trunc_ref, sizeof(trunc_ref), out, sizeof(out)), 0);
    const unsigned char s[] = {0x00, 'a', 0xe0, 0x00, 0x00};
    cr_assert_eq(lzf_decompress(s, sizeof(s), out, 9), 0); /* output too small */
    /* random garbage never crashes */
    unsigned char junk[64], big[4096];
    uint64_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        for (size_t i = 0; i < sizeof(junk); i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; junk[i] = (unsigned char)x; }
        lzf_decompress(junk, (size_t)(x % sizeof(junk)), big, (size_t)(x >> 20) % sizeof(big));
    }
}

#include "lib/sha1.h"

static void hex(const unsigned char d[20], char out[41]) {
    for (int i = 0; i < 20; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

Test(sha1, known_vectors) {
    unsigned char d[20];
    char h[41];
    sha1("abc", 3, d);
    hex(d, h);
    cr_assert_str_eq(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1("", 0, d);
    hex(d, h);
    cr_assert_str_eq(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1(two, strlen(two), d);
    hex(d, h);
    cr_assert_str_eq(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* a million 'a's, fed in uneven pieces */
    sha1_ctx c;
    sha1_init(&c);
    char a[997];
    memset(a, 'a', sizeof(a));
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof(a) ? left : sizeof(a);
        sha1_update(&c, a, k);
        left -= k;
    }
    sha1_final(&c, d);
    hex(d, h);
    cr_assert_str_eq(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
