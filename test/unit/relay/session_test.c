/*
 * relay/session.c driven through real streams, without root or network
 * namespaces: each client is one end of a socketpair(2) whose other end
 * is handed to stream_accept() with a chosen peer address, a private
 * libev loop is turned by hand (a bounded number of EVRUN_NOWAIT turns),
 * and the [relay] section's backend is a fake that records every call
 * the session layer makes (open, input as owner or probe, probe_open,
 * probe_close, proven, close) instead of opening UDP sockets.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/prefix.h"
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"

TestSuite(session);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum {
	TURNS = 20,		/* loop turns per pump(): bounded */
	MAX_CALLS = 512,
	MAX_SESSIONS = 64,
	MAX_CLIENTS = 64,
	MSG_MAX = 256,
};

/* ---- the fake backend ---- */

enum call_kind {
	C_OPEN,
	C_INPUT,		/* backend input() entered */
	C_INPUT_END,		/* ... and returned (after the hook) */
	C_PROBE_OPEN,
	C_PROBE_CLOSE,
	C_PROVEN,
	C_CLOSE,
};

struct call {
	enum call_kind	 kind;
	unsigned long long sess;	/* session id */
	unsigned long long stream;	/* the stream concerned, or 0 */
	const struct probe *p;		/* probe, or NULL (owner) */
	size_t		 n;		/* input: messages */
	struct msg_info	 m;		/* input, open: the first message */
};

static struct call calls[MAX_CALLS];
static size_t ncalls;
/* Sessions the fake holds backend state for, by session id. */
static struct session *sessions[MAX_SESSIONS];
/* Runs inside input(), between C_INPUT and C_INPUT_END. */
static void (*input_hook)(struct session *s, struct probe *p);

static void
record(enum call_kind kind, const struct session *s, unsigned long long st,
    const struct probe *p, size_t n, const struct msg_info *m)
{
	struct call *c;

	cr_assert_lt(ncalls, MAX_CALLS, "too many backend calls");
	c = &calls[ncalls++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->sess = s->id;
	c->stream = st;
	c->p = p;
	c->n = n;
	if (m != NULL)
		c->m = *m;
}

static int
fake_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	cr_assert_lt(s->id, MAX_SESSIONS);
	cr_assert_null(sessions[s->id], "session id %llu opened twice", s->id);
	/* Real memory, so that ASan sees a double close or a leak. */
	s->be = malloc(16);
	cr_assert_not_null(s->be);
	sessions[s->id] = s;
	record(C_OPEN, s, st->id, NULL, 0, m);
	return 0;
}

static void
fake_close(struct session *s)
{
	record(C_CLOSE, s, 0, NULL, 0, NULL);
	cr_assert_eq(sessions[s->id], s, "close of a session not open");
	sessions[s->id] = NULL;
	free(s->be);
	s->be = NULL;
}

static void
fake_input(struct session *s, struct probe *p, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	unsigned long long st = p != NULL ? p->st->id :
	    s->owner != NULL ? s->owner->id : 0;

	record(C_INPUT, s, st, p, n, &mi[0]);
	if (input_hook != NULL)
		input_hook(s, p);
	record(C_INPUT_END, s, st, p, n, &mi[0]);
}

static int
fake_probe_open(struct session *s, struct probe *p)
{
	p->be = malloc(16);
	cr_assert_not_null(p->be);
	record(C_PROBE_OPEN, s, p->st->id, p, 0, NULL);
	return 0;
}

static void
fake_probe_close(struct session *s, struct probe *p)
{
	record(C_PROBE_CLOSE, s, p->st != NULL ? p->st->id : 0, p, 0, NULL);
	free(p->be);
	p->be = NULL;
}

