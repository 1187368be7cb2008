/*
 * ike/radius.c: Access-Request encoding, the checks on answers (one test
 * per rejection rule), RFC 2548 MS-MPPE key decryption.  Digests that a
 * test expects are computed here with OpenSSL's one-shot calls, from the
 * RFC's formulas, not with the code under test.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "framing/wire.h"
#include "ike/radius.h"

TestSuite(radius);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t secret[] = "xyzzy5461";	/* RFC 2865 §7.1's */
#define SLEN (sizeof(secret) - 1)
static const uint8_t req_auth[16] = {
	0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
	0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a,
};

static void
md5(const void *a, size_t an, const void *b, size_t bn, const void *c,
    size_t cn, uint8_t out[16])
{
	uint8_t buf[8192];

	cr_assert_leq(an + bn + cn, sizeof(buf));
	memcpy(buf, a, an);
	memcpy(buf + an, b, bn);
	memcpy(buf + an + bn, c, cn);
	cr_assert(EVP_Q_digest(NULL, "MD5", NULL, buf, an + bn + cn, out,
	    NULL));
}

static void
hmac_md5(const uint8_t *d, size_t n, uint8_t out[16])
{
	size_t len;

	cr_assert_not_null(EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, secret,
	    SLEN, d, n, out, 16, &len));
}

/* An EAP packet of @len octets: Response, id 7, type 4, filler. */
static void
eap_pkt(uint8_t *p, size_t len)
{
	p[0] = 2;
	p[1] = 7;
	store_be16(p + 2, (uint16_t)len);
	p[4] = 4;
	for (size_t i = 5; i < len; i++)
		p[i] = (uint8_t)i;
}

Test(radius, encodes_a_request_with_split_eap_and_a_valid_msg_auth,
    .timeout = 10)
{
	uint8_t eap[600], pkt[RADIUS_PKT_MAX], copy[RADIUS_PKT_MAX], mac[16];
	struct radius_request rq = {
		.eap = eap, .eap_len = sizeof(eap), .user = "alice",
		.state = (const uint8_t *)"st", .state_len = 2,
		.nas_id = "nas", .called = "192.0.2.1:4500",
		.calling = "198.51.100.7:4500",
	};
	size_t len, off = RADIUS_HDR_LEN, neap = 0, eap_got = 0;
	uint8_t seen[256] = { 0 };

	eap_pkt(eap, sizeof(eap));
	len = radius_encode_request(pkt, sizeof(pkt), 42, req_auth, &rq,
	    secret, SLEN);
	cr_assert_gt(len, RADIUS_HDR_LEN);
	cr_assert_eq(pkt[0], RADIUS_ACCESS_REQUEST);
	cr_assert_eq(pkt[1], 42);
	cr_assert_eq(load_be16(pkt + 2), len);
	cr_assert_arr_eq(pkt + 4, req_auth, 16);
	while (off < len) {
		uint8_t t = pkt[off], n = pkt[off + 1];

		cr_assert_geq(n, 2);
		seen[t]++;
		if (t == RADIUS_A_EAP_MESSAGE) {
			/* 253, 253, then 94 octets, in order. */
			cr_assert_eq(n - 2, neap < 2 ? 253 : 94);
			cr_assert_arr_eq(pkt + off + 2, eap + eap_got, n - 2);
			eap_got += n - 2;
			neap++;
		}
		if (t == RADIUS_A_NAS_PORT_TYPE)
			cr_assert_eq(load_be32(pkt + off + 2), 5);
		if (t == RADIUS_A_MSG_AUTH)
			cr_assert_eq(off + n, len, "not the last attribute");
		off += n;
	}
	cr_assert_eq(off, len);
	cr_assert_eq(neap, 3);
	cr_assert_eq(eap_got, sizeof(eap));
	cr_assert_eq(seen[RADIUS_A_USER_NAME], 1);
	cr_assert_eq(seen[RADIUS_A_NAS_ID], 1);
	cr_assert_eq(seen[RADIUS_A_CALLED_ID], 1);
	cr_assert_eq(seen[RADIUS_A_CALLING_ID], 1);
	cr_assert_eq(seen[RADIUS_A_STATE], 1);
	cr_assert_eq(seen[RADIUS_A_MSG_AUTH], 1);
	/* RFC 3579 §3.2: HMAC-MD5 over the packet, the value zero. */
	memcpy(copy, pkt, len);
	memset(copy + len - 16, 0, 16);
	hmac_md5(copy, len, mac);
	cr_assert_arr_eq(pkt + len - 16, mac, 16);

	/* Another server: new id and authenticator, signed again. */
	cr_assert(radius_rekey_request(pkt, len, 43, mac, secret, SLEN));
	cr_assert_eq(pkt[1], 43);
	memcpy(copy, pkt, len);
	memset(copy + len - 16, 0, 16);
	hmac_md5(copy, len, mac);
	cr_assert_arr_eq(pkt + len - 16, mac, 16);
}

