/*
 * quicklist: see quicklist.h for the design (a chain of listpacks bounded
 * by list-max-listpack-size).
 *
 * Invariants: no node is empty (a node whose last entry goes is unlinked
 * at once), node->sz and node->count always match the listpack, and
 * ql->count is the sum of node counts. Inserts in the middle that do not
 * fit split the node at the insertion point and then try to merge the
 * pieces with their neighbours, so a list edited in the middle does not
 * decay into many tiny nodes.
 *
 * Compression bookkeeping: read paths expand a node with open_node (which
 * may leave it "pending"), write paths with edit_node; every write path
 * ends by compressing what it left plain outside the end zones (settle),
 * so at rest only the end zones and at most one pending node are plain.
 */
#include "lib/quicklist.h"

#include <string.h>

#include "lib/zmalloc.h"

static const size_t byte_limits[] = {4096, 8192, 16384, 32768, 65536};

static int clamp_fill(int fill) {
    if (fill < QL_FILL_MIN) return QL_FILL_MIN;
    if (fill > QL_FILL_MAX) return QL_FILL_MAX;
    return fill;
}

size_t ql_node_byte_limit(int fill) {
    fill = clamp_fill(fill);
    return fill < 0 ? byte_limits[-fill - 1] : 0;
}

int ql_node_fits(int fill, size_t sz, size_t count, size_t esz) {
    fill = clamp_fill(fill);
    if (count == 0) return 1;
    size_t newsz = sz + esz;
    if (fill < 0) return newsz <= byte_limits[-fill - 1];
    return newsz <= QL_SAFETY_BYTES && count < (size_t)fill;
}

void ql_init(quicklist *ql, int fill, int depth) {
    memset(ql, 0, sizeof(*ql));
    ql->fill = clamp_fill(fill);
    ql->depth = depth < 0 ? 0 : depth;
}

quicklist *ql_create(int fill, int depth) {
    quicklist *ql = zmalloc(sizeof(*ql));
    ql_init(ql, fill, depth);
    return ql;
}


/* ---- LZ77 codec for interior nodes ----
 *
 * A stream of tokens. Control byte c:
 *   c < 32            literal run of c+1 bytes, which follow;
 *   c >= 32           match: length code L = c >> 5 (1..7), offset high
 *                     bits c & 31; if L == 7 one more byte is added to L;
 *                     then the offset low byte. Copy L+2 bytes from
 *                     distance offset+1 back (13-bit offset: 8 KB window).
 * Greedy matching through a 4096-slot hash of 3-byte prefixes: fast and
 * good enough for node-sized inputs of repetitive short strings. */

#define LZ_HASH_BITS 12
#define LZ_WINDOW 8192
#define LZ_MAX_MATCH 264 /* 7 + 255 + 2 */

static int lz_literals(const uint8_t *src, size_t len, uint8_t *out, size_t *op, size_t cap) {
    while (len) {
        size_t chunk = len < 32 ? len : 32;
        if (*op + 1 + chunk > cap) return 0;
        out[(*op)++] = (uint8_t)(chunk - 1);
        memcpy(out + *op, src, chunk);
        *op += chunk;
        src += chunk;
        len -= chunk;
    }
    return 1;
}

static uint32_t lz_hash(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - LZ_HASH_BITS);
}

/* Compressed size, or 0 if the output would not fit in cap. */
static size_t lz_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    uint32_t table[1 << LZ_HASH_BITS];
    memset(table, 0, sizeof(table));
    size_t ip = 0, op = 0, lit = 0;
    while (ip + 3 <= n) {
        uint32_t h = lz_hash(in + ip);
        size_t cand = table[h];
        table[h] = (uint32_t)(ip + 1);
        if (cand && ip - (cand - 1) <= LZ_WINDOW && !memcmp(in + cand - 1, in + ip, 3)) {
            size_t from = cand - 1, max = n - ip, len = 3;
            if (max > LZ_MAX_MATCH) max = LZ_MAX_MATCH;
            while (len < max && in[from + len] == in[ip + len]) len++;
            if (!lz_literals(in + lit, ip - lit, out, &op, cap)) return 0;
            size_t off = ip - from - 1, code = len - 2;
            if (op + 3 > cap) return 0;
            if (code < 7) {
                out[op++] = (uint8_t)(code << 5 | off >> 8);
            } else {
                out[op++] = (uint8_t)(7 << 5 | off >> 8);
                out[op++] = (uint8_t)(code - 7);
            }
            out[op++] = (uint8_t)(off & 0xff);
            ip += len;
            lit = ip;
            continue;
        }
        ip++;
    }
    if (!lz_literals(in + lit, n - lit, out, &op, cap)) return 0;
    return op;
}

