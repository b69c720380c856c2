/*
 * hash: the hash type and its commands.
 *
 * Encodings, as Redis: a listpack of field, value, field, value... while
 * the hash has at most hash-max-listpack-entries fields and no field or
 * value is longer than hash-max-listpack-value bytes; past either limit it
 * becomes a hashtable for good (Redis never converts back either: a hash
 * that grew once is likely to grow again, and converting back and forth
 * around a threshold would cost O(n) per operation).
 *
 * Hashtable encoding: every field is ONE allocation holding the field and
 * its value (an "hfield"):
 *
 *   <field length varint> <field bytes> <value length varint> <value bytes>
 *
 * and the table stores only the pointer (element_key decodes the field).
 * Redis spends a dictEntry (24 bytes) plus two sds strings (two more
 * allocations with their headers and rounding) per field; here a field
 * "name" with value "alice" costs one 11-byte block (16 with jemalloc's
 * rounding) plus 12-24 bytes of table (about 17, lib/hashtable.h).
 * Lengths are varints (lib/varint.h) because short fields dominate: one
 * byte each below 128. Field-first ordering keeps element_key (called on
 * every probe that passes the hash-byte filter) to one varint decode.
 * The price: changing a value allocates a new block and swaps the pointer
 * in its slot (hashtable_find_ref, no second lookup) - cheap next to the
 * table walk, and values rarely grow in place.
 */
#include "types/hash.h"
#include "types/hash_ttl.h"

#include "core/propagate.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/listpack.h"
#include "lib/random.h"
#include "lib/sample.h"
#include "lib/smallpack.h"
#include "lib/util.h"
#include "lib/varint.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- hfield: one field + value in one block ----
 *
 * A field with a TTL (HEXPIRE, Redis 7.4) carries it in its block: the
 * field-length varint holds (length << 1 | 1) and the 8-byte expiry
 * follows the value. Fields are short, so the extra bit rarely costs a
 * varint byte; a field without a TTL pays nothing else. */

static void *hfield_build(const char *f, size_t flen, const char *v, size_t vlen, long long expire) {
    int ttl = expire >= 0;
    size_t head = (flen << 1) | (size_t)ttl;
    unsigned char *p = zmalloc(varint_size(head) + flen + varint_size(vlen) + vlen + (ttl ? 8 : 0));
    size_t off = varint_put(p, head);
    memcpy(p + off, f, flen);
    off += flen;
    off += varint_put(p + off, vlen);
    if (vlen) memcpy(p + off, v, vlen);
    if (ttl) memcpy(p + off + vlen, &expire, 8);
    return p;
}

static void *hfield_new(const char *f, size_t flen, const char *v, size_t vlen) {
    return hfield_build(f, flen, v, vlen, -1);
}

const char *hfield_field(const void *hf, size_t *len) {
    const unsigned char *p = hf;
    size_t head, off = varint_get(p, &head);
    *len = head >> 1;
    return (const char *)p + off;
}

static const char *hfield_value(const void *hf, size_t *len) {
    size_t flen;
    const unsigned char *p = hf;
    const char *f = hfield_field(hf, &flen);
    size_t off = (size_t)((const unsigned char *)f - p) + flen;
    return (const char *)p + off + varint_get(p + off, len);
}

long long hfield_expire(const void *hf) {
    const unsigned char *p = hf;
    if (!(p[0] & 1)) return -1; /* the varint's first byte holds its low bits */
    size_t vlen;
    const char *v = hfield_value(hf, &vlen);
    long long expire;
    memcpy(&expire, v + vlen, 8);
    return expire;
}

void *hfield_with_expire(const void *hf, long long expire) {
    size_t flen, vlen;
    const char *f = hfield_field(hf, &flen);
    const char *v = hfield_value(hf, &vlen);
    return hfield_build(f, flen, v, vlen, expire);
}

static const void *hfield_key(const void *element, size_t *keylen) { return hfield_field(element, keylen); }
static void hfield_free(void *element) { zfree(element); }

static const hashtable_type hash_table_type = {
    .element_key = hfield_key,
    .element_destructor = hfield_free,
};

/* ---- hash values ---- */

