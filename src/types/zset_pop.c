/*
 * zset_pop: members taken by position rather than by value: ZPOPMIN,
 * ZPOPMAX, ZMPOP, their blocking forms BZPOPMIN, BZPOPMAX, BZMPOP, and
 * ZRANDMEMBER.
 *
 * All the pops funnel into pop_elements (take from one end, reply, delete
 * the key when it empties), so the blocking and non-blocking forms and
 * the three reply shapes cannot disagree. A blocking form that finds
 * every key empty calls block_on_keys(); core/blocking.c re-runs the
 * whole command when a key is signalled, so there is no separate "serve
 * a waiting client" path here.
 *
 * ZRANDMEMBER lives here because it too picks members by rank (random
 * ones) through the iterator, never by score or member.
 */
#include "types/zset_internal.h"

#include "core/propagate.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "lib/random.h"
#include "lib/util.h"
#include "net/reply.h"

#include <limits.h>

/* ======================================================================
 * Pops: ZPOPMIN/MAX, ZMPOP, BZPOPMIN/MAX, BZMPOP
 * ==================================================================== */

/* Pop up to count elements from one end, replying each as a member/score
 * (nested pairs when 'nested', flat otherwise). Deletes the key when it
 * empties. Returns the number popped. */
static long pop_elements(client *c, entry *e, const kstr key, int max, long count, int nested) {
    long n = (long)zset_length(e);
    if (count < n) n = count;
    for (long i = 0; i < n; i++) {
        zit it;
        zit_init(&it, e, max);
        size_t len;
        const char *m = zit_member(&it, &len);
        double score = zit_score(&it);
        if (nested) reply_array_len(c, 2);
        reply_bulk(c, m, len);
        reply_double(c, score);
        zset_delete_at(e, &it);
    }
    zset_delete_if_empty(c, e, key);
    if (n) signal_modified_key(c, c->db, key);
    if (n) zset_notify_removal(c, key, max ? "zpopmax" : "zpopmin");
    return n;
}

static void zpop_generic(client *c, int max) {
    if (c->argc > 3) {
        reply_error_syntax(c);
        return;
    }
    /* Redis validates COUNT before looking the key up, so a bad count wins
     * over WRONGTYPE. */
    long long count = 1;
    if (c->argc == 3) {
        if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &count) || count < 0) {
            reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    int wrong;
    entry *e = zset_write(c, c->argv[1], &wrong);
    if (wrong) return;
    if (!e || count == 0) {
        reply_empty_array(c);
        return;
    }
    int nested = c->argc == 3 && c->resp >= 3;
    long n = (long)zset_length(e);
    if (count < n) n = (long)count;
    reply_array_len(c, nested ? n : 2 * n);
    pop_elements(c, e, c->argv[1], max, n, nested);
}

void zpopmin_command(client *c) { zpop_generic(c, 0); }
void zpopmax_command(client *c) { zpop_generic(c, 1); }

/* Transactions and scripts cannot wait: they get the timeout answer. */
static int may_block(client *c) {
#ifdef CLIENT_MULTI
    if (c->flags & CLIENT_MULTI) return 0;
#endif
#ifdef CLIENT_DENY_BLOCKING
    if (c->flags & CLIENT_DENY_BLOCKING) return 0;
#endif
    return !(c->flags & CLIENT_FAKE);
}

static void bzpop_generic(client *c, int max) {
    long long deadline;
    if (!parse_timeout(c, c->argv[c->argc - 1], 1, &deadline)) return;
    for (int j = 1; j < c->argc - 1; j++) {
        int wrong;
        entry *e = zset_write(c, c->argv[j], &wrong);
        if (wrong) return;
        if (!e) continue;
        reply_array_len(c, 3);
        reply_bulk(c, c->argv[j], kstr_len(c->argv[j]));
        pop_elements(c, e, c->argv[j], max, 1, 0);
        propagate_rewritef(c, "sk", max ? "ZPOPMAX" : "ZPOPMIN", c->argv[j]);
        return;
    }
    if (!may_block(c)) {
        reply_null_array(c);
        return;
    }
    block_on_keys(c, &c->argv[1], c->argc - 2, deadline);
}

void bzpopmin_command(client *c) { bzpop_generic(c, 0); }
void bzpopmax_command(client *c) { bzpop_generic(c, 1); }

