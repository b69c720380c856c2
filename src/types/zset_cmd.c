/*
 * zset_cmd: the sorted-set commands that touch one member at a time
 * (ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK), ZSCAN,
 * the small helpers all the command files share (lookups, WITHSCORES
 * replies, the STORE ending), and the type's one command table.
 *
 * These commands are thin: each is argument parsing around one storage
 * primitive of zset.c, which is why they are not with the storage itself.
 * Range, set-operation and pop commands have files of their own
 * (zset_range.c, zset_setops.c, zset_pop.c); the table lists them all so
 * that core/command.c keeps one entry for the type however it is split.
 */
#include "types/zset_internal.h"

#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <stdio.h>
#include <string.h>

/* ======================================================================
 * Helpers shared by the command files
 * ==================================================================== */

entry *zset_read(client *c, const kstr key, int *wrong) {
    return lookup_read_typed(c, key, TYPE_ZSET, wrong);
}

entry *zset_write(client *c, const kstr key, int *wrong) {
    return lookup_write_typed(c, key, TYPE_ZSET, wrong);
}

void zset_delete_if_empty(client *c, entry *e, const kstr key) {
    if (zset_length(e) == 0) db_delete(c->db, key, kstr_len(key));
}

void zset_notify_removal(client *c, const kstr key, const char *event) {
    notify_keyspace_event(NOTIFY_ZSET, event, key, db_id(c->db));
    if (!db_find(c->db, key, kstr_len(key))) notify_keyspace_event(NOTIFY_GENERIC, "del", key, db_id(c->db));
}

/* The event of a command that stores a sorted set: its name, except for
 * the geo commands' STORE options. */
static const char *store_event(const client *c) {
    if (!strncmp(c->cmd->name, "geosearch", 9)) return "geosearchstore";
    if (!strncmp(c->cmd->name, "georadius", 9)) return "georadiusstore";
    return c->cmd->name;
}

void zset_reply_member(client *c, const char *m, size_t len, double score, int withscores) {
    if (withscores && c->resp >= 3) reply_array_len(c, 2);
    reply_bulk(c, m, len);
    if (withscores) reply_double(c, score);
}

long zset_reply_len(client *c, long n, int withscores) {
    return withscores && c->resp < 3 ? 2 * n : n;
}

void zset_store_result(client *c, const kstr dst, const zset_item *items, size_t n) {
    if (n) {
        db_set(c->db, zset_entry_from_sorted(dst, kstr_len(dst), items, n), 0);
        signal_modified_key(c, c->db, dst);
        notify_keyspace_event(NOTIFY_ZSET, store_event(c), dst, db_id(c->db));
    } else if (db_delete(c->db, dst, kstr_len(dst))) {
        signal_modified_key(c, c->db, dst);
        notify_keyspace_event(NOTIFY_GENERIC, "del", dst, db_id(c->db));
    }
    reply_ll(c, (long long)n);
}

/* ======================================================================
 * ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK
 * ==================================================================== */

static int parse_zadd_flags(client *c, int *flags, int *ch, int *first) {
    int j = 2;
    *flags = 0;
    *ch = 0;
    for (; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (arg_is(a, "nx"))
            *flags |= ZADD_IN_NX;
        else if (arg_is(a, "xx"))
            *flags |= ZADD_IN_XX;
        else if (arg_is(a, "gt"))
            *flags |= ZADD_IN_GT;
        else if (arg_is(a, "lt"))
            *flags |= ZADD_IN_LT;
        else if (arg_is(a, "incr"))
            *flags |= ZADD_IN_INCR;
        else if (arg_is(a, "ch"))
            *ch = 1;
        else
            break;
    }
    *first = j;
    int pairs = c->argc - j;
    if (pairs == 0 || pairs % 2) {
        reply_error_syntax(c);
        return 0;
    }
    int f = *flags;
    if ((f & ZADD_IN_NX) && (f & ZADD_IN_XX)) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return 0;
    }
    if (((f & ZADD_IN_GT) && (f & ZADD_IN_NX)) || ((f & ZADD_IN_LT) && (f & ZADD_IN_NX)) ||
        ((f & ZADD_IN_GT) && (f & ZADD_IN_LT))) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return 0;
    }
    if ((f & ZADD_IN_INCR) && pairs > 2) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return 0;
    }
    return 1;
}

