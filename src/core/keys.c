/*
 * keys: the generic keyspace commands (the "generic" group in Redis's
 * documentation): deleting, renaming, moving, expiring, scanning keys,
 * selecting and flushing databases, OBJECT introspection.
 */
#include "cluster/cluster.h"
#include "core/propagate.h"
#include "persist/persist.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "pubsub/tracking.h"
#include "core/multi.h"
#include "core/command.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <limits.h>
#include <strings.h>
#include <string.h>

static void del_generic(client *c, int reason) {
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        entry *e = lookup_write(c, c->argv[j]);
        if (!e) continue;
        db_delete_reason(c->db, c->argv[j], kstr_len(c->argv[j]), reason);
        signal_modified_key(c, c->db, c->argv[j]);
        notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[j], db_id(c->db));
        deleted++;
    }
    reply_ll(c, deleted);
}

/* UNLINK differs from DEL only in how the memory manager frees values. */
static void del_command(client *c) { del_generic(c, FREE_USER_DEL); }
static void unlink_command(client *c) { del_generic(c, FREE_USER_UNLINK); }

static void exists_command(client *c) {
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (db_lookup(c->db, c->argv[j], kstr_len(c->argv[j]), LOOKUP_NOTOUCH)) count++;
    reply_ll(c, count);
}

/* TOUCH touches even for a client in CLIENT NO-TOUCH mode: touching is
 * what it asks for (Redis 7.2's rule for that mode). */
static void touch_command(client *c) {
    long long count = 0;
    int no_touch = c->flags & CLIENT_NO_TOUCH;
    c->flags &= ~CLIENT_NO_TOUCH;
    for (int j = 1; j < c->argc; j++)
        if (lookup_read(c, c->argv[j])) count++;
    c->flags |= no_touch;
    reply_ll(c, count);
}

static void type_command(client *c) {
    entry *e = db_lookup(c->db, c->argv[1], kstr_len(c->argv[1]), LOOKUP_NOTOUCH);
    reply_status(c, e ? entry_type_name(entry_type(e)) : "none");
}

static void rename_generic(client *c, int nx) {
    kstr src = c->argv[1], dst = c->argv[2];
    entry *e = lookup_write(c, src);
    if (!e) {
        reply_error(c, "ERR no such key");
        return;
    }
    int same = kstr_len(src) == kstr_len(dst) && memcmp(src, dst, kstr_len(src)) == 0;
    if (same) {
        if (nx) reply_ll(c, 0);
        else reply_ok(c);
        return;
    }
    if (lookup_write(c, dst)) {
        if (nx) {
            reply_ll(c, 0);
            return;
        }
        db_delete(c->db, dst, kstr_len(dst));
    }
    e = db_unlink_entry(c->db, src, kstr_len(src));
    db_add(c->db, entry_rekey(e, dst, kstr_len(dst)));
    signal_modified_key(c, c->db, src);
    signal_modified_key(c, c->db, dst);
    notify_keyspace_event(NOTIFY_GENERIC, "rename_from", src, db_id(c->db));
    notify_keyspace_event(NOTIFY_GENERIC, "rename_to", dst, db_id(c->db));
    if (nx) reply_ll(c, 1);
    else reply_ok(c);
}

static void rename_command(client *c) { rename_generic(c, 0); }
static void renamenx_command(client *c) { rename_generic(c, 1); }

static int parse_db_index(client *c, const kstr arg, int *id) {
    long long v;
    if (!parse_ll(c, arg, &v)) return 0;
    if (v < 0 || v >= db_count()) {
        reply_error(c, "ERR DB index is out of range");
        return 0;
    }
    *id = (int)v;
    return 1;
}

