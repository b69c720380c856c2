/*
 * aof_rewrite: the base file of an AOF rewrite, from the keyspace: either
 * an RDB image (aof-use-rdb-preamble yes, Redis 7's default: compact and
 * fast to load) or AOF commands (SET, RPUSH, SADD, ZADD, HMSET in batches
 * of 64 elements as Redis writes them, then PEXPIREAT for keys with a
 * TTL), which any Redis version replays.
 *
 * This walks the tables directly and so must run to the end without
 * commands in between (a synchronous snapshot); the fork-less snapshot
 * (persist/snapshot.h) replaces the walk when it is available, with the
 * same writers.
 */
#include "persist/aof_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/db.h"
#include "core/entry.h"
#include "lib/kstr.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "persist/rdb.h"
#include "script/script.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/types.h"

#define ITEMS_PER_CMD 64
#define OUT_FLUSH_AT (64 * 1024)

#define INCREMENTAL_FSYNC_BYTES (4 * 1024 * 1024)

typedef struct out {
    int fd;
    kstr buf;
    int failed;
    size_t unsynced;
} out;

/* Writing the base in 4 MB steps of fsync keeps the kernel from holding
 * the whole file dirty and then stalling every writer on one huge flush. */
static void out_flush(out *o) {
    if (o->failed || kstr_len(o->buf) == 0) return;
    if (aof_write_fully(o->fd, o->buf, kstr_len(o->buf)) < 0) o->failed = errno ? errno : EIO;
    o->unsynced += kstr_len(o->buf);
    kstr_clear(o->buf);
    if (aof_rewrite_incremental_fsync && o->unsynced >= INCREMENTAL_FSYNC_BYTES) {
        fdatasync(o->fd);
        o->unsynced = 0;
    }
}

static void out_bulk(out *o, const char *s, size_t len) {
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
    o->buf = kstr_cat_len(o->buf, hdr, (size_t)n);
    o->buf = kstr_cat_len(o->buf, s, len);
    o->buf = kstr_cat_len(o->buf, "\r\n", 2);
}

static void out_header(out *o, long argc) {
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "*%ld\r\n", argc);
    o->buf = kstr_cat_len(o->buf, hdr, (size_t)n);
}

/* A batch of elements of one aggregate: the command's arguments after
 * the key are collected in 'args' and written with their count. */
typedef struct batch {
    out *o;
    const char *cmd;
    const char *key;
    size_t klen;
    int per_item;      /* arguments per element: 1, or 2 (zset, hash) */
    kstr args;
    long nargs;
    int pending_field; /* hash: a field seen, its value to come */
} batch;

static void batch_emit(batch *b) {
    if (b->nargs == 0) return;
    out_header(b->o, 2 + b->nargs);
    out_bulk(b->o, b->cmd, strlen(b->cmd));
    out_bulk(b->o, b->key, b->klen);
    b->o->buf = kstr_cat_len(b->o->buf, b->args, kstr_len(b->args));
    kstr_clear(b->args);
    b->nargs = 0;
    if (kstr_len(b->o->buf) >= OUT_FLUSH_AT) out_flush(b->o);
}

static void batch_arg(batch *b, const char *s, size_t len) {
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
    b->args = kstr_cat_len(b->args, hdr, (size_t)n);
    b->args = kstr_cat_len(b->args, s, len);
    b->args = kstr_cat_len(b->args, "\r\n", 2);
    b->nargs++;
}

static void visit_plain(void *priv, const char *s, size_t len, double score) {
    (void)score;
    batch *b = priv;
    batch_arg(b, s, len);
    if (b->per_item == 2 && !b->pending_field) {
        b->pending_field = 1;
        return;
    }
    b->pending_field = 0;
    if (b->nargs >= ITEMS_PER_CMD * b->per_item) batch_emit(b);
}

static void visit_scored(void *priv, const char *s, size_t len, double score) {
    batch *b = priv;
    char num[64];
    /* %.17g round-trips every double; inf and -inf are what ZADD takes. */
    int n = snprintf(num, sizeof(num), "%.17g", score);
    batch_arg(b, num, (size_t)n);
    batch_arg(b, s, len);
    if (b->nargs >= ITEMS_PER_CMD * 2) batch_emit(b);
}