/* Decompressed size (must be exactly expect), 0 on corrupt input. */
static size_t lz_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t expect) {
    size_t ip = 0, op = 0;
    while (ip < n) {
        unsigned c = in[ip++];
        if (c < 32) {
            size_t len = c + 1;
            if (ip + len > n || op + len > expect) return 0;
            memcpy(out + op, in + ip, len);
            ip += len;
            op += len;
            continue;
        }
        size_t len = c >> 5;
        if (len == 7) {
            if (ip >= n) return 0;
            len += in[ip++];
        }
        len += 2;
        if (ip >= n) return 0;
        size_t dist = ((size_t)(c & 31) << 8 | in[ip++]) + 1;
        if (dist > op || op + len > expect) return 0;
        for (size_t i = 0; i < len; i++, op++) out[op] = out[op - dist];
    }
    return op == expect ? op : 0;
}

/* ---- compressed nodes ---- */

#define MIN_COMPRESS_BYTES 48
#define MIN_COMPRESS_GAIN 8

static void node_compress(ql_node *n) {
    if (n->compressed || n->sz < MIN_COMPRESS_BYTES) return;
    uint8_t *buf = zmalloc(4 + n->sz);
    size_t clen = lz_compress(n->lp, n->sz, buf + 4, n->sz - MIN_COMPRESS_GAIN);
    if (!clen) {
        zfree(buf);
        return;
    }
    uint32_t c32 = (uint32_t)clen;
    memcpy(buf, &c32, 4);
    zfree(n->lp);
    n->lp = zrealloc(buf, 4 + clen);
    n->compressed = 1;
}

static size_t blob_size(const ql_node *n) {
    uint32_t clen;
    memcpy(&clen, n->lp, 4);
    return 4 + (size_t)clen;
}

/* Expand into a fresh buffer; NULL if corrupt (never for our own blobs). */
static unsigned char *expand_copy(const ql_node *n) {
    unsigned char *lp = zmalloc(n->sz);
    if (lz_decompress(n->lp + 4, blob_size(n) - 4, lp, n->sz) != n->sz) {
        zfree(lp);
        return NULL;
    }
    return lp;
}

static void node_expand(ql_node *n) {
    if (!n->compressed) return;
    unsigned char *lp = expand_copy(n);
    zfree(n->lp);
    n->lp = lp;
    n->compressed = 0;
}

/* Within depth nodes of either end (kept plain)? */
static int in_plain_zone(const quicklist *ql, const ql_node *n) {
    if (ql->depth <= 0 || ql->len <= 2 * (size_t)ql->depth) return 1;
    const ql_node *a = ql->head, *b = ql->tail;
    for (int i = 0; i < ql->depth; i++, a = a->next, b = b->prev)
        if (a == n || b == n) return 1;
    return 0;
}

static void settle(quicklist *ql, ql_node *n) {
    if (n && !n->compressed && !in_plain_zone(ql, n)) node_compress(n);
}

static void flush_pending(quicklist *ql) {
    ql_node *p = ql->pending;
    ql->pending = NULL;
    settle(ql, p);
}

/* Compress every plain node outside the end zones (after edits in the
 * middle; O(nodes), like the edits themselves). */
static void settle_all(quicklist *ql) {
    ql->pending = NULL;
    if (ql->depth <= 0 || ql->len <= 2 * (size_t)ql->depth) return;
    ql_node *n = ql->head;
    for (int i = 0; i < ql->depth; i++) n = n->next;
    for (size_t i = 2 * (size_t)ql->depth; i < ql->len; i++, n = n->next)
        if (!n->compressed) node_compress(n);
}

