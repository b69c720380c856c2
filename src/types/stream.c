/* See stream.h for the storage design. This file holds the storage:
 * nodes, appending, iterating, deleting and trimming. Commands are in
 * stream_cmd.c, consumer groups in stream_group.c. */
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/types.h"
#include "core/entry.h"
#include "lib/listpack.h"
#include "lib/zmalloc.h"

#include <string.h>

#define ENTRY_DELETED 1
#define ENTRY_SAMEFIELDS 2
#define ITER_DONE ((size_t)-1)

/* ---- IDs ---- */

int stream_id_cmp(stream_id a, stream_id b) {
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}

int stream_id_incr(stream_id *id) {
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) return 0;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 1;
}

int stream_id_decr(stream_id *id) {
    if (id->seq == 0) {
        if (id->ms == 0) return 0;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 1;
}

static int parse_u64(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 20) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int stream_id_parse(const char *s, size_t len, uint64_t missing_seq, stream_id *id, int *seq_given, int strict) {
    if (seq_given) *seq_given = 1;
    if (!strict && len == 1 && s[0] == '-') { *id = (stream_id){0, 0}; return 1; }
    if (!strict && len == 1 && s[0] == '+') { *id = (stream_id){UINT64_MAX, UINT64_MAX}; return 1; }
    const char *dash = memchr(s, '-', len);
    if (!dash) {
        if (seq_given) *seq_given = 0;
        id->seq = missing_seq;
        return parse_u64(s, len, &id->ms);
    }
    return parse_u64(s, (size_t)(dash - s), &id->ms) && parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &id->seq);
}

