#include <criterion/criterion.h>
#include <string.h>
#include "lib/crc64.h"

Test(crc64, check_value) {
    /* The CRC-64/Jones check value Redis's own crc64 test uses. */
    cr_assert_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
}

Test(crc64, empty_and_incremental) {
    cr_assert_eq(crc64(0, "", 0), 0);
    const char *s = "Keel and Redis agree on this";
    uint64_t whole = crc64(0, s, strlen(s));
    uint64_t parts = crc64(crc64(0, s, 10), s + 10, strlen(s) - 10);
    cr_assert_eq(whole, parts);
}
