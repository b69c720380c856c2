#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/hashtable.h"
#include "lib/zmalloc.h"

/* Test elements: a key of up to 23 bytes (binary) and a payload. */
typedef struct item {
    uint8_t len;
    char key[23];
    int value;
} item;

static const void *item_key(const void *element, size_t *keylen) {
    const item *it = element;
    *keylen = it->len;
    return it->key;
}

static int destroyed;
static void item_free(void *element) {
    destroyed++;
    zfree(element);
}

static int refuse_growth(size_t more, double fill) {
    return 0;
}

static const hashtable_type plain_type = {.element_key = item_key};
static const hashtable_type owning_type = {.element_key = item_key, .element_destructor = item_free};
static const hashtable_type refusing_type = {.element_key = item_key, .resize_allowed = refuse_growth};

static void set_key(item *it, const void *key, size_t len) {
    it->len = (uint8_t)len;
    memcpy(it->key, key, len);
}

static void number_key(item *it, size_t n) {
    it->len = (uint8_t)snprintf(it->key, sizeof(it->key), "key:%zu", n);
}

static item *new_item(size_t n) {
    item *it = zcalloc(sizeof(*it));
    number_key(it, n);
    it->value = (int)n;
    return it;
}

/* An array of numbered items owned by the test, not the table. */
static item *make_items(size_t count) {
    item *items = zcalloc(count * sizeof(item));
    for (size_t i = 0; i < count; i++) {
        number_key(&items[i], i);
        items[i].value = (int)i;
    }
    return items;
}

static int find_item(hashtable *ht, const item *key, item **found) {
    void *f = NULL;
    int ok = hashtable_find(ht, key->key, key->len, &f);
    if (found) *found = f;
    return ok;
}

static void finish_rehash(hashtable *ht) {
    while (hashtable_is_rehashing(ht)) hashtable_rehash_microseconds(ht, 1000);
}

Test(hashtable, add_find_delete_pop) {
    destroyed = 0;
    hashtable *ht = hashtable_create(&owning_type);
    item *a = new_item(1), *b = new_item(2), *dup = new_item(1);
    cr_assert_eq(hashtable_add(ht, a), 1);
    cr_assert_eq(hashtable_add(ht, b), 1);
    cr_assert_eq(hashtable_add(ht, dup), 0, "same key twice");
    cr_assert_eq(hashtable_size(ht), 2);

    item *found;
    cr_assert(find_item(ht, a, &found));
    cr_assert_eq(found, a);
    cr_assert(!hashtable_find(ht, "key:3", 5, (void **)&found));

    void *popped = NULL;
    cr_assert_eq(hashtable_pop(ht, "key:2", 5, &popped), 1);
    cr_assert_eq(popped, b);
    cr_assert_eq(destroyed, 0, "pop does not destroy");
    cr_assert_eq(hashtable_pop(ht, "key:2", 5, &popped), 0);

    cr_assert_eq(hashtable_delete(ht, "key:1", 5), 1);
    cr_assert_eq(destroyed, 1);
    cr_assert_eq(hashtable_delete(ht, "key:1", 5), 0);
    cr_assert_eq(hashtable_size(ht), 0);
    cr_assert(!find_item(ht, dup, NULL));

    zfree(b);
    zfree(dup);
    hashtable_release(ht);
}

Test(hashtable, add_or_find) {
    hashtable *ht = hashtable_create(&plain_type);
    item a, a2;
    number_key(&a, 7);
    number_key(&a2, 7);
    void *existing = NULL;
    cr_assert_eq(hashtable_add_or_find(ht, &a, &existing), 1);
    cr_assert_null(existing);
    cr_assert_eq(hashtable_add_or_find(ht, &a2, &existing), 0);
    cr_assert_eq(existing, &a);
    cr_assert_eq(hashtable_size(ht), 1);
    hashtable_release(ht);
}

Test(hashtable, million_elements, .timeout = 20) {
    const size_t n = 1000000;
    item *items = make_items(n);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < n; i++) cr_assert_eq(hashtable_add(ht, &items[i]), 1);
    cr_assert_eq(hashtable_size(ht), n);
    for (size_t i = 0; i < n; i++) {
        item *found;
        cr_assert(find_item(ht, &items[i], &found));
        cr_assert_eq(found, &items[i]);
    }
    item absent;
    number_key(&absent, n + 1);
    cr_assert(!find_item(ht, &absent, NULL));
    /* About 17 bytes per element at this size (2^18 buckets). */
    cr_expect_lt(hashtable_mem_usage(ht), n * 20);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(hashtable_delete(ht, items[i].key, items[i].len), 1);
    cr_assert_eq(hashtable_size(ht), 0);
    finish_rehash(ht);
    cr_expect_leq(hashtable_buckets(ht), 1, "shrinks back after deleting everything");
    hashtable_release(ht);
    zfree(items);
}

