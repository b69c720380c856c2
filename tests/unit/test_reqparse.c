/* Unit tests for the request parser: both request forms, incremental
 * feeding, and Redis's exact protocol error texts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/zmalloc.h"
#include "net/reqparse.h"

typedef struct parsed {
    int status;
    int argc;
    kstr *argv;
    size_t consumed;
} parsed;

static parsed feed_all(reqparse *p, const char *buf, size_t len) {
    parsed r = {0};
    r.status = reqparse_feed(p, buf, len, &r.consumed);
    if (r.status == REQ_COMPLETE) r.argv = reqparse_take(p, &r.argc);
    return r;
}

static void free_parsed(parsed *r) {
    for (int i = 0; i < r->argc; i++) kstr_free(r->argv[i]);
    zfree(r->argv);
}

Test(reqparse, multibulk) {
    reqparse p;
    reqparse_init(&p, 1024);
    const char *req = "*2\r\n$3\r\nGET\r\n$3\r\nk\0y\r\n";
    parsed r = feed_all(&p, req, 22);
    cr_assert_eq(r.status, REQ_COMPLETE);
    cr_assert_eq(r.consumed, 22);
    cr_assert_eq(r.argc, 2);
    cr_assert_str_eq(r.argv[0], "GET");
    cr_assert_eq(kstr_len(r.argv[1]), 3);
    cr_assert(memcmp(r.argv[1], "k\0y", 3) == 0);
    free_parsed(&r);
    reqparse_free(&p);
}

Test(reqparse, inline_with_quotes) {
    reqparse p;
    reqparse_init(&p, 1024);
    const char *req = "SET a \"b c\"\r\n";
    parsed r = feed_all(&p, req, strlen(req));
    cr_assert_eq(r.status, REQ_COMPLETE);
    cr_assert_eq(r.argc, 3);
    cr_assert_str_eq(r.argv[2], "b c");
    free_parsed(&r);
    reqparse_free(&p);
}

Test(reqparse, byte_by_byte_equals_whole) {
    reqparse p;
    reqparse_init(&p, 1024);
    const char *req = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n";
    size_t len = strlen(req), have = 0, start = 0;
    char buf[128];
    parsed r = {0};
    for (size_t i = 0; i < len; i++) {
        buf[have++] = req[i];
        size_t used;
        int st = reqparse_feed(&p, buf + start, have - start, &used);
        start += used;
        if (st == REQ_COMPLETE) {
            r.argv = reqparse_take(&p, &r.argc);
            cr_assert_eq(i, len - 1);
        }
        cr_assert_neq(st, REQ_ERROR);
    }
    cr_assert_eq(r.argc, 3);
    cr_assert_str_eq(r.argv[2], "hello");
    free_parsed(&r);
    reqparse_free(&p);
}

static const char *error_of(const char *req, size_t maxbulk) {
    reqparse p;
    reqparse_init(&p, maxbulk);
    size_t used;
    static char msg[128];
    int st = reqparse_feed(&p, req, strlen(req), &used);
    snprintf(msg, sizeof(msg), "%s", st == REQ_ERROR ? p.error : "(no error)");
    reqparse_free(&p);
    return msg;
}

Test(reqparse, protocol_errors_in_redis_words) {
    cr_assert_str_eq(error_of("*1\r\n$abc\r\n", 1024), "Protocol error: invalid bulk length");
    cr_assert_str_eq(error_of("*abc\r\n", 1024), "Protocol error: invalid multibulk length");
    cr_assert_str_eq(error_of("*1\r\n+OK\r\n", 1024), "Protocol error: expected '$', got '+'");
    cr_assert_str_eq(error_of("*2\r\n$3\r\nSET\r\n$2000\r\n", 1024), "Protocol error: invalid bulk length");
    cr_assert_str_eq(error_of("SET \"a\r\n", 1024), "Protocol error: unbalanced quotes in request");
    cr_assert_str_eq(error_of("*3000000000\r\n", 1024), "Protocol error: invalid multibulk length");
}

Test(reqparse, huge_announced_count_does_not_allocate_it) {
    reqparse p;
    reqparse_init(&p, 1024);
    size_t before = zmalloc_used_memory(), used;
    int st = reqparse_feed(&p, "*1000000000\r\n", 13, &used);
    cr_assert_eq(st, REQ_NEED_MORE);
    cr_assert(zmalloc_used_memory() - before < 64 * 1024);
    reqparse_free(&p);
}

Test(reqparse, empty_requests_are_skipped) {
    reqparse p;
    reqparse_init(&p, 1024);
    const char *req = "\r\n\r\n*0\r\nPING\r\n";
    parsed r = feed_all(&p, req, strlen(req));
    cr_assert_eq(r.status, REQ_COMPLETE);
    cr_assert_eq(r.argc, 1);
    cr_assert_str_eq(r.argv[0], "PING");
    free_parsed(&r);
    reqparse_free(&p);
}