hash_value hash_value_new(void) { return (hash_value){ENC_LISTPACK, lp_new(LP_EMPTY_SIZE)}; }

void hash_value_free(hash_value *h) {
    if (h->enc == ENC_LISTPACK) lp_free(h->ptr);
    else hashtable_release(h->ptr);
    h->ptr = NULL;
}

size_t hash_value_length(const hash_value *h) {
    if (h->enc == ENC_LISTPACK) return lp_length(h->ptr) / 2;
    return hashtable_size(h->ptr);
}

static hash_value hash_of(const entry *e) { return (hash_value){entry_encoding(e), entry_ptr(e)}; }

/* Small listpacks are stored inside the key's entry (core/entry.h):
 * one allocation per small hash instead of two. Past this size the
 * listpack gets its own block, since every write rebuilds an inline one. */
#define HASH_INLINE_MAX_BYTES 256

static int hash_fits_inline(const hash_value *h) {
    return h->enc == ENC_LISTPACK && lp_bytes(h->ptr) <= HASH_INLINE_MAX_BYTES;
}

/* The value of e ready to be modified (a new hash when e is NULL). An
 * inline listpack is copied out, since listpack writes reallocate; the
 * copy goes back through hash_store. */
static hash_value hash_for_write(entry *e) {
    if (!e) return hash_value_new();
    hash_value h = hash_of(e);
    if (entry_is_inline_aggregate(e)) h.ptr = zmemdup(h.ptr, lp_bytes(h.ptr));
    return h;
}

/* Write h back as the value of e; returns the entry, which moves when the
 * value goes inline or out of line. */
static entry *hash_store(client *c, entry *e, hash_value *h) {
    if (hash_fits_inline(h)) {
        entry *n = entry_with_inline(e, TYPE_HASH, h->ptr, lp_bytes(h->ptr));
        lp_free(h->ptr);
        db_replace(c->db, e, n, 1); /* the old value was h's listpack or a copy */
        return n;
    }
    if (entry_is_inline_aggregate(e)) {
        entry *n = entry_with_ptr(e, TYPE_HASH, h->enc, h->ptr);
        db_replace(c->db, e, n, 1);
        return n;
    }
    entry_set_ptr(e, h->ptr);
    if (entry_encoding(e) != h->enc) entry_set_encoding(e, h->enc);
    return e;
}

/* The bytes of a listpack entry; integers are printed into buf. */
static const char *lp_bytes_of(unsigned char *p, unsigned char *buf, size_t *len) {
    unsigned int l;
    unsigned char *s = lp_get_value(p, buf, &l);
    *len = l;
    return (const char *)s;
}

static unsigned char *lp_find_field(unsigned char *lp, const char *f, size_t flen) {
    unsigned char *p = lp_first(lp);
    return p ? lp_find(lp, p, (const unsigned char *)f, flen, 1) : NULL;
}

static void hash_convert_to_table(hash_value *h) {
    unsigned char *lp = h->ptr;
    hashtable *ht = hashtable_create(&hash_table_type);
    hashtable_expand(ht, lp_length(lp) / 2);
    unsigned char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
        unsigned char *vp = lp_next(lp, p);
        size_t flen, vlen;
        const char *f = lp_bytes_of(p, fbuf, &flen);
        const char *v = lp_bytes_of(vp, vbuf, &vlen);
        hashtable_add(ht, hfield_new(f, flen, v, vlen));
        p = vp;
    }
    lp_free(lp);
    h->enc = ENC_HASHTABLE;
    h->ptr = ht;
}

static int too_long_for_listpack(size_t len) { return (long long)len > server.hash_max_listpack_value; }