/* After a node was added at an end: the node pushed out of that end's
 * zone gets compressed. */
static void compress_boundaries(quicklist *ql) {
    if (ql->depth <= 0 || ql->len <= 2 * (size_t)ql->depth) return;
    ql_node *a = ql->head, *b = ql->tail;
    for (int i = 0; i < ql->depth; i++, a = a->next, b = b->prev) {}
    settle(ql, a);
    settle(ql, b);
}

/* Plain listpack for reading: an expanded interior node becomes the
 * pending one (the previous pending node is compressed again). */
static unsigned char *open_node(quicklist *ql, ql_node *n) {
    if (n->compressed) {
        if (ql->pending != n) flush_pending(ql);
        node_expand(n);
        ql->pending = n;
    }
    return n->lp;
}

/* Plain listpack for editing: the write path settles it afterwards. */
static unsigned char *edit_node(ql_node *n) {
    node_expand(n);
    return n->lp;
}

unsigned char *ql_node_listpack(quicklist *ql, ql_node *n) {
    if (ql->pending == n) ql->pending = NULL;
    return edit_node(n);
}

size_t ql_compressed_nodes(const quicklist *ql) {
    size_t k = 0;
    for (const ql_node *n = ql->head; n; n = n->next) k += n->compressed;
    return k;
}

/* ---- nodes ---- */

static ql_node *node_new(unsigned char *lp) {
    ql_node *n = zcalloc(sizeof(*n));
    n->lp = lp ? lp : lp_new(0);
    n->sz = (uint32_t)lp_bytes(n->lp);
    n->count = (uint32_t)lp_length(n->lp);
    return n;
}

static void node_refresh(ql_node *n) {
    n->sz = (uint32_t)lp_bytes(n->lp);
}

static void link_after(quicklist *ql, ql_node *at, ql_node *n) {
    n->prev = at;
    n->next = at ? at->next : ql->head;
    if (n->next) n->next->prev = n;
    else ql->tail = n;
    if (at) at->next = n;
    else ql->head = n;
    ql->len++;
    ql->count += n->count;
}

static void link_before(quicklist *ql, ql_node *at, ql_node *n) {
    if (at) link_after(ql, at->prev, n);
    else link_after(ql, ql->tail, n);
}

/* Unlink and free a node (its listpack too). */
static void node_remove(quicklist *ql, ql_node *n) {
    if (n->prev) n->prev->next = n->next;
    else ql->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else ql->tail = n->prev;
    ql->len--;
    ql->count -= n->count;
    if (ql->pending == n) ql->pending = NULL;
    if (n->compressed) zfree(n->lp);
    else lp_free(n->lp);
    n->lp = NULL;
    n->compressed = 0;
    if (!n->external) zfree(n);
}

void ql_clear(quicklist *ql) {
    while (ql->head) node_remove(ql, ql->head);
}

void ql_release(quicklist *ql) {
    if (!ql) return;
    ql_clear(ql);
    zfree(ql);
}

quicklist *ql_dup(const quicklist *ql) {
    quicklist *copy = ql_create(ql->fill, ql->depth);
    for (ql_node *n = ql->head; n; n = n->next) {
        size_t bytes = n->compressed ? blob_size(n) : n->sz;
        ql_node *c = zcalloc(sizeof(*c));
        c->lp = zmalloc(bytes);
        memcpy(c->lp, n->lp, bytes);
        c->sz = n->sz;
        c->count = n->count;
        c->compressed = n->compressed;
        link_after(copy, copy->tail, c);
    }
    return copy;
}

static int node_fits(const quicklist *ql, const ql_node *n, size_t esz) {
    return ql_node_fits(ql->fill, n->sz, n->count, esz);
}

/* ---- push / pop ---- */

