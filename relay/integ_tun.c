/*
 * relay/integ_tun.c: the data plane of the integrated backend
 * (integ_int.h).  A session's Child SAs are ESP pairs here (esp/): ESP
 * from the session's stream is decapsulated by the inbound SA its SPI
 * names and written to the section's TUN device; a packet read from the
 * TUN goes, by destination, to the session owning that virtual IP
 * (vip.h), is encapsulated by the newest outbound SA whose selector holds
 * its source, and is framed to that session's stream.  integ_sess.c
 * installs and removes the pairs as the IKE SA reports Child SAs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "ike/sa.h"
#include "relay/integ_int.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"

_Static_assert((int)ESP_RESULT_COUNT <= (int)RELAY_ESP_REASONS,
    "relay_stats.esp_in_res holds every esp_decap() result");

int
integ_esp_in_reason(const struct relay_stats *st, size_t i,
    const char **name, unsigned long long *v)
{
	/* First the reasons outside esp_decap(), then its own (not "ok"). */
	if (i == 0) {
		*name = "no-sa";
		*v = st->esp_in_nosa;
		return 0;
	}
	if (i == 1) {
		*name = "tun-write";
		*v = st->esp_in_tun;
		return 0;
	}
	i -= 1;		/* esp_decap()'s result i: 1 .. ESP_RESULT_COUNT - 1 */
	if (i >= (size_t)ESP_RESULT_COUNT)
		return -1;
	*name = esp_result_name((enum esp_result)i);
	*v = st->esp_in_res[i];
	return 0;
}

size_t
integ_esp_in_reasons(const struct relay_stats *st, char *buf, size_t cap)
{
	unsigned long long v;
	const char *name;
	size_t len = 0;
	int n;

	if (cap > 0)
		buf[0] = '\0';
	for (size_t i = 0; integ_esp_in_reason(st, i, &name, &v) == 0; i++) {
		if (v == 0)
			continue;
		n = snprintf(buf + (len < cap ? len : cap), len < cap ?
		    cap - len : 0, "%s%s %llu", len > 0 ? ", " : "", name, v);
		if (n > 0)
			len += (size_t)n;
	}
	return len;
}

void
integ_tun_pair_free(struct integ_child *c)
{
	esp_sa_free(c->in);
	esp_sa_free(c->out);
	memset(c, 0, sizeof(*c));
}

struct integ_child *
integ_tun_pair_find(struct integ_sess *is, uint32_t spi)
{
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (is->ch[k].in != NULL && is->ch[k].in->spi == spi)
			return &is->ch[k];
	return NULL;
}

struct integ_child *
integ_tun_pair_add(struct integ_sess *is, const struct ike_child *ch)
{
	struct esp_sa_params in, out;
	struct integ_child *c = NULL;
	struct esp_ts ts[2];
	size_t nts = 0;

	for (size_t k = 0; k < IKE_SA_CHILD_MAX && c == NULL; k++)
		if (is->ch[k].in == NULL)
			c = &is->ch[k];
	if (c == NULL) {
		/* ike/ keeps as many Child SAs as we have slots. */
		log_warnx("session %llu: no slot for Child SA %08x", is->s->id,
		    ch->spi_in);
		return NULL;
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
		integ_tun_pair_free(c);
		log_warnx("session %llu: Child SA %08x/%08x not installed",
		    is->s->id, ch->spi_in, ch->spi_out);
		return NULL;
	}
	c->gen = ++is->gen;
	c->v4 = ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE;
	c->src_lo = load_be32(ch->tsr.start);
	c->src_hi = load_be32(ch->tsr.end);
	c->v6 = ch->has6;
	memcpy(c->src6_lo, ch->tsr6.start, 16);
	memcpy(c->src6_hi, ch->tsr6.end, 16);
	c->replaces = ch->replaces;
	c->suite = ch->suite;
	/*
	 * RFC 7296 §2.8: both SAs stay until the old one is deleted.  The
	 * rekey's initiator can only receive on the new SA once it has our
	 * response, so we keep sending on the old one until the peer sends
	 * on the new one or deletes the old (as strongSwan does).  A rekey
	 * we started ourselves is usable at once.
	 */
	c->out_ok = ch->replaces == 0 ||
	    integ_tun_pair_find(is, ch->replaces) == NULL || ch->initiated;
	return c;
}