Test(radius, refuses_requests_it_cannot_encode, .timeout = 10)
{
	uint8_t eap[4100], pkt[RADIUS_PKT_MAX];
	char longname[300];
	struct radius_request rq = {
		.eap = eap, .eap_len = 20, .user = "alice", .nas_id = "nas",
	};

	eap_pkt(eap, sizeof(eap));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_gt(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.eap_len = sizeof(eap);	/* past 4096 with the headers */
	cr_assert_eq(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.eap_len = 3;			/* shorter than an EAP header */
	cr_assert_eq(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.eap_len = 20;
	rq.user = longname;		/* User-Name past 253 */
	cr_assert_eq(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.user = "";
	cr_assert_eq(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.user = "alice";
	rq.nas_id = NULL;
	cr_assert_eq(radius_encode_request(pkt, sizeof(pkt), 1, req_auth, &rq,
	    secret, SLEN), 0);
	rq.nas_id = "nas";
	cr_assert_eq(radius_encode_request(pkt, 60, 1, req_auth, &rq,
	    secret, SLEN), 0);
}

/* A response under construction. */
struct resp {
	uint8_t		 p[RADIUS_PKT_MAX + 16];
	size_t		 len;
	size_t		 ma_off;
};

static void
r_start(struct resp *r, uint8_t code, uint8_t id)
{
	memset(r, 0, sizeof(*r));
	r->p[0] = code;
	r->p[1] = id;
	r->len = RADIUS_HDR_LEN;
}

static void
r_attr(struct resp *r, uint8_t type, const void *v, size_t n)
{
	r->p[r->len] = type;
	r->p[r->len + 1] = (uint8_t)(n + 2);
	memcpy(r->p + r->len + 2, v, n);
	if (type == RADIUS_A_MSG_AUTH)
		r->ma_off = r->len + 2;
	r->len += n + 2;
}

/* Response Authenticator alone, as a server with the secret would. */
static void
r_resign_auth(struct resp *r)
{
	uint8_t buf[RADIUS_PKT_MAX + 64];

	memcpy(buf, r->p, 4);
	memcpy(buf + 4, req_auth, 16);
	memcpy(buf + 20, r->p + 20, r->len - 20);
	md5(buf, r->len, secret, SLEN, "", 0, r->p + 4);
}

static void
r_sign(struct resp *r)
{
	store_be16(r->p + 2, (uint16_t)r->len);
	if (r->ma_off != 0)
		cr_assert(radius_sign_response(r->p, r->len, r->ma_off,
		    req_auth, secret, SLEN));
	else
		r_resign_auth(r);
}

static const uint8_t zero16[16];
static const uint8_t eap_req[] = { 1, 9, 0, 6, 4, 0 };

/* A valid Access-Challenge: EAP in two attributes, State, MA. */
static void
challenge(struct resp *r)
{
	r_start(r, RADIUS_ACCESS_CHALLENGE, 5);
	r_attr(r, RADIUS_A_EAP_MESSAGE, eap_req, 3);
	r_attr(r, RADIUS_A_STATE, "state-1", 7);
	r_attr(r, RADIUS_A_EAP_MESSAGE, eap_req + 3, 3);
	r_attr(r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(r);
}

static enum radius_verdict
decode(const struct resp *r, size_t len, struct radius_reply *out)
{
	return radius_decode_response(r->p, len, 5, req_auth, secret, SLEN,
	    out);
}

Test(radius, takes_a_challenge_with_eap_in_pieces_and_state, .timeout = 10)
{
	static struct radius_reply out;
	struct resp r;

	challenge(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_OK);
	cr_assert_eq(out.code, RADIUS_ACCESS_CHALLENGE);
	cr_assert_eq(out.eap_len, sizeof(eap_req));
	cr_assert_arr_eq(out.eap, eap_req, sizeof(eap_req));
	cr_assert_eq(out.state_len, 7);
	cr_assert_arr_eq(out.state, "state-1", 7);
	cr_assert_eq(out.msk_len, 0);
	/* RFC 2865 §3: octets past Length are padding. */
	cr_assert_eq(decode(&r, r.len + 9, &out), RADIUS_OK);
}

/* Each case breaks a valid challenge; the verdict it must get. */
Test(radius, drops_each_bad_answer_with_its_verdict, .timeout = 10)
{
	static struct radius_reply out;
	struct resp r;

	challenge(&r);					/* runt */
	cr_assert_eq(decode(&r, 19, &out), RADIUS_BAD_FORM);
	challenge(&r);					/* short */
	cr_assert_eq(decode(&r, r.len - 1, &out), RADIUS_BAD_FORM);
	challenge(&r);					/* Length 19 */
	store_be16(r.p + 2, 19);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	challenge(&r);					/* a request */
	r.p[0] = RADIUS_ACCESS_REQUEST;
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	challenge(&r);					/* identifier */
	cr_assert_eq(radius_decode_response(r.p, r.len, 6, req_auth, secret,
	    SLEN, &out), RADIUS_BAD_ID);
	challenge(&r);					/* authenticator */
	r.p[4] ^= 1;
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_AUTH);
	challenge(&r);					/* other secret */
	cr_assert_eq(radius_decode_response(r.p, r.len, 5, req_auth,
	    (const uint8_t *)"other", 5, &out), RADIUS_BAD_AUTH);
	challenge(&r);					/* MA value */
	r.p[r.ma_off] ^= 1;
	r_resign_auth(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_MSG_AUTH);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* no MA */
	r_attr(&r, RADIUS_A_EAP_MESSAGE, eap_req, sizeof(eap_req));
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_MSG_AUTH);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* MA of 15 */
	r_attr(&r, RADIUS_A_EAP_MESSAGE, eap_req, sizeof(eap_req));
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 15);
	r.ma_off = 0;
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* two MAs */
	r_attr(&r, RADIUS_A_EAP_MESSAGE, eap_req, sizeof(eap_req));
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* no EAP */
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* EAP Length */
	r_attr(&r, RADIUS_A_EAP_MESSAGE, eap_req, 5);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_CHALLENGE, 5);	/* empty EAP */
	r_attr(&r, RADIUS_A_EAP_MESSAGE, "", 0);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_REJECT, 5);		/* two States */
	r_attr(&r, RADIUS_A_STATE, "a", 1);
	r_attr(&r, RADIUS_A_STATE, "b", 1);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_ACCEPT, 5);		/* Framed-IP of 5 */
	r_attr(&r, RADIUS_A_FRAMED_IP, "\x0a\x00\x00\x01\x00", 5);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_ACCEPT, 5);		/* attr length 1 */
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r.p[r.len] = RADIUS_A_CLASS;
	r.p[r.len + 1] = 1;
	r.len += 2;
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_ACCEPT, 5);		/* attr past end */
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r.p[r.len] = RADIUS_A_CLASS;
	r.p[r.len + 1] = 9;
	r.len += 4;
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	r_start(&r, RADIUS_ACCESS_ACCEPT, 5);		/* VSA of 3 */
	r_attr(&r, RADIUS_A_VENDOR, "\x00\x00\x01", 3);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
}