static void move_command(client *c) {
    if (cluster_is_enabled()) {
        reply_error(c, "ERR MOVE is not allowed in cluster mode");
        return;
    }
    int id;
    if (!parse_db_index(c, c->argv[2], &id)) return;
    db *dst = db_get(id);
    if (dst == c->db) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    kstr key = c->argv[1];
    entry *e = lookup_write(c, key);
    if (!e || db_lookup(dst, key, kstr_len(key), LOOKUP_WRITE)) {
        reply_ll(c, 0);
        return;
    }
    e = db_unlink_entry(c->db, key, kstr_len(key));
    db_add(dst, e);
    signal_modified_key(c, c->db, key);
    signal_modified_key(c, dst, key);
    notify_keyspace_event(NOTIFY_GENERIC, "move_from", key, db_id(c->db));
    notify_keyspace_event(NOTIFY_GENERIC, "move_to", key, db_id(dst));
    reply_ll(c, 1);
}

static void copy_command(client *c) {
    db *dst = c->db;
    int replace = 0;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(c->argv[j], "db") && j + 1 < c->argc) {
            int id;
            if (!parse_db_index(c, c->argv[++j], &id)) return;
            if (cluster_is_enabled() && id != 0) {
                reply_error(c, "ERR Copying to another database is not allowed in cluster mode");
                return;
            }
            dst = db_get(id);
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    kstr src = c->argv[1], key = c->argv[2];
    if (dst == c->db && kstr_len(src) == kstr_len(key) && memcmp(src, key, kstr_len(src)) == 0) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    entry *e = lookup_write(c, src);
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    if (db_lookup(dst, key, kstr_len(key), LOOKUP_WRITE)) {
        if (!replace) {
            reply_ll(c, 0);
            return;
        }
        db_delete(dst, key, kstr_len(key));
    }
    db_add(dst, entry_dup(e, key, kstr_len(key)));
    signal_modified_key(c, dst, key);
    notify_keyspace_event(NOTIFY_GENERIC, "copy_to", key, db_id(dst));
    reply_ll(c, 1);
}

/* ---- KEYS and SCAN ---- */

static void keys_command(client *c) {
    kstr pat = c->argv[1];
    int all = kstr_len(pat) == 1 && pat[0] == '*';
    void *lenptr = reply_deferred_len(c);
    long count = 0;
    db_iter *it = db_iter_new(c->db);
    long long now = db_now_ms();
    entry *e;
    while ((e = db_iter_next(it))) {
        size_t klen;
        const char *k = entry_key(e, &klen);
        if (!all && !glob_match(pat, kstr_len(pat), k, klen, 0)) continue;
        if (entry_is_expired(e, now)) continue;
        reply_bulk(c, k, klen);
        count++;
    }
    db_iter_free(it);
    reply_set_deferred_array_len(c, lenptr, count);
}


/* The entries one SCAN call visits: buckets from the cursor until count
 * entries were seen, or 10 x count buckets were visited so that a sparse
 * table cannot make one call walk forever (scan_collect's rule for the
 * other SCANs). The reply starts with the next cursor, known only at the
 * end, hence the collection. */
typedef struct entry_vec {
    entry **v;
    size_t n, cap;
} entry_vec;

static void entry_vec_push(void *ctx, entry *e) {
    entry_vec *ev = ctx;
    if (ev->n == ev->cap) {
        ev->cap = ev->cap ? ev->cap * 2 : 16;
        ev->v = zrealloc(ev->v, ev->cap * sizeof(entry *));
    }
    ev->v[ev->n++] = e;
}

static size_t scan_keyspace(db *d, size_t cursor, long long count, entry_vec *ev) {
    long long budget = count * 10;
    do {
        cursor = db_scan(d, cursor, entry_vec_push, ev);
    } while (cursor && budget-- > 0 && (long long)ev->n < count);
    return cursor;
}

static int type_matches(const entry *e, const char *type) {
    return !type || !strcasecmp(entry_type_name(entry_type(e)), type);
}

