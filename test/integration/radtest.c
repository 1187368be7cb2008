/*
 * radtest: a test driver for relay/radclient.c (test 58-radius).  It
 * plays an EAP peer (RFC 3748) whose packets the client carries to the
 * radius-server list of an [integrated] section, the way the IKE
 * responder will: EAP-Response/Identity first, then the method the
 * server proposes, answered as a peer does.
 *
 *   radtest CONF SECTION USER PASSWORD md5|mschapv2
 *
 * EAP-MD5 (RFC 3748 §5.4): Response = MD5(id || password || challenge).
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02) with ike/mschapv2.c
 * for the peer's side; the MSK the server sends (MS-MPPE keys) is
 * compared with the one the peer computes (RFC 3079 §3.4).  A method we
 * do not want is answered with a Nak naming the one we do.
 *
 * Prints one line "result=accept|reject|timeout rounds=N ms=N
 * msk_len=N msk_match=yes|no|- framed_ip=A|- class=yes|no" and one of
 * counters, then exits 0; 2 on a usage or set-up error, 3 on an EAP
 * packet it cannot answer.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conf/conf.h"
#include "ike/mschapv2.h"
#include "ike/radius.h"
#include "relay/log.h"
#include "relay/radclient.h"

enum {
	EAP_REQUEST = 1, EAP_RESPONSE = 2, EAP_SUCCESS = 3, EAP_FAILURE = 4,
	T_IDENTITY = 1, T_NAK = 3, T_MD5 = 4, T_MSCHAPV2 = 26,
	OP_CHALLENGE = 1, OP_RESPONSE = 2, OP_SUCCESS = 3, OP_FAILURE = 4,
	PKT = 1024
};

struct peer {
	struct radclient *c;
	const char	*user, *pw;
	int		 want;			/* T_MD5 or T_MSCHAPV2 */
	uint8_t		 state[RADIUS_ATTR_MAX];
	size_t		 state_len;
	unsigned	 rounds;
	bool		 done;
	bool		 bad;
	uint8_t		 msk[IKE_MSCHAPV2_MSK_LEN];	/* expected */
	bool		 have_msk;
	char		 line[512];
};

static void answer(void *arg, const struct radclient_answer *a);

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
send_eap(struct peer *p, const uint8_t *eap, size_t len)
{
	struct radclient_args a = {
		.eap = eap, .eap_len = len, .user = p->user,
		.state = p->state_len ? p->state : NULL,
		.state_len = p->state_len,
		.called = "192.0.2.1:4500", .calling = "198.51.100.7:4500",
	};

	p->rounds++;
	if (radclient_send(p->c, &a, answer, p) == NULL) {
		fprintf(stderr, "radtest: radclient_send refused\n");
		p->bad = p->done = true;
	}
}

static size_t
hdr(uint8_t *o, uint8_t id, uint8_t type, size_t len)
{
	o[0] = EAP_RESPONSE;
	o[1] = id;
	o[2] = (uint8_t)(len >> 8);
	o[3] = (uint8_t)len;
	o[4] = type;
	return 5;
}

/* RFC 3748 §5.4: MD5 over the identifier, the secret and the value. */
static size_t
md5_response(struct peer *p, const uint8_t *in, size_t n, uint8_t *o)
{
	uint8_t vs;
	size_t pl = strlen(p->pw), len = 5 + 1 + 16;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (n < 6 || (vs = in[5]) == 0 || n < 6u + vs || ctx == NULL)
		return 0;
	hdr(o, in[1], T_MD5, len);
	o[5] = 16;
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	EVP_DigestUpdate(ctx, in + 1, 1);
	EVP_DigestUpdate(ctx, p->pw, pl);
	EVP_DigestUpdate(ctx, in + 6, vs);
	EVP_DigestFinal_ex(ctx, o + 6, NULL);
	EVP_MD_CTX_free(ctx);
	return len;
}

static size_t
mschapv2_response(struct peer *p, const uint8_t *in, size_t n, uint8_t *o)
{
	uint8_t nt_hash[16], peer_ch[16], nt_resp[24];
	size_t ul = strlen(p->user), len;

	if (n < 5 + 4 + 1 + 16 || in[5] != OP_CHALLENGE || in[9] != 16)
		return 0;
	if (ike_mschapv2_nt_hash((const uint8_t *)p->pw, strlen(p->pw),
	    nt_hash) == -1 || RAND_bytes(peer_ch, 16) != 1 ||
	    ike_mschapv2_nt_response(in + 10, peer_ch,
	    (const uint8_t *)p->user, ul, nt_hash, nt_resp) == -1 ||
	    ike_mschapv2_msk(nt_hash, nt_resp, p->msk) == -1)
		return 0;
	p->have_msk = true;
	len = 5 + 4 + 1 + 49 + ul;
	hdr(o, in[1], T_MSCHAPV2, len);
	o[5] = OP_RESPONSE;
	o[6] = in[6];				/* MS-CHAPv2-ID */
	o[7] = (uint8_t)((len - 5) >> 8);	/* MS-Length */
	o[8] = (uint8_t)(len - 5);
	o[9] = 49;				/* Value-Size */
	memcpy(o + 10, peer_ch, 16);
	memset(o + 26, 0, 8);
	memcpy(o + 34, nt_resp, 24);
	o[58] = 0;				/* Flags */
	memcpy(o + 59, p->user, ul);
	return len;
}