int hash_value_set(hash_value *h, const char *f, size_t flen, const char *v, size_t vlen) {
    if (h->enc == ENC_LISTPACK &&
        (too_long_for_listpack(flen) || too_long_for_listpack(vlen) || !lp_safe_to_add(h->ptr, flen + vlen + 32)))
        hash_convert_to_table(h);
    if (h->enc == ENC_LISTPACK) {
        unsigned char *lp = h->ptr;
        unsigned char *p = lp_find_field(lp, f, flen);
        if (p) {
            unsigned char *vp = lp_next(lp, p);
            h->ptr = lp_replace(lp, &vp, (const unsigned char *)v, vlen);
            return 0;
        }
        lp = lp_append(lp, (const unsigned char *)f, flen);
        lp = lp_append(lp, (const unsigned char *)v, vlen);
        h->ptr = lp;
        if ((long long)(lp_length(lp) / 2) > server.hash_max_listpack_entries) hash_convert_to_table(h);
        return 1;
    }
    hashtable *ht = h->ptr;
    void *hf = hfield_new(f, flen, v, vlen);
    void **ref = hashtable_find_ref(ht, f, flen);
    if (ref) {
        zfree(*ref);
        *ref = hf;
        return 0;
    }
    hashtable_add(ht, hf);
    return 1;
}

int hash_value_set_field_expire(hash_value *h, const char *f, size_t flen, long long when) {
    if (h->enc == ENC_LISTPACK) hash_convert_to_table(h);
    hashtable *ht = h->ptr;
    void **ref = hashtable_find_ref(ht, f, flen);
    if (!ref) return -1;
    void *n = hfield_with_expire(*ref, when);
    zfree(*ref);
    *ref = n;
    long long earliest = hashtable_user_word(ht);
    if (earliest == 0 || when < earliest) hashtable_set_user_word(ht, when);
    return 0;
}

/* Value of field f: returns 1 and sets v and vlen (integers printed into
 * buf), or returns 0. */
static int hash_value_get(const hash_value *h, const char *f, size_t flen, unsigned char *buf, const char **v,
                          size_t *vlen) {
    if (h->enc == ENC_LISTPACK) {
        unsigned char *p = lp_find_field(h->ptr, f, flen);
        if (!p) return 0;
        *v = lp_bytes_of(lp_next(h->ptr, p), buf, vlen);
        return 1;
    }
    void *hf;
    if (!hashtable_find(h->ptr, f, flen, &hf)) return 0;
    *v = hfield_value(hf, vlen);
    return 1;
}

static int hash_value_delete(hash_value *h, const char *f, size_t flen) {
    if (h->enc == ENC_LISTPACK) {
        unsigned char *p = lp_find_field(h->ptr, f, flen);
        if (!p) return 0;
        h->ptr = lp_delete_range_with_entry(h->ptr, &p, 2);
        return 1;
    }
    return hashtable_delete(h->ptr, f, flen);
}

typedef void hash_pair_fn(void *priv, const char *f, size_t flen, const char *v, size_t vlen);

static void hash_foreach(const hash_value *h, hash_pair_fn *fn, void *priv) {
    if (h->enc == ENC_LISTPACK) {
        unsigned char *lp = h->ptr;
        unsigned char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            unsigned char *vp = lp_next(lp, p);
            size_t flen, vlen;
            const char *f = lp_bytes_of(p, fbuf, &flen);
            const char *v = lp_bytes_of(vp, vbuf, &vlen);
            fn(priv, f, flen, v, vlen);
            p = vp;
        }
        return;
    }
    hashtable_iterator it;
    void *hf;
    hashtable_iter_init(&it, h->ptr, 0);
    while (hashtable_iter_next(&it, &hf)) {
        size_t flen, vlen;
        const char *f = hfield_field(hf, &flen);
        const char *v = hfield_value(hf, &vlen);
        fn(priv, f, flen, v, vlen);
    }
    hashtable_iter_release(&it);
}

struct hashtable *hash_table_of(db *d, entry **e) {
    hash_value h = hash_for_write(*e);
    if (h.enc == ENC_LISTPACK) hash_convert_to_table(&h);
    if (entry_is_inline_aggregate(*e)) {
        entry *n = entry_with_ptr(*e, TYPE_HASH, h.enc, h.ptr);
        db_replace(d, *e, n, 1);
        *e = n;
    } else {
        entry_set_ptr(*e, h.ptr);
        if (entry_encoding(*e) != h.enc) entry_set_encoding(*e, h.enc);
    }
    return h.ptr;
}

/* ---- type ops ---- */

