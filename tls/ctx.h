/*
 * OpenSSL 3 server contexts for relay listeners (tls-listen): certificate,
 * key and chain, protocol floor, cipher lists, session tickets for cheap
 * reconnects (RFC 9329 Appendix A), no client certificate requested.
 */
#ifndef IKETCP_TLS_CTX_H
#define IKETCP_TLS_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* A server context's options; NULL strings are "not set". */
struct tls_server_opts {
	const char	*cert;		/* PEM chain file: leaf first */
	const char	*key;		/* PEM private key */
	const char	*chain;		/* extra intermediates, or NULL */
	bool		 tls13_only;	/* else TLS 1.2 and 1.3 */
	const char	*ciphers;	/* TLS 1.2 list; NULL: our default */
	const char	*ciphersuites;	/* TLS 1.3; NULL: OpenSSL's */
	bool		 null_suites;	/* append tls_null_ciphers (9329 A) */
};

enum {
	TLS_TICKET_KEYS = 80,	/* SSL_CTX_set_tlsext_ticket_keys: name,
				   HMAC and AES keys */
	TLS_ERR_MAX = 256,	/* tls_ctx_server_new() error text */
	TLS_CIPHERS_MAX = 512,	/* a TLS 1.2 cipher list, with its NUL */
};

/*
 * A server context with options @o, or NULL with the reason (naming the
 * configuration key: tls-cert, tls-ciphers...) in @err.
 * @ticket_keys (TLS_TICKET_KEYS bytes) are shared by every context of the
 * process, so a ticket issued before a reload still resumes after it.
 */
SSL_CTX	*tls_ctx_server_new(const struct tls_server_opts *o,
	    const unsigned char *ticket_keys, char *err, size_t errlen);

/*
 * A client context (the connector): TLS 1.2 and 1.3, session tickets
 * kept by the caller for resumption; with @verify the server certificate
 * must chain to @ca_file (a PEM bundle; NULL for the system store) and
 * name the SNI given to tls_io_new_client().  NULL with the reason in
 * @err.
 */
SSL_CTX	*tls_ctx_client_new(bool verify, const char *ca_file, char *err,
	    size_t errlen);

/*
 * Does every element of a TLS 1.2 cipher string (OpenSSL syntax:
 * separated by ':', ',' or blanks, each maybe after '!', '-' or '+')
 * match at least one cipher, and does the whole leave one?  If not, the
 * element that does not is copied to @bad, or "" when the whole does not.
 */
bool	tls_ciphers_check(const char *list, char *bad, size_t badlen);
/* The same for a TLS 1.3 ciphersuites list: each name one OpenSSL has. */
bool	tls_ciphersuites_check(const char *list, char *bad, size_t badlen);

/* The NULL-encryption TLS 1.2 suites appended when tls-null = yes. */
extern const char tls_null_ciphers[];

#endif /* IKETCP_TLS_CTX_H */