static void write_aggregate(out *o, const entry *e, const char *key, size_t klen) {
    static const char *cmds[] = {[TYPE_LIST] = "RPUSH", [TYPE_SET] = "SADD", [TYPE_ZSET] = "ZADD",
                                 [TYPE_HASH] = "HMSET"};
    int type = entry_type(e);
    batch b = {o, cmds[type], key, klen, type == TYPE_HASH ? 2 : 1, kstr_empty(), 0, 0};
    const type_ops *ops = type_ops_for(type);
    ops->iterate(entry_encoding(e), entry_ptr(e), type == TYPE_ZSET ? visit_scored : visit_plain, &b);
    batch_emit(&b);
    kstr_free(b.args);
}

/* ---- streams, as the commands that rebuild them (Redis's form) ----
 * Entries as XADD with their IDs; an empty stream is created by an XADD
 * trimmed at once; XSETID restores the counters; each group is an XGROUP
 * CREATE at its last ID, each pending entry an XCLAIM ... FORCE JUSTID
 * with its delivery time and count, each consumer without pending
 * entries an XGROUP CREATECONSUMER. */

typedef struct cmd_args {
    const char *v[16];
    size_t len[16];
    char num[16][44]; /* IDs and integers, rendered */
    int n;
} cmd_args;

static void arg_str(cmd_args *a, const char *s, size_t len) {
    a->v[a->n] = s;
    a->len[a->n++] = len;
}

static void arg_cstr(cmd_args *a, const char *s) { arg_str(a, s, strlen(s)); }

static void arg_id(cmd_args *a, stream_id id) {
    int n = stream_id_format(id, a->num[a->n]);
    arg_str(a, a->num[a->n], (size_t)n);
}

static void arg_ll(cmd_args *a, long long v) {
    int n = ll_to_string(a->num[a->n], sizeof(a->num[0]), v);
    arg_str(a, a->num[a->n], (size_t)n);
}

static void emit(out *o, const cmd_args *a) {
    out_header(o, a->n);
    for (int i = 0; i < a->n; i++) out_bulk(o, a->v[i], a->len[i]);
    if (kstr_len(o->buf) >= OUT_FLUSH_AT) out_flush(o);
}

static void write_stream_entries(out *o, stream *s, const char *key, size_t klen) {
    stream_iter it;
    stream_iter_start(&it, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 0);
    while (stream_iter_next(&it)) {
        char id[44];
        int n = stream_id_format(it.id, id);
        out_header(o, 3 + 2 * (long)it.nfields);
        out_bulk(o, "XADD", 4);
        out_bulk(o, key, klen);
        out_bulk(o, id, (size_t)n);
        for (size_t i = 0; i < it.nfields; i++) {
            out_bulk(o, (const char *)it.fields[i].f, it.fields[i].flen);
            out_bulk(o, (const char *)it.fields[i].v, it.fields[i].vlen);
        }
        if (kstr_len(o->buf) >= OUT_FLUSH_AT) out_flush(o);
    }
    stream_iter_stop(&it);
}

static void write_stream_group(out *o, const stream_cg *g, const char *key, size_t klen) {
    cmd_args a = {.n = 0};
    arg_cstr(&a, "XGROUP"), arg_cstr(&a, "CREATE"), arg_str(&a, key, klen), arg_str(&a, g->name, g->nlen);
    arg_id(&a, g->last_id), arg_cstr(&a, "ENTRIESREAD"), arg_ll(&a, g->entries_read);
    emit(o, &a);
    for (size_t i = 0; i < g->pel.n; i++) {
        const stream_nack *n = g->pel.v[i];
        a.n = 0;
        arg_cstr(&a, "XCLAIM"), arg_str(&a, key, klen), arg_str(&a, g->name, g->nlen);
        arg_str(&a, n->consumer->name, n->consumer->nlen), arg_cstr(&a, "0"), arg_id(&a, n->id);
        arg_cstr(&a, "TIME"), arg_ll(&a, n->delivery_time), arg_cstr(&a, "RETRYCOUNT");
        arg_ll(&a, n->delivery_count), arg_cstr(&a, "JUSTID"), arg_cstr(&a, "FORCE");
        emit(o, &a);
    }
    for (size_t k = 0; k < g->nconsumers; k++) {
        const stream_consumer *c = g->consumers[k];
        if (c->pel.n) continue;
        a.n = 0;
        arg_cstr(&a, "XGROUP"), arg_cstr(&a, "CREATECONSUMER"), arg_str(&a, key, klen);
        arg_str(&a, g->name, g->nlen), arg_str(&a, c->name, c->nlen);
        emit(o, &a);
    }
}

