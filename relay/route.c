/*
 * Routing of streams to [relay] sections, and the per-section TLS
 * contexts and CONNECT credentials.  Several sections may share a listen
 * address; conf_layers_check() made sure that they agree on TLS and PROXY
 * protocol, that at most one is the default and that each is reachable.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "relay/layers.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/route.h"
#include "tls/connect.h"
#include "tls/ctx.h"

const struct conf_relay *
route_primary(const struct conf *c, const struct sockaddr_storage *laddr,
    struct route_layers *lay)
{
	const struct conf_relay *first = NULL, *def = NULL;
	bool tls;

	memset(lay, 0, sizeof(*lay));
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		if (!conf_relay_listens(cr, laddr, &tls))
			continue;
		if (first == NULL)
			first = cr;
		if (cr->is_default)
			def = cr;
		lay->tls |= tls;
		lay->proxy |= cr->proxy_protocol;
		lay->connect |= cr->http_connect;
		if (cr->max_header_bytes > lay->header_max)
			lay->header_max = cr->max_header_bytes;
	}
	return def != NULL ? def : first;
}

const struct conf_relay *
route_by_name(const struct conf *c, const struct sockaddr_storage *laddr,
    const char *name)
{
	const struct conf_relay *only = NULL, *def = NULL, *wild = NULL;
	size_t n = 0;

	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		if (!conf_relay_listens(cr, laddr, NULL))
			continue;
		n++;
		only = cr;
		if (cr->is_default)
			def = cr;
		/* An exact name wins over a wildcard, wherever it is. */
		for (size_t j = 0; name != NULL && j < cr->nsni; j++) {
			if (!conf_sni_match(cr->sni[j], name))
				continue;
			if (cr->sni[j][0] != '*')
				return cr;
			if (wild == NULL)
				wild = cr;
		}
	}
	if (wild != NULL)
		return wild;
	if (def != NULL)
		return def;
	/* A lone section without sni names takes any name. */
	if (n == 1 && only->nsni == 0)
		return only;
	return NULL;
}

const struct conf_relay *
route_by_authority(const struct conf *c, const struct sockaddr_storage *laddr,
    const char *host, uint16_t port)
{
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		if (!cr->http_connect || !conf_relay_listens(cr, laddr, NULL))
			continue;
		for (size_t j = 0; j < cr->nconnect_allow; j++)
			if (cr->connect_allow[j].port == port &&
			    strcasecmp(cr->connect_allow[j].host, host) == 0)
				return cr;
	}
	return NULL;
}

struct route_res {
	char		 name[CONF_NAME_MAX];	/* section */
	SSL_CTX		*ctx;			/* NULL without tls-listen */
	struct connect_creds *creds;		/* NULL without auth file */
};

static void
res_free(struct route_res *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		SSL_CTX_free(res[i].ctx);
		connect_creds_free(res[i].creds);
	}
	free(res);
}

/* connect-auth-file: private to us (chmod 600), then parsed. */
static struct connect_creds *
creds_load(const char *path)
{
	struct connect_creds *creds;
	unsigned char *buf;
	size_t len;

	if (conf_read_private(path, FS_FILE_MAX, &buf, &len) == -1)
		return NULL;
	creds = connect_creds_parse(buf, len, path);
	OPENSSL_clear_free(buf, len + 1);
	return creds;
}

/* tls/ takes plain options; the section's keys become them here. */
static SSL_CTX *
server_ctx(const struct conf_relay *cr, const unsigned char *ticket_keys,
    char *err, size_t errlen)
{
	struct tls_server_opts o;

	memset(&o, 0, sizeof(o));
	o.cert = cr->tls_cert;
	o.key = cr->tls_key;
	o.chain = cr->tls_chain[0] ? cr->tls_chain : NULL;
	o.tls13_only = cr->tls_min_version == CONF_TLS_1_3;
	o.ciphers = cr->tls_ciphers[0] ? cr->tls_ciphers : NULL;
	o.ciphersuites = cr->tls_ciphersuites[0] ? cr->tls_ciphersuites :
	    NULL;
	o.null_suites = cr->tls_null;
	return tls_ctx_server_new(&o, ticket_keys, err, errlen);
}

/*
 * tls-ciphers and tls-ciphersuites name what OpenSSL has, element by
 * element (conf/ knows no OpenSSL, so the check is here, at start, -t
 * and SIGHUP); the bad element is quoted.  -1 after saying so.
 */
