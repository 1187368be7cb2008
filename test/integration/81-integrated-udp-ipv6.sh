#!/usr/bin/env bash
# 80-integrated-udp with IPv6 outer addresses: udp-listen on
# [fd00:cc::2]:500 and :4500, the strongSwan initiator on fd00:cc::1, no
# NAT anywhere, as for a phone on IPv6: the server has udp-encap = yes,
# so the initiator (without encap = yes) still puts ESP in UDP.
UDP_FAMILY=6 UDP_ENCAP=server exec "$(dirname "$0")/80-integrated-udp.sh"
