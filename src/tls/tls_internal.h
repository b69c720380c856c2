/* tls_internal: what tls.c (contexts, settings) gives tls_conn.c
 * (connections). Private to src/tls. */
#ifndef KEEL_TLS_INTERNAL_H
#define KEEL_TLS_INTERNAL_H

#include <openssl/ssl.h>

SSL_CTX *tls_server_ctx(void);
/* The client certificate's context, or the server's when none is set. */
SSL_CTX *tls_client_ctx(void);
int tls_auth_clients_mode(void); /* TLS_AUTH_CLIENTS_* */

#endif