static void hash_free_value(int enc, void *ptr) {
    hash_value h = {enc, ptr};
    hash_value_free(&h);
}

static void *hash_dup_value(int enc, const void *ptr) {
    if (enc == ENC_LISTPACK) return zmemdup(ptr, lp_bytes(ptr));
    hashtable *ht = hashtable_create(&hash_table_type);
    hashtable_expand(ht, hashtable_size(ptr));
    hashtable_iterator it;
    void *hf;
    hashtable_iter_init(&it, (hashtable *)ptr, 0);
    while (hashtable_iter_next(&it, &hf)) hashtable_add(ht, hfield_with_expire(hf, hfield_expire(hf)));
    hashtable_iter_release(&it);
    hashtable_set_user_word(ht, hashtable_user_word(ptr)); /* field TTLs come along */
    return ht;
}

static size_t block_size(const void *block) { return zmalloc_size(block); }

static size_t hash_mem_usage(int enc, const void *ptr, size_t samples) {
    if (enc == ENC_LISTPACK) return zmalloc_size(ptr);
    return hashtable_mem_usage_sampled((hashtable *)ptr, samples, block_size);
}

static size_t hash_length(int enc, const void *ptr) {
    hash_value h = {enc, (void *)ptr};
    return hash_value_length(&h);
}

typedef struct visit_ctx {
    type_visit_fn *fn;
    void *priv;
} visit_ctx;

static void visit_pair(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    visit_ctx *vc = priv;
    vc->fn(vc->priv, f, flen, 0);
    vc->fn(vc->priv, v, vlen, 0);
}

static void hash_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv) {
    hash_value h = {enc, (void *)ptr};
    visit_ctx vc = {fn, priv};
    hash_foreach(&h, visit_pair, &vc);
}

const type_ops hash_type_ops = {
    .name = "hash",
    .free_value = hash_free_value,
    .dup_value = hash_dup_value,
    .mem_usage = hash_mem_usage,
    .length = hash_length,
    .iterate = hash_iterate,
};

/* ---- command helpers ---- */

/* Every hash command looks its key up here, so this is where fields
 * whose TTL has passed are removed (hash_ttl.c): no command sees one. */
static entry *lookup_hash_read(client *c, int *wrong) {
    return hash_expire_fields(c->db, lookup_read_typed(c, c->argv[1], TYPE_HASH, wrong));
}
static entry *lookup_hash_write(client *c, int *wrong) {
    return hash_expire_fields(c->db, lookup_write_typed(c, c->argv[1], TYPE_HASH, wrong));
}

entry *hash_entry_new(const char *key, size_t klen, hash_value *h, long long expire) {
    if (hash_fits_inline(h)) {
        entry *e = entry_new_inline(key, klen, TYPE_HASH, h->ptr, lp_bytes(h->ptr), expire);
        lp_free(h->ptr);
        h->ptr = NULL;
        return e;
    }
    return entry_new_ptr(key, klen, TYPE_HASH, h->enc, h->ptr, expire);
}

/* Write h back: into e when the key exists, else as a new key. */
static void hash_commit(client *c, entry *e, hash_value *h, const char *event) {
    kstr key = c->argv[1];
    if (e) {
        hash_store(c, e, h);
    } else if (hash_fits_inline(h)) {
        db_add(c->db, entry_new_inline(key, kstr_len(key), TYPE_HASH, h->ptr, lp_bytes(h->ptr), -1));
        lp_free(h->ptr);
    } else {
        db_add(c->db, entry_new_ptr(key, kstr_len(key), TYPE_HASH, h->enc, h->ptr, -1));
    }
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_HASH, event, key, db_id(c->db));
}

/* After deletions: drop the key when empty, as Redis does. */
static void hash_commit_after_delete(client *c, entry *e, hash_value *h) {
    kstr key = c->argv[1];
    int emptied = hash_value_length(h) == 0;
    if (emptied) {
        hash_store(c, e, h);
        db_delete(c->db, key, kstr_len(key));
    } else {
        if (h->enc == ENC_HASHTABLE) hashtable_shrink_if_needed(h->ptr);
        hash_store(c, e, h);
    }
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_HASH, "hdel", key, db_id(c->db));
    if (emptied) notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(c->db));
}

