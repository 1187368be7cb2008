#!/usr/bin/env bash
# Resumption (RFC 9329 section 6) and what does not resume: stream A sends
# IKE_SA_INIT (SPIi X) and is closed by the client; within linger, stream
# B's retransmission of that request names no SA yet (SPIr 0) and gets a
# session and a gateway-side port of its own, where the gateway's cached
# answer arrives; stream P naming A's SA by its SPI pair with a forged
# message must prove itself on a port of its own and receives nothing.
# After linger, a new stream with SPIi X gets a fresh session and another
# port.  A stream never re-attaches to a session whose stream is alive.
# (The proven resume, by strongSwan through the connector, is 31 and 60.)
. "$(dirname "$0")/lib.sh"

topo_relay_gw
# linger long enough that A, B, P, D and E fit in it on a loaded machine;
# C waits for its end, counted from B's close.
LINGER=8
relay_up relay 4500 linger=${LINGER}s

# A: request, response, close.
outA=$(ikeclient R init --connect 127.0.0.1:4500 --save-req "$T/req") ||
    fail "A: $outA"
spi=$(jget spi_i <<<"$outA")
portA=$(jget local_port <<<"$outA")
wait_stream_log relay "$portA" "closed" 3 || fail "relay did not see A close"

# B within linger: the same bytes again.  An IKE_SA_INIT request (SPIr 0)
# names no SA, so it is no re-attach: B gets a session of its own, and
# the gateway answers the retransmission where it came from (RFC 7296
# section 2.11), B's own port.
outB=$(ikeclient R init --connect 127.0.0.1:4500 --load-req "$T/req") ||
    fail "B: $outB"
portB=$(jget local_port <<<"$outB")
spir=$(jget spi_r <<<"$outA")
[ "$(jget spi_r <<<"$outB")" = "$spir" ] ||
    fail "B got another IKE SA (SPIr $(jget spi_r <<<"$outB"), A had $spir)"
wait_stream_log relay "$portB" "session new" 3 ||
    fail "B: an IKE_SA_INIT re-attached to A's session"
wait_stream_log relay "$portB" "closed" 3 || fail "relay did not see B close"
b_closed=$EPOCHREALTIME
pj=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR")
[ "$(jget count <<<"$pj")" = 2 ] || fail "want A's and B's request: $pj"
p1=$(jget packets.0.sport <<<"$pj")
p2=$(jget packets.1.sport <<<"$pj")
[ "$p1" != "$p2" ] || fail "A and B reached the gateway from one port $p1"
say "A from port $p1, B from port $p2, both answered with SPIr $spir"

# P within linger names A's SA by its SPI pair with a forged IKE_AUTH
# (message ID 1, an SK payload of zeros): it must prove itself, on a
# gateway-side port of its own, and gets nothing, since the gateway
# drops what it cannot authenticate.
forged=00000000${spi}${spir}2e20230800000001000000402300002400$(printf '0%.0s' $(seq 62))
outP=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --hex "0046$forged" --wait 2 --expect-open) || fail "P: $outP"
portP=$(jget local_port <<<"$outP")
wait_stream_log relay "$portP" "re-attach by IKE SPI $spi.*to be proven" 3 ||
    fail "P: no probe logged"
[ "$(jget received <<<"$outP")" = 0 ] ||
    fail "P, unproven, received $(jget received <<<"$outP") bytes"
pj=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR")
[ "$(jget count <<<"$pj")" = 3 ] || fail "want A's, B's and P's: $pj"
p3=$(jget packets.2.sport <<<"$pj")
[ "$p3" != "$p1" ] && [ "$p3" != "$p2" ] ||
    fail "P's forgery left from the session's own port $p3"
say "P: forged IKE_AUTH from its own port $p3, nothing delivered"

# Never onto a live stream: D holds a session open, E sends D's request.
client_bg D init --connect 127.0.0.1:4500 --save-req "$T/reqD" --keep-open 3
for i in $(seq 30); do [ -s "$T/reqD" ] && break; sleep 0.1; done
sleep 0.3
outE=$(ikeclient R init --connect 127.0.0.1:4500 --load-req "$T/reqD" \
    --timeout 2) || true
portE=$(jget local_port <<<"$outE")
wait_stream_log relay "$portE" "session new" 3 ||
    fail "E re-attached to D's live session"
client_wait D || fail "D: $(client_json D)"
[ "$(client_json D | jget closed_while_open)" = false ] ||
    fail "D's stream was closed while E came"
spiD=$(client_json D | jget spi_i)
pD=$(pcap_json gw --spi "$spiD" --src "$RELAY_ADDR" | jget sports)
case $pD in
*" "*) ;;
*) fail "D's and E's requests came from one port ($pD)" ;;
esac

# After linger (since A's and B's streams closed): fresh session.
left=$(awk -v b="$b_closed" -v now="$EPOCHREALTIME" -v l="$LINGER" \
    'BEGIN { d = b + l + 0.5 - now; print (d > 0 ? d : 0) }')
sleep "$left"
outC=$(ikeclient R init --connect 127.0.0.1:4500 --load-req "$T/req" \
    --timeout 2) || true
portC=$(jget local_port <<<"$outC")
wait_stream_log relay "$portC" "session new" 3 ||
    fail "C: no new session after linger"
pj=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR")
[ "$(jget count <<<"$pj")" = 4 ] || fail "want 4 messages with X: $pj"
p4=$(jget packets.3.sport <<<"$pj")
[ "$p4" != "$p2" ] || fail "after linger the gateway still sees port $p2"
say "after linger: from port $p4"
ok
