/*
 * The responder's protected exchanges on arbitrary inner payloads: an
 * established IKE SA (keys from fixed nonces, one Child SA, a virtual IP)
 * gets a series of authentic requests whose plaintext is the input, so
 * CREATE_CHILD_SA (new Child SA, Child SA and IKE SA rekey, every
 * refusal) and INFORMATIONAL (Delete, the old SA after a rekey,
 * and MOBIKE's UPDATE_SA_ADDRESSES / COOKIE2) are reached past the ICV
 * check that stops ike_sa_fuzz.
 *
 * Input: records of  [flags][first payload][length, 2 octets][payload
 * chain].  flags bit 0: INFORMATIONAL, else CREATE_CHILD_SA; bit 1: the
 * same message ID again (a retransmission); bit 2: to the SA's first
 * SPIs and keys (after a rekey: the old SA).  A response must fit its
 * bound and parse; every address goes back to the pool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/sa_int.h"
#include "test/fuzz/ike_fuzz_sa.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	RECORDS_MAX	= 8
};

static const char *const ike[] = { "aes256gcm16-prfsha384-x25519", NULL };
/* The second one: AES-CBC, HMAC-SHA-256 and a PFS group. */
static const char *const esp[] = { "aes256gcm16", "aes128-sha256-x25519",
    NULL };
static struct ike_sa_conf conf;
static struct ike_msg m;
static uint8_t msg[IKE_SA_MSG_MAX];

/* One protected request around @inner; its length, 0 if it did not fit. */
static size_t
request(struct ike_sk *sk, uint64_t spi_i, uint64_t spi_r, uint8_t exch,
    uint32_t msgid, uint8_t first, const uint8_t *inner, size_t inner_len)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w = wr_make(msg, sizeof(msg));
	uint8_t *body;
	size_t body_len = ike_sk_len(sk, inner_len);

	memset(&h, 0, sizeof(h));
	h.spi_i = spi_i;
	h.spi_r = spi_r;
	h.exchange = exch;
	h.flags = IKE_FLAG_INITIATOR;
	h.msgid = msgid;
	ike_build_init(&b, &w, &h);
	if (body_len == 0 || ike_build_sk(&b, first, body_len, &body) != 0 ||
	    ike_build_finish(&b) != 0 || ike_sk_protect(sk, msg,
	    (size_t)(body - msg), inner, inner_len, body_len) != 0)
		return 0;
	return w.len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	struct ike_sk sk, in;
	struct ike_out out;
	struct ike_sa *sa;
	uint64_t spi_i, spi_r;
	uint32_t msgid = 0;
	uint16_t len;
	uint8_t flags, first;
	size_t i, n;
	const uint8_t *inner;

	(void)fuzz_conf(&conf, ike, esp);
	if ((sa = fuzz_established(&conf)) == NULL)
		return 0;
	sa->mobike = true;	/* RFC 4555 notifies are processed */
	/* What the initiator protects its requests with. */
	if (ike_sk_init_pair(&sk, &in, &sa->suite, &sa->keys, true) != 0)
		abort();
	ike_sk_cleanup(&in);
	spi_i = sa->spi_i;
	spi_r = sa->spi_r;
	for (i = 0; i < RECORDS_MAX && rd_u8(&r, &flags) &&
	    rd_u8(&r, &first) && rd_be16(&r, &len) && r.n >= len; i++) {
		inner = r.p;
		(void)rd_skip(&r, len);
		if (!(flags & 2))
			msgid++;
		/* After an IKE SA rekey only the old SA's keys are known. */
		n = request(&sk, (flags & 4) ? spi_i : sa->spi_i,
		    (flags & 4) ? spi_r : sa->spi_r, (flags & 1) ?
		    IKE_EXCH_INFORMATIONAL : IKE_EXCH_CREATE_CHILD_SA, msgid,
		    first, inner, len);
		if (n == 0)
			continue;
		(void)ike_sa_handle(sa, msg, n, 1000 + i, &out);
		if (!fuzz_out_ok(&out, &m) ||
		    ike_sa_child_count(sa) > IKE_SA_CHILD_MAX)
			abort();
	}
	ike_sk_cleanup(&sk);
	ike_sa_free(sa);
	if (ike_pool_used(conf.pool) != 0)
		abort();		/* every SA gave its address back */
	return 0;
}
