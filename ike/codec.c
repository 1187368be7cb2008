/*
 * IKEv2 message parser (RFC 7296 §3, RFC 7383 §2.5).  Validate, then
 * decode: every structure's length is checked against what is left and
 * against its own minimum before a field is read, and every count against
 * its cap.  Wire bytes are read through framing/wire.h only.  No allocation,
 * no logging: the caller logs out->err once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/codec.h"

struct pctx {
	const uint8_t	*base;		/* start of the buffer being parsed */
	struct ike_msg	*m;
	bool		 inner;		/* decrypted chain: no SK/SKF */
	uint8_t		 next;		/* next-payload field being parsed */
};

typedef enum ike_parse_result body_fn(struct pctx *, struct rd *,
    const uint8_t *, uint8_t);

static const char *const err_names[] = {
	[IKE_ERR_NONE] = "no error",
	[IKE_ERR_SHORT_HEADER] = "shorter than the IKE header",
	[IKE_ERR_HDR_LENGTH] = "header length differs from message length",
	[IKE_ERR_VERSION] = "major version is not 2",
	[IKE_ERR_PL_HEADER] = "payload header truncated",
	[IKE_ERR_PL_SHORT] = "payload length below its minimum",
	[IKE_ERR_PL_PAST_END] = "payload length past the message end",
	[IKE_ERR_CHAIN_END] = "bytes after the last payload",
	[IKE_ERR_CRITICAL] = "unsupported critical payload",
	[IKE_ERR_DUPLICATE] = "duplicate singleton payload",
	[IKE_ERR_TOO_MANY] = "count over its cap",
	[IKE_ERR_SK_NOT_LAST] = "encrypted payload not last",
	[IKE_ERR_NESTED_SK] = "encrypted payload inside encrypted chain",
	[IKE_ERR_PROPOSAL] = "malformed proposal",
	[IKE_ERR_PROPOSAL_SPI] = "proposal SPI size wrong for protocol",
	[IKE_ERR_TRANSFORM] = "malformed transform",
	[IKE_ERR_ATTRIBUTE] = "malformed attribute",
	[IKE_ERR_NONCE_SIZE] = "nonce size outside 16..256",
	[IKE_ERR_NOTIFY_SPI] = "notify SPI size",
	[IKE_ERR_DELETE] = "delete SPI size or count",
	[IKE_ERR_TS] = "malformed traffic selectors",
	[IKE_ERR_TS_LENGTH] = "traffic selector length wrong for its type",
	[IKE_ERR_EAP_LENGTH] = "EAP length disagrees with payload",
	[IKE_ERR_SKF_NUMBER] = "fragment number 0 or above total",
};

const char *
ike_parse_strerror(enum ike_parse_err reason)
{
	if ((size_t)reason >= sizeof(err_names) / sizeof(err_names[0]) ||
	    err_names[reason] == NULL)
		return "unknown error";
	return err_names[reason];
}

static enum ike_parse_result
fail(struct pctx *c, enum ike_parse_err why, uint8_t type, const uint8_t *at)
{
	struct ike_parse_error *e = &c->m->err;

	e->reason = why;
	e->payload = type;
	e->offset = (size_t)(at - c->base);
	if (why == IKE_ERR_CRITICAL) {
		e->notify = IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
		return IKE_PARSE_CRITICAL;
	}
	e->notify = IKE_N_INVALID_SYNTAX;
	return IKE_PARSE_SYNTAX;
}

static struct ike_data
rest(struct rd *r)
{
	struct ike_data d = { r->n > 0 ? r->p : NULL, r->n };

	r->p += r->n;
	r->n = 0;
	return d;
}

