/*
 * rdb_load.c: reading RDB files, versions 1 to 12 (Redis 2.x to 7.4,
 * Valkey 7.2 to 8.x), from memory: a file is mapped (rdb_file.c), not read
 * into a buffer, so a 1 GB dump costs no 1 GB copy and the kernel drops
 * pages behind the parser. Or from a stream (a replica's diskless load):
 * the same parser, its buffer refilled on demand and compacted between
 * keys.
 *
 * Every read goes through take(), which checks the length against what
 * remains; every count read from the file is checked against the bytes
 * left before anything is allocated for it (an element takes at least one
 * byte), so a hostile file cannot make the loader allocate more than a
 * small multiple of its own size. The first error stops the parse and is
 * reported with its offset.
 *
 * The CRC64 is computed a megabyte at a time just behind the parser, while
 * the bytes are still in cache, and checked at the end.
 *
 * Two consumers: the keyspace loader (rdb_load_file/mem: keys go into the
 * databases; if the keyspace was not empty, keys are staged and swapped in
 * only once the whole file has been read and checked, so a refused file
 * changes nothing) and rdb_parse_* with a visitor (keel-check-rdb).
 */
#include "persist/rdb.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kstr.h"
#include "lib/zmalloc.h"
#include "lib/crc64.h"
#include "lib/util.h"
#include "core/server.h"
#include "persist/lzf.h"
#include "persist/rdb_internal.h"
#include "types/stream.h"
#include "types/stream_group.h"

#define CRC_STEP (1 << 20)
#define LZF_MAX_RATIO 100 /* decompressed size bound: LZF cannot do better than ~90x */

typedef struct rd {
    const unsigned char *p;
    size_t len, pos;
    const char *name;
    char *err;
    size_t errlen;
    int failed;
    int version;
    uint64_t crc;
    size_t crc_pos;
    const rdb_visitor *v;
    rdb_load_stats *st;
    /* Streaming input (rdb_parse_source): p is our buffer, refilled from
     * src; base is the input offset of p[0]. Buffers outgrown within a
     * key stay alive (old) until the next key, since pointers into them
     * may still be held; between keys the unread tail moves to the front. */
    const rdb_source *src;
    unsigned char *buf;
    size_t cap, base;
    unsigned char **old;
    size_t nold;
} rd;

static void fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(rd *r, const char *fmt, ...) {
    if (r->failed) return;
    r->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->err) snprintf(r->err, r->errlen, "%s: %s at offset %zu", r->name ? r->name : "RDB", msg, r->base + r->pos);
}

