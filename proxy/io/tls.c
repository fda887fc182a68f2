/*
 * TLS contexts for listeners (server) and upstreams (client).
 */
#include "proxy/io/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

const char *
tls_error_string(char *buf, size_t cap)
{
	unsigned long	e, last = 0;

	/* The last error queued is usually the most specific one. */
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (cap == 0)
		return buf;
	if (last == 0)
		snprintf(buf, cap, "unknown TLS error");
	else
		ERR_error_string_n(last, buf, cap);
	return buf;
}

static void
tls_err(char *err, size_t errlen, const char *what, const char *file)
{
	char	ebuf[256];

	tls_error_string(ebuf, sizeof(ebuf));
	if (errlen == 0)
		return;
	if (file != NULL)
		snprintf(err, errlen, "%s %s: %s", what, file, ebuf);
	else
		snprintf(err, errlen, "%s: %s", what, ebuf);
}

/* The options both directions share. */
static SSL_CTX *
tls_ctx_base(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_err(err, errlen, "TLS 1.2 minimum", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* bufferevent_openssl may hand SSL_write a moved buffer after
	 * SSL_ERROR_WANT_WRITE. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

static int
tls_ctx_load_pair(SSL_CTX *ctx, const char *cert, const char *key,
    char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, errlen, "certificate", cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "private key", key);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "key does not match certificate", cert);
		return -1;
	}
	return 0;
}

SSL_CTX *
tls_server_ctx_new(const struct config_tls *t, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	STACK_OF(X509_NAME) *names;

	if (t->cert == NULL || t->key == NULL) {
		snprintf(err, errlen, "TLS listener needs cert and key");
		return NULL;
	}
	if ((ctx = tls_ctx_base(TLS_server_method(), err, errlen)) == NULL)
		return NULL;
	if (tls_ctx_load_pair(ctx, t->cert, t->key, err, errlen) == -1)
		goto err_free;
	if (t->client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->client_ca,
		    NULL) != 1) {
			tls_err(err, errlen, "client CA", t->client_ca);
			goto err_free;
		}
		/* Tell clients which CAs we accept (certificate_request). */
		if ((names = SSL_load_client_CA_file(t->client_ca)) == NULL) {
			tls_err(err, errlen, "client CA names", t->client_ca);
			goto err_free;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* No session resumption across restarts; tickets are harmless but
	 * client-cert checks are simpler without cached sessions. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;

err_free:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx_new(const struct config_tls *t, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_base(TLS_client_method(), err, errlen)) == NULL)
		return NULL;
	if (t->verify) {
		if (t->ca != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, t->ca,
			    NULL) != 1) {
				tls_err(err, errlen, "CA", t->ca);
				goto err_free;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			tls_err(err, errlen, "system trust store", NULL);
			goto err_free;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (t->cert != NULL && t->key != NULL &&
	    tls_ctx_load_pair(ctx, t->cert, t->key, err, errlen) == -1)
		goto err_free;
	return ctx;

err_free:
	SSL_CTX_free(ctx);
	return NULL;
}

static int
tls_is_ip(const char *host)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

SSL *
tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *err, size_t errlen)
{
	SSL		*ssl;
	X509_VERIFY_PARAM *vp;
	int		 is_ip;

	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_err(err, errlen, "SSL_new", NULL);
		return NULL;
	}
	is_ip = tls_is_ip(host);
	if (!is_ip && SSL_set_tlsext_host_name(ssl, host) != 1) {
		tls_err(err, errlen, "SNI", host);
		goto err_free;
	}
	if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
		vp = SSL_get0_param(ssl);
		if (is_ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
				tls_err(err, errlen, "verify IP", host);
				goto err_free;
			}
		} else if (SSL_set1_host(ssl, host) != 1) {
			tls_err(err, errlen, "verify host", host);
			goto err_free;
		}
	}
	return ssl;

err_free:
	SSL_free(ssl);
	return NULL;
}

struct bufferevent *
tls_bev_new(struct event_base *base, int fd, SSL_CTX *ctx,
    enum bufferevent_ssl_state state, int options)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/*
	 * With CLOSE_ON_FREE the bufferevent frees the SSL, and so does a
	 * failing bufferevent_openssl_socket_new() (libevent >= 2.1.9): no
	 * SSL_free() here.
	 */
	return bufferevent_openssl_socket_new(base, fd, ssl, state,
	    options | BEV_OPT_CLOSE_ON_FREE);
}
