/*
 * db: the keyspace. Each numbered database is a table of entries plus an
 * index of the entries that carry a TTL (pointers only: the TTL itself
 * lives in the entry, see entry.h). The index exists so that the active
 * expiry cycle and volatile-* eviction can sample keys with a TTL without
 * walking keys that have none.
 *
 * This module is the only owner of entries once they are in a table: it
 * replaces, reallocates (TTL changes) and frees them, keeping both tables
 * consistent. Commands look keys up here, and get type checking, lazy
 * expiry, hit/miss statistics and LRU/LFU touch in the same call.
 *
 * How a database stores its keys is private to db.c: `struct db` is
 * opaque, and everything that walks, samples or measures a keyspace (SCAN,
 * KEYS, RANDOMKEY, DEBUG DIGEST, expiry, eviction, the LRU ager, defrag,
 * MEMORY STATS/USAGE/DOCTOR, lazy FLUSH) goes through the functions below.
 * What they guarantee, which is all a caller may rely on (so that a later
 * change of storage, such as one table per cluster hash slot, stays inside
 * db.c):
 *
 *   - db_scan / db_scan_expires: a cursor is an opaque size_t; 0 starts a
 *     walk and a returned 0 ends it. Every key present from the start to
 *     the end of a walk is passed to fn at least once, whatever happens
 *     between calls (adds, deletes, TTL changes, table resizes and
 *     rehashes); keys added or deleted during the walk may or may not be
 *     seen; a key may be seen more than once while the tables resize or
 *     rehash, exactly once otherwise. Expired keys not yet deleted are
 *     passed too (entry_is_expired tells). One call visits a bounded
 *     amount of the table (a home bucket and its probe chain, per
 *     table). fn may change the entry's bytes in place (its access
 *     bits, its snapshot mark) but must not add, delete or replace
 *     keys: collect them and act after the call returns. Cursors
 *     survive across commands; after db_swap, db_empty or db_detach a
 *     cursor is still safe to pass (it walks the new contents, without the
 *     guarantee: restart at 0 to have it).
 *   - db_iter: visits every key present for the whole iteration exactly
 *     once (expired ones included), within one command (no other command
 *     runs meanwhile). The caller may delete the entry just returned (db_delete*,
 *     db_expire_entry) or replace it (db_replace, db_set_expire,
 *     db_persist); any other change to the database while the iterator
 *     lives is a bug. Tables do not shrink or finish a rehash while it
 *     lives, so free it promptly.
 *   - db_sample / db_random_entry: entries from a random place of the
 *     keyspace (or of its keys with a TTL), without expiry, statistics or
 *     touch; fair enough for eviction and expiry, not a uniform draw for
 *     db_sample (a run of neighbours). db_random_key is RANDOMKEY's: it
 *     skips (and deletes) expired keys.
 *   - db_mem: the tables' own bytes (not the entries'), per database.
 *
 * A fork-less snapshot walks with db_scan, marks what it wrote with the
 * entry's snapshot mark (entry.h), and keeps a flushed database's old
 * contents with db_detach; the rest it needs (saving a key before it
 * changes) are hooks called from inside db.c, like db_on_key_added.
 * Per-slot cluster tables change only db.c: the cursor, the samples and
 * the figures keep their meaning over several tables.
 */
#ifndef KEEL_DB_H
#define KEEL_DB_H

#include <stddef.h>

#include "core/entry.h"

typedef struct db db; /* opaque: see db.c */

/* Lookup flags. */
#define LOOKUP_NONE 0
#define LOOKUP_NOTOUCH (1 << 0)  /* don't update LRU/LFU */
#define LOOKUP_NOSTATS (1 << 1)  /* don't count hits/misses */
#define LOOKUP_NOEXPIRE (1 << 2) /* don't delete an expired key */
#define LOOKUP_WRITE (1 << 3)    /* lookup for a write */

void db_init_all(int count);
void db_free_all(void);
db *db_get(int id);
int db_count(void);
/* The database's number (SELECT index). */
int db_id(const db *d);
/* Average TTL of its volatile keys in ms, as the expiry cycle estimates
 * it (INFO keyspace's avg_ttl). */
long long db_avg_ttl(const db *d);

