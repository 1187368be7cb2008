/*
 * PROXY protocol header parser.  Section numbers refer to haproxy's
 * doc/proxy-protocol.txt.  The receiver must not guess (§2): this is only
 * called on listeners configured for PROXY, and anything that does not
 * match exactly is an error.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "framing/wire.h"
#include "tls/proxy.h"

enum {
	V1_MAGIC_LEN = 6,		/* "PROXY " */
	V2_SIG_LEN = 12,
	V2_VERSION = 2,			/* §2.2: high nibble of byte 13 */
	V2_CMD_LOCAL = 0,
	V2_CMD_PROXY = 1,
	V2_AF_UNSPEC = 0,
	V2_AF_INET = 1,
	V2_AF_INET6 = 2,
	V2_AF_UNIX = 3,
	V2_TP_UNSPEC = 0,
	V2_TP_STREAM = 1,
	V2_TP_DGRAM = 2,
	V2_INET_LEN = 2 * 4 + 2 * 2,	/* addresses then ports */
	V2_INET6_LEN = 2 * 16 + 2 * 2,
	V2_UNIX_LEN = 2 * 108,
	V2_TLV_HDR = 3,			/* §2.2.1: type, length_hi, length_lo */
	PORT_DIGITS_MAX = 5,
};

static const uint8_t v2_sig[V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_result
fail(struct proxy_hdr *out, const char *why)
{
	out->error = why;
	return PROXY_ERROR;
}

/* Take the next non-empty run of non-space bytes of a v1 line. */
static bool
token(struct rd *line, struct rd *tok)
{
	size_t k = 0;

	while (k < line->n && line->p[k] != ' ')
		k++;
	return k > 0 && rd_sub(line, k, tok);
}

/* §2.1: fields are separated by exactly one space. */
static bool
field(struct rd *line, struct rd *tok)
{
	if (line->n == 0 || line->p[0] != ' ')
		return false;
	rd_skip(line, 1);
	return token(line, tok);
}

static bool
v1_addr(const struct rd *tok, int af, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN];
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	void *dst = af == AF_INET ? (void *)&sin->sin_addr :
	    (void *)&sin6->sin6_addr;

	if (tok->n >= sizeof(buf) || memchr(tok->p, '\0', tok->n) != NULL)
		return false;
	memcpy(buf, tok->p, tok->n);
	buf[tok->n] = '\0';
	/* glibc's inet_pton refuses leading zeros in dotted quads (§2.1). */
	if (inet_pton(af, buf, dst) != 1)
		return false;
	ss->ss_family = (sa_family_t)af;
	return true;
}

