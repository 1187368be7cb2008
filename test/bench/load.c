/*
 * Load generator and sink for "make bench": drives a TCP <-> UDP relay
 * (iketcpd, or Debian's udptunnel as the baseline) over loopback.
 *
 *   load tcp2udp   N streams push frames as fast as TCP allows (batched
 *                  writev); a UDP sink counts datagrams with recvmmsg
 *   load udp2tcp   a UDP sender (GSO) offers datagrams at a fixed rate to
 *                  the relay's UDP socket; one stream counts the frames
 *   load rtt       100-byte ping-pong through the relay, interleaved in
 *                  blocks with the same ping-pong over direct UDP
 *   load esp       one stream carrying ESP of a Child SA whose key the
 *                  caller took from the initiator (AES-GCM, RFC 4106),
 *                  as fast as TCP takes it, to an [integrated] section:
 *                  each message an inner IPv4/UDP packet of -s bytes
 *                  from the client's virtual IP (make bench's wesp)
 *
 * Each prints one line of key=value pairs on stdout for test/bench/run.sh.
 * Messages look like ESP: a non-zero SPI, a 32-bit sequence, filler.
 *
 * Framing: a 16-bit big-endian length that counts itself (RFC 9329), or
 * with -x one that counts only the payload (udptunnel's framing).
 *
 * With -S each stream is a TLS client (OpenSSL defaults, no certificate
 * verification) and the frames go inside it, so the same client drives
 * iketcpd's tls-listen and stunnel in front of udptunnel.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "framing/wire.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

enum {
	SPI_BASE = 0x01020304,		/* stream i sends SPI_BASE + i */
	MSG_MIN = 8,			/* SPI + sequence */
	MSG_MAX = 9000,			/* largest payload we test */
	RING_BYTES = 256 * 1024,	/* frames queued per writev */
	WRITES_MAX = 8,			/* writevs per stream per round */
	SINK_BATCH = 64,		/* datagrams per recvmmsg */
	GSO_SEGS_MAX = 64,		/* segments per GSO send */
	GSO_BYTES_MAX = 65000,		/* bytes per GSO send */
	TCP_RBUF = 256 * 1024,		/* bytes per stream read */
	SOCK_BUF = 8 * 1024 * 1024,	/* SO_RCVBUF of sinks */
	COALESCE_US = 100,		/* tcp2udp: let work pile up */
	BURST_US = 25,			/* udp2tcp: send at least this much */
	STREAMS_MAX = 4096,
	RTT_BLOCK = 50,			/* round trips per block */
	RTT_SKIP = 100,			/* warm-up round trips per path */
	TLS_WRITES_MAX = 128,		/* SSL_writes (records) per round */
	ESP_BATCH = 64,			/* ESP frames per write */
	GCM_SALT = 4,			/* RFC 4106 §8.1: key | 4-byte salt */
	GCM_IV = 8,
	GCM_ICV = 16,
	ESP_KEY_MAX = 32 + GCM_SALT,
};

static const char prefix_text[] = "IKETCP";	/* RFC 9329 stream prefix */

struct opts {
	struct sockaddr_in tcp;		/* -t first relay TCP address */
	unsigned	 tcp_ports;	/* -T consecutive TCP ports used */
	unsigned	 streams;	/* -n */
	struct sockaddr_in udp;		/* -u sink / echo address */
	unsigned	 udp_ports;	/* -U consecutive sink ports */
	struct sockaddr_in reply;	/* -r send back here, not to source */
	bool		 has_reply;
	size_t		 size;		/* -s payload bytes */
	double		 secs;		/* -d measured seconds */
	double		 warmup;	/* -w seconds before the window */
	double		 rate;		/* -R msg/s offered, 0: no limit */
	unsigned	 max_rt;	/* -N round trips per path */
	bool		 prefix;	/* -p send "IKETCP" first */
	bool		 len_excl;	/* -x length excludes itself */
	bool		 tls;		/* -S speak TLS on the streams */
	const char	*sni;		/* -SNAME server name, or NULL */
	uint8_t		 esp_key[ESP_KEY_MAX]; /* -K key | salt (esp) */
	size_t		 esp_key_len;
	uint32_t	 esp_spi;	/* -I the SA's SPI (esp) */
	uint32_t	 esp_seq;	/* -q first sequence number (esp) */
	struct in_addr	 inner_src;	/* -i the client's virtual IP */
	struct in_addr	 inner_dst;	/* -o where the inner packets go */
};

static SSL_CTX *tls_ctx;		/* with -S */

static void
die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fputs("load: ", stderr);
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

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* This process's CPU seconds, user + system. */
static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
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

static struct sockaddr_in
addr_plus(const struct sockaddr_in *sin, unsigned i)
{
	struct sockaddr_in a = *sin;

	a.sin_port = htons((uint16_t)(ntohs(sin->sin_port) + i));
	return a;
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die("fcntl:");
}

