/*
 * zset_setops: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.
 *
 * Inputs may be sorted sets or plain sets (members scoring 1). Each input
 * is reached through type_ops.iterate and zset_score, so this file knows
 * neither the sorted-set nor the set encodings. Results are built as
 * standalone items (their own copy of the member bytes, since the
 * destination key may be one of the inputs), sorted once, and then
 * either replied or handed to zset_store_result like ZRANGESTORE's.
 *
 * Union accumulates into a hash table keyed by member; intersection walks
 * the smallest input and probes the others; difference walks the first
 * and probes the rest. ZINTERCARD is intersection with an early stop.
 */
#include "types/zset_internal.h"

#include "core/cmdutil.h"
#include "core/command.h"
#include "lib/hashtable.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD
 * ==================================================================== */

enum { SETOP_UNION, SETOP_INTER, SETOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

/* A result member being built: its own copy of the bytes, since the
 * destination key may be one of the inputs. */
typedef struct acc_item {
    double score;
    uint32_t len;
    char m[];
} acc_item;

static const void *acc_key(const void *el, size_t *len) {
    const acc_item *a = el;
    *len = a->len;
    return a->m;
}

static void acc_free(void *el) { zfree(el); }

static const hashtable_type acc_type = {.element_key = acc_key, .element_destructor = acc_free};

static acc_item *acc_new(const char *m, size_t len, double score) {
    acc_item *a = zmalloc(sizeof(*a) + len);
    a->score = score;
    a->len = (uint32_t)len;
    memcpy(a->m, m, len);
    return a;
}

/* One input: a sorted set, or a plain set whose members score 1 (loaded
 * into a temporary table through set_type_ops, so this module needs no
 * knowledge of the set encodings). */
typedef struct zsrc {
    entry *e;
    hashtable *tmp;
    double weight;
    size_t size;
} zsrc;

static void load_set_member(void *priv, const char *s, size_t len, double score) {
    (void)score;
    hashtable_add(priv, acc_new(s, len, 1.0));
}

static void src_load(zsrc *src, entry *e) {
    src->e = e;
    src->tmp = NULL;
    src->weight = 1.0;
    src->size = 0;
    if (!e) return;
    if (entry_type(e) == TYPE_SET) {
        src->tmp = hashtable_create(&acc_type);
        set_type_ops.iterate(entry_encoding(e), entry_ptr(e), load_set_member, src->tmp);
        src->size = hashtable_size(src->tmp);
    } else {
        src->size = zset_length(e);
    }
}

static int src_score(zsrc *src, const char *m, size_t len, double *score) {
    if (!src->e) return 0;
    if (!src->tmp) return zset_score(src->e, m, len, score);
    void *found;
    if (!hashtable_find(src->tmp, m, len, &found)) return 0;
    *score = 1.0;
    return 1;
}

static void src_foreach(zsrc *src, type_visit_fn *fn, void *priv) {
    if (!src->e) return;
    if (!src->tmp) {
        zset_type_ops.iterate(entry_encoding(src->e), entry_ptr(src->e), fn, priv);
        return;
    }
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, src->tmp, 0);
    while (hashtable_iter_next(&it, &el)) {
        acc_item *a = el;
        fn(priv, a->m, a->len, 1.0);
    }
    hashtable_iter_release(&it);
}

static double weighted(double score, double weight) {
    double v = score * weight;
    return isnan(v) ? 0 : v; /* 0 * inf: Redis's convention is 0 */
}

static double aggregate(int agg, double a, double b) {
    if (agg == AGG_MIN) return a < b ? a : b;
    if (agg == AGG_MAX) return a > b ? a : b;
    double s = a + b;
    return isnan(s) ? 0 : s; /* inf + -inf */
}

typedef struct setop {
    int op, agg;
    zsrc *src;
    int n;
    hashtable *acc; /* union */
    acc_item **out; /* inter / diff */
    size_t nout, cap;
    double weight; /* of the source being visited */
    long limit;    /* ZINTERCARD: stop after this many (0 = none) */
} setop;

static void out_push(setop *so, acc_item *a) {
    if (so->nout == so->cap) {
        so->cap = so->cap ? so->cap * 2 : 16;
        so->out = zrealloc(so->out, so->cap * sizeof(*so->out));
    }
    so->out[so->nout++] = a;
}

static void union_visit(void *priv, const char *m, size_t len, double score) {
    setop *so = priv;
    double v = weighted(score, so->weight);
    void **ref = hashtable_find_ref(so->acc, m, len);
    if (ref) {
        acc_item *a = *ref;
        a->score = aggregate(so->agg, a->score, v);
    } else {
        hashtable_add(so->acc, acc_new(m, len, v));
    }
}

static void inter_visit(void *priv, const char *m, size_t len, double score) {
    setop *so = priv;
    if (so->limit && (long)so->nout >= so->limit) return;
    double v = weighted(score, so->src[0].weight);
    for (int j = 1; j < so->n; j++) {
        double s;
        if (!src_score(&so->src[j], m, len, &s)) return;
        v = aggregate(so->agg, v, weighted(s, so->src[j].weight));
    }
    out_push(so, acc_new(m, len, v));
}

static void diff_visit(void *priv, const char *m, size_t len, double score) {
    setop *so = priv;
    for (int j = 1; j < so->n; j++) {
        double s;
        if (src_score(&so->src[j], m, len, &s)) return;
    }
    out_push(so, acc_new(m, len, score));
}

static int src_cmp_size(const void *a, const void *b) {
    const zsrc *x = a, *y = b;
    return x->size < y->size ? -1 : (x->size > y->size ? 1 : 0);
}