/* RFC 7296 §3.3.5: attributes of one transform. */
static enum ike_parse_result
parse_attrs(struct pctx *c, struct rd *r, struct ike_xform *x)
{
	struct ike_sa_pl *sa = &c->m->pl.sa;
	uint16_t at = 0, al = 0;

	x->attr_first = sa->nattrs;
	while (r->n > 0) {
		const uint8_t *p = r->p;
		struct ike_xattr *a;
		struct rd val = { NULL, 0 };
		bool tv;

		if (!rd_be16(r, &at) || !rd_be16(r, &al))
			return fail(c, IKE_ERR_ATTRIBUTE, IKE_PL_SA, p);
		tv = (at & IKE_ATTR_TV) != 0;
		at &= ~IKE_ATTR_TV;
		if (!tv && !rd_sub(r, al, &val))
			return fail(c, IKE_ERR_ATTRIBUTE, IKE_PL_SA, p);
		if (at == IKE_ATTR_KEY_LENGTH) {
			/* TV only, once, non-zero. */
			if (!tv || x->key_length != 0 || al == 0)
				return fail(c, IKE_ERR_ATTRIBUTE, IKE_PL_SA, p);
			x->key_length = al;
			continue;
		}
		if (sa->nattrs == IKE_MAX_XFORM_ATTRS)
			return fail(c, IKE_ERR_TOO_MANY, IKE_PL_SA, p);
		a = &sa->attrs[sa->nattrs++];
		a->type = at;
		a->tv = tv;
		a->value = tv ? al : 0;
		a->data.p = val.n > 0 ? val.p : NULL;
		a->data.len = val.n;
		x->nattrs++;
	}
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.3.2: the transforms of one proposal. */
static enum ike_parse_result
parse_xforms(struct pctx *c, struct rd *r, uint8_t want,
    struct ike_proposal *pr)
{
	struct ike_sa_pl *sa = &c->m->pl.sa;
	enum ike_parse_result res;
	uint8_t last = 3, count = 0;

	pr->xform_first = sa->nxforms;
	while (r->n > 0) {
		const uint8_t *p = r->p;
		struct ike_xform *x;
		struct rd t;
		uint16_t tlen = 0;

		if (last != 3)
			return fail(c, IKE_ERR_TRANSFORM, IKE_PL_SA, p);
		if (sa->nxforms == IKE_MAX_XFORMS || count == want)
			return fail(c, count == want ? IKE_ERR_TRANSFORM :
			    IKE_ERR_TOO_MANY, IKE_PL_SA, p);
		if (!rd_u8(r, &last) || !rd_skip(r, 1) ||
		    !rd_be16(r, &tlen) || tlen < 8 || !rd_sub(r, tlen - 4, &t))
			return fail(c, IKE_ERR_TRANSFORM, IKE_PL_SA, p);
		if (last != 0 && last != 3)
			return fail(c, IKE_ERR_TRANSFORM, IKE_PL_SA, p);
		x = &sa->xforms[sa->nxforms++];
		memset(x, 0, sizeof(*x));
		(void)rd_u8(&t, &x->type);
		(void)rd_skip(&t, 1);
		(void)rd_be16(&t, &x->id);
		if ((res = parse_attrs(c, &t, x)) != IKE_PARSE_OK)
			return res;
		count++;
	}
	if (count != want || (count > 0 && last != 0))
		return fail(c, IKE_ERR_TRANSFORM, IKE_PL_SA, r->p);
	pr->nxforms = count;
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.3 and §3.3.1. */
static enum ike_parse_result
parse_sa(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_sa_pl *sa = &c->m->pl.sa;
	enum ike_parse_result res;
	uint8_t last = 2;

	while (r->n > 0) {
		const uint8_t *p = r->p;
		struct ike_proposal *pr;
		uint8_t nx = 0;
		uint16_t plen = 0;
		struct rd b;

		if (last != 2)
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		if (sa->nproposals == IKE_MAX_PROPOSALS)
			return fail(c, IKE_ERR_TOO_MANY, IKE_PL_SA, p);
		if (!rd_u8(r, &last) || !rd_skip(r, 1) ||
		    !rd_be16(r, &plen) || plen < 8 || !rd_sub(r, plen - 4, &b))
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		if (last != 0 && last != 2)
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		pr = &sa->proposals[sa->nproposals];
		memset(pr, 0, sizeof(*pr));
		(void)rd_u8(&b, &pr->num);
		(void)rd_u8(&b, &pr->proto);
		(void)rd_u8(&b, &pr->spi_size);
		(void)rd_u8(&b, &nx);
		/*
		 * §3.3.1: the first proposal is 1 in a request (a response
		 * echoes the number it accepted); each next one is one more.
		 */
		if (sa->nproposals == 0 ? pr->num == 0 ||
		    (!(c->m->hdr.flags & IKE_FLAG_RESPONSE) && pr->num != 1) :
		    pr->num != sa->proposals[sa->nproposals - 1].num + 1)
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		switch (pr->proto) {
		case IKE_PROTO_IKE:
			if (pr->spi_size != 0 && pr->spi_size != 8)
				return fail(c, IKE_ERR_PROPOSAL_SPI,
				    IKE_PL_SA, p);
			break;
		case IKE_PROTO_AH:
		case IKE_PROTO_ESP:
			if (pr->spi_size != 4)
				return fail(c, IKE_ERR_PROPOSAL_SPI,
				    IKE_PL_SA, p);
			break;
		default:
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		}
		if (!rd_bytes(&b, pr->spi, pr->spi_size))
			return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, p);
		if ((res = parse_xforms(c, &b, nx, pr)) != IKE_PARSE_OK)
			return res;
		sa->nproposals++;
	}
	if (last != 0)
		return fail(c, IKE_ERR_PROPOSAL, IKE_PL_SA, at);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.4. */
static enum ike_parse_result
parse_ke(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_ke *ke = &c->m->pl.ke;

	(void)rd_be16(r, &ke->group);
	(void)rd_skip(r, 2);
	ke->data = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.5. */
static enum ike_parse_result
parse_id(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_id *id = type == IKE_PL_IDI ? &c->m->pl.idi :
	    &c->m->pl.idr;

	id->body.p = r->p;
	id->body.len = r->n;
	(void)rd_u8(r, &id->type);
	(void)rd_skip(r, 3);
	id->data = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.6 and §3.7. */
static enum ike_parse_result
parse_cert(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_payloads *pl = &c->m->pl;
	uint8_t *n = type == IKE_PL_CERT ? &pl->ncert : &pl->ncertreq;
	struct ike_cert *cert;

	if (*n == IKE_MAX_REPEAT)
		return fail(c, IKE_ERR_TOO_MANY, type, at);
	cert = type == IKE_PL_CERT ? &pl->cert[*n] : &pl->certreq[*n];
	(*n)++;
	(void)rd_u8(r, &cert->encoding);
	cert->data = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.8. */
static enum ike_parse_result
parse_auth(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_auth *a = &c->m->pl.auth;

	(void)rd_u8(r, &a->method);
	(void)rd_skip(r, 3);
	a->data = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.9: "at least 128 bits ... MUST NOT exceed 2048 bits". */
static enum ike_parse_result
parse_nonce(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	if (r->n < IKE_NONCE_MIN || r->n > IKE_NONCE_MAX)
		return fail(c, IKE_ERR_NONCE_SIZE, type, at);
	c->m->pl.nonce = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.10. */
static enum ike_parse_result
parse_notify(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_payloads *pl = &c->m->pl;
	struct ike_notify *n;
	uint8_t spi_size = 0;
	struct rd spi;

	if (pl->nnotify == IKE_MAX_REPEAT)
		return fail(c, IKE_ERR_TOO_MANY, type, at);
	n = &pl->notify[pl->nnotify];
	(void)rd_u8(r, &n->proto);
	(void)rd_u8(r, &spi_size);
	(void)rd_be16(r, &n->type);
	if ((spi_size != 0 && spi_size != 4 && spi_size != 8) ||
	    !rd_sub(r, spi_size, &spi))
		return fail(c, IKE_ERR_NOTIFY_SPI, type, at);
	n->spi.p = spi_size > 0 ? spi.p : NULL;
	n->spi.len = spi_size;
	n->data = rest(r);
	pl->nnotify++;
	return IKE_PARSE_OK;
}

/*
 * RFC 7296 §3.11: IKE SA deletes carry no SPI (size 0, count 0); AH and ESP
 * carry count 4-octet SPIs, and the payload holds exactly those.
 */
static enum ike_parse_result
parse_delete(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_payloads *pl = &c->m->pl;
	struct ike_delete *d;

	if (pl->ndelete == IKE_MAX_REPEAT)
		return fail(c, IKE_ERR_TOO_MANY, type, at);
	d = &pl->delete[pl->ndelete];
	(void)rd_u8(r, &d->proto);
	(void)rd_u8(r, &d->spi_size);
	(void)rd_be16(r, &d->nspis);
	switch (d->proto) {
	case IKE_PROTO_IKE:
		if (d->spi_size != 0 || d->nspis != 0)
			return fail(c, IKE_ERR_DELETE, type, at);
		break;
	case IKE_PROTO_AH:
	case IKE_PROTO_ESP:
		if (d->spi_size != 4)
			return fail(c, IKE_ERR_DELETE, type, at);
		break;
	default:
		return fail(c, IKE_ERR_DELETE, type, at);
	}
	if (r->n != (size_t)d->nspis * d->spi_size)
		return fail(c, IKE_ERR_DELETE, type, at);
	d->spis = rest(r);
	pl->ndelete++;
	return IKE_PARSE_OK;
}

uint32_t
ike_delete_spi(const struct ike_delete *d, size_t i)
{
	if (d->spi_size != 4 || i >= d->nspis || d->spis.len < (i + 1) * 4)
		return 0;
	return load_be32(d->spis.p + i * 4);
}

/* RFC 7296 §3.12. */
static enum ike_parse_result
parse_vendor(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_payloads *pl = &c->m->pl;

	if (pl->nvendor == IKE_MAX_REPEAT)
		return fail(c, IKE_ERR_TOO_MANY, type, at);
	pl->vendor[pl->nvendor++] = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.13 and §3.13.1. */
static enum ike_parse_result
parse_ts(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_ts_pl *tp = type == IKE_PL_TSI ? &c->m->pl.tsi :
	    &c->m->pl.tsr;
	uint8_t count = 0;

	(void)rd_u8(r, &count);
	(void)rd_skip(r, 3);
	if (count == 0)
		return fail(c, IKE_ERR_TS, type, at);
	if (count > IKE_MAX_TS)
		return fail(c, IKE_ERR_TOO_MANY, type, at);
	for (tp->count = 0; tp->count < count; tp->count++) {
		struct ike_ts *ts = &tp->ts[tp->count];
		const uint8_t *p = r->p;
		uint16_t slen = 0;
		size_t alen;
		struct rd s;

		memset(ts, 0, sizeof(*ts));
		if (!rd_u8(r, &ts->type) || !rd_u8(r, &ts->proto) ||
		    !rd_be16(r, &slen))
			return fail(c, IKE_ERR_TS, type, p);
		switch (ts->type) {
		case IKE_TS_IPV4_ADDR_RANGE:
			alen = 4;
			break;
		case IKE_TS_IPV6_ADDR_RANGE:
			alen = 16;
			break;
		default:
			alen = 0;
			break;
		}
		if (alen > 0 && slen != 8 + 2 * alen)
			return fail(c, IKE_ERR_TS_LENGTH, type, p);
		if (slen < 4 || !rd_sub(r, slen - 4, &s))
			return fail(c, IKE_ERR_TS, type, p);
		if (alen == 0) {
			ts->other.p = s.n > 0 ? s.p : NULL;
			ts->other.len = s.n;
			continue;
		}
		(void)rd_be16(&s, &ts->start_port);
		(void)rd_be16(&s, &ts->end_port);
		(void)rd_bytes(&s, ts->start, alen);
		(void)rd_bytes(&s, ts->end, alen);
	}
	if (r->n != 0)
		return fail(c, IKE_ERR_TS, type, r->p);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.14 and RFC 7383 §2.5: the blob stays encrypted. */
static enum ike_parse_result
parse_sk(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_sk_pl *sk = &c->m->pl.sk;

	sk->inner = c->next;
	sk->hdr_off = (size_t)(at - c->base);
	if (type == IKE_PL_SKF) {
		(void)rd_be16(r, &sk->frag_num);
		(void)rd_be16(r, &sk->frag_total);
		if (sk->frag_num == 0 || sk->frag_num > sk->frag_total)
			return fail(c, IKE_ERR_SKF_NUMBER, type, at);
	}
	sk->body = rest(r);
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.15 and §3.15.1. */
static enum ike_parse_result
parse_cp(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_cp *cp = &c->m->pl.cp;

	(void)rd_u8(r, &cp->type);
	(void)rd_skip(r, 3);
	while (r->n > 0) {
		const uint8_t *p = r->p;
		struct ike_cp_attr *a;
		uint16_t t = 0, l = 0;
		struct rd v;

		if (cp->nattrs == IKE_MAX_CP_ATTRS)
			return fail(c, IKE_ERR_TOO_MANY, type, p);
		if (!rd_be16(r, &t) || !rd_be16(r, &l) || !rd_sub(r, l, &v))
			return fail(c, IKE_ERR_ATTRIBUTE, type, p);
		a = &cp->attrs[cp->nattrs++];
		a->type = t & 0x7fff;
		a->value.p = v.n > 0 ? v.p : NULL;
		a->value.len = v.n;
	}
	return IKE_PARSE_OK;
}

/* RFC 7296 §3.16 with the RFC 3748 §4 header inside. */
static enum ike_parse_result
parse_eap(struct pctx *c, struct rd *r, const uint8_t *at, uint8_t type)
{
	struct ike_eap *e = &c->m->pl.eap;
	uint16_t len = 0;

	e->msg.p = r->p;
	e->msg.len = r->n;
	(void)rd_u8(r, &e->code);
	(void)rd_u8(r, &e->id);
	(void)rd_be16(r, &len);
	if (len != e->msg.len)
		return fail(c, IKE_ERR_EAP_LENGTH, type, at);
	e->type = 0;
	if (e->code == IKE_EAP_REQUEST || e->code == IKE_EAP_RESPONSE) {
		if (!rd_u8(r, &e->type))
			return fail(c, IKE_ERR_EAP_LENGTH, type, at);
	}
	e->data = rest(r);
	return IKE_PARSE_OK;
}

/* Per payload type: body parser, minimum body length, singleton bit. */
struct pl_rule {
	body_fn		*fn;
	uint8_t		 min;		/* body octets */
	uint32_t	 once;		/* enum ike_have bit, 0 = repeatable */
};

static bool
pl_rule(uint8_t type, struct pl_rule *out)
{
	static const struct {
		uint8_t		type;
		struct pl_rule	rule;
	} rules[] = {
		{ IKE_PL_SA,	{ parse_sa, 8, IKE_HAVE_SA } },
		{ IKE_PL_KE,	{ parse_ke, 4, IKE_HAVE_KE } },
		{ IKE_PL_IDI,	{ parse_id, 4, IKE_HAVE_IDI } },
		{ IKE_PL_IDR,	{ parse_id, 4, IKE_HAVE_IDR } },
		{ IKE_PL_CERT,	{ parse_cert, 1, 0 } },
		{ IKE_PL_CERTREQ, { parse_cert, 1, 0 } },
		{ IKE_PL_AUTH,	{ parse_auth, 4, IKE_HAVE_AUTH } },
		{ IKE_PL_NONCE,	{ parse_nonce, 0, IKE_HAVE_NONCE } },
		{ IKE_PL_NOTIFY, { parse_notify, 4, 0 } },
		{ IKE_PL_DELETE, { parse_delete, 4, 0 } },
		{ IKE_PL_VENDOR, { parse_vendor, 0, 0 } },
		{ IKE_PL_TSI,	{ parse_ts, 4, IKE_HAVE_TSI } },
		{ IKE_PL_TSR,	{ parse_ts, 4, IKE_HAVE_TSR } },
		{ IKE_PL_SK,	{ parse_sk, 0, IKE_HAVE_SK } },
		{ IKE_PL_CP,	{ parse_cp, 4, IKE_HAVE_CP } },
		{ IKE_PL_EAP,	{ parse_eap, 4, IKE_HAVE_EAP } },
		{ IKE_PL_SKF,	{ parse_sk, 4, IKE_HAVE_SKF } },
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].type == type) {
			*out = rules[i].rule;
			return true;
		}
	}
	return false;
}

/* RFC 7296 §3.2: walk the chain from @np to the end of @r. */
static enum ike_parse_result
parse_chain(struct pctx *c, uint8_t np, struct rd *r)
{
	struct ike_payloads *pl = &c->m->pl;
	enum ike_parse_result res;

	while (np != IKE_PL_NONE) {
		const uint8_t *at = r->p;
		uint8_t next = 0, flags = 0;
		uint16_t plen = 0;
		struct pl_rule rule;
		bool known;
		struct rd body;

		if (r->n < IKE_GENHDR_LEN)
			return fail(c, IKE_ERR_PL_HEADER, np, at);
		(void)rd_u8(r, &next);
		(void)rd_u8(r, &flags);
		(void)rd_be16(r, &plen);
		known = pl_rule(np, &rule);
		if (plen < IKE_GENHDR_LEN + (known ? rule.min : 0))
			return fail(c, IKE_ERR_PL_SHORT, np, at);
		if (!rd_sub(r, plen - IKE_GENHDR_LEN, &body))
			return fail(c, IKE_ERR_PL_PAST_END, np, at);
		if (!known) {
			/* §2.5: skip unless critical. */
			if (flags & IKE_PAYLOAD_CRITICAL)
				return fail(c, IKE_ERR_CRITICAL, np, at);
			if (pl->nunknown == IKE_MAX_REPEAT)
				return fail(c, IKE_ERR_TOO_MANY, np, at);
			pl->nunknown++;
			np = next;
			continue;
		}
		if (rule.once & (IKE_HAVE_SK | IKE_HAVE_SKF)) {
			if (c->inner)
				return fail(c, IKE_ERR_NESTED_SK, np, at);
			/* §3.14: "MUST be the last payload". */
			if (r->n != 0)
				return fail(c, IKE_ERR_SK_NOT_LAST, np, at);
			if (pl->have & (IKE_HAVE_SK | IKE_HAVE_SKF))
				return fail(c, IKE_ERR_DUPLICATE, np, at);
		}
		if (pl->have & rule.once)
			return fail(c, IKE_ERR_DUPLICATE, np, at);
		c->next = next;
		if ((res = rule.fn(c, &body, at, np)) != IKE_PARSE_OK)
			return res;
		pl->have |= rule.once;
		if (rule.once & (IKE_HAVE_SK | IKE_HAVE_SKF))
			return IKE_PARSE_OK;	/* next names the inner chain */
		np = next;
	}
	if (r->n != 0)
		return fail(c, IKE_ERR_CHAIN_END, IKE_PL_NONE, r->p);
	return IKE_PARSE_OK;
}

enum ike_parse_result
ike_payloads_parse(uint8_t first, const uint8_t *buf, size_t len,
    struct ike_msg *out)
{
	struct pctx c = { buf, out, true, 0 };
	struct rd r = rd_make(buf, len);

	memset(&out->pl, 0, sizeof(out->pl));
	memset(&out->err, 0, sizeof(out->err));
	return parse_chain(&c, first, &r);
}

enum ike_parse_result
ike_msg_parse(const uint8_t *buf, size_t len, struct ike_msg *out)
{
	struct pctx c = { buf, out, false, 0 };
	struct rd r = rd_make(buf, len);
	struct ike_hdr *h = &out->hdr;
	uint8_t version = 0;

	memset(out, 0, sizeof(*out));
	if (len < IKE_HEADER_LEN) {
		out->err.reason = IKE_ERR_SHORT_HEADER;
		return IKE_PARSE_TRUNCATED;
	}
	(void)rd_be64(&r, &h->spi_i);
	(void)rd_be64(&r, &h->spi_r);
	(void)rd_u8(&r, &h->next);
	(void)rd_u8(&r, &version);
	(void)rd_u8(&r, &h->exchange);
	(void)rd_u8(&r, &h->flags);
	(void)rd_be32(&r, &h->msgid);
	(void)rd_be32(&r, &h->length);
	h->major = version >> 4;
	h->minor = version & 0x0f;
	/* §3.1: reserved flag bits are ignored on receipt. */
	h->flags &= IKE_FLAG_INITIATOR | IKE_FLAG_VERSION | IKE_FLAG_RESPONSE;
	if (h->major != IKE_VERSION_MAJOR) {
		/* §2.5: answer only a higher major version. */
		out->err.reason = IKE_ERR_VERSION;
		out->err.offset = 17;
		if (h->major > IKE_VERSION_MAJOR)
			out->err.notify = IKE_N_INVALID_MAJOR_VERSION;
		return IKE_PARSE_BAD_VERSION;
	}
	if (h->length != len) {
		out->err.reason = IKE_ERR_HDR_LENGTH;
		out->err.offset = 24;
		return IKE_PARSE_BAD_LENGTH;
	}
	return parse_chain(&c, h->next, &r);
}
