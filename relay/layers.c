/*
 * The layers before the stream prefix.  Bytes are held in st->hs until
 * the current layer is complete: the first bytes of each layer say which
 * it is (tls/sniff.c), a PROXY header comes first or not at all, TLS
 * begins at most once (its ClientHello bytes, already read, are fed to
 * OpenSSL), and a CONNECT head is answered before the next layer begins.
 * Whatever follows the last layer goes on to the stream's frames.
 *
 *   socket -> [PROXY] -> [TLS] -> [CONNECT] -> [TLS] -> prefix -> frames
 *
 * A refused stream is closed, and only that stream; an HTTP refusal is
 * answered first (stream_drain).  The handshake deadline covers it all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "conf/conf.h"
#include "framing/wire.h"
#include "relay/layers.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/route.h"
#include "relay/stream.h"
#include "tls/connect.h"
#include "tls/io.h"
#include "tls/proxy.h"
#include "tls/sniff.h"

enum step {
	STEP_MORE,	/* the layer needs more bytes */
	STEP_NEXT,	/* the layer is done; st->state says what follows */
	STEP_TLS,	/* TLS begins: the held bytes are ciphertext */
	STEP_CLOSED,	/* the stream was closed (freed) */
	STEP_DRAIN,	/* refused with an answer; draining */
};

size_t
layers_hs_cap(const struct route_layers *lay)
{
	size_t cap = PROXY_V2_HDR + PROXY_V2_MAX_LEN;

	/* One byte over the bound, so the CONNECT parser sees the excess
	 * and answers 431. */
	if (lay->connect && lay->header_max + 1 > cap)
		cap = lay->header_max + 1;
	return cap;
}

static const char *
layer_names(const struct stream *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", st->layers & LAYER_PROXY ? "proxy " : "",
	    st->layers & LAYER_TLS ? "tls " : "",
	    st->layers & LAYER_CONNECT ? "connect " : "");
	if (buf[0] == '\0')
		snprintf(buf, cap, "raw ");
	buf[strlen(buf) - 1] = '\0';
	return buf;
}

static enum step refuse(struct stream *, const char *, const char *, ...)
    LOG_PRINTF(3, 4);

/* Logs why (with what was seen), closes the stream. */
static enum step
refuse(struct stream *st, const char *reason, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->r->stats.layer_refused++;
	log_stream(st, LOG_LEVEL_INFO, "refused: %s", msg);
	stream_close(st, reason);
	return STEP_CLOSED;
}

/* Answers an HTTP status, then drains. */
static enum step
http_refuse(struct stream *st, int status, const char *reason)
{
	char buf[CONNECT_RESPONSE_MAX];
	size_t n = connect_srv_response(status, buf, sizeof(buf));

	if (n == 0)
		n = connect_srv_response(500, buf, sizeof(buf));
	if (stream_write_raw(st, buf, n) == -1)
		return STEP_CLOSED;
	stream_drain(st, reason);
	return STEP_DRAIN;
}

static void
consume(struct stream *st, size_t k)
{
	memmove(st->hs, st->hs + k, st->hs_len - k);
	st->hs_len -= k;
}

static enum step
start_tls(struct stream *st)
{
	SSL_CTX *ctx = route_res_ctx(st->r, st->cr->name);

	if (ctx == NULL)
		return refuse(st, "TLS refused", "no TLS context for relay "
		    "%s", st->cr->name);
	if ((st->ssl = tls_io_new(ctx, st->fd)) == NULL) {
		stream_close(st, "out of memory");
		return STEP_CLOSED;
	}
	SSL_set_app_data(st->ssl, st);
	st->layers |= LAYER_TLS;
	stream_set_state(st, STREAM_SNIFF);
	return STEP_TLS;
}

static enum step
start_connect(struct stream *st)
{
	if ((st->cs = malloc(sizeof(*st->cs))) == NULL) {
		stream_close(st, "out of memory");
		return STEP_CLOSED;
	}
	connect_srv_init(st->cs, st->hs_cap - 1);
	st->cs_fed = 0;
	stream_set_state(st, STREAM_CONNECT);
	return STEP_NEXT;
}