static void
set_rcvtimeo(int fd, double secs)
{
	struct timeval tv = { (time_t)secs,
	    (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		die("SO_RCVTIMEO:");
}

static void
set_bufs(int fd)
{
	int v = SOCK_BUF;

	/* FORCE needs CAP_NET_ADMIN; the plain option is capped by sysctl. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

/* A UDP socket bound to @sin; SO_REUSEADDR so it can share udptunnel's port. */
static int
udp_bind(const struct sockaddr_in *sin)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd == -1)
		die("socket:");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		die("SO_REUSEADDR:");
	set_bufs(fd);
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		die("bind %s:%u:", inet_ntoa(sin->sin_addr),
		    ntohs(sin->sin_port));
	return fd;
}

/* @bigbuf: a large receive buffer, set before the SYN fixes the scale. */
static int
tcp_connect(const struct sockaddr_in *sin, bool bigbuf)
{
	int one = 1, v = SOCK_BUF;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		die("socket:");
	if (bigbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v,
	    sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		die("TCP_NODELAY:");
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		die("connect %s:%u:", inet_ntoa(sin->sin_addr),
		    ntohs(sin->sin_port));
	return fd;
}

static void
tls_die(const char *what)
{
	fprintf(stderr, "load: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/*
 * A TLS client on the connected blocking socket @fd, or NULL without -S.
 * Partial writes: SSL_write_ex reports each record as it leaves, so the
 * tcp2udp ring knows which frames it may renumber.
 */
static SSL *
tls_connect(const struct opts *o, int fd)
{
	SSL *ssl;

	if (!o->tls)
		return NULL;
	if (tls_ctx == NULL) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (tls_ctx == NULL)
			tls_die("SSL_CTX_new");
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	if ((ssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		tls_die("SSL_new");
	if (o->sni != NULL && SSL_set_tlsext_host_name(ssl, o->sni) != 1)
		tls_die("SNI");
	if (SSL_connect(ssl) != 1)
		tls_die("TLS handshake");
	return ssl;
}

static const char *
tls_cipher(SSL *ssl)
{
	return ssl != NULL ? SSL_get_cipher_name(ssl) : "none";
}

static void
tls_close(SSL *ssl)
{
	SSL_free(ssl);		/* no close_notify: the socket goes next */
}

/*
 * SSL_read_ex or SSL_write_ex's result as read(2)'s: -1 with EAGAIN when
 * the socket would block, 0 at the peer's end.
 */
static ssize_t
tls_result(SSL *ssl, int ok, size_t n, const char *what)
{
	if (ok)
		return (ssize_t)n;
	switch (SSL_get_error(ssl, ok)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = ECONNRESET;
		return -1;
	default:
		tls_die(what);
		return -1;
	}
}

static ssize_t
conn_read(int fd, SSL *ssl, void *buf, size_t len)
{
	size_t n = 0;
	int ok;

	if (ssl == NULL)
		return read(fd, buf, len);
	ok = SSL_read_ex(ssl, buf, len, &n);
	return tls_result(ssl, ok, n, "SSL_read");
}

static ssize_t
conn_write(int fd, SSL *ssl, const void *buf, size_t len)
{
	size_t n = 0;
	int ok;

	if (ssl == NULL)
		return write(fd, buf, len);
	ok = SSL_write_ex(ssl, buf, len, &n);
	return tls_result(ssl, ok, n, "SSL_write");
}

static void
write_all(int fd, SSL *ssl, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = conn_write(fd, ssl, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write:");
		p += n;
		len -= (size_t)n;
	}
}

static size_t
frame_len(const struct opts *o)
{
	return 2 + o->size;
}

static uint16_t
frame_hdr(const struct opts *o)
{
	return (uint16_t)(o->len_excl ? o->size : o->size + 2);
}

/* An ESP-like message: SPI, sequence, then filler up to @size bytes. */
static void
msg_fill(uint8_t *p, size_t size, uint32_t spi, uint32_t seq)
{
	struct wr w = wr_make(p, size);

	wr_be32(&w, spi);
	wr_be32(&w, seq);
	while (w.len < size)
		wr_u8(&w, (uint8_t)(0xa5 ^ w.len));
}

static void
frame_fill(const struct opts *o, uint8_t *p, uint32_t spi, uint32_t seq)
{
	store_be16(p, frame_hdr(o));
	msg_fill(p + 2, o->size, spi, seq);
}

/* The prefix (when asked) and one frame, so the relay learns the stream. */
static void
stream_hello(const struct opts *o, int fd, SSL *ssl, uint32_t spi)
{
	uint8_t buf[sizeof(prefix_text) + 2 + MSG_MAX];
	size_t len = 0;

	if (o->prefix) {
		memcpy(buf, prefix_text, sizeof(prefix_text) - 1);
		len = sizeof(prefix_text) - 1;
	}
	frame_fill(o, buf + len, spi, 0);
	write_all(fd, ssl, buf, len + frame_len(o));
}

/*
 * TCP -> UDP.  Each stream owns a ring of whole frames that it writes with
 * one writev from its current offset; a frame is renumbered only once it has
 * been written completely.
 */
struct tstream {
	int		 fd;
	SSL		*ssl;		/* with -S */
	uint8_t		*ring;
	size_t		 len;		/* ring bytes: nframes frames */
	size_t		 nframes;
	size_t		 off;		/* next byte to write */
	uint64_t	 done;		/* bytes written after hello */
	uint32_t	 spi;
	bool		 closed;
};

/* Returns 1 when the socket would take more, 0 when full, -1 on error. */
static int
tstream_write(const struct opts *o, struct tstream *s)
{
	size_t flen = frame_len(o);
	struct iovec iov[2];
	uint64_t before, k;
	ssize_t n;

	iov[0].iov_base = s->ring + s->off;
	iov[0].iov_len = s->len - s->off;
	iov[1].iov_base = s->ring;
	iov[1].iov_len = s->off;
	/*
	 * TLS: up to the ring's end, one record per call.  After WANT_WRITE
	 * the retry passes the same bytes, as OpenSSL requires: they are not
	 * counted as written, so they are not renumbered meanwhile.
	 */
	if (s->ssl != NULL)
		n = conn_write(s->fd, s->ssl, iov[0].iov_base, iov[0].iov_len);
	else
		n = writev(s->fd, iov, s->off > 0 ? 2 : 1);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	before = s->done / flen;
	s->done += (uint64_t)n;
	s->off = (s->off + (size_t)n) % s->len;
	for (k = before; k < s->done / flen; k++)
		store_be32(s->ring + (k % s->nframes) * flen + 2 + 4,
		    (uint32_t)(k + 1 + s->nframes));
	if (s->ssl != NULL)
		return 1;	/* one record went: try the next */
	return (size_t)n == iov[0].iov_len + iov[1].iov_len;
}

static bool
sink_valid(const struct opts *o, const uint8_t *p, size_t len)
{
	uint32_t spi;

	if (len != o->size)
		return false;
	spi = load_be32(p);
	return spi >= SPI_BASE && spi < SPI_BASE + o->streams;
}

static int
run_tcp2udp(const struct opts *o)
{
	static uint8_t bufs[SINK_BATCH][MSG_MAX + 1];
	struct mmsghdr mm[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	struct epoll_event ev, evs[256];
	struct tstream *st;
	int *sinks, ep;
	uint64_t msgs = 0, bytes = 0, bad = 0;
	unsigned i, closed = 0;
	size_t flen = frame_len(o), nf;
	double t0, tw, te, t, c0 = 0, c1 = 0;
	int n, j, k;

	st = calloc(o->streams, sizeof(*st));
	sinks = calloc(o->udp_ports, sizeof(*sinks));
	if (st == NULL || sinks == NULL)
		die("calloc:");
	if ((ep = epoll_create1(0)) == -1)
		die("epoll_create1:");
	for (i = 0; i < o->udp_ports; i++) {
		struct sockaddr_in a = addr_plus(&o->udp, i);

		sinks[i] = udp_bind(&a);
		set_nonblock(sinks[i]);
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)1 << 32 | i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sinks[i], &ev) == -1)
			die("epoll_ctl:");
	}
	for (j = 0; j < SINK_BATCH; j++) {
		iov[j].iov_base = bufs[j];
		iov[j].iov_len = sizeof(bufs[j]);
		memset(&mm[j], 0, sizeof(mm[j]));
		mm[j].msg_hdr.msg_iov = &iov[j];
		mm[j].msg_hdr.msg_iovlen = 1;
	}
	nf = RING_BYTES / flen > 0 ? RING_BYTES / flen : 1;
	for (i = 0; i < o->streams; i++) {
		struct sockaddr_in a = addr_plus(&o->tcp, i % o->tcp_ports);
		struct tstream *s = &st[i];

		s->spi = SPI_BASE + i;
		s->nframes = nf;
		s->len = nf * flen;
		if ((s->ring = malloc(s->len)) == NULL)
			die("malloc:");
		for (size_t f = 0; f < nf; f++)
			frame_fill(o, s->ring + f * flen, s->spi,
			    (uint32_t)(f + 1));
		s->fd = tcp_connect(&a, false);
		s->ssl = tls_connect(o, s->fd);
		stream_hello(o, s->fd, s->ssl, s->spi);
		set_nonblock(s->fd);
		ev.events = EPOLLOUT;
		ev.data.u64 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
			die("epoll_ctl:");
	}
	t0 = now_s();
	tw = t0 + o->warmup;
	te = tw + o->secs;
	/*
	 * Sleep a little after each round so that each writev and recvmmsg
	 * moves many messages: the buffers on both sides hold far more than
	 * the relay moves in that time, so it never waits for us.
	 */
	for (;;) {
		usleep(COALESCE_US);
		n = epoll_wait(ep, evs, 256, 5);
		if (n == -1 && errno != EINTR)
			die("epoll_wait:");
		t = now_s();
		if (t >= te)
			break;
		if (c0 == 0 && t >= tw)
			c0 = cpu_s();
		for (j = 0; j < n; j++) {
			uint64_t d = evs[j].data.u64;

			if (d >> 32 == 0) {
				struct tstream *s = &st[(uint32_t)d];
				int w = 0, r;
				int wmax = s->ssl != NULL ? TLS_WRITES_MAX :
				    WRITES_MAX;

				while ((r = tstream_write(o, s)) == 1 &&
				    ++w < wmax)
					;
				if (r == -1 && !s->closed) {
					s->closed = true;
					closed++;
					epoll_ctl(ep, EPOLL_CTL_DEL, s->fd,
					    NULL);
				}
				continue;
			}
			while ((k = recvmmsg(sinks[(uint32_t)d], mm, SINK_BATCH,
			    MSG_DONTWAIT, NULL)) > 0) {
				t = now_s();
				if (t < tw || t >= te)
					continue;
				for (int m = 0; m < k; m++) {
					if (!sink_valid(o, bufs[m],
					    mm[m].msg_len)) {
						bad++;
						continue;
					}
					msgs++;
					bytes += mm[m].msg_len;
				}
			}
		}
	}
	c1 = cpu_s();
	printf("msgs=%llu bytes=%llu secs=%.3f msg_s=%.0f gbit_s=%.3f "
	    "bad=%llu closed=%u load_cpu_pct=%.0f tls=%s\n",
	    (unsigned long long)msgs, (unsigned long long)bytes, o->secs,
	    (double)msgs / o->secs, (double)bytes * 8 / o->secs / 1e9,
	    (unsigned long long)bad, closed,
	    c0 > 0 ? 100 * (c1 - c0) / (te - tw) : 0.0, tls_cipher(st[0].ssl));
	for (i = 0; i < o->streams; i++) {
		tls_close(st[i].ssl);
		close(st[i].fd);
		free(st[i].ring);
	}
	for (i = 0; i < o->udp_ports; i++)
		close(sinks[i]);
	close(ep);
	free(st);
	free(sinks);
	return 0;
}

/*
 * Incremental frame counter for a stream the relay writes to: checks each
 * frame's length field and SPI, skips the rest.
 */
struct counter {
	uint8_t		 hdr[10];	/* length, SPI, sequence */
	size_t		 have;		/* bytes of hdr collected */
	size_t		 skip;		/* bytes left in this frame */
	uint32_t	 from_seq;	/* count frames after this one */
	uint64_t	 frames;
	uint64_t	 bad;
	bool		 broken;	/* a length we cannot follow */
};

static void
counter_feed(const struct opts *o, struct counter *c, const uint8_t *p,
    size_t n)
{
	size_t take, len;

	while (n > 0 && !c->broken) {
		if (c->skip > 0) {
			take = n < c->skip ? n : c->skip;
			c->skip -= take;
			p += take;
			n -= take;
			continue;
		}
		take = sizeof(c->hdr) - c->have;
		take = n < take ? n : take;
		memcpy(c->hdr + c->have, p, take);
		c->have += take;
		p += take;
		n -= take;
		if (c->have < sizeof(c->hdr))
			continue;
		c->have = 0;
		len = (size_t)load_be16(c->hdr) + (o->len_excl ? 2 : 0);
		if (len < sizeof(c->hdr)) {
			c->broken = true;
			break;
		}
		c->skip = len - sizeof(c->hdr);
		if (len != frame_len(o) || load_be32(c->hdr + 2) != SPI_BASE)
			c->bad++;
		else if (load_be32(c->hdr + 6) > c->from_seq)
			c->frames++;
	}
}

/* The address the relay sends from, learned from the hello datagram. */
static void
learn_peer(const struct opts *o, int fd, struct sockaddr_in *peer)
{
	uint8_t buf[MSG_MAX + 1];
	socklen_t alen = sizeof(*peer);
	ssize_t n;

	set_rcvtimeo(fd, 3.0);
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)peer, &alen);
	if (n == -1)
		die("no hello datagram from the relay:");
	if (!sink_valid(o, buf, (size_t)n))
		die("hello datagram of %zd bytes is not ours", n);
	if (o->has_reply)
		*peer = o->reply;
}

static int
run_udp2tcp(const struct opts *o)
{
	static uint8_t rbuf[TCP_RBUF];
	static uint8_t sbuf[GSO_BYTES_MAX + MSG_MAX];
	struct mmsghdr mm[GSO_SEGS_MAX];
	struct iovec iov[GSO_SEGS_MAX];
	struct counter c = { 0 };
	struct sockaddr_in peer;
	uint64_t sent = 0, sendfail = 0, due, sent_tw = 0, burst;
	unsigned batch, b;
	int tfd, ufd, gso = (int)o->size;
	SSL *ssl;
	bool use_gso, in_window = false;
	double t0, tw, te, t, quiet;
	ssize_t n;

	ufd = udp_bind(&o->udp);
	tfd = tcp_connect(&o->tcp, true);
	ssl = tls_connect(o, tfd);
	stream_hello(o, tfd, ssl, SPI_BASE);
	learn_peer(o, ufd, &peer);
	if (connect(ufd, (struct sockaddr *)&peer, sizeof(peer)) == -1)
		die("connect udp:");
	set_nonblock(ufd);
	set_nonblock(tfd);
	use_gso = setsockopt(ufd, SOL_UDP, UDP_SEGMENT, &gso,
	    sizeof(gso)) == 0;
	batch = GSO_BYTES_MAX / (unsigned)o->size;
	if (batch > GSO_SEGS_MAX)
		batch = GSO_SEGS_MAX;
	if (batch == 0)
		batch = 1;
	/* At a fixed rate, send a few at a time, not one per syscall. */
	burst = (uint64_t)(o->rate * BURST_US * 1e-6);
	burst = burst < 1 ? 1 : burst > batch ? batch : burst;
	for (b = 0; b < batch; b++) {
		msg_fill(sbuf + b * o->size, o->size, SPI_BASE, b + 1);
		iov[b].iov_base = sbuf + b * o->size;
		iov[b].iov_len = o->size;
		memset(&mm[b], 0, sizeof(mm[b]));
		mm[b].msg_hdr.msg_iov = &iov[b];
		mm[b].msg_hdr.msg_iovlen = 1;
	}

	/*
	 * Send for warm-up + window.  Frames carry their sequence number, so
	 * those sent before the window are told apart when they arrive.
	 */
	c.from_seq = UINT32_MAX;
	t0 = now_s();
	tw = t0 + o->warmup;
	te = tw + o->secs;
	for (;;) {
		t = now_s();
		if (t >= te)
			break;
		if (!in_window && t >= tw) {
			in_window = true;
			sent_tw = sent;
			c.from_seq = (uint32_t)sent;
		}
		if (o->rate > 0) {
			due = (uint64_t)(o->rate * (t - t0));
			due = due >= sent + burst ? due - sent : 0;
		} else
			due = batch;
		if (due > batch)
			due = batch;
		if (due > 0) {
			for (b = 0; b < due; b++)
				store_be32(sbuf + b * o->size + 4,
				    (uint32_t)(sent + b + 1));
			if (use_gso) {
				n = send(ufd, sbuf, due * o->size, 0);
				if (n > 0)
					sent += due;
				else
					sendfail++;
			} else {
				n = sendmmsg(ufd, mm, (unsigned)due, 0);
				if (n > 0)
					sent += (uint64_t)n;
				else
					sendfail++;
			}
		}
		while ((n = conn_read(tfd, ssl, rbuf, sizeof(rbuf))) > 0)
			counter_feed(o, &c, rbuf, (size_t)n);
		if (n == 0)
			die("the relay closed the stream");
	}
	/* Collect what is in flight: stop after 200 ms of silence. */
	quiet = now_s();
	while (now_s() - quiet < 0.2 && now_s() - te < 2.0) {
		n = conn_read(tfd, ssl, rbuf, sizeof(rbuf));
		if (n > 0) {
			counter_feed(o, &c, rbuf, (size_t)n);
			quiet = now_s();
		} else if (n == 0)
			break;
		else
			usleep(1000);
	}
	sent -= sent_tw;
	printf("sent=%llu recv=%llu secs=%.3f offered_s=%.0f msg_s=%.0f "
	    "gbit_s=%.3f loss_pct=%.2f bad=%llu sendfail=%llu gso=%d%s\n",
	    (unsigned long long)sent, (unsigned long long)c.frames, o->secs,
	    (double)sent / o->secs, (double)c.frames / o->secs,
	    (double)c.frames * (double)o->size * 8 / o->secs / 1e9,
	    sent > 0 ? 100.0 * (1.0 - (double)c.frames / (double)sent) : 0.0,
	    (unsigned long long)c.bad, (unsigned long long)sendfail,
	    use_gso ? 1 : 0, c.broken ? " broken=1" : "");
	tls_close(ssl);
	close(tfd);
	close(ufd);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_us(uint64_t *v, size_t n, unsigned pct)
{
	if (n == 0)
		return 0;
	return (double)v[n * pct / 100 < n ? n * pct / 100 : n - 1] / 1e3;
}

static void
read_full(int fd, SSL *ssl, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = conn_read(fd, ssl, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read from the relay stream:");
		p += n;
		len -= (size_t)n;
	}
}

static void
recv_check(int fd, uint8_t *buf, size_t size, uint32_t seq, const char *what)
{
	ssize_t n = recv(fd, buf, MSG_MAX + 1, 0);

	if (n == -1)
		die("%s: no datagram:", what);
	if ((size_t)n != size || load_be32(buf + 4) != seq)
		die("%s: unexpected datagram (%zd bytes)", what, n);
}

static int
run_rtt(const struct opts *o)
{
	struct sockaddr_in lo2 = { .sin_family = AF_INET };
	struct sockaddr_in lo1 = { .sin_family = AF_INET };
	struct sockaddr_in peer, a;
	socklen_t alen;
	uint8_t frame[2 + MSG_MAX], buf[MSG_MAX + 1];
	uint64_t *rs, *ds, t1;
	size_t nr = 0, nd = 0, kr = 0, kd = 0, flen = frame_len(o);
	uint32_t seq = 1;
	int tfd, efd, e2, cfd;
	SSL *ssl;
	unsigned i;
	double te;

	rs = calloc(o->max_rt, sizeof(*rs));
	ds = calloc(o->max_rt, sizeof(*ds));
	if (rs == NULL || ds == NULL)
		die("calloc:");
	efd = udp_bind(&o->udp);
	tfd = tcp_connect(&o->tcp, false);
	ssl = tls_connect(o, tfd);
	stream_hello(o, tfd, ssl, SPI_BASE);
	learn_peer(o, efd, &peer);
	set_rcvtimeo(efd, 2.0);
	set_rcvtimeo(tfd, 2.0);

	/* Direct path: client 127.0.0.1:any <-> echo 127.0.0.2:any. */
	inet_pton(AF_INET, "127.0.0.2", &lo2.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &lo1.sin_addr);
	e2 = udp_bind(&lo2);
	cfd = udp_bind(&lo1);
	alen = sizeof(a);
	if (getsockname(e2, (struct sockaddr *)&a, &alen) == -1 ||
	    connect(cfd, (struct sockaddr *)&a, sizeof(a)) == -1)
		die("direct path:");
	alen = sizeof(a);
	if (getsockname(cfd, (struct sockaddr *)&a, &alen) == -1 ||
	    connect(e2, (struct sockaddr *)&a, sizeof(a)) == -1)
		die("direct path:");
	set_rcvtimeo(e2, 2.0);
	set_rcvtimeo(cfd, 2.0);

	te = now_s() + o->warmup + o->secs;
	while (now_s() < te && (nr < o->max_rt || nd < o->max_rt)) {
		for (i = 0; i < RTT_BLOCK && nr < o->max_rt; i++, seq++) {
			frame_fill(o, frame, SPI_BASE, seq);
			t1 = now_ns();
			write_all(tfd, ssl, frame, flen);
			recv_check(efd, buf, o->size, seq, "relay -> echo");
			if (sendto(efd, buf, o->size, 0,
			    (struct sockaddr *)&peer, sizeof(peer)) == -1)
				die("echo sendto:");
			read_full(tfd, ssl, frame, flen);
			t1 = now_ns() - t1;
			if (load_be16(frame) != frame_hdr(o) ||
			    load_be32(frame + 2 + 4) != seq)
				die("relay stream: unexpected frame");
			if (++kr > RTT_SKIP)
				rs[nr++] = t1;
		}
		for (i = 0; i < RTT_BLOCK && nd < o->max_rt; i++, seq++) {
			msg_fill(frame, o->size, SPI_BASE, seq);
			t1 = now_ns();
			if (send(cfd, frame, o->size, 0) == -1)
				die("direct send:");
			recv_check(e2, buf, o->size, seq, "direct echo");
			if (send(e2, buf, o->size, 0) == -1)
				die("direct echo send:");
			recv_check(cfd, buf, o->size, seq, "direct client");
			t1 = now_ns() - t1;
			if (++kd > RTT_SKIP)
				ds[nd++] = t1;
		}
	}
	qsort(rs, nr, sizeof(*rs), cmp_u64);
	qsort(ds, nd, sizeof(*ds), cmp_u64);
	printf("n=%zu relay_p50_us=%.1f relay_p99_us=%.1f direct_p50_us=%.1f "
	    "direct_p99_us=%.1f added_p50_us=%.1f added_p99_us=%.1f\n", nr,
	    pct_us(rs, nr, 50), pct_us(rs, nr, 99), pct_us(ds, nd, 50),
	    pct_us(ds, nd, 99), pct_us(rs, nr, 50) - pct_us(ds, nd, 50),
	    pct_us(rs, nr, 99) - pct_us(ds, nd, 99));
	tls_close(ssl);
	close(tfd);
	close(efd);
	close(e2);
	close(cfd);
	free(rs);
	free(ds);
	return 0;
}

/* RFC 791 header checksum. */
static uint16_t
ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += load_be16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * One ESP packet (RFC 4303 §2, AES-GCM as RFC 4106) at @p: SPI, sequence,
 * 8-byte IV (the sequence: unique per key), then the inner packet, padding
 * to 4 bytes, pad length, next header 4 (IPv4), all encrypted, and the
 * 16-byte ICV over SPI and sequence as AAD (no ESN).  Returns its length.
 */
static size_t
esp_make(const struct opts *o, EVP_CIPHER_CTX *ctx, uint8_t *p,
    const uint8_t *inner, size_t ilen, uint32_t seq)
{
	size_t pad = (4 - (ilen + 2) % 4) % 4, plen = ilen + pad + 2;
	uint8_t nonce[GCM_SALT + GCM_IV], *ct = p + 8 + GCM_IV;
	int n;

	store_be32(p, o->esp_spi);
	store_be32(p + 4, seq);
	store_be64(p + 8, seq);
	memcpy(nonce, o->esp_key + o->esp_key_len - GCM_SALT, GCM_SALT);
	memcpy(nonce + GCM_SALT, p + 8, GCM_IV);
	memcpy(ct, inner, ilen);
	for (size_t i = 0; i < pad; i++)
		ct[ilen + i] = (uint8_t)(i + 1);	/* RFC 4303 §2.4 */
	ct[ilen + pad] = (uint8_t)pad;
	ct[ilen + pad + 1] = 4;				/* IPv4 */
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, p, 8) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, ct, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_ICV,
	    ct + plen) != 1)
		die("AES-GCM failed");
	return 8 + GCM_IV + plen + GCM_ICV;
}

