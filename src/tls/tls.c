/*
 * tls: the SSL contexts and the tls-* parameters (see tls.h for the
 * design; the connections themselves are tls_conn.c).
 *
 * A context is built from the whole configuration at once, into a new
 * SSL_CTX, and swapped in only when every step succeeded: a bad file
 * never leaves the server half-configured. Each step that fails logs
 * what failed in Redis's words, so operators can read Keel's log as they
 * read Redis's.
 */
#include "tls/tls.h"
#include "tls/tls_internal.h"
#include "core/config.h"
#include "core/server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Parameters (only config.c writes them, through tls_configs). */
static char *cert_file, *key_file, *key_file_pass;
static char *client_cert_file, *client_key_file, *client_key_file_pass;
static char *dh_params_file, *ca_cert_file, *ca_cert_dir;
static char *protocols, *ciphers, *ciphersuites;
static int auth_clients = TLS_AUTH_CLIENTS_YES;
static int replication, cluster, prefer_server_ciphers, session_caching;
static int session_cache_size, session_cache_timeout;
static int auth_clients_user; /* 0 off, 1 CN */

static SSL_CTX *server_ctx, *client_ctx;
static int started; /* tls_init ran: later changes rebuild at once */

static int apply_tls(const char **err);
static int apply_tls_port(const char **err);

static const enum_value auth_clients_enum[] = {
    {"no", TLS_AUTH_CLIENTS_NO}, {"yes", TLS_AUTH_CLIENTS_YES}, {"optional", TLS_AUTH_CLIENTS_OPTIONAL}, {NULL, 0}};
static const enum_value auth_user_enum[] = {{"off", 0}, {"CN", 1}, {NULL, 0}};

config_entry tls_configs[] = {
    CONFIG_INT("tls-port", &server.tls_port, "0", 0, 65535, 0, apply_tls_port),
    CONFIG_STRING("tls-cert-file", &cert_file, "", 0, apply_tls),
    CONFIG_STRING("tls-key-file", &key_file, "", 0, apply_tls),
    CONFIG_STRING("tls-key-file-pass", &key_file_pass, "", 0, apply_tls),
    CONFIG_STRING("tls-client-cert-file", &client_cert_file, "", 0, apply_tls),
    CONFIG_STRING("tls-client-key-file", &client_key_file, "", 0, apply_tls),
    CONFIG_STRING("tls-client-key-file-pass", &client_key_file_pass, "", 0, apply_tls),
    CONFIG_STRING("tls-dh-params-file", &dh_params_file, "", 0, apply_tls),
    CONFIG_STRING("tls-ca-cert-file", &ca_cert_file, "", 0, apply_tls),
    CONFIG_STRING("tls-ca-cert-dir", &ca_cert_dir, "", 0, apply_tls),
    CONFIG_ENUM("tls-auth-clients", &auth_clients, "yes", auth_clients_enum, 0, NULL),
    CONFIG_BOOL("tls-replication", &replication, "no", 0, apply_tls),
    CONFIG_BOOL("tls-cluster", &cluster, "no", 0, apply_tls),
    CONFIG_STRING("tls-protocols", &protocols, "", 0, apply_tls),
    CONFIG_STRING("tls-ciphers", &ciphers, "", 0, apply_tls),
    CONFIG_STRING("tls-ciphersuites", &ciphersuites, "", 0, apply_tls),
    CONFIG_BOOL("tls-prefer-server-ciphers", &prefer_server_ciphers, "no", 0, apply_tls),
    CONFIG_BOOL("tls-session-caching", &session_caching, "yes", 0, apply_tls),
    CONFIG_INT("tls-session-cache-size", &session_cache_size, "20480", 0, INT_MAX, 0, apply_tls),
    CONFIG_INT("tls-session-cache-timeout", &session_cache_timeout, "300", 0, INT_MAX, 0, apply_tls),
    CONFIG_ENUM("tls-auth-clients-user", &auth_clients_user, "off", auth_user_enum, 0, NULL),
    CONFIG_END,
};

static const char *or_null(const char *s) { return s && s[0] ? s : NULL; }