static enum step
to_prefix(struct stream *st)
{
	if (!st->routed) {
		const struct conf_relay *cr = route_by_name(st->conf,
		    &st->laddr, NULL);

		if (cr == NULL)
			return refuse(st, "no section", "no SNI or CONNECT "
			    "name, and no default section on this address");
		if (stream_set_section(st, cr) == -1) {
			stream_close(st, "connection limit");
			return STEP_CLOSED;
		}
	}
	if (st->layers != 0) {
		char names[32];

		log_stream(st, LOG_LEVEL_INFO, "layers %s, relay %s",
		    layer_names(st, names, sizeof(names)), st->cr->name);
	}
	stream_set_state(st, STREAM_PREFIX);
	return STEP_NEXT;
}

/* Whether the peer of a proxy-protocol listener is one allowed to name
 * clients (proxy-from; none listed: any). */
static bool
proxy_peer_allowed(const struct stream *st)
{
	if (st->cr->nproxy_from == 0)
		return true;
	for (size_t i = 0; i < st->cr->nproxy_from; i++)
		if (conf_cidr_match(&st->cr->proxy_from[i], &st->peer))
			return true;
	return false;
}

static enum step
sniff_step(struct stream *st)
{
	enum sniff_layer l;
	char hex[SNIFF_HEX_MAX];

	/* A PROXY header names the client that limits, logs and the
	 * session layer's same-address re-attach go by: only proxy-from
	 * peers may send one, and on such a listener nobody else is
	 * served. */
	if (st->lay_proxy && !(st->layers & LAYER_PROXY) &&
	    !proxy_peer_allowed(st)) {
		char peer[STREAM_PEER_TEXT];

		st->r->stats.layer_refused++;
		log_stream(st, LOG_LEVEL_INFO, "refused: proxy-protocol "
		    "listener, but %s is not a proxy-from address",
		    sockaddr_text(&st->peer, peer, sizeof(peer)));
		stream_close(st, "not a proxy-from peer");
		return STEP_CLOSED;
	}
	l = sniff_detect(st->hs, st->hs_len);
	if (l == SNIFF_NEED_MORE)
		return STEP_MORE;
	sniff_hex(hex, sizeof(hex), st->hs, st->hs_len);
	if (st->lay_proxy && !(st->layers & LAYER_PROXY) &&
	    l != SNIFF_PROXY_V1 && l != SNIFF_PROXY_V2)
		return refuse(st, "no PROXY header", "proxy-protocol listener, "
		    "but the stream starts with %s", hex);
	switch (l) {
	case SNIFF_PROXY_V1:
	case SNIFF_PROXY_V2:
		if (!st->lay_proxy)
			return refuse(st, "PROXY header refused", "PROXY "
			    "header on a listener without proxy-protocol: %s",
			    hex);
		if (st->layers != 0)
			return refuse(st, "PROXY header refused", "a PROXY "
			    "header after another layer: %s", hex);
		stream_set_state(st, STREAM_PROXY);
		return STEP_NEXT;
	case SNIFF_TLS:
		if (st->ssl != NULL)
			return refuse(st, "TLS refused", "TLS inside TLS");
		if (!st->lay_tls)
			return refuse(st, "TLS refused", "TLS ClientHello on a "
			    "listener without tls-listen: %s", hex);
		return start_tls(st);
	case SNIFF_CONNECT:
		if (!st->lay_connect)
			return refuse(st, "CONNECT refused", "HTTP CONNECT on "
			    "a listener without http-connect: %s", hex);
		if (st->layers & LAYER_CONNECT)
			return refuse(st, "CONNECT refused", "a second CONNECT");
		return start_connect(st);
	case SNIFF_PREFIX:
		return to_prefix(st);
	default:
		/* Another HTTP method: the CONNECT parser answers 405. */
		if (st->lay_connect && !(st->layers & LAYER_CONNECT) &&
		    st->hs[0] >= 'A' && st->hs[0] <= 'Z')
			return start_connect(st);
		return refuse(st, "unrecognised stream", "unrecognised %s: "
		    "%s", st->ssl != NULL ? "bytes inside TLS" :
		    st->layers != 0 ? "bytes after the layers" :
		    "first bytes", hex);
	}
}

