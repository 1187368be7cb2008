/*
 * esp/tun.c in a network namespace of the test's own (Criterion runs each
 * test in its own process, so unshare(CLONE_NEWNET) leaves the host alone).
 * Skipped where namespaces or /dev/net/tun are not available.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "esp/tun.h"

TestSuite(tun, .timeout = 10);

static void
own_netns(void)
{
	if (unshare(CLONE_NEWNET) == -1 || access("/dev/net/tun", R_OK) == -1)
		cr_skip_test("no network namespace or /dev/net/tun here");
}

Test(tun, opens_configures_and_routes_the_pool_to_the_device)
{
	static const uint8_t a4[4] = { 10, 77, 0, 1 };
	static const uint8_t a6[16] = { 0xfd, 0x77, [15] = 1 };
	char name[ESP_TUN_NAME_MAX];
	struct sockaddr_in dst;
	struct ifreq ifr;
	struct pollfd pfd;
	uint8_t pkt[2048];
	ssize_t n;
	int fd, s;

	own_netns();
	fd = esp_tun_open("iketcp-t0", name);
	cr_assert_geq(fd, 0);
	cr_assert_str_eq(name, "iketcp-t0");
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	cr_assert_eq(esp_tun_set_mtu(name, 1400), 0);
	cr_assert_eq(esp_tun_add_addr(name, 4, a4, 24), 0);
	cr_assert_eq(esp_tun_add_addr(name, 6, a6, 64), 0);
	cr_assert_eq(esp_tun_up(name), 0);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	cr_assert_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	cr_assert_eq(ifr.ifr_mtu, 1400);
	cr_assert_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	cr_assert(ifr.ifr_flags & IFF_UP);

	/* A datagram to a pool address comes out of the fd as bare IPv4. */
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(9);
	memcpy(&dst.sin_addr, (const uint8_t[4]){ 10, 77, 0, 2 }, 4);
	cr_assert_eq(sendto(s, "x", 1, 0, (struct sockaddr *)&dst,
	    sizeof(dst)), 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		cr_assert_eq(poll(&pfd, 1, 2000), 1);
		n = read(fd, pkt, sizeof(pkt));
		cr_assert_gt(n, 0);
		if (pkt[0] >> 4 == 4)
			break;		/* skip IPv6 router solicitations */
	}
	cr_assert_eq(n, 20 + 8 + 1);
	cr_assert_eq(pkt[9], 17);
	cr_assert_eq(memcmp(pkt + 16, (const uint8_t[4]){ 10, 77, 0, 2 }, 4),
	    0);
	close(s);
	close(fd);
}

Test(tun, refuses_bad_names_mtus_and_prefixes)
{
	static const uint8_t a4[4] = { 10, 77, 0, 1 };
	char name[ESP_TUN_NAME_MAX];
	int fd;

	own_netns();
	cr_assert_eq(esp_tun_open("", name), -1);
	cr_assert_eq(esp_tun_open("a-name-much-too-long", name), -1);
	fd = esp_tun_open("iketcp-t1", name);
	cr_assert_geq(fd, 0);
	cr_assert_eq(esp_tun_set_mtu(name, 1279), -1);
	cr_assert_eq(esp_tun_set_mtu(name, 65536), -1);
	cr_assert_eq(esp_tun_add_addr(name, 4, a4, 33), -1);
	cr_assert_eq(esp_tun_add_addr(name, 5, a4, 24), -1);
	cr_assert_eq(esp_tun_up("no-such-dev"), -1);
	close(fd);
}
