/*
 * debug_cmds: DEBUG, behind enable-debug-command as in Redis: SLEEP,
 * POPULATE, OBJECT, DIGEST, DIGEST-VALUE, PROTOCOL, SET-ACTIVE-EXPIRE.
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "script/script.h"
#include "lib/siphash.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "types/types.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- DEBUG ---- */

static int debug_allowed(client *c) {
    if (server.enable_debug_cmd == 1) return 1;
    if (server.enable_debug_cmd == 2 &&
        ((c->flags & CLIENT_UNIX_SOCKET) || !strncmp(c->addr, "127.", 4) || !strncmp(c->addr, "::1:", 4)))
        return 1;
    reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
                   "can run it from a local connection, otherwise you need to set this option in the "
                   "configuration file, and then restart the server.");
    return 0;
}

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

/* ---- DEBUG DIGEST / DIGEST-VALUE ----
 * A 160-bit content digest (printed as 40 hex digits, like Redis's) used by
 * tests to compare datasets, e.g. a key before and after COPY. The values
 * differ from Redis's (they only have to be stable within one server): three
 * keyed SipHashes give 160 bits. Ordered values (strings, lists, sorted sets)
 * chain element digests; unordered ones (sets, hashes) XOR them, so two
 * equal values compare equal whatever their encoding or table layout. */
typedef struct digest { uint8_t b[20]; } digest;

static void digest_bytes(digest *out, const void *p, size_t len) {
    static const uint8_t keys[3][16] = {
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '0', 1, 2, 3, 4},
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '1', 5, 6, 7, 8},
        {'k', 'e', 'e', 'l', 'd', 'i', 'g', 'e', 's', 't', '-', '2', 9, 10, 11, 12},
    };
    for (int i = 0; i < 3; i++) {
        uint64_t h = siphash_rounds(p, len, keys[i], 2, 4);
        memcpy(out->b + i * 8, &h, i < 2 ? 8 : 4);
    }
}

static void digest_xor(digest *acc, const digest *d) {
    for (int i = 0; i < 20; i++) acc->b[i] ^= d->b[i];
}

/* acc = H(acc || element): order-dependent accumulation. */
static void digest_chain(digest *acc, const void *p, size_t len) {
    kstr buf = kstr_new_len((const char *)acc->b, sizeof(acc->b));
    buf = kstr_cat_len(buf, p, len);
    digest_bytes(acc, buf, kstr_len(buf));
    kstr_free(buf);
}

typedef struct digest_walk {
    int type;
    digest acc;
    kstr pending; /* hash field waiting for its value */
} digest_walk;

static void digest_visit(void *priv, const char *s, size_t len, double score) {
    digest_walk *w = priv;
    digest d;
    if (w->type == TYPE_SET) {
        digest_bytes(&d, s, len);
        digest_xor(&w->acc, &d);
    } else if (w->type == TYPE_HASH) {
        if (!w->pending) {
            w->pending = kstr_new_len(s, len);
            return;
        }
        /* Length-prefix the field so ("ab","c") differs from ("a","bc"). */
        kstr pair = kstr_cat_printf(kstr_empty(), "%zu:", kstr_len(w->pending));
        pair = kstr_cat_len(pair, w->pending, kstr_len(w->pending));
        pair = kstr_cat_len(pair, s, len);
        digest_bytes(&d, pair, kstr_len(pair));
        digest_xor(&w->acc, &d);
        kstr_free(pair);
        kstr_free(w->pending);
        w->pending = NULL;
    } else {
        digest_chain(&w->acc, s, len);
        if (w->type == TYPE_ZSET) {
            char num[64];
            int n = snprintf(num, sizeof(num), "%.17g", score);
            digest_chain(&w->acc, num, (size_t)n);
        }
    }
}

static void digest_value(entry *e, digest *out) {
    digest_walk w = {.type = entry_type(e)};
    if (w.type == TYPE_STRING) {
        char buf[32];
        size_t len;
        const char *s = entry_string(e, buf, &len);
        digest_chain(&w.acc, s, len);
    } else {
        const type_ops *ops = type_ops_for(w.type);
        if (ops && ops->iterate) ops->iterate(entry_encoding(e), entry_ptr(e), digest_visit, &w);
        kstr_free(w.pending);
    }
    /* Mix the type in so an empty-looking list and set differ. */
    digest_chain(&w.acc, &w.type, sizeof(w.type));
    *out = w.acc;
}

static void reply_digest(client *c, const digest *d) {
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + i * 2, 3, "%02x", d->b[i]);
    reply_status(c, hex);
}

static void debug_digest_value(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        entry *e = db_lookup(c->db, c->argv[j], kstr_len(c->argv[j]), LOOKUP_NOTOUCH | LOOKUP_NOSTATS);
        digest d = {{0}};
        if (e) digest_value(e, &d);
        reply_digest(c, &d);
    }
}

/* The whole dataset: per key H(db, key, value digest, expire), XORed. */
static void debug_digest(client *c) {
    digest all = {{0}};
    long long now = db_now_ms();
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        db_iter *it = db_iter_new(d);
        entry *e;
        while ((e = db_iter_next(it))) {
            if (entry_is_expired(e, now)) continue;
            size_t klen;
            const char *k = entry_key(e, &klen);
            digest kd;
            digest_value(e, &kd);
            long long expire = entry_expire(e);
            digest_chain(&kd, &i, sizeof(i));
            digest_chain(&kd, k, klen);
            digest_chain(&kd, &expire, sizeof(expire));
            digest_xor(&all, &kd);
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

static void debug_command(client *c) {
    if (!debug_allowed(c)) return;
    kstr sub = c->argv[1];
    if (arg_is(sub, "help")) {
        static const char *const help[] = {
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Reply with the error <string>, as given (client libraries test their",
            "    error handling with it: LOADING, READONLY, ...).",
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background.",
            "SET-DISABLE-DENY-SCRIPTS <0|1>",
            "    Let scripts call commands flagged no-script (for tests).",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL,
        };
        reply_help(c, help);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        double secs;
        if (!parse_double(c, c->argv[2], &secs)) return;
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
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
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        long long v;
        if (!parse_ll(c, c->argv[2], &v)) return;
        server.active_expire_enabled = v != 0;
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
    {"debug", debug_command, -2, "admin noscript loading stale", 0, 0, 0, "server", "1.0.0", "Debugging commands.", NULL},
    {0},
};