/*
 * RFC 7296 §2.8: "To rekey a Child SA within an existing IKE SA, create a
 * new, equivalent SA ..., and when the new one is established, delete the
 * old one."  The peer sends on the old SA until it switches, and it
 * switches right before it sends the Delete (its rekey) or answers ours:
 * over a stream its last ESP on the old SA often reaches us only 0.1 to
 * 1 ms before that Delete (measured with strongSwan 5.9.8 in tests 46 and
 * 48 under traffic).  Nothing
 * keeps the two in order at the peer: strongSwan's libipsec seals a
 * packet, returns the SA, then queues the packet, while its IKE thread,
 * which waited for that SA to be returned before removing it, queues the
 * Delete -- whichever thread runs first sends first.  Over UDP the
 * network may reorder them too.  So the inbound SA of a pair that a rekey
 * replaced is retired for INTEG_RETIRED_MS rather than freed (strongSwan
 * keeps a rekeyed SA's inbound side too, delete_rekeyed_delay): same
 * keys, same replay window, and nothing is ever sent on it.  A Child SA
 * deleted without a successor goes at once.
 *
 * An on-path attacker gains nothing from the two seconds: a replayed
 * packet of the old SA is still refused by its replay window (RFC 4303
 * §3.4.3), and without the keys nothing else passes its ICV.
 */
bool
integ_tun_child_gone(struct integ_sess *is, uint32_t spi_in, uint64_t now_ms)
{
	struct integ_child *c = integ_tun_pair_find(is, spi_in);
	struct integ_retired *slot = NULL, *t;
	bool replaced = false;

	if (c == NULL)
		return false;
	/* Its successor (a rekey) sends from now on. */
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (is->ch[k].in != NULL && is->ch[k].replaces == spi_in) {
			is->ch[k].out_ok = true;
			replaced = true;
		}
	if (replaced) {
		/* A free slot, else the one due first. */
		for (size_t k = 0; k < INTEG_RETIRED_MAX; k++) {
			t = &is->retired[k];
			if (t->in == NULL) {
				slot = t;
				break;
			}
			if (slot == NULL || t->until_ms < slot->until_ms)
				slot = t;
		}
		esp_sa_free(slot->in);
		slot->in = c->in;
		slot->until_ms = now_ms + INTEG_RETIRED_MS;
		c->in = NULL;
	}
	integ_tun_pair_free(c);
	return true;
}

uint64_t
integ_tun_retired_expire(struct integ_sess *is, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	struct integ_retired *t;

	for (size_t k = 0; k < INTEG_RETIRED_MAX; k++) {
		t = &is->retired[k];
		if (t->in == NULL)
			continue;
		if (now_ms >= t->until_ms) {
			esp_sa_free(t->in);
			memset(t, 0, sizeof(*t));
		} else if (t->until_ms < next)
			next = t->until_ms;
	}
	return next;
}

/* The retired inbound SA with @spi, while it is kept. */
static struct esp_sa *
retired_find(struct integ_sess *is, uint32_t spi)
{
	uint64_t now = integ_now_ms();

	for (size_t k = 0; k < INTEG_RETIRED_MAX; k++)
		if (is->retired[k].in != NULL &&
		    is->retired[k].in->spi == spi &&
		    now < is->retired[k].until_ms)
			return is->retired[k].in;
	return NULL;
}

