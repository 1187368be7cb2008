#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/codec.h"

TestSuite(codec, .timeout = 30);

#define X4(b)	b, b, b, b
#define X8(b)	X4(b), X4(b)
#define X16(b)	X8(b), X8(b)
#define X20(b)	X16(b), X4(b)
#define X32(b)	X16(b), X16(b)

/*
 * An IKE_SA_INIT request as strongSwan sends it: SA (one IKE proposal,
 * AES-CBC-256 / HMAC-SHA2-256-128 / PRF-HMAC-SHA2-256 / Curve25519), KE,
 * Ni, two NAT detection notifies, IKEV2_FRAGMENTATION_SUPPORTED and a
 * vendor ID.
 */
static const uint8_t sa_init[] = {
	0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f, 0xa0, 0xb1,	/* SPIi */
	X8(0x00),					/* SPIr 0 */
	0x21,						/* next: SA */
	0x20,						/* version 2.0 */
	0x22,						/* IKE_SA_INIT */
	0x08,						/* flags: I */
	0x00, 0x00, 0x00, 0x00,				/* message ID 0 */
	0x00, 0x00, 0x00, 0xec,				/* length 236 */
	/* SA */
	0x22, 0x00, 0x00, 0x30,		/* next KE, length 48 */
	0x00, 0x00, 0x00, 0x2c,		/* last proposal, length 44 */
	0x01, 0x01, 0x00, 0x04,		/* #1, IKE, SPI size 0, 4 xforms */
	0x03, 0x00, 0x00, 0x0c,		/* more, length 12 */
	0x01, 0x00, 0x00, 0x0c,		/* ENCR, AES_CBC */
	0x80, 0x0e, 0x01, 0x00,		/* TV Key Length 256 */
	0x03, 0x00, 0x00, 0x08,		/* more, length 8 */
	0x03, 0x00, 0x00, 0x0c,		/* INTEG, HMAC_SHA2_256_128 */
	0x03, 0x00, 0x00, 0x08,		/* more, length 8 */
	0x02, 0x00, 0x00, 0x05,		/* PRF, HMAC_SHA2_256 */
	0x00, 0x00, 0x00, 0x08,		/* last, length 8 */
	0x04, 0x00, 0x00, 0x1f,		/* DH, Curve25519 */
	/* KE */
	0x28, 0x00, 0x00, 0x28,		/* next Nonce, length 40 */
	0x00, 0x1f, 0x00, 0x00,		/* group 31, reserved */
	X32(0x4b),			/* public value, 32 octets */
	/* Ni */
	0x29, 0x00, 0x00, 0x24,		/* next N, length 36 */
	X32(0x6e),			/* nonce, 32 octets */
	/* N(NAT_DETECTION_SOURCE_IP) */
	0x29, 0x00, 0x00, 0x1c,		/* next N, length 28 */
	0x00, 0x00, 0x40, 0x04,		/* proto 0, SPI size 0, 16388 */
	X20(0x51),			/* SHA-1 hash */
	/* N(NAT_DETECTION_DESTINATION_IP) */
	0x29, 0x00, 0x00, 0x1c,		/* next N, length 28 */
	0x00, 0x00, 0x40, 0x05,		/* proto 0, SPI size 0, 16389 */
	X20(0xd1),			/* SHA-1 hash */
	/* N(IKEV2_FRAGMENTATION_SUPPORTED) */
	0x2b, 0x00, 0x00, 0x08,		/* next V, length 8 */
	0x00, 0x00, 0x40, 0x2e,		/* proto 0, SPI size 0, 16430 */
	/* V */
	0x00, 0x00, 0x00, 0x14,		/* last, length 20 */
	X16(0x88),			/* vendor ID */
};

Test(codec, parses_ike_sa_init_request)
{
	struct ike_msg m;
	const struct ike_payloads *pl = &m.pl;
	const struct ike_proposal *pr;

	cr_assert_eq(ike_msg_parse(sa_init, sizeof(sa_init), &m), IKE_PARSE_OK,
	    "%s", ike_parse_strerror(m.err.reason));
	cr_assert_eq(m.hdr.spi_i, 0x4a5b6c7d8e9fa0b1ULL);
	cr_assert_eq(m.hdr.spi_r, 0);
	cr_assert_eq(m.hdr.exchange, IKE_EXCH_IKE_SA_INIT);
	cr_assert_eq(m.hdr.flags, IKE_FLAG_INITIATOR);
	cr_assert_eq(m.hdr.length, sizeof(sa_init));
	cr_assert_eq(pl->have, IKE_HAVE_SA | IKE_HAVE_KE | IKE_HAVE_NONCE);
	cr_assert_eq(pl->sa.nproposals, 1);
	pr = &pl->sa.proposals[0];
	cr_assert_eq(pr->num, 1);
	cr_assert_eq(pr->proto, IKE_PROTO_IKE);
	cr_assert_eq(pr->spi_size, 0);
	cr_assert_eq(pr->nxforms, 4);
	cr_assert_eq(pl->sa.xforms[0].type, IKE_XFORM_ENCR);
	cr_assert_eq(pl->sa.xforms[0].id, IKE_ENCR_AES_CBC);
	cr_assert_eq(pl->sa.xforms[0].key_length, 256);
	cr_assert_eq(pl->sa.xforms[1].id, IKE_INTEG_HMAC_SHA2_256_128);
	cr_assert_eq(pl->sa.xforms[1].key_length, 0);
	cr_assert_eq(pl->sa.xforms[2].type, IKE_XFORM_PRF);
	cr_assert_eq(pl->sa.xforms[2].id, IKE_PRF_HMAC_SHA2_256);
	cr_assert_eq(pl->sa.xforms[3].type, IKE_XFORM_DH);
	cr_assert_eq(pl->sa.xforms[3].id, IKE_DH_CURVE25519);
	cr_assert_eq(pl->ke.group, IKE_DH_CURVE25519);
	cr_assert_eq(pl->ke.data.len, 32);
	cr_assert_eq(pl->ke.data.p, sa_init + 28 + 48 + 8);
	cr_assert_eq(pl->nonce.len, 32);
	cr_assert_eq(pl->nonce.p[0], 0x6e);
	cr_assert_eq(pl->nnotify, 3);
	cr_assert_eq(pl->notify[0].type, IKE_N_NAT_DETECTION_SOURCE_IP);
	cr_assert_eq(pl->notify[0].data.len, 20);
	cr_assert_eq(pl->notify[0].spi.len, 0);
	cr_assert_eq(pl->notify[1].type, IKE_N_NAT_DETECTION_DESTINATION_IP);
	cr_assert_eq(pl->notify[2].type, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);
	cr_assert_eq(pl->notify[2].data.len, 0);
	cr_assert_eq(pl->nvendor, 1);
	cr_assert_eq(pl->vendor[0].len, 16);
}

/*
 * The plaintext of an IKE_AUTH request's SK payload: IDi, CERT, CERTREQ,
 * IDr, AUTH, CP, SA (ESP), TSi, TSr, N(INITIAL_CONTACT).
 */
