/* See db.h for the design. */
#include "core/db.h"
#include "core/propagate.h"
#include "core/cmdutil.h"
#include "lib/hashtable.h"
#include "core/latency.h"
#include "core/multi.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "pubsub/notify.h"
#include "lib/zmalloc.h"
#include "lib/crc16.h"

#include <stdlib.h>
#include <string.h>

struct db {
    hashtable *keys;
    hashtable *expires; /* entries with a TTL, same pointers as in keys */
    int id;
    long long avg_ttl;  /* estimate maintained by the expiry cycle */
    unsigned long expires_cursor;
    /* Cluster mode, database 0 only: keys per hash slot (16384 counters,
     * 64 KB; nothing per key), and the temporary index of a range of slots
     * that db_slot_keys builds (see there). NULL otherwise. */
    uint32_t *slot_keys;
    struct slot_index *sidx;
};

static db *dbs;
static int ndbs;
static int slot_index_on; /* db_enable_slot_index */
static long long command_time_ms;

void (*db_on_key_added)(db *d, const entry *e);
void (*db_on_key_removed)(db *d, const entry *e);
void (*db_on_emptied)(db *d);
void (*db_on_expire_cycle)(long long budget_us);

/* ---- Snapshot hooks (see db.h) ---- */

static const db_snapshot_hooks *snap_hooks;
int db_new_entry_mark;

void db_set_snapshot_hooks(const db_snapshot_hooks *h) { snap_hooks = h; }

/* A key is about to change or vanish: an entry still carrying the other
 * mark may be one a running snapshot has not written yet. */
static inline void before_change(db *d, entry *e) {
    if (snap_hooks && e && entry_snapmark(e) != db_new_entry_mark) snap_hooks->before_change(d, e);
}

void db_will_modify(db *d, entry *e) { before_change(d, e); }

static inline entry *stamp(entry *e) {
    entry_set_snapmark(e, db_new_entry_mark);
    return e;
}

/* d is about to be emptied or detached: a snapshot that has not written
 * its keys yet keeps the contents (d ends up with empty tables). */
static db *detach_contents(db *d);
static void claim_tables(db *d) {
    if (snap_hooks && snap_hooks->wants_contents(d)) snap_hooks->keep_contents(d, detach_contents(d));
}

static const void *entry_key_of(const void *element, size_t *len) {
    return entry_key((const entry *)element, len);
}

static void entry_destructor(void *element) { entry_free(element); }

/* Growing a key table must not push used_memory past maxmemory: eviction
 * would delete keys to pay for a bucket array that is mostly empty. The
 * growth is postponed instead; the table keeps filling, and past 90% fill
 * it is allowed (hashtable.c grows regardless at 95%), since longer probe
 * chains would otherwise cost every lookup. */
static int keyspace_resize_allowed(size_t more, double fill_factor) {
    if (server.maxmemory <= 0 || fill_factor >= 0.90) return 1;
    return memory_used_for_eviction() + more <= (size_t)server.maxmemory;
}

static const hashtable_type keys_table_type = {
    .element_key = entry_key_of,
    .element_destructor = entry_destructor,
    .resize_allowed = keyspace_resize_allowed,
};

static const hashtable_type expires_table_type = {
    .element_key = entry_key_of,
    .resize_allowed = keyspace_resize_allowed,
};

void db_init_all(int count) {
    ndbs = count;
    dbs = zcalloc(sizeof(db) * (size_t)count);
    for (int i = 0; i < count; i++) {
        dbs[i].keys = hashtable_create(&keys_table_type);
        dbs[i].expires = hashtable_create(&expires_table_type);
        dbs[i].id = i;
        if (slot_index_on && i == 0) dbs[i].slot_keys = zcalloc(sizeof(uint32_t) * CLUSTER_SLOTS);
    }
}

void db_enable_slot_index(void) { slot_index_on = 1; }

