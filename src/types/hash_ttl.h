/*
 * hash_ttl: hash field expiration (Redis 7.4's HEXPIRE family), between
 * the hash module and the server's expiry cycle.
 *
 * Where the TTL lives: in the field's own block (types/hash.c: a bit of
 * the field-length varint says an 8-byte expiry follows the value). Only
 * hashtable-encoded hashes have such fields: HEXPIRE converts a listpack
 * hash first. The table's user word (lib/hashtable.h) holds the earliest
 * expiry of the hash's fields, or 0: a hash none of whose fields is due
 * costs one comparison per command.
 *
 * When fields go: lazily, when any hash command looks the key up
 * (hash_expire_fields), and actively, from the expiry cycle: hashes with
 * field TTLs are listed in a registry (database, key) that the cycle
 * samples with a time budget, as the key expiry cycle does. The registry
 * is a hint: a key renamed, deleted or overwritten leaves a stale name
 * that the cycle drops when it finds no such hash with due fields.
 */
#ifndef KEEL_TYPES_HASH_TTL_H
#define KEEL_TYPES_HASH_TTL_H

#include "core/db.h"
#include "core/entry.h"
#include "lib/kstr.h"
#include "types/hash.h"

/* A field block's field, its expiry (-1: none), and a copy with another
 * expiry (types/hash.c). */
const char *hfield_field(const void *hf, size_t *len);
long long hfield_expire(const void *hf);
void *hfield_with_expire(const void *hf, long long expire);

/* The hashtable of the hash in e, converting a listpack hash to the
 * hashtable encoding first (the entry may move: *e is updated). For the
 * TTL commands, implemented in hash.c. */
struct hashtable *hash_table_of(db *d, entry **e);
/* Does the hash at e (NULL: no key) have field f? */
int hash_entry_has_field(const entry *e, const kstr f);

/* Building a hash outside the keyspace (RDB loading, RESTORE): give the
 * existing field f of h the expiry when (Unix ms, > 0), converting h to
 * the hashtable encoding. Returns 0, or -1 when h has no field f. In
 * types/hash.c. */
int hash_value_set_field_expire(hash_value *h, const char *f, size_t flen, long long when);
/* Once a hash built that way is in database d: list it for the active
 * expiry cycle (nothing for a hash without field TTLs). */
void hash_ttl_track(db *d, const entry *e);

/* Remove the fields of e (a hash, or NULL) whose TTL has passed; deletes
 * the key when none is left. Returns e, or NULL when it was deleted. */
entry *hash_expire_fields(db *d, entry *e);

/* Active expiry of hash fields: installed as db_on_expire_cycle when the
 * first field TTL is set. */
void hash_ttl_active_cycle(long long budget_us);

#endif
