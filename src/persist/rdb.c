/*
 * rdb.c: writing RDB version 10 (Redis 7.0's format), whatever Keel's
 * in-memory encoding, so that redis-server 7.0 loads the file.
 *
 * Why the value is re-encoded rather than copied: Keel's encodings are
 * not all Redis's (quicklist nodes are compressed with Keel's own codec,
 * small hashes live inline as smallpacks, a set may be a listpack, which
 * Redis 7.0 cannot read). The blobs that are byte-compatible (listpacks of
 * hashes and sorted sets, intsets) are written as they are; everything
 * else goes through the type's iterate operation, element by element.
 * Lists become a quicklist of listpacks of at most 8 KB, built one node at
 * a time (the node count is computed by a first, cheap pass), so the
 * memory a save needs is one node, not one list.
 *
 * The writer buffers 64 KB and keeps the running CRC64, so any sink (file,
 * socket, memory) gets large writes and the checksum costs one pass.
 */
#include "persist/rdb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/intset.h"
#include "lib/listpack.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "lib/crc64.h"
#include "persist/lzf.h"
#include "persist/snapshot.h"
#include "script/script.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/types.h"

#define WRITER_BUF (64 * 1024)
#define LIST_NODE_BYTES 8192

int rdb_compression = 1;
int rdb_checksum = 1;
int rdb_sanitize_payload = 0;
int rdb_skip_checksum = 0;

static const enum_value sanitize_values[] = {{"no", 0}, {"yes", 1}, {"clients", 2}, {NULL, 0}};

config_entry persist_configs[] = {
    CONFIG_BOOL("rdbcompression", &rdb_compression, "yes", 0, NULL),
    CONFIG_BOOL("rdbchecksum", &rdb_checksum, "yes", CF_IMMUTABLE, NULL), /* as in Redis */
    /* Kept for Redis's meaning and for CONFIG GET; Keel checks packed
     * values fully whatever it says (rdb_blob.c). */
    CONFIG_ENUM("sanitize-dump-payload", &rdb_sanitize_payload, "no", sanitize_values, 0, NULL),
    CONFIG_END,
};

/* Bytes of output between two calls of a writer's yield function. */
#define YIELD_EVERY 8192

struct rdb_writer {
    rdb_sink_fn *sink;
    void *ctx;
    uint64_t crc;
    uint64_t flushed;
    size_t len;
    int failed;
    void (*yield)(void *ctx);
    void *yield_ctx;
    size_t since_yield;
    unsigned char buf[WRITER_BUF];
};

rdb_writer *rdb_writer_new(rdb_sink_fn *sink, void *ctx) {
    rdb_writer *w = zmalloc(sizeof(*w));
    w->sink = sink;
    w->ctx = ctx;
    w->crc = 0;
    w->flushed = 0;
    w->len = 0;
    w->failed = 0;
    w->yield = NULL;
    w->yield_ctx = NULL;
    w->since_yield = 0;
    return w;
}

void rdb_writer_set_yield(rdb_writer *w, void (*yield)(void *ctx), void *ctx) {
    w->yield = yield;
    w->yield_ctx = ctx;
    w->since_yield = 0;
}

void rdb_writer_free(rdb_writer *w) { zfree(w); }
size_t rdb_writer_buffered(const rdb_writer *w) { return w ? sizeof(*w) : 0; }
uint64_t rdb_writer_written(const rdb_writer *w) { return w->flushed + w->len; }

int rdb_writer_flush(rdb_writer *w) {
    if (w->failed) return -1;
    if (w->len == 0) return 0;
    if (w->sink(w->ctx, w->buf, w->len) < 0) {
        w->failed = 1;
        return -1;
    }
    w->flushed += w->len;
    w->len = 0;
    return 0;
}

/* Every byte of the file passes through here (and into the CRC). */
static int put(rdb_writer *w, const void *p, size_t n) {
    if (w->failed) return -1;
    w->crc = crc64(w->crc, p, n);
    const unsigned char *s = p;
    while (n) {
        if (w->len == WRITER_BUF && rdb_writer_flush(w) < 0) return -1;
        size_t k = WRITER_BUF - w->len;
        if (k > n) k = n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        w->since_yield += k;
        if (w->yield && w->since_yield >= YIELD_EVERY) {
            w->since_yield = 0;
            w->yield(w->yield_ctx);
        }
    }
    return 0;
}

