/*
 * db unit tests: the keyspace API of core/db.h, which is all that the
 * rest of the server may know of a database. Adding, finding, replacing,
 * deleting; TTLs (the expires index follows every move of an entry);
 * lazy expiry; and the walkers' guarantees as db.h states them: a scan
 * visits every key present for the whole walk at least once while the
 * table grows and rehashes between calls (exactly once in a stable
 * table), the iterator visits each key once and allows deleting the
 * current one, samples come from the right table. Linked with
 * core/db.c, core/entry.c and tests/unit/stubs_core.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/db.h"
#include "lib/crc16.h"
#include "core/cmdutil.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "tests/unit/stubs_core.h"

static size_t baseline;
static db *d;

static void setup(void) {
    memset(&stubs, 0, sizeof(stubs));
    memset(&server.stat, 0, sizeof(server.stat));
    server.hz = 10;
    server.active_expire_effort = 1;
    baseline = zmalloc_used_memory();
    db_init_all(2);
    d = db_get(0);
    db_set_command_time(1000000);
}

/* Every key, entry and table is freed: the allocator counter proves it. */
static void teardown(void) {
    db_free_all();
    db_set_command_time(0);
    cr_assert_eq(zmalloc_used_memory(), baseline, "the keyspace leaked or freed twice");
}

TestSuite(db, .init = setup, .fini = teardown);

static void key_name(char *buf, size_t size, const char *prefix, int i) {
    snprintf(buf, size, "%s:%d", prefix, i);
}

static entry *add_key(db *into, const char *key, long long expire) {
    entry *e = entry_new_string(key, strlen(key), "value", 5, expire);
    db_add(into, e);
    return e;
}

static entry *find(const char *key) { return db_find(d, key, strlen(key)); }

static void add_many(const char *prefix, int from, int to, long long expire) {
    char key[64];
    for (int i = from; i < to; i++) {
        key_name(key, sizeof(key), prefix, i);
        add_key(d, key, expire);
    }
}

/* ---- add, find, replace, delete ---- */

Test(db, databases_have_ids_and_are_separate) {
    cr_assert_eq(db_count(), 2);
    cr_assert_eq(db_id(db_get(1)), 1);
    cr_assert_null(db_get(2));
    add_key(db_get(1), "k", -1);
    cr_assert_null(find("k"));
    cr_assert_not_null(db_find(db_get(1), "k", 1));
    cr_assert_eq(db_size_all(), 1);
}

Test(db, add_find_delete) {
    entry *e = add_key(d, "a", -1);
    cr_assert_eq(find("a"), e);
    cr_assert_eq(db_size(d), 1);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_eq(stubs.created, 1, "the memory manager was not told of the new key");
    cr_assert_null(find("b"));
    cr_assert_eq(db_delete(d, "a", 1), 1);
    cr_assert_eq(db_delete(d, "a", 1), 0);
    cr_assert_null(find("a"));
    cr_assert_eq(db_size(d), 0);
    cr_assert_eq(stubs.entries_freed, 1);
    cr_assert_eq(stubs.last_free_reason, FREE_SERVER_DEL);
}

Test(db, lookup_counts_hits_and_misses_and_touches) {
    add_key(d, "a", -1);
    cr_assert_not_null(db_lookup(d, "a", 1, LOOKUP_NONE));
    cr_assert_null(db_lookup(d, "b", 1, LOOKUP_NONE));
    cr_assert_eq(server.stat.keyspace_hits, 1);
    cr_assert_eq(server.stat.keyspace_misses, 1);
    cr_assert_eq(stubs.touched, 1);
    db_lookup(d, "a", 1, LOOKUP_NOTOUCH | LOOKUP_NOSTATS);
    cr_assert_eq(server.stat.keyspace_hits, 1);
    cr_assert_eq(stubs.touched, 1);
}

Test(db, replace_points_both_tables_to_the_new_entry) {
    entry *old = add_key(d, "k", 5000000);
    entry *n = entry_new_string("k", 1, "other", 5, 6000000);
    db_replace(d, old, n, 0);
    cr_assert_eq(find("k"), n);
    cr_assert_eq(db_size(d), 1);
    cr_assert_eq(db_expires_size(d), 1);
    entry *sampled;
    cr_assert_eq(db_sample(d, 1, &sampled, 1), 1);
    cr_assert_eq(sampled, n, "the expires index still holds the old entry");
    /* Replacing by an entry without a TTL leaves the index. */
    entry *plain = entry_new_string("k", 1, "plain", 5, -1);
    db_replace(d, n, plain, 0);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_eq(stubs.entries_freed, 2);
}