/* As the UDP backend: the probe's state becomes the session's. */
static void
fake_proven(struct session *s, struct probe *p)
{
	record(C_PROVEN, s, p->st->id, p, 0, NULL);
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

/* Calls of @kind for session @sess (0: any session). */
static unsigned
count(enum call_kind kind, unsigned long long sess)
{
	unsigned n = 0;

	for (size_t i = 0; i < ncalls; i++)
		n += calls[i].kind == kind && (sess == 0 ||
		    calls[i].sess == sess);
	return n;
}

/* Index of the first call of @kind for @sess, or -1. */
static long
find_call(enum call_kind kind, unsigned long long sess)
{
	for (size_t i = 0; i < ncalls; i++)
		if (calls[i].kind == kind && calls[i].sess == sess)
			return (long)i;
	return -1;
}

/* The last input() call, which must exist. */
static const struct call *
last_input(void)
{
	for (size_t i = ncalls; i-- > 0;)
		if (calls[i].kind == C_INPUT)
			return &calls[i];
	cr_assert_fail("no input() call");
	return NULL;
}

/* ---- the process around the session layer (relay/main.c) ---- */

static struct relay r;
static struct sockaddr_storage laddr;

struct client {
	int		 fd;		/* our end of the socketpair */
	unsigned long long id;		/* the stream's id */
	bool		 prefixed;	/* "IKETCP" sent */
};

static struct client clients[MAX_CLIENTS];
static size_t nclients;

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

/* Starts the relay with a [relay t] section of the base lines and
 * @extra (its keys), the fake as its backend. */
static void
start(const char *const *extra, size_t nextra)
{
	static const char *const base[] = {
		"[relay t]",
		"listen = 127.0.0.1:4430",
		"gateway = 192.0.2.1",
	};
	struct conf_parser p;

	signal(SIGPIPE, SIG_IGN);
	log_init("session_test", true, getenv("SESSION_TEST_LOG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
	memset(&r, 0, sizeof(r));
	memset(calls, 0, sizeof(calls));
	memset(sessions, 0, sizeof(sessions));
	ncalls = nclients = 0;
	input_hook = NULL;
	cr_assert_eq(conf_init(&p, "session.conf"), 0);
	for (size_t i = 0; i < NELEM(base); i++)
		cr_assert_eq(conf_line(&p, base[i]), 0, "%s", base[i]);
	for (size_t i = 0; i < nextra; i++)
		cr_assert_eq(conf_line(&p, extra[i]), 0, "%s", extra[i]);
	r.conf = conf_finish(&p);
	cr_assert_not_null(r.conf, "the test's conf was rejected");
	laddr = ip4("127.0.0.1", 4430);
	r.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(r.loop);
	r.rbuf = malloc(RELAY_READ_BUF);
	r.ubuf = malloc((size_t)RELAY_UDP_BATCH * RELAY_UDP_SLOT);
	r.cbuf = malloc(RELAY_READ_BUF);
	r.tbuf = malloc(RELAY_TLS_BUF);
	cr_assert(r.rbuf != NULL && r.ubuf != NULL && r.cbuf != NULL &&
	    r.tbuf != NULL);
	cr_assert_eq(keyhash_init(), 0);
	cr_assert_eq(session_layer_init(&r), 0);
	r.fds_max = 1000;
	r.backends[CONF_BACKEND_RELAY] = &fake_backend;
}

#define START(...) start((const char *const[]){ __VA_ARGS__ },		\
	NELEM(((const char *const[]){ __VA_ARGS__ })))

/* The one [relay] section, writable (keys the parser does not know yet
 * are set here). */
static struct conf_relay *
section(void)
{
	return &r.conf->relays[0];
}

static void
pump(void)
{
	for (int i = 0; i < TURNS; i++)
		ev_run(r.loop, EVRUN_NOWAIT);
}

/* Turns the loop until @secs have passed (bounded by the test's
 * .timeout), sleeping a millisecond between turns. */
static void
spin(double secs)
{
	ev_tstamp until = ev_time() + secs;

	while (ev_time() < until) {
		ev_run(r.loop, EVRUN_NOWAIT);
		usleep(1000);
	}
	pump();
}

/* A client stream from @ip:@port. */
static struct client *
connect_from(const char *ip, uint16_t port)
{
	struct sockaddr_storage peer = ip4(ip, port);
	struct client *c;
	int sv[2];

	cr_assert_lt(nclients, MAX_CLIENTS);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	c = &clients[nclients++];
	c->fd = sv[0];
	c->prefixed = false;
	stream_accept(&r, sv[1], &peer, &laddr);
	c->id = r.next_stream_id;
	return c;
}

/* Frames @len bytes of @msg (after the prefix, the first time) and runs
 * the loop so that the relay reads it. */
static void
client_send(struct client *c, const uint8_t *msg, size_t len)
{
	uint8_t buf[PREFIX_MAX_LEN + 2 + MSG_MAX];
	const uint8_t *pfx;
	size_t n = 0, plen;

	cr_assert_leq(len, MSG_MAX);
	if (!c->prefixed) {
		pfx = prefix_bytes(PREFIX_IKETCP, &plen);
		memcpy(buf, pfx, plen);
		n = plen;
		c->prefixed = true;
	}
	buf[n++] = (uint8_t)((len + 2) >> 8);
	buf[n++] = (uint8_t)(len + 2);
	memcpy(buf + n, msg, len);
	n += len;
	cr_assert_eq(write(c->fd, buf, n), (ssize_t)n, "write: %s",
	    strerror(errno));
	pump();
}

/* The client closes its end; the relay sees the end of the stream. */
static void
client_hangup(struct client *c)
{
	cr_assert_geq(c->fd, 0);
	close(c->fd);
	c->fd = -1;
	pump();
}

enum rx { RX_NOTHING, RX_DATA, RX_EOF };

/* What the client can read now; data goes to @buf (may be NULL). */
static enum rx
client_recv(struct client *c, uint8_t *buf, size_t cap, size_t *got)
{
	uint8_t scratch[4096];
	ssize_t n;

	cr_assert_geq(c->fd, 0);
	if (buf == NULL) {
		buf = scratch;
		cap = sizeof(scratch);
	}
	n = recv(c->fd, buf, cap, MSG_DONTWAIT);
	if (got != NULL)
		*got = n > 0 ? (size_t)n : 0;
	if (n > 0)
		return RX_DATA;
	/* Closed with our bytes unread: a reset. */
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return RX_EOF;
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "recv: %s",
	    strerror(errno));
	return RX_NOTHING;
}

static bool
client_closed(struct client *c)
{
	uint8_t buf[4096];

	/* Data the relay sent before closing comes first. */
	for (;;)
		switch (client_recv(c, buf, sizeof(buf), NULL)) {
		case RX_DATA:
			continue;
		case RX_EOF:
			return true;
		case RX_NOTHING:
			return false;
		}
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A stream frame's IKE message: non-ESP marker, bare IKE header. */
static size_t
ike(uint8_t *b, uint64_t spi_i, uint64_t spi_r, uint8_t exchange,
    uint8_t flags, uint32_t msgid)
{
	memset(b, 0, 4 + 28);
	put_be(b + 4, spi_i, 8);
	put_be(b + 12, spi_r, 8);
	b[20] = 0;		/* next payload: none */
	b[21] = 0x20;		/* version 2.0 */
	b[22] = exchange;
	b[23] = flags;
	put_be(b + 24, msgid, 4);
	put_be(b + 28, 28, 4);	/* length of the IKE message */
	return 4 + 28;
}

/* An ESP message of 24 bytes: SPI, sequence number, payload. */
static size_t
esp(uint8_t *b, uint32_t spi, uint32_t seq)
{
	memset(b, 0xa5, 24);
	put_be(b, spi, 4);
	put_be(b + 4, seq, 4);
	return 24;
}

enum {
	X_INIT = 34,		/* IKE_SA_INIT */
	X_AUTH = 35,		/* IKE_AUTH */
	X_INFO = 37,		/* INFORMATIONAL */
	F_I = 0x08,		/* original initiator */
	F_R = IKE_FLAG_R,	/* response */
};

static void
send_esp(struct client *c, uint32_t spi, uint32_t seq)
{
	uint8_t b[MSG_MAX];

	client_send(c, b, esp(b, spi, seq));
}

static void
send_ike(struct client *c, uint64_t spi_i, uint64_t spi_r, uint8_t exchange,
    uint8_t flags, uint32_t msgid)
{
	uint8_t b[MSG_MAX];

	client_send(c, b, ike(b, spi_i, spi_r, exchange, flags, msgid));
}

/* An IKE message with a body of 8 octets of @fill (an SK payload to the
 * relay, which cannot read it): a forgery and a genuine request with one
 * message ID differ only there. */
static void
send_ike_body(struct client *c, uint64_t spi_i, uint64_t spi_r,
    uint8_t exchange, uint8_t flags, uint32_t msgid, uint8_t fill)
{
	uint8_t b[MSG_MAX];
	size_t n = ike(b, spi_i, spi_r, exchange, flags, msgid);

	b[20] = 46;			/* next payload: SK */
	put_be(b + 28, 28 + 12, 4);	/* IKE length */
	memset(b + n, 0, 4);
	put_be(b + n + 2, 12, 2);	/* SK payload length */
	memset(b + n + 4, fill, 8);
	client_send(c, b, n + 12);
}

/* The live session (backend state held) with id @id. */
static struct session *
sess(unsigned long long id)
{
	cr_assert_lt(id, MAX_SESSIONS);
	cr_assert_not_null(sessions[id], "session %llu is not open", id);
	return sessions[id];
}

/* The session whose first stream was @c. */
static unsigned long long
session_of(const struct client *c)
{
	for (size_t i = 0; i < ncalls; i++)
		if (calls[i].kind == C_OPEN && calls[i].stream == c->id)
			return calls[i].sess;
	cr_assert_fail("stream %llu started no session", c->id);
	return 0;
}

/* @s's probe on @c's stream, or NULL. */
static struct probe *
probe_on(const struct session *s, const struct client *c)
{
	for (struct probe *p = s->probes; p != NULL; p = p->next)
		if (p->st != NULL && p->st->id == c->id)
			return p;
	return NULL;
}

static unsigned
nprobes(const struct session *s)
{
	unsigned n = 0;

	for (const struct probe *p = s->probes; p != NULL; p = p->next)
		n++;
	return n;
}

/* session_deliver() of one IKE message to @s; true when @c got it. */
static bool
deliver_reaches(struct session *s, struct client *c)
{
	uint8_t msg[MSG_MAX], got[MSG_MAX + 2];
	size_t len = ike(msg, 0x1111, 0x2222, X_INFO, F_R, 7), n;
	struct iovec iov = { msg, len };
	bool is_ike = true;

	session_deliver(s, &iov, &is_ike, 1);
	pump();
	if (client_recv(c, got, sizeof(got), &n) != RX_DATA)
		return false;
	cr_assert_eq(n, len + 2, "one frame, got %zu bytes", n);
	cr_assert_eq((size_t)(got[0] << 8 | got[1]), len + 2);
	cr_assert_arr_eq(got + 2, msg, len);
	return true;
}

/* Every session ends, every stream closes, nothing is left. */
static void
teardown(void)
{
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i] != NULL)
			session_end(sessions[i], 0.);
	for (size_t i = 0; i < nclients; i++)
		if (clients[i].fd >= 0) {
			close(clients[i].fd);
			clients[i].fd = -1;
		}
	pump();
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		cr_assert_null(sessions[i], "session %zu not closed", i);
	cr_assert_eq(r.nsessions, 0, "sessions left: %u", r.nsessions);
	cr_assert_eq(r.fds_used, 0, "descriptors left: %u", r.fds_used);
	cr_assert_eq(r.nspis, 0, "SPI table entries left: %zu", r.nspis);
	cr_assert_null(r.sessions, "a session is still listed");
	cr_assert_null(r.streams, "a stream is still listed");
	session_layer_cleanup(&r);
	stream_sections_free(&r);
	conf_unref(r.conf);
	ev_loop_destroy(r.loop);
	free(r.rbuf);
	free(r.ubuf);
	free(r.cbuf);
	free(r.tbuf);
}

