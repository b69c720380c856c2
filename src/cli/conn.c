/*
 * conn: blocking client connection (see conn.h).
 *
 * One output buffer, one rr_reader. Every read first writes what is queued,
 * so pipelining is "append N, read N" and a single question costs one
 * write and one or more reads.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"

struct cli_conn {
    int fd;
    rr_reader *reader;
    cli_buf out;
    size_t out_sent;
    char err[256];
    int lost;
    enum conn_push_mode push_mode;
    conn_push_fn push_fn;
    void *push_priv;
};

static void set_err(cli_conn *c, const char *msg, int lost) {
    snprintf(c->err, sizeof(c->err), "%s", msg);
    c->lost = lost;
}

static int wait_connected(int fd, long timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do {
        n = poll(&p, 1, timeout_ms > 0 ? (int)timeout_ms : -1);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (n < 0) return -1;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) return -1;
    if (soerr) {
        errno = soerr;
        return -1;
    }
    return 0;
}

/* Connect fd to addr, bounded by timeout_ms when it is > 0. */
static int connect_with_timeout(int fd, const struct sockaddr *addr, socklen_t alen,
                                long timeout_ms) {
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, addr, alen);
    if (rc < 0 && errno == EINPROGRESS) rc = wait_connected(fd, timeout_ms);
    int saved = errno;
    fcntl(fd, F_SETFL, flags);
    errno = saved;
    return rc;
}

static int open_unix(const char *path, long timeout_ms, char *err, size_t errlen) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect_with_timeout(fd, (struct sockaddr *)&sa, sizeof(sa), timeout_ms) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int open_tcp(const char *host, int port, long timeout_ms, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res, *ai;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect_with_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0) break;
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    return fd;
}

cli_conn *conn_open(const char *host, int port, const char *path, long timeout_ms,
                    char *err, size_t errlen) {
    int fd = path ? open_unix(path, timeout_ms, err, errlen)
                  : open_tcp(host, port, timeout_ms, err, errlen);
    if (fd < 0) return NULL;
    cli_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        snprintf(err, errlen, "Out of memory");
        return NULL;
    }
    c->fd = fd;
    c->reader = rr_reader_new();
    return c;
}

void conn_close(cli_conn *c) {
    if (!c) return;
    close(c->fd);
    rr_reader_free(c->reader);
    buf_free(&c->out);
    free(c);
}

int conn_fd(const cli_conn *c) {
    return c->fd;
}

void conn_set_read_timeout(cli_conn *c, long timeout_ms) {
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void conn_set_push(cli_conn *c, enum conn_push_mode mode, conn_push_fn fn, void *priv) {
    c->push_mode = mode;
    c->push_fn = fn;
    c->push_priv = priv;
}

void conn_append(cli_conn *c, int argc, const char *const *argv, const size_t *lens) {
    buf_printf(&c->out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        buf_printf(&c->out, "$%zu\r\n", n);
        buf_append(&c->out, argv[i], n);
        buf_append(&c->out, "\r\n", 2);
    }
}

void conn_append_raw(cli_conn *c, const char *p, size_t n) {
    buf_append(&c->out, p, n);
}

int conn_flush(cli_conn *c) {
    while (c->out_sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            set_err(c, strerror(errno), errno == EPIPE || errno == ECONNRESET);
            return -1;
        }
        c->out_sent += (size_t)n;
    }
    buf_reset(&c->out);
    c->out_sent = 0;
    return 0;
}

/* Read once from the socket into the reader. 0, or -1 (error set). */
static int fill_reader_flags(cli_conn *c, int flags) {
    char chunk[16384];
    ssize_t n;
    do {
        n = recv(c->fd, chunk, sizeof(chunk), flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (flags & MSG_DONTWAIT) && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n == 0) {
        set_err(c, "Server closed the connection", 1);
        return -1;
    }
    if (n < 0) {
        set_err(c, strerror(errno), errno == ECONNRESET || errno == EPIPE);
        return -1;
    }
    rr_reader_feed(c->reader, chunk, (size_t)n);
    return 0;
}

static int fill_reader(cli_conn *c) {
    return fill_reader_flags(c, 0);
}

int conn_fill_nowait(cli_conn *c) {
    return fill_reader_flags(c, MSG_DONTWAIT);
}

int conn_next(cli_conn *c, rr_reply **out) {
    int st = rr_reader_next(c->reader, out);
    if (st == RR_PROTO_ERROR) {
        set_err(c, rr_reader_error(c->reader), 0);
        return -1;
    }
    return st == RR_OK ? 1 : 0;
}

/* A push, delivered as the mode says: 1 when it was consumed here. */
static int consume_push(cli_conn *c, rr_reply *r) {
    if (r->type != RR_PUSH || c->push_mode == CONN_PUSH_RETURN) return 0;
    if (c->push_mode == CONN_PUSH_HANDLER && c->push_fn) c->push_fn(c->push_priv, r);
    rr_reply_free(r);
    return 1;
}

int conn_read(cli_conn *c, rr_reply **out) {
    if (conn_flush(c) < 0) return -1;
    for (;;) {
        rr_reply *r = NULL;
        int st = rr_reader_next(c->reader, &r);
        if (st == RR_PROTO_ERROR) {
            set_err(c, rr_reader_error(c->reader), 0);
            return -1;
        }
        if (st == RR_OK) {
            if (consume_push(c, r)) continue;
            *out = r;
            return 0;
        }
        if (fill_reader(c) < 0) return -1;
    }
}

rr_reply *conn_command(cli_conn *c, int argc, const char *const *argv, const size_t *lens) {
    rr_reply *r = NULL;
    conn_append(c, argc, argv, lens);
    return conn_read(c, &r) == 0 ? r : NULL;
}

rr_reply *conn_call(cli_conn *c, const char *arg0, ...) {
    const char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && argc < 64; a = va_arg(ap, const char *)) argv[argc++] = a;
    va_end(ap);
    return conn_command(c, argc, argv, NULL);
}

const char *conn_error(const cli_conn *c) {
    return c->err;
}

int conn_lost(const cli_conn *c) {
    return c->lost;
}

long conn_read_raw(cli_conn *c, char *buf, size_t len) {
    size_t have = 0;
    const char *p = rr_reader_unparsed(c->reader, &have);
    if (have) {
        size_t n = have < len ? have : len;
        memcpy(buf, p, n);
        rr_reader_skip(c->reader, n);
        return (long)n;
    }
    ssize_t n;
    do {
        n = read(c->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) set_err(c, strerror(errno), 1);
    return (long)n;
}
