#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quicklist.h"
#include "lib/zmalloc.h"

static void push_str(quicklist *ql, const char *s, int where) { ql_push(ql, s, strlen(s), where); }

static void expect_value(const ql_value *v, const char *s) {
    cr_assert_eq(v->len, strlen(s), "len %u vs '%s'", v->len, s);
    cr_assert(memcmp(v->s, s, v->len) == 0, "value '%.*s' vs '%s'", (int)v->len, v->s, s);
}

static void expect_index(quicklist *ql, long long i, const char *s) {
    ql_value v;
    cr_assert(ql_index(ql, i, &v), "index %lld missing", i);
    expect_value(&v, s);
}

Test(quicklist, push_pop_both_ends) {
    quicklist *ql = ql_create(-2, 0);
    push_str(ql, "b", QL_HEAD);
    push_str(ql, "a", QL_HEAD);
    push_str(ql, "c", QL_TAIL);
    push_str(ql, "12345", QL_TAIL);
    cr_assert_eq(ql->count, 4);
    ql_value v;
    cr_assert(ql_peek(ql, QL_HEAD, &v));
    expect_value(&v, "a");
    cr_assert(ql_peek(ql, QL_TAIL, &v));
    expect_value(&v, "12345");
    cr_assert(ql_pop_discard(ql, QL_TAIL));
    cr_assert(ql_pop_discard(ql, QL_HEAD));
    expect_index(ql, 0, "b");
    expect_index(ql, -1, "c");
    ql_pop_discard(ql, QL_HEAD);
    ql_pop_discard(ql, QL_HEAD);
    cr_assert_eq(ql->count, 0);
    cr_assert_eq(ql->len, 0);
    cr_assert_not(ql_pop_discard(ql, QL_HEAD));
    cr_assert_not(ql_peek(ql, QL_TAIL, &v));
    cr_assert(ql_check(ql));
    ql_release(ql);
}

Test(quicklist, nodes_split_at_count_limit) {
    quicklist *ql = ql_create(4, 0);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        push_str(ql, buf, QL_TAIL);
    }
    cr_assert_eq(ql->len, 3);
    cr_assert_eq(ql->head->count, 4);
    cr_assert(ql_check(ql));
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        expect_index(ql, i, buf);
        expect_index(ql, i - 10, buf);
    }
    ql_value v;
    cr_assert_not(ql_index(ql, 10, &v));
    cr_assert_not(ql_index(ql, -11, &v));
    ql_release(ql);
}

Test(quicklist, nodes_split_at_byte_limit) {
    quicklist *ql = ql_create(-1, 0); /* 4 KB */
    char big[1000];
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 20; i++) ql_push(ql, big, sizeof(big), QL_HEAD);
    cr_assert(ql->len >= 5);
    for (ql_node *n = ql->head; n; n = n->next) cr_assert_leq(n->sz, 4096);
    /* A value larger than any node gets a node of its own. */
    char *huge = malloc(10000);
    memset(huge, 'y', 10000);
    ql_push(ql, huge, 10000, QL_TAIL);
    cr_assert_eq(ql->tail->count, 1);
    cr_assert(ql_check(ql));
    free(huge);
    ql_release(ql);
}

Test(quicklist, iterate_both_ways_and_from_index) {
    quicklist *ql = ql_create(3, 0);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        push_str(ql, buf, QL_TAIL);
    }
    ql_iter it;
    ql_value v;
    int expect = 0;
    ql_iter_init(&it, ql, 0, 1);
    while (ql_iter_next(&it, &v)) {
        snprintf(buf, sizeof(buf), "%d", expect++);
        expect_value(&v, buf);
    }
    cr_assert_eq(expect, 10);
    expect = 9;
    ql_iter_init(&it, ql, -1, 0);
    while (ql_iter_next(&it, &v)) {
        snprintf(buf, sizeof(buf), "%d", expect--);
        expect_value(&v, buf);
    }
    cr_assert_eq(expect, -1);
    ql_iter_init(&it, ql, 5, 0);
    cr_assert(ql_iter_next(&it, &v));
    expect_value(&v, "5");
    cr_assert(ql_iter_next(&it, &v));
    expect_value(&v, "4");
    ql_iter_init(&it, ql, 42, 1);
    cr_assert_not(ql_iter_next(&it, &v));
    ql_release(ql);
}