static void warn(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(rd *r, const char *fmt, ...) {
    if (!r->v || !r->v->on_warning) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->v->on_warning(r->v->priv, msg);
}

static void crc_advance(rd *r, size_t upto) {
    if (upto > r->crc_pos) {
        r->crc = crc64(r->crc, r->p + r->crc_pos, upto - r->crc_pos);
        r->crc_pos = upto;
    }
}

static int refill(rd *r, size_t n);

static const unsigned char *take(rd *r, size_t n) {
    if (r->failed) return NULL;
    if (n > r->len - r->pos && r->src && refill(r, n) < 0) return NULL;
    if (n > r->len - r->pos) {
        fail(r, "unexpected end of file (needed %zu bytes, %zu left)", n, r->len - r->pos);
        return NULL;
    }
    const unsigned char *q = r->p + r->pos;
    r->pos += n;
    if (r->pos - r->crc_pos >= CRC_STEP) crc_advance(r, r->pos);
    return q;
}

/* Bytes left in the input: unknown for a stream without a total (the
 * count checks then bound nothing; the master is trusted, as in Redis). */
static size_t remaining(const rd *r) {
    if (!r->src) return r->len - r->pos;
    if (r->src->total < 0) return SIZE_MAX / 2;
    long long left = r->src->total - (long long)(r->base + r->pos);
    return left > 0 ? (size_t)left : 0;
}

/* Make n bytes available at pos, reading the source (which may block). */
static int refill(rd *r, size_t n) {
    if (r->pos + n > r->cap) {
        size_t cap = r->cap ? r->cap : 1 << 20;
        while (cap < r->pos + n + (64 << 10)) cap *= 2;
        unsigned char *nb = zmalloc(cap);
        if (r->len) memcpy(nb, r->buf, r->len);
        if (r->buf) {
            r->old = zrealloc(r->old, sizeof(*r->old) * (r->nold + 1));
            r->old[r->nold++] = r->buf;
        }
        r->buf = nb;
        r->cap = cap;
        r->p = nb;
    }
    while (r->len - r->pos < n) {
        size_t want = r->cap - r->len;
        if (r->src->total >= 0) {
            long long left = r->src->total - (long long)(r->base + r->len);
            if (left <= 0) return 0; /* take() reports the short input */
            if ((long long)want > left) want = (size_t)left;
        }
        ssize_t got = r->src->read(r->src->ctx, r->buf + r->len, want);
        if (got < 0) {
            fail(r, "%s", "read error from the source");
            return -1;
        }
        if (got == 0) return 0;
        r->len += (size_t)got;
    }
    return 0;
}

/* Between keys: nothing points into the buffer, so the consumed part can
 * go and outgrown buffers be freed. */
static void compact(rd *r) {
    if (!r->src) return;
    for (size_t i = 0; i < r->nold; i++) zfree(r->old[i]);
    r->nold = 0;
    if (r->pos < (256 << 10)) return;
    crc_advance(r, r->pos);
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->base += r->pos;
    r->len -= r->pos;
    r->crc_pos -= r->pos;
    r->pos = 0;
}

static int get_u8(rd *r, int *b) {
    const unsigned char *q = take(r, 1);
    if (!q) return -1;
    *b = q[0];
    return 0;
}

static uint64_t le(const unsigned char *q, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | q[i];
    return v;
}

/* A length, or (*enc set) a special string encoding in the low 6 bits. */
static int get_len_enc(rd *r, uint64_t *len, int *enc) {
    int b;
    if (enc) *enc = 0;
    if (get_u8(r, &b) < 0) return -1;
    switch (b >> 6) {
    case 0: *len = (uint64_t)(b & 0x3F); return 0;
    case 1: {
        int b2;
        if (get_u8(r, &b2) < 0) return -1;
        *len = ((uint64_t)(b & 0x3F) << 8) | (uint64_t)b2;
        return 0;
    }
    case 2: {
        const unsigned char *q;
        if (b == 0x80) {
            if (!(q = take(r, 4))) return -1;
            *len = (uint64_t)q[0] << 24 | (uint64_t)q[1] << 16 | (uint64_t)q[2] << 8 | q[3];
            return 0;
        }
        if (b == 0x81) {
            if (!(q = take(r, 8))) return -1;
            uint64_t v = 0;
            for (int i = 0; i < 8; i++) v = (v << 8) | q[i];
            *len = v;
            return 0;
        }
        fail(r, "unknown length encoding 0x%02x", b);
        return -1;
    }
    default:
        if (!enc) {
            fail(r, "string encoding 0x%02x where a length was expected", b);
            return -1;
        }
        *enc = 1;
        *len = (uint64_t)(b & 0x3F);
        return 0;
    }
}

static int get_len(rd *r, uint64_t *len) { return get_len_enc(r, len, NULL); }

/* A count of elements each taking at least per bytes. */
static int get_count(rd *r, uint64_t *n, size_t per, const char *what) {
    if (get_len(r, n) < 0) return -1;
    if (*n > remaining(r) / per) {
        fail(r, "%s count %llu larger than the rest of the input", what, (unsigned long long)*n);
        return -1;
    }
    return 0;
}

/* A string: points into the input, into num, or into owned (LZF: a kstr,
 * which a string value takes over without a copy). */
typedef struct rstr {
    const char *s;
    size_t len;
    char *owned;
    char num[32];
} rstr;

static void rstr_free(rstr *x) {
    kstr_free(x->owned);
    x->owned = NULL;
}

static int get_string(rd *r, rstr *out) {
    uint64_t len;
    int enc;
    out->owned = NULL;
    if (get_len_enc(r, &len, &enc) < 0) return -1;
    if (!enc) {
        const unsigned char *q = take(r, len > SIZE_MAX ? SIZE_MAX : (size_t)len);
        if (!q) return -1;
        out->s = (const char *)q;
        out->len = (size_t)len;
        return 0;
    }
    const unsigned char *q;
    long long v;
    switch (len) {
    case 0: if (!(q = take(r, 1))) return -1; v = (int8_t)q[0]; break;
    case 1: if (!(q = take(r, 2))) return -1; v = (int16_t)le(q, 2); break;
    case 2: if (!(q = take(r, 4))) return -1; v = (int32_t)le(q, 4); break;
    case 3: {
        uint64_t clen, ulen;
        if (get_len(r, &clen) < 0 || get_len(r, &ulen) < 0) return -1;
        if (clen > remaining(r)) {
            fail(r, "LZF string of %llu bytes past the end of the input", (unsigned long long)clen);
            return -1;
        }
        if (ulen == 0 || ulen / LZF_MAX_RATIO > clen + 1) {
            fail(r, "bad LZF lengths (compressed %llu, uncompressed %llu)", (unsigned long long)clen,
                 (unsigned long long)ulen);
            return -1;
        }
        q = take(r, (size_t)clen);
        out->owned = kstr_empty_cap((size_t)ulen);
        if (lzf_decompress(q, (size_t)clen, out->owned, (size_t)ulen) != ulen) {
            rstr_free(out);
            fail(r, "invalid LZF compressed string");
            return -1;
        }
        kstr_set_len(out->owned, (size_t)ulen);
        out->s = out->owned;
        out->len = (size_t)ulen;
        return 0;
    }
    default: fail(r, "unknown string encoding %llu", (unsigned long long)len); return -1;
    }
    out->len = (size_t)snprintf(out->num, sizeof(out->num), "%lld", v);
    out->s = out->num;
    return 0;
}

/* Old zset scores (type 3): a length byte, then text; 253 NaN, 254 +inf,
 * 255 -inf. */
static int get_text_double(rd *r, double *d) {
    int n;
    if (get_u8(r, &n) < 0) return -1;
    if (n == 253) { *d = NAN; return 0; }
    if (n == 254) { *d = INFINITY; return 0; }
    if (n == 255) { *d = -INFINITY; return 0; }
    const unsigned char *q = take(r, (size_t)n);
    if (!q) return -1;
    char buf[256];
    memcpy(buf, q, (size_t)n);
    buf[n] = '\0';
    char *end;
    *d = strtod(buf, &end);
    if (end != buf + n) {
        fail(r, "bad score text");
        return -1;
    }
    return 0;
}

static int get_binary_double(rd *r, double *d) {
    const unsigned char *q = take(r, 8);
    if (!q) return -1;
    uint64_t bits = le(q, 8);
    memcpy(d, &bits, sizeof(*d));
    return 0;
}

/* A millisecond time: 8 bytes, little endian. */
static int get_ms_time(rd *r, long long *v) {
    const unsigned char *q = take(r, 8);
    if (!q) return -1;
    *v = (long long)le(q, 8);
    return 0;
}

/* ---- values ---- */

static const char *type_name(int t) {
    switch (t) {
    case RDB_TYPE_MODULE: case RDB_TYPE_MODULE_2: return "module";
    case RDB_TYPE_STREAM_LISTPACKS: return "stream (listpacks v1)";
    case RDB_TYPE_STREAM_LISTPACKS_2: return "stream (listpacks v2)";
    case RDB_TYPE_STREAM_LISTPACKS_3: return "stream (listpacks v3)";
    default: return NULL;
    }
}

static int keel_type_of(int t) {
    switch (t) {
    case RDB_TYPE_STRING: return TYPE_STRING;
    case RDB_TYPE_LIST: case RDB_TYPE_LIST_ZIPLIST: case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: return TYPE_LIST;
    case RDB_TYPE_SET: case RDB_TYPE_SET_INTSET: case RDB_TYPE_SET_LISTPACK: return TYPE_SET;
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: return TYPE_ZSET;
    case RDB_TYPE_HASH: case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_HASH_LISTPACK: return TYPE_HASH;
    case RDB_TYPE_HASH_METADATA_PRE_GA: case RDB_TYPE_HASH_METADATA:
    case RDB_TYPE_HASH_LISTPACK_EX_PRE_GA: case RDB_TYPE_HASH_LISTPACK_EX: return TYPE_HASH;
    default: return -1;
    }
}

int rdb_is_value_type(int t) { return keel_type_of(t) >= 0 || type_name(t) != NULL; }

/* Plain aggregates: a count, then strings (zsets: member + score). */
static int load_plain(rd *r, int t, rdb_builder *b) {
    uint64_t n;
    int pairs = t == RDB_TYPE_HASH;
    if (get_count(r, &n, pairs ? 2 : 1, "element") < 0) return -1;
    b->hint = (size_t)n;
    for (uint64_t i = 0; i < n; i++) {
        rstr a;
        if (get_string(r, &a) < 0) return -1;
        int rc;
        if (t == RDB_TYPE_ZSET || t == RDB_TYPE_ZSET_2) {
            double d;
            int ok = t == RDB_TYPE_ZSET ? get_text_double(r, &d) : get_binary_double(r, &d);
            rc = ok < 0 ? -1 : rdb_build_add_scored(b, a.s, a.len, d);
        } else if (pairs) {
            rstr v;
            rc = rdb_build_add(b, a.s, a.len);
            if (rc == 0) {
                if (get_string(r, &v) < 0) {
                    rstr_free(&a);
                    return -1;
                }
                rc = rdb_build_add(b, v.s, v.len);
                rstr_free(&v);
            }
        } else {
            rc = rdb_build_add(b, a.s, a.len);
        }
        rstr_free(&a);
        if (rc < 0) {
            if (b->why) fail(r, "%s", b->why);
            return -1;
        }
    }
    return 0;
}

typedef int walk_fn(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why);

/* label names the packed value as Redis's messages do ("Zset ziplist",
 * "Hash listpack"...), so that a refusal reads "<label> integrity check
 * failed" as Redis's log says (tools and Redis's tests grep for it),
 * followed by Keel's own reason. */
static int load_blob(rd *r, walk_fn *walk, rdb_builder *b, const char *label) {
    rstr blob;
    if (get_string(r, &blob) < 0) return -1;
    const char *why = NULL;
    int rc = walk((const unsigned char *)blob.s, blob.len, rdb_build_add, b, &why);
    rstr_free(&blob);
    if (rc < 0) fail(r, "%s integrity check failed (%s)", label, why ? why : b->why ? b->why : "bad packed value");
    return rc;
}

/* ---- hashes with field TTLs (Redis 7.4: types 22 to 25) ----
 * 24: the hash's earliest field expiry (8 bytes), a count, then per field
 * a length-encoded TTL (0: none, else expiry - earliest + 1), the field and
 * the value. 22 (7.4 release candidates): no earliest expiry, absolute
 * TTLs. 25: the earliest expiry, then a listpack of field, value, expiry
 * (0: none) triples; 23: the same without the earliest expiry. Keel keeps
 * the fields with their TTLs and drops those already due. */

#define HASH_FIELD_EXPIRE_MAX 0xFFFFFFFFFFFFLL /* 48 bits, as Redis 7.4 */

static int hash_field_expire_ok(rd *r, long long when) {
    if (when < 0 || when > HASH_FIELD_EXPIRE_MAX) {
        fail(r, "invalid hash field expiry %lld", when);
        return 0;
    }
    return 1;
}

static int get_earliest_expire(rd *r, long long *earliest) {
    if (get_ms_time(r, earliest) < 0) return -1;
    if (*earliest < 0 || *earliest > HASH_FIELD_EXPIRE_MAX + 1) { /* max + 1: "none" */
        fail(r, "invalid earliest hash field expiry %lld", *earliest);
        return -1;
    }
    return 0;
}

static int load_hash_fields_ttl(rd *r, int t, rdb_builder *b) {
    long long earliest = 0;
    if (t == RDB_TYPE_HASH_METADATA && get_earliest_expire(r, &earliest) < 0) return -1;
    uint64_t n;
    if (get_count(r, &n, 3, "hash field") < 0) return -1;
    b->hint = (size_t)n * 2;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ttl;
        if (get_len(r, &ttl) < 0) return -1;
        if (ttl > (uint64_t)HASH_FIELD_EXPIRE_MAX + 1) {
            fail(r, "invalid hash field TTL %llu", (unsigned long long)ttl);
            return -1;
        }
        long long when = (long long)ttl;
        if (t == RDB_TYPE_HASH_METADATA && ttl) when = (long long)ttl + earliest - 1;
        if (!hash_field_expire_ok(r, when)) return -1;
        rstr f, v;
        if (get_string(r, &f) < 0) return -1;
        if (get_string(r, &v) < 0) {
            rstr_free(&f);
            return -1;
        }
        int rc = rdb_build_add_field_ttl(b, f.s, f.len, v.s, v.len, when);
        rstr_free(&f);
        rstr_free(&v);
        if (rc < 0) {
            fail(r, "%s", b->why ? b->why : "bad hash field");
            return -1;
        }
    }
    return 0;
}

