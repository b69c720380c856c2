/* See stream_group.h for the design. */
#include "types/stream_group.h"
#include "lib/zmalloc.h"

#include <string.h>

/* ---- sorted arrays by name ---- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Binary search of a name among n sorted names (name_at gives element
 * i's name): the index where it is or would go. */
typedef const char *name_at_fn(const void *arr, size_t i, size_t *len);

static size_t name_search(const void *arr, size_t n, name_at_fn *name_at, const char *name, size_t len, int *found) {
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, mlen;
        const char *m = name_at(arr, mid, &mlen);
        int c = name_cmp(m, mlen, name, len);
        if (c == 0) { *found = 1; return mid; }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static const char *group_name_at(const void *arr, size_t i, size_t *len) {
    stream_cg *const *g = arr;
    *len = g[i]->nlen;
    return g[i]->name;
}

static const char *consumer_name_at(const void *arr, size_t i, size_t *len) {
    stream_consumer *const *c = arr;
    *len = c[i]->nlen;
    return c[i]->name;
}

#define GROUP_SEARCH(s, name, len, found) name_search((s)->groups, (s)->ngroups, group_name_at, name, len, found)
#define CONSUMER_SEARCH(g, name, len, found) \
    name_search((g)->consumers, (g)->nconsumers, consumer_name_at, name, len, found)

static char *name_dup(const char *s, size_t len) {
    char *p = zmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ---- PEL arrays ---- */

size_t stream_pel_lower_bound(const stream_pel *p, stream_id id) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(p->v[mid]->id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

stream_nack *stream_pel_find(const stream_pel *p, stream_id id) {
    size_t i = stream_pel_lower_bound(p, id);
    return i < p->n && stream_id_cmp(p->v[i]->id, id) == 0 ? p->v[i] : NULL;
}

static void pel_insert(stream_pel *p, stream_nack *n) {
    size_t i = stream_pel_lower_bound(p, n->id);
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->v = zrealloc(p->v, p->cap * sizeof(stream_nack *));
    }
    memmove(p->v + i + 1, p->v + i, (p->n - i) * sizeof(stream_nack *));
    p->v[i] = n;
    p->n++;
}

static void pel_remove(stream_pel *p, stream_id id) {
    size_t i = stream_pel_lower_bound(p, id);
    if (i >= p->n || stream_id_cmp(p->v[i]->id, id) != 0) return;
    memmove(p->v + i, p->v + i + 1, (p->n - i - 1) * sizeof(stream_nack *));
    p->n--;
}

/* ---- groups ---- */

stream_cg *stream_group_find(stream *s, const char *name, size_t len) {
    int found;
    size_t i = GROUP_SEARCH(s, name, len, &found);
    return found ? s->groups[i] : NULL;
}

stream_cg *stream_group_create(stream *s, const char *name, size_t len, stream_id last_id, long long entries_read) {
    int found;
    size_t i = GROUP_SEARCH(s, name, len, &found);
    if (found) return NULL;
    stream_cg *g = zcalloc(sizeof(stream_cg));
    g->name = name_dup(name, len);
    g->nlen = len;
    g->last_id = last_id;
    g->entries_read = entries_read;
    s->groups = zrealloc(s->groups, (s->ngroups + 1) * sizeof(stream_cg *));
    memmove(s->groups + i + 1, s->groups + i, (s->ngroups - i) * sizeof(stream_cg *));
    s->groups[i] = g;
    s->ngroups++;
    return g;
}

static void consumer_free(stream_consumer *c) {
    zfree(c->pel.v);
    zfree(c->name);
    zfree(c);
}

static void group_free(stream_cg *g) {
    for (size_t i = 0; i < g->pel.n; i++) zfree(g->pel.v[i]);
    zfree(g->pel.v);
    for (size_t i = 0; i < g->nconsumers; i++) consumer_free(g->consumers[i]);
    zfree(g->consumers);
    zfree(g->name);
    zfree(g);
}

int stream_group_destroy(stream *s, const char *name, size_t len) {
    int found;
    size_t i = GROUP_SEARCH(s, name, len, &found);
    if (!found) return 0;
    group_free(s->groups[i]);
    memmove(s->groups + i, s->groups + i + 1, (s->ngroups - i - 1) * sizeof(stream_cg *));
    s->ngroups--;
    return 1;
}

/* ---- consumers ---- */

stream_consumer *stream_consumer_find(stream_cg *g, const char *name, size_t len) {
    int found;
    size_t i = CONSUMER_SEARCH(g, name, len, &found);
    return found ? g->consumers[i] : NULL;
}

stream_consumer *stream_consumer_get(stream_cg *g, const char *name, size_t len, int *created) {
    int found;
    size_t i = CONSUMER_SEARCH(g, name, len, &found);
    if (created) *created = !found;
    if (found) return g->consumers[i];
    stream_consumer *c = zcalloc(sizeof(stream_consumer));
    c->name = name_dup(name, len);
    c->nlen = len;
    g->consumers = zrealloc(g->consumers, (g->nconsumers + 1) * sizeof(stream_consumer *));
    memmove(g->consumers + i + 1, g->consumers + i, (g->nconsumers - i) * sizeof(stream_consumer *));
    g->consumers[i] = c;
    g->nconsumers++;
    return c;
}

long long stream_consumer_delete(stream_cg *g, const char *name, size_t len) {
    int found;
    size_t i = CONSUMER_SEARCH(g, name, len, &found);
    if (!found) return -1;
    stream_consumer *c = g->consumers[i];
    long long pending = (long long)c->pel.n;
    for (size_t k = 0; k < c->pel.n; k++) {
        pel_remove(&g->pel, c->pel.v[k]->id);
        zfree(c->pel.v[k]);
    }
    consumer_free(c);
    memmove(g->consumers + i, g->consumers + i + 1, (g->nconsumers - i - 1) * sizeof(stream_consumer *));
    g->nconsumers--;
    return pending;
}

/* ---- nacks ---- */

stream_nack *stream_nack_add(stream_cg *g, stream_consumer *c, stream_id id, long long now_ms) {
    stream_nack *n = zmalloc(sizeof(stream_nack));
    n->id = id;
    n->delivery_time = now_ms;
    n->delivery_count = 1;
    n->consumer = c;
    pel_insert(&g->pel, n);
    pel_insert(&c->pel, n);
    return n;
}

stream_nack *stream_nack_add_unowned(stream_cg *g, stream_id id, long long delivery_time, long long count) {
    if (stream_pel_find(&g->pel, id)) return NULL;
    stream_nack *n = zmalloc(sizeof(stream_nack));
    n->id = id;
    n->delivery_time = delivery_time;
    n->delivery_count = count;
    n->consumer = NULL;
    pel_insert(&g->pel, n);
    return n;
}

void stream_nack_assign(stream_nack *n, stream_consumer *to) {
    if (n->consumer == to) return;
    if (n->consumer) pel_remove(&n->consumer->pel, n->id);
    pel_insert(&to->pel, n);
    n->consumer = to;
}

void stream_nack_remove(stream_cg *g, stream_nack *n) {
    pel_remove(&n->consumer->pel, n->id);
    pel_remove(&g->pel, n->id);
    zfree(n);
}

/* ---- read counters (lag) ----
 *
 * entries_added counts every entry ever added, so a group that has read
 * up to the stream's last ID has read entries_added entries. Elsewhere
 * the counter is exact only where no deleted entry can lie between the
 * group's position and the end; these are the rules Redis 7.0 documents
 * for XINFO's entries-read and lag. */

int stream_range_has_tombstones(const stream *s, stream_id start, stream_id end) {
    if (s->length == 0 || (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0)) return 0;
    if (stream_id_cmp(s->first_id, s->max_deleted_id) > 0) return 0;
    return stream_id_cmp(start, s->max_deleted_id) <= 0 && stream_id_cmp(s->max_deleted_id, end) <= 0;
}

long long stream_estimate_entries_read(const stream *s, stream_id id) {
    if (!s->entries_added) return 0;
    if (!s->length && stream_id_cmp(id, s->last_id) <= 0) return (long long)s->entries_added;
    int cmp_last = stream_id_cmp(id, s->last_id);
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return STREAM_ENTRIES_READ_INVALID;
    int no_tombstone_ahead = (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0) ||
                             stream_id_cmp(s->max_deleted_id, s->first_id) < 0;
    if (no_tombstone_ahead) {
        int cmp_first = stream_id_cmp(id, s->first_id);
        if (cmp_first < 0) return (long long)(s->entries_added - s->length);
        if (cmp_first == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}

void stream_group_advance(const stream *s, stream_cg *g, stream_id id) {
    if (stream_id_cmp(id, g->last_id) <= 0) return;
    stream_id end = {UINT64_MAX, UINT64_MAX};
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, id, end))
        g->entries_read++;
    else if (s->entries_added)
        g->entries_read = stream_estimate_entries_read(s, id);
    g->last_id = id;
}

long long stream_group_lag(const stream *s, const stream_cg *g, int *valid) {
    *valid = 1;
    if (!s->entries_added) return 0;
    stream_id end = {UINT64_MAX, UINT64_MAX};
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, g->last_id, end))
        return (long long)s->entries_added - g->entries_read;
    long long read = stream_estimate_entries_read(s, g->last_id);
    if (read != STREAM_ENTRIES_READ_INVALID) return (long long)s->entries_added - read;
    *valid = 0;
    return 0;
}