bool
integ_tun_esp_input(struct integ_sess *is, const uint8_t *p, size_t n)
{
	struct relay *r = is->s->r;
	struct integ_child *c = NULL;
	struct esp_sa *sa = NULL;
	struct esp_rx rx;
	enum esp_result res;
	uint32_t spi = 0;

	if (n >= ESP_HDR_LEN) {
		memcpy(&spi, p, sizeof(spi));
		if ((c = integ_tun_pair_find(is, ntohl(spi))) != NULL)
			sa = c->in;
		else
			sa = retired_find(is, ntohl(spi));
	}
	if (sa == NULL) {
		r->stats.esp_in_drop++;
		r->stats.esp_in_nosa++;
		/* The SPI and sequence number name the SA a drop hit
		 * (a rekey's old or new one); peer-caused: rate-limited. */
		log_peer(LOG_LEVEL_DEBUG, "session %llu: ESP dropped: no SA "
		    "(spi %08x seq %u)", is->s->id, ntohl(spi),
		    n >= ESP_HDR_LEN ? load_be32(p + 4) : 0);
		return false;
	}
	res = esp_decap(sa, p, n, is->sec->pkt_buf, INTEG_PKT_BUF, &rx);
	if (res != ESP_OK) {
		r->stats.esp_in_drop++;
		r->stats.esp_in_res[res]++;
		log_peer(LOG_LEVEL_DEBUG, "session %llu: ESP dropped: %s "
		    "(spi %08x seq %u%s)", is->s->id, esp_result_name(res),
		    sa->spi, load_be32(p + 4), c == NULL ? ", retired" : "");
		return false;
	}
	/* §2.8: the peer sends on the new SA, so it receives on it too. */
	if (c != NULL)
		c->out_ok = true;
	else {
		r->stats.esp_in_retired++;
		log_peer(LOG_LEVEL_DEBUG, "session %llu: ESP on Child SA "
		    "%08x after its Delete (seq %llu), accepted", is->s->id,
		    sa->spi, (unsigned long long)rx.seq);
	}
	/* RFC 7296 §2.4: authentic ESP proves the peer alive. */
	if (is->ike != NULL)
		ike_sa_alive(is->ike, integ_now_ms());
	if (write(is->sec->tun_fd, rx.inner, rx.len) == -1) {
		r->stats.esp_in_drop++;
		r->stats.esp_in_tun++;
		log_debug("write to %s: %s", is->sec->ifname, strerror(errno));
	}
	return true;
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

/* The session whose virtual IP is @pkt's destination, or NULL. */
static struct integ_sess *
dst_owner(struct integ_sec *sec, const uint8_t *pkt, size_t n)
{
	uint8_t key[VIP_ADDR_LEN];
	struct vip_entry *e;

	if (n >= 20 && (pkt[0] >> 4) == 4) {
		vip_map4(pkt + 16, key);	/* dst */
		if ((e = vip_lookup(&sec->vips, 4, key)) != NULL)
			return container_of(e, struct integ_sess, vip4);
	} else if (n >= 40 && (pkt[0] >> 4) == 6) {
		if ((e = vip_lookup(&sec->vips, 6, pkt + 24)) != NULL)
			return container_of(e, struct integ_sess, vip6);
	}
	return NULL;
}

/* TUN -> the session owning the destination -> ESP -> its stream. */
void
integ_tun_read_cb(EV_P_ ev_io *w, int revents)
{
	struct integ_sec *sec = container_of(w, struct integ_sec, tio);
	uint8_t *pkt = sec->pkt_buf;
	struct relay *r = sec->r;

	for (int k = 0; k < INTEG_TUN_BATCH; k++) {
		struct integ_child *c;
		struct integ_sess *is;
		struct wr wr;
		struct iovec iov;
		bool ike = false;
		ssize_t n;

		n = read(sec->tun_fd, pkt, INTEG_PKT_MAX);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("read %s", sec->ifname);
			return;
		}
		if ((is = dst_owner(sec, pkt, (size_t)n)) == NULL ||
		    !session_has_client(is->s) ||
		    (c = pair_out(is, pkt)) == NULL) {
			r->stats.esp_out_drop++;
			r->stats.esp_out_nosa++;
			continue;
		}
		wr = wr_make(sec->out_buf, INTEG_OUT_BUF);
		if (esp_encap_len(c->out, (size_t)n) > is->s->max_message ||
		    esp_encap(c->out, pkt, (size_t)n, &wr) != ESP_ENCAP_OK) {
			r->stats.esp_out_drop++;
			r->stats.esp_out_encap++;
			continue;
		}
		iov.iov_base = sec->out_buf;
		iov.iov_len = wr.len;
		session_deliver(is->s, &iov, &ike, 1);
	}
}