/* Listpack elements come one at a time: field and value are kept until
 * their expiry arrives. */
typedef struct triples {
    rdb_builder *b;
    kstr f, v;
    int have; /* elements of the current triple seen */
} triples;

static int add_triple_element(void *priv, const char *s, size_t len) {
    triples *t = priv;
    if (t->have < 2) {
        if (t->have++ == 0) t->f = kstr_new_len(s, len);
        else t->v = kstr_new_len(s, len);
        return 0;
    }
    t->have = 0;
    long long when;
    int rc = -1;
    if (!string_to_ll(s, len, &when) || when < 0 || when > HASH_FIELD_EXPIRE_MAX)
        t->b->why = "invalid hash field expiry in listpack";
    else
        rc = rdb_build_add_field_ttl(t->b, t->f, kstr_len(t->f), t->v, kstr_len(t->v), when);
    kstr_free(t->f);
    kstr_free(t->v);
    t->f = t->v = NULL;
    return rc;
}

static int load_hash_listpack_ttl(rd *r, int t, rdb_builder *b) {
    long long earliest;
    if (t == RDB_TYPE_HASH_LISTPACK_EX && get_earliest_expire(r, &earliest) < 0) return -1;
    rstr blob;
    if (get_string(r, &blob) < 0) return -1;
    triples tr = {.b = b};
    const char *why = NULL;
    int rc = rdb_walk_listpack((const unsigned char *)blob.s, blob.len, add_triple_element, &tr, &why);
    rstr_free(&blob);
    if (rc == 0 && tr.have) {
        rc = -1;
        why = "hash listpack with field TTLs is not made of field, value, expiry triples";
    }
    kstr_free(tr.f);
    kstr_free(tr.v);
    if (rc < 0) fail(r, "%s", why ? why : b->why ? b->why : "bad packed value");
    return rc;
}

