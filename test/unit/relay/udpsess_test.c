/*
 * relay/session.c's UDP side (session_udp_up, relay/README "UDP paths"),
 * driven by hand-made datagrams: an [integrated] section whose backend is
 * a fake that records its calls and proves a probe only when told to;
 * the front-end socket is a real UDP socket on 127.0.0.1, and the
 * "clients" are UDP sockets there too, so that what session_deliver()
 * sends shows where the session's path is.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

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
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/udpfront.h"

TestSuite(udpsess);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum {
	MAX_SESSIONS = 64,
	NCLIENTS = 3,
};

static struct relay r;
static struct udpfront_sock us;
static struct session *opened[MAX_SESSIONS];
static unsigned nopen, ninput, nprobe_input;
static bool prove_next;			/* the fake proves the next probe */
static int cl_fd[NCLIENTS];		/* client sockets */
static struct sockaddr_storage cl_addr[NCLIENTS];

static int
fake_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	(void)m;
	cr_assert_null(st, "a UDP session was opened with a stream");
	cr_assert_lt(s->id, MAX_SESSIONS);
	cr_assert(s->on_udp, "opened before its path was set");
	s->be = malloc(16);
	cr_assert_not_null(s->be);
	opened[s->id] = s;
	nopen++;
	return 0;
}

static void
fake_close(struct session *s)
{
	opened[s->id] = NULL;
	free(s->be);
	s->be = NULL;
}

static void
fake_input(struct session *s, struct probe *p, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	(void)msgs;
	(void)mi;
	cr_assert_eq(n, 1);
	ninput++;
	if (p == NULL)
		return;
	cr_assert_null(p->st);
	cr_assert_not_null(p->udp);
	nprobe_input++;
	if (prove_next) {
		prove_next = false;
		session_prove(s, p, "told to");
	}
}

static const struct session_backend fake_backend = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.input = fake_input,
};

static void
udp_sock(int *fd, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	socklen_t len = sizeof(*sin);

	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(*fd, 0);
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(*fd, (struct sockaddr *)sin, len), 0);
	cr_assert_eq(getsockname(*fd, (struct sockaddr *)sin, &len), 0);
}

static void
start(const char *extra)
{
	const char *lines[] = {
		"[integrated vpn]",
		"udp-listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /nonexistent",
		"pool = 10.10.0.0/24",
		extra,
	};
	struct conf_parser p;

	signal(SIGPIPE, SIG_IGN);
	log_init("udpsess_test", true, LOG_LEVEL_WARN);
	memset(&r, 0, sizeof(r));
	memset(opened, 0, sizeof(opened));
	nopen = ninput = nprobe_input = 0;
	prove_next = false;
	cr_assert_eq(conf_init(&p, "udpsess.conf"), 0);
	for (size_t i = 0; i < NELEM(lines) && lines[i] != NULL; i++)
		cr_assert_eq(conf_line(&p, lines[i]), 0, "%s", lines[i]);
	r.conf = conf_finish(&p);
	cr_assert_not_null(r.conf);
	r.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(r.loop);
	cr_assert_eq(keyhash_init(), 0);
	cr_assert_eq(session_layer_init(&r), 0);
	r.fds_max = 1000;
	r.backends[CONF_BACKEND_INTEGRATED] = &fake_backend;
	memset(&us, 0, sizeof(us));
	us.r = &r;
	snprintf(us.section, sizeof(us.section), "vpn");
	udp_sock(&us.fd, &us.addr);
	for (size_t i = 0; i < NCLIENTS; i++)
		udp_sock(&cl_fd[i], &cl_addr[i]);
}

/* A datagram from client @c: IKE (@spi_r, @msgid; an IKE_SA_INIT
 * request with @spi_r 0 and message ID 0) or, with @esp set, ESP. */
static void
dgram(int c, uint64_t spi_i, uint64_t spi_r, uint32_t msgid, uint32_t esp)
{
	uint8_t b[64] = { 0 };
	struct iovec iov = { b, sizeof(b) };
	struct udp_path path;
	struct msg_info m;

	memset(&m, 0, sizeof(m));
	if (esp != 0) {
		m.kind = MSG_ESP;
		m.esp_spi = esp;
	} else {
		m.kind = MSG_IKE;
		m.spi_i = spi_i;
		m.spi_r = spi_r;
		m.msgid = msgid;
		m.exchange = spi_r == 0 ? 34 : 37;	/* INIT, INFORMATIONAL */
		m.flags = IKE_FLAG_I;
	}
	memset(&path, 0, sizeof(path));
	path.us = &us;
	path.peer = cl_addr[c];
	path.local = us.addr;
	r.udp_up->input(&r, &path, &iov, &m);
}