/* RFC 2548 §2.4.2, step by step with MD5 alone. */
static void
mppe_by_hand(const uint8_t key[16], uint16_t salt, uint8_t out[34])
{
	uint8_t p[32] = { 16 }, b[16], s[2];

	memcpy(p + 1, key, 16);
	store_be16(s, salt);
	md5(secret, SLEN, req_auth, 16, s, 2, b);
	memcpy(out, s, 2);
	for (int k = 0; k < 16; k++)
		out[2 + k] = p[k] ^ b[k];
	md5(secret, SLEN, out + 2, 16, "", 0, b);
	for (int k = 0; k < 16; k++)
		out[18 + k] = p[16 + k] ^ b[k];
}

Test(radius, decrypts_mppe_keys_as_rfc2548_encrypts_them, .timeout = 10)
{
	uint8_t key[16], val[64], want[34], got[32];
	size_t vlen, klen;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(0xa0 + i);
	mppe_by_hand(key, 0x8123, want);
	cr_assert(radius_mppe_encrypt(key, 16, 0x0123, req_auth, secret, SLEN,
	    val, sizeof(val), &vlen));
	cr_assert_eq(vlen, 34);
	cr_assert_arr_eq(val, want, 34);
	cr_assert(radius_mppe_decrypt(val, vlen, req_auth, secret, SLEN, got,
	    &klen));
	cr_assert_eq(klen, 16);
	cr_assert_arr_eq(got, key, 16);
	/* The Salt's high bit must be set. */
	val[0] &= 0x7f;
	cr_assert_not(radius_mppe_decrypt(val, vlen, req_auth, secret, SLEN,
	    got, &klen));
	val[0] |= 0x80;
	/* Not whole blocks; no block; Key-Length past the plaintext. */
	cr_assert_not(radius_mppe_decrypt(val, 33, req_auth, secret, SLEN,
	    got, &klen));
	cr_assert_not(radius_mppe_decrypt(val, 2, req_auth, secret, SLEN,
	    got, &klen));
	val[2] ^= 16 ^ 40;		/* Key-Length 40 */
	cr_assert_not(radius_mppe_decrypt(val, vlen, req_auth, secret, SLEN,
	    got, &klen));
}

