/*
 * Inner IPv4 / IPv6 header validation and traffic-selector matching for
 * decapsulated tunnel-mode packets.
 */
#include <stdbool.h>
#include <string.h>

#include "esp/inner.h"
#include "esp/sa.h"
#include "framing/wire.h"

enum {
	IPV4_HDR_MIN	= 20,
	IPV6_HDR_LEN	= 40,
	IPV6_EXT_MAX	= 8,	/* extension headers walked for a port */
	PROTO_ICMP	= 1,
	PROTO_TCP	= 6,
	PROTO_UDP	= 17,
	PROTO_V6_HOP	= 0,
	PROTO_V6_ROUTE	= 43,
	PROTO_V6_FRAG	= 44,
	PROTO_V6_DEST	= 60,
	PROTO_ICMPV6	= 58,
	PROTO_SCTP	= 132,
	PROTO_UDPLITE	= 136
};

/* What a selector is matched against. */
struct flow {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;		/* upper-layer protocol */
	bool		has_port;	/* the port is visible */
	uint16_t	port;		/* source port, or ICMP type/code */
	uint8_t		src[16];
};

/* Source port (or ICMP Type << 8 | Code) from the upper-layer header. */
static void
read_port(struct flow *f, struct rd *r)
{
	uint16_t v;
	uint8_t type, code;

	switch (f->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
	case PROTO_UDPLITE:
		if (rd_be16(r, &v)) {
			f->port = v;
			f->has_port = true;
		}
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (rd_u8(r, &type) && rd_u8(r, &code)) {
			f->port = (uint16_t)(type << 8 | code);
			f->has_port = true;
		}
		break;
	}
}

static enum esp_result
parse_v4(const uint8_t *pkt, size_t len, struct flow *f, size_t *ip_len)
{
	struct rd r = rd_make(pkt, len), up;
	uint8_t vihl, proto;
	uint16_t total, frag;
	size_t hl;

	if (!rd_u8(&r, &vihl) || len < IPV4_HDR_MIN)
		return ESP_DROP_INNER;
	hl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || hl < IPV4_HDR_MIN || hl > len)
		return ESP_DROP_INNER;
	if (!rd_skip(&r, 1) || !rd_be16(&r, &total) || total < hl ||
	    total > len)
		return ESP_DROP_INNER;
	if (!rd_skip(&r, 2) || !rd_be16(&r, &frag) || !rd_skip(&r, 1) ||
	    !rd_u8(&r, &proto) || !rd_skip(&r, 2) ||
	    !rd_bytes(&r, f->src, 4))
		return ESP_DROP_INNER;
	f->family = 4;
	f->proto = proto;
	*ip_len = total;
	/* Ports are only in the first fragment (offset 0). */
	if ((frag & 0x1fff) == 0) {
		up = rd_make(pkt + hl, total - hl);
		read_port(f, &up);
	}
	return ESP_OK;
}

static enum esp_result
parse_v6(const uint8_t *pkt, size_t len, struct flow *f, size_t *ip_len)
{
	struct rd r = rd_make(pkt, len), up;
	uint8_t v, nh, next, elen;
	uint16_t plen, off;
	int i;

	if (len < IPV6_HDR_LEN || !rd_u8(&r, &v) || v >> 4 != 6)
		return ESP_DROP_INNER;
	/* A Payload Length of 0 is a jumbogram; none fits in ESP here. */
	if (!rd_skip(&r, 3) || !rd_be16(&r, &plen) || plen == 0 ||
	    plen > len - IPV6_HDR_LEN || !rd_u8(&r, &nh) ||
	    !rd_skip(&r, 1) || !rd_bytes(&r, f->src, 16) ||
	    !rd_skip(&r, 16))
		return ESP_DROP_INNER;
	f->family = 6;
	*ip_len = IPV6_HDR_LEN + (size_t)plen;
	up = rd_make(pkt + IPV6_HDR_LEN, plen);
	/* Walk the usual extension headers to the upper layer. */
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		switch (nh) {
		case PROTO_V6_HOP:
		case PROTO_V6_ROUTE:
		case PROTO_V6_DEST:
			if (!rd_u8(&up, &next) || !rd_u8(&up, &elen) ||
			    !rd_skip(&up, (size_t)elen * 8 + 6)) {
				f->proto = nh;
				return ESP_OK;	/* no visible port */
			}
			nh = next;
			continue;
		case PROTO_V6_FRAG:
			if (!rd_u8(&up, &next) || !rd_skip(&up, 1) ||
			    !rd_be16(&up, &off) || !rd_skip(&up, 4)) {
				f->proto = nh;
				return ESP_OK;
			}
			nh = next;
			if ((off & 0xfff8) != 0) {
				f->proto = nh;
				return ESP_OK;	/* not the first fragment */
			}
			continue;
		default:
			break;
		}
		break;
	}
	f->proto = nh;
	if (i < IPV6_EXT_MAX)
		read_port(f, &up);
	return ESP_OK;
}

static bool
ts_match(const struct esp_ts *ts, const struct flow *f)
{
	size_t alen = f->family == 4 ? 4 : 16;

	if (ts->family != f->family)
		return false;
	if (memcmp(f->src, ts->addr_lo, alen) < 0 ||
	    memcmp(f->src, ts->addr_hi, alen) > 0)
		return false;
	if (ts->proto != 0 && ts->proto != f->proto)
		return false;
	if (ts->port_lo == 0 && ts->port_hi == 0xffff)
		return true;
	return f->has_port && f->port >= ts->port_lo &&
	    f->port <= ts->port_hi;
}

enum esp_result
esp_inner_check(const uint8_t *pkt, size_t len, uint8_t nh,
    const struct esp_ts *ts, size_t nts, size_t *ip_len)
{
	struct flow f;
	enum esp_result res;
	size_t i;

	*ip_len = 0;
	memset(&f, 0, sizeof(f));
	if (nh == ESP_NH_IPV4)
		res = parse_v4(pkt, len, &f, ip_len);
	else if (nh == ESP_NH_IPV6)
		res = parse_v6(pkt, len, &f, ip_len);
	else
		return ESP_DROP_NEXT_HDR;
	if (res != ESP_OK) {
		*ip_len = 0;
		return res;
	}
	for (i = 0; i < nts; i++)
		if (ts_match(&ts[i], &f))
			return ESP_OK;
	*ip_len = 0;
	return ESP_DROP_TS;
}
