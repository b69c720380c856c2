/*
 * entry unit tests: the key layout of core/entry.h. What must hold for
 * every type and encoding: the key, the value, the TTL and the access
 * bits read back as written; adding and removing a TTL moves the entry
 * but nothing in it; the string encodings switch at Redis's boundaries
 * (int up to 20 canonical digits, embstr up to 44 bytes, raw beyond);
 * and a decoded smallpack pointer stays valid for exactly
 * ENTRY_DECODE_SLOTS - 1 further decodes. Linked with core/entry.c and
 * tests/unit/stubs_core.c (value frees are counted there).
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/entry.h"
#include "lib/kstr.h"
#include "lib/listpack.h"
#include "lib/zmalloc.h"
#include "tests/unit/stubs_core.h"

static size_t baseline;

static void remember_memory(void) {
    baseline = zmalloc_used_memory();
    memset(&stubs, 0, sizeof(stubs));
}

/* Every test frees what it built: the allocator counter proves it. */
static void no_leak(void) {
    cr_assert_eq(zmalloc_used_memory(), baseline, "entry memory leaked or double freed");
}

TestSuite(entry, .init = remember_memory, .fini = no_leak);

static void assert_key(const entry *e, const char *key, size_t klen) {
    size_t len;
    const char *k = entry_key(e, &len);
    cr_assert_eq(len, klen);
    cr_assert(memcmp(k, key, klen) == 0, "key bytes differ");
}

static void assert_string(const entry *e, const char *val, size_t vlen) {
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    cr_assert_eq(len, vlen, "value length %zu, expected %zu", len, vlen);
    cr_assert(vlen == 0 || memcmp(s, val, vlen) == 0,
              "value bytes differ (encoding %d, %zu bytes: %.*s)", entry_encoding(e), len, (int)len,
              s);
}

static entry *string_entry(const char *key, const char *val, long long expire) {
    return entry_new_string(key, strlen(key), val, strlen(val), expire);
}

/* ---- strings: encodings and their boundaries ---- */

static void check_string_encoding(const char *val, size_t vlen, int enc) {
    entry *e = entry_new_string("k", 1, val, vlen, -1);
    cr_assert_eq(entry_type(e), TYPE_STRING);
    cr_assert_eq(entry_encoding(e), enc, "value of %zu bytes: encoding %d, expected %d", vlen,
                 entry_encoding(e), enc);
    assert_key(e, "k", 1);
    assert_string(e, val, vlen);
    cr_assert_eq(entry_expire(e), -1);
    cr_assert(!entry_has_expire(e));
    entry_free(e);
}

