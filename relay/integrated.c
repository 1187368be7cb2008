/*
 * The integrated backend: iketcpd is the IKEv2 responder and the ESP data
 * plane itself.  A session's IKE messages go to its IKE SA (ike/), whose
 * responses are framed back with the Non-ESP marker; ESP goes through the
 * Child SA's inbound esp_sa to the section's TUN device, and packets read
 * from the TUN are routed by destination to the session owning that
 * virtual IP (IPv4, or IPv6 with an IPv6 pool), encapsulated and framed
 * to its stream.  ike/ and esp/ never see a socket (DESIGN.md).
 *
 * Carried so far: IKE_SA_INIT, IKE_AUTH with PSK, Child SAs (the first,
 * more, and rekeys: several ESP pairs per session), IKE SA rekey,
 * INFORMATIONAL (Delete), ESP; certificates (cert/key/ca); requests we
 * initiate (liveness checks, Delete on shutdown and at the hard
 * lifetimes, rekeys of Child SAs and of the IKE SA), driven by one timer
 * per session.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "esp/esp.h"
#include "esp/sa.h"
#include "esp/tun.h"
#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/cp.h"
#include "ike/id.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"

enum {
	INTEG_PROPS_MAX = 16,		/* proposals per list */
	INTEG_VIP_BUCKETS = 1024,	/* power of two */
	INTEG_TUN_BATCH = 64,		/* packets per TUN read callback */
	INTEG_PKT_MAX = 65536,
	INTEG_MARKER = 4,		/* Non-ESP marker */
};

/* One [integrated] section at run time. */
struct integ_sec {
	struct integ_sec *next;
	struct relay	*r;
	char		 name[CONF_NAME_MAX];
	struct ike_prop	 ike[INTEG_PROPS_MAX], esp[INTEG_PROPS_MAX];
	uint8_t		 id[CONF_ID_MAX / 2]; /* binary address or key ID */
	struct ike_sa_conf conf;
	struct secrets	*secrets;
	struct secrets	*next_secrets;	/* read by SIGHUP, not yet in use */
	uint8_t		*cert_der;	/* our certificate */
	uint8_t		*dn;		/* its subject, for a dn: id */
	uint8_t		*certreq;	/* CERTREQ data: ca's SPKI hashes */
	unsigned	 replay_window;
	int		 tun_fd;
	char		 ifname[ESP_TUN_NAME_MAX];
	uint32_t	 tun_addr;	/* host order */
	uint8_t		 tun_addr6[16];	/* with an IPv6 pool */
	ev_io		 tio;
	struct integ_sess *vips[INTEG_VIP_BUCKETS];
	struct integ_sess *vips6[INTEG_VIP_BUCKETS];
	unsigned	 cookie_threshold;	/* half-open SAs; 0 = always */
	unsigned	 half_open;	/* SAs in IKE_SA_INIT_DONE */
	unsigned long long cookies;	/* IKE_SA_INITs answered with one */
	struct integ_sess *sessions;	/* all of this section's */
};

/* One installed Child SA: its ESP pair. */
struct integ_child {
	struct esp_sa	*in, *out;	/* both NULL: a free slot */
	uint32_t	 replaces;	/* inbound SPI of the pair it rekeys */
	bool		 v4, v6;	/* the families it carries */
	uint32_t	 src_lo, src_hi;	/* TSr (our side), host order */
	uint8_t		 src6_lo[16], src6_hi[16];	/* IPv6 TSr */
	unsigned long long gen;		/* install order: newest wins */
	bool		 out_ok;	/* may carry what the TUN sends */
};

/* A session's backend state. */
struct integ_sess {
	struct integ_sess *vnext;	/* vips bucket chain */
	struct session	*s;
	struct integ_sec *sec;
	struct ike_sa	*ike;
	struct integ_child ch[IKE_SA_CHILD_MAX];
	unsigned long long gen;		/* Child SAs installed so far */
	uint32_t	 vip;		/* host order; 0 none */
	struct integ_sess *vnext6;	/* vips6 bucket chain */
	bool		 has_vip6;
	uint8_t		 vip6[16];
	struct ike_endpoint local, remote;
	bool		 dead;		/* freed from the linger timer */
	bool		 half_open;	/* counted in sec->half_open */
	bool		 cookie;	/* ike was made with IKE_SA_F_COOKIE */
	struct integ_sess *snext, **sprev; /* sec->sessions */
	ev_timer	 req_timer;	/* ike_sa_next_ms(): our requests */
	unsigned long long req_stream;	/* stream id that carried the
					 * outstanding request; 0 none */
};

static uint8_t pkt_buf[INTEG_PKT_MAX + 64];
static uint8_t out_buf[INTEG_PKT_MAX + 256];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t
vip_bucket(uint32_t vip)
{
	return (vip * 0x9e3779b1U) >> 22 & (INTEG_VIP_BUCKETS - 1);
}

