/*
 * stream_info: XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO
 * CONSUMERS, with Redis 7.0's fields. Keel has no radix tree: its
 * "radix-tree-keys" and "radix-tree-nodes" both report the number of
 * nodes, the figure those fields exist to show (how the stream is cut).
 */
#include "types/stream_cmd.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "net/reply.h"

#include <string.h>

static stream *info_stream(client *c) {
    int wrong;
    stream *s = stream_lookup_read(c, c->argv[2], &wrong);
    if (!s && !wrong) reply_error(c, "ERR no such key");
    return s;
}

static void field_ll(client *c, const char *name, long long v) {
    reply_bulk_cstr(c, name);
    reply_ll(c, v);
}

static void field_id(client *c, const char *name, stream_id id) {
    reply_bulk_cstr(c, name);
    reply_stream_id(c, id);
}

static void field_lag(client *c, const stream *s, const stream_cg *g) {
    int valid;
    long long lag = stream_group_lag(s, g, &valid);
    reply_bulk_cstr(c, "entries-read");
    if (g->entries_read == STREAM_ENTRIES_READ_INVALID) reply_null(c);
    else reply_ll(c, g->entries_read);
    reply_bulk_cstr(c, "lag");
    if (valid) reply_ll(c, lag);
    else reply_null(c);
}

static void edge_entry(client *c, stream *s, int last) {
    stream_iter it;
    stream_iter_start(&it, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, last);
    if (stream_iter_next(&it)) reply_stream_entry(c, &it);
    else reply_null(c);
    stream_iter_stop(&it);
}

static void stream_header(client *c, stream *s) {
    field_ll(c, "length", (long long)s->length);
    field_ll(c, "radix-tree-keys", (long long)s->nnodes);
    field_ll(c, "radix-tree-nodes", (long long)s->nnodes);
    field_id(c, "last-generated-id", s->last_id);
    field_id(c, "max-deleted-entry-id", s->max_deleted_id);
    field_ll(c, "entries-added", (long long)s->entries_added);
    field_id(c, "recorded-first-entry-id", s->first_id);
}

static void full_group(client *c, stream *s, stream_cg *g, long long count) {
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "name");
    reply_bulk(c, g->name, g->nlen);
    field_id(c, "last-delivered-id", g->last_id);
    field_lag(c, s, g);
    field_ll(c, "pel-count", (long long)g->pel.n);
    size_t np = count && (size_t)count < g->pel.n ? (size_t)count : g->pel.n;
    reply_bulk_cstr(c, "pending");
    reply_array_len(c, (long)np);
    for (size_t i = 0; i < np; i++) {
        stream_nack *n = g->pel.v[i];
        reply_array_len(c, 4);
        reply_stream_id(c, n->id);
        reply_bulk(c, n->consumer->name, n->consumer->nlen);
        reply_ll(c, n->delivery_time);
        reply_ll(c, n->delivery_count);
    }
    reply_bulk_cstr(c, "consumers");
    reply_array_len(c, (long)g->nconsumers);
    for (size_t k = 0; k < g->nconsumers; k++) {
        stream_consumer *cons = g->consumers[k];
        reply_map_len(c, 4);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cons->name, cons->nlen);
        field_ll(c, "seen-time", cons->seen_time);
        field_ll(c, "pel-count", (long long)cons->pel.n);
        size_t nc = count && (size_t)count < cons->pel.n ? (size_t)count : cons->pel.n;
        reply_bulk_cstr(c, "pending");
        reply_array_len(c, (long)nc);
        for (size_t i = 0; i < nc; i++) {
            reply_array_len(c, 3);
            reply_stream_id(c, cons->pel.v[i]->id);
            reply_ll(c, cons->pel.v[i]->delivery_time);
            reply_ll(c, cons->pel.v[i]->delivery_count);
        }
    }
}

void xinfo_stream_command(client *c) {
    int full = 0;
    long long count = 10;
    if (c->argc > 3) {
        if (!arg_is(c->argv[3], "full") || (c->argc != 4 && c->argc != 6) ||
            (c->argc == 6 && !arg_is(c->argv[4], "count"))) {
            reply_error_syntax(c);
            return;
        }
        full = 1;
        if (c->argc == 6 && !parse_ll(c, c->argv[5], &count)) return;
        if (count < 0) count = 10;
    }
    stream *s = info_stream(c);
    if (!s) return;
    if (!full) {
        reply_map_len(c, 10);
        stream_header(c, s);
        field_ll(c, "groups", (long long)s->ngroups);
        reply_bulk_cstr(c, "first-entry");
        edge_entry(c, s, 0);
        reply_bulk_cstr(c, "last-entry");
        edge_entry(c, s, 1);
        return;
    }
    reply_map_len(c, 9);
    stream_header(c, s);
    reply_bulk_cstr(c, "entries");
    stream_reply_range(c, s, (stream_id){0, 0}, (stream_id){UINT64_MAX, UINT64_MAX}, count, 0, NULL, NULL, 0);
    reply_bulk_cstr(c, "groups");
    reply_array_len(c, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) full_group(c, s, s->groups[i], count);
}

void xinfo_groups_command(client *c) {
    stream *s = info_stream(c);
    if (!s) return;
    reply_array_len(c, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        stream_cg *g = s->groups[i];
        reply_map_len(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, g->nlen);
        field_ll(c, "consumers", (long long)g->nconsumers);
        field_ll(c, "pending", (long long)g->pel.n);
        field_id(c, "last-delivered-id", g->last_id);
        field_lag(c, s, g);
    }
}

void xinfo_consumers_command(client *c) {
    stream *s = info_stream(c);
    if (!s) return;
    stream_cg *g = stream_group_find(s, c->argv[3], kstr_len(c->argv[3]));
    if (!g) {
        reply_errorf(c, "NOGROUP No such consumer group '%s' for key name '%s'", c->argv[3], c->argv[2]);
        return;
    }
    long long now = server_mstime();
    reply_array_len(c, (long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        stream_consumer *cons = g->consumers[i];
        long long idle = now - cons->seen_time;
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cons->name, cons->nlen);
        field_ll(c, "pending", (long long)cons->pel.n);
        field_ll(c, "idle", idle < 0 ? 0 : idle);
    }
}

void xinfo_help_command(client *c) {
    static const char *const help[] = {
        "CONSUMERS <key> <groupname>",
        "    The consumers of a group: name, pending entries, idle milliseconds.",
        "GROUPS <key>",
        "    The consumer groups of a stream.",
        "STREAM <key> [FULL [COUNT <count>]]",
        "    A summary of the stream; FULL lists entries, groups and pending entries (COUNT of each,",
        "    10 by default, 0 for all).",
        NULL,
    };
    reply_help(c, help);
}
