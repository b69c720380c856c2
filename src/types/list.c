/*
 * list: the list type and its commands (LPUSH ... BLMPOP).
 *
 * Encodings (Redis 7.2's scheme):
 *   listpack   one bare listpack, for lists that fit in one quicklist node
 *              (list-max-listpack-size): no node or list header at all;
 *   quicklist  a chain of listpack nodes (lib/quicklist.h).
 *
 * One code path for both: every command works on a quicklist. For a
 * listpack-encoded list, a "view" wraps the bare listpack in a quicklist
 * header and node that live on the stack (the node flagged external, so
 * the library never frees it). After the command the view is settled:
 *   - a view that still has one node within the limit stays a listpack
 *     (its possibly reallocated pointer is stored back in the entry);
 *   - a view that grew more nodes (or one over-limit element) is moved to
 *     the heap and the entry becomes a quicklist;
 *   - a quicklist that shrank to one node at most HALF the limit becomes a
 *     listpack again. The gap between "grow past the full limit" and
 *     "shrink under half of it" is the hysteresis that keeps a list
 *     oscillating around the limit from converting on every push/pop.
 *   - an empty list is deleted, as Redis does.
 * The price of the view is a few stores per command on small lists; the
 * gain is that no command has two implementations.
 *
 * Compression (list-compress-depth) lives in lib/quicklist.c; a listpack
 * is a single node and is never compressed, as in Redis.
 *
 * Blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) run the same
 * code as the non-blocking ones and, when nothing can be served, call
 * block_on_keys(): core/blocking.c re-runs the whole command when a key
 * is signalled (see core/blocking.h).
 */
#include "core/propagate.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/quicklist.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <limits.h>
#include <string.h>

/* ---- views: one quicklist interface over both encodings ---- */

typedef struct list_view {
    quicklist ql;   /* header for a listpack-encoded list */
    ql_node node;   /* the listpack, as an external node */
    quicklist *q;   /* what the command works on */
    entry *e;       /* NULL for a list being created */
    int grow;       /* LSET: settle as if one element were added */
} list_view;

static quicklist *view_wrap(list_view *v, int enc, void *ptr) {
    v->grow = 0;
    if (enc == ENC_QUICKLIST) {
        v->q = ptr;
        v->q->fill = server.list_max_listpack_size < QL_FILL_MIN ? QL_FILL_MIN
                     : server.list_max_listpack_size > QL_FILL_MAX ? QL_FILL_MAX
                                                                   : server.list_max_listpack_size;
        v->q->depth = server.list_compress_depth;
        return v->q;
    }
    ql_init(&v->ql, server.list_max_listpack_size, server.list_compress_depth);
    v->q = &v->ql;
    if (!ptr) return v->q;
    memset(&v->node, 0, sizeof(v->node));
    v->node.lp = ptr;
    v->node.external = 1;
    v->node.sz = (uint32_t)lp_bytes(ptr);
    v->node.count = (uint32_t)lp_length(ptr);
    if (v->node.count == 0) return v->q;
    v->ql.head = v->ql.tail = &v->node;
    v->ql.len = 1;
    v->ql.count = v->node.count;
    return v->q;
}

static quicklist *view_open(list_view *v, entry *e) {
    v->e = e;
    if (!e) return view_wrap(v, ENC_LISTPACK, NULL);
    return view_wrap(v, entry_encoding(e), entry_ptr(e));
}

/* Could one node of sz bytes / count entries be a listpack? half = the
 * stricter test used when shrinking (hysteresis). */
static int listpack_allowed(size_t sz, size_t count, int half) {
    int fill = server.list_max_listpack_size;
    size_t m = half ? 2 : 1;
    if (fill < 0) return sz * m <= ql_node_byte_limit(fill);
    if (fill == 0) return count * m <= 1;
    return count * m <= (size_t)fill && sz * m <= QL_SAFETY_BYTES;
}

/* Move a stack view onto the heap as a real quicklist. */
static quicklist *materialize(list_view *v) {
    quicklist *h = zmalloc(sizeof(*h));
    *h = v->ql;
    for (ql_node *n = h->head; n; n = n->next) {
        if (!n->external) continue;
        ql_node *copy = zmalloc(sizeof(*copy));
        *copy = *n;
        copy->external = 0;
        if (h->pending == n) h->pending = copy;
        if (copy->prev) copy->prev->next = copy;
        else h->head = copy;
        if (copy->next) copy->next->prev = copy;
        else h->tail = copy;
        n = copy;
    }
    return h;
}