/* Which client receives what the session delivers (-1: none). */
static int
delivered_to(struct session *s)
{
	uint8_t b[16] = { 1, 2, 3, 4 }, in[64];
	struct iovec iov = { b, sizeof(b) };
	bool ike = false;
	int who = -1;

	session_deliver(s, &iov, &ike, 1);
	usleep(10000);
	for (int i = 0; i < NCLIENTS; i++)
		if (recv(cl_fd[i], in, sizeof(in), 0) == (ssize_t)sizeof(b)) {
			cr_assert_eq(who, -1, "delivered twice");
			who = i;
		}
	return who;
}

static void
finish(void)
{
	for (struct session *s = r.sessions; s != NULL; s = s->anext)
		session_end(s, 0.);
	for (int i = 0; i < 20 && r.sessions != NULL; i++) {
		ev_run(r.loop, EVRUN_NOWAIT);
		usleep(1000);
	}
	cr_assert_null(r.sessions, "sessions left");
	session_layer_cleanup(&r);
	for (size_t i = 0; i < NCLIENTS; i++)
		close(cl_fd[i]);
	close(us.fd);
	ev_loop_destroy(r.loop);
	conf_unref(r.conf);
}

Test(udpsess, finds_an_ike_sa_init_again_only_from_its_source,
    .timeout = 10)
{
	start(NULL);
	dgram(0, 0x1111, 0, 0, 0);
	cr_assert_eq(nopen, 1);
	dgram(0, 0x1111, 0, 0, 0);	/* a retransmission */
	cr_assert_eq(nopen, 1, "a retransmission started a session");
	cr_assert_eq(ninput, 2);
	dgram(1, 0x1111, 0, 0, 0);	/* the same SPIi elsewhere */
	cr_assert_eq(nopen, 2, "another client's IKE_SA_INIT was taken");
	cr_assert_eq(nprobe_input, 0);
	finish();
}

Test(udpsess, drops_what_names_no_session, .timeout = 10)
{
	start(NULL);
	dgram(0, 0x2222, 0x3333, 1, 0);
	dgram(0, 0, 0, 0, 0xabcd);
	cr_assert_eq(nopen, 0);
	cr_assert_eq(ninput, 0);
	cr_assert_eq(r.stats.udp_nosession, 2);
	finish();
}

Test(udpsess, moves_the_path_only_on_a_proof, .timeout = 10)
{
	struct session *s;

	start(NULL);
	dgram(0, 0x4444, 0, 0, 0);
	s = opened[1];
	cr_assert_not_null(s);
	session_key_ike(s, 0x4444, 0x5555);
	session_key_esp(s, 0xe5e5);
	cr_assert_eq(delivered_to(s), 0);
	/* The owner's path: no probe. */
	dgram(0, 0x4444, 0x5555, 1, 0);
	cr_assert_eq(nprobe_input, 0);
	/* Another client with the SA's SPIs, IKE and ESP: probes that
	 * prove nothing; answers still go to client 0. */
	dgram(1, 0x4444, 0x5555, 2, 0);
	dgram(1, 0, 0, 0, 0xe5e5);
	cr_assert_eq(nprobe_input, 2);
	cr_assert_eq(r.stats.udp_moved, 0);
	cr_assert_eq(delivered_to(s), 0, "moved without a proof");
	/* A proof from client 2: the path is its. */
	prove_next = true;
	dgram(2, 0, 0, 0, 0xe5e5);
	cr_assert_eq(r.stats.udp_moved, 1);
	cr_assert(s->on_udp);
	cr_assert_eq(delivered_to(s), 2, "not moved by the proof");
	/* Now client 0 is the stranger. */
	dgram(0, 0x4444, 0x5555, 3, 0);
	cr_assert_eq(nprobe_input, 4);
	cr_assert_eq(delivered_to(s), 2);
	finish();
}

Test(udpsess, refuses_sessions_over_the_source_budget, .timeout = 10)
{
	start("max-sessions-per-source = 2");
	dgram(0, 0x10, 0, 0, 0);
	dgram(0, 0x11, 0, 0, 0);
	dgram(0, 0x12, 0, 0, 0);
	cr_assert_eq(nopen, 2);
	cr_assert_eq(r.stats.udp_refused, 1);
	finish();
}

Test(udpsess, never_uses_an_ended_session, .timeout = 10)
{
	start(NULL);
	dgram(0, 0x6666, 0, 0, 0);
	cr_assert_eq(nopen, 1);
	session_key_ike(opened[1], 0x6666, 0x7777);
	session_end(opened[1], 0.);
	dgram(0, 0x6666, 0x7777, 1, 0);
	cr_assert_eq(ninput, 1, "input to an ended session");
	cr_assert_eq(r.stats.udp_nosession, 1);
	dgram(0, 0x6666, 0, 0, 0);
	cr_assert_eq(nopen, 2, "an IKE_SA_INIT went to an ended session");
	finish();
}
