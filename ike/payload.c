/*
 * IKEv2 message builder (RFC 7296 §3) and struct comparison.  Everything is
 * written through a struct wr, which refuses to overrun; a payload's
 * next-payload field is patched when the following payload is appended, and
 * its length when it is complete.  Reserved fields are written as zero and
 * the critical bit is clear for every type RFC 7296 defines (§3.2).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/codec.h"

enum {
	NO_OFF	= -1	/* b->np_off before the first inner payload */
};

void
ike_build_init(struct ike_builder *b, struct wr *w, const struct ike_hdr *h)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->outer = true;
	b->start = w->len;
	b->np_off = w->len + 16;
	(void)wr_be64(w, h->spi_i);
	(void)wr_be64(w, h->spi_r);
	(void)wr_u8(w, IKE_PL_NONE);
	(void)wr_u8(w, IKE_VERSION_MAJOR << 4 | (h->minor & 0x0f));
	(void)wr_u8(w, h->exchange);
	(void)wr_u8(w, h->flags & (IKE_FLAG_INITIATOR | IKE_FLAG_VERSION |
	    IKE_FLAG_RESPONSE));
	(void)wr_be32(w, h->msgid);
	(void)wr_be32(w, 0);
	if (!wr_ok(w))
		b->err = true;
}

void
ike_build_inner_init(struct ike_builder *b, struct wr *w)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = w->len;
	b->np_off = (size_t)NO_OFF;
}

int
ike_build_finish(struct ike_builder *b)
{
	size_t len = b->w->len - b->start;

	if (b->err || !wr_ok(b->w))
		return -1;
	if (b->outer && (len > UINT32_MAX ||
	    !wr_patch_be32(b->w, b->start + 24, (uint32_t)len)))
		return -1;
	return 0;
}

/* Start a payload: generic header with length 0, chained to the last one. */
static size_t
begin(struct ike_builder *b, uint8_t type, bool critical)
{
	size_t off = b->w->len;

	if (b->err || b->closed) {
		b->err = true;
		return 0;
	}
	if (!wr_u8(b->w, IKE_PL_NONE) ||
	    !wr_u8(b->w, critical ? IKE_PAYLOAD_CRITICAL : 0) ||
	    !wr_be16(b->w, 0)) {
		b->err = true;
		return 0;
	}
	if (b->np_off == (size_t)NO_OFF)
		b->first = type;
	else
		b->w->p[b->np_off] = type;
	b->np_off = off;
	return off;
}

/* Patch a 16-bit length at @off + @at covering everything from @off. */
static int
patch_len(struct ike_builder *b, size_t off, size_t at)
{
	size_t len = b->w->len - off;

	if (b->err || !wr_ok(b->w) || len > IKE_PAYLOAD_MAX ||
	    !wr_patch_be16(b->w, off + at, (uint16_t)len)) {
		b->err = true;
		return -1;
	}
	return 0;
}

static int
end(struct ike_builder *b, size_t off)
{
	return patch_len(b, off, 2);
}

static void
put_data(struct wr *w, const struct ike_data *d)
{
	if (d->len > 0)
		(void)wr_bytes(w, d->p, d->len);
}

static int
xform_build(struct ike_builder *b, const struct ike_sa_pl *sa,
    const struct ike_xform *x, bool last)
{
	struct wr *w = b->w;
	size_t off = w->len;

	if ((size_t)x->attr_first + x->nattrs > IKE_MAX_XFORM_ATTRS)
		goto fail;
	(void)wr_u8(w, last ? 0 : 3);
	(void)wr_u8(w, 0);
	(void)wr_be16(w, 0);
	(void)wr_u8(w, x->type);
	(void)wr_u8(w, 0);
	(void)wr_be16(w, x->id);
	if (x->key_length != 0) {
		(void)wr_be16(w, IKE_ATTR_TV | IKE_ATTR_KEY_LENGTH);
		(void)wr_be16(w, x->key_length);
	}
	for (size_t i = 0; i < x->nattrs; i++) {
		const struct ike_xattr *a = &sa->attrs[x->attr_first + i];

		if (a->tv) {
			(void)wr_be16(w, IKE_ATTR_TV | (a->type & 0x7fff));
			(void)wr_be16(w, a->value);
		} else {
			if (a->data.len > UINT16_MAX)
				goto fail;
			(void)wr_be16(w, a->type & 0x7fff);
			(void)wr_be16(w, (uint16_t)a->data.len);
			put_data(w, &a->data);
		}
	}
	return patch_len(b, off, 2);
fail:
	b->err = true;
	return -1;
}

