/*
 * rdb: Redis's RDB file format, written (version 10, Redis 7.0's, so that
 * redis-server 7.0 loads what Keel saves) and read (versions 1 to 12:
 * every encoding Redis 6.x-7.4 and Valkey 7.2-8.x write).
 *
 * Writing goes through an rdb_writer: a buffer that keeps the running
 * CRC64 and hands full blocks to a sink (a file, a socket, a memory buffer
 * for DUMP). The writer never looks at the keyspace itself: the caller
 * (SAVE, the fork-less snapshot, the AOF rewrite) decides which entries to
 * hand it and in what order.
 *
 * Loading reads from a file or a memory buffer and either builds the
 * keyspace (into fresh tables that replace the old ones only when the
 * whole file has been read and checked: a refused file leaves nothing
 * half-loaded) or hands each key to a callback (keel-check-rdb, reports),
 * which never builds a keyspace.
 *
 * Every length read from input is checked against what remains, so a
 * corrupt or hostile file gets an error naming the offset, never a crash
 * (fuzzed: tests/fuzz/fuzz_rdb.c).
 */
#ifndef KEEL_RDB_H
#define KEEL_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "core/entry.h"

#define RDB_VERSION 10      /* written */
#define RDB_MAX_VERSION 12  /* highest read */

/* Object type bytes. */
enum {
    RDB_TYPE_STRING = 0, RDB_TYPE_LIST = 1, RDB_TYPE_SET = 2, RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4, RDB_TYPE_ZSET_2 = 5, RDB_TYPE_MODULE = 6, RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9, RDB_TYPE_LIST_ZIPLIST = 10, RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12, RDB_TYPE_HASH_ZIPLIST = 13, RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15, RDB_TYPE_HASH_LISTPACK = 16, RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18, RDB_TYPE_STREAM_LISTPACKS_2 = 19, RDB_TYPE_SET_LISTPACK = 20,
    RDB_TYPE_STREAM_LISTPACKS_3 = 21, RDB_TYPE_HASH_METADATA_PRE_GA = 22,
    RDB_TYPE_HASH_LISTPACK_EX_PRE_GA = 23, RDB_TYPE_HASH_METADATA = 24,
    RDB_TYPE_HASH_LISTPACK_EX = 25,
};
/* Opcodes. */
enum {
    RDB_OPCODE_FUNCTION_PRE_GA = 246, RDB_OPCODE_FUNCTION2 = 245, RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248, RDB_OPCODE_FREQ = 249, RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251, RDB_OPCODE_EXPIRETIME_MS = 252, RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254, RDB_OPCODE_EOF = 255,
};

/* Settings (rdbcompression, rdbchecksum, sanitize-dump-payload: 0 no,
 * 1 yes, 2 clients), owned by this module. */
extern int rdb_compression, rdb_checksum, rdb_sanitize_payload;
/* DEBUG SET-SKIP-CHECKSUM-VALIDATION (tests only, as in Redis): RESTORE
 * and loading do not check CRC64s, so that corrupt values with a valid
 * frame reach the value checks. */
extern int rdb_skip_checksum;

/* ---- writing ---- */

/* A sink takes bytes in order: 0 ok, -1 error (errno set). */
typedef int rdb_sink_fn(void *ctx, const void *buf, size_t len);
typedef struct rdb_writer rdb_writer;

rdb_writer *rdb_writer_new(rdb_sink_fn *sink, void *ctx);
/* "REDIS0010" and the aux fields Redis 7.0 writes (redis-ver, redis-bits,
 * ctime, used-mem, aof-base). */
int rdb_write_header(rdb_writer *w);
/* Same, with aof-base set to 1 (an AOF's RDB preamble). */
int rdb_write_header_aof(rdb_writer *w);
int rdb_write_aux(rdb_writer *w, const char *key, const char *value);
/* SELECTDB + RESIZEDB. */
int rdb_write_db_start(rdb_writer *w, int dbid, size_t keys, size_t expires);
/* [EXPIRETIME_MS] [IDLE|FREQ as the eviction policy says] type key value. */
int rdb_write_key(rdb_writer *w, const entry *e);
/* Type byte + value only (the body of a DUMP payload). */
int rdb_write_value(rdb_writer *w, const entry *e);
/* The RDB type byte e is written with; -1 for a type Keel cannot save. */
int rdb_value_type(const entry *e);
/* Whether e is a hash some of whose fields have a TTL (written without
 * them: RDB 10 cannot hold field TTLs). */
