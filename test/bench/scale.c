/*
 * The programs of "make bench-scale" (test/bench/scale.sh): many idle
 * sessions through a relay, or idle connections through haproxy.
 *
 *   scale clients  N TCP streams from many source addresses, spread over
 *                  P processes (20 000 open files per process here:
 *                  shared/PERF.md).  Each sends the "IKETCP" prefix (-p)
 *                  and one frame, an ESP-like message with an SPI of its
 *                  own, and is up once that frame comes back (through
 *                  the relay and the gateway stand-in, or through haproxy
 *                  and the TCP sink); then it idles.  SIGUSR1: a random
 *                  sample of the streams that are up each send one more
 *                  frame and wait for its echo; the counts are printed
 *                  and the program exits.
 *   scale gw       the gateway stand-in: a UDP socket that sends every
 *                  datagram back to where it came from.
 *   scale sink     haproxy's server: a TCP echo over P processes sharing
 *                  the port (SO_REUSEPORT).
 *
 * Output: key=value lines on stdout for scale.sh, e.g.
 *   setup streams=9000 up=9000 failed=0 secs=0.612 rate=14705 ...
 *   sample asked=1000 ok=1000 lost=0 dropped=0 ...
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "framing/wire.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

enum {
	MSG_MIN = 8,			/* SPI + sequence */
	MSG_MAX = 1400,
	HDR_LEN = 10,			/* length, SPI, sequence */
	PROCS_MAX = 64,
	EVENTS = 512,			/* epoll events per wait */
	GW_BATCH = 64,			/* datagrams per recvmmsg */
	SOCK_BUF = 8 * 1024 * 1024,	/* gw socket buffers */
	CMD_ID = -1,			/* epoll tag of the command pipe */
};

static const char prefix_text[] = "IKETCP";	/* RFC 9329 stream prefix */

/* What a client stream is doing. */
enum cs_state {
	CS_NEW,			/* not started */
	CS_CONNECTING,		/* connect() in progress */
	CS_WAIT,		/* hello sent, its echo not back */
	CS_UP,			/* echo back: idle */
	CS_SAMPLE,		/* a sample frame sent, its echo not back */
	CS_FAILED,		/* never came up */
	CS_DROPPED,		/* was up, closed by the other side */
};

struct cs {
	int		 fd;
	uint8_t		 state;		/* enum cs_state */
	uint8_t		 have;		/* bytes of hdr collected */
	uint16_t	 skip;		/* bytes of a frame left to skip */
	uint8_t		 hdr[HDR_LEN];
};

struct copts {
	struct sockaddr_in to;		/* -t */
	struct in_addr	 src;		/* -a first source address */
	unsigned	 nsrc;		/* -A source addresses */
	unsigned	 streams;	/* -n */
	unsigned	 procs;		/* -P */
	bool		 prefix;	/* -p */
	size_t		 size;		/* -s message bytes */
	unsigned	 window;	/* -W set-ups in flight per process */
	double		 deadline;	/* -T set-up seconds */
	unsigned	 sample;	/* -m streams sampled */
	double		 sample_wait;	/* -e seconds for the sample echoes */
	uint64_t	 seed;		/* -r */
	uint32_t	 spi;		/* -b: stream g sends SPI spi + g */
};

