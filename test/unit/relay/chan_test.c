/*
 * relay/chan.c: the master <-> worker channel over a SOCK_SEQPACKET
 * socketpair -- messages whole with their descriptors, long answers in
 * parts, a malformed message ends the channel, the end of the peer is
 * told once.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "relay/chan.h"

TestSuite(chan);

struct got {
	int		 n;		/* messages */
	enum chan_type	 type[64];
	uint32_t	 flags[64];
	uint64_t	 ticket[64];
	size_t		 len[64];
	size_t		 total;
	size_t		 nfds[64];
	int		 fd0;		/* first descriptor received */
	bool		 gone;
};

static void
recv_cb(void *arg, enum chan_type type, uint32_t flags, uint64_t ticket,
    const uint8_t *p, size_t n, int *fds, size_t nfds)
{
	struct got *g = arg;

	if (type == CHAN_GONE) {
		g->gone = true;
		return;
	}
	if (g->n < 64) {
		g->type[g->n] = type;
		g->flags[g->n] = flags;
		g->ticket[g->n] = ticket;
		g->len[g->n] = n;
		g->nfds[g->n] = nfds;
	}
	g->n++;
	g->total += n;
	for (size_t i = 0; i < nfds; i++) {
		if (g->fd0 == -1)
			g->fd0 = fds[i];
		else
			close(fds[i]);
	}
}

static void
pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
	    0);
}

static void
spin(struct ev_loop *loop, struct got *g, int want)
{
	for (int i = 0; i < 200 && g->n < want && !g->gone; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

Test(chan, carries_messages_and_descriptors, .timeout = 10)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct got a = { .fd0 = -1 }, b = { .fd0 = -1 };
	struct chan *ca, *cb;
	int sv[2], p[2];
	char c;

	pair(sv);
	cr_assert_eq(pipe(p), 0);
	ca = chan_new(loop, sv[0], recv_cb, &a);
	cb = chan_new(loop, sv[1], recv_cb, &b);
	cr_assert_eq(chan_send(ca, CHAN_RELOAD, 0, 7, "hi", 2, &p[1], 1), 0);
	close(p[1]);		/* the receiver has its own copy */
	spin(loop, &b, 1);
	cr_assert_eq(b.n, 1);
	cr_assert_eq(b.type[0], CHAN_RELOAD);
	cr_assert_eq(b.ticket[0], 7);
	cr_assert_eq(b.len[0], 2);
	cr_assert_eq(b.nfds[0], 1);
	cr_assert_eq(write(b.fd0, "x", 1), 1);
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(c, 'x');
	cr_assert(fcntl(b.fd0, F_GETFD) & FD_CLOEXEC);
	close(b.fd0);
	close(p[0]);
	chan_free(ca);
	spin(loop, &b, 2);
	cr_assert(b.gone, "the peer's end is told");
	chan_free(cb);
	ev_loop_destroy(loop);
}

Test(chan, sends_a_long_answer_in_parts, .timeout = 20)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct got b = { .fd0 = -1 };
	size_t len = 5 * CHAN_PAYLOAD_MAX + 17;
	char *big = malloc(len);
	struct chan *ca, *cb;
	int sv[2];

	memset(big, 'q', len);
	pair(sv);
	ca = chan_new(loop, sv[0], recv_cb, NULL);
	cb = chan_new(loop, sv[1], recv_cb, &b);
	cr_assert_eq(chan_send_long(ca, CHAN_CTL_ANSWER, 9, big, len), 0);
	spin(loop, &b, 6);
	cr_assert_eq(b.n, 6);
	cr_assert_eq(b.total, len);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(b.flags[i], 0);
	cr_assert_eq(b.flags[5], CHAN_F_LAST);
	cr_assert_eq(b.len[5], 17);
	cr_assert_eq(chan_send(ca, CHAN_CTL, 0, 1, big, CHAN_PAYLOAD_MAX + 1,
	    NULL, 0), -1, "over a message's bound");
	chan_free(ca);
	chan_free(cb);
	free(big);
	ev_loop_destroy(loop);
}

Test(chan, a_malformed_message_ends_the_channel, .timeout = 10)
{
	static const uint8_t bad_type[16] = { 0, 0, 0, 99 };
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct got b = { .fd0 = -1 };
	struct chan *cb;
	int sv[2];

	pair(sv);
	cb = chan_new(loop, sv[1], recv_cb, &b);
	cr_assert_eq(send(sv[0], "short", 5, 0), 5);
	spin(loop, &b, 1);
	cr_assert(b.gone && b.n == 0, "a message shorter than its header");
	chan_free(cb);
	close(sv[0]);

	memset(&b, 0, sizeof(b));
	b.fd0 = -1;
	pair(sv);
	cb = chan_new(loop, sv[1], recv_cb, &b);
	cr_assert_eq(send(sv[0], bad_type, sizeof(bad_type), 0), 16);
	spin(loop, &b, 1);
	cr_assert(b.gone && b.n == 0, "an unknown type");
	chan_free(cb);
	close(sv[0]);
	ev_loop_destroy(loop);
}
