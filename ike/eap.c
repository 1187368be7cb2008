/*
 * EAP authenticator, local backend: EAP-Identity (RFC 3748 §5.1), then
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 §2, RFC 2759):
 *
 *   -> Request/Identity
 *   <- Response/Identity "user"
 *   -> Request/MSCHAPv2 Challenge (OpCode 1, 16-octet challenge, our Name)
 *   <- Response/MSCHAPv2 Response (OpCode 2: Peer-Challenge, 8 reserved,
 *      NT-Response, Flags, Name)
 *   -> Request/MSCHAPv2 Success (OpCode 3, "S=<auth response> M=...")
 *   <- Response/MSCHAPv2 Success (OpCode 3 alone)
 *   -> Success, with the MSK
 *
 * Anything else, a wrong NT-Response or an unknown user ends it with
 * EAP-Failure.  MS-Length is the EAP Length minus 5 (the draft, §2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/eap.h"
#include "ike/mschapv2.h"

enum {
	OP_CHALLENGE	= 1,
	OP_RESPONSE	= 2,
	OP_SUCCESS	= 3,
	OP_FAILURE	= 4,
	RESP_VALUE_LEN	= 49,	/* Peer-Challenge, reserved, NT-Resp, Flags */
	NAME_MAX_LEN	= 64	/* our Name in the challenge, octets */
};

enum local_state {
	L_START,	/* nothing sent yet */
	L_IDENTITY,	/* Request/Identity sent */
	L_CHALLENGE,	/* MSCHAPv2 Challenge sent */
	L_SUCCESS,	/* MSCHAPv2 Success request sent */
	L_DONE		/* Success or Failure sent: nothing more */
};

struct local_conv {
	const struct ike_eap_local_conf *conf;
	enum local_state state;
	uint8_t		 id;		/* Identifier of our last request */
	char		 identity[IKE_EAP_ID_MAX + 1];
	bool		 known;		/* the identity has a password */
	uint8_t		 nt_hash[IKE_MSCHAPV2_HASH_LEN];
	uint8_t		 chal[IKE_MSCHAPV2_CHALLENGE_LEN];
	uint8_t		 msk[IKE_MSCHAPV2_MSK_LEN];
};

bool
ike_eap_split(const uint8_t *pkt, size_t len, uint8_t *code, uint8_t *id,
    uint8_t *type, const uint8_t **data, size_t *data_len)
{
	struct rd r = rd_make(pkt, len);
	uint16_t l;

	if (!rd_u8(&r, code) || !rd_u8(&r, id) || !rd_be16(&r, &l) ||
	    l != len)
		return false;
	*type = 0;
	if ((*code == IKE_EAP_REQUEST || *code == IKE_EAP_RESPONSE) &&
	    !rd_u8(&r, type))
		return false;
	*data = r.p;
	*data_len = r.n;
	return true;
}

static void *
local_start(void *arg, void *owner)
{
	struct local_conv *c;

	(void)owner;	/* never PENDING */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->conf = arg;
	/* RFC 3748 §4.1: any first Identifier; the next ones follow it. */
	if (RAND_bytes(&c->id, 1) != 1)
		c->id = 0;
	return c;
}

static void
local_free(void *conv)
{
	if (conv == NULL)
		return;
	OPENSSL_clear_free(conv, sizeof(struct local_conv));
}

static const char *
local_identity(const void *conv)
{
	return ((const struct local_conv *)conv)->identity;
}

/* A packet of @code into out; @type 0 for Success/Failure. */
static struct wr
pkt_begin(struct ike_eap_out *out, uint8_t code, uint8_t id, uint8_t type)
{
	struct wr w = wr_make(out->pkt, sizeof(out->pkt));

	(void)wr_u8(&w, code);
	(void)wr_u8(&w, id);
	(void)wr_be16(&w, 0);		/* patched by pkt_end() */
	if (type != 0)
		(void)wr_u8(&w, type);
	return w;
}

static void
pkt_end(struct ike_eap_out *out, struct wr *w)
{
	(void)wr_patch_be16(w, 2, (uint16_t)w->len);
	out->len = w->err ? 0 : w->len;
}

