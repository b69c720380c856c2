/*
 * sort: SORT and SORT_RO on lists, sets and sorted sets.
 *
 * The elements are copied out of the value through its type's iterate
 * callback (types.h), so this module needs no knowledge of listpacks,
 * quicklists, intsets or skiplists, and keeps working when those change.
 * The copy costs O(n) memory, which SORT needs anyway for its vector.
 *
 * Behaviour follows Redis 7:
 *  - BY pattern substitutes the first '*' with the element; "->field" after
 *    the '*' reads a hash field; a pattern without '*' means "don't sort"
 *    (native order: lists as stored, sorted sets by rank, both reversed by
 *    DESC; sets in their iteration order).
 *    Sets have no native order, so with STORE they are sorted ALPHA anyway
 *    (the stored result must be the same on a replica).
 *  - numeric sort parses the weights with strtod (so "", " 1", "0x10" and
 *    "1e3" are numbers, as in Redis); a missing weight counts as 0; ties are
 *    broken by comparing the elements, so the order is deterministic.
 *  - ALPHA compares bytes (Redis uses strcoll, which is byte order in the
 *    C locale Redis normally runs in).
 *  - GET # is the element, GET pattern a string key or a hash field;
 *    missing values are nil (or "" when stored).
 *
 * Hash fields are read by scanning the hash through its iterate callback:
 * O(fields) per lookup. hash.h offers no single-field read yet; when it
 * does, hash_field() below is the one place to change.
 */
#include "acl/acl.h"
#include "script/script.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/types.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sort_item {
    kstr obj;    /* the element */
    kstr weight; /* ALPHA with BY: the looked-up value (NULL if missing) */
    double score;
} sort_item;

typedef struct sort_spec {
    int desc, alpha, by_pattern, dontsort;
    long limit_start, limit_count;
    kstr by;      /* BY pattern or NULL */
    kstr store;   /* STORE key or NULL */
    int ngets;
    kstr *gets;   /* GET patterns (point into argv) */
} sort_spec;

/* ---- collecting the elements ---- */

typedef struct collect_ctx {
    sort_item *items;
    size_t n, cap;
} collect_ctx;

static void collect_visit(void *priv, const char *s, size_t len, double score) {
    (void)score;
    collect_ctx *cc = priv;
    if (cc->n == cc->cap) {
        cc->cap = cc->cap ? cc->cap * 2 : 16;
        cc->items = zrealloc(cc->items, cc->cap * sizeof(sort_item));
    }
    cc->items[cc->n++] = (sort_item){kstr_new_len(s, len), NULL, 0};
}

static void free_items(sort_item *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        kstr_free(items[i].obj);
        if (items[i].weight) kstr_free(items[i].weight);
    }
    zfree(items);
}

/* ---- pattern lookups ---- */

typedef struct field_ctx {
    const char *field;
    size_t flen;
    int is_value;  /* the next visit is a value */
    int matched;   /* the previous field was ours */
    kstr found;
} field_ctx;

static void field_visit(void *priv, const char *s, size_t len, double score) {
    (void)score;
    field_ctx *fc = priv;
    if (fc->is_value) {
        if (fc->matched && !fc->found) fc->found = kstr_new_len(s, len);
    } else {
        fc->matched = len == fc->flen && memcmp(s, fc->field, len) == 0;
    }
    fc->is_value = !fc->is_value;
}

/* A copy of field f of the hash entry e, or NULL. */
static kstr hash_field(const entry *e, const char *f, size_t flen) {
    const type_ops *ops = type_ops_for(TYPE_HASH);
    if (!ops || !ops->iterate) return NULL;
    field_ctx fc = {f, flen, 0, 0, NULL};
    ops->iterate(entry_encoding(e), entry_ptr(e), field_visit, &fc);
    return fc.found;
}

/* The value pattern names for element obj: "#" is the element itself;
 * otherwise the first '*' is replaced by obj and the key read as a string,
 * or as a hash field when "->field" follows the '*'. NULL if missing. */