static const uint8_t auth_inner[] = {
	/* IDi */
	0x25, 0x00, 0x00, 0x0e,		/* next CERT, length 14 */
	0x02, 0x00, 0x00, 0x00,		/* FQDN, reserved */
	'c', 'l', 'i', 'e', 'n', 't',	/* "client" */
	/* CERT */
	0x26, 0x00, 0x00, 0x08,		/* next CERTREQ, length 8 */
	0x04,				/* X.509 signature */
	0x30, 0x01, 0x00,		/* (certificate) */
	/* CERTREQ */
	0x24, 0x00, 0x00, 0x19,		/* next IDr, length 25 */
	0x04,				/* X.509 signature */
	X20(0xca),			/* SHA-1 of a CA key */
	/* IDr */
	0x27, 0x00, 0x00, 0x0c,		/* next AUTH, length 12 */
	0x01, 0x00, 0x00, 0x00,		/* IPv4 address, reserved */
	192, 0, 2, 1,			/* 192.0.2.1 */
	/* AUTH */
	0x2f, 0x00, 0x00, 0x10,		/* next CP, length 16 */
	0x02, 0x00, 0x00, 0x00,		/* shared key MIC, reserved */
	X8(0xa7),			/* MIC */
	/* CP */
	0x21, 0x00, 0x00, 0x10,		/* next SA, length 16 */
	0x01, 0x00, 0x00, 0x00,		/* CFG_REQUEST, reserved */
	0x00, 0x01, 0x00, 0x00,		/* INTERNAL_IP4_ADDRESS, empty */
	0x00, 0x03, 0x00, 0x00,		/* INTERNAL_IP4_DNS, empty */
	/* SA */
	0x2c, 0x00, 0x00, 0x24,		/* next TSi, length 36 */
	0x00, 0x00, 0x00, 0x20,		/* last proposal, length 32 */
	0x01, 0x03, 0x04, 0x02,		/* #1, ESP, SPI size 4, 2 xforms */
	0xc1, 0x2a, 0x00, 0x07,		/* SPI */
	0x03, 0x00, 0x00, 0x0c,		/* more, length 12 */
	0x01, 0x00, 0x00, 0x14,		/* ENCR, AES_GCM_16 */
	0x80, 0x0e, 0x00, 0x80,		/* TV Key Length 128 */
	0x00, 0x00, 0x00, 0x08,		/* last, length 8 */
	0x05, 0x00, 0x00, 0x00,		/* ESN, no */
	/* TSi */
	0x2d, 0x00, 0x00, 0x18,		/* next TSr, length 24 */
	0x01, 0x00, 0x00, 0x00,		/* 1 TS, reserved */
	0x07, 0x00, 0x00, 0x10,		/* IPv4 range, any proto, 16 */
	0x00, 0x00, 0xff, 0xff,		/* ports 0..65535 */
	0, 0, 0, 0,			/* 0.0.0.0 */
	255, 255, 255, 255,		/* 255.255.255.255 */
	/* TSr */
	0x29, 0x00, 0x00, 0x30,		/* next N, length 48 */
	0x01, 0x00, 0x00, 0x00,		/* 1 TS, reserved */
	0x08, 0x06, 0x00, 0x28,		/* IPv6 range, TCP, 40 */
	0x01, 0xbb, 0x01, 0xbb,		/* port 443..443 */
	0x20, 0x01, 0x0d, 0xb8, X8(0x00), X4(0x00),	/* 2001:db8:: */
	0x20, 0x01, 0x0d, 0xb8, X8(0xff), X4(0xff),	/* ..ffff */
	/* N(INITIAL_CONTACT) */
	0x00, 0x00, 0x00, 0x08,		/* last, length 8 */
	0x00, 0x00, 0x40, 0x00,		/* proto 0, SPI size 0, 16384 */
};