/* One child's report to the parent: one write, below PIPE_BUF. */
struct report {
	int		 kind;		/* 'U' set-up done, 'S' sample done */
	int		 err;		/* first errno of a failed set-up */
	uint32_t	 up, failed, dropped, unexpected;
	uint32_t	 ok, lost;	/* sample */
	double		 t_first, t_last; /* first connect, last echo */
};

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fputs("scale: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return false;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

/* splitmix64: the sample's random choice, repeatable from -r. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
write_full(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write to pipe:");
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
}

static bool
read_full(int fd, void *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p = (uint8_t *)p + r;
		n -= (size_t)r;
	}
	return true;
}

/* ---- clients: one process's share ---- */

struct child {
	const struct copts *o;
	struct cs	*cs;
	unsigned	 lo, n;		/* global index of cs[0], count */
	int		 ep, cmd, rep;	/* epoll, command in, report out */
	struct report	 r;
	unsigned	 inflight;
	uint8_t		 buf[65536];
};

/* The frame of stream @g with sequence @seq, after the prefix if asked. */
static size_t
frame_make(const struct copts *o, uint8_t *p, size_t cap, unsigned g,
    uint32_t seq, bool prefix)
{
	struct wr w = wr_make(p, cap);

	if (prefix)
		wr_bytes(&w, prefix_text, sizeof(prefix_text) - 1);
	wr_be16(&w, (uint16_t)(o->size + 2));	/* RFC 9329 §3: counts itself */
	wr_be32(&w, o->spi + g);
	wr_be32(&w, seq);
	while (w.len < cap && w.len < (prefix ? 6 : 0) + 2 + o->size)
		wr_u8(&w, (uint8_t)(0xa5 ^ w.len));
	return w.len;
}

static void
cs_close(struct child *c, struct cs *s, enum cs_state st)
{
	close(s->fd);		/* SO_LINGER 0: a reset, no TIME_WAIT */
	s->fd = -1;
	s->state = (uint8_t)st;
}

static void
setup_failed(struct child *c, struct cs *s, int err)
{
	if (c->r.err == 0)
		c->r.err = err;
	c->r.failed++;
	c->inflight--;
	cs_close(c, s, CS_FAILED);
}

static void
cs_start(struct child *c, unsigned i)
{
	const struct copts *o = c->o;
	struct cs *s = &c->cs[i];
	unsigned g = c->lo + i;
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct linger lg = { 1, 0 };
	struct epoll_event ev;
	int one = 1;

	src.sin_addr.s_addr = htonl(ntohl(o->src.s_addr) + g % o->nsrc);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		die("socket (stream %u):", g);
	c->inflight++;
	if (c->r.t_first == 0)
		c->r.t_first = now_s();
	/* The port is chosen at connect, per destination: no ephemeral
	 * port is held per source address at bind. */
	(void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
		setup_failed(c, s, errno);
		return;
	}
	if (connect(s->fd, (const struct sockaddr *)&o->to,
	    sizeof(o->to)) == -1 && errno != EINPROGRESS) {
		setup_failed(c, s, errno);
		return;
	}
	s->state = CS_CONNECTING;
	ev.events = EPOLLOUT;
	ev.data.u64 = i;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
		die("epoll_ctl:");
}

/* Sends frame @seq on stream @i, waits for its echo in state @st. */
static bool
cs_send(struct child *c, unsigned i, uint32_t seq, bool prefix)
{
	struct cs *s = &c->cs[i];
	uint8_t f[sizeof(prefix_text) + 2 + MSG_MAX];
	size_t len = frame_make(c->o, f, sizeof(f), c->lo + i, seq, prefix);

	s->have = 0;
	s->skip = 0;
	return write(s->fd, f, len) == (ssize_t)len;
}

static void
cs_connected(struct child *c, unsigned i)
{
	struct cs *s = &c->cs[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		setup_failed(c, s, err);
		return;
	}
	if (!cs_send(c, i, 0, c->o->prefix)) {
		setup_failed(c, s, errno != 0 ? errno : EMSGSIZE);
		return;
	}
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, s->fd, &ev) == -1)
		die("epoll_ctl:");
	s->state = CS_WAIT;
}

/*
 * Bytes from stream @i.  A frame that is ours (length, SPI, sequence
 * @seq) ends the wait: 1.  0: more to come; -1: not ours, or the stream
 * ended.
 */
