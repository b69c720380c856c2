/*
 * The server-wide symbols that core/entry.c and core/db.c call, for the
 * unit tests that link those two files without the rest of the server
 * (tests/unit/test_core_*.c). Each stub does the least that keeps the
 * keyspace's own behaviour intact (freeing really frees; lookups really
 * touch) and counts what it was asked, so that a test can check that db.c
 * told the rest of the server what it should.
 */
#include "tests/unit/stubs_core.h"

#include "core/server.h"
#include "lib/kstr.h"
#include "lib/listpack.h"
#include "lib/zmalloc.h"
#include "types/types.h"

#include <string.h>

struct server server;
long long server_dirty;
stub_counts stubs;

/* ---- types/types.h: strings (kstr) and listpack aggregates ---- */

static void free_value(int enc, void *ptr) {
    stubs.values_freed++;
    if (enc == ENC_RAW)
        kstr_free(ptr);
    else
        lp_free(ptr);
}

static void *dup_value(int enc, const void *ptr) {
    if (enc == ENC_RAW) return kstr_new_len(ptr, kstr_len((char *)ptr));
    size_t n = lp_bytes(ptr);
    void *copy = zmalloc(n);
    memcpy(copy, ptr, n);
    return copy;
}

static const type_ops test_ops = {.name = "test", .free_value = free_value, .dup_value = dup_value};

const type_ops *type_ops_for(int type) {
    return type == TYPE_STRING || type == TYPE_HASH ? &test_ops : NULL;
}

/* ---- memory/memory.h hooks ---- */

void memory_entry_created(db *d, entry *e) {
    (void)d;
    stubs.created++;
    entry_set_lru(e, 1);
}

void memory_entry_touched(entry *e) {
    stubs.touched++;
    entry_set_lru(e, entry_lru(e) + 1);
}

void memory_free_entry(entry *e, int reason) {
    stubs.entries_freed++;
    stubs.last_free_reason = reason;
    entry_free(e);
}

size_t memory_used_for_eviction(void) { return zmalloc_used_memory(); }

/* ---- core services db.c reports to ---- */

int pause_active(void) { return stubs.paused; }
void latency_add_sample(const char *event, long long ms) { (void)event, (void)ms; }
void multi_touch_key(db *d, const char *key, size_t klen) {
    (void)d, (void)key, (void)klen, stubs.watch_touched++;
}
void multi_touch_expired_key(db *d, const char *key, size_t klen) {
    (void)d, (void)key, (void)klen, stubs.watch_expired++;
}
void propagate_deletion(int dbid, const char *key, size_t klen, int lazy) {
    (void)dbid, (void)key, (void)klen;
    stubs.deletions_propagated++;
    stubs.last_deletion_lazy = lazy;
}
void notify_keyspace_event(int type, const char *event, const kstr key, int dbid) {
    (void)type, (void)event, (void)key, (void)dbid;
}
/* pubsub/notify.h: keyspace events and the tracking invalidations they carry. */
void notify_keyspace_event_len(int type, const char *event, const char *key, size_t klen, int dbid) {
    (void)type, (void)event, (void)key, (void)klen, (void)dbid, stubs.events++;
}
void notify_new_key(int dbid, const struct entry *e) { (void)dbid, (void)e, stubs.new_keys++; }
void notify_expired(int dbid, const char *key, size_t klen) { (void)dbid, (void)key, (void)klen, stubs.expired_events++; }
void notify_evicted(int dbid, const char *key, size_t klen) { (void)dbid, (void)key, (void)klen, stubs.evicted_events++; }
