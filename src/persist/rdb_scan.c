/*
 * rdb_scan: the loader's key-by-key form reduced to one summary per key,
 * for memory reports made from a dump (keel-cli --rdb-report), in the
 * spirit of redis-rdb-tools' memory profiler but without a second RDB
 * parser: every byte is read by rdb_load.c, so a report accepts exactly
 * the files the server loads (RDB 1 to 12, Redis 2.x to 7.4, Valkey, Keel).
 *
 * Each key is built as the server would build it, measured (element
 * count, longest element, the size model's estimate) and freed before
 * the next key is read: the scan holds one key at a time, never the
 * dataset. The estimate is the server's own MEMORY USAGE arithmetic
 * (memory_entry_usage_offline), so for a dump Keel wrote the report
 * agrees with what MEMORY USAGE said of the same keys before the save.
 */
#include "persist/rdb.h"

#include <string.h>

#include "core/entry.h"
#include "memory/memory.h"
#include "types/stream.h"
#include "types/types.h"

const char *rdb_type_encoding_name(int t) {
    switch (t) {
    case RDB_TYPE_STRING: return "string";
    case RDB_TYPE_LIST: return "linkedlist";
    case RDB_TYPE_LIST_ZIPLIST: return "ziplist";
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2: return "quicklist";
    case RDB_TYPE_SET:
    case RDB_TYPE_HASH:
    case RDB_TYPE_HASH_METADATA_PRE_GA:
    case RDB_TYPE_HASH_METADATA: return "hashtable";
    case RDB_TYPE_SET_INTSET: return "intset";
    case RDB_TYPE_SET_LISTPACK:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_HASH_LISTPACK_EX_PRE_GA:
    case RDB_TYPE_HASH_LISTPACK_EX: return "listpack";
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2: return "skiplist";
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_HASH_ZIPLIST: return "ziplist";
    case RDB_TYPE_HASH_ZIPMAP: return "zipmap";
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3: return "stream";
    default: return "unknown";
    }
}

typedef struct scan_ctx {
    const rdb_scan_visitor *v;
} scan_ctx;

static void note_longest(void *priv, const char *s, size_t len, double score) {
    (void)s;
    (void)score;
    unsigned long long *longest = priv;
    if (len > *longest) *longest = len;
}

/* Element count and longest element, as redis-rdb-tools counts them
 * (a string is one "element" per byte; streams count entries). */
static void measure_elements(const entry *e, rdb_key_summary *ks) {
    int type = entry_type(e);
    const type_ops *ops = type_ops_for(type);
    if (type == TYPE_STRING) {
        char buf[32];
        size_t len;
        entry_string(e, buf, &len);
        ks->elements = ks->largest = len;
        return;
    }
    int enc = entry_encoding(e);
    void *ptr = entry_ptr(e);
    if (type == TYPE_STREAM) {
        ks->elements = ((const stream *)ptr)->length; /* entries (type_ops' length counts nodes) */
        return;
    }
    ks->elements = ops && ops->length ? ops->length(enc, ptr) : 0;
    if (ops && ops->iterate) ops->iterate(enc, ptr, note_longest, &ks->largest);
}

static int scan_key(void *priv, const rdb_key_info *ki, entry *e) {
    scan_ctx *sc = priv;
    /* The TTL is set on the entry so that its layout (8 more bytes) and
     * the expires table share count, as MEMORY USAGE counts them. */
    if (ki->expire_ms >= 0) e = entry_set_expire(e, ki->expire_ms);
    rdb_key_summary ks;
    memset(&ks, 0, sizeof(ks));
    ks.dbid = ki->dbid;
    ks.key = entry_key(e, &ks.klen);
    ks.type = entry_type(e);
    ks.encoding = rdb_type_encoding_name(ki->file_type);
    ks.keel_encoding = entry_encoding_name(e);
    ks.expire_ms = ki->expire_ms;
    ks.idle_s = ki->idle_s;
    ks.freq = ki->freq;
    ks.file_bytes = ki->file_bytes;
    measure_elements(e, &ks);
    ks.mem_bytes = memory_entry_usage_offline(e);
    int rc = sc->v->on_key ? sc->v->on_key(sc->v->priv, &ks) : 0;
    entry_free(e);
    return rc;
}

static void scan_aux(void *priv, const char *k, size_t klen, const char *val, size_t vlen) {
    scan_ctx *sc = priv;
    if (sc->v->on_aux) sc->v->on_aux(sc->v->priv, k, klen, val, vlen);
}

static void scan_warning(void *priv, const char *msg) {
    scan_ctx *sc = priv;
    if (sc->v->on_warning) sc->v->on_warning(sc->v->priv, msg);
}

int rdb_scan_file(const char *path, const rdb_scan_visitor *v, rdb_load_stats *st, char *err, size_t errlen) {
    scan_ctx sc = {.v = v};
    rdb_visitor lv = {.priv = &sc, .on_aux = scan_aux, .on_key = scan_key, .on_warning = scan_warning,
                      .key_error = "stopped by the report"};
    return rdb_parse_file(path, &lv, st, err, errlen);
}