int rdb_writer_append(rdb_writer *w, const void *p, size_t n) { return put(w, p, n); }

static int put_byte(rdb_writer *w, int b) {
    unsigned char c = (unsigned char)b;
    return put(w, &c, 1);
}

/* Length encoding: 6, 14, 32 or 64 bits. */
static int put_len(rdb_writer *w, uint64_t len) {
    unsigned char b[9];
    if (len < (1 << 6)) {
        b[0] = (unsigned char)len;
        return put(w, b, 1);
    }
    if (len < (1 << 14)) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)len;
        return put(w, b, 2);
    }
    if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        return put(w, b, 5);
    }
    b[0] = 0x81;
    for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
    return put(w, b, 9);
}

static int put_le(rdb_writer *w, uint64_t v, int bytes) {
    unsigned char b[8];
    for (int i = 0; i < bytes; i++) b[i] = (unsigned char)(v >> (8 * i));
    return put(w, b, (size_t)bytes);
}

/* Integers that fit 8/16/32 bits are stored as such (0xC0..0xC2). */
static int put_int_encoded(rdb_writer *w, long long v) {
    if (v >= INT8_MIN && v <= INT8_MAX) return put_byte(w, 0xC0) | put_le(w, (uint64_t)v, 1);
    if (v >= INT16_MIN && v <= INT16_MAX) return put_byte(w, 0xC1) | put_le(w, (uint64_t)v, 2);
    return put_byte(w, 0xC2) | put_le(w, (uint64_t)v, 4);
}

static int try_int_encoding(const char *s, size_t len, long long *v) {
    if (len == 0 || len > 11) return 0;
    return string_to_ll(s, len, v) && *v >= INT32_MIN && *v <= INT32_MAX;
}

/* LZF when compression is on, the string is long enough to gain and the
 * result is at least 4 bytes shorter (Redis's rule). 1 written, 0 not
 * worth it, -1 error. */
static int put_lzf(rdb_writer *w, const char *s, size_t len) {
    if (len <= 4) return 0;
    size_t cap = len - 4;
    unsigned char stackbuf[1024];
    unsigned char *out = cap <= sizeof(stackbuf) ? stackbuf : zmalloc(cap);
    size_t clen = lzf_compress(s, len, out, cap);
    int rc = 0;
    if (clen) rc = (put_byte(w, 0xC3) | put_len(w, clen) | put_len(w, len) | put(w, out, clen)) ? -1 : 1;
    if (out != stackbuf) zfree(out);
    return rc;
}

int rdb_put_string(rdb_writer *w, const char *s, size_t len) {
    long long v;
    if (try_int_encoding(s, len, &v)) return put_int_encoded(w, v);
    if (rdb_compression && len > 20) {
        int r = put_lzf(w, s, len);
        if (r) return r < 0 ? -1 : 0;
    }
    return put_len(w, len) | put(w, s, len);
}

static int put_double_binary(rdb_writer *w, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return put_le(w, bits, 8);
}

/* ---- values ---- */

/* Element visitor state shared by the generic writers. */
typedef struct visit_out {
    rdb_writer *w;
    int err;
    int with_score;
} visit_out;

static void visit_put(void *priv, const char *s, size_t len, double score) {
    visit_out *o = priv;
    if (o->err) return;
    if (rdb_put_string(o->w, s, len) < 0) o->err = 1;
    if (o->with_score && put_double_binary(o->w, score) < 0) o->err = 1;
}

static int put_elements(rdb_writer *w, const entry *e, int with_score) {
    const type_ops *ops = type_ops_for(entry_type(e));
    visit_out o = {w, 0, with_score};
    ops->iterate(entry_encoding(e), entry_ptr(e), visit_put, &o);
    return o.err ? -1 : 0;
}

static size_t value_length(const entry *e) {
    const type_ops *ops = type_ops_for(entry_type(e));
    return ops->length(entry_encoding(e), entry_ptr(e));
}