int
ike_build_sa(struct ike_builder *b, const struct ike_sa_pl *sa)
{
	size_t off = begin(b, IKE_PL_SA, false);
	struct wr *w = b->w;

	if (sa->nproposals > IKE_MAX_PROPOSALS)
		b->err = true;
	for (size_t i = 0; i < sa->nproposals && !b->err; i++) {
		const struct ike_proposal *pr = &sa->proposals[i];
		size_t poff = w->len;

		if (pr->spi_size > sizeof(pr->spi) || pr->nxforms > 255 ||
		    (size_t)pr->xform_first + pr->nxforms > IKE_MAX_XFORMS) {
			b->err = true;
			break;
		}
		(void)wr_u8(w, i + 1 < sa->nproposals ? 2 : 0);
		(void)wr_u8(w, 0);
		(void)wr_be16(w, 0);
		(void)wr_u8(w, pr->num);
		(void)wr_u8(w, pr->proto);
		(void)wr_u8(w, pr->spi_size);
		(void)wr_u8(w, (uint8_t)pr->nxforms);
		(void)wr_bytes(w, pr->spi, pr->spi_size);
		for (size_t j = 0; j < pr->nxforms; j++)
			if (xform_build(b, sa, &sa->xforms[pr->xform_first + j],
			    j + 1 == pr->nxforms) == -1)
				break;
		(void)patch_len(b, poff, 2);
	}
	return end(b, off);
}

int
ike_build_ke(struct ike_builder *b, const struct ike_ke *ke)
{
	size_t off = begin(b, IKE_PL_KE, false);

	(void)wr_be16(b->w, ke->group);
	(void)wr_be16(b->w, 0);
	put_data(b->w, &ke->data);
	return end(b, off);
}

int
ike_build_id(struct ike_builder *b, uint8_t pl_type, const struct ike_id *id)
{
	size_t off = begin(b, pl_type, false);

	(void)wr_u8(b->w, id->type);
	(void)wr_zero(b->w, 3);
	put_data(b->w, &id->data);
	return end(b, off);
}

int
ike_build_cert(struct ike_builder *b, uint8_t pl_type,
    const struct ike_cert *c)
{
	size_t off = begin(b, pl_type, false);

	(void)wr_u8(b->w, c->encoding);
	put_data(b->w, &c->data);
	return end(b, off);
}

int
ike_build_auth(struct ike_builder *b, const struct ike_auth *a)
{
	size_t off = begin(b, IKE_PL_AUTH, false);

	(void)wr_u8(b->w, a->method);
	(void)wr_zero(b->w, 3);
	put_data(b->w, &a->data);
	return end(b, off);
}

int
ike_build_raw(struct ike_builder *b, uint8_t pl_type, bool critical,
    const uint8_t *p, size_t len)
{
	size_t off = begin(b, pl_type, critical);

	if (len > 0)
		(void)wr_bytes(b->w, p, len);
	return end(b, off);
}

int
ike_build_nonce(struct ike_builder *b, const uint8_t *p, size_t len)
{
	return ike_build_raw(b, IKE_PL_NONCE, false, p, len);
}

int
ike_build_vendor(struct ike_builder *b, const uint8_t *p, size_t len)
{
	return ike_build_raw(b, IKE_PL_VENDOR, false, p, len);
}

int
ike_build_notify(struct ike_builder *b, const struct ike_notify *n)
{
	size_t off = begin(b, IKE_PL_NOTIFY, false);

	if (n->spi.len > UINT8_MAX)
		b->err = true;
	(void)wr_u8(b->w, n->proto);
	(void)wr_u8(b->w, (uint8_t)n->spi.len);
	(void)wr_be16(b->w, n->type);
	put_data(b->w, &n->spi);
	put_data(b->w, &n->data);
	return end(b, off);
}

int
ike_build_delete(struct ike_builder *b, const struct ike_delete *d)
{
	size_t off = begin(b, IKE_PL_DELETE, false);

	(void)wr_u8(b->w, d->proto);
	(void)wr_u8(b->w, d->spi_size);
	(void)wr_be16(b->w, d->nspis);
	put_data(b->w, &d->spis);
	return end(b, off);
}