/* [BZ]MPOP: numkeys key... MIN|MAX [COUNT n], numkeys at argv[first]. */
static void mpop_generic(client *c, int first, long long deadline, int blocking) {
    long long numkeys, count = -1;
    if (!string_to_ll(c->argv[first], kstr_len(c->argv[first]), &numkeys) || numkeys <= 0 ||
        numkeys > INT_MAX) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    int where = first + 1 + (int)numkeys;
    if (numkeys > c->argc - first - 2) {
        reply_error_syntax(c);
        return;
    }
    int max;
    if (arg_is(c->argv[where], "min"))
        max = 0;
    else if (arg_is(c->argv[where], "max"))
        max = 1;
    else {
        reply_error_syntax(c);
        return;
    }
    for (int j = where + 1; j < c->argc; j++) {
        if (count == -1 && arg_is(c->argv[j], "count") && j + 1 < c->argc) {
            if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &count) || count <= 0) {
                reply_error(c, "ERR count should be greater than 0");
                return;
            }
            j++;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    if (count == -1) count = 1;
    for (int j = first + 1; j < where; j++) {
        int wrong;
        entry *e = zset_write(c, c->argv[j], &wrong);
        if (wrong) return;
        if (!e) continue;
        long n = (long)zset_length(e);
        if (count < n) n = (long)count;
        reply_array_len(c, 2);
        reply_bulk(c, c->argv[j], kstr_len(c->argv[j]));
        reply_array_len(c, n);
        pop_elements(c, e, c->argv[j], max, n, 1);
        propagate_rewritef(c, "skl", max ? "ZPOPMAX" : "ZPOPMIN", c->argv[j], (long long)n);
        return;
    }
    if (!blocking || !may_block(c)) {
        reply_null_array(c);
        return;
    }
    block_on_keys(c, &c->argv[first + 1], (int)numkeys, deadline);
}

void zmpop_command(client *c) { mpop_generic(c, 1, 0, 0); }

void bzmpop_command(client *c) {
    long long deadline;
    if (!parse_timeout(c, c->argv[1], 1, &deadline)) return;
    mpop_generic(c, 2, deadline, 1);
}

/* ======================================================================
 * ZRANDMEMBER
 * ==================================================================== */

static void reply_at_rank(client *c, const entry *e, unsigned long rank, int withscores) {
    zit it;
    zit_seek_rank(&it, e, rank, 0);
    size_t len;
    const char *m = zit_member(&it, &len);
    zset_reply_member(c, m, len, zit_score(&it), withscores);
}

static void zrandmember_with_count(client *c, const entry *e, long long count, int withscores) {
    unsigned long size = zset_length(e);
    if (count < 0) { /* repeats allowed */
        unsigned long n = (unsigned long)(-count);
        reply_array_len(c, zset_reply_len(c, (long)n, withscores));
        /* A huge count stops once the output limit closed the client. */
        for (unsigned long i = 0; i < n && !(c->flags & CLIENT_CLOSE_ASAP); i++)
            reply_at_rank(c, e, random_below(size), withscores);
        return;
    }
    unsigned long want = (unsigned long)count < size ? (unsigned long)count : size;
    reply_array_len(c, zset_reply_len(c, (long)want, withscores));
    /* Selection sampling (Knuth's algorithm S): one pass, each element
     * kept with probability needed/remaining, exactly 'want' distinct. */
    unsigned long needed = want, remaining = size;
    zit it;
    for (zit_init(&it, e, 0); zit_valid(&it) && needed; zit_next(&it), remaining--) {
        if (random_below(remaining) >= needed) continue;
        size_t len;
        const char *m = zit_member(&it, &len);
        zset_reply_member(c, m, len, zit_score(&it), withscores);
        needed--;
    }
}

void zrandmember_command(client *c) {
    long long count = 0;
    int withscores = 0;
    if (c->argc > 4 || (c->argc == 4 && !arg_is(c->argv[3], "withscores"))) {
        reply_error_syntax(c);
        return;
    }
    withscores = c->argc == 4;
    if (c->argc >= 3) {
        if (!parse_ll(c, c->argv[2], &count)) return;
        if (count < -LONG_MAX || (withscores && (count < -LONG_MAX / 2 || count > LONG_MAX / 2))) {
            reply_error(c, "ERR value is out of range");
            return;
        }
    }
    int wrong;
    entry *e = zset_read(c, c->argv[1], &wrong);
    if (wrong) return;
    if (c->argc == 2) {
        if (!e)
            reply_null(c);
        else
            reply_at_rank(c, e, random_below(zset_length(e)), 0);
        return;
    }
    if (!e || count == 0) {
        reply_empty_array(c);
        return;
    }
    zrandmember_with_count(c, e, count, withscores);
}