/*
 * ESP over one stream: batches of frames, each a fresh packet, written
 * as the socket takes them (its window is the server's pace).  Counts
 * the packets written in the measured window.
 */
static int
run_esp(const struct opts *o)
{
	static uint8_t inner[MSG_MAX], buf[ESP_BATCH * (2 + MSG_MAX + 64)];
	static uint8_t junk[65536];
	const EVP_CIPHER *c = o->esp_key_len == 16 + GCM_SALT ?
	    EVP_aes_128_gcm() : EVP_aes_256_gcm();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	struct wr w = wr_make(inner, o->size);
	uint64_t sent = 0, sent_tw = 0;
	uint32_t seq = o->esp_seq;
	double t0, tw, te, c0 = 0, c1;
	bool in_window = false;
	int fd;

	if (ctx == NULL || EVP_EncryptInit_ex(ctx, c, NULL,
	    o->esp_key, NULL) != 1)
		die("AES-GCM key");
	/* The inner packet: IPv4 (RFC 791), UDP 9 -> 9 (checksum 0, RFC
	 * 768), filler. */
	wr_u8(&w, 0x45);
	wr_u8(&w, 0);
	wr_be16(&w, (uint16_t)o->size);
	wr_be16(&w, 0);
	wr_be16(&w, 0x4000);		/* DF */
	wr_u8(&w, 64);
	wr_u8(&w, 17);
	wr_be16(&w, 0);
	wr_bytes(&w, &o->inner_src, 4);
	wr_bytes(&w, &o->inner_dst, 4);
	wr_be16(&w, 9);
	wr_be16(&w, 9);
	wr_be16(&w, (uint16_t)(o->size - 20));
	wr_be16(&w, 0);
	while (w.len < o->size)
		wr_u8(&w, (uint8_t)(0xa5 ^ w.len));
	store_be16(inner + 10, ip_csum(inner, 20));

	fd = tcp_connect(&o->tcp, false);
	write_all(fd, NULL, prefix_text, sizeof(prefix_text) - 1);
	t0 = now_s();
	tw = t0 + o->warmup;
	te = tw + o->secs;
	for (;;) {
		double t = now_s();
		size_t len = 0;

		if (t >= te)
			break;
		if (!in_window && t >= tw) {
			in_window = true;
			sent_tw = sent;
			c0 = cpu_s();
		}
		for (unsigned i = 0; i < ESP_BATCH; i++) {
			size_t n = esp_make(o, ctx, buf + len + 2, inner,
			    o->size, seq++);

			store_be16(buf + len, (uint16_t)(n + 2));
			len += n + 2;
		}
		write_all(fd, NULL, buf, len);
		sent += ESP_BATCH;
		/* Whatever the server sends (IKE) is read and dropped. */
		while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
	c1 = cpu_s();
	sent -= sent_tw;
	printf("sent=%llu secs=%.3f msg_s=%.0f gbit_s=%.3f load_cpu_pct=%.0f "
	    "last_seq=%u\n", (unsigned long long)sent, o->secs,
	    (double)sent / o->secs, (double)sent * (double)o->size * 8 /
	    o->secs / 1e9, 100 * (c1 - c0) / o->secs, seq - 1);
	EVP_CIPHER_CTX_free(ctx);
	close(fd);
	return 0;
}

/* -K: hex key and salt. */
static bool
parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 != 0 || n / 2 > cap)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return true;
}

