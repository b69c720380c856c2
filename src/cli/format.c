/*
 * format: redis-cli's reply rendering (see format.h).
 *
 * Written from redis-cli's documented output, checked byte for byte against
 * Debian's redis-cli by tests/integration/test_cli_output.py. The terminal
 * form numbers the elements of an aggregate from 1, right-aligned to the
 * width of the largest index, and indents nested aggregates by that width
 * plus two; a map's value follows its key after " => ", on the next line
 * when the value spans several lines.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_aggregate(const rr_reply *r) {
    return r->type == RR_ARRAY || r->type == RR_MAP || r->type == RR_SET ||
           r->type == RR_PUSH;
}

/* Text of an error as redis-cli prints it: up to the first NUL. */
static size_t c_strlen(const rr_reply *r) {
    return r->str ? strlen(r->str) : 0;
}

static int is_multiline_tty(const rr_reply *r) {
    if (!is_aggregate(r) || r->elements == 0) return 0;
    if (r->type == RR_MAP) {
        if (r->elements > 2) return 1;
        return is_multiline_tty(r->element[1]);
    }
    if (r->elements > 1) return 1;
    return is_multiline_tty(r->element[0]);
}

static void format_tty_empty(cli_buf *out, const rr_reply *r) {
    switch (r->type) {
    case RR_ARRAY: buf_puts(out, "(empty array)\n"); break;
    case RR_MAP: buf_puts(out, "(empty hash)\n"); break;
    case RR_SET: buf_puts(out, "(empty set)\n"); break;
    default: buf_puts(out, "(empty push)\n"); break;
    }
}

static void format_tty_aggregate(cli_buf *out, const rr_reply *r, const char *prefix) {
    if (r->elements == 0) {
        format_tty_empty(out, r);
        return;
    }
    size_t count = r->type == RR_MAP ? r->elements / 2 : r->elements;
    int width = 0;
    do {
        width++;
        count /= 10;
    } while (count);

    size_t plen = strlen(prefix);
    char *child_prefix = cli_xmalloc(plen + (size_t)width + 3);
    memcpy(child_prefix, prefix, plen);
    memset(child_prefix + plen, ' ', (size_t)width + 2);
    child_prefix[plen + (size_t)width + 2] = '\0';

    char sep = r->type == RR_SET ? '~' : r->type == RR_MAP ? '#' : ')';
    for (size_t i = 0; i < r->elements; i++) {
        size_t human = (r->type == RR_MAP ? i / 2 : i) + 1;
        buf_printf(out, "%s%*zu%c ", i == 0 ? "" : prefix, width, human, sep);
        format_tty(out, r->element[i], child_prefix);
        if (r->type == RR_MAP) {
            i++;
            buf_trim_tail(out, 1);
            buf_puts(out, " => ");
            if (is_multiline_tty(r->element[i])) {
                buf_puts(out, "\n");
                buf_puts(out, child_prefix);
            }
            format_tty(out, r->element[i], child_prefix);
        }
    }
    free(child_prefix);
}

void format_tty(cli_buf *out, const rr_reply *r, const char *prefix) {
    switch (r->type) {
    case RR_ERROR:
        buf_puts(out, "(error) ");
        buf_append(out, r->str, c_strlen(r));
        buf_puts(out, "\n");
        break;
    case RR_STATUS:
        buf_append(out, r->str, c_strlen(r));
        buf_puts(out, "\n");
        break;
    case RR_INTEGER:
        buf_printf(out, "(integer) %lld\n", r->integer);
        break;
    case RR_DOUBLE:
        buf_puts(out, "(double) ");
        buf_append(out, r->str, r->len);
        buf_puts(out, "\n");
        break;
    case RR_BIGNUM:
        /* redis-cli's hiredis has no bignum type in its printer; keel-cli
         * shows the digits as the server sent them. */
        buf_puts(out, "(big number) ");
        buf_append(out, r->str, r->len);
        buf_puts(out, "\n");
        break;
    case RR_STRING:
        buf_repr(out, r->str, r->len);
        buf_puts(out, "\n");
        break;
    case RR_VERB:
        buf_append(out, r->str, r->len);
        buf_puts(out, "\n");
        break;
    case RR_NIL:
        buf_puts(out, "(nil)\n");
        break;
    case RR_BOOL:
        buf_puts(out, r->integer ? "(true)\n" : "(false)\n");
        break;
    case RR_ARRAY:
    case RR_MAP:
    case RR_SET:
    case RR_PUSH:
        format_tty_aggregate(out, r, prefix);
        break;
    }
}