static void write_stream(out *o, const entry *e, const char *key, size_t klen) {
    stream *s = entry_ptr(e);
    cmd_args a = {.n = 0};
    if (s->length == 0) { /* create it: one entry, trimmed away */
        arg_cstr(&a, "XADD"), arg_str(&a, key, klen), arg_cstr(&a, "MAXLEN"), arg_cstr(&a, "0");
        arg_id(&a, s->last_id.ms || s->last_id.seq ? s->last_id : (stream_id){0, 1});
        arg_cstr(&a, "x"), arg_cstr(&a, "y");
        emit(o, &a);
        a.n = 0;
    } else {
        write_stream_entries(o, s, key, klen);
    }
    arg_cstr(&a, "XSETID"), arg_str(&a, key, klen), arg_id(&a, s->last_id), arg_cstr(&a, "ENTRIESADDED");
    arg_ll(&a, (long long)s->entries_added), arg_cstr(&a, "MAXDELETEDID"), arg_id(&a, s->max_deleted_id);
    emit(o, &a);
    for (size_t i = 0; i < s->ngroups; i++) write_stream_group(o, s->groups[i], key, klen);
}

static void write_key_commands(out *o, const entry *e) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    int type = entry_type(e);
    if (type == TYPE_STRING) {
        char buf[32];
        size_t vlen;
        const char *v = entry_string(e, buf, &vlen);
        out_header(o, 3);
        out_bulk(o, "SET", 3);
        out_bulk(o, key, klen);
        out_bulk(o, v, vlen);
    } else if (type == TYPE_LIST || type == TYPE_SET || type == TYPE_ZSET || type == TYPE_HASH) {
        write_aggregate(o, e, key, klen);
    } else if (type == TYPE_STREAM) {
        write_stream(o, e, key, klen);
    } else {
        return;
    }
    long long when = entry_expire(e);
    if (when >= 0) {
        char num[32];
        int n = ll_to_string(num, sizeof(num), when);
        out_header(o, 3);
        out_bulk(o, "PEXPIREAT", 9);
        out_bulk(o, key, klen);
        out_bulk(o, num, (size_t)n);
    }
    if (kstr_len(o->buf) >= OUT_FLUSH_AT) out_flush(o);
}

static int base_as_commands(int fd, char *err, size_t errlen) {
    out o = {fd, kstr_empty(), 0, 0};
    long long now = db_now_ms();
    if (aof_cfg_timestamp) o.buf = kstr_cat_printf(o.buf, "#TS:%lld\r\n", now / 1000);
    for (int i = 0; i < script_library_count(); i++) { /* first, as Redis 7.0 */
        size_t len;
        const char *code = script_library_code(i, &len);
        out_header(&o, 3);
        out_bulk(&o, "FUNCTION", 8);
        out_bulk(&o, "LOAD", 4);
        out_bulk(&o, code, len);
    }
    for (int i = 0; i < db_count() && !o.failed; i++) {
        db *d = db_get(i);
        if (db_size(d) == 0) continue;
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", i);
        out_header(&o, 2);
        out_bulk(&o, "SELECT", 6);
        out_bulk(&o, num, (size_t)n);
        db_iter *it = db_iter_new(d);
        entry *el;
        while (!o.failed && (el = db_iter_next(it)))
            if (!entry_is_expired(el, now)) write_key_commands(&o, el);
        db_iter_free(it);
    }
    out_flush(&o);
    kstr_free(o.buf);
    if (o.failed) {
        snprintf(err, errlen, "%s", strerror(o.failed));
        return -1;
    }
    return 0;
}

static int base_as_rdb(int fd, char *err, size_t errlen) {
    int sink_fd = fd;
    errno = 0;
    rdb_writer *w = rdb_writer_new(rdb_fd_sink, &sink_fd);
    int ok = w && rdb_write_header_aof(w) == 0;
    long long now = db_now_ms();
    for (int i = 0; ok && i < db_count(); i++) {
        db *d = db_get(i);
        if (db_size(d) == 0) continue;
        ok = rdb_write_db_start(w, i, db_size(d), db_expires_size(d)) == 0;
        db_iter *it = db_iter_new(d);
        entry *el;
        while (ok && (el = db_iter_next(it)))
            if (!entry_is_expired(el, now)) ok = rdb_write_key(w, el) == 0;
        db_iter_free(it);
    }
    ok = ok && rdb_write_footer(w) == 0 && rdb_writer_flush(w) == 0;
    if (!ok) snprintf(err, errlen, "%s", errno ? strerror(errno) : "the RDB writer failed");
    if (w) rdb_writer_free(w);
    return ok ? 0 : -1;
}

int aof_write_base(int fd, int rdb_format, char *err, size_t errlen) {
    return rdb_format ? base_as_rdb(fd, err, errlen) : base_as_commands(fd, err, errlen);
}