Test(codec, parses_ike_auth_inner_chain)
{
	struct ike_msg m;
	const struct ike_payloads *pl = &m.pl;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(ike_payloads_parse(IKE_PL_IDI, auth_inner,
	    sizeof(auth_inner), &m), IKE_PARSE_OK, "%s at %zu",
	    ike_parse_strerror(m.err.reason), m.err.offset);
	cr_assert_eq(pl->idi.type, IKE_ID_FQDN);
	cr_assert_eq(pl->idi.data.len, 6);
	cr_assert_eq(memcmp(pl->idi.data.p, "client", 6), 0);
	cr_assert_eq(pl->idi.body.len, 10);
	cr_assert_eq(pl->ncert, 1);
	cr_assert_eq(pl->cert[0].encoding, IKE_CERT_X509_SIG);
	cr_assert_eq(pl->cert[0].data.len, 3);
	cr_assert_eq(pl->ncertreq, 1);
	cr_assert_eq(pl->certreq[0].data.len, 20);
	cr_assert_eq(pl->idr.type, IKE_ID_IPV4_ADDR);
	cr_assert_eq(pl->idr.data.p[0], 192);
	cr_assert_eq(pl->auth.method, IKE_AUTH_SHARED_KEY_MIC);
	cr_assert_eq(pl->auth.data.len, 8);
	cr_assert_eq(pl->cp.type, IKE_CFG_REQUEST);
	cr_assert_eq(pl->cp.nattrs, 2);
	cr_assert_eq(pl->cp.attrs[1].type, IKE_CFG_INTERNAL_IP4_DNS);
	cr_assert_eq(pl->sa.proposals[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(pl->sa.proposals[0].spi_size, 4);
	cr_assert_eq(pl->sa.proposals[0].spi[0], 0xc1);
	cr_assert_eq(pl->sa.xforms[0].id, IKE_ENCR_AES_GCM_16);
	cr_assert_eq(pl->sa.xforms[0].key_length, 128);
	cr_assert_eq(pl->sa.xforms[1].type, IKE_XFORM_ESN);
	cr_assert_eq(pl->tsi.count, 1);
	cr_assert_eq(pl->tsi.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
	cr_assert_eq(pl->tsi.ts[0].end_port, 65535);
	cr_assert_eq(pl->tsi.ts[0].end[3], 255);
	cr_assert_eq(pl->tsr.ts[0].type, IKE_TS_IPV6_ADDR_RANGE);
	cr_assert_eq(pl->tsr.ts[0].proto, 6);
	cr_assert_eq(pl->tsr.ts[0].start_port, 443);
	cr_assert_eq(pl->tsr.ts[0].start[1], 0x01);
	cr_assert_eq(pl->tsr.ts[0].end[15], 0xff);
	cr_assert_eq(pl->nnotify, 1);
	cr_assert_eq(pl->notify[0].type, IKE_N_INITIAL_CONTACT);
}

/* An INFORMATIONAL request with two Deletes and an EAP payload. */
static const uint8_t info_msg[] = {
	X8(0x11),			/* SPIi */
	X8(0x22),			/* SPIr */
	0x2a,				/* next: D */
	0x20,				/* version 2.0 */
	0x25,				/* INFORMATIONAL */
	0x20,				/* flags: R */
	0x00, 0x00, 0x00, 0x07,		/* message ID 7 */
	0x00, 0x00, 0x00, 0x3d,		/* length 61 */
	/* D (ESP) */
	0x2a, 0x00, 0x00, 0x10,		/* next D, length 16 */
	0x03, 0x04, 0x00, 0x02,		/* ESP, SPI size 4, 2 SPIs */
	0xc0, 0x00, 0x00, 0x01,		/* SPI 1 */
	0xc0, 0x00, 0x00, 0x02,		/* SPI 2 */
	/* D (IKE) */
	0x30, 0x00, 0x00, 0x08,		/* next EAP, length 8 */
	0x01, 0x00, 0x00, 0x00,		/* IKE, SPI size 0, 0 SPIs */
	/* EAP */
	0x00, 0x00, 0x00, 0x09,		/* last, length 9 */
	0x01, 0x05, 0x00, 0x05,		/* Request, id 5, length 5 */
	0x01,				/* type Identity */
};

Test(codec, parses_delete_and_eap)
{
	struct ike_msg m;

	cr_assert_eq(ike_msg_parse(info_msg, sizeof(info_msg), &m),
	    IKE_PARSE_OK, "%s", ike_parse_strerror(m.err.reason));
	cr_assert_eq(m.hdr.msgid, 7);
	cr_assert_eq(m.hdr.flags, IKE_FLAG_RESPONSE);
	cr_assert_eq(m.pl.ndelete, 2);
	cr_assert_eq(m.pl.delete[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(m.pl.delete[0].nspis, 2);
	cr_assert_eq(ike_delete_spi(&m.pl.delete[0], 1), 0xc0000002);
	cr_assert_eq(m.pl.delete[1].proto, IKE_PROTO_IKE);
	cr_assert_eq(m.pl.eap.code, IKE_EAP_REQUEST);
	cr_assert_eq(m.pl.eap.id, 5);
	cr_assert_eq(m.pl.eap.type, 1);
	cr_assert_eq(m.pl.eap.data.len, 0);
	cr_assert_eq(m.pl.eap.msg.len, 5);
}

/* An IKE_AUTH request: nothing but SK. */
static const uint8_t sk_msg[] = {
	X8(0x11),			/* SPIi */
	X8(0x22),			/* SPIr */
	0x2e,				/* next: SK */
	0x20,				/* version 2.0 */
	0x23,				/* IKE_AUTH */
	0x08,				/* flags: I */
	0x00, 0x00, 0x00, 0x01,		/* message ID 1 */
	0x00, 0x00, 0x00, 0x30,		/* length 48 */
	/* SK */
	0x23, 0x00, 0x00, 0x14,		/* inner: IDi, length 20 */
	X16(0xe5),			/* IV | ciphertext | ICV */
};

Test(codec, parses_sk_as_blob)
{
	struct ike_msg m;

	cr_assert_eq(ike_msg_parse(sk_msg, sizeof(sk_msg), &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.have, IKE_HAVE_SK);
	cr_assert_eq(m.pl.sk.inner, IKE_PL_IDI);
	cr_assert_eq(m.pl.sk.hdr_off, 28);
	cr_assert_eq(m.pl.sk.body.p, sk_msg + 32);
	cr_assert_eq(m.pl.sk.body.len, 16);
}

/* Fragment 2 of 3 of an IKE_AUTH request (RFC 7383 §2.5). */
static const uint8_t skf_msg[] = {
	X8(0x11),			/* SPIi */
	X8(0x22),			/* SPIr */
	0x35,				/* next: SKF */
	0x20,				/* version 2.0 */
	0x23,				/* IKE_AUTH */
	0x08,				/* flags: I */
	0x00, 0x00, 0x00, 0x01,		/* message ID 1 */
	0x00, 0x00, 0x00, 0x34,		/* length 52 */
	/* SKF */
	0x00, 0x00, 0x00, 0x18,		/* next 0 (not first), length 24 */
	0x00, 0x02, 0x00, 0x03,		/* fragment 2 of 3 */
	X16(0xf5),			/* IV | ciphertext | ICV */
};

Test(codec, parses_skf_fields)
{
	struct ike_msg m;

	cr_assert_eq(ike_msg_parse(skf_msg, sizeof(skf_msg), &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.have, IKE_HAVE_SKF);
	cr_assert_eq(m.pl.sk.frag_num, 2);
	cr_assert_eq(m.pl.sk.frag_total, 3);
	cr_assert_eq(m.pl.sk.body.len, 16);
}

Test(codec, all_vectors_round_trip)
{
	static const struct {
		const uint8_t	*p;
		size_t		 len;
	} v[] = {
		{ sa_init, sizeof(sa_init) },
		{ info_msg, sizeof(info_msg) },
		{ sk_msg, sizeof(sk_msg) },
		{ skf_msg, sizeof(skf_msg) },
	};
	uint8_t out[1024];
	struct ike_msg a, b;
	size_t len;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(ike_msg_parse(v[i].p, v[i].len, &a), IKE_PARSE_OK,
		    "case %zu", i);
		cr_assert_eq(ike_msg_build(&a, out, sizeof(out), &len), 0,
		    "case %zu", i);
		/* Same payloads, canonical order: same length. */
		cr_assert_eq(len, v[i].len, "case %zu", i);
		cr_assert_eq(ike_msg_parse(out, len, &b), IKE_PARSE_OK);
		cr_assert(ike_msg_equal(&a, &b), "case %zu", i);
	}
}

/*
 * A payload chain assembler for the rejection tests: bodies are hand-built,
 * generic headers and the IKE header are added here.
 */
struct chain {
	uint8_t		 buf[70000];
	size_t		 len;
	size_t		 np;		/* offset of the field to patch */
	uint8_t		 first;
};

static struct chain ch;

static void
ch_init(void)
{
	memset(&ch, 0, sizeof(ch));
	ch.len = IKE_HEADER_LEN;
	ch.np = 16;
}

/* Append a payload with a correct generic header. */
static void
ch_add(uint8_t type, uint8_t flags, const void *body, size_t len)
{
	cr_assert_leq(ch.len + 4 + len, sizeof(ch.buf));
	ch.buf[ch.np] = type;
	ch.np = ch.len;
	ch.buf[ch.len] = 0;
	ch.buf[ch.len + 1] = flags;
	store_be16(ch.buf + ch.len + 2, (uint16_t)(4 + len));
	if (len > 0)
		memcpy(ch.buf + ch.len + 4, body, len);
	ch.len += 4 + len;
}

/* Append raw bytes (no generic header). */
static void
ch_raw(const void *p, size_t len)
{
	memcpy(ch.buf + ch.len, p, len);
	ch.len += len;
}

/* Wrap the chain in an IKE_SA_INIT header with @flags and parse it. */
static enum ike_parse_result
ch_parse(uint8_t flags, struct ike_msg *m)
{
	memset(ch.buf, 0x11, 8);			/* SPIi */
	memset(ch.buf + 8, 0, 8);			/* SPIr */
	ch.buf[17] = 0x20;				/* version */
	ch.buf[18] = IKE_EXCH_IKE_SA_INIT;
	ch.buf[19] = flags;
	store_be32(ch.buf + 20, 0);			/* message ID */
	store_be32(ch.buf + 24, (uint32_t)ch.len);	/* length */
	return ike_msg_parse(ch.buf, ch.len, m);
}

static void
expect(enum ike_parse_result res, enum ike_parse_err why, uint8_t flags)
{
	struct ike_msg m;
	enum ike_parse_result got = ch_parse(flags, &m);

	cr_assert_eq(got, res, "result %d, want %d (%s)", got, res,
	    ike_parse_strerror(m.err.reason));
	cr_assert_eq(m.err.reason, why, "reason \"%s\", want \"%s\"",
	    ike_parse_strerror(m.err.reason), ike_parse_strerror(why));
	if (res == IKE_PARSE_SYNTAX)
		cr_assert_eq(m.err.notify, IKE_N_INVALID_SYNTAX);
}

#define REJECT(why)	expect(IKE_PARSE_SYNTAX, (why), IKE_FLAG_INITIATOR)
#define ACCEPT()	expect(IKE_PARSE_OK, IKE_ERR_NONE, IKE_FLAG_INITIATOR)

static const uint8_t nonce16[16] = { 0 };

Test(codec, rejects_message_shorter_than_header)
{
	struct ike_msg m;

	for (size_t n = 0; n < IKE_HEADER_LEN; n++) {
		cr_assert_eq(ike_msg_parse(sa_init, n, &m), IKE_PARSE_TRUNCATED,
		    "n %zu", n);
		cr_assert_eq(m.err.reason, IKE_ERR_SHORT_HEADER);
		cr_assert_eq(m.err.notify, 0);
	}
}

Test(codec, rejects_header_length_not_message_length)
{
	uint8_t b[sizeof(sa_init) + 1];
	struct ike_msg m;

	memcpy(b, sa_init, sizeof(sa_init));
	b[sizeof(sa_init)] = 0;
	/* One octet more than the header says. */
	cr_assert_eq(ike_msg_parse(b, sizeof(b), &m), IKE_PARSE_BAD_LENGTH);
	cr_assert_eq(m.err.reason, IKE_ERR_HDR_LENGTH);
	/* Header says one more than there is. */
	store_be32(b + 24, sizeof(sa_init) + 1);
	cr_assert_eq(ike_msg_parse(b, sizeof(sa_init), &m),
	    IKE_PARSE_BAD_LENGTH);
	cr_assert_eq(m.err.notify, 0);
}

Test(codec, rejects_higher_major_version_with_notify)
{
	uint8_t b[sizeof(sa_init)];
	struct ike_msg m;

	memcpy(b, sa_init, sizeof(b));
	b[17] = 0x30;
	cr_assert_eq(ike_msg_parse(b, sizeof(b), &m), IKE_PARSE_BAD_VERSION);
	cr_assert_eq(m.err.reason, IKE_ERR_VERSION);
	cr_assert_eq(m.err.notify, IKE_N_INVALID_MAJOR_VERSION);
	cr_assert_eq(m.hdr.major, 3);
}

Test(codec, rejects_lower_major_version_silently)
{
	uint8_t b[sizeof(sa_init)];
	struct ike_msg m;

	memcpy(b, sa_init, sizeof(b));
	b[17] = 0x10;			/* IKEv1 */
	cr_assert_eq(ike_msg_parse(b, sizeof(b), &m), IKE_PARSE_BAD_VERSION);
	cr_assert_eq(m.err.notify, 0);
}

Test(codec, ignores_minor_version_and_reserved_flags)
{
	uint8_t b[sizeof(sa_init)];
	struct ike_msg m;

	memcpy(b, sa_init, sizeof(b));
	b[17] = 0x2f;			/* 2.15 */
	b[19] = 0x08 | 0x07 | 0x40;	/* I plus reserved bits */
	cr_assert_eq(ike_msg_parse(b, sizeof(b), &m), IKE_PARSE_OK);
	cr_assert_eq(m.hdr.minor, 15);
	cr_assert_eq(m.hdr.flags, IKE_FLAG_INITIATOR);
}

Test(codec, rejects_truncated_generic_header)
{
	static const uint8_t half[] = { 0x00, 0x00 };	/* 2 of 4 octets */

	ch_init();
	ch.buf[16] = IKE_PL_NOTIFY;
	ch_raw(half, sizeof(half));
	REJECT(IKE_ERR_PL_HEADER);
}

Test(codec, rejects_next_payload_past_message_end)
{
	ch_init();
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	ch.buf[ch.np] = IKE_PL_VENDOR;	/* names a payload that is not there */
	REJECT(IKE_ERR_PL_HEADER);
}

Test(codec, rejects_payload_length_below_generic_header)
{
	static const uint8_t pl[] = {
		0x00, 0x00, 0x00, 0x03,	/* last, length 3 */
	};

	ch_init();
	ch.buf[16] = IKE_PL_VENDOR;
	ch_raw(pl, sizeof(pl));
	REJECT(IKE_ERR_PL_SHORT);
}

Test(codec, rejects_payload_length_below_its_minimum)
{
	static const struct {
		uint8_t	type;
		uint8_t	min;		/* body octets */
	} v[] = {
		{ IKE_PL_SA, 8 }, { IKE_PL_KE, 4 }, { IKE_PL_IDI, 4 },
		{ IKE_PL_IDR, 4 }, { IKE_PL_CERT, 1 }, { IKE_PL_CERTREQ, 1 },
		{ IKE_PL_AUTH, 4 }, { IKE_PL_NOTIFY, 4 }, { IKE_PL_DELETE, 4 },
		{ IKE_PL_TSI, 4 }, { IKE_PL_TSR, 4 }, { IKE_PL_CP, 4 },
		{ IKE_PL_EAP, 4 }, { IKE_PL_SKF, 4 },
	};
	static const uint8_t zero[8] = { 0 };
	struct ike_msg m;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(v[i].type, 0, zero, v[i].min - 1);
		cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_SYNTAX,
		    "type %u", v[i].type);
		cr_assert_eq(m.err.reason, IKE_ERR_PL_SHORT, "type %u",
		    v[i].type);
		cr_assert_eq(m.err.payload, v[i].type);
	}
}

Test(codec, rejects_payload_length_past_message_end)
{
	ch_init();
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	store_be16(ch.buf + ch.np + 2, 4 + 17);		/* one octet too many */
	REJECT(IKE_ERR_PL_PAST_END);
}

Test(codec, rejects_bytes_after_the_last_payload)
{
	static const uint8_t junk[] = { 0x00, 0x00, 0x00, 0x04 };

	ch_init();
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	ch_raw(junk, sizeof(junk));	/* next is NONE, yet bytes follow */
	REJECT(IKE_ERR_CHAIN_END);
}

Test(codec, rejects_unknown_critical_payload)
{
	static const uint8_t body[] = { 1, 2, 3 };
	struct ike_msg m;

	ch_init();
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	ch_add(200, IKE_PAYLOAD_CRITICAL, body, sizeof(body));
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_CRITICAL);
	cr_assert_eq(m.err.reason, IKE_ERR_CRITICAL);
	cr_assert_eq(m.err.notify, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	cr_assert_eq(m.err.payload, 200);
}

Test(codec, skips_unknown_non_critical_payload)
{
	static const uint8_t body[] = { 1, 2, 3 };
	struct ike_msg m;

	ch_init();
	ch_add(200, 0x7f, body, sizeof(body));	/* reserved bits ignored */
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.nunknown, 1);
	cr_assert_eq(m.pl.have, IKE_HAVE_NONCE);
}

Test(codec, ignores_critical_bit_on_known_payload)
{
	ch_init();
	ch_add(IKE_PL_NONCE, IKE_PAYLOAD_CRITICAL, nonce16, sizeof(nonce16));
	ACCEPT();
}

/* A minimal valid body of each singleton type. */
static const uint8_t min_sa[] = {
	0x00, 0x00, 0x00, 0x08,		/* last proposal, length 8 */
	0x01, 0x01, 0x00, 0x00,		/* #1, IKE, SPI size 0, 0 xforms */
};
static const uint8_t min_4[] = { 0x01, 0x00, 0x00, 0x00 };
static const uint8_t min_ts[] = {
	0x01, 0x00, 0x00, 0x00,		/* 1 TS */
	0x07, 0x00, 0x00, 0x10,		/* IPv4, any, 16 */
	0x00, 0x00, 0xff, 0xff,		/* ports */
	10, 0, 0, 0, 10, 0, 0, 255,	/* 10.0.0.0-10.0.0.255 */
};
static const uint8_t min_eap[] = {
	0x03, 0x01, 0x00, 0x04,		/* Success, id 1, length 4 */
};

Test(codec, rejects_duplicate_singleton_payloads)
{
	static const struct {
		uint8_t		 type;
		const uint8_t	*body;
		size_t		 len;
	} v[] = {
		{ IKE_PL_SA, min_sa, sizeof(min_sa) },
		{ IKE_PL_KE, min_4, sizeof(min_4) },
		{ IKE_PL_IDI, min_4, sizeof(min_4) },
		{ IKE_PL_IDR, min_4, sizeof(min_4) },
		{ IKE_PL_AUTH, min_4, sizeof(min_4) },
		{ IKE_PL_NONCE, nonce16, sizeof(nonce16) },
		{ IKE_PL_TSI, min_ts, sizeof(min_ts) },
		{ IKE_PL_TSR, min_ts, sizeof(min_ts) },
		{ IKE_PL_CP, min_4, sizeof(min_4) },
		{ IKE_PL_EAP, min_eap, sizeof(min_eap) },
	};
	struct ike_msg m;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(v[i].type, 0, v[i].body, v[i].len);
		cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK,
		    "type %u once: %s", v[i].type,
		    ike_parse_strerror(m.err.reason));
		ch_add(v[i].type, 0, v[i].body, v[i].len);
		cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_SYNTAX,
		    "type %u", v[i].type);
		cr_assert_eq(m.err.reason, IKE_ERR_DUPLICATE, "type %u",
		    v[i].type);
	}
}