/* ---- Per-slot key counts and the slot index (cluster mode) ------------
 *
 * Counting is a counter per slot, kept by db_add and db_unlink_entry.
 * Listing a slot's keys (CLUSTER GETKEYSINSLOT, which a resharding tool
 * calls again and again, slot after slot) uses an index built on demand:
 * one walk of the table collects copies of the keys of a range of slots
 * (starting at the slot asked for, wide enough for about 64k keys), kept
 * up to date by db_add and db_unlink_entry while it exists. Moving 1000
 * slots then costs one walk of the keyspace instead of one per slot. The
 * index is temporary: it is dropped when a slot outside its range is
 * asked for (and rebuilt there) and when the database is emptied,
 * swapped or detached; outside resharding it does not exist, so a key
 * costs no byte more in cluster mode. */

#define SLOT_INDEX_KEYS 65536

typedef struct keyvec {
    kstr *keys;
    uint32_t n, cap;
} keyvec;

typedef struct slot_index {
    unsigned lo, hi; /* slots [lo, hi) */
    keyvec *v;       /* hi - lo vectors */
} slot_index;

static void sidx_free(db *d) {
    slot_index *x = d->sidx;
    if (!x) return;
    for (unsigned i = 0; i < x->hi - x->lo; i++) {
        for (uint32_t j = 0; j < x->v[i].n; j++) kstr_free(x->v[i].keys[j]);
        zfree(x->v[i].keys);
    }
    zfree(x->v);
    zfree(x);
    d->sidx = NULL;
}

static void keyvec_push(keyvec *v, const char *key, size_t klen) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->keys = zrealloc(v->keys, sizeof(kstr) * v->cap);
    }
    v->keys[v->n++] = kstr_new_len(key, klen);
}

static void keyvec_remove(keyvec *v, const char *key, size_t klen) {
    for (uint32_t j = 0; j < v->n; j++) {
        if (kstr_len(v->keys[j]) != klen || memcmp(v->keys[j], key, klen)) continue;
        kstr_free(v->keys[j]);
        v->keys[j] = v->keys[--v->n];
        return;
    }
}

static inline void count_key(db *d, const entry *e, int delta) {
    if (!d->slot_keys) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    unsigned slot = key_hash_slot(key, klen);
    d->slot_keys[slot] += (uint32_t)delta;
    slot_index *x = d->sidx;
    if (x && slot >= x->lo && slot < x->hi) {
        if (delta > 0) keyvec_push(&x->v[slot - x->lo], key, klen);
        else keyvec_remove(&x->v[slot - x->lo], key, klen);
    }
}

static void recount_slots(db *d) {
    if (!d->slot_keys) return;
    sidx_free(d);
    memset(d->slot_keys, 0, sizeof(uint32_t) * CLUSTER_SLOTS);
    hashtable_iterator it;
    hashtable_iter_init(&it, d->keys, 0);
    void *e;
    while (hashtable_iter_next(&it, &e)) count_key(d, e, 1);
    hashtable_iter_release(&it);
}

size_t db_slot_count(db *d, unsigned slot) { return d->slot_keys && slot < CLUSTER_SLOTS ? d->slot_keys[slot] : 0; }

static void sidx_build(db *d, unsigned slot) {
    sidx_free(d);
    size_t total = hashtable_size(d->keys);
    size_t width = total ? (size_t)CLUSTER_SLOTS * SLOT_INDEX_KEYS / total : CLUSTER_SLOTS;
    if (width < 1) width = 1;
    if (width > CLUSTER_SLOTS - slot) width = CLUSTER_SLOTS - slot;
    slot_index *x = zcalloc(sizeof(*x));
    x->lo = slot;
    x->hi = slot + (unsigned)width;
    x->v = zcalloc(sizeof(keyvec) * width);
    hashtable_iterator it;
    hashtable_iter_init(&it, d->keys, 1);
    void *e;
    while (hashtable_iter_next(&it, &e)) {
        size_t klen;
        const char *key = entry_key(e, &klen);
        unsigned s = key_hash_slot(key, klen);
        if (s >= x->lo && s < x->hi) keyvec_push(&x->v[s - x->lo], key, klen);
    }
    hashtable_iter_release(&it);
    d->sidx = x;
}

