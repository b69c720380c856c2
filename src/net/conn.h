/*
 * conn: how a connection's bytes reach its socket when something stands
 * between them (TLS today).
 *
 * A plain TCP or Unix socket has no conn at all: client.c reads and
 * writes the file descriptor itself, and a client's conn pointer is NULL,
 * so plain connections pay one well-predicted branch and nothing else.
 * A connection with a transport layer carries a conn whose ops do the
 * reading, writing, handshake and closing; the event loop still watches
 * the same file descriptor, registered by client.c as for a plain one.
 *
 * What a transport adds to plain non-blocking I/O, and how a caller deals
 * with it:
 * - a handshake before the first byte of data: conn_handshake() until
 *   it says CONN_DONE, waiting for whichever event it asks for;
 * - an operation may block on the opposite event (a TLS read may have to
 *   write, a write may have to read): the call fails with EAGAIN and
 *   conn_wants() says which event to wait for before retrying;
 * - bytes may already be decrypted and buffered inside the layer, where
 *   no socket event will announce them: conn_pending() says so, and the
 *   caller must read again without waiting for the socket.
 *
 * The outbound side (a replica connecting to its master over TLS, a
 * cluster bus link) uses the same ops from a conn made by the transport's
 * connect call (tls/tls.h: tls_conn_connect), after a plain non-blocking
 * connect() has succeeded.
 */
#ifndef KEEL_CONN_H
#define KEEL_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* conn_handshake() results. */
enum { CONN_DONE = 0, CONN_WANT_READ = 1, CONN_WANT_WRITE = 2, CONN_FAILED = -1 };

typedef struct conn conn;

typedef struct conn_ops {
    /* read(2)/writev(2) semantics: bytes moved, 0 for an orderly close by
     * the peer (read), -1 with errno set (EAGAIN: retry after the event
     * conn_wants() names). */
    ssize_t (*read)(conn *cn, void *buf, size_t len);
    ssize_t (*writev)(conn *cn, const struct iovec *iov, int iovcnt);
    int (*handshake)(conn *cn);
    /* Decrypted bytes waiting inside the layer. */
    size_t (*pending)(const conn *cn);
    /* Frees the layer's state and the conn; the caller closes the fd. */
    void (*free)(conn *cn);
    /* The last error in words, for logs. */
    const char *(*last_error)(const conn *cn);
} conn_ops;

struct conn {
    const conn_ops *ops;
    int fd;
    int wants;          /* CONN_WANT_READ / CONN_WANT_WRITE after an EAGAIN, else 0 */
    int handshake_done;
};

static inline ssize_t conn_read(conn *cn, void *buf, size_t len) { return cn->ops->read(cn, buf, len); }
static inline ssize_t conn_writev(conn *cn, const struct iovec *iov, int iovcnt) {
    return cn->ops->writev(cn, iov, iovcnt);
}
static inline int conn_handshake(conn *cn) { return cn->ops->handshake(cn); }
static inline size_t conn_pending(const conn *cn) { return cn->ops->pending(cn); }
static inline void conn_free(conn *cn) { cn->ops->free(cn); }
static inline const char *conn_last_error(const conn *cn) { return cn->ops->last_error(cn); }
/* Which event the last EAGAIN waits for (CONN_WANT_*), 0 for the usual
 * one (readable for a read, writable for a write). */
static inline int conn_wants(const conn *cn) { return cn->wants; }

#endif