int rdb_hash_has_field_ttls(const entry *e);
/* One string in RDB encoding (int-encoded or LZF-compressed as fits). */
int rdb_put_string(rdb_writer *w, const char *s, size_t len);
/* EOF + CRC64 (8 zero bytes when rdbchecksum is no); flushes the buffer. */
int rdb_write_footer(rdb_writer *w);
/* Hand what is buffered to the sink. */
int rdb_writer_flush(rdb_writer *w);
/* Bytes the writer holds (buffer), for mem_snapshot_buffers. */
size_t rdb_writer_buffered(const rdb_writer *w);
/* Bytes handed to the sink so far plus those buffered. */
uint64_t rdb_writer_written(const rdb_writer *w);
void rdb_writer_free(rdb_writer *w);
/* Called from inside the writer every few KB of output: the snapshot's
 * long-value coroutine hands the main thread back its turn there
 * (snapshot.c). NULL removes it. */
void rdb_writer_set_yield(rdb_writer *w, void (*yield)(void *ctx), void *ctx);
/* Bytes already in RDB form (another writer's output), into w and its CRC. */
int rdb_writer_append(rdb_writer *w, const void *p, size_t n);
/* The value takes long enough to write to be written in steps. */
int rdb_value_is_long(const entry *e);

/* A sink that appends to a growing memory buffer (DUMP, tests). */
typedef struct rdb_membuf {
    unsigned char *buf;
    size_t len, cap;
} rdb_membuf;
int rdb_membuf_sink(void *ctx, const void *buf, size_t len);
/* A sink writing to a file descriptor (ctx points to the int fd). */
int rdb_fd_sink(void *ctx, const void *buf, size_t len);

/* The whole keyspace to an open fd, synchronously (SAVE, DEBUG RELOAD).
 * 0 ok, -1 error with errno set and a message in err. */
int rdb_save_fd(int fd, char *err, size_t errlen);
/* The temp file a synchronous save is writing ("" when none): a second
 * SIGINT during the shutdown save removes it before exiting, as Redis
 * does (main.c's signal handler reads it). */
extern char rdb_save_temp_path[4096];
/* SAVE's file handling: write dir/dbfilename through a temp file, fsync,
 * rename, fsync the directory. 0 ok, -1 with a message in err. */
int rdb_save_file(const char *path, char *err, size_t errlen);

/* Replication's aux fields (repl-stream-db, repl-id, repl-offset), set by
 * repl/ at start-up: the writer calls rdb_extra_aux after its own header
 * fields (not in an AOF preamble); the keyspace loader hands every aux
 * field to rdb_aux_listener. NULL: none. */
extern int (*rdb_extra_aux)(rdb_writer *w);
extern void (*rdb_aux_listener)(const char *k, size_t klen, const char *v, size_t vlen);

/* ---- loading ---- */

/* Set by a replica loading its master's RDB: keys whose TTL has passed
 * are kept (the master's DEL removes them), as Redis does. */
extern int rdb_load_keep_expired;

typedef struct rdb_load_stats {
    long long keys_loaded;
    long long keys_expired;     /* had a TTL already past, not loaded */
    long long empty_keys_skipped; /* empty aggregates, skipped as Redis does */
    long long keys_per_type[TYPE_COUNT];
    int version;
    long long bytes;            /* bytes read */
    double seconds;
} rdb_load_stats;

/* Load a file into the keyspace (replacing it when, and only when, the
 * file was read completely). 0 ok; -1 with a message naming the file
 * and offset in err (the keyspace is unchanged). A missing file is
 * error -1 with errno ENOENT. */
