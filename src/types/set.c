/*
 * set: the set type and its commands (the multi-set algebra, SINTER and
 * friends, is in set_ops.c; set_internal.h is what the two share).
 *
 * Encodings, with Redis 7.2's rules:
 *   intset     every member is an integer and there are at most
 *              set-max-intset-entries of them: 2-8 bytes per member,
 *              binary-searchable;
 *   listpack   at most set-max-listpack-entries members, none longer than
 *              set-max-listpack-value bytes: a few bytes of overhead per
 *              member, linear scans that stay in cache at that size;
 *   hashtable  anything larger: a hashtable whose elements are the kstr
 *              members themselves (the table holds only the pointer and the
 *              key is the kstr's bytes, so a member costs one allocation).
 * Conversions only go upward, as in Redis: a set that grew once will
 * probably grow again, and converting down on SREM/SPOP would make an
 * oscillating set pay O(n) conversions.
 *
 * Every function works on a set_value (encoding + pointer) rather than an
 * entry, so that results of SINTERSTORE and friends can be built off-line
 * with the same add path (and so get the encoding a set built by SADD
 * would get) before they replace the destination.
 *
 * Members are addressed uniformly as "items" for random sampling: a
 * position index for intsets, an entry pointer for listpacks, the kstr
 * for hashtables. Picking k distinct random items from a compact set is a
 * partial Fisher-Yates shuffle of its items; from a large table, random
 * picks filtered by a small pointer set, so the cost follows k, not the
 * set's size.
 */
#include "types/set.h"
#include "types/set_internal.h"

#include "core/propagate.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/intset.h"
#include "lib/listpack.h"
#include "lib/random.h"
#include "lib/sample.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashtable of kstr members ---- */

static const void *member_key(const void *element, size_t *keylen) {
    *keylen = kstr_len((const kstr)element);
    return element;
}

static void member_free(void *element) { kstr_free(element); }

static const hashtable_type set_table_type = {
    .element_key = member_key,
    .element_destructor = member_free,
};

/* ---- members as seen by the commands ---- */


static void member_from_int(member *m, long long v) {
    m->is_int = 1;
    m->ival = v;
    m->len = (size_t)ll_to_string(m->buf, sizeof(m->buf), v);
    m->s = m->buf;
}

static void member_from_lp(member *m, unsigned char *p) {
    int64_t v;
    unsigned int len;
    unsigned char *s = lp_get(p, &v, &len);
    if (s) {
        m->is_int = 0;
        m->s = (const char *)s;
        m->len = len;
    } else {
        member_from_int(m, v);
    }
}

static void member_from_kstr(member *m, const kstr s) {
    m->is_int = 0;
    m->s = s;
    m->len = kstr_len(s);
}

/* ---- set values ---- */

static int as_integer(const char *s, size_t len, long long *v) { return string_to_ll(s, len, v); }

set_value set_value_new(const char *s, size_t len, size_t size_hint) {
    long long v;
    if (as_integer(s, len, &v) && (long long)size_hint <= server.set_max_intset_entries)
        return (set_value){ENC_INTSET, intset_new()};
    if ((long long)size_hint <= server.set_max_listpack_entries) return (set_value){ENC_LISTPACK, lp_new(LP_EMPTY_SIZE)};
    hashtable *ht = hashtable_create(&set_table_type);
    hashtable_expand(ht, size_hint);
    return (set_value){ENC_HASHTABLE, ht};
}

set_value set_value_empty_intset(void) { return (set_value){ENC_INTSET, intset_new()}; }

void set_value_free(set_value *sv) {
    if (sv->enc == ENC_INTSET) intset_free(sv->ptr);
    else if (sv->enc == ENC_LISTPACK) lp_free(sv->ptr);
    else hashtable_release(sv->ptr);
    sv->ptr = NULL;
}

size_t set_value_size(const set_value *sv) {
    if (sv->enc == ENC_INTSET) return intset_len(sv->ptr);
    if (sv->enc == ENC_LISTPACK) return lp_length(sv->ptr);
    return hashtable_size(sv->ptr);
}

static hashtable *table_from_intset(const intset *is, size_t extra) {
    hashtable *ht = hashtable_create(&set_table_type);
    uint32_t n = intset_len(is);
    hashtable_expand(ht, n + extra);
    for (uint32_t i = 0; i < n; i++) {
        int64_t v;
        intset_get(is, i, &v);
        hashtable_add(ht, kstr_from_ll(v));
    }
    return ht;
}