/* §2.1: decimal 0..65535, no leading zeros. */
static bool
v1_port(const struct rd *tok, uint16_t *port)
{
	uint32_t v = 0;

	if (tok->n == 0 || tok->n > PORT_DIGITS_MAX)
		return false;
	if (tok->p[0] == '0' && tok->n > 1)
		return false;
	for (size_t i = 0; i < tok->n; i++) {
		if (tok->p[i] < '0' || tok->p[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(tok->p[i] - '0');
	}
	if (v > UINT16_MAX)
		return false;
	*port = (uint16_t)v;
	return true;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static bool
is_tok(const struct rd *tok, const char *s)
{
	size_t k = strlen(s);

	return tok->n == k && memcmp(tok->p, s, k) == 0;
}

static enum proxy_result
parse_v1(const uint8_t *p, size_t n, struct proxy_hdr *out, size_t *consumed)
{
	struct rd line, proto, a_src, a_dst, t_sport, t_dport;
	size_t limit = n < PROXY_V1_MAX ? n : PROXY_V1_MAX;
	size_t len = 0;
	bool found = false;
	uint16_t sport, dport;
	int af;

	/*
	 * Find the CRLF; a lone CR or LF is an error (§2.1), and so is any
	 * other byte that is not printable US-ASCII, as soon as it is seen.
	 */
	for (size_t i = 0; i < limit && !found; i++) {
		if (p[i] == '\n')
			return fail(out, "v1: LF without CR");
		if (p[i] != '\r' && (p[i] < 0x20 || p[i] > 0x7e))
			return fail(out, "v1: byte not printable US-ASCII");
		if (p[i] != '\r')
			continue;
		if (i + 1 >= PROXY_V1_MAX)
			return fail(out, "v1: line longer than 107 bytes");
		if (i + 1 >= n)
			return PROXY_NEED_MORE;
		if (p[i + 1] != '\n')
			return fail(out, "v1: CR without LF");
		len = i;
		found = true;
	}
	if (!found)
		return n >= PROXY_V1_MAX ?
		    fail(out, "v1: no CRLF within 107 bytes") : PROXY_NEED_MORE;

	/* proxy_parse() matched "PROXY ", and the CRLF comes after it. */
	line = rd_make(p + V1_MAGIC_LEN, len - V1_MAGIC_LEN);
	/* "UNKNOWN": the receiver ignores the rest of the line. */
	if (line.n >= 7 && memcmp(line.p, "UNKNOWN", 7) == 0 &&
	    (line.n == 7 || line.p[7] == ' ')) {
		*consumed = len + 2;
		return PROXY_OK;
	}
	if (!token(&line, &proto))
		return fail(out, "v1: bad protocol field");
	if (is_tok(&proto, "TCP4"))
		af = AF_INET;
	else if (is_tok(&proto, "TCP6"))
		af = AF_INET6;
	else
		return fail(out, "v1: protocol not TCP4, TCP6 or UNKNOWN");
	if (!field(&line, &a_src) || !field(&line, &a_dst) ||
	    !field(&line, &t_sport) || !field(&line, &t_dport) || line.n != 0)
		return fail(out, "v1: wrong number of fields");
	if (!v1_addr(&a_src, af, &out->src) || !v1_addr(&a_dst, af, &out->dst))
		return fail(out, "v1: bad address");
	if (!v1_port(&t_sport, &sport) || !v1_port(&t_dport, &dport))
		return fail(out, "v1: bad port");
	set_port(&out->src, sport);
	set_port(&out->dst, dport);
	out->has_addr = true;
	*consumed = len + 2;
	return PROXY_OK;
}

/* §2.2.1: TLVs must exactly fill what follows the addresses. */
static bool
v2_tlvs(struct rd *r)
{
	uint8_t type;
	uint16_t len;

	while (r->n > 0) {
		if (r->n < V2_TLV_HDR)
			return false;
		rd_u8(r, &type);
		rd_be16(r, &len);
		if (!rd_skip(r, len))
			return false;
	}
	return true;
}

static void
v2_inet(struct rd *r, struct proxy_hdr *out)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
	struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
	uint16_t sport = 0, dport = 0;

	rd_bytes(r, &s->sin_addr, 4);
	rd_bytes(r, &d->sin_addr, 4);
	rd_be16(r, &sport);
	rd_be16(r, &dport);
	s->sin_family = d->sin_family = AF_INET;
	s->sin_port = htons(sport);
	d->sin_port = htons(dport);
}

static void
v2_inet6(struct rd *r, struct proxy_hdr *out)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
	uint16_t sport = 0, dport = 0;

	rd_bytes(r, &s->sin6_addr, 16);
	rd_bytes(r, &d->sin6_addr, 16);
	rd_be16(r, &sport);
	rd_be16(r, &dport);
	s->sin6_family = d->sin6_family = AF_INET6;
	s->sin6_port = htons(sport);
	d->sin6_port = htons(dport);
}

static enum proxy_result
parse_v2(const uint8_t *p, size_t n, struct proxy_hdr *out, size_t *consumed)
{
	struct rd r = rd_make(p, n), blk;
	uint8_t ver_cmd, fam;
	uint16_t len;
	unsigned af, tp, need;

	rd_skip(&r, V2_SIG_LEN);
	/* Each byte is checked as soon as it is there, to fail early. */
	if (!rd_u8(&r, &ver_cmd))
		return PROXY_NEED_MORE;
	if (ver_cmd >> 4 != V2_VERSION)
		return fail(out, "v2: version not 2");
	if ((ver_cmd & 0x0f) > V2_CMD_PROXY)
		return fail(out, "v2: unassigned command");
	if (!rd_u8(&r, &fam))
		return PROXY_NEED_MORE;
	af = fam >> 4;
	tp = fam & 0x0f;
	if (af > V2_AF_UNIX)
		return fail(out, "v2: unassigned address family");
	if (tp > V2_TP_DGRAM)
		return fail(out, "v2: unassigned transport protocol");
	if (!rd_be16(&r, &len))
		return PROXY_NEED_MORE;
	if (len > PROXY_V2_MAX_LEN)
		return fail(out, "v2: length over 1024");
	if (!rd_sub(&r, len, &blk))
		return PROXY_NEED_MORE;

	/* §2.2: LOCAL discards the whole block, family included. */
	if ((ver_cmd & 0x0f) == V2_CMD_LOCAL) {
		out->local = true;
		*consumed = PROXY_V2_HDR + len;
		return PROXY_OK;
	}
	if (tp == V2_TP_DGRAM)
		return fail(out, "v2: datagram transport on a stream");
	switch (af) {
	case V2_AF_INET:
		need = V2_INET_LEN;
		break;
	case V2_AF_INET6:
		need = V2_INET6_LEN;
		break;
	case V2_AF_UNIX:
		need = V2_UNIX_LEN;
		break;
	default:
		/* UNSPEC: accept and use the real endpoints. */
		*consumed = PROXY_V2_HDR + len;
		return PROXY_OK;
	}
	if (af != V2_AF_UNIX && tp != V2_TP_STREAM)
		return fail(out, "v2: IP family without STREAM transport");
	if (blk.n < need)
		return fail(out, "v2: address block shorter than its family");
	if (af == V2_AF_INET)
		v2_inet(&blk, out);
	else if (af == V2_AF_INET6)
		v2_inet6(&blk, out);
	else
		rd_skip(&blk, need);
	if (!v2_tlvs(&blk))
		return fail(out, "v2: TLV overruns the header");
	out->has_addr = af != V2_AF_UNIX;
	*consumed = PROXY_V2_HDR + len;
	return PROXY_OK;
}

enum proxy_result
proxy_parse(const uint8_t *p, size_t n, struct proxy_hdr *out,
    size_t *consumed)
{
	size_t k;

	memset(out, 0, sizeof(*out));
	*consumed = 0;
	if (n == 0)
		return PROXY_NEED_MORE;
	k = n < V2_SIG_LEN ? n : V2_SIG_LEN;
	if (memcmp(p, v2_sig, k) == 0)
		return n < V2_SIG_LEN ? PROXY_NEED_MORE :
		    parse_v2(p, n, out, consumed);
	k = n < V1_MAGIC_LEN ? n : V1_MAGIC_LEN;
	if (memcmp(p, "PROXY ", k) == 0)
		return n < V1_MAGIC_LEN ? PROXY_NEED_MORE :
		    parse_v1(p, n, out, consumed);
	return fail(out, "not a PROXY protocol header");
}