static int put_blob(rdb_writer *w, const void *p, size_t n) {
    /* Blobs go through the string writer so LZF applies as in Redis. */
    return rdb_put_string(w, p, n);
}

/* Lists: quicklist v2 nodes of at most LIST_NODE_BYTES each. */
typedef struct list_chunker {
    rdb_writer *w;
    size_t node_bytes;  /* running estimate of the node being built */
    size_t nodes;
    unsigned char *lp;  /* NULL in the counting pass */
    int err;
} list_chunker;

static int chunk_emit(list_chunker *c) {
    if (!c->lp) return 0;
    int rc = put_len(c->w, 2) | put_blob(c->w, c->lp, lp_bytes(c->lp));
    lp_free(c->lp);
    c->lp = lp_new(LIST_NODE_BYTES);
    return rc;
}

static void chunk_visit(void *priv, const char *s, size_t len, double score) {
    list_chunker *c = priv;
    (void)score;
    size_t esz = lp_entry_size_for((const unsigned char *)s, len);
    if (c->node_bytes > LP_EMPTY_SIZE && c->node_bytes + esz > LIST_NODE_BYTES) {
        if (chunk_emit(c) < 0) c->err = 1;
        c->node_bytes = LP_EMPTY_SIZE;
        c->nodes++;
    }
    c->node_bytes += esz;
    if (c->lp) c->lp = lp_append(c->lp, (const unsigned char *)s, len);
}

static int put_list(rdb_writer *w, const entry *e) {
    const type_ops *ops = type_ops_for(TYPE_LIST);
    int enc = entry_encoding(e);
    if (enc == ENC_LISTPACK) {
        unsigned char *lp = entry_ptr(e);
        return put_len(w, 1) | put_len(w, 2) | put_blob(w, lp, lp_bytes(lp));
    }
    list_chunker count = {w, LP_EMPTY_SIZE, 0, NULL, 0};
    ops->iterate(enc, entry_ptr(e), chunk_visit, &count);
    size_t nodes = count.nodes + (count.node_bytes > LP_EMPTY_SIZE ? 1 : 0);
    if (put_len(w, nodes) < 0) return -1;
    list_chunker out = {w, LP_EMPTY_SIZE, 0, lp_new(LIST_NODE_BYTES), 0};
    ops->iterate(enc, entry_ptr(e), chunk_visit, &out);
    if (out.node_bytes > LP_EMPTY_SIZE && chunk_emit(&out) < 0) out.err = 1;
    lp_free(out.lp);
    return out.err ? -1 : 0;
}

static int put_set(rdb_writer *w, const entry *e) {
    if (entry_encoding(e) == ENC_INTSET) {
        const intset *is = entry_ptr(e);
        return put_blob(w, is, intset_blob_len(is));
    }
    if (put_len(w, value_length(e)) < 0) return -1;
    return put_elements(w, e, 0);
}

static int put_zset(rdb_writer *w, const entry *e) {
    if (entry_encoding(e) == ENC_LISTPACK) {
        unsigned char *lp = entry_ptr(e);
        return put_blob(w, lp, lp_bytes(lp));
    }
    if (put_len(w, value_length(e)) < 0) return -1;
    return put_elements(w, e, 1);
}

/* Hashes with field TTLs (Redis 7.4's HEXPIRE) are written as plain
 * hashes: RDB 10 has no place for field TTLs (Redis 7.4 writes them in
 * types 24/25 of RDB 12, which Redis 7.0 cannot read). Counted so that a
 * save can say so. */
static size_t hashes_losing_field_ttls;

int rdb_hash_has_field_ttls(const entry *e) {
    return entry_type(e) == TYPE_HASH && entry_encoding(e) == ENC_HASHTABLE &&
           hashtable_user_word((const hashtable *)entry_ptr(e)) != 0;
}

static int put_hash(rdb_writer *w, const entry *e) {
    if (rdb_hash_has_field_ttls(e)) hashes_losing_field_ttls++;
    if (entry_encoding(e) == ENC_LISTPACK) {
        unsigned char *lp = entry_ptr(e);
        return put_blob(w, lp, lp_bytes(lp));
    }
    if (put_len(w, value_length(e)) < 0) return -1;
    return put_elements(w, e, 0);
}

