#!/usr/bin/env bash
# Two concurrent streams are two sessions: the gateway sees two distinct UDP
# source ports, each carrying only its own stream's IKE SA.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500

client_bg A init --connect 127.0.0.1:4500 --keep-open 2
client_bg B init --connect 127.0.0.1:4500 --keep-open 2
client_wait A || fail "A: $(client_json A)"
client_wait B || fail "B: $(client_json B)"

ports=()
for c in A B; do
	spi=$(client_json "$c" | jget spi_i)
	p=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR" | jget sports)
	case $p in
	""|*" "*) fail "$c: SPIi $spi came from port(s) '$p', want one" ;;
	esac
	grep -Eq "received packet: from $RELAY_ADDR\[$p\]" "$(gw_log)" ||
	    fail "$c: gateway did not log port $p"
	say "$c: SPIi $spi from $RELAY_ADDR:$p"
	ports+=("$p")
done
[ "${ports[0]}" != "${ports[1]}" ] ||
    fail "both streams used UDP source port ${ports[0]}"
ok