int tls_auth_clients_user_cn(void) { return auth_clients_user == 1; }
int tls_replication_enabled(void) { return replication; }
int tls_cluster_enabled(void) { return cluster; }
int tls_configured(void) { return server_ctx != NULL; }
int tls_auth_clients_mode(void) { return auth_clients; }
SSL_CTX *tls_server_ctx(void) { return server_ctx; }
SSL_CTX *tls_client_ctx(void) { return client_ctx ? client_ctx : server_ctx; }

/* ---- Building a context ---------------------------------------------- */

#define PROTO_TLSv1 (1 << 0)
#define PROTO_TLSv1_1 (1 << 1)
#define PROTO_TLSv1_2 (1 << 2)
#define PROTO_TLSv1_3 (1 << 3)

/* "TLSv1.2 TLSv1.3" -> bits; empty means TLSv1.2 and TLSv1.3 (Redis's
 * default); -1 (logged) for an unknown word. */
static int parse_protocols(const char *spec) {
    if (!or_null(spec)) return PROTO_TLSv1_2 | PROTO_TLSv1_3;
    static const struct { const char *name; int bit; } names[] = {
        {"tlsv1", PROTO_TLSv1}, {"tlsv1.1", PROTO_TLSv1_1}, {"tlsv1.2", PROTO_TLSv1_2}, {"tlsv1.3", PROTO_TLSv1_3}};
    int bits = 0;
    char word[32];
    for (const char *p = spec; *p;) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n == 0) break;
        int found = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < sizeof(word); i++) {
            if (strlen(names[i].name) == n && !strncasecmp(p, names[i].name, n)) {
                bits |= names[i].bit;
                found = 1;
            }
        }
        if (!found) {
            server_log(LOG_WARNING, "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', "
                                    "'TLSv1.2' and 'TLSv1.3'.");
            return -1;
        }
        p += n;
    }
    if (!bits) return PROTO_TLSv1_2 | PROTO_TLSv1_3;
    return bits;
}

static void log_ssl_error(const char *what, const char *file) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    if (file) server_log(LOG_WARNING, "%s: %s: %s", what, file, buf);
    else server_log(LOG_WARNING, "%s: %s", what, buf);
    ERR_clear_error();
}

static int password_callback(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const char *pass = userdata;
    if (!pass) return -1;
    size_t len = strlen(pass);
    if (len > (size_t)size) return -1;
    memcpy(buf, pass, len);
    return (int)len;
}

static void restrict_protocols(SSL_CTX *ctx, int protos) {
    long off = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION;
    if (!(protos & PROTO_TLSv1)) off |= SSL_OP_NO_TLSv1;
    if (!(protos & PROTO_TLSv1_1)) off |= SSL_OP_NO_TLSv1_1;
    if (!(protos & PROTO_TLSv1_2)) off |= SSL_OP_NO_TLSv1_2;
    if (!(protos & PROTO_TLSv1_3)) off |= SSL_OP_NO_TLSv1_3;
    SSL_CTX_set_options(ctx, (uint64_t)off);
    /* TLSv1 and 1.1 are below OpenSSL 3's default security level: an
     * operator who asks for them gets them, as with Redis built there. */
    if (protos & (PROTO_TLSv1 | PROTO_TLSv1_1)) SSL_CTX_set_security_level(ctx, 0);
}

/* What the server and client contexts share: protocols, certificate and
 * key, CAs, ciphers. */
