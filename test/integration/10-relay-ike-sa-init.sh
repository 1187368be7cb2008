#!/usr/bin/env bash
# client -> relay (TCP, "IKETCP" and "IKEv2" prefixes) -> strongSwan: a
# real IKE_SA_INIT response comes back framed.  On the wire the gateway
# gets the framed message byte for byte (Non-ESP marker included) on UDP
# 4500, and the client gets the gateway's datagram byte for byte.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500

for prefix in iketcp ikev2; do
	out=$(ikeclient R init --connect 127.0.0.1:4500 --prefix "$prefix" \
	    --save-req "$T/req-$prefix" --save-resp "$T/resp-$prefix") ||
	    fail "$prefix: $out"
	spi=$(jget spi_i <<<"$out")
	cport=$(jget local_port <<<"$out")
	say "$prefix: SPIi $spi, payloads $(jget responses.0.payloads <<<"$out")"

	pj=$(pcap_json gw --spi "$spi" --payload)
	[ "$(jget count <<<"$pj")" = 2 ] ||
	    fail "$prefix: want 2 datagrams with SPIi $spi: $pj"
	read -r src dport <<<"$(jget packets.0.src packets.0.dport <<<"$pj" |
	    tr '\n' ' ')"
	[ "$src" = "$RELAY_ADDR" ] && [ "$dport" = 4500 ] ||
	    fail "$prefix: request went $src -> port $dport"
	[ "$(jget packets.0.hex <<<"$pj")" = "00000000$(hexof "$T/req-$prefix")" ] ||
	    fail "$prefix: the datagram is not marker + request byte for byte"
	[ "$(jget packets.1.hex <<<"$pj")" = "$(hexof "$T/resp-$prefix")" ] ||
	    fail "$prefix: the framed response differs from the datagram"

	wait_stream_log relay "$cport" "open" ||
	    fail "$prefix: no 'stream open' line"
	wait_stream_log relay "$cport" "session new" ||
	    fail "$prefix: no 'session new' line"
done
ok