static void
vip_unlink(struct integ_sess *is)
{
	struct integ_sess **pp;

	if (is->vip == 0)
		return;
	for (pp = &is->sec->vips[vip_bucket(is->vip)]; *pp != NULL;
	    pp = &(*pp)->vnext)
		if (*pp == is) {
			*pp = is->vnext;
			break;
		}
	is->vnext = NULL;
	is->vip = 0;
}

static void
vip_link(struct integ_sess *is, uint32_t vip)
{
	size_t b = vip_bucket(vip);

	vip_unlink(is);
	is->vip = vip;
	is->vnext = is->sec->vips[b];
	is->sec->vips[b] = is;
}

static struct integ_sess *
vip_lookup(struct integ_sec *sec, uint32_t vip)
{
	struct integ_sess *is;

	for (is = sec->vips[vip_bucket(vip)]; is != NULL; is = is->vnext)
		if (is->vip == vip)
			return is;
	return NULL;
}

static size_t
vip6_bucket(const uint8_t a[static 16])
{
	uint32_t h = 2166136261U;

	/* FNV-1a over the interface identifier; pools differ below /64. */
	for (size_t i = 8; i < 16; i++)
		h = (h ^ a[i]) * 16777619U;
	return h & (INTEG_VIP_BUCKETS - 1);
}

static void
vip6_unlink(struct integ_sess *is)
{
	struct integ_sess **pp;

	if (!is->has_vip6)
		return;
	for (pp = &is->sec->vips6[vip6_bucket(is->vip6)]; *pp != NULL;
	    pp = &(*pp)->vnext6)
		if (*pp == is) {
			*pp = is->vnext6;
			break;
		}
	is->vnext6 = NULL;
	is->has_vip6 = false;
}

static void
vip6_link(struct integ_sess *is, const uint8_t vip6[static 16])
{
	size_t b = vip6_bucket(vip6);

	vip6_unlink(is);
	memcpy(is->vip6, vip6, 16);
	is->has_vip6 = true;
	is->vnext6 = is->sec->vips6[b];
	is->sec->vips6[b] = is;
}

static struct integ_sess *
vip6_lookup(struct integ_sec *sec, const uint8_t vip6[static 16])
{
	struct integ_sess *is;

	for (is = sec->vips6[vip6_bucket(vip6)]; is != NULL; is = is->vnext6)
		if (memcmp(is->vip6, vip6, 16) == 0)
			return is;
	return NULL;
}

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

static size_t
parse_props(const char *sec, uint8_t proto, const char *text,
    struct ike_prop *out)
{
	char list[CONF_PROPOSALS_MAX], err[IKE_PROP_ERR_MAX], *tok, *save;
	size_t n = 0;

	snprintf(list, sizeof(list), "%s", text);
	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (n == INTEG_PROPS_MAX) {
			log_warnx("integrated %s: more than %d proposals", sec,
			    INTEG_PROPS_MAX);
			return 0;
		}
		if (!ike_proposal_parse(proto, tok, &out[n], err,
		    sizeof(err))) {
			log_warnx("integrated %s: proposal '%s': %s", sec, tok,
			    err);
			return 0;
		}
		n++;
	}
	return n;
}

static void tun_read_cb(EV_P_ ev_io *w, int revents);

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
	sec->replay_window = ci->replay_window;
	sec->cookie_threshold = ci->cookie_threshold;
	if ((k->nike = parse_props(sec->name, IKE_PROTO_IKE,
	    ci->ike_proposals, sec->ike)) == 0 ||
	    (k->nesp = parse_props(sec->name, IKE_PROTO_ESP,
	    ci->esp_proposals, sec->esp)) == 0)
		return -1;
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
		if ((sec->cert_der = ike_cert_der_load(ci->cert,
		    &k->cert_len)) == NULL) {
			log_warnx("integrated %s: no PEM certificate in %s",
			    sec->name, ci->cert);
			return -1;
		}
		k->cert = sec->cert_der;
		if (ci->id_type == CONF_ID_DN) {
			size_t n = 0;

			if ((sec->dn = ike_cert_subject_der(sec->cert_der,
			    k->cert_len, &n)) == NULL)
				return -1;
			k->id_type = IKE_ID_DER_ASN1_DN;
			k->id = sec->dn;
			k->id_len = n;
		}
		if (ike_cert_check_ours(sec->cert_der, k->cert_len, k->key,
		    k->id_type, k->id, k->id_len, why, sizeof(why)) == -1) {
			log_warnx("integrated %s: cert %s, id %s: %s",
			    sec->name, ci->cert, ci->id, why);
			return -1;
		}
	}
	if (ci->ca[0] != '\0' &&
	    (k->ca = ike_cert_store_load(ci->ca)) == NULL) {
		log_warnx("integrated %s: cannot load ca %s", sec->name,
		    ci->ca);
		return -1;
	}
	if (k->ca != NULL) {
		if ((sec->certreq = ike_cert_ca_hashes(k->ca,
		    &k->certreq_len)) == NULL) {
			log_warnx("integrated %s: no CA certificate in %s",
			    sec->name, ci->ca);
			return -1;
		}
		k->certreq = sec->certreq;
	}
	if (ci->secrets[0] != '\0') {
		if ((sec->secrets = secrets_load(ci->secrets)) == NULL)
			return -1;
		k->psk = psk_lookup;
		k->psk_arg = sec;
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
	ev_io_init(&sec->tio, tun_read_cb, sec->tun_fd, EV_READ);
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
	free(sec->cert_der);
	free(sec->dn);
	free(sec->certreq);
	OPENSSL_cleanse(sec, sizeof(*sec));
	free(sec);
}