static SSL_CTX *new_base_ctx(int protos, int for_client) {
    const char *cert = for_client ? client_cert_file : cert_file;
    const char *key = for_client ? client_key_file : key_file;
    const char *pass = for_client ? client_key_file_pass : key_file_pass;
    /* Either direction: without a client certificate of its own, an
     * outbound link (replication, cluster bus) uses the server's context. */
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        log_ssl_error("Failed to create an SSL context", NULL);
        return NULL;
    }
    restrict_protocols(ctx, protos);
    /* RELEASE_BUFFERS: an idle connection gives its 16 KB read and write
     * buffers back (measured: 37 -> 27 KB of RSS per idle TLS client; Redis
     * keeps them, 40 KB), at no throughput cost we could measure. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)or_null(pass));
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) <= 0) {
        log_ssl_error("Failed to load certificate", cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) <= 0) {
        log_ssl_error("Failed to load private key", key);
        goto fail;
    }
    /* The password is needed only while the key is read. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if ((or_null(ca_cert_file) || or_null(ca_cert_dir)) &&
        SSL_CTX_load_verify_locations(ctx, or_null(ca_cert_file), or_null(ca_cert_dir)) <= 0) {
        log_ssl_error("Failed to configure CA certificate(s) file/directory", NULL);
        goto fail;
    }
    if (or_null(ciphers) && !SSL_CTX_set_cipher_list(ctx, ciphers)) {
        server_log(LOG_WARNING, "Failed to configure ciphers: %s", ciphers);
        goto fail;
    }
    if (or_null(ciphersuites) && !SSL_CTX_set_ciphersuites(ctx, ciphersuites)) {
        server_log(LOG_WARNING, "Failed to configure ciphersuites: %s", ciphersuites);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int load_dh_params(SSL_CTX *ctx) {
    if (!or_null(dh_params_file)) {
        SSL_CTX_set_dh_auto(ctx, 1);
        return 1;
    }
    FILE *f = fopen(dh_params_file, "r");
    if (!f) {
        server_log(LOG_WARNING, "Failed to load %s: %s", dh_params_file, strerror(errno));
        return 0;
    }
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "DH", OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS, NULL, NULL);
    int ok = dctx && OSSL_DECODER_from_fp(dctx, f);
    OSSL_DECODER_CTX_free(dctx);
    fclose(f);
    if (!ok) {
        server_log(LOG_WARNING, "%s: failed to read DH params.", dh_params_file);
        ERR_clear_error();
        return 0;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, pkey) <= 0) {
        log_ssl_error("Failed to load DH params file", dh_params_file);
        EVP_PKEY_free(pkey);
        return 0;
    }
    return 1; /* pkey now belongs to ctx */
}

static void set_session_cache(SSL_CTX *ctx) {
    if (!session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        return;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, session_cache_size);
    SSL_CTX_set_timeout(ctx, session_cache_timeout);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"keel", 4);
}

/* Build both contexts from the current parameters and swap them in; on
 * any failure keep the old ones. Returns 1 or 0 (logged). */
static int configure(void) {
    if (!or_null(cert_file)) {
        server_log(LOG_WARNING, "No tls-cert-file configured!");
        return 0;
    }
    if (!or_null(key_file)) {
        server_log(LOG_WARNING, "No tls-key-file configured!");
        return 0;
    }
    if ((auth_clients != TLS_AUTH_CLIENTS_NO || cluster || replication) && !or_null(ca_cert_file) &&
        !or_null(ca_cert_dir)) {
        server_log(LOG_WARNING, "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                                "tls-replication or tls-auth-clients are enabled!");
        return 0;
    }
    int protos = parse_protocols(protocols);
    if (protos < 0) return 0;
    SSL_CTX *sctx = new_base_ctx(protos, 0), *cctx = NULL;
    if (!sctx) return 0;
    set_session_cache(sctx);
    SSL_CTX_set_options(sctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_SINGLE_DH_USE);
    if (prefer_server_ciphers) SSL_CTX_set_options(sctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!load_dh_params(sctx)) goto fail;
    if (or_null(client_cert_file) && or_null(client_key_file) && !(cctx = new_base_ctx(protos, 1))) goto fail;
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    server_ctx = sctx;
    client_ctx = cctx;
    return 1;
fail:
    SSL_CTX_free(sctx);
    return 0;
}

static int tls_wanted(void) { return server.tls_port || replication || cluster; }

int tls_init(void) {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
    started = 1;
    if (tls_wanted() && !configure()) {
        server_log(LOG_WARNING, "Failed to configure TLS. Check logs for more info.");
        return 0;
    }
    return 1;
}

/* CONFIG SET of any tls-* file or setting: rebuild (a CONFIG SET that
 * names the same certificate file again reloads it). */
static int apply_tls(const char **err) {
    if (!started || !(tls_wanted() || server_ctx)) return 1;
    if (configure()) return 1;
    *err = "Unable to update TLS configuration. Check server logs.";
    return 0;
}

static int apply_tls_port(const char **err) {
    if (!started) return 1;
    if (server.tls_port && !server_ctx && !configure()) {
        *err = "Unable to update TLS configuration. Check server logs.";
        return 0;
    }
    return server_rebind_tls(err);
}
