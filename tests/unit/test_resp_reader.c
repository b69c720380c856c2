/* Unit tests for the client-side reply reader: every RESP2 and RESP3 type,
 * byte-by-byte feeding giving the same tree as one feed, attributes,
 * pipelined replies, raw bytes left after a reply, and malformed input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/resp_reader.h"
#include "lib/zmalloc.h"

/* Parses a whole buffer expected to hold exactly one reply. */
static rr_reply *parse_one(const char *buf, size_t len) {
    rr_reader *r = rr_reader_new();
    rr_reader_feed(r, buf, len);
    rr_reply *rep = NULL;
    cr_assert_eq(rr_reader_next(r, &rep), RR_OK, "%s", rr_reader_error(r));
    size_t left;
    rr_reader_unparsed(r, &left);
    cr_assert_eq(left, 0);
    rr_reader_free(r);
    return rep;
}

static rr_reply *parse_str(const char *s) { return parse_one(s, strlen(s)); }

static int parse_status(const char *s) {
    rr_reader *r = rr_reader_new();
    rr_reader_feed(r, s, strlen(s));
    rr_reply *rep = NULL;
    int st = rr_reader_next(r, &rep);
    rr_reply_free(rep);
    rr_reader_free(r);
    return st;
}

Test(resp_reader, resp2_leaves) {
    rr_reply *rep = parse_str("+OK\r\n");
    cr_assert_eq(rep->type, RR_STATUS);
    cr_assert_str_eq(rep->str, "OK");
    rr_reply_free(rep);

    rep = parse_str("-ERR unknown command\r\n");
    cr_assert_eq(rep->type, RR_ERROR);
    cr_assert_str_eq(rep->str, "ERR unknown command");
    rr_reply_free(rep);

    rep = parse_str(":-42\r\n");
    cr_assert_eq(rep->type, RR_INTEGER);
    cr_assert_eq(rep->integer, -42);
    rr_reply_free(rep);

    rep = parse_one("$5\r\na\0b\r\n\r\n", 11);
    cr_assert_eq(rep->type, RR_STRING);
    cr_assert_eq(rep->len, 5);
    cr_assert(memcmp(rep->str, "a\0b\r\n", 5) == 0);
    rr_reply_free(rep);

    rep = parse_str("$-1\r\n");
    cr_assert_eq(rep->type, RR_NIL);
    rr_reply_free(rep);

    rep = parse_str("*-1\r\n");
    cr_assert_eq(rep->type, RR_NIL);
    rr_reply_free(rep);

    rep = parse_str("$0\r\n\r\n");
    cr_assert_eq(rep->type, RR_STRING);
    cr_assert_eq(rep->len, 0);
    rr_reply_free(rep);
}

Test(resp_reader, resp3_leaves) {
    rr_reply *rep = parse_str("_\r\n");
    cr_assert_eq(rep->type, RR_NIL);
    rr_reply_free(rep);

    rep = parse_str(",3.25\r\n");
    cr_assert_eq(rep->type, RR_DOUBLE);
    cr_assert_float_eq(rep->dval, 3.25, 1e-12);
    cr_assert_str_eq(rep->str, "3.25");
    rr_reply_free(rep);

    rep = parse_str(",-inf\r\n");
    cr_assert_eq(rep->type, RR_DOUBLE);
    cr_assert(rep->dval < -1e308);
    rr_reply_free(rep);

    rep = parse_str("#t\r\n");
    cr_assert_eq(rep->type, RR_BOOL);
    cr_assert_eq(rep->integer, 1);
    rr_reply_free(rep);

    rep = parse_str("#f\r\n");
    cr_assert_eq(rep->integer, 0);
    rr_reply_free(rep);

    rep = parse_str("(3492890328409238509324850943850943825024385\r\n");
    cr_assert_eq(rep->type, RR_BIGNUM);
    cr_assert_str_eq(rep->str, "3492890328409238509324850943850943825024385");
    rr_reply_free(rep);

    rep = parse_str("=15\r\ntxt:Some string\r\n");
    cr_assert_eq(rep->type, RR_VERB);
    cr_assert_str_eq(rep->vtype, "txt");
    cr_assert_str_eq(rep->str, "Some string");
    rr_reply_free(rep);

    rep = parse_str("!21\r\nSYNTAX invalid syntax\r\n");
    cr_assert_eq(rep->type, RR_ERROR);
    cr_assert_str_eq(rep->str, "SYNTAX invalid syntax");
    rr_reply_free(rep);
}