int
integ_open_all(struct relay *r, const struct conf *c)
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
		if (sec_open(sec, cr) == -1) {
			sec_free(r, sec);
			return -1;
		}
		sec->next = r->integs;
		r->integs = sec;
	}
	return 0;
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
	for (size_t i = 0; c != NULL && i < c->nrelays; i++)
		if (c->relays[i].backend == CONF_BACKEND_INTEGRATED &&
		    strcmp(c->relays[i].name, name) == 0)
			return &c->relays[i];
	return NULL;
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
		if (cr->backend != CONF_BACKEND_INTEGRATED)
			continue;
		if (find_sec(r, cr->name) == NULL ||
		    (old = find_integ(r->conf, cr->name)) == NULL) {
			log_warnx("%s:%u: [integrated %s] is new: integrated "
			    "sections are set up at start only", path,
			    cr->line, cr->name);
			goto fail;
		}
		if ((key = conf_integrated_fixed_diff(old->integ,
		    cr->integ)) != NULL) {
			log_warnx("%s:%u: [integrated %s]: %s changed, but "
			    "it is read at start only", path, cr->line,
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
		if (ok && sec->next_secrets != NULL) {
			/* New IKE_AUTHs only: keys of live SAs stay. */
			secrets_free(sec->secrets);
			sec->secrets = sec->next_secrets;
			log_info("integrated %s: %zu secrets in use", sec->name,
			    secrets_count(sec->secrets));
		} else
			secrets_free(sec->next_secrets);
		sec->next_secrets = NULL;
	}
}

static void
endpoint_of(const struct sockaddr_storage *ss, struct ike_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		e->family = 6;
		memcpy(e->addr, &s6->sin6_addr, 16);
		e->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		e->family = 4;
		memcpy(e->addr, &s4->sin_addr, 4);
		e->port = ntohs(s4->sin_port);
	}
}

static void req_timer_cb(EV_P_ ev_timer *w, int revents);

/* A new session for @st's integrated section (session_backend.open). */
static int
be_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	struct relay *r = s->r;
	struct integ_sec *sec;
	struct integ_sess *is;

	if (m->kind != MSG_IKE) {
		log_stream(st, LOG_LEVEL_INFO, "a new integrated session "
		    "must start with IKE");
		return -1;
	}
	for (sec = r->integs; sec != NULL; sec = sec->next)
		if (strcmp(sec->name, st->cr->name) == 0)
			break;
	if (sec == NULL) {
		log_warnx("integrated %s: not opened at start (sections are "
		    "read at start only)", st->cr->name);
		return -1;
	}
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		log_warn("integrated session");
		return -1;
	}
	is->s = s;
	is->sec = sec;
	endpoint_of(&st->laddr, &is->local);
	endpoint_of(&st->peer, &is->remote);
	ev_timer_init(&is->req_timer, req_timer_cb, 0., 0.);
	if ((is->snext = sec->sessions) != NULL)
		is->snext->sprev = &is->snext;
	is->sprev = &sec->sessions;
	sec->sessions = is;
	s->be = is;
	return 0;
}

#define sess_log(is, ...) session_log((is)->s, __VA_ARGS__)

/*
 * RFC 7296 §2.6: a half-open IKE SA is one whose IKE_SA_INIT we answered
 * and whose IKE_AUTH has not succeeded yet.  The section counts them so
 * that, at cookie-threshold or more, a new IKE_SA_INIT gets a COOKIE
 * before we keep any state for it.
 */
static void
half_open_sync(struct integ_sess *is)
{
	struct integ_sec *sec = is->sec;
	bool now = is->ike != NULL && ike_sa_state(is->ike) ==
	    IKE_SA_INIT_DONE;

	if (now == is->half_open)
		return;
	is->half_open = now;
	if (now)
		sec->half_open++;
	else
		sec->half_open--;
	log_debug("%s: integrated %s: session %llu: %u half-open IKE SAs "
	    "(cookie threshold %u)", __func__, sec->name, is->s->id,
	    sec->half_open, sec->cookie_threshold);
}