Test(entry, integers_are_stored_as_int_when_canonical) {
    const char *ints[] = {"0", "1", "-1", "123", "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        check_string_encoding(ints[i], strlen(ints[i]), ENC_INT);
    /* Not canonical, or out of range: kept as the bytes given. */
    const char *not_ints[] = {"01", "-0", " 1", "1 ", "+1", "9223372036854775808", "1.5", ""};
    for (size_t i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++)
        check_string_encoding(not_ints[i], strlen(not_ints[i]), ENC_EMBSTR);
}

Test(entry, embstr_up_to_44_bytes_then_raw) {
    char val[300];
    memset(val, 'v', sizeof(val));
    check_string_encoding(val, 0, ENC_EMBSTR);
    check_string_encoding(val, 1, ENC_EMBSTR);
    check_string_encoding(val, EMBSTR_MAX_LEN, ENC_EMBSTR);
    check_string_encoding(val, EMBSTR_MAX_LEN + 1, ENC_RAW);
    check_string_encoding(val, sizeof(val), ENC_RAW);
}

Test(entry, raw_value_is_a_kstr_freed_with_the_entry) {
    char val[100];
    memset(val, 'x', sizeof(val));
    entry *e = entry_new_string("k", 1, val, sizeof(val), -1);
    char *s = entry_ptr(e);
    cr_assert_eq(kstr_len(s), sizeof(val));
    entry_free(e);
    cr_assert_eq(stubs.values_freed, 1, "the raw value was not freed through its type");
}

Test(entry, binary_values_and_keys_round_trip) {
    const char key[] = {'a', 0, 'b', '\n', (char)0xff};
    const char val[] = {0, 1, 2, (char)0x80, 0};
    entry *e = entry_new_string(key, sizeof(key), val, sizeof(val), -1);
    assert_key(e, key, sizeof(key));
    assert_string(e, val, sizeof(val));
    entry_free(e);
}

/* The key length is a varint: check each prefix size. */
Test(entry, long_keys_round_trip) {
    size_t lens[] = {0, 1, 127, 128, 16383, 16384, 70000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *key = zmalloc(lens[i] + 1);
        for (size_t j = 0; j < lens[i]; j++) key[j] = (char)('a' + j % 26);
        entry *e = entry_new_string(key, lens[i], "value", 5, 1234);
        assert_key(e, key, lens[i]);
        assert_string(e, "value", 5);
        cr_assert_eq(entry_expire(e), 1234);
        entry_free(e);
        zfree(key);
    }
}

Test(entry, int_entries_and_string_as_ll) {
    long long values[] = {0, -1, 42, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        entry *e = entry_new_int("n", 1, values[i], -1);
        long long v;
        cr_assert(entry_string_as_ll(e, &v));
        cr_assert_eq(v, values[i]);
        char digits[32];
        snprintf(digits, sizeof(digits), "%lld", values[i]);
        assert_string(e, digits, strlen(digits));
        entry_free(e);
    }
    entry *e = string_entry("s", "12x", -1);
    long long v;
    cr_assert(!entry_string_as_ll(e, &v));
    entry_free(e);
}

/* ---- TTL: adding and removing it keeps everything else ---- */

static entry *raw_entry(const char *key, size_t vlen, long long expire) {
    char val[200];
    memset(val, 'r', sizeof(val));
    return entry_new_string(key, strlen(key), val, vlen, expire);
}

static void check_ttl_round_trip(entry *e) {
    size_t klen;
    const char *k = entry_key(e, &klen);
    char key[64];
    memcpy(key, k, klen);
    char vbuf[32], val[256];
    size_t vlen;
    const char *v = entry_string(e, vbuf, &vlen);
    memcpy(val, v, vlen);
    int enc = entry_encoding(e);
    entry_set_lru(e, 0xABCDEF);
    size_t without = entry_alloc_size(e);

    e = entry_set_expire(e, 1700000000123LL);
    cr_assert(entry_has_expire(e));
    cr_assert_eq(entry_expire(e), 1700000000123LL);
    cr_assert_eq(entry_encoding(e), enc);
    cr_assert_eq(entry_lru(e), 0xABCDEF, "access bits lost by adding a TTL");
    assert_key(e, key, klen);
    assert_string(e, val, vlen);
    cr_assert_geq(entry_alloc_size(e), without);

    e = entry_set_expire(e, 5); /* in place: already has one */
    cr_assert_eq(entry_expire(e), 5);

    e = entry_clear_expire(e);
    cr_assert(!entry_has_expire(e));
    cr_assert_eq(entry_expire(e), -1);
    cr_assert_eq(entry_encoding(e), enc);
    cr_assert_eq(entry_lru(e), 0xABCDEF, "access bits lost by removing a TTL");
    assert_key(e, key, klen);
    assert_string(e, val, vlen);
    cr_assert_eq(entry_alloc_size(e), without);
    entry_free(e);
}

Test(entry, ttl_round_trip_for_each_string_encoding) {
    check_ttl_round_trip(entry_new_int("int", 3, -77, -1));
    check_ttl_round_trip(string_entry("embstr", "hello", -1));
    check_ttl_round_trip(raw_entry("raw", 120, -1));
    cr_assert_eq(stubs.values_freed, 1);
}

Test(entry, ttl_changes_keep_the_snapshot_mark) {
    entry *e = string_entry("k", "v", -1);
    *(uint8_t *)e |= ENTRY_META_SNAPMARK;
    e = entry_set_expire(e, 100);
    cr_assert(entry_meta(e) & ENTRY_META_SNAPMARK);
    e = entry_clear_expire(e);
    cr_assert(entry_meta(e) & ENTRY_META_SNAPMARK);
    entry_free(e);
}

Test(entry, lru_bits_do_not_touch_the_meta_byte) {
    entry *e = string_entry("k", "v", 99);
    uint8_t meta = entry_meta(e);
    entry_set_lru(e, 0xFFFFFF);
    cr_assert_eq(entry_lru(e), 0xFFFFFF);
    cr_assert_eq(entry_meta(e), meta);
    entry_set_lru(e, 0x1000000 | 0x12); /* 24 bits only */
    cr_assert_eq(entry_lru(e), 0x12);
    cr_assert_eq(entry_expire(e), 99);
    entry_free(e);
}

/* ---- pointer values ---- */

Test(entry, pointer_values_round_trip) {
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, (const unsigned char *)"f", 1);
    lp = lp_append(lp, (const unsigned char *)"v", 1);
    entry *e = entry_new_ptr("h", 1, TYPE_HASH, ENC_LISTPACK, lp, -1);
    cr_assert_eq(entry_type(e), TYPE_HASH);
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    cr_assert(!entry_value_inline(e));
    cr_assert_eq(entry_ptr(e), lp);
    cr_assert_null(entry_smallpack(e, &(size_t){0}));
    e = entry_set_expire(e, 10);
    cr_assert_eq(entry_ptr(e), lp, "the pointer changed with the TTL");
    unsigned char *lp2 = lp_new(0);
    entry_set_ptr(e, lp2);
    cr_assert_eq(entry_ptr(e), lp2);
    lp_free(lp);
    entry_free(e);
    cr_assert_eq(stubs.values_freed, 1);
}