Test(db, set_overwrites_and_keeps_ttl_on_request) {
    add_key(d, "k", 7000000);
    db_set(d, entry_new_string("k", 1, "v2", 2, -1), 1);
    cr_assert_eq(entry_expire(find("k")), 7000000, "KEEPTTL lost the TTL");
    cr_assert_eq(db_expires_size(d), 1);
    db_set(d, entry_new_string("k", 1, "v3", 2, -1), 0);
    cr_assert_eq(entry_expire(find("k")), -1);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_eq(db_size(d), 1);
}

Test(db, unlink_gives_the_entry_away) {
    add_key(d, "k", 9000000);
    entry *e = db_unlink_entry(d, "k", 1);
    cr_assert_not_null(e);
    cr_assert_eq(db_size(d), 0);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_eq(stubs.entries_freed, 0);
    entry_free(e);
}

/* ---- TTLs and expiry ---- */

Test(db, set_expire_and_persist_keep_the_index_true) {
    entry *e = add_key(d, "k", -1);
    e = db_set_expire(d, e, 2000000);
    cr_assert_eq(find("k"), e, "the keys table still points to the old block");
    cr_assert_eq(db_expires_size(d), 1);
    e = db_set_expire(d, e, 3000000);
    cr_assert_eq(find("k"), e);
    cr_assert_eq(db_expires_size(d), 1);
    cr_assert_eq(entry_expire(e), 3000000);
    e = db_persist(d, e);
    cr_assert_eq(find("k"), e);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_eq(entry_expire(e), -1);
}

Test(db, expired_key_is_deleted_on_lookup) {
    add_key(d, "old", 999999); /* command time is 1000000 */
    add_key(d, "new", 1000001);
    cr_assert_null(db_lookup(d, "old", 3, LOOKUP_NONE));
    cr_assert_null(find("old"), "an expired key read as missing must be deleted");
    cr_assert_eq(server.stat.expiredkeys, 1);
    cr_assert_eq(stubs.watch_expired, 1, "WATCH was not told of the expiry");
    cr_assert_eq(stubs.deletions_propagated, 1, "the expiry was not propagated (AOF, replicas)");
    cr_assert_eq(stubs.expired_events, 1, "no 'expired' keyspace event");
    cr_assert_eq(stubs.last_free_reason, FREE_EXPIRE);
    cr_assert_not_null(db_lookup(d, "new", 3, LOOKUP_NONE));
    cr_assert_eq(db_expires_size(d), 1);
}

Test(db, paused_dataset_reads_expired_as_missing_without_deleting) {
    add_key(d, "old", 1);
    stubs.paused = 1;
    cr_assert_null(db_lookup(d, "old", 3, LOOKUP_NONE));
    cr_assert_not_null(find("old"));
    stubs.paused = 0;
    cr_assert_null(db_lookup(d, "old", 3, LOOKUP_NONE));
    cr_assert_null(find("old"));
}

Test(db, evict_key_tells_watch_and_counts_dirty) {
    add_key(d, "victim", -1);
    long long dirty = server_dirty;
    cr_assert_eq(db_evict_key(d, "victim", 6), 1);
    cr_assert_eq(db_evict_key(d, "victim", 6), 0);
    cr_assert_eq(stubs.watch_touched, 1);
    cr_assert_eq(stubs.evicted_events, 1, "one 'evicted' event (and tracking invalidation) per evicted key");
    cr_assert_eq(server_dirty, dirty + 1);
    cr_assert_eq(stubs.deletions_propagated, 1, "the eviction was not propagated (AOF, replicas)");
    cr_assert_eq(stubs.last_free_reason, FREE_EVICT);
}

Test(db, new_keys_and_misses_are_reported) {
    add_key(d, "a", -1);
    add_key(d, "b", -1);
    cr_assert_eq(stubs.new_keys, 2, "'new' events for added keys");
    cr_assert_null(db_lookup(d, "nope", 4, LOOKUP_NONE));
    cr_assert_eq(stubs.events, 1, "'keymiss' event for a read miss");
    cr_assert_null(db_lookup(d, "nope", 4, LOOKUP_WRITE));
    cr_assert_eq(stubs.events, 1, "no 'keymiss' for a write lookup");
}