/* Settle the view's encoding: returns the value pointer to store (NULL
 * if the list is now empty, everything freed) and its encoding. */
static void *view_finish(list_view *v, int *enc) {
    quicklist *q = v->q;
    int was_lp = q == &v->ql;
    if (q->count == 0) {
        if (!was_lp) ql_release(q);
        return NULL;
    }
    if (q->len == 1 && listpack_allowed(q->head->sz, q->head->count + (size_t)v->grow, !was_lp)) {
        ql_node *n = q->head;
        unsigned char *lp = ql_node_listpack(q, n);
        if (!n->external) zfree(n);
        if (!was_lp) zfree(q);
        *enc = ENC_LISTPACK;
        return lp;
    }
    *enc = ENC_QUICKLIST;
    return was_lp ? materialize(v) : q;
}

/* Store the settled value back in the keyspace and emit the command's
 * keyspace event (then "del" if the list became empty, as Redis does).
 * A NULL event emits nothing: the caller reports later (LMOVE). */
static void view_close(list_view *v, client *c, const kstr key, const char *event) {
    int enc = ENC_LISTPACK;
    void *ptr = view_finish(v, &enc);
    if (event) notify_keyspace_event(NOTIFY_LIST, event, key, db_id(c->db));
    if (!v->e) {
        if (ptr) db_add(c->db, entry_new_ptr(key, kstr_len(key), TYPE_LIST, enc, ptr, -1));
        return;
    }
    if (!ptr) {
        entry_set_ptr(v->e, NULL);
        db_delete(c->db, key, kstr_len(key));
        if (event) notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(c->db));
        return;
    }
    entry_set_ptr(v->e, ptr);
    if (entry_encoding(v->e) != enc) entry_set_encoding(v->e, enc);
}

/* ---- type ops ---- */

static void list_free_value(int enc, void *ptr) {
    if (!ptr) return;
    if (enc == ENC_QUICKLIST) ql_release(ptr);
    else lp_free(ptr);
}

static void *list_dup_value(int enc, const void *ptr) {
    if (!ptr) return NULL;
    if (enc == ENC_QUICKLIST) return ql_dup(ptr);
    size_t n = lp_bytes(ptr);
    unsigned char *copy = zmalloc(n);
    memcpy(copy, ptr, n);
    return copy;
}

static size_t list_mem_usage(int enc, const void *ptr, size_t samples) {
    if (!ptr) return 0;
    if (enc == ENC_QUICKLIST) return ql_mem_usage(ptr, samples);
    return zmalloc_size(ptr);
}

static size_t list_length(int enc, const void *ptr) {
    if (!ptr) return 0;
    if (enc == ENC_QUICKLIST) return ((const quicklist *)ptr)->count;
    return lp_length((unsigned char *)ptr);
}

static void list_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv) {
    if (!ptr) return;
    list_view v;
    quicklist *q = view_wrap(&v, enc, (void *)ptr);
    ql_iter it;
    ql_value val;
    ql_iter_init(&it, q, 0, 1);
    while (ql_iter_next(&it, &val)) fn(priv, (const char *)val.s, val.len, 0);
}

const type_ops list_type_ops = {
    .name = "list",
    .free_value = list_free_value,
    .dup_value = list_dup_value,
    .mem_usage = list_mem_usage,
    .length = list_length,
    .iterate = list_iterate,
};

entry *list_entry_from_strings(const char *key, size_t klen, char **items, size_t n) {
    list_view v;
    quicklist *q = view_wrap(&v, ENC_LISTPACK, NULL);
    for (size_t i = 0; i < n; i++) {
        ql_push(q, items[i], kstr_len(items[i]), QL_TAIL);
        kstr_free(items[i]);
    }
    int enc = ENC_LISTPACK;
    void *ptr = view_finish(&v, &enc);
    if (!ptr) ptr = lp_new(0);
    return entry_new_ptr(key, klen, TYPE_LIST, enc, ptr, -1);
}