Test(codec, rejects_sk_not_last)
{
	static const uint8_t blob[16] = { 0 };

	ch_init();
	ch_add(IKE_PL_SK, 0, blob, sizeof(blob));
	ch.buf[ch.np] = IKE_PL_IDI;	/* inner type */
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	ch.buf[ch.np] = 0;
	/* ch_add patched SK's next field to Nonce: an SK followed by bytes. */
	REJECT(IKE_ERR_SK_NOT_LAST);
}

Test(codec, rejects_skf_not_last)
{
	static const uint8_t skf[] = {
		0x00, 0x01, 0x00, 0x02,	/* fragment 1 of 2 */
		X8(0x00),		/* blob */
	};

	ch_init();
	ch_add(IKE_PL_SKF, 0, skf, sizeof(skf));
	ch_add(IKE_PL_NONCE, 0, nonce16, sizeof(nonce16));
	REJECT(IKE_ERR_SK_NOT_LAST);
}

Test(codec, rejects_sk_inside_decrypted_chain)
{
	static const uint8_t inner[] = {
		0x00, 0x00, 0x00, 0x08,	/* SK: next 0, length 8 */
		X4(0x00),		/* blob */
	};
	struct ike_msg m;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(ike_payloads_parse(IKE_PL_SK, inner, sizeof(inner), &m),
	    IKE_PARSE_SYNTAX);
	cr_assert_eq(m.err.reason, IKE_ERR_NESTED_SK);
}

Test(codec, rejects_nonce_too_short_or_too_long)
{
	static uint8_t n[257];
	static const struct {
		size_t	len;
		bool	ok;
	} v[] = {
		{ 0, false }, { 15, false }, { 16, true }, { 32, true },
		{ 256, true }, { 257, false },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(IKE_PL_NONCE, 0, n, v[i].len);
		if (v[i].ok)
			ACCEPT();
		else
			REJECT(IKE_ERR_NONCE_SIZE);
	}
}

Test(codec, rejects_ts_length_wrong_for_type)
{
	static const uint8_t v4_as_40[] = {
		0x01, 0x00, 0x00, 0x00,	/* 1 TS */
		0x07, 0x00, 0x00, 0x28,	/* IPv4 range, length 40 (not 16) */
		X32(0x00), X4(0x00),
	};
	static const uint8_t v6_as_16[] = {
		0x01, 0x00, 0x00, 0x00,	/* 1 TS */
		0x08, 0x00, 0x00, 0x10,	/* IPv6 range, length 16 (not 40) */
		X8(0x00),
	};

	ch_init();
	ch_add(IKE_PL_TSI, 0, v4_as_40, sizeof(v4_as_40));
	REJECT(IKE_ERR_TS_LENGTH);
	ch_init();
	ch_add(IKE_PL_TSR, 0, v6_as_16, sizeof(v6_as_16));
	REJECT(IKE_ERR_TS_LENGTH);
}

