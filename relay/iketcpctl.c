/*
 * iketcpctl: asks a running iketcpd over its control socket
 * (relay/control.c).  One request line out, the answer in: a status line
 * ("OK" or "ERR why"), then the body, which is printed as it is.
 *
 * Exit status: 0 done, 1 the daemon refused the request, 2 usage,
 * 3 no daemon at the socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "relay/ctlreq.h"

enum {
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,
	ANSWER_WAIT_MS = 30000,	/* the daemon's answer, at most */
	READ_CHUNK = 65536,
};

static void
usage(void)
{
	fprintf(stderr, "usage: iketcpctl [-j] [-s socket] command [--json]\n"
	    "commands: list, stats, metrics, terminate ID, reload\n");
	exit(EXIT_USAGE);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "iketcpctl: %s: socket path too long\n", path);
		exit(EXIT_USAGE);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "iketcpctl: cannot reach iketcpd at %s: %s%s\n",
		    path, strerror(errno), errno == ENOENT ||
		    errno == ECONNREFUSED ? " (is iketcpd running? -s names "
		    "another socket)" : "");
		exit(EXIT_NO_DAEMON);
	}
	return fd;
}

/* The whole answer; NULL on a read error or timeout (reported). */
static char *
read_answer(int fd, size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t k;

	for (;;) {
		if (cap - n < READ_CHUNK) {
			cap = cap == 0 ? READ_CHUNK * 2 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				fprintf(stderr, "iketcpctl: out of memory\n");
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		if (poll(&pfd, 1, ANSWER_WAIT_MS) == 0) {
			fprintf(stderr, "iketcpctl: no answer within %d s\n",
			    ANSWER_WAIT_MS / 1000);
			free(buf);
			return NULL;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "iketcpctl: read: %s\n",
			    strerror(errno));
			free(buf);
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
main(int argc, char *argv[])
{
	const char *path = CONF_DEF_CONTROL_SOCKET;
	char req[CTL_REQ_MAX], *ans, *body;
	bool json = false;
	size_t len = 0, rl;
	int ch, fd, i;

	while ((ch = getopt(argc, argv, "+hjs:")) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	rl = 0;
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0) {
			json = true;
			continue;
		}
		if (strchr(argv[i], ' ') != NULL || strchr(argv[i], '\n') !=
		    NULL || rl + strlen(argv[i]) + 2 >= sizeof(req))
			usage();
		rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "%s%s",
		    rl > 0 ? " " : "", argv[i]);
	}
	if (json && strcmp(argv[optind], "metrics") != 0) {
		if (rl + 8 >= sizeof(req))
			usage();
		rl += (size_t)snprintf(req + rl, sizeof(req) - rl, " --json");
	}
	req[rl++] = '\n';

	fd = connect_to(path);
	if (write(fd, req, rl) != (ssize_t)rl) {
		fprintf(stderr, "iketcpctl: write to %s: %s\n", path,
		    strerror(errno));
		return EXIT_NO_DAEMON;
	}
	(void)shutdown(fd, SHUT_WR);
	if ((ans = read_answer(fd, &len)) == NULL)
		return EXIT_NO_DAEMON;
	close(fd);
	if ((body = memchr(ans, '\n', len)) == NULL) {
		fprintf(stderr, "iketcpctl: the daemon closed without an "
		    "answer\n");
		free(ans);
		return EXIT_NO_DAEMON;
	}
	*body++ = '\0';
	if (strncmp(ans, "ERR ", 4) == 0) {
		fprintf(stderr, "iketcpctl: %s\n", ans + 4);
		free(ans);
		return EXIT_REFUSED;
	}
	if (strcmp(ans, "OK") != 0) {
		fprintf(stderr, "iketcpctl: unexpected answer: %.80s\n", ans);
		free(ans);
		return EXIT_REFUSED;
	}
	fwrite(body, 1, len - (size_t)(body - ans), stdout);
	free(ans);
	return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
}