/* The IKE SA both streams of a test talk about. */
#define SPI_I	0x0102030405060708ULL
#define SPI_R	0x1112131415161718ULL

/* @c starts a session and makes its SA's SPI pair known the way the
 * owner's traffic does: IKE_SA_INIT request, then IKE_AUTH request
 * (message ID 1) with SPIr set. */
static unsigned long long
establish(struct client *c, uint64_t spi_i, uint64_t spi_r)
{
	send_ike(c, spi_i, 0, X_INIT, F_I, 0);
	send_ike(c, spi_i, spi_r, X_AUTH, F_I, 1);
	return session_of(c);
}

/* ---- 1. a stream's first message ---- */

Test(session, first_esp_message_starts_a_session_as_its_owner,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	const struct call *in;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	cr_assert_eq(count(C_OPEN, 0), 0, "no session before a message");
	send_esp(a, 0xc0de0001, 1);
	cr_assert_eq(count(C_OPEN, 0), 1);
	id = session_of(a);
	cr_assert_eq(calls[find_call(C_OPEN, id)].m.kind, MSG_ESP);
	in = last_input();
	cr_assert_eq(in->sess, id);
	cr_assert_null(in->p, "input as owner, not as a probe");
	cr_assert_eq(in->stream, a->id);
	cr_assert_eq(in->n, 1);
	cr_assert_eq(in->m.esp_spi, 0xc0de0001);
	cr_assert_eq(sess(id)->state, SESSION_LIVE);
	cr_assert_eq(sess(id)->owner->id, a->id);
	cr_assert_eq(sess(id)->owner->state, STREAM_FRAMES);
	cr_assert_eq(r.nsessions, 1);
	/* The next message goes to the same session. */
	send_esp(a, 0xc0de0001, 2);
	cr_assert_eq(count(C_OPEN, 0), 1);
	cr_assert_eq(count(C_INPUT, id), 2);
	cr_assert_null(last_input()->p);
}