static int
cs_input(struct child *c, unsigned i, uint32_t seq)
{
	struct cs *s = &c->cs[i];
	ssize_t n = read(s->fd, c->buf, sizeof(c->buf));
	const uint8_t *p = c->buf;
	size_t left;

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0)
		errno = ECONNRESET;	/* closed by the other side */
	if (n <= 0)
		return -1;
	left = (size_t)n;
	while (left > 0) {
		size_t take;

		if (s->skip > 0) {
			take = left < s->skip ? left : s->skip;
			s->skip = (uint16_t)(s->skip - take);
			p += take;
			left -= take;
			if (s->skip == 0)
				return 1;
			continue;
		}
		take = HDR_LEN - s->have;
		take = left < take ? left : take;
		memcpy(s->hdr + s->have, p, take);
		s->have = (uint8_t)(s->have + take);
		p += take;
		left -= take;
		if (s->have < HDR_LEN)
			continue;
		s->have = 0;
		if (load_be16(s->hdr) != c->o->size + 2 ||
		    load_be32(s->hdr + 2) != c->o->spi + c->lo + i ||
		    load_be32(s->hdr + 6) != seq) {
			errno = EPROTO;		/* not our frame */
			return -1;
		}
		s->skip = (uint16_t)(c->o->size + 2 - HDR_LEN);
		if (s->skip == 0)
			return 1;
	}
	return 0;
}

/* Starts streams up to the window, handles what epoll reports, until every
 * stream is up or failed or the deadline passed. */
static void
child_setup(struct child *c)
{
	struct epoll_event evs[EVENTS];
	double end = now_s() + c->o->deadline;
	unsigned next = 0;

	while (c->r.up + c->r.failed < c->n) {
		int k;

		while (c->inflight < c->o->window && next < c->n)
			cs_start(c, next++);
		if (now_s() >= end)
			break;
		k = epoll_wait(c->ep, evs, EVENTS, 100);
		if (k == -1 && errno != EINTR)
			die("epoll_wait:");
		for (int j = 0; j < k; j++) {
			int64_t id = (int64_t)evs[j].data.u64;
			struct cs *s;
			int rc;

			if (id == CMD_ID)
				die("command before set-up ended");
			s = &c->cs[id];
			if (s->state == CS_CONNECTING) {
				cs_connected(c, (unsigned)id);
				continue;
			}
			if (s->state != CS_WAIT)
				continue;
			rc = cs_input(c, (unsigned)id, 0);
			if (rc == -1)
				setup_failed(c, s, errno);
			else if (rc == 1) {
				s->state = CS_UP;
				c->inflight--;
				c->r.up++;
				c->r.t_last = now_s();
			}
		}
	}
	/* What did not make it by the deadline counts as failed. */
	for (unsigned i = 0; i < c->n; i++) {
		struct cs *s = &c->cs[i];

		if (s->state == CS_CONNECTING || s->state == CS_WAIT)
			setup_failed(c, s, ETIMEDOUT);
		else if (s->state == CS_NEW) {
			s->state = CS_FAILED;
			c->r.failed++;
			if (c->r.err == 0)
				c->r.err = ETIMEDOUT;
		}
	}
}