Test(db, active_expiry_deletes_expired_keys_only) {
    add_many("dead", 0, 500, 5);
    add_many("alive", 0, 500, 4000000000000LL);
    add_many("plain", 0, 100, -1);
    for (int i = 0; i < 200 && db_expires_size(d) > 500; i++) db_active_expire_cycle(0);
    cr_assert_eq(db_expires_size(d), 500, "expired keys left behind");
    cr_assert_eq(db_size(d), 600);
    cr_assert_eq(server.stat.expiredkeys, 500);
}

Test(db, random_key_skips_expired_keys) {
    add_many("dead", 0, 50, 5);
    add_key(d, "alive", -1);
    entry *e = db_random_key(d);
    cr_assert_not_null(e);
    size_t klen;
    const char *k = entry_key(e, &klen);
    cr_assert(klen == 5 && !memcmp(k, "alive", 5));
    db_empty(d);
    cr_assert_null(db_random_key(d));
}

/* ---- walkers ---- */

typedef struct seen {
    unsigned char *count; /* per key index */
    int n;
    const char *prefix;
    size_t calls;
} seen;

static void count_seen(void *ctx, entry *e) {
    seen *s = ctx;
    size_t klen, plen = strlen(s->prefix);
    const char *k = entry_key(e, &klen);
    s->calls++;
    if (klen <= plen + 1 || memcmp(k, s->prefix, plen) != 0 || k[plen] != ':') return;
    int i = 0;
    for (size_t j = plen + 1; j < klen; j++) i = i * 10 + (k[j] - '0');
    if (i < s->n && s->count[i] < 255) s->count[i]++;
}

static seen new_seen(const char *prefix, int n) {
    seen s = {zcalloc((size_t)n), n, prefix, 0};
    return s;
}

Test(db, scan_visits_every_key_exactly_once_in_a_stable_table) {
    const int n = 5000;
    add_many("k", 0, n, -1);
    for (int i = 0; i < 100; i++) db_rehash_step(1000); /* no rehash in progress */
    seen s = new_seen("k", n);
    size_t cursor = 0;
    do { cursor = db_scan(d, cursor, count_seen, &s); } while (cursor != 0);
    for (int i = 0; i < n; i++) cr_assert_eq(s.count[i], 1, "key %d seen %d times", i, s.count[i]);
    zfree(s.count);
}

/* The keys present from start to end are seen at least once although
 * the table doubles several times (and rehashes) between calls, and
 * other keys come and go. */
Test(db, scan_visits_every_key_while_the_table_grows_and_rehashes) {
    const int n = 2000;
    add_many("keep", 0, n, -1);
    seen s = new_seen("keep", n);
    size_t cursor = 0;
    int added = 0, steps = 0;
    do {
        cursor = db_scan(d, cursor, count_seen, &s);
        char key[64];
        for (int j = 0; j < 32; j++, added++) { /* grows the table several times over */
            key_name(key, sizeof(key), "churn", added);
            add_key(d, key, -1);
        }
        if (added % 64 == 0) {
            key_name(key, sizeof(key), "churn", added / 2);
            db_delete(d, key, strlen(key));
        }
        steps++;
    } while (cursor != 0);
    cr_assert_gt(added, 4 * n, "the walk was too short to resize the table twice");
    for (int i = 0; i < n; i++) cr_assert_geq(s.count[i], 1, "key %d missed by the scan", i);
    zfree(s.count);
}

Test(db, scan_expires_visits_only_keys_with_a_ttl) {
    add_many("ttl", 0, 300, 9000000);
    add_many("plain", 0, 300, -1);
    seen s = new_seen("ttl", 300);
    size_t cursor = 0;
    do { cursor = db_scan_expires(d, cursor, count_seen, &s); } while (cursor != 0);
    cr_assert_eq(s.calls, 300, "db_scan_expires visited keys without a TTL");
    for (int i = 0; i < 300; i++) cr_assert_eq(s.count[i], 1);
    zfree(s.count);
}