size_t db_slot_keys(db *d, unsigned slot, size_t max, entry **out) {
    size_t want = db_slot_count(d, slot);
    if (want > max) want = max;
    if (want == 0) return 0;
    if (!d->sidx || slot < d->sidx->lo || slot >= d->sidx->hi) sidx_build(d, slot);
    keyvec *v = &d->sidx->v[slot - d->sidx->lo];
    size_t n = 0;
    for (uint32_t j = 0; j < v->n && n < want; j++) {
        entry *e = db_find(d, v->keys[j], kstr_len(v->keys[j]));
        if (e) out[n++] = e;
    }
    return n;
}

void db_free_all(void) {
    for (int i = 0; i < ndbs; i++) {
        hashtable_release(dbs[i].expires);
        hashtable_release(dbs[i].keys);
        sidx_free(&dbs[i]);
        zfree(dbs[i].slot_keys);
    }
    zfree(dbs);
    dbs = NULL;
    ndbs = 0;
}

db *db_get(int id) { return (id >= 0 && id < ndbs) ? &dbs[id] : NULL; }
int db_count(void) { return ndbs; }
int db_id(const db *d) { return d->id; }
long long db_avg_ttl(const db *d) { return d->avg_ttl; }

long long db_now_ms(void) { return command_time_ms ? command_time_ms : mstime(); }
void db_set_command_time(long long ms) { command_time_ms = ms; }

int entry_is_expired(const entry *e, long long now_ms) {
    if (!entry_has_expire(e)) return 0;
    return entry_expire(e) <= now_ms;
}

entry *db_find(db *d, const char *key, size_t klen) {
    void *e;
    return hashtable_find(d->keys, key, klen, &e) ? e : NULL;
}

static void touch_entry(entry *e) { memory_entry_touched(e); }

static int loading;
void db_set_loading(int on) { loading = on; }
int db_loading(void) { return loading; }

static int replica_mode;

/* Keys a writable replica's own clients gave a TTL: the master will never
 * delete them, so the replica expires them itself (Redis's
 * slaveKeysWithExpire). A list of (database, name), checked by the expiry
 * cycle; a key gone or without a TTL is dropped from it. */
typedef struct own_ttl_key {
    int dbid;
    kstr key;
} own_ttl_key;
static own_ttl_key *own_keys;
static size_t n_own_keys, cap_own_keys;

static void forget_own_keys(void) {
    for (size_t i = 0; i < n_own_keys; i++) kstr_free(own_keys[i].key);
    n_own_keys = 0;
}

static int replica_read_only;

void db_set_replica_mode(int on, int read_only) {
    replica_mode = on;
    replica_read_only = read_only;
    if (!on) forget_own_keys();
}

static void note_own_ttl(db *d, const entry *e) {
    client *c = server.current_client;
    if (!replica_mode || !c || (c->flags & CLIENT_MASTER) || !entry_has_expire(e)) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    for (size_t i = 0; i < n_own_keys; i++)
        if (own_keys[i].dbid == d->id && kstr_len(own_keys[i].key) == klen && !memcmp(own_keys[i].key, key, klen))
            return;
    if (n_own_keys == cap_own_keys) {
        cap_own_keys = cap_own_keys ? cap_own_keys * 2 : 16;
        own_keys = zrealloc(own_keys, cap_own_keys * sizeof(*own_keys));
    }
    own_keys[n_own_keys].dbid = d->id;
    own_keys[n_own_keys].key = kstr_new_len(key, klen);
    n_own_keys++;
}

/* Called from the cron, outside any command: the clock is read here
 * (db_now_ms is the time of the last command, which may be long past when
 * no client writes). */
