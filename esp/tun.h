/*
 * The TUN device of integrated mode (`tun = iketcp0`): decapsulated inner
 * packets are written to it and packets routed to the pool's addresses are
 * read from it.  Linux only (/dev/net/tun, IFF_TUN | IFF_NO_PI: each read
 * or write is one bare IPv4 / IPv6 packet).
 *
 * All of these need CAP_NET_ADMIN: call them before dropping privileges.
 * Configuration uses ioctl()s on a throwaway datagram socket; adding an
 * address with its prefix length also installs the connected route to the
 * pool, which is the only route integrated mode needs.
 */
#ifndef IKETCP_ESP_TUN_H
#define IKETCP_ESP_TUN_H

#include <stdint.h>

enum {
	ESP_TUN_NAME_MAX	= 16,	/* IFNAMSIZ, NUL included */
	ESP_TUN_MTU_MIN		= 1280,	/* IPv6 minimum link MTU */
	ESP_TUN_MTU_MAX		= 65535
};

/*
 * Creates (or attaches to) the TUN device @name, non-blocking and
 * close-on-exec.  Returns the fd, or -1 (logged).  The kernel's name for it
 * (the same as @name unless @name holds a %d pattern) goes to @ifname.
 */
int	esp_tun_open(const char *name, char ifname[ESP_TUN_NAME_MAX]);

int	esp_tun_set_mtu(const char *ifname, unsigned mtu);

/*
 * Adds @addr (4 or 16 octets, network order, @family 4 or 6) with
 * @prefixlen to the device.
 */
int	esp_tun_add_addr(const char *ifname, int family, const uint8_t *addr,
	    unsigned prefixlen);

/* Sets IFF_UP (and IFF_RUNNING follows once the fd is open). */
int	esp_tun_up(const char *ifname);

#endif /* IKETCP_ESP_TUN_H */
