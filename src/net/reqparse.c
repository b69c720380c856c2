/* See reqparse.h for the design. */
#include "net/reqparse.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <limits.h>
#include <string.h>

/* Longest header or inline line accepted before declaring the request
 * malformed; matches Redis's 64 KB inline limit. */
#define REQ_MAX_LINE (64 * 1024)

void reqparse_init(reqparse *p, size_t max_bulk_len) {
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = max_bulk_len;
    p->max_inline_len = REQ_MAX_LINE;
    p->bulk_len = -1;
}

static void free_args(reqparse *p) {
    for (int i = 0; i < p->argc; i++) kstr_free(p->argv[i]);
    p->argc = 0;
}

void reqparse_reset(reqparse *p) {
    free_args(p);
    p->multibulk_left = 0;
    p->bulk_len = -1;
    p->inline_mode = 0;
    p->error = NULL;
}

void reqparse_free(reqparse *p) {
    reqparse_reset(p);
    zfree(p->argv);
    p->argv = NULL;
    p->argv_cap = 0;
}

kstr *reqparse_take(reqparse *p, int *argc) {
    kstr *argv = p->argv;
    *argc = p->argc;
    p->argv = NULL;
    p->argc = 0;
    p->argv_cap = 0;
    p->multibulk_left = 0;
    p->bulk_len = -1;
    return argv;
}

static void reserve_args(reqparse *p, int n) {
    if (p->argv_cap >= n) return;
    /* Never trust the announced count for the allocation size: a client
     * could announce a billion arguments and send none. Grow as they come. */
    int cap = n < 1024 ? n : 1024;
    if (cap < p->argv_cap * 2) cap = p->argv_cap * 2;
    if (cap < n && p->argv_cap * 2 >= n) cap = n;
    if (cap < p->argc + 1) cap = p->argc + 1;
    p->argv = zrealloc(p->argv, sizeof(kstr) * (size_t)cap);
    p->argv_cap = cap;
}

static void push_arg(reqparse *p, const char *s, size_t len) {
    if (p->argc == p->argv_cap) reserve_args(p, p->argc + 1 > p->argv_cap * 2 ? p->argc + 1 : p->argv_cap * 2);
    p->argv[p->argc++] = kstr_new_len(s, len);
}

static int fail(reqparse *p, const char *msg) {
    p->error = msg;
    return REQ_ERROR;
}

/* Find "\r\n" (or, for inline, "\n") in buf[0..len). */
static const char *find_newline(const char *buf, size_t len) {
    return memchr(buf, '\n', len);
}

static int parse_inline(reqparse *p, const char *buf, size_t len, size_t *consumed) {
    const char *nl = find_newline(buf, len);
    if (!nl) {
        if (len > p->max_inline_len) return fail(p, "Protocol error: too big inline request");
        return REQ_NEED_MORE;
    }
    size_t linelen = (size_t)(nl - buf);
    if (linelen > p->max_inline_len) return fail(p, "Protocol error: too big inline request");
    *consumed = linelen + 1;
    if (linelen && buf[linelen - 1] == '\r') linelen--;
    /* Split a copy of the line, since the splitter wants a C string. */
    char *line = zmalloc(linelen + 1);
    memcpy(line, buf, linelen);
    line[linelen] = '\0';
    int argc;
    kstr *argv = kstr_split_args(line, &argc);
    zfree(line);
    if (!argv) return fail(p, "Protocol error: unbalanced quotes in request");
    if (argc == 0) {
        zfree(argv);
        return REQ_NEED_MORE; /* empty line: ignored, keep parsing */
    }
    free_args(p);
    zfree(p->argv);
    p->argv = argv;
    p->argc = argc;
    p->argv_cap = argc;
    return REQ_COMPLETE;
}

/* Read "<prefix><number>\r\n" at buf. Returns 1 with *value and *used set,
 * 0 if the line is incomplete, -1 if it is too long. */
