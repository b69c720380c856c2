/* Unit tests for kstr (strings) and util (number parsing, glob matching,
 * memory sizes): the conversions whose exact rules clients depend on. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "lib/kstr.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

Test(kstr, new_cat_len_binary_safe) {
    kstr s = kstr_new_len("a\0b", 3);
    cr_assert_eq(kstr_len(s), 3);
    s = kstr_cat_len(s, "\0c", 2);
    cr_assert_eq(kstr_len(s), 5);
    cr_assert(memcmp(s, "a\0b\0c", 5) == 0);
    cr_assert_eq(s[5], '\0');
    kstr_free(s);
}

Test(kstr, growth_keeps_content) {
    kstr s = kstr_empty();
    for (int i = 0; i < 100000; i++) s = kstr_cat_len(s, "x", 1);
    cr_assert_eq(kstr_len(s), 100000);
    cr_assert(kstr_avail(s) < 2 * 1024 * 1024);
    for (int i = 0; i < 100000; i++) cr_assert_eq(s[i], 'x');
    kstr_free(s);
}

Test(kstr, range_like_getrange) {
    kstr s = kstr_new("hello world");
    kstr_range(s, -5, -1);
    cr_assert_str_eq(s, "world");
    kstr_range(s, 3, 100);
    cr_assert_str_eq(s, "ld");
    kstr_range(s, 5, 6);
    cr_assert_eq(kstr_len(s), 0);
    kstr_free(s);
}

Test(kstr, consume_and_grow_zero) {
    kstr s = kstr_new("abcdef");
    kstr_consume(s, 2);
    cr_assert_str_eq(s, "cdef");
    s = kstr_grow_zero(s, 8);
    cr_assert_eq(kstr_len(s), 8);
    cr_assert(memcmp(s, "cdef\0\0\0\0", 8) == 0);
    kstr_free(s);
}

Test(kstr, split_args_quotes_and_escapes) {
    int argc;
    kstr *v = kstr_split_args("set \"a b\" 'c\\'d' \"\\x41\\n\"", &argc);
    cr_assert_not_null(v);
    cr_assert_eq(argc, 4);
    cr_assert_str_eq(v[1], "a b");
    cr_assert_str_eq(v[2], "c'd");
    cr_assert_str_eq(v[3], "A\n");
    kstr_free_split(v, argc);
    cr_assert_null(kstr_split_args("set \"unterminated", &argc));
    cr_assert_null(kstr_split_args("\"a\"b", &argc));
    v = kstr_split_args("   ", &argc);
    cr_assert_eq(argc, 0);
    kstr_free_split(v, argc);
}

/* CONFIG REWRITE writes a binary string with kstr_cat_repr and the
 * config file parser reads it with kstr_split_args: every byte value
 * must come back (NUL, quotes, backslash, controls, high bytes). */
Test(kstr, repr_reads_back_through_split_args) {
    char all[256];
    for (int i = 0; i < 256; i++) all[i] = (char)i;
    kstr line = kstr_cat_repr(kstr_new("requirepass "), all, sizeof(all));
    cr_assert_null(memchr(line, '\0', kstr_len(line)));
    int argc;
    kstr *v = kstr_split_args(line, &argc);
    cr_assert_not_null(v);
    cr_assert_eq(argc, 2);
    cr_assert_eq(kstr_len(v[1]), sizeof(all));
    cr_assert(memcmp(v[1], all, sizeof(all)) == 0);
    kstr_free_split(v, argc);
    kstr_free(line);
}

