/*
 * relay/integ_sec.c: the [integrated] sections of the integrated backend
 * (integ_int.h).  At start, as root and before privileges are dropped,
 * each section's proposals, identity, certificate, CA, secrets, address
 * pools and TUN device are set up; its TUN watcher then feeds
 * integ_tun.c.  SIGHUP re-reads the secrets files, the ca file and the
 * CRLs (the rest is read at start only); SIGUSR1 logs the half-open and
 * COOKIE counts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "esp/tun.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/cp.h"
#include "ike/dh.h"
#include "ike/id.h"
#include "ike/mschapv2.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "relay/integ_int.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/radclient.h"
#include "relay/relay.h"
#include "relay/worker.h"

static int
psk_lookup(void *arg, uint8_t id_type, const uint8_t *id, size_t id_len,
    uint8_t *psk, size_t cap, size_t *psk_len)
{
	struct integ_sec *sec = arg;
	char text[SECRETS_ID_MAX + 1];
	const uint8_t *k;
	size_t n;

	/* The secrets file names peers in the text form of ike/id.h. */
	if (ike_id_text(id_type, id, id_len, text, sizeof(text)) == -1)
		return -1;
	if ((k = secrets_psk(sec->secrets, text, &n)) == NULL || n > cap)
		return -1;
	memcpy(psk, k, n);
	*psk_len = n;
	return 0;
}

/* An EAP user's password from the secrets file (ike_eap_pw_fn). */
static int
eap_lookup(void *arg, const char *user, size_t len, uint8_t *pw, size_t cap,
    size_t *pw_len)
{
	struct integ_sec *sec = arg;
	const uint8_t *k;
	size_t n;

	(void)len;	/* @user is NUL-terminated */
	if ((k = secrets_eap(sec->secrets, user, &n)) == NULL || n > cap)
		return -1;
	memcpy(pw, k, n);
	*pw_len = n;
	return 0;
}

static size_t
parse_props(const char *sec, uint8_t proto, const char *text,
    unsigned kex_flags, struct ike_prop *out)
{
	char err[IKE_PROP_LIST_ERR_MAX];
	size_t n;

	/* The configuration parser took the list: this is a second look. */
	if ((n = ike_proposal_list_parse(proto, text, kex_flags, out,
	    INTEG_PROPS_MAX, err, sizeof(err))) == 0)
		log_warnx("integrated %s: %s-proposals: %s", sec,
		    proto == IKE_PROTO_IKE ? "ike" : "esp", err);
	return n;
}

/* Appends the weak key exchange methods of @p to @buf unless there. */
static void
weak_names(const struct ike_prop *p, size_t n, char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p[i].ndh; j++) {
			const char *name = ike_proposal_dh_name(p[i].dh[j]);

			if (ike_kex_supported(p[i].dh[j], 0) ||
			    strstr(buf, name) != NULL)
				continue;
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] != '\0' ? ", " : "", name);
		}
}

/*
 * allow-weak-dh: said at start and at each reload, as long as proposals
 * name MODP groups 2 or 5 (RFC 8247 §2.4: MUST NOT / SHOULD NOT).
 */
static void
weak_warn(const struct integ_sec *sec)
{
	char names[64] = "";

	weak_names(sec->ike, sec->conf.nike, names, sizeof(names));
	weak_names(sec->esp, sec->conf.nesp, names, sizeof(names));
	if (names[0] != '\0')
		log_warnx("integrated %s: allow-weak-dh: accepting weak key "
		    "exchange %s, for old clients only", sec->name, names);
}

/*
 * The IPv6 side of a section (RFC 7296 §3.15.1): the pool, its DNS
 * servers, our IPv6 selector (the first IPv6 local-ts, ::/0 by default)
 * and the TUN's IPv6 address, the pool's first.  Nothing without a pool.
 */