static void
pair_free(struct integ_child *c)
{
	esp_sa_free(c->in);
	esp_sa_free(c->out);
	memset(c, 0, sizeof(*c));
}

/* The session's ESP pair with inbound SPI @spi, or NULL. */
static struct integ_child *
pair_by_spi(struct integ_sess *is, uint32_t spi)
{
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (is->ch[k].in != NULL && is->ch[k].in->spi == spi)
			return &is->ch[k];
	return NULL;
}

/* Every ESP pair and the virtual IP's route: the session is ending. */
static void
children_down(struct integ_sess *is)
{
	vip_unlink(is);
	vip6_unlink(is);
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		pair_free(&is->ch[k]);
}

/*
 * One Child SA deleted.  Its successor (a rekey we answered) now carries
 * the outbound traffic; the route stays while any Child SA is left.
 */
static void
child_down(struct integ_sess *is, uint32_t spi_in)
{
	struct integ_child *c = pair_by_spi(is, spi_in);
	size_t k, left = 0;

	if (c == NULL)
		return;
	pair_free(c);
	for (k = 0; k < IKE_SA_CHILD_MAX; k++) {
		if (is->ch[k].in == NULL)
			continue;
		left++;
		if (is->ch[k].replaces == spi_in)
			is->ch[k].out_ok = true;
	}
	if (left == 0) {
		vip_unlink(is);
		vip6_unlink(is);
	}
}

/* The session ends (session_backend.close). */
static void
be_close(struct session *s)
{
	struct integ_sess *is = s->be;

	ev_timer_stop(s->r->loop, &is->req_timer);
	if ((*is->sprev = is->snext) != NULL)
		is->snext->sprev = is->sprev;
	children_down(is);
	ike_sa_free(is->ike);
	is->ike = NULL;
	half_open_sync(is);
	free(is);
	s->be = NULL;
}

static void
child_up(struct integ_sess *is, const struct ike_child *ch)
{
	struct esp_sa_params in, out;
	struct integ_child *c = NULL, *old;
	struct esp_ts ts[2];
	char t[INET_ADDRSTRLEN], t6[INET6_ADDRSTRLEN];
	size_t nts = 0;
	uint32_t a;

	for (size_t k = 0; k < IKE_SA_CHILD_MAX && c == NULL; k++)
		if (is->ch[k].in == NULL)
			c = &is->ch[k];
	if (c == NULL) {
		/* ike/ keeps as many Child SAs as we have slots. */
		log_warnx("session %llu: no slot for Child SA %08x", is->s->id,
		    ch->spi_in);
		return;
	}
	/* Inbound inner sources: the initiator's selector of each family. */
	memset(ts, 0, sizeof(ts));
	if (ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE) {
		ts[nts].family = 4;
		ts[nts].proto = ch->tsi.proto;
		ts[nts].port_lo = ch->tsi.start_port;
		ts[nts].port_hi = ch->tsi.end_port;
		memcpy(ts[nts].addr_lo, ch->tsi.start, 4);
		memcpy(ts[nts++].addr_hi, ch->tsi.end, 4);
	}
	if (ch->has6) {
		ts[nts].family = 6;
		ts[nts].proto = ch->tsi6.proto;
		ts[nts].port_lo = ch->tsi6.start_port;
		ts[nts].port_hi = ch->tsi6.end_port;
		memcpy(ts[nts].addr_lo, ch->tsi6.start, 16);
		memcpy(ts[nts++].addr_hi, ch->tsi6.end, 16);
	}
	memset(&in, 0, sizeof(in));
	in.spi = ch->spi_in;
	in.dir = ESP_DIR_IN;
	in.encr = ch->suite.encr;
	in.encr_bits = ch->suite.encr_bits;
	in.integ = ch->suite.integ;
	in.esn = ch->esn;
	in.replay_window = is->sec->replay_window;
	in.ts = ts;
	in.nts = nts;
	out = in;
	out.spi = ch->spi_out;
	out.dir = ESP_DIR_OUT;
	out.ts = NULL;
	out.nts = 0;
	out.replay_window = 0;
	in.ekey = ch->keys.ei;
	out.ekey = ch->keys.er;
	in.ekey_len = out.ekey_len = ch->keys.encr_len;
	if (ch->keys.integ_len > 0) {
		in.akey = ch->keys.ai;
		out.akey = ch->keys.ar;
		in.akey_len = out.akey_len = ch->keys.integ_len;
	}
	if ((c->in = esp_sa_new(&in)) == NULL ||
	    (c->out = esp_sa_new(&out)) == NULL) {
		pair_free(c);
		log_warnx("session %llu: Child SA %08x/%08x not installed",
		    is->s->id, ch->spi_in, ch->spi_out);
		return;
	}
	c->gen = ++is->gen;
	c->v4 = ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE;
	c->src_lo = load_be32(ch->tsr.start);
	c->src_hi = load_be32(ch->tsr.end);
	c->v6 = ch->has6;
	memcpy(c->src6_lo, ch->tsr6.start, 16);
	memcpy(c->src6_hi, ch->tsr6.end, 16);
	c->replaces = ch->replaces;
	/*
	 * RFC 7296 §2.8: both SAs stay until the old one is deleted.  The
	 * rekey's initiator can only receive on the new SA once it has our
	 * response, so we keep sending on the old one until the peer sends
	 * on the new one or deletes the old (as strongSwan does).  A rekey
	 * we started ourselves is usable at once.
	 */
	old = ch->replaces != 0 ? pair_by_spi(is, ch->replaces) : NULL;
	c->out_ok = old == NULL || ch->initiated;
	if (old != NULL) {
		sess_log(is, LOG_LEVEL_INFO, "CHILD_SA rekeyed, spi in "
		    "%08x -> %08x, out %08x -> %08x", old->in->spi,
		    ch->spi_in, old->out->spi, ch->spi_out);
		return;
	}
	if (ch->vip != 0 && vip_lookup(is->sec, ch->vip) == NULL)
		vip_link(is, ch->vip);
	else if (ch->vip == 0 && ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE &&
	    ch->tsi.start[0] != 0 &&
	    memcmp(ch->tsi.start, ch->tsi.end, 4) == 0) {
		memcpy(&a, ch->tsi.start, 4);
		if (vip_lookup(is->sec, ntohl(a)) == NULL)
			vip_link(is, ntohl(a));
	}
	if (ch->has6 && vip6_lookup(is->sec, ch->vip6) == NULL)
		vip6_link(is, ch->vip6);
	a = htonl(is->vip);
	log_info("integrated %s: session %llu: CHILD_SA up, spi in %08x out "
	    "%08x, virtual IP %s%s%s", is->sec->name, is->s->id, ch->spi_in,
	    ch->spi_out, inet_ntop(AF_INET, &a, t, sizeof(t)),
	    is->has_vip6 ? " and " : "", is->has_vip6 ? inet_ntop(AF_INET6,
	    is->vip6, t6, sizeof(t6)) : "");
}

