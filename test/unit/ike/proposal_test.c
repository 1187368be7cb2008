/*
 * ike/proposal.c: strongSwan-style proposal strings and the responder's
 * choice among an initiator's proposals.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike/dh.h"
#include "ike/proposal.h"

TestSuite(proposal);

static struct ike_prop
parse_ok(uint8_t proto, const char *s)
{
	struct ike_prop p;
	char err[IKE_PROP_ERR_MAX] = "";

	cr_assert(ike_proposal_parse(proto, s, &p, err, sizeof(err)),
	    "%s: %s", s, err);
	return p;
}

static void
parse_err(uint8_t proto, const char *s, const char *want)
{
	struct ike_prop p;
	char err[IKE_PROP_ERR_MAX] = "";

	cr_assert_not(ike_proposal_parse(proto, s, &p, err, sizeof(err)),
	    "%s parsed", s);
	cr_assert(strstr(err, want) != NULL, "%s: '%s' lacks '%s'", s, err,
	    want);
}

Test(proposal, parses_ike_aead, .timeout = 10)
{
	struct ike_prop p = parse_ok(IKE_PROTO_IKE,
	    "aes256gcm16-prfsha384-x25519");

	cr_assert_eq(p.proto, IKE_PROTO_IKE);
	cr_assert_eq(p.nencr, 1);
	cr_assert_eq(p.encr[0].id, IKE_ENCR_AES_GCM_16);
	cr_assert_eq(p.encr[0].bits, 256);
	cr_assert_eq(p.nprf, 1);
	cr_assert_eq(p.prf[0], IKE_PRF_HMAC_SHA2_384);
	cr_assert_eq(p.ninteg, 0);
	cr_assert_eq(p.ndh, 1);
	cr_assert_eq(p.dh[0], IKE_DH_CURVE25519);

	p = parse_ok(IKE_PROTO_IKE, "chacha20poly1305-prfsha256-ecp256");
	cr_assert_eq(p.encr[0].id, IKE_ENCR_CHACHA20_POLY1305);
	cr_assert_eq(p.encr[0].bits, 0);
	cr_assert_eq(p.prf[0], IKE_PRF_HMAC_SHA2_256);
	cr_assert_eq(p.dh[0], IKE_DH_ECP256);
}

Test(proposal, parses_ike_cbc_and_derives_the_prf, .timeout = 10)
{
	struct ike_prop p = parse_ok(IKE_PROTO_IKE,
	    "aes256-aes128-sha256-sha1-modp2048-ecp384");

	cr_assert_eq(p.nencr, 2);
	cr_assert_eq(p.encr[0].id, IKE_ENCR_AES_CBC);
	cr_assert_eq(p.encr[0].bits, 256);
	cr_assert_eq(p.encr[1].bits, 128);
	cr_assert_eq(p.ninteg, 2);
	cr_assert_eq(p.integ[0], IKE_INTEG_HMAC_SHA2_256_128);
	cr_assert_eq(p.integ[1], IKE_INTEG_HMAC_SHA1_96);
	/* No prf token: the PRFs of the integrity algorithms, in order. */
	cr_assert_eq(p.nprf, 2);
	cr_assert_eq(p.prf[0], IKE_PRF_HMAC_SHA2_256);
	cr_assert_eq(p.prf[1], IKE_PRF_HMAC_SHA1);
	cr_assert_eq(p.ndh, 2);
	cr_assert_eq(p.dh[1], IKE_DH_ECP384);
}

Test(proposal, parses_esp, .timeout = 10)
{
	struct ike_prop p = parse_ok(IKE_PROTO_ESP, "aes256gcm16");

	cr_assert_eq(p.encr[0].id, IKE_ENCR_AES_GCM_16);
	cr_assert_eq(p.nesn, 1);
	cr_assert_eq(p.esn[0], IKE_ESN_NO);
	cr_assert_eq(p.ndh, 0);

	p = parse_ok(IKE_PROTO_ESP, "aes256-sha256-esn");
	cr_assert_eq(p.integ[0], IKE_INTEG_HMAC_SHA2_256_128);
	cr_assert_eq(p.nesn, 1);
	cr_assert_eq(p.esn[0], IKE_ESN_YES);
	cr_assert_eq(p.nprf, 0);

	p = parse_ok(IKE_PROTO_ESP, "chacha20poly1305-noesn");
	cr_assert_eq(p.encr[0].id, IKE_ENCR_CHACHA20_POLY1305);
	cr_assert_eq(p.esn[0], IKE_ESN_NO);

	p = parse_ok(IKE_PROTO_ESP, "aes128-sha1-ecp256");
	cr_assert_eq(p.ndh, 1);
	cr_assert_eq(p.dh[0], IKE_DH_ECP256);
}