static int
sec_open6(struct integ_sec *sec, const struct conf_integrated *ci)
{
	struct ike_sa_conf *k = &sec->conf;
	char err[IKE_POOL_ERR_MAX];

	if (ci->pool6.family != AF_INET6)
		return 0;
	if ((k->pool6 = ike_pool6_new(ci->pool6.text, err, sizeof(err))) ==
	    NULL) {
		log_warnx("integrated %s: pool %s: %s", sec->name,
		    ci->pool6.text, err);
		return -1;
	}
	for (size_t i = 0; i < ci->ndns && k->ndns6 < IKE_SA_DNS_MAX; i++)
		if (ci->dns[i].family == AF_INET6)
			memcpy(k->dns6[k->ndns6++], ci->dns[i].addr, 16);
	k->local_ts6.type = IKE_TS_IPV6_ADDR_RANGE;
	k->local_ts6.end_port = 0xffff;
	memset(k->local_ts6.end, 0xff, 16);
	for (size_t i = 0; i < ci->nlocal_ts; i++) {
		const struct conf_cidr *t = &ci->local_ts[i];

		if (t->family != AF_INET6)
			continue;
		for (unsigned b = 0; b < 128; b++) {
			uint8_t bit = 0x80 >> (b % 8);

			if (b < t->plen && (t->addr[b / 8] & bit)) {
				k->local_ts6.start[b / 8] |= bit;
				k->local_ts6.end[b / 8] |= bit;
			} else if (b < t->plen)
				k->local_ts6.end[b / 8] &= (uint8_t)~bit;
		}
		break;
	}
	/* Ours, never a client's, as with IPv4. */
	return ike_pool6_alloc(k->pool6, (const uint8_t *)"\0iketcpd", 8,
	    sec->tun_addr6);
}

/*
 * Our certificates go out in the IKE_AUTH response beside IDr, AUTH, CP,
 * SA and TSs: they must leave room for those within IKE_CERT_SEND_MAX.
 */
static int
chain_fits(const struct integ_sec *sec, const struct conf_integrated *ci)
{
	size_t total = 0;

	for (size_t i = 0; i < sec->chain.n; i++)
		total += IKE_GENHDR_LEN + 1 + sec->chain.len[i];
	if (total <= IKE_CERT_SEND_MAX)
		return 0;
	log_warnx("integrated %s: cert %s: %zu certificates of %zu octets "
	    "in all, more than the %d an IKE_AUTH response has room for",
	    sec->name, ci->cert, sec->chain.n, total, IKE_CERT_SEND_MAX);
	return -1;
}

/*
 * The trust anchors of ca and the section's CRLs in a new store: at start
 * and again on SIGHUP (a CRL file is replaced as it is renewed).  NULL,
 * logged, on error.
 */
static X509_STORE *
store_load(const char *name, const struct conf_integrated *ci)
{
	char why[IKE_CERT_WHY_MAX];
	X509_STORE *st;
	size_t stale, crls = 0;

	if ((st = ike_cert_store_load(ci->ca)) == NULL) {
		log_warnx("integrated %s: cannot load ca %s", name, ci->ca);
		return NULL;
	}
	for (size_t i = 0; i < ci->ncrl; i++) {
		int n;

		if ((n = ike_cert_crl_load(st, ci->crl[i], time(NULL), &stale,
		    why, sizeof(why))) == -1) {
			log_warnx("integrated %s: crl %s: %s", name,
			    ci->crl[i], why);
			X509_STORE_free(st);
			return NULL;
		}
		/* Stale: still used (what it revokes stays revoked). */
		if (stale > 0)
			log_warnx("integrated %s: crl %s: %zu of its %d CRLs "
			    "are past their next update: used as they are, "
			    "renew them", name, ci->crl[i], stale, n);
		crls += (size_t)n;
	}
	if (ci->ncrl > 0)
		log_info("integrated %s: %zu CRLs from %zu crl files", name,
		    crls, ci->ncrl);
	return st;
}

/* CERTREQ data naming the trust anchors of @st; NULL, logged, if none. */
static uint8_t *
certreq_of(const char *name, const struct conf_integrated *ci,
    X509_STORE *st, size_t *len)
{
	uint8_t *h;

	if ((h = ike_cert_ca_hashes(st, len)) == NULL)
		log_warnx("integrated %s: no CA certificate in %s", name,
		    ci->ca);
	return h;
}