int rdb_load_file(const char *path, rdb_load_stats *st, char *err, size_t errlen);
/* Same from memory (name is used in messages). */
int rdb_load_mem(const char *name, const unsigned char *buf, size_t len, rdb_load_stats *st,
                 char *err, size_t errlen);
/* DEBUG RELOAD's options: NOFLUSH loads over the current keys and
 * libraries (a key or library already there is an error), MERGE lets the
 * file's replace them. Without NOFLUSH a failed load changes nothing;
 * with it, what was loaded before the error stays. */
#define RDB_LOAD_NOFLUSH 1
#define RDB_LOAD_MERGE 2
/* A replica's load of its master's file: the old dataset is freed in the
 * background (replica-lazy-flush), clients are served meanwhile (-LOADING). */
#define RDB_LOAD_LAZY_FREE 4
#define RDB_LOAD_SERVE_CLIENTS 8
int rdb_load_file_flags(const char *path, int flags, rdb_load_stats *st, char *err, size_t errlen);

/* Key-by-key form: each key is handed to on_key with what the file says
 * about it (expire in unix ms or -1, LRU idle seconds or -1, LFU counter or
 * -1); on_key owns the entry afterwards. Keys already expired are handed
 * over too (the keyspace loader drops and counts them). Aux fields go to
 * on_aux when set. Returns 0 or -1 with err. */
typedef struct rdb_key_info {
    int dbid;
    long long expire_ms;
    long long idle_s;
    int freq;
    int file_type;                /* the value's RDB type byte */
    unsigned long long file_bytes; /* type byte, key and value in the file */
    size_t offset; /* bytes of the input consumed, this key included */
} rdb_key_info;
typedef struct rdb_visitor {
    void *priv;
    void (*on_aux)(void *priv, const char *key, size_t klen, const char *val, size_t vlen);
    void (*on_db)(void *priv, int dbid, unsigned long long keys, unsigned long long expires);
    /* Return 0 to continue, -1 to stop with an error. */
    int (*on_key)(void *priv, const rdb_key_info *ki, entry *e);
    void (*on_warning)(void *priv, const char *msg);
    /* A function library's code (opcode FUNCTION2); NULL skips them.
     * Return -1 to stop with an error left in key_error. */
    int (*on_function)(void *priv, const char *code, size_t len);
    /* Where on_key leaves the reason it refused a key (may be NULL). */
    const char *key_error;
} rdb_visitor;
/* Streaming input (a replica's diskless load): the parser reads what it
 * needs when it needs it, holding about one key at a time. */
typedef struct rdb_source {
    /* Up to cap bytes into buf: > 0 bytes, 0 end of input, -1 error (the
     * source says why in its own log line). May block. */
    long (*read)(void *ctx, void *buf, size_t cap);
    /* Bytes read past the RDB's end (after its CRC), handed back after a
     * successful parse (may be NULL). */
    void (*unread)(void *ctx, const void *p, size_t n);
    void *ctx;
    long long total; /* input size when known (`$len`), -1 otherwise */
} rdb_source;
int rdb_parse_source(const char *name, const rdb_source *src, const rdb_visitor *v, rdb_load_stats *st,
                     char *err, size_t errlen);
/* Load a stream into the keyspace as rdb_load_file does; with async set
 * (repl-diskless-load swapdb, Keel serving reads meanwhile), clients see
 * the old dataset whenever they are served during the load, with
 * rdb_async_loading set instead of rdb_loading. lazy_free: the old
 * dataset is freed in the background (replica-lazy-flush). */
int rdb_load_source(const char *name, const rdb_source *src, int async, int lazy_free, rdb_load_stats *st,
                    char *err, size_t errlen);
/* A streaming source waiting for input calls this to serve clients as
 * the loader does between keys (no-op outside such a load). */
void rdb_load_serve_clients(void);
/* Set while an async load runs (INFO async_loading; dispatch answers
 * -LOADING only to commands flagged no-async-loading). */
extern int rdb_async_loading;
int rdb_parse_mem(const unsigned char *buf, size_t len, const rdb_visitor *v, rdb_load_stats *st,
                  char *err, size_t errlen);