Test(session, first_ike_message_starts_a_session_as_its_owner,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	const struct call *in;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	send_ike(a, SPI_I, 0, X_INIT, F_I, 0);
	cr_assert_eq(count(C_OPEN, 0), 1);
	id = session_of(a);
	in = last_input();
	cr_assert_eq(in->sess, id);
	cr_assert_null(in->p);
	cr_assert_eq(in->m.kind, MSG_IKE);
	cr_assert_eq(in->m.spi_i, SPI_I);
	cr_assert_eq(count(C_PROBE_OPEN, 0), 0);
	cr_assert(deliver_reaches(sess(id), a));
}

/* ---- 2. owner gone: linger, re-attach by ESP, probes ---- */

Test(session, owner_closing_leaves_the_session_lingering,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	client_hangup(a);
	cr_assert_eq(count(C_CLOSE, id), 0, "closed instead of lingering");
	cr_assert_eq(sess(id)->state, SESSION_LINGER);
	cr_assert_null(sess(id)->owner);
	cr_assert_eq(r.lingering, sess(id));
	cr_assert_eq(r.nsessions, 1);
}

Test(session, esp_from_the_same_address_reattaches_at_once,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	const struct call *in;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	client_hangup(a);
	b = connect_from("10.0.0.1", 40002);	/* same IP, new port */
	send_esp(b, 0xc0de0001, 2);
	cr_assert_eq(count(C_OPEN, 0), 1, "a new session instead");
	cr_assert_eq(count(C_PROBE_OPEN, 0), 0, "a probe instead");
	in = last_input();
	cr_assert_eq(in->sess, id);
	cr_assert_null(in->p, "input as owner");
	cr_assert_eq(in->stream, b->id);
	cr_assert_eq(sess(id)->state, SESSION_LIVE);
	cr_assert_eq(sess(id)->owner->id, b->id);
	cr_assert_null(r.lingering);
	cr_assert(deliver_reaches(sess(id), b));
}

Test(session, esp_from_another_address_only_probes,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *m;
	const struct call *in;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	client_hangup(a);
	m = connect_from("10.0.0.66", 40002);
	send_esp(m, 0xc0de0001, 2);
	cr_assert_eq(count(C_OPEN, 0), 1, "a new session instead");
	cr_assert_eq(count(C_PROBE_OPEN, id), 1);
	in = last_input();
	cr_assert_eq(in->sess, id);
	cr_assert_not_null(in->p, "input as owner from another address");
	cr_assert_eq(in->p, probe_on(sess(id), m));
	cr_assert_eq(in->stream, m->id);
	cr_assert_null(sess(id)->owner);
	cr_assert_eq(sess(id)->state, SESSION_LINGER);
	cr_assert_not(deliver_reaches(sess(id), m),
	    "session_deliver reached a probe");
	cr_assert_not(client_closed(m));
	/* The client's own address still re-attaches; the probe stays. */
	a = connect_from("10.0.0.1", 40003);
	send_esp(a, 0xc0de0001, 3);
	cr_assert_eq(sess(id)->owner->id, a->id);
	cr_assert_not_null(probe_on(sess(id), m));
	cr_assert(deliver_reaches(sess(id), a));
	cr_assert_not(deliver_reaches(sess(id), m));
}

Test(session, esp_from_the_same_address_probes_while_the_owner_lives,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	b = connect_from("10.0.0.1", 40002);
	send_esp(b, 0xc0de0001, 2);
	cr_assert_eq(sess(id)->owner->id, a->id, "owner taken without proof");
	cr_assert_not_null(probe_on(sess(id), b));
	cr_assert_not(client_closed(a));
	cr_assert(deliver_reaches(sess(id), a));
	cr_assert_not(deliver_reaches(sess(id), b));
}

/* ---- 3. IKE SPI pairs ---- */

Test(session, ike_spi_pair_from_the_owner_names_the_session_for_a_probe,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	const struct call *in;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	client_hangup(a);
	/* Even from the client's own address: IKE always proves. */
	b = connect_from("10.0.0.1", 40002);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(count(C_OPEN, 0), 1, "a new session instead");
	cr_assert_eq(count(C_PROBE_OPEN, id), 1);
	in = last_input();
	cr_assert_eq(in->sess, id);
	cr_assert_not_null(in->p);
	cr_assert_eq(in->stream, b->id);
	cr_assert_null(sess(id)->owner);
	cr_assert_not(deliver_reaches(sess(id), b));
}

Test(session, ike_sa_init_request_never_reattaches,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	client_hangup(a);
	/* The same SPIi, SPIr 0, from the same address. */
	b = connect_from("10.0.0.1", 40002);
	send_ike(b, SPI_I, 0, X_INIT, F_I, 0);
	cr_assert_eq(count(C_OPEN, 0), 2, "IKE_SA_INIT re-attached");
	cr_assert_eq(count(C_PROBE_OPEN, 0), 0);
	cr_assert_neq(session_of(b), id);
	cr_assert_null(last_input()->p);
	cr_assert_eq(sess(id)->state, SESSION_LINGER);
}

Test(session, unknown_ike_spi_pair_starts_a_session,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	(void)establish(a, SPI_I, SPI_R);
	b = connect_from("10.0.0.2", 40002);
	send_ike(b, SPI_I, SPI_R + 1, X_INFO, F_I, 2);
	cr_assert_eq(count(C_OPEN, 0), 2);
	cr_assert_eq(count(C_PROBE_OPEN, 0), 0);
}