Test(proposal, refuses_bad_strings_with_a_reason, .timeout = 10)
{
	parse_err(IKE_PROTO_IKE, "aes257-sha256-modp2048",
	    "unknown algorithm 'aes257'");
	parse_err(IKE_PROTO_IKE, "aes256-sha256-modp2048-bogus",
	    "unknown algorithm 'bogus'");
	parse_err(IKE_PROTO_IKE, "", "empty proposal");
	parse_err(IKE_PROTO_IKE, "aes256--sha256-modp2048", "empty algorithm");
	parse_err(IKE_PROTO_IKE, "aes256-sha256", "no key exchange");
	parse_err(IKE_PROTO_IKE, "aes256-modp2048", "no integrity");
	parse_err(IKE_PROTO_IKE, "sha256-modp2048", "no encryption");
	parse_err(IKE_PROTO_IKE, "aes256gcm16-x25519", "needs a PRF");
	parse_err(IKE_PROTO_IKE, "aes256gcm16-sha256-prfsha256-x25519",
	    "AEAD cipher takes no integrity");
	parse_err(IKE_PROTO_IKE, "aes256gcm16-aes256-sha256-x25519",
	    "AEAD and non-AEAD");
	parse_err(IKE_PROTO_IKE, "aes256-sha256-modp1024", "modp1024");
	parse_err(IKE_PROTO_IKE, "aes256-sha256-modp2048-esn", "esn/noesn");
	parse_err(IKE_PROTO_ESP, "aes256-sha256-prfsha256", "PRF in an ESP");
	parse_err(IKE_PROTO_ESP,
	    "aes256verylongnamethatgoesonandonandon-sha256",
	    "unknown algorithm");
	parse_err(IKE_PROTO_AH, "aes256-sha256", "not IKE or ESP");
}

/* An initiator's SA payload, built by hand. */
static void
prop_add(struct ike_sa_pl *sa, uint8_t proto, const uint8_t *spi,
    uint8_t spi_size)
{
	struct ike_proposal *p = &sa->proposals[sa->nproposals];

	memset(p, 0, sizeof(*p));
	p->num = (uint8_t)(sa->nproposals + 1);
	p->proto = proto;
	p->spi_size = spi_size;
	if (spi_size > 0)
		memcpy(p->spi, spi, spi_size);
	p->xform_first = sa->nxforms;
	sa->nproposals++;
}

static void
xf_add(struct ike_sa_pl *sa, uint8_t type, uint16_t id, uint16_t bits)
{
	struct ike_xform *x = &sa->xforms[sa->nxforms++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->id = id;
	x->key_length = bits;
	sa->proposals[sa->nproposals - 1].nxforms++;
}

static struct ike_sa_pl *
offer_new(void)
{
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));

	cr_assert_not_null(sa);
	return sa;
}

Test(proposal, chooses_our_preference_first, .timeout = 10)
{
	struct ike_prop ours[2];
	struct ike_sa_pl *sa = offer_new(), *resp = offer_new();
	struct ike_chosen c;

	ours[0] = parse_ok(IKE_PROTO_IKE, "aes256gcm16-prfsha384-x25519");
	ours[1] = parse_ok(IKE_PROTO_IKE, "aes256-sha256-modp2048");
	/* Proposal 1: CBC; proposal 2: GCM.  We prefer GCM. */
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 256);
	xf_add(sa, IKE_XFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_MODP2048, 0);
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_ECP256, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);

	cr_assert_eq(ike_proposal_select(ours, 2, sa, IKE_DH_NONE, 0, &c),
	    IKE_SELECT_OK);
	cr_assert_eq(c.num, 2);
	cr_assert_eq(c.suite.encr, IKE_ENCR_AES_GCM_16);
	cr_assert_eq(c.suite.encr_bits, 256);
	cr_assert_eq(c.suite.prf, IKE_PRF_HMAC_SHA2_384);
	cr_assert_eq(c.suite.integ, IKE_INTEG_NONE);
	cr_assert_eq(c.suite.dh, IKE_DH_CURVE25519);
	cr_assert_not(c.has_integ);

	ike_proposal_response(&c, NULL, 0, resp);
	cr_assert_eq(resp->nproposals, 1);
	cr_assert_eq(resp->proposals[0].num, 2);
	cr_assert_eq(resp->proposals[0].spi_size, 0);
	cr_assert_eq(resp->proposals[0].nxforms, 3);	/* ENCR PRF DH */

	/* Only CBC acceptable: proposal 1 with its transforms. */
	cr_assert_eq(ike_proposal_select(&ours[1], 1, sa, IKE_DH_NONE, 0,
	    &c), IKE_SELECT_OK);
	cr_assert_eq(c.num, 1);
	cr_assert_eq(c.suite.integ, IKE_INTEG_HMAC_SHA2_256_128);
	cr_assert_eq(c.suite.dh, IKE_DH_MODP2048);
	ike_proposal_response(&c, NULL, 0, resp);
	cr_assert_eq(resp->proposals[0].nxforms, 4);
	free(sa);
	free(resp);
}

