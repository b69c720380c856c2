/*
 * resp_reader: incremental RESP2/RESP3 reply parser (see resp_reader.h).
 *
 * Shape: the unparsed bytes live in one growable buffer; `pos` is where the
 * next element header starts. An element is parsed only when all of its own
 * bytes are present (a header line, or a bulk's header plus payload), so a
 * partial element costs one memchr per feed and nothing is undone. An
 * aggregate header pushes a frame on a small stack; each finished child is
 * appended to the frame on top, and a frame whose children are all there
 * is popped and becomes a child itself. When the stack empties, a whole
 * reply is ready.
 */
#include "lib/resp_reader.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/zmalloc.h"

/* Nesting deeper than this is refused: no server sends it, and a bound
 * keeps the stack a fixed array. */
#define RR_MAX_DEPTH 64
/* A header line longer than this without CRLF is not RESP. Statuses and
 * errors are the only long lines; none comes near. */
#define RR_MAX_LINE (64 * 1024 * 1024)
/* Largest bulk accepted: Redis's proto-max-bulk-len ceiling. */
#define RR_MAX_BULK (1LL << 40)
/* Children allocated per step when an aggregate grows. */
#define RR_GROW_STEP 64

typedef struct frame {
    rr_reply *agg;
    size_t expected;   /* children still to come */
    int is_attribute;  /* a | map, given to the next reply of its level */
} frame;

struct rr_reader {
    char *buf;
    size_t len, pos, cap;
    frame stack[RR_MAX_DEPTH];
    int depth;
    rr_reply *attribute; /* finished attribute waiting for its reply */
    int failed;
    char error[128];
};

rr_reader *rr_reader_new(void) { return zcalloc(sizeof(rr_reader)); }

void rr_reply_free(rr_reply *reply) {
    if (!reply) return;
    for (size_t i = 0; i < reply->elements; i++) rr_reply_free(reply->element[i]);
    zfree(reply->element);
    rr_reply_free(reply->attribute);
    zfree(reply->str);
    zfree(reply);
}

void rr_reader_free(rr_reader *r) {
    if (!r) return;
    for (int i = 0; i < r->depth; i++) rr_reply_free(r->stack[i].agg);
    rr_reply_free(r->attribute);
    zfree(r->buf);
    zfree(r);
}

/* Move the unparsed tail to the front once the parsed head dominates, so
 * the buffer does not grow with the total bytes ever received. */
static void compact(rr_reader *r) {
    if (r->pos == 0) return;
    if (r->pos < r->len && r->pos < r->cap / 2) return;
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
}

void rr_reader_feed(rr_reader *r, const char *buf, size_t len) {
    if (len == 0) return;
    compact(r);
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len) cap *= 2;
        r->buf = zrealloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
}

const char *rr_reader_error(const rr_reader *r) { return r->error; }

const char *rr_reader_unparsed(const rr_reader *r, size_t *len) {
    *len = r->len - r->pos;
    return r->buf ? r->buf + r->pos : "";
}

void rr_reader_skip(rr_reader *r, size_t n) {
    size_t avail = r->len - r->pos;
    r->pos += n < avail ? n : avail;
}

static int fail(rr_reader *r, const char *what) {
    r->failed = 1;
    snprintf(r->error, sizeof(r->error), "Protocol error: %s", what);
    return RR_PROTO_ERROR;
}

static rr_reply *new_reply(rr_type type) {
    rr_reply *rep = zcalloc(sizeof(*rep));
    rep->type = type;
    return rep;
}

static void set_text(rr_reply *rep, const char *p, size_t len) {
    rep->str = zmalloc(len + 1);
    memcpy(rep->str, p, len);
    rep->str[len] = '\0';
    rep->len = len;
}

/* Parses a signed decimal filling the whole of [p, p+len). */
static int parse_ll(const char *p, size_t len, long long *out) {
    if (len == 0 || len > 20) return 0;
    char tmp[24];
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || end != tmp + len) return 0;
    *out = v;
    return 1;
}