Test(quicklist, delete_while_iterating) {
    for (int forward = 0; forward <= 1; forward++) {
        quicklist *ql = ql_create(3, 0);
        char buf[32];
        for (int i = 0; i < 20; i++) {
            snprintf(buf, sizeof(buf), "%d", i % 2 ? 1 : i);
            push_str(ql, buf, QL_TAIL);
        }
        ql_iter it;
        ql_value v;
        ql_iter_init(&it, ql, forward ? 0 : -1, forward);
        int seen = 0;
        while (ql_iter_next(&it, &v)) {
            seen++;
            if (v.len == 1 && v.s[0] == '1') ql_iter_delete(&it);
        }
        cr_assert_eq(seen, 20);
        cr_assert_eq(ql->count, 10);
        cr_assert(ql_check(ql));
        for (int i = 0; i < 10; i++) {
            snprintf(buf, sizeof(buf), "%d", i * 2);
            expect_index(ql, i, buf);
        }
        ql_release(ql);
    }
}

Test(quicklist, insert_splits_and_merges) {
    quicklist *ql = ql_create(4, 0);
    char buf[32];
    for (int i = 0; i < 8; i++) {
        snprintf(buf, sizeof(buf), "e%d", i);
        push_str(ql, buf, QL_TAIL);
    }
    cr_assert_eq(ql->len, 2);
    /* Insert in the middle of a full node: split. */
    ql_iter it;
    ql_value v;
    ql_iter_init(&it, ql, 1, 1);
    cr_assert(ql_iter_next(&it, &v));
    ql_iter_insert(&it, "new", 3, 1);
    cr_assert(ql_check(ql));
    expect_index(ql, 1, "e1");
    expect_index(ql, 2, "new");
    expect_index(ql, 3, "e2");
    cr_assert_eq(ql->count, 9);
    /* Before the first entry, after the last. */
    ql_iter_init(&it, ql, 0, 1);
    ql_iter_next(&it, &v);
    ql_iter_insert(&it, "first", 5, 0);
    ql_iter_init(&it, ql, -1, 1);
    ql_iter_next(&it, &v);
    ql_iter_insert(&it, "last", 4, 1);
    expect_index(ql, 0, "first");
    expect_index(ql, -1, "last");
    cr_assert(ql_check(ql));
    /* Deleting shrinks nodes; a following split insert can merge. */
    ql_del_range(ql, 1, 6);
    cr_assert(ql_check(ql));
    cr_assert_eq(ql->count, 5);
    ql_release(ql);
}

Test(quicklist, delete_ranges) {
    quicklist *ql = ql_create(5, 0);
    char buf[32];
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        push_str(ql, buf, QL_TAIL);
    }
    ql_del_range(ql, 0, 3);
    expect_index(ql, 0, "3");
    ql_del_range(ql, 10, 20); /* crosses nodes */
    expect_index(ql, 9, "12");
    expect_index(ql, 10, "33");
    ql_del_range(ql, ql->count - 2, 100); /* clamps at the end */
    expect_index(ql, -1, "97");
    cr_assert(ql_check(ql));
    ql_del_range(ql, 0, ql->count);
    cr_assert_eq(ql->count, 0);
    cr_assert_eq(ql->len, 0);
    ql_release(ql);
}

