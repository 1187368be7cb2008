/*
 * The handoff message (relay/hmsg.h), through framing/wire.h both ways.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "framing/prefix.h"
#include "framing/wire.h"
#include "relay/hmsg.h"

enum {
	LAYERS_ALL = 0x07,	/* LAYER_PROXY | LAYER_TLS | LAYER_CONNECT */
};

static bool
put_addr(struct wr *w, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		return wr_u8(w, 4) && wr_be16(w, ntohs(a->sin_port)) &&
		    wr_bytes(w, &a->sin_addr, 4);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		return wr_u8(w, 6) && wr_be16(w, ntohs(a->sin6_port)) &&
		    wr_bytes(w, &a->sin6_addr, 16) &&
		    wr_be32(w, a->sin6_scope_id);
	}
	return false;
}

static bool
get_addr(struct rd *r, struct sockaddr_storage *ss)
{
	uint8_t fam;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (!rd_u8(r, &fam) || !rd_be16(r, &port))
		return false;
	if (fam == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		return rd_bytes(r, &a->sin_addr, 4);
	}
	if (fam == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		uint32_t scope;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (!rd_bytes(r, &a->sin6_addr, 16) || !rd_be32(r, &scope))
			return false;
		a->sin6_scope_id = scope;
		return true;
	}
	return false;
}

/* A section name as conf/ allows it: letters, digits, '_', '.', '-'. */
static bool
is_name(const char *s, size_t n)
{
	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

size_t
hmsg_encode_head(const struct hmsg *m, uint8_t *buf, size_t cap)
{
	struct wr w = wr_make(buf, cap);
	size_t slen = strnlen(m->section, sizeof(m->section));

	if ((m->kind != HMSG_SOCKET && m->kind != HMSG_SPLICE) ||
	    m->from >= HMSG_WORKERS_MAX || (m->layers & ~LAYERS_ALL) != 0 ||
	    m->prefix > PREFIX_IKEV2 || !is_name(m->section, slen) ||
	    m->nbytes > HMSG_BYTES_MAX)
		return 0;
	if (!wr_u8(&w, HMSG_VERSION) || !wr_u8(&w, (uint8_t)m->kind) ||
	    !wr_u8(&w, (uint8_t)m->from) || !wr_u8(&w, m->layers) ||
	    !wr_u8(&w, m->prefix) || !wr_be64(&w, m->stream) ||
	    !put_addr(&w, &m->peer) || !put_addr(&w, &m->laddr) ||
	    !wr_u8(&w, (uint8_t)slen) || !wr_bytes(&w, m->section, slen) ||
	    !wr_be32(&w, (uint32_t)m->nbytes))
		return 0;
	return w.len;
}

bool
hmsg_decode(const uint8_t *p, size_t n, struct hmsg *m)
{
	struct rd r = rd_make(p, n);
	uint8_t version, kind, from, slen;
	uint32_t nbytes;

	memset(m, 0, sizeof(*m));
	if (!rd_u8(&r, &version) || version != HMSG_VERSION ||
	    !rd_u8(&r, &kind) || (kind != HMSG_SOCKET && kind != HMSG_SPLICE) ||
	    !rd_u8(&r, &from) || from >= HMSG_WORKERS_MAX ||
	    !rd_u8(&r, &m->layers) || (m->layers & ~LAYERS_ALL) != 0 ||
	    !rd_u8(&r, &m->prefix) || m->prefix > PREFIX_IKEV2 ||
	    !rd_be64(&r, &m->stream) || !get_addr(&r, &m->peer) ||
	    !get_addr(&r, &m->laddr) || !rd_u8(&r, &slen) ||
	    slen >= sizeof(m->section) || !rd_bytes(&r, m->section, slen) ||
	    !is_name(m->section, slen) || !rd_be32(&r, &nbytes) ||
	    nbytes > HMSG_BYTES_MAX || nbytes != r.n)
		return false;
	m->kind = (enum hmsg_kind)kind;
	m->from = from;
	m->bytes = r.p;
	m->nbytes = nbytes;
	return true;
}