static kstr lookup_by_pattern(client *c, const kstr pattern, const kstr obj) {
    size_t plen = kstr_len(pattern);
    if (plen == 1 && pattern[0] == '#') return kstr_dup(obj);
    const char *star = memchr(pattern, '*', plen);
    if (!star) return NULL;
    const char *end = pattern + plen;
    const char *arrow = NULL;
    /* The first "->" after the '*' starts a field name, if one follows. */
    for (const char *q = star + 1; q + 1 < end; q++) {
        if (q[0] == '-' && q[1] == '>') {
            if (q + 2 < end) arrow = q;
            break;
        }
    }
    const char *key_end = arrow ? arrow : end;
    kstr key = kstr_new_len(pattern, (size_t)(star - pattern));
    key = kstr_cat_len(key, obj, kstr_len(obj));
    key = kstr_cat_len(key, star + 1, (size_t)(key_end - star - 1));
    entry *e = lookup_read(c, key);
    kstr_free(key);
    if (!e) return NULL;
    if (arrow) {
        if (entry_type(e) != TYPE_HASH) return NULL;
        return hash_field(e, arrow + 2, (size_t)(end - arrow - 2));
    }
    if (entry_type(e) != TYPE_STRING) return NULL;
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    return kstr_new_len(s, len);
}

/* ---- parsing ---- */

static int parse_sort_args(client *c, int readonly, sort_spec *sp) {
    memset(sp, 0, sizeof(*sp));
    sp->limit_count = -1;
    sp->gets = zmalloc(sizeof(kstr) * (size_t)c->argc);
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        kstr a = c->argv[j];
        if (arg_is(a, "asc")) sp->desc = 0;
        else if (arg_is(a, "desc")) sp->desc = 1;
        else if (arg_is(a, "alpha")) sp->alpha = 1;
        else if (arg_is(a, "limit") && left >= 2) {
            if (!parse_long(c, c->argv[j + 1], &sp->limit_start) ||
                !parse_long(c, c->argv[j + 2], &sp->limit_count))
                return 0;
            j += 2;
        } else if (!readonly && arg_is(a, "store") && left >= 1) {
            sp->store = c->argv[++j];
        } else if (arg_is(a, "by") && left >= 1) {
            sp->by = c->argv[++j];
            sp->dontsort = memchr(sp->by, '*', kstr_len(sp->by)) == NULL;
            if (!sp->dontsort && !acl_client_reads_all_keys(c)) {
                reply_error(c, "ERR BY option of SORT denied due to insufficient ACL permissions.");
                return 0;
            }
        } else if (arg_is(a, "get") && left >= 1) {
            if (!acl_client_reads_all_keys(c)) {
                reply_error(c, "ERR GET option of SORT denied due to insufficient ACL permissions.");
                return 0;
            }
            sp->gets[sp->ngets++] = c->argv[++j];
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

/* ---- sorting ---- */

static int cmp_bytes(const kstr a, const kstr b) {
    size_t la = kstr_len(a), lb = kstr_len(b);
    int r = memcmp(a, b, la < lb ? la : lb);
    if (r) return r;
    return la < lb ? -1 : la > lb;
}

static const sort_spec *g_spec; /* qsort has no context argument in C11 */

static int item_compare(const void *pa, const void *pb) {
    const sort_item *a = pa, *b = pb;
    int r;
    if (!g_spec->alpha) {
        r = a->score < b->score ? -1 : a->score > b->score ? 1 : 0;
        if (!r) r = cmp_bytes(a->obj, b->obj);
    } else if (g_spec->by_pattern) {
        if (!a->weight || !b->weight) r = (a->weight != NULL) - (b->weight != NULL);
        else r = cmp_bytes(a->weight, b->weight);
        if (!r) r = cmp_bytes(a->obj, b->obj);
    } else {
        r = cmp_bytes(a->obj, b->obj);
    }
    return g_spec->desc ? -r : r;
}

/* Parse a weight as Redis does (strtod of the whole string). */
static int weight_to_double(const kstr w, double *out) {
    char *eptr;
    errno = 0;
    *out = strtod(w, &eptr);
    return *eptr == '\0' && errno != ERANGE && !isnan(*out);
}

/* Load weights; returns 0 if a numeric weight is not a number. */
static int load_weights(client *c, const sort_spec *sp, sort_item *items, size_t n) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        kstr w = sp->by ? lookup_by_pattern(c, sp->by, items[i].obj) : NULL;
        if (sp->by && !w) continue; /* missing: score 0 / sorts first */
        if (sp->alpha) {
            items[i].weight = w;
            continue;
        }
        if (!weight_to_double(w ? w : items[i].obj, &items[i].score)) ok = 0;
        if (w) kstr_free(w);
    }
    return ok;
}

/* ---- output ---- */