static void expire_own_keys(void) {
    long long now = mstime();
    size_t j = 0;
    for (size_t i = 0; i < n_own_keys; i++) {
        own_ttl_key k = own_keys[i];
        db *d = k.dbid < db_count() ? db_get(k.dbid) : NULL;
        entry *e = d ? db_find(d, k.key, kstr_len(k.key)) : NULL;
        int has_ttl = e && entry_has_expire(e), expired = has_ttl && entry_is_expired(e, now);
        if (expired) db_expire_entry(d, e); /* frees e */
        if (has_ttl && !expired) own_keys[j++] = k;
        else kstr_free(k.key);
    }
    n_own_keys = j;
}

/* A replica's expired key: live for the master's stream, which will
 * delete it; missing for everyone else, deleted only by a write (a
 * writable replica's own key), as in Redis 7.0. 1: keep it visible. */
static int replica_keeps_expired(void) {
    client *c = server.current_client;
    if (c && (c->flags & CLIENT_MASTER)) return 1;
    return 0;
}

int db_ttl_already_past(long long when_ms) {
    if (loading || when_ms > db_now_ms()) return 0;
    return !(replica_mode && replica_keeps_expired());
}

entry *db_lookup(db *d, const char *key, size_t klen, int flags) {
    entry *e = db_find(d, key, klen);
    if (e && replica_mode && !(flags & LOOKUP_NOEXPIRE) && !loading && entry_is_expired(e, db_now_ms())) {
        if (replica_keeps_expired()) flags |= LOOKUP_NOEXPIRE;
        else if (!(flags & LOOKUP_WRITE) || replica_read_only) {
            if (!(flags & LOOKUP_NOSTATS)) server.stat.keyspace_misses++;
            return NULL;
        }
    }
    if (e && !(flags & LOOKUP_NOEXPIRE) && !loading && entry_is_expired(e, db_now_ms())) {
        /* CLIENT PAUSE freezes the dataset: an expired key reads as
         * missing but is deleted after the pause. A write (only clients
         * exempt from the pause get here) needs the slot free. */
        if ((flags & LOOKUP_WRITE) || !pause_active()) db_expire_entry(d, e);
        e = NULL;
    }
    if (!(flags & LOOKUP_NOSTATS) && !(flags & LOOKUP_WRITE)) {
        if (e) server.stat.keyspace_hits++;
        else server.stat.keyspace_misses++;
        if (!e) notify_keyspace_event_len(NOTIFY_KEY_MISS, "keymiss", key, klen, d->id);
    }
    if (e && (flags & LOOKUP_WRITE)) before_change(d, e);
    if (e && !(flags & LOOKUP_NOTOUCH)) {
        client *c = server.current_client;
        if (!c || !(c->flags & CLIENT_NO_TOUCH)) touch_entry(e);
    }
    return e;
}

void db_add(db *d, entry *e) {
    stamp(e);
    memory_entry_created(d, e);
    hashtable_add(d->keys, e);
    count_key(d, e, 1);
    if (entry_has_expire(e)) hashtable_add(d->expires, e);
    if (db_on_key_added) db_on_key_added(d, e);
    notify_new_key(d->id, e);
    note_own_ttl(d, e);
}

/* Point the slot holding e's key (in table t) to e. The key is read from
 * the new entry: the old one may already be freed (TTL rebuilds). */
static void swap_slot(hashtable *t, entry *e) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    void **ref = hashtable_find_ref(t, key, klen);
    if (ref) *ref = e;
}

void db_replace(db *d, entry *old, entry *e, int keep_value) {
    before_change(d, old);
    stamp(e);
    swap_slot(d->keys, e);
    if (entry_has_expire(old) && entry_has_expire(e)) {
        swap_slot(d->expires, e);
    } else if (entry_has_expire(old)) {
        size_t klen;
        const char *key = entry_key(old, &klen);
        void *unused;
        hashtable_pop(d->expires, key, klen, &unused);
    } else if (entry_has_expire(e)) {
        hashtable_add(d->expires, e);
    }
    if (keep_value) entry_free_shell(old);
    else memory_free_entry(old, FREE_SERVER_DEL);
    note_own_ttl(d, e);
}

