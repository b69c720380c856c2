/*
 * buf: a growable byte buffer for keel-cli's output and requests.
 *
 * Why its own: keel-cli is a client process, not part of the server, so it
 * does not go through zmalloc's accounting (it would only add a jemalloc
 * dependency for nothing); it needs exactly append, printf-append and
 * reset. Failure to allocate aborts with a message, as a CLI may.
 */
#ifndef KEEL_CLI_BUF_H
#define KEEL_CLI_BUF_H

#include <stddef.h>

typedef struct cli_buf {
    char *data;  /* NUL-terminated (the NUL is not counted in len) */
    size_t len;
    size_t cap;
} cli_buf;

void buf_append(cli_buf *b, const char *p, size_t n);
void buf_puts(cli_buf *b, const char *s);
void buf_printf(cli_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the last n bytes (all of them when n exceeds the length). */
void buf_trim_tail(cli_buf *b, size_t n);
void buf_reset(cli_buf *b);
void buf_free(cli_buf *b);
/* Hands the bytes to the caller (malloc'ed, NUL-terminated); b is empty. */
char *buf_take(cli_buf *b);

/* Append p quoted the way redis-cli shows binary-safe strings: "..." with
 * \n \r \t \a \b \\ \" escaped and other non-printable bytes as \xhh. */
void buf_repr(cli_buf *b, const char *p, size_t n);

void *cli_xmalloc(size_t n);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);

#endif
