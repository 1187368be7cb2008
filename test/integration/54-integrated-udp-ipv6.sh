#!/usr/bin/env bash
# 53-integrated-udp with IPv6 outer addresses: udp-listen on
# [fd00:cc::2]:500 and :4500, the strongSwan initiator on fd00:cc::1.
UDP_FAMILY=6 exec "$(dirname "$0")/53-integrated-udp.sh"
