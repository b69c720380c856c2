/*
 * hash_ttl: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL,
 * HEXPIRETIME, HPEXPIRETIME, HPERSIST (Redis 7.4's replies), the lazy
 * and active expiry of hash fields. See hash_ttl.h for the design.
 */
#include "types/hash_ttl.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/propagate.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <limits.h>
#include <string.h>

/* ---- the registry of hashes with field TTLs ----
 * Elements are blocks "<db id, 4 bytes><key bytes>" with their length in
 * front; the table's key is the whole name. */

typedef struct reg_name {
    size_t len;
    char name[];
} reg_name;

static const void *reg_key(const void *el, size_t *len) {
    const reg_name *r = el;
    *len = r->len;
    return r->name;
}

static void reg_free(void *el) { zfree(el); }

static const hashtable_type registry_type = {.element_key = reg_key, .element_destructor = reg_free};
static hashtable *registry;

static size_t reg_format(char *buf, int dbid, const char *key, size_t klen) {
    int32_t id = dbid;
    memcpy(buf, &id, 4);
    memcpy(buf + 4, key, klen);
    return klen + 4;
}

/* Register the hash at e. Called whenever a hash with field TTLs is
 * touched, so that one renamed, moved or swapped into another database
 * is found again by the active cycle. */
static void registry_add(db *d, const entry *e) {
    if (!registry) {
        registry = hashtable_create(&registry_type);
        db_on_expire_cycle = hash_ttl_active_cycle;
    }
    size_t klen;
    const char *key = entry_key(e, &klen);
    char stackbuf[128];
    char *name = klen + 4 <= sizeof(stackbuf) ? stackbuf : zmalloc(klen + 4);
    size_t len = reg_format(name, db_id(d), key, klen);
    void *found;
    if (!hashtable_find(registry, name, len, &found)) {
        reg_name *r = zmalloc(sizeof(reg_name) + len);
        r->len = len;
        memcpy(r->name, name, len);
        hashtable_add(registry, r);
    }
    if (name != stackbuf) zfree(name);
}

/* ---- expiring fields ---- */

static long long earliest_of(hashtable *ht) {
    return hashtable_user_word(ht);
}

void hash_ttl_track(db *d, const entry *e) {
    if (entry_type(e) == TYPE_HASH && entry_encoding(e) == ENC_HASHTABLE && earliest_of(entry_ptr(e)) != 0)
        registry_add(d, e);
}

/* Note a field expiry: the table keeps the earliest one. */
static void note_expire(db *d, const entry *e, hashtable *ht, long long when) {
    long long cur = earliest_of(ht);
    if (cur == 0 || when < cur) hashtable_set_user_word(ht, when);
    registry_add(d, e);
}

/* Expired fields reach the write stream as HDEL key field..., so that
 * the AOF (and replicas) drop them too. */
static void propagate_field_expiry(db *d, const entry *e, void **due, size_t n) {
    if (!propagate_wanted()) return;
    kstr *argv = zmalloc(sizeof(kstr) * (n + 2));
    size_t klen;
    const char *k = entry_key(e, &klen);
    argv[0] = kstr_new("HDEL");
    argv[1] = kstr_new_len(k, klen);
    for (size_t i = 0; i < n; i++) {
        size_t flen;
        const char *f = hfield_field(due[i], &flen);
        argv[i + 2] = kstr_new_len(f, flen);
    }
    propagate_server_op(db_id(d), (int)(n + 2), argv);
    zfree(argv);
}