Test(quicklist, replace_and_dup) {
    quicklist *ql = ql_create(4, 0);
    for (int i = 0; i < 10; i++) push_str(ql, "x", QL_TAIL);
    cr_assert(ql_replace_at(ql, 5, "hello", 5));
    cr_assert(ql_replace_at(ql, -1, "99", 2));
    cr_assert_not(ql_replace_at(ql, 10, "z", 1));
    expect_index(ql, 5, "hello");
    expect_index(ql, 9, "99");
    /* A value too big for its node gets a node of its own. */
    char big[9000];
    memset(big, 'b', sizeof(big));
    cr_assert(ql_replace_at(ql, 2, big, sizeof(big)));
    cr_assert(ql_check(ql));
    ql_value v;
    cr_assert(ql_index(ql, 2, &v));
    cr_assert_eq(v.len, sizeof(big));
    quicklist *copy = ql_dup(ql);
    cr_assert_eq(copy->count, ql->count);
    expect_index(copy, 5, "hello");
    cr_assert(ql_check(copy));
    cr_assert_gt(ql_mem_usage(copy, 0), sizeof(big));
    ql_release(copy);
    ql_release(ql);
}

/* Random operations against a reference array of strings. */
#define REF_MAX 4000
static char *ref[REF_MAX];
static int nref;

static void ref_insert(int at, const char *s) {
    memmove(ref + at + 1, ref + at, sizeof(char *) * (size_t)(nref - at));
    ref[at] = strdup(s);
    nref++;
}

static void ref_delete(int at) {
    free(ref[at]);
    memmove(ref + at, ref + at + 1, sizeof(char *) * (size_t)(nref - at - 1));
    nref--;
}

static void compare_with_ref(quicklist *ql) {
    cr_assert_eq(ql->count, (size_t)nref);
    ql_iter it;
    ql_value v;
    ql_iter_init(&it, ql, 0, 1);
    for (int i = 0; i < nref; i++) {
        cr_assert(ql_iter_next(&it, &v));
        expect_value(&v, ref[i]);
    }
    cr_assert_not(ql_iter_next(&it, &v));
    cr_assert(ql_check(ql));
}

static void random_value(char *buf, size_t cap) {
    int kind = rand() % 4;
    if (kind == 0) snprintf(buf, cap, "%d", rand() % 1000 - 500);
    else if (kind == 1) snprintf(buf, cap, "%lld", (long long)rand() * rand());
    else {
        size_t len = (size_t)(rand() % (kind == 3 ? 300 : 12));
        if (len >= cap) len = cap - 1;
        for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + rand() % 26);
        buf[len] = 0;
    }
}

static void random_run(int fill, int depth, unsigned seed) {
    srand(seed);
    quicklist *ql = ql_create(fill, depth);
    nref = 0;
    char buf[400];
    for (int step = 0; step < 6000; step++) {
        int op = rand() % 10;
        random_value(buf, sizeof(buf));
        if (op <= 2 && nref < REF_MAX - 1) {
            int head = rand() % 2;
            push_str(ql, buf, head ? QL_HEAD : QL_TAIL);
            ref_insert(head ? 0 : nref, buf);
        } else if (op == 3 && nref) {
            int head = rand() % 2;
            ql_pop_discard(ql, head ? QL_HEAD : QL_TAIL);
            ref_delete(head ? 0 : nref - 1);
        } else if (op == 4 && nref && nref < REF_MAX - 1) {
            int at = rand() % nref, after = rand() % 2;
            ql_iter it;
            ql_iter_init(&it, ql, at, 1);
            cr_assert(ql_iter_next(&it, NULL));
            ql_iter_insert(&it, buf, strlen(buf), after);
            ref_insert(at + after, buf);
        } else if (op == 5 && nref) {
            int at = rand() % nref, n = rand() % 40;
            ql_del_range(ql, (size_t)at, (size_t)n);
            for (int i = 0; i < n && at < nref; i++) ref_delete(at);
        } else if (op == 6 && nref) {
            int at = rand() % nref;
            cr_assert(ql_replace_at(ql, at, buf, strlen(buf)));
            free(ref[at]);
            ref[at] = strdup(buf);
        } else if (op == 7 && nref) {
            /* delete every entry equal to a random existing one, walking
             * in a random direction */
            char *target = strdup(ref[rand() % nref]);
            int forward = rand() % 2;
            ql_iter it;
            ql_value v;
            ql_iter_init(&it, ql, forward ? 0 : -1, forward);
            while (ql_iter_next(&it, &v))
                if (v.len == strlen(target) && !memcmp(v.s, target, v.len)) ql_iter_delete(&it);
            for (int i = nref - 1; i >= 0; i--)
                if (!strcmp(ref[i], target)) ref_delete(i);
            free(target);
        } else if (nref) {
            int at = rand() % nref;
            expect_index(ql, at, ref[at]);
            expect_index(ql, at - nref, ref[at]);
        }
        if (step % 500 == 0) compare_with_ref(ql);
    }
    compare_with_ref(ql);
    while (nref) ref_delete(nref - 1);
    ql_release(ql);
}