static enum ike_eap_result
fail(struct local_conv *c, struct ike_eap_out *out, const char *why)
{
	struct wr w;

	/* RFC 3748 §4.2: Failure carries the Identifier of the response. */
	w = pkt_begin(out, IKE_EAP_FAILURE, c->id, 0);
	pkt_end(out, &w);
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	c->state = L_DONE;
	OPENSSL_cleanse(c->nt_hash, sizeof(c->nt_hash));
	return IKE_EAP_REJECT;
}

/* Request/MSCHAPv2 with OpCode @op and @len octets of @value after it. */
static enum ike_eap_result
mschap_request(struct local_conv *c, struct ike_eap_out *out, uint8_t op,
    const void *value, size_t len)
{
	struct wr w;

	c->id++;
	w = pkt_begin(out, IKE_EAP_REQUEST, c->id, IKE_EAP_TYPE_MSCHAPV2);
	(void)wr_u8(&w, op);
	(void)wr_u8(&w, c->id);		/* MS-CHAPv2-ID */
	(void)wr_be16(&w, 0);		/* MS-Length, below */
	(void)wr_bytes(&w, value, len);
	(void)wr_patch_be16(&w, 7, (uint16_t)(w.len - 5));
	pkt_end(out, &w);
	return out->len > 0 ? IKE_EAP_CONTINUE : fail(c, out,
	    "EAP: request does not fit");
}

/* Response/Identity: remember it, look the password up, challenge. */
static enum ike_eap_result
got_identity(struct local_conv *c, const uint8_t *d, size_t n,
    struct ike_eap_out *out)
{
	uint8_t pw[IKE_MSCHAPV2_PASSWORD_MAX * 4], v[1 + 16 + NAME_MAX_LEN];
	const char *name = c->conf->name != NULL ? c->conf->name : "iketcpd";
	size_t pw_len = 0, nl = strlen(name);

	if (n == 0 || n > IKE_EAP_ID_MAX)
		return fail(c, out, "EAP: empty or too long identity");
	for (size_t i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return fail(c, out, "EAP: identity with a byte that "
			    "is not printable ASCII");
	memcpy(c->identity, d, n);
	c->identity[n] = '\0';
	c->known = c->conf->pw(c->conf->pw_arg, c->identity, n, pw,
	    sizeof(pw), &pw_len) == 0 && ike_mschapv2_nt_hash(pw, pw_len,
	    c->nt_hash) == 0;
	OPENSSL_cleanse(pw, sizeof(pw));
	if (RAND_bytes(c->chal, sizeof(c->chal)) != 1)
		return fail(c, out, "EAP: no random challenge");
	if (nl > NAME_MAX_LEN)
		nl = NAME_MAX_LEN;
	v[0] = sizeof(c->chal);		/* Value-Size */
	memcpy(v + 1, c->chal, sizeof(c->chal));
	memcpy(v + 1 + sizeof(c->chal), name, nl);
	c->state = L_CHALLENGE;
	return mschap_request(c, out, OP_CHALLENGE, v, 1 + sizeof(c->chal) +
	    nl);
}

/* Response/MSCHAPv2 Response: check the NT-Response. */
static enum ike_eap_result
got_response(struct local_conv *c, const uint8_t *d, size_t n,
    struct ike_eap_out *out)
{
	struct rd r = rd_make(d, n);
	uint8_t op, msid, vsize, peer[16], nt[24], want[24];
	char s[IKE_MSCHAPV2_AUTH_RESP_LEN + 16];
	uint16_t mslen;
	bool ok;

