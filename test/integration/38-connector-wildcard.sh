#!/usr/bin/env bash
# udp-listen = *:500 and *:4500 on a host with several addresses: the
# initiator calls 203.0.113.1, and every reply must come from 203.0.113.1
# (the kernel alone would pick 198.51.100.1, the route's source), so the
# connector answers with the address each datagram was sent to
# (IP_PKTINFO).  The tunnel comes up and the initiator's log shows
# packets from 203.0.113.1 only.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
CN_LISTEN='*' connector_up cn
initiator_start
tunnel_up
ping_tunnel 5
say "IKE in $IKE_MS ms, ping $PING_RTT ms with udp-listen *"
froms=$(sed -nE 's/.*received packet: from ([^[]+)\[.*/\1/p' \
    "$T/init/charon.log" | sort -u | tr '\n' ' ')
[ "$froms" = "$CN_ADDR " ] ||
    fail "the initiator received packets from '$froms', want $CN_ADDR only"
ok
