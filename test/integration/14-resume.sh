#!/usr/bin/env bash
# Resumption (RFC 9329 section 6): stream A sends IKE_SA_INIT (SPIi X) and
# is closed by the client; within linger, stream B sends the same request
# again (a retransmission) and gets the gateway's cached response, which the
# gateway sent to the same UDP source port as for A.  After linger, a new
# stream with SPIi X gets a fresh session and another port.  A stream never
# re-attaches to a session whose stream is alive.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500 linger=3s

# A: request, response, close.
outA=$(ikeclient R init --connect 127.0.0.1:4500 --save-req "$T/req") ||
    fail "A: $outA"
spi=$(jget spi_i <<<"$outA")
portA=$(jget local_port <<<"$outA")
wait_stream_log relay "$portA" "closed" 3 || fail "relay did not see A close"

# B within linger: the same bytes again.
outB=$(ikeclient R init --connect 127.0.0.1:4500 --load-req "$T/req") ||
    fail "B: $outB"
portB=$(jget local_port <<<"$outB")
[ "$(jget spi_r <<<"$outB")" = "$(jget spi_r <<<"$outA")" ] ||
    fail "B got another IKE SA (SPIr $(jget spi_r <<<"$outB"), A had $(jget spi_r <<<"$outA"))"
wait_stream_log relay "$portB" "session (re-attached|tentative)" 3 ||
    fail "B: no re-attach logged"
pj=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR")
[ "$(jget count <<<"$pj")" = 2 ] || fail "want A's and B's request: $pj"
p1=$(jget sports <<<"$pj")
case $p1 in
""|*" "*) fail "A and B reached the gateway from ports '$p1', want one" ;;
esac
say "A and B: SPIi $spi from $RELAY_ADDR:$p1"
[ "$(count_log "$(gw_log)" "sending packet: from $GW_ADDR\[4500\] to $RELAY_ADDR\[$p1\]")" -ge 2 ] ||
    fail "gateway did not answer both on port $p1"

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

# After linger (3 s since A's and B's streams closed): fresh session.
sleep 3.5
outC=$(ikeclient R init --connect 127.0.0.1:4500 --load-req "$T/req" \
    --timeout 2) || true
portC=$(jget local_port <<<"$outC")
wait_stream_log relay "$portC" "session new" 3 ||
    fail "C: no new session after linger"
pj=$(pcap_json gw --spi "$spi" --src "$RELAY_ADDR")
[ "$(jget count <<<"$pj")" = 3 ] || fail "want 3 requests with X: $pj"
p3=$(jget packets.2.sport <<<"$pj")
[ "$p3" != "$p1" ] || fail "after linger the gateway still sees port $p1"
say "after linger: from port $p3"
ok