void db_set(db *d, entry *e, int keepttl) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    entry *old = db_find(d, key, klen);
    if (!old) {
        db_add(d, e);
        return;
    }
    before_change(d, old);
    if (keepttl && entry_has_expire(old) && !entry_has_expire(e)) e = entry_set_expire(e, entry_expire(old));
    entry_set_lru(e, entry_lru(old));
    touch_entry(e);
    int old_type = entry_type(old);
    db_replace(d, old, e, 0); /* frees old */
    if (db_on_key_added && old_type != entry_type(e)) db_on_key_added(d, e);
}

entry *db_unlink_entry(db *d, const char *key, size_t klen) {
    void *e;
    if (!hashtable_pop(d->keys, key, klen, &e)) return NULL;
    count_key(d, e, -1);
    before_change(d, e);
    if (entry_has_expire((entry *)e)) {
        void *unused;
        hashtable_pop(d->expires, key, klen, &unused);
    }
    if (db_on_key_removed) db_on_key_removed(d, e);
    return e;
}

int db_delete_reason(db *d, const char *key, size_t klen, int reason) {
    entry *e = db_unlink_entry(d, key, klen);
    if (!e) return 0;
    memory_free_entry(e, reason);
    return 1;
}

int db_delete(db *d, const char *key, size_t klen) { return db_delete_reason(d, key, klen, FREE_SERVER_DEL); }

/* The table slots are located while e is still valid: rebuilding the
 * entry with or without a TTL frees the old block, and a lookup compares
 * keys through the element pointers stored in the table. */
static void **slot_of(hashtable *t, const entry *e) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    return hashtable_find_ref(t, key, klen);
}

entry *db_set_expire(db *d, entry *e, long long when) {
    before_change(d, e);
    int had = entry_has_expire(e);
    void **kref = slot_of(d->keys, e);
    void **xref = had ? slot_of(d->expires, e) : NULL;
    entry *n = stamp(entry_set_expire(e, when));
    *kref = n;
    if (xref) *xref = n;
    else hashtable_add(d->expires, n);
    note_own_ttl(d, n);
    return n;
}

entry *db_persist(db *d, entry *e) {
    if (!entry_has_expire(e)) return e;
    before_change(d, e);
    size_t klen;
    const char *key = entry_key(e, &klen);
    void *unused;
    hashtable_pop(d->expires, key, klen, &unused);
    void **kref = slot_of(d->keys, e);
    entry *n = stamp(entry_clear_expire(e));
    *kref = n;
    return n;
}

void db_expire_entry(db *d, entry *e) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    /* Copy the key: deleting frees the entry that holds it. */
    char stackbuf[128];
    char *copy = klen <= sizeof(stackbuf) ? stackbuf : zmalloc(klen);
    memcpy(copy, key, klen);
    db_delete_reason(d, copy, klen, FREE_EXPIRE);
    propagate_deletion(d->id, copy, klen, server.lazyfree_lazy_expire);
    multi_touch_expired_key(d, copy, klen);
    notify_expired(d->id, copy, klen);
    if (copy != stackbuf) zfree(copy);
    server.stat.expiredkeys++;
}

int db_evict_key(db *d, const char *key, size_t klen) {
    if (!db_delete_reason(d, key, klen, FREE_EVICT)) return 0;
    propagate_deletion(d->id, key, klen, server.lazyfree_lazy_eviction);
    multi_touch_key(d, key, klen);
    server_dirty++;
    notify_evicted(d->id, key, klen);
    return 1;
}

size_t db_size(db *d) { return hashtable_size(d->keys); }
size_t db_expires_size(db *d) { return hashtable_size(d->expires); }