/* ---- inline aggregates ---- */

static unsigned char *small_hash_listpack(int fields, const char *tag) {
    unsigned char *lp = lp_new(0);
    char buf[64];
    for (int i = 0; i < fields; i++) {
        int n = snprintf(buf, sizeof(buf), "%s-field-%d", tag, i);
        lp = lp_append(lp, (unsigned char *)buf, (size_t)n);
        lp = lp_append_integer(lp, i * 1000);
    }
    return lp;
}

static void assert_same_listpack(const unsigned char *got, const unsigned char *want) {
    cr_assert_eq(lp_bytes(got), lp_bytes(want));
    cr_assert(memcmp(got, want, lp_bytes(want)) == 0, "listpack bytes differ");
}

Test(entry, small_inline_hash_is_a_smallpack_and_decodes_exactly) {
    unsigned char *lp = small_hash_listpack(5, "a");
    entry *e = entry_new_inline("h", 1, TYPE_HASH, lp, lp_bytes(lp), -1);
    cr_assert(entry_value_inline(e));
    cr_assert(entry_is_inline_aggregate(e));
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK, "readers must see a listpack");
    size_t splen;
    cr_assert_not_null(entry_smallpack(e, &splen));
    cr_assert_lt(splen, lp_bytes(lp), "the smallpack form saves nothing");
    assert_same_listpack(entry_ptr(e), lp);
    cr_assert_leq(entry_alloc_size(e), zmalloc_size(e));

    e = entry_set_expire(e, 77);
    assert_same_listpack(entry_ptr(e), lp);
    e = entry_clear_expire(e);
    assert_same_listpack(entry_ptr(e), lp);

    entry *copy = entry_dup(e, "h2", 2);
    assert_key(copy, "h2", 2);
    assert_same_listpack(entry_ptr(copy), lp);
    entry_free(copy);
    entry_free(e);
    cr_assert_eq(stubs.values_freed, 0, "an inline value has nothing to free apart");
    lp_free(lp);
}

Test(entry, big_inline_listpack_stays_a_plain_listpack) {
    unsigned char *lp = small_hash_listpack(40, "big"); /* more than a decode slot */
    cr_assert_gt(lp_bytes(lp), 512);
    entry *e = entry_new_inline("h", 1, TYPE_HASH, lp, lp_bytes(lp), 5);
    cr_assert_null(entry_smallpack(e, &(size_t){0}));
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    unsigned char *p = entry_ptr(e);
    assert_same_listpack(p, lp);
    cr_assert_geq((uintptr_t)p, (uintptr_t)e);
    cr_assert_lt((uintptr_t)p, (uintptr_t)e + entry_alloc_size(e),
                 "the plain form is read in place");
    cr_assert_eq(entry_expire(e), 5);
    entry_free(e);
    lp_free(lp);
}