static hashtable *table_from_listpack(unsigned char *lp, size_t extra) {
    hashtable *ht = hashtable_create(&set_table_type);
    hashtable_expand(ht, lp_length(lp) + extra);
    unsigned char buf[LP_INTBUF_SIZE];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
        unsigned int len;
        unsigned char *s = lp_get_value(p, buf, &len);
        hashtable_add(ht, kstr_new_len(s, len));
    }
    return ht;
}

static void convert_to_table(set_value *sv, size_t extra) {
    hashtable *ht;
    if (sv->enc == ENC_INTSET) {
        ht = table_from_intset(sv->ptr, extra);
        intset_free(sv->ptr);
    } else {
        ht = table_from_listpack(sv->ptr, extra);
        lp_free(sv->ptr);
    }
    sv->enc = ENC_HASHTABLE;
    sv->ptr = ht;
}

static void convert_intset_to_listpack(set_value *sv) {
    intset *is = sv->ptr;
    unsigned char *lp = lp_new(LP_EMPTY_SIZE);
    for (uint32_t i = 0, n = intset_len(is); i < n; i++) {
        int64_t v;
        intset_get(is, i, &v);
        lp = lp_append_integer(lp, v);
    }
    intset_free(is);
    sv->enc = ENC_LISTPACK;
    sv->ptr = lp;
}

static size_t digits_of(long long v) {
    char buf[LP_INTBUF_SIZE];
    return (size_t)ll_to_string(buf, sizeof(buf), v);
}

/* Redis 7.2: a non-integer joining an intset moves it to a listpack if
 * the result stays within the listpack limits, else to a hashtable. */
static int intset_fits_listpack_with(const intset *is, size_t len) {
    uint32_t n = intset_len(is);
    size_t widest = 0;
    if (n) {
        size_t a = digits_of(intset_min(is)), b = digits_of(intset_max(is));
        widest = a > b ? a : b;
    }
    return (long long)n < server.set_max_listpack_entries && (long long)len <= server.set_max_listpack_value &&
           (long long)widest <= server.set_max_listpack_value;
}

static int table_add(hashtable *ht, const char *s, size_t len) {
    void *found;
    if (hashtable_find(ht, s, len, &found)) return 0;
    hashtable_add(ht, kstr_new_len(s, len));
    return 1;
}

int set_value_add(set_value *sv, const char *s, size_t len) {
    long long v;
    if (sv->enc == ENC_INTSET) {
        if (as_integer(s, len, &v)) {
            int added;
            sv->ptr = intset_add(sv->ptr, v, &added);
            if (added && (long long)intset_len(sv->ptr) > server.set_max_intset_entries) convert_to_table(sv, 0);
            return added;
        }
        if (intset_fits_listpack_with(sv->ptr, len)) convert_intset_to_listpack(sv);
        else convert_to_table(sv, 1);
    }
    if (sv->enc == ENC_LISTPACK) {
        unsigned char *lp = sv->ptr;
        unsigned char *p = lp_first(lp);
        if (p && lp_find(lp, p, (const unsigned char *)s, len, 0)) return 0;
        if ((long long)lp_length(lp) < server.set_max_listpack_entries &&
            (long long)len <= server.set_max_listpack_value && lp_safe_to_add(lp, len + 16)) {
            sv->ptr = lp_append(lp, (const unsigned char *)s, len);
            return 1;
        }
        convert_to_table(sv, 1);
    }
    return table_add(sv->ptr, s, len);
}

static int set_value_remove(set_value *sv, const char *s, size_t len) {
    long long v;
    if (sv->enc == ENC_INTSET) {
        int removed = 0;
        if (as_integer(s, len, &v)) sv->ptr = intset_remove(sv->ptr, v, &removed);
        return removed;
    }
    if (sv->enc == ENC_LISTPACK) {
        unsigned char *lp = sv->ptr;
        unsigned char *p = lp_first(lp);
        if (p) p = lp_find(lp, p, (const unsigned char *)s, len, 0);
        if (!p) return 0;
        sv->ptr = lp_delete(lp, p, NULL);
        return 1;
    }
    return hashtable_delete(sv->ptr, s, len);
}

