/*
 * The TLS conn (src/tls/tls_conn.c) on its own, through net/conn.h, as a
 * server and as an outbound client (what replication and the cluster bus
 * will use): two ends of a socket pair, non-blocking, each driven only by
 * what the conn API tells it. Certificates are made with the openssl CLI
 * in a temporary directory. tls.c's context functions are stood in for
 * here, so the contexts are the test's own.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/tls_conn.c"

static SSL_CTX *server_ctx_for_test, *client_ctx_for_test;
static int auth_mode_for_test = TLS_AUTH_CLIENTS_YES;
static char certdir[] = "/tmp/keel-tls-unit-XXXXXX";

SSL_CTX *tls_server_ctx(void) { return server_ctx_for_test; }
SSL_CTX *tls_client_ctx(void) { return client_ctx_for_test; }
int tls_auth_clients_mode(void) { return auth_mode_for_test; }

static void sh(const char *fmt, const char *a) {
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), fmt, a, a, a, a, a, a, a, a);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static void make_certs(void) {
    cr_assert_not_null(mkdtemp(certdir));
    sh("cd %s && openssl req -x509 -new -nodes -newkey rsa:2048 -days 2 -keyout ca.key -out ca.crt "
       "-subj /CN=unit-ca >/dev/null 2>&1", certdir);
    sh("cd %s && for n in server client; do openssl req -new -nodes -newkey rsa:2048 -keyout $n.key -out $n.csr "
       "-subj /CN=unit-$n >/dev/null 2>&1 && openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key "
       "-CAcreateserial -days 2 -out $n.crt >/dev/null 2>&1 || exit 1; done", certdir);
}

static SSL_CTX *ctx_with(const char *name, int server) {
    char crt[256], key[256], ca[256];
    snprintf(crt, sizeof(crt), "%s/%s.crt", certdir, name);
    snprintf(key, sizeof(key), "%s/%s.key", certdir, name);
    snprintf(ca, sizeof(ca), "%s/ca.crt", certdir);
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    cr_assert(SSL_CTX_use_certificate_chain_file(ctx, crt) > 0);
    cr_assert(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) > 0);
    cr_assert(SSL_CTX_load_verify_locations(ctx, ca, NULL) > 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

static void setup(void) {
    signal(SIGPIPE, SIG_IGN); /* as the server does: a write to a closed peer fails with EPIPE */
    make_certs();
    server_ctx_for_test = ctx_with("server", 1);
    client_ctx_for_test = ctx_with("client", 0);
}

static void teardown(void) {
    SSL_CTX_free(server_ctx_for_test);
    SSL_CTX_free(client_ctx_for_test);
    sh("rm -rf %s", certdir);
}

static void socket_pair(int fds[2]) {
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    for (int i = 0; i < 2; i++) fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
}

/* Drive both handshakes until each is done or one fails; returns the
 * server's last result. */
static int handshake_both(conn *srv, conn *cli, int *cli_result) {
    int s = CONN_WANT_READ, c = CONN_WANT_READ;
    for (int i = 0; i < 1000 && (s != CONN_DONE || c != CONN_DONE); i++) {
        if (c != CONN_DONE && c != CONN_FAILED) c = conn_handshake(cli);
        if (s != CONN_DONE && s != CONN_FAILED) s = conn_handshake(srv);
        if (s == CONN_FAILED || c == CONN_FAILED) break;
    }
    *cli_result = c;
    return s;
}

TestSuite(tls_conn, .init = setup, .fini = teardown, .timeout = 120);