/* Find a live key (expired keys are deleted and reported missing). */
entry *db_lookup(db *d, const char *key, size_t klen, int flags);
/* While a dataset is replayed (AOF loading), nothing expires, as in
 * Redis: a key whose TTL is in the past stays, so that the commands after
 * it (RPUSH onto it, say) act on what they acted on when first run; the
 * expiry cycle removes it once loading is over. */
void db_set_loading(int on);
/* On a replica nothing expires by itself: expired keys read as missing
 * for clients and stay live for the master's stream (CLIENT_MASTER),
 * whose DEL removes them; the expiry cycle does not run. On a writable
 * replica a client's write deletes an expired key it touches (Redis 7.0);
 * on a read-only one nothing does (PFCOUNT's cache write, say). */
void db_set_replica_mode(int on, int read_only);
/* Is a TTL being set at when_ms already past (the key goes at once)?
 * Never while loading, nor for the master's stream on a replica: the
 * master decides when its keys expire (Redis's checkAlreadyExpired). */
int db_ttl_already_past(long long when_ms);
int db_loading(void);
/* Raw lookup: no expiry, no stats, no touch. */
entry *db_find(db *d, const char *key, size_t klen);

/* Add a key that is not present (caller checked). Takes ownership. */
void db_add(db *d, entry *e);
/* Replace the entry of an existing key by a new one (same key). The old
 * entry is freed with its value, unless keep_value is set (the value was
 * moved into the new entry). */
void db_replace(db *d, entry *old, entry *e, int keep_value);
/* SET semantics: add or overwrite; keepttl carries the old TTL over. */
void db_set(db *d, entry *e, int keepttl);
/* Remove and free. Returns 1 if the key existed. */
int db_delete(db *d, const char *key, size_t klen);
/* Remove and free, telling the memory manager why (FREE_* in
 * memory/memory.h), so that lazy-free settings apply. */
int db_delete_reason(db *d, const char *key, size_t klen, int reason);
/* Remove without freeing; the caller owns the entry. */
entry *db_unlink_entry(db *d, const char *key, size_t klen);

/* TTL management; both return the entry, possibly moved. */
entry *db_set_expire(db *d, entry *e, long long when_ms);
entry *db_persist(db *d, entry *e);

/* Is this entry's TTL in the past? */
int entry_is_expired(const entry *e, long long now_ms);
/* Delete an expired key, counting it in expired_keys. */
void db_expire_entry(db *d, entry *e);
/* Delete a key the memory manager chose to evict (freed as FREE_EVICT),
 * telling WATCH and keyspace events as for any server-side change.
 * Returns 1 if the key existed. */
int db_evict_key(db *d, const char *key, size_t klen);

size_t db_size(db *d);
size_t db_expires_size(db *d);
/* Keys in all databases together. */
size_t db_size_all(void);
/* Make room for n keys in one go (DEBUG POPULATE). */
void db_reserve(db *d, size_t n);
void db_empty(db *d);
void db_empty_all(void);
void db_swap(int a, int b);
/* Move d's contents into a new database outside the keyspace (same id;
 * db_scan, db_iter, db_size work on it) and leave d empty: FLUSH ASYNC
 * hands the old contents to the lazy free thread this way, and a
 * snapshot could keep saving them. db_free_detached frees such a
 * database and its keys at once; it may run on any thread, as it touches
 * only x and the allocator. */
db *db_detach(db *d);
void db_free_detached(db *x);
/* The reverse of db_detach: free d's current contents and put x's back in
 * their place (x is consumed). An aborted RDB load restores the keyspace
 * it had set aside this way. */
void db_reattach(db *d, db *x);
/* Exchange d's contents with x's (a detached database), in O(1) outside
 * cluster mode: a replica's async load lets clients read the old dataset
 * between batches of the new one this way. */
void db_exchange(db *d, db *x);

/* ---- Cluster hash slots (cluster mode: database 0) ----
 * db_enable_slot_index, called before db_init_all, makes database 0 keep
 * a count of keys per hash slot (lib/crc16.h): 64 KB in all, nothing per
 * key, so a key costs what it costs in standalone mode. Counting a slot's
 * keys is direct; listing them is a walk of the table filtered by slot
 * that stops as soon as it found them all (or max), and resumes where the
 * previous walk of the same slot stopped (what a resharding tool that
 * migrates a slot batch after batch needs). Expired keys not yet deleted
 * count, as in Redis. */