static void
usage(void)
{
	fputs("usage: load tcp2udp|udp2tcp|rtt -t ADDR:PORT -u ADDR:PORT "
	    "[options]\n"
	    "       load esp -t ADDR:PORT -K KEYHEX -I SPI -i VIP -o DST "
	    "[-q SEQ] [options]\n"
	    "  -t ADDR:PORT  relay TCP address (first of -T ports)\n"
	    "  -T N          spread streams over N consecutive TCP ports\n"
	    "  -n N          streams (tcp2udp)\n"
	    "  -u ADDR:PORT  UDP sink / echo address (first of -U ports)\n"
	    "  -U N          sink ports (tcp2udp)\n"
	    "  -r ADDR:PORT  send UDP back here, not to the relay's source\n"
	    "  -s BYTES      message size (default 1400)\n"
	    "  -d SECS       measured seconds (default 2)\n"
	    "  -w SECS       warm-up before the window (default 0.2)\n"
	    "  -R MSG/S      offered rate, 0 = unlimited (udp2tcp)\n"
	    "  -N COUNT      round trips per path (rtt, default 20000)\n"
	    "  -p            send the \"IKETCP\" stream prefix first\n"
	    "  -x            length field excludes itself (udptunnel)\n"
	    "  -S[NAME]      TLS client on each stream (no verification),\n"
	    "                server name NAME\n"
	    "  -K KEYHEX     esp: AES-GCM key and 4-byte salt (20 or 36 "
	    "bytes)\n"
	    "  -I SPI        esp: the SA's SPI (hex); -q its first sequence\n"
	    "  -i VIP, -o DST  esp: inner source and destination\n",
	    stderr);
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct opts o = {
		.tcp_ports = 1, .streams = 1, .udp_ports = 1, .size = 1400,
		.secs = 2.0, .warmup = 0.2, .max_rt = 20000,
	};
	const char *cmd;
	bool has_tcp = false, has_udp = false;
	int ch;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "t:T:n:u:U:r:s:d:w:R:N:pxS::K:I:q:i:o:")) !=
	    -1) {
		switch (ch) {
		case 't':
			if (!parse_addr(optarg, &o.tcp))
				usage();
			has_tcp = true;
			break;
		case 'T':
			o.tcp_ports = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.streams = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			if (!parse_addr(optarg, &o.udp))
				usage();
			has_udp = true;
			break;
		case 'U':
			o.udp_ports = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			if (!parse_addr(optarg, &o.reply))
				usage();
			o.has_reply = true;
			break;
		case 's':
			o.size = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o.secs = strtod(optarg, NULL);
			break;
		case 'w':
			o.warmup = strtod(optarg, NULL);
			break;
		case 'R':
			o.rate = strtod(optarg, NULL);
			break;
		case 'N':
			o.max_rt = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o.prefix = true;
			break;
		case 'x':
			o.len_excl = true;
			break;
		case 'S':
			o.tls = true;
			o.sni = optarg;
			break;
		case 'K':
			if (!parse_hex(optarg, o.esp_key, sizeof(o.esp_key),
			    &o.esp_key_len) || (o.esp_key_len != 16 + GCM_SALT &&
			    o.esp_key_len != 32 + GCM_SALT))
				usage();
			break;
		case 'I':
			o.esp_spi = (uint32_t)strtoul(optarg, NULL, 16);
			break;
		case 'q':
			o.esp_seq = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &o.inner_src) != 1)
				usage();
			break;
		case 'o':
			if (inet_pton(AF_INET, optarg, &o.inner_dst) != 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (strcmp(cmd, "esp") == 0) {
		if (!has_tcp || o.esp_key_len == 0 || o.esp_spi == 0 ||
		    o.inner_src.s_addr == 0 || o.size < 28 ||
		    o.size > MSG_MAX - 64 || o.secs <= 0)
			usage();
		if (o.esp_seq == 0)
			o.esp_seq = 1;
		signal(SIGPIPE, SIG_IGN);
		return run_esp(&o);
	}
	if (!has_tcp || !has_udp || o.size < MSG_MIN || o.size > MSG_MAX ||
	    o.streams == 0 || o.streams > STREAMS_MAX || o.tcp_ports == 0 ||
	    o.udp_ports == 0 || o.secs <= 0 || o.warmup < 0 || o.rate < 0 ||
	    o.max_rt == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* Short sleeps in tcp2udp should be short. */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (strcmp(cmd, "tcp2udp") == 0)
		return run_tcp2udp(&o);
	if (strcmp(cmd, "udp2tcp") == 0)
		return run_udp2tcp(&o);
	if (strcmp(cmd, "rtt") == 0)
		return run_rtt(&o);
	usage();
	return 2;
}