int
ike_build_ts(struct ike_builder *b, uint8_t pl_type,
    const struct ike_ts_pl *tp)
{
	size_t off = begin(b, pl_type, false);
	struct wr *w = b->w;

	if (tp->count > IKE_MAX_TS)
		b->err = true;
	(void)wr_u8(w, tp->count);
	(void)wr_zero(w, 3);
	for (size_t i = 0; i < tp->count && !b->err; i++) {
		const struct ike_ts *ts = &tp->ts[i];
		size_t alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 :
		    ts->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
		size_t slen = alen > 0 ? 8 + 2 * alen : 4 + ts->other.len;

		if (slen > UINT16_MAX) {
			b->err = true;
			break;
		}
		(void)wr_u8(w, ts->type);
		(void)wr_u8(w, ts->proto);
		(void)wr_be16(w, (uint16_t)slen);
		if (alen == 0) {
			put_data(w, &ts->other);
			continue;
		}
		(void)wr_be16(w, ts->start_port);
		(void)wr_be16(w, ts->end_port);
		(void)wr_bytes(w, ts->start, alen);
		(void)wr_bytes(w, ts->end, alen);
	}
	return end(b, off);
}

int
ike_build_cp(struct ike_builder *b, const struct ike_cp *cp)
{
	size_t off = begin(b, IKE_PL_CP, false);
	struct wr *w = b->w;

	if (cp->nattrs > IKE_MAX_CP_ATTRS)
		b->err = true;
	(void)wr_u8(w, cp->type);
	(void)wr_zero(w, 3);
	for (size_t i = 0; i < cp->nattrs && !b->err; i++) {
		const struct ike_cp_attr *a = &cp->attrs[i];

		if (a->value.len > UINT16_MAX) {
			b->err = true;
			break;
		}
		(void)wr_be16(w, a->type & 0x7fff);
		(void)wr_be16(w, (uint16_t)a->value.len);
		put_data(w, &a->value);
	}
	return end(b, off);
}

int
ike_build_eap(struct ike_builder *b, const struct ike_eap *e)
{
	size_t off = begin(b, IKE_PL_EAP, false);
	bool typed = e->code == IKE_EAP_REQUEST || e->code == IKE_EAP_RESPONSE;
	size_t len = 4 + (typed ? 1 : 0) + e->data.len;

	if (len > UINT16_MAX)
		b->err = true;
	(void)wr_u8(b->w, e->code);
	(void)wr_u8(b->w, e->id);
	(void)wr_be16(b->w, (uint16_t)len);
	if (typed)
		(void)wr_u8(b->w, e->type);
	put_data(b->w, &e->data);
	return end(b, off);
}

static int
sk_build(struct ike_builder *b, uint8_t type, uint8_t inner, uint16_t num,
    uint16_t total, size_t body_len, uint8_t **body)
{
	size_t off = begin(b, type, false);
	uint8_t *at;

	*body = NULL;
	if (b->err)
		return -1;
	b->w->p[off] = inner;		/* §3.14: names the first inner */
	b->closed = true;
	if (type == IKE_PL_SKF) {
		(void)wr_be16(b->w, num);
		(void)wr_be16(b->w, total);
	}
	at = wr_reserve(b->w, body_len);
	if (end(b, off) == -1)
		return -1;
	*body = at;
	return 0;
}

int
ike_build_sk(struct ike_builder *b, uint8_t inner, size_t body_len,
    uint8_t **body)
{
	return sk_build(b, IKE_PL_SK, inner, 0, 0, body_len, body);
}

int
ike_build_skf(struct ike_builder *b, uint8_t inner, uint16_t num,
    uint16_t total, size_t body_len, uint8_t **body)
{
	return sk_build(b, IKE_PL_SKF, inner, num, total, body_len, body);
}