Test(hashtable, find_ref_replaces_in_place) {
    hashtable *ht = hashtable_create(&plain_type);
    item *items = make_items(100);
    for (size_t i = 0; i < 100; i++) hashtable_add(ht, &items[i]);
    item replacement;
    number_key(&replacement, 42);
    replacement.value = -1;
    void **ref = hashtable_find_ref(ht, replacement.key, replacement.len);
    cr_assert_not_null(ref);
    cr_assert_eq(*ref, &items[42]);
    *ref = &replacement;
    item *found;
    cr_assert(find_item(ht, &items[42], &found));
    cr_assert_eq(found, &replacement);
    cr_assert_null(hashtable_find_ref(ht, "nope", 4));
    cr_assert_eq(hashtable_size(ht), 100);
    hashtable_release(ht);
    zfree(items);
}

/* Counts how many times each numbered item was seen. */
typedef struct seen_counts {
    item *base;
    size_t count;
    int *times;
} seen_counts;

static void count_seen(void *privdata, void *element) {
    seen_counts *s = privdata;
    size_t idx = (size_t)((item *)element - s->base);
    cr_assert_lt(idx, s->count);
    s->times[idx]++;
}

static void iterate_all(hashtable *ht, int safe, seen_counts *s) {
    hashtable_iterator it;
    hashtable_iter_init(&it, ht, safe);
    void *e;
    while (hashtable_iter_next(&it, &e)) count_seen(s, e);
    hashtable_iter_release(&it);
}

Test(hashtable, unsafe_iteration_sees_each_once) {
    const size_t n = 5000;
    item *items = make_items(n);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    seen_counts s = {items, n, zcalloc(n * sizeof(int))};
    iterate_all(ht, 0, &s);
    for (size_t i = 0; i < n; i++) cr_assert_eq(s.times[i], 1, "item %zu", i);
    zfree(s.times);
    hashtable_release(ht);
    zfree(items);
}

Test(hashtable, safe_iteration_with_deletion) {
    const size_t n = 5000;
    item *items = make_items(n);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    hashtable_expand(ht, 4 * n); /* iterate across a paused rehash too */
    cr_assert(hashtable_is_rehashing(ht));
    int *times = zcalloc(n * sizeof(int));
    hashtable_iterator it;
    hashtable_iter_init(&it, ht, 1);
    void *e;
    while (hashtable_iter_next(&it, &e)) {
        item *x = e;
        size_t idx = (size_t)(x - items);
        times[idx]++;
        if (idx % 2 == 0) cr_assert_eq(hashtable_delete(ht, x->key, x->len), 1);
        /* Lookups are allowed and must not move anything. */
        cr_assert(find_item(ht, &items[n - 1], NULL));
    }
    hashtable_iter_release(&it);
    for (size_t i = 0; i < n; i++) cr_assert_eq(times[i], 1, "item %zu", i);
    cr_assert_eq(hashtable_size(ht), n / 2);
    for (size_t i = 0; i < n; i++) cr_assert_eq(find_item(ht, &items[i], NULL), (int)(i % 2));
    zfree(times);
    hashtable_release(ht);
    zfree(items);
}

/* --- SCAN guarantee ---------------------------------------------------- */

typedef struct scan_state {
    size_t pool;
    unsigned char *present;       /* now in the table */
    unsigned char *whole_scan;    /* present since the scan began */
    unsigned char *seen;
    item *items;
} scan_state;

static void mark_scanned(void *privdata, void *element) {
    scan_state *s = privdata;
    size_t idx = (size_t)((item *)element - s->items);
    cr_assert(s->present[idx], "scan returned an element not in the table");
    s->seen[idx] = 1;
}

static uint64_t test_rng = 88172645463325252u;
static uint64_t rnd(void) {
    test_rng ^= test_rng << 13;
    test_rng ^= test_rng >> 7;
    test_rng ^= test_rng << 17;
    return test_rng;
}