size_t db_size_all(void) {
    size_t n = 0;
    for (int i = 0; i < ndbs; i++) n += hashtable_size(dbs[i].keys);
    return n;
}

void db_reserve(db *d, size_t n) { hashtable_expand(d->keys, n); }

void db_empty(db *d) {
    claim_tables(d);
    hashtable_empty(d->expires);
    hashtable_empty(d->keys);
    sidx_free(d);
    if (d->slot_keys) memset(d->slot_keys, 0, sizeof(uint32_t) * CLUSTER_SLOTS);
    d->avg_ttl = 0;
    d->expires_cursor = 0;
    if (db_on_emptied) db_on_emptied(d);
}

/* d's contents into a new database outside the keyspace; d empty. */
static db *detach_contents(db *d) {
    db *x = zcalloc(sizeof(db));
    x->id = d->id;
    x->keys = d->keys;
    x->expires = d->expires;
    x->avg_ttl = d->avg_ttl;
    d->keys = hashtable_create(&keys_table_type);
    d->expires = hashtable_create(&expires_table_type);
    sidx_free(d);
    if (d->slot_keys) memset(d->slot_keys, 0, sizeof(uint32_t) * CLUSTER_SLOTS);
    d->avg_ttl = 0;
    d->expires_cursor = 0;
    if (db_on_emptied) db_on_emptied(d);
    return x;
}

db *db_detach(db *d) {
    claim_tables(d);
    return detach_contents(d);
}

/* The expires index holds the same pointers without owning them: release
 * it first, then the owning table frees the entries. */
void db_free_detached(db *x) {
    hashtable_release(x->expires);
    hashtable_release(x->keys);
    zfree(x);
}

void db_reattach(db *d, db *x) {
    hashtable_release(d->expires);
    hashtable_release(d->keys); /* frees the entries */
    d->keys = x->keys;
    d->expires = x->expires;
    d->avg_ttl = x->avg_ttl;
    d->expires_cursor = 0;
    zfree(x);
    recount_slots(d);
    if (db_on_emptied) db_on_emptied(d);
}

void db_exchange(db *d, db *x) {
    hashtable *keys = d->keys, *expires = d->expires;
    long long avg = d->avg_ttl;
    d->keys = x->keys;
    d->expires = x->expires;
    d->avg_ttl = x->avg_ttl;
    x->keys = keys;
    x->expires = expires;
    x->avg_ttl = avg;
    d->expires_cursor = 0;
    recount_slots(d);
    if (db_on_emptied) db_on_emptied(d);
}

void db_empty_all(void) {
    for (int i = 0; i < ndbs; i++) db_empty(&dbs[i]);
}

void db_swap(int a, int b) {
    db tmp = dbs[a];
    dbs[a].keys = dbs[b].keys;
    dbs[a].expires = dbs[b].expires;
    dbs[a].avg_ttl = dbs[b].avg_ttl;
    dbs[a].expires_cursor = dbs[b].expires_cursor;
    dbs[b].keys = tmp.keys;
    dbs[b].expires = tmp.expires;
    dbs[b].avg_ttl = tmp.avg_ttl;
    dbs[b].expires_cursor = tmp.expires_cursor;
    recount_slots(&dbs[a]);
    recount_slots(&dbs[b]);
    if (db_on_emptied) {
        db_on_emptied(&dbs[a]);
        db_on_emptied(&dbs[b]);
    }
    if (snap_hooks) snap_hooks->swapped(a, b);
}

entry *db_random_key(db *d) {
    for (int tries = 0; tries < 100; tries++) {
        void *e;
        if (!hashtable_random_element(d->keys, &e)) return NULL;
        if (!entry_is_expired(e, db_now_ms())) return e;
        /* If every key is volatile and expired we would spin: after a
         * number of tries return the expired key as Redis does. */
        if (hashtable_size(d->expires) == hashtable_size(d->keys) && tries == 99) return e;
        if (pause_active()) continue;
        db_expire_entry(d, e);
        if (db_size(d) == 0) return NULL;
    }
    return NULL;
}