/* The session ends after its last response had a moment to leave. */
static void
integ_end(struct integ_sess *is)
{
	struct session *s = is->s;

	is->dead = true;
	ev_timer_stop(s->r->loop, &is->req_timer);
	children_down(is);
	session_end(s, 0.5);
}

/*
 * RFC 7296 §2.18: the session now answers to the new IKE SPIs too; the
 * SPI table learns the new initiator SPI at once, so that a stream
 * re-attaching with it (RFC 9329 §6) finds the session.
 */
static void
ike_rekeyed(struct integ_sess *is, const struct ike_event *ev)
{
	uint64_t spi_i = ike_sa_spi_i(is->ike), spi_r = ike_sa_spi_r(is->ike);

	session_key_ike(is->s, spi_i, spi_r);
	sess_log(is, LOG_LEVEL_INFO, "IKE_SA rekeyed, %016llx_%016llx -> "
	    "%016llx_%016llx", (unsigned long long)ev->spi_i,
	    (unsigned long long)ev->spi_r, (unsigned long long)spi_i,
	    (unsigned long long)spi_r);
}

static const char *peer_text(const struct ike_sa *sa,
	    char out[static IKE_ID_LOG_MAX]);

/* What the IKE SA reported: install or remove Child SAs, log the rest. */
static void
ike_events(struct integ_sess *is, const struct ike_out *out)
{
	char idt[IKE_ID_LOG_MAX];

	for (size_t i = 0; i < out->nev; i++) {
		switch (out->ev[i].type) {
		case IKE_EV_IKE_UP:
			sess_log(is, LOG_LEVEL_INFO, "IKE_SA %016llx_%016llx "
			    "established, %s authenticated",
			    (unsigned long long)ike_sa_spi_i(is->ike),
			    (unsigned long long)ike_sa_spi_r(is->ike),
			    peer_text(is->ike, idt));
			break;
		case IKE_EV_CHILD_UP:
			child_up(is, out->ev[i].child);
			break;
		case IKE_EV_CHILD_DOWN:
			sess_log(is, LOG_LEVEL_INFO, "CHILD_SA deleted, spi "
			    "in %08x", out->ev[i].child->spi_in);
			child_down(is, out->ev[i].child->spi_in);
			break;
		case IKE_EV_IKE_DOWN:
			sess_log(is, LOG_LEVEL_INFO, "IKE_SA deleted");
			break;
		case IKE_EV_IKE_REKEYED:
			ike_rekeyed(is, &out->ev[i]);
			break;
		case IKE_EV_ADDRESSES:
			/* RFC 4555 §3.5: the SA's path is this stream. */
			sess_log(is, LOG_LEVEL_INFO, "MOBIKE: "
			    "UPDATE_SA_ADDRESSES accepted on this stream");
			break;
		}
	}
}

