/*
 * stream_read: XREAD and XREADGROUP, blocking or not.
 *
 * Blocking goes through core/blocking.c, which re-runs the whole command
 * when XADD signals one of its keys. For that to mean "entries added
 * after I blocked", an XREAD that blocks rewrites each "$" in its own
 * argv into the stream's last ID at that moment before waiting; ">" of
 * XREADGROUP needs no rewrite, it always means "after the group's last
 * delivered ID".
 */
#include "types/stream_cmd.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "script/script.h"

#include <string.h>

#define ID_NEW_ONLY UINT64_MAX /* ">" as parsed */

typedef struct read_args {
    int group_mode;
    kstr group, consumer;
    int noack;
    long long count;
    long long deadline;     /* -1: no BLOCK */
    int streams;            /* argv index of the first key */
    int nstreams;
    stream_id *ids;         /* one per stream: read entries greater than it */
    stream_cg **groups;
} read_args;

static void read_args_free(read_args *a) {
    zfree(a->ids);
    zfree(a->groups);
}

static int parse_options(client *c, read_args *a) {
    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        kstr o = c->argv[i];
        if (arg_is(o, "block") && more) {
            if (script_is_running()) {
                /* Blocking means nothing in a script: refused, as Redis. */
                reply_errorf(c, "ERR %s command is not allowed with BLOCK option from scripts", c->argv[0]);
                return 0;
            }
            if (!parse_timeout(c, c->argv[++i], 0, &a->deadline)) return 0;
        } else if (arg_is(o, "count") && more) {
            if (!parse_ll(c, c->argv[++i], &a->count)) return 0;
            if (a->count < 0) a->count = 0;
        } else if (arg_is(o, "streams") && more) {
            a->streams = i + 1;
            a->nstreams = c->argc - a->streams;
            if (a->nstreams % 2) {
                reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                               "specified.");
                return 0;
            }
            a->nstreams /= 2;
            break;
        } else if (arg_is(o, "group") && more >= 2) {
            if (!a->group_mode) {
                reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return 0;
            }
            a->group = c->argv[i + 1];
            a->consumer = c->argv[i + 2];
            i += 2;
        } else if (arg_is(o, "noack")) {
            if (!a->group_mode) {
                reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return 0;
            }
            a->noack = 1;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    if (!a->streams) { reply_error_syntax(c); return 0; }
    if (a->group_mode && !a->group) { reply_error(c, "ERR Missing GROUP option for XREADGROUP"); return 0; }
    return 1;
}

/* Resolve each stream's ID argument ("$", ">", or an ID). */
static int parse_ids(client *c, read_args *a) {
    a->ids = zcalloc(sizeof(stream_id) * (size_t)a->nstreams);
    a->groups = zcalloc(sizeof(stream_cg *) * (size_t)a->nstreams);
    for (int k = 0; k < a->nstreams; k++) {
        kstr key = c->argv[a->streams + k], arg = c->argv[a->streams + a->nstreams + k];
        int wrong;
        stream *s = stream_lookup_read(c, key, &wrong);
        if (wrong) return 0;
        if (a->group_mode) {
            a->groups[k] = s ? stream_group_find(s, a->group, kstr_len(a->group)) : NULL;
            if (!a->groups[k]) {
                reply_errorf(c, "NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option",
                             key, a->group);
                return 0;
            }
        }
        if (!strcmp(arg, "$")) {
            if (a->group_mode) {
                reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                               "history of this consumer by specifying a proper ID, or use the > ID to get new "
                               "messages. The $ ID would just return an empty result set.");
                return 0;
            }
            a->ids[k] = s ? s->last_id : (stream_id){0, 0};
        } else if (!strcmp(arg, ">")) {
            if (!a->group_mode) {
                reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                               "<group> <consumer> option.");
                return 0;
            }
            a->ids[k] = (stream_id){ID_NEW_ONLY, ID_NEW_ONLY};
        } else if (!stream_parse_id(c, arg, 0, &a->ids[k], NULL)) {
            return 0;
        }
    }
    return 1;
}

static int is_new_only(stream_id id) { return id.ms == ID_NEW_ONLY && id.seq == ID_NEW_ONLY; }

/* A consumer's history: its pending entries after id; an entry deleted
 * since delivery is reported as [id, nil]. */