/* Runs the operation; results end up in so->out (unsorted). */
static void setop_run(setop *so) {
    if (so->op == SETOP_DIFF) {
        src_foreach(&so->src[0], diff_visit, so);
        return;
    }
    /* Smallest first: the intersection then probes the fewest members. */
    qsort(so->src, (size_t)so->n, sizeof(zsrc), src_cmp_size);
    if (so->op == SETOP_INTER) {
        if (so->src[0].size > 0) src_foreach(&so->src[0], inter_visit, so);
        return;
    }
    so->acc = hashtable_create(&acc_type);
    for (int j = 0; j < so->n; j++) {
        so->weight = so->src[j].weight;
        src_foreach(&so->src[j], union_visit, so);
    }
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, so->acc, 0);
    while (hashtable_iter_next(&it, &el)) out_push(so, el);
    hashtable_iter_release(&it);
}

static void setop_free(setop *so) {
    if (so->acc) {
        hashtable_release(so->acc); /* frees the items, also listed in out */
    } else {
        for (size_t i = 0; i < so->nout; i++) zfree(so->out[i]);
    }
    zfree(so->out);
    for (int j = 0; j < so->n; j++)
        if (so->src[j].tmp) hashtable_release(so->src[j].tmp);
    zfree(so->src);
}

static zset_item *sorted_items(setop *so) {
    zset_item *items = zmalloc(sizeof(*items) * (so->nout ? so->nout : 1));
    for (size_t i = 0; i < so->nout; i++) {
        items[i].score = so->out[i]->score;
        items[i].m = so->out[i]->m;
        items[i].len = so->out[i]->len;
    }
    zset_sort_items(items, so->nout);
    return items;
}

/* Parse "numkeys key..." at argv[idx], load the inputs. */
static int load_sources(client *c, int idx, int write, setop *so) {
    long long numkeys;
    if (!parse_ll(c, c->argv[idx], &numkeys)) return 0;
    if (numkeys < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->fullname);
        return 0;
    }
    if (numkeys > c->argc - idx - 1) {
        reply_error_syntax(c);
        return 0;
    }
    so->n = (int)numkeys;
    so->src = zcalloc(sizeof(zsrc) * (size_t)numkeys);
    for (int j = 0; j < so->n; j++) {
        kstr key = c->argv[idx + 1 + j];
        entry *e = write ? lookup_write(c, key) : lookup_read(c, key);
        if (e && entry_type(e) != TYPE_ZSET && entry_type(e) != TYPE_SET) {
            reply_error_wrongtype(c);
            so->n = j; /* only the loaded ones are freed */
            return 0;
        }
        src_load(&so->src[j], e);
    }
    return 1;
}

static int parse_setop_options(client *c, int j, int store, setop *so, int *withscores) {
    for (; j < c->argc; j++) {
        int left = c->argc - j - 1;
        kstr a = c->argv[j];
        if (so->op != SETOP_DIFF && left >= so->n && arg_is(a, "weights")) {
            for (int k = 0; k < so->n; k++) {
                if (!string_to_double(c->argv[j + 1 + k], kstr_len(c->argv[j + 1 + k]),
                                      &so->src[k].weight)) {
                    reply_error(c, "ERR weight value is not a float");
                    return 0;
                }
            }
            j += so->n;
        } else if (so->op != SETOP_DIFF && left >= 1 && arg_is(a, "aggregate")) {
            kstr v = c->argv[++j];
            if (arg_is(v, "sum"))
                so->agg = AGG_SUM;
            else if (arg_is(v, "min"))
                so->agg = AGG_MIN;
            else if (arg_is(v, "max"))
                so->agg = AGG_MAX;
            else {
                reply_error_syntax(c);
                return 0;
            }
        } else if (!store && arg_is(a, "withscores")) {
            *withscores = 1;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

static void setop_generic(client *c, int op, int store) {
    setop so;
    memset(&so, 0, sizeof(so));
    so.op = op;
    int idx = store ? 2 : 1, withscores = 0;
    if (!load_sources(c, idx, store, &so)) goto done;
    if (!parse_setop_options(c, idx + 1 + so.n, store, &so, &withscores)) goto done;
    setop_run(&so);
    zset_item *items = sorted_items(&so);
    if (store) {
        zset_store_result(c, c->argv[1], items, so.nout);
    } else {
        reply_array_len(c, zset_reply_len(c, (long)so.nout, withscores));
        for (size_t i = 0; i < so.nout; i++)
            zset_reply_member(c, items[i].m, items[i].len, items[i].score, withscores);
    }
    zfree(items);
done:
    setop_free(&so);
}

void zunion_command(client *c) { setop_generic(c, SETOP_UNION, 0); }
void zinter_command(client *c) { setop_generic(c, SETOP_INTER, 0); }
void zdiff_command(client *c) { setop_generic(c, SETOP_DIFF, 0); }
void zunionstore_command(client *c) { setop_generic(c, SETOP_UNION, 1); }
void zinterstore_command(client *c) { setop_generic(c, SETOP_INTER, 1); }
void zdiffstore_command(client *c) { setop_generic(c, SETOP_DIFF, 1); }

void zintercard_command(client *c) {
    setop so;
    memset(&so, 0, sizeof(so));
    so.op = SETOP_INTER;
    if (!load_sources(c, 1, 0, &so)) goto done;
    for (int j = 2 + so.n; j < c->argc; j++) {
        long long limit;
        if (arg_is(c->argv[j], "limit") && j + 1 < c->argc) {
            if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &limit) || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                goto done;
            }
            so.limit = (long)limit;
            j++;
        } else {
            reply_error_syntax(c);
            goto done;
        }
    }
    setop_run(&so);
    reply_ll(c, (long long)so.nout);
done:
    setop_free(&so);
}