int
ike_msg_build(const struct ike_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	const struct ike_payloads *pl = &m->pl;
	struct wr w = wr_make(buf, cap);
	struct ike_builder b;
	uint8_t *body;
	size_t i;

	ike_build_init(&b, &w, &m->hdr);
	for (i = 0; i < pl->nnotify && i < IKE_MAX_REPEAT; i++)
		(void)ike_build_notify(&b, &pl->notify[i]);
	if (pl->have & IKE_HAVE_SA)
		(void)ike_build_sa(&b, &pl->sa);
	if (pl->have & IKE_HAVE_KE)
		(void)ike_build_ke(&b, &pl->ke);
	if (pl->have & IKE_HAVE_IDI)
		(void)ike_build_id(&b, IKE_PL_IDI, &pl->idi);
	for (i = 0; i < pl->ncert && i < IKE_MAX_REPEAT; i++)
		(void)ike_build_cert(&b, IKE_PL_CERT, &pl->cert[i]);
	for (i = 0; i < pl->ncertreq && i < IKE_MAX_REPEAT; i++)
		(void)ike_build_cert(&b, IKE_PL_CERTREQ, &pl->certreq[i]);
	if (pl->have & IKE_HAVE_IDR)
		(void)ike_build_id(&b, IKE_PL_IDR, &pl->idr);
	if (pl->have & IKE_HAVE_AUTH)
		(void)ike_build_auth(&b, &pl->auth);
	if (pl->have & IKE_HAVE_NONCE)
		(void)ike_build_nonce(&b, pl->nonce.p, pl->nonce.len);
	if (pl->have & IKE_HAVE_CP)
		(void)ike_build_cp(&b, &pl->cp);
	if (pl->have & IKE_HAVE_EAP)
		(void)ike_build_eap(&b, &pl->eap);
	for (i = 0; i < pl->ndelete && i < IKE_MAX_REPEAT; i++)
		(void)ike_build_delete(&b, &pl->delete[i]);
	if (pl->have & IKE_HAVE_TSI)
		(void)ike_build_ts(&b, IKE_PL_TSI, &pl->tsi);
	if (pl->have & IKE_HAVE_TSR)
		(void)ike_build_ts(&b, IKE_PL_TSR, &pl->tsr);
	for (i = 0; i < pl->nvendor && i < IKE_MAX_REPEAT; i++)
		(void)ike_build_vendor(&b, pl->vendor[i].p, pl->vendor[i].len);
	if (pl->have & (IKE_HAVE_SK | IKE_HAVE_SKF)) {
		const struct ike_sk_pl *sk = &pl->sk;

		if (pl->have & IKE_HAVE_SK)
			(void)ike_build_sk(&b, sk->inner, sk->body.len, &body);
		else
			(void)ike_build_skf(&b, sk->inner, sk->frag_num,
			    sk->frag_total, sk->body.len, &body);
		if (body != NULL && sk->body.len > 0)
			memcpy(body, sk->body.p, sk->body.len);
	}
	if (ike_build_finish(&b) == -1)
		return -1;
	*len = w.len;
	return 0;
}

static bool
data_eq(const struct ike_data *a, const struct ike_data *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static bool
attr_eq(const struct ike_xattr *a, const struct ike_xattr *b)
{
	return a->type == b->type && a->tv == b->tv && a->value == b->value &&
	    data_eq(&a->data, &b->data);
}

static bool
sa_eq(const struct ike_sa_pl *a, const struct ike_sa_pl *b)
{
	if (a->nproposals != b->nproposals)
		return false;
	for (size_t i = 0; i < a->nproposals; i++) {
		const struct ike_proposal *pa = &a->proposals[i];
		const struct ike_proposal *pb = &b->proposals[i];

		if (pa->num != pb->num || pa->proto != pb->proto ||
		    pa->spi_size != pb->spi_size ||
		    memcmp(pa->spi, pb->spi, pa->spi_size) != 0 ||
		    pa->nxforms != pb->nxforms)
			return false;
		for (size_t j = 0; j < pa->nxforms; j++) {
			const struct ike_xform *xa, *xb;

			xa = &a->xforms[pa->xform_first + j];
			xb = &b->xforms[pb->xform_first + j];
			if (xa->type != xb->type || xa->id != xb->id ||
			    xa->key_length != xb->key_length ||
			    xa->nattrs != xb->nattrs)
				return false;
			for (size_t k = 0; k < xa->nattrs; k++)
				if (!attr_eq(&a->attrs[xa->attr_first + k],
				    &b->attrs[xb->attr_first + k]))
					return false;
		}
	}
	return true;
}

static bool
ts_eq(const struct ike_ts_pl *a, const struct ike_ts_pl *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct ike_ts *x = &a->ts[i], *y = &b->ts[i];

		if (x->type != y->type || x->proto != y->proto ||
		    x->start_port != y->start_port ||
		    x->end_port != y->end_port ||
		    memcmp(x->start, y->start, sizeof(x->start)) != 0 ||
		    memcmp(x->end, y->end, sizeof(x->end)) != 0 ||
		    !data_eq(&x->other, &y->other))
			return false;
	}
	return true;
}

