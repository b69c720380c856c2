/*
 * stream_cmd: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, the
 * helpers every stream command shares (stream_cmd.h), and the stream
 * command table. Reads are in stream_read.c, consumer groups in
 * stream_group_cmd.c, XINFO in stream_info.c.
 */
#include "types/stream_cmd.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

int stream_parse_id(client *c, const kstr arg, uint64_t missing_seq, stream_id *id, int *seq_given) {
    if (stream_id_parse(arg, kstr_len(arg), missing_seq, id, seq_given, 0)) return 1;
    reply_error(c, "ERR Invalid stream ID specified as stream command argument");
    return 0;
}

int stream_parse_range_id(client *c, const kstr arg, int is_end, stream_id *id) {
    int exclusive = kstr_len(arg) > 1 && arg[0] == '(';
    const char *s = arg + exclusive;
    size_t len = kstr_len(arg) - (size_t)exclusive;
    /* An exclusive bound must be a real ID: "(-" and "(+" are not. */
    if (!stream_id_parse(s, len, is_end ? UINT64_MAX : 0, id, NULL, exclusive)) {
        reply_error(c, "ERR Invalid stream ID specified as stream command argument");
        return 0;
    }
    if (exclusive && !(is_end ? stream_id_decr(id) : stream_id_incr(id))) {
        reply_error(c, is_end ? "ERR invalid end ID for the interval" : "ERR invalid start ID for the interval");
        return 0;
    }
    return 1;
}

stream *stream_lookup_read(client *c, const kstr key, int *wrong) {
    entry *e = lookup_read_typed(c, key, TYPE_STREAM, wrong);
    return e ? entry_ptr(e) : NULL;
}

stream *stream_lookup_write(client *c, const kstr key, int *wrong) {
    entry *e = lookup_write_typed(c, key, TYPE_STREAM, wrong);
    return e ? entry_ptr(e) : NULL;
}

void reply_stream_id(client *c, stream_id id) {
    char buf[48];
    int n = stream_id_format(id, buf);
    reply_bulk(c, buf, (size_t)n);
}

void reply_stream_entry(client *c, const stream_iter *it) {
    reply_array_len(c, 2);
    reply_stream_id(c, it->id);
    reply_array_len(c, (long)it->nfields * 2);
    for (size_t i = 0; i < it->nfields; i++) {
        reply_bulk(c, it->fields[i].f, it->fields[i].flen);
        reply_bulk(c, it->fields[i].v, it->fields[i].vlen);
    }
}

long stream_reply_range(client *c, stream *s, stream_id start, stream_id end, long long count, int rev,
                        stream_cg *g, stream_consumer *cons, int noack) {
    void *len = reply_deferred_len(c);
    long n = 0;
    stream_iter it;
    stream_iter_start(&it, s, start, end, rev);
    while ((count == 0 || n < count) && stream_iter_next(&it)) {
        if (g) {
            stream_group_advance(s, g, it.id);
            if (!noack) {
                stream_nack *old = stream_pel_find(&g->pel, it.id);
                if (old) { /* re-delivered after XGROUP SETID: reset it */
                    stream_nack_assign(old, cons);
                    old->delivery_time = server_mstime();
                    old->delivery_count = 1;
                } else {
                    stream_nack_add(g, cons, it.id, server_mstime());
                }
            }
        }
        reply_stream_entry(c, &it);
        n++;
    }
    stream_iter_stop(&it);
    reply_set_deferred_array_len(c, len, n);
    return n;
}

void stream_signal_write(client *c, const kstr key, const char *event) {
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_STREAM, event, key, db_id(c->db));
}

stream_consumer *stream_consumer_for(client *c, const kstr key, stream_cg *g, const kstr name) {
    int created;
    stream_consumer *cons = stream_consumer_get(g, name, kstr_len(name), &created);
    if (created) notify_keyspace_event(NOTIFY_STREAM, "xgroup-createconsumer", key, db_id(c->db));
    return cons;
}

/* ---- trimming arguments (XADD, XTRIM) ---- */

typedef struct trim_args {
    int strategy;           /* 0 none, 1 MAXLEN, 2 MINID */
    int approx;
    uint64_t maxlen;
    stream_id minid;
    long long limit;        /* -1 not given */
} trim_args;

/* Parse MAXLEN|MINID [=|~] threshold at argv[*i]; returns 0 after
 * replying on error. */