/* ---- life cycle ---- */

void stream_groups_free(stream *s) {
    for (size_t i = 0; i < s->ngroups; i++) group_free(s->groups[i]);
    zfree(s->groups);
    s->groups = NULL;
    s->ngroups = 0;
}

void stream_groups_dup(stream *dst, const stream *src) {
    for (size_t i = 0; i < src->ngroups; i++) {
        const stream_cg *g = src->groups[i];
        stream_cg *ng = stream_group_create(dst, g->name, g->nlen, g->last_id, g->entries_read);
        for (size_t k = 0; k < g->nconsumers; k++) {
            const stream_consumer *c = g->consumers[k];
            stream_consumer *nc = stream_consumer_get(ng, c->name, c->nlen, NULL);
            nc->seen_time = c->seen_time;
            for (size_t j = 0; j < c->pel.n; j++) {
                const stream_nack *n = c->pel.v[j];
                stream_nack *nn = stream_nack_add(ng, nc, n->id, n->delivery_time);
                nn->delivery_count = n->delivery_count;
            }
        }
    }
}

/* A consumer and what points to it: its group's array slot and its
 * nacks' owner field; then its nacks, which its own PEL and the group's
 * PEL (found by ID) point to. */
static void consumer_defrag(stream_cg *g, size_t k, stream_defrag_fn *move, void *priv) {
    stream_consumer *c = move(priv, g->consumers[k]);
    g->consumers[k] = c;
    c->name = move(priv, c->name);
    if (c->pel.v) c->pel.v = move(priv, c->pel.v);
    for (size_t j = 0; j < c->pel.n; j++) {
        stream_nack *n = c->pel.v[j];
        n->consumer = c;
        stream_nack *moved = move(priv, n);
        if (moved == n) continue;
        c->pel.v[j] = moved;
        size_t at = stream_pel_lower_bound(&g->pel, moved->id);
        if (at < g->pel.n && g->pel.v[at] == n) g->pel.v[at] = moved;
    }
}