entry *hash_expire_fields(db *d, entry *e) {
    if (!e || entry_encoding(e) != ENC_HASHTABLE) return e;
    hashtable *ht = entry_ptr(e);
    long long earliest = earliest_of(ht), now = db_now_ms();
    if (earliest == 0) return e;
    registry_add(d, e);
    if (earliest > now) return e;
    /* Collect first: deleting while iterating would move elements. */
    size_t n = 0, cap = 16;
    void **due = zmalloc(cap * sizeof(void *));
    long long next = 0;
    hashtable_iterator it;
    void *hf;
    hashtable_iter_init(&it, ht, 0);
    while (hashtable_iter_next(&it, &hf)) {
        long long when = hfield_expire(hf);
        if (when < 0) continue;
        if (when <= now) {
            if (n == cap) due = zrealloc(due, (cap *= 2) * sizeof(void *));
            due[n++] = hf;
        } else if (next == 0 || when < next) {
            next = when;
        }
    }
    hashtable_iter_release(&it);
    if (n) {
        db_will_modify(d, e); /* a snapshot saves the hash first */
        propagate_field_expiry(d, e, due, n);
    }
    for (size_t i = 0; i < n; i++) {
        size_t flen;
        const char *f = hfield_field(due[i], &flen);
        hashtable_delete(ht, f, flen);
    }
    zfree(due);
    hashtable_set_user_word(ht, next);
    if (n) {
        size_t klen;
        const char *k = entry_key(e, &klen);
        notify_keyspace_event_len(NOTIFY_HASH, "hexpired", k, klen, db_id(d));
    }
    if (n && hashtable_size(ht) == 0) {
        size_t klen;
        const char *k = entry_key(e, &klen);
        kstr key = kstr_new_len(k, klen); /* e goes with the key */
        db_delete(d, key, klen);
        notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(d));
        kstr_free(key);
        server_dirty++;
        return NULL;
    }
    if (n) server_dirty++;
    return e;
}

/* The cycle walks the registry with a cursor, so every registered hash
 * is visited within a bounded number of cycles (random sampling could
 * miss one for long). Names are copied out of a scan step before any is
 * handled: handling one may delete registry entries. */
typedef struct reg_batch {
    kstr names[64];
    size_t n;
} reg_batch;

static void collect_name(void *priv, void *el) {
    reg_batch *b = priv;
    const reg_name *r = el;
    if (b->n < 64) b->names[b->n++] = kstr_new_len(r->name, r->len);
}

static void visit_registered(const kstr name) {
    int32_t id;
    memcpy(&id, name, 4);
    db *d = id >= 0 && id < db_count() ? db_get(id) : NULL;
    entry *e = d ? db_find(d, name + 4, kstr_len(name) - 4) : NULL;
    int keep = 0;
    if (e && entry_type(e) == TYPE_HASH && entry_encoding(e) == ENC_HASHTABLE) {
        e = hash_expire_fields(d, e);
        keep = e && earliest_of(entry_ptr(e)) != 0;
    }
    if (!keep) hashtable_delete(registry, name, kstr_len(name));
}

void hash_ttl_active_cycle(long long budget_us) {
    static size_t cursor;
    if (!registry || hashtable_size(registry) == 0) return;
    long long start = ustime();
    do {
        reg_batch b = {.n = 0};
        cursor = hashtable_scan(registry, cursor, collect_name, &b);
        for (size_t i = 0; i < b.n; i++) {
            visit_registered(b.names[i]);
            kstr_free(b.names[i]);
        }
    } while (cursor != 0 && ustime() - start < budget_us);
}

/* ---- arguments: FIELDS numfields field ... ---- */

/* Index of the first field; replies and returns 0 on error. */
static int parse_fields(client *c, int at, int *nfields) {
    if (at >= c->argc || !arg_is(c->argv[at], "fields")) {
        reply_error(c, "ERR Mandatory argument FIELDS is missing or not at the right position");
        return 0;
    }
    long long n;
    if (at + 1 >= c->argc || !parse_ll_msg(c, c->argv[at + 1], &n, "ERR Parameter `numFields` should be greater than 0"))
        return 0;
    if (n <= 0) { reply_error(c, "ERR Parameter `numFields` should be greater than 0"); return 0; }
    if (n != c->argc - at - 2) {
        reply_error(c, "ERR The `numfields` parameter must match the number of arguments");
        return 0;
    }
    *nfields = (int)n;
    return at + 2;
}

/* ---- HEXPIRE family ---- */

enum { COND_NONE, COND_NX, COND_XX, COND_GT, COND_LT };

static int cond_allows(int cond, long long cur, long long when) {
    switch (cond) {
    case COND_NX: return cur < 0;
    case COND_XX: return cur >= 0;
    case COND_GT: return cur >= 0 && when > cur;  /* no TTL counts as infinite */
    case COND_LT: return cur < 0 || when < cur;
    default: return 1;
    }
}

