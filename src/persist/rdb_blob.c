/*
 * rdb_blob.c: the packed encodings an RDB file may hold (listpack,
 * ziplist, zipmap, intset), walked element by element with every length
 * checked against the blob, and the builders that turn elements into
 * Keel values.
 *
 * Why walk and rebuild instead of adopting a blob as it is: only
 * listpacks and intsets are Keel's own formats, sizes that Redis allowed
 * need not fit Keel's thresholds, and rebuilding through the types'
 * functions detects duplicates (a corrupt hash or set with a repeated
 * field would break every later command). The cost is one pass per
 * aggregate; strings, most of a typical dataset, are not affected.
 *
 * Ziplist (Redis < 7): <zlbytes u32><zltail u32><zllen u16> entries <0xFF>;
 * entry = <prevlen: 1 byte < 254, or 0xFE + u32> <encoding> <data>:
 *   00pppppp               string, 6-bit length
 *   01pppppp qqqqqqqq      string, 14-bit length (big endian)
 *   10000000 + 4 bytes     string, 32-bit length (big endian)
 *   11000000 int16, 11010000 int32, 11100000 int64, 11110000 int24,
 *   11111110 int8, 1111xxxx (xxxx 0001..1101) immediate 0..12
 * Zipmap (Redis < 2.6): <count byte> then <len> key <len> <free> value
 * <free bytes>, len = 1 byte < 254 or 254 + u32 LE; 0xFF ends.
 */
#include "persist/rdb_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/intset.h"
#include "lib/listpack.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "types/hash_ttl.h"
#include "types/types.h"
#include "types/zset.h"

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int emit_int(rdb_elem_fn *fn, void *priv, long long v) {
    char buf[32];
    int n = ll_to_string(buf, sizeof(buf), v);
    return fn(priv, buf, (size_t)n);
}

/* ---- listpack ---- */

int rdb_walk_listpack(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why) {
    if (!lp_validate(p, len)) {
        *why = "listpack integrity check failed";
        return -1;
    }
    unsigned char *lp = (unsigned char *)p;
    unsigned char buf[LP_INTBUF_SIZE];
    for (unsigned char *e = lp_first(lp); e; e = lp_next(lp, e)) {
        unsigned int n;
        unsigned char *s = lp_get_value(e, buf, &n);
        if (fn(priv, (const char *)s, n) < 0) return -1;
    }
    return 0;
}

/* ---- intset ---- */

int rdb_walk_intset(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why) {
    /* intset_validate reads fields unaligned-safe; copy to be sure of
     * alignment for intset_get. */
    if (!intset_validate(p, len)) {
        *why = "intset integrity check failed";
        return -1;
    }
    intset *is = zmemdup(p, len);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < intset_len(is); i++) {
        int64_t v;
        intset_get(is, i, &v);
        rc = emit_int(fn, priv, v);
    }
    zfree(is);
    return rc;
}

/* ---- ziplist ---- */

/* Decode the entry at p (avail bytes before the end marker). Returns its
 * total size, 0 when malformed. */
static size_t zl_entry(const unsigned char *p, size_t avail, size_t prev_size, int deep, const unsigned char **s,
                       size_t *slen, long long *v, int *is_int) {
    size_t h;
    size_t prevlen;
    if (avail < 1) return 0;
    if (p[0] < 254) {
        prevlen = p[0];
        h = 1;
    } else if (p[0] == 254) {
        if (avail < 5) return 0;
        prevlen = le32(p + 1);
        h = 5;
    } else {
        return 0;
    }
    if (deep && prevlen != prev_size) return 0;
    if (avail < h + 1) return 0;
    unsigned char enc = p[h];
    size_t dlen;
    *is_int = 0;
    if ((enc & 0xC0) == 0x00) {
        dlen = enc & 0x3F;
        h += 1;
    } else if ((enc & 0xC0) == 0x40) {
        if (avail < h + 2) return 0;
        dlen = ((size_t)(enc & 0x3F) << 8) | p[h + 1];
        h += 2;
    } else if (enc == 0x80) {
        if (avail < h + 5) return 0;
        dlen = (size_t)p[h + 1] << 24 | (size_t)p[h + 2] << 16 | (size_t)p[h + 3] << 8 | p[h + 4];
        h += 5;
    } else {
        *is_int = 1;
        h += 1;
        const unsigned char *d = p + h;
        switch (enc) {
        case 0xC0: dlen = 2; if (avail < h + 2) return 0; *v = (int16_t)(d[0] | d[1] << 8); break;
        case 0xD0: dlen = 4; if (avail < h + 4) return 0; *v = (int32_t)le32(d); break;
        case 0xE0:
            dlen = 8;
            if (avail < h + 8) return 0;
            *v = (long long)((uint64_t)le32(d) | (uint64_t)le32(d + 4) << 32);
            break;
        case 0xF0: dlen = 3; if (avail < h + 3) return 0; *v = ((int32_t)((uint32_t)d[0] << 8 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 24)) >> 8; break;
        case 0xFE: dlen = 1; if (avail < h + 1) return 0; *v = (int8_t)d[0]; break;
        default:
            if (enc >= 0xF1 && enc <= 0xFD) {
                dlen = 0;
                *v = (enc & 0x0F) - 1;
                break;
            }
            return 0;
        }
        return h + dlen;
    }
    if (dlen > avail - h) return 0;
    *s = p + h;
    *slen = dlen;
    return h + dlen;
}