static int parse_double(const char *p, size_t len, double *out) {
    if (len == 0 || len > 512) return 0;
    char tmp[520];
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + len) return 0;
    *out = v;
    return 1;
}

/* Finds the CRLF ending the line that starts at `from`; 0 if not there. */
static int find_line(rr_reader *r, size_t from, size_t *line_len) {
    const char *start = r->buf + from;
    size_t avail = r->len - from;
    const char *cr = avail ? memchr(start, '\r', avail) : NULL;
    while (cr && (size_t)(cr - start) + 1 < avail && cr[1] != '\n') {
        size_t off = (size_t)(cr - start) + 1;
        cr = memchr(start + off, '\r', avail - off);
    }
    if (!cr || (size_t)(cr - start) + 1 >= avail) return 0;
    *line_len = (size_t)(cr - start);
    return 1;
}

/* Appends a finished child to the aggregate on top of the stack. */
static void add_child(frame *f, rr_reply *child) {
    rr_reply *agg = f->agg;
    if (agg->elements % RR_GROW_STEP == 0)
        agg->element = zrealloc(agg->element, (agg->elements + RR_GROW_STEP) * sizeof(rr_reply *));
    agg->element[agg->elements++] = child;
    f->expected--;
}

/* A reply (leaf or finished aggregate) is complete: attach it to its
 * parent, pop parents that are now full, and report whether a top-level
 * reply is ready in *out. */
static int complete(rr_reader *r, rr_reply *rep, rr_reply **out) {
    for (;;) {
        if (r->depth == 0) {
            *out = rep;
            return 1;
        }
        frame *f = &r->stack[r->depth - 1];
        add_child(f, rep);
        if (f->expected > 0) return 0;
        r->depth--;
        rep = f->agg;
        if (f->is_attribute) {
            /* An attribute is not a reply: it decorates the next one. */
            rr_reply_free(r->attribute);
            r->attribute = rep;
            return 0;
        }
    }
}

static rr_type line_type(char c) {
    switch (c) {
    case '+': return RR_STATUS;
    case '-': return RR_ERROR;
    case ':': return RR_INTEGER;
    case '_': return RR_NIL;
    case ',': return RR_DOUBLE;
    case '#': return RR_BOOL;
    case '(': return RR_BIGNUM;
    case '$': return RR_STRING;
    case '!': return RR_ERROR;
    case '=': return RR_VERB;
    case '*': return RR_ARRAY;
    case '%': return RR_MAP;
    case '~': return RR_SET;
    case '>': return RR_PUSH;
    case '|': return RR_MAP; /* attribute */
    default: return (rr_type)-1;
    }
}

/* Leaf whose value is on its header line. 0 on a malformed value. */
static rr_reply *line_reply(rr_type type, const char *p, size_t len) {
    rr_reply *rep = new_reply(type);
    int ok = 1;
    switch (type) {
    case RR_INTEGER: ok = parse_ll(p, len, &rep->integer); break;
    case RR_NIL: ok = len == 0; break;
    case RR_BOOL:
        ok = len == 1 && (p[0] == 't' || p[0] == 'f');
        rep->integer = p[0] == 't';
        break;
    case RR_DOUBLE:
        ok = parse_double(p, len, &rep->dval);
        set_text(rep, p, len);
        break;
    default: set_text(rep, p, len); break;
    }
    if (!ok) {
        rr_reply_free(rep);
        return NULL;
    }
    return rep;
}

