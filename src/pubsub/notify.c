/*
 * notify: see notify.h. Also home of the messaging modules' configuration
 * table (pubsub_configs): notify-keyspace-events and
 * tracking-table-max-keys.
 */
#include "pubsub/notify.h"
#include "core/config.h"
#include "core/entry.h"
#include "lib/util.h"
#include "pubsub/pubsub.h"
#include "pubsub/tracking.h"

#include <stdio.h>
#include <string.h>

int notify_flags;

static const struct {
    char ch;
    int flag;
} classes[] = {
    {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING}, {'l', NOTIFY_LIST},    {'s', NOTIFY_SET},
    {'h', NOTIFY_HASH},    {'z', NOTIFY_ZSET},   {'x', NOTIFY_EXPIRED}, {'e', NOTIFY_EVICTED},
    {'t', NOTIFY_STREAM},  {'d', NOTIFY_MODULE}, {'n', NOTIFY_NEW},     {'K', NOTIFY_KEYSPACE},
    {'E', NOTIFY_KEYEVENT}, {'m', NOTIFY_KEY_MISS},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

int notify_parse_flags(const char *s) {
    int flags = 0;
    for (; *s; s++) {
        if (*s == 'A') {
            flags |= NOTIFY_ALL;
            continue;
        }
        size_t i = 0;
        while (i < NCLASSES && classes[i].ch != *s) i++;
        if (i == NCLASSES) return -1;
        flags |= classes[i].flag;
    }
    return flags;
}

/* Redis's canonical order: "A" (or the type classes g$lshzxetdn), then K E m. */
kstr notify_flags_string(int flags) {
    kstr s = kstr_empty();
    int all = (flags & NOTIFY_ALL) == NOTIFY_ALL;
    if (all) s = kstr_cat(s, "A");
    for (size_t i = 0; i < NCLASSES; i++) {
        int f = classes[i].flag;
        if (!(flags & f)) continue;
        if (all && (f & NOTIFY_ALL)) continue;
        s = kstr_cat_len(s, &classes[i].ch, 1);
    }
    return s;
}

static void publish_event(const char *prefix, int dbid, const char *suffix, size_t slen, const char *msg, size_t mlen) {
    char head[64];
    int hl = snprintf(head, sizeof(head), "%s@%d__:", prefix, dbid);
    kstr ch = kstr_cat_len(kstr_new_len(head, (size_t)hl), suffix, slen);
    pubsub_publish(ch, kstr_len(ch), msg, mlen);
    kstr_free(ch);
}

void notify_keyspace_event_len(int type, const char *event, const char *key, size_t klen, int dbid) {
    if (!(notify_flags & type)) return;
    if (!pubsub_has_listeners()) return;
    size_t elen = strlen(event);
    if (notify_flags & NOTIFY_KEYSPACE) publish_event("__keyspace", dbid, key, klen, event, elen);
    if (notify_flags & NOTIFY_KEYEVENT) publish_event("__keyevent", dbid, event, elen, key, klen);
}

void notify_keyspace_event(int type, const char *event, const kstr key, int dbid) {
    if (notify_flags & type) notify_keyspace_event_len(type, event, key, kstr_len(key), dbid);
}

void notify_new_key(int dbid, const struct entry *e) {
    if (!(notify_flags & NOTIFY_NEW)) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    notify_keyspace_event_len(NOTIFY_NEW, "new", key, klen, dbid);
}

void notify_evicted(int dbid, const char *key, size_t klen) {
    tracking_invalidate_key(NULL, key, klen);
    notify_keyspace_event_len(NOTIFY_EVICTED, "evicted", key, klen, dbid);
}

void notify_expired(int dbid, const char *key, size_t klen) {
    tracking_invalidate_key(NULL, key, klen);
    notify_keyspace_event_len(NOTIFY_EXPIRED, "expired", key, klen, dbid);
}

/* ---- configuration ------------------------------------------------------ */

static int set_notify(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    int flags = argc == 0 ? 0 : argc == 1 ? notify_parse_flags(argv[0]) : -1;
    if (flags < 0) {
        *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        return 0;
    }
    notify_flags = flags;
    return 1;
}

static kstr get_notify(const config_entry *ce) {
    (void)ce;
    return notify_flags_string(notify_flags);
}

config_entry pubsub_configs[] = {
    CONFIG_SPECIAL("notify-keyspace-events", NULL, "", set_notify, get_notify, 0),
    CONFIG_LL("tracking-table-max-keys", &tracking_table_max_keys, "1000000", 0, 1000000000LL, 0, NULL),
    CONFIG_END,
};