/* ---- commands ---- */

static void hset_generic(client *c, const char *name, int reply_count) {
    if (c->argc % 2 != 0) {
        reply_errorf(c, "ERR wrong number of arguments for '%s' command", name);
        return;
    }
    int wrong;
    entry *e = lookup_hash_write(c, &wrong);
    if (wrong) return;
    hash_value h = hash_for_write(e);
    long long created = 0;
    for (int j = 2; j < c->argc; j += 2)
        created += hash_value_set(&h, c->argv[j], kstr_len(c->argv[j]), c->argv[j + 1], kstr_len(c->argv[j + 1]));
    hash_commit(c, e, &h, "hset");
    if (reply_count) reply_ll(c, created);
    else reply_ok(c);
}

static void hset_command(client *c) { hset_generic(c, "hset", 1); }
static void hmset_command(client *c) { hset_generic(c, "hmset", 0); }

/* Field f of the small hash stored as a smallpack, read in place: single
 * field reads skip decoding the whole hash into a listpack (which costs
 * more than the search). Same contract as hash_value_get. */
static int smallpack_get(const unsigned char *sp, size_t len, const char *f, size_t flen, unsigned char *buf,
                         const char **v, size_t *vlen) {
    size_t off = 0, fsize, vsize;
    while ((fsize = smallpack_element_size(sp, len, off)) &&
           (vsize = smallpack_element_size(sp, len, off + fsize))) {
        if (lp_compare((unsigned char *)sp + off, (const unsigned char *)f, flen)) {
            unsigned int l;
            *v = (const char *)lp_get_value((unsigned char *)sp + off + fsize, buf, &l);
            *vlen = l;
            return 1;
        }
        off += fsize + vsize;
    }
    return 0;
}

/* Value of field f of the hash in e (NULL: no key), for the commands
 * that read one field (HGET, HEXISTS, ..., and HSETNX/HINCRBY* before
 * they write): a small hash is read in place, not decoded. */
static int field_get(const entry *e, const kstr f, unsigned char *buf, const char **v, size_t *vlen) {
    if (!e) return 0;
    size_t splen;
    const unsigned char *sp = entry_smallpack(e, &splen);
    if (sp) return smallpack_get(sp, splen, f, kstr_len(f), buf, v, vlen);
    hash_value h = hash_of(e);
    return hash_value_get(&h, f, kstr_len(f), buf, v, vlen);
}

int hash_entry_has_field(const entry *e, const kstr f) {
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    return field_get(e, f, buf, &v, &vlen);
}

static void hsetnx_command(client *c) {
    int wrong;
    entry *e = lookup_hash_write(c, &wrong);
    if (wrong) return;
    kstr f = c->argv[2], v = c->argv[3];
    unsigned char buf[LP_INTBUF_SIZE];
    const char *old;
    size_t oldlen;
    if (field_get(e, f, buf, &old, &oldlen)) {
        reply_ll(c, 0);
        return;
    }
    hash_value h = hash_for_write(e);
    hash_value_set(&h, f, kstr_len(f), v, kstr_len(v));
    hash_commit(c, e, &h, "hset");
    reply_ll(c, 1);
}

static void reply_field_value(client *c, const entry *e, const kstr f) {
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    if (field_get(e, f, buf, &v, &vlen)) reply_bulk(c, v, vlen);
    else reply_null(c);
}

static void hget_command(client *c) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    reply_field_value(c, e, c->argv[2]);
}

static void hmget_command(client *c) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) reply_field_value(c, e, c->argv[j]);
}

static void hexists_command(client *c) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    reply_ll(c, field_get(e, c->argv[2], buf, &v, &vlen));
}

static void hstrlen_command(client *c) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen = 0;
    if (!field_get(e, c->argv[2], buf, &v, &vlen)) vlen = 0;
    reply_ll(c, (long long)vlen);
}

static void hlen_command(client *c) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    hash_value h = e ? hash_of(e) : (hash_value){0, NULL};
    reply_ll(c, e ? (long long)hash_value_length(&h) : 0);
}