void stream_groups_defrag(stream *s, stream_defrag_fn *move, void *priv) {
    if (s->groups) s->groups = move(priv, s->groups);
    for (size_t i = 0; i < s->ngroups; i++) {
        stream_cg *g = move(priv, s->groups[i]);
        s->groups[i] = g;
        g->name = move(priv, g->name);
        if (g->pel.v) g->pel.v = move(priv, g->pel.v);
        if (g->consumers) g->consumers = move(priv, g->consumers);
        for (size_t k = 0; k < g->nconsumers; k++) consumer_defrag(g, k, move, priv);
    }
}

size_t stream_groups_mem_usage(const stream *s) {
    size_t total = s->groups ? zmalloc_size(s->groups) : 0;
    for (size_t i = 0; i < s->ngroups; i++) {
        const stream_cg *g = s->groups[i];
        total += zmalloc_size((void *)g) + zmalloc_size(g->name);
        total += g->pel.n * (sizeof(stream_nack) + sizeof(void *));
        if (g->pel.v) total += zmalloc_size(g->pel.v);
        for (size_t k = 0; k < g->nconsumers; k++) {
            const stream_consumer *c = g->consumers[k];
            total += zmalloc_size((void *)c) + zmalloc_size(c->name);
            if (c->pel.v) total += zmalloc_size(c->pel.v);
        }
        if (g->consumers) total += zmalloc_size(g->consumers);
    }
    return total;
}