static int
sec_open(struct integ_sec *sec, const struct conf_relay *cr)
{
	const struct conf_integrated *ci = cr->integ;
	struct ike_sa_conf *k = &sec->conf;
	char err[IKE_POOL_ERR_MAX], why[IKE_CERT_WHY_MAX];
	uint8_t plen, plen6 = 0, net6[16];
	uint32_t a;

	snprintf(sec->name, sizeof(sec->name), "%s", cr->name);
	sec->tun_fd = -1;
	if ((sec->pkt_buf = malloc(INTEG_PKT_BUF)) == NULL ||
	    (sec->out_buf = malloc(INTEG_OUT_BUF)) == NULL ||
	    (sec->ike_buf = malloc(INTEG_IKE_BUF)) == NULL) {
		log_warn("integrated %s", sec->name);
		return -1;
	}
	sec->replay_window = ci->replay_window;
	sec->cookie_threshold = ci->cookie_threshold;
	sec->udp_init_ms = cr->handshake_timeout_ms;
	sec->udp_encap = ci->udp_encap;
	k->kex_flags = ci->allow_weak_dh ? IKE_KEX_ALLOW_WEAK : 0;
	if ((k->nike = parse_props(sec->name, IKE_PROTO_IKE,
	    ci->ike_proposals, k->kex_flags, sec->ike)) == 0 ||
	    (k->nesp = parse_props(sec->name, IKE_PROTO_ESP,
	    ci->esp_proposals, k->kex_flags, sec->esp)) == 0)
		return -1;
	weak_warn(sec);
	k->ike = sec->ike;
	k->esp = sec->esp;
	switch (ci->id_type) {
	case CONF_ID_FQDN:
	case CONF_ID_EMAIL:
		k->id_type = ci->id_type == CONF_ID_FQDN ? IKE_ID_FQDN :
		    IKE_ID_RFC822_ADDR;
		k->id = (const uint8_t *)ci->id;
		k->id_len = strlen(ci->id);
		break;
	case CONF_ID_IPV4:
	case CONF_ID_IPV6:
		k->id_type = ci->id_type == CONF_ID_IPV4 ? IKE_ID_IPV4_ADDR :
		    IKE_ID_IPV6_ADDR;
		if (inet_pton(ci->id_type == CONF_ID_IPV4 ? AF_INET : AF_INET6,
		    ci->id, sec->id) != 1) {
			log_warnx("integrated %s: bad id %s", sec->name,
			    ci->id);
			return -1;
		}
		k->id = sec->id;
		k->id_len = ci->id_type == CONF_ID_IPV4 ? 4 : 16;
		break;
	case CONF_ID_KEYID: {
		/* Hex, '#' allowed in front (conf/integrated.c checked it). */
		const char *h = ci->id[0] == '#' ? ci->id + 1 : ci->id;
		size_t n = strlen(h) / 2;

		for (size_t i = 0; i < n && i < sizeof(sec->id); i++)
			sec->id[i] = (uint8_t)(OPENSSL_hexchar2int(
			    (unsigned char)h[2 * i]) << 4 |
			    OPENSSL_hexchar2int((unsigned char)h[2 * i + 1]));
		k->id_type = IKE_ID_KEY_ID;
		k->id = sec->id;
		k->id_len = n < sizeof(sec->id) ? n : sizeof(sec->id);
		break;
	}
	case CONF_ID_DN:
		if (ci->cert[0] != '\0')
			break;	/* the certificate's subject, below */
		/* FALLTHROUGH */
	default:
		log_warnx("integrated %s: id %s: a dn identity is our "
		    "certificate's subject: it needs cert",
		    sec->name, ci->id);
		return -1;
	}
	if (ci->cert[0] != '\0') {
		/* Read as root, before privileges are dropped. */
		if ((k->key = ike_auth_key_load(ci->key, true)) == NULL)
			return -1;
		if (ike_cert_chain_load(ci->cert, &sec->chain, why,
		    sizeof(why)) == -1) {
			log_warnx("integrated %s: cert %s: %s", sec->name,
			    ci->cert, why);
			return -1;
		}
		if (chain_fits(sec, ci) == -1)
			return -1;
		k->cert = sec->chain.der[0];
		k->cert_len = sec->chain.len[0];
		for (size_t i = 1; i < sec->chain.n; i++) {
			sec->inter[i - 1].encoding = IKE_CERT_X509_SIG;
			sec->inter[i - 1].data.p = sec->chain.der[i];
			sec->inter[i - 1].data.len = sec->chain.len[i];
		}
		k->inter = sec->inter;
		k->ninter = sec->chain.n - 1;
		if (ci->id_type == CONF_ID_DN) {
			size_t n = 0;

			if ((sec->dn = ike_cert_subject_der(k->cert,
			    k->cert_len, &n)) == NULL)
				return -1;
			k->id_type = IKE_ID_DER_ASN1_DN;
			k->id = sec->dn;
			k->id_len = n;
		}
		if (ike_cert_check_ours(k->cert, k->cert_len, k->key,
		    k->id_type, k->id, k->id_len, why, sizeof(why)) == -1) {
			log_warnx("integrated %s: cert %s, id %s: %s",
			    sec->name, ci->cert, ci->id, why);
			return -1;
		}
	}
	if (ci->ca[0] != '\0') {
		if ((k->ca = store_load(sec->name, ci)) == NULL ||
		    (sec->certreq = certreq_of(sec->name, ci, k->ca,
		    &k->certreq_len)) == NULL)
			return -1;
		k->certreq = sec->certreq;
	}
	if (ci->secrets[0] != '\0') {
		if ((sec->secrets = secrets_load(ci->secrets)) == NULL)
			return -1;
		k->psk = psk_lookup;
		k->psk_arg = sec;
	}
	if (ci->eap == CONF_EAP_RADIUS) {
		if ((sec->rad = radclient_new(sec->r->loop, ci, sec->name)) ==
		    NULL)
			return -1;
		k->eap = &integ_eap_radius;
		k->eap_arg = sec;
		k->eap_timeout_ms = ci->eap_timeout_ms;
	}
	if (ci->eap == CONF_EAP_MSCHAPV2) {
		const char *ewhy;

		/* The legacy provider is a shared object: load it now. */
		if (ike_mschapv2_init(&ewhy) == -1) {
			log_warnx("integrated %s: eap = mschapv2: %s",
			    sec->name, ewhy);
			return -1;
		}
		if (secrets_count_kind(sec->secrets, SECRETS_EAP) == 0)
			log_warnx("integrated %s: eap = mschapv2 but no EAP "
			    "user in %s: every EAP client will be refused",
			    sec->name, ci->secrets);
		sec->eap.pw = eap_lookup;
		sec->eap.pw_arg = sec;
		sec->eap.name = "iketcpd";
		k->eap = &ike_eap_local;
		k->eap_arg = &sec->eap;
		k->eap_timeout_ms = ci->eap_timeout_ms;
	}
	if (ci->pool4.family != AF_INET) {
		log_warnx("integrated %s: an IPv4 pool is required", sec->name);
		return -1;
	}
	if ((k->pool = ike_pool_new(ci->pool4.text, err, sizeof(err))) ==
	    NULL) {
		log_warnx("integrated %s: pool %s: %s", sec->name,
		    ci->pool4.text, err);
		return -1;
	}
	for (size_t i = 0; i < ci->ndns && k->ndns < IKE_SA_DNS_MAX; i++)
		if (ci->dns[i].family == AF_INET) {
			memcpy(&a, ci->dns[i].addr, 4);
			k->dns[k->ndns++] = ntohl(a);
		}
	if (sec_open6(sec, ci) == -1)
		return -1;
	k->dpd_delay_ms = ci->dpd_delay_ms;
	k->dpd_timeout_ms = ci->dpd_timeout_ms;
	k->ike_lifetime_ms = ci->ike_lifetime_ms;
	k->child_lifetime_ms = ci->child_lifetime_ms;
	/*
	 * ike-fragment-size counts the whole IP datagram; a fragment's IKE
	 * message is what is left after the largest headers it may travel
	 * under (IPv6, UDP, the Non-ESP marker of port 4500), so the same
	 * fragments fit every UDP path of the SA, which may move.
	 */
	k->no_frag = ci->ike_fragment_size == 0;
	k->frag_max = ci->ike_fragment_size == 0 ? 0 :
	    ci->ike_fragment_size - INTEG_FRAG_OVERHEAD;
	k->local_ts.type = IKE_TS_IPV4_ADDR_RANGE;
	k->local_ts.end_port = 0xffff;
	memset(k->local_ts.end, 0xff, 4);
	for (size_t i = 0; i < ci->nlocal_ts; i++) {
		const struct conf_cidr *t = &ci->local_ts[i];
		uint32_t lo, mask;

		if (t->family != AF_INET)
			continue;
		memcpy(&lo, t->addr, 4);
		mask = t->plen == 0 ? 0 : htonl(0xffffffffU << (32 - t->plen));
		lo &= mask;
		memcpy(k->local_ts.start, &lo, 4);
		lo |= ~mask;
		memcpy(k->local_ts.end, &lo, 4);
		break;
	}
	if (getentropy(k->cookie_secret, sizeof(k->cookie_secret)) != 0) {
		log_warn("getentropy");
		return -1;
	}
	/* The TUN holds the pool's first address: ours, never a client's. */
	if (ike_pool_alloc(k->pool, (const uint8_t *)"\0iketcpd", 8,
	    &sec->tun_addr) == -1)
		return -1;
	(void)ike_pool_network(k->pool, &plen);
	if (k->pool6 != NULL)
		ike_pool6_network(k->pool6, net6, &plen6);
	a = htonl(sec->tun_addr);
	if ((sec->tun_fd = esp_tun_open(ci->tun, sec->ifname)) == -1 ||
	    esp_tun_add_addr(sec->ifname, 4, (const uint8_t *)&a, plen) ==
	    -1 || (k->pool6 != NULL && esp_tun_add_addr(sec->ifname, 6,
	    sec->tun_addr6, plen6) == -1) || esp_tun_up(sec->ifname) == -1)
		return -1;
	ev_io_init(&sec->tio, integ_tun_read_cb, sec->tun_fd, EV_READ);
	ev_io_start(sec->r->loop, &sec->tio);
	{
		char t[INET6_ADDRSTRLEN];

		log_info("integrated %s: tun %s %s/%u, pool %s", sec->name,
		    sec->ifname, inet_ntop(AF_INET, &a, t, sizeof(t)), plen,
		    ci->pool4.text);
		if (k->pool6 != NULL)
			log_info("integrated %s: tun %s %s/%u, pool %s",
			    sec->name, sec->ifname, inet_ntop(AF_INET6,
			    sec->tun_addr6, t, sizeof(t)), plen6,
			    ci->pool6.text);
	}
	return 0;
}

