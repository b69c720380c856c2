/* Temporary stubs so that rdb.h links while the real code is written. */
#include <errno.h>
#include <stdio.h>

#include "persist/rdb.h"
#include "core/db.h"
#include "lib/zmalloc.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Interim writer (snapshot helper): strings with TTLs only, no checksum
 * (8 zero bytes, which Redis reads as "checksum disabled"), so that the
 * snapshot engine can be tested before the real writer lands. */
struct rdb_writer {
    rdb_sink_fn *sink;
    void *ctx;
    unsigned char buf[16384];
    size_t len;
    uint64_t flushed;
};

rdb_writer *rdb_writer_new(rdb_sink_fn *sink, void *ctx) {
    rdb_writer *w = zcalloc(sizeof(*w));
    w->sink = sink;
    w->ctx = ctx;
    return w;
}
int rdb_writer_flush(rdb_writer *w) {
    if (!w->len) return 0;
    if (w->sink(w->ctx, w->buf, w->len) != 0) return -1;
    w->flushed += w->len;
    w->len = 0;
    return 0;
}
static int put(rdb_writer *w, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n) {
        if (w->len == sizeof(w->buf) && rdb_writer_flush(w) != 0) return -1;
        size_t k = sizeof(w->buf) - w->len < n ? sizeof(w->buf) - w->len : n;
        memcpy(w->buf + w->len, b, k);
        w->len += k;
        b += k;
        n -= k;
    }
    return 0;
}
static int put_byte(rdb_writer *w, int v) { unsigned char b = (unsigned char)v; return put(w, &b, 1); }
static int put_len(rdb_writer *w, uint64_t v) {
    unsigned char b[9];
    if (v < 64) { b[0] = (unsigned char)v; return put(w, b, 1); }
    if (v < 16384) { b[0] = (unsigned char)(0x40 | (v >> 8)); b[1] = (unsigned char)v; return put(w, b, 2); }
    if (v <= 0xffffffffULL) { b[0] = 0x80; for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(v >> (24 - 8 * i)); return put(w, b, 5); }
    b[0] = 0x81;
    for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(v >> (56 - 8 * i));
    return put(w, b, 9);
}
static int put_str(rdb_writer *w, const char *s, size_t n) { return put_len(w, n) || put(w, s, n); }
int rdb_write_aux(rdb_writer *w, const char *k, const char *v) {
    return put_byte(w, RDB_OPCODE_AUX) || put_str(w, k, strlen(k)) || put_str(w, v, strlen(v));
}
int rdb_write_header(rdb_writer *w) { return put(w, "REDIS0010", 9) || rdb_write_aux(w, "redis-ver", "7.0.15"); }
int rdb_write_header_aof(rdb_writer *w) { return rdb_write_header(w) || rdb_write_aux(w, "aof-base", "1"); }
int rdb_write_db_start(rdb_writer *w, int dbid, size_t k, size_t e) {
    return put_byte(w, RDB_OPCODE_SELECTDB) || put_len(w, (uint64_t)dbid) || put_byte(w, RDB_OPCODE_RESIZEDB) ||
           put_len(w, k) || put_len(w, e);
}
int rdb_write_key(rdb_writer *w, const entry *e) {
    if (entry_type(e) != TYPE_STRING) return 0; /* interim: strings only */
    long long when = entry_expire(e);
    if (when >= 0) {
        unsigned char b[8];
        for (int i = 0; i < 8; i++) b[i] = (unsigned char)((unsigned long long)when >> (8 * i));
        if (put_byte(w, RDB_OPCODE_EXPIRETIME_MS) || put(w, b, 8)) return -1;
    }
    size_t klen, vlen;
    const char *key = entry_key(e, &klen);
    char nbuf[32];
    const char *val = entry_string(e, nbuf, &vlen);
    return put_byte(w, 0) || put_str(w, key, klen) || put_str(w, val, vlen);
}
int rdb_write_footer(rdb_writer *w) {
    static const unsigned char zero[8];
    return put_byte(w, RDB_OPCODE_EOF) || put(w, zero, 8) || rdb_writer_flush(w);
}
size_t rdb_writer_buffered(const rdb_writer *w) { return w ? sizeof(*w) : 0; }
uint64_t rdb_writer_written(const rdb_writer *w) { return w->flushed + w->len; }
void rdb_writer_free(rdb_writer *w) { zfree(w); }
int rdb_fd_sink(void *ctx, const void *buf, size_t len) {
    int fd = *(int *)ctx;
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
typedef struct save_walk { rdb_writer *w; int err; } save_walk;
static void save_one(void *ctx, entry *e) {
    save_walk *sw = ctx;
    if (!sw->err && rdb_write_key(sw->w, e) != 0) sw->err = 1;
}
int rdb_save_fd(int fd, char *err, size_t errlen) {
    rdb_writer *w = rdb_writer_new(rdb_fd_sink, &fd);
    save_walk sw = {w, rdb_write_header(w)};
    for (int i = 0; i < db_count() && !sw.err; i++) {
        db *d = db_get(i);
        if (!db_size(d)) continue;
        if (rdb_write_db_start(w, i, db_size(d), db_expires_size(d))) { sw.err = 1; break; }
        size_t cur = 0;
        do cur = db_scan(d, cur, save_one, &sw); while (cur && !sw.err);
    }
    if (!sw.err && rdb_write_footer(w)) sw.err = 1;
    rdb_writer_free(w);
    if (sw.err) snprintf(err, errlen, "%s", strerror(errno));
    return sw.err ? -1 : 0;
}
int rdb_save_file(const char *path, char *err, size_t errlen) {
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp, ".", strerror(errno)); return -1; }
    if (rdb_save_fd(fd, err, errlen) != 0 || fsync(fd) != 0) {
        if (!err[0]) snprintf(err, errlen, "%s", strerror(errno));
        close(fd); unlink(tmp); return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) { snprintf(err, errlen, "rename: %s", strerror(errno)); unlink(tmp); return -1; }
    return 0;
}

int rdb_loading;
long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;

int rdb_write_value(rdb_writer *w, const entry *e) { (void)w; (void)e; return -1; }
int rdb_membuf_sink(void *ctx, const void *buf, size_t len) { (void)ctx; (void)buf; (void)len; return -1; }
int rdb_load_file(const char *path, rdb_load_stats *st, char *err, size_t errlen) { (void)path; (void)st; snprintf(err, errlen, "not yet"); errno = ENOENT; return -1; }
int rdb_load_mem(const char *n, const unsigned char *b, size_t l, rdb_load_stats *st, char *err, size_t errlen) { (void)n; (void)b; (void)l; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_parse_mem(const unsigned char *b, size_t l, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) { (void)b; (void)l; (void)v; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_parse_file(const char *p, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) { (void)p; (void)v; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_load_at_startup(void) { return 0; }
int rdb_dump_payload(const entry *e, unsigned char **out, size_t *outlen) { (void)e; (void)out; (void)outlen; return -1; }
int rdb_verify_payload(const unsigned char *p, size_t len) { (void)p; (void)len; return -1; }
entry *rdb_decode_payload(const unsigned char *p, size_t len, const char *k, size_t kl, int deep) { (void)p; (void)len; (void)k; (void)kl; (void)deep; return NULL; }
