/*
 * TUN device set-up through /dev/net/tun and interface ioctl()s.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "esp/tun.h"
#include "relay/log.h"

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < ESP_TUN_NAME_MAX;
}

int
esp_tun_open(const char *name, char ifname[ESP_TUN_NAME_MAX])
{
	struct ifreq ifr;
	int fd;

	if (!name_ok(name)) {
		log_warnx("esp: tun name \"%s\" not 1..%d characters", name,
		    ESP_TUN_NAME_MAX - 1);
		return -1;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) ==
	    -1) {
		log_warn("esp: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		log_warn("esp: TUNSETIFF %s", name);
		close(fd);
		return -1;
	}
	memcpy(ifname, ifr.ifr_name, ESP_TUN_NAME_MAX);
	ifname[ESP_TUN_NAME_MAX - 1] = '\0';
	return fd;
}

/* An ifreq naming @ifname, and a socket of @family to issue it on. */
static int
ctl_socket(int family, const char *ifname, struct ifreq *ifr)
{
	int s;

	if (!name_ok(ifname)) {
		log_warnx("esp: interface name \"%s\" too long", ifname);
		return -1;
	}
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	if ((s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		log_warn("esp: socket for %s", ifname);
	return s;
}

int
esp_tun_set_mtu(const char *ifname, unsigned mtu)
{
	struct ifreq ifr;
	int s, rc = -1;

	if (mtu < ESP_TUN_MTU_MIN || mtu > ESP_TUN_MTU_MAX) {
		log_warnx("esp: %s mtu %u not in %d..%d", ifname, mtu,
		    ESP_TUN_MTU_MIN, ESP_TUN_MTU_MAX);
		return -1;
	}
	if ((s = ctl_socket(AF_INET, ifname, &ifr)) == -1)
		return -1;
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1)
		log_warn("esp: %s mtu %u", ifname, mtu);
	else
		rc = 0;
	close(s);
	return rc;
}

static int
add_v4(const char *ifname, const uint8_t *addr, unsigned prefixlen)
{
	struct ifreq ifr;
	struct sockaddr_in sin;
	uint32_t mask;
	int s, rc = -1;

	if (prefixlen > 32) {
		log_warnx("esp: %s prefix length %u > 32", ifname, prefixlen);
		return -1;
	}
	if ((s = ctl_socket(AF_INET, ifname, &ifr)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, addr, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(s, SIOCSIFADDR, &ifr) == -1) {
		log_warn("esp: %s SIOCSIFADDR", ifname);
		goto out;
	}
	mask = prefixlen == 0 ? 0 : UINT32_MAX << (32 - prefixlen);
	sin.sin_addr.s_addr = htonl(mask);
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	if (ioctl(s, SIOCSIFNETMASK, &ifr) == -1) {
		log_warn("esp: %s SIOCSIFNETMASK /%u", ifname, prefixlen);
		goto out;
	}
	rc = 0;
out:
	close(s);
	return rc;
}

static int
add_v6(const char *ifname, const uint8_t *addr, unsigned prefixlen)
{
	struct ifreq ifr;
	struct in6_ifreq r6;
	int s, rc = -1;

	if (prefixlen > 128) {
		log_warnx("esp: %s prefix length %u > 128", ifname,
		    prefixlen);
		return -1;
	}
	if ((s = ctl_socket(AF_INET6, ifname, &ifr)) == -1)
		return -1;
	if (ioctl(s, SIOCGIFINDEX, &ifr) == -1) {
		log_warn("esp: %s SIOCGIFINDEX", ifname);
		goto out;
	}
	memset(&r6, 0, sizeof(r6));
	memcpy(&r6.ifr6_addr, addr, 16);
	r6.ifr6_prefixlen = prefixlen;
	r6.ifr6_ifindex = ifr.ifr_ifindex;
	if (ioctl(s, SIOCSIFADDR, &r6) == -1) {
		log_warn("esp: %s SIOCSIFADDR (IPv6) /%u", ifname, prefixlen);
		goto out;
	}
	rc = 0;
out:
	close(s);
	return rc;
}

int
esp_tun_add_addr(const char *ifname, int family, const uint8_t *addr,
    unsigned prefixlen)
{
	if (family == 4)
		return add_v4(ifname, addr, prefixlen);
	if (family == 6)
		return add_v6(ifname, addr, prefixlen);
	log_warnx("esp: %s address family %d", ifname, family);
	return -1;
}

int
esp_tun_up(const char *ifname)
{
	struct ifreq ifr;
	int s, rc = -1;

	if ((s = ctl_socket(AF_INET, ifname, &ifr)) == -1)
		return -1;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		log_warn("esp: %s SIOCGIFFLAGS", ifname);
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		log_warn("esp: %s SIOCSIFFLAGS up", ifname);
		goto out;
	}
	rc = 0;
out:
	close(s);
	return rc;
}
