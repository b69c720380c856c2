/*
 * set_internal.h: what the set files share, and nothing more.
 *
 * The type is split by concept:
 *   set.c      storage (intset, listpack, hashtable), conversion, the
 *              member view below, type_ops, the single-set commands,
 *              SPOP/SRANDMEMBER, SSCAN and the one command table;
 *   set_ops.c  the multi-set algebra: SINTER / SUNION / SDIFF, their
 *              STORE forms, and SINTERCARD.
 * set_ops.c sees the encodings only through set_value_foreach and
 * set_value_has_member, so the algebra is written once, not once per
 * encoding. One command table (in set.c), as for zsets, so that
 * core/command.c's table list does not depend on how this type is split.
 */
#ifndef KEEL_SET_INTERNAL_H
#define KEEL_SET_INTERNAL_H

#include "core/entry.h"
#include "lib/listpack.h"
#include "net/client.h"
#include "types/set.h"

/* A member as the commands see it, whatever the encoding: bytes, and the
 * integer when the encoding stored one (so intset probes need no parse). */
typedef struct member {
    const char *s;
    size_t len;
    int is_int;   /* ival valid (from an intset or a listpack integer) */
    long long ival;
    char buf[LP_INTBUF_SIZE];
} member;

/* Called per member; return 0 to stop the walk. */
typedef int member_fn(void *priv, const member *m);

set_value set_value_empty_intset(void);
void set_value_foreach(const set_value *sv, member_fn *fn, void *priv);
int set_value_has_member(const set_value *sv, const member *m);
/* The (encoding, pointer) pair an entry of type set holds. */
set_value set_of(const entry *e);
void reply_member(client *c, const member *m);
void reply_whole_set(client *c, const set_value *sv);

/* set_ops.c's handlers, listed in set.c's command table. */
void sinter_command(client *c);
void sinterstore_command(client *c);
void sintercard_command(client *c);
void sunion_command(client *c);
void sunionstore_command(client *c);
void sdiff_command(client *c);
void sdiffstore_command(client *c);

#endif
