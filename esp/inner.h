/*
 * The inner packet of an inbound tunnel-mode ESP packet: header sanity and
 * the traffic-selector check (RFC 4301 §5.2: after decryption, "check
 * whether the packet's headers match the selectors of the SA").
 */
#ifndef IKETCP_ESP_INNER_H
#define IKETCP_ESP_INNER_H

#include <stddef.h>
#include <stdint.h>

#include "esp/esp.h"

struct esp_ts;

/*
 * @pkt[0 .. len) is what ESP carried with Next Header @nh, padding
 * removed.  Validates the IPv4 / IPv6 header before reading it (version
 * matches @nh, header length, total length <= @len; less is TFC padding,
 * RFC 4303 §2.7) and requires the source address, and the protocol and
 * source port where a selector restricts them, to match one of @ts.  A
 * selector with a port range other than 0..65535 matches only a packet
 * whose port is visible: a first (or only) fragment of TCP, UDP, SCTP,
 * UDP-Lite, or ICMP/ICMPv6 (Type << 8 | Code).
 *
 * Returns ESP_OK with *ip_len the IP packet's own length, ESP_DROP_NEXT_HDR,
 * ESP_DROP_INNER or ESP_DROP_TS.
 */
enum esp_result esp_inner_check(const uint8_t *pkt, size_t len, uint8_t nh,
	    const struct esp_ts *ts, size_t nts, size_t *ip_len);

#endif /* IKETCP_ESP_INNER_H */