int stream_id_format(stream_id id, char *buf) {
    char tmp[24];
    int n = 0, t = 0;
    uint64_t v = id.ms;
    do { tmp[t++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (t) buf[n++] = tmp[--t];
    buf[n++] = '-';
    v = id.seq;
    do { tmp[t++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (t) buf[n++] = tmp[--t];
    buf[n] = '\0';
    return n;
}

/* ---- listpack element helpers ---- */

static int64_t lp_int(unsigned char *p) {
    int64_t v = 0;
    unsigned int len;
    unsigned char *s = lp_get(p, &v, &len);
    if (s) { /* a number stored as text: never written by Keel */
        v = 0;
        for (unsigned int i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (s[i] - '0');
    }
    return v;
}

static unsigned char *lp_skip(unsigned char *lp, unsigned char *p, int64_t n) {
    while (p && n-- > 0) p = lp_next(lp, p);
    return p;
}

/* ---- nodes ---- */

static stream_node *node_at(const stream *s, size_t i) { return &s->nodes[s->head + i]; }

/* Master entry: live count, deleted count, number of master fields,
 * the fields, a 0 terminator. Returns the position of the first entry. */
static unsigned char *node_first_entry(unsigned char *lp) {
    unsigned char *p = lp_first(lp);          /* live count */
    p = lp_next(lp, p);                       /* deleted */
    p = lp_next(lp, p);                       /* master field count */
    int64_t nmaster = lp_int(p);
    p = lp_skip(lp, lp_next(lp, p), nmaster); /* the 0 terminator */
    return lp_next(lp, p);
}

static int64_t node_count(unsigned char *lp, int which) {
    unsigned char *p = lp_first(lp);
    if (which) p = lp_next(lp, p);
    return lp_int(p);
}

static unsigned char *node_set_counts(unsigned char *lp, int64_t live, int64_t deleted) {
    unsigned char *p = lp_first(lp);
    lp = lp_replace_integer(lp, &p, live);
    p = lp_next(lp, p);
    return lp_replace_integer(lp, &p, deleted);
}

static void nodes_make_room(stream *s) {
    if (s->head + s->nnodes < s->cap) return;
    if (s->head > s->nnodes) { /* slide back instead of growing */
        memmove(s->nodes, s->nodes + s->head, s->nnodes * sizeof(stream_node));
        s->head = 0;
        return;
    }
    s->cap = s->cap ? s->cap * 2 : 4;
    s->nodes = zrealloc(s->nodes, s->cap * sizeof(stream_node));
}

static void node_remove(stream *s, size_t i) {
    lp_free(node_at(s, i)->lp);
    if (i == 0) {
        s->head++;
    } else {
        memmove(node_at(s, i), node_at(s, i + 1), (s->nnodes - i - 1) * sizeof(stream_node));
    }
    s->nnodes--;
    if (s->nnodes == 0) s->head = 0;
}

/* Does the entry's field list equal the master fields? */
static int same_fields(unsigned char *lp, const char *const *fv, const size_t *fvlen, size_t nfields) {
    unsigned char *p = lp_next(lp, lp_next(lp, lp_first(lp)));
    if ((size_t)lp_int(p) != nfields) return 0;
    for (size_t i = 0; i < nfields; i++) {
        p = lp_next(lp, p);
        if (!lp_compare(p, (const unsigned char *)fv[2 * i], fvlen[2 * i])) return 0;
    }
    return 1;
}

static unsigned char *node_new(const char *const *fv, const size_t *fvlen, size_t nfields) {
    unsigned char *lp = lp_new(256);
    lp = lp_append_integer(lp, 0);
    lp = lp_append_integer(lp, 0);
    lp = lp_append_integer(lp, (int64_t)nfields);
    for (size_t i = 0; i < nfields; i++) lp = lp_append(lp, (const unsigned char *)fv[2 * i], fvlen[2 * i]);
    return lp_append_integer(lp, 0);
}

static int node_full(unsigned char *lp, size_t add, long long max_bytes, long long max_entries) {
    if (max_bytes > 0 && lp_bytes(lp) + add > (size_t)max_bytes) return 1;
    if (max_entries > 0 && node_count(lp, 0) + node_count(lp, 1) >= max_entries) return 1;
    return 0;
}

void stream_append(stream *s, stream_id id, const char *const *fv, const size_t *fvlen, size_t nfv,
                   long long node_max_bytes, long long node_max_entries) {
    size_t nfields = nfv / 2, add = 0;
    for (size_t i = 0; i < nfv; i++) add += lp_entry_size_for((const unsigned char *)fv[i], fvlen[i]);
    stream_node *n = s->nnodes ? node_at(s, s->nnodes - 1) : NULL;
    if (!n || node_full(n->lp, add, node_max_bytes, node_max_entries)) {
        nodes_make_room(s);
        n = &s->nodes[s->head + s->nnodes++];
        n->master = id;
        n->lp = node_new(fv, fvlen, nfields);
    }
    unsigned char *lp = n->lp;
    int same = same_fields(lp, fv, fvlen, nfields);
    lp = lp_append_integer(lp, same ? ENTRY_SAMEFIELDS : 0);
    lp = lp_append_integer(lp, (int64_t)(id.ms - n->master.ms));
    lp = lp_append_integer(lp, (int64_t)(id.seq - n->master.seq));
    if (!same) lp = lp_append_integer(lp, (int64_t)nfields);
    for (size_t i = 0; i < nfields; i++) {
        if (!same) lp = lp_append(lp, (const unsigned char *)fv[2 * i], fvlen[2 * i]);
        lp = lp_append(lp, (const unsigned char *)fv[2 * i + 1], fvlen[2 * i + 1]);
    }
    lp = lp_append_integer(lp, (int64_t)(same ? nfields + 3 : nfields * 2 + 4));
    n->lp = node_set_counts(lp, node_count(lp, 0) + 1, node_count(lp, 1));
    if (s->length == 0) s->first_id = id;
    s->length++;
    s->last_id = id;
    s->entries_added++;
}

/* ---- iteration ---- */

static void iter_field_room(stream_iter *it, size_t n) {
    if (n <= it->fields_cap) return;
    it->fields_cap = n < 8 ? 8 : n;
    it->fields = zrealloc(it->fields, it->fields_cap * sizeof(stream_field));
}

/* Decode the entry whose flags element is at p in node lp with master
 * ID m; sets it->id and the fields. Returns the position after the
 * entry's lp-count, and *deleted. */
static unsigned char *decode_entry(stream_iter *it, unsigned char *lp, stream_id m, unsigned char *p, int *deleted) {
    int64_t flags = lp_int(p);
    *deleted = (flags & ENTRY_DELETED) != 0;
    p = lp_next(lp, p);
    it->id.ms = m.ms + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    it->id.seq = m.seq + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    unsigned char *mf = lp_next(lp, lp_next(lp, lp_first(lp)));
    size_t nfields = (size_t)lp_int(mf);
    int same = (flags & ENTRY_SAMEFIELDS) != 0;
    if (!same) { nfields = (size_t)lp_int(p); p = lp_next(lp, p); }
    it->nfields = 0;
    iter_field_room(it, nfields);
    if (it->numbuf_cap < nfields * 2 * LP_INTBUF_SIZE) {
        it->numbuf_cap = nfields * 2 * LP_INTBUF_SIZE + LP_INTBUF_SIZE;
        it->numbuf = zrealloc(it->numbuf, it->numbuf_cap);
    }
    size_t used = 0;
    for (size_t i = 0; i < nfields; i++) {
        unsigned char *fp;
        if (same) { mf = lp_next(lp, mf); fp = mf; }
        else { fp = p; p = lp_next(lp, p); }
        unsigned int l;
        stream_field *f = &it->fields[i];
        f->f = lp_get_value(fp, it->numbuf + used, &l);
        f->flen = l;
        if (f->f == it->numbuf + used) used += LP_INTBUF_SIZE;
        f->v = lp_get_value(p, it->numbuf + used, &l);
        f->vlen = l;
        if (f->v == it->numbuf + used) used += LP_INTBUF_SIZE;
        p = lp_next(lp, p);
    }
    it->nfields = nfields;
    return lp_next(lp, p); /* past lp-count */
}

/* Index of the last node whose master ID is <= id (0 if none is). */
static size_t node_search(const stream *s, stream_id id) {
    size_t lo = 0, hi = s->nnodes;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(node_at(s, mid)->master, id) <= 0) lo = mid;
        else hi = mid;
    }
    return lo;
}

void stream_iter_start(stream_iter *it, stream *s, stream_id start, stream_id end, int rev) {
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->start = start;
    it->end = end;
    it->rev = rev;
    it->node = s->nnodes ? node_search(s, rev ? end : start) : 0;
    it->p = NULL;
    if (s->nnodes == 0 || stream_id_cmp(start, end) > 0) it->node = ITER_DONE;
}

/* Position at the last entry's flags in a node (backward walks). */
static unsigned char *last_entry(unsigned char *lp) {
    unsigned char *p = lp_last(lp); /* lp-count of the last entry */
    int64_t count = lp_int(p);
    if (count == 0) return NULL;    /* only the master entry */
    while (count--) p = lp_prev(lp, p);
    return p;
}

static unsigned char *prev_entry(unsigned char *lp, unsigned char *flags) {
    unsigned char *p = lp_prev(lp, flags); /* lp-count of the previous entry, or master's 0 */
    int64_t count = lp_int(p);
    if (count == 0) return NULL;
    while (count--) p = lp_prev(lp, p);
    return p;
}

static void iter_next_node(stream_iter *it) {
    it->p = NULL;
    if (it->rev) it->node = it->node == 0 ? ITER_DONE : it->node - 1;
    else it->node++;
}

int stream_iter_next(stream_iter *it) {
    stream *s = it->s;
    while (it->node != ITER_DONE && it->node < s->nnodes) {
        stream_node *n = node_at(s, it->node);
        if (!it->p) it->p = it->rev ? last_entry(n->lp) : node_first_entry(n->lp);
        if (!it->p || *it->p == LP_EOF) {
            iter_next_node(it);
            continue;
        }
        int deleted;
        unsigned char *here = it->p;
        unsigned char *after = decode_entry(it, n->lp, n->master, here, &deleted);
        size_t node = it->node;
        unsigned char *next = it->rev ? prev_entry(n->lp, here) : after;
        if (!next || *next == LP_EOF) iter_next_node(it);
        else it->p = next;
        if (deleted) continue;
        if (!it->rev && stream_id_cmp(it->id, it->end) > 0) break;
        if (it->rev && stream_id_cmp(it->id, it->start) < 0) break;
        if (!it->rev && stream_id_cmp(it->id, it->start) < 0) continue;
        if (it->rev && stream_id_cmp(it->id, it->end) > 0) continue;
        it->cur_flags = here;
        it->cur_node = node;
        return 1;
    }
    it->node = ITER_DONE;
    return 0;
}

void stream_iter_stop(stream_iter *it) {
    zfree(it->fields);
    zfree(it->numbuf);
    memset(it, 0, sizeof(*it));
}

static void update_first_id(stream *s) {
    if (s->length == 0) {
        s->first_id = (stream_id){0, 0};
        return;
    }
    stream_iter it;
    stream_iter_start(&it, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 0);
    if (stream_iter_next(&it)) s->first_id = it.id;
    stream_iter_stop(&it);
}

/* Mark the entry at flags position in node i deleted. Returns 1 if the
 * node was removed as a result (it was its last live entry). */
static int mark_deleted(stream *s, size_t i, unsigned char *flags) {
    stream_node *n = node_at(s, i);
    int64_t f = lp_int(flags);
    n->lp = lp_replace_integer(n->lp, &flags, f | ENTRY_DELETED);
    int64_t live = node_count(n->lp, 0) - 1, del = node_count(n->lp, 1) + 1;
    s->length--;
    if (live == 0) {
        node_remove(s, i);
        return 1;
    }
    n->lp = node_set_counts(n->lp, live, del);
    return 0;
}

void stream_iter_delete(stream_iter *it) {
    stream *s = it->s;
    size_t i = it->cur_node;
    stream_node *n = node_at(s, i);
    size_t old_bytes = lp_bytes(n->lp);
    int same_node = it->node == i && it->p;
    long next_off = same_node ? (long)(it->p - n->lp) : -1;
    int was_first = stream_id_cmp(it->id, s->first_id) == 0;
    if (stream_id_cmp(it->id, s->max_deleted_id) > 0) s->max_deleted_id = it->id;
    if (mark_deleted(s, i, it->cur_flags)) {
        /* The node is gone: its remaining entries were all deleted, so
         * the walk goes on with the neighbour, whose index may shift. */
        if (it->node == i) {
            it->p = NULL;
            if (it->rev) it->node = i == 0 ? ITER_DONE : i - 1;
        } else if (it->node != ITER_DONE && it->node > i) {
            it->node--;
        }
    } else if (next_off >= 0) {
        /* The flag rewrite keeps its size; the counts at the node's start
         * may change size, shifting every later position alike. */
        n = node_at(s, i);
        it->p = n->lp + next_off + ((long)lp_bytes(n->lp) - (long)old_bytes);
    }
    if (was_first) update_first_id(s);
}

int stream_delete(stream *s, stream_id id) {
    if (s->nnodes == 0) return 0;
    stream_iter it;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it);
    if (found) stream_iter_delete(&it);
    stream_iter_stop(&it);
    return found;
}

int stream_first_id(stream *s, stream_id *id) {
    if (s->length == 0) return 0;
    *id = s->first_id;
    return 1;
}

int stream_last_live_id(stream *s, stream_id *id) {
    if (s->length == 0) return 0;
    stream_iter it;
    stream_iter_start(&it, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 1);
    int ok = stream_iter_next(&it);
    if (ok) *id = it.id;
    stream_iter_stop(&it);
    return ok;
}

/* ---- trimming ---- */

/* The greatest entry ID in node i (live or deleted). */
static stream_id node_last_id(stream *s, size_t i) {
    stream_node *n = node_at(s, i);
    stream_iter tmp = {0};
    unsigned char *p = last_entry(n->lp);
    stream_id id = n->master;
    if (p) {
        int d;
        decode_entry(&tmp, n->lp, n->master, p, &d);
        id = tmp.id;
        stream_iter_stop(&tmp);
    }
    return id;
}

static int64_t trim(stream *s, uint64_t maxlen, const stream_id *minid, int approx, long long limit) {
    int64_t removed = 0;
    while (s->nnodes) {
        stream_node *n = node_at(s, 0);
        int64_t live = node_count(n->lp, 0);
        int whole = minid ? stream_id_cmp(node_last_id(s, 0), *minid) < 0 : s->length - (uint64_t)live >= maxlen;
        if (whole) {
            if (limit > 0 && removed + live > limit) break;
            stream_id last = node_last_id(s, 0);
            if (stream_id_cmp(last, s->max_deleted_id) > 0) s->max_deleted_id = last;
            s->length -= (uint64_t)live;
            removed += live;
            node_remove(s, 0);
            continue;
        }
        if (approx) break;
        /* Exact trimming inside the first node, entry by entry. */
        stream_iter it;
        stream_iter_start(&it, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 0);
        while ((minid ? 1 : s->length > maxlen) && stream_iter_next(&it)) {
            if (minid && stream_id_cmp(it.id, *minid) >= 0) break;
            stream_iter_delete(&it);
            removed++;
        }
        stream_iter_stop(&it);
        break;
    }
    update_first_id(s);
    return removed;
}

int64_t stream_trim_maxlen(stream *s, uint64_t maxlen, int approx, long long limit) {
    return trim(s, maxlen, NULL, approx, limit);
}

int64_t stream_trim_minid(stream *s, stream_id minid, int approx, long long limit) {
    return trim(s, 0, &minid, approx, limit);
}

/* ---- persistence ---- */

const stream_node *stream_node_at(const stream *s, size_t i) { return node_at(s, i); }

void stream_first_id_rebuild(stream *s) { update_first_id(s); }

/* Integer element at *p, advancing; 0 if missing or not an integer. */
static int next_int(unsigned char *lp, unsigned char **p, int64_t *v) {
    if (!*p || **p == LP_EOF) return 0;
    unsigned int slen;
    if (lp_get(*p, v, &slen)) return 0;
    *p = lp_next(lp, *p);
    return 1;
}

static int skip_elements(unsigned char *lp, unsigned char **p, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (!*p || **p == LP_EOF) return 0;
        *p = lp_next(lp, *p);
    }
    return 1;
}

/* The checks that let the iterator trust the node (see stream.h). */
static const char *node_check(unsigned char *lp, stream_id master, stream_id after, int has_after, uint64_t *live_out,
                              stream_id *last) {
    unsigned char *p = lp_first(lp);
    int64_t live, deleted, nmaster, zero;
    if (!next_int(lp, &p, &live) || !next_int(lp, &p, &deleted) || !next_int(lp, &p, &nmaster) || live < 0 ||
        deleted < 0 || nmaster < 0)
        return "bad stream node header";
    if (!skip_elements(lp, &p, nmaster) || !next_int(lp, &p, &zero) || zero != 0) return "bad stream master entry";
    int64_t seen_live = 0, seen_deleted = 0;
    stream_id prev = master;
    int first = 1;
    while (p && *p != LP_EOF) {
        int64_t flags, dms, dseq, nfields, count;
        if (!next_int(lp, &p, &flags) || flags < 0 || flags > 3 || !next_int(lp, &p, &dms) ||
            !next_int(lp, &p, &dseq))
            return "bad stream entry";
        stream_id id = {master.ms + (uint64_t)dms, master.seq + (uint64_t)dseq};
        if (dms < 0 || (dms == 0 && dseq < 0)) return "stream entry ID below its node's";
        if (!first && stream_id_cmp(id, prev) <= 0) return "stream entry IDs out of order";
        if (has_after && stream_id_cmp(id, after) <= 0) return "stream node overlaps the previous one";
        first = 0;
        prev = id;
        int same = (flags & ENTRY_SAMEFIELDS) != 0;
        if (same) nfields = nmaster;
        else if (!next_int(lp, &p, &nfields) || nfields < 0) return "bad stream entry field count";
        if (!skip_elements(lp, &p, same ? nfields : nfields * 2)) return "stream entry past its node";
        if (!next_int(lp, &p, &count) || count != (same ? nfields + 3 : nfields * 2 + 4))
            return "bad stream entry element count";
        if (flags & ENTRY_DELETED) seen_deleted++;
        else seen_live++;
    }
    if (seen_live != live || seen_deleted != deleted) return "stream node counts do not match its entries";
    if (live == 0) return "empty stream node";
    *live_out = (uint64_t)live;
    *last = prev;
    return NULL;
}

int stream_load_node(stream *s, stream_id master, const unsigned char *lp, size_t len, uint64_t *live,
                     const char **why) {
    if (len < LP_EMPTY_SIZE || !lp_validate(lp, len)) {
        *why = "bad stream node listpack";
        return -1;
    }
    unsigned char *copy = zmalloc(len);
    memcpy(copy, lp, len);
    stream_id after = {0, 0}, last;
    int has_after = s->nnodes > 0;
    if (has_after) after = node_last_id(s, s->nnodes - 1);
    if ((*why = node_check(copy, master, after, has_after, live, &last)) != NULL) {
        zfree(copy);
        return -1;
    }
    nodes_make_room(s);
    stream_node *n = &s->nodes[s->head + s->nnodes++];
    n->master = master;
    n->lp = copy;
    return 0;
}

/* ---- life cycle ---- */

stream *stream_new(void) { return zcalloc(sizeof(stream)); }

void stream_free(stream *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nnodes; i++) lp_free(node_at(s, i)->lp);
    zfree(s->nodes);
    stream_groups_free(s);
    zfree(s);
}

