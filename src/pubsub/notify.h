/*
 * notify: keyspace notifications (notify-keyspace-events).
 *
 * Every command family reports what it did to a key with one call here,
 * naming Redis's event ("set", "lpush", "expired", ...) and its class;
 * when the class is enabled the event is published on
 * __keyspace@<db>__:<key> (message: the event) and/or
 * __keyevent@<db>__:<event> (message: the key). With notifications off
 * (the default) a call costs one test. Expiry also tells client-side
 * caching (tracking.h) from here, so db.c has a single call per event.
 */
#ifndef KEEL_NOTIFY_H
#define KEEL_NOTIFY_H

#include <stddef.h>
#include "lib/kstr.h"

#define NOTIFY_KEYSPACE (1 << 0) /* K */
#define NOTIFY_KEYEVENT (1 << 1) /* E */
#define NOTIFY_GENERIC (1 << 2)  /* g */
#define NOTIFY_STRING (1 << 3)   /* $ */
#define NOTIFY_LIST (1 << 4)     /* l */
#define NOTIFY_SET (1 << 5)      /* s */
#define NOTIFY_HASH (1 << 6)     /* h */
#define NOTIFY_ZSET (1 << 7)     /* z */
#define NOTIFY_EXPIRED (1 << 8)  /* x */
#define NOTIFY_EVICTED (1 << 9)  /* e */
#define NOTIFY_STREAM (1 << 10)  /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m (not part of A) */
#define NOTIFY_MODULE (1 << 13)  /* d */
#define NOTIFY_NEW (1 << 14)     /* n (not part of A) */
#define NOTIFY_ALL (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | \
                    NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

/* Current flags (the parsed notify-keyspace-events). */
extern int notify_flags;

/* Report an event on a key: the call every command family makes. */
void notify_keyspace_event(int type, const char *event, const kstr key, int dbid);
void notify_keyspace_event_len(int type, const char *event, const char *key, size_t klen, int dbid);
/* A key expired (lazily or by the active cycle): "expired", and tracking
 * invalidation. */
void notify_expired(int dbid, const char *key, size_t klen);
/* A key was evicted: "evicted", and tracking invalidation. */
void notify_evicted(int dbid, const char *key, size_t klen);

/* A key was added to a database ("new"). */
struct entry;
void notify_new_key(int dbid, const struct entry *e);

/* "Kx$" <-> flags; -1 on an unknown character. */
int notify_parse_flags(const char *s);
kstr notify_flags_string(int flags);

#endif