/*
 * A request of ours (ike/README, "Requests we initiate") to the session's
 * stream.  RFC 9329 §7.2: no retransmission over the same TCP stream --
 * a resend goes out only on a stream that has not carried it (the client
 * re-attached); with no stream attached nothing goes out (§6: only the
 * client reconnects).
 */
static void
req_send(struct integ_sess *is, const struct ike_out *out)
{
	static uint8_t buf[INTEG_MARKER + IKE_SA_MSG_MAX];
	struct stream *st = is->s->owner;
	struct iovec iov;
	bool ike = true;

	if (out->len == 0 || out->len > IKE_SA_MSG_MAX || st == NULL)
		return;
	if (out->resend && is->req_stream == st->id)
		return;
	is->req_stream = st->id;
	memset(buf, 0, INTEG_MARKER);
	memcpy(buf + INTEG_MARKER, out->msg, out->len);
	iov.iov_base = buf;
	iov.iov_len = INTEG_MARKER + out->len;
	session_deliver(is->s, &iov, &ike, 1);
}

/* Arms the session's timer for ike_sa_next_ms(). */
static void
req_arm(struct integ_sess *is)
{
	struct ev_loop *loop = is->s->r->loop;
	uint64_t at, now;

	ev_timer_stop(loop, &is->req_timer);
	if (is->ike == NULL || is->dead ||
	    (at = ike_sa_next_ms(is->ike)) == UINT64_MAX)
		return;
	now = now_ms();
	ev_timer_set(&is->req_timer, at > now ? (double)(at - now) / 1000. :
	    0., 0.);
	ev_timer_start(loop, &is->req_timer);
}

/* After a tick or a shutdown Delete: send, log, end a dead session. */
static void
req_done(struct integ_sess *is, const struct ike_out *out)
{
	if (!out->resend && out->len > 0)
		is->req_stream = 0;	/* a new request: on no stream yet */
	req_send(is, out);
	if (out->reason[0] != '\0')
		sess_log(is, LOG_LEVEL_INFO, "IKE: %s", out->reason);
	ike_events(is, out);
	if (ike_sa_state(is->ike) == IKE_SA_DEAD) {
		if (!is->dead)
			integ_end(is);
		return;
	}
	req_arm(is);
}

/* Timer -> ike_sa_tick(): a liveness check, a Delete, a rekey, or a dead
 * peer. */
static void
req_timer_cb(EV_P_ ev_timer *w, int revents)
{
	struct integ_sess *is = container_of(w, struct integ_sess, req_timer);
	struct ike_out out;

	if (is->ike == NULL || is->dead)
		return;
	ike_sa_tick(is->ike, now_ms(), &out);
	req_done(is, &out);
}

int
integ_shutdown(struct relay *r)
{
	struct integ_sec *sec;
	struct integ_sess *is;
	struct ike_out out;
	int n = 0;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		for (is = sec->sessions; is != NULL; is = is->snext) {
			if (is->ike == NULL || is->dead ||
			    is->s->owner == NULL ||
			    ike_sa_delete(is->ike, now_ms(), &out) == -1)
				continue;
			req_done(is, &out);
			n++;
		}
	return n;
}

int
integ_deleting(const struct relay *r)
{
	const struct integ_sec *sec;
	const struct integ_sess *is;
	int n = 0;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		for (is = sec->sessions; is != NULL; is = is->snext)
			if (is->ike != NULL && !is->dead &&
			    is->s->owner != NULL &&
			    ike_sa_state(is->ike) == IKE_SA_DELETING)
				n++;
	return n;
}

/* The peer's IKE identity as text, or "an unnamed peer". */
static const char *
peer_text(const struct ike_sa *sa, char out[static IKE_ID_LOG_MAX])
{
	const uint8_t *id;
	uint8_t type;
	size_t len;

	id = ike_sa_peer_id(sa, &type, &len);
	if (len == 0)
		return "an unnamed peer";
	return ike_id_format(type, id, len, out, IKE_ID_LOG_MAX);
}

/* The IKE SA's path is that of the stream @st. */
static void
set_path(struct integ_sess *is, const struct stream *st)
{
	struct ike_endpoint l, rm;

	endpoint_of(&st->laddr, &l);
	endpoint_of(&st->peer, &rm);
	ike_sa_set_path(is->ike, &l, &rm);
}

/*
 * One IKE message from the owner stream, or from probe @pr (a stream that
 * named this session and must prove it holds the IKE SA's keys): a new
 * request that ike/ authenticated and answered proves it (RFC 9329 §10);
 * a retransmission does not (anyone can replay one), and nothing is sent
 * to an unproven stream.
 */