stream *stream_dup(const stream *s) {
    stream *d = zmalloc(sizeof(stream));
    *d = *s;
    d->head = 0;
    d->cap = s->nnodes;
    d->nodes = s->nnodes ? zmalloc(s->nnodes * sizeof(stream_node)) : NULL;
    for (size_t i = 0; i < s->nnodes; i++) {
        stream_node *n = node_at(s, i);
        size_t len = lp_bytes(n->lp);
        d->nodes[i].master = n->master;
        d->nodes[i].lp = zmalloc(len);
        memcpy(d->nodes[i].lp, n->lp, len);
    }
    d->groups = NULL;
    d->ngroups = 0;
    stream_groups_dup(d, s);
    return d;
}

size_t stream_mem_usage(const stream *s, size_t samples) {
    size_t total = zmalloc_size((void *)s);
    if (s->nodes) total += zmalloc_size(s->nodes);
    size_t n = s->nnodes, take = samples && samples < n ? samples : n, sum = 0;
    for (size_t i = 0; i < take; i++) sum += zmalloc_size(node_at(s, i)->lp);
    if (take) total += sum * n / take;
    total += stream_groups_mem_usage(s);
    return total;
}

stream *stream_defrag(stream *s, stream_defrag_fn *move, void *priv) {
    s = move(priv, s);
    if (s->nodes) s->nodes = move(priv, s->nodes);
    for (size_t i = 0; i < s->nnodes; i++) {
        stream_node *n = node_at(s, i);
        n->lp = move(priv, n->lp);
    }
    stream_groups_defrag(s, move, priv);
    return s;
}

