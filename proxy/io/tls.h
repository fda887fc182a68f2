/*
 * TLS contexts for both directions: listeners (we are the server) and
 * upstreams (we are the client of the SMSC). OpenSSL 3; the connections
 * themselves are bufferevent_openssl.
 *
 * Both contexts require TLS 1.2 or later, use OpenSSL's default cipher
 * lists for that floor, and disable renegotiation and compression.
 */
#ifndef PROXY_IO_TLS_H
#define PROXY_IO_TLS_H

#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "config/config.h"

/*
 * Build a server context for a listener or the admin API from t: t->cert
 * (PEM chain) and t->key (PEM) are required and must match; when
 * t->client_ca is set, clients must present a certificate signed by it
 * (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT). t is borrowed.
 * Returns a new context (owned by the caller; SSL_CTX_free()), or NULL
 * with a one-line reason (file named, OpenSSL's error text) in err (errlen
 * bytes, always NUL-terminated). Never logs.
 */
SSL_CTX *tls_server_ctx_new(const struct config_tls *t, char *err,
    size_t errlen);

/*
 * Build a client context for an upstream from t: when t->verify is true
 * the SMSC's certificate is verified against t->ca, or the system trust
 * store when t->ca is NULL; t->cert / t->key, when both are set, are
 * presented as our client certificate. t is borrowed. Returns a new
 * context (owned by the caller; SSL_CTX_free()) or NULL with a reason in
 * err, as above. Never logs.
 */
SSL_CTX *tls_client_ctx_new(const struct config_tls *t, char *err,
    size_t errlen);

/*
 * A new client SSL on ctx for a connection to host: sets SNI to host
 * (unless host is an IP literal, RFC 6066 §3) and, if ctx verifies peers,
 * checks the certificate names host (DNS name or IP address). host is
 * borrowed. Returns the SSL (owned by the caller, usually handed to
 * bufferevent_openssl_socket_new() with BEV_OPT_CLOSE_ON_FREE), or NULL
 * with a reason in err.
 */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *err,
    size_t errlen);

/*
 * Take OpenSSL's most recent queued error as text into buf (cap bytes),
 * clearing the queue; "unknown TLS error" when it is empty. Returns buf.
 */
const char *tls_error_string(char *buf, size_t cap);

/*
 * A bufferevent for TLS over fd (-1: none yet) with a new SSL of ctx
 * (borrowed), in state, with options plus BEV_OPT_CLOSE_ON_FREE: the
 * bufferevent owns the SSL. Returns the bufferevent (owned by the
 * caller), or NULL with fd still the caller's. On NULL the SSL is already
 * freed: libevent 2.1.9 and later free it themselves when they fail.
 */
struct bufferevent *tls_bev_new(struct event_base *base, int fd,
    SSL_CTX *ctx, enum bufferevent_ssl_state state, int options);

#endif /* PROXY_IO_TLS_H */