static const char *blob_label(int t) {
    switch (t) {
    case RDB_TYPE_HASH_ZIPMAP: return "Zipmap";
    case RDB_TYPE_LIST_ZIPLIST: return "List ziplist";
    case RDB_TYPE_SET_INTSET: return "Intset";
    case RDB_TYPE_ZSET_ZIPLIST: return "Zset ziplist";
    case RDB_TYPE_HASH_ZIPLIST: return "Hash ziplist";
    case RDB_TYPE_ZSET_LISTPACK: return "Zset listpack";
    case RDB_TYPE_HASH_LISTPACK: return "Hash listpack";
    case RDB_TYPE_SET_LISTPACK: return "Set listpack";
    default: return "Packed value";
    }
}

/* Quicklists: v1 nodes are ziplists; v2 nodes have a container byte,
 * 1 = plain (one element), 2 = packed (a listpack). */
static int load_quicklist(rd *r, int v2, rdb_builder *b) {
    uint64_t nodes;
    if (get_count(r, &nodes, 1, "quicklist node") < 0) return -1;
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = 2;
        if (v2 && get_len(r, &container) < 0) return -1;
        if (container == 1) {
            rstr s;
            if (get_string(r, &s) < 0) return -1;
            int rc = rdb_build_add(b, s.s, s.len);
            rstr_free(&s);
            if (rc < 0) return -1;
        } else if (container == 2) {
            if (load_blob(r, v2 ? rdb_walk_listpack : rdb_walk_ziplist, b, v2 ? "Listpack" : "Ziplist") < 0) return -1;
        } else {
            fail(r, "unknown quicklist container %llu", (unsigned long long)container);
            return -1;
        }
    }
    return 0;
}