static void
ike_input(struct integ_sess *is, struct probe *pr, const struct msg_info *m,
    const uint8_t *p, size_t n)
{
	struct session *s = is->s;
	struct relay *r = s->r;
	struct stream *st = pr != NULL ? pr->st : s->owner;
	static uint8_t reply[INTEG_MARKER + IKE_SA_MSG_MAX];
	struct ike_out out;
	enum ike_sa_result res;
	enum ike_sa_state before;
	char idt[IKE_ID_LOG_MAX];
	uint8_t idtype;
	size_t idlen;
	struct iovec iov;
	bool ike = true;

	/* classify_msg() checked the marker and the IKE header. */
	p += INTEG_MARKER;
	n -= INTEG_MARKER;
	if (is->ike != NULL && !ike_sa_knows_spi_i(is->ike, m->spi_i)) {
		r->stats.ike_drop++;
		log_stream(st, LOG_LEVEL_DEBUG, "IKE SPI %016llx is not this "
		    "session's", (unsigned long long)m->spi_i);
		return;
	}
	if (is->ike == NULL) {
		if (pr != NULL) {
			r->stats.ike_drop++;
			return;
		}
		is->cookie = is->sec->half_open >= is->sec->cookie_threshold;
		is->ike = ike_sa_new(&is->sec->conf, &is->local, &is->remote,
		    is->cookie ? IKE_SA_F_COOKIE : 0);
		if (is->ike == NULL) {
			log_warnx("IKE SA: out of memory");
			return;
		}
	}
	/* The addresses are those of the stream it came on (a MOBIKE
	 * answer's NAT detection needs them); an unproven probe's are
	 * undone below. */
	set_path(is, st);
	before = ike_sa_state(is->ike);
	res = ike_sa_handle(is->ike, p, n, now_ms(), &out);
	/*
	 * A reason is a dropped or refused request (a wrong PSK answered
	 * with AUTHENTICATION_FAILED, a Child SA refused): an operator
	 * must see it at the default level, with the peer's identity
	 * (log_stream() adds its address).
	 */
	if (out.reason[0] != '\0' && before == IKE_SA_IDLE &&
	    ike_sa_state(is->ike) == IKE_SA_IDLE)
		/*
		 * A COOKIE or INVALID_KE_PAYLOAD answer: a normal step of
		 * IKE_SA_INIT, and under a flood of them (when cookies are
		 * in use) one info line each would flood the log too.
		 */
		log_stream(st, LOG_LEVEL_DEBUG, "IKE: %s", out.reason);
	else if (out.reason[0] != '\0' && before == IKE_SA_INIT_DONE &&
	    ike_sa_state(is->ike) == IKE_SA_DEAD)
		log_stream(st, LOG_LEVEL_INFO, "IKE: authentication of %s "
		    "refused: %s", peer_text(is->ike, idt), out.reason);
	else if (out.reason[0] != '\0') {
		(void)ike_sa_peer_id(is->ike, &idtype, &idlen);
		log_stream(st, LOG_LEVEL_INFO, "IKE: %s%s%s", out.reason,
		    idlen > 0 ? ", peer " : "",
		    idlen > 0 ? peer_text(is->ike, idt) : "");
	}
	if (res == IKE_SA_DROPPED)
		r->stats.ike_drop++;
	if (pr != NULL && res == IKE_SA_ANSWERED)
		session_prove(s, pr, "a new IKE request authenticated");
	else if (pr != NULL) {
		if (s->owner != NULL)
			set_path(is, s->owner);
		if (out.len > 0)
			r->stats.probe_drop++;
		out.len = 0;
	}
	ike_events(is, &out);
	if (out.len > 0 && out.len <= IKE_SA_MSG_MAX) {
		memset(reply, 0, INTEG_MARKER);
		memcpy(reply + INTEG_MARKER, out.msg, out.len);
		iov.iov_base = reply;
		iov.iov_len = INTEG_MARKER + out.len;
		session_deliver(s, &iov, &ike, 1);
	}
	switch (ike_sa_state(is->ike)) {
	case IKE_SA_IDLE:
		/* COOKIE or INVALID_KE_PAYLOAD sent: no state kept. */
		/* (The other stateless answer names INVALID_KE_PAYLOAD.) */
		if (is->cookie && res == IKE_SA_ANSWERED &&
		    strstr(out.reason, "COOKIE sent") != NULL)
			is->sec->cookies++;
		ike_sa_free(is->ike);
		is->ike = NULL;
		break;
	case IKE_SA_DEAD:
		if (!is->dead)
			integ_end(is);
		break;
	default:
		req_arm(is);
		break;
	}
	half_open_sync(is);
}

/* ESP -> TUN; true when it was authentic and new (its ICV verified and
 * its sequence number had not been seen: RFC 4303 §3.4.3). */