int rdb_walk_ziplist(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why) {
    *why = "ziplist integrity check failed";
    if (len < 11 || le32(p) != len || p[len - 1] != 0xFF) return -1;
    uint32_t tail = le32(p + 4);
    unsigned count = (unsigned)(p[8] | p[9] << 8);
    if (tail >= len) return -1;
    size_t pos = 10, prev = 0, n = 0;
    while (pos < len - 1) {
        const unsigned char *s = NULL;
        size_t slen = 0;
        long long v = 0;
        int is_int;
        size_t sz = zl_entry(p + pos, len - 1 - pos, prev, 1, &s, &slen, &v, &is_int);
        if (sz == 0) return -1;
        int rc = is_int ? emit_int(fn, priv, v) : fn(priv, (const char *)s, slen);
        if (rc < 0) {
            *why = NULL;
            return -1;
        }
        prev = sz;
        pos += sz;
        n++;
    }
    if (count != 0xFFFF && count != n) return -1;
    *why = NULL;
    return 0;
}

/* ---- zipmap ---- */

static int zm_len(const unsigned char *p, size_t avail, size_t *len, size_t *hdr) {
    if (avail < 1 || p[0] == 255) return 0;
    if (p[0] < 254) {
        *len = p[0];
        *hdr = 1;
        return 1;
    }
    if (avail < 5) return 0;
    *len = le32(p + 1);
    *hdr = 5;
    return 1;
}

int rdb_walk_zipmap(const unsigned char *p, size_t len, rdb_elem_fn *fn, void *priv, const char **why) {
    *why = "zipmap integrity check failed";
    if (len < 2 || p[len - 1] != 0xFF) return -1;
    size_t pos = 1;
    while (pos < len - 1) {
        size_t klen, h;
        if (!zm_len(p + pos, len - 1 - pos, &klen, &h) || klen > len - 1 - pos - h) return -1;
        const unsigned char *k = p + pos + h;
        pos += h + klen;
        size_t vlen;
        if (!zm_len(p + pos, len - 1 - pos, &vlen, &h)) return -1;
        pos += h;
        if (pos >= len - 1) return -1;
        size_t fr = p[pos++];
        if (vlen > len - 1 - pos || fr > len - 1 - pos - vlen) return -1;
        if (fn(priv, (const char *)k, klen) < 0 || fn(priv, (const char *)p + pos, vlen) < 0) {
            *why = NULL;
            return -1;
        }
        pos += vlen + fr;
    }
    if (pos != len - 1) return -1;
    *why = NULL;
    return 0;
}

/* ---- builders ---- */

void rdb_build_init(rdb_builder *b, int type, const char *key, size_t klen, size_t hint) {
    memset(b, 0, sizeof(*b));
    b->type = type;
    b->key = key;
    b->klen = klen;
    b->hint = hint;
}

static int parse_score(const char *s, size_t len, double *d) {
    char buf[128];
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *d = strtod(buf, &end);
    return end == buf + len && !isnan(*d);
}

int rdb_build_add_scored(rdb_builder *b, const char *m, size_t len, double score) {
    if (isnan(score)) {
        b->why = "sorted set score is NaN";
        return -1;
    }
    if (!b->z) b->z = zset_new_entry(b->key, b->klen, len);
    double ns;
    if (zset_add(b->z, score, m, len, 0, &ns) != ZADD_OUT_ADDED) {
        b->why = "duplicate sorted set member";
        return -1;
    }
    b->count++;
    return 0;
}

