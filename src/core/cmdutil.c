/* See cmdutil.h. */
#include "core/cmdutil.h"
#include "pubsub/tracking.h"
#include "core/multi.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/hashtable.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

long long server_dirty;

int parse_ll_msg(client *c, const kstr arg, long long *out, const char *msg) {
    if (string_to_ll(arg, kstr_len(arg), out)) return 1;
    reply_error(c, msg ? msg : "ERR value is not an integer or out of range");
    return 0;
}

int parse_ll(client *c, const kstr arg, long long *out) { return parse_ll_msg(c, arg, out, NULL); }

int parse_ll_range(client *c, const kstr arg, long long min, long long max, long long *out, const char *msg) {
    long long v;
    if (!string_to_ll(arg, kstr_len(arg), &v) || v < min || v > max) {
        if (msg) reply_error(c, msg);
        else reply_errorf(c, "ERR value is out of range, must be between %lld and %lld", min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int parse_long(client *c, const kstr arg, long *out) {
    long long v;
    if (!parse_ll(c, arg, &v)) return 0;
    *out = (long)v;
    return 1;
}

int parse_double(client *c, const kstr arg, double *out) {
    if (string_to_double(arg, kstr_len(arg), out)) return 1;
    reply_error_not_float(c);
    return 0;
}

int parse_long_double(client *c, const kstr arg, long double *out) {
    if (string_to_long_double(arg, kstr_len(arg), out)) return 1;
    reply_error_not_float(c);
    return 0;
}

int parse_timeout(client *c, const kstr arg, int unit_seconds, long long *deadline_ms) {
    long long ms;
    if (unit_seconds) {
        long double d;
        if (!string_to_long_double(arg, kstr_len(arg), &d)) {
            reply_error(c, "ERR timeout is not a float or out of range");
            return 0;
        }
        if (d < 0) {
            reply_error(c, "ERR timeout is negative");
            return 0;
        }
        if (d * 1000 > (long double)(1LL << 50)) {
            reply_error(c, "ERR timeout is out of range");
            return 0;
        }
        ms = (long long)ceill(d * 1000);
    } else {
        if (!string_to_ll(arg, kstr_len(arg), &ms)) {
            reply_error(c, "ERR timeout is not an integer or out of range");
            return 0;
        }
        if (ms < 0) {
            reply_error(c, "ERR timeout is negative");
            return 0;
        }
    }
    *deadline_ms = ms > 0 ? server_mstime() + ms : 0;
    return 1;
}

int arg_is(const kstr arg, const char *word) { return !strcasecmp(arg, word); }

entry *lookup_read(client *c, const kstr key) { return db_lookup(c->db, key, kstr_len(key), LOOKUP_NONE); }
entry *lookup_write(client *c, const kstr key) { return db_lookup(c->db, key, kstr_len(key), LOOKUP_WRITE); }

static entry *typed(client *c, entry *e, int type, int *wrong) {
    *wrong = 0;
    if (e && entry_type(e) != type) {
        reply_error_wrongtype(c);
        *wrong = 1;
        return NULL;
    }
    return e;
}

entry *lookup_read_typed(client *c, const kstr key, int type, int *wrong) {
    return typed(c, lookup_read(c, key), type, wrong);
}

entry *lookup_write_typed(client *c, const kstr key, int type, int *wrong) {
    return typed(c, lookup_write(c, key), type, wrong);
}

void reply_entry_string(client *c, const entry *e) {
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    reply_bulk(c, s, len);
}

int clamp_rank_range(long long len, long long *start, long long *end) {
    if (*start < 0) *start += len;
    if (*end < 0) *end += len;
    if (*start < 0) *start = 0;
    if (*start > *end || *start >= len) return 0;
    if (*end >= len) *end = len - 1;
    return 1;
}

void signal_modified_key(client *c, db *d, const kstr key) {
    multi_touch_key(d, key, kstr_len(key));
    tracking_invalidate_key(c, key, kstr_len(key));
    server_dirty++;
}

int parse_scan_args(client *c, int cursor_index, int allow_type, scan_args *out) {
    memset(out, 0, sizeof(*out));
    out->count = 10;
    kstr cur = c->argv[cursor_index];
    char *end;
    errno = 0;
    out->cursor = strtoull(cur, &end, 10);
    if (kstr_len(cur) == 0 || *end != '\0' || errno == ERANGE || cur[0] == '-' || cur[0] == ' ' || cur[0] == '+') {
        reply_error(c, "ERR invalid cursor");
        return 0;
    }
    for (int j = cursor_index + 1; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            reply_error_syntax(c);
            return 0;
        }
        kstr a = c->argv[j], v = c->argv[j + 1];
        if (arg_is(a, "count")) {
            if (!parse_ll(c, v, &out->count)) return 0;
            if (out->count < 1) {
                reply_error_syntax(c);
                return 0;
            }
        } else if (arg_is(a, "match")) {
            out->pattern = v;
            out->patlen = kstr_len(v);
            /* "*" matches everything: skip the matcher. */
            if (out->patlen == 1 && v[0] == '*') out->pattern = NULL;
        } else if (allow_type && arg_is(a, "type")) {
            out->type = v;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

typedef struct element_vec {
    void **v;
    size_t n, cap;
} element_vec;

static void element_vec_push(void *priv, void *element) {
    element_vec *ev = priv;
    if (ev->n == ev->cap) {
        ev->cap = ev->cap ? ev->cap * 2 : 16;
        ev->v = zrealloc(ev->v, ev->cap * sizeof(void *));
    }
    ev->v[ev->n++] = element;
}

size_t scan_collect(struct hashtable *ht, size_t cursor, long long count, void ***elements, size_t *n) {
    element_vec ev = {NULL, 0, 0};
    long long budget = count * 10;
    do {
        cursor = hashtable_scan(ht, cursor, element_vec_push, &ev);
    } while (cursor && budget-- > 0 && (long long)ev.n < count);
    *elements = ev.v;
    *n = ev.n;
    return cursor;
}

int scan_pattern_matches(const scan_args *a, const char *s, size_t len) {
    return !a->pattern || glob_match(a->pattern, a->patlen, s, len, 0);
}