static int set_value_has(const set_value *sv, const char *s, size_t len) {
    long long v;
    if (sv->enc == ENC_INTSET) return as_integer(s, len, &v) && intset_find(sv->ptr, v);
    if (sv->enc == ENC_LISTPACK) {
        unsigned char *p = lp_first(sv->ptr);
        return p && lp_find(sv->ptr, p, (const unsigned char *)s, len, 0) != NULL;
    }
    void *found;
    return hashtable_find(sv->ptr, s, len, &found);
}

/* Membership of a member view: skips the parse when both sides are ints. */
int set_value_has_member(const set_value *sv, const member *m) {
    if (sv->enc == ENC_INTSET && m->is_int) return intset_find(sv->ptr, m->ival);
    return set_value_has(sv, m->s, m->len);
}

/* Visit members; fn returns 0 to stop early. */

void set_value_foreach(const set_value *sv, member_fn *fn, void *priv) {
    member m;
    if (sv->enc == ENC_INTSET) {
        for (uint32_t i = 0, n = intset_len(sv->ptr); i < n; i++) {
            int64_t v;
            intset_get(sv->ptr, i, &v);
            member_from_int(&m, v);
            if (!fn(priv, &m)) return;
        }
    } else if (sv->enc == ENC_LISTPACK) {
        unsigned char *lp = sv->ptr;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            member_from_lp(&m, p);
            if (!fn(priv, &m)) return;
        }
    } else {
        hashtable_iterator it;
        void *el;
        hashtable_iter_init(&it, sv->ptr, 0);
        while (hashtable_iter_next(&it, &el)) {
            member_from_kstr(&m, el);
            if (!fn(priv, &m)) break;
        }
        hashtable_iter_release(&it);
    }
}

/* ---- items (for random sampling) ---- */

static void member_of_item(const set_value *sv, void *item, member *m) {
    if (sv->enc == ENC_INTSET) {
        int64_t v;
        intset_get(sv->ptr, (uint32_t)(uintptr_t)item, &v);
        member_from_int(m, v);
    } else if (sv->enc == ENC_LISTPACK) {
        member_from_lp(m, item);
    } else {
        member_from_kstr(m, item);
    }
}

static void **set_items(const set_value *sv, size_t *n) {
    size_t len = set_value_size(sv), i = 0;
    void **items = zmalloc(sizeof(void *) * (len ? len : 1));
    if (sv->enc == ENC_INTSET) {
        for (; i < len; i++) items[i] = (void *)(uintptr_t)i;
    } else if (sv->enc == ENC_LISTPACK) {
        for (unsigned char *p = lp_first(sv->ptr); p; p = lp_next(sv->ptr, p)) items[i++] = p;
    } else {
        hashtable_iterator it;
        void *el;
        hashtable_iter_init(&it, sv->ptr, 0);
        while (hashtable_iter_next(&it, &el)) items[i++] = el;
        hashtable_iter_release(&it);
    }
    *n = i;
    return items;
}

static void *random_set_item(const set_value *sv) {
    size_t n = set_value_size(sv);
    if (sv->enc == ENC_INTSET) return (void *)(uintptr_t)random_below(n);
    if (sv->enc == ENC_LISTPACK) return lp_seek(sv->ptr, (long)random_below(n));
    return sample_table_element(sv->ptr);
}

void reply_member(client *c, const member *m) { reply_bulk(c, m->s, m->len); }

static void reply_item(client *c, const set_value *sv, void *item) {
    member m;
    member_of_item(sv, item, &m);
    reply_member(c, &m);
}

/* ---- type ops ---- */

static void set_free_value(int enc, void *ptr) {
    set_value sv = {enc, ptr};
    set_value_free(&sv);
}

static void *set_dup_value(int enc, const void *ptr) {
    if (enc == ENC_INTSET) return zmemdup(ptr, intset_blob_len(ptr));
    if (enc == ENC_LISTPACK) return zmemdup(ptr, lp_bytes(ptr));
    hashtable *src = (hashtable *)ptr;
    hashtable *ht = hashtable_create(&set_table_type);
    hashtable_expand(ht, hashtable_size(src));
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, src, 0);
    while (hashtable_iter_next(&it, &el)) hashtable_add(ht, kstr_dup(el));
    hashtable_iter_release(&it);
    return ht;
}