static enum step
proxy_step(struct stream *st)
{
	char was[STREAM_PEER_TEXT], now[STREAM_PEER_TEXT];
	struct proxy_hdr h;
	size_t used;

	switch (proxy_parse(st->hs, st->hs_len, &h, &used)) {
	case PROXY_NEED_MORE:
		return STEP_MORE;
	case PROXY_ERROR:
		return refuse(st, "bad PROXY header", "bad PROXY header: %s",
		    h.error);
	case PROXY_OK:
		break;
	}
	consume(st, used);
	st->layers |= LAYER_PROXY;
	stream_set_state(st, STREAM_SNIFF);
	if (!h.has_addr || h.local) {
		log_stream(st, LOG_LEVEL_INFO, "PROXY header without a client "
		    "address (LOCAL or UNKNOWN): keeping %s",
		    sockaddr_text(&st->peer, now, sizeof(now)));
		return STEP_NEXT;
	}
	sockaddr_text(&st->peer, was, sizeof(was));
	if (stream_set_peer(st, &h.src) == -1) {
		stream_close(st, "connection limit");
		return STEP_CLOSED;
	}
	log_stream(st, LOG_LEVEL_INFO, "PROXY: client %s via %s",
	    sockaddr_text(&st->peer, now, sizeof(now)), was);
	return STEP_NEXT;
}

static enum step
connect_step(struct stream *st)
{
	struct connect_srv *cs = st->cs;
	const struct connect_creds *creds;
	const struct conf_relay *cr;
	char ok[CONNECT_RESPONSE_MAX];
	size_t used, n;

	switch (connect_srv_feed(cs, st->hs + st->cs_fed,
	    st->hs_len - st->cs_fed, &used)) {
	case CONNECT_NEED_MORE:
		st->cs_fed = st->hs_len;
		return STEP_MORE;
	case CONNECT_ERROR:
		log_stream(st, LOG_LEVEL_INFO, "refused: CONNECT: %d, %s",
		    cs->status, cs->error);
		return http_refuse(st, cs->status, "bad CONNECT");
	case CONNECT_OK:
		break;
	}
	used += st->cs_fed;
	cr = route_by_authority(st->conf, &st->laddr, cs->host, cs->port);
	if (cr == NULL) {
		log_stream(st, LOG_LEVEL_INFO, "refused: CONNECT %s: not in "
		    "connect-allow", cs->authority);
		return http_refuse(st, 403, "CONNECT target not allowed");
	}
	creds = route_res_creds(st->r, cr->name);
	if (creds != NULL && (!cs->has_proxy_auth ||
	    !connect_auth_check(cs->proxy_auth, creds))) {
		log_stream(st, LOG_LEVEL_INFO, "refused: CONNECT %s: %s "
		    "Proxy-Authorization", cs->authority,
		    cs->has_proxy_auth ? "wrong" : "no");
		return http_refuse(st, 407, "CONNECT not authorised");
	}
	if (stream_set_section(st, cr) == -1)
		return http_refuse(st, 503, "connection limit");
	log_stream(st, LOG_LEVEL_INFO, "CONNECT %s, relay %s", cs->authority,
	    cr->name);
	consume(st, used);
	free(st->cs);
	st->cs = NULL;
	st->cs_fed = 0;
	st->layers |= LAYER_CONNECT;
	stream_set_state(st, STREAM_SNIFF);
	n = connect_srv_response(200, ok, sizeof(ok));
	if (stream_write_raw(st, ok, n) == -1)
		return STEP_CLOSED;
	return STEP_NEXT;
}

/* The held bytes and the rest of the input are ciphertext: copied first,
 * since decrypting reuses the read buffer they may sit in. */
static int
begin_tls(struct stream *st, struct rd *in)
{
	uint8_t *held = st->hs;
	size_t n = st->hs_len;
	int rc;

	st->hs = NULL;
	st->hs_len = 0;
	if (in->n > st->hs_cap - n) {
		uint8_t *p = realloc(held, n + in->n);

		if (p == NULL) {
			free(held);
			stream_close(st, "out of memory");
			return -1;
		}
		held = p;
	}
	memcpy(held + n, in->p, in->n);
	n += in->n;
	rc = stream_tls_input(st, held, n);
	free(held);
	return rc;
}

/* The layers are done: what is held, then the rest, is prefix + frames,
 * given as one input, so that whatever follows the first message is in
 * view when the session layer sees it (a handoff to another worker takes
 * it along: relay/handoff.c). */