static void
sec_free(struct relay *r, struct integ_sec *sec)
{
	/* Their EAP conversations cancel requests of sec->rad. */
	for (struct integ_sess *is = sec->sessions; is != NULL;
	    is = is->snext) {
		ike_sa_free(is->ike);
		is->ike = NULL;
	}
	radclient_free(sec->rad);
	conf_unref(sec->start);
	if (sec->tun_fd != -1) {
		ev_io_stop(r->loop, &sec->tio);
		close(sec->tun_fd);
	}
	ike_pool_free(sec->conf.pool);
	ike_pool_free(sec->conf.pool6);
	secrets_free(sec->secrets);
	secrets_free(sec->next_secrets);
	EVP_PKEY_free(sec->conf.key);
	X509_STORE_free(sec->conf.ca);
	X509_STORE_free(sec->next_ca);
	ike_cert_chain_free(&sec->chain);
	free(sec->dn);
	free(sec->certreq);
	free(sec->next_certreq);
	free(sec->pkt_buf);
	free(sec->out_buf);
	free(sec->ike_buf);
	OPENSSL_cleanse(sec, sizeof(*sec));
	free(sec);
}

int
integ_open_all(struct relay *r, struct conf *c)
{
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];
		struct integ_sec *sec;

		if (cr->backend != CONF_BACKEND_INTEGRATED)
			continue;
		if ((sec = calloc(1, sizeof(*sec))) == NULL) {
			log_warn("integrated");
			return -1;
		}
		sec->r = r;
		sec->start = conf_ref(c);
		if (sec_open(sec, cr) == -1) {
			sec_free(r, sec);
			return -1;
		}
		sec->next = r->integs;
		r->integs = sec;
	}
	return 0;
}