/* ---- helpers ---- */

static int value_equals(const ql_value *v, const kstr s) {
    return v->len == kstr_len(s) && memcmp(v->s, s, v->len) == 0;
}

static int parse_where(const kstr arg, int *where) {
    if (arg_is(arg, "left")) *where = QL_HEAD;
    else if (arg_is(arg, "right")) *where = QL_TAIL;
    else return 0;
    return 1;
}

static void reply_value(client *c, const ql_value *v) { reply_bulk(c, v->s, v->len); }

/* Pop one value into a new kstr (NULL if empty). */
static kstr pop_to_kstr(quicklist *q, int where) {
    ql_value v;
    if (!ql_peek(q, where, &v)) return NULL;
    kstr s = kstr_new_len(v.s, v.len);
    ql_pop_discard(q, where);
    return s;
}

static void after_push(client *c, const kstr key, int existed) {
    /* A new key signals through db_on_key_added (db_add). */
    if (existed) blocking_signal_key(c->db, key, kstr_len(key));
    signal_modified_key(c, c->db, key);
}

/* ---- push ---- */

static void push_generic(client *c, int where, int only_existing) {
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e && only_existing) {
        reply_ll(c, 0);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    for (int i = 2; i < c->argc; i++) ql_push(q, c->argv[i], kstr_len(c->argv[i]), where);
    long long len = (long long)q->count;
    view_close(&v, c, c->argv[1], where == QL_HEAD ? "lpush" : "rpush");
    after_push(c, c->argv[1], e != NULL);
    reply_ll(c, len);
}

static void lpush_command(client *c) { push_generic(c, QL_HEAD, 0); }
static void rpush_command(client *c) { push_generic(c, QL_TAIL, 0); }
static void lpushx_command(client *c) { push_generic(c, QL_HEAD, 1); }
static void rpushx_command(client *c) { push_generic(c, QL_TAIL, 1); }

/* ---- pop ---- */

static void pop_generic(client *c, int where) {
    long long count = -1;
    if (c->argc > 3) {
        reply_error_arity(c);
        return;
    }
    if (c->argc == 3) {
        if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &count) || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        if (count >= 0) reply_null_array(c);
        else reply_null(c);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    ql_value val;
    if (count < 0) {
        ql_peek(q, where, &val);
        reply_value(c, &val);
        ql_pop_discard(q, where);
    } else {
        size_t n = (size_t)count < q->count ? (size_t)count : q->count;
        reply_array_len(c, (long)n);
        for (size_t i = 0; i < n; i++) {
            ql_peek(q, where, &val);
            reply_value(c, &val);
            ql_pop_discard(q, where);
        }
        if (n == 0) return; /* nothing changed */
    }
    view_close(&v, c, c->argv[1], where == QL_HEAD ? "lpop" : "rpop");
    signal_modified_key(c, c->db, c->argv[1]);
}

static void lpop_command(client *c) { pop_generic(c, QL_HEAD); }
static void rpop_command(client *c) { pop_generic(c, QL_TAIL); }

/* ---- reads ---- */

static void llen_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    reply_ll(c, e ? (long long)list_length(entry_encoding(e), entry_ptr(e)) : 0);
}

static void lrange_command(client *c) {
    long long start, end;
    if (!parse_ll(c, c->argv[2], &start) || !parse_ll(c, c->argv[3], &end)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        reply_empty_array(c);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    if (!clamp_rank_range((long long)q->count, &start, &end)) {
        reply_empty_array(c);
        return;
    }
    long long n = end - start + 1;
    reply_array_len(c, (long)n);
    ql_iter it;
    ql_value val;
    ql_iter_init(&it, q, start, 1);
    while (n-- > 0 && ql_iter_next(&it, &val)) reply_value(c, &val);
}

static void lindex_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) { /* Redis answers a missing key before looking at the index */
        reply_null(c);
        return;
    }
    long long index;
    if (!parse_ll(c, c->argv[2], &index)) return;
    list_view v;
    ql_value val;
    if (ql_index(view_open(&v, e), index, &val)) reply_value(c, &val);
    else reply_null(c);
}

/* ---- in-place edits ---- */

