/*
 * debug_cmds: DEBUG, behind enable-debug-command as in Redis: SLEEP,
 * POPULATE, OBJECT, DIGEST, DIGEST-VALUE, PROTOCOL, SET-ACTIVE-EXPIRE, LOG,
 * ERROR, and the knobs Redis's own test suite turns.
 *
 * Some of those knobs name machinery Keel does not have; DEBUG accepts
 * them with Redis's validation and replies, so that a test written for
 * Redis runs what it means to test (list commands on big elements, say)
 * instead of stopping at its set-up. Each says below what it does here:
 * QUICKLIST-PACKED-THRESHOLD (no plain nodes: every element lives in a
 * listpack node), REPLYBUFFER (reply buffers are chains of blocks with no
 * resize cron).
 */
#include "cluster/cluster.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/sha1.h"
#include "script/script.h"
#include "lib/siphash.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "persist/aof.h"
#include "persist/rdb.h"
#include "repl/repl.h"
#include "types/stream.h"
#include "types/types.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- DEBUG ---- */

static void debug_populate(client *c) {
    long long count, size = 0;
    if (!parse_ll(c, c->argv[2], &count)) return;
    if (count < 0) {
        reply_error(c, "ERR count is negative");
        return;
    }
    const char *prefix = c->argc >= 4 ? c->argv[3] : "key";
    if (c->argc >= 5) {
        if (!parse_ll(c, c->argv[4], &size)) return;
        if (size < 0) {
            reply_error(c, "ERR size is negative");
            return;
        }
    }
    if (c->argc > 5) {
        reply_error_syntax(c);
        return;
    }
    size_t plen = c->argc >= 4 ? kstr_len(c->argv[3]) : 3;
    db_reserve(c->db, db_size(c->db) + (size_t)count);
    kstr key = kstr_empty(), val = kstr_empty();
    for (long long i = 0; i < count; i++) {
        key = kstr_cpy_len(key, prefix, plen);
        key = kstr_cat_printf(key, ":%lld", i);
        if (db_find(c->db, key, kstr_len(key))) continue;
        kstr_clear(val);
        val = kstr_cat_printf(val, "value:%lld", i);
        if (size) {
            size_t have = kstr_len(val);
            if ((size_t)size < have) kstr_set_len(val, (size_t)size);
            else val = kstr_grow_zero(val, (size_t)size);
        }
        db_add(c->db, entry_new_string(key, kstr_len(key), val, kstr_len(val), -1));
    }
    kstr_free(key);
    kstr_free(val);
    reply_ok(c);
}