Test(proposal, takes_the_initiators_ke_guess_when_acceptable, .timeout = 10)
{
	struct ike_prop ours = parse_ok(IKE_PROTO_IKE,
	    "aes128gcm16-prfsha256-x25519-ecp256");
	struct ike_sa_pl *sa = offer_new();
	struct ike_chosen c;

	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_ECP256, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);
	cr_assert_eq(ike_proposal_select(&ours, 1, sa, IKE_DH_ECP256, 0, &c),
	    IKE_SELECT_OK);
	cr_assert_eq(c.suite.dh, IKE_DH_ECP256);
	cr_assert_eq(ike_proposal_select(&ours, 1, sa, IKE_DH_MODP2048, 0,
	    &c), IKE_SELECT_OK);
	cr_assert_eq(c.suite.dh, IKE_DH_CURVE25519);
	free(sa);
}

Test(proposal, answers_no_proposal_chosen, .timeout = 10)
{
	struct ike_prop ours = parse_ok(IKE_PROTO_IKE,
	    "aes256gcm16-prfsha384-x25519");
	struct ike_sa_pl *sa = offer_new();
	struct ike_chosen c;

	/* Right algorithms, wrong key size. */
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 128);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);
	/* Right, but with an integrity algorithm next to AEAD. */
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf_add(sa, IKE_XFORM_INTEG, IKE_INTEG_HMAC_SHA1_96, 0);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);
	/* Right, but with a transform type we do not know (§3.3.6). */
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);
	xf_add(sa, 6, 1, 0);
	/* Right, but ESP. */
	prop_add(sa, IKE_PROTO_ESP, (const uint8_t *)"\1\2\3\4", 4);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	cr_assert_eq(ike_proposal_select(&ours, 1, sa, IKE_DH_CURVE25519, 0,
	    &c), IKE_SELECT_NO_PROPOSAL);

	/* INTEG NONE beside AEAD is fine and goes back. */
	prop_add(sa, IKE_PROTO_IKE, NULL, 0);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf_add(sa, IKE_XFORM_INTEG, IKE_INTEG_NONE, 0);
	xf_add(sa, IKE_XFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_CURVE25519, 0);
	cr_assert_eq(ike_proposal_select(&ours, 1, sa, IKE_DH_CURVE25519, 0,
	    &c), IKE_SELECT_OK);
	cr_assert_eq(c.num, 5);
	cr_assert(c.has_integ);
	free(sa);
}