static void reply_sorted(client *c, const sort_spec *sp, sort_item *items, long start, long count) {
    reply_array_len(c, sp->ngets ? count * sp->ngets : count);
    for (long j = start; j < start + count; j++) {
        if (!sp->ngets) reply_bulk(c, items[j].obj, kstr_len(items[j].obj));
        for (int g = 0; g < sp->ngets; g++) {
            kstr v = lookup_by_pattern(c, sp->gets[g], items[j].obj);
            if (v) reply_bulk(c, v, kstr_len(v));
            else reply_null(c);
            kstr_free(v);
        }
    }
}

static void store_sorted(client *c, const sort_spec *sp, sort_item *items, long start, long count) {
    size_t total = (size_t)count * (size_t)(sp->ngets ? sp->ngets : 1);
    kstr dest = sp->store;
    if (total == 0) {
        if (db_delete(c->db, dest, kstr_len(dest))) {
            signal_modified_key(c, c->db, dest);
            notify_keyspace_event(NOTIFY_GENERIC, "del", dest, db_id(c->db));
        }
        reply_ll(c, 0);
        return;
    }
    char **out = zmalloc(sizeof(char *) * total);
    size_t k = 0;
    for (long j = start; j < start + count; j++) {
        if (!sp->ngets) out[k++] = kstr_dup(items[j].obj);
        for (int g = 0; g < sp->ngets; g++) {
            kstr v = lookup_by_pattern(c, sp->gets[g], items[j].obj);
            out[k++] = v ? v : kstr_empty();
        }
    }
    db_set(c->db, list_entry_from_strings(dest, kstr_len(dest), out, total), 0);
    zfree(out);
    signal_modified_key(c, c->db, dest);
    notify_keyspace_event(NOTIFY_LIST, "sortstore", dest, db_id(c->db));
    reply_ll(c, (long long)total);
}

/* Apply LIMIT to n elements: first index and count. */
static void limit_range(const sort_spec *sp, long n, long *start, long *count) {
    long s = sp->limit_start < 0 ? 0 : sp->limit_start;
    if (s >= n) {
        *start = 0;
        *count = 0;
        return;
    }
    long avail = n - s;
    *start = s;
    *count = sp->limit_count < 0 || sp->limit_count > avail ? avail : sp->limit_count;
}

static void reverse_items(sort_item *items, size_t n) {
    for (size_t i = 0; i < n / 2; i++) {
        sort_item t = items[i];
        items[i] = items[n - 1 - i];
        items[n - 1 - i] = t;
    }
}

static void sort_generic(client *c, int readonly) {
    sort_spec sp;
    if (!parse_sort_args(c, readonly, &sp)) goto out_spec;
    entry *e = sp.store ? lookup_write(c, c->argv[1]) : lookup_read(c, c->argv[1]);
    int type = e ? entry_type(e) : TYPE_LIST;
    if (type != TYPE_LIST && type != TYPE_SET && type != TYPE_ZSET) {
        reply_error_wrongtype(c);
        goto out_spec;
    }
    if (sp.dontsort && type == TYPE_SET && (sp.store || script_is_running())) {
        /* A set has no order of its own: store (or give a script) a
         * reproducible one, as Redis does. */
        sp.dontsort = 0;
        sp.alpha = 1;
        sp.by = NULL;
    }
    sp.by_pattern = sp.by != NULL;
    collect_ctx cc = {0};
    const type_ops *ops = type_ops_for(type);
    if (e && ops && ops->iterate) ops->iterate(entry_encoding(e), entry_ptr(e), collect_visit, &cc);
    if (sp.dontsort && type != TYPE_SET && sp.desc) reverse_items(cc.items, cc.n);
    if (!sp.dontsort) {
        if (!load_weights(c, &sp, cc.items, cc.n)) {
            reply_error(c, "ERR One or more scores can't be converted into double");
            goto out;
        }
        g_spec = &sp;
        if (cc.n > 1) qsort(cc.items, cc.n, sizeof(sort_item), item_compare);
    }
    long start, count;
    limit_range(&sp, (long)cc.n, &start, &count);
    if (sp.store) store_sorted(c, &sp, cc.items, start, count);
    else reply_sorted(c, &sp, cc.items, start, count);
out:
    free_items(cc.items, cc.n);
out_spec:
    zfree(sp.gets);
}

static void sort_command(client *c) { sort_generic(c, 0); }
static void sort_ro_command(client *c) { sort_generic(c, 1); }

command sort_commands[] = {
    {"sort", sort_command, -2, "write denyoom movablekeys", 1, 1, 1, "generic", "1.0.0", "Sort the elements in a list, set or sorted set.", NULL},
    {"sort_ro", sort_ro_command, -2, "readonly movablekeys", 1, 1, 1, "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", NULL},
    {0},
};
