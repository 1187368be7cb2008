/*
 * The ike/ responder on arbitrary bytes: one or two messages (split by the
 * first one's header Length) to a fresh SA, with and without the cookie
 * flag; and the bytes as a proposal string.  A response must fit its
 * bound and parse; nothing may crash, leak or trip a sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/dh.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "test/fuzz/ike_fuzz_sa.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two IKE proposals, so that IKE_SA_INIT's selection has a choice. */
static const char *const ike[] = { "aes256gcm16-prfsha384-x25519",
    "aes128-sha256-ecp256", NULL };
static const char *const esp[] = { "aes256gcm16", NULL };
static struct ike_sa_conf conf;
static struct ike_msg m;
static char str[512];

static int
psk(void *arg, uint8_t type, const uint8_t *id, size_t len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	(void)arg;
	(void)type;
	(void)id;
	(void)len;
	(void)cap;
	memcpy(out, "fuzz", 4);
	*out_len = 4;
	return 0;
}

static void
one(const uint8_t *data, size_t size, unsigned flags)
{
	struct ike_endpoint a = { 4, { 192, 0, 2, 1 }, 4500 };
	struct ike_endpoint b = { 4, { 192, 0, 2, 2 }, 4500 };
	struct ike_sa *sa = ike_sa_new(&conf, &a, &b, flags);
	struct ike_out out;
	size_t first = size;

	if (sa == NULL)
		return;
	if (size >= 28 && load_be32(data + 24) < size)
		first = load_be32(data + 24);
	(void)ike_sa_handle(sa, data, first, 1, &out);
	if (!fuzz_out_ok(&out, &m))
		abort();
	if (first < size)
		(void)ike_sa_handle(sa, data + first, size - first, 2, &out);
	ike_sa_free(sa);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_prop p;
	struct ike_prop list[IKE_PROP_LIST_MAX];
	char err[IKE_PROP_ERR_MAX], lerr[IKE_PROP_LIST_ERR_MAX];
	size_t n = size < sizeof(str) - 1 ? size : sizeof(str) - 1;

	if (fuzz_conf(&conf, ike, esp))
		conf.psk = psk;
	one(data, size, 0);
	one(data, size, IKE_SA_F_COOKIE);
	memcpy(str, data, n);
	str[n] = '\0';
	(void)ike_proposal_parse(IKE_PROTO_IKE, str, &p, err, sizeof(err));
	(void)ike_proposal_parse(IKE_PROTO_ESP, str, &p, err, sizeof(err));
	(void)ike_proposal_list_parse(IKE_PROTO_IKE, str, IKE_KEX_ALLOW_WEAK,
	    list, IKE_PROP_LIST_MAX, lerr, sizeof(lerr));
	if (ike_pool_used(conf.pool) != 0)
		abort();		/* every SA gave its address back */
	return 0;
}