/* An idle stream spoke or closed. */
static void
idle_event(struct child *c, unsigned i)
{
	struct cs *s = &c->cs[i];
	ssize_t n = read(s->fd, c->buf, sizeof(c->buf));

	if (n > 0) {
		c->r.unexpected++;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	c->r.dropped++;
	cs_close(c, s, CS_DROPPED);
}

/* @quota random streams that are up send frame 1 each and wait for it. */
static void
child_sample(struct child *c, uint32_t quota, uint64_t *seed)
{
	struct epoll_event evs[EVENTS];
	unsigned *up, nup = 0, waiting = 0;
	double end;

	if ((up = calloc(c->n + 1, sizeof(*up))) == NULL)
		die("calloc:");
	for (unsigned i = 0; i < c->n; i++)
		if (c->cs[i].state == CS_UP)
			up[nup++] = i;
	if (quota > nup)
		quota = nup;
	/* Partial Fisher-Yates: the first @quota of up[] are the sample. */
	for (unsigned k = 0; k < quota; k++) {
		unsigned j = k + (unsigned)(rnd(seed) % (nup - k)), t = up[k];

		up[k] = up[j];
		up[j] = t;
		if (cs_send(c, up[k], 1, false)) {
			c->cs[up[k]].state = CS_SAMPLE;
			waiting++;
		} else
			c->r.lost++;
	}
	end = now_s() + c->o->sample_wait;
	while (waiting > 0 && now_s() < end) {
		int k = epoll_wait(c->ep, evs, EVENTS, 100);

		if (k == -1 && errno != EINTR)
			die("epoll_wait:");
		for (int j = 0; j < k; j++) {
			int64_t id = (int64_t)evs[j].data.u64;
			struct cs *s;
			int rc;

			if (id == CMD_ID)
				continue;
			s = &c->cs[id];
			if (s->state == CS_UP) {
				idle_event(c, (unsigned)id);
				continue;
			}
			if (s->state != CS_SAMPLE)
				continue;
			rc = cs_input(c, (unsigned)id, 1);
			if (rc == 0)
				continue;
			waiting--;
			if (rc == 1) {
				c->r.ok++;
				s->state = CS_UP;
			} else {
				c->r.lost++;
				cs_close(c, s, CS_DROPPED);
			}
		}
	}
	c->r.lost += waiting;
	free(up);
}

static void
child_run(struct child *c, uint64_t seed)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 =
	    (uint64_t)(int64_t)CMD_ID };

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1:");
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->cmd, &ev) == -1)
		die("epoll_ctl:");
	child_setup(c);
	c->r.kind = 'U';
	write_full(c->rep, &c->r, sizeof(c->r));
	for (;;) {
		struct epoll_event evs[EVENTS];
		int k = epoll_wait(c->ep, evs, EVENTS, -1);

		if (k == -1 && errno != EINTR)
			die("epoll_wait:");
		for (int j = 0; j < k; j++) {
			int64_t id = (int64_t)evs[j].data.u64;
			uint32_t quota;
			char cmd;

			if (id != CMD_ID) {
				if (c->cs[id].state == CS_UP)
					idle_event(c, (unsigned)id);
				continue;
			}
			if (!read_full(c->cmd, &cmd, 1) || cmd == 'Q')
				exit(0);
			if (!read_full(c->cmd, &quota, sizeof(quota)))
				exit(1);
			child_sample(c, quota, &seed);
			c->r.kind = 'S';
			write_full(c->rep, &c->r, sizeof(c->r));
		}
	}
}

static void
kill_children(const pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0)
			(void)waitpid(pids[i], NULL, 0);
}

/* Reads one report per child; false when a child died instead. */
static bool
collect(int rep, unsigned procs, struct report *rs, int kind)
{
	for (unsigned got = 0; got < procs; got++) {
		struct report r;

		if (!read_full(rep, &r, sizeof(r)) || r.kind != kind)
			return false;
		rs[got] = r;
	}
	return true;
}

