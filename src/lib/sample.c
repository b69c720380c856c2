/* See sample.h. */
#include "lib/sample.h"

#include <stdint.h>

#include "lib/hashtable.h"
#include "lib/random.h"
#include "lib/zmalloc.h"

void sample_shuffle_prefix(void **a, size_t n, size_t k) {
    for (size_t i = 0; i < k && i + 1 < n; i++) {
        size_t j = i + random_below(n - i);
        void *t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

#define FAIR_SAMPLE 16

void *sample_table_element(hashtable *ht) {
    void *sample[FAIR_SAMPLE];
    size_t n = hashtable_sample_elements(ht, sample, FAIR_SAMPLE);
    if (n) return sample[random_below(n)];
    void *el = NULL;
    hashtable_random_element(ht, &el);
    return el;
}

void ptr_set_init(ptr_set *ps, size_t expected) {
    size_t size = 16;
    while (size < expected * 2) size <<= 1;
    ps->slots = zcalloc(size * sizeof(void *));
    ps->mask = size - 1;
    ps->used = 0;
}

int ptr_set_add(ptr_set *ps, void *p) {
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    for (size_t i = h & ps->mask;; i = (i + 1) & ps->mask) {
        if (ps->slots[i] == p) return 0;
        if (!ps->slots[i]) {
            ps->slots[i] = p;
            ps->used++;
            return 1;
        }
    }
}

void ptr_set_release(ptr_set *ps) { zfree(ps->slots); }