static int parse_cond(const kstr a) {
    if (arg_is(a, "nx")) return COND_NX;
    if (arg_is(a, "xx")) return COND_XX;
    if (arg_is(a, "gt")) return COND_GT;
    if (arg_is(a, "lt")) return COND_LT;
    return COND_NONE;
}

/* One field: -2 missing, 0 condition not met, 1 set, 2 deleted (due). */
static int expire_one(hashtable *ht, const kstr f, long long when, int cond, long long now) {
    void **ref = hashtable_find_ref(ht, f, kstr_len(f));
    if (!ref) return -2;
    if (!cond_allows(cond, hfield_expire(*ref), when)) return 0;
    if (when <= now) {
        hashtable_delete(ht, f, kstr_len(f));
        return 2;
    }
    void *n = hfield_with_expire(*ref, when);
    zfree(*ref);
    *ref = n;
    return 1;
}

/* HEXPIRE, HPEXPIRE, HEXPIREAT reach the write stream as HPEXPIREAT with
 * the absolute time, so that a reload does not extend the TTL. */
static void propagate_absolute(client *c, long long when) {
    if (!propagate_wanted()) return;
    kstr *argv = zmalloc(sizeof(kstr) * (size_t)c->argc);
    argv[0] = kstr_new("HPEXPIREAT");
    for (int i = 1; i < c->argc; i++) argv[i] = i == 2 ? kstr_from_ll(when) : kstr_dup(c->argv[i]);
    propagate_rewrite(c, c->argc, argv);
    zfree(argv);
}

static void expire_generic(client *c, long long unit_ms, int absolute) {
    long long v;
    if (!parse_ll(c, c->argv[2], &v)) return;
    if (v < 0 || v > LLONG_MAX / unit_ms) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
        return;
    }
    long long now = db_now_ms(), when = v * unit_ms;
    if (!absolute) {
        if (when > LLONG_MAX - now) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
            return;
        }
        when += now;
    }
    int at = 3, cond = parse_cond(c->argv[3]), nfields;
    if (cond != COND_NONE) at = 4;
    int first = parse_fields(c, at, &nfields);
    if (!first) return;
    int wrong;
    entry *e = hash_expire_fields(c->db, lookup_write_typed(c, c->argv[1], TYPE_HASH, &wrong));
    if (wrong) return;
    if (!e) { reply_null_array(c); return; }
    int any = 0;
    for (int i = 0; i < nfields && !any; i++) any = hash_entry_has_field(e, c->argv[first + i]);
    if (!any) { /* nothing to do: keep the encoding */
        reply_array_len(c, nfields);
        for (int i = 0; i < nfields; i++) reply_ll(c, -2);
        return;
    }
    hashtable *ht = hash_table_of(c->db, &e);
    int changed = 0;
    reply_array_len(c, nfields);
    for (int i = 0; i < nfields; i++) {
        int r = expire_one(ht, c->argv[first + i], when, cond, now);
        if (r == 1) note_expire(c->db, e, ht, when);
        changed |= r >= 1;
        reply_ll(c, r);
    }
    if (!changed) return;
    if (!absolute || unit_ms != 1) propagate_absolute(c, when);
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_HASH, "hexpire", c->argv[1], db_id(c->db));
    if (hashtable_size(ht) == 0) {
        db_delete(c->db, c->argv[1], kstr_len(c->argv[1]));
        notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], db_id(c->db));
    }
}

static void hexpire_command(client *c) { expire_generic(c, 1000, 0); }
static void hpexpire_command(client *c) { expire_generic(c, 1, 0); }
static void hexpireat_command(client *c) { expire_generic(c, 1000, 1); }
static void hpexpireat_command(client *c) { expire_generic(c, 1, 1); }

/* ---- HTTL family, HPERSIST ---- */

enum { SHOW_TTL_S, SHOW_TTL_MS, SHOW_AT_S, SHOW_AT_MS };

static long long shown(int what, long long when, long long now) {
    switch (what) {
    case SHOW_TTL_S: return (when - now + 500) / 1000;
    case SHOW_TTL_MS: return when - now;
    case SHOW_AT_S: return when / 1000;
    default: return when;
    }
}