static int
run_clients(const struct copts *o)
{
	pid_t pids[PROCS_MAX] = { 0 };
	int cmds[PROCS_MAX], rp[2];
	struct report rs[PROCS_MAX];
	struct report t = { 0 };
	double first = 0, last = 0;
	sigset_t set;
	int sig;

	/* Signals are taken by sigwait in the parent; children unblock. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe(rp) == -1)
		die("pipe:");
	for (unsigned k = 0; k < o->procs; k++) {
		struct child *c;
		int cp[2];

		if (pipe(cp) == -1)
			die("pipe:");
		pids[k] = fork();
		if (pids[k] == -1)
			die("fork:");
		if (pids[k] > 0) {
			close(cp[0]);
			cmds[k] = cp[1];
			continue;
		}
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		close(cp[1]);
		close(rp[0]);
		if ((c = calloc(1, sizeof(*c))) == NULL)
			die("calloc:");
		c->o = o;
		c->lo = (unsigned)((uint64_t)o->streams * k / o->procs);
		c->n = (unsigned)((uint64_t)o->streams * (k + 1) / o->procs) -
		    c->lo;
		if ((c->cs = calloc(c->n, sizeof(*c->cs))) == NULL)
			die("calloc:");
		for (unsigned i = 0; i < c->n; i++)
			c->cs[i].fd = -1;
		c->cmd = cp[0];
		c->rep = rp[1];
		child_run(c, o->seed + k * 0x51ed2701ULL);
	}
	close(rp[1]);
	if (!collect(rp[0], o->procs, rs, 'U')) {
		kill_children(pids, o->procs);
		die("a client process died during set-up");
	}
	for (unsigned k = 0; k < o->procs; k++) {
		t.up += rs[k].up;
		t.failed += rs[k].failed;
		if (t.err == 0)
			t.err = rs[k].err;
		if (rs[k].t_first > 0 && (first == 0 || rs[k].t_first < first))
			first = rs[k].t_first;
		if (rs[k].t_last > last)
			last = rs[k].t_last;
	}
	printf("setup streams=%u up=%u failed=%u secs=%.3f rate=%.0f "
	    "procs=%u err=%s\n", o->streams, t.up, t.failed, last - first,
	    last > first ? t.up / (last - first) : 0.0, o->procs,
	    t.err != 0 ? strerror(t.err) : "none");
	fflush(stdout);

	if (sigwait(&set, &sig) != 0 || sig != SIGUSR1) {
		kill_children(pids, o->procs);
		return 1;
	}
	for (unsigned k = 0; k < o->procs; k++) {
		/* Each process samples its share of the streams that are up,
		 * rounded up, so that the sum is at least -m. */
		uint32_t quota = t.up == 0 ? 0 : (uint32_t)(((uint64_t)o->sample *
		    rs[k].up + t.up - 1) / t.up);
		char cmd = 'S';

		write_full(cmds[k], &cmd, 1);
		write_full(cmds[k], &quota, sizeof(quota));
	}
	if (!collect(rp[0], o->procs, rs, 'S')) {
		kill_children(pids, o->procs);
		die("a client process died during the sample");
	}
	memset(&t, 0, sizeof(t));
	for (unsigned k = 0; k < o->procs; k++) {
		t.ok += rs[k].ok;
		t.lost += rs[k].lost;
		t.dropped += rs[k].dropped;
		t.unexpected += rs[k].unexpected;
	}
	printf("sample asked=%u ok=%u lost=%u dropped=%u unexpected=%u "
	    "seed=%llu\n", t.ok + t.lost, t.ok, t.lost, t.dropped,
	    t.unexpected, (unsigned long long)o->seed);
	fflush(stdout);
	for (unsigned k = 0; k < o->procs; k++) {
		char cmd = 'Q';

		write_full(cmds[k], &cmd, 1);
	}
	for (unsigned k = 0; k < o->procs; k++)
		(void)waitpid(pids[k], NULL, 0);
	return 0;
}

/* ---- gw: UDP echo ---- */

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	stop = 1;
}

static void
catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	/* No SA_RESTART: a blocking call returns EINTR. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int
run_gw(const struct sockaddr_in *at)
{
	static uint8_t bufs[GW_BATCH][65536];
	struct sockaddr_in from[GW_BATCH];
	struct mmsghdr mm[GW_BATCH];
	struct iovec iov[GW_BATCH];
	unsigned long long echoed = 0, failed = 0;
	int fd, v = SOCK_BUF;

	catch_stop();
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket:");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		die("socket buffers:");
	if (bind(fd, (const struct sockaddr *)at, sizeof(*at)) == -1)
		die("bind:");
	printf("gw listening\n");
	fflush(stdout);
	while (!stop) {
		int n;

		for (int i = 0; i < GW_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, GW_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EINTR)
				die("recvmmsg:");
			continue;
		}
		/* Back to each sender, with the same bytes. */
		for (int i = 0; i < n; i++)
			iov[i].iov_len = mm[i].msg_len;
		for (int i = 0; i < n;) {
			int k = sendmmsg(fd, mm + i, (unsigned)(n - i), 0);

			if (k <= 0) {
				if (k == -1 && errno == EINTR && !stop)
					continue;
				failed += (unsigned)(n - i);
				break;
			}
			echoed += (unsigned)k;
			i += k;
		}
	}
	printf("gw echoed=%llu failed=%llu\n", echoed, failed);
	return 0;
}

/* ---- sink: TCP echo over several processes ---- */

static void
sink_child(const struct sockaddr_in *at, int lfd)
{
	static uint8_t buf[65536];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	struct epoll_event evs[EVENTS];
	unsigned long short_writes = 0;
	int ep;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		die("epoll:");
	for (;;) {
		int k = epoll_wait(ep, evs, EVENTS, -1);

		if (k == -1 && errno != EINTR)
			die("epoll_wait:");
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;
			ssize_t n;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					ev.events = EPOLLIN;
					ev.data.fd = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c,
					    &ev) == -1)
						die("epoll_ctl:");
				}
				if (errno == EMFILE || errno == ENFILE)
					die("sink accept:");
				continue;
			}
			n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				/* Small frames: the socket takes them whole;
				 * what it does not, the client misses. */
				if (write(fd, buf, (size_t)n) != n)
					short_writes++;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(fd);
		}
	}
}

