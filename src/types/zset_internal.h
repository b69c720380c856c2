/*
 * zset_internal.h: what the sorted-set files share, and nothing more.
 *
 * The type is split by concept:
 *   zset.c         storage: the two encodings, conversion, the iterator,
 *                  the primitives below and type_ops. The only file that
 *                  knows what a listpack or skiplist+index looks like.
 *   zset_cmd.c     single-member commands (ZADD, ZREM, ZSCORE, ZRANK...),
 *                  ZSCAN, the helpers every command file uses, and the
 *                  one command table.
 *   zset_range.c   everything that selects by rank, score or lex range.
 *   zset_setops.c  ZUNION / ZINTER / ZDIFF [STORE], ZINTERCARD.
 *   zset_pop.c     members taken by position: pops (blocking or not) and
 *                  ZRANDMEMBER.
 *
 * The command files see the encodings only through the iterator (zit)
 * and the primitives, so a range or pop is written once, not once per
 * encoding. The iterator's fields are here only so that callers can keep
 * it on the stack; only zset.c reads them.
 *
 * One command table (in zset_cmd.c) rather than one per file: the table
 * list in core/command.c then does not depend on how this type is split,
 * at the price of the handlers being extern and declared below.
 */
#ifndef KEEL_ZSET_INTERNAL_H
#define KEEL_ZSET_INTERNAL_H

#include "lib/listpack.h"
#include "lib/skiplist.h"
#include "net/client.h"
#include "types/types.h"
#include "types/zset.h"

/* Room for any score written as text ("%.17g" and the like). */
#define SCORE_BUF 64

/* ---- selecting by value ---- */

enum { RANGE_RANK, RANGE_SCORE, RANGE_LEX, RANGE_AUTO };

/* A range of scores, or of members (meaningful when all scores are
 * equal): type is RANGE_SCORE or RANGE_LEX, and picks the field used. */
typedef struct zvalrange {
    int type;
    sl_range score;
    sl_lexrange lex;
} zvalrange;

/* ---- the iterator: one walk over either encoding ---- */

typedef struct zit {
    unsigned char *lp, *p; /* listpack: position of the member */
    skiplist_node *n;
    int rev;
    char buf[LP_INTBUF_SIZE];
} zit;

/* At the first element in the direction (last one when rev). */
void zit_init(zit *it, const entry *e, int rev);
int zit_valid(const zit *it);
void zit_next(zit *it);
/* The member's bytes stay valid until the iterator moves or the set
 * changes. */
const char *zit_member(zit *it, size_t *len);
double zit_score(const zit *it);
/* At the rank-th element (0-based) in the direction; invalid past the end. */
void zit_seek_rank(zit *it, const entry *e, unsigned long rank, int rev);
/* At the first element of r in the direction; invalid if r is empty. */
void zit_seek_range(zit *it, const entry *e, const zvalrange *r, int rev);
/* The current element has not gone past the far end of r. */
int zit_in_range(zit *it, const zvalrange *r);

/* ---- primitives over either encoding ---- */

/* 0-based rank of a member (from the top when rev) and its score; -1 if
 * absent. */
long zset_rank(const entry *e, const char *m, size_t len, int rev, double *score);
/* Members in r: O(log n) on a skiplist. */
unsigned long zset_count_range(const entry *e, const zvalrange *r);
/* Remove the members in r, or those of ranks start..end (0-based,
 * inclusive, already within the set); return how many went. */
unsigned long zset_delete_range(entry *e, const zvalrange *r);
unsigned long zset_delete_ranks(entry *e, unsigned long start, unsigned long end);
/* Remove the element the iterator is on; the iterator is then spent. */
void zset_delete_at(entry *e, zit *it);

/* One ZSCAN step: begin(priv, next_cursor) runs first (a reply starts
 * with the cursor), then visit for each member of the step. A listpack is
 * small enough to go in one step, with next cursor 0. */
typedef void zset_scan_begin_fn(void *priv, size_t next_cursor);
void zset_scan(const entry *e, size_t cursor, long long count, zset_scan_begin_fn *begin,
               type_visit_fn *visit, void *priv);

/* ---- helpers shared by the command files (zset_cmd.c) ---- */

entry *zset_read(client *c, const kstr key, int *wrong);
entry *zset_write(client *c, const kstr key, int *wrong);
/* After a removal: Redis never keeps empty aggregates. */
void zset_delete_if_empty(client *c, entry *e, const kstr key);
/* Keyspace events after elements left key: event, then "del" if the key
 * is gone. */
void zset_notify_removal(client *c, const kstr key, const char *event);
/* One element of a reply, with its score if withscores (RESP3 nests
 * [member, score], RESP2 flattens), and the array length for n of them. */
void zset_reply_member(client *c, const char *m, size_t len, double score, int withscores);
long zset_reply_len(client *c, long n, int withscores);
/* zset_store_result (zset.h) is the STORE variants' ending. */

/* ---- command handlers (the table is in zset_cmd.c) ---- */

void zcount_command(client *c);
void zlexcount_command(client *c);
void zrange_command(client *c);
void zrangestore_command(client *c);
void zrevrange_command(client *c);
void zrangebyscore_command(client *c);
void zrevrangebyscore_command(client *c);
void zrangebylex_command(client *c);
void zrevrangebylex_command(client *c);
void zremrangebyrank_command(client *c);
void zremrangebyscore_command(client *c);
void zremrangebylex_command(client *c);

void zunion_command(client *c);
void zinter_command(client *c);
void zdiff_command(client *c);
void zunionstore_command(client *c);
void zinterstore_command(client *c);
void zdiffstore_command(client *c);
void zintercard_command(client *c);

void zpopmin_command(client *c);
void zpopmax_command(client *c);
void bzpopmin_command(client *c);
void bzpopmax_command(client *c);
void zmpop_command(client *c);
void bzmpop_command(client *c);
void zrandmember_command(client *c);

#endif
