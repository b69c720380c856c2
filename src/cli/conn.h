/*
 * conn: keel-cli's connection to a server. Blocking I/O (a CLI waits for
 * its answer anyway), TCP or unix socket, optional timeouts, and the
 * handshake redis-cli does: AUTH, SELECT, HELLO 3.
 *
 * Requests are built as RESP multibulk from argv (binary safe), appended to
 * an output buffer and written on the first read, so a caller can pipeline
 * (append many, read many) or ask one question (conn_command). Replies are
 * parsed by lib/resp_reader; RESP3 push messages arriving while a reply is
 * awaited go to a push handler, are dropped, or are returned like replies
 * (conn_set_push).
 */
#ifndef KEEL_CLI_CONN_H
#define KEEL_CLI_CONN_H

#include <stddef.h>

#include "lib/resp_reader.h"

typedef struct cli_conn cli_conn;

enum conn_push_mode {
    CONN_PUSH_DROP,     /* RESP3 pushes are discarded (the default) */
    CONN_PUSH_HANDLER,  /* handed to the handler, then freed */
    CONN_PUSH_RETURN,   /* returned by conn_read like any reply (pub/sub) */
};
typedef void (*conn_push_fn)(void *priv, const rr_reply *push);

/* Connect to host:port (any address getaddrinfo gives), or to the unix
 * socket path when path is not NULL. timeout_ms bounds the connect (0: the
 * system's). NULL on failure, with the reason (strerror-like, as hiredis
 * words it: "Connection refused") in err. */
cli_conn *conn_open(const char *host, int port, const char *path,
                    long timeout_ms, char *err, size_t errlen);
void conn_close(cli_conn *c);
int conn_fd(const cli_conn *c);

/* Bound every read (0: wait forever, the default). */
void conn_set_read_timeout(cli_conn *c, long timeout_ms);
void conn_set_push(cli_conn *c, enum conn_push_mode mode, conn_push_fn fn, void *priv);

/* Queue one request (lens NULL: the arguments are C strings). */
void conn_append(cli_conn *c, int argc, const char *const *argv, const size_t *lens);
/* Queue bytes as they are (--pipe, inline commands). */
void conn_append_raw(cli_conn *c, const char *p, size_t n);
/* Write what is queued. 0, or -1 on an I/O error (conn_error says why). */
int conn_flush(cli_conn *c);
/* Flush, then wait for the next reply. 0 with *out set (the caller frees it
 * with rr_reply_free), or -1 on error, end of stream or timeout. */
int conn_read(cli_conn *c, rr_reply **out);

/* One request, its reply (NULL on an I/O error). */
rr_reply *conn_command(cli_conn *c, int argc, const char *const *argv, const size_t *lens);
/* The same with C-string arguments, NULL-terminated:
 * conn_call(c, "MEMORY", "USAGE", key, NULL). */
rr_reply *conn_call(cli_conn *c, const char *arg0, ...) __attribute__((sentinel));

/* Why the last operation failed: "Connection reset by peer", "Server
 * closed the connection", ... (hiredis's wording, which redis-cli prints
 * after "Error: "). */
const char *conn_error(const cli_conn *c);
/* 1 when the last failure was the server closing or resetting the link
 * (an interactive session reconnects on the next command). */
int conn_lost(const cli_conn *c);

/* Non-blocking use (--pipe): read what the socket has without waiting
 * (0, or -1 on error or end of stream), then take the complete replies one
 * by one (1: *out set, 0: none yet, -1: protocol error). */
int conn_fill_nowait(cli_conn *c);
int conn_next(cli_conn *c, rr_reply **out);

/* Raw access for a caller that takes over the stream (the RDB payload
 * after SYNC): bytes already read but not parsed are handed out first,
 * then the socket is read. Returns bytes read, 0 at end of stream, -1 on
 * error. */
long conn_read_raw(cli_conn *c, char *buf, size_t len);

#endif