/* ---- Walking, sampling, measuring ------------------------------------ */

typedef struct scan_call {
    db_scan_fn *fn;
    void *ctx;
} scan_call;

static void scan_trampoline(void *priv, void *element) {
    scan_call *call = priv;
    call->fn(call->ctx, element);
}

size_t db_scan(db *d, size_t cursor, db_scan_fn *fn, void *ctx) {
    scan_call call = {fn, ctx};
    return hashtable_scan(d->keys, cursor, scan_trampoline, &call);
}

size_t db_scan_expires(db *d, size_t cursor, db_scan_fn *fn, void *ctx) {
    scan_call call = {fn, ctx};
    return hashtable_scan(d->expires, cursor, scan_trampoline, &call);
}

struct db_iter {
    hashtable_iterator it;
};

db_iter *db_iter_new(db *d) {
    db_iter *it = zmalloc(sizeof(*it));
    hashtable_iter_init(&it->it, d->keys, 1);
    return it;
}

entry *db_iter_next(db_iter *it) {
    void *e;
    return hashtable_iter_next(&it->it, &e) ? e : NULL;
}

void db_iter_free(db_iter *it) {
    if (!it) return;
    hashtable_iter_release(&it->it);
    zfree(it);
}

static hashtable *table_of(db *d, int from_expires) { return from_expires ? d->expires : d->keys; }

size_t db_sample(db *d, int from_expires, entry **dst, size_t count) {
    void *found[64];
    size_t stored = 0;
    hashtable *t = table_of(d, from_expires);
    while (stored < count) {
        size_t want = count - stored < 64 ? count - stored : 64;
        size_t n = hashtable_sample_elements(t, found, want);
        for (size_t i = 0; i < n; i++) dst[stored++] = found[i];
        if (n < want) break;
    }
    return stored;
}

entry *db_random_entry(db *d, int from_expires) {
    void *e;
    return hashtable_random_element(table_of(d, from_expires), &e) ? e : NULL;
}

/* A table's bytes shared out among its elements. A small table is mostly
 * empty buckets (minimum size, or just grown): charging those to its few
 * keys would make one key's share jump as others come and go, so the
 * share assumes at least a half-full table (7 slots per bucket). */
static size_t slot_share(const hashtable *t) {
    size_t n = hashtable_size(t), half_full = hashtable_buckets(t) * 7 / 2;
    size_t denom = n > half_full ? n : half_full;
    return denom ? (hashtable_mem_usage(t) + denom - 1) / denom : 0;
}

void db_mem_figures(db *d, db_mem *out) {
    out->keys_table = hashtable_mem_usage(d->keys);
    out->expires_table = hashtable_mem_usage(d->expires);
    out->per_key = slot_share(d->keys);
    out->per_expire = slot_share(d->expires);
}

size_t db_table_overhead(db *d) { return hashtable_mem_usage(d->keys) + hashtable_mem_usage(d->expires); }

/* ---- Active expiry ---------------------------------------------------
 *
 * Like Redis: every cron tick, for each database, sample keys carrying a
 * TTL (walking the expires index with a scan cursor so successive cycles
 * cover the whole index), delete the expired ones, and repeat on the same
 * database while more than an acceptable share of the sample was stale,
 * within a CPU budget. active-expire-effort (1..10) raises the sample size
 * and lowers the acceptable stale share. The fast cycle runs before
 * sleeping, only when the last slow cycle ran out of time or found too
 * many stale keys, with a 1 ms budget.
 */

typedef struct expire_sample {
    entry *items[512];
    size_t n;
    size_t cap;
} expire_sample;

