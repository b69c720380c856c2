/*
 * reqparse: incremental parser for client requests.
 *
 * Accepts both forms a Redis server accepts: RESP multibulk
 * ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline commands ("GET k\r\n", as
 * typed into telnet or nc). It is fed the unconsumed part of the client's
 * query buffer, consumes what it can, and keeps its state between calls so
 * that a request arriving in many small reads is never re-scanned from the
 * start (a 1M-argument MSET arriving slowly stays linear).
 *
 * The parser knows nothing about clients or sockets: it owns its argv
 * (kstr strings), and the caller takes them when a request is complete.
 * This keeps it small, testable and fuzzable (tests/fuzz/fuzz_reqparse.c).
 */
#ifndef KEEL_REQPARSE_H
#define KEEL_REQPARSE_H

#include <stddef.h>
#include "lib/kstr.h"

enum reqparse_status {
    REQ_NEED_MORE = 0, /* consumed what it could; feed more bytes */
    REQ_COMPLETE = 1,  /* a request is ready in p->argv / p->argc */
    REQ_ERROR = -1,    /* protocol error; p->error holds Redis's text */
};

typedef struct reqparse {
    /* Limits, set by the caller before feeding. */
    size_t max_bulk_len;    /* proto-max-bulk-len */
    size_t max_inline_len;  /* longest inline line / header line tolerated */
    int unauthenticated;    /* the client has not authenticated yet: at most
                               10 arguments of 16 KB each, as in Redis */
    /* Output. */
    int argc;
    kstr *argv;
    const char *error;      /* static string, valid after REQ_ERROR */
    /* State. */
    int multibulk_left;     /* args still to read; 0 = between requests */
    long bulk_len;          /* length of the bulk being read, -1 = header */
    int argv_cap;
    int inline_mode;
} reqparse;

void reqparse_init(reqparse *p, size_t max_bulk_len);
/* Parse from buf[0..len). *consumed gets the number of bytes used; the
 * caller drops them from its buffer. On REQ_COMPLETE the caller takes
 * argv/argc (it must then call reqparse_take or reqparse_reset). */
int reqparse_feed(reqparse *p, const char *buf, size_t len, size_t *consumed);
/* Hand over the argv of a complete request; the parser forgets it. */
kstr *reqparse_take(reqparse *p, int *argc);
/* Free any partial request and return to the initial state. */
void reqparse_reset(reqparse *p);
void reqparse_free(reqparse *p);

#endif