void db_enable_slot_index(void);
size_t db_slot_count(db *d, unsigned slot);
/* Up to max entries of the slot into out (each once); returns how many.
 * The entries stay valid until the keyspace changes. */
size_t db_slot_keys(db *d, unsigned slot, size_t max, entry **out);

/* ---- Walking, sampling, measuring (guarantees: see the top) ---- */
typedef void db_scan_fn(void *ctx, entry *e);
size_t db_scan(db *d, size_t cursor, db_scan_fn *fn, void *ctx);
/* The same over the keys that have a TTL. */
size_t db_scan_expires(db *d, size_t cursor, db_scan_fn *fn, void *ctx);

typedef struct db_iter db_iter;
db_iter *db_iter_new(db *d);
/* The next entry, or NULL at the end. */
entry *db_iter_next(db_iter *it);
void db_iter_free(db_iter *it);

/* Up to count entries of the keyspace (from_expires: of the keys with a
 * TTL) from a random place; may return fewer, and the same entry twice
 * when count exceeds 64. Returns how many. */
size_t db_sample(db *d, int from_expires, entry **dst, size_t count);
/* One uniformly random entry (from_expires: with a TTL), or NULL. */
entry *db_random_entry(db *d, int from_expires);
/* A random live key (RANDOMKEY), or NULL. Expired keys met on the way
 * are deleted (not while clients are paused). */
entry *db_random_key(db *d);

/* Memory of the tables themselves (the entries are counted apart). */
typedef struct db_mem {
    size_t keys_table;    /* the table of all keys */
    size_t expires_table; /* the index of keys with a TTL */
    size_t per_key;       /* one key's share of keys_table */
    size_t per_expire;    /* one TTL's share of expires_table */
} db_mem;
void db_mem_figures(db *d, db_mem *out);
/* keys_table + expires_table. */
size_t db_table_overhead(db *d);

/* Active expiry: called from cron (slow cycle) and before sleep (fast). */
void db_active_expire_cycle(int fast);
/* Incremental rehash of all tables, bounded in time. */
void db_rehash_step(long long us);

/* Called after a key is added or changes type (blocking operations use it
 * to wake clients waiting for that key). NULL when nobody listens. */
extern void (*db_on_key_added)(db *d, const entry *e);
/* Called when a key leaves the keyspace (deleted, expired, evicted,
 * renamed away), before its entry is freed. NULL when nobody listens. */
extern void (*db_on_key_removed)(db *d, const entry *e);
/* Called when a whole database changes at once (FLUSHDB, FLUSHALL,
 * SWAPDB), after the change. NULL when nobody listens. */
extern void (*db_on_emptied)(db *d);
/* Called at the end of each slow active expiry cycle with a time budget
 * (µs), for values that expire parts of themselves (hash fields). */
extern void (*db_on_expire_cycle)(long long budget_us);

/* Snapshot support (persist/snapshot.h installs these; see "Fork-less
 * snapshots" in docs/ARCHITECTURE.md). Every way a key's value or
 * presence changes passes through db.c, and db.c calls before_change
 * with the entry first: lookups for writing, replace, set, delete,
 * unlink (rename, move, evict, expire), TTL changes. Before a keyspace
 * database is emptied or detached (FLUSHDB/FLUSHALL, sync or async),
 * wants_contents is asked; if it answers 1, the contents are detached
 * and handed to keep_contents (the database then empties or detaches
 * nothing). swapped follows SWAPDB. Every entry that enters a table gets
 * the mark db_new_entry_mark. */
typedef struct db_snapshot_hooks {
    void (*before_change)(db *d, entry *e);
    int (*wants_contents)(db *d);
    void (*keep_contents)(db *d, db *old);
    void (*swapped)(int a, int b);
} db_snapshot_hooks;
void db_set_snapshot_hooks(const db_snapshot_hooks *h);
/* For code that changes a value found without a write lookup (the
 * expiry of hash fields from a read or from the cron): call this first,
 * as a write lookup would. */
void db_will_modify(db *d, entry *e);
extern int db_new_entry_mark;

/* Current time as seen by commands: fixed during one command so that a
 * key does not expire half-way through a multi-key operation. */
long long db_now_ms(void);
void db_set_command_time(long long ms);

#endif
