/*
 * The UDP front end of the session layer (DESIGN.md): [integrated]
 * udp-listen sockets.  Port 500 carries bare IKE, any other port the
 * port-4500 form (RFC 3948 §2: IKE behind the 4-octet Non-ESP marker,
 * ESP, and 1-octet NAT keepalives).  It knows nothing of sessions, as
 * stream.c does not: each datagram, classified and in the port-4500 form
 * (the form of a stream frame, RFC 9329 §3), goes up to r->udp_up with
 * the path it came on; the session layer sends back with udpfront_send().
 */
#ifndef IKETCP_UDPFRONT_H
#define IKETCP_UDPFRONT_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "conf/conf.h"
#include "framing/classify.h"

struct relay;

/* One udp-listen socket of an [integrated] section. */
struct udpfront_sock {
	struct udpfront_sock	*next;
	struct relay	*r;
	char		 section[CONF_NAME_MAX];
	int		 fd;
	ev_io		 io;
	bool		 wild;		/* wildcard bind: IP(V6)_PKTINFO */
	bool		 bare;		/* port 500: IKE without marker */
	struct sockaddr_storage addr;	/* bound address */
	char		 text[64];	/* as configured */
};

/* Where a client's datagrams come from, and where its answers go. */
struct udp_path {
	struct udpfront_sock	*us;		/* the socket they arrived on */
	struct sockaddr_storage peer;	/* the client's address and port */
	struct sockaddr_storage local;	/* the address they were sent to */
};

/* What the front end hands its datagrams to (the session layer). */
struct udp_up {
	/* One datagram @msg, port-4500 form, classified as @m (IKE or
	 * ESP; keepalives and invalid datagrams are dropped below). */
	void	(*input)(struct relay *r, const struct udp_path *path,
		    const struct iovec *msg, const struct msg_info *m);
};

/* Opens every [integrated] section's udp-listen sockets (as root);
 * -1 (logged) on any failure. */
int	udpfront_open_all(struct relay *r, const struct conf *c);
void	udpfront_close_all(struct relay *r);
/*
 * @n messages in the port-4500 form (@ike says which are IKE) to @path's
 * client, from the socket and address it sent to.  IKE loses its marker
 * toward port 500; ESP is never sent there (dropped and counted).
 */
void	udpfront_send(const struct udp_path *path, const struct iovec *msgs,
	    const bool *ike, size_t n);
/* Same socket, same client address and port, same local address. */
bool	udp_path_same(const struct udp_path *a, const struct udp_path *b);
/* "udp CLIENT -> LOCAL" for logs. */
const char *udp_path_text(const struct udp_path *p, char *buf, size_t cap);

#endif /* IKETCP_UDPFRONT_H */