static const struct conf_relay *find_integ(const struct conf *c,
    const char *name);

void
integ_close_unserved(struct relay *r)
{
	struct integ_sec **pp = &r->integs;

	while (*pp != NULL) {
		struct integ_sec *sec = *pp;
		const struct conf_relay *cr = find_integ(r->conf, sec->name);

		if (cr != NULL && worker_serves(r, cr)) {
			pp = &sec->next;
			continue;
		}
		*pp = sec->next;
		sec_free(r, sec);
	}
}

void
integ_close_all(struct relay *r)
{
	struct integ_sec *sec;

	while ((sec = r->integs) != NULL) {
		r->integs = sec->next;
		sec_free(r, sec);
	}
}

static const struct conf_relay *
find_integ(const struct conf *c, const char *name)
{
	const struct conf_relay *cr = c != NULL ?
	    conf_relay_named(c, name) : NULL;

	return cr != NULL && cr->backend == CONF_BACKEND_INTEGRATED ?
	    cr : NULL;
}

static struct integ_sec *
find_sec(struct relay *r, const char *name)
{
	struct integ_sec *sec;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		if (strcmp(sec->name, name) == 0)
			return sec;
	return NULL;
}

int
integ_reload_prepare(struct relay *r, const struct conf *c, const char *path)
{
	const struct conf_relay *cr, *old;
	struct integ_sec *sec;
	const char *key;

	/* Sections set up at start: the same names, the same fixed keys. */
	for (size_t i = 0; i < c->nrelays; i++) {
		cr = &c->relays[i];
		/* Another worker's section: checked by the master. */
		if (cr->backend != CONF_BACKEND_INTEGRATED ||
		    !worker_holds(r, cr))
			continue;
		if (find_sec(r, cr->name) == NULL ||
		    (old = find_integ(r->conf, cr->name)) == NULL) {
			log_warnx("%s:%u: [integrated %s] is new: integrated "
			    "sections are set up at start only",
			    conf_loc_file(c, cr->line), CONF_LOC_LINE(cr->line),
			    cr->name);
			goto fail;
		}
		if ((key = conf_integrated_fixed_diff(old->integ,
		    cr->integ)) != NULL) {
			log_warnx("%s:%u: [integrated %s]: %s changed, but "
			    "it is read at start only",
			    conf_loc_file(c, cr->line), CONF_LOC_LINE(cr->line),
			    cr->name, key);
			goto fail;
		}
	}
	for (sec = r->integs; sec != NULL; sec = sec->next) {
		if ((cr = find_integ(c, sec->name)) == NULL) {
			log_warnx("%s: [integrated %s] is gone: integrated "
			    "sections are removed by a restart only", path,
			    sec->name);
			goto fail;
		}
		/* Read now: a bad file keeps the running configuration. */
		if (cr->integ->secrets[0] != '\0' &&
		    (sec->next_secrets = secrets_load(cr->integ->secrets)) ==
		    NULL)
			goto fail;
		if (cr->integ->ca[0] != '\0' &&
		    ((sec->next_ca = store_load(sec->name, cr->integ)) ==
		    NULL || (sec->next_certreq = certreq_of(sec->name,
		    cr->integ, sec->next_ca, &sec->next_certreq_len)) ==
		    NULL))
			goto fail;
	}
	return 0;
fail:
	integ_reload_commit(r, false);
	return -1;
}