Test(db, iterator_visits_each_key_once_and_allows_deleting_the_current_one) {
    const int n = 3000;
    add_many("k", 0, n, -1);
    add_many("t", 0, 100, 9000000);
    seen s = new_seen("k", n);
    db_iter *it = db_iter_new(d);
    entry *e;
    int deleted = 0;
    while ((e = db_iter_next(it))) {
        count_seen(&s, e);
        size_t klen;
        const char *k = entry_key(e, &klen);
        if (k[0] == 't' || (k[0] == 'k' && k[klen - 1] == '7')) {
            char copy[64];
            memcpy(copy, k, klen);
            cr_assert_eq(db_delete(d, copy, klen), 1);
            deleted++;
        }
    }
    db_iter_free(it);
    for (int i = 0; i < n; i++) cr_assert_eq(s.count[i], 1, "key %d seen %d times", i, s.count[i]);
    cr_assert_eq(s.calls, (size_t)(n + 100));
    cr_assert_eq(db_size(d), (size_t)(n + 100 - deleted));
    cr_assert_eq(db_expires_size(d), 0);
    zfree(s.count);
}

Test(db, iterator_on_an_empty_database) {
    db_iter *it = db_iter_new(d);
    cr_assert_null(db_iter_next(it));
    db_iter_free(it);
}

Test(db, samples_come_from_the_table_asked_for) {
    cr_assert_eq(db_sample(d, 0, (entry *[4]){0}, 4), 0);
    cr_assert_null(db_random_entry(d, 0));
    add_many("plain", 0, 500, -1);
    cr_assert_null(db_random_entry(d, 1), "no key has a TTL");
    add_many("ttl", 0, 20, 9000000);
    entry *out[64];
    for (int round = 0; round < 50; round++) {
        size_t got = db_sample(d, 1, out, 16);
        cr_assert_gt(got, 0);
        for (size_t i = 0; i < got; i++)
            cr_assert(entry_has_expire(out[i]), "sample from expires without a TTL");
        got = db_sample(d, 0, out, 64);
        cr_assert_gt(got, 0);
        for (size_t i = 0; i < got; i++) {
            size_t klen;
            const char *k = entry_key(out[i], &klen);
            cr_assert_eq(db_find(d, k, klen), out[i], "a sampled entry is not the table's");
        }
        cr_assert(entry_has_expire(db_random_entry(d, 1)));
    }
}

Test(db, table_figures_grow_with_the_tables) {
    db_mem before;
    db_mem_figures(d, &before);
    add_many("k", 0, 1000, -1);
    db_mem after;
    db_mem_figures(d, &after);
    cr_assert_gt(after.keys_table, before.keys_table);
    cr_assert_eq(after.expires_table, before.expires_table);
    cr_assert_gt(after.per_key, 0);
    cr_assert_leq(after.per_key * 1000, after.keys_table * 2,
                  "a key's share exceeds twice the table");
    add_many("t", 0, 1000, 9000000);
    db_mem_figures(d, &after);
    cr_assert_gt(after.expires_table, before.expires_table);
    cr_assert_eq(db_table_overhead(d), after.keys_table + after.expires_table);
}

Test(db, detach_leaves_the_database_empty_and_frees_elsewhere) {
    add_many("k", 0, 200, -1);
    add_many("t", 0, 50, 9000000);
    db *old = db_detach(d);
    cr_assert_eq(db_size(old), 250);
    cr_assert_eq(db_expires_size(old), 50);
    cr_assert_eq(db_id(old), db_id(d));
    cr_assert_not_null(db_find(old, "k:1", 3));
    cr_assert_eq(db_size(d), 0);
    cr_assert_eq(db_expires_size(d), 0);
    cr_assert_null(find("k:1"));
    add_key(d, "k:1", -1); /* the database works on */
    cr_assert_eq(db_size(d), 1);
    db_free_detached(old); /* teardown checks that every entry went */
}

Test(db, swap_exchanges_contents_not_ids) {
    add_key(db_get(0), "zero", -1);
    add_key(db_get(1), "one", 9000000);
    db_swap(0, 1);
    cr_assert_not_null(db_find(db_get(0), "one", 3));
    cr_assert_not_null(db_find(db_get(1), "zero", 4));
    cr_assert_eq(db_expires_size(db_get(0)), 1);
    cr_assert_eq(db_id(db_get(0)), 0);
}

Test(db, reserve_and_rehash_steps_keep_every_key) {
    db_reserve(d, 100000);
    add_many("k", 0, 1000, -1);
    for (int i = 0; i < 1000; i++) db_rehash_step(1000);
    char key[64];
    for (int i = 0; i < 1000; i++) {
        key_name(key, sizeof(key), "k", i);
        cr_assert_not_null(find(key));
    }
}