static void scan_command(client *c) {
    scan_args a;
    if (!parse_scan_args(c, 1, 1, &a)) return;
    entry_vec found = {NULL, 0, 0};
    size_t cursor = scan_keyspace(c->db, (size_t)a.cursor, a.count, &found);
    /* Filter after the walk: MATCH, TYPE, and keys already expired, which
     * are then deleted (as Redis 7.2 does, whatever the filters), once the
     * names to reply are copied; not during CLIENT PAUSE, which freezes
     * the dataset. */
    reply_array_len(c, 2);
    reply_bulk_ll(c, (long long)cursor);
    kstr *keys = zmalloc(sizeof(kstr) * (found.n ? found.n : 1));
    size_t nkeys = 0;
    long long now = db_now_ms();
    for (size_t i = 0; i < found.n; i++) {
        entry *e = found.v[i];
        size_t klen;
        const char *k = entry_key(e, &klen);
        if (entry_is_expired(e, now) || !scan_pattern_matches(&a, k, klen) || !type_matches(e, a.type)) continue;
        keys[nkeys++] = kstr_new_len(k, klen);
    }
    for (size_t i = 0; i < found.n && !pause_active(); i++)
        if (entry_is_expired(found.v[i], now)) db_expire_entry(c->db, found.v[i]);
    reply_array_len(c, (long)nkeys);
    for (size_t i = 0; i < nkeys; i++) {
        reply_bulk(c, keys[i], kstr_len(keys[i]));
        kstr_free(keys[i]);
    }
    zfree(keys);
    zfree(found.v);
}

static void randomkey_command(client *c) {
    entry *e = db_random_key(c->db);
    if (!e) {
        reply_null(c);
        return;
    }
    size_t klen;
    const char *k = entry_key(e, &klen);
    reply_bulk(c, k, klen);
}

static void dbsize_command(client *c) { reply_ll(c, (long long)db_size(c->db)); }

/* ---- Expiry ---- */

#define EXPIRE_NX (1 << 0)
#define EXPIRE_XX (1 << 1)
#define EXPIRE_GT (1 << 2)
#define EXPIRE_LT (1 << 3)

static int parse_expire_flags(client *c, int *flags) {
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (arg_is(a, "nx")) *flags |= EXPIRE_NX;
        else if (arg_is(a, "xx")) *flags |= EXPIRE_XX;
        else if (arg_is(a, "gt")) *flags |= EXPIRE_GT;
        else if (arg_is(a, "lt")) *flags |= EXPIRE_LT;
        else {
            reply_errorf(c, "ERR Unsupported option %s", a);
            return 0;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return 0;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return 0;
    }
    return 1;
}

/* unit_ms: the argument is in ms; relative: add the current time. */
static void expire_generic(client *c, int unit_ms, int relative) {
    long long when;
    if (!parse_ll(c, c->argv[2], &when)) return;
    int flags;
    if (!parse_expire_flags(c, &flags)) return;
    if (!unit_ms) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
            return;
        }
        when *= 1000;
    }
    if (relative) {
        long long now = db_now_ms();
        if ((when > 0 && when > LLONG_MAX - now) || (when < 0 && when < LLONG_MIN + now)) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->name);
            return;
        }
        when += now;
    }
    entry *e = lookup_write(c, c->argv[1]);
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    long long cur = entry_expire(e);
    if (flags & EXPIRE_NX && cur != -1) { reply_ll(c, 0); return; }
    if (flags & EXPIRE_XX && cur == -1) { reply_ll(c, 0); return; }
    /* A key without TTL counts as an infinite TTL for GT and LT. */
    if (flags & EXPIRE_GT && (cur == -1 || when <= cur)) { reply_ll(c, 0); return; }
    if (flags & EXPIRE_LT && cur != -1 && when >= cur) { reply_ll(c, 0); return; }
    int past = db_ttl_already_past(when); /* see db_set_loading, db_set_replica_mode */
    if (past) {
        db_delete(c->db, c->argv[1], kstr_len(c->argv[1]));
        server.stat.expiredkeys++;
        propagate_rewritef(c, "sk", server.lazyfree_lazy_server_del ? "UNLINK" : "DEL", c->argv[1]);
    } else {
        db_set_expire(c->db, e, when);
        propagate_rewritef(c, "skl", "PEXPIREAT", c->argv[1], when);
    }
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, past ? "del" : "expire", c->argv[1], db_id(c->db));
    reply_ll(c, 1);
}