void ql_push(quicklist *ql, const void *s, size_t len, int where) {
    size_t esz = lp_entry_size_for(s, len);
    ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    flush_pending(ql);
    if (!n || !node_fits(ql, n, esz)) {
        n = node_new(NULL);
        if (where == QL_HEAD) link_after(ql, NULL, n);
        else link_after(ql, ql->tail, n);
        compress_boundaries(ql);
    }
    edit_node(n);
    n->lp = where == QL_HEAD ? lp_prepend(n->lp, s, len) : lp_append(n->lp, s, len);
    node_refresh(n);
    n->count++;
    ql->count++;
}

static void value_from(unsigned char *p, ql_value *v) {
    v->s = lp_get_value(p, v->buf, &v->len);
}

int ql_peek(quicklist *ql, int where, ql_value *v) {
    ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!n) return 0;
    open_node(ql, n);
    value_from(where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp), v);
    return 1;
}

/* Delete entry p of node n; returns the entry that followed it in n (or
 * NULL), and whether the node itself went away in *gone. */
static unsigned char *node_delete_entry(quicklist *ql, ql_node *n, unsigned char *p, int *gone) {
    unsigned char *next = NULL;
    if (n->count == 1) {
        node_remove(ql, n);
        *gone = 1;
        return NULL;
    }
    n->lp = lp_delete(n->lp, p, &next);
    node_refresh(n);
    n->count--;
    ql->count--;
    *gone = 0;
    return next;
}

int ql_pop_discard(quicklist *ql, int where) {
    ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!n) return 0;
    flush_pending(ql);
    edit_node(n);
    int gone;
    node_delete_entry(ql, n, where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp), &gone);
    return 1;
}

/* ---- positions ---- */

/* Node holding index (0 <= index < count) and the offset inside it,
 * walking from the closer end. */
static ql_node *locate(quicklist *ql, size_t index, long *offset) {
    if (index >= ql->count) return NULL;
    if (index < ql->count / 2) {
        ql_node *n = ql->head;
        while (index >= n->count) {
            index -= n->count;
            n = n->next;
        }
        *offset = (long)index;
        return n;
    }
    size_t back = ql->count - 1 - index; /* from the tail */
    ql_node *n = ql->tail;
    while (back >= n->count) {
        back -= n->count;
        n = n->prev;
    }
    *offset = (long)(n->count - 1 - back);
    return n;
}

static int normalize_index(const quicklist *ql, long long index, size_t *out) {
    if (index < 0) {
        if ((unsigned long long)(-(index + 1)) >= ql->count) return 0;
        *out = ql->count + (size_t)index;
    } else {
        if ((unsigned long long)index >= ql->count) return 0;
        *out = (size_t)index;
    }
    return 1;
}

void ql_iter_init(ql_iter *it, quicklist *ql, long long index, int forward) {
    memset(it, 0, sizeof(*it));
    it->ql = ql;
    it->forward = forward;
    size_t i;
    long off;
    if (!normalize_index(ql, index, &i)) return;
    it->node = locate(ql, i, &off);
    it->p = lp_seek(open_node(ql, it->node), off);
}

static void enter_node(ql_iter *it, ql_node *n) {
    it->node = n;
    if (n) open_node(it->ql, n);
    it->p = n ? (it->forward ? lp_first(n->lp) : lp_last(n->lp)) : NULL;
}

int ql_iter_next(ql_iter *it, ql_value *v) {
    if (it->cur) {
        it->p = it->forward ? lp_next(it->node->lp, it->cur) : lp_prev(it->node->lp, it->cur);
        it->cur = NULL;
    }
    while (it->node && !it->p) enter_node(it, it->forward ? it->node->next : it->node->prev);
    if (!it->node) return 0;
    it->cur = it->p;
    if (v) value_from(it->cur, v);
    return 1;
}

void ql_iter_delete(ql_iter *it) {
    ql_node *n = it->node;
    ql_node *after = it->forward ? n->next : n->prev;
    int was_first = it->cur == lp_first(n->lp);
    int gone;
    unsigned char *next = node_delete_entry(it->ql, n, it->cur, &gone);
    it->cur = NULL;
    if (gone) {
        enter_node(it, after);
        return;
    }
    if (it->forward) it->p = next;
    else if (was_first) it->p = NULL;
    else it->p = next ? lp_prev(n->lp, next) : lp_last(n->lp);
}