static int
to_frames(struct stream *st, struct rd *in)
{
	uint8_t *held = st->hs;
	size_t n = st->hs_len;
	int rc;

	st->hs = NULL;
	st->hs_len = 0;
	if (in->n > st->hs_cap - n) {
		uint8_t *p = realloc(held, n + in->n);

		if (p == NULL) {
			free(held);
			stream_close(st, "out of memory");
			return -1;
		}
		held = p;
	}
	memcpy(held + n, in->p, in->n);
	n += in->n;
	rc = stream_input(st, held, n);
	free(held);
	return rc;
}

int
layers_input(struct stream *st, const uint8_t *p, size_t n)
{
	struct rd in = rd_make(p, n);
	enum step step;
	char names[32];

	for (;;) {
		size_t take;

		if (st->hs == NULL && (st->hs = malloc(st->hs_cap)) == NULL) {
			stream_close(st, "out of memory");
			return -1;
		}
		take = in.n < st->hs_cap - st->hs_len ? in.n :
		    st->hs_cap - st->hs_len;
		memcpy(st->hs + st->hs_len, in.p, take);
		st->hs_len += take;
		rd_skip(&in, take);
		if (st->hs_len == 0)
			return 0;
		switch (st->state) {
		case STREAM_SNIFF:
			step = sniff_step(st);
			break;
		case STREAM_PROXY:
			step = proxy_step(st);
			break;
		case STREAM_CONNECT:
			step = connect_step(st);
			break;
		default:
			return 0;
		}
		switch (step) {
		case STEP_MORE:
			if (in.n == 0)
				return 0;
			refuse(st, "header too long", "more than %zu bytes "
			    "before the stream prefix (%s)", st->hs_cap,
			    layer_names(st, names, sizeof(names)));
			return -1;
		case STEP_NEXT:
			if (st->state < STREAM_PREFIX)
				continue;
			return to_frames(st, &in);
		case STEP_TLS:
			return begin_tls(st, &in);
		case STEP_DRAIN:
			return 0;
		case STEP_CLOSED:
			return -1;
		}
	}
}

void
layers_timeout(struct stream *st)
{
	if (st->state == STREAM_CONNECT) {
		char buf[CONNECT_RESPONSE_MAX];
		size_t n = connect_srv_response(408, buf, sizeof(buf));

		log_stream(st, LOG_LEVEL_INFO, "refused: CONNECT head not "
		    "complete within handshake-timeout (%zu bytes)",
		    st->hs_len);
		if (stream_write_raw(st, buf, n) == -1)
			return;
	} else {
		char names[32];

		log_stream(st, LOG_LEVEL_INFO, "handshake timeout after %s%s, "
		    "%zu bytes held", layer_names(st, names, sizeof(names)),
		    st->ssl != NULL && !st->tls_up ? " (TLS handshake)" : "",
		    st->hs_len);
	}
	st->r->stats.layer_refused++;
	stream_close(st, "handshake timeout");
}

int
layers_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct stream *st = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct conf_relay *cr;
	SSL_CTX *ctx;

	if (st == NULL || st->routed)
		return SSL_TLSEXT_ERR_OK;	/* CONNECT chose already */
	if ((cr = route_by_name(st->conf, &st->laddr, name)) == NULL) {
		st->tls_refusal = "SNI name matches no section, no default";
		log_stream(st, LOG_LEVEL_INFO, "refused: TLS SNI %s: no [relay] "
		    "section lists it and none is the default",
		    name != NULL ? name : "(none)");
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (stream_set_section(st, cr) == -1) {
		st->tls_refusal = "connection limit";
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if ((ctx = route_res_ctx(st->r, cr->name)) == NULL) {
		st->tls_refusal = "no TLS context for the section";
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (ctx != SSL_get_SSL_CTX(ssl)) {
		/* The certificate is the section's; the protocol floor set at
		 * SSL_new came from the first context: take this one's. */
		SSL_set_SSL_CTX(ssl, ctx);
		SSL_set_min_proto_version(ssl,
		    SSL_CTX_get_min_proto_version(ctx));
	}
	return SSL_TLSEXT_ERR_OK;
}