static void random_mutation(hashtable *ht, scan_state *s, int grow_bias) {
    size_t idx = rnd() % s->pool;
    int want_insert = (int)(rnd() % 100) < grow_bias;
    if (want_insert && !s->present[idx]) {
        cr_assert(hashtable_add(ht, &s->items[idx]));
        s->present[idx] = 1;
    } else if (!want_insert && s->present[idx]) {
        cr_assert(hashtable_delete(ht, s->items[idx].key, s->items[idx].len));
        s->present[idx] = s->whole_scan[idx] = 0;
    }
}

static void occasional_resize(hashtable *ht, size_t size) {
    switch (rnd() % 16) {
    case 0: hashtable_expand(ht, size * 3); break;
    case 1: hashtable_shrink_if_needed(ht); break;
    case 2: hashtable_rehash_microseconds(ht, 50); break;
    default: break;
    }
}

/* One scan with mutations between the calls; grow_bias > 50 makes the table
 * grow during the scan, < 50 shrink. */
static void scan_under_churn(size_t pool, size_t initial, int grow_bias, int ops_per_call) {
    scan_state s = {pool, zcalloc(pool), zcalloc(pool), zcalloc(pool), make_items(pool)};
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < initial; i++) {
        size_t idx = rnd() % pool;
        if (!s.present[idx]) {
            hashtable_add(ht, &s.items[idx]);
            s.present[idx] = 1;
        }
    }
    memcpy(s.whole_scan, s.present, pool);
    size_t cursor = 0, calls = 0, rehashing_calls = 0;
    size_t first_buckets = hashtable_buckets(ht), changed = 0;
    do {
        rehashing_calls += (size_t)hashtable_is_rehashing(ht);
        changed += hashtable_buckets(ht) != first_buckets;
        cursor = hashtable_scan(ht, cursor, mark_scanned, &s);
        for (int k = 0; k < ops_per_call; k++) random_mutation(ht, &s, grow_bias);
        occasional_resize(ht, hashtable_size(ht));
        calls++;
    } while (cursor != 0);
    for (size_t i = 0; i < pool; i++)
        if (s.whole_scan[i]) cr_assert(s.seen[i], "item %zu present all along but not scanned", i);
    cr_assert_gt(calls, 1);
    cr_assert_gt(changed, 0, "the table was resized during the scan");
    cr_assert_gt(rehashing_calls, 0, "some calls happened during a rehash");
    hashtable_release(ht);
    zfree(s.present);
    zfree(s.whole_scan);
    zfree(s.seen);
    zfree(s.items);
}

Test(hashtable, scan_guarantee_growing) {
    for (int round = 0; round < 20; round++) scan_under_churn(20000, 200, 90, 20);
}

Test(hashtable, scan_guarantee_shrinking) {
    for (int round = 0; round < 20; round++) scan_under_churn(20000, 15000, 5, 40);
}

Test(hashtable, scan_guarantee_steady_churn) {
    for (int round = 0; round < 20; round++) scan_under_churn(5000, 3000, 50, 5);
}

Test(hashtable, scan_empty_and_stable) {
    hashtable *ht = hashtable_create(&plain_type);
    seen_counts s = {NULL, 0, NULL};
    cr_assert_eq(hashtable_scan(ht, 0, count_seen, &s), 0);
    const size_t n = 3000;
    item *items = make_items(n);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    s = (seen_counts){items, n, zcalloc(n * sizeof(int))};
    size_t cursor = 0;
    do cursor = hashtable_scan(ht, cursor, count_seen, &s); while (cursor);
    for (size_t i = 0; i < n; i++) cr_assert_geq(s.times[i], 1);
    zfree(s.times);
    hashtable_release(ht);
    zfree(items);
}

/* --- Random and sampling ---------------------------------------------- */