void format_raw(cli_buf *out, const rr_reply *r, const char *mb_delim) {
    switch (r->type) {
    case RR_NIL:
        break;
    case RR_ERROR:
        buf_append(out, r->str, r->len);
        buf_puts(out, "\n");
        break;
    case RR_STATUS:
    case RR_STRING:
    case RR_VERB:
    case RR_DOUBLE:
    case RR_BIGNUM:
        buf_append(out, r->str, r->len);
        break;
    case RR_BOOL:
        buf_puts(out, r->integer ? "(true)" : "(false)");
        break;
    case RR_INTEGER:
        buf_printf(out, "%lld", r->integer);
        break;
    case RR_ARRAY:
    case RR_SET:
    case RR_PUSH:
        for (size_t i = 0; i < r->elements; i++) {
            if (i > 0) buf_puts(out, mb_delim);
            format_raw(out, r->element[i], mb_delim);
        }
        break;
    case RR_MAP:
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            if (i > 0) buf_puts(out, mb_delim);
            format_raw(out, r->element[i], mb_delim);
            buf_puts(out, " ");
            format_raw(out, r->element[i + 1], mb_delim);
        }
        break;
    }
}

void format_csv(cli_buf *out, const rr_reply *r) {
    switch (r->type) {
    case RR_ERROR:
        buf_puts(out, "ERROR,");
        buf_repr(out, r->str, c_strlen(r));
        break;
    case RR_STATUS:
    case RR_STRING:
    case RR_VERB:
        buf_repr(out, r->str, r->len);
        break;
    case RR_INTEGER:
        buf_printf(out, "%lld", r->integer);
        break;
    case RR_DOUBLE:
    case RR_BIGNUM:
        buf_append(out, r->str, r->len);
        break;
    case RR_NIL:
        buf_puts(out, "NULL");
        break;
    case RR_BOOL:
        buf_puts(out, r->integer ? "true" : "false");
        break;
    case RR_ARRAY:
    case RR_SET:
    case RR_PUSH:
    case RR_MAP: /* no map in CSV: a flat list, as redis-cli */
        for (size_t i = 0; i < r->elements; i++) {
            format_csv(out, r->element[i]);
            if (i + 1 != r->elements) buf_puts(out, ",");
        }
        break;
    }
}

static void json_escape(cli_buf *out, const char *p, size_t n) {
    buf_puts(out, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\': buf_puts(out, "\\\\"); break;
        case '"': buf_puts(out, "\\\""); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\f': buf_puts(out, "\\f"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        case '\b': buf_puts(out, "\\b"); break;
        default:
            if (c <= 0x1f) buf_printf(out, "\\u%04x", c);
            else buf_append(out, (const char *)&c, 1);
        }
    }
    buf_puts(out, "\"");
}

/* --quoted-json: the string quoted as redis-cli quotes it, then every
 * backslash doubled so that the escapes survive a JSON parser. */
static void json_quoted(cli_buf *out, const char *p, size_t n) {
    cli_buf tmp = {0};
    buf_repr(&tmp, p, n);
    for (size_t i = 0; i < tmp.len; i++) {
        if (tmp.data[i] == '\\') buf_puts(out, "\\\\");
        else buf_append(out, tmp.data + i, 1);
    }
    buf_free(&tmp);
}

static void json_string(cli_buf *out, const char *p, size_t n, enum cli_output mode) {
    if (mode == OUTPUT_QUOTED_JSON) json_quoted(out, p, n);
    else json_escape(out, p, n);
}

static int is_stringish(const rr_reply *r) {
    return r->type == RR_ERROR || r->type == RR_STATUS || r->type == RR_STRING ||
           r->type == RR_VERB;
}