static ql_node *split_node(quicklist *ql, ql_node *n, long offset);
static ql_node *try_merge(quicklist *ql, ql_node *a, ql_node *b);

static long offset_of(ql_node *n, unsigned char *at) {
    long offset = 0;
    for (unsigned char *p = lp_first(n->lp); p != at; p = lp_next(n->lp, p)) offset++;
    return offset;
}

void ql_iter_replace(ql_iter *it, const void *s, size_t len) {
    ql_node *n = it->node;
    unsigned char *p = it->cur;
    n->lp = lp_replace(n->lp, &p, s, len);
    node_refresh(n);
    it->cur = p;
    if (n->count == 1 || ql_node_fits(it->ql->fill, n->sz, n->count - 1, 0)) return;
    /* The new value broke the node's limit: give it a node of its own
     * and let the neighbours merge back if they can. */
    long offset = offset_of(n, p);
    ql_node *mid = n;
    if (offset + 1 < (long)n->count) split_node(it->ql, n, offset + 1);
    if (offset > 0) mid = split_node(it->ql, n, offset);
    mid = try_merge(it->ql, mid->prev, mid);
    try_merge(it->ql, mid, mid->next);
    settle_all(it->ql);
    /* The node under the iterator may have changed: end the iteration. */
    it->node = NULL;
    it->cur = it->p = NULL;
}

/* ---- insertion in the middle ---- */

/* Split n before entry offset: n keeps [0, offset), a new node after it
 * gets [offset, count). */
static ql_node *split_node(quicklist *ql, ql_node *n, long offset) {
    unsigned char *lp = lp_new(n->sz);
    unsigned long moved = 0;
    for (unsigned char *p = lp_seek(n->lp, offset); p; p = lp_next(n->lp, p)) {
        unsigned char buf[LP_INTBUF_SIZE];
        unsigned int len;
        unsigned char *s = lp_get_value(p, buf, &len);
        lp = lp_append(lp, s, len);
        moved++;
    }
    n->lp = lp_delete_range(n->lp, offset, moved);
    n->count -= (uint32_t)moved;
    node_refresh(n);
    ql->count -= moved;
    ql_node *right = node_new(lp_shrink_to_fit(lp));
    link_after(ql, n, right);
    return right;
}

/* Merge b (the node after a) into a if the result respects the limit.
 * Returns the node that now holds b's entries. */
static ql_node *try_merge(quicklist *ql, ql_node *a, ql_node *b) {
    if (!a || !b || a->next != b || a->external || b->external) return b;
    if (!ql_node_fits(ql->fill, a->sz, a->count, b->sz - LP_EMPTY_SIZE)) return b;
    if (ql->fill > 0 && a->count + b->count > (size_t)ql->fill) return b;
    edit_node(a);
    edit_node(b);
    for (unsigned char *p = lp_first(b->lp); p; p = lp_next(b->lp, p)) {
        unsigned char buf[LP_INTBUF_SIZE];
        unsigned int len;
        unsigned char *s = lp_get_value(p, buf, &len);
        a->lp = lp_append(a->lp, s, len);
    }
    a->count += b->count;
    ql->count += b->count;
    node_refresh(a);
    node_remove(ql, b);
    return a;
}

static void insert_new_node(quicklist *ql, ql_node *at, int after, const void *s, size_t len) {
    ql_node *n = node_new(lp_append(lp_new(0), s, len));
    if (after) link_after(ql, at, n);
    else link_before(ql, at, n);
}