Test(codec, rejects_ts_count_disagreeing_with_selectors)
{
	uint8_t b[sizeof(min_ts) + 1];

	/* Two announced, one present. */
	memcpy(b, min_ts, sizeof(min_ts));
	b[0] = 2;
	ch_init();
	ch_add(IKE_PL_TSI, 0, b, sizeof(min_ts));
	REJECT(IKE_ERR_TS);
	/* Zero announced. */
	b[0] = 0;
	ch_init();
	ch_add(IKE_PL_TSI, 0, b, 4);
	REJECT(IKE_ERR_TS);
	/* One announced, one present, one octet left over. */
	b[0] = 1;
	b[sizeof(min_ts)] = 0;
	ch_init();
	ch_add(IKE_PL_TSI, 0, b, sizeof(b));
	REJECT(IKE_ERR_TS);
}

Test(codec, keeps_unknown_ts_type_opaque)
{
	static const uint8_t ts[] = {
		0x01, 0x00, 0x00, 0x00,	/* 1 TS */
		0x0a, 0x00, 0x00, 0x07,	/* type 10, length 7 */
		0xaa, 0xbb, 0xcc,	/* (selector) */
	};
	struct ike_msg m;

	ch_init();
	ch_add(IKE_PL_TSI, 0, ts, sizeof(ts));
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.tsi.ts[0].type, 10);
	cr_assert_eq(m.pl.tsi.ts[0].other.len, 3);
}

Test(codec, rejects_delete_spi_size_or_count_mismatch)
{
	static const struct {
		uint8_t	b[12];
		size_t	len;
	} v[] = {
		{ { 0x03, 0x08, 0x00, 0x01, X8(0) }, 12 },	/* ESP size 8 */
		{ { 0x03, 0x04, 0x00, 0x02, X4(0) }, 8 },	/* 2 SPIs, 1 */
		{ { 0x03, 0x04, 0x00, 0x01, X4(0), 0 }, 9 },	/* extra */
		{ { 0x01, 0x04, 0x00, 0x01, X4(0) }, 8 },	/* IKE + SPI */
		{ { 0x01, 0x00, 0x00, 0x01 }, 4 },	/* IKE count 1 */
		{ { 0x07, 0x04, 0x00, 0x01, X4(0) }, 8 },	/* protocol 7 */
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(IKE_PL_DELETE, 0, v[i].b, v[i].len);
		REJECT(IKE_ERR_DELETE);
	}
}

Test(codec, rejects_notify_spi_size)
{
	static const uint8_t size3[] = {
		0x03, 0x03, 0x40, 0x09,	/* ESP, SPI size 3, REKEY_SA */
		0x01, 0x02, 0x03,
	};
	static const uint8_t past[] = {
		0x03, 0x04, 0x40, 0x09,	/* ESP, SPI size 4, REKEY_SA */
		0x01, 0x02,		/* only 2 octets */
	};

	ch_init();
	ch_add(IKE_PL_NOTIFY, 0, size3, sizeof(size3));
	REJECT(IKE_ERR_NOTIFY_SPI);
	ch_init();
	ch_add(IKE_PL_NOTIFY, 0, past, sizeof(past));
	REJECT(IKE_ERR_NOTIFY_SPI);
}

/* One proposal with one transform carrying @attrs. */
static void
sa_with_attrs(const uint8_t *attrs, size_t alen)
{
	uint8_t b[128];
	size_t n = 0;

	b[n++] = 0x00; b[n++] = 0x00;			/* last, reserved */
	store_be16(b + n, (uint16_t)(8 + 8 + alen)); n += 2;
	b[n++] = 1; b[n++] = IKE_PROTO_IKE;		/* #1, IKE */
	b[n++] = 0; b[n++] = 1;				/* no SPI, 1 xform */
	b[n++] = 0x00; b[n++] = 0x00;			/* last, reserved */
	store_be16(b + n, (uint16_t)(8 + alen)); n += 2;
	b[n++] = IKE_XFORM_ENCR; b[n++] = 0;		/* ENCR */
	store_be16(b + n, IKE_ENCR_AES_CBC); n += 2;
	memcpy(b + n, attrs, alen);
	n += alen;
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
}

Test(codec, rejects_malformed_transform_attribute)
{
	static const struct {
		uint8_t		 a[12];
		size_t		 len;
		const char	*what;
	} v[] = {
		{ { 0x80, 0x0e }, 2, "truncated attribute header" },
		{ { 0x00, 0x0e, 0x00, 0x02, 0x01, 0x00 }, 6, "TLV Key Length" },
		{ { 0x80, 0x0e, 0x00, 0x80, 0x80, 0x0e, 0x01, 0x00 }, 8,
		    "two Key Lengths" },
		{ { 0x80, 0x0e, 0x00, 0x00 }, 4, "Key Length 0" },
		{ { 0x00, 0x11, 0x00, 0x05, 0x01 }, 5, "TLV past the end" },
	};
	struct ike_msg m;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sa_with_attrs(v[i].a, v[i].len);
		cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_SYNTAX,
		    "%s", v[i].what);
		cr_assert_eq(m.err.reason, IKE_ERR_ATTRIBUTE, "%s: %s",
		    v[i].what, ike_parse_strerror(m.err.reason));
	}
}

Test(codec, keeps_unknown_transform_attributes)
{
	static const uint8_t a[] = {
		0x80, 0x0e, 0x00, 0x80,	/* TV Key Length 128 */
		0x80, 0x20, 0x12, 0x34,	/* TV type 32 */
		0x00, 0x21, 0x00, 0x02,	/* TLV type 33, length 2 */
		0xab, 0xcd,
	};
	struct ike_msg m;
	const struct ike_xform *x;

	sa_with_attrs(a, sizeof(a));
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK);
	x = &m.pl.sa.xforms[0];
	cr_assert_eq(x->key_length, 128);
	cr_assert_eq(x->nattrs, 2);
	cr_assert_eq(m.pl.sa.attrs[0].type, 32);
	cr_assert(m.pl.sa.attrs[0].tv);
	cr_assert_eq(m.pl.sa.attrs[0].value, 0x1234);
	cr_assert_not(m.pl.sa.attrs[1].tv);
	cr_assert_eq(m.pl.sa.attrs[1].data.len, 2);
}

/* One proposal: @num, @proto, SPI of @spi_size, no transforms. */
static size_t
proposal(uint8_t *b, bool last, uint8_t num, uint8_t proto, uint8_t spi_size)
{
	b[0] = last ? 0 : 2;		/* last substructure */
	b[1] = 0;			/* reserved */
	store_be16(b + 2, (uint16_t)(8 + spi_size));
	b[4] = num;			/* proposal number */
	b[5] = proto;			/* protocol */
	b[6] = spi_size;		/* SPI size */
	b[7] = 0;			/* transforms */
	memset(b + 8, 0x5a, spi_size);	/* SPI */
	return 8 + (size_t)spi_size;
}

Test(codec, rejects_proposal_spi_size_wrong_for_protocol)
{
	static const struct {
		uint8_t	proto;
		uint8_t	spi_size;
		bool	ok;
	} v[] = {
		{ IKE_PROTO_IKE, 0, true }, { IKE_PROTO_IKE, 8, true },
		{ IKE_PROTO_IKE, 4, false }, { IKE_PROTO_ESP, 4, true },
		{ IKE_PROTO_ESP, 0, false }, { IKE_PROTO_ESP, 8, false },
		{ IKE_PROTO_AH, 4, true }, { IKE_PROTO_AH, 2, false },
	};
	uint8_t b[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = proposal(b, true, 1, v[i].proto, v[i].spi_size);

		ch_init();
		ch_add(IKE_PL_SA, 0, b, n);
		if (v[i].ok)
			ACCEPT();
		else
			REJECT(IKE_ERR_PROPOSAL_SPI);
	}
}

Test(codec, rejects_unknown_proposal_protocol)
{
	uint8_t b[16];
	size_t n = proposal(b, true, 1, 4, 0);

	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
}