/* ---- snapshot hooks: every change of an unsaved key is seen first ----
 *
 * A fork-less snapshot (persist/snapshot.c) relies on db.c calling
 * before_change with the entry still intact before any key carrying the
 * old mark changes or leaves, on new entries getting db_new_entry_mark,
 * and on being asked before a database is emptied or detached. These
 * tests install recording hooks and go through every mutating call. */

typedef struct hook_log {
    int calls;
    char keys[64][32];
    char values[64][32];
    int wants, kept, swaps;
    db *kept_db;
} hook_log;
static hook_log hl;

static void rec_before_change(db *in, entry *e) {
    (void)in;
    size_t klen, vlen;
    char buf[32];
    const char *k = entry_key(e, &klen);
    const char *v = entry_type(e) == TYPE_STRING ? entry_string(e, buf, &vlen) : "";
    if (entry_type(e) != TYPE_STRING) vlen = 0;
    if (hl.calls < 64) {
        snprintf(hl.keys[hl.calls], 32, "%.*s", (int)klen, k);
        snprintf(hl.values[hl.calls], 32, "%.*s", (int)vlen, v);
    }
    hl.calls++;
    entry_set_snapmark(e, 1); /* saved: as the snapshot does */
}
static int rec_wants(db *in) {
    (void)in;
    hl.wants++;
    return 1;
}
static void rec_keep(db *in, db *old) {
    (void)in;
    hl.kept++;
    hl.kept_db = old;
}
static void rec_swapped(int a, int b) {
    (void)a;
    (void)b;
    hl.swaps++;
}
static const db_snapshot_hooks rec_hooks = {rec_before_change, rec_wants, rec_keep, rec_swapped};

/* Keys k:0..n-1 with mark 0, then a "snapshot" starts (new entries get 1). */
static void start_recording(int n) {
    memset(&hl, 0, sizeof(hl));
    db_new_entry_mark = 0;
    add_many("k", 0, n, -1);
    db_set_snapshot_hooks(&rec_hooks);
    db_new_entry_mark = 1;
}

static void stop_recording(void) {
    db_set_snapshot_hooks(NULL);
    db_new_entry_mark = 0;
}

static void assert_seen_once(const char *key) {
    int n = 0;
    for (int i = 0; i < hl.calls && i < 64; i++)
        if (!strcmp(hl.keys[i], key)) {
            n++;
            cr_assert_str_eq(hl.values[i], "value", "%s was seen after it changed", key);
        }
    cr_assert_eq(n, 1, "%s seen %d times", key, n);
}

Test(db, hooks_see_every_change_of_an_unsaved_key_first) {
    start_recording(12);
    db_lookup(d, "k:0", 3, LOOKUP_WRITE);                              /* in-place writes */
    entry *e1 = find("k:1");
    db_replace(d, e1, entry_with_string(e1, "new", 3), 0);             /* replace */
    db_set(d, entry_new_string("k:2", 3, "new", 3, -1), 0);           /* SET */
    db_delete(d, "k:3", 3);                                            /* DEL */
    entry *u = db_unlink_entry(d, "k:4", 3);                           /* RENAME/MOVE/UNLINK */
    db_set_expire(d, find("k:5"), 9000000000000LL);                   /* EXPIRE (far future: the */
                                                                       /* active cycle uses real time) */
    db_set_expire(d, find("k:6"), 500);                                /* expires below */
    db_lookup(d, "k:6", 3, LOOKUP_NONE);                               /* lazy expiry */
    db_evict_key(d, "k:7", 3);                                         /* eviction */
    entry *e8 = db_set_expire(d, find("k:8"), 9000000000000LL);
    db_persist(d, e8);                                                 /* PERSIST */
    db_set_expire(d, find("k:9"), 500);
    db_active_expire_cycle(0);                                         /* active expiry */
    for (int i = 0; i <= 9; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k:%d", i);
        assert_seen_once(key);
    }
    cr_assert_eq(hl.calls, 10);
    /* Untouched keys were not saved; every entry built meanwhile has the
     * new mark, so the walk will skip it. */
    cr_assert_eq(entry_snapmark(find("k:10")), 0);
    cr_assert_eq(entry_snapmark(find("k:1")), 1);
    cr_assert_eq(entry_snapmark(find("k:2")), 1);
    cr_assert_eq(entry_snapmark(find("k:5")), 1);
    cr_assert_eq(entry_snapmark(find("k:8")), 1);
    entry_free(u);
    stop_recording();
}

