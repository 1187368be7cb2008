/*
 * relay/notify.c: READY=1 reaches the socket $NOTIFY_SOCKET names, by
 * path and in the abstract namespace; nothing is sent without it, and a
 * name that is no socket path is refused.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "relay/notify.h"

TestSuite(notify, .timeout = 10);

/* A datagram socket bound at @name ("/path" or "@abstract"). */
static int
listen_at(const char *name)
{
	struct sockaddr_un sun;
	size_t n = strlen(name);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
	return fd;
}

static void
expect_ready(int fd)
{
	char buf[64];
	ssize_t got = recv(fd, buf, sizeof(buf), 0);

	cr_assert_eq(got, 7);
	cr_assert_eq(memcmp(buf, "READY=1", 7), 0);
}

Test(notify, sends_ready_to_a_path)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/notify-test.%d", (int)getpid());
	unlink(path);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(notify_ready(), 0);
	expect_ready(fd);
	close(fd);
	unlink(path);
}

Test(notify, sends_ready_to_an_abstract_name)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@notify-test.%d", (int)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	cr_assert_eq(notify_ready(), 0);
	expect_ready(fd);
	close(fd);
}

Test(notify, does_nothing_without_the_variable)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(notify_ready(), 0);
}

Test(notify, refuses_a_name_that_is_no_socket_path)
{
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	cr_assert_eq(notify_ready(), -1);
}