static void zadd_generic(client *c, int flags, int ch, int first) {
    int npairs = (c->argc - first) / 2;
    double stackbuf[16];
    double *scores = npairs <= 16 ? stackbuf : zmalloc(sizeof(double) * (size_t)npairs);
    int incr = flags & ZADD_IN_INCR;
    for (int i = 0; i < npairs; i++) {
        if (!parse_double(c, c->argv[first + 2 * i], &scores[i])) goto done;
    }
    kstr key = c->argv[1];
    int wrong;
    entry *e = zset_write(c, key, &wrong);
    if (wrong) goto done;
    if (!e) {
        if (flags & ZADD_IN_XX) {
            if (incr)
                reply_null(c);
            else
                reply_ll(c, 0);
            goto done;
        }
        e = zset_new_entry(key, kstr_len(key), kstr_len(c->argv[first + 1]));
        db_add(c->db, e);
    }
    long added = 0, updated = 0, processed = 0;
    double newscore = 0;
    for (int i = 0; i < npairs; i++) {
        kstr m = c->argv[first + 2 * i + 1];
        int r = zset_add(e, scores[i], m, kstr_len(m), flags, &newscore);
        if (r == ZADD_OUT_NAN) {
            reply_error(c, "ERR resulting score is not a number (NaN)");
            zset_delete_if_empty(c, e, key);
            goto done;
        }
        if (r == ZADD_OUT_ADDED) added++;
        if (r == ZADD_OUT_UPDATED) updated++;
        if (r != ZADD_OUT_NOP) processed++;
    }
    if (added || updated) signal_modified_key(c, c->db, key);
    if (added || updated) notify_keyspace_event(NOTIFY_ZSET, incr ? "zincr" : "zadd", key, db_id(c->db));
    if (incr) {
        if (processed)
            reply_double(c, newscore);
        else
            reply_null(c);
    } else {
        reply_ll(c, ch ? added + updated : added);
    }
done:
    if (scores != stackbuf) zfree(scores);
}

static void zadd_command(client *c) {
    int flags, ch, first;
    if (!parse_zadd_flags(c, &flags, &ch, &first)) return;
    zadd_generic(c, flags, ch, first);
}

static void zincrby_command(client *c) {
    /* ZINCRBY key incr member == ZADD key INCR incr member */
    zadd_generic(c, ZADD_IN_INCR, 0, 2);
}

static void zrem_command(client *c) {
    int wrong;
    entry *e = zset_write(c, c->argv[1], &wrong);
    if (!e) {
        if (!wrong) reply_ll(c, 0);
        return;
    }
    long removed = 0;
    for (int j = 2; j < c->argc; j++) {
        removed += zset_remove(e, c->argv[j], kstr_len(c->argv[j]));
        if (zset_length(e) == 0) break;
    }
    if (removed) {
        zset_delete_if_empty(c, e, c->argv[1]);
        signal_modified_key(c, c->db, c->argv[1]);
        zset_notify_removal(c, c->argv[1], "zrem");
    }
    reply_ll(c, removed);
}

static void zcard_command(client *c) {
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (!wrong) reply_ll(c, e ? (long long)zset_length(e) : 0);
}

static void zscore_command(client *c) {
    int wrong;
    double s;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (e && zset_score(e, c->argv[2], kstr_len(c->argv[2]), &s))
        reply_double(c, s);
    else
        reply_null(c);
}

static void zmscore_command(client *c) {
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (e && zset_score(e, c->argv[j], kstr_len(c->argv[j]), &s))
            reply_double(c, s);
        else
            reply_null(c);
    }
}