Test(proposal, chooses_esp_and_keeps_the_initiators_spi, .timeout = 10)
{
	struct ike_prop ours[2];
	struct ike_sa_pl *sa = offer_new(), *resp = offer_new();
	struct ike_chosen c;
	static const uint8_t spi[4] = { 0xc0, 0xff, 0xee, 0x01 };
	static const uint8_t our_spi[4] = { 0x11, 0x22, 0x33, 0x44 };

	ours[0] = parse_ok(IKE_PROTO_ESP, "aes256gcm16");
	ours[1] = parse_ok(IKE_PROTO_ESP, "aes256-sha256-esn-noesn");
	prop_add(sa, IKE_PROTO_ESP, spi, 4);
	xf_add(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_CBC, 256);
	xf_add(sa, IKE_XFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	xf_add(sa, IKE_XFORM_DH, IKE_DH_ECP256, 0);	/* ignored in AUTH */
	xf_add(sa, IKE_XFORM_ESN, IKE_ESN_YES, 0);
	xf_add(sa, IKE_XFORM_ESN, IKE_ESN_NO, 0);

	cr_assert_eq(ike_proposal_select(ours, 2, sa, IKE_DH_NONE,
	    IKE_SELECT_NO_DH, &c), IKE_SELECT_OK);
	cr_assert_eq(c.proto, IKE_PROTO_ESP);
	cr_assert_eq(c.spi_size, 4);
	cr_assert_arr_eq(c.spi, spi, 4);
	cr_assert_eq(c.suite.encr, IKE_ENCR_AES_CBC);
	cr_assert(c.has_esn);
	cr_assert_eq(c.esn, IKE_ESN_YES);
	cr_assert_not(c.has_dh);
	ike_proposal_response(&c, our_spi, 4, resp);
	cr_assert_eq(resp->proposals[0].spi_size, 4);
	cr_assert_arr_eq(resp->proposals[0].spi, our_spi, 4);
	cr_assert_eq(resp->proposals[0].nxforms, 3);	/* ENCR INTEG ESN */

	/* Without the flag, PFS is asked for and we have no group. */
	cr_assert_eq(ike_proposal_select(ours, 2, sa, IKE_DH_NONE, 0, &c),
	    IKE_SELECT_NO_PROPOSAL);
	free(sa);
	free(resp);
}

/* Lists as strongSwan writes them: blanks around the commas. */
Test(proposal, parses_lists_with_blanks_around_commas, .timeout = 10)
{
	static const char *const ok[] = {
		"aes256gcm16-prfsha384-x25519,aes256-sha256-modp2048",
		"aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048",
		"aes256gcm16-prfsha384-x25519 ,\taes256-sha256-modp2048 ",
		" aes256gcm16-prfsha384-x25519\t,  aes256-sha256-modp2048",
	};
	struct ike_prop p[IKE_PROP_LIST_MAX];
	char err[IKE_PROP_LIST_ERR_MAX];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_IKE, ok[i], 0,
		    p, IKE_PROP_LIST_MAX, err, sizeof(err)), 2, "'%s': %s",
		    ok[i], err);
		cr_assert_eq(p[0].encr[0].id, IKE_ENCR_AES_GCM_16);
		cr_assert_eq(p[0].dh[0], IKE_DH_CURVE25519);
		cr_assert_eq(p[1].encr[0].id, IKE_ENCR_AES_CBC);
		cr_assert_eq(p[1].dh[0], IKE_DH_MODP2048);
	}
	cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_ESP, "aes256gcm16", 0,
	    p, IKE_PROP_LIST_MAX, err, sizeof(err)), 1);
}

Test(proposal, refuses_bad_lists_naming_the_proposal, .timeout = 10)
{
	static const struct {
		const char	*s;
		const char	*want;
	} bad[] = {
		{ "aes256-sha256-modp2048, aes257-sha256-modp2048",
		    "proposal 2 'aes257-sha256-modp2048': unknown algorithm" },
		{ "aes256-sha256-modp2048, ", "proposal 2 '': empty proposal" },
		{ ",aes256-sha256-modp2048", "proposal 1 '': empty proposal" },
		{ "aes256-sha256 -modp2048", "unknown algorithm 'sha256 '" },
		{ "aes256-sha1-modp1024", "'modp1024' is not supported" },
	};
	struct ike_prop p[IKE_PROP_LIST_MAX];
	char err[IKE_PROP_LIST_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_IKE, bad[i].s,
		    0, p, IKE_PROP_LIST_MAX, err, sizeof(err)), 0, "'%s'",
		    bad[i].s);
		cr_assert_not_null(strstr(err, bad[i].want), "'%s': %s",
		    bad[i].s, err);
	}
	{
		char many[IKE_PROP_LIST_MAX * 24 + 32] = "";

		for (size_t i = 0; i <= IKE_PROP_LIST_MAX; i++)
			strcat(many, i ? ", aes256-sha256-modp2048" :
			    "aes256-sha256-modp2048");
		cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_IKE, many, 0,
		    p, IKE_PROP_LIST_MAX, err, sizeof(err)), 0);
		cr_assert_not_null(strstr(err, "more than 16"), "%s", err);
	}
}

/* MODP groups 2 and 5 only when the caller allows weak groups. */
Test(proposal, takes_weak_groups_with_the_opt_in_only, .timeout = 10)
{
	struct ike_prop p[IKE_PROP_LIST_MAX];
	char err[IKE_PROP_LIST_ERR_MAX];

	cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_IKE,
	    "aes256-sha1-modp1024, aes256-sha256-modp1536", 0, p,
	    IKE_PROP_LIST_MAX, err, sizeof(err)), 0);
	cr_assert_eq(ike_proposal_list_parse(IKE_PROTO_IKE,
	    "aes256-sha1-modp1024, aes256-sha256-modp1536",
	    IKE_KEX_ALLOW_WEAK, p, IKE_PROP_LIST_MAX, err, sizeof(err)), 2,
	    "%s", err);
	cr_assert_eq(p[0].dh[0], IKE_DH_MODP1024);
	cr_assert_eq(p[0].prf[0], IKE_PRF_HMAC_SHA1);
	cr_assert_eq(p[1].dh[0], IKE_DH_MODP1536);
	cr_assert_str_eq(ike_proposal_dh_name(IKE_DH_MODP1024), "modp1024");
	cr_assert_str_eq(ike_proposal_dh_name(IKE_DH_MODP1536), "modp1536");
}