/* Load a value of RDB type t for key. Returns the entry; NULL with
 * *skipped set for an empty aggregate (Redis skips those), NULL with the
 * reader failed otherwise. */
/* ---- streams (types 15, 19, 21) ---- */

static int get_raw_id(rd *r, stream_id *id) {
    const unsigned char *q = take(r, 16);
    if (!q) return -1;
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = id->ms << 8 | q[i];
        id->seq = id->seq << 8 | q[8 + i];
    }
    return 0;
}

static int get_id_lens(rd *r, stream_id *id) { return get_len(r, &id->ms) < 0 || get_len(r, &id->seq) < 0 ? -1 : 0; }

static int load_stream_nodes(rd *r, stream *s) {
    uint64_t nnodes, live_total = 0;
    if (get_count(r, &nnodes, 2, "stream node") < 0) return -1;
    for (uint64_t i = 0; i < nnodes; i++) {
        rstr k, lp;
        if (get_string(r, &k) < 0) return -1;
        if (k.len != 16) {
            rstr_free(&k);
            fail(r, "stream node key of %zu bytes (16 expected)", k.len);
            return -1;
        }
        stream_id master = {0, 0};
        for (int b = 0; b < 8; b++) {
            master.ms = master.ms << 8 | (unsigned char)k.s[b];
            master.seq = master.seq << 8 | (unsigned char)k.s[8 + b];
        }
        rstr_free(&k);
        if (get_string(r, &lp) < 0) return -1;
        uint64_t live;
        const char *why;
        int rc = stream_load_node(s, master, (const unsigned char *)lp.s, lp.len, &live, &why);
        rstr_free(&lp);
        if (rc < 0) {
            fail(r, "Stream listpack integrity check failed (%s)", why);
            return -1;
        }
        live_total += live;
    }
    uint64_t length;
    if (get_len(r, &length) < 0) return -1;
    if (length != live_total) {
        fail(r, "stream length %llu, its nodes hold %llu entries", (unsigned long long)length,
             (unsigned long long)live_total);
        return -1;
    }
    s->length = length;
    return 0;
}

static int load_stream_consumers(rd *r, int t, stream_cg *g) {
    uint64_t ncons;
    if (get_count(r, &ncons, 10, "consumer") < 0) return -1;
    for (uint64_t k = 0; k < ncons; k++) {
        rstr name;
        long long seen, active;
        uint64_t npel;
        if (get_string(r, &name) < 0) return -1;
        int created;
        stream_consumer *c = stream_consumer_get(g, name.s, name.len, &created);
        rstr_free(&name);
        if (!created) { fail(r, "Duplicate stream consumer detected"); return -1; }
        if (get_ms_time(r, &seen) < 0 || (t == RDB_TYPE_STREAM_LISTPACKS_3 && get_ms_time(r, &active) < 0) ||
            get_count(r, &npel, 16, "consumer pending entry") < 0)
            return -1;
        c->seen_time = seen;
        for (uint64_t i = 0; i < npel; i++) {
            stream_id id;
            if (get_raw_id(r, &id) < 0) return -1;
            stream_nack *n = stream_pel_find(&g->pel, id);
            if (!n || n->consumer) {
                fail(r, "consumer pending entry missing from its group or owned twice");
                return -1;
            }
            stream_nack_assign(n, c);
        }
    }
    for (size_t i = 0; i < g->pel.n; i++)
        if (!g->pel.v[i]->consumer) {
            fail(r, "stream pending entry with no consumer");
            return -1;
        }
    return 0;
}

static int load_stream_groups(rd *r, int t, stream *s) {
    uint64_t ngroups;
    if (get_count(r, &ngroups, 4, "consumer group") < 0) return -1;
    for (uint64_t k = 0; k < ngroups; k++) {
        rstr name;
        stream_id last;
        uint64_t read = (uint64_t)STREAM_ENTRIES_READ_INVALID, npel;
        if (get_string(r, &name) < 0) return -1;
        stream_cg *g = NULL;
        if (get_id_lens(r, &last) == 0 && (t == RDB_TYPE_STREAM_LISTPACKS || get_len(r, &read) == 0)) {
            /* Files before RDB 10 have no read counter: derive it as
             * Redis 7 does (known when no deleted entry lies ahead). */
            if (t == RDB_TYPE_STREAM_LISTPACKS) read = (uint64_t)stream_estimate_entries_read(s, last);
            g = stream_group_create(s, name.s, name.len, last, (long long)read);
        }
        int failed_before = r->failed;
        rstr_free(&name);
        if (!g) {
            if (!failed_before) fail(r, "duplicate stream consumer group");
            return -1;
        }
        if (get_count(r, &npel, 17, "pending entry") < 0) return -1;
        for (uint64_t i = 0; i < npel; i++) {
            stream_id id;
            long long when;
            uint64_t count;
            if (get_raw_id(r, &id) < 0 || get_ms_time(r, &when) < 0 || get_len(r, &count) < 0) return -1;
            if (!stream_nack_add_unowned(g, id, when, (long long)count)) {
                fail(r, "duplicate stream pending entry");
                return -1;
            }
        }
        if (load_stream_consumers(r, t, g) < 0) return -1;
    }
    return 0;
}