static int put_string_value(rdb_writer *w, const entry *e) {
    if (entry_raw_encoding(e) == ENC_INT) {
        long long v;
        entry_string_as_ll(e, &v);
        if (v >= INT32_MIN && v <= INT32_MAX) return put_int_encoded(w, v);
    }
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    return rdb_put_string(w, s, len);
}

/* ---- streams (type 19, Redis 7.0's) ----
 * Nodes go out as they are in memory: Keel keeps Redis's node layout
 * (types/stream.h), so each is its master ID (16 bytes, big-endian) and
 * its listpack; then the counters, the groups with their pending entries
 * (raw IDs, delivery time, count) and their consumers. */

static int put_stream_id_raw(rdb_writer *w, stream_id id) {
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(id.ms >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(id.seq >> (56 - 8 * i));
    }
    return put(w, b, 16);
}

static int put_stream_id_lens(rdb_writer *w, stream_id id) { return put_len(w, id.ms) | put_len(w, id.seq); }

static int put_stream_group(rdb_writer *w, const stream_cg *g) {
    int rc = rdb_put_string(w, g->name, g->nlen) | put_stream_id_lens(w, g->last_id) |
             put_len(w, (uint64_t)g->entries_read) | put_len(w, g->pel.n);
    for (size_t i = 0; i < g->pel.n; i++) {
        const stream_nack *n = g->pel.v[i];
        rc |= put_stream_id_raw(w, n->id) | put_le(w, (uint64_t)n->delivery_time, 8) |
              put_len(w, (uint64_t)n->delivery_count);
    }
    rc |= put_len(w, g->nconsumers);
    for (size_t k = 0; k < g->nconsumers; k++) {
        const stream_consumer *c = g->consumers[k];
        rc |= rdb_put_string(w, c->name, c->nlen) | put_le(w, (uint64_t)c->seen_time, 8) | put_len(w, c->pel.n);
        for (size_t i = 0; i < c->pel.n; i++) rc |= put_stream_id_raw(w, c->pel.v[i]->id);
    }
    return rc ? -1 : 0;
}

static int put_stream(rdb_writer *w, const entry *e) {
    const stream *s = entry_ptr(e);
    int rc = put_len(w, s->nnodes);
    for (size_t i = 0; i < s->nnodes; i++) {
        const stream_node *n = stream_node_at(s, i);
        unsigned char key[16];
        for (int b = 0; b < 8; b++) {
            key[b] = (unsigned char)(n->master.ms >> (56 - 8 * b));
            key[8 + b] = (unsigned char)(n->master.seq >> (56 - 8 * b));
        }
        rc |= rdb_put_string(w, (const char *)key, 16) | rdb_put_string(w, (const char *)n->lp, lp_bytes(n->lp));
    }
    rc |= put_len(w, s->length) | put_stream_id_lens(w, s->last_id) | put_stream_id_lens(w, s->first_id) |
          put_stream_id_lens(w, s->max_deleted_id) | put_len(w, s->entries_added) | put_len(w, s->ngroups);
    for (size_t i = 0; i < s->ngroups && !rc; i++) rc = put_stream_group(w, s->groups[i]);
    return rc ? -1 : 0;
}

/* The RDB type byte for e's value. A listpack set (Redis 7.2's type 20)
 * is written as a plain set: Redis 7.0 cannot read type 20. -1 for a type
 * Keel cannot save. */
int rdb_value_type(const entry *e) {
    int enc = entry_encoding(e);
    switch (entry_type(e)) {
    case TYPE_STRING: return RDB_TYPE_STRING;
    case TYPE_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case TYPE_SET: return enc == ENC_INTSET ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
    case TYPE_ZSET: return enc == ENC_LISTPACK ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case TYPE_HASH: return enc == ENC_LISTPACK ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    case TYPE_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    default: return -1;
    }
}

/* Values that take long enough to serialize to deserve writing in steps
 * (snapshot.c): aggregates of many elements in their full encodings, and
 * big strings. Compact encodings are small by construction. */