static size_t member_size(const void *member) { return kstr_alloc_size((const kstr)member); }

static size_t set_mem_usage(int enc, const void *ptr, size_t samples) {
    if (enc != ENC_HASHTABLE) return zmalloc_size(ptr);
    return hashtable_mem_usage_sampled((hashtable *)ptr, samples, member_size);
}

static size_t set_length(int enc, const void *ptr) {
    set_value sv = {enc, (void *)ptr};
    return set_value_size(&sv);
}

typedef struct visit_ctx {
    type_visit_fn *fn;
    void *priv;
} visit_ctx;

static int visit_member(void *priv, const member *m) {
    visit_ctx *vc = priv;
    vc->fn(vc->priv, m->s, m->len, 0);
    return 1;
}

static void set_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv) {
    set_value sv = {enc, (void *)ptr};
    visit_ctx vc = {fn, priv};
    set_value_foreach(&sv, visit_member, &vc);
}

const type_ops set_type_ops = {
    .name = "set",
    .free_value = set_free_value,
    .dup_value = set_dup_value,
    .mem_usage = set_mem_usage,
    .length = set_length,
    .iterate = set_iterate,
};

/* ---- command helpers ---- */

set_value set_of(const entry *e) { return (set_value){entry_encoding(e), entry_ptr(e)}; }

static void set_store(entry *e, const set_value *sv) {
    entry_set_ptr(e, sv->ptr);
    if (entry_encoding(e) != sv->enc) entry_set_encoding(e, sv->enc);
}

/* Write sv back to the key: into e, or as a new key. */
static void set_commit(client *c, const kstr key, entry *e, set_value *sv, const char *event) {
    if (e) set_store(e, sv);
    else db_add(c->db, entry_new_ptr(key, kstr_len(key), TYPE_SET, sv->enc, sv->ptr, -1));
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_SET, event, key, db_id(c->db));
}

/* After removals: drop the key when empty, as Redis does. */
static void set_commit_after_remove(client *c, const kstr key, entry *e, set_value *sv, const char *event) {
    set_store(e, sv);
    int emptied = set_value_size(sv) == 0;
    if (emptied) db_delete(c->db, key, kstr_len(key));
    else if (sv->enc == ENC_HASHTABLE) hashtable_shrink_if_needed(sv->ptr);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_SET, event, key, db_id(c->db));
    if (emptied) notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(c->db));
}

static int reply_member_cb(void *priv, const member *m) {
    reply_member(priv, m);
    return 1;
}

void reply_whole_set(client *c, const set_value *sv) {
    reply_set_len(c, (long)set_value_size(sv));
    set_value_foreach(sv, reply_member_cb, c);
}

/* ---- commands ---- */

static void sadd_command(client *c) {
    int wrong;
    kstr key = c->argv[1];
    entry *e = lookup_write_typed(c, key, TYPE_SET, &wrong);
    if (wrong) return;
    set_value sv = e ? set_of(e) : set_value_new(c->argv[2], kstr_len(c->argv[2]), (size_t)(c->argc - 2));
    long long added = 0;
    for (int j = 2; j < c->argc; j++) added += set_value_add(&sv, c->argv[j], kstr_len(c->argv[j]));
    if (added || !e) set_commit(c, key, e, &sv, "sadd");
    reply_ll(c, added);
}

static void srem_command(client *c) {
    int wrong;
    kstr key = c->argv[1];
    entry *e = lookup_write_typed(c, key, TYPE_SET, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    set_value sv = set_of(e);
    long long removed = 0;
    for (int j = 2; j < c->argc && set_value_size(&sv) > 0; j++)
        removed += set_value_remove(&sv, c->argv[j], kstr_len(c->argv[j]));
    if (removed) set_commit_after_remove(c, key, e, &sv, "srem");
    reply_ll(c, removed);
}

static void smembers_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    if (!e) {
        reply_set_len(c, 0);
        return;
    }
    set_value sv = set_of(e);
    reply_whole_set(c, &sv);
}

static void sismember_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    set_value sv = e ? set_of(e) : (set_value){0, NULL};
    reply_ll(c, e && set_value_has(&sv, c->argv[2], kstr_len(c->argv[2])));
}