Test(resp_reader, nested_aggregates) {
    rr_reply *rep = parse_str("*3\r\n:1\r\n%2\r\n+a\r\n*0\r\n$1\r\nb\r\n~2\r\n:7\r\n_\r\n$0\r\n\r\n");
    cr_assert_eq(rep->type, RR_ARRAY);
    cr_assert_eq(rep->elements, 3);
    cr_assert_eq(rep->element[0]->integer, 1);
    rr_reply *map = rep->element[1];
    cr_assert_eq(map->type, RR_MAP);
    cr_assert_eq(map->elements, 4);
    cr_assert_str_eq(map->element[0]->str, "a");
    cr_assert_eq(map->element[1]->type, RR_ARRAY);
    cr_assert_eq(map->element[1]->elements, 0);
    cr_assert_str_eq(map->element[2]->str, "b");
    cr_assert_eq(map->element[3]->type, RR_SET);
    cr_assert_eq(map->element[3]->element[1]->type, RR_NIL);
    cr_assert_eq(rep->element[2]->type, RR_STRING);
    cr_assert_eq(rep->element[2]->len, 0);
    rr_reply_free(rep);
}

Test(resp_reader, push_and_attribute) {
    rr_reply *rep = parse_str(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    cr_assert_eq(rep->type, RR_PUSH);
    cr_assert_eq(rep->elements, 3);
    cr_assert_str_eq(rep->element[2]->str, "hi");
    rr_reply_free(rep);

    rep = parse_str("|1\r\n+ttl\r\n:3600\r\n*1\r\n|1\r\n+x\r\n:1\r\n+v\r\n");
    cr_assert_eq(rep->type, RR_ARRAY);
    cr_assert_not_null(rep->attribute);
    cr_assert_eq(rep->attribute->type, RR_MAP);
    cr_assert_str_eq(rep->attribute->element[0]->str, "ttl");
    cr_assert_eq(rep->attribute->element[1]->integer, 3600);
    cr_assert_eq(rep->elements, 1);
    cr_assert_str_eq(rep->element[0]->str, "v");
    cr_assert_not_null(rep->element[0]->attribute);
    cr_assert_str_eq(rep->element[0]->attribute->element[0]->str, "x");
    rr_reply_free(rep);
}

/* Feeding one byte at a time gives the same replies, in order, with
 * RR_NEED_MORE in between: the parser resumes instead of failing. */
Test(resp_reader, byte_by_byte_pipeline) {
    const char *s = "+OK\r\n*2\r\n$3\r\nfoo\r\n%1\r\n:1\r\n,1.5\r\n$-1\r\n";
    rr_reader *r = rr_reader_new();
    rr_reply *got[3] = {0};
    int n = 0;
    for (size_t i = 0; i < strlen(s); i++) {
        rr_reader_feed(r, s + i, 1);
        rr_reply *rep;
        int st;
        while ((st = rr_reader_next(r, &rep)) == RR_OK) got[n++] = rep;
        cr_assert_eq(st, RR_NEED_MORE);
    }
    cr_assert_eq(n, 3);
    cr_assert_eq(got[0]->type, RR_STATUS);
    cr_assert_eq(got[1]->type, RR_ARRAY);
    cr_assert_str_eq(got[1]->element[0]->str, "foo");
    cr_assert_eq(got[1]->element[1]->element[1]->dval, 1.5);
    cr_assert_eq(got[2]->type, RR_NIL);
    for (int i = 0; i < n; i++) rr_reply_free(got[i]);
    rr_reader_free(r);
}

/* A large array arriving in chunks is parsed once and completely. */
Test(resp_reader, large_array_in_chunks) {
    enum { N = 100000 };
    size_t cap = (size_t)N * 16 + 32, len = 0;
    char *buf = zmalloc(cap);
    len += (size_t)snprintf(buf, cap, "*%d\r\n", N);
    for (int i = 0; i < N; i++) len += (size_t)snprintf(buf + len, cap - len, ":%d\r\n", i);
    rr_reader *r = rr_reader_new();
    rr_reply *rep = NULL;
    for (size_t off = 0; off < len; off += 1000) {
        size_t chunk = len - off < 1000 ? len - off : 1000;
        rr_reader_feed(r, buf + off, chunk);
        int st = rr_reader_next(r, &rep);
        cr_assert_eq(st, off + chunk == len ? RR_OK : RR_NEED_MORE);
    }
    cr_assert_eq(rep->elements, N);
    cr_assert_eq(rep->element[N - 1]->integer, N - 1);
    rr_reply_free(rep);
    rr_reader_free(r);
    zfree(buf);
}

/* After a reply, the bytes that follow are left for the caller: a replica
 * reads +FULLRESYNC through the reader, then the RDB payload raw. */
Test(resp_reader, unparsed_bytes_after_reply) {
    const char *s = "+FULLRESYNC abc 0\r\n$4\r\nRDB!";
    rr_reader *r = rr_reader_new();
    rr_reader_feed(r, s, strlen(s));
    rr_reply *rep;
    cr_assert_eq(rr_reader_next(r, &rep), RR_OK);
    cr_assert_str_eq(rep->str, "FULLRESYNC abc 0");
    rr_reply_free(rep);
    size_t left;
    const char *rest = rr_reader_unparsed(r, &left);
    cr_assert_eq(left, 8);
    cr_assert(memcmp(rest, "$4\r\nRDB!", 8) == 0);
    rr_reader_skip(r, 4);
    rest = rr_reader_unparsed(r, &left);
    cr_assert_eq(left, 4);
    cr_assert(memcmp(rest, "RDB!", 4) == 0);
    rr_reader_free(r);
}

Test(resp_reader, malformed_input_is_refused) {
    cr_assert_eq(parse_status("?what\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status(":12x\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("$abc\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("$-2\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("$3\r\nabcde\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("#x\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status(",1.5z\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("=3\r\ntxt\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("%-1x\r\n"), RR_PROTO_ERROR);
    cr_assert_eq(parse_status("\r\n"), RR_PROTO_ERROR);
    /* incomplete is not an error */
    cr_assert_eq(parse_status("$10\r\nabc"), RR_NEED_MORE);
    cr_assert_eq(parse_status("*2\r\n:1\r\n"), RR_NEED_MORE);
    cr_assert_eq(parse_status("+OK\r"), RR_NEED_MORE);
}

/* A hostile announced size allocates nothing up front. */
Test(resp_reader, huge_announced_count_costs_nothing) {
    size_t before = zmalloc_used_memory();
    rr_reader *r = rr_reader_new();
    const char *s = "*4000000000\r\n:1\r\n";
    rr_reader_feed(r, s, strlen(s));
    rr_reply *rep;
    cr_assert_eq(rr_reader_next(r, &rep), RR_NEED_MORE);
    cr_assert_lt(zmalloc_used_memory() - before, 64 * 1024);
    rr_reader_free(r);
}

Test(resp_reader, nesting_limit) {
    char buf[1024] = "";
    for (int i = 0; i < 100; i++) strcat(buf, "*1\r\n");
    strcat(buf, ":1\r\n");
    cr_assert_eq(parse_status(buf), RR_PROTO_ERROR);
}

/* Found by the fuzzer: an empty attribute after a pending one inside a
 * map used to overwrite the map's own attribute (a leak). */
Test(resp_reader, empty_attribute_inside_aggregate) {
    const char *s = "|1\r\n+a\r\n+b\r\n%1\r\n|1\r\n+c\r\n+d\r\n|0\r\n+k\r\n+v\r\n";
    rr_reply *rep = parse_str(s);
    cr_assert_eq(rep->type, RR_MAP);
    cr_assert_str_eq(rep->attribute->element[0]->str, "a");
    cr_assert_str_eq(rep->element[0]->str, "k");
    cr_assert_str_eq(rep->element[0]->attribute->element[0]->str, "c");
    rr_reply_free(rep);
    cr_assert_eq(parse_status("|\0\r\n"), RR_NEED_MORE); /* "|" then NUL: no CRLF yet */
}