/* ---- 4. probes are never evicted by other probes ---- */

Test(session, many_probes_stay_until_the_handshake_timeout,
    .fini = teardown, .timeout = 20)
{
	enum { N = 12 };
	struct client *a, *m[N];
	unsigned long long id;
	ev_tstamp t0;
	char ip[32];

	START("linger = 30s", "handshake-timeout = 2s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	t0 = ev_time();
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "10.0.4.%d", i + 1);
		m[i] = connect_from(ip, 50000);
		if (i % 3 == 0)
			send_esp(m[i], 0xbad00000 + (uint32_t)i, 1); /* new */
		else
			send_ike(m[i], SPI_I, SPI_R, X_INFO, F_I,
			    2 + (uint32_t)i);
	}
	/* The ESP ones started sessions of their own. */
	cr_assert_eq(count(C_OPEN, 0), 1 + 4);
	cr_assert_eq(count(C_PROBE_OPEN, id), N - 4);
	/* Just before the deadline: every probe is still there. */
	spin(t0 + 1.5 - ev_time());
	cr_assert_eq(count(C_PROBE_CLOSE, id), 0, "a probe was evicted");
	cr_assert_eq(nprobes(sess(id)), N - 4);
	for (int i = 0; i < N; i++)
		cr_assert_not(client_closed(m[i]), "stream %d closed", i);
	/* Past it, every probe is closed; the owner and the session stay. */
	spin(t0 + 2.6 - ev_time());
	cr_assert_eq(count(C_PROBE_CLOSE, id), N - 4);
	cr_assert_eq(nprobes(sess(id)), 0);
	for (int i = 0; i < N; i++)
		if (i % 3 != 0)
			cr_assert(client_closed(m[i]), "probe %d open", i);
	cr_assert_not(client_closed(a));
	cr_assert_eq(sess(id)->owner->id, a->id);
	cr_assert_eq(count(C_CLOSE, id), 0);
}

/* ---- 5. session_prove ---- */

Test(session, proven_probe_becomes_the_owner_and_the_old_owner_goes,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *p1, *p2;
	struct probe *p;
	struct session *s;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	s = sess(id);
	p1 = connect_from("10.0.0.2", 40002);
	send_ike(p1, SPI_I, SPI_R, X_INFO, F_I, 2);
	p2 = connect_from("10.0.0.3", 40003);
	send_ike(p2, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(nprobes(s), 2);
	cr_assert_not_null(p = probe_on(s, p1));
	cr_assert_eq(last_input()->p, probe_on(s, p2));
	session_prove(s, p, "test");
	pump();
	cr_assert_eq(count(C_PROVEN, id), 1);
	cr_assert_eq(s->owner->id, p1->id);
	cr_assert_eq(s->state, SESSION_LIVE);
	cr_assert(client_closed(a), "the previous owner is still open");
	cr_assert_eq(nprobes(s), 1, "the other probe went too");
	cr_assert_not_null(probe_on(s, p2));
	cr_assert_not(client_closed(p2));
	cr_assert_eq(count(C_CLOSE, id), 0);
	cr_assert_eq(r.stats.proven, 1);
	cr_assert(deliver_reaches(s, p1));
	cr_assert_not(deliver_reaches(s, p2));
	/* The proven stream's messages are the owner's now. */
	send_ike(p1, SPI_I, SPI_R, X_INFO, F_I, 3);
	cr_assert_null(last_input()->p);
	cr_assert_eq(last_input()->stream, p1->id);
}

Test(session, proving_a_lingering_session_ends_its_linger,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	struct session *s;
	unsigned long long id;

	START("linger = 1s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	s = sess(id);
	client_hangup(a);
	b = connect_from("10.0.0.2", 40002);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	session_prove(s, probe_on(s, b), "test");
	cr_assert_eq(s->state, SESSION_LIVE);
	cr_assert_null(r.lingering);
	spin(1.3);
	cr_assert_eq(count(C_CLOSE, id), 0, "freed by the old linger timer");
	cr_assert(deliver_reaches(sess(id), b));
}

/* The integrated backend proves a probe from inside its input(). */
static void
prove_in_input(struct session *s, struct probe *p)
{
	if (p != NULL)
		session_prove(s, p, "test, inside input()");
}

Test(session, probe_proven_inside_its_own_input_is_the_owner_after,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	struct session *s;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	s = sess(id);
	b = connect_from("10.0.0.2", 40002);
	input_hook = prove_in_input;
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	input_hook = NULL;
	cr_assert_eq(count(C_PROVEN, id), 1);
	cr_assert_eq(s->owner->id, b->id);
	cr_assert_null(s->probes);
	cr_assert(client_closed(a));
	cr_assert(deliver_reaches(s, b));
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 3);
	cr_assert_null(last_input()->p);
}

Test(session, session_end_frees_later_and_closes_owner_and_probes,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	struct session *s;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	s = sess(id);
	b = connect_from("10.0.0.2", 40002);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	session_end(s, 0.);
	cr_assert_eq(s->state, SESSION_DEAD);
	cr_assert_eq(count(C_CLOSE, id), 0, "freed inside session_end");
	/* Messages of an ended session reach no backend. */
	send_esp(a, 0xc0de0001, 9);
	pump();
	cr_assert_eq(count(C_CLOSE, id), 1);
	cr_assert_eq(count(C_PROBE_CLOSE, id), 1);
	cr_assert(client_closed(a));
	cr_assert(client_closed(b));
	cr_assert_eq(r.nsessions, 0);
	/* Its SPI pair names nothing now. */
	b = connect_from("10.0.0.2", 40003);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 3);
	cr_assert_eq(count(C_OPEN, 0), 2);
}

/* session.h: after session_end() "the session ends"; a proof arriving
 * in the meantime (a probe's socket is still open) must not revive it. */