Test(util, string_to_ll_is_canonical_only) {
    long long v;
    cr_assert(string_to_ll("0", 1, &v) && v == 0);
    cr_assert(string_to_ll("-1", 2, &v) && v == -1);
    cr_assert(string_to_ll("9223372036854775807", 19, &v) && v == LLONG_MAX);
    cr_assert(string_to_ll("-9223372036854775808", 20, &v) && v == LLONG_MIN);
    const char *bad[] = {"", "-", "01", "+1", " 1", "1 ", "-0", "9223372036854775808", "1e3", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(string_to_ll(bad[i], strlen(bad[i]), &v), "accepted '%s'", bad[i]);
}

Test(util, string_to_double_rejects_nan_and_spaces) {
    double d;
    cr_assert(string_to_double("1.5", 3, &d) && d == 1.5);
    cr_assert(string_to_double("-inf", 4, &d) && d < 0);
    cr_assert_not(string_to_double("nan", 3, &d));
    cr_assert_not(string_to_double(" 1", 2, &d));
    cr_assert_not(string_to_double("1x", 2, &d));
}

Test(util, double_and_long_double_formatting) {
    char buf[128];
    double_to_string(buf, sizeof(buf), 3.0);
    cr_assert_str_eq(buf, "3");
    double_to_string(buf, sizeof(buf), 1.5);
    cr_assert_str_eq(buf, "1.5");
    double_to_string(buf, sizeof(buf), -1.0 / 0.0);
    cr_assert_str_eq(buf, "-inf");
    long_double_to_string(buf, sizeof(buf), 10.5L + 0.1L);
    cr_assert_str_eq(buf, "10.6");
    long_double_to_string(buf, sizeof(buf), 5000.0L);
    cr_assert_str_eq(buf, "5000");
    long_double_to_string(buf, sizeof(buf), -0.0L);
    cr_assert_str_eq(buf, "0");
}

static int gm(const char *p, const char *s) { return glob_match(p, strlen(p), s, strlen(s), 0); }

Test(util, glob_match_like_redis) {
    cr_assert(gm("*", ""));
    cr_assert(gm("h?llo", "hello"));
    cr_assert(gm("h*llo", "heeeello"));
    cr_assert(gm("h[ae]llo", "hallo"));
    cr_assert_not(gm("h[ae]llo", "hillo"));
    cr_assert(gm("h[^e]llo", "hallo"));
    cr_assert_not(gm("h[^e]llo", "hello"));
    cr_assert(gm("h[a-b]llo", "hbllo"));
    cr_assert(gm("h[c-a]llo", "hbllo")); /* reversed range, as Redis */
    cr_assert(gm("h\\*llo", "h*llo"));
    cr_assert_not(gm("h\\*llo", "hello"));
    cr_assert(gm("a*b*c", "aXXbYYc"));
    cr_assert_not(gm("a*b*c", "aXXbYY"));
    cr_assert(glob_match("ABC", 3, "abc", 3, 1));
    /* Pathological pattern stays fast (no exponential backtracking). */
    char s[4000];
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    cr_assert_not(gm("a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
}

Test(util, memory_sizes_with_redis_units) {
    long long v;
    cr_assert(parse_memory_size("1gb", &v) && v == 1073741824LL);
    cr_assert(parse_memory_size("100mb", &v) && v == 104857600LL);
    cr_assert(parse_memory_size("5kb", &v) && v == 5120);
    cr_assert(parse_memory_size("2000mb", &v) && v == 2000LL * 1024 * 1024);
    cr_assert(parse_memory_size("1k", &v) && v == 1000);
    cr_assert(parse_memory_size("1GB", &v) && v == 1073741824LL);
    cr_assert(parse_memory_size("12345", &v) && v == 12345);
    cr_assert_not(parse_memory_size("12xb", &v));
    cr_assert_not(parse_memory_size("mb", &v));
    cr_assert_not(parse_memory_size("99999999999999gb", &v));
}

Test(zmalloc, used_memory_tracks_usable_size) {
    size_t before = zmalloc_used_memory();
    void *p = zmalloc(100);
    cr_assert_eq(zmalloc_used_memory() - before, zmalloc_size(p));
    p = zrealloc(p, 5000);
    cr_assert_eq(zmalloc_used_memory() - before, zmalloc_size(p));
    zfree(p);
    cr_assert_eq(zmalloc_used_memory(), before);
}

Test(util, ll_to_string_edges) {
    char buf[32];
    cr_assert_eq(ll_to_string(buf, sizeof(buf), 0), 1);
    cr_assert_str_eq(buf, "0");
    ll_to_string(buf, sizeof(buf), -42);
    cr_assert_str_eq(buf, "-42");
    ll_to_string(buf, sizeof(buf), LLONG_MIN);
    cr_assert_str_eq(buf, "-9223372036854775808");
    ll_to_string(buf, sizeof(buf), LLONG_MAX);
    cr_assert_str_eq(buf, "9223372036854775807");
    cr_assert_eq(ll_to_string(buf, 3, 12345), 0);
}