static entry *load_stream(rd *r, int t, const char *key, size_t klen) {
    stream *s = stream_new();
    if (load_stream_nodes(r, s) < 0 || get_id_lens(r, &s->last_id) < 0) goto bad;
    if (t == RDB_TYPE_STREAM_LISTPACKS) {
        /* Version 1 has no counters: what Redis 7 derives for old files. */
        stream_first_id_rebuild(s);
        s->entries_added = s->length;
    } else if (get_id_lens(r, &s->first_id) < 0 || get_id_lens(r, &s->max_deleted_id) < 0 ||
               get_len(r, &s->entries_added) < 0) {
        goto bad;
    }
    stream_id top;
    if (stream_last_live_id(s, &top) && stream_id_cmp(top, s->last_id) > 0) {
        fail(r, "stream entry IDs beyond the stream's last ID");
        goto bad;
    }
    if (load_stream_groups(r, t, s) < 0) goto bad;
    return entry_new_ptr(key, klen, TYPE_STREAM, ENC_SKIPLIST, s, -1);
bad:
    stream_free(s);
    return NULL;
}

static entry *load_value(rd *r, int t, const char *key, size_t klen, int *skipped) {
    *skipped = 0;
    if (t == RDB_TYPE_STREAM_LISTPACKS || t == RDB_TYPE_STREAM_LISTPACKS_2 || t == RDB_TYPE_STREAM_LISTPACKS_3)
        return load_stream(r, t, key, klen);
    if (t == RDB_TYPE_STRING) {
        rstr s;
        if (get_string(r, &s) < 0) return NULL;
        if (s.owned) return entry_new_string_kstr(key, klen, s.owned, -1); /* takes it */
        return entry_new_string(key, klen, s.s, s.len, -1);
    }
    int kt = keel_type_of(t);
    if (kt < 0) {
        const char *name = type_name(t);
        if (name) fail(r, "key type %d (%s) is not supported by Keel yet", t, name);
        else fail(r, "unknown RDB value type %d", t);
        return NULL;
    }
    rdb_builder b;
    rdb_build_init(&b, kt, key, klen, 0);
    b.now = server_mstime();
    int rc;
    switch (t) {
    case RDB_TYPE_HASH_METADATA_PRE_GA: case RDB_TYPE_HASH_METADATA: rc = load_hash_fields_ttl(r, t, &b); break;
    case RDB_TYPE_HASH_LISTPACK_EX_PRE_GA: case RDB_TYPE_HASH_LISTPACK_EX: rc = load_hash_listpack_ttl(r, t, &b); break;
    case RDB_TYPE_LIST: case RDB_TYPE_SET: case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: case RDB_TYPE_HASH:
        rc = load_plain(r, t, &b);
        break;
    case RDB_TYPE_LIST_QUICKLIST: rc = load_quicklist(r, 0, &b); break;
    case RDB_TYPE_LIST_QUICKLIST_2: rc = load_quicklist(r, 1, &b); break;
    case RDB_TYPE_SET_INTSET: rc = load_blob(r, rdb_walk_intset, &b, blob_label(t)); break;
    case RDB_TYPE_HASH_ZIPMAP: rc = load_blob(r, rdb_walk_zipmap, &b, blob_label(t)); break;
    case RDB_TYPE_LIST_ZIPLIST: case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_HASH_ZIPLIST:
        rc = load_blob(r, rdb_walk_ziplist, &b, blob_label(t));
        break;
    default: rc = load_blob(r, rdb_walk_listpack, &b, blob_label(t)); break; /* 16, 17, 20 */
    }
    if (rc < 0) {
        if (!r->failed) fail(r, "%s", b.why ? b.why : "bad value");
        rdb_build_discard(&b);
        return NULL;
    }
    int empty;
    entry *e = rdb_build_finish(&b, &empty);
    if (!e && empty) *skipped = b.expired ? 2 : 1;
    else if (!e) fail(r, "%s", b.why ? b.why : "bad value");
    return e;
}

/* ---- opcodes that carry no key ---- */

/* Module aux data: module id, when-opcode, when, then typed values until
 * the module EOF (0). Skipped: Keel has no modules. */