#define LONG_VALUE_ELEMENTS 1024
#define LONG_VALUE_BYTES (1024 * 1024)

int rdb_value_is_long(const entry *e) {
    int enc = entry_encoding(e);
    switch (entry_type(e)) {
    case TYPE_STRING: {
        char buf[32];
        size_t len;
        entry_string(e, buf, &len);
        return len >= LONG_VALUE_BYTES;
    }
    case TYPE_LIST:
    case TYPE_STREAM: return value_length(e) >= LONG_VALUE_ELEMENTS;
    default: return enc != ENC_LISTPACK && enc != ENC_INTSET && value_length(e) >= LONG_VALUE_ELEMENTS;
    }
}

static int put_value_body(rdb_writer *w, const entry *e) {
    switch (entry_type(e)) {
    case TYPE_STRING: return put_string_value(w, e);
    case TYPE_LIST: return put_list(w, e);
    case TYPE_SET: return put_set(w, e);
    case TYPE_ZSET: return put_zset(w, e);
    case TYPE_HASH: return put_hash(w, e);
    case TYPE_STREAM: return put_stream(w, e);
    default: errno = ENOTSUP; return -1;
    }
}

int rdb_write_value(rdb_writer *w, const entry *e) {
    int t = rdb_value_type(e);
    if (t < 0) {
        errno = ENOTSUP;
        return -1;
    }
    return put_byte(w, t) | put_value_body(w, e);
}

static int policy_is_lru(void) {
    return server.maxmemory_policy == MAXMEMORY_ALLKEYS_LRU || server.maxmemory_policy == MAXMEMORY_VOLATILE_LRU;
}
static int policy_is_lfu(void) {
    return server.maxmemory_policy == MAXMEMORY_ALLKEYS_LFU || server.maxmemory_policy == MAXMEMORY_VOLATILE_LFU;
}

int rdb_write_key(rdb_writer *w, const entry *e) {
    int t = rdb_value_type(e);
    if (t < 0) {
        errno = ENOTSUP;
        return -1;
    }
    long long expire = entry_expire(e);
    if (expire >= 0 && (put_byte(w, RDB_OPCODE_EXPIRETIME_MS) | put_le(w, (uint64_t)expire, 8))) return -1;
    if (policy_is_lru()) {
        if (put_byte(w, RDB_OPCODE_IDLE) | put_len(w, (uint64_t)memory_entry_idle_seconds(e))) return -1;
    } else if (policy_is_lfu()) {
        if (put_byte(w, RDB_OPCODE_FREQ) | put_byte(w, memory_entry_lfu_counter(e))) return -1;
    }
    size_t klen;
    const char *key = entry_key(e, &klen);
    /* Keys go through the same string writer as values (Redis's does). */
    return put_byte(w, t) | rdb_put_string(w, key, klen) | put_value_body(w, e);
}

/* ---- file framing ---- */

int rdb_write_aux(rdb_writer *w, const char *key, const char *value) {
    return put_byte(w, RDB_OPCODE_AUX) | rdb_put_string(w, key, strlen(key)) |
           rdb_put_string(w, value, strlen(value));
}

static int write_aux_ll(rdb_writer *w, const char *key, long long v) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    return rdb_write_aux(w, key, buf);
}

int (*rdb_extra_aux)(rdb_writer *w);
void (*rdb_aux_listener)(const char *k, size_t klen, const char *v, size_t vlen);

static int write_header_common(rdb_writer *w, int aof_base) {
    char magic[16];
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    if (put(w, magic, 9) < 0) return -1;
    int rc = rdb_write_aux(w, "redis-ver", KEEL_VERSION) |
             write_aux_ll(w, "redis-bits", (long long)sizeof(void *) * 8) |
             write_aux_ll(w, "ctime", (long long)time(NULL)) |
             write_aux_ll(w, "used-mem", (long long)zmalloc_used_memory()) | write_aux_ll(w, "aof-base", aof_base) |
             (rdb_extra_aux && !aof_base ? rdb_extra_aux(w) : 0);
    /* Function libraries come before the keys, as in Redis 7.0: a
     * snapshot is point-in-time for them too (its header is written when
     * it starts). */
    for (int i = 0; i < script_library_count(); i++) {
        size_t len;
        const char *code = script_library_code(i, &len);
        rc |= put_byte(w, RDB_OPCODE_FUNCTION2) | rdb_put_string(w, code, len);
    }
    return rc;
}