	if (!rd_u8(&r, &op) || op != OP_RESPONSE)
		return fail(c, out, "EAP-MSCHAPv2: not a Response to our "
		    "Challenge");
	if (!rd_u8(&r, &msid) || !rd_be16(&r, &mslen) || msid != c->id ||
	    mslen != n || !rd_u8(&r, &vsize) ||
	    vsize != RESP_VALUE_LEN || !rd_bytes(&r, peer, sizeof(peer)) ||
	    !rd_skip(&r, 8) || !rd_bytes(&r, nt, sizeof(nt)) ||
	    !rd_skip(&r, 1))
		return fail(c, out, "EAP-MSCHAPv2: malformed Response");
	/* r holds the Name: the user name the hash covers (§8.2). */
	if (!c->known)
		return fail(c, out, "EAP-MSCHAPv2: unknown user");
	if (ike_mschapv2_nt_response(c->chal, peer, r.p, r.n, c->nt_hash,
	    want) != 0)
		return fail(c, out, "EAP-MSCHAPv2: crypto failed");
	ok = CRYPTO_memcmp(want, nt, sizeof(nt)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!ok)
		return fail(c, out, "EAP-MSCHAPv2: wrong password");
	if (ike_mschapv2_auth_response(c->nt_hash, nt, peer, c->chal, r.p,
	    r.n, s) != 0 || ike_mschapv2_msk(c->nt_hash, nt, c->msk) != 0)
		return fail(c, out, "EAP-MSCHAPv2: crypto failed");
	OPENSSL_cleanse(c->nt_hash, sizeof(c->nt_hash));
	memcpy(s + IKE_MSCHAPV2_AUTH_RESP_LEN, " M=Welcome", 10);
	c->state = L_SUCCESS;
	return mschap_request(c, out, OP_SUCCESS, s,
	    IKE_MSCHAPV2_AUTH_RESP_LEN + 10);
}

static enum ike_eap_result
local_input(void *conv, const uint8_t *in, size_t len,
    struct ike_eap_out *out)
{
	struct local_conv *c = conv;
	uint8_t code, id, type;
	const uint8_t *d;
	size_t n;
	struct wr w;

	memset(out, 0, sizeof(*out));
	if (c->state == L_START) {
		c->state = L_IDENTITY;
		w = pkt_begin(out, IKE_EAP_REQUEST, c->id,
		    IKE_EAP_TYPE_IDENTITY);
		pkt_end(out, &w);
		return IKE_EAP_CONTINUE;
	}
	if (c->state == L_DONE || in == NULL)
		return fail(c, out, "EAP: conversation already over");
	if (!ike_eap_split(in, len, &code, &id, &type, &d, &n) || code != IKE_EAP_RESPONSE)
		return fail(c, out, "EAP: not a Response");
	/* §4.1: a response answers our last request, by Identifier. */
	if (id != c->id)
		return fail(c, out, "EAP: Response to another request");
	if (type == IKE_EAP_TYPE_NAK)
		return fail(c, out, "EAP: the peer refused EAP-MSCHAPv2 "
		    "(Nak)");
	switch (c->state) {
	case L_IDENTITY:
		if (type != IKE_EAP_TYPE_IDENTITY)
			return fail(c, out, "EAP: no Identity in response to "
			    "Request/Identity");
		return got_identity(c, d, n, out);
	case L_CHALLENGE:
		if (type != IKE_EAP_TYPE_MSCHAPV2)
			break;
		return got_response(c, d, n, out);
	case L_SUCCESS:
		/* The peer checked our S=: OpCode 3 alone. */
		if (type != IKE_EAP_TYPE_MSCHAPV2 || n != 1 ||
		    d[0] != OP_SUCCESS)
			return fail(c, out, "EAP-MSCHAPv2: the peer did not "
			    "accept our authenticator response");
		c->state = L_DONE;
		w = pkt_begin(out, IKE_EAP_SUCCESS, c->id, 0);
		pkt_end(out, &w);
		memcpy(out->msk, c->msk, sizeof(c->msk));
		out->msk_len = sizeof(c->msk);
		OPENSSL_cleanse(c->msk, sizeof(c->msk));
		return IKE_EAP_ACCEPT;
	default:
		break;
	}
	return fail(c, out, "EAP: unexpected Type in the Response");
}

const struct ike_eap_backend ike_eap_local = {
	.name		= "eap-mschapv2",
	.start		= local_start,
	.input		= local_input,
	.identity	= local_identity,
	.free		= local_free,
};
