#include <criterion/criterion.h>
#include <string.h>

#include "lib/crc16.h"

/* The XMODEM check value, and slots Redis's CLUSTER KEYSLOT gives. */
Test(crc16, check_value) { cr_assert_eq(crc16("123456789", 9), 0x31C3); }

Test(crc16, empty) { cr_assert_eq(crc16("", 0), 0); }

Test(crc16, known_slots) {
    cr_assert_eq(key_hash_slot("foo", 3), 12182);
    cr_assert_eq(key_hash_slot("bar", 3), 5061);
    cr_assert_eq(key_hash_slot("hello", 5), 866);
}

Test(crc16, hash_tags) {
    unsigned tag = key_hash_slot("user1000", 8);
    cr_assert_eq(key_hash_slot("{user1000}.following", 20), tag);
    cr_assert_eq(key_hash_slot("x{user1000}y{z}", 15), tag);
    /* An empty tag hashes the whole key. */
    cr_assert_eq(key_hash_slot("{}foo", 5), crc16("{}foo", 5) & 16383);
    /* No closing brace: the whole key. */
    cr_assert_eq(key_hash_slot("{foo", 4), crc16("{foo", 4) & 16383);
    cr_assert_eq(key_hash_slot("foo{}{bar}", 10), crc16("foo{}{bar}", 10) & 16383);
}
