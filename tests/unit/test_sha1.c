#include <criterion/criterion.h>
#include <string.h>
#include "lib/sha1.h"

static void check(const char *in, size_t len, const char *hex) {
    char out[41];
    sha1_hex(in, len, out);
    cr_assert_str_eq(out, hex);
}

Test(sha1, known_digests) {
    check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    check("Pizza & Mandolino", 17, "74822d82031af7493c20eefa13bd07ec4fada82f");
    /* 56 bytes: the padding needs a second block. */
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(two, strlen(two), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

Test(sha1, block_boundaries) {
    char buf[200];
    memset(buf, 'a', sizeof(buf));
    /* Lengths 55, 56, 63, 64, 65 straddle the padding rules. */
    check(buf, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    check(buf, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    check(buf, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
}