Test(tls_conn, handshake_then_both_ways) {
    int fds[2];
    socket_pair(fds);
    conn *srv = tls_conn_accept(fds[0]);
    conn *cli = tls_conn_connect(fds[1], "localhost");
    cr_assert_not_null(srv);
    cr_assert_not_null(cli);
    int c, s = handshake_both(srv, cli, &c);
    cr_assert_eq(s, CONN_DONE);
    cr_assert_eq(c, CONN_DONE);

    char cn[64];
    cr_assert(tls_conn_peer_cn(srv, cn, sizeof(cn)));
    cr_assert_str_eq(cn, "unit-client");
    cr_assert(tls_conn_peer_cn(cli, cn, sizeof(cn)));
    cr_assert_str_eq(cn, "unit-server");

    /* Two iovecs leave as one record and arrive whole. */
    struct iovec iov[2] = {{"PING\r\n", 6}, {"ECHO x\r\n", 8}};
    cr_assert_eq(conn_writev(cli, iov, 2), 14);
    char buf[64];
    ssize_t n = conn_read(srv, buf, sizeof(buf));
    cr_assert_eq(n, 14);
    cr_assert_eq(memcmp(buf, "PING\r\nECHO x\r\n", 14), 0);

    /* Nothing more to read: EAGAIN, waiting for readability. */
    cr_assert_eq(conn_read(srv, buf, sizeof(buf)), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(conn_wants(srv), 0);

    struct iovec reply = {"+PONG\r\n", 7};
    cr_assert_eq(conn_writev(srv, &reply, 1), 7);
    cr_assert_eq(conn_read(cli, buf, sizeof(buf)), 7);

    /* An orderly close reads as 0. */
    conn_free(cli);
    close(fds[1]);
    cr_assert_eq(conn_read(srv, buf, sizeof(buf)), 0);
    conn_free(srv);
    close(fds[0]);
}

Test(tls_conn, full_socket_then_drain_with_the_same_bytes) {
    int fds[2];
    socket_pair(fds);
    conn *srv = tls_conn_accept(fds[0]);
    conn *cli = tls_conn_connect(fds[1], NULL);
    int c;
    cr_assert_eq(handshake_both(srv, cli, &c), CONN_DONE);

    /* Write 4 MB through the server side until the socket is full; what
     * a write refused must be offered again (same first bytes, at least
     * as many), the way client.c's reply list does. */
    size_t total = 4 << 20, sent = 0, got = 0;
    char *out = malloc(total), *in = malloc(total);
    for (size_t i = 0; i < total; i++) out[i] = (char)(i * 7 + i / 4096);
    int saw_eagain = 0;
    while (got < total) {
        while (sent < total) {
            struct iovec iov[2] = {{out + sent, (total - sent) / 2}, {out + sent + (total - sent) / 2, total - sent - (total - sent) / 2}};
            ssize_t n = conn_writev(srv, iov, 2);
            if (n < 0) {
                cr_assert_eq(errno, EAGAIN);
                saw_eagain = 1;
                break;
            }
            sent += (size_t)n;
        }
        ssize_t r;
        while ((r = conn_read(cli, in + got, total - got)) > 0) got += (size_t)r;
        cr_assert(r == -1 && errno == EAGAIN, "read %zd errno %d", r, errno);
        /* Records may wait inside OpenSSL: conn_pending says so. */
        while (conn_pending(cli) && (r = conn_read(cli, in + got, total - got)) > 0) got += (size_t)r;
    }
    cr_assert(saw_eagain, "the socket never filled up");
    cr_assert_eq(memcmp(in, out, total), 0);
    free(out);
    free(in);
    conn_free(srv);
    conn_free(cli);
    close(fds[0]);
    close(fds[1]);
}

Test(tls_conn, client_without_certificate_refused_when_required) {
    int fds[2];
    socket_pair(fds);
    SSL_CTX *bare = SSL_CTX_new(TLS_client_method());
    char ca[256];
    snprintf(ca, sizeof(ca), "%s/ca.crt", certdir);
    SSL_CTX_load_verify_locations(bare, ca, NULL);
    SSL_CTX *saved = client_ctx_for_test;
    client_ctx_for_test = bare;
    conn *srv = tls_conn_accept(fds[0]);
    conn *cli = tls_conn_connect(fds[1], NULL);
    client_ctx_for_test = saved;
    int c, s = handshake_both(srv, cli, &c);
    /* TLS 1.3: the client finishes first and learns of the refusal on
     * its first read. */
    cr_assert_eq(s, CONN_FAILED);
    cr_assert(strlen(conn_last_error(srv)) > 0);
    char buf[16];
    if (c == CONN_DONE) {
        ssize_t r = -1;
        for (int i = 0; i < 100 && (r = conn_read(cli, buf, sizeof(buf))) < 0 && errno == EAGAIN; i++) usleep(1000);
        cr_assert(r <= 0 && errno != EAGAIN);
    }
    conn_free(srv);
    conn_free(cli);
    SSL_CTX_free(bare);
    close(fds[0]);
    close(fds[1]);

    /* With tls-auth-clients optional the same client is let in. */
    socket_pair(fds);
    auth_mode_for_test = TLS_AUTH_CLIENTS_OPTIONAL;
    bare = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(bare, ca, NULL);
    client_ctx_for_test = bare;
    srv = tls_conn_accept(fds[0]);
    cli = tls_conn_connect(fds[1], NULL);
    client_ctx_for_test = saved;
    auth_mode_for_test = TLS_AUTH_CLIENTS_YES;
    cr_assert_eq(handshake_both(srv, cli, &c), CONN_DONE);
    cr_assert_eq(c, CONN_DONE);
    cr_assert_not(tls_conn_peer_cn(srv, buf, sizeof(buf)));
    conn_free(srv);
    conn_free(cli);
    SSL_CTX_free(bare);
    close(fds[0]);
    close(fds[1]);
}