void
integ_reload_commit(struct relay *r, bool ok)
{
	struct integ_sec *sec;

	for (sec = r->integs; sec != NULL; sec = sec->next) {
		if (ok)
			weak_warn(sec);
		if (ok && sec->next_secrets != NULL) {
			/* New IKE_AUTHs only: keys of live SAs stay. */
			secrets_free(sec->secrets);
			sec->secrets = sec->next_secrets;
			log_info("integrated %s: %zu secrets in use", sec->name,
			    secrets_count(sec->secrets));
		} else
			secrets_free(sec->next_secrets);
		sec->next_secrets = NULL;
		if (ok && sec->next_ca != NULL) {
			/*
			 * Chains are verified within one call into ike/: no
			 * SA holds on to the old store.
			 */
			X509_STORE_free(sec->conf.ca);
			free(sec->certreq);
			sec->conf.ca = sec->next_ca;
			sec->certreq = sec->next_certreq;
			sec->conf.certreq = sec->certreq;
			sec->conf.certreq_len = sec->next_certreq_len;
		} else {
			X509_STORE_free(sec->next_ca);
			free(sec->next_certreq);
		}
		sec->next_ca = NULL;
		sec->next_certreq = NULL;
	}
}

int
integ_radius_info(const struct relay *r, size_t i,
    struct integ_radius_info *info)
{
	const struct integ_sec *sec;

	for (sec = r->integs; sec != NULL; sec = sec->next) {
		if (sec->rad == NULL || i-- > 0)
			continue;
		info->section = sec->name;
		info->accepts = sec->rad_accepts;
		info->rejects = sec->rad_rejects;
		info->challenges = sec->rad_challenges;
		info->timeouts = sec->rad_timeouts;
		info->in_flight = radclient_pending(sec->rad);
		return 0;
	}
	return -1;
}

void
integ_stats_log(const struct relay *r)
{
	const struct integ_sec *sec;

	for (sec = r->integs; sec != NULL; sec = sec->next) {
		log_stats("integrated %s: half-open IKE SAs %u (cookie "
		    "threshold %u), COOKIEs demanded %llu", sec->name,
		    sec->half_open, sec->cookie_threshold, sec->cookies);
		if (sec->rad != NULL)
			log_stats("integrated %s: RADIUS accepts %llu, "
			    "rejects %llu, challenges %llu, timeouts %llu, "
			    "in flight %zu", sec->name, sec->rad_accepts,
			    sec->rad_rejects, sec->rad_challenges,
			    sec->rad_timeouts, radclient_pending(sec->rad));
	}
}