static void collect(void *priv, void *element) {
    expire_sample *s = priv;
    /* Probe chains of successive cursors can overlap, so an element may
     * be reported twice: never queue it twice (it would be freed twice). */
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i] == element) return;
    if (s->n < s->cap) s->items[s->n++] = element;
}

static int last_cycle_stale_high;

void db_active_expire_cycle(int fast) {
    if (replica_mode) {
        expire_own_keys(); /* the master's DELs expire the rest */
        return;
    }
    if (pause_active()) return;
    static int current_db;
    static long long last_fast_start;
    int effort = server.active_expire_effort - 1; /* 0..9 */
    size_t keys_per_loop = 20 + 20 / 4 * (size_t)effort;
    long long acceptable_stale = 10 - effort;
    long long start = ustime();
    long long budget;
    if (fast) {
        if (!last_cycle_stale_high) return;
        if (start < last_fast_start + 2000) return;
        last_fast_start = start;
        budget = 1000 + 1000 / 4 * effort;
    } else {
        budget = 1000000LL * (25 + 2 * effort) / server.hz / 100;
    }
    long long sampled_total = 0, expired_total = 0;
    int timeout = 0;
    for (int i = 0; i < ndbs && !timeout; i++) {
        db *d = &dbs[current_db % ndbs];
        current_db++;
        for (;;) {
            if (hashtable_size(d->expires) == 0) break;
            expire_sample s = {.n = 0, .cap = keys_per_loop < 512 ? keys_per_loop : 512};
            size_t sampled = 0, expired = 0;
            long long now = mstime();
            int rounds = 0;
            do {
                d->expires_cursor = hashtable_scan(d->expires, d->expires_cursor, collect, &s);
                rounds++;
            } while (s.n < s.cap && d->expires_cursor != 0 && rounds < 64);
            long long ttl_sum = 0, ttl_n = 0;
            for (size_t k = 0; k < s.n; k++) {
                entry *e = s.items[k];
                sampled++;
                long long when = entry_expire(e);
                if (when <= now) {
                    db_expire_entry(d, e);
                    expired++;
                } else {
                    ttl_sum += when - now;
                    ttl_n++;
                }
            }
            if (ttl_n) {
                long long avg = ttl_sum / ttl_n;
                d->avg_ttl = d->avg_ttl ? (d->avg_ttl / 50) * 49 + avg / 50 : avg;
            }
            sampled_total += (long long)sampled;
            expired_total += (long long)expired;
            if (ustime() - start > budget) {
                timeout = 1;
                server.stat.expired_time_cap_reached_count++;
                break;
            }
            if (sampled == 0 || (long long)expired * 100 <= (long long)sampled * acceptable_stale) break;
        }
    }
    if (!fast && db_on_expire_cycle) {
        long long left = budget - (ustime() - start);
        db_on_expire_cycle(left > 1000 ? left : 1000);
    }
    long long elapsed = ustime() - start;
    latency_add_sample("expire-cycle", elapsed / 1000);
    server.stat.expire_cycle_time_used_us += elapsed;
    double stale = sampled_total ? (double)expired_total * 100.0 / (double)sampled_total : 0;
    server.stat.expired_stale_perc_x100 =
        (long long)((double)server.stat.expired_stale_perc_x100 * 0.95 + stale * 100.0 * 0.05);
    last_cycle_stale_high = timeout || stale > (double)acceptable_stale;
}

void db_rehash_step(long long us) {
    long long start = ustime();
    for (int i = 0; i < ndbs; i++) {
        long long left = us - (ustime() - start);
        if (left <= 0) break;
        if (hashtable_is_rehashing(dbs[i].keys)) hashtable_rehash_microseconds(dbs[i].keys, (uint64_t)left);
        if (hashtable_is_rehashing(dbs[i].expires)) hashtable_rehash_microseconds(dbs[i].expires, (uint64_t)left);
        hashtable_shrink_if_needed(dbs[i].keys);
        hashtable_shrink_if_needed(dbs[i].expires);
    }
}
