/*
 * READY=1 to $NOTIFY_SOCKET (sd_notify(3)): iketcpd.service's readiness.
 * Written here rather than linked from libsystemd, as the protocol is one
 * datagram and the daemon should not depend on systemd to build or run.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"
#include "relay/notify.h"

int
notify_ready(void)
{
	static const char msg[] = "READY=1";
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd, rc = -1;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n > sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET \"%s\": not a socket path", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	/* "@name": the abstract namespace, a leading NUL and no terminator. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET socket");
		return -1;
	}
	if (sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun, len) == -1)
		log_warn("NOTIFY_SOCKET %s", path);
	else
		rc = 0;
	close(fd);
	return rc;
}