static void lset_command(client *c) {
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        reply_error(c, "ERR no such key");
        return;
    }
    long long index;
    if (!parse_ll(c, c->argv[2], &index)) return;
    list_view v;
    quicklist *q = view_open(&v, e);
    /* Redis 7.2 checks a listpack's room for LSET as for one more
     * element: the same conversions, so the same encodings are seen. */
    v.grow = 1;
    if (!ql_replace_at(q, index, c->argv[3], kstr_len(c->argv[3]))) {
        reply_error(c, "ERR index out of range");
        return;
    }
    view_close(&v, c, c->argv[1], "lset");
    signal_modified_key(c, c->db, c->argv[1]);
    reply_ok(c);
}

static void linsert_command(client *c) {
    int after;
    if (arg_is(c->argv[2], "after")) after = 1;
    else if (arg_is(c->argv[2], "before")) after = 0;
    else {
        reply_error_syntax(c);
        return;
    }
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    ql_iter it;
    ql_value val;
    ql_iter_init(&it, q, 0, 1);
    int found = 0;
    while (ql_iter_next(&it, &val)) {
        if (value_equals(&val, c->argv[3])) {
            ql_iter_insert(&it, c->argv[4], kstr_len(c->argv[4]), after);
            found = 1;
            break;
        }
    }
    if (!found) {
        reply_ll(c, -1);
        return;
    }
    long long len = (long long)q->count;
    view_close(&v, c, c->argv[1], "linsert");
    signal_modified_key(c, c->db, c->argv[1]);
    reply_ll(c, len);
}

static void lrem_command(client *c) {
    long long count;
    if (!parse_ll(c, c->argv[2], &count)) return;
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    ql_iter it;
    ql_value val;
    ql_iter_init(&it, q, count < 0 ? -1 : 0, count >= 0);
    unsigned long long limit = count < 0 ? (unsigned long long)-(count + 1) + 1 : (unsigned long long)count;
    long long removed = 0;
    while (ql_iter_next(&it, &val)) {
        if (!value_equals(&val, c->argv[3])) continue;
        ql_iter_delete(&it);
        removed++;
        if (limit && (unsigned long long)removed == limit) break;
    }
    if (removed) {
        view_close(&v, c, c->argv[1], "lrem");
        signal_modified_key(c, c->db, c->argv[1]);
    }
    reply_ll(c, removed);
}

static void ltrim_command(client *c) {
    long long start, end;
    if (!parse_ll(c, c->argv[2], &start) || !parse_ll(c, c->argv[3], &end)) return;
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ok(c);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    long long len = (long long)q->count, ltrim = len, rtrim = 0;
    if (clamp_rank_range(len, &start, &end)) {
        ltrim = start;
        rtrim = len - end - 1;
    }
    ql_del_range(q, 0, (size_t)ltrim);
    ql_del_range(q, q->count - (size_t)rtrim, (size_t)rtrim);
    view_close(&v, c, c->argv[1], "ltrim");
    signal_modified_key(c, c->db, c->argv[1]);
    reply_ok(c);
}

/* ---- LPOS ---- */

typedef struct lpos_opts {
    long long rank, count, maxlen;
    int has_count;
} lpos_opts;