static bool
esp_input(struct integ_sess *is, const uint8_t *p, size_t n)
{
	struct relay *r = is->s->r;
	struct integ_child *c = NULL;
	struct esp_rx rx;
	enum esp_result res;
	uint32_t spi = 0;

	if (n >= ESP_HDR_LEN) {
		memcpy(&spi, p, sizeof(spi));
		c = pair_by_spi(is, ntohl(spi));
	}
	if (c == NULL) {
		r->stats.esp_in_drop++;
		return false;
	}
	res = esp_decap(c->in, p, n, pkt_buf, sizeof(pkt_buf), &rx);
	if (res != ESP_OK) {
		r->stats.esp_in_drop++;
		log_debug("session %llu: ESP dropped: %s", is->s->id,
		    esp_result_name(res));
		return false;
	}
	/* §2.8: the peer sends on the new SA, so it receives on it too. */
	c->out_ok = true;
	/* RFC 7296 §2.4: authentic ESP proves the peer alive. */
	if (is->ike != NULL)
		ike_sa_alive(is->ike, now_ms());
	if (write(is->sec->tun_fd, rx.inner, rx.len) == -1) {
		r->stats.esp_in_drop++;
		log_debug("write to %s: %s", is->sec->ifname, strerror(errno));
	}
	return true;
}

/* Client messages from the owner or probe @pr (session_backend.input). */
static void
be_input(struct session *s, struct probe *pr, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	struct integ_sess *is = s->be;
	struct stream *st = pr != NULL ? pr->st : s->owner;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = msgs[i].iov_base;
		size_t len = msgs[i].iov_len;

		/* The stream gone (and its probe with it), or the session
		 * ending: the rest is nobody's. */
		if (is->dead || s->r->in_stream_closed)
			break;
		if (mi[i].kind == MSG_IKE)
			ike_input(is, pr, &mi[i], p, len);
		else if (esp_input(is, p, len) && pr != NULL)
			session_prove(s, pr, "ESP that passed its ICV and "
			    "replay checks");
		/* Proven: the probe is gone, the rest is the owner's. */
		if (pr != NULL && s->owner == st)
			pr = NULL;
	}
}

/*
 * The pair for @pkt (IPv4 or IPv6, header checked) to the session's
 * virtual IP: among the Child SAs whose TSr holds its source and that may
 * send, the newest.
 */
static struct integ_child *
pair_out(struct integ_sess *is, const uint8_t *pkt)
{
	struct integ_child *best = NULL, *c;
	bool v6 = (pkt[0] >> 4) == 6;
	uint32_t src = v6 ? 0 : load_be32(pkt + 12);

	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++) {
		c = &is->ch[k];
		if (c->out == NULL || !c->out_ok)
			continue;
		if (v6 ? !c->v6 || memcmp(pkt + 8, c->src6_lo, 16) < 0 ||
		    memcmp(pkt + 8, c->src6_hi, 16) > 0 :
		    !c->v4 || src < c->src_lo || src > c->src_hi)
			continue;
		if (best == NULL || c->gen > best->gen)
			best = c;
	}
	return best;
}

/* TUN -> the session owning the destination -> ESP -> its stream. */
static void
tun_read_cb(EV_P_ ev_io *w, int revents)
{
	struct integ_sec *sec = container_of(w, struct integ_sec, tio);
	struct relay *r = sec->r;

	for (int k = 0; k < INTEG_TUN_BATCH; k++) {
		struct integ_child *c;
		struct integ_sess *is;
		struct wr wr;
		struct iovec iov;
		bool ike = false;
		uint32_t dst;
		ssize_t n;

		n = read(sec->tun_fd, pkt_buf, INTEG_PKT_MAX);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("read %s", sec->ifname);
			return;
		}
		if (n >= 20 && (pkt_buf[0] >> 4) == 4) {
			memcpy(&dst, pkt_buf + 16, 4);
			is = vip_lookup(sec, ntohl(dst));
		} else if (n >= 40 && (pkt_buf[0] >> 4) == 6)
			is = vip6_lookup(sec, pkt_buf + 24);	/* dst */
		else
			is = NULL;
		if (is == NULL || is->s->owner == NULL ||
		    (c = pair_out(is, pkt_buf)) == NULL) {
			r->stats.esp_out_drop++;
			continue;
		}
		wr = wr_make(out_buf, sizeof(out_buf));
		if (esp_encap_len(c->out, (size_t)n) > is->s->max_message ||
		    esp_encap(c->out, pkt_buf, (size_t)n, &wr) !=
		    ESP_ENCAP_OK) {
			r->stats.esp_out_drop++;
			continue;
		}
		iov.iov_base = out_buf;
		iov.iov_len = wr.len;
		session_deliver(is->s, &iov, &ike, 1);
	}
}

const struct session_backend integ_backend = {
	.name = "integrated",
	.open = be_open,
	.close = be_close,
	.input = be_input,
};

void
integ_stats_log(const struct relay *r)
{
	const struct integ_sec *sec;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		log_info("integrated %s: half-open IKE SAs %u (cookie "
		    "threshold %u), COOKIEs demanded %llu", sec->name,
		    sec->half_open, sec->cookie_threshold, sec->cookies);
}