static void reply_history(client *c, stream *s, stream_consumer *cons, stream_id after,
                          long long count) {
    stream_id start = after;
    if (!stream_id_incr(&start)) { reply_empty_array(c); return; }
    size_t i = stream_pel_lower_bound(&cons->pel, start);
    size_t n = cons->pel.n - i;
    if (count && (size_t)count < n) n = (size_t)count;
    reply_array_len(c, (long)n);
    for (size_t k = 0; k < n; k++) {
        stream_nack *nack = cons->pel.v[i + k];
        stream_iter it;
        stream_iter_start(&it, s, nack->id, nack->id, 0);
        if (stream_iter_next(&it)) {
            reply_stream_entry(c, &it);
        } else {
            reply_array_len(c, 2);
            reply_stream_id(c, nack->id);
            reply_null_array(c);
        }
        stream_iter_stop(&it);
        nack->delivery_time = server_mstime();
        nack->delivery_count++;
    }
}

/* Is there anything for stream k right now? */
static int has_data(stream *s, const read_args *a, int k) {
    if (!s) return 0;
    if (a->group_mode && !is_new_only(a->ids[k])) return 1; /* history: always answered */
    if (!s->length) return 0;
    stream_id last;
    stream_last_live_id(s, &last);
    stream_id after = a->group_mode ? a->groups[k]->last_id : a->ids[k];
    return stream_id_cmp(last, after) > 0;
}

static void serve_stream(client *c, read_args *a, int k, stream *s) {
    kstr key = c->argv[a->streams + k];
    if (c->resp == 2) reply_array_len(c, 2);
    reply_bulk(c, key, kstr_len(key));
    if (!a->group_mode) {
        stream_id start = a->ids[k];
        stream_id_incr(&start);
        stream_reply_range(c, s, start, (stream_id){UINT64_MAX, UINT64_MAX}, a->count, 0, NULL, NULL, 0);
        return;
    }
    stream_cg *g = a->groups[k];
    stream_consumer *cons = stream_consumer_for(c, key, g, a->consumer);
    cons->seen_time = server_mstime();
    if (!is_new_only(a->ids[k])) {
        reply_history(c, s, cons, a->ids[k], a->count);
    } else {
        stream_id start = g->last_id;
        stream_id_incr(&start);
        stream_reply_range(c, s, start, (stream_id){UINT64_MAX, UINT64_MAX}, a->count, 0, g, cons, a->noack);
    }
    signal_modified_key(c, c->db, key);
}

/* Before waiting, "$" becomes the ID it stood for (see the top). */
static void pin_dollar_ids(client *c, const read_args *a) {
    for (int k = 0; k < a->nstreams; k++) {
        int idx = a->streams + a->nstreams + k;
        if (strcmp(c->argv[idx], "$") != 0) continue;
        char buf[48];
        stream_id_format(a->ids[k], buf);
        kstr_free(c->argv[idx]);
        c->argv[idx] = kstr_new(buf);
    }
}

/* A blocked XREADGROUP woken because one of its keys went away (see
 * core/blocking.c): that ends the wait with Redis's error. */
static int key_went_away(client *c, const read_args *a) {
    for (int k = 0; k < a->nstreams; k++) {
        entry *e = db_find(c->db, c->argv[a->streams + k], kstr_len(c->argv[a->streams + k]));
        if (!e || entry_type(e) != TYPE_STREAM) {
            reply_error(c, "UNBLOCKED the stream key no longer exists");
            return 1;
        }
    }
    return 0;
}

static void read_generic(client *c, int group_mode) {
    read_args a = {.group_mode = group_mode, .deadline = -1};
    if (group_mode && blocking_is_rerun(c) && parse_options(c, &a) && key_went_away(c, &a)) return;
    if (!parse_options(c, &a) || !parse_ids(c, &a)) { read_args_free(&a); return; }
    int ready = 0;
    for (int k = 0; k < a.nstreams; k++) {
        int wrong;
        ready += has_data(stream_lookup_read(c, c->argv[a.streams + k], &wrong), &a, k);
    }
    if (ready) {
        if (c->resp == 2) reply_array_len(c, ready);
        else reply_map_len(c, ready);
        for (int k = 0; k < a.nstreams; k++) {
            int wrong;
            stream *s = stream_lookup_read(c, c->argv[a.streams + k], &wrong);
            if (has_data(s, &a, k)) serve_stream(c, &a, k, s);
        }
    } else if (a.deadline >= 0) {
        pin_dollar_ids(c, &a);
        block_on_keys(c, c->argv + a.streams, a.nstreams, a.deadline);
    } else {
        reply_null_array(c);
    }
    read_args_free(&a);
}

void xread_command(client *c) { read_generic(c, 0); }
void xreadgroup_command(client *c) { read_generic(c, 1); }
