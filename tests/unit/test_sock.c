#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sock.h"

/* A listening socket on 127.0.0.1 and its port. */
static int listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int so_error_after_writable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    cr_assert_eq(poll(&p, 1, 5000), 1);
    int err = -1;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

Test(sock, connects_without_blocking) {
    int port, l = listener(&port);
    int fd = sock_connect_nonblock("127.0.0.1", port, SOCK_NUMERIC_HOST | SOCK_KEEPALIVE);
    cr_assert_geq(fd, 0);
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int on = 0;
    socklen_t len = sizeof(on);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len);
    cr_assert(on);
    cr_assert_eq(so_error_after_writable(fd), 0);
    close(fd);
    close(l);
}

Test(sock, a_name_needs_a_lookup_unless_numeric) {
    cr_assert_eq(sock_connect_nonblock("localhost", 6379, SOCK_NUMERIC_HOST), SOCK_UNRESOLVED);
    cr_assert_eq(sock_connect_nonblock("", 6379, 0), SOCK_UNRESOLVED);
}

Test(sock, a_refused_connection_shows_in_so_error) {
    int port, l = listener(&port);
    close(l); /* nothing listens there now */
    int fd = sock_connect_nonblock("127.0.0.1", port, 0);
    if (fd >= 0) {
        cr_assert_eq(so_error_after_writable(fd), ECONNREFUSED);
        close(fd);
    } else {
        cr_assert_eq(errno, ECONNREFUSED);
    }
}
