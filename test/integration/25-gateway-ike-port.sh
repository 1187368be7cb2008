#!/usr/bin/env bash
# gateway-ike-port: unmodified strongSwan initiator -> connector -> TCP
# stream -> relay (gateway-ike-port = 500, gateway port 4500) -> unmodified
# strongSwan gateway.  The tunnel comes up and pings; a capture in the
# gateway's namespace shows the IKE_SA_INIT request arriving on UDP 500
# bare (its first four octets are the SPIi, not the Non-ESP marker) and
# IKE_AUTH on UDP 4500 behind the marker, as a NAT-T initiator floats
# (RFC 7296 §2.23).  iketcpd -t refuses "gateway = X:500" alone.
. "$(dirname "$0")/lib.sh"
need_iketcpd

# Marked IKE must never go to port 500.
relay_conf "$T/bad.conf" "listen=127.0.0.1:4500"
sed -i "s/^gateway = .*/gateway = $GW_ADDR:500/" "$T/bad.conf"
rc=0
timeout 10 "$IKETCPD" -t -f "$T/bad.conf" >"$T/bad.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "gateway = X:500 alone: exit $rc, want 1"
grep -Eq "^$T/bad.conf:[0-9]+: .*gateway $GW_ADDR:500" "$T/bad.log" ||
    fail "want file:line naming the gateway: $(cat "$T/bad.log")"
printf 'gateway-ike-port = 500\n' >>"$T/bad.conf"
sed -i "s/^gateway = .*/gateway = $GW_ADDR:4500/" "$T/bad.conf"
timeout 10 "$IKETCPD" -t -f "$T/bad.conf" >"$T/good.log" 2>&1 ||
    fail "gateway :4500 with gateway-ike-port = 500 refused: \
$(cat "$T/good.log")"

topo_connector
capture_start gw G vR udp
relay_for_connector relay "gateway-ike-port=500"
connector_up cn
initiator_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms"
ping_tunnel 5
say "ping RTT through the tunnel: $PING_RTT ms"
sleep 0.5

P=$(pcap_json gw --payload)
# The request to port 500: bare, from the relay.
init=$("$IKT_PY" -c '
import json, sys
d = json.load(sys.stdin)
for p in d["packets"]:
	if p["dport"] == 500 and p.get("exchange") == 34 and \
	    not (p.get("flags", 0) & 0x20):
		print(p["hex"][:8], p["spi_i"], p["sport"])
		break
' <<<"$P")
[ -n "$init" ] || fail "no IKE_SA_INIT request on UDP 500: $P"
read -r first spi sport <<<"$init"
[ "$first" != 00000000 ] && [ "$first" = "${spi:0:8}" ] ||
    fail "IKE_SA_INIT on 500 not bare: starts $first, SPIi $spi"
say "IKE_SA_INIT to UDP 500 from port $sport, first octets $first (SPIi)"
# IKE_AUTH (exchange 35) to port 4500, behind the marker.
auth=$("$IKT_PY" -c '
import json, sys
d = json.load(sys.stdin)
for p in d["packets"]:
	if p["dport"] == 4500 and p.get("exchange") == 35:
		print(p["hex"][:8], p["sport"])
		break
' <<<"$P")
[ -n "$auth" ] || fail "no IKE_AUTH on UDP 4500: $P"
read -r first sport4500 <<<"$auth"
[ "$first" = 00000000 ] || fail "IKE_AUTH on 4500 without the marker"
say "IKE_AUTH to UDP 4500 from port $sport4500 behind the marker"
# Nothing marked reaches port 500, nothing bare but IKE_SA_INIT.
bad=$("$IKT_PY" -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for p in d["packets"] if p["dport"] == 500 and
    (p["hex"][:8] == "00000000" or p.get("exchange") != 34)))
' <<<"$P")
[ "$bad" = 0 ] || fail "$bad datagrams to 500 besides bare IKE_SA_INIT: $P"
ok
