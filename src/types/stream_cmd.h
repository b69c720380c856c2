/*
 * stream_cmd: what the stream command modules share (stream_cmd.c,
 * stream_read.c, stream_group_cmd.c, stream_info.c): ID arguments with
 * Redis's errors, typed lookups, and the reply shape of entries.
 */
#ifndef KEEL_TYPES_STREAM_CMD_H
#define KEEL_TYPES_STREAM_CMD_H

#include "types/stream.h"
#include "types/stream_group.h"
#include "core/entry.h"
#include "net/client.h"

/* Parse "ms-seq", "ms" (seq = missing_seq), "-" and "+". Replies
 * "Invalid stream ID" and returns 0 on error. *seq_given (may be NULL)
 * tells whether the sequence part was written. */
int stream_parse_id(client *c, const kstr arg, uint64_t missing_seq, stream_id *id, int *seq_given);
/* An interval bound of XRANGE / XPENDING / XAUTOCLAIM: as above, plus a
 * leading '(' for an exclusive bound (moved one step inward; replies
 * "invalid start/end ID for the interval" when that is impossible).
 * Returns 0 after replying on error. */
int stream_parse_range_id(client *c, const kstr arg, int is_end, stream_id *id);

/* The stream at key, or NULL; replies WRONGTYPE and sets *wrong. */
stream *stream_lookup_read(client *c, const kstr key, int *wrong);
stream *stream_lookup_write(client *c, const kstr key, int *wrong);

void reply_stream_id(client *c, stream_id id);
/* [id, [field, value, ...]] for the iterator's current entry. */
void reply_stream_entry(client *c, const stream_iter *it);
/* Reply up to count (0: all) entries of [start, end]; returns how many.
 * With g (and c_for_pel), each entry is also delivered to the group:
 * added to the PEL of consumer cons unless noack, the group's last ID
 * advanced. */
long stream_reply_range(client *c, stream *s, stream_id start, stream_id end, long long count, int rev,
                        stream_cg *g, stream_consumer *cons, int noack);

/* Keyspace side effects of a write to a stream. */
void stream_signal_write(client *c, const kstr key, const char *event);
/* The consumer named name of group g (of the stream at key), created if
 * missing; a creation emits "xgroup-createconsumer" as Redis does when
 * XREADGROUP, XCLAIM or XAUTOCLAIM makes a consumer. */
stream_consumer *stream_consumer_for(client *c, const kstr key, stream_cg *g, const kstr name);

/* Handlers, listed in stream_commands[] (stream_cmd.c). */
void xread_command(client *c);
void xreadgroup_command(client *c);
void xgroup_create_command(client *c);
void xgroup_setid_command(client *c);
void xgroup_destroy_command(client *c);
void xgroup_createconsumer_command(client *c);
void xgroup_delconsumer_command(client *c);
void xgroup_help_command(client *c);
void xack_command(client *c);
void xpending_command(client *c);
void xclaim_command(client *c);
void xautoclaim_command(client *c);
void xinfo_stream_command(client *c);
void xinfo_groups_command(client *c);
void xinfo_consumers_command(client *c);
void xinfo_help_command(client *c);

#endif