static int add_list(rdb_builder *b, const char *s, size_t len) {
    if (b->nitems == b->cap) {
        b->cap = b->cap ? b->cap * 2 : (b->hint && b->hint < 1024 ? b->hint : 16);
        b->items = zrealloc(b->items, b->cap * sizeof(kstr));
    }
    b->items[b->nitems++] = kstr_new_len(s, len);
    return 0;
}

static int add_set(rdb_builder *b, const char *s, size_t len) {
    if (!b->sv_ready) {
        b->sv = set_value_new(s, len, b->hint);
        b->sv_ready = 1;
    }
    if (!set_value_add(&b->sv, s, len)) {
        b->why = "duplicate set member";
        return -1;
    }
    return 0;
}

static int add_pair_half(rdb_builder *b, const char *s, size_t len) {
    if (!b->have_pending) {
        b->pending = kstr_new_len(s, len);
        b->have_pending = 1;
        return 0;
    }
    b->have_pending = 0;
    int rc = 0;
    if (b->type == TYPE_HASH) {
        if (!b->hv_ready) {
            b->hv = hash_value_new();
            b->hv_ready = 1;
        }
        if (!hash_value_set(&b->hv, b->pending, kstr_len(b->pending), s, len)) {
            b->why = "duplicate hash field";
            rc = -1;
        }
    } else {
        double d;
        if (!parse_score(s, len, &d)) {
            b->why = "bad sorted set score";
            rc = -1;
        } else {
            rc = rdb_build_add_scored(b, b->pending, kstr_len(b->pending), d);
            b->count--; /* counted below */
        }
    }
    kstr_free(b->pending);
    b->pending = NULL;
    return rc;
}

int rdb_build_add(void *priv, const char *s, size_t len) {
    rdb_builder *b = priv;
    int rc;
    switch (b->type) {
    case TYPE_LIST: rc = add_list(b, s, len); break;
    case TYPE_SET: rc = add_set(b, s, len); break;
    default: rc = add_pair_half(b, s, len); break;
    }
    if (rc == 0) b->count++;
    return rc;
}

int rdb_build_add_field_ttl(rdb_builder *b, const char *f, size_t flen, const char *v, size_t vlen, long long when) {
    if (when < 0) {
        b->why = "negative hash field expiry";
        return -1;
    }
    if (when > 0 && when <= b->now) {
        b->expired++;
        return 0;
    }
    if (rdb_build_add(b, f, flen) < 0 || rdb_build_add(b, v, vlen) < 0) return -1;
    if (when > 0 && hash_value_set_field_expire(&b->hv, f, flen, when) < 0) {
        b->why = "hash field lost while setting its expiry";
        return -1;
    }
    return 0;
}

void rdb_build_discard(rdb_builder *b) {
    for (size_t i = 0; i < b->nitems; i++) kstr_free(b->items[i]);
    zfree(b->items);
    b->items = NULL;
    b->nitems = 0;
    if (b->sv_ready) set_value_free(&b->sv);
    if (b->hv_ready) hash_value_free(&b->hv);
    if (b->z) entry_free(b->z);
    if (b->pending) kstr_free(b->pending);
    b->sv_ready = b->hv_ready = 0;
    b->z = NULL;
    b->pending = NULL;
}

entry *rdb_build_finish(rdb_builder *b, int *empty) {
    *empty = 0;
    if (b->have_pending) {
        b->why = b->type == TYPE_HASH ? "hash field without a value" : "sorted set member without a score";
        rdb_build_discard(b);
        return NULL;
    }
    if (b->count == 0) {
        *empty = 1;
        rdb_build_discard(b);
        return NULL;
    }
    entry *e = NULL;
    switch (b->type) {
    case TYPE_LIST:
        e = list_entry_from_strings(b->key, b->klen, b->items, b->nitems);
        zfree(b->items);
        b->items = NULL;
        b->nitems = 0;
        break;
    case TYPE_SET:
        e = entry_new_ptr(b->key, b->klen, TYPE_SET, b->sv.enc, b->sv.ptr, -1);
        b->sv_ready = 0;
        break;
    case TYPE_HASH:
        e = hash_entry_new(b->key, b->klen, &b->hv, -1);
        b->hv_ready = 0;
        break;
    case TYPE_ZSET:
        e = b->z;
        b->z = NULL;
        break;
    }
    return e;
}