static int skip_module_value(rd *r) {
    for (;;) {
        uint64_t op, n;
        if (get_len(r, &op) < 0) return -1;
        switch (op) {
        case 0: return 0;
        case 1: case 2: if (get_len(r, &n) < 0) return -1; break;
        case 3: if (!take(r, 4)) return -1; break;
        case 4: if (!take(r, 8)) return -1; break;
        case 5: {
            rstr s;
            if (get_string(r, &s) < 0) return -1;
            rstr_free(&s);
            break;
        }
        default: fail(r, "unknown module opcode %llu", (unsigned long long)op); return -1;
        }
    }
}

static int skip_module_aux(rd *r) {
    uint64_t id, when_op, when;
    if (get_len(r, &id) < 0 || get_len(r, &when_op) < 0 || get_len(r, &when) < 0) return -1;
    if (when_op != 2) {
        fail(r, "bad module aux when-opcode %llu", (unsigned long long)when_op);
        return -1;
    }
    warn(r, "skipping module auxiliary data (module id %llu): Keel has no modules", (unsigned long long)id);
    return skip_module_value(r);
}

static int read_aux(rd *r) {
    rstr k, v;
    if (get_string(r, &k) < 0) return -1;
    if (get_string(r, &v) < 0) {
        rstr_free(&k);
        return -1;
    }
    if (r->v && r->v->on_aux) r->v->on_aux(r->v->priv, k.s, k.len, v.s, v.len);
    rstr_free(&k);
    rstr_free(&v);
    return 0;
}

static int check_header(rd *r) {
    const unsigned char *q = take(r, 9);
    if (!q) return -1;
    if (memcmp(q, "VALKEY", 6) == 0) {
        r->pos = 0;
        fail(r, "Can't handle RDB format: '%.9s' (Valkey 9's format) is newer than Keel reads (RDB 1 to %d)", q,
             RDB_MAX_VERSION);
        return -1;
    }
    if (memcmp(q, "REDIS", 5) != 0) {
        r->pos = 0;
        fail(r, "Wrong signature trying to load DB from file");
        return -1;
    }
    int ver = 0;
    for (int i = 5; i < 9; i++) {
        if (q[i] < '0' || q[i] > '9') {
            fail(r, "bad RDB version digits");
            return -1;
        }
        ver = ver * 10 + (q[i] - '0');
    }
    if (ver < 1 || ver > RDB_MAX_VERSION) {
        fail(r, "Can't handle RDB format version %d", ver);
        return -1;
    }
    r->version = ver;
    if (r->st) r->st->version = ver;
    return 0;
}

static int check_footer(rd *r) {
    if (r->version < 5) return 0;
    size_t body_end = r->pos;
    const unsigned char *q = take(r, 8);
    if (!q) return -1;
    uint64_t expected = le(q, 8);
    crc_advance(r, body_end);
    if (expected == 0) {
        warn(r, "RDB file was saved with checksum disabled: no check performed.");
        return 0;
    }
    if (rdb_skip_checksum) return 0;
    if (expected != r->crc) {
        r->pos = body_end;
        fail(r, "RDB CRC error: wrong RDB checksum expected: (%llx) got: (%llx)", (unsigned long long)expected,
             (unsigned long long)r->crc);
        return -1;
    }
    return 0;
}

