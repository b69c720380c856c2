/*
 * tls_conn: a net/conn.h connection over OpenSSL (see conn.h for what a
 * caller must do with handshakes, EAGAIN and buffered bytes).
 *
 * Writes: SSL_write takes one buffer, and a retry after EAGAIN must offer
 * at least the bytes offered before, starting with the same ones
 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets their address change). The
 * reply queue only grows at its tail, so gathering its first iovecs up to
 * a fixed bound into one buffer satisfies that: a big first block is
 * written from where it is, small ones are copied together so that a
 * pipeline's replies still leave in one record. Reads: one SSL_read, with
 * read-ahead on (one read(2) takes in several records of a pipeline);
 * what it holds beyond len stays inside OpenSSL and conn_pending says
 * so.
 */
#include "tls/tls.h"
#include "tls/tls_internal.h"
#include "lib/zmalloc.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#define GATHER_MAX (16 * 1024)

typedef struct tls_conn {
    conn base;
    SSL *ssl;
    int client_side;
    char error[160];
} tls_conn;

static void note_error(tls_conn *t, int ssl_err) {
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, t->error, sizeof(t->error));
    else if (ssl_err == SSL_ERROR_SYSCALL) snprintf(t->error, sizeof(t->error), "%s", errno ? strerror(errno) : "connection closed");
    else snprintf(t->error, sizeof(t->error), "SSL error %d", ssl_err);
    ERR_clear_error();
}

/* The result of an SSL call that returned ret <= 0, as read/write do:
 * -1 with errno (EAGAIN and wants set for the event to wait for), or 0
 * for an orderly close. */
static ssize_t io_result(tls_conn *t, int ret, int usual_want) {
    int e = SSL_get_error(t->ssl, ret);
    t->base.wants = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        t->base.wants = usual_want == CONN_WANT_READ ? 0 : CONN_WANT_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->base.wants = usual_want == CONN_WANT_WRITE ? 0 : CONN_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0) return 0; /* the peer closed without close_notify */
        note_error(t, e);
        return -1;
    default:
        note_error(t, e);
        errno = EIO;
        return -1;
    }
}

static ssize_t tls_read(conn *cn, void *buf, size_t len) {
    tls_conn *t = (tls_conn *)cn;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        cn->wants = 0;
        return n;
    }
    return io_result(t, n, CONN_WANT_READ);
}

static ssize_t tls_writev(conn *cn, const struct iovec *iov, int iovcnt) {
    tls_conn *t = (tls_conn *)cn;
    static char gather[GATHER_MAX];
    const void *buf;
    size_t len = 0;
    if (iovcnt == 1 || iov[0].iov_len >= GATHER_MAX) {
        buf = iov[0].iov_base;
        len = iov[0].iov_len;
    } else {
        for (int i = 0; i < iovcnt && len < GATHER_MAX; i++) {
            size_t take = iov[i].iov_len < GATHER_MAX - len ? iov[i].iov_len : GATHER_MAX - len;
            memcpy(gather + len, iov[i].iov_base, take);
            len += take;
        }
        buf = gather;
    }
    if (len == 0) return 0;
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        cn->wants = 0;
        return n;
    }
    ssize_t r = io_result(t, n, CONN_WANT_WRITE);
    if (r == 0) {
        errno = EPIPE;
        r = -1;
    }
    return r;
}

static int tls_handshake(conn *cn) {
    tls_conn *t = (tls_conn *)cn;
    ERR_clear_error();
    errno = 0;
    int r = t->client_side ? SSL_connect(t->ssl) : SSL_accept(t->ssl);
    if (r == 1) {
        cn->handshake_done = 1;
        cn->wants = 0;
        return CONN_DONE;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return CONN_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE) return CONN_WANT_WRITE;
    note_error(t, e);
    return CONN_FAILED;
}

static size_t tls_pending(const conn *cn) {
    const tls_conn *t = (const tls_conn *)cn;
    /* SSL_pending counts the current record only; with read-ahead whole
     * records may wait behind it. */
    return SSL_pending(t->ssl) > 0 || SSL_has_pending(t->ssl) ? 1 : 0;
}

static void tls_free(conn *cn) {
    tls_conn *t = (tls_conn *)cn;
    if (cn->handshake_done) SSL_shutdown(t->ssl); /* one try: say goodbye if the socket takes it */
    SSL_free(t->ssl);
    ERR_clear_error();
    zfree(t);
}

static const char *tls_last_error(const conn *cn) {
    const tls_conn *t = (const tls_conn *)cn;
    return t->error[0] ? t->error : "unknown error";
}

static const conn_ops tls_ops = {
    .read = tls_read,
    .writev = tls_writev,
    .handshake = tls_handshake,
    .pending = tls_pending,
    .free = tls_free,
    .last_error = tls_last_error,
};

static conn *new_conn(SSL_CTX *ctx, int fd, int client_side) {
    if (!ctx) return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    tls_conn *t = zcalloc(sizeof(*t));
    t->base.ops = &tls_ops;
    t->base.fd = fd;
    t->ssl = ssl;
    t->client_side = client_side;
    return &t->base;
}

conn *tls_conn_accept(int fd) {
    conn *cn = new_conn(tls_server_ctx(), fd, 0);
    if (!cn) return NULL;
    tls_conn *t = (tls_conn *)cn;
    /* Per connection, so that CONFIG SET tls-auth-clients needs no new
     * context. */
    switch (tls_auth_clients_mode()) {
    case TLS_AUTH_CLIENTS_NO: SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL); break;
    case TLS_AUTH_CLIENTS_OPTIONAL: SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL); break;
    default: SSL_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL); break;
    }
    SSL_set_accept_state(t->ssl);
    return cn;
}

conn *tls_conn_connect(int fd, const char *server_name) {
    conn *cn = new_conn(tls_client_ctx(), fd, 1);
    if (!cn) return NULL;
    tls_conn *t = (tls_conn *)cn;
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
    if (server_name && server_name[0]) SSL_set_tlsext_host_name(t->ssl, server_name);
    SSL_set_connect_state(t->ssl);
    return cn;
}

int tls_conn_peer_cn(const conn *cn, char *buf, size_t len) {
    const tls_conn *t = (const tls_conn *)cn;
    if (cn->ops != &tls_ops || len == 0) return 0;
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (!cert) return 0;
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)len);
    X509_free(cert);
    return n > 0;
}
