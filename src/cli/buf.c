/*
 * buf: growable buffer and redis-cli's string quoting (see buf.h).
 */
#include "buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *cli_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "keel-cli: out of memory\n");
        exit(1);
    }
    return p;
}

void *cli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "keel-cli: out of memory\n");
        exit(1);
    }
    return q;
}

char *cli_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(cli_xmalloc(n), s, n);
}

static void buf_reserve(cli_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = cli_xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(cli_buf *b, const char *p, size_t n) {
    buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(cli_buf *b, const char *s) {
    buf_append(b, s, strlen(s));
}

void buf_printf(cli_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_trim_tail(cli_buf *b, size_t n) {
    if (!b->data) return;
    b->len = n > b->len ? 0 : b->len - n;
    b->data[b->len] = '\0';
}

void buf_reset(cli_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void buf_free(cli_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_take(cli_buf *b) {
    if (!b->data) buf_reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_repr(cli_buf *b, const char *p, size_t n) {
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\': buf_append(b, "\\\\", 2); break;
        case '"': buf_append(b, "\\\"", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        case '\a': buf_append(b, "\\a", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        default:
            if (isprint(c)) buf_append(b, (const char *)&c, 1);
            else buf_printf(b, "\\x%02x", c);
        }
    }
    buf_append(b, "\"", 1);
}