static void hdel_command(client *c) {
    int wrong;
    entry *e = lookup_hash_write(c, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    hash_value h = hash_for_write(e);
    long long deleted = 0;
    for (int j = 2; j < c->argc && hash_value_length(&h) > 0; j++)
        deleted += hash_value_delete(&h, c->argv[j], kstr_len(c->argv[j]));
    if (deleted) hash_commit_after_delete(c, e, &h);
    reply_ll(c, deleted);
}

/* HGETALL, HKEYS, HVALS */
#define WANT_FIELDS 1
#define WANT_VALUES 2

typedef struct getall_ctx {
    client *c;
    int what;
} getall_ctx;

static void reply_pair(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    getall_ctx *g = priv;
    if (g->what & WANT_FIELDS) reply_bulk(g->c, f, flen);
    if (g->what & WANT_VALUES) reply_bulk(g->c, v, vlen);
}

static void getall_generic(client *c, int what) {
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    hash_value h = e ? hash_of(e) : (hash_value){0, NULL};
    long n = e ? (long)hash_value_length(&h) : 0;
    if (what == (WANT_FIELDS | WANT_VALUES)) reply_map_len(c, n);
    else reply_array_len(c, n);
    if (!e) return;
    getall_ctx g = {c, what};
    hash_foreach(&h, reply_pair, &g);
}

static void hgetall_command(client *c) { getall_generic(c, WANT_FIELDS | WANT_VALUES); }
static void hkeys_command(client *c) { getall_generic(c, WANT_FIELDS); }
static void hvals_command(client *c) { getall_generic(c, WANT_VALUES); }

static void hincrby_command(client *c) {
    long long incr, value = 0;
    if (!parse_ll(c, c->argv[3], &incr)) return;
    int wrong;
    entry *e = lookup_hash_write(c, &wrong);
    if (wrong) return;
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    kstr f = c->argv[2];
    if (field_get(e, f, buf, &v, &vlen) && !string_to_ll(v, vlen, &value)) {
        reply_error(c, "ERR hash value is not an integer");
        return;
    }
    if (ll_add_overflows(value, incr)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    hash_value h = hash_for_write(e);
    value += incr;
    char out[32];
    int n = ll_to_string(out, sizeof(out), value);
    hash_value_set(&h, f, kstr_len(f), out, (size_t)n);
    hash_commit(c, e, &h, "hincrby");
    reply_ll(c, value);
}

static void hincrbyfloat_command(client *c) {
    long double incr, value = 0;
    if (!parse_long_double(c, c->argv[3], &incr)) return;
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    int wrong;
    entry *e = lookup_hash_write(c, &wrong);
    if (wrong) return;
    unsigned char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    kstr f = c->argv[2];
    if (field_get(e, f, buf, &v, &vlen) && !string_to_long_double(v, vlen, &value)) {
        reply_error(c, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char out[5120];
    int n = long_double_to_string(out, sizeof(out), value);
    hash_value h = hash_for_write(e);
    hash_value_set(&h, f, kstr_len(f), out, (size_t)n);
    hash_commit(c, e, &h, "hincrbyfloat");
    kstr pv[4] = {kstr_new("HSET"), kstr_dup(c->argv[1]), kstr_dup(f), kstr_new_len(out, (size_t)n)};
    propagate_rewrite(c, 4, pv);
    reply_bulk(c, out, (size_t)n);
}

/* ---- HRANDFIELD ---- */

/* One field (and value) given by pointer: a listpack field entry or an
 * hfield, depending on the encoding. */
static void reply_random_item(client *c, const hash_value *h, void *item, int withvalues) {
    const char *f, *v = NULL;
    size_t flen, vlen = 0;
    unsigned char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
    if (h->enc == ENC_LISTPACK) {
        f = lp_bytes_of(item, fbuf, &flen);
        if (withvalues) v = lp_bytes_of(lp_next(h->ptr, item), vbuf, &vlen);
    } else {
        f = hfield_field(item, &flen);
        if (withvalues) v = hfield_value(item, &vlen);
    }
    if (withvalues && c->resp == 3) reply_array_len(c, 2);
    reply_bulk(c, f, flen);
    if (withvalues) reply_bulk(c, v, vlen);
}

/* Pointers to every field: listpack field entries or hfields. */
static void **hash_items(const hash_value *h, size_t *n) {
    size_t len = hash_value_length(h), i = 0;
    void **items = zmalloc(sizeof(void *) * (len ? len : 1));
    if (h->enc == ENC_LISTPACK) {
        unsigned char *lp = h->ptr;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) items[i++] = p;
    } else {
        hashtable_iterator it;
        void *hf;
        hashtable_iter_init(&it, h->ptr, 0);
        while (hashtable_iter_next(&it, &hf)) items[i++] = hf;
        hashtable_iter_release(&it);
    }
    *n = i;
    return items;
}

static void *random_item(const hash_value *h) {
    if (h->enc == ENC_LISTPACK) return lp_seek(h->ptr, (long)(2 * random_below(hash_value_length(h))));
    return sample_table_element(h->ptr);
}

static void hrandfield_with_count(client *c, const hash_value *h, size_t count, int unique, int withvalues) {
    size_t size = hash_value_length(h);
    long reply_len = (long)(withvalues && c->resp == 2 ? count * 2 : count);
    if (!unique) {
        reply_array_len(c, reply_len);
        if (h->enc == ENC_LISTPACK) {
            /* One walk to index the pairs, then O(1) per pick. */
            size_t n;
            void **items = hash_items(h, &n);
            /* A huge count stops once the output limit closed the client. */
            for (size_t i = 0; i < count && !(c->flags & CLIENT_CLOSE_ASAP); i++)
                reply_random_item(c, h, items[random_below(n)], withvalues);
            zfree(items);
        } else {
            for (size_t i = 0; i < count && !(c->flags & CLIENT_CLOSE_ASAP); i++)
                reply_random_item(c, h, random_item(h), withvalues);
        }
        return;
    }
    if (count >= size) count = size;
    reply_len = (long)(withvalues && c->resp == 2 ? count * 2 : count);
    reply_array_len(c, reply_len);
    if (h->enc == ENC_HASHTABLE && count * 3 <= size) {
        /* Few picks from a big table: random picks, skipping repeats. */
        ptr_set seen;
        ptr_set_init(&seen, count);
        for (size_t got = 0; got < count;) {
            void *hf = random_item(h);
            if (ptr_set_add(&seen, hf)) {
                reply_random_item(c, h, hf, withvalues);
                got++;
            }
        }
        ptr_set_release(&seen);
        return;
    }
    size_t n;
    void **items = hash_items(h, &n);
    sample_shuffle_prefix(items, n, count);
    for (size_t i = 0; i < count; i++) reply_random_item(c, h, items[i], withvalues);
    zfree(items);
}

static void hrandfield_command(client *c) {
    int wrong;
    if (c->argc == 2) {
        entry *e = lookup_hash_read(c, &wrong);
        if (wrong) return;
        if (!e) {
            reply_null(c);
            return;
        }
        hash_value h = hash_of(e);
        reply_random_item(c, &h, random_item(&h), 0);
        return;
    }
    long long l;
    if (!parse_ll(c, c->argv[2], &l)) return;
    if (l < -LLONG_MAX) {
        reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    int withvalues = 0;
    if (c->argc > 4 || (c->argc == 4 && !arg_is(c->argv[3], "withvalues"))) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc == 4) {
        withvalues = 1;
        if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
            reply_error(c, "ERR value is out of range");
            return;
        }
    }
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    if (!e || l == 0) {
        reply_empty_array(c);
        return;
    }
    hash_value h = hash_of(e);
    hrandfield_with_count(c, &h, (size_t)(l < 0 ? -l : l), l > 0, withvalues);
}

/* ---- HSCAN ---- */

typedef struct ptr_vec {
    void **v;
    size_t n;
} ptr_vec;


typedef struct scan_ctx {
    client *c;
    const scan_args *a;
    long count;
} scan_ctx;

static void scan_reply_pair(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    scan_ctx *sc = priv;
    if (!scan_pattern_matches(sc->a, f, flen)) return;
    reply_bulk(sc->c, f, flen);
    reply_bulk(sc->c, v, vlen);
    sc->count += 2;
}

static void hscan_command(client *c) {
    scan_args a;
    if (!parse_scan_args(c, 2, 0, &a)) return;
    int wrong;
    entry *e = lookup_hash_read(c, &wrong);
    if (wrong) return;
    reply_array_len(c, 2);
    if (!e) {
        reply_bulk_cstr(c, "0");
        reply_empty_array(c);
        return;
    }
    hash_value h = hash_of(e);
    scan_ctx sc = {c, &a, 0};
    if (h.enc == ENC_LISTPACK) {
        /* Small hashes are returned whole: the cursor of a listpack would
         * not survive a conversion, and the reply is small anyway. */
        reply_bulk_cstr(c, "0");
        void *len = reply_deferred_len(c);
        hash_foreach(&h, scan_reply_pair, &sc);
        reply_set_deferred_array_len(c, len, sc.count);
        return;
    }
    ptr_vec found;
    size_t cursor = scan_collect(h.ptr, (size_t)a.cursor, a.count, &found.v, &found.n);
    reply_bulk_ll(c, (long long)cursor);
    void *len = reply_deferred_len(c);
    for (size_t i = 0; i < found.n; i++) {
        size_t flen, vlen;
        const char *f = hfield_field(found.v[i], &flen);
        const char *v = hfield_value(found.v[i], &vlen);
        scan_reply_pair(&sc, f, flen, v, vlen);
    }
    reply_set_deferred_array_len(c, len, sc.count);
    zfree(found.v);
}

command hash_commands[] = {
    {"hset", hset_command, -4, "write denyoom fast", 1, 1, 1, "hash", "2.0.0", "Set the value of one or more fields of a hash.", NULL},
    {"hsetnx", hsetnx_command, 4, "write denyoom fast", 1, 1, 1, "hash", "2.0.0", "Set the value of a field only if it does not exist.", NULL},
    {"hmset", hmset_command, -4, "write denyoom fast", 1, 1, 1, "hash", "2.0.0", "Set the values of multiple fields.", NULL},
    {"hget", hget_command, 3, "readonly fast", 1, 1, 1, "hash", "2.0.0", "Get the value of a field.", NULL},
    {"hmget", hmget_command, -3, "readonly fast", 1, 1, 1, "hash", "2.0.0", "Get the values of several fields.", NULL},
    {"hgetall", hgetall_command, 2, "readonly", 1, 1, 1, "hash", "2.0.0", "Get all the fields and values of a hash.", NULL},
    {"hkeys", hkeys_command, 2, "readonly", 1, 1, 1, "hash", "2.0.0", "Get all the fields of a hash.", NULL},
    {"hvals", hvals_command, 2, "readonly", 1, 1, 1, "hash", "2.0.0", "Get all the values of a hash.", NULL},
    {"hdel", hdel_command, -3, "write fast", 1, 1, 1, "hash", "2.0.0", "Delete one or more fields.", NULL},
    {"hlen", hlen_command, 2, "readonly fast", 1, 1, 1, "hash", "2.0.0", "Get the number of fields.", NULL},
    {"hexists", hexists_command, 3, "readonly fast", 1, 1, 1, "hash", "2.0.0", "Determine whether a field exists.", NULL},
    {"hstrlen", hstrlen_command, 3, "readonly fast", 1, 1, 1, "hash", "3.2.0", "Get the length of the value of a field.", NULL},
    {"hincrby", hincrby_command, 4, "write denyoom fast", 1, 1, 1, "hash", "2.0.0", "Increment the integer value of a field.", NULL},
    {"hincrbyfloat", hincrbyfloat_command, 4, "write denyoom fast", 1, 1, 1, "hash", "2.6.0", "Increment the float value of a field.", NULL},
    {"hrandfield", hrandfield_command, -2, "readonly", 1, 1, 1, "hash", "6.2.0", "Get one or more random fields.", NULL},
    {"hscan", hscan_command, -3, "readonly", 1, 1, 1, "hash", "2.8.0", "Iterate the fields and values of a hash.", NULL},
    {0},
};
