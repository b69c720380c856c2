/*
 * set_ops: SINTER / SUNION / SDIFF, their STORE forms, and SINTERCARD.
 *
 * Intersections walk the smallest set and probe the others, so the cost
 * follows the smallest input; a missing key is an empty set, which ends
 * an intersection before any walk. Results that are stored are built
 * off-line with set.c's add path (so they get the encoding SADD would
 * give them) and replace the destination in one step, its TTL dropped,
 * as Redis does. Unions and differences are built the same way even when
 * only replied, because a member may appear in several inputs and the
 * reply must hold it once.
 */
#include "types/set_internal.h"

#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <stdlib.h>


/* The sets named by argv[first .. first+n): NULL for missing keys. Replies
 * WRONGTYPE and returns NULL if any key holds another type. */
static set_value *lookup_sets(client *c, int first, int n, int for_write, int *wrong) {
    set_value *sets = zmalloc(sizeof(set_value) * (size_t)n);
    *wrong = 0;
    for (int j = 0; j < n; j++) {
        kstr key = c->argv[first + j];
        entry *e = for_write ? lookup_write(c, key) : lookup_read(c, key);
        if (e && entry_type(e) != TYPE_SET) {
            reply_error_wrongtype(c);
            zfree(sets);
            *wrong = 1;
            return NULL;
        }
        sets[j] = e ? set_of(e) : (set_value){0, NULL};
    }
    return sets;
}

static int by_size(const void *a, const void *b) {
    size_t x = set_value_size(a), y = set_value_size(b);
    return x < y ? -1 : x > y;
}

typedef struct inter_ctx {
    set_value *others;
    int nothers;
    /* Output: a reply, a result set, or just a count. */
    client *c;
    set_value *result;
    size_t found;
    size_t limit; /* 0 = none */
} inter_ctx;

static int inter_visit(void *priv, const member *m) {
    inter_ctx *ic = priv;
    for (int j = 0; j < ic->nothers; j++)
        if (!set_value_has_member(&ic->others[j], m)) return 1;
    if (ic->result) set_value_add(ic->result, m->s, m->len);
    else if (ic->c) reply_member(ic->c, m);
    ic->found++;
    return !ic->limit || ic->found < ic->limit;
}

/* Intersect sets[0..n) (all present): smallest first, probing the rest. */
static void intersect(set_value *sets, int n, inter_ctx *ic) {
    qsort(sets, (size_t)n, sizeof(set_value), by_size);
    ic->others = sets + 1;
    ic->nothers = n - 1;
    set_value_foreach(&sets[0], inter_visit, ic);
}

static int any_missing(const set_value *sets, int n) {
    for (int j = 0; j < n; j++)
        if (!sets[j].ptr) return 1;
    return 0;
}

/* Replace dst by result (or delete it when the result is empty). */
static void store_result(client *c, const kstr dst, set_value *result) {
    size_t size = result->ptr ? set_value_size(result) : 0;
    if (size == 0) {
        if (result->ptr) set_value_free(result);
        if (lookup_write(c, dst)) {
            db_delete(c->db, dst, kstr_len(dst));
            signal_modified_key(c, c->db, dst);
            notify_keyspace_event(NOTIFY_GENERIC, "del", dst, db_id(c->db));
        }
        reply_ll(c, 0);
        return;
    }
    /* Delete then add rather than db_set: the old value may be of any
     * type and its TTL must go, and this keeps "a set appeared here"
     * visible to whoever waits for keys being added. */
    db_delete(c->db, dst, kstr_len(dst));
    db_add(c->db, entry_new_ptr(dst, kstr_len(dst), TYPE_SET, result->enc, result->ptr, -1));
    signal_modified_key(c, c->db, dst);
    notify_keyspace_event(NOTIFY_SET, c->cmd->name, dst, db_id(c->db)); /* sinterstore, sunionstore, sdiffstore */
    reply_ll(c, (long long)size);
}

static void sinter_generic(client *c, int first, int n, const kstr dst) {
    int wrong;
    set_value *sets = lookup_sets(c, first, n, dst != NULL, &wrong);
    if (wrong) return;
    set_value result = {0, NULL};
    if (any_missing(sets, n)) {
        if (dst) store_result(c, dst, &result);
        else reply_set_len(c, 0);
        zfree(sets);
        return;
    }
    inter_ctx ic = {0};
    if (dst) {
        result = set_value_empty_intset();
        ic.result = &result;
        intersect(sets, n, &ic);
        store_result(c, dst, &result);
    } else {
        ic.c = c;
        void *len = reply_deferred_len(c);
        intersect(sets, n, &ic);
        reply_set_deferred_set_len(c, len, (long)ic.found);
    }
    zfree(sets);
}

void sinter_command(client *c) { sinter_generic(c, 1, c->argc - 1, NULL); }
void sinterstore_command(client *c) { sinter_generic(c, 2, c->argc - 2, c->argv[1]); }

void sintercard_command(client *c) {
    long long numkeys, limit = 0;
    if (!string_to_ll(c->argv[1], kstr_len(c->argv[1]), &numkeys) || numkeys < 1) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j += 2) {
        if (!arg_is(c->argv[j], "limit") || j + 1 >= c->argc) {
            reply_error_syntax(c);
            return;
        }
        if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &limit) || limit < 0) {
            reply_error(c, "ERR LIMIT can't be negative");
            return;
        }
    }
    int wrong;
    set_value *sets = lookup_sets(c, 2, (int)numkeys, 0, &wrong);
    if (wrong) return;
    inter_ctx ic = {.limit = (size_t)limit};
    if (!any_missing(sets, (int)numkeys)) intersect(sets, (int)numkeys, &ic);
    reply_ll(c, (long long)ic.found);
    zfree(sets);
}

typedef struct collect_ctx {
    set_value *result;
    const set_value *others;
    int nothers;
} collect_ctx;

static int union_visit(void *priv, const member *m) {
    collect_ctx *cc = priv;
    set_value_add(cc->result, m->s, m->len);
    return 1;
}

static int diff_visit(void *priv, const member *m) {
    collect_ctx *cc = priv;
    for (int j = 0; j < cc->nothers; j++)
        if (cc->others[j].ptr && set_value_has_member(&cc->others[j], m)) return 1;
    set_value_add(cc->result, m->s, m->len);
    return 1;
}

static void sunion_sdiff_generic(client *c, int first, int n, const kstr dst, int diff) {
    int wrong;
    set_value *sets = lookup_sets(c, first, n, dst != NULL, &wrong);
    if (wrong) return;
    set_value result = set_value_empty_intset();
    collect_ctx cc = {&result, sets + 1, n - 1};
    if (diff) {
        if (sets[0].ptr) set_value_foreach(&sets[0], diff_visit, &cc);
    } else {
        for (int j = 0; j < n; j++)
            if (sets[j].ptr) set_value_foreach(&sets[j], union_visit, &cc);
    }
    zfree(sets);
    if (dst) {
        store_result(c, dst, &result);
        return;
    }
    reply_whole_set(c, &result);
    set_value_free(&result);
}

void sunion_command(client *c) { sunion_sdiff_generic(c, 1, c->argc - 1, NULL, 0); }
void sunionstore_command(client *c) { sunion_sdiff_generic(c, 2, c->argc - 2, c->argv[1], 0); }
void sdiff_command(client *c) { sunion_sdiff_generic(c, 1, c->argc - 1, NULL, 1); }
void sdiffstore_command(client *c) { sunion_sdiff_generic(c, 2, c->argc - 2, c->argv[1], 1); }
