/*
 * resp_reader: the client side of RESP, turning a server's reply bytes into
 * reply trees.
 *
 * Keel talks to other servers as a client in several places: keel-cli,
 * Sentinel's links to the instances it monitors, MIGRATE's link to its
 * target, a replica's handshake with its master. reqparse.h parses what a
 * client sends to a server; this is the other direction, and it covers
 * RESP3's types as well as RESP2's, since keel-cli prints every one of them
 * and HELLO 3 connections receive them.
 *
 * The reader is incremental and never re-scans: the caller feeds whatever
 * bytes the socket gave, asks for the next complete reply, and gets "not
 * yet" until one has arrived. Partially built aggregates stay on a small
 * stack between calls, so a reply of a million elements arriving in a
 * thousand reads is parsed once. Elements are allocated as they arrive
 * (never from an announced count alone), so a hostile "*4000000000" costs
 * nothing until the elements really come.
 *
 * It knows nothing about sockets: it is a pure function of the bytes fed,
 * which keeps it unit-testable (tests/unit/test_resp_reader.c).
 */
#ifndef KEEL_RESP_READER_H
#define KEEL_RESP_READER_H

#include <stddef.h>

typedef enum rr_type {
    RR_STRING,  /* $ bulk string */
    RR_ERROR,   /* - simple error, or ! blob error */
    RR_STATUS,  /* + simple string */
    RR_INTEGER, /* : integer */
    RR_NIL,     /* RESP2 $-1 / *-1, RESP3 _ */
    RR_ARRAY,   /* * */
    RR_MAP,     /* % : elements hold key, value, key, value... */
    RR_SET,     /* ~ */
    RR_DOUBLE,  /* , : dval, and str keeps the text as sent */
    RR_BOOL,    /* # : integer is 1 or 0 */
    RR_VERB,    /* = verbatim: vtype holds the format ("txt", "mkd") */
    RR_BIGNUM,  /* ( : str holds the digits */
    RR_PUSH,    /* > out-of-band push (pub/sub, invalidation) */
} rr_type;

typedef struct rr_reply rr_reply;
struct rr_reply {
    rr_type type;
    long long integer;    /* RR_INTEGER, RR_BOOL */
    double dval;          /* RR_DOUBLE */
    char *str;            /* text of strings, errors, statuses, doubles,
                           * verbatim (without its "txt:" prefix), bignums;
                           * always NUL-terminated, may contain NULs */
    size_t len;
    char vtype[4];        /* RR_VERB's format, NUL-terminated */
    size_t elements;      /* aggregates: number of children (a map with n
                           * pairs has 2n) */
    rr_reply **element;
    rr_reply *attribute;  /* RESP3 | attributes sent before this reply, as a
                           * RR_MAP, or NULL */
};

typedef struct rr_reader rr_reader;

enum rr_status {
    RR_NEED_MORE = 0, /* no complete reply yet: feed more bytes */
    RR_OK = 1,        /* *out holds a reply the caller now owns */
    RR_PROTO_ERROR = -1, /* the stream is not RESP; the reader is unusable */
};

rr_reader *rr_reader_new(void);
void rr_reader_free(rr_reader *r);
/* Append bytes received from the server. */
void rr_reader_feed(rr_reader *r, const char *buf, size_t len);
/* Next complete reply (RR_OK), RR_NEED_MORE, or RR_PROTO_ERROR. */
int rr_reader_next(rr_reader *r, rr_reply **out);
/* Text of the protocol error after RR_PROTO_ERROR. */
const char *rr_reader_error(const rr_reader *r);
/* The bytes fed but not yet parsed, for a caller that switches from
 * replies to a raw stream on the same connection (a replica reading the
 * RDB payload after +FULLRESYNC). Only meaningful between replies. */
const char *rr_reader_unparsed(const rr_reader *r, size_t *len);
/* Drop n unparsed bytes the caller has taken itself. */
void rr_reader_skip(rr_reader *r, size_t n);

void rr_reply_free(rr_reply *reply);

#endif