Test(session, proving_a_probe_of_an_ended_session_does_not_revive_it,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	struct session *s;
	unsigned long long id;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	s = sess(id);
	b = connect_from("10.0.0.2", 40002);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	session_end(s, 0.3);
	session_prove(s, probe_on(s, b), "test");
	spin(0.6);
	cr_assert_eq(count(C_CLOSE, id), 1, "the ended session was revived");
}

/* ---- 6. session_is_proof ---- */

static struct msg_info
answer(uint64_t spi_r, uint8_t flags, uint32_t msgid)
{
	struct msg_info m;

	memset(&m, 0, sizeof(m));
	m.kind = MSG_IKE;
	m.spi_i = SPI_I;
	m.spi_r = spi_r;
	m.flags = flags;
	m.msgid = msgid;
	return m;
}

Test(session, proof_is_the_answer_to_the_probes_own_new_request,
    .fini = teardown, .timeout = 10)
{
	static const struct {
		const char	*what;
		uint64_t	 spi_r;
		uint8_t		 flags;
		uint32_t	 msgid;
		bool		 proof;
	} cases[] = {
		{ "answer to its request 2",	SPI_R,     F_R, 2, true },
		{ "answer to another ID",	SPI_R,     F_R, 3, false },
		{ "replayed IKE_AUTH answer",	SPI_R,     F_R, 1, false },
		{ "replayed IKE_SA_INIT answer", SPI_R,    F_R, 0, false },
		{ "a request, not an answer",	SPI_R,     F_I, 2, false },
		{ "gateway's own request",	SPI_R,     0,   2, false },
		{ "unknown pair",		SPI_R + 1, F_R, 2, false },
		{ "SPIr 0",			0,         F_R, 2, false },
	};
	struct client *a, *b, *c;
	struct session *s;
	struct msg_info m;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	s = sess(establish(a, SPI_I, SPI_R));	/* requests 0 and 1 */
	b = connect_from("10.0.0.2", 40002);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	for (size_t i = 0; i < NELEM(cases); i++) {
		m = answer(cases[i].spi_r, cases[i].flags, cases[i].msgid);
		cr_expect_eq(session_is_proof(s, probe_on(s, b), &m),
		    cases[i].proof, "case %zu (%s)", i, cases[i].what);
	}
	memset(&m, 0, sizeof(m));
	m.kind = MSG_ESP;
	m.esp_spi = 0xc0de0001;
	cr_expect_not(session_is_proof(s, probe_on(s, b), &m), "ESP");
	/* c replays b's request, seen on the UDP leg: the gateway answers
	 * c's port too, and that answer proves nothing. */
	c = connect_from("10.0.0.3", 40003);
	send_ike(c, SPI_I, SPI_R, X_INFO, F_I, 2);
	m = answer(SPI_R, F_R, 2);
	cr_expect_not(session_is_proof(s, probe_on(s, c), &m),
	    "a replay of another probe's request");
	cr_expect(session_is_proof(s, probe_on(s, b), &m),
	    "the first relayer still");
	/* Once the owner's request 2 is relayed, answer 2 is old. */
	send_ike(a, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_expect_not(session_is_proof(s, probe_on(s, b), &m),
	    "answer 2 after the owner's request 2");
}

Test(session, requests_from_a_probe_do_not_raise_the_bar,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *m, *g;
	struct session *s;
	struct msg_info ans;

	START("linger = 30s");
	a = connect_from("10.0.0.1", 40001);
	s = sess(establish(a, SPI_I, SPI_R));
	client_hangup(a);
	/* An attacker claims IDs ahead with forged bodies: only what the
	 * owner relayed (or the gateway answered) counts, or the genuine
	 * answer would no longer prove. */
	m = connect_from("10.0.0.66", 40002);
	send_ike(m, SPI_I, SPI_R, X_INFO, F_I, 100);
	send_ike(m, SPI_I, SPI_R, X_INFO, F_I, 2);
	g = connect_from("10.0.0.7", 40003);
	send_ike_body(g, SPI_I, SPI_R, X_INFO, F_I, 2, 0x5a);
	ans = answer(SPI_R, F_R, 2);
	cr_assert(session_is_proof(s, probe_on(s, g), &ans));
}

/* ---- 7. finding 6c: linger 0, the owner closes inside input() ---- */

static uint8_t hook_seen_state;

/* The backend closes the owner stream, then goes on using the session. */
static void
close_owner_then_use(struct session *s, struct probe *p)
{
	uint8_t msg[MSG_MAX];
	struct iovec iov = { msg, ike(msg, SPI_I, SPI_R, X_INFO, F_R, 2) };
	bool is_ike = true;
	struct msg_info m;

	cr_assert_null(p);
	cr_assert_not_null(s->owner);
	stream_close(s->owner, "the backend's doing");
	cr_assert_null(s->owner);
	session_deliver(s, &iov, &is_ike, 1);
	classify_msg(msg, iov.iov_len, &m);
	session_note(s, &m, false);
	session_log(s, LOG_LEVEL_DEBUG, "still usable");
	hook_seen_state = (uint8_t)s->state;
	cr_assert_eq(count(C_CLOSE, s->id), 0, "closed inside input()");
}

/* The backend answers at once; the client is gone, so the send fails
 * and closes the stream under the backend. */
static void
answer_then_use(struct session *s, struct probe *p)
{
	uint8_t msg[MSG_MAX];
	struct iovec iov = { msg, ike(msg, SPI_I, 0, X_INIT, F_R, 0) };
	bool is_ike = true;

	session_deliver(s, &iov, &is_ike, 1);
	cr_assert_null(s->owner, "the failed send did not close the stream");
	session_deliver(s, &iov, &is_ike, 1);
	session_log(s, LOG_LEVEL_DEBUG, "still usable");
	hook_seen_state = (uint8_t)s->state;
	cr_assert_eq(count(C_CLOSE, s->id), 0, "closed inside input()");
}

Test(session, linger_0_session_survives_its_stream_closing_inside_input,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	unsigned long long id;
	long in, end, cl;

	START("linger = 0");
	a = connect_from("10.0.0.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	input_hook = close_owner_then_use;
	send_ike(a, SPI_I, SPI_R, X_INFO, F_I, 2);
	input_hook = NULL;
	cr_assert_eq(hook_seen_state, SESSION_DEAD);
	cr_assert(client_closed(a));
	/* input, its return, then (a later turn) close: in that order. */
	cr_assert_eq(count(C_CLOSE, id), 1, "never freed");
	in = -1;
	for (size_t i = 0; i < ncalls; i++)
		if (calls[i].kind == C_INPUT && calls[i].sess == id)
			in = (long)i;		/* the last one */
	end = in + 1;
	cl = find_call(C_CLOSE, id);
	cr_assert_eq(calls[end].kind, C_INPUT_END);
	cr_assert_gt(cl, end, "close() at %ld, input returned at %ld", cl,
	    end);
	cr_assert_eq(r.nsessions, 0);
}

Test(session, linger_0_session_survives_a_failed_send_inside_first_input,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	unsigned long long id;
	long end, cl;
	uint8_t b[MSG_MAX + 8];
	const uint8_t *pfx;
	size_t plen, len, n;

	START("linger = 0");
	a = connect_from("10.0.0.1", 40001);
	/* Prefix and IKE_SA_INIT written, then the client is gone before
	 * the relay reads them. */
	pfx = prefix_bytes(PREFIX_IKETCP, &plen);
	memcpy(b, pfx, plen);
	len = ike(b + plen + 2, SPI_I, 0, X_INIT, F_I, 0);
	b[plen] = (uint8_t)((len + 2) >> 8);
	b[plen + 1] = (uint8_t)(len + 2);
	n = plen + 2 + len;
	cr_assert_eq(write(a->fd, b, n), (ssize_t)n);
	input_hook = answer_then_use;
	client_hangup(a);
	input_hook = NULL;
	id = 1;
	cr_assert_eq(count(C_OPEN, id), 1);
	cr_assert_eq(hook_seen_state, SESSION_DEAD);
	cr_assert_eq(count(C_CLOSE, id), 1, "never freed");
	end = find_call(C_INPUT_END, id);
	cl = find_call(C_CLOSE, id);
	cr_assert_geq(end, 0);
	cr_assert_gt(cl, end, "close() at %ld, input returned at %ld", cl,
	    end);
	cr_assert_eq(r.nsessions, 0);
}

Test(session, linger_0_session_ends_when_its_owner_closes,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	unsigned long long id;

	START("linger = 0");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	client_hangup(a);
	cr_assert_eq(count(C_CLOSE, id), 1);
	cr_assert_eq(r.nsessions, 0);
	cr_assert_null(r.lingering);
}

Test(session, lingering_session_ends_after_linger,
    .fini = teardown, .timeout = 10)
{
	struct client *a;
	unsigned long long id;

	START("linger = 300ms");
	a = connect_from("10.0.0.1", 40001);
	send_esp(a, 0xc0de0001, 1);
	id = session_of(a);
	client_hangup(a);
	cr_assert_eq(count(C_CLOSE, id), 0);
	spin(0.6);
	cr_assert_eq(count(C_CLOSE, id), 1);
	cr_assert_eq(r.nsessions, 0);
	/* Its SPI names nothing now: a new session. */
	a = connect_from("10.0.0.1", 40002);
	send_esp(a, 0xc0de0001, 2);
	cr_assert_eq(count(C_OPEN, 0), 2);
}

/* ---- 8. budgets ---- */

Test(session, source_at_its_share_reclaims_its_oldest_lingering_session,
    .fini = teardown, .timeout = 10)
{
	struct client *b, *a1, *a2, *a3, *a4, *a5;
	unsigned long long sb, s1, s2, s3, s4;

	START("linger = 30s");
	section()->max_sessions_per_source = 2;
	/* Another source lingers first: the oldest anywhere. */
	b = connect_from("10.0.2.2", 40001);
	send_esp(b, 0xb0000001, 1);
	sb = session_of(b);
	client_hangup(b);
	a1 = connect_from("10.0.1.1", 40001);
	send_esp(a1, 0xa0000001, 1);
	s1 = session_of(a1);
	a2 = connect_from("10.0.1.1", 40002);
	send_esp(a2, 0xa0000002, 1);
	s2 = session_of(a2);
	client_hangup(a1);
	client_hangup(a2);
	/* A third of the source: its oldest lingering one goes. */
	a3 = connect_from("10.0.1.1", 40003);
	send_esp(a3, 0xa0000003, 1);
	s3 = session_of(a3);
	cr_assert_eq(count(C_CLOSE, s1), 1, "oldest of the source kept");
	cr_assert_eq(count(C_CLOSE, s2), 0);
	cr_assert_eq(count(C_CLOSE, sb), 0, "another source's reclaimed");
	cr_assert_eq(r.stats.reclaimed, 1);
	/* And the next. */
	a4 = connect_from("10.0.1.1", 40004);
	send_esp(a4, 0xa0000004, 1);
	s4 = session_of(a4);
	cr_assert_eq(count(C_CLOSE, s2), 1);
	/* Both live now: nothing to reclaim, refused. */
	a5 = connect_from("10.0.1.1", 40005);
	send_esp(a5, 0xa0000005, 1);
	cr_assert_eq(count(C_OPEN, 0), 5, "a session past the share");
	cr_assert(client_closed(a5), "the refused stream is open");
	cr_assert_eq(r.stats.sess_refused, 1);
	cr_assert_eq(count(C_CLOSE, s3), 0, "a live session was reclaimed");
	cr_assert_eq(count(C_CLOSE, s4), 0, "a live session was reclaimed");
	cr_assert_eq(count(C_CLOSE, sb), 0);
	cr_assert_not(client_closed(a3));
	cr_assert_not(client_closed(a4));
}

Test(session, probe_counts_against_its_own_source,
    .fini = teardown, .timeout = 10)
{
	struct client *a1, *a2, *c1, *c2, *c3;
	unsigned long long id;

	START("linger = 30s");
	section()->max_sessions_per_source = 2;
	a1 = connect_from("10.0.1.1", 40001);
	id = establish(a1, SPI_I, SPI_R);
	c1 = connect_from("10.0.3.3", 40001);
	send_ike(c1, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_not_null(probe_on(sess(id), c1));
	c2 = connect_from("10.0.3.3", 40002);
	send_esp(c2, 0xc0000002, 1);
	cr_assert_eq(count(C_OPEN, 0), 2);
	/* C holds a probe and a live session: its share is full. */
	c3 = connect_from("10.0.3.3", 40003);
	send_esp(c3, 0xc0000003, 1);
	cr_assert_eq(count(C_OPEN, 0), 2, "a session past C's share");
	cr_assert(client_closed(c3));
	cr_assert_not(client_closed(c1), "the probe was dropped");
	cr_assert_eq(count(C_PROBE_CLOSE, 0), 0);
	/* A's share holds its one session only. */
	a2 = connect_from("10.0.1.1", 40002);
	send_esp(a2, 0xa0000002, 1);
	cr_assert_eq(count(C_OPEN, 0), 3, "the probe counted against A");
}

Test(session, max_sessions_reclaims_the_oldest_lingering_session_anywhere,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b, *c, *d;
	unsigned long long sa, sbb, sc;

	START("linger = 30s");
	r.conf->max_sessions = 2;
	a = connect_from("10.0.1.1", 40001);
	send_esp(a, 0xa0000001, 1);
	sa = session_of(a);
	b = connect_from("10.0.2.2", 40001);
	send_esp(b, 0xb0000001, 1);
	sbb = session_of(b);
	client_hangup(b);
	c = connect_from("10.0.3.3", 40001);
	send_esp(c, 0xc0000001, 1);
	sc = session_of(c);
	cr_assert_eq(count(C_CLOSE, sbb), 1);
	cr_assert_eq(r.stats.reclaimed, 1);
	cr_assert_eq(r.nsessions, 2);
	d = connect_from("10.0.4.4", 40001);
	send_esp(d, 0xd0000001, 1);
	cr_assert_eq(count(C_OPEN, 0), 3, "a session past max-sessions");
	cr_assert(client_closed(d));
	cr_assert_eq(r.stats.sess_refused, 1);
	cr_assert_eq(count(C_CLOSE, sa), 0, "a live session was reclaimed");
	cr_assert_eq(count(C_CLOSE, sc), 0, "a live session was reclaimed");
	cr_assert_not(client_closed(a));
	cr_assert_not(client_closed(c));
}

Test(session, lingering_session_with_a_probe_is_never_reclaimed,
    .fini = teardown, .timeout = 10)
{
	struct client *a1, *a2, *m;
	unsigned long long id;

	START("linger = 30s");
	section()->max_sessions_per_source = 1;
	a1 = connect_from("10.0.1.1", 40001);
	id = establish(a1, SPI_I, SPI_R);
	client_hangup(a1);
	m = connect_from("10.0.2.2", 40001);
	send_ike(m, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(count(C_PROBE_OPEN, id), 1);
	/* A is at its share with only that session: refused, not taken. */
	a2 = connect_from("10.0.1.1", 40002);
	send_esp(a2, 0xa0000002, 1);
	cr_assert_eq(count(C_CLOSE, id), 0, "a probing session reclaimed");
	cr_assert_eq(count(C_OPEN, 0), 1);
	cr_assert(client_closed(a2));
	cr_assert_not(client_closed(m));
}

/*
 * The probe's own budget check must not reclaim the session the probe
 * names: here the source is at its share with two lingering sessions,
 * the oldest being the one its new stream resumes.
 */
Test(session, probe_never_reclaims_the_session_it_names,
    .fini = teardown, .timeout = 10)
{
	struct client *a1, *a2, *a3;
	unsigned long long s1, s0;

	START("linger = 30s");
	section()->max_sessions_per_source = 2;
	a1 = connect_from("10.0.1.1", 40001);
	s1 = establish(a1, SPI_I, SPI_R);
	client_hangup(a1);
	a2 = connect_from("10.0.1.1", 40002);
	send_esp(a2, 0xa0000000, 1);
	s0 = session_of(a2);
	client_hangup(a2);
	/* The client resumes s1 by its IKE SA from its own address. */
	a3 = connect_from("10.0.1.1", 40003);
	send_ike(a3, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(count(C_CLOSE, s1), 0, "the probe reclaimed the "
	    "session it names");
	cr_assert_eq(count(C_CLOSE, s0), 1, "the other lingering session "
	    "should have made room");
	cr_assert_eq(count(C_PROBE_OPEN, s1), 1);
	cr_assert_not_null(probe_on(sess(s1), a3));
	cr_assert_not(client_closed(a3));
}

Test(session, probe_at_max_sessions_never_reclaims_the_session_it_names,
    .fini = teardown, .timeout = 10)
{
	struct client *a, *b;
	unsigned long long id;

	START("linger = 30s");
	r.conf->max_sessions = 1;
	a = connect_from("10.0.1.1", 40001);
	id = establish(a, SPI_I, SPI_R);
	client_hangup(a);
	b = connect_from("10.0.2.2", 40001);
	send_ike(b, SPI_I, SPI_R, X_INFO, F_I, 2);
	cr_assert_eq(count(C_CLOSE, id), 0, "the probe reclaimed the "
	    "session it names");
	cr_assert_eq(sess(id)->state, SESSION_LINGER);
}