static void expire_command(client *c) { expire_generic(c, 0, 1); }
static void pexpire_command(client *c) { expire_generic(c, 1, 1); }
static void expireat_command(client *c) { expire_generic(c, 0, 0); }
static void pexpireat_command(client *c) { expire_generic(c, 1, 0); }

enum { TTL_REMAINING_S, TTL_REMAINING_MS, TTL_ABS_S, TTL_ABS_MS };

static void ttl_generic(client *c, int mode) {
    entry *e = db_lookup(c->db, c->argv[1], kstr_len(c->argv[1]), LOOKUP_NOTOUCH);
    if (!e) { reply_ll(c, -2); return; }
    long long when = entry_expire(e);
    if (when == -1) { reply_ll(c, -1); return; }
    long long left = when - db_now_ms();
    if (left < 0) left = 0;
    switch (mode) {
    case TTL_REMAINING_S: reply_ll(c, (left + 500) / 1000); break;
    case TTL_REMAINING_MS: reply_ll(c, left); break;
    case TTL_ABS_S: reply_ll(c, when / 1000); break;
    default: reply_ll(c, when); break;
    }
}

static void ttl_command(client *c) { ttl_generic(c, TTL_REMAINING_S); }
static void pttl_command(client *c) { ttl_generic(c, TTL_REMAINING_MS); }
static void expiretime_command(client *c) { ttl_generic(c, TTL_ABS_S); }
static void pexpiretime_command(client *c) { ttl_generic(c, TTL_ABS_MS); }

static void persist_command(client *c) {
    entry *e = lookup_write(c, c->argv[1]);
    if (!e || !entry_has_expire(e)) {
        reply_ll(c, 0);
        return;
    }
    db_persist(c->db, e);
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "persist", c->argv[1], db_id(c->db));
    reply_ll(c, 1);
}

/* ---- Databases ---- */

static void select_command(client *c) {
    long long id;
    if (!parse_ll(c, c->argv[1], &id)) return;
    if (cluster_is_enabled() && id != 0) {
        reply_error(c, "ERR SELECT is not allowed in cluster mode");
        return;
    }
    if (id < 0 || id >= db_count()) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = db_get((int)id);
    reply_ok(c);
}

static void swapdb_command(client *c) {
    long long a, b;
    if (cluster_is_enabled()) {
        reply_error(c, "ERR SWAPDB is not allowed in cluster mode");
        return;
    }
    if (!string_to_ll(c->argv[1], kstr_len(c->argv[1]), &a)) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &b)) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    if (a < 0 || a >= db_count() || b < 0 || b >= db_count()) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    if (a != b) {
        multi_touch_db(db_get((int)a), db_get((int)b));
        db_swap((int)a, (int)b);
        blocking_db_swapped((int)a, (int)b);
    }
    server_dirty++;
    reply_ok(c);
}

/* Returns 1 for ASYNC, 0 for SYNC, the lazyfree-lazy-user-flush default
 * without argument, -1 after a syntax error. */
static int parse_flush_mode(client *c) {
    if (c->argc > 2 || (c->argc == 2 && !arg_is(c->argv[1], "async") && !arg_is(c->argv[1], "sync"))) {
        reply_error_syntax(c);
        return -1;
    }
    if (c->argc == 2) return arg_is(c->argv[1], "async");
    return server.lazyfree_lazy_user_flush;
}

static void flushdb_command(client *c) {
    int async = parse_flush_mode(c);
    if (async < 0) return;
    server_dirty += (long long)db_size(c->db);
    propagate_force(c);
    multi_touch_db(c->db, NULL);
    memory_empty_db(c->db, async);
    tracking_invalidate_all();
    reply_ok(c);
}

