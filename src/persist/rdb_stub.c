/* Temporary stubs so that rdb.h links while the real code is written. */
#include <errno.h>
#include <stdio.h>

#include "persist/rdb.h"

int rdb_loading;
long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;

rdb_writer *rdb_writer_new(rdb_sink_fn *sink, void *ctx) { (void)sink; (void)ctx; return NULL; }
int rdb_write_header(rdb_writer *w) { (void)w; return -1; }
int rdb_write_header_aof(rdb_writer *w) { (void)w; return -1; }
int rdb_write_aux(rdb_writer *w, const char *k, const char *v) { (void)w; (void)k; (void)v; return -1; }
int rdb_write_db_start(rdb_writer *w, int dbid, size_t k, size_t e) { (void)w; (void)dbid; (void)k; (void)e; return -1; }
int rdb_write_key(rdb_writer *w, const entry *e) { (void)w; (void)e; return -1; }
int rdb_write_value(rdb_writer *w, const entry *e) { (void)w; (void)e; return -1; }
int rdb_write_footer(rdb_writer *w) { (void)w; return -1; }
int rdb_writer_flush(rdb_writer *w) { (void)w; return -1; }
size_t rdb_writer_buffered(const rdb_writer *w) { (void)w; return 0; }
uint64_t rdb_writer_written(const rdb_writer *w) { (void)w; return 0; }
void rdb_writer_free(rdb_writer *w) { (void)w; }
int rdb_membuf_sink(void *ctx, const void *buf, size_t len) { (void)ctx; (void)buf; (void)len; return -1; }
int rdb_fd_sink(void *ctx, const void *buf, size_t len) { (void)ctx; (void)buf; (void)len; return -1; }
int rdb_save_fd(int fd, char *err, size_t errlen) { (void)fd; snprintf(err, errlen, "not yet"); return -1; }
int rdb_save_file(const char *path, char *err, size_t errlen) { (void)path; snprintf(err, errlen, "not yet"); return -1; }
int rdb_load_file(const char *path, rdb_load_stats *st, char *err, size_t errlen) { (void)path; (void)st; snprintf(err, errlen, "not yet"); errno = ENOENT; return -1; }
int rdb_load_mem(const char *n, const unsigned char *b, size_t l, rdb_load_stats *st, char *err, size_t errlen) { (void)n; (void)b; (void)l; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_parse_mem(const unsigned char *b, size_t l, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) { (void)b; (void)l; (void)v; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_parse_file(const char *p, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) { (void)p; (void)v; (void)st; snprintf(err, errlen, "not yet"); return -1; }
int rdb_load_at_startup(void) { return 0; }
int rdb_dump_payload(const entry *e, unsigned char **out, size_t *outlen) { (void)e; (void)out; (void)outlen; return -1; }
int rdb_verify_payload(const unsigned char *p, size_t len) { (void)p; (void)len; return -1; }
entry *rdb_decode_payload(const unsigned char *p, size_t len, const char *k, size_t kl, int deep) { (void)p; (void)len; (void)k; (void)kl; (void)deep; return NULL; }
