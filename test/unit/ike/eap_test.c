/*
 * ike/eap.c, the local EAP backend: EAP-Identity and EAP-MSCHAPv2 driven
 * by a test peer built on ike/mschapv2.c (the RFC 2759 worked-example
 * credentials), checking each packet's framing (RFC 3748 §4,
 * draft-kamath-pppext-eap-mschapv2 §2), the authenticator response, the
 * MSK, and the refusals: wrong password, unknown user (after a challenge
 * all the same), wrong Identifier, Nak, malformed lengths.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike/eap.h"
#include "ike/mschapv2.h"

static void
fini(void)
{
	ike_mschapv2_cleanup();
}

TestSuite(eap, .fini = fini);

static const uint8_t peer_chal[16] = {
	0x21, 0x40, 0x23, 0x24, 0x25, 0x5e, 0x26, 0x2a,
	0x28, 0x29, 0x5f, 0x2b, 0x3a, 0x33, 0x7c, 0x7e
};

static int
pw_of(void *arg, const char *user, size_t len, uint8_t *pw, size_t cap,
    size_t *pw_len)
{
	(void)arg;
	if (len != 4 || strcmp(user, "User") != 0 || cap < 10)
		return -1;
	memcpy(pw, "clientPass", 10);
	*pw_len = 10;
	return 0;
}

static const struct ike_eap_local_conf lconf = { pw_of, NULL, "srv" };

struct peer {
	void		*conv;
	struct ike_eap_out out;
	uint8_t		 id;		/* of the last request */
	uint8_t		 chal[16];
};

static enum ike_eap_result
send_pkt(struct peer *p, const uint8_t *pkt, size_t len)
{
	return ike_eap_local.input(p->conv, pkt, len, &p->out);
}

/* Response/Identity @user to the Identity request. */
static enum ike_eap_result
identity(struct peer *p, const char *user)
{
	uint8_t pkt[64];
	size_t n = strlen(user);

	pkt[0] = IKE_EAP_RESPONSE;
	pkt[1] = p->id;
	pkt[2] = 0;
	pkt[3] = (uint8_t)(5 + n);
	pkt[4] = IKE_EAP_TYPE_IDENTITY;
	memcpy(pkt + 5, user, n);
	return send_pkt(p, pkt, 5 + n);
}

/* Reads the Challenge request in p->out. */
static void
take_challenge(struct peer *p)
{
	const uint8_t *q = p->out.pkt;

	cr_assert_eq(q[0], IKE_EAP_REQUEST);
	cr_assert_eq(q[4], IKE_EAP_TYPE_MSCHAPV2);
	cr_assert_eq(q[5], 1, "OpCode Challenge");
	cr_assert_eq(q[6], q[1], "MS-CHAPv2-ID follows the Identifier");
	cr_assert_eq((q[7] << 8 | q[8]), p->out.len - 5, "MS-Length");
	cr_assert_eq(q[9], 16, "Value-Size");
	cr_assert_eq(p->out.len, 10 + 16 + 3);
	cr_assert_eq(memcmp(q + 26, "srv", 3), 0, "our Name");
	p->id = q[1];
	memcpy(p->chal, q + 10, 16);
}

/* The Response with @password for @user; @fix patches the packet. */
static enum ike_eap_result
response(struct peer *p, const char *user, const char *password,
    size_t cut)
{
	uint8_t pkt[128], h[16];
	size_t n = strlen(user), len = 9 + 1 + 49 + n;

	cr_assert_eq(ike_mschapv2_nt_hash((const uint8_t *)password,
	    strlen(password), h), 0);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = IKE_EAP_RESPONSE;
	pkt[1] = p->id;
	pkt[2] = (uint8_t)((len - cut) >> 8);
	pkt[3] = (uint8_t)(len - cut);
	pkt[4] = IKE_EAP_TYPE_MSCHAPV2;
	pkt[5] = 2;
	pkt[6] = p->id;
	pkt[7] = (uint8_t)((len - 5 - cut) >> 8);
	pkt[8] = (uint8_t)(len - 5 - cut);
	pkt[9] = 49;
	memcpy(pkt + 10, peer_chal, 16);
	cr_assert_eq(ike_mschapv2_nt_response(p->chal, peer_chal,
	    (const uint8_t *)user, n, h, pkt + 34), 0);
	memcpy(pkt + 59, user, n);
	return send_pkt(p, pkt, len - cut);
}

static void
begin(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	cr_assert_not_null(p->conv = ike_eap_local.start((void *)&lconf, NULL));
	cr_assert_eq(ike_eap_local.input(p->conv, NULL, 0, &p->out),
	    IKE_EAP_CONTINUE);
	cr_assert_eq(p->out.len, 5);
	cr_assert_eq(p->out.pkt[0], IKE_EAP_REQUEST);
	cr_assert_eq(p->out.pkt[4], IKE_EAP_TYPE_IDENTITY);
	p->id = p->out.pkt[1];
}