static void flushall_command(client *c) {
    int async = parse_flush_mode(c);
    if (async < 0) return;
    for (int i = 0; i < db_count(); i++) {
        server_dirty += (long long)db_size(db_get(i));
        multi_touch_db(db_get(i), NULL);
        memory_empty_db(db_get(i), async);
    }
    propagate_force(c);
    persist_after_flushall();
    tracking_invalidate_all();
    reply_ok(c);
}

/* ---- OBJECT ---- */

static entry *object_lookup(client *c) {
    entry *e = db_lookup(c->db, c->argv[2], kstr_len(c->argv[2]), LOOKUP_NOTOUCH | LOOKUP_NOSTATS);
    if (!e) reply_null(c);
    return e;
}

static int policy_is_lfu(void) {
    return server.maxmemory_policy == MAXMEMORY_ALLKEYS_LFU || server.maxmemory_policy == MAXMEMORY_VOLATILE_LFU;
}

static void object_encoding_command(client *c) {
    entry *e = object_lookup(c);
    if (e) reply_bulk_cstr(c, entry_encoding_name(e));
}

/* Redis shares the objects of the integers 0..9999 (refcount INT_MAX)
 * unless an LRU or LFU maxmemory policy needs a clock per value. Keel
 * stores such integers inline, unshared; it reports what Redis would, so
 * that tools and tests reading the refcount see Redis's answer. */
#define SHARED_INTEGERS 10000
#define SHARED_REFCOUNT 2147483647LL

static int policy_needs_own_objects(void) {
    return server.maxmemory && server.maxmemory_policy != MAXMEMORY_NO_EVICTION &&
           server.maxmemory_policy != MAXMEMORY_ALLKEYS_RANDOM &&
           server.maxmemory_policy != MAXMEMORY_VOLATILE_RANDOM && server.maxmemory_policy != MAXMEMORY_VOLATILE_TTL;
}

static void object_refcount_command(client *c) {
    entry *e = object_lookup(c);
    if (!e) return;
    long long v;
    int shared = entry_type(e) == TYPE_STRING && entry_encoding(e) == ENC_INT && entry_string_as_ll(e, &v) &&
                 v >= 0 && v < SHARED_INTEGERS && !policy_needs_own_objects();
    reply_ll(c, shared ? SHARED_REFCOUNT : 1);
}

