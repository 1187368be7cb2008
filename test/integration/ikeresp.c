/*
 * ikeresp: a test-only UDP front end for the ike/ responder, so that an
 * unmodified strongSwan initiator can be run against it.  Binds UDP 500
 * and 4500 on one IPv4 address, strips the Non-ESP marker on 4500 (ESP
 * and keepalives are dropped: no data plane here), feeds each IKE message
 * to its SA and sends the response back the way the request came.  Prints
 * one line per event and per refused or dropped request on stdout.
 *
 *   ikeresp -l ADDR -k PSK -i OUR_FQDN -r PEER_FQDN -P POOL
 *           [-I ike-proposals,...] [-E esp-proposals,...] [-t LOCAL_TS]
 *           [-d DNS] [-c]            -c: always ask for a cookie
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ike/cp.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "relay/log.h"

enum {
	MAX_SAS		= 64,
	MAX_PROPS	= 8,
	DGRAM_MAX	= 8192
};

static struct ike_sa *sas[MAX_SAS];
static const char *psk_str, *peer_id;
static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
psk_lookup(void *arg, uint8_t id_type, const uint8_t *id, size_t id_len,
    uint8_t *psk, size_t cap, size_t *psk_len)
{
	size_t n = strlen(psk_str);

	(void)arg;
	if (id_type != IKE_ID_FQDN || id_len != strlen(peer_id) ||
	    memcmp(id, peer_id, id_len) != 0 || n > cap)
		return -1;
	memcpy(psk, psk_str, n);
	*psk_len = n;
	return 0;
}

static size_t
parse_props(uint8_t proto, char *list, struct ike_prop *out)
{
	char err[IKE_PROP_ERR_MAX], *tok, *save = NULL;
	size_t n = 0;

	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (n == MAX_PROPS)
			fatalx("too many proposals");
		if (!ike_proposal_parse(proto, tok, &out[n], err, sizeof(err)))
			fatalx("proposal '%s': %s", tok, err);
		n++;
	}
	return n;
}

static int
bind_udp(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		fatal("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = a;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fatal("bind %u", port);
	return fd;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
ip4(uint32_t host, char *buf)
{
	struct in_addr a = { htonl(host) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void
print_events(const struct ike_sa *sa, const struct ike_out *out)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN];
	char d[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN];
	const struct ike_child *ch;
	const struct ike_suite *s;
	size_t i;

	for (i = 0; i < out->nev; i++) {
		ch = out->ev[i].child;
		switch (out->ev[i].type) {
		case IKE_EV_IKE_UP:
			s = ike_sa_suite(sa);
			printf("IKE_UP spi_i=%016llx spi_r=%016llx encr=%u/%u "
			    "prf=%u integ=%u dh=%u\n",
			    (unsigned long long)ike_sa_spi_i(sa),
			    (unsigned long long)ike_sa_spi_r(sa), s->encr,
			    s->encr_bits, s->prf, s->integ, s->dh);
			break;
		case IKE_EV_CHILD_UP:
			printf("CHILD_UP spi_in=%08x spi_out=%08x encr=%u/%u "
			    "integ=%u esn=%d vip=%s tsi=%s-%s tsr=%s-%s "
			    "keylen=%zu+%zu\n", ch->spi_in, ch->spi_out,
			    ch->suite.encr, ch->suite.encr_bits,
			    ch->suite.integ, ch->esn, ip4(ch->vip, a),
			    inet_ntop(AF_INET, ch->tsi.start, b, sizeof(b)),
			    inet_ntop(AF_INET, ch->tsi.end, c, sizeof(c)),
			    inet_ntop(AF_INET, ch->tsr.start, d, sizeof(d)),
			    inet_ntop(AF_INET, ch->tsr.end, e, sizeof(e)),
			    ch->keys.encr_len, ch->keys.integ_len);
			break;
		case IKE_EV_CHILD_DOWN:
			printf("CHILD_DOWN spi_in=%08x spi_out=%08x\n",
			    ch->spi_in, ch->spi_out);
			break;
		case IKE_EV_IKE_DOWN:
			printf("IKE_DOWN spi_i=%016llx\n",
			    (unsigned long long)ike_sa_spi_i(sa));
			break;
		case IKE_EV_ADDRESSES:
			printf("ADDRESSES spi_i=%016llx\n",
			    (unsigned long long)ike_sa_spi_i(sa));
			break;
		case IKE_EV_RR_OK:
		case IKE_EV_RR_FAILED:
			printf("RR_%s spi_i=%016llx\n", out->ev[i].type ==
			    IKE_EV_RR_OK ? "OK" : "FAILED",
			    (unsigned long long)ike_sa_spi_i(sa));
			break;
		case IKE_EV_IKE_REKEYED:
			printf("IKE_REKEYED spi_i=%016llx spi_r=%016llx -> "
			    "spi_i=%016llx spi_r=%016llx\n",
			    (unsigned long long)out->ev[i].spi_i,
			    (unsigned long long)out->ev[i].spi_r,
			    (unsigned long long)ike_sa_spi_i(sa),
			    (unsigned long long)ike_sa_spi_r(sa));
			break;
		}
	}
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static struct ike_sa **
lookup(uint64_t spi_i, uint64_t spi_r)
{
	size_t i;

	for (i = 0; i < MAX_SAS; i++)
		if (sas[i] != NULL && ike_sa_knows_spi_i(sas[i], spi_i) &&
		    (spi_r == 0 || ike_sa_spi_i(sas[i]) != spi_i ||
		    ike_sa_spi_r(sas[i]) == spi_r))
			return &sas[i];
	return NULL;
}

static void
one(int fd, bool natt, const struct ike_sa_conf *conf,
    const struct ike_endpoint *local0, unsigned flags)
{
	uint8_t buf[DGRAM_MAX], *msg = buf, reply[DGRAM_MAX + 4];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct ike_endpoint local = *local0, remote;
	struct ike_sa **slot, *sa;
	struct ike_out out;
	enum ike_sa_result res;
	uint64_t spi_i, spi_r;
	ssize_t n;
	size_t len, i;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	len = (size_t)n;
	if (natt) {
		if (len == 1 && buf[0] == 0xff)
			return;			/* NAT keepalive */
		if (len < 4 || memcmp(buf, "\0\0\0\0", 4) != 0) {
			printf("DROP ESP datagram (%zu octets)\n", len);
			return;
		}
		msg += 4;
		len -= 4;
	}
	if (len < 28)
		return;
	spi_i = be64(msg);
	spi_r = be64(msg + 8);
	memset(&remote, 0, sizeof(remote));
	remote.family = 4;
	memcpy(remote.addr, &from.sin_addr, 4);
	remote.port = ntohs(from.sin_port);
	local.port = natt ? 4500 : 500;
	slot = lookup(spi_i, spi_r);
	if (slot == NULL) {
		if (spi_r != 0 || msg[18] != 34)
			return;
		for (i = 0; i < MAX_SAS && sas[i] != NULL; i++)
			;
		if (i == MAX_SAS ||
		    (sas[i] = ike_sa_new(conf, &local, &remote, flags)) == NULL)
			return;
		slot = &sas[i];
	}
	sa = *slot;
	res = ike_sa_handle(sa, msg, len, now_ms(), &out);
	if (out.reason[0] != '\0')
		printf("%s %s\n", res == IKE_SA_DROPPED ? "DROP" : "NOTE",
		    out.reason);
	if (res == IKE_SA_RETRANSMIT)
		printf("RETRANSMIT %zu octets\n", out.len);
	print_events(sa, &out);
	if (out.len > 0) {
		n = 0;
		if (natt)
			memset(reply, 0, 4);
		memcpy(reply + (natt ? 4 : 0), out.msg, out.len);
		if (sendto(fd, reply, out.len + (natt ? 4 : 0), 0,
		    (struct sockaddr *)&from, fl) == -1)
			log_warn("sendto");
	}
	printf("STATE %016llx %s\n", (unsigned long long)spi_i,
	    ike_sa_state_name(ike_sa_state(sa)));
	if (ike_sa_state(sa) == IKE_SA_IDLE) {
		ike_sa_free(sa);
		*slot = NULL;
	}
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	static struct ike_prop ike[MAX_PROPS], esp[MAX_PROPS];
	char ike_s[] = "aes256gcm16-prfsha384-x25519,aes256-sha256-modp2048";
	char esp_s[] = "aes256gcm16,aes256-sha256";
	char *ike_l = ike_s, *esp_l = esp_s, err[IKE_POOL_ERR_MAX];
	const char *addr = NULL, *id = NULL, *pool_s = "10.10.0.0/24";
	const char *ts = "0.0.0.0/0";
	struct ike_endpoint local;
	struct ike_sa_conf conf;
	struct pollfd pfd[2];
	struct in_addr a, tsa;
	unsigned flags = 0;
	int ch, plen;
	size_t i;

	log_init("ikeresp", true, LOG_LEVEL_INFO);
	memset(&conf, 0, sizeof(conf));
	while ((ch = getopt(argc, argv, "l:k:i:r:P:I:E:t:d:c")) != -1) {
		switch (ch) {
		case 'l': addr = optarg; break;
		case 'k': psk_str = optarg; break;
		case 'i': id = optarg; break;
		case 'r': peer_id = optarg; break;
		case 'P': pool_s = optarg; break;
		case 'I': ike_l = optarg; break;
		case 'E': esp_l = optarg; break;
		case 't': ts = optarg; break;
		case 'c': flags |= IKE_SA_F_COOKIE; break;
		case 'd':
			if (conf.ndns < IKE_SA_DNS_MAX &&
			    inet_pton(AF_INET, optarg, &tsa) == 1)
				conf.dns[conf.ndns++] = ntohl(tsa.s_addr);
			break;
		default:
			fatalx("usage: see the comment in ikeresp.c");
		}
	}
	if (addr == NULL || psk_str == NULL || id == NULL || peer_id == NULL ||
	    inet_pton(AF_INET, addr, &a) != 1)
		fatalx("need -l ADDR -k PSK -i ID -r PEER_ID");
	conf.nike = parse_props(IKE_PROTO_IKE, ike_l, ike);
	conf.ike = ike;
	conf.nesp = parse_props(IKE_PROTO_ESP, esp_l, esp);
	conf.esp = esp;
	conf.id_type = IKE_ID_FQDN;
	conf.id = (const uint8_t *)id;
	conf.id_len = strlen(id);
	conf.psk = psk_lookup;
	if ((conf.pool = ike_pool_new(pool_s, err, sizeof(err))) == NULL)
		fatalx("pool: %s", err);
	{
		char tbuf[64], *slash;

		snprintf(tbuf, sizeof(tbuf), "%s", ts);
		if ((slash = strchr(tbuf, '/')) == NULL)
			fatalx("-t a.b.c.d/len");
		*slash = '\0';
		plen = atoi(slash + 1);
		if (inet_pton(AF_INET, tbuf, &tsa) != 1 || plen < 0 ||
		    plen > 32)
			fatalx("-t a.b.c.d/len");
		conf.local_ts.type = IKE_TS_IPV4_ADDR_RANGE;
		conf.local_ts.end_port = 0xffff;
		memcpy(conf.local_ts.start, &tsa, 4);
		tsa.s_addr |= plen == 0 ? 0xffffffffU :
		    htonl((uint32_t)((1ULL << (32 - plen)) - 1));
		memcpy(conf.local_ts.end, &tsa, 4);
	}
	if (getentropy(conf.cookie_secret, sizeof(conf.cookie_secret)) != 0)
		fatal("getentropy");
	memset(&local, 0, sizeof(local));
	local.family = 4;
	memcpy(local.addr, &a, 4);
	pfd[0].fd = bind_udp(a, 500);
	pfd[1].fd = bind_udp(a, 4500);
	pfd[0].events = pfd[1].events = POLLIN;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("READY %s\n", addr);
	fflush(stdout);
	while (!quit) {
		if (poll(pfd, 2, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				one(pfd[i].fd, i == 1, &conf, &local, flags);
	}
	for (i = 0; i < MAX_SAS; i++)
		ike_sa_free(sas[i]);
	ike_pool_free(conf.pool);
	close(pfd[0].fd);
	close(pfd[1].fd);
	return 0;
}
