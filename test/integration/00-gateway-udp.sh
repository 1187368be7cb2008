#!/usr/bin/env bash
# The harness itself: ikeclient sends IKE_SA_INIT over UDP straight to the
# strongSwan gateway (port 500 plain, port 4500 with the Non-ESP marker) and
# gets a valid response.  Proves the gateway, the capture and the client.
. "$(dirname "$0")/lib.sh"

topo_relay_gw

for port in 500 4500; do
	out=$(ikeclient R udp --to "$GW_ADDR:$port") ||
	    fail "UDP $port: $out"
	spi=$(jget spi_i <<<"$out")
	say "UDP $port: $(jget response.payloads rtt_ms <<<"$out" | tr '\n' ' ')"
	# The gateway logged the request from our address.
	wait_log "$(gw_log)" "received packet: from $RELAY_ADDR\[[0-9]+\] to $GW_ADDR\[$port\]" 5 ||
	    fail "gateway did not log the packet on $port"
	# On the wire: our request and the gateway's answer.
	n=$(pcap_json gw --spi "$spi" | jget count)
	[ "$n" = 2 ] || fail "UDP $port: $n datagrams with SPI $spi on the wire, want 2"
done
ok