/* Bulk-like leaf: $, !, =. Returns RR_NEED_MORE until the payload is in. */
static int bulk_reply(rr_reader *r, rr_type type, long long n, size_t body,
                      rr_reply **leaf) {
    if (n < 0) {
        if (type != RR_STRING || n != -1) return fail(r, "invalid bulk length");
        *leaf = new_reply(RR_NIL);
        return RR_OK;
    }
    if (n > RR_MAX_BULK) return fail(r, "invalid bulk length");
    if (r->len - body < (size_t)n + 2) return RR_NEED_MORE;
    const char *p = r->buf + body;
    if (p[n] != '\r' || p[n + 1] != '\n') return fail(r, "bulk not ended by CRLF");
    rr_reply *rep = new_reply(type);
    if (type == RR_VERB) {
        if (n < 4 || p[3] != ':') {
            rr_reply_free(rep);
            return fail(r, "invalid verbatim string");
        }
        memcpy(rep->vtype, p, 3);
        set_text(rep, p + 4, (size_t)n - 4);
    } else {
        set_text(rep, p, (size_t)n);
    }
    *leaf = rep;
    return RR_OK;
}

/* Opens an aggregate frame, or returns the empty/nil aggregate as a leaf. */
static int aggregate(rr_reader *r, char marker, long long n, rr_reply **leaf) {
    rr_type type = line_type(marker);
    if (n < 0) {
        if (n != -1 || (marker != '*' && marker != '%' && marker != '~'))
            return fail(r, "invalid aggregate length");
        *leaf = new_reply(RR_NIL);
        return RR_OK;
    }
    int pairs = marker == '%' || marker == '|';
    if (n > INT64_MAX / 2) return fail(r, "invalid aggregate length");
    size_t count = (size_t)n * (pairs ? 2 : 1);
    rr_reply *agg = new_reply(type);
    if (marker != '|') { /* a pending attribute decorates this aggregate */
        agg->attribute = r->attribute;
        r->attribute = NULL;
    }
    if (count == 0 && marker != '|') {
        *leaf = agg;
        return RR_OK;
    }
    if (r->depth == RR_MAX_DEPTH) {
        rr_reply_free(agg);
        return fail(r, "reply nested too deeply");
    }
    r->stack[r->depth++] = (frame){agg, count, marker == '|'};
    if (count == 0) { /* empty attribute: nothing to wait for */
        r->depth--;
        rr_reply_free(agg);
    }
    *leaf = NULL;
    return RR_OK;
}

/* Parses one element header (and payload) at pos. RR_OK with *leaf set to
 * a finished leaf, or NULL when an aggregate frame was opened. */
static int parse_element(rr_reader *r, rr_reply **leaf) {
    size_t line_len;
    if (!find_line(r, r->pos, &line_len)) {
        if (r->len - r->pos > RR_MAX_LINE) return fail(r, "line too long");
        return RR_NEED_MORE;
    }
    const char *line = r->buf + r->pos;
    char marker = line[0];
    if (line_len == 0 || (int)line_type(marker) == -1) return fail(r, "unknown reply type");
    const char *val = line + 1;
    size_t vlen = line_len - 1;
    size_t next = r->pos + line_len + 2;
    if (strchr("$!=*%~>|", marker)) {
        long long n;
        if (!parse_ll(val, vlen, &n)) return fail(r, "invalid length");
        int st;
        if (strchr("$!=", marker)) {
            st = bulk_reply(r, line_type(marker), n, next, leaf);
            if (st == RR_OK && *leaf && (*leaf)->type != RR_NIL) next += (size_t)n + 2;
        } else {
            st = aggregate(r, marker, n, leaf);
        }
        if (st == RR_OK) r->pos = next;
        return st;
    }
    *leaf = line_reply(line_type(marker), val, vlen);
    if (!*leaf) return fail(r, "invalid value");
    r->pos = next;
    return RR_OK;
}

int rr_reader_next(rr_reader *r, rr_reply **out) {
    *out = NULL;
    if (r->failed) return RR_PROTO_ERROR;
    for (;;) {
        if (r->pos == r->len) return RR_NEED_MORE;
        rr_reply *leaf = NULL;
        int st = parse_element(r, &leaf);
        if (st != RR_OK) return st;
        if (!leaf) continue; /* an aggregate opened: parse its children */
        if (r->attribute && !leaf->attribute) {
            leaf->attribute = r->attribute;
            r->attribute = NULL;
        }
        if (complete(r, leaf, out)) {
            compact(r);
            return RR_OK;
        }
    }
}
