/*
 * relay/handoff.c between two workers' relays in one process, each with
 * its own libev loop (turned by hand), its own session layer and a fake
 * backend that records what reaches it; the owner table and the channels
 * are the real ones (handoff_setup(), handoff_attach()).  A client is one
 * end of a socketpair whose other end goes to stream_accept() of the
 * worker it lands on, with a chosen peer address.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/prefix.h"
#include "relay/handoff.h"
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/route.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/worker.h"

TestSuite(handoff);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum {
	TURNS = 20,		/* loop turns per pump(): bounded */
	MAX_IN = 1024,		/* messages the fake backends record */
	MAX_CLIENTS = 16,
	MSG_MAX = 1200,
	BIG_N = 300,		/* messages of the large first read */
	BIG_LEN = 1000,
};

/* ---- two workers, each a relay with a fake backend ---- */

static struct relay R[2];

struct in_rec {
	int		 w;		/* worker */
	unsigned long long sess;
	bool		 probe;
	struct msg_info	 m;
	uint32_t	 seq;		/* ESP: its sequence number */
};

static struct in_rec ins[MAX_IN];
static size_t nins;
static unsigned opens[2], nopen[2];

static int
widx(const struct relay *r)
{
	return r == &R[0] ? 0 : 1;
}

static int
fake_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	s->be = malloc(16);
	cr_assert_not_null(s->be);
	opens[widx(s->r)]++;
	nopen[widx(s->r)]++;
	return 0;
}

static void
fake_close(struct session *s)
{
	free(s->be);
	s->be = NULL;
	nopen[widx(s->r)]--;
}

static void
fake_input(struct session *s, struct probe *p, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct in_rec *in;
		const uint8_t *b = msgs[i].iov_base;

		cr_assert_lt(nins, MAX_IN);
		in = &ins[nins++];
		in->w = widx(s->r);
		in->sess = s->id;
		in->probe = p != NULL;
		in->m = mi[i];
		in->seq = mi[i].kind == MSG_ESP ? (uint32_t)b[4] << 24 |
		    (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7] : 0;
	}
}

static int
fake_probe_open(struct session *s, struct probe *p)
{
	p->be = malloc(16);
	cr_assert_not_null(p->be);
	return 0;
}

static void
fake_probe_close(struct session *s, struct probe *p)
{
	free(p->be);
	p->be = NULL;
}

static void
fake_proven(struct session *s, struct probe *p)
{
	free(p->be);
	p->be = NULL;
}

static const struct session_backend fake_backend = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.input = fake_input,
	.probe_open = fake_probe_open,
	.probe_close = fake_probe_close,
	.proven = fake_proven,
};

static struct sockaddr_storage
ip4(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1, "%s", text);
	return ss;
}

static char tmpdir[64];
static char certpath[96], keypath[96];

