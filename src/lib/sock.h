/*
 * sock: starting an outgoing TCP connection without blocking.
 *
 * The replica's master link, the cluster bus and Sentinel's links all
 * connect from the event loop: they need the socket at once and learn
 * the outcome when it turns writable. One function, so that the three
 * resolve, set options and treat EINPROGRESS the same way.
 */
#ifndef KEEL_LIB_SOCK_H
#define KEEL_LIB_SOCK_H

enum {
    SOCK_NUMERIC_HOST = 1, /* host must be an IP address: no name lookup */
    SOCK_KEEPALIVE = 2,    /* SO_KEEPALIVE, for links that idle */
};

#define SOCK_UNRESOLVED (-2)

/* A non-blocking, close-on-exec TCP socket to host:port with TCP_NODELAY,
 * its connect() started (possibly still in progress: wait for it to turn
 * writable and read SO_ERROR). Returns the fd; SOCK_UNRESOLVED when host
 * does not resolve (or is empty); -1 with errno set when socket() or
 * connect() fails. */
int sock_connect_nonblock(const char *host, int port, int flags);

#endif