/* The main loop: opcodes and keys until EOF. */
static int parse(rd *r) {
    if (check_header(r) < 0) return -1;
    rdb_key_info ki = {.dbid = 0, .expire_ms = -1, .idle_s = -1, .freq = -1};
    for (;;) {
        int t;
        compact(r);
        size_t at = r->pos;
        if (get_u8(r, &t) < 0) return -1;
        uint64_t a, b;
        const unsigned char *q;
        switch (t) {
        case RDB_OPCODE_EXPIRETIME_MS:
            if (!(q = take(r, 8))) return -1;
            ki.expire_ms = (long long)le(q, 8);
            continue;
        case RDB_OPCODE_EXPIRETIME:
            if (!(q = take(r, 4))) return -1;
            ki.expire_ms = (long long)(int32_t)le(q, 4) * 1000;
            continue;
        case RDB_OPCODE_IDLE:
            if (get_len(r, &a) < 0) return -1;
            ki.idle_s = (long long)(a > (uint64_t)LLONG_MAX ? LLONG_MAX : a);
            continue;
        case RDB_OPCODE_FREQ:
            if (get_u8(r, &ki.freq) < 0) return -1;
            continue;
        case RDB_OPCODE_SELECTDB:
            if (get_len(r, &a) < 0) return -1;
            if (a > INT32_MAX) {
                fail(r, "bad database number %llu", (unsigned long long)a);
                return -1;
            }
            ki.dbid = (int)a;
            if (r->v && r->v->on_db) r->v->on_db(r->v->priv, ki.dbid, 0, 0);
            continue;
        case RDB_OPCODE_RESIZEDB:
            if (get_len(r, &a) < 0 || get_len(r, &b) < 0) return -1;
            continue;
        case RDB_OPCODE_AUX:
            if (read_aux(r) < 0) return -1;
            continue;
        case RDB_OPCODE_MODULE_AUX:
            if (skip_module_aux(r) < 0) return -1;
            continue;
        case RDB_OPCODE_FUNCTION2: {
            rstr code;
            if (get_string(r, &code) < 0) return -1;
            int rc = r->v->on_function ? r->v->on_function(r->v->priv, code.s, code.len) : 0;
            rstr_free(&code);
            if (rc < 0) {
                r->pos = at;
                fail(r, "%s", r->v->key_error && r->v->key_error[0] ? r->v->key_error : "function library refused");
                return -1;
            }
            continue;
        }
        case RDB_OPCODE_FUNCTION_PRE_GA:
            r->pos = at;
            fail(r, "pre-release function format (Redis 7.0 release candidate) is not supported");
            return -1;
        case RDB_OPCODE_EOF:
            return check_footer(r);
        default: break;
        }
        /* A key. */
        if (!rdb_is_value_type(t)) {
            r->pos = at;
            fail(r, "unknown RDB value type %d", t);
            return -1;
        }
        rstr key;
        if (get_string(r, &key) < 0) return -1;
        int skipped;
        entry *e = load_value(r, t, key.s, key.len, &skipped);
        ki.file_type = t;
        ki.file_bytes = (unsigned long long)(r->pos - at);
        if (!e && !skipped) {
            rstr_free(&key);
            return -1;
        }
        if (skipped == 2) {
            if (r->st) r->st->keys_expired++; /* a hash all of whose fields had expired */
        } else if (skipped) {
            if (r->st) r->st->empty_keys_skipped++;
            warn(r, "skipping empty key: %.*s", (int)(key.len > 64 ? 64 : key.len), key.s);
        } else {
            if (r->st) r->st->keys_per_type[entry_type(e)]++;
            ki.offset = r->base + r->pos;
            if (r->v->on_key(r->v->priv, &ki, e) < 0) {
                rstr_free(&key);
                if (!r->failed) {
                    r->pos = at;
                    fail(r, "%s", r->v->key_error && r->v->key_error[0] ? r->v->key_error : "key refused");
                }
                return -1;
            }
        }
        rstr_free(&key);
        ki.expire_ms = -1;
        ki.idle_s = -1;
        ki.freq = -1;
    }
}

/* A parser over nothing yet: the caller points it at memory or a source. */
static rd reader(const char *name, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    return (rd){.name = name, .err = err, .errlen = errlen, .v = v, .st = st};
}

int rdb_parse_source(const char *name, const rdb_source *src, const rdb_visitor *v, rdb_load_stats *st, char *err,
                     size_t errlen) {
    rd r = reader(name, v, st, err, errlen);
    r.src = src;
    int rc = parse(&r);
    if (st) st->bytes = (long long)(r.base + r.pos);
    /* What was read past the RDB's end belongs to the caller. */
    if (rc == 0 && r.len > r.pos && src->unread) src->unread(src->ctx, r.buf + r.pos, r.len - r.pos);
    for (size_t i = 0; i < r.nold; i++) zfree(r.old[i]);
    zfree(r.old);
    zfree(r.buf);
    return rc;
}

int rdb_parse_mem(const unsigned char *buf, size_t len, const rdb_visitor *v, rdb_load_stats *st, char *err,
                  size_t errlen) {
    return rdb_parse_named("RDB", buf, len, v, st, err, errlen);
}

int rdb_parse_named(const char *name, const unsigned char *buf, size_t len, const rdb_visitor *v,
                    rdb_load_stats *st, char *err, size_t errlen) {
    rd r = reader(name, v, st, err, errlen);
    r.p = buf;
    r.len = len;
    int rc = parse(&r);
    if (st) st->bytes = (long long)r.pos;
    return rc;
}

/* ---- DUMP payloads ---- */

int rdb_verify_payload(const unsigned char *p, size_t len) {
    if (len < 10) return -1;
    const unsigned char *footer = p + len - 10;
    int ver = footer[0] | footer[1] << 8;
    if (ver > RDB_MAX_VERSION) return -1;
    if (rdb_skip_checksum) return 0;
    uint64_t crc = le(footer + 2, 8);
    return crc64(0, p, len - 8) == crc ? 0 : -1;
}

entry *rdb_decode_payload(const unsigned char *p, size_t len, const char *key, size_t klen, int deep,
                          char *err, size_t errlen) {
    (void)deep; /* packed values are always checked fully, see rdb_blob.c */
    if (err && errlen) snprintf(err, errlen, "DUMP payload: bad data");
    if (len < 11) return NULL;
    rd r = {0};
    r.name = "DUMP payload";
    r.err = err;
    r.errlen = errlen;
    r.p = p;
    r.len = len - 10;
    r.version = p[len - 10];
    r.crc_pos = SIZE_MAX / 2; /* no CRC: the payload's was checked */
    int t;
    if (get_u8(&r, &t) < 0) return NULL;
    int skipped;
    entry *e = load_value(&r, t, key, klen, &skipped);
    if (e && r.pos != r.len) {
        entry_free(e);
        fail(&r, "%zu bytes after the value", r.len - r.pos);
        return NULL;
    }
    return e;
}
