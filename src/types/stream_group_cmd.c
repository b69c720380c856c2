/*
 * stream_group_cmd: XGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM: the
 * commands that manage consumer groups and their pending entries.
 */
#include "types/stream_cmd.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <limits.h>
#include <string.h>

/* The group named by argv[gi] of the stream at argv[ki]; replies
 * NOGROUP (Redis's text for XACK/XPENDING/XCLAIM) when either is
 * missing. */
static stream_cg *lookup_group(client *c, int ki, int gi, stream **sp, int write) {
    int wrong;
    stream *s = write ? stream_lookup_write(c, c->argv[ki], &wrong) : stream_lookup_read(c, c->argv[ki], &wrong);
    if (wrong) return NULL;
    stream_cg *g = s ? stream_group_find(s, c->argv[gi], kstr_len(c->argv[gi])) : NULL;
    if (!g) {
        reply_errorf(c, "NOGROUP No such key '%s' or consumer group '%s'", c->argv[ki], c->argv[gi]);
        return NULL;
    }
    *sp = s;
    return g;
}

/* ---- XGROUP ---- */

/* [MKSTREAM] [ENTRIESREAD n] from argv[5]. */
static int parse_group_options(client *c, int allow_mkstream, int *mkstream, long long *entries_read) {
    for (int i = 5; i < c->argc; i++) {
        if (allow_mkstream && arg_is(c->argv[i], "mkstream")) {
            *mkstream = 1;
        } else if (arg_is(c->argv[i], "entriesread") && i + 1 < c->argc) {
            if (!parse_ll(c, c->argv[++i], entries_read)) return 0;
            if (*entries_read < 0 && *entries_read != STREAM_ENTRIES_READ_INVALID) {
                reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
                return 0;
            }
        } else {
            reply_error_subcommand_args(c);
            return 0;
        }
    }
    return 1;
}

static stream *group_key_stream(client *c, int mkstream) {
    int wrong;
    stream *s = stream_lookup_write(c, c->argv[2], &wrong);
    if (wrong) return NULL;
    if (!s && !mkstream)
        reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
                       "use the MKSTREAM option to create an empty stream automatically.");
    return s;
}

static int parse_group_id(client *c, stream *s, stream_id *id) {
    if (!strcmp(c->argv[4], "$")) {
        *id = s ? s->last_id : (stream_id){0, 0};
        return 1;
    }
    return stream_parse_id(c, c->argv[4], 0, id, NULL);
}