static int parse_trim_strategy(client *c, int *i, trim_args *t) {
    int is_maxlen = arg_is(c->argv[*i], "maxlen");
    if (t->strategy) {
        reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return 0;
    }
    if (*i + 1 >= c->argc) { reply_error_syntax(c); return 0; }
    (*i)++;
    if (!strcmp(c->argv[*i], "~") || !strcmp(c->argv[*i], "=")) {
        t->approx = c->argv[*i][0] == '~';
        if (*i + 1 >= c->argc) { reply_error_syntax(c); return 0; }
        (*i)++;
    }
    if (is_maxlen) {
        long long v;
        if (!parse_ll(c, c->argv[*i], &v)) return 0;
        if (v < 0) { reply_error(c, "ERR The MAXLEN argument must be >= 0."); return 0; }
        t->maxlen = (uint64_t)v;
        t->strategy = 1;
    } else {
        if (!stream_parse_id(c, c->argv[*i], 0, &t->minid, NULL)) return 0;
        t->strategy = 2;
    }
    (*i)++;
    return 1;
}

static int parse_limit(client *c, int *i, trim_args *t) {
    if (*i + 1 >= c->argc) { reply_error_syntax(c); return 0; }
    if (!parse_ll(c, c->argv[*i + 1], &t->limit)) return 0;
    if (t->limit < 0) { reply_error(c, "ERR The LIMIT argument must be >= 0."); return 0; }
    *i += 2;
    return 1;
}

static int check_trim_args(client *c, const trim_args *t) {
    if (t->limit >= 0 && !t->strategy) {
        reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return 0;
    }
    if (t->limit >= 0 && !t->approx) {
        reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
        return 0;
    }
    return 1;
}

static int64_t apply_trim(stream *s, const trim_args *t) {
    long long limit = t->limit;
    if (limit < 0) limit = t->approx ? 100 * server.stream_node_max_entries : 0;
    if (!t->approx) limit = 0;
    if (t->strategy == 1) return stream_trim_maxlen(s, t->maxlen, t->approx, limit);
    if (t->strategy == 2) return stream_trim_minid(s, t->minid, t->approx, limit);
    return 0;
}

/* ---- XADD ---- */

/* The ID for a new entry: explicit, "ms-*" or "*". Returns 0 after
 * replying when it cannot be used. */
static int xadd_pick_id(client *c, stream *s, const kstr arg, stream_id *id) {
    stream_id last = s ? s->last_id : (stream_id){0, 0};
    size_t len = kstr_len(arg);
    if (len == 1 && arg[0] == '*') {
        uint64_t now = (uint64_t)mstime();
        if (now > last.ms) { *id = (stream_id){now, 0}; return 1; }
        *id = last;
        if (!stream_id_incr(id)) goto exhausted;
        return 1;
    }
    if (len > 2 && arg[len - 1] == '*' && arg[len - 2] == '-') {
        if (!stream_id_parse(arg, len - 2, 0, id, NULL, 1) || memchr(arg, '-', len - 2)) goto invalid;
        if (id->ms > last.ms) { id->seq = 0; }
        else if (id->ms == last.ms) {
            if (last.seq == UINT64_MAX) goto smaller;
            id->seq = last.seq + 1;
        } else goto smaller;
        if (id->ms == 0 && id->seq == 0) id->seq = 1;
        return 1;
    }
    if (!stream_id_parse(arg, len, 0, id, NULL, 1)) goto invalid;
    if (id->ms == 0 && id->seq == 0) {
        reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return 0;
    }
    if (stream_id_cmp(*id, last) <= 0) goto smaller;
    return 1;
invalid:
    reply_error(c, "ERR Invalid stream ID specified as stream command argument");
    return 0;
smaller:
    reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
    return 0;
exhausted:
    reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
    return 0;
}

static void xadd_command(client *c) {
    trim_args t = {.limit = -1};
    int nomkstream = 0, i = 2;
    while (i < c->argc) {
        if (arg_is(c->argv[i], "nomkstream")) { nomkstream = 1; i++; }
        else if (arg_is(c->argv[i], "maxlen") || arg_is(c->argv[i], "minid")) {
            if (!parse_trim_strategy(c, &i, &t)) return;
        } else if (arg_is(c->argv[i], "limit")) {
            if (!parse_limit(c, &i, &t)) return;
        } else break;
    }
    int nfv = c->argc - i - 1;
    if (nfv < 2 || nfv % 2) { reply_error_arity(c); return; }
    if (!check_trim_args(c, &t)) return;
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STREAM, &wrong);
    if (wrong) return;
    if (!e && nomkstream) { reply_null(c); return; }
    stream *s = e ? entry_ptr(e) : NULL;
    stream_id id;
    if (!xadd_pick_id(c, s, c->argv[i], &id)) return;
    if (!s) {
        s = stream_new();
        db_add(c->db, entry_new_ptr(c->argv[1], kstr_len(c->argv[1]), TYPE_STREAM, ENC_SKIPLIST, s, -1));
    }
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)nfv);
    for (int k = 0; k < nfv; k++) lens[k] = kstr_len(c->argv[i + 1 + k]);
    stream_append(s, id, (const char *const *)(c->argv + i + 1), lens, (size_t)nfv, server.stream_node_max_bytes,
                  server.stream_node_max_entries);
    zfree(lens);
    reply_stream_id(c, id);
    stream_signal_write(c, c->argv[1], "xadd");
    if (t.strategy && apply_trim(s, &t) > 0) notify_keyspace_event(NOTIFY_STREAM, "xtrim", c->argv[1], db_id(c->db));
    blocking_signal_key(c->db, c->argv[1], kstr_len(c->argv[1]));
}

