#!/usr/bin/env bash
# The connector's stream in TLS (RFC 9329 Appendix A), certificate verified
# against tls-ca with the server name tls-sni: strongSwan initiator ->
# connector -TLS-> relay (tls-listen) -> strongSwan gateway.  Ping and a
# 10 MB transfer; the stream is killed mid-transfer and the reconnect
# resumes the TLS session and the same IKE SA.  The C-R link carries
# only TLS records to port 443: no UDP, no cleartext prefix.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_tls_for_connector relay
connector_up cn "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/relay-tls.crt" tls-sni=relay.test
initiator_start
web_start

tunnel_up
spis=$(ike_spis)
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms over TLS"
wait_log "$T/cn.log" "session 1: TLS TLSv1\.3 .*sni=relay\.test" 1 ||
    fail "no TLS 1.3 line with the SNI"
ping_tunnel 10
say "ping $PING_RTT ms"
fetch_bg
fetch_wait
say "10 MB in $XFER_S s over TLS"

fetch_bg --limit-rate 2500k
sleep 1.5
killed_at=$(stat -c %s "$T/got")
ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :443 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream 2 to .* up" 5 || fail "no reconnect"
wait_log "$T/cn.log" "session 1: TLS TLSv1\.3 .*resumed" 1 ||
    fail "the reconnect did not resume the TLS session"
wait_log "$T/relay.log" "session re-attached" 10 ||
    fail "relay did not re-attach the new stream"
fetch_wait
say "killed after $killed_at bytes; TLS resumed; transfer completed in $XFER_S s"
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"
[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
    fail "the gateway authenticated the initiator again"

wire_check --port 443 --tls
[ "$(jget count <<<"$WIRE")" = 2 ] || fail "want 2 TLS streams: $WIRE"
[ "$(jget connections.0.down.appdata <<<"$WIRE")" -gt 100 ] ||
    [ "$(jget connections.1.down.appdata <<<"$WIRE")" -gt 100 ] ||
    fail "want the transfer in TLS records: $WIRE"
ok