/* ---- type_ops ---- */

static void ops_free(int enc, void *ptr) { (void)enc; stream_free(ptr); }
static void *ops_dup(int enc, const void *ptr) { (void)enc; return stream_dup(ptr); }
static size_t ops_mem(int enc, const void *ptr, size_t samples) { (void)enc; return stream_mem_usage(ptr, samples); }
static size_t ops_length(int enc, const void *ptr) {
    (void)enc;
    const stream *s = ptr;
    return s->nnodes; /* the work freeing costs is per node */
}

static void *ops_defrag(int enc, void *ptr, type_defrag_fn *move, void *priv) {
    (void)enc;
    return stream_defrag(ptr, move, priv);
}

static void ops_iterate(int enc, const void *ptr, type_visit_fn *fn, void *priv) {
    (void)enc;
    stream_iter it;
    stream_iter_start(&it, (stream *)ptr, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 0);
    while (stream_iter_next(&it))
        for (size_t i = 0; i < it.nfields; i++) {
            fn(priv, (const char *)it.fields[i].f, it.fields[i].flen, 0);
            fn(priv, (const char *)it.fields[i].v, it.fields[i].vlen, 0);
        }
    stream_iter_stop(&it);
}

const type_ops stream_type_ops = {
    .name = "stream",
    .free_value = ops_free,
    .dup_value = ops_dup,
    .mem_usage = ops_mem,
    .length = ops_length,
    .iterate = ops_iterate,
    .defrag_value = ops_defrag,
};