/* ---- XRANGE / XREVRANGE ---- */

static void range_generic(client *c, int rev) {
    stream_id start, end;
    if (!stream_parse_range_id(c, c->argv[rev ? 3 : 2], 0, &start)) return;
    if (!stream_parse_range_id(c, c->argv[rev ? 2 : 3], 1, &end)) return;
    long long count = -1;
    for (int i = 4; i < c->argc; i++) {
        if (arg_is(c->argv[i], "count") && i + 1 < c->argc) {
            if (!parse_ll(c, c->argv[++i], &count)) return;
            if (count < 0) count = 0;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    int wrong;
    stream *s = stream_lookup_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (count == 0) { reply_null_array(c); return; }
    if (!s) { reply_empty_array(c); return; }
    stream_reply_range(c, s, start, end, count < 0 ? 0 : count, rev, NULL, NULL, 0);
}

static void xrange_command(client *c) { range_generic(c, 0); }
static void xrevrange_command(client *c) { range_generic(c, 1); }

/* ---- XLEN, XDEL, XTRIM ---- */

static void xlen_command(client *c) {
    int wrong;
    stream *s = stream_lookup_read(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_ll(c, s ? (long long)s->length : 0);
}

static void xdel_command(client *c) {
    stream_id *ids = zmalloc(sizeof(stream_id) * (size_t)(c->argc - 2));
    for (int i = 2; i < c->argc; i++)
        if (!stream_parse_id(c, c->argv[i], 0, &ids[i - 2], NULL)) { zfree(ids); return; }
    int wrong;
    stream *s = stream_lookup_write(c, c->argv[1], &wrong);
    long long deleted = 0;
    if (s)
        for (int i = 0; i < c->argc - 2; i++) deleted += stream_delete(s, ids[i]);
    zfree(ids);
    if (wrong) return;
    reply_ll(c, deleted);
    if (deleted) stream_signal_write(c, c->argv[1], "xdel");
}

static void xtrim_command(client *c) {
    trim_args t = {.limit = -1};
    int i = 2;
    while (i < c->argc) {
        if (arg_is(c->argv[i], "maxlen") || arg_is(c->argv[i], "minid")) {
            if (!parse_trim_strategy(c, &i, &t)) return;
        } else if (arg_is(c->argv[i], "limit")) {
            if (!parse_limit(c, &i, &t)) return;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    if (!t.strategy) { reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy"); return; }
    if (!check_trim_args(c, &t)) return;
    int wrong;
    stream *s = stream_lookup_write(c, c->argv[1], &wrong);
    if (wrong) return;
    int64_t removed = s ? apply_trim(s, &t) : 0;
    reply_ll(c, removed);
    if (removed) stream_signal_write(c, c->argv[1], "xtrim");
}

/* ---- XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] ---- */

static void xsetid_command(client *c) {
    stream_id id, maxdel = {0, 0};
    long long added = -1;
    int has_maxdel = 0;
    if (!stream_parse_id(c, c->argv[2], 0, &id, NULL)) return;
    for (int i = 3; i < c->argc; i++) {
        if (arg_is(c->argv[i], "entriesadded") && i + 1 < c->argc) {
            if (!parse_ll(c, c->argv[++i], &added)) return;
            if (added < 0) { reply_error(c, "ERR entries_added must be positive"); return; }
        } else if (arg_is(c->argv[i], "maxdeletedid") && i + 1 < c->argc) {
            if (!stream_parse_id(c, c->argv[++i], 0, &maxdel, NULL)) return;
            if (stream_id_cmp(id, maxdel) < 0) {
                reply_error(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            has_maxdel = 1;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STREAM, &wrong);
    if (wrong) return;
    if (!e) { reply_error(c, "ERR no such key"); return; }
    stream *s = entry_ptr(e);
    if (s->length) {
        stream_id top;
        stream_last_live_id(s, &top);
        if (stream_id_cmp(id, top) < 0) {
            reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (added >= 0 && (uint64_t)added < s->length) {
            reply_error(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (added >= 0) s->entries_added = (uint64_t)added;
    if (has_maxdel) s->max_deleted_id = maxdel;
    reply_ok(c);
    stream_signal_write(c, c->argv[1], "xsetid");
}

/* ---- table ---- */

static command xgroup_subcommands[] = {
    {"create", xgroup_create_command, -5, "write denyoom", 2, 2, 1, "stream", "5.0.0", "Create a consumer group.", NULL},
    {"createconsumer", xgroup_createconsumer_command, 5, "write denyoom", 2, 2, 1, "stream", "6.2.0", "Create a consumer in a consumer group.", NULL},
    {"delconsumer", xgroup_delconsumer_command, 5, "write", 2, 2, 1, "stream", "5.0.0", "Delete a consumer from a consumer group.", NULL},
    {"destroy", xgroup_destroy_command, 4, "write", 2, 2, 1, "stream", "5.0.0", "Destroy a consumer group.", NULL},
    {"setid", xgroup_setid_command, -5, "write", 2, 2, 1, "stream", "5.0.0", "Set the last delivered ID of a consumer group.", NULL},
    {"help", xgroup_help_command, 2, "loading stale", 0, 0, 0, "stream", "5.0.0", "Show helpful text about the different subcommands.", NULL},
    {NULL},
};

static command xinfo_subcommands[] = {
    {"stream", xinfo_stream_command, -3, "readonly", 2, 2, 1, "stream", "5.0.0", "Get information about a stream.", NULL},
    {"groups", xinfo_groups_command, 3, "readonly", 2, 2, 1, "stream", "5.0.0", "List the consumer groups of a stream.", NULL},
    {"consumers", xinfo_consumers_command, 4, "readonly", 2, 2, 1, "stream", "5.0.0", "List the consumers in a consumer group.", NULL},
    {"help", xinfo_help_command, 2, "loading stale", 0, 0, 0, "stream", "5.0.0", "Show helpful text about the different subcommands.", NULL},
    {NULL},
};

command stream_commands[] = {
    {"xadd", xadd_command, -5, "write denyoom fast", 1, 1, 1, "stream", "5.0.0", "Append an entry to a stream.", NULL},
    {"xrange", xrange_command, -4, "readonly", 1, 1, 1, "stream", "5.0.0", "Entries of a stream within an ID range.", NULL},
    {"xrevrange", xrevrange_command, -4, "readonly", 1, 1, 1, "stream", "5.0.0", "Entries of a stream within an ID range, newest first.", NULL},
    {"xlen", xlen_command, 2, "readonly fast", 1, 1, 1, "stream", "5.0.0", "Number of entries in a stream.", NULL},
    {"xdel", xdel_command, -3, "write fast", 1, 1, 1, "stream", "5.0.0", "Delete entries from a stream.", NULL},
    {"xtrim", xtrim_command, -4, "write", 1, 1, 1, "stream", "5.0.0", "Remove the oldest entries of a stream.", NULL},
    {"xsetid", xsetid_command, -3, "write denyoom fast", 1, 1, 1, "stream", "5.0.0", "Set a stream's last ID and counters.", NULL},
    {"xread", xread_command, -4, "readonly blocking movablekeys", 0, 0, 0, "stream", "5.0.0", "Read entries from streams, optionally waiting.", NULL},
    {"xreadgroup", xreadgroup_command, -7, "write blocking movablekeys", 0, 0, 0, "stream", "5.0.0", "Read entries as a consumer of a group, optionally waiting.", NULL},
    {"xack", xack_command, -4, "write fast", 1, 1, 1, "stream", "5.0.0", "Acknowledge entries of a consumer group.", NULL},
    {"xpending", xpending_command, -3, "readonly", 1, 1, 1, "stream", "5.0.0", "Pending entries of a consumer group.", NULL},
    {"xclaim", xclaim_command, -6, "write fast", 1, 1, 1, "stream", "5.0.0", "Change the owner of pending entries.", NULL},
    {"xautoclaim", xautoclaim_command, -6, "write fast", 1, 1, 1, "stream", "6.2.0", "Claim idle pending entries.", NULL},
    {"xgroup", NULL, -2, "", 0, 0, 0, "stream", "5.0.0", "A container for consumer group commands.", xgroup_subcommands},
    {"xinfo", NULL, -2, "", 0, 0, 0, "stream", "5.0.0", "A container for stream introspection commands.", xinfo_subcommands},
    {NULL},
};