Test(db, hooks_ignore_keys_created_after_the_start) {
    start_recording(0);
    add_key(d, "new", -1);
    cr_assert_eq(entry_snapmark(find("new")), 1);
    db_lookup(d, "new", 3, LOOKUP_WRITE);
    db_set_expire(d, find("new"), 9000000);
    db_delete(d, "new", 3);
    cr_assert_eq(hl.calls, 0);
    stop_recording();
}

Test(db, hooks_are_asked_before_a_database_is_emptied_or_detached) {
    start_recording(5);
    db_empty(d);                                   /* FLUSHDB */
    cr_assert_eq(hl.wants, 1);
    cr_assert_eq(hl.kept, 1);
    cr_assert_eq(db_size(hl.kept_db), 5, "the snapshot keeps the old contents");
    cr_assert_eq(db_size(d), 0);
    db_free_detached(hl.kept_db);
    add_key(d, "x", -1);
    db *old = db_detach(d);                        /* FLUSHDB ASYNC */
    cr_assert_eq(hl.wants, 2);
    cr_assert_eq(db_size(hl.kept_db), 1);
    cr_assert_eq(db_size(old), 0, "the lazy free thread gets what the snapshot left");
    db_free_detached(hl.kept_db);
    db_free_detached(old);
    db_swap(0, 1);
    cr_assert_eq(hl.swaps, 1);
    stop_recording();
}

/* ---- Cluster mode: per-slot counts and the slot listing ----------------- */

static void setup_slots(void) {
    db_enable_slot_index();
    setup();
}

TestSuite(db_slots, .init = setup_slots, .fini = teardown);

static int listed(unsigned slot, size_t max, const char *want) {
    entry *out[512];
    size_t n = db_slot_keys(d, slot, max, out);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = entry_key(out[i], &klen);
        if (klen == strlen(want) && !memcmp(k, want, klen)) return 1;
    }
    return 0;
}

Test(db_slots, counts_follow_adds_deletes_and_flushes) {
    unsigned slot = key_hash_slot("{t}", 3);
    char key[64];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "{t}%d", i);
        add_key(d, key, 0);
    }
    add_key(d, "other", 0);
    cr_assert_eq(db_slot_count(d, slot), 100);
    cr_assert_eq(db_slot_count(d, key_hash_slot("other", 5)), 1);
    cr_assert(db_delete(d, "{t}7", 4));
    entry *e = db_unlink_entry(d, "{t}8", 4);
    entry_free(e);
    cr_assert_eq(db_slot_count(d, slot), 98);
    /* The other databases keep no counts. */
    add_key(db_get(1), "{t}x", 0);
    cr_assert_eq(db_slot_count(db_get(1), slot), 0);
    db_empty(d);
    cr_assert_eq(db_slot_count(d, slot), 0);
    cr_assert_eq(db_slot_count(d, key_hash_slot("other", 5)), 0);
}

Test(db_slots, listing_returns_each_key_once_and_follows_changes) {
    unsigned slot = key_hash_slot("{t}", 3);
    char key[64];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "{t}%d", i);
        add_key(d, key, 0);
        snprintf(key, sizeof(key), "{u}%d", i);
        add_key(d, key, 0);
    }
    entry *out[512];
    size_t n = db_slot_keys(d, slot, 512, out);
    cr_assert_eq(n, 300);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = entry_key(out[i], &klen);
        cr_assert(klen > 3 && !memcmp(k, "{t}", 3));
        for (size_t j = 0; j < i; j++) cr_assert_neq(out[i], out[j], "listed twice");
    }
    cr_assert_eq(db_slot_keys(d, slot, 10, out), 10);
    /* The index built by that listing follows adds and deletes. */
    cr_assert(db_delete(d, "{t}5", 4));
    cr_assert(!listed(slot, 512, "{t}5"));
    add_key(d, "{t}new", 0);
    cr_assert(listed(slot, 512, "{t}new"));
    cr_assert_eq(db_slot_keys(d, slot, 512, out), 300);
    /* Another slot: rebuilt there. */
    cr_assert(listed(key_hash_slot("{u}", 3), 512, "{u}299"));
    cr_assert_eq(db_slot_keys(d, slot, 512, out), 300);
    cr_assert_eq(db_slot_keys(d, key_hash_slot("nothing-here", 12), 10, out), 0);
}