static void smismember_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    set_value sv = e ? set_of(e) : (set_value){0, NULL};
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) reply_ll(c, e && set_value_has(&sv, c->argv[j], kstr_len(c->argv[j])));
}

static void scard_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    set_value sv = e ? set_of(e) : (set_value){0, NULL};
    reply_ll(c, e ? (long long)set_value_size(&sv) : 0);
}

static void smove_command(client *c) {
    kstr src = c->argv[1], dst = c->argv[2], m = c->argv[3];
    entry *se = lookup_write(c, src);
    entry *de = lookup_write(c, dst);
    if (!se) {
        reply_ll(c, 0);
        return;
    }
    if (entry_type(se) != TYPE_SET || (de && entry_type(de) != TYPE_SET)) {
        reply_error_wrongtype(c);
        return;
    }
    set_value from = set_of(se);
    if (se == de) {
        reply_ll(c, set_value_has(&from, m, kstr_len(m)));
        return;
    }
    if (!set_value_remove(&from, m, kstr_len(m))) {
        reply_ll(c, 0);
        return;
    }
    set_commit_after_remove(c, src, se, &from, "srem");
    set_value to = de ? set_of(de) : set_value_new(m, kstr_len(m), 1);
    set_value_add(&to, m, kstr_len(m));
    set_commit(c, dst, de, &to, "sadd");
    reply_ll(c, 1);
}

/* ---- SPOP / SRANDMEMBER ---- */

static void remove_item(set_value *sv, void *item) {
    member m;
    member_of_item(sv, item, &m);
    if (sv->enc == ENC_LISTPACK) sv->ptr = lp_delete(sv->ptr, item, NULL);
    else if (sv->enc == ENC_INTSET) sv->ptr = intset_remove(sv->ptr, m.ival, NULL);
    else hashtable_delete(sv->ptr, m.s, m.len);
}

static int ptr_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* SPOP's effect for the write stream: SREM of the members it took, in
 * batches of SREM_BATCH members (Redis's size), so a replica or AOF
 * replays the same removal rather than a different random pick. */
#define SREM_BATCH 1024
typedef struct srem_batch {
    client *c;
    int argc, first;
    kstr argv[2 + SREM_BATCH];
} srem_batch;

static void srem_flush(srem_batch *b) {
    if (b->argc <= 2) return;
    if (b->first) propagate_rewrite(b->c, b->argc, b->argv);
    else propagate_also(b->c, b->argc, b->argv);
    b->first = 0;
    b->argc = 0;
}

static void srem_add(srem_batch *b, const member *m) {
    if (!b) return;
    if (b->argc == 0) {
        b->argv[0] = kstr_new("SREM");
        b->argv[1] = kstr_dup(b->c->argv[1]);
        b->argc = 2;
    }
    b->argv[b->argc++] = kstr_new_len(m->s, m->len);
    if (b->argc == 2 + SREM_BATCH) srem_flush(b);
}

/* Pop count (< size) random members, replying each. */
static void spop_some(client *c, set_value *sv, size_t count, srem_batch *b) {
    reply_set_len(c, (long)count);
    if (sv->enc == ENC_HASHTABLE) {
        for (size_t i = 0; i < count; i++) {
            void *el = random_set_item(sv);
            reply_bulk(c, el, kstr_len(el));
            if (b) {
                member m;
                member_from_kstr(&m, el);
                srem_add(b, &m);
            }
            hashtable_delete(sv->ptr, el, kstr_len(el));
        }
        return;
    }
    size_t n;
    void **items = set_items(sv, &n);
    sample_shuffle_prefix(items, n, count);
    for (size_t i = 0; i < count; i++) {
        member m;
        member_of_item(sv, items[i], &m);
        reply_member(c, &m);
        srem_add(b, &m);
    }
    if (sv->enc == ENC_LISTPACK) {
        /* One pass deletes them all; positions must be in order. */
        qsort(items, count, sizeof(void *), ptr_cmp);
        sv->ptr = lp_batch_delete(sv->ptr, (unsigned char **)items, count);
    } else {
        /* Read the values first: removing shifts the positions. */
        for (size_t i = 0; i < count; i++) {
            int64_t v;
            intset_get(sv->ptr, (uint32_t)(uintptr_t)items[i], &v);
            items[i] = (void *)(intptr_t)v;
        }
        for (size_t i = 0; i < count; i++) sv->ptr = intset_remove(sv->ptr, (int64_t)(intptr_t)items[i], NULL);
    }
    zfree(items);
}

static void spop_command(client *c) {
    kstr key = c->argv[1];
    long long count = -1;
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc == 3 && !parse_ll_range(c, c->argv[2], 0, LLONG_MAX, &count, "ERR value is out of range, must be positive"))
        return;
    int wrong;
    entry *e = lookup_write_typed(c, key, TYPE_SET, &wrong);
    if (wrong) return;
    if (!e || count == 0) {
        if (count < 0) reply_null(c);
        else reply_set_len(c, 0);
        return;
    }
    set_value sv = set_of(e);
    size_t size = set_value_size(&sv);
    if (count < 0) {
        void *item = random_set_item(&sv);
        member m;
        member_of_item(&sv, item, &m);
        reply_member(c, &m);
        kstr v[3] = {kstr_new("SREM"), kstr_dup(key), kstr_new_len(m.s, m.len)};
        propagate_rewrite(c, 3, v);
        remove_item(&sv, item);
    } else if ((size_t)count >= size) {
        reply_whole_set(c, &sv);
        db_delete(c->db, key, kstr_len(key));
        signal_modified_key(c, c->db, key);
        propagate_rewritef(c, "sk", server.lazyfree_lazy_server_del ? "UNLINK" : "DEL", key);
        notify_keyspace_event(NOTIFY_SET, "spop", key, db_id(c->db));
        notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(c->db));
        return;
    } else if (propagate_wanted()) {
        srem_batch *b = zmalloc(sizeof(*b));
        b->c = c;
        b->argc = 0;
        b->first = 1;
        spop_some(c, &sv, (size_t)count, b);
        srem_flush(b);
        zfree(b);
    } else {
        spop_some(c, &sv, (size_t)count, NULL);
    }
    set_commit_after_remove(c, key, e, &sv, "spop");
}

