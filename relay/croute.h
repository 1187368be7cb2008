/*
 * The connector's routing policy (iketcpd.conf(5), bypass-rule): a full
 * tunnel (remote_ts = 0.0.0.0/0, ::/0) makes the initiator route every
 * destination into the tunnel, the connector's own stream to its server
 * too, which then carries itself.  At start, as root, each [connector]
 * section with bypass-rule = yes gets one policy routing rule per
 * address it sends to (server, http-proxy, udp-gateway):
 *
 *	to ADDR/32 (or /128) lookup main priority bypass-priority proto 73
 *
 * which the kernel consults before strongSwan's rule for its table 220.
 * A child process forked before privileges are dropped keeps only
 * CAP_NET_ADMIN and the read end of a pipe; when the daemon exits, by
 * any means (SIGTERM, a crash, SIGKILL), the pipe ends and the child
 * deletes exactly the rules that were installed.
 */
#ifndef IKETCP_CROUTE_H
#define IKETCP_CROUTE_H

#include <stdbool.h>

#include "conf/conf.h"

enum {
	CROUTE_PROTO = 73,	/* rtm protocol of our rules ("proto 73") */
};

/*
 * Installs the rules of every [connector] section of @c and starts their
 * keeper; call as root, before privileges are dropped.  A rule that
 * cannot be installed is logged (a full tunnel would then loop) and is
 * not fatal.  Without @foreground the keeper logs to syslog, as the
 * daemon will.  Returns the number of rules installed.
 */
int	croute_open(const struct conf *c, bool foreground);

#endif /* IKETCP_CROUTE_H */
