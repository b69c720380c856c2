/*
 * cmdutil: what nearly every command handler needs: parsing numeric
 * arguments with Redis's error texts, and looking keys up with type
 * checking. Handlers stay short and their errors stay uniform.
 *
 * Each parse_* function replies with the error itself and returns 0 on
 * failure, so a handler writes: if (!parse_ll(c, c->argv[2], &n)) return;
 */
#ifndef KEEL_CMDUTIL_H
#define KEEL_CMDUTIL_H

#include "core/db.h"
#include "core/entry.h"
#include "net/client.h"
#include "pubsub/notify.h"

int parse_ll(client *c, const kstr arg, long long *out);
int parse_ll_msg(client *c, const kstr arg, long long *out, const char *msg);
int parse_ll_range(client *c, const kstr arg, long long min, long long max, long long *out, const char *msg);
int parse_long(client *c, const kstr arg, long *out);
int parse_double(client *c, const kstr arg, double *out);
int parse_long_double(client *c, const kstr arg, long double *out);
/* Timeout argument of blocking commands, in ms (absolute deadline). */
int parse_timeout(client *c, const kstr arg, int unit_seconds, long long *deadline_ms);

/* Case-insensitive argument compare. */
int arg_is(const kstr arg, const char *word);
/* A rank range of a list or sorted set (LRANGE, LTRIM, ZRANGE, ...):
 * negative ranks count from the end, start is raised to 0 and end lowered
 * to len - 1. Returns 0 when nothing is in range. */
int clamp_rank_range(long long len, long long *start, long long *end);

/* Lookups: NULL if missing. The _typed variants reply WRONGTYPE and set
 * *wrong when the key holds another type, so the handler just returns. */
entry *lookup_read(client *c, const kstr key);
entry *lookup_write(client *c, const kstr key);
entry *lookup_read_typed(client *c, const kstr key, int type, int *wrong);
entry *lookup_write_typed(client *c, const kstr key, int type, int *wrong);

/* Reply the value of a string entry as a bulk. */
void reply_entry_string(client *c, const entry *e);

/* Record a change for later subsystems (WATCH, client-side caching,
 * dirty counter for persistence). Keyspace events are separate calls
 * (pubsub/notify.h, included here for every command family). */
void signal_modified_key(client *c, db *d, const kstr key);

extern long long server_dirty;


/* SCAN-family options: [MATCH pattern] [COUNT n] [TYPE t] from argv[first..].
 * allow_type: only SCAN accepts TYPE. Replies the error and returns 0. */
typedef struct scan_args {
    unsigned long long cursor;
    const char *pattern;
    size_t patlen;
    long long count;
    const char *type;   /* NULL = any */
} scan_args;
int parse_scan_args(client *c, int cursor_index, int allow_type, scan_args *out);
int scan_pattern_matches(const scan_args *a, const char *s, size_t len);
/* One SCAN call over a hashtable (SCAN, HSCAN, SSCAN, ZSCAN): visits
 * buckets from cursor until count elements were seen, or 10 x count
 * buckets were visited so that a sparse table cannot make one call walk
 * forever. The reply starts with the next cursor, known only at the end,
 * hence the collection. Returns the next cursor; *elements (the caller
 * zfree()s it) and *n get the elements seen. */
struct hashtable;
size_t scan_collect(struct hashtable *ht, size_t cursor, long long count, void ***elements, size_t *n);
#endif