static int parse_lpos_opts(client *c, lpos_opts *o) {
    o->rank = 1;
    o->count = 0;
    o->maxlen = 0;
    o->has_count = 0;
    for (int i = 3; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) {
            reply_error_syntax(c);
            return 0;
        }
        const kstr opt = c->argv[i], arg = c->argv[i + 1];
        if (arg_is(opt, "rank")) {
            if (!parse_ll(c, arg, &o->rank)) return 0;
            if (o->rank == 0) {
                reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                               "second ... or use negative to start from the end of the list");
                return 0;
            }
            if (o->rank == LLONG_MIN) { /* -rank would overflow (Redis 7.2's text) */
                reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX,
                             LLONG_MAX);
                return 0;
            }
        } else if (arg_is(opt, "count")) {
            if (!string_to_ll(arg, kstr_len(arg), &o->count) || o->count < 0) {
                reply_error(c, "ERR COUNT can't be negative");
                return 0;
            }
            o->has_count = 1;
        } else if (arg_is(opt, "maxlen")) {
            if (!string_to_ll(arg, kstr_len(arg), &o->maxlen) || o->maxlen < 0) {
                reply_error(c, "ERR MAXLEN can't be negative");
                return 0;
            }
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

static void lpos_command(client *c) {
    lpos_opts o;
    if (!parse_lpos_opts(c, &o)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_LIST, &wrong);
    if (wrong) return;
    if (!e) {
        if (o.has_count) reply_empty_array(c);
        else reply_null(c);
        return;
    }
    list_view v;
    quicklist *q = view_open(&v, e);
    int forward = o.rank > 0;
    long long skip = (forward ? o.rank : -o.rank) - 1; /* matches to pass over */
    void *deferred = o.has_count ? reply_deferred_len(c) : NULL;
    long long matches = 0, index = 0, len = (long long)q->count;
    ql_iter it;
    ql_value val;
    ql_iter_init(&it, q, forward ? 0 : -1, forward);
    while (ql_iter_next(&it, &val) && (o.maxlen == 0 || index < o.maxlen)) {
        if (value_equals(&val, c->argv[2])) {
            if (skip > 0) {
                skip--;
            } else {
                reply_ll(c, forward ? index : len - 1 - index);
                matches++;
                if (!o.has_count || (o.count && matches == o.count)) break;
            }
        }
        index++;
    }
    if (o.has_count) reply_set_deferred_array_len(c, deferred, (long)matches);
    else if (!matches) reply_null(c);
}

/* ---- LMOVE family ---- */

/* Move one element from src to dst. Replies the element, a null (bulk
 * or array, by the caller's wish) when src is missing, or blocks. */
static void lmove_generic(client *c, const kstr src, const kstr dst, int from, int to, long long block_deadline,
                          int blocking) {
    int wrong;
    entry *se = lookup_write_typed(c, src, TYPE_LIST, &wrong);
    if (wrong) return;
    if (!se) {
        if (blocking) {
            kstr keys[1] = {src};
            block_on_keys(c, keys, 1, block_deadline);
        } else {
            reply_null(c);
        }
        return;
    }
    entry *de = lookup_write_typed(c, dst, TYPE_LIST, &wrong);
    if (wrong) return;
    list_view v;
    kstr val = pop_to_kstr(view_open(&v, se), from);
    view_close(&v, c, src, NULL); /* events after the push's, in Redis's order */
    signal_modified_key(c, c->db, src);

    de = db_lookup(c->db, dst, kstr_len(dst), LOOKUP_WRITE | LOOKUP_NOSTATS | LOOKUP_NOTOUCH);
    quicklist *dq = view_open(&v, de);
    ql_push(dq, val, kstr_len(val), to);
    view_close(&v, c, dst, to == QL_HEAD ? "lpush" : "rpush");
    after_push(c, dst, de != NULL);
    /* As Redis 7.0: BRPOPLPUSH replays as RPOPLPUSH, BLMOVE as LMOVE. */
    if (blocking && c->cmd && !strcmp(c->cmd->name, "brpoplpush"))
        propagate_rewritef(c, "skk", "RPOPLPUSH", src, dst);
    else if (blocking)
        propagate_rewritef(c, "skkss", "LMOVE", src, dst, from == QL_HEAD ? "LEFT" : "RIGHT",
                           to == QL_HEAD ? "LEFT" : "RIGHT");
    server_dirty--; /* one move is one change, as Redis counts it */
    notify_keyspace_event(NOTIFY_LIST, from == QL_HEAD ? "lpop" : "rpop", src, db_id(c->db));
    if (!db_find(c->db, src, kstr_len(src))) notify_keyspace_event(NOTIFY_GENERIC, "del", src, db_id(c->db));
    reply_bulk(c, val, kstr_len(val));
    kstr_free(val);
}

static int parse_where_pair(client *c, int i, int *from, int *to) {
    if (!parse_where(c->argv[i], from) || !parse_where(c->argv[i + 1], to)) {
        reply_error_syntax(c);
        return 0;
    }
    return 1;
}

static void lmove_command(client *c) {
    int from, to;
    if (!parse_where_pair(c, 3, &from, &to)) return;
    lmove_generic(c, c->argv[1], c->argv[2], from, to, 0, 0);
}

static void rpoplpush_command(client *c) { lmove_generic(c, c->argv[1], c->argv[2], QL_TAIL, QL_HEAD, 0, 0); }

static void blmove_command(client *c) {
    int from, to;
    if (!parse_where_pair(c, 3, &from, &to)) return;
    long long deadline;
    if (!parse_timeout(c, c->argv[5], 1, &deadline)) return;
    lmove_generic(c, c->argv[1], c->argv[2], from, to, deadline, 1);
}

static void brpoplpush_command(client *c) {
    long long deadline;
    if (!parse_timeout(c, c->argv[3], 1, &deadline)) return;
    lmove_generic(c, c->argv[1], c->argv[2], QL_TAIL, QL_HEAD, deadline, 1);
}

/* ---- BLPOP / BRPOP ---- */

static void bpop_generic(client *c, int where) {
    long long deadline;
    if (!parse_timeout(c, c->argv[c->argc - 1], 1, &deadline)) return;
    for (int i = 1; i < c->argc - 1; i++) {
        int wrong;
        entry *e = lookup_write_typed(c, c->argv[i], TYPE_LIST, &wrong);
        if (wrong) return;
        if (!e) continue;
        list_view v;
        quicklist *q = view_open(&v, e);
        ql_value val;
        ql_peek(q, where, &val);
        reply_array_len(c, 2);
        reply_bulk(c, c->argv[i], kstr_len(c->argv[i]));
        reply_value(c, &val);
        ql_pop_discard(q, where);
        view_close(&v, c, c->argv[i], where == QL_HEAD ? "lpop" : "rpop");
        signal_modified_key(c, c->db, c->argv[i]);
        propagate_rewritef(c, "sk", where == QL_HEAD ? "LPOP" : "RPOP", c->argv[i]);
        return;
    }
    block_on_keys(c, c->argv + 1, c->argc - 2, deadline);
}

static void blpop_command(client *c) { bpop_generic(c, QL_HEAD); }
static void brpop_command(client *c) { bpop_generic(c, QL_TAIL); }

/* ---- LMPOP / BLMPOP ---- */

/* Parse "numkeys key... LEFT|RIGHT [COUNT n]" from argv[first]. */
static int parse_mpop(client *c, int first, long long *numkeys, int *where, long long *count) {
    if (!string_to_ll(c->argv[first], kstr_len(c->argv[first]), numkeys) || *numkeys <= 0) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return 0;
    }
    long long wherepos = first + 1 + *numkeys;
    if (*numkeys > INT_MAX || wherepos >= c->argc || !parse_where(c->argv[wherepos], where)) {
        reply_error_syntax(c);
        return 0;
    }
    *count = -1;
    for (long long i = wherepos + 1; i < c->argc; i++) {
        if (arg_is(c->argv[i], "count") && *count == -1 && i + 1 < c->argc) {
            if (!string_to_ll(c->argv[i + 1], kstr_len(c->argv[i + 1]), count) || *count <= 0) {
                reply_error(c, "ERR count should be greater than 0");
                return 0;
            }
            i++;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    if (*count == -1) *count = 1;
    return 1;
}

static void mpop_generic(client *c, int first, long long deadline, int blocking) {
    long long numkeys, count;
    int where;
    if (!parse_mpop(c, first, &numkeys, &where, &count)) return;
    kstr *keys = c->argv + first + 1;
    for (long long i = 0; i < numkeys; i++) {
        int wrong;
        entry *e = lookup_write_typed(c, keys[i], TYPE_LIST, &wrong);
        if (wrong) return;
        if (!e) continue;
        list_view v;
        quicklist *q = view_open(&v, e);
        size_t n = (size_t)count < q->count ? (size_t)count : q->count;
        reply_array_len(c, 2);
        reply_bulk(c, keys[i], kstr_len(keys[i]));
        reply_array_len(c, (long)n);
        ql_value val;
        for (size_t j = 0; j < n; j++) {
            ql_peek(q, where, &val);
            reply_value(c, &val);
            ql_pop_discard(q, where);
        }
        view_close(&v, c, keys[i], where == QL_HEAD ? "lpop" : "rpop");
        signal_modified_key(c, c->db, keys[i]);
        propagate_rewritef(c, "skl", where == QL_HEAD ? "LPOP" : "RPOP", keys[i], (long long)n);
        return;
    }
    if (blocking) block_on_keys(c, keys, (int)numkeys, deadline);
    else reply_null_array(c);
}

static void lmpop_command(client *c) { mpop_generic(c, 1, 0, 0); }

static void blmpop_command(client *c) {
    long long deadline;
    if (!parse_timeout(c, c->argv[1], 1, &deadline)) return;
    mpop_generic(c, 2, deadline, 1);
}

command list_commands[] = {
    {"lpush", lpush_command, -3, "write denyoom fast", 1, 1, 1, "list", "1.0.0",
     "Prepends one or more elements to a list. Creates the key if it doesn't exist.", NULL},
    {"rpush", rpush_command, -3, "write denyoom fast", 1, 1, 1, "list", "1.0.0",
     "Appends one or more elements to a list. Creates the key if it doesn't exist.", NULL},
    {"lpushx", lpushx_command, -3, "write denyoom fast", 1, 1, 1, "list", "2.2.0",
     "Prepends one or more elements to a list only when the list exists.", NULL},
    {"rpushx", rpushx_command, -3, "write denyoom fast", 1, 1, 1, "list", "2.2.0",
     "Appends an element to a list only when the list exists.", NULL},
    {"lpop", lpop_command, -2, "write fast", 1, 1, 1, "list", "1.0.0",
     "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
     NULL},
    {"rpop", rpop_command, -2, "write fast", 1, 1, 1, "list", "1.0.0",
     "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", NULL},
    {"llen", llen_command, 2, "readonly fast", 1, 1, 1, "list", "1.0.0", "Returns the length of a list.", NULL},
    {"lrange", lrange_command, 4, "readonly", 1, 1, 1, "list", "1.0.0", "Returns a range of elements from a list.",
     NULL},
    {"lindex", lindex_command, 3, "readonly", 1, 1, 1, "list", "1.0.0",
     "Returns an element from a list by its index.", NULL},
    {"lset", lset_command, 4, "write denyoom", 1, 1, 1, "list", "1.0.0",
     "Sets the value of an element in a list by its index.", NULL},
    {"linsert", linsert_command, 5, "write denyoom", 1, 1, 1, "list", "2.2.0",
     "Inserts an element before or after another element in a list.", NULL},
    {"lrem", lrem_command, 4, "write", 1, 1, 1, "list", "1.0.0",
     "Removes elements from a list. Deletes the list if the last element was removed.", NULL},
    {"ltrim", ltrim_command, 4, "write", 1, 1, 1, "list", "1.0.0",
     "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", NULL},
    {"lpos", lpos_command, -3, "readonly", 1, 1, 1, "list", "6.0.6",
     "Returns the index of matching elements in a list.", NULL},
    {"lmove", lmove_command, 5, "write denyoom", 1, 2, 1, "list", "6.2.0",
     "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last "
     "element was moved.",
     NULL},
    {"rpoplpush", rpoplpush_command, 3, "write denyoom", 1, 2, 1, "list", "1.2.0",
     "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the "
     "last element was popped.",
     NULL},
    {"lmpop", lmpop_command, -4, "write movablekeys", 0, 0, 0, "list", "7.0.0",
     "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
     NULL},
    {"blpop", blpop_command, -3, "write noscript blocking", 1, -2, 1, "list", "2.0.0",
     "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes "
     "the list if the last element was popped.",
     NULL},
    {"brpop", brpop_command, -3, "write noscript blocking", 1, -2, 1, "list", "2.0.0",
     "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes "
     "the list if the last element was popped.",
     NULL},
    {"blmove", blmove_command, 6, "write denyoom noscript blocking", 1, 2, 1, "list", "6.2.0",
     "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is "
     "available otherwise. Deletes the list if the last element was moved.",
     NULL},
    {"brpoplpush", brpoplpush_command, 4, "write denyoom noscript blocking", 1, 2, 1, "list", "2.2.0",
     "Pops an element from a list, pushes it to another list and returns it. Block until an element is available "
     "otherwise. Deletes the list if the last element was popped.",
     NULL},
    {"blmpop", blmpop_command, -5, "write blocking movablekeys", 0, 0, 0, "list", "7.0.0",
     "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes "
     "the list if the last element was popped.",
     NULL},
    {0},
};
