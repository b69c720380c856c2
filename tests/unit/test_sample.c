/*
 * sample unit tests: the partial shuffle picks k distinct items and gives
 * every item the same chance to be picked, the pointer set tells repeats
 * apart, and a table pick returns only elements of the table and reaches
 * all of them. The generator's seed is fixed, so the counts are
 * deterministic; bounds are many standard deviations wide.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/hashtable.h"
#include "lib/random.h"
#include "lib/sample.h"
#include "lib/zmalloc.h"

Test(sample, shuffle_prefix_picks_distinct_items_fairly) {
    enum { N = 20, K = 5, ROUNDS = 40000 };
    unsigned picked[N] = {0};
    random_seed(1);
    for (int r = 0; r < ROUNDS; r++) {
        void *a[N];
        for (uintptr_t i = 0; i < N; i++) a[i] = (void *)(i + 1);
        sample_shuffle_prefix(a, N, K);
        unsigned seen = 0;
        for (int i = 0; i < N; i++) {
            uintptr_t v = (uintptr_t)a[i];
            cr_assert(v >= 1 && v <= N, "an item was lost");
            cr_assert_eq(seen & (1u << (v - 1)), 0, "item %zu twice", (size_t)v);
            seen |= 1u << (v - 1);
            if (i < K) picked[v - 1]++;
        }
    }
    /* Each item lands in the prefix with probability K/N = 1/4: 10,000 of
     * 40,000 rounds, standard deviation 87. */
    for (int i = 0; i < N; i++)
        cr_assert(picked[i] > 9400 && picked[i] < 10600, "item %d: %u", i, picked[i]);
}

Test(sample, shuffle_prefix_of_everything_is_a_permutation) {
    void *a[3] = {(void *)1, (void *)2, (void *)3};
    sample_shuffle_prefix(a, 3, 3);
    cr_assert_eq((uintptr_t)a[0] + (uintptr_t)a[1] + (uintptr_t)a[2], 6);
    void *one[1] = {(void *)7};
    sample_shuffle_prefix(one, 1, 1);
    cr_assert_eq((uintptr_t)one[0], 7);
}

Test(sample, ptr_set_tells_repeats) {
    ptr_set ps;
    ptr_set_init(&ps, 100);
    static char targets[300];
    for (int i = 0; i < 100; i++) cr_assert(ptr_set_add(&ps, &targets[i]));
    for (int i = 0; i < 100; i++) cr_assert_not(ptr_set_add(&ps, &targets[i]));
    cr_assert_eq(ps.used, 100);
    ptr_set_release(&ps);
}

typedef struct item {
    char key[16];
    int index;
} item;

static const void *item_key(const void *element, size_t *keylen) {
    const item *it = element;
    *keylen = strlen(it->key);
    return it->key;
}

Test(sample, table_element_is_a_member_and_reaches_all) {
    enum { N = 300 };
    static const hashtable_type type = {.element_key = item_key};
    static item items[N];
    hashtable *ht = hashtable_create(&type);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof(items[i].key), "k%d", i);
        items[i].index = i;
        cr_assert(hashtable_add(ht, &items[i]));
    }
    static unsigned hits[N];
    random_seed(2);
    for (int r = 0; r < 60000; r++) {
        item *it = sample_table_element(ht);
        cr_assert(it >= items && it < items + N, "not an element of the table");
        hits[it->index]++;
    }
    /* 200 per element on average; an element never picked, or picked
     * four times too often, would be a broken pick. */
    for (int i = 0; i < N; i++)
        cr_assert(hits[i] > 50 && hits[i] < 800, "element %d: %u", i, hits[i]);
    hashtable_release(ht);
}