/* DEBUG RELOAD [NOSAVE]: through the RDB file, as Redis does. */
static void debug_reload(client *c) {
    int save = 1, flags = 0;
    for (int j = 2; j < c->argc; j++) {
        if (arg_is(c->argv[j], "nosave")) save = 0;
        else if (arg_is(c->argv[j], "noflush")) flags |= RDB_LOAD_NOFLUSH;
        else if (arg_is(c->argv[j], "merge")) flags |= RDB_LOAD_MERGE;
        else {
            reply_error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    char err[512];
    if (save && rdb_save(err, sizeof(err)) < 0) {
        reply_error(c, "ERR");
        return;
    }
    char path[4096];
    rdb_file_path(path, sizeof(path));
    /* Without NOFLUSH the loader replaces keys and function libraries
     * (and puts them back if the file is refused). */
    if (rdb_load_file_flags(path, flags, NULL, err, sizeof(err)) < 0) {
        server_log(LOG_WARNING, "%s", err);
        reply_error(c, "ERR Error trying to load the RDB dump");
        return;
    }
    server_log(LOG_NOTICE, "DB reloaded by DEBUG RELOAD");
    reply_ok(c);
}

/* ---- DEBUG DIGEST / DIGEST-VALUE ----
 * A 160-bit content digest (40 hex digits) equal to Redis's for the same
 * data, so tests can compare a Keel dataset with a Redis one (RDB
 * interop). The scheme, as Redis defines it: xor(d, x) xors SHA1(x) into
 * d (order-free: set members, hash pairs, keys of a database); mix(d, x)
 * is d = SHA1(d xor SHA1(x)) (ordered: list elements, a string, the parts
 * of a pair). A value's digest mixes its type (32-bit big endian) then its
 * content; hash fields and sorted-set members get a digest of their own
 * (field then value; member then score as "%.17g") xored in; a key with a
 * TTL xors in "!!expire!!". The dataset digest mixes each non-empty
 * database's number (32-bit big endian) and xors in, per key, mix(key)
 * followed by the value's digest. */
typedef struct digest { uint8_t b[20]; } digest;

static void digest_xor_bytes(digest *d, const void *p, size_t len) {
    uint8_t h[20];
    sha1_digest(p, len, h);
    for (int i = 0; i < 20; i++) d->b[i] ^= h[i];
}

static void digest_mix(digest *d, const void *p, size_t len) {
    digest_xor_bytes(d, p, len);
    uint8_t h[20];
    sha1_digest(d->b, 20, h);
    memcpy(d->b, h, 20);
}

typedef struct digest_walk {
    int type;
    digest *acc;
    kstr pending; /* hash field waiting for its value */
} digest_walk;

static void digest_visit(void *priv, const char *s, size_t len, double score) {
    digest_walk *w = priv;
    if (w->type == TYPE_LIST) {
        digest_mix(w->acc, s, len);
    } else if (w->type == TYPE_SET) {
        digest_xor_bytes(w->acc, s, len);
    } else if (w->type == TYPE_HASH) {
        if (!w->pending) {
            w->pending = kstr_new_len(s, len);
            return;
        }
        digest el = {{0}};
        digest_mix(&el, w->pending, kstr_len(w->pending));
        digest_mix(&el, s, len);
        digest_xor_bytes(w->acc, el.b, 20);
        kstr_free(w->pending);
        w->pending = NULL;
    } else if (w->type == TYPE_ZSET) {
        char num[128];
        int n = snprintf(num, sizeof(num), "%.17g", score);
        digest el = {{0}};
        digest_mix(&el, s, len);
        digest_mix(&el, num, (size_t)n);
        digest_xor_bytes(w->acc, el.b, 20);
    }
}

/* Mix e's value (type, content, TTL marker) into d. */
static void digest_value(entry *e, digest *d) {
    int type = entry_type(e);
    uint8_t be[4] = {0, 0, 0, (uint8_t)type};
    digest_mix(d, be, 4);
    if (type == TYPE_STRING) {
        char buf[32];
        size_t len;
        const char *s = entry_string(e, buf, &len);
        digest_mix(d, s, len);
    } else if (type == TYPE_STREAM) {
        /* Redis: each entry's "ms.seq", then its fields and values, in
         * order (consumer groups are not part of the digest). */
        stream_iter it;
        stream_iter_start(&it, entry_ptr(e), (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, 0);
        while (stream_iter_next(&it)) {
            char id[64];
            int n = snprintf(id, sizeof(id), "%llu.%llu", (unsigned long long)it.id.ms, (unsigned long long)it.id.seq);
            digest_mix(d, id, (size_t)n);
            for (size_t i = 0; i < it.nfields; i++) {
                digest_mix(d, it.fields[i].f, it.fields[i].flen);
                digest_mix(d, it.fields[i].v, it.fields[i].vlen);
            }
        }
        stream_iter_stop(&it);
    } else {
        digest_walk w = {.type = type, .acc = d};
        const type_ops *ops = type_ops_for(type);
        if (ops && ops->iterate) ops->iterate(entry_encoding(e), entry_ptr(e), digest_visit, &w);
        kstr_free(w.pending);
    }
    if (entry_has_expire(e)) digest_xor_bytes(d, "!!expire!!", 10);
}

static void reply_digest(client *c, const digest *d) {
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + i * 2, 3, "%02x", d->b[i]);
    reply_status(c, hex);
}

static void debug_digest_value(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        /* Like Redis: logically expired keys are digested too. */
        entry *e = db_find(c->db, c->argv[j], kstr_len(c->argv[j]));
        digest d = {{0}};
        if (e) digest_value(e, &d);
        reply_digest(c, &d);
    }
}

/* The whole dataset. Keys already expired (not yet reclaimed) are left
 * out, so a digest taken before and after DEBUG RELOAD agrees. */
static void debug_digest(client *c) {
    digest all = {{0}};
    long long now = db_now_ms();
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        if (db_size(d) == 0) continue;
        uint8_t be[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        digest_mix(&all, be, 4);
        db_iter *it = db_iter_new(d);
        entry *e;
        while ((e = db_iter_next(it))) {
            if (entry_is_expired(e, now)) continue;
            size_t klen;
            const char *k = entry_key(e, &klen);
            digest kd = {{0}};
            digest_mix(&kd, k, klen);
            digest_value(e, &kd);
            digest_xor_bytes(&all, kd.b, 20);
        }
        db_iter_free(it);
    }
    reply_digest(c, &all);
}

/* DEBUG PROTOCOL <type>: one reply of each RESP type, for client tests.
 * Big numbers and attributes have no reply helper (only this command sends
 * them), so their RESP3 forms are written raw. */
static void debug_protocol_bignum(client *c) {
    static const char num[] = "1234567999999999999999999999999999999";
    if (c->resp >= 3) {
        reply_raw(c, "(", 1);
        reply_raw(c, num, sizeof(num) - 1);
        reply_raw(c, "\r\n", 2);
    } else {
        reply_bulk(c, num, sizeof(num) - 1);
    }
}

static void debug_protocol(client *c) {
    kstr t = c->argv[2];
    if (arg_is(t, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(t, "integer")) {
        reply_ll(c, 12345);
    } else if (arg_is(t, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(t, "bignum")) {
        debug_protocol_bignum(c);
    } else if (arg_is(t, "null")) {
        reply_null(c);
    } else if (arg_is(t, "array") || arg_is(t, "set")) {
        if (arg_is(t, "array")) reply_array_len(c, 3);
        else reply_set_len(c, 3);
        for (int j = 0; j < 3; j++) reply_ll(c, j);
    } else if (arg_is(t, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_ll(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(t, "attrib")) {
        if (c->resp >= 3) {
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_ll(c, 90);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(t, "push")) {
        if (c->resp < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push_len(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_ll(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(t, "true") || arg_is(t, "false")) {
        reply_bool(c, arg_is(t, "true"));
    } else if (arg_is(t, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/* DEBUG ERROR: the message goes out verbatim, error code included or not
 * ("LOADING ...", "foo"), as Redis sends it; only CR and LF are blanked so
 * that the reply stays one protocol line. */
static void debug_error(client *c, const kstr msg) {
    kstr line = kstr_cat_len(kstr_new("-"), msg, kstr_len(msg));
    for (size_t i = 0; i < kstr_len(line); i++)
        if (line[i] == '\r' || line[i] == '\n') line[i] = ' ';
    line = kstr_cat_len(line, "\r\n", 2);
    reply_raw(c, line, kstr_len(line));
    kstr_free(line);
}

/* ---- the test suite's knobs ---- */

static unsigned long long packed_threshold = 1ULL << 30;

/* Redis's range: up to 4GB minus 1MB; 0 restores the 1GB default. */
static void debug_packed_threshold(client *c) {
    long long sz;
    if (!parse_memory_size(c->argv[2], &sz) || sz < 0 || (unsigned long long)sz > (1ULL << 32) - (1 << 20)) {
        reply_error(c, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        return;
    }
    packed_threshold = sz ? (unsigned long long)sz : 1ULL << 30;
    reply_ok(c);
}

/* DEBUG LISTPACK / QUICKLIST <key>: Redis prints the structure on its
 * standard output; Keel logs the key's encoding and size at notice level. */
static void debug_show_encoding(client *c, int want_enc, const char *name) {
    entry *e = db_find(c->db, c->argv[2], kstr_len(c->argv[2]));
    if (!e) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (entry_encoding(e) != want_enc) {
        reply_errorf(c, "ERR Not a %s encoded object.", name);
        return;
    }
    server_log(LOG_NOTICE, "DEBUG %s %s: encoding %s", name, c->argv[2], entry_encoding_name(e));
    reply_status(c, want_enc == ENC_LISTPACK ? "Listpack structure printed on stdout"
                                             : "Quicklist structure printed on stdout");
}

static void debug_replybuffer(client *c) {
    if (arg_is(c->argv[2], "peak-reset-time")) {
        long long ms;
        if (!arg_is(c->argv[3], "never") && !arg_is(c->argv[3], "reset") && !parse_ll(c, c->argv[3], &ms)) return;
    } else if (arg_is(c->argv[2], "resizing")) {
        long long on;
        if (!parse_ll(c, c->argv[3], &on)) return;
    } else {
        reply_error(c, "ERR Syntax error");
        return;
    }
    reply_ok(c);
}

static void debug_command(client *c) {
    kstr sub = c->argv[1];
    if (arg_is(sub, "help")) {
        static const char *const help[] = {
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "CLUSTERLINK KILL <to|from|all> <node-id>",
            "    Kills the link based on the direction to/from (both) with the provided node.",
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "ERROR <string>",
            "    Reply with the error <string>, as given (client libraries test their",
            "    error handling with it: LOADING, READONLY, ...).",
            "LISTPACK <key>",
            "    Log the listpack encoding of <key> (Redis prints it on stdout).",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "LOADAOF",
            "    Flush the AOF buffer to disk, empty the dataset and replay the AOF.",
            "REPLICATE <command> [<arg> ...]",
            "    Send <command> to the replicas without running it here (for tests).",
            "RELOAD [NOSAVE]",
            "    Save the RDB on disk and reload it back to memory (NOSAVE: just reload).",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "QUICKLIST <key> [<0|1>]",
            "    Log the quicklist encoding of <key> (Redis prints it on stdout).",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Validated and kept; no effect: Keel's lists have no plain nodes, every",
            "    element lives in a listpack node whatever its size.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|time> | RESIZING <0|1>",
            "    Accepted; no effect (reply buffers are chains of blocks, never resized).",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background.",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "    Skip the CRC64 checks of RESTORE payloads and RDB loading (for tests).",
            "SET-DISABLE-DENY-SCRIPTS <0|1>",
            "    Let scripts call commands flagged no-script (for tests).",
            "AOF-FLUSH-SLEEP <microsec>",
            "    Sleep this long before each write of the AOF buffer (0: never).",
            "SEGFAULT",
            "    Crash the server with SIGSEGV (the crash report is logged).",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL,
        };
        reply_help(c, help);
    } else if ((rdb_loading || rdb_async_loading) &&
               (arg_is(sub, "reload") || arg_is(sub, "loadaof") || arg_is(sub, "populate"))) {
        /* DEBUG is served while a load runs: these would write into (or
         * replace) the half-loaded keyspace, or the old one an async load
         * shows meanwhile. */
        reply_error(c, RDB_LOADING_ERR);
    } else if (arg_is(sub, "aof-flush-sleep") && c->argc == 3) {
        long long usec;
        if (!parse_ll(c, c->argv[2], &usec)) return;
        aof_set_flush_sleep(usec < 0 ? 0 : (long)usec);
        reply_ok(c);
    } else if (arg_is(sub, "segfault") && c->argc == 2) {
        server_log(LOG_WARNING, "DEBUG SEGFAULT: crashing on purpose");
        raise(SIGSEGV); /* the crash report's own path (crash.c) */
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        double secs;
        if (!parse_double(c, c->argv[2], &secs)) return;
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if (arg_is(sub, "reload")) {
        debug_reload(c);
    } else if (arg_is(sub, "loadaof") && c->argc == 2) {
        const char *err;
        if (aof_debug_reload(&err) < 0) reply_error(c, err);
        else reply_ok(c);
    } else if (arg_is(sub, "digest") && c->argc == 2) {
        debug_digest(c);
    } else if (arg_is(sub, "digest-value") && c->argc >= 2) {
        debug_digest_value(c);
    } else if (arg_is(sub, "populate") && c->argc >= 3) {
        debug_populate(c);
    } else if (arg_is(sub, "object") && c->argc == 3) {
        entry *e = db_find(c->db, c->argv[2], kstr_len(c->argv[2]));
        if (!e) {
            reply_error(c, "ERR no such key");
            return;
        }
        char buf[32];
        size_t len = 0;
        if (entry_type(e) == TYPE_STRING) entry_string(e, buf, &len);
        uint32_t lru = entry_lru(e);
        long long idle = memory_entry_idle_seconds(e);
        kstr s = kstr_cat_printf(kstr_empty(),
                                 "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lld",
                                 (void *)e, entry_encoding_name(e), len, lru, idle);
        reply_status(c, s);
        kstr_free(s);
    } else if (arg_is(sub, "error") && c->argc == 3) {
        debug_error(c, c->argv[2]);
    } else if (arg_is(sub, "log") && c->argc == 3) {
        server_log(LOG_WARNING, "DEBUG LOG: %s", c->argv[2]);
        reply_ok(c);
    } else if (arg_is(sub, "quicklist-packed-threshold") && c->argc == 3) {
        debug_packed_threshold(c);
    } else if (arg_is(sub, "listpack") && c->argc == 3) {
        debug_show_encoding(c, ENC_LISTPACK, "listpack");
    } else if (arg_is(sub, "quicklist") && (c->argc == 3 || c->argc == 4)) {
        debug_show_encoding(c, ENC_QUICKLIST, "quicklist");
    } else if (arg_is(sub, "replybuffer") && c->argc == 4) {
        debug_replybuffer(c);
    } else if (arg_is(sub, "pause-cron") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        server_pause_cron(v != 0);
        reply_ok(c);
    } else if (arg_is(sub, "change-repl-id") && c->argc == 2) {
        server_log(LOG_WARNING, "Changing replication IDs after receiving DEBUG change-repl-id");
        repl_change_replid();
        reply_ok(c);
    } else if (arg_is(sub, "replicate") && c->argc >= 3) {
        repl_feed_replicas_only(c->argc - 2, c->argv + 2);
        reply_ok(c);
    } else if (arg_is(sub, "drop-cluster-packet-filter") && c->argc == 3) {
        long long type;
        if (!parse_ll(c, c->argv[2], &type)) return;
        cluster_debug_drop_packets((int)type);
        reply_ok(c);
    } else if (arg_is(sub, "clusterlink") && c->argc == 5 && arg_is(c->argv[2], "kill")) {
        int r = cluster_debug_kill_links(c->argv[3], c->argv[4], kstr_len(c->argv[4]));
        if (r == -1) reply_error(c, "ERR Debug option only available for cluster mode enabled setup!");
        else if (r == -2) reply_errorf(c, "ERR Unknown node %s", c->argv[4]);
        else if (r == -3) reply_errorf(c, "ERR Unknown direction %s", c->argv[3]);
        else reply_ok(c);
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        server.active_expire_enabled = v != 0;
        reply_ok(c);
    } else if (arg_is(sub, "set-skip-checksum-validation") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        rdb_skip_checksum = v != 0;
        reply_ok(c);
    } else if (arg_is(sub, "set-disable-deny-scripts") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        script_set_disable_deny(v != 0);
        reply_ok(c);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", sub);
    }
}command debug_commands[] = {
    {"debug", debug_command, -2, "admin noscript loading stale protected", 0, 0, 0, "server", "1.0.0", "Debugging commands.", NULL},
    {0},
};