static void zrank_generic(client *c, int rev) {
    int withscore = 0;
    if (c->argc > 4) {
        reply_error_arity(c);
        return;
    }
    if (c->argc == 4) {
        if (!arg_is(c->argv[3], "withscore")) {
            reply_error_syntax(c);
            return;
        }
        withscore = 1;
    }
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    double score = 0;
    long r = e ? zset_rank(e, c->argv[2], kstr_len(c->argv[2]), rev, &score) : -1;
    if (r < 0) {
        if (withscore)
            reply_null_array(c);
        else
            reply_null(c);
        return;
    }
    if (withscore) {
        reply_array_len(c, 2);
        reply_ll(c, r);
        reply_double(c, score);
    } else {
        reply_ll(c, r);
    }
}

static void zrank_command(client *c) { zrank_generic(c, 0); }
static void zrevrank_command(client *c) { zrank_generic(c, 1); }

/* ======================================================================
 * ZSCAN
 * ==================================================================== */

typedef struct scan_ctx {
    client *c;
    const scan_args *args;
    void *deferred;
    long n;
} scan_ctx;

static void scan_begin(void *priv, size_t next_cursor) {
    scan_ctx *s = priv;
    char cbuf[32];
    int cl = snprintf(cbuf, sizeof(cbuf), "%zu", next_cursor);
    reply_bulk(s->c, cbuf, (size_t)cl);
    s->deferred = reply_deferred_len(s->c);
}

static void scan_emit(void *priv, const char *m, size_t len, double score) {
    scan_ctx *s = priv;
    if (!scan_pattern_matches(s->args, m, len)) return;
    char buf[SCORE_BUF];
    int n = double_to_string(buf, sizeof(buf), score);
    reply_bulk(s->c, m, len);
    reply_bulk(s->c, buf, (size_t)n);
    s->n++;
}