/* The next response to EAP request @in, or 0. */
static size_t
respond(struct peer *p, const uint8_t *in, size_t n, uint8_t *o)
{
	if (n < 5 || in[0] != EAP_REQUEST)
		return 0;
	if (in[4] != p->want && (in[4] == T_MD5 || in[4] == T_MSCHAPV2)) {
		hdr(o, in[1], T_NAK, 6);	/* RFC 3748 §5.3.1 */
		o[5] = (uint8_t)p->want;
		return 6;
	}
	if (in[4] == T_MD5)
		return md5_response(p, in, n, o);
	if (in[4] == T_MSCHAPV2 && n >= 6 && in[5] == OP_CHALLENGE)
		return mschapv2_response(p, in, n, o);
	if (in[4] == T_MSCHAPV2 && n >= 6 &&
	    (in[5] == OP_SUCCESS || in[5] == OP_FAILURE)) {
		hdr(o, in[1], T_MSCHAPV2, 6);
		o[5] = in[5];
		return 6;
	}
	return 0;
}

/* The client's answer to our last packet. */
static void
answer(void *arg, const struct radclient_answer *a)
{
	struct peer *p = arg;
	const struct radius_reply *r = a->reply;
	uint8_t out[PKT];
	char ip[INET_ADDRSTRLEN] = "-";
	const char *res, *match = "-";
	size_t n;

	if (a->result == RADCLIENT_CHALLENGE) {
		p->state_len = r->state_len;
		memcpy(p->state, r->state, r->state_len);
		if ((n = respond(p, r->eap, r->eap_len, out)) == 0) {
			fprintf(stderr, "radtest: cannot answer EAP type %u\n",
			    r->eap_len > 4 ? r->eap[4] : 0);
			p->bad = p->done = true;
			return;
		}
		send_eap(p, out, n);
		return;
	}
	res = a->result == RADCLIENT_ACCEPT ? "accept" :
	    a->result == RADCLIENT_REJECT ? "reject" : "timeout";
	if (r != NULL && r->has_framed_ip)
		inet_ntop(AF_INET, r->framed_ip, ip, sizeof(ip));
	if (r != NULL && r->msk_len > 0 && p->have_msk)
		match = memcmp(r->msk, p->msk, sizeof(p->msk)) == 0 ? "yes" :
		    "no";
	snprintf(p->line, sizeof(p->line), "result=%s rounds=%u msk_len=%zu "
	    "msk_match=%s framed_ip=%s class=%s eap_code=%d server=%s", res,
	    p->rounds, r != NULL ? r->msk_len : 0, match, ip,
	    r != NULL && r->cls_len > 0 ? "yes" : "no",
	    r != NULL && r->eap_len > 0 ? r->eap[0] : 0, a->server);
	p->done = true;
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct peer p;
	struct conf *cf;
	const struct conf_relay *sec = NULL;
	struct radclient_stats st;
	uint8_t id[PKT];
	const char *why;
	double t0;
	size_t ul;

	if (argc != 6 || (strcmp(argv[5], "md5") != 0 &&
	    strcmp(argv[5], "mschapv2") != 0)) {
		fprintf(stderr, "usage: radtest CONF SECTION USER PASSWORD "
		    "md5|mschapv2\n");
		return 2;
	}
	log_init("radtest", true, LOG_LEVEL_DEBUG);
	if ((cf = conf_load(argv[1])) == NULL)
		return 2;
	for (size_t i = 0; i < cf->nrelays; i++)
		if (cf->relays[i].integ != NULL &&
		    strcmp(cf->relays[i].name, argv[2]) == 0)
			sec = &cf->relays[i];
	if (sec == NULL || ike_mschapv2_init(&why) == -1) {
		fprintf(stderr, "radtest: no [integrated %s], or no MD4\n",
		    argv[2]);
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.user = argv[3];
	p.pw = argv[4];
	p.want = strcmp(argv[5], "md5") == 0 ? T_MD5 : T_MSCHAPV2;
	if ((p.c = radclient_new(loop, sec->integ, sec->name)) == NULL)
		return 2;
	ul = strlen(p.user);
	if (ul > 200)
		return 2;
	id[0] = EAP_RESPONSE;
	id[1] = 0;
	id[2] = 0;
	id[3] = (uint8_t)(5 + ul);
	id[4] = T_IDENTITY;
	memcpy(id + 5, p.user, ul);
	t0 = now_ms();
	send_eap(&p, id, 5 + ul);
	while (!p.done)
		ev_run(loop, EVRUN_ONCE);
	radclient_stats(p.c, &st);
	printf("%s ms=%.0f pending=%zu\n", p.line, now_ms() - t0,
	    radclient_pending(p.c));
	printf("stats requests=%llu busy=%llu retransmits=%llu "
	    "failovers=%llu timeouts=%llu answers=%llu drop_source=%llu "
	    "drop_id=%llu drop_form=%llu drop_auth=%llu drop_msg_auth=%llu\n",
	    (unsigned long long)st.requests, (unsigned long long)st.busy,
	    (unsigned long long)st.retransmits,
	    (unsigned long long)st.failovers, (unsigned long long)st.timeouts,
	    (unsigned long long)st.answers,
	    (unsigned long long)st.drop_source, (unsigned long long)st.drop_id,
	    (unsigned long long)st.drop_form, (unsigned long long)st.drop_auth,
	    (unsigned long long)st.drop_msg_auth);
	radclient_free(p.c);
	ike_mschapv2_cleanup();
	conf_unref(cf);
	return p.bad ? 3 : 0;
}