int rdb_parse_file(const char *path, const rdb_visitor *v, rdb_load_stats *st, char *err,
                   size_t errlen);
/* rdb_parse_mem with the name messages use (a file name). */
int rdb_parse_named(const char *name, const unsigned char *buf, size_t len, const rdb_visitor *v,
                    rdb_load_stats *st, char *err, size_t errlen);
/* Map a whole file read-only (0 ok, -1 with a message). */
int rdb_map_file(const char *path, const unsigned char **buf, size_t *len, char *err, size_t errlen);
void rdb_unmap_file(const unsigned char *buf, size_t len);
/* Whether t is a value type byte (loadable or not) rather than an opcode
 * or garbage. */
int rdb_is_value_type(int t);

/* ---- scanning: one summary per key (keel-cli --rdb-report) ----
 *
 * The key-by-key form above, reduced to what a memory report needs: each
 * key is built, measured and freed before the next is read, so a scan
 * holds one key at a time whatever the file's size. mem_bytes follows
 * the model in docs/CLI_MEMORY.md ("Size model"): what Keel's MEMORY USAGE key
 * SAMPLES 0 reports for that key once loaded. */
typedef struct rdb_key_summary {
    int dbid;
    const char *key;
    size_t klen;
    int type;                       /* TYPE_* */
    const char *encoding;           /* as the file stores it, in redis-rdb-tools' words */
    const char *keel_encoding;      /* OBJECT ENCODING once loaded into Keel */
    unsigned long long elements;    /* strings: their length */
    unsigned long long largest;     /* longest element (hashes: field or value) */
    long long expire_ms;            /* unix ms, -1 when none */
    long long idle_s;               /* -1 when the file has none */
    int freq;                       /* -1 when the file has none */
    unsigned long long file_bytes;  /* bytes the key takes in the file */
    unsigned long long mem_bytes;   /* size model estimate */
} rdb_key_summary;
typedef struct rdb_scan_visitor {
    void *priv;
    void (*on_aux)(void *priv, const char *key, size_t klen, const char *val, size_t vlen);
    /* Return 0 to continue, -1 to stop (the scan then fails with "stopped"). */
    int (*on_key)(void *priv, const rdb_key_summary *ks);
    void (*on_warning)(void *priv, const char *msg);
} rdb_scan_visitor;
int rdb_scan_file(const char *path, const rdb_scan_visitor *v, rdb_load_stats *st, char *err, size_t errlen);
/* redis-rdb-tools' name of the encoding an RDB type byte stores. */
const char *rdb_type_encoding_name(int file_type);

/* dir/dbfilename as the server sees it. */
void rdb_file_path(char *buf, size_t len);
/* SAVE: the keyspace to dir/dbfilename, logged; resets the dirty counter
 * and sets rdb_last_save_time. 0 ok, -1 with a message. */
int rdb_save(char *err, size_t errlen);
extern long long rdb_last_save_time;

/* Start-up: load dir/dbfilename if it exists, logging as Redis does.
 * 0 ok or no file; -1 on a refused file (the caller exits 1). */
int rdb_load_at_startup(void);

/* Set while a load into the keyspace is under way (dispatch answers
 * -LOADING). */
extern int rdb_loading;
/* The error, without the leading "-" (reply_error adds it). */
#define RDB_LOADING_ERR "LOADING Redis is loading the dataset in memory"

/* Figures of the last load (INFO persistence). */
extern long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;

/* ---- DUMP / RESTORE payloads ---- */

/* value + 2-byte RDB version + CRC64 (little-endian). Caller frees *out
 * with zfree. */
int rdb_dump_payload(const entry *e, unsigned char **out, size_t *outlen);
/* Check version and CRC: 0 ok, -1 bad. */
int rdb_verify_payload(const unsigned char *p, size_t len);
/* Decode a checked payload's value into a new entry for key (expire -1).
 * deep: validate listpacks/intsets fully (sanitize-dump-payload). NULL on
 * bad data, with the reason in err (err may be NULL). */
entry *rdb_decode_payload(const unsigned char *p, size_t len, const char *key, size_t klen,
                          int deep, char *err, size_t errlen);

#endif