static int cursor_valid(const kstr s) {
    size_t n = kstr_len(s);
    if (n == 0 || n > 20) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

static void zscan_command(client *c) {
    scan_args a;
    int wrong;
    /* Redis's order: cursor, then the key, then the options (so a missing
     * key answers an empty scan whatever the options say). */
    if (!cursor_valid(c->argv[2])) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (!e) {
        reply_array_len(c, 2);
        reply_bulk_cstr(c, "0");
        reply_empty_array(c);
        return;
    }
    if (!parse_scan_args(c, 2, 0, &a)) return;
    reply_array_len(c, 2);
    scan_ctx s = {c, &a, NULL, 0};
    zset_scan(e, (size_t)a.cursor, a.count, scan_begin, scan_emit, &s);
    reply_set_deferred_array_len(c, s.deferred, 2 * s.n);
}

/* ======================================================================
 * Command table
 * ==================================================================== */

command zset_commands[] = {
    {"zadd", zadd_command, -4, "write denyoom fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Adds one or more members to a sorted set, or updates their scores.", NULL},
    {"zincrby", zincrby_command, 4, "write denyoom fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Increments the score of a member in a sorted set.", NULL},
    {"zrem", zrem_command, -3, "write fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Removes one or more members from a sorted set.", NULL},
    {"zcard", zcard_command, 2, "readonly fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns the number of members in a sorted set.", NULL},
    {"zcount", zcount_command, 4, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the count of members in a sorted set that have scores within a range.", NULL},
    {"zlexcount", zlexcount_command, 4, "readonly fast", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns the number of members in a sorted set within a lexicographical range.", NULL},
    {"zscore", zscore_command, 3, "readonly fast", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns the score of a member in a sorted set.", NULL},
    {"zmscore", zmscore_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "6.2.0",
     "Returns the score of one or more members in a sorted set.", NULL},
    {"zrank", zrank_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by ascending scores.", NULL},
    {"zrevrank", zrevrank_command, -3, "readonly fast", 1, 1, 1, "sorted-set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by descending scores.", NULL},
    {"zrange", zrange_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns members in a sorted set within a range of indexes.", NULL},
    {"zrangestore", zrangestore_command, -5, "write denyoom", 1, 2, 1, "sorted-set", "6.2.0",
     "Stores a range of members from sorted set in a key.", NULL},
    {"zrevrange", zrevrange_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.2.0",
     "Returns members in a sorted set within a range of indexes in reverse order.", NULL},
    {"zrangebyscore", zrangebyscore_command, -4, "readonly", 1, 1, 1, "sorted-set", "1.0.5",
     "Returns members in a sorted set within a range of scores.", NULL},
    {"zrevrangebyscore", zrevrangebyscore_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.2.0",
     "Returns members in a sorted set within a range of scores in reverse order.", NULL},
    {"zrangebylex", zrangebylex_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range.", NULL},
    {"zrevrangebylex", zrevrangebylex_command, -4, "readonly", 1, 1, 1, "sorted-set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range in reverse order.", NULL},
    {"zremrangebyrank", zremrangebyrank_command, 4, "write", 1, 1, 1, "sorted-set", "2.0.0",
     "Removes members in a sorted set within a range of indexes.", NULL},
    {"zremrangebyscore", zremrangebyscore_command, 4, "write", 1, 1, 1, "sorted-set", "1.2.0",
     "Removes members in a sorted set within a range of scores.", NULL},
    {"zremrangebylex", zremrangebylex_command, 4, "write", 1, 1, 1, "sorted-set", "2.8.9",
     "Removes members in a sorted set within a lexicographical range.", NULL},
    {"zpopmin", zpopmin_command, -2, "write fast", 1, 1, 1, "sorted-set", "5.0.0",
     "Returns the lowest-scoring members from a sorted set after removing them.", NULL},
    {"zpopmax", zpopmax_command, -2, "write fast", 1, 1, 1, "sorted-set", "5.0.0",
     "Returns the highest-scoring members from a sorted set after removing them.", NULL},
    {"zmpop", zmpop_command, -4, "write movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Returns the highest- or lowest-scoring members from one or more sorted sets after removing "
     "them.",
     NULL},
    {"bzpopmin", bzpopmin_command, -3, "write noscript blocking fast", 1, -2, 1, "sorted-set",
     "5.0.0",
     "Removes and returns the member with the lowest score from one or more sorted sets, or blocks "
     "until one is available.",
     NULL},
    {"bzpopmax", bzpopmax_command, -3, "write noscript blocking fast", 1, -2, 1, "sorted-set",
     "5.0.0",
     "Removes and returns the member with the highest score from one or more sorted sets, or "
     "blocks until one is available.",
     NULL},
    {"bzmpop", bzmpop_command, -5, "write blocking movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Removes and returns a member by score from one or more sorted sets, or blocks until one is "
     "available.",
     NULL},
    {"zrandmember", zrandmember_command, -2, "readonly", 1, 1, 1, "sorted-set", "6.2.0",
     "Returns one or more random members from a sorted set.", NULL},
    {"zunionstore", zunionstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set",
     "2.0.0", "Stores the union of multiple sorted sets in a key.", NULL},
    {"zinterstore", zinterstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set",
     "2.0.0", "Stores the intersect of multiple sorted sets in a key.", NULL},
    {"zdiffstore", zdiffstore_command, -4, "write denyoom movablekeys", 1, 1, 1, "sorted-set",
     "6.2.0", "Stores the difference of multiple sorted sets in a key.", NULL},
    {"zunion", zunion_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the union of multiple sorted sets.", NULL},
    {"zinter", zinter_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the intersect of multiple sorted sets.", NULL},
    {"zdiff", zdiff_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "6.2.0",
     "Returns the difference between multiple sorted sets.", NULL},
    {"zintercard", zintercard_command, -3, "readonly movablekeys", 0, 0, 0, "sorted-set", "7.0.0",
     "Returns the number of members of the intersect of multiple sorted sets.", NULL},
    {"zscan", zscan_command, -3, "readonly", 1, 1, 1, "sorted-set", "2.8.0",
     "Iterates over members and scores of a sorted set.", NULL},
    {0}};