int rdb_write_header(rdb_writer *w) { return write_header_common(w, 0); }
int rdb_write_header_aof(rdb_writer *w) { return write_header_common(w, 1); }

int rdb_write_db_start(rdb_writer *w, int dbid, size_t keys, size_t expires) {
    return put_byte(w, RDB_OPCODE_SELECTDB) | put_len(w, (uint64_t)dbid) | put_byte(w, RDB_OPCODE_RESIZEDB) |
           put_len(w, keys) | put_len(w, expires);
}

int rdb_write_footer(rdb_writer *w) {
    if (put_byte(w, RDB_OPCODE_EOF) < 0) return -1;
    uint64_t crc = rdb_checksum ? w->crc : 0;
    if (put_le(w, crc, 8) < 0) return -1;
    return rdb_writer_flush(w);
}

/* ---- sinks ---- */

int rdb_membuf_sink(void *ctx, const void *buf, size_t len) {
    rdb_membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + len) cap *= 2;
        m->buf = zrealloc(m->buf, cap);
        m->cap = cap;
    }
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return 0;
}

int rdb_fd_sink(void *ctx, const void *buf, size_t len) {
    int fd = *(int *)ctx;
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- DUMP payloads ---- */

int rdb_dump_payload(const entry *e, unsigned char **out, size_t *outlen) {
    rdb_membuf mb = {0};
    rdb_writer *w = rdb_writer_new(rdb_membuf_sink, &mb);
    unsigned char ver[2] = {RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff};
    int rc = rdb_write_value(w, e) | put(w, ver, 2);
    if (rc == 0) rc = put_le(w, w->crc, 8) | rdb_writer_flush(w);
    rdb_writer_free(w);
    if (rc < 0) {
        zfree(mb.buf);
        return -1;
    }
    *out = mb.buf;
    *outlen = mb.len;
    return 0;
}

/* ---- the whole keyspace ---- */

/* Keys of a type the writer cannot encode yet (streams) are left out of
 * the file and counted in *skipped, so the caller can say so loudly. */
static int save_db(rdb_writer *w, db *d, size_t *skipped) {
    size_t n = db_size(d);
    if (n == 0) return 0;
    if (rdb_write_db_start(w, db_id(d), n, db_expires_size(d)) < 0) return -1;
    db_iter *it = db_iter_new(d);
    entry *e;
    int rc = 0;
    while (rc == 0 && (e = db_iter_next(it)) != NULL) {
        if (rdb_value_type(e) < 0) {
            (*skipped)++;
            continue;
        }
        rc = rdb_write_key(w, e);
        /* rdb-key-save-delay slows synchronous saves too, as in Redis (the
         * suite's shutdown tests need a save that lasts). */
        if (snapshot_key_save_delay > 0) usleep((useconds_t)snapshot_key_save_delay);
    }
    db_iter_free(it);
    return rc;
}

int rdb_save_fd(int fd, char *err, size_t errlen) {
    rdb_writer *w = rdb_writer_new(rdb_fd_sink, &fd);
    hashes_losing_field_ttls = 0;
    int rc = rdb_write_header(w);
    size_t skipped = 0;
    for (int i = 0; rc == 0 && i < db_count(); i++) rc = save_db(w, db_get(i), &skipped);
    if (skipped)
        server_log(LOG_WARNING, "%zu key(s) of a type Keel cannot write NOT saved", skipped);
    if (hashes_losing_field_ttls)
        server_log(LOG_WARNING, "%zu hash key(s) saved WITHOUT their field TTLs: RDB 10 cannot hold them",
                   hashes_losing_field_ttls);
    hashes_losing_field_ttls = 0;
    if (rc == 0) rc = rdb_write_footer(w);
    if (rc < 0) snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
    rdb_writer_free(w);
    return rc;
}
