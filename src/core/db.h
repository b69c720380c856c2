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
 */
#ifndef KEEL_DB_H
#define KEEL_DB_H

#include "core/entry.h"
#include "lib/hashtable.h"

typedef struct db {
    hashtable *keys;
    hashtable *expires; /* entries with a TTL, same pointers as in keys */
    int id;
    long long avg_ttl;  /* estimate maintained by the expiry cycle */
    unsigned long expires_cursor;
} db;

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

/* Find a live key (expired keys are deleted and reported missing). */
entry *db_lookup(db *d, const char *key, size_t klen, int flags);
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

size_t db_size(db *d);
size_t db_expires_size(db *d);
void db_empty(db *d);
void db_empty_all(void);
void db_swap(int a, int b);
/* Hand over the database's tables (for freeing them in the background)
 * and install fresh empty ones. */
void db_take_tables(db *d, hashtable **keys, hashtable **expires);
/* The reverse: free the database's current contents and tables, and
 * install the given ones (an aborted load putting the old keys back). */
void db_restore_tables(db *d, hashtable *keys, hashtable *expires);

/* Walk every entry of a database (expired ones included). The table must
 * not be modified while the iterator is in use. */
typedef struct db_iter db_iter;
db_iter *db_iter_new(db *d);
entry *db_iter_next(db_iter *it);
void db_iter_free(db_iter *it);

/* Walk every key (SCAN semantics: a key present for the whole walk is
 * visited; one may be visited twice across a resize). Returns the next
 * cursor, 0 when done. fn must not add or delete keys. */
typedef void db_scan_fn(void *ctx, entry *e);
size_t db_scan(db *d, size_t cursor, db_scan_fn *fn, void *ctx);

/* Snapshot support (persist/snapshot.h installs these; see "Fork-less
 * snapshots" in docs/ARCHITECTURE.md). Every way a key's value or
 * presence changes passes through db.c, and db.c calls before_change
 * with the entry first: lookups for writing, replace, set, delete,
 * unlink (rename, move, evict, expire), TTL changes. claim_tables is
 * called before a database is emptied (FLUSHDB/FLUSHALL, sync or async):
 * returning 1 means the hook took the tables with db_detach. swapped
 * follows SWAPDB. Every entry that enters a table gets the mark
 * db_new_entry_mark. */
typedef struct db_snapshot_hooks {
    void (*before_change)(db *d, entry *e);
    int (*claim_tables)(db *d);
    void (*swapped)(int a, int b);
} db_snapshot_hooks;
void db_set_snapshot_hooks(const db_snapshot_hooks *h);
extern int db_new_entry_mark;
/* Move d's tables into a new db (outside the keyspace, same id) and give
 * d empty ones. db_free_detached frees such a db and its keys (in the
 * background). */
db *db_detach(db *d);
void db_free_detached(db *x);

/* A random live key, or NULL. */
entry *db_random_key(db *d);

/* Active expiry: called from cron (slow cycle) and before sleep (fast). */
void db_active_expire_cycle(int fast);
/* Incremental rehash of all tables, bounded in time. */
void db_rehash_step(long long us);

/* Called after a key is added or changes type (blocking operations use it
 * to wake clients waiting for that key). NULL when nobody listens. */
extern void (*db_on_key_added)(db *d, const entry *e);

/* Current time as seen by commands: fixed during one command so that a
 * key does not expire half-way through a multi-key operation. */
long long db_now_ms(void);
void db_set_command_time(long long ms);

#endif