static void format_json_map(cli_buf *out, const rr_reply *r, enum cli_output mode) {
    buf_puts(out, "{");
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const rr_reply *key = r->element[i];
        if (is_stringish(key)) {
            format_json(out, key, mode);
        } else {
            /* JSON keys are strings: other RESP3 keys are printed, then
             * quoted unless their printed form already is. */
            cli_buf k = {0};
            format_json(&k, key, mode);
            if (k.len && k.data[0] == '"') {
                buf_append(out, k.data, k.len);
            } else {
                buf_puts(out, "\"");
                buf_append(out, k.data, k.len);
                buf_puts(out, "\"");
            }
            buf_free(&k);
        }
        buf_puts(out, ":");
        format_json(out, r->element[i + 1], mode);
        if (i + 2 != r->elements) buf_puts(out, ",");
    }
    buf_puts(out, "}");
}

void format_json(cli_buf *out, const rr_reply *r, enum cli_output mode) {
    switch (r->type) {
    case RR_ERROR:
        buf_puts(out, "error:");
        json_string(out, r->str, c_strlen(r), mode);
        break;
    case RR_STATUS:
    case RR_STRING:
    case RR_VERB:
        json_string(out, r->str, r->len, mode);
        break;
    case RR_INTEGER:
        buf_printf(out, "%lld", r->integer);
        break;
    case RR_DOUBLE:
    case RR_BIGNUM:
        buf_append(out, r->str, r->len);
        break;
    case RR_NIL:
        buf_puts(out, "null");
        break;
    case RR_BOOL:
        buf_puts(out, r->integer ? "true" : "false");
        break;
    case RR_ARRAY:
    case RR_SET:
    case RR_PUSH:
        buf_puts(out, "[");
        for (size_t i = 0; i < r->elements; i++) {
            format_json(out, r->element[i], mode);
            if (i + 1 != r->elements) buf_puts(out, ",");
        }
        buf_puts(out, "]");
        break;
    case RR_MAP:
        format_json_map(out, r, mode);
        break;
    }
}

void format_reply(cli_buf *out, const rr_reply *r, enum cli_output mode,
                  int verbatim, const char *mb_delim, const char *cmd_delim) {
    if (verbatim) {
        format_raw(out, r, mb_delim);
        return;
    }
    switch (mode) {
    case OUTPUT_STANDARD:
        format_tty(out, r, "");
        break;
    case OUTPUT_RAW:
        format_raw(out, r, mb_delim);
        buf_puts(out, cmd_delim);
        break;
    case OUTPUT_CSV:
        format_csv(out, r);
        buf_puts(out, "\n");
        break;
    case OUTPUT_JSON:
    case OUTPUT_QUOTED_JSON:
        format_json(out, r, mode);
        buf_puts(out, "\n");
        break;
    }
}

int format_invalidate(cli_buf *out, const rr_reply *r) {
    if (r->type != RR_PUSH || r->elements != 2 || r->element[0]->type != RR_STRING ||
        strncmp(r->element[0]->str, "invalidate", 10) != 0 ||
        r->element[1]->type != RR_ARRAY)
        return 0;
    const rr_reply *keys = r->element[1];
    buf_puts(out, "-> invalidate: ");
    for (size_t i = 0; i < keys->elements; i++) {
        buf_puts(out, "'");
        buf_append(out, keys->element[i]->str, keys->element[i]->len);
        buf_puts(out, "'");
        if (i + 1 < keys->elements) buf_puts(out, ", ");
    }
    buf_puts(out, "\n");
    return 1;
}

static int is(const char *a, const char *b) {
    return strcasecmp(a, b) == 0;
}

int format_command_is_verbatim(int argc, char **argv) {
    const char *c = argv[0];
    const char *sub = argc >= 2 ? argv[1] : "";
    if (is(c, "info") || is(c, "lolwut")) return 1;
    if (argc >= 2 && is(c, "debug") &&
        (is(sub, "htstats") || is(sub, "htstats-key") || is(sub, "client-eviction")))
        return 1;
    if (argc >= 2 && is(c, "memory") && (is(sub, "malloc-stats") || is(sub, "doctor")))
        return 1;
    if (argc == 2 && is(c, "cluster") && (is(sub, "nodes") || is(sub, "info"))) return 1;
    if (argc >= 2 && is(c, "client") && (is(sub, "list") || is(sub, "info"))) return 1;
    if (argc == 3 && is(c, "latency") && is(sub, "graph")) return 1;
    if (argc == 2 && is(c, "latency") && is(sub, "doctor")) return 1;
    if (argc >= 2 && is(c, "proxy") && is(sub, "info")) return 1;
    return 0;
}