Test(codec, rejects_proposal_numbering)
{
	static const struct {
		uint8_t	 flags;
		uint8_t	 nums[3];
		size_t	 n;
		bool	 ok;
	} v[] = {
		{ IKE_FLAG_INITIATOR, { 1, 2, 3 }, 3, true },
		{ IKE_FLAG_INITIATOR, { 2 }, 1, false },	/* not from 1 */
		{ IKE_FLAG_INITIATOR, { 1, 3 }, 2, false },	/* gap */
		{ IKE_FLAG_INITIATOR, { 1, 1 }, 2, false },	/* repeat */
		{ IKE_FLAG_RESPONSE, { 3 }, 1, true },	/* accepted #3 */
		{ IKE_FLAG_RESPONSE, { 0 }, 1, false },		/* zero */
	};
	uint8_t b[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 0;

		for (size_t j = 0; j < v[i].n; j++)
			len += proposal(b + len, j + 1 == v[i].n, v[i].nums[j],
			    IKE_PROTO_IKE, 0);
		ch_init();
		ch_add(IKE_PL_SA, 0, b, len);
		if (v[i].ok)
			expect(IKE_PARSE_OK, IKE_ERR_NONE, v[i].flags);
		else
			expect(IKE_PARSE_SYNTAX, IKE_ERR_PROPOSAL, v[i].flags);
	}
}

Test(codec, rejects_proposal_framing)
{
	uint8_t b[64];
	size_t n;

	/* "More" announced, but the SA ends. */
	n = proposal(b, false, 1, IKE_PROTO_IKE, 0);
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
	/* "Last" announced, but another follows. */
	n = proposal(b, true, 1, IKE_PROTO_IKE, 0);
	n += proposal(b + n, true, 2, IKE_PROTO_IKE, 0);
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
	/* Last-substructure value 1 is neither. */
	n = proposal(b, true, 1, IKE_PROTO_IKE, 0);
	b[0] = 1;
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
	/* Proposal length below 8. */
	n = proposal(b, true, 1, IKE_PROTO_IKE, 0);
	store_be16(b + 2, 7);
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
	/* Proposal length past the SA payload. */
	store_be16(b + 2, 9);
	ch_init();
	ch_add(IKE_PL_SA, 0, b, n);
	REJECT(IKE_ERR_PROPOSAL);
	/* SPI size past the proposal. */
	n = proposal(b, true, 1, IKE_PROTO_ESP, 4);
	store_be16(b + 2, 10);
	ch_init();
	ch_add(IKE_PL_SA, 0, b, 10);
	REJECT(IKE_ERR_PROPOSAL);
}

Test(codec, rejects_transform_framing)
{
	static const struct {
		uint8_t		 b[32];
		size_t		 len;
		const char	*what;
	} v[] = {
		{ { 0, 0, 0, 16, 1, 1, 0, 2,	/* 2 announced */
		    0, 0, 0, 8, 1, 0, 0, 12 }, 16, "count above present" },
		{ { 0, 0, 0, 24, 1, 1, 0, 1,	/* 1 announced */
		    3, 0, 0, 8, 1, 0, 0, 12,
		    0, 0, 0, 8, 3, 0, 0, 12 }, 24, "count below present" },
		{ { 0, 0, 0, 16, 1, 1, 0, 1,
		    3, 0, 0, 8, 1, 0, 0, 12 }, 16, "last says more" },
		{ { 0, 0, 0, 24, 1, 1, 0, 2,
		    0, 0, 0, 8, 1, 0, 0, 12,
		    0, 0, 0, 8, 3, 0, 0, 12 }, 24, "more says last" },
		{ { 0, 0, 0, 16, 1, 1, 0, 1,
		    0, 0, 0, 7, 1, 0, 0, 12 }, 16, "length 7" },
		{ { 0, 0, 0, 16, 1, 1, 0, 1,
		    0, 0, 0, 9, 1, 0, 0, 12 }, 16, "length past proposal" },
		{ { 0, 0, 0, 16, 1, 1, 0, 1,
		    2, 0, 0, 8, 1, 0, 0, 12 }, 16, "substructure 2" },
	};
	struct ike_msg m;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(IKE_PL_SA, 0, v[i].b, v[i].len);
		cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_SYNTAX,
		    "%s", v[i].what);
		cr_assert_eq(m.err.reason, IKE_ERR_TRANSFORM, "%s: %s",
		    v[i].what, ike_parse_strerror(m.err.reason));
	}
}

Test(codec, rejects_eap_length_disagreeing)
{
	static const uint8_t longer[] = {
		0x02, 0x01, 0x00, 0x09,	/* Response, id 1, length 9 */
		0x01, 'a', 'b',		/* Identity, 7 octets in all */
	};
	static const uint8_t untyped[] = {
		0x01, 0x01, 0x00, 0x04,	/* Request without a Type */
	};

	ch_init();
	ch_add(IKE_PL_EAP, 0, longer, sizeof(longer));
	REJECT(IKE_ERR_EAP_LENGTH);
	ch_init();
	ch_add(IKE_PL_EAP, 0, untyped, sizeof(untyped));
	REJECT(IKE_ERR_EAP_LENGTH);
}

Test(codec, rejects_cp_attribute_past_end)
{
	static const uint8_t cp[] = {
		0x02, 0x00, 0x00, 0x00,	/* CFG_REPLY */
		0x00, 0x01, 0x00, 0x04,	/* INTERNAL_IP4_ADDRESS, length 4 */
		10, 0, 0,		/* 3 octets */
	};

	ch_init();
	ch_add(IKE_PL_CP, 0, cp, sizeof(cp));
	REJECT(IKE_ERR_ATTRIBUTE);
}

Test(codec, rejects_skf_number_zero_or_above_total)
{
	static const uint8_t v[][8] = {
		{ 0x00, 0x00, 0x00, 0x02, X4(0) },	/* 0 of 2 */
		{ 0x00, 0x03, 0x00, 0x02, X4(0) },	/* 3 of 2 */
		{ 0x00, 0x01, 0x00, 0x00, X4(0) },	/* 1 of 0 */
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ch_init();
		ch_add(IKE_PL_SKF, 0, v[i], sizeof(v[i]));
		REJECT(IKE_ERR_SKF_NUMBER);
	}
}

/* @n payloads of @type, each with @body, must parse iff n <= @cap. */
static void
over_cap(uint8_t type, const uint8_t *body, size_t len, size_t cap)
{
	struct ike_msg m;

	ch_init();
	for (size_t i = 0; i < cap; i++)
		ch_add(type, 0, body, len);
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK,
	    "type %u x %zu: %s", type, cap, ike_parse_strerror(m.err.reason));
	ch_add(type, 0, body, len);
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_SYNTAX,
	    "type %u x %zu", type, cap + 1);
	cr_assert_eq(m.err.reason, IKE_ERR_TOO_MANY, "type %u", type);
}

Test(codec, rejects_repeated_payloads_over_cap)
{
	static const uint8_t n[] = { 0, 0, 0x40, 0 };	/* INITIAL_CONTACT */
	static const uint8_t d[] = { 1, 0, 0, 0 };	/* D(IKE) */
	static const uint8_t c[] = { 4, 0xcc };		/* CERT(X.509) */

	over_cap(IKE_PL_NOTIFY, n, sizeof(n), IKE_MAX_REPEAT);
	over_cap(IKE_PL_DELETE, d, sizeof(d), IKE_MAX_REPEAT);
	over_cap(IKE_PL_CERT, c, sizeof(c), IKE_MAX_REPEAT);
	over_cap(IKE_PL_CERTREQ, c, sizeof(c), IKE_MAX_REPEAT);
	over_cap(IKE_PL_VENDOR, c, sizeof(c), IKE_MAX_REPEAT);
	over_cap(200, c, sizeof(c), IKE_MAX_REPEAT);	/* unknown, skipped */
}

