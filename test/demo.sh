#!/usr/bin/env bash
# make demo: an unmodified strongSwan gateway in its own network namespace,
# iketcpd relaying RFC 9329 streams to it, and a client that sends a real
# IKE_SA_INIT over TCP.  Shows what crossed each side, then removes every
# namespace and process it started.  (The full strongSwan-to-strongSwan
# tunnel through the connector arrives with the connector role.)
IKETCPD=${1:-build/iketcpd}
export IKETCPD
. "$(dirname "$0")/integration/lib.sh"

topo_relay_gw
relay_up relay 4500
say "gateway: strongSwan $(/usr/lib/ipsec/charon --version 2>/dev/null || echo 5.9) at $GW_ADDR (namespace $(ns G))"
say "relay:   iketcpd listening on 127.0.0.1:4500 (namespace $(ns R))"
for prefix in iketcp ikev2; do
	t0=$(date +%s%N)
	out=$(ikeclient R init --connect 127.0.0.1:4500 --prefix "$prefix") ||
	    fail "$prefix: $out"
	t1=$(date +%s%N)
	say "client ($prefix prefix): IKE_SA_INIT answered in $(( (t1 - t0) / 1000000 )) ms," \
	    "SPIi $(jget spi_i <<<"$out"), payloads $(jget responses.0.payloads <<<"$out" | tr '\n' ' ')"
done
pj=$(pcap_json gw)
say "gateway side: $(jget count <<<"$pj") UDP datagrams captured on the gateway link"
kill -USR1 "$RELAY_DPID" 2>/dev/null || true
sleep 0.3
say "relay log:"
grep -E "open from|session|closed|stats" "$T/relay.log" | sed 's/^/    /'
ok
