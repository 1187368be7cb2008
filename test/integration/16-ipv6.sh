#!/usr/bin/env bash
# A listener on [::1] works end to end (the gateway stays IPv4).
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500 "listen=[::1]:4500"

for prefix in iketcp ikev2; do
	out=$(ikeclient R init --connect "[::1]:4500" --prefix "$prefix") ||
	    fail "$prefix: $out"
	spi=$(jget spi_i <<<"$out")
	cport=$(jget local_port <<<"$out")
	[ "$(pcap_json gw --spi "$spi" | jget count)" = 2 ] ||
	    fail "$prefix: request and response not on the gateway's wire"
	wait_stream_log relay "$cport" "session new" ||
	    fail "$prefix: no session logged for [::1]:$cport"
done
# Nothing on the IPv4 loopback.
out=$(ikeclient R raw --connect 127.0.0.1:4500 --wait 0.5 2>&1) &&
    fail "something listens on 127.0.0.1:4500: $out"
ok