static void iter_insert(ql_iter *it, const void *s, size_t len, int after) {
    quicklist *ql = it->ql;
    ql_node *n = it->node;
    size_t esz = lp_entry_size_for(s, len);
    unsigned char *at = it->cur;
    it->node = NULL; /* the iteration ends here */
    it->cur = it->p = NULL;
    if (node_fits(ql, n, esz)) {
        n->lp = lp_insert_string(n->lp, s, len, at, after ? LP_AFTER : LP_BEFORE, NULL);
        node_refresh(n);
        n->count++;
        ql->count++;
        return;
    }
    int at_last = lp_next(n->lp, at) == NULL, at_first = at == lp_first(n->lp);
    if (after && at_last) {
        if (n->next && node_fits(ql, n->next, esz)) {
            edit_node(n->next);
            n->next->lp = lp_prepend(n->next->lp, s, len);
            node_refresh(n->next);
            n->next->count++;
            ql->count++;
        } else {
            insert_new_node(ql, n, 1, s, len);
        }
        return;
    }
    if (!after && at_first) {
        if (n->prev && node_fits(ql, n->prev, esz)) {
            edit_node(n->prev);
            n->prev->lp = lp_append(n->prev->lp, s, len);
            node_refresh(n->prev);
            n->prev->count++;
            ql->count++;
        } else {
            insert_new_node(ql, n, 0, s, len);
        }
        return;
    }
    /* Offset of the split: entries before it stay in n. */
    long offset = offset_of(n, at) + (after ? 1 : 0);
    ql_node *right = split_node(ql, n, offset);
    if (node_fits(ql, n, esz)) {
        n->lp = lp_append(n->lp, s, len);
        node_refresh(n);
        n->count++;
        ql->count++;
    } else {
        insert_new_node(ql, n, 1, s, len);
    }
    try_merge(ql, right->prev, right);
    try_merge(ql, n->prev, n);
}

void ql_iter_insert(ql_iter *it, const void *s, size_t len, int after) {
    quicklist *ql = it->ql;
    iter_insert(it, s, len, after);
    settle_all(ql);
}

/* ---- index access and ranges ---- */

int ql_index(quicklist *ql, long long index, ql_value *v) {
    ql_iter it;
    ql_iter_init(&it, ql, index, 1);
    return ql_iter_next(&it, v);
}

int ql_replace_at(quicklist *ql, long long index, const void *s, size_t len) {
    ql_iter it;
    ql_iter_init(&it, ql, index, 1);
    if (!ql_iter_next(&it, NULL)) return 0;
    ql_iter_replace(&it, s, len);
    return 1;
}

void ql_del_range(quicklist *ql, size_t start, size_t count) {
    if (start >= ql->count || count == 0) return;
    if (count > ql->count - start) count = ql->count - start;
    long off;
    flush_pending(ql);
    ql_node *n = locate(ql, start, &off);
    while (count && n) {
        ql_node *next = n->next;
        size_t here = n->count - (size_t)off;
        if (here > count) here = count;
        if (off == 0 && here == n->count) {
            node_remove(ql, n);
        } else {
            edit_node(n);
            n->lp = lp_delete_range(n->lp, off, here);
            n->count -= (uint32_t)here;
            ql->count -= here;
            node_refresh(n);
        }
        count -= here;
        off = 0;
        n = next;
    }
    settle_all(ql);
}

/* ---- accounting ---- */

size_t ql_mem_usage(const quicklist *ql, size_t samples) {
    size_t total = zmalloc_size((void *)ql);
    size_t seen = 0, bytes = 0;
    for (const ql_node *n = ql->head; n; n = n->next) {
        bytes += zmalloc_size((void *)n) + zmalloc_size(n->lp);
        seen++;
        if (samples && seen >= samples) break;
    }
    if (seen && seen < ql->len) bytes = (size_t)((double)bytes / seen * ql->len);
    return total + bytes;
}

int ql_check(const quicklist *ql) {
    size_t count = 0, len = 0;
    const ql_node *prev = NULL;
    for (const ql_node *n = ql->head; n; n = n->next) {
        if (n->prev != prev) return 0;
        unsigned char *lp = n->compressed ? expand_copy(n) : n->lp;
        if (!lp) return 0;
        int ok = n->count != 0 && n->count == lp_length(lp) && n->sz == lp_bytes(lp);
        if (n->compressed) zfree(lp);
        if (!ok) return 0;
        if (n->count > 1 && !ql_node_fits(ql->fill, n->sz, n->count - 1, 0)) return 0;
        count += n->count;
        len++;
        prev = n;
    }
    return prev == ql->tail && count == ql->count && len == ql->len;
}