Test(quicklist, random_against_reference_count_fill) { random_run(8, 0, 1); }
Test(quicklist, random_against_reference_byte_fill) { random_run(-1, 0, 2); }
Test(quicklist, random_against_reference_one_per_node) { random_run(0, 0, 3); }
Test(quicklist, random_against_reference_default) { random_run(-2, 0, 4); }
Test(quicklist, random_against_reference_compressed_depth1) { random_run(16, 1, 5); }
Test(quicklist, random_against_reference_compressed_depth2) { random_run(-1, 2, 6); }

Test(quicklist, compression_keeps_ends_plain_and_saves_memory) {
    quicklist *plain = ql_create(-2, 0), *packed = ql_create(-2, 1);
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(buf, sizeof(buf), "item:%d", i);
        push_str(plain, buf, QL_TAIL);
        push_str(packed, buf, QL_TAIL);
    }
    cr_assert_eq(ql_compressed_nodes(plain), 0);
    cr_assert_eq(ql_compressed_nodes(packed), packed->len - 2);
    cr_assert_not(packed->head->compressed);
    cr_assert_not(packed->tail->compressed);
    size_t a = ql_mem_usage(plain, 0), b = ql_mem_usage(packed, 0);
    cr_assert_lt(b * 3, a * 2, "compressed %zu vs plain %zu", b, a);
    cr_assert(ql_check(packed));
    /* Reads in the middle expand one node at a time. */
    expect_index(packed, 12345, "item:12345");
    expect_index(packed, 777, "item:777");
    cr_assert_geq(ql_compressed_nodes(packed), packed->len - 3);
    ql_iter it;
    ql_value v;
    int i = 0;
    ql_iter_init(&it, packed, 0, 1);
    while (ql_iter_next(&it, &v)) {
        snprintf(buf, sizeof(buf), "item:%d", i++);
        expect_value(&v, buf);
    }
    cr_assert_eq(i, 20000);
    quicklist *copy = ql_dup(packed);
    expect_index(copy, 19999, "item:19999");
    expect_index(copy, 5000, "item:5000");
    cr_assert(ql_check(copy));
    /* Pops walk into compressed nodes and expand them. */
    for (int k = 0; k < 19990; k++) ql_pop_discard(packed, QL_HEAD);
    expect_index(packed, 0, "item:19990");
    cr_assert(ql_check(packed));
    ql_release(copy);
    ql_release(plain);
    ql_release(packed);
}

Test(quicklist, incompressible_nodes_stay_plain) {
    quicklist *ql = ql_create(-1, 1);
    srand(9);
    char buf[200];
    for (int i = 0; i < 200; i++) {
        for (int j = 0; j < 199; j++) buf[j] = (char)(rand() & 0xff);
        ql_push(ql, buf, 199, QL_TAIL);
    }
    cr_assert_eq(ql_compressed_nodes(ql), 0);
    cr_assert(ql_check(ql));
    ql_release(ql);
}