static int
ciphers_check(const struct conf *c, const struct conf_relay *cr)
{
	char bad[CONF_CIPHERS_MAX];
	int rc = 0;

	if (cr->tls_ciphers[0] != '\0' &&
	    !tls_ciphers_check(cr->tls_ciphers, bad, sizeof(bad))) {
		if (bad[0] == '\0')
			log_warnx("%s:%u: [%s %s]: bad tls-ciphers \"%s\": "
			    "leaves no TLS 1.2 cipher",
			    conf_loc_file(c, cr->tls_ciphers_line),
			    CONF_LOC_LINE(cr->tls_ciphers_line),
			    conf_relay_kind(cr), cr->name, cr->tls_ciphers);
		else
			log_warnx("%s:%u: [%s %s]: bad tls-ciphers \"%s\": "
			    "\"%s\" matches no TLS 1.2 cipher (OpenSSL "
			    "cipher string; TLS 1.3 suites go in "
			    "tls-ciphersuites)",
			    conf_loc_file(c, cr->tls_ciphers_line),
			    CONF_LOC_LINE(cr->tls_ciphers_line),
			    conf_relay_kind(cr), cr->name, cr->tls_ciphers,
			    bad);
		rc = -1;
	}
	if (cr->tls_ciphersuites[0] != '\0' &&
	    !tls_ciphersuites_check(cr->tls_ciphersuites, bad, sizeof(bad))) {
		log_warnx("%s:%u: [%s %s]: bad tls-ciphersuites \"%s\": "
		    "\"%s\" is no TLS 1.3 suite (want names such as "
		    "TLS_AES_256_GCM_SHA384, separated by ':')",
		    conf_loc_file(c, cr->tls_ciphersuites_line),
		    CONF_LOC_LINE(cr->tls_ciphersuites_line),
		    conf_relay_kind(cr), cr->name, cr->tls_ciphersuites, bad);
		rc = -1;
	}
	return rc;
}

/*
 * Each gateway-source must be an address of this host: bound once here
 * (as -t, start and reload run this), so a typo fails with its line
 * instead of refusing every session later.
 */
static int
sources_check(const struct conf *c, const struct conf_relay *cr)
{
	int rc = 0;

	for (size_t j = 0; j < cr->ngateway_source; j++) {
		const struct conf_addr *a = &cr->gateway_source[j];
		int fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd == -1 || bind(fd, (const struct sockaddr *)&a->ss,
		    a->len) == -1) {
			log_warnx("%s:%u: [relay %s]: gateway-source %s: %s",
			    conf_loc_file(c, cr->gateway_source_line[j]),
			    CONF_LOC_LINE(cr->gateway_source_line[j]),
			    cr->name, a->text, strerror(errno));
			rc = -1;
		}
		if (fd != -1)
			close(fd);
	}
	return rc;
}

int
route_res_prepare(struct relay *r, const struct conf *c)
{
	struct route_res *res;
	char err[TLS_ERR_MAX];
	int rc = 0;

	if (!r->have_ticket_keys) {
		if (RAND_bytes(r->ticket_keys, sizeof(r->ticket_keys)) != 1) {
			log_warnx("session ticket keys: no randomness");
			return -1;
		}
		r->have_ticket_keys = true;
	}
	if ((res = calloc(c->nrelays ? c->nrelays : 1, sizeof(*res))) == NULL) {
		log_warn("route_res_load");
		return -1;
	}
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		snprintf(res[i].name, sizeof(res[i].name), "%s", cr->name);
		if (sources_check(c, cr) == -1)
			rc = -1;
		if (ciphers_check(c, cr) == -1)
			rc = -1;
		else if (cr->ntls_listen > 0) {
			res[i].ctx = server_ctx(cr, r->ticket_keys,
			    err, sizeof(err));
			if (res[i].ctx == NULL) {
				log_warnx("%s:%u: [relay %s]: %s",
				    conf_loc_file(c, cr->tls_line),
				    CONF_LOC_LINE(cr->tls_line), cr->name, err);
				rc = -1;
			} else
				SSL_CTX_set_tlsext_servername_callback(
				    res[i].ctx, layers_sni_cb);
		}
		if (cr->connect_auth_file[0] &&
		    (res[i].creds = creds_load(cr->connect_auth_file)) ==
		    NULL) {
			log_warnx("%s:%u: [relay %s]: connect-auth-file %s "
			    "not loaded", conf_loc_file(c,
			    cr->connect_auth_line),
			    CONF_LOC_LINE(cr->connect_auth_line),
			    cr->name, cr->connect_auth_file);
			rc = -1;
		}
	}
	if (rc == -1) {
		res_free(res, c->nrelays);
		return -1;
	}
	res_free(r->res_next, r->nres_next);
	r->res_next = res;
	r->nres_next = c->nrelays;
	return 0;
}

void
route_res_finish(struct relay *r, bool commit)
{
	if (commit && r->res_next != NULL) {
		res_free(r->res, r->nres);
		r->res = r->res_next;
		r->nres = r->nres_next;
	} else
		res_free(r->res_next, r->nres_next);
	r->res_next = NULL;
	r->nres_next = 0;
}

int
route_res_load(struct relay *r, const struct conf *c)
{
	if (route_res_prepare(r, c) == -1)
		return -1;
	route_res_finish(r, true);
	return 0;
}

void
route_res_free(struct relay *r)
{
	res_free(r->res, r->nres);
	r->res = NULL;
	r->nres = 0;
	res_free(r->res_next, r->nres_next);
	r->res_next = NULL;
	r->nres_next = 0;
}

static const struct route_res *
find(const struct relay *r, const char *section)
{
	for (size_t i = 0; i < r->nres; i++)
		if (strcmp(r->res[i].name, section) == 0)
			return &r->res[i];
	return NULL;
}

SSL_CTX *
route_res_ctx(const struct relay *r, const char *section)
{
	const struct route_res *res = find(r, section);

	return res != NULL ? res->ctx : NULL;
}

const struct connect_creds *
route_res_creds(const struct relay *r, const char *section)
{
	const struct route_res *res = find(r, section);

	return res != NULL ? res->creds : NULL;
}
