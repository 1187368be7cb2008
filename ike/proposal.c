/*
 * Proposal strings and proposal selection (RFC 7296 §2.7, §3.3).
 */
#include <stdio.h>
#include <string.h>

#include "ike/crypto.h"
#include "ike/dh.h"
#include "ike/proposal.h"

enum {
	TOKEN_MAX	= 32		/* longest token we look at, octets */
};

struct token {
	const char	*name;
	uint8_t		 type;		/* enum ike_xform_type */
	uint16_t	 id;
	uint16_t	 bits;
};

static const struct token tokens[] = {
	{ "aes128",		IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 128 },
	{ "aes",		IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 128 },
	{ "aes192",		IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 192 },
	{ "aes256",		IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 256 },
	{ "aes128gcm16",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128 },
	{ "aes128gcm128",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128 },
	{ "aes128gcm",		IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm16",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 192 },
	{ "aes192gcm128",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 192 },
	{ "aes192gcm",		IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm16",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256 },
	{ "aes256gcm128",	IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256 },
	{ "aes256gcm",		IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256 },
	{ "chacha20poly1305",	IKE_XFORM_ENCR, IKE_ENCR_CHACHA20_POLY1305,
	    0 },
	{ "sha1",		IKE_XFORM_INTEG, IKE_INTEG_HMAC_SHA1_96, 0 },
	{ "sha",		IKE_XFORM_INTEG, IKE_INTEG_HMAC_SHA1_96, 0 },
	{ "sha256",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_256_128, 0 },
	{ "sha2_256",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_256_128, 0 },
	{ "sha384",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_384_192, 0 },
	{ "sha2_384",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_384_192, 0 },
	{ "sha512",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_512_256, 0 },
	{ "sha2_512",		IKE_XFORM_INTEG,
	    IKE_INTEG_HMAC_SHA2_512_256, 0 },
	{ "prfsha1",		IKE_XFORM_PRF, IKE_PRF_HMAC_SHA1, 0 },
	{ "prfsha256",		IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0 },
	{ "prfsha384",		IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0 },
	{ "prfsha512",		IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_512, 0 },
	{ "prfaescmac",		IKE_XFORM_PRF, IKE_PRF_AES128_CMAC, 0 },
	{ "modp1024",		IKE_XFORM_DH, IKE_DH_MODP1024, 0 },
	{ "modp1536",		IKE_XFORM_DH, IKE_DH_MODP1536, 0 },
	{ "modp2048",		IKE_XFORM_DH, IKE_DH_MODP2048, 0 },
	{ "modp3072",		IKE_XFORM_DH, IKE_DH_MODP3072, 0 },
	{ "modp4096",		IKE_XFORM_DH, IKE_DH_MODP4096, 0 },
	{ "ecp256",		IKE_XFORM_DH, IKE_DH_ECP256, 0 },
	{ "ecp384",		IKE_XFORM_DH, IKE_DH_ECP384, 0 },
	{ "ecp521",		IKE_XFORM_DH, IKE_DH_ECP521, 0 },
	{ "x25519",		IKE_XFORM_DH, IKE_DH_CURVE25519, 0 },
	{ "curve25519",		IKE_XFORM_DH, IKE_DH_CURVE25519, 0 },
	{ "x448",		IKE_XFORM_DH, IKE_DH_CURVE448, 0 },
	{ "curve448",		IKE_XFORM_DH, IKE_DH_CURVE448, 0 },
	{ "esn",		IKE_XFORM_ESN, IKE_ESN_YES, 0 },
	{ "noesn",		IKE_XFORM_ESN, IKE_ESN_NO, 0 },
};

/* The PRF that goes with an integrity algorithm (strongSwan's rule). */
static uint16_t
prf_of_integ(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		return IKE_PRF_HMAC_SHA1;
	case IKE_INTEG_HMAC_SHA2_256_128:
		return IKE_PRF_HMAC_SHA2_256;
	case IKE_INTEG_HMAC_SHA2_384_192:
		return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256:
		return IKE_PRF_HMAC_SHA2_512;
	}
	return 0;
}

static bool
has16(const uint16_t *v, size_t n, uint16_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Appends @x to v[*n] unless present; false when full. */
static bool
add16(uint16_t *v, uint8_t *n, size_t cap, uint16_t x)
{
	if (has16(v, *n, x))
		return true;
	if (*n >= cap)
		return false;
	v[(*n)++] = x;
	return true;
}

static bool
add_token(struct ike_prop *p, const struct token *t)
{
	size_t i;

	switch (t->type) {
	case IKE_XFORM_ENCR:
		for (i = 0; i < p->nencr; i++)
			if (p->encr[i].id == t->id &&
			    p->encr[i].bits == t->bits)
				return true;
		if (p->nencr >= IKE_PROP_ALGS_MAX)
			return false;
		p->encr[p->nencr].id = t->id;
		p->encr[p->nencr++].bits = t->bits;
		return true;
	case IKE_XFORM_PRF:
		return add16(p->prf, &p->nprf, IKE_PROP_ALGS_MAX, t->id);
	case IKE_XFORM_INTEG:
		return add16(p->integ, &p->ninteg, IKE_PROP_ALGS_MAX, t->id);
	case IKE_XFORM_DH:
		return add16(p->dh, &p->ndh, IKE_PROP_ALGS_MAX, t->id);
	default:
		return add16(p->esn, &p->nesn, 2, t->id);
	}
}

/* Checks the combination rules once every token is in. */
static bool
check(uint8_t proto, struct ike_prop *p, char *err, size_t errlen)
{
	size_t i, naead = 0;

	if (p->nencr == 0) {
		snprintf(err, errlen, "no encryption algorithm");
		return false;
	}
	for (i = 0; i < p->nencr; i++)
		if (ike_encr_is_aead(p->encr[i].id))
			naead++;
	if (naead != 0 && naead != p->nencr) {
		snprintf(err, errlen,
		    "AEAD and non-AEAD ciphers in one proposal");
		return false;
	}
	if (naead != 0 && p->ninteg != 0) {
		snprintf(err, errlen,
		    "an AEAD cipher takes no integrity algorithm");
		return false;
	}
	if (naead == 0 && p->ninteg == 0) {
		snprintf(err, errlen, "no integrity algorithm");
		return false;
	}
	if (proto == IKE_PROTO_ESP) {
		if (p->nprf != 0) {
			snprintf(err, errlen, "a PRF in an ESP proposal");
			return false;
		}
		if (p->nesn == 0)
			p->esn[p->nesn++] = IKE_ESN_NO;
		return true;
	}
	if (p->nesn != 0) {
		snprintf(err, errlen, "esn/noesn in an IKE proposal");
		return false;
	}
	if (p->ndh == 0) {
		snprintf(err, errlen, "no key exchange method");
		return false;
	}
	if (p->nprf == 0 && naead != 0) {
		snprintf(err, errlen, "an AEAD proposal needs a PRF (prf...)");
		return false;
	}
	if (p->nprf == 0)
		for (i = 0; i < p->ninteg; i++)
			(void)add16(p->prf, &p->nprf, IKE_PROP_ALGS_MAX,
			    prf_of_integ(p->integ[i]));
	return true;
}

/* The proposal in s[0..n), n > 0 (no '\0' needed at s[n]). */
static bool
parse_one(uint8_t proto, const char *s, size_t n, unsigned kex_flags,
    struct ike_prop *out, char *err, size_t errlen)
{
	struct ike_prop p;
	char tok[TOKEN_MAX + 1];
	const char *end = s + n;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.proto = proto;
	if (proto != IKE_PROTO_IKE && proto != IKE_PROTO_ESP) {
		snprintf(err, errlen, "protocol %u is not IKE or ESP", proto);
		return false;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty proposal");
		return false;
	}
	for (;;) {
		const char *q = memchr(s, '-', (size_t)(end - s));
		size_t len = q != NULL ? (size_t)(q - s) : (size_t)(end - s);

		if (len == 0) {
			snprintf(err, errlen, "empty algorithm name");
			return false;
		}
		if (len > TOKEN_MAX) {
			snprintf(err, errlen, "unknown algorithm '%.*s...'",
			    TOKEN_MAX, s);
			return false;
		}
		memcpy(tok, s, len);
		tok[len] = '\0';
		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
			if (strcmp(tokens[i].name, tok) == 0)
				break;
		if (i == sizeof(tokens) / sizeof(tokens[0])) {
			snprintf(err, errlen, "unknown algorithm '%s'", tok);
			return false;
		}
		if (tokens[i].type == IKE_XFORM_DH &&
		    !ike_kex_supported(tokens[i].id, kex_flags)) {
			snprintf(err, errlen,
			    "key exchange '%s' is not supported (weak)", tok);
			return false;
		}
		if (!add_token(&p, &tokens[i])) {
			snprintf(err, errlen, "too many algorithms ('%s')",
			    tok);
			return false;
		}
		if (q == NULL)
			break;
		s = q + 1;
	}
	if (!check(proto, &p, err, errlen))
		return false;
	*out = p;
	return true;
}

bool
ike_proposal_parse(uint8_t proto, const char *s, struct ike_prop *out,
    char *err, size_t errlen)
{
	return parse_one(proto, s, strlen(s), 0, out, err, errlen);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t
ike_proposal_list_parse(uint8_t proto, const char *s, unsigned kex_flags,
    struct ike_prop *out, size_t max, char *err, size_t errlen)
{
	char one[IKE_PROP_ERR_MAX];
	size_t n = 0;

	for (;;) {
		const char *q = strchr(s, ','), *b = s;
		const char *e = q != NULL ? q : s + strlen(s);

		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		if (n == max) {
			snprintf(err, errlen, "more than %zu proposals", max);
			return 0;
		}
		if (!parse_one(proto, b, (size_t)(e - b), kex_flags, &out[n],
		    one, sizeof(one))) {
			snprintf(err, errlen, "proposal %zu '%.*s': %s", n + 1,
			    (int)(e - b > 40 ? 40 : e - b), b, one);
			return 0;
		}
		n++;
		if (q == NULL)
			return n;
		s = q + 1;
	}
}

const char *
ike_proposal_dh_name(uint16_t dh)
{
	size_t i;

	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (tokens[i].type == IKE_XFORM_DH && tokens[i].id == dh)
			return tokens[i].name;
	return "?";
}

/* The initiator's transforms of one proposal, by type. */
struct offer {
	const struct ike_proposal *pr;
	const struct ike_xform *x;	/* nxforms entries */
	bool		 seen[6];	/* index: transform type 1..5 */
	bool		 integ_none;	/* INTEG NONE offered */
	bool		 dh_none;	/* DH NONE offered */
};

/* True when the offer holds a usable transform @type/@id/@bits. */
static bool
offered(const struct offer *o, uint8_t type, uint16_t id, uint16_t bits)
{
	size_t i;

	for (i = 0; i < o->pr->nxforms; i++)
		if (o->x[i].type == type && o->x[i].id == id &&
		    o->x[i].key_length == bits && o->x[i].nattrs == 0)
			return true;
	return false;
}

/* First of ours[n] that the offer holds, or -1. */
static int
pick(const struct offer *o, uint8_t type, const uint16_t *ours, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (offered(o, type, ours[i], 0))
			return (int)i;
	return -1;
}

static bool
match(const struct ike_prop *p, const struct offer *o, uint16_t dh_hint,
    unsigned flags, struct ike_chosen *c)
{
	size_t i;
	int k;
	bool aead;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < p->nencr; i++)
		if (offered(o, IKE_XFORM_ENCR, p->encr[i].id, p->encr[i].bits))
			break;
	if (i == p->nencr)
		return false;
	c->suite.encr = p->encr[i].id;
	c->suite.encr_bits = p->encr[i].bits;
	aead = ike_encr_is_aead(c->suite.encr);

	if (aead) {
		/* Only INTEG NONE may go with a combined-mode cipher. */
		if (o->seen[IKE_XFORM_INTEG] && !o->integ_none)
			return false;
		c->has_integ = o->integ_none;
		c->suite.integ = IKE_INTEG_NONE;
	} else {
		if ((k = pick(o, IKE_XFORM_INTEG, p->integ, p->ninteg)) < 0)
			return false;
		c->suite.integ = p->integ[k];
		c->has_integ = true;
	}

	if (p->proto == IKE_PROTO_IKE) {
		if ((k = pick(o, IKE_XFORM_PRF, p->prf, p->nprf)) < 0)
			return false;
		c->suite.prf = p->prf[k];
	} else if (o->seen[IKE_XFORM_PRF])
		return false;

	c->suite.dh = IKE_DH_NONE;
	if (flags & IKE_SELECT_NO_DH) {
		/* RFC 7296 §1.2: no KE in IKE_AUTH; DH is not negotiated. */
	} else if (p->ndh == 0) {
		if (o->seen[IKE_XFORM_DH] && !o->dh_none)
			return false;
		c->has_dh = o->dh_none;
	} else {
		if (dh_hint != IKE_DH_NONE && has16(p->dh, p->ndh, dh_hint) &&
		    offered(o, IKE_XFORM_DH, dh_hint, 0))
			c->suite.dh = dh_hint;
		else if ((k = pick(o, IKE_XFORM_DH, p->dh, p->ndh)) >= 0)
			c->suite.dh = p->dh[k];
		else
			return false;
		c->has_dh = true;
	}

	if (p->proto == IKE_PROTO_ESP) {
		if (o->seen[IKE_XFORM_ESN]) {
			if ((k = pick(o, IKE_XFORM_ESN, p->esn, p->nesn)) < 0)
				return false;
			c->esn = (uint8_t)p->esn[k];
			c->has_esn = true;
		} else if (!has16(p->esn, p->nesn, IKE_ESN_NO))
			return false;
	} else if (o->seen[IKE_XFORM_ESN])
		return false;

	c->num = o->pr->num;
	c->proto = o->pr->proto;
	c->spi_size = o->pr->spi_size;
	memcpy(c->spi, o->pr->spi, sizeof(c->spi));
	return true;
}

enum ike_select_result
ike_proposal_select(const struct ike_prop *ours, size_t nours,
    const struct ike_sa_pl *sa, uint16_t dh_hint, unsigned flags,
    struct ike_chosen *out)
{
	struct offer o;
	size_t i, j, k;
	bool unknown;

	for (i = 0; i < nours; i++) {
		for (j = 0; j < sa->nproposals; j++) {
			memset(&o, 0, sizeof(o));
			o.pr = &sa->proposals[j];
			if (o.pr->proto != ours[i].proto ||
			    (size_t)o.pr->xform_first + o.pr->nxforms >
			    sa->nxforms)
				continue;
			o.x = &sa->xforms[o.pr->xform_first];
			unknown = false;
			for (k = 0; k < o.pr->nxforms; k++) {
				if (o.x[k].type < IKE_XFORM_ENCR ||
				    o.x[k].type > IKE_XFORM_ESN) {
					/* §3.3.6: reject the proposal. */
					unknown = true;
					break;
				}
				o.seen[o.x[k].type] = true;
				if (o.x[k].type == IKE_XFORM_INTEG &&
				    o.x[k].id == IKE_INTEG_NONE)
					o.integ_none = true;
				if (o.x[k].type == IKE_XFORM_DH &&
				    o.x[k].id == IKE_DH_NONE)
					o.dh_none = true;
			}
			if (!unknown && match(&ours[i], &o, dh_hint, flags,
			    out))
				return IKE_SELECT_OK;
		}
	}
	memset(out, 0, sizeof(*out));
	return IKE_SELECT_NO_PROPOSAL;
}

static void
add_xform(struct ike_sa_pl *sa, uint8_t type, uint16_t id, uint16_t bits)
{
	struct ike_xform *x = &sa->xforms[sa->nxforms++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->id = id;
	x->key_length = bits;
}

void
ike_proposal_response(const struct ike_chosen *c, const uint8_t *spi,
    uint8_t spi_size, struct ike_sa_pl *out)
{
	struct ike_proposal *pr = &out->proposals[0];

	out->nproposals = 1;
	out->nxforms = 0;
	out->nattrs = 0;
	memset(pr, 0, sizeof(*pr));
	pr->num = c->num;
	pr->proto = c->proto;
	pr->spi_size = spi_size > sizeof(pr->spi) ? 0 : spi_size;
	if (pr->spi_size > 0)
		memcpy(pr->spi, spi, pr->spi_size);
	add_xform(out, IKE_XFORM_ENCR, (uint16_t)c->suite.encr,
	    (uint16_t)c->suite.encr_bits);
	if (c->proto == IKE_PROTO_IKE)
		add_xform(out, IKE_XFORM_PRF, (uint16_t)c->suite.prf, 0);
	if (c->has_integ)
		add_xform(out, IKE_XFORM_INTEG, (uint16_t)c->suite.integ, 0);
	if (c->has_dh)
		add_xform(out, IKE_XFORM_DH, (uint16_t)c->suite.dh, 0);
	if (c->has_esn)
		add_xform(out, IKE_XFORM_ESN, c->esn, 0);
	pr->nxforms = out->nxforms;
}