static int
run_sink(const struct sockaddr_in *at, unsigned procs)
{
	pid_t pids[PROCS_MAX] = { 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (unsigned k = 0; k < procs; k++) {
		int one = 1, lfd;

		/* Each process its own listener on the port: the kernel
		 * spreads connections over them by hash. */
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (lfd == -1 ||
		    setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one,
		    sizeof(one)) == -1 ||
		    bind(lfd, (const struct sockaddr *)at, sizeof(*at)) == -1 ||
		    listen(lfd, 65535) == -1)
			die("sink listener:");
		if ((pids[k] = fork()) == -1)
			die("fork:");
		if (pids[k] == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			sink_child(at, lfd);
		}
		close(lfd);
	}
	printf("sink listening procs=%u\n", procs);
	fflush(stdout);
	(void)sigwait(&set, &sig);
	kill_children(pids, procs);
	return 0;
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs("usage: scale clients -t ADDR:PORT -a ADDR [-A N] -n N [-P N] "
	    "[-p] [-s BYTES]\n"
	    "                     [-W N] [-T SECS] [-m N] [-e SECS] [-r SEED]\n"
	    "                     [-b SPI]\n"
	    "       scale gw -l ADDR:PORT\n"
	    "       scale sink -l ADDR:PORT [-P N]\n"
	    "  -t  where the streams go (the relay, or haproxy)\n"
	    "  -a  first client source address; -A addresses in a row (1)\n"
	    "  -n  streams; -P processes (1) sharing them\n"
	    "  -p  send the \"IKETCP\" prefix first\n"
	    "  -s  message bytes (100); -W set-ups in flight per process "
	    "(64)\n"
	    "  -T  set-up deadline (300 s); -m streams sampled on SIGUSR1 "
	    "(1000)\n"
	    "  -e  seconds the sample's echoes may take (10); -r seed\n"
	    "  -b  SPI of the first stream (0x10000000): a relay's sessions\n"
	    "      are found by SPI, so runs against one relay need others\n"
	    "  -l  gw: UDP address to echo on; sink: TCP address\n",
	    stderr);
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct copts o = {
		.nsrc = 1, .procs = 1, .size = 100, .window = 64,
		.deadline = 300, .sample = 1000, .sample_wait = 10,
		.spi = 0x10000000,
	};
	struct sockaddr_in at;
	bool has_to = false, has_src = false, has_at = false;
	const char *cmd;
	int ch;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((ch = getopt(argc, argv, "t:a:A:n:P:ps:W:T:m:e:r:b:l:")) != -1) {
		switch (ch) {
		case 't':
			if (!parse_addr(optarg, &o.to))
				usage();
			has_to = true;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &o.src) != 1)
				usage();
			has_src = true;
			break;
		case 'A':
			o.nsrc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.streams = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'P':
			o.procs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o.prefix = true;
			break;
		case 's':
			o.size = strtoul(optarg, NULL, 10);
			break;
		case 'W':
			o.window = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			o.deadline = strtod(optarg, NULL);
			break;
		case 'm':
			o.sample = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			o.sample_wait = strtod(optarg, NULL);
			break;
		case 'r':
			o.seed = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			o.spi = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			if (!parse_addr(optarg, &at))
				usage();
			has_at = true;
			break;
		default:
			usage();
		}
	}
	if (o.procs == 0 || o.procs > PROCS_MAX)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "gw") == 0 && has_at)
		return run_gw(&at);
	if (strcmp(cmd, "sink") == 0 && has_at)
		return run_sink(&at, o.procs);
	if (strcmp(cmd, "clients") != 0 || !has_to || !has_src ||
	    o.streams == 0 || o.nsrc == 0 || o.size < MSG_MIN ||
	    o.size > MSG_MAX || o.window == 0 || o.deadline <= 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run_clients(&o);
}