Test(radius, builds_the_msk_from_recv_then_send_key, .timeout = 10)
{
	static struct radius_reply out;
	uint8_t recv[32], send[32], vsa[64], v[64];
	const uint8_t success[] = { 3, 9, 0, 4 };
	size_t vlen;
	struct resp r;

	for (int i = 0; i < 32; i++) {
		recv[i] = (uint8_t)i;
		send[i] = (uint8_t)(0x80 + i);
	}
	r_start(&r, RADIUS_ACCESS_ACCEPT, 5);
	r_attr(&r, RADIUS_A_EAP_MESSAGE, success, 4);
	/* Send-Key first on the wire: the order is by type, not place. */
	store_be32(vsa, RADIUS_VENDOR_MS);
	cr_assert(radius_mppe_encrypt(send, 16, 1, req_auth, secret, SLEN, v,
	    sizeof(v), &vlen));
	vsa[4] = RADIUS_MS_SEND_KEY;
	vsa[5] = (uint8_t)(vlen + 2);
	memcpy(vsa + 6, v, vlen);
	r_attr(&r, RADIUS_A_VENDOR, vsa, 6 + vlen);
	cr_assert(radius_mppe_encrypt(recv, 16, 2, req_auth, secret, SLEN, v,
	    sizeof(v), &vlen));
	vsa[4] = RADIUS_MS_RECV_KEY;
	vsa[5] = (uint8_t)(vlen + 2);
	memcpy(vsa + 6, v, vlen);
	r_attr(&r, RADIUS_A_VENDOR, vsa, 6 + vlen);
	r_attr(&r, RADIUS_A_FRAMED_IP, "\x0a\x09\x00\x4d", 4);
	r_attr(&r, RADIUS_A_CLASS, "gold", 4);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_OK);
	cr_assert_eq(out.code, RADIUS_ACCESS_ACCEPT);
	cr_assert_eq(out.msk_len, RADIUS_MSK_LEN);
	cr_assert_arr_eq(out.msk, recv, 16);
	cr_assert_arr_eq(out.msk + 16, send, 16);
	cr_assert_arr_eq(out.msk + 32, zero16, 16);
	cr_assert_arr_eq(out.msk + 48, zero16, 16);
	cr_assert(out.has_framed_ip);
	cr_assert_arr_eq(out.framed_ip, "\x0a\x09\x00\x4d", 4);
	cr_assert_eq(out.cls_len, 4);
	/* A second Recv-Key is refused. */
	r.len -= 18;
	r_attr(&r, RADIUS_A_VENDOR, vsa, 6 + vlen);
	r_attr(&r, RADIUS_A_MSG_AUTH, zero16, 16);
	r_sign(&r);
	cr_assert_eq(decode(&r, r.len, &out), RADIUS_BAD_FORM);
	cr_assert_eq(out.msk_len, 0, "wiped on failure");
}
