/*
 * tls: TLS through OpenSSL, as Redis 7.0 configures it.
 *
 * This module owns the SSL contexts (one for accepted connections, and
 * one for outbound connections when tls-client-cert-file/-key-file are
 * set) and the tls-* parameters; the connections it makes are net/conn.h
 * conns, which client.c drives like any other (see conn.h for the
 * handshake, want-read/want-write and buffered-data rules).
 *
 * Contexts are built at start-up when tls-port, tls-replication or
 * tls-cluster asks for TLS, and rebuilt when CONFIG SET changes a tls-*
 * file or setting: a new SSL_CTX replaces the old one for new
 * connections, while each connected client keeps the context it was
 * accepted with (OpenSSL counts the references) until it leaves. A
 * rebuild that fails (missing file, key not matching the certificate)
 * leaves the working context in place, and CONFIG SET puts every value
 * back.
 */
#ifndef KEEL_TLS_H
#define KEEL_TLS_H

#include "net/conn.h"

/* tls-auth-clients */
enum { TLS_AUTH_CLIENTS_NO = 0, TLS_AUTH_CLIENTS_YES = 1, TLS_AUTH_CLIENTS_OPTIONAL = 2 };

/* Start-up, after the configuration is read: initialise OpenSSL and build
 * the contexts if the configuration uses TLS. Returns 0 (logged) when
 * that fails: the server must not start. */
int tls_init(void);
/* A server context exists (TLS connections can be accepted or made). */
int tls_configured(void);

/* A TLS conn for a socket just accepted on the TLS port: the handshake
 * (conn_handshake) comes next. NULL, logged, if TLS is not configured. */
conn *tls_conn_accept(int fd);
/* A TLS conn for an outbound socket already connected (replication with
 * tls-replication, the cluster bus with tls-cluster): the client context,
 * or the server one when no client certificate is configured; the peer's
 * certificate is verified against tls-ca-cert-file/-dir. server_name, if
 * not NULL, is sent as SNI. */
conn *tls_conn_connect(int fd, const char *server_name);

/* The Common Name of the certificate the peer presented, copied into
 * buf; 0 if it presented none (or it has no CN). After the handshake. */
int tls_conn_peer_cn(const conn *cn, char *buf, size_t len);

/* tls-auth-clients-user CN (as Redis 7.2+ / Valkey): a client that
 * presents a certificate is logged in as the user named by its CN. */
int tls_auth_clients_user_cn(void);
/* tls-replication / tls-cluster: whether those links use TLS. */
int tls_replication_enabled(void);
int tls_cluster_enabled(void);

#endif