static bool
cert_eq(const struct ike_cert *a, const struct ike_cert *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].encoding != b[i].encoding ||
		    !data_eq(&a[i].data, &b[i].data))
			return false;
	return true;
}

static bool
payloads_eq(const struct ike_payloads *a, const struct ike_payloads *b)
{
	uint32_t h = a->have;
	size_t i;

	if (a->have != b->have || a->nnotify != b->nnotify ||
	    a->ncert != b->ncert || a->ncertreq != b->ncertreq ||
	    a->nvendor != b->nvendor || a->ndelete != b->ndelete)
		return false;
	if ((h & IKE_HAVE_SA) && !sa_eq(&a->sa, &b->sa))
		return false;
	if ((h & IKE_HAVE_KE) && (a->ke.group != b->ke.group ||
	    !data_eq(&a->ke.data, &b->ke.data)))
		return false;
	if ((h & IKE_HAVE_IDI) && (a->idi.type != b->idi.type ||
	    !data_eq(&a->idi.data, &b->idi.data)))
		return false;
	if ((h & IKE_HAVE_IDR) && (a->idr.type != b->idr.type ||
	    !data_eq(&a->idr.data, &b->idr.data)))
		return false;
	if ((h & IKE_HAVE_AUTH) && (a->auth.method != b->auth.method ||
	    !data_eq(&a->auth.data, &b->auth.data)))
		return false;
	if ((h & IKE_HAVE_NONCE) && !data_eq(&a->nonce, &b->nonce))
		return false;
	if ((h & IKE_HAVE_TSI) && !ts_eq(&a->tsi, &b->tsi))
		return false;
	if ((h & IKE_HAVE_TSR) && !ts_eq(&a->tsr, &b->tsr))
		return false;
	if (h & IKE_HAVE_CP) {
		if (a->cp.type != b->cp.type || a->cp.nattrs != b->cp.nattrs)
			return false;
		for (i = 0; i < a->cp.nattrs; i++)
			if (a->cp.attrs[i].type != b->cp.attrs[i].type ||
			    !data_eq(&a->cp.attrs[i].value,
			    &b->cp.attrs[i].value))
				return false;
	}
	if ((h & IKE_HAVE_EAP) && (a->eap.code != b->eap.code ||
	    a->eap.id != b->eap.id || a->eap.type != b->eap.type ||
	    !data_eq(&a->eap.data, &b->eap.data)))
		return false;
	if ((h & (IKE_HAVE_SK | IKE_HAVE_SKF)) &&
	    (a->sk.inner != b->sk.inner || !data_eq(&a->sk.body, &b->sk.body)))
		return false;
	if ((h & IKE_HAVE_SKF) && (a->sk.frag_num != b->sk.frag_num ||
	    a->sk.frag_total != b->sk.frag_total))
		return false;
	for (i = 0; i < a->nnotify; i++)
		if (a->notify[i].proto != b->notify[i].proto ||
		    a->notify[i].type != b->notify[i].type ||
		    !data_eq(&a->notify[i].spi, &b->notify[i].spi) ||
		    !data_eq(&a->notify[i].data, &b->notify[i].data))
			return false;
	for (i = 0; i < a->ndelete; i++)
		if (a->delete[i].proto != b->delete[i].proto ||
		    a->delete[i].spi_size != b->delete[i].spi_size ||
		    a->delete[i].nspis != b->delete[i].nspis ||
		    !data_eq(&a->delete[i].spis, &b->delete[i].spis))
			return false;
	for (i = 0; i < a->nvendor; i++)
		if (!data_eq(&a->vendor[i], &b->vendor[i]))
			return false;
	return cert_eq(a->cert, b->cert, a->ncert) &&
	    cert_eq(a->certreq, b->certreq, a->ncertreq);
}

bool
ike_msg_equal(const struct ike_msg *a, const struct ike_msg *b)
{
	const struct ike_hdr *x = &a->hdr, *y = &b->hdr;

	if (x->spi_i != y->spi_i || x->spi_r != y->spi_r ||
	    x->major != y->major || x->minor != y->minor ||
	    x->exchange != y->exchange || x->flags != y->flags ||
	    x->msgid != y->msgid)
		return false;
	return payloads_eq(&a->pl, &b->pl);
}