Test(codec, rejects_proposals_over_cap)
{
	static uint8_t b[(IKE_MAX_PROPOSALS + 1) * 8];
	struct ike_msg m;
	size_t len = 0;

	for (size_t i = 0; i <= IKE_MAX_PROPOSALS; i++)
		len += proposal(b + len, i == IKE_MAX_PROPOSALS,
		    (uint8_t)(i + 1), IKE_PROTO_IKE, 0);
	b[len - 16] = 0;	/* the 32nd is the last one */
	ch_init();
	ch_add(IKE_PL_SA, 0, b, len - 8);
	cr_assert_eq(ch_parse(IKE_FLAG_INITIATOR, &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.sa.nproposals, IKE_MAX_PROPOSALS);
	b[len - 16] = 2;
	ch_init();
	ch_add(IKE_PL_SA, 0, b, len);
	REJECT(IKE_ERR_TOO_MANY);
}

Test(codec, rejects_transforms_over_cap)
{
	static uint8_t b[2 * (8 + 200 * 8)];
	size_t len = 0;

	/* Two proposals of 200 transforms: 400 > IKE_MAX_XFORMS. */
	for (int p = 0; p < 2; p++) {
		uint8_t *h = b + len;

		h[0] = p == 0 ? 2 : 0;
		h[1] = 0;
		store_be16(h + 2, 8 + 200 * 8);
		h[4] = (uint8_t)(p + 1);
		h[5] = IKE_PROTO_IKE;
		h[6] = 0;
		h[7] = 200;
		len += 8;
		for (int t = 0; t < 200; t++) {
			uint8_t *x = b + len;

			x[0] = t == 199 ? 0 : 3;
			x[1] = 0;
			store_be16(x + 2, 8);
			x[4] = IKE_XFORM_DH;
			x[5] = 0;
			store_be16(x + 6, (uint16_t)t);
			len += 8;
		}
	}
	ch_init();
	ch_add(IKE_PL_SA, 0, b, len);
	REJECT(IKE_ERR_TOO_MANY);
}

Test(codec, rejects_attributes_over_cap)
{
	uint8_t a[(IKE_MAX_XFORM_ATTRS + 1) * 4];

	for (size_t i = 0; i <= IKE_MAX_XFORM_ATTRS; i++) {
		a[i * 4] = 0x80;		/* TV */
		a[i * 4 + 1] = 0x20;		/* type 32 */
		a[i * 4 + 2] = 0;
		a[i * 4 + 3] = (uint8_t)i;
	}
	sa_with_attrs(a, IKE_MAX_XFORM_ATTRS * 4);
	ACCEPT();
	sa_with_attrs(a, sizeof(a));
	REJECT(IKE_ERR_TOO_MANY);
}

Test(codec, rejects_ts_and_cp_counts_over_cap)
{
	static uint8_t ts[4 + (IKE_MAX_TS + 1) * 16];
	static uint8_t cp[4 + (IKE_MAX_CP_ATTRS + 1) * 4];

	ts[0] = IKE_MAX_TS + 1;
	for (size_t i = 0; i <= IKE_MAX_TS; i++) {
		ts[4 + i * 16] = IKE_TS_IPV4_ADDR_RANGE;
		ts[4 + i * 16 + 3] = 16;
	}
	ch_init();
	ch_add(IKE_PL_TSI, 0, ts, sizeof(ts));
	REJECT(IKE_ERR_TOO_MANY);
	ts[0] = IKE_MAX_TS;
	ch_init();
	ch_add(IKE_PL_TSI, 0, ts, sizeof(ts) - 16);
	ACCEPT();

	cp[0] = IKE_CFG_REQUEST;
	for (size_t i = 0; i <= IKE_MAX_CP_ATTRS; i++)
		cp[4 + i * 4 + 1] = IKE_CFG_INTERNAL_IP4_DNS;
	ch_init();
	ch_add(IKE_PL_CP, 0, cp, sizeof(cp));
	REJECT(IKE_ERR_TOO_MANY);
	ch_init();
	ch_add(IKE_PL_CP, 0, cp, sizeof(cp) - 4);
	ACCEPT();
}

/* Deterministic generator of random valid messages. */
static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static uint32_t
rnd(uint32_t n)
{
	return n == 0 ? 0 : rng() % n;
}

static uint8_t pool[4096];

static struct ike_data
rdata(size_t max)
{
	size_t len = rnd((uint32_t)max + 1);
	struct ike_data d = { len > 0 ? pool + rnd(sizeof(pool) - len) : NULL,
	    len };

	return d;
}

static void
gen_ts(struct ike_ts_pl *tp)
{
	tp->count = (uint8_t)(1 + rnd(IKE_MAX_TS));
	for (size_t i = 0; i < tp->count; i++) {
		struct ike_ts *ts = &tp->ts[i];
		size_t alen;

		memset(ts, 0, sizeof(*ts));
		ts->type = (uint8_t)(rnd(5) == 0 ? 9 : 7 + rnd(2));
		ts->proto = (uint8_t)rnd(256);
		if (ts->type == 9) {
			ts->other = rdata(20);
			continue;
		}
		alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
		ts->start_port = (uint16_t)rng();
		ts->end_port = (uint16_t)rng();
		for (size_t j = 0; j < alen; j++) {
			ts->start[j] = (uint8_t)rng();
			ts->end[j] = (uint8_t)rng();
		}
	}
}

static void
gen_sa(struct ike_sa_pl *sa, bool response)
{
	uint8_t first = response ? (uint8_t)(1 + rnd(9)) : 1;

	sa->nproposals = (uint8_t)(1 + rnd(4));
	for (size_t i = 0; i < sa->nproposals; i++) {
		struct ike_proposal *pr = &sa->proposals[i];
		static const uint8_t protos[] = { 1, 2, 3 };

		memset(pr, 0, sizeof(*pr));
		pr->num = (uint8_t)(first + i);
		pr->proto = protos[rnd(3)];
		pr->spi_size = pr->proto == IKE_PROTO_IKE ?
		    (rnd(2) ? 8 : 0) : 4;
		for (size_t j = 0; j < pr->spi_size; j++)
			pr->spi[j] = (uint8_t)rng();
		pr->xform_first = sa->nxforms;
		pr->nxforms = (uint16_t)rnd(12);
		for (size_t j = 0; j < pr->nxforms; j++) {
			struct ike_xform *x = &sa->xforms[sa->nxforms++];

			memset(x, 0, sizeof(*x));
			x->type = (uint8_t)(1 + rnd(6));
			x->id = (uint16_t)rnd(40);
			x->key_length = rnd(3) == 0 ? (uint16_t)(1 + rnd(512))
			    : 0;
			x->attr_first = sa->nattrs;
			while (sa->nattrs < IKE_MAX_XFORM_ATTRS &&
			    rnd(6) == 0) {
				struct ike_xattr *a = &sa->attrs[sa->nattrs++];

				memset(a, 0, sizeof(*a));
				a->type = (uint16_t)(15 + rnd(100));
				a->tv = rnd(2);
				if (a->tv)
					a->value = (uint16_t)rng();
				else
					a->data = rdata(8);
				x->nattrs++;
			}
		}
	}
}

static void
gen_msg(struct ike_msg *m)
{
	struct ike_payloads *pl = &m->pl;
	static const uint8_t flags[] = { 0x08, 0x20, 0x28, 0x00, 0x18 };

	memset(m, 0, sizeof(*m));
	m->hdr.spi_i = (uint64_t)rng() << 32 | rng();
	m->hdr.spi_r = rnd(2) ? 0 : (uint64_t)rng() << 32 | rng();
	m->hdr.major = 2;
	m->hdr.minor = (uint8_t)rnd(2);
	m->hdr.exchange = (uint8_t)(34 + rnd(4));
	m->hdr.flags = flags[rnd(sizeof(flags))];
	m->hdr.msgid = rng();
	if (rnd(2)) {
		pl->have |= IKE_HAVE_SA;
		gen_sa(&pl->sa, m->hdr.flags & IKE_FLAG_RESPONSE);
	}
	if (rnd(2)) {
		pl->have |= IKE_HAVE_KE;
		pl->ke.group = (uint16_t)rnd(35);
		pl->ke.data = rdata(300);
	}
	if (rnd(3) == 0) {
		pl->have |= IKE_HAVE_IDI;
		pl->idi.type = (uint8_t)rnd(14);
		pl->idi.data = rdata(40);
	}
	if (rnd(3) == 0) {
		pl->have |= IKE_HAVE_IDR;
		pl->idr.type = (uint8_t)rnd(14);
		pl->idr.data = rdata(40);
	}
	if (rnd(3) == 0) {
		pl->have |= IKE_HAVE_AUTH;
		pl->auth.method = (uint8_t)rnd(15);
		pl->auth.data = rdata(300);
	}
	if (rnd(2)) {
		size_t len = IKE_NONCE_MIN + rnd(IKE_NONCE_MAX - 16 + 1);

		pl->have |= IKE_HAVE_NONCE;
		pl->nonce.p = pool + rnd(sizeof(pool) - len);
		pl->nonce.len = len;
	}
	if (rnd(3) == 0) {
		pl->have |= IKE_HAVE_TSI;
		gen_ts(&pl->tsi);
	}
	if (rnd(3) == 0) {
		pl->have |= IKE_HAVE_TSR;
		gen_ts(&pl->tsr);
	}
	if (rnd(4) == 0) {
		pl->have |= IKE_HAVE_CP;
		pl->cp.type = (uint8_t)(1 + rnd(4));
		pl->cp.nattrs = (uint8_t)rnd(IKE_MAX_CP_ATTRS + 1);
		for (size_t i = 0; i < pl->cp.nattrs; i++) {
			pl->cp.attrs[i].type = (uint16_t)rnd(0x8000);
			pl->cp.attrs[i].value = rdata(16);
		}
	}
	if (rnd(4) == 0) {
		pl->have |= IKE_HAVE_EAP;
		pl->eap.code = (uint8_t)(1 + rnd(4));
		pl->eap.id = (uint8_t)rng();
		if (pl->eap.code <= IKE_EAP_RESPONSE)
			pl->eap.type = (uint8_t)rng();
		pl->eap.data = rdata(60);
	}
	pl->nnotify = (uint8_t)(rnd(3) == 0 ? rnd(IKE_MAX_REPEAT + 1) : rnd(4));
	for (size_t i = 0; i < pl->nnotify; i++) {
		static const uint8_t spis[] = { 0, 4, 8 };
		size_t sl = spis[rnd(3)];

		pl->notify[i].proto = (uint8_t)rnd(4);
		pl->notify[i].type = (uint16_t)rng();
		pl->notify[i].spi.p = sl > 0 ? pool + rnd(100) : NULL;
		pl->notify[i].spi.len = sl;
		pl->notify[i].data = rdata(30);
	}
	pl->ncert = (uint8_t)rnd(3);
	for (size_t i = 0; i < pl->ncert; i++) {
		pl->cert[i].encoding = (uint8_t)rng();
		pl->cert[i].data = rdata(200);
	}
	pl->ncertreq = (uint8_t)rnd(3);
	for (size_t i = 0; i < pl->ncertreq; i++) {
		pl->certreq[i].encoding = (uint8_t)rng();
		pl->certreq[i].data = rdata(60);
	}
	pl->nvendor = (uint8_t)rnd(4);
	for (size_t i = 0; i < pl->nvendor; i++)
		pl->vendor[i] = rdata(20);
	pl->ndelete = (uint8_t)rnd(3);
	for (size_t i = 0; i < pl->ndelete; i++) {
		struct ike_delete *d = &pl->delete[i];

		if (rnd(2)) {
			d->proto = IKE_PROTO_IKE;
			d->spi_size = 0;
			d->nspis = 0;
			d->spis.p = NULL;
			d->spis.len = 0;
		} else {
			d->proto = (uint8_t)(2 + rnd(2));
			d->spi_size = 4;
			d->nspis = (uint16_t)rnd(10);
			d->spis.len = d->nspis * 4u;
			d->spis.p = d->spis.len > 0 ? pool + rnd(1000) : NULL;
		}
	}
	switch (rnd(4)) {
	case 0:
		pl->have |= IKE_HAVE_SK;
		pl->sk.inner = (uint8_t)rng();
		pl->sk.body = rdata(200);
		break;
	case 1:
		pl->have |= IKE_HAVE_SKF;
		pl->sk.inner = (uint8_t)rng();
		pl->sk.frag_total = (uint16_t)(1 + rnd(100));
		pl->sk.frag_num = (uint16_t)(1 + rnd(pl->sk.frag_total));
		pl->sk.body = rdata(200);
		break;
	default:
		break;
	}
}

Test(codec, parse_of_build_equals_generated_message)
{
	static uint8_t out[65536];
	struct ike_msg a, b;
	size_t len;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rng();
	for (int it = 0; it < 1000; it++) {
		gen_msg(&a);
		cr_assert_eq(ike_msg_build(&a, out, sizeof(out), &len), 0,
		    "iteration %d", it);
		cr_assert_eq(ike_msg_parse(out, len, &b), IKE_PARSE_OK,
		    "iteration %d: %s at %zu", it,
		    ike_parse_strerror(b.err.reason), b.err.offset);
		cr_assert(ike_msg_equal(&a, &b), "iteration %d", it);
		cr_assert_eq(b.hdr.length, len);
		/* And a changed message no longer compares equal. */
		b.hdr.msgid ^= 1;
		cr_assert_not(ike_msg_equal(&a, &b), "iteration %d", it);
	}
}

Test(codec, builder_refuses_every_short_buffer)
{
	static uint8_t full[65536];
	uint8_t *buf;
	struct ike_msg a;
	size_t len, got;

	rng_state = 0x0123456789abcdefULL;
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rng();
	for (int it = 0; it < 20; it++) {
		gen_msg(&a);
		cr_assert_eq(ike_msg_build(&a, full, sizeof(full), &len), 0);
		buf = malloc(len + 16);
		cr_assert_not_null(buf);
		for (size_t cap = 0; cap < len; cap++) {
			memset(buf, 0xa5, len + 16);
			cr_assert_eq(ike_msg_build(&a, buf, cap, &got), -1,
			    "iteration %d cap %zu of %zu", it, cap, len);
			for (size_t k = cap; k < len + 16; k++)
				cr_assert_eq(buf[k], 0xa5,
				    "wrote past cap %zu at %zu", cap, k);
		}
		cr_assert_eq(ike_msg_build(&a, buf, len, &got), 0);
		cr_assert_eq(got, len);
		cr_assert_eq(memcmp(buf, full, len), 0);
		free(buf);
	}
}

Test(codec, builds_inner_chain_and_sk_header)
{
	uint8_t plain[256], msg[512];
	struct wr w = wr_make(plain, sizeof(plain));
	struct ike_builder b;
	struct ike_id id = { IKE_ID_FQDN, { (const uint8_t *)"gw", 2 },
	    { NULL, 0 } };
	struct ike_auth auth = { IKE_AUTH_SHARED_KEY_MIC,
	    { pool, 32 }, };
	struct ike_msg m;
	struct ike_hdr h = { .spi_i = 1, .spi_r = 2, .exchange =
	    IKE_EXCH_IKE_AUTH, .flags = IKE_FLAG_RESPONSE, .msgid = 1 };
	uint8_t *body;
	size_t plen;

	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_id(&b, IKE_PL_IDR, &id), 0);
	cr_assert_eq(ike_build_auth(&b, &auth), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(b.first, IKE_PL_IDR);
	plen = w.len;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(ike_payloads_parse(b.first, plain, plen, &m),
	    IKE_PARSE_OK);
	cr_assert_eq(m.pl.idr.data.len, 2);
	cr_assert_eq(m.pl.auth.data.len, 32);

	/* Outer message: SK naming IDr, room for 16 + plen + 16 octets. */
	w = wr_make(msg, sizeof(msg));
	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_sk(&b, IKE_PL_IDR, 16 + plen + 16, &body), 0);
	cr_assert_not_null(body);
	cr_assert_eq(ike_build_notify(&b, &(struct ike_notify){ 0 }), -1,
	    "nothing may follow SK");
	cr_assert_eq(ike_build_finish(&b), -1);

	w = wr_make(msg, sizeof(msg));
	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_sk(&b, IKE_PL_IDR, 16 + plen + 16, &body), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(w.len, 28 + 4 + 16 + plen + 16);
	cr_assert_eq(body, msg + 32);
	cr_assert_eq(load_be32(msg + 24), w.len);
	cr_assert_eq(msg[16], IKE_PL_SK);
	cr_assert_eq(msg[28], IKE_PL_IDR);
	cr_assert_eq(ike_msg_parse(msg, w.len, &m), IKE_PARSE_OK);
	cr_assert_eq(m.pl.sk.inner, IKE_PL_IDR);
	cr_assert_eq(m.pl.sk.body.p, body);
}

Test(codec, builder_refuses_payload_over_65535)
{
	static uint8_t big[70000], out[80000];
	struct wr w = wr_make(out, sizeof(out));
	struct ike_builder b;
	struct ike_hdr h = { 0 };

	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_vendor(&b, big, 65531), 0);	/* 65535 */
	cr_assert_eq(ike_build_vendor(&b, big, 65532), -1);
	cr_assert_eq(ike_build_finish(&b), -1);
}