static int read_number_line(reqparse *p, const char *buf, size_t len, long long *value,
                            size_t *used, int *ok) {
    const char *nl = find_newline(buf, len < p->max_inline_len ? len : p->max_inline_len + 1);
    if (!nl) return len > p->max_inline_len ? -1 : 0;
    size_t linelen = (size_t)(nl - buf);
    *used = linelen + 1;
    if (linelen < 2 || buf[linelen - 1] != '\r') {
        *ok = 0;
        return 1;
    }
    *ok = string_to_ll(buf + 1, linelen - 2, value);
    return 1;
}

static int parse_multibulk(reqparse *p, const char *buf, size_t len, size_t *consumed) {
    size_t pos = 0;
    if (p->multibulk_left == 0) {
        long long n = 0;
        size_t used = 0;
        int ok = 0;
        int r = read_number_line(p, buf, len, &n, &used, &ok);
        if (r < 0) return fail(p, "Protocol error: too big mbulk count string");
        if (r == 0) return REQ_NEED_MORE;
        if (!ok || n > INT_MAX) return fail(p, "Protocol error: invalid multibulk length");
        if (p->unauthenticated && n > 10) return fail(p, "Protocol error: unauthenticated multibulk length");
        pos = used;
        if (n <= 0) {
            *consumed = pos; /* "*0" or "*-1": an empty request, skipped */
            return REQ_NEED_MORE;
        }
        p->multibulk_left = (int)n;
        p->bulk_len = -1;
        reserve_args(p, (int)n);
    }
    while (p->multibulk_left > 0) {
        if (p->bulk_len == -1) {
            if (pos >= len) break;
            if (buf[pos] != '$') {
                *consumed = pos;
                static char msg[64];
                /* Redis names the unexpected byte; keep it printable. */
                unsigned char c = (unsigned char)buf[pos];
                if (c < 32 || c > 126) c = '?';
                memcpy(msg, "Protocol error: expected '$', got ' '", 38);
                msg[35] = (char)c;
                return fail(p, msg);
            }
            long long n = 0;
            size_t used = 0;
            int ok = 0;
            int r = read_number_line(p, buf + pos, len - pos, &n, &used, &ok);
            if (r < 0) return fail(p, "Protocol error: too big bulk count string");
            if (r == 0) break;
            if (p->unauthenticated && ok && n > 16384) return fail(p, "Protocol error: unauthenticated bulk length");
            if (!ok || n < 0 || (unsigned long long)n > p->max_bulk_len)
                return fail(p, "Protocol error: invalid bulk length");
            pos += used;
            p->bulk_len = (long)n;
        }
        size_t need = (size_t)p->bulk_len + 2;
        if (len - pos < need) break;
        push_arg(p, buf + pos, (size_t)p->bulk_len);
        pos += need;
        p->bulk_len = -1;
        p->multibulk_left--;
    }
    *consumed = pos;
    return p->multibulk_left == 0 ? REQ_COMPLETE : REQ_NEED_MORE;
}

int reqparse_feed(reqparse *p, const char *buf, size_t len, size_t *consumed) {
    *consumed = 0;
    size_t total = 0;
    while (total < len) {
        size_t used = 0;
        int r;
        if (p->multibulk_left == 0 && p->argc == 0)
            p->inline_mode = buf[total] != '*';
        if (p->inline_mode)
            r = parse_inline(p, buf + total, len - total, &used);
        else
            r = parse_multibulk(p, buf + total, len - total, &used);
        total += used;
        if (r != REQ_NEED_MORE || used == 0) {
            *consumed = total;
            return r;
        }
        /* An empty request (blank inline line, "*0") was skipped, or a
         * partial multibulk advanced: loop to look at the rest. */
        if (p->multibulk_left > 0) {
            *consumed = total;
            return REQ_NEED_MORE;
        }
    }
    *consumed = total;
    return REQ_NEED_MORE;
}