/* A self-signed P-256 certificate for the TLS listener. */
static void
make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/iketcp-handoff-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	cr_assert_not_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"relay.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(certpath, sizeof(certpath), "%s/c.pem", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s/k.pem", tmpdir);
	cr_assert_not_null(f = fopen(certpath, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	cr_assert_not_null(f = fopen(keypath, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* Both workers with a [relay t] section (plain on :4430, TLS on :4431)
 * and an [integrated vpn] section on :4501, each with the fake backend. */
static void
start(void)
{
	static const char *const lines[] = {
		"[relay t]",
		"listen = 127.0.0.1:4430",
		"tls-listen = 127.0.0.1:4431",
		"gateway = 192.0.2.1",
		"linger = 30s",
		"default = yes",
		"[integrated vpn]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = /nonexistent",
		"pool = 10.10.0.0/24",
	};
	char cert[128], key[128];

	signal(SIGPIPE, SIG_IGN);
	log_init("handoff_test", true, getenv("HANDOFF_TEST_LOG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	memset(R, 0, sizeof(R));
	memset(opens, 0, sizeof(opens));
	memset(nopen, 0, sizeof(nopen));
	nins = 0;
	make_cert();
	snprintf(cert, sizeof(cert), "tls-cert = %s", certpath);
	snprintf(key, sizeof(key), "tls-key = %s", keypath);
	cr_assert_eq(keyhash_init(), 0);
	for (int w = 0; w < 2; w++) {
		struct relay *r = &R[w];
		struct conf_parser p;

		cr_assert_eq(conf_init(&p, "handoff.conf"), 0);
		for (size_t i = 0; i < NELEM(lines); i++) {
			cr_assert_eq(conf_line(&p, lines[i]), 0, "%s",
			    lines[i]);
			if (i == 2) {
				cr_assert_eq(conf_line(&p, cert), 0);
				cr_assert_eq(conf_line(&p, key), 0);
			}
		}
		r->conf = conf_finish(&p);
		cr_assert_not_null(r->conf, "the test's conf was rejected");
		r->loop = ev_loop_new(EVFLAG_AUTO);
		cr_assert_not_null(r->loop);
		r->rbuf = malloc(RELAY_READ_BUF);
		r->ubuf = malloc((size_t)RELAY_UDP_BATCH * RELAY_UDP_SLOT);
		r->cbuf = malloc(RELAY_READ_BUF);
		r->tbuf = malloc(RELAY_TLS_BUF);
		cr_assert(r->rbuf != NULL && r->ubuf != NULL &&
		    r->cbuf != NULL && r->tbuf != NULL);
		cr_assert_eq(session_layer_init(r), 0);
		cr_assert_eq(route_res_load(r, r->conf), 0);
		r->fds_max = 1000;
		r->backends[CONF_BACKEND_RELAY] = &fake_backend;
		r->backends[CONF_BACKEND_INTEGRATED] = &fake_backend;
		r->worker_id = (unsigned)w;
		r->nworkers = 2;
		cr_assert_eq(worker_map_init(r, r->conf), 0);
	}
	cr_assert_eq(handoff_setup(&R[0], 2), 0);
	cr_assert_eq(handoff_attach(&R[0], 0), 0);
	cr_assert_eq(handoff_attach(&R[1], 1), 0);
}

static void
pump_one(int w)
{
	for (int i = 0; i < TURNS; i++)
		ev_run(R[w].loop, EVRUN_NOWAIT);
}

static void
pump(void)
{
	for (int i = 0; i < TURNS; i++) {
		ev_run(R[0].loop, EVRUN_NOWAIT);
		ev_run(R[1].loop, EVRUN_NOWAIT);
	}
}

/* ---- clients ---- */

struct client {
	int		 fd;		/* our end */
	bool		 prefixed;
	SSL		*ssl;		/* a TLS client, or NULL */
	SSL_CTX		*ctx;
};

static struct client clients[MAX_CLIENTS];
static size_t nclients;

/* A client from @ip landing on worker @w at listen address @port. */
static struct client *
land(int w, const char *ip, uint16_t port)
{
	struct sockaddr_storage peer = ip4(ip, 40000 + (uint16_t)nclients);
	struct sockaddr_storage laddr = ip4("127.0.0.1", port);
	struct client *c;
	int sv[2];

	cr_assert_lt(nclients, MAX_CLIENTS);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	c = &clients[nclients++];
	memset(c, 0, sizeof(*c));
	c->fd = sv[0];
	stream_accept(&R[w], sv[1], &peer, &laddr);
	return c;
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A frame of ESP: SPI, sequence number, @len bytes in all. */
static size_t
esp_frame(uint8_t *b, uint32_t spi, uint32_t seq, size_t len)
{
	put_be(b, len + 2, 2);
	memset(b + 2, 0xa5, len);
	put_be(b + 2, spi, 4);
	put_be(b + 6, seq, 4);
	return len + 2;
}

enum {
	X_INIT = 34,
	X_AUTH = 35,
	X_INFO = 37,
	F_I = 0x08,
	F_R = IKE_FLAG_R,
};

/* A frame of IKE: marker, bare header. */
static size_t
ike_frame(uint8_t *b, uint64_t spi_i, uint64_t spi_r, uint8_t exchange,
    uint8_t flags, uint32_t msgid)
{
	uint8_t *m = b + 2;

	put_be(b, 2 + 4 + 28, 2);
	memset(m, 0, 4 + 28);
	put_be(m + 4, spi_i, 8);
	put_be(m + 12, spi_r, 8);
	m[21] = 0x20;
	m[22] = exchange;
	m[23] = flags;
	put_be(m + 24, msgid, 4);
	put_be(m + 28, 28, 4);
	return 2 + 4 + 28;
}

/* Writes all of @p..@n, the prefix first the first time, pumping both
 * loops while the socket is full. */
static void
client_write(struct client *c, const uint8_t *p, size_t n)
{
	if (!c->prefixed) {
		size_t plen = 0;
		const uint8_t *pfx = prefix_bytes(PREFIX_IKETCP, &plen);

		c->prefixed = true;
		client_write(c, pfx, plen);
	}
	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			size_t k = 0;

			if (SSL_write_ex(c->ssl, p, n, &k) != 1)
				k = 0;
			w = (ssize_t)k;
		} else
			w = send(c->fd, p, n, MSG_DONTWAIT);
		if (w < 0) {
			cr_assert(errno == EAGAIN, "send: %s",
			    strerror(errno));
			w = 0;
		}
		p += w;
		n -= (size_t)w;
		if (n > 0)
			pump();
	}
}

static void
send_esp(struct client *c, uint32_t spi, uint32_t seq)
{
	uint8_t b[64];

	client_write(c, b, esp_frame(b, spi, seq, 24));
	pump();
}

static void
send_ike(struct client *c, uint64_t spi_i, uint64_t spi_r, uint8_t exchange,
    uint8_t flags, uint32_t msgid)
{
	uint8_t b[64];

	client_write(c, b, ike_frame(b, spi_i, spi_r, exchange, flags,
	    msgid));
	pump();
}

static void
hangup(struct client *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		SSL_CTX_free(c->ctx);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	pump();
}

/* Bytes the client can read now (through TLS for a TLS client); 0 on
 * nothing, -1 at the end of the stream. */
static ssize_t
client_recv(struct client *c, uint8_t *buf, size_t cap)
{
	ssize_t n;

	if (c->ssl != NULL) {
		size_t k = 0;

		if (SSL_read_ex(c->ssl, buf, cap, &k) == 1)
			return (ssize_t)k;
		switch (SSL_get_error(c->ssl, 0)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 0;
		default:
			return -1;
		}
	}
	n = recv(c->fd, buf, cap, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n <= 0 ? -1 : n;
}

/* A TLS client of the :4431 listener of worker @w, handshake done. */
static struct client *
land_tls(int w, const char *ip)
{
	struct client *c = land(w, ip, 4431);
	int i;

	cr_assert_eq(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
	c->ctx = SSL_CTX_new(TLS_client_method());
	cr_assert_not_null(c->ctx);
	c->ssl = SSL_new(c->ctx);
	cr_assert_not_null(c->ssl);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	for (i = 0; i < 200; i++) {
		int rc = SSL_do_handshake(c->ssl);

		if (rc == 1)
			break;
		cr_assert(SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_READ ||
		    SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_WRITE,
		    "TLS handshake failed");
		pump();
	}
	cr_assert_lt(i, 200, "TLS handshake did not finish");
	return c;
}

/* ---- what the workers hold ---- */

static struct session *
only_session(int w)
{
	cr_assert_not_null(R[w].sessions, "worker %d has no session", w);
	cr_assert_null(R[w].sessions->anext, "worker %d has more", w);
	return R[w].sessions;
}

static unsigned
nstreams(int w)
{
	unsigned n = 0;

	for (const struct stream *st = R[w].streams; st != NULL;
	    st = st->anext)
		n++;
	return n;
}

/* Inputs from record @from on: the ESP sequence numbers worker @w got,
 * as the owner, for session @sess. */
static size_t
esp_seqs(size_t from, int w, unsigned long long sess, uint32_t *seq,
    size_t cap)
{
	size_t n = 0;

	for (size_t i = from; i < nins; i++)
		if (ins[i].w == w && ins[i].sess == sess && !ins[i].probe &&
		    ins[i].m.kind == MSG_ESP && n < cap)
			seq[n++] = ins[i].seq;
	return n;
}

/* One IKE message from @s's backend to its client; true when @c got it
 * within a few turns. */
static bool
deliver_reaches(struct session *s, struct client *c)
{
	uint8_t f[64], got[256];
	size_t len = ike_frame(f, 0x1111, 0x2222, X_INFO, F_R, 7), have = 0;
	struct iovec iov = { f + 2, len - 2 };
	bool is_ike = true;

	session_deliver(s, &iov, &is_ike, 1);
	for (int i = 0; i < 20 && have < len; i++) {
		ssize_t n;

		pump();
		n = client_recv(c, got + have, sizeof(got) - have);
		if (n < 0)
			return false;
		have += (size_t)n;
	}
	return have == len && memcmp(got, f, len) == 0;
}

static void
teardown(void)
{
	for (int w = 0; w < 2; w++)
		for (struct session *s = R[w].sessions; s != NULL;
		    s = s->anext)
			session_end(s, 0.);
	for (size_t i = 0; i < nclients; i++)
		if (clients[i].fd >= 0)
			hangup(&clients[i]);
	nclients = 0;
	pump();
	for (int w = 0; w < 2; w++) {
		struct relay *r = &R[w];

		cr_assert_eq(nopen[w], 0, "worker %d: sessions open", w);
		cr_assert_null(r->streams, "worker %d: a stream is left", w);
		cr_assert_eq(r->fds_used, 0, "worker %d: %u descriptors", w,
		    r->fds_used);
		cr_assert_eq(r->wbuf_total, 0, "worker %d: buffers held", w);
		handoff_detach(r);
		worker_map_free(r);
		session_layer_cleanup(r);
		stream_sections_free(r);
		route_res_free(r);
		conf_unref(r->conf);
		ev_loop_destroy(r->loop);
		free(r->rbuf);
		free(r->ubuf);
		free(r->cbuf);
		free(r->tbuf);
	}
	handoff_teardown();
	unlink(certpath);
	unlink(keypath);
	rmdir(tmpdir);
}

#define SPI_X	0xc0de0001u
#define SPI_I	0x0102030405060708ULL
#define SPI_R	0x1112131415161718ULL

/* ---- streams that land on the worker without the session ---- */

Test(handoff, esp_reattach_on_the_other_worker_reaches_the_owner,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a, *b;
	struct session *s;
	uint8_t buf[3 * 64];
	uint32_t seq[8];
	size_t n = 0, mark;

	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	s = only_session(0);
	cr_assert_eq(handoff_key_owner(&R[1], true, SPI_X, 0), 0,
	    "worker 1 sees the key as worker 0's");
	hangup(a);
	cr_assert_eq(s->state, SESSION_LINGER);
	/* The reconnect from the same address lands on worker 1, three
	 * messages in one read: all of them reach worker 0, in order. */
	mark = nins;
	b = land(1, "10.0.0.1", 4430);
	n += esp_frame(buf + n, SPI_X, 2, 24);
	n += esp_frame(buf + n, SPI_X, 3, 24);
	n += esp_frame(buf + n, SPI_X, 4, 24);
	client_write(b, buf, n);
	pump();
	cr_assert_eq(R[1].stats.handoff_out, 1);
	cr_assert_eq(R[1].stats.handoff_spliced, 0, "its socket went");
	cr_assert_eq(R[0].stats.handoff_in, 1);
	cr_assert_eq(R[0].stats.reattach_esp, 1);
	cr_assert_eq(opens[1], 0, "no session on worker 1");
	cr_assert_eq(nstreams(1), 0, "worker 1 holds nothing of it");
	cr_assert_eq(s->state, SESSION_LIVE);
	cr_assert_eq(esp_seqs(mark, 0, s->id, seq, 8), 3);
	cr_assert(seq[0] == 2 && seq[1] == 3 && seq[2] == 4);
	/* The client's socket is worker 0's now, both ways. */
	send_esp(b, SPI_X, 5);
	cr_assert_eq(esp_seqs(mark, 0, s->id, seq, 8), 4);
	cr_assert_eq(seq[3], 5);
	cr_assert(deliver_reaches(s, b));
}

Test(handoff, ike_reattach_from_another_address_probes_at_the_owner,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a, *b;
	struct session *s;

	a = land(0, "10.0.0.1", 4430);
	send_ike(a, SPI_I, 0, X_INIT, F_I, 0);
	send_ike(a, SPI_I, SPI_R, X_AUTH, F_I, 1);
	s = only_session(0);
	cr_assert_eq(handoff_key_owner(&R[1], false, SPI_I, SPI_R), 0);
	b = land(1, "10.9.9.9", 4430);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(R[1].stats.handoff_out, 1);
	cr_assert_eq(R[0].stats.probe_ike, 1, "a probe, as on worker 0");
	cr_assert_not_null(s->probes);
	cr_assert(ins[nins - 1].w == 0 && ins[nins - 1].probe &&
	    ins[nins - 1].m.msgid == 2, "the request went in as a probe's");
	/* Unproven, it gets nothing the session's owner gets. */
	cr_assert(deliver_reaches(s, a));
	cr_assert_eq(client_recv(b, (uint8_t[64]){ 0 }, 64), 0);
}

Test(handoff, a_stream_naming_nothing_stays_where_it_landed,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *b = land(1, "10.0.0.2", 4430);

	send_ike(b, SPI_I, 0, X_INIT, F_I, 0);
	cr_assert_eq(R[1].stats.handoff_out, 0);
	cr_assert_eq(opens[1], 1);
	cr_assert_eq(opens[0], 0);
	/* Its keys are worker 1's. */
	send_ike(b, SPI_I, SPI_R, X_AUTH, F_I, 1);
	cr_assert_eq(handoff_key_owner(&R[0], false, SPI_I, SPI_R), 1);
}

/*
 * First come keeps a key across workers too: a session on worker 1 that
 * sends another session's SPI does not get it, and a stream naming that
 * SPI on worker 1 still reaches worker 0.
 */
Test(handoff, another_workers_key_is_never_linked_here,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a, *m, *d;
	struct session *s;

	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	s = only_session(0);
	m = land(1, "10.6.6.6", 4430);
	send_ike(m, 0x6666, 0, X_INIT, F_I, 0);
	send_esp(m, SPI_X, 100);	/* the SPI it saw on the wire */
	cr_assert_eq(R[1].stats.handoff_foreign, 1);
	cr_assert_eq(handoff_key_owner(&R[1], true, SPI_X, 0), 0);
	hangup(a);
	d = land(1, "10.0.0.1", 4430);
	send_esp(d, SPI_X, 2);
	cr_assert_eq(R[1].stats.handoff_out, 1);
	cr_assert_eq(R[0].stats.reattach_esp, 1);
	cr_assert_eq(s->state, SESSION_LIVE);
	cr_assert(deliver_reaches(s, d));
}

Test(handoff, a_stream_is_handed_over_once_only,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a;

	/* Worker 1 is said to hold a key it has no session for. */
	cr_assert(handoff_key_claim(&R[1], true, SPI_X, 0));
	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	cr_assert_eq(R[0].stats.handoff_out, 1);
	cr_assert_eq(R[1].stats.handoff_in, 1);
	cr_assert_eq(R[1].stats.handoff_out, 0, "not handed on");
	cr_assert_eq(opens[1], 1, "a new session where it was taken");
	cr_assert_eq(opens[0], 0);
	cr_assert(deliver_reaches(only_session(1), a));
}

Test(handoff, keys_are_forgotten_when_their_session_ends,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a = land(0, "10.0.0.1", 4430);

	send_esp(a, SPI_X, 1);
	cr_assert_eq(handoff_key_owner(&R[1], true, SPI_X, 0), 0);
	session_end(only_session(0), 0.);
	pump();
	cr_assert_eq(handoff_key_owner(&R[1], true, SPI_X, 0), -1);
}

/* All of a first read of 300 kB (more than one read of the relay, more
 * than the socket buffers): the part worker 1 read goes in the message,
 * the rest stays on the socket; worker 0 gets every message in order. */
Test(handoff, a_large_first_read_arrives_whole_and_in_order,
    .init = start, .fini = teardown, .timeout = 30)
{
	static uint8_t big[BIG_N * (BIG_LEN + 2)];
	static uint32_t seq[BIG_N + 1];
	struct client *a, *b;
	struct session *s;
	size_t n = 0, got, mark;

	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	s = only_session(0);
	hangup(a);
	mark = nins;
	for (uint32_t i = 0; i < BIG_N; i++)
		n += esp_frame(big + n, SPI_X, 2 + i, BIG_LEN);
	b = land(1, "10.0.0.1", 4430);
	/* The relay reads nothing until the loops turn: the first read is
	 * as large as the socket buffer holds. */
	client_write(b, big, n);
	for (int i = 0; i < 20; i++)
		pump();
	cr_assert_eq(R[1].stats.handoff_out, 1);
	got = esp_seqs(mark, 0, s->id, seq, NELEM(seq));
	cr_assert_eq(got, BIG_N, "worker 0 got %zu of %d", got, BIG_N);
	for (uint32_t i = 0; i < BIG_N; i++)
		cr_assert_eq(seq[i], 2 + i, "message %u is %u", i, seq[i]);
}

/* TLS cannot move: worker 1 keeps it and splices the plaintext to
 * worker 0, both ways, and the two ends close together. */
Test(handoff, a_tls_stream_is_spliced_to_the_owner,
    .init = start, .fini = teardown, .timeout = 30)
{
	struct client *a, *b;
	struct session *s;
	uint8_t buf[2 * 64];
	uint32_t seq[8];
	size_t n = 0, mark;

	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	s = only_session(0);
	hangup(a);
	mark = nins;
	b = land_tls(1, "10.0.0.1");
	n += esp_frame(buf + n, SPI_X, 2, 24);
	n += esp_frame(buf + n, SPI_X, 3, 24);
	client_write(b, buf, n);
	pump();
	cr_assert_eq(R[1].stats.handoff_spliced, 1);
	cr_assert_eq(R[0].stats.handoff_in, 1);
	cr_assert_eq(R[0].stats.reattach_esp, 1);
	cr_assert_eq(nstreams(1), 1, "the TLS stream stays on worker 1");
	cr_assert_eq(R[1].streams->state, STREAM_SPLICE);
	cr_assert_eq(esp_seqs(mark, 0, s->id, seq, 8), 2);
	send_esp(b, SPI_X, 4);
	cr_assert_eq(esp_seqs(mark, 0, s->id, seq, 8), 3);
	cr_assert(seq[0] == 2 && seq[1] == 3 && seq[2] == 4);
	cr_assert(deliver_reaches(s, b), "worker 0's frame through TLS");
	hangup(b);
	cr_assert_eq(nstreams(1), 0);
	cr_assert_eq(nstreams(0), 0, "worker 0's end closed with it");
	cr_assert_eq(s->state, SESSION_LINGER);
}

/* A worker that died: its keys are nobody's, what was in flight to it
 * is closed, and a stream naming its session starts a new one here. */
Test(handoff, a_dead_owners_keys_and_streams_in_flight_go,
    .init = start, .fini = teardown, .timeout = 20)
{
	struct client *a, *b, *c;
	uint8_t tmp[64];

	a = land(0, "10.0.0.1", 4430);
	send_esp(a, SPI_X, 1);
	hangup(a);
	/* In flight: handed to worker 0, which does not read. */
	b = land(1, "10.0.0.1", 4430);
	client_write(b, tmp, esp_frame(tmp, SPI_X, 2, 24));
	pump_one(1);
	cr_assert_eq(R[1].stats.handoff_out, 1);
	handoff_gone(&R[0], 0);
	cr_assert_eq(client_recv(b, tmp, sizeof(tmp)), -1, "closed");
	cr_assert_eq(handoff_key_owner(&R[1], true, SPI_X, 0), -1);
	c = land(1, "10.0.0.1", 4430);
	send_esp(c, SPI_X, 3);
	cr_assert_eq(R[1].stats.handoff_out, 1, "not handed to the dead");
	cr_assert_eq(opens[1], 1);
	pump();
	cr_assert_eq(R[0].stats.handoff_in, 0);
}

/* An integrated section runs in one worker: a stream routed to it that
 * lands on another is handed over, even one naming no session. */
Test(handoff, a_stream_of_a_section_another_worker_runs_goes_there,
    .init = start, .fini = teardown, .timeout = 20)
{
	const struct conf_relay *cr = &R[0].conf->relays[1];
	unsigned own = worker_owner(&R[0], cr);
	struct client *b;

	cr_assert_str_eq(cr->name, "vpn");
	b = land(1 - (int)own, "10.0.0.3", 4501);
	send_ike(b, SPI_I, 0, X_INIT, F_I, 0);
	cr_assert_eq(R[1 - own].stats.handoff_out, 1);
	cr_assert_eq(R[own].stats.handoff_in, 1);
	cr_assert_eq(opens[own], 1);
	cr_assert_eq(opens[1 - own], 0);
	cr_assert(deliver_reaches(only_session((int)own), b));
}