Test(hashtable, random_and_sample) {
    hashtable *ht = hashtable_create(&plain_type);
    void *e, *dst[64];
    cr_assert_eq(hashtable_random_element(ht, &e), 0);
    cr_assert_eq(hashtable_sample_elements(ht, dst, 10), 0);

    item one;
    number_key(&one, 1);
    hashtable_add(ht, &one);
    cr_assert_eq(hashtable_random_element(ht, &e), 1);
    cr_assert_eq(e, &one);
    cr_assert_eq(hashtable_sample_elements(ht, dst, 10), 1);
    cr_assert_eq(dst[0], &one);
    hashtable_delete(ht, one.key, one.len);

    const size_t n = 1000;
    item *items = make_items(n);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    int *times = zcalloc(n * sizeof(int));
    for (int i = 0; i < 20000; i++) {
        cr_assert(hashtable_random_element(ht, &e));
        times[(item *)e - items]++;
    }
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) distinct += times[i] > 0;
    cr_expect_gt(distinct, n * 9 / 10, "random elements spread over the table");

    size_t got = hashtable_sample_elements(ht, dst, 64);
    cr_assert_gt(got, 0);
    cr_assert_leq(got, 64);
    for (size_t i = 0; i < got; i++) {
        cr_assert(find_item(ht, dst[i], NULL));
        for (size_t j = 0; j < i; j++) cr_assert_neq(dst[i], dst[j], "no duplicates");
    }
    zfree(times);
    hashtable_release(ht);
    zfree(items);
}

/* --- Resizing ---------------------------------------------------------- */

Test(hashtable, shrink) {
    const size_t n = 10000;
    item *items = make_items(n);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    finish_rehash(ht);
    size_t big = hashtable_buckets(ht);

    /* Deletes under a safe iterator cannot shrink... */
    hashtable_iterator it;
    hashtable_iter_init(&it, ht, 1);
    void *e;
    while (hashtable_iter_next(&it, &e)) {
        item *x = e;
        if (x - items >= 100) hashtable_delete(ht, x->key, x->len);
    }
    hashtable_iter_release(&it);
    cr_assert_eq(hashtable_size(ht), 100);
    cr_assert_eq(hashtable_buckets(ht), big);

    /* ...shrink_if_needed does it afterwards. */
    hashtable_shrink_if_needed(ht);
    finish_rehash(ht);
    cr_assert_lt(hashtable_buckets(ht), big);
    cr_assert_leq(hashtable_buckets(ht) * 7 * 77 / 100, 2 * 100, "smallest that fits");
    cr_assert_geq(hashtable_buckets(ht) * 7 * 77 / 100, 100);
    for (size_t i = 0; i < n; i++) cr_assert_eq(find_item(ht, &items[i], NULL), i < 100);

    /* Automatic shrink on delete. */
    for (size_t i = 0; i < 95; i++) hashtable_delete(ht, items[i].key, items[i].len);
    finish_rehash(ht);
    cr_assert_leq(hashtable_buckets(ht), 2);
    hashtable_release(ht);
    zfree(items);
}

Test(hashtable, resize_refused_until_hard_limit) {
    const size_t n = 2000;
    item *items = make_items(n);
    hashtable *ht = hashtable_create(&refusing_type);
    hashtable_expand(ht, 500);
    size_t nb = hashtable_buckets(ht);
    size_t slots = nb * 7;
    size_t i = 0;
    /* Fills past the normal threshold without growing... */
    for (; i < slots * 90 / 100; i++) hashtable_add(ht, &items[i]);
    cr_assert_eq(hashtable_buckets(ht), nb);
    cr_assert(!hashtable_is_rehashing(ht));
    /* ...but grows once the hard limit is reached. */
    for (; i < slots; i++) hashtable_add(ht, &items[i]);
    cr_assert_gt(hashtable_buckets(ht), nb);
    for (size_t j = 0; j < i; j++) cr_assert(find_item(ht, &items[j], NULL));
    hashtable_release(ht);
    zfree(items);
}

Test(hashtable, rehashing_uses_both_tables) {
    const size_t n = 1000;
    item *items = make_items(n + 100);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < n; i++) hashtable_add(ht, &items[i]);
    finish_rehash(ht);
    size_t old_nb = hashtable_buckets(ht);
    size_t old_mem = hashtable_mem_usage(ht);
    hashtable_expand(ht, 100000);
    cr_assert(hashtable_is_rehashing(ht));
    cr_assert_gt(hashtable_buckets(ht), old_nb, "counts both tables");
    cr_assert_gt(hashtable_mem_usage(ht), old_mem);

    /* A few operations move a few buckets: still rehashing, all findable. */
    for (size_t i = n; i < n + 100; i++) cr_assert(hashtable_add(ht, &items[i]));
    cr_assert(hashtable_is_rehashing(ht));
    cr_assert(hashtable_delete(ht, items[0].key, items[0].len));
    cr_assert(!hashtable_add(ht, &items[5]), "duplicate detected across tables");
    seen_counts s = {items, n + 100, zcalloc((n + 100) * sizeof(int))};
    iterate_all(ht, 0, &s);
    for (size_t i = 1; i < n + 100; i++) cr_assert_eq(s.times[i], 1);
    cr_assert_eq(s.times[0], 0);
    memset(s.times, 0, (n + 100) * sizeof(int));
    size_t cursor = 0;
    do cursor = hashtable_scan(ht, cursor, count_seen, &s); while (cursor);
    for (size_t i = 1; i < n + 100; i++) cr_assert_geq(s.times[i], 1);

    size_t moved = hashtable_rehash_microseconds(ht, 1000000);
    cr_assert_gt(moved, 0);
    cr_assert(!hashtable_is_rehashing(ht));
    for (size_t i = 1; i < n + 100; i++) cr_assert(find_item(ht, &items[i], NULL));
    cr_assert_eq(hashtable_size(ht), n + 99);
    zfree(s.times);
    hashtable_release(ht);
    zfree(items);
}

