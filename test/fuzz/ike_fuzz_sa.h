/*
 * What the ike/ fuzz targets start from: the responder's configuration
 * (ike_sa_fuzz, ike_child_fuzz, ike_req_fuzz) and an IKE SA as IKE_AUTH
 * leaves it (ike_child_fuzz, ike_req_fuzz).  Each fuzz target is built
 * from one .c file and libiketcp.a (Makefile), so what they share is
 * static inline here rather than an object file of its own.
 */
#ifndef IKETCP_TEST_FUZZ_IKE_FUZZ_SA_H
#define IKETCP_TEST_FUZZ_IKE_FUZZ_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/proposal.h"
#include "ike/sa_int.h"

enum {
	FUZZ_PROP_MAX	= 2	/* IKE or ESP proposals in a configuration */
};

static struct ike_prop fuzz_ike[FUZZ_PROP_MAX], fuzz_esp[FUZZ_PROP_MAX];

/* Parses the NULL-terminated @str into @prop; their count. */
static inline size_t
fuzz_props(uint8_t proto, const char *const *str, struct ike_prop *prop)
{
	char err[IKE_PROP_ERR_MAX];
	size_t n;

	for (n = 0; str[n] != NULL; n++)
		if (n == FUZZ_PROP_MAX ||
		    !ike_proposal_parse(proto, str[n], &prop[n], err,
		    sizeof(err)))
			abort();
	return n;
}

/*
 * Sets @conf on the first call, false on the later ones: the proposals
 * @ike and @esp (NULL-terminated), ID fuzz.test, the pool 10.9.0.0/24
 * and all of IPv4 as the local traffic selector, and the smallest RFC
 * 7383 fragment size, so that most protected messages also go through
 * the fragmenter.  The configuration outlives every input, as the
 * daemon's does.
 */
static inline bool
fuzz_conf(struct ike_sa_conf *conf, const char *const *ike,
    const char *const *esp)
{
	char err[IKE_POOL_ERR_MAX];

	if (conf->nike != 0)
		return false;
	conf->ike = fuzz_ike;
	conf->nike = fuzz_props(IKE_PROTO_IKE, ike, fuzz_ike);
	conf->esp = fuzz_esp;
	conf->nesp = fuzz_props(IKE_PROTO_ESP, esp, fuzz_esp);
	if ((conf->pool = ike_pool_new("10.9.0.0/24", err, sizeof(err))) ==
	    NULL)
		abort();
	conf->id_type = IKE_ID_FQDN;
	conf->id = (const uint8_t *)"fuzz.test";
	conf->id_len = 9;
	conf->local_ts.type = IKE_TS_IPV4_ADDR_RANGE;
	conf->local_ts.end_port = 0xffff;
	memset(conf->local_ts.end, 0xff, 4);
	conf->frag_max = IKE_SA_FRAG_MAX_MIN;
	return true;
}

/*
 * An SA as IKE_AUTH leaves it at 0 ms, so that fuzzed requests and
 * responses get past the ICV check: SPIs, nonces and g^ir fixed, SK_*
 * derived from them, a virtual IP from the pool and one Child SA (SPIs 1
 * and 0x11111111, TSi that address, TSr all).  NULL if ike_sa_new()
 * refuses.
 */
static inline struct ike_sa *
fuzz_established(const struct ike_sa_conf *conf)
{
	static const uint8_t spii[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t spir[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	struct ike_endpoint a = { 4, { 192, 0, 2, 1 }, 4500 };
	struct ike_endpoint b = { 4, { 192, 0, 2, 2 }, 4500 };
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256,
	    IKE_PRF_HMAC_SHA2_384, IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	uint8_t nonce[32], gir[32];
	struct ike_child ch;
	struct ike_sa *sa;

	if ((sa = ike_sa_new(conf, &b, &a, 0)) == NULL)
		return NULL;
	memset(nonce, 0x4e, sizeof(nonce));
	memset(gir, 0x67, sizeof(gir));
	sa->spi_i = load_be64(spii);
	sa->spi_r = load_be64(spir);
	sa->suite = s;
	memcpy(sa->ni, nonce, sizeof(nonce));
	memcpy(sa->nr, nonce, sizeof(nonce));
	sa->ni_len = sa->nr_len = sizeof(nonce);
	if (ike_keys_new_sa(&s, nonce, sizeof(nonce), nonce, sizeof(nonce),
	    gir, sizeof(gir), spii, spir, &sa->keys) != 0 ||
	    ike_sk_init_pair(&sa->sk_out, &sa->sk_in, &s, &sa->keys, false) !=
	    0 || ike_pool_alloc(conf->pool, (const uint8_t *)"fuzz", 4,
	    &sa->vip) != 0)
		abort();
	ike_sa_set_state(sa, IKE_SA_INIT_DONE);
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED);
	sa->msgid_next = 1;
	sa->frag = true;	/* RFC 7383 agreed in IKE_SA_INIT */
	memset(&ch, 0, sizeof(ch));
	ch.spi_in = 1;
	ch.spi_out = 0x11111111;
	ch.suite.encr = IKE_ENCR_AES_GCM_16;
	ch.suite.encr_bits = 256;
	ch.vip = sa->vip;
	store_be32(ch.tsi.start, sa->vip);
	store_be32(ch.tsi.end, sa->vip);
	ch.tsi.type = ch.tsr.type = IKE_TS_IPV4_ADDR_RANGE;
	ch.tsi.end_port = ch.tsr.end_port = 0xffff;
	memset(ch.tsr.end, 0xff, 4);
	if (ike_sa_child_install(sa, &ch, nonce, 16, nonce, 16) == NULL)
		abort();
	return sa;
}

/*
 * A response must fit its bound and parse; @m takes it apart.  Its RFC
 * 7383 fragments, if any, each parse as one SKF payload of the same
 * message, numbered 1..n, none longer than the fragment size, and they
 * fill their buffer exactly.
 */
static inline bool
fuzz_out_ok(const struct ike_out *out, struct ike_msg *m)
{
	const uint8_t *p;
	size_t off = 0, len;
	unsigned k = 0;

	if (out->len > IKE_SA_MSG_MAX || (out->len != 0 &&
	    ike_msg_parse(out->msg, out->len, m) != IKE_PARSE_OK))
		return false;
	if (out->frags.n == 0)
		return out->frags.buf == NULL;
	if (out->len <= IKE_SA_FRAG_MAX_MIN)
		return false;		/* a short message is never split */
	while (ike_frags_next(&out->frags, &off, &p, &len)) {
		k++;
		if (len > IKE_SA_FRAG_MAX_MIN ||
		    ike_msg_parse(p, len, m) != IKE_PARSE_OK ||
		    m->pl.have != IKE_HAVE_SKF || m->pl.sk.frag_num != k ||
		    m->pl.sk.frag_total != out->frags.n ||
		    load_be32(p + 20) != load_be32(out->msg + 20))
			return false;
	}
	return k == out->frags.n && off == out->frags.len;
}

#endif /* IKETCP_TEST_FUZZ_IKE_FUZZ_SA_H */
