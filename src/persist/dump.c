/*
 * dump.c: DUMP and RESTORE, with Redis's payload: the value in RDB
 * encoding, the 2-byte RDB version (10) and a CRC64 of both, little
 * endian. A payload from Redis 7.0 (or any writer up to RDB 12: Keel
 * reads newer encodings than Redis 7.0 does) restores here and Keel's
 * payloads restore in Redis 7.0.
 *
 * RESTORE checks the payload's version and CRC, then decodes with the RDB
 * loader, which checks every length and, for packed encodings, every
 * element (whatever sanitize-dump-payload says: the check is one pass
 * over data the loader walks anyway). Bad input gets Redis's errors.
 */
#include <string.h>

#include "core/propagate.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "persist/persist_cmds.h"
#include "persist/rdb.h"
#include "types/hash_ttl.h"

static void dump_command(client *c) {
    entry *e = lookup_read(c, c->argv[1]);
    if (!e) {
        reply_null(c);
        return;
    }
    unsigned char *p;
    size_t len;
    if (rdb_dump_payload(e, &p, &len) < 0) {
        reply_error(c, "ERR this key's type cannot be dumped yet");
        return;
    }
    reply_bulk(c, p, len);
    zfree(p);
}

typedef struct restore_opts {
    int replace, absttl;
    long long idle, freq;
} restore_opts;

static int parse_restore_opts(client *c, restore_opts *o) {
    o->replace = o->absttl = 0;
    o->idle = o->freq = -1;
    for (int j = 4; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (arg_is(c->argv[j], "replace")) {
            o->replace = 1;
        } else if (arg_is(c->argv[j], "absttl")) {
            o->absttl = 1;
        } else if (arg_is(c->argv[j], "idletime") && more && o->freq == -1) {
            if (!parse_ll(c, c->argv[++j], &o->idle)) return 0;
            if (o->idle < 0) {
                reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return 0;
            }
        } else if (arg_is(c->argv[j], "freq") && more && o->idle == -1) {
            if (!parse_ll(c, c->argv[++j], &o->freq)) return 0;
            if (o->freq < 0 || o->freq > 255) {
                reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return 0;
            }
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

/* A relative TTL is replayed as an absolute one (ABSTTL), as Redis does,
 * so that a reload does not extend it. */
static void propagate_restore_absttl(client *c, long long when_ms) {
    if (!propagate_wanted()) return;
    kstr *argv = zmalloc(sizeof(kstr) * (size_t)(c->argc + 1));
    for (int i = 0; i < c->argc; i++) argv[i] = i == 2 ? kstr_from_ll(when_ms) : kstr_dup(c->argv[i]);
    argv[c->argc] = kstr_new("ABSTTL");
    propagate_rewrite(c, c->argc + 1, argv);
    zfree(argv);
}

static void restore_command(client *c) {
    restore_opts o;
    long long ttl;
    if (!parse_restore_opts(c, &o)) return;
    if (!parse_ll(c, c->argv[2], &ttl)) return;
    if (ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    kstr key = c->argv[1];
    if (!o.replace && lookup_write(c, key)) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[3];
    size_t len = kstr_len(c->argv[3]);
    if (rdb_verify_payload(p, len) < 0) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    char why[320];
    entry *e = rdb_decode_payload(p, len, key, kstr_len(key), rdb_sanitize_payload != 0, why, sizeof(why));
    if (!e) {
        /* Logged at verbose level as Redis does (a client's bad input is
         * not the server's problem), so that one can see why. */
        server_log(LOG_VERBOSE, "RESTORE refused a payload: %s", why);
        reply_error(c, "ERR Bad data format");
        return;
    }
    int deleted = o.replace && db_delete(c->db, key, kstr_len(key));
    if (ttl && !o.absttl) ttl += server_mstime();
    if (ttl && ttl < server_mstime()) {
        /* Already expired: the key is not created (but REPLACE deleted). */
        entry_free(e);
        if (deleted) {
            signal_modified_key(c, c->db, key);
            notify_keyspace_event(0, "del", key, db_id(c->db));
            propagate_rewritef(c, "sk", "DEL", key);
        }
        reply_ok(c);
        return;
    }
    db_add(c->db, e);
    hash_ttl_track(c->db, e); /* field TTLs (a Redis 7.4 payload) */
    if (ttl) e = db_set_expire(c->db, e, ttl);
    if (o.idle >= 0) memory_entry_set_idle_seconds(e, o.idle);
    if (o.freq >= 0) memory_entry_set_lfu_counter(e, (int)o.freq);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(0, "restore", key, db_id(c->db));
    if (ttl && !o.absttl) propagate_restore_absttl(c, ttl);
    reply_ok(c);
}

command dump_commands[] = {
    {"dump", dump_command, 2, "readonly", 1, 1, 1, "generic", "2.6.0",
     "Return a serialized version of the value stored at the specified key.", NULL},
    {"restore", restore_command, -4, "write denyoom", 1, 1, 1, "generic", "2.6.0",
     "Create a key using the provided serialized value, previously obtained using DUMP.", NULL},
    {NULL},
};