Test(hashtable, steady_churn_keeps_working) {
    const size_t pool = 40000;
    item *items = make_items(pool);
    unsigned char *present = zcalloc(pool);
    hashtable *ht = hashtable_create(&plain_type);
    for (size_t i = 0; i < pool / 2; i++) {
        hashtable_add(ht, &items[i]);
        present[i] = 1;
    }
    for (size_t k = 0; k < 400000; k++) {
        size_t idx = rnd() % pool;
        if (present[idx])
            cr_assert(hashtable_delete(ht, items[idx].key, items[idx].len));
        else
            cr_assert(hashtable_add(ht, &items[idx]));
        present[idx] ^= 1;
    }
    for (size_t i = 0; i < pool; i++) cr_assert_eq(find_item(ht, &items[i], NULL), present[i]);
    hashtable_release(ht);
    zfree(present);
    zfree(items);
}

Test(hashtable, destructor_calls) {
    destroyed = 0;
    hashtable *ht = hashtable_create(&owning_type);
    for (size_t i = 0; i < 1000; i++) hashtable_add(ht, new_item(i));
    char key[32];
    for (size_t i = 0; i < 100; i++) {
        int len = snprintf(key, sizeof(key), "key:%zu", i);
        cr_assert(hashtable_delete(ht, key, (size_t)len));
    }
    cr_assert_eq(destroyed, 100);
    for (size_t i = 100; i < 200; i++) {
        int len = snprintf(key, sizeof(key), "key:%zu", i);
        void *popped;
        cr_assert(hashtable_pop(ht, key, (size_t)len, &popped));
        zfree(popped);
    }
    cr_assert_eq(destroyed, 100, "pop leaves the element to the caller");
    hashtable_empty(ht);
    cr_assert_eq(destroyed, 900);
    cr_assert_eq(hashtable_size(ht), 0);
    for (size_t i = 0; i < 50; i++) hashtable_add(ht, new_item(i));
    hashtable_expand(ht, 5000); /* release in the middle of a rehash */
    hashtable_release(ht);
    cr_assert_eq(destroyed, 950);
}

Test(hashtable, binary_keys) {
    hashtable *ht = hashtable_create(&plain_type);
    static const char *const keys[] = {"a\0b", "a\0c", "a", "", "\0", "\0\0", "a\0"};
    static const size_t lens[] = {3, 3, 1, 0, 1, 2, 2};
    item items[7];
    for (int i = 0; i < 7; i++) {
        set_key(&items[i], keys[i], lens[i]);
        cr_assert(hashtable_add(ht, &items[i]), "key %d", i);
    }
    cr_assert_eq(hashtable_size(ht), 7);
    for (int i = 0; i < 7; i++) {
        void *f;
        cr_assert(hashtable_find(ht, keys[i], lens[i], &f));
        cr_assert_eq(f, &items[i]);
    }
    cr_assert(!hashtable_find(ht, "a\0d", 3, &(void *){0}));
    cr_assert(hashtable_delete(ht, "\0", 1));
    cr_assert(hashtable_find(ht, "\0\0", 2, &(void *){0}));
    cr_assert(hashtable_find(ht, "", 0, &(void *){0}));
    hashtable_release(ht);
}

Test(hashtable, seed_changes_hash) {
    uint64_t before = hashtable_hash("abc", 3);
    uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hashtable_set_seed(seed);
    cr_assert_neq(hashtable_hash("abc", 3), before);
    cr_assert_eq(hashtable_hash("abc", 3), hashtable_hash("abc", 3));
}