void xgroup_create_command(client *c) {
    int mkstream = 0;
    long long entries_read = STREAM_ENTRIES_READ_INVALID;
    if (!parse_group_options(c, 1, &mkstream, &entries_read)) return;
    int wrong;
    stream *s = stream_lookup_write(c, c->argv[2], &wrong);
    if (wrong) return;
    if (!s && !mkstream) { group_key_stream(c, 0); return; }
    stream_id id;
    if (!parse_group_id(c, s, &id)) return;
    if (!s) {
        s = stream_new();
        db_add(c->db, entry_new_ptr(c->argv[2], kstr_len(c->argv[2]), TYPE_STREAM, ENC_SKIPLIST, s, -1));
    }
    if (!stream_group_create(s, c->argv[3], kstr_len(c->argv[3]), id, entries_read)) {
        reply_error(c, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    reply_ok(c);
    stream_signal_write(c, c->argv[2], "xgroup-create");
}

static stream_cg *group_for_subcommand(client *c, stream **sp) {
    stream *s = group_key_stream(c, 0);
    if (!s) return NULL;
    stream_cg *g = stream_group_find(s, c->argv[3], kstr_len(c->argv[3]));
    if (!g) reply_errorf(c, "NOGROUP No such consumer group '%s' for key name '%s'", c->argv[3], c->argv[2]);
    *sp = s;
    return g;
}

void xgroup_setid_command(client *c) {
    int mkstream = 0;
    long long entries_read = STREAM_ENTRIES_READ_INVALID;
    if (c->argc != 5 && c->argc != 7) { reply_error_subcommand_args(c); return; }
    if (!parse_group_options(c, 0, &mkstream, &entries_read)) return;
    stream *s;
    stream_cg *g = group_for_subcommand(c, &s);
    if (!g) return;
    stream_id id;
    if (!parse_group_id(c, s, &id)) return;
    g->last_id = id;
    g->entries_read = entries_read;
    reply_ok(c);
    stream_signal_write(c, c->argv[2], "xgroup-setid");
}

void xgroup_destroy_command(client *c) {
    stream *s = group_key_stream(c, 0);
    if (!s) return;
    if (!stream_group_destroy(s, c->argv[3], kstr_len(c->argv[3]))) { reply_ll(c, 0); return; }
    reply_ll(c, 1);
    stream_signal_write(c, c->argv[2], "xgroup-destroy");
    /* Clients blocked in XREADGROUP on it re-run and get NOGROUP. */
    blocking_signal_key(c->db, c->argv[2], kstr_len(c->argv[2]));
}

void xgroup_createconsumer_command(client *c) {
    stream *s;
    stream_cg *g = group_for_subcommand(c, &s);
    if (!g) return;
    int created;
    stream_consumer *cons = stream_consumer_get(g, c->argv[4], kstr_len(c->argv[4]), &created);
    if (created) cons->seen_time = server_mstime();
    reply_ll(c, created);
    if (created) stream_signal_write(c, c->argv[2], "xgroup-createconsumer");
}

void xgroup_delconsumer_command(client *c) {
    stream *s;
    stream_cg *g = group_for_subcommand(c, &s);
    if (!g) return;
    long long pending = stream_consumer_delete(g, c->argv[4], kstr_len(c->argv[4]));
    reply_ll(c, pending < 0 ? 0 : pending);
    if (pending >= 0) stream_signal_write(c, c->argv[2], "xgroup-delconsumer");
}

void xgroup_help_command(client *c) {
    static const char *const help[] = {
        "CREATE <key> <groupname> <id|$> [MKSTREAM] [ENTRIESREAD <n>]",
        "    Make a consumer group that starts after <id> ($: the stream's last entry). MKSTREAM",
        "    makes an empty stream when the key does not exist; ENTRIESREAD sets the read counter.",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Add a consumer to the group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove a consumer and its pending entries.",
        "DESTROY <key> <groupname>",
        "    Remove the group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD <n>]",
        "    Move the group's last delivered ID (and read counter).",
        NULL,
    };
    reply_help(c, help);
}

/* ---- XACK ---- */

void xack_command(client *c) {
    stream_id *ids = zmalloc(sizeof(stream_id) * (size_t)(c->argc - 3));
    for (int i = 3; i < c->argc; i++)
        if (!stream_parse_id(c, c->argv[i], 0, &ids[i - 3], NULL)) { zfree(ids); return; }
    int wrong;
    stream *s = stream_lookup_write(c, c->argv[1], &wrong);
    stream_cg *g = s ? stream_group_find(s, c->argv[2], kstr_len(c->argv[2])) : NULL;
    long long acked = 0;
    if (g)
        for (int i = 0; i < c->argc - 3; i++) {
            stream_nack *n = stream_pel_find(&g->pel, ids[i]);
            if (n) { stream_nack_remove(g, n); acked++; }
        }
    zfree(ids);
    if (wrong) return;
    reply_ll(c, acked);
    if (acked) signal_modified_key(c, c->db, c->argv[1]);
}

/* ---- XPENDING ---- */

static void pending_summary(client *c, stream_cg *g) {
    reply_array_len(c, 4);
    reply_ll(c, (long long)g->pel.n);
    if (g->pel.n == 0) {
        reply_null(c);
        reply_null(c);
        reply_null_array(c);
        return;
    }
    reply_stream_id(c, g->pel.v[0]->id);
    reply_stream_id(c, g->pel.v[g->pel.n - 1]->id);
    long with = 0;
    for (size_t i = 0; i < g->nconsumers; i++) with += g->consumers[i]->pel.n > 0;
    reply_array_len(c, with);
    for (size_t i = 0; i < g->nconsumers; i++) {
        stream_consumer *cons = g->consumers[i];
        if (!cons->pel.n) continue;
        reply_array_len(c, 2);
        reply_bulk(c, cons->name, cons->nlen);
        reply_bulk_ll(c, (long long)cons->pel.n);
    }
}

static void pending_range(client *c, const stream_pel *pel, stream_id start, stream_id end, long long count,
                          long long min_idle) {
    long long now = server_mstime();
    void *len = reply_deferred_len(c);
    long n = 0;
    for (size_t i = stream_pel_lower_bound(pel, start); i < pel->n && n < count; i++) {
        stream_nack *nack = pel->v[i];
        if (stream_id_cmp(nack->id, end) > 0) break;
        long long idle = now - nack->delivery_time;
        if (idle < 0) idle = 0;
        if (min_idle && idle < min_idle) continue;
        reply_array_len(c, 4);
        reply_stream_id(c, nack->id);
        reply_bulk(c, nack->consumer->name, nack->consumer->nlen);
        reply_ll(c, idle);
        reply_ll(c, nack->delivery_count);
        n++;
    }
    reply_set_deferred_array_len(c, len, n);
}

void xpending_command(client *c) {
    int extended = c->argc >= 6;
    long long min_idle = 0, count = 0;
    stream_id start, end;
    int i = 3;
    if (c->argc != 3 && !extended) { reply_error_syntax(c); return; }
    if (extended) {
        if (arg_is(c->argv[3], "idle")) {
            if (!parse_ll(c, c->argv[4], &min_idle)) return;
            if (c->argc < 8) { reply_error_syntax(c); return; }
            i = 5;
        }
        if (c->argc - i > 4 || c->argc - i < 3) { reply_error_syntax(c); return; }
        if (!stream_parse_range_id(c, c->argv[i], 0, &start)) return;
        if (!stream_parse_range_id(c, c->argv[i + 1], 1, &end)) return;
        if (!parse_ll(c, c->argv[i + 2], &count)) return;
        if (count < 0) count = 0;
    }
    stream *s;
    stream_cg *g = lookup_group(c, 1, 2, &s, 0);
    if (!g) return;
    if (!extended) { pending_summary(c, g); return; }
    const stream_pel *pel = &g->pel;
    if (c->argc - i == 4) {
        stream_consumer *cons = stream_consumer_find(g, c->argv[i + 3], kstr_len(c->argv[i + 3]));
        if (!cons) { reply_empty_array(c); return; }
        pel = &cons->pel;
    }
    pending_range(c, pel, start, end, count, min_idle);
}

/* ---- XCLAIM / XAUTOCLAIM ---- */

static int entry_exists(stream *s, stream_id id) {
    stream_iter it;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it);
    stream_iter_stop(&it);
    return found;
}

static void reply_one_entry(client *c, stream *s, stream_id id) {
    stream_iter it;
    stream_iter_start(&it, s, id, id, 0);
    if (stream_iter_next(&it)) reply_stream_entry(c, &it);
    else reply_null_array(c);
    stream_iter_stop(&it);
}

typedef struct claim_opts {
    long long min_idle, delivery_time, retrycount;
    int force, justid;
    stream_id lastid;
    int has_lastid;
} claim_opts;

/* Give nack to cons as XCLAIM does; the reply for it follows. */
static void claim_nack(stream_nack *nack, stream_consumer *cons, const claim_opts *o) {
    stream_nack_assign(nack, cons);
    nack->delivery_time = o->delivery_time;
    if (o->retrycount >= 0) nack->delivery_count = o->retrycount;
    else if (!o->justid) nack->delivery_count++;
}

static int parse_claim_options(client *c, int first, claim_opts *o, long long now) {
    for (int j = first; j < c->argc; j++) {
        int more = c->argc - j - 1;
        kstr opt = c->argv[j];
        long long v;
        if (arg_is(opt, "force")) o->force = 1;
        else if (arg_is(opt, "justid")) o->justid = 1;
        else if (arg_is(opt, "idle") && more) {
            if (!parse_ll_msg(c, c->argv[++j], &v, "ERR Invalid IDLE option argument for XCLAIM")) return 0;
            o->delivery_time = now - v;
        } else if (arg_is(opt, "time") && more) {
            if (!parse_ll_msg(c, c->argv[++j], &v, "ERR Invalid TIME option argument for XCLAIM")) return 0;
            o->delivery_time = v;
        } else if (arg_is(opt, "retrycount") && more) {
            if (!parse_ll_msg(c, c->argv[++j], &o->retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                return 0;
        } else if (arg_is(opt, "lastid") && more) {
            if (!stream_parse_id(c, c->argv[++j], 0, &o->lastid, NULL)) return 0;
            o->has_lastid = 1;
        } else {
            reply_errorf(c, "ERR Unrecognized XCLAIM option '%s'", opt);
            return 0;
        }
    }
    if (o->delivery_time < 0 || o->delivery_time > now) o->delivery_time = now;
    return 1;
}

void xclaim_command(client *c) {
    stream *s;
    stream_cg *g = lookup_group(c, 1, 2, &s, 1);
    if (!g) return;
    long long now = server_mstime();
    claim_opts o = {.delivery_time = now, .retrycount = -1};
    if (!parse_ll_msg(c, c->argv[4], &o.min_idle, "ERR Invalid min-idle-time argument for XCLAIM")) return;
    if (o.min_idle < 0) o.min_idle = 0;
    /* IDs run from argv[5] to the first argument that is not one. */
    int j = 5;
    stream_id tmp;
    while (j < c->argc && stream_id_parse(c->argv[j], kstr_len(c->argv[j]), 0, &tmp, NULL, 1)) j++;
    int last_id_arg = j - 1;
    if (!parse_claim_options(c, j, &o, now)) return;
    if (o.has_lastid && stream_id_cmp(o.lastid, g->last_id) > 0) g->last_id = o.lastid;
    stream_consumer *cons = NULL;
    void *len = reply_deferred_len(c);
    long n = 0;
    for (j = 5; j <= last_id_arg; j++) {
        stream_id id;
        stream_id_parse(c->argv[j], kstr_len(c->argv[j]), 0, &id, NULL, 1);
        stream_nack *nack = stream_pel_find(&g->pel, id);
        if (!entry_exists(s, id)) {
            if (nack) stream_nack_remove(g, nack);
            continue;
        }
        if (nack && o.min_idle && now - nack->delivery_time < o.min_idle) continue;
        if (!nack && !o.force) continue;
        if (!cons) cons = stream_consumer_for(c, c->argv[1], g, c->argv[3]);
        if (!nack) {
            nack = stream_nack_add(g, cons, id, now);
            nack->delivery_count = 0;
        }
        claim_nack(nack, cons, &o);
        if (o.justid) reply_stream_id(c, id);
        else reply_one_entry(c, s, id);
        n++;
    }
    if (cons) cons->seen_time = now;
    reply_set_deferred_array_len(c, len, n);
    signal_modified_key(c, c->db, c->argv[1]);
}

void xautoclaim_command(client *c) {
    long long now = server_mstime(), min_idle, count = 100;
    int justid = 0;
    stream_id start;
    if (!parse_ll_msg(c, c->argv[4], &min_idle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
    if (min_idle < 0) min_idle = 0;
    if (!stream_parse_range_id(c, c->argv[5], 0, &start)) return;
    for (int j = 6; j < c->argc; j++) {
        if (arg_is(c->argv[j], "count") && j + 1 < c->argc) {
            if (!parse_ll_range(c, c->argv[++j], 1, LLONG_MAX / 10, &count, "ERR COUNT must be > 0")) return;
        } else if (arg_is(c->argv[j], "justid")) {
            justid = 1;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    stream *s;
    stream_cg *g = lookup_group(c, 1, 2, &s, 1);
    if (!g) return;
    claim_opts o = {.delivery_time = now, .retrycount = -1, .justid = justid};
    stream_consumer *cons = NULL;
    /* Claim first, reply after: the reply starts with the next cursor. */
    stream_id *claimed = zmalloc(sizeof(stream_id) * (size_t)count);
    stream_id *deleted = zmalloc(sizeof(stream_id) * (size_t)count);
    long nclaimed = 0, ndeleted = 0;
    long long attempts = count * 10;
    size_t i = stream_pel_lower_bound(&g->pel, start);
    while (attempts-- > 0 && count > 0 && i < g->pel.n) {
        stream_nack *nack = g->pel.v[i];
        stream_id id = nack->id;
        if (!entry_exists(s, id)) {
            stream_nack_remove(g, nack); /* the next one slides into place i */
            deleted[ndeleted++] = id;
            count--;
            continue;
        }
        i++;
        if (min_idle && now - nack->delivery_time < min_idle) continue;
        if (!cons) cons = stream_consumer_for(c, c->argv[1], g, c->argv[3]);
        claim_nack(nack, cons, &o);
        claimed[nclaimed++] = id;
        count--;
    }
    if (cons) cons->seen_time = now;
    reply_array_len(c, 3);
    /* The next cursor: the first pending ID not examined, 0-0 at the end. */
    reply_stream_id(c, i < g->pel.n ? g->pel.v[i]->id : (stream_id){0, 0});
    reply_array_len(c, nclaimed);
    for (long k = 0; k < nclaimed; k++) {
        if (justid) reply_stream_id(c, claimed[k]);
        else reply_one_entry(c, s, claimed[k]);
    }
    reply_array_len(c, ndeleted);
    for (long k = 0; k < ndeleted; k++) reply_stream_id(c, deleted[k]);
    zfree(claimed);
    zfree(deleted);
    signal_modified_key(c, c->db, c->argv[1]);
}