/* The field's block in the hash at e (which may be NULL or a listpack). */
static const void *field_block(entry *e, const kstr f) {
    if (!e || entry_encoding(e) != ENC_HASHTABLE) return NULL;
    void *hf;
    return hashtable_find(entry_ptr(e), f, kstr_len(f), &hf) ? hf : NULL;
}


static void ttl_generic(client *c, int what) {
    int nfields, first = parse_fields(c, 2, &nfields);
    if (!first) return;
    int wrong;
    entry *e = hash_expire_fields(c->db, lookup_read_typed(c, c->argv[1], TYPE_HASH, &wrong));
    if (wrong) return;
    long long now = db_now_ms();
    reply_array_len(c, nfields);
    for (int i = 0; i < nfields; i++) {
        kstr f = c->argv[first + i];
        const void *hf = field_block(e, f);
        long long when = hf ? hfield_expire(hf) : -1;
        if (!hash_entry_has_field(e, f)) reply_ll(c, -2);
        else if (when < 0) reply_ll(c, -1);
        else reply_ll(c, shown(what, when, now));
    }
}

static void httl_command(client *c) { ttl_generic(c, SHOW_TTL_S); }
static void hpttl_command(client *c) { ttl_generic(c, SHOW_TTL_MS); }
static void hexpiretime_command(client *c) { ttl_generic(c, SHOW_AT_S); }
static void hpexpiretime_command(client *c) { ttl_generic(c, SHOW_AT_MS); }

static void hpersist_command(client *c) {
    int nfields, first = parse_fields(c, 2, &nfields);
    if (!first) return;
    int wrong;
    entry *e = hash_expire_fields(c->db, lookup_write_typed(c, c->argv[1], TYPE_HASH, &wrong));
    if (wrong) return;
    int changed = 0;
    reply_array_len(c, nfields);
    for (int i = 0; i < nfields; i++) {
        kstr f = c->argv[first + i];
        if (!hash_entry_has_field(e, f)) { reply_ll(c, -2); continue; }
        void **ref = entry_encoding(e) == ENC_HASHTABLE ? hashtable_find_ref(entry_ptr(e), f, kstr_len(f)) : NULL;
        if (!ref || hfield_expire(*ref) < 0) { reply_ll(c, -1); continue; }
        void *n = hfield_with_expire(*ref, -1);
        zfree(*ref);
        *ref = n;
        changed = 1;
        reply_ll(c, 1);
    }
    if (!changed) return;
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_HASH, "hpersist", c->argv[1], db_id(c->db));
}

command hash_ttl_commands[] = {
    {"hexpire", hexpire_command, -6, "write denyoom fast", 1, 1, 1, "hash", "7.4.0", "Set a TTL in seconds on hash fields.", NULL},
    {"hpexpire", hpexpire_command, -6, "write denyoom fast", 1, 1, 1, "hash", "7.4.0", "Set a TTL in milliseconds on hash fields.", NULL},
    {"hexpireat", hexpireat_command, -6, "write denyoom fast", 1, 1, 1, "hash", "7.4.0", "Set a Unix time in seconds at which hash fields expire.", NULL},
    {"hpexpireat", hpexpireat_command, -6, "write denyoom fast", 1, 1, 1, "hash", "7.4.0", "Set a Unix time in milliseconds at which hash fields expire.", NULL},
    {"httl", httl_command, -5, "readonly fast", 1, 1, 1, "hash", "7.4.0", "Seconds left before hash fields expire.", NULL},
    {"hpttl", hpttl_command, -5, "readonly fast", 1, 1, 1, "hash", "7.4.0", "Milliseconds left before hash fields expire.", NULL},
    {"hexpiretime", hexpiretime_command, -5, "readonly fast", 1, 1, 1, "hash", "7.4.0", "Unix time in seconds at which hash fields expire.", NULL},
    {"hpexpiretime", hpexpiretime_command, -5, "readonly fast", 1, 1, 1, "hash", "7.4.0", "Unix time in milliseconds at which hash fields expire.", NULL},
    {"hpersist", hpersist_command, -5, "write fast", 1, 1, 1, "hash", "7.4.0", "Remove the TTL of hash fields.", NULL},
    {0},
};