static void object_idletime_command(client *c) {
    entry *e = db_find(c->db, c->argv[2], kstr_len(c->argv[2]));
    if (e && entry_is_expired(e, db_now_ms())) e = NULL;
    if (!e) { reply_null(c); return; }
    if (policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                       "switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_ll(c, memory_entry_idle_seconds(e));
}

static void object_freq_command(client *c) {
    entry *e = db_find(c->db, c->argv[2], kstr_len(c->argv[2]));
    if (e && entry_is_expired(e, db_now_ms())) e = NULL;
    if (!e) { reply_null(c); return; }
    if (!policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
                       "that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_ll(c, memory_entry_lfu_counter(e));
}

static void object_help_command(client *c) {
    static const char *const help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    reply_help(c, help);
}

static command object_subcommands[] = {
    {"encoding", object_encoding_command, 3, "readonly", 2, 2, 1, "generic", "2.2.3", "Internal encoding of a value.", NULL},
    {"freq", object_freq_command, 3, "readonly", 2, 2, 1, "generic", "4.0.0", "Logarithmic access frequency counter of a key.", NULL},
    {"idletime", object_idletime_command, 3, "readonly", 2, 2, 1, "generic", "2.2.3", "Seconds since the last access to a key.", NULL},
    {"refcount", object_refcount_command, 3, "readonly", 2, 2, 1, "generic", "2.2.3", "Reference count of a value.", NULL},
    {"help", object_help_command, 2, "loading stale", 0, 0, 0, "generic", "6.2.0", "Help on OBJECT.", NULL},
    {0},
};

command keys_commands[] = {
    {"del", del_command, -2, "write", 1, -1, 1, "generic", "1.0.0", "Delete keys.", NULL},
    {"unlink", unlink_command, -2, "write fast", 1, -1, 1, "generic", "4.0.0", "Delete keys, freeing memory in the background.", NULL},
    {"exists", exists_command, -2, "readonly fast", 1, -1, 1, "generic", "1.0.0", "Count the existing keys among the arguments.", NULL},
    {"touch", touch_command, -2, "readonly fast", 1, -1, 1, "generic", "3.2.1", "Update the last access time of keys.", NULL},
    {"type", type_command, 2, "readonly fast", 1, 1, 1, "generic", "1.0.0", "Type of the value of a key.", NULL},
    {"rename", rename_command, 3, "write", 1, 2, 1, "generic", "1.0.0", "Rename a key.", NULL},
    {"renamenx", renamenx_command, 3, "write fast", 1, 2, 1, "generic", "1.0.0", "Rename a key if the new name is free.", NULL},
    {"move", move_command, 3, "write fast", 1, 1, 1, "generic", "1.0.0", "Move a key to another database.", NULL},
    {"copy", copy_command, -3, "write denyoom", 1, 2, 1, "generic", "6.2.0", "Copy the value of a key to another key.", NULL},
    {"keys", keys_command, 2, "readonly", 0, 0, 0, "generic", "1.0.0", "Keys matching a pattern.", NULL},
    {"scan", scan_command, -2, "readonly", 0, 0, 0, "generic", "2.8.0", "Iterate over the keys.", NULL},
    {"randomkey", randomkey_command, 1, "readonly", 0, 0, 0, "generic", "1.0.0", "A random key.", NULL},
    {"dbsize", dbsize_command, 1, "readonly fast", 0, 0, 0, "server", "1.0.0", "Number of keys in the database.", NULL},
    {"expire", expire_command, -3, "write fast", 1, 1, 1, "generic", "1.0.0", "Set a TTL in seconds.", NULL},
    {"pexpire", pexpire_command, -3, "write fast", 1, 1, 1, "generic", "2.6.0", "Set a TTL in milliseconds.", NULL},
    {"expireat", expireat_command, -3, "write fast", 1, 1, 1, "generic", "1.2.0", "Set an expire time as a unix time in seconds.", NULL},
    {"pexpireat", pexpireat_command, -3, "write fast", 1, 1, 1, "generic", "2.6.0", "Set an expire time as a unix time in milliseconds.", NULL},
    {"ttl", ttl_command, 2, "readonly fast", 1, 1, 1, "generic", "1.0.0", "Remaining TTL in seconds.", NULL},
    {"pttl", pttl_command, 2, "readonly fast", 1, 1, 1, "generic", "2.6.0", "Remaining TTL in milliseconds.", NULL},
    {"expiretime", expiretime_command, 2, "readonly fast", 1, 1, 1, "generic", "7.0.0", "Expire time as a unix time in seconds.", NULL},
    {"pexpiretime", pexpiretime_command, 2, "readonly fast", 1, 1, 1, "generic", "7.0.0", "Expire time as a unix time in milliseconds.", NULL},
    {"persist", persist_command, 2, "write fast", 1, 1, 1, "generic", "2.2.0", "Remove the TTL of a key.", NULL},
    {"select", select_command, 2, "loading stale fast", 0, 0, 0, "connection", "1.0.0", "Change the selected database.", NULL},
    {"swapdb", swapdb_command, 3, "write fast", 0, 0, 0, "server", "4.0.0", "Swap two databases.", NULL},
    {"flushdb", flushdb_command, -1, "write", 0, 0, 0, "server", "1.0.0", "Remove all keys of the current database.", NULL},
    {"flushall", flushall_command, -1, "write", 0, 0, 0, "server", "1.0.0", "Remove all keys of all databases.", NULL},
    {"object", NULL, -2, "", 0, 0, 0, "generic", "2.2.3", "Object introspection.", object_subcommands},
    {0},
};