static void srandmember_distinct(client *c, const set_value *sv, size_t count) {
    size_t size = set_value_size(sv);
    if (count >= size) {
        reply_array_len(c, (long)size);
        set_value_foreach(sv, reply_member_cb, c);
        return;
    }
    reply_array_len(c, (long)count);
    if (sv->enc == ENC_HASHTABLE && count * 3 <= size) {
        ptr_set seen;
        ptr_set_init(&seen, count);
        for (size_t got = 0; got < count;) {
            void *el = random_set_item(sv);
            if (ptr_set_add(&seen, el)) {
                reply_item(c, sv, el);
                got++;
            }
        }
        ptr_set_release(&seen);
        return;
    }
    size_t n;
    void **items = set_items(sv, &n);
    sample_shuffle_prefix(items, n, count);
    for (size_t i = 0; i < count; i++) reply_item(c, sv, items[i]);
    zfree(items);
}

static void srandmember_repeating(client *c, const set_value *sv, size_t count) {
    reply_array_len(c, (long)count);
    if (sv->enc == ENC_LISTPACK) {
        /* One walk to index the members, then O(1) per pick. */
        size_t n;
        void **items = set_items(sv, &n);
        /* A huge count stops once the output limit closed the client. */
        for (size_t i = 0; i < count && !(c->flags & CLIENT_CLOSE_ASAP); i++) reply_item(c, sv, items[random_below(n)]);
        zfree(items);
        return;
    }
    for (size_t i = 0; i < count && !(c->flags & CLIENT_CLOSE_ASAP); i++) reply_item(c, sv, random_set_item(sv));
}

static void srandmember_command(client *c) {
    int wrong;
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc == 2) {
        entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
        if (wrong) return;
        if (!e) {
            reply_null(c);
            return;
        }
        set_value sv = set_of(e);
        reply_item(c, &sv, random_set_item(&sv));
        return;
    }
    long long l;
    if (!parse_ll(c, c->argv[2], &l)) return;
    if (l < -LLONG_MAX) {
        reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    if (!e || l == 0) {
        reply_empty_array(c);
        return;
    }
    set_value sv = set_of(e);
    if (l > 0) srandmember_distinct(c, &sv, (size_t)l);
    else srandmember_repeating(c, &sv, (size_t)-l);
}

/* ---- SSCAN ---- */

