#!/usr/bin/env bash
# gateway-source: the relay's UDP legs to a real strongSwan gateway leave
# from the listed local addresses in turn, and a new session moves on to
# the next address when one has no free port, so each address adds a
# port range (issue 13: ~28 000 sessions per source address and gateway
# port).  The relay namespace's ephemeral range is cut to two ports, so
# two addresses carry four sessions, the gateway answers each at the
# address it came from, and a fifth is refused with one clear line.
# iketcpd -t refuses an address this host does not have, with its line.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
ip -n "$(ns R)" addr add 192.0.2.11/24 dev vG
ip -n "$(ns R)" addr add 192.0.2.12/24 dev vG
ip netns exec "$(ns R)" sysctl -qw net.ipv4.ip_local_port_range="40000 40001"

# An address that is not ours: refused by -t with file:line.
relay_conf "$T/bad.conf" gateway-source=192.0.2.11 gateway-source=192.0.2.99
rc=0
ip netns exec "$(ns R)" timeout 10 "$IKETCPD" -t -f "$T/bad.conf" \
    >"$T/bad.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "gateway-source not on this host: exit $rc, want 1"
grep -Eq "^$T/bad.conf:[0-9]+: \[relay t\]: gateway-source 192.0.2.99: " \
    "$T/bad.log" || fail "want file:line naming the address: $(cat "$T/bad.log")"

# The clients connect from G: R's two ephemeral ports are the UDP legs'.
relay_up relay 4500 "listen=$RELAY_ADDR:4500" gateway-source=192.0.2.11 \
    gateway-source=192.0.2.12 linger=60s
declare -A by_src=()
for i in 1 2 3 4; do
	out=$(ikeclient G init --connect "$RELAY_ADDR:4500") ||
	    fail "session $i: no IKE_SA_INIT response: $out"
	spi=$(jget spi_i <<<"$out")
	pj=$(pcap_json gw --spi "$spi")
	[ "$(jget count <<<"$pj")" = 2 ] ||
	    fail "session $i: want request and response: $pj"
	read -r src dst <<<"$(jget packets.0.src packets.1.dst <<<"$pj" |
	    tr '\n' ' ')"
	[ "$src" = "$dst" ] || fail "session $i: answered to $dst, not $src"
	by_src[$src]=$(( ${by_src[$src]:-0} + 1 ))
done
say "sources: 192.0.2.11 x${by_src[192.0.2.11]:-0}, 192.0.2.12 x${by_src[192.0.2.12]:-0}"
[ "${by_src[192.0.2.11]:-0}" = 2 ] && [ "${by_src[192.0.2.12]:-0}" = 2 ] ||
    fail "want two sessions from each source: ${!by_src[*]} ${by_src[*]}"

# All four (address, port) pairs are held by lingering sessions.
out=$(ikeclient G init --connect "$RELAY_ADDR:4500" --timeout 2 2>&1) &&
    fail "a fifth session got through with no port left: $out"
wait_log "$T/relay.log" "\[relay t\]: no gateway-source with a free port" 5 ||
    fail "no line for the refused session"
kill -0 "$RELAY_DPID" || fail "relay died"
relay_sigterm
ok