Test(eap, mschapv2_success_and_msk)
{
	uint8_t h[16], nt[24], msk[64], ack[6];
	char s[IKE_MSCHAPV2_AUTH_RESP_LEN];
	const uint8_t *q;
	struct peer p;

	begin(&p);
	cr_assert_eq(identity(&p, "User"), IKE_EAP_CONTINUE);
	cr_assert_str_eq(ike_eap_local.identity(p.conv), "User");
	take_challenge(&p);
	cr_assert_eq(response(&p, "User", "clientPass", 0), IKE_EAP_CONTINUE);
	/* Success request: OpCode 3 and "S=<40 hex> M=...". */
	q = p.out.pkt;
	cr_assert_eq(q[5], 3);
	cr_assert_eq((q[7] << 8 | q[8]), p.out.len - 5);
	cr_assert_eq(ike_mschapv2_nt_hash((const uint8_t *)"clientPass", 10,
	    h), 0);
	cr_assert_eq(ike_mschapv2_nt_response(p.chal, peer_chal,
	    (const uint8_t *)"User", 4, h, nt), 0);
	cr_assert_eq(ike_mschapv2_auth_response(h, nt, peer_chal, p.chal,
	    (const uint8_t *)"User", 4, s), 0);
	cr_assert_eq(memcmp(q + 9, s, sizeof(s)), 0);
	p.id = q[1];
	/* The peer's Success response: OpCode alone. */
	ack[0] = IKE_EAP_RESPONSE;
	ack[1] = p.id;
	ack[2] = 0;
	ack[3] = 6;
	ack[4] = IKE_EAP_TYPE_MSCHAPV2;
	ack[5] = 3;
	cr_assert_eq(send_pkt(&p, ack, 6), IKE_EAP_ACCEPT);
	cr_assert_eq(p.out.len, 4);
	cr_assert_eq(p.out.pkt[0], IKE_EAP_SUCCESS);
	cr_assert_eq(p.out.pkt[1], p.id);
	cr_assert_eq(p.out.msk_len, 64);
	cr_assert_eq(ike_mschapv2_msk(h, nt, msk), 0);
	cr_assert_arr_eq(p.out.msk, msk, 64);
	/* Over: anything more is refused. */
	cr_assert_eq(send_pkt(&p, ack, 6), IKE_EAP_REJECT);
	ike_eap_local.free(p.conv);
}

Test(eap, wrong_password)
{
	struct peer p;

	begin(&p);
	cr_assert_eq(identity(&p, "User"), IKE_EAP_CONTINUE);
	take_challenge(&p);
	cr_assert_eq(response(&p, "User", "wrong", 0), IKE_EAP_REJECT);
	cr_assert_str_eq(p.out.reason, "EAP-MSCHAPv2: wrong password");
	cr_assert_eq(p.out.len, 4);
	cr_assert_eq(p.out.pkt[0], IKE_EAP_FAILURE);
	cr_assert_eq(p.out.msk_len, 0);
	ike_eap_local.free(p.conv);
}

/* An unknown user is challenged like any other, then refused. */
Test(eap, unknown_user)
{
	struct peer p;

	begin(&p);
	cr_assert_eq(identity(&p, "Mallory"), IKE_EAP_CONTINUE);
	take_challenge(&p);
	cr_assert_eq(response(&p, "Mallory", "clientPass", 0),
	    IKE_EAP_REJECT);
	cr_assert_str_eq(p.out.reason, "EAP-MSCHAPv2: unknown user");
	ike_eap_local.free(p.conv);
}

Test(eap, refusals)
{
	static const uint8_t nak[] = { 2, 0, 0, 6, IKE_EAP_TYPE_NAK, 4 };
	uint8_t pkt[8];
	struct peer p;

	/* A response to another request (Identifier). */
	begin(&p);
	p.id++;
	cr_assert_eq(identity(&p, "User"), IKE_EAP_REJECT);
	ike_eap_local.free(p.conv);
	/* Nak of MSCHAPv2. */
	begin(&p);
	cr_assert_eq(identity(&p, "User"), IKE_EAP_CONTINUE);
	take_challenge(&p);
	memcpy(pkt, nak, sizeof(nak));
	pkt[1] = p.id;
	cr_assert_eq(send_pkt(&p, pkt, sizeof(nak)), IKE_EAP_REJECT);
	cr_assert_str_eq(p.out.reason, "EAP: the peer refused EAP-MSCHAPv2 "
	    "(Nak)");
	ike_eap_local.free(p.conv);
	/* A Response cut short (EAP and MS lengths agree with it). */
	begin(&p);
	cr_assert_eq(identity(&p, "User"), IKE_EAP_CONTINUE);
	take_challenge(&p);
	cr_assert_eq(response(&p, "", "clientPass", 20), IKE_EAP_REJECT);
	cr_assert_str_eq(p.out.reason, "EAP-MSCHAPv2: malformed Response");
	ike_eap_local.free(p.conv);
	/* An identity with a control character; an empty one. */
	begin(&p);
	cr_assert_eq(identity(&p, "a\nb"), IKE_EAP_REJECT);
	ike_eap_local.free(p.conv);
	begin(&p);
	cr_assert_eq(identity(&p, ""), IKE_EAP_REJECT);
	ike_eap_local.free(p.conv);
	/* The EAP Length must be the packet's. */
	begin(&p);
	pkt[0] = 2;
	pkt[1] = p.id;
	pkt[2] = 0;
	pkt[3] = 9;
	pkt[4] = 1;
	pkt[5] = 'U';
	cr_assert_eq(send_pkt(&p, pkt, 6), IKE_EAP_REJECT);
	ike_eap_local.free(p.conv);
}

Test(eap, split)
{
	static const uint8_t ok[] = { 3, 7, 0, 4 };
	static const uint8_t untyped[] = { 1, 7, 0, 4 };
	uint8_t code, id, type;
	const uint8_t *d;
	size_t n;

	cr_assert(ike_eap_split(ok, sizeof(ok), &code, &id, &type, &d, &n));
	cr_assert_eq(code, 3);
	cr_assert_eq(id, 7);
	cr_assert_eq(n, 0);
	cr_assert_not(ike_eap_split(untyped, sizeof(untyped), &code, &id,
	    &type, &d, &n));
	cr_assert_not(ike_eap_split(ok, 3, &code, &id, &type, &d, &n));
}