typedef struct ptr_vec {
    void **v;
    size_t n;
} ptr_vec;

typedef struct scan_ctx {
    client *c;
    const scan_args *a;
    long count;
} scan_ctx;

static int scan_reply_member(void *priv, const member *m) {
    scan_ctx *sc = priv;
    if (!scan_pattern_matches(sc->a, m->s, m->len)) return 1;
    reply_member(sc->c, m);
    sc->count++;
    return 1;
}


static void sscan_command(client *c) {
    scan_args a;
    if (!parse_scan_args(c, 2, 0, &a)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_SET, &wrong);
    if (wrong) return;
    reply_array_len(c, 2);
    if (!e) {
        reply_bulk_cstr(c, "0");
        reply_empty_array(c);
        return;
    }
    set_value sv = set_of(e);
    scan_ctx sc = {c, &a, 0};
    if (sv.enc != ENC_HASHTABLE) {
        /* Compact sets are returned whole, with cursor 0, as Redis does. */
        reply_bulk_cstr(c, "0");
        void *len = reply_deferred_len(c);
        set_value_foreach(&sv, scan_reply_member, &sc);
        reply_set_deferred_array_len(c, len, sc.count);
        return;
    }
    ptr_vec found;
    size_t cursor = scan_collect(sv.ptr, (size_t)a.cursor, a.count, &found.v, &found.n);
    reply_bulk_ll(c, (long long)cursor);
    void *len = reply_deferred_len(c);
    for (size_t i = 0; i < found.n; i++) {
        member m;
        member_from_kstr(&m, found.v[i]);
        scan_reply_member(&sc, &m);
    }
    reply_set_deferred_array_len(c, len, sc.count);
    zfree(found.v);
}

command set_commands[] = {
    {"sadd", sadd_command, -3, "write denyoom fast", 1, 1, 1, "set", "1.0.0", "Add one or more members to a set.", NULL},
    {"srem", srem_command, -3, "write fast", 1, 1, 1, "set", "1.0.0", "Remove one or more members from a set.", NULL},
    {"smembers", smembers_command, 2, "readonly", 1, 1, 1, "set", "1.0.0", "Get all the members of a set.", NULL},
    {"sismember", sismember_command, 3, "readonly fast", 1, 1, 1, "set", "1.0.0", "Determine whether a value is a member.", NULL},
    {"smismember", smismember_command, -3, "readonly fast", 1, 1, 1, "set", "6.2.0", "Determine whether several values are members.", NULL},
    {"scard", scard_command, 2, "readonly fast", 1, 1, 1, "set", "1.0.0", "Get the number of members.", NULL},
    {"spop", spop_command, -2, "write fast", 1, 1, 1, "set", "1.0.0", "Remove and return random members.", NULL},
    {"srandmember", srandmember_command, -2, "readonly", 1, 1, 1, "set", "1.0.0", "Get random members.", NULL},
    {"smove", smove_command, 4, "write fast", 1, 2, 1, "set", "1.0.0", "Move a member from one set to another.", NULL},
    {"sinter", sinter_command, -2, "readonly", 1, -1, 1, "set", "1.0.0", "Intersect sets.", NULL},
    {"sintercard", sintercard_command, -3, "readonly movablekeys", 0, 0, 0, "set", "7.0.0", "Cardinality of the intersection of sets.", NULL},
    {"sinterstore", sinterstore_command, -3, "write denyoom", 1, -1, 1, "set", "1.0.0", "Intersect sets and store the result.", NULL},
    {"sunion", sunion_command, -2, "readonly", 1, -1, 1, "set", "1.0.0", "Add multiple sets.", NULL},
    {"sunionstore", sunionstore_command, -3, "write denyoom", 1, -1, 1, "set", "1.0.0", "Add multiple sets and store the result.", NULL},
    {"sdiff", sdiff_command, -2, "readonly", 1, -1, 1, "set", "1.0.0", "Subtract multiple sets.", NULL},
    {"sdiffstore", sdiffstore_command, -3, "write denyoom", 1, -1, 1, "set", "1.0.0", "Subtract multiple sets and store the result.", NULL},
    {"sscan", sscan_command, -3, "readonly", 1, 1, 1, "set", "2.0.0", "Iterate the members of a set.", NULL},
    {0},
};
