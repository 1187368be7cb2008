#!/usr/bin/env bash
# RFC 9329 §6 in the integrated role: the client's TLS stream to the
# integrated server is killed (ss -K: RST both ways) in the middle of a
# 10 MB download through the tunnel.  The connector reconnects (resuming
# TLS), the server re-attaches the new stream to the session by SPI, and
# the transfer completes with the right SHA-256 on the same IKE SA: the
# SPIs swanctl lists are unchanged, the server established one IKE SA and
# authenticated the initiator once, the initiator authenticated the
# server once (no re-authentication either way), and the server's log has
# the re-attach line.
. "$(dirname "$0")/lib.sh"

# The initiator's DPD every 2 s: after the kill the client may have
# nothing to send (curl has ACKed all it got) and the connector sends
# nothing of its own, so without a request from the initiator the new
# stream names no session and the server closes it at its handshake
# deadline (seen under ASan).  A DPD INFORMATIONAL re-attaches it by IKE
# SPI within 2 s.
INIT_CONN_EXTRA="		dpd_delay = 2s"
integ_topo
tls_cert srv-tls vpn.test
integ_server_up srv "tls-listen=$RELAY_C_ADDR:443" \
    "tls-cert=$T/srv-tls.crt" "tls-key=$T/srv-tls.key"
wait_tcp_listen R 443 5 || fail "server: no TLS listener"
connector_up cn "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/srv-tls.crt" tls-sni=vpn.test \
    reconnect-min=100ms reconnect-max=2s
initiator_start

tunnel_up
spis=$(ike_spis)
[ -n "$spis" ] || fail "no IKE SA listed"
say "IKE SA $spis up in $IKE_MS ms"
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
ping_tunnel 3

WEB_NS=R web_start
kill_mid_transfer 443 "$T/srv.log"
say "transfer completed in $XFER_S s across the reconnect, SHA-256 ok"
grep -q "session 1: TLS TLSv1\.3 .*resumed" "$T/cn.log" &&
    say "the reconnect resumed the TLS session"

[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"
n=$(count_log "$T/srv.log" "IKE_SA [0-9a-f]+_[0-9a-f]+ established")
[ "$n" = 1 ] || fail "server established $n IKE SAs, want 1"
n=$(count_log "$T/srv.log" "authenticated")
[ "$n" = 1 ] || fail "server authenticated $n times, want 1"
n=$(count_log "$T/init/charon.log" "authentication of 'responder.test'.*successful")
[ "$n" = 1 ] || fail "the initiator authenticated the server $n times"
n=$(count_log "$T/srv.log" "session re-attached")
say "server: $(grep -m1 "session re-attached" "$T/srv.log" | sed 's/^.*stream/stream/')"
[ "$n" -ge 1 ] || fail "no re-attach line"
ping_tunnel 3
ok