/* A decoded smallpack lives in a ring of ENTRY_DECODE_SLOTS buffers: it
 * survives ENTRY_DECODE_SLOTS - 1 more decodes and the next one reuses
 * its buffer. Callers rely on the first half (HINCRBY holds two). */
Test(entry, decoded_smallpack_pointer_lifetime) {
    unsigned char *first_lp = small_hash_listpack(3, "first");
    entry *first = entry_new_inline("a", 1, TYPE_HASH, first_lp, lp_bytes(first_lp), -1);
    unsigned char *others_lp[ENTRY_DECODE_SLOTS];
    entry *others[ENTRY_DECODE_SLOTS];
    for (int i = 0; i < ENTRY_DECODE_SLOTS; i++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "other%d", i);
        others_lp[i] = small_hash_listpack(3, tag);
        others[i] = entry_new_inline("b", 1, TYPE_HASH, others_lp[i], lp_bytes(others_lp[i]), -1);
    }
    unsigned char *p = entry_ptr(first);
    for (int i = 0; i < ENTRY_DECODE_SLOTS - 1; i++) {
        unsigned char *q = entry_ptr(others[i]);
        cr_assert_neq(q, p);
        assert_same_listpack(p, first_lp); /* still valid */
        assert_same_listpack(q, others_lp[i]);
    }
    unsigned char *reused = entry_ptr(others[ENTRY_DECODE_SLOTS - 1]);
    cr_assert_eq(reused, p, "the ring should have come back to the first buffer");
    assert_same_listpack(p, others_lp[ENTRY_DECODE_SLOTS - 1]);
    for (int i = 0; i < ENTRY_DECODE_SLOTS; i++) {
        entry_free(others[i]);
        lp_free(others_lp[i]);
    }
    entry_free(first);
    lp_free(first_lp);
}

/* ---- new value, same key / TTL / access bits ---- */

Test(entry, with_functions_keep_key_ttl_and_lru) {
    entry *e = string_entry("key", "old", 4242);
    entry_set_lru(e, 0x123456);
    entry *n[4];
    unsigned char *lp = small_hash_listpack(2, "w");
    n[0] = entry_with_string(e, "new", 3);
    n[1] = entry_with_int(e, 9);
    n[2] = entry_with_inline(e, TYPE_HASH, lp, lp_bytes(lp));
    n[3] = entry_with_ptr(e, TYPE_STRING, ENC_RAW, kstr_new_len("a raw one", 9));
    for (int i = 0; i < 4; i++) {
        assert_key(n[i], "key", 3);
        cr_assert_eq(entry_expire(n[i]), 4242);
        cr_assert_eq(entry_lru(n[i]), 0x123456);
    }
    assert_string(n[0], "new", 3);
    assert_string(n[1], "9", 1);
    assert_same_listpack(entry_ptr(n[2]), lp);
    assert_string(n[3], "a raw one", 9);
    assert_string(e, "old", 3); /* untouched */
    for (int i = 0; i < 4; i++) entry_free(n[i]);
    entry_free(e);
    lp_free(lp);
}

Test(entry, rekey_moves_the_value_and_frees_only_the_old_block) {
    entry *e = raw_entry("old", 100, 31);
    void *value = entry_ptr(e);
    entry *n = entry_rekey(e, "new-name", 8);
    assert_key(n, "new-name", 8);
    cr_assert_eq(entry_ptr(n), value);
    cr_assert_eq(entry_expire(n), 31);
    cr_assert_eq(stubs.values_freed, 0);
    entry_free(n);
    cr_assert_eq(stubs.values_freed, 1);
}

Test(entry, dup_copies_pointer_values) {
    entry *e = raw_entry("k", 60, -1);
    entry *d = entry_dup(e, "k2", 2);
    cr_assert_neq(entry_ptr(d), entry_ptr(e), "a copy must not share the value");
    assert_string(d, entry_ptr(e), 60);
    entry_free(e);
    entry_free(d);
    cr_assert_eq(stubs.values_freed, 2);
}

Test(entry, free_shell_leaves_the_value) {
    entry *e = raw_entry("k", 60, -1);
    char *value = entry_ptr(e);
    entry_free_shell(e);
    cr_assert_eq(stubs.values_freed, 0);
    kstr_free(value);
}
