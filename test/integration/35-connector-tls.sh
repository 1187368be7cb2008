#!/usr/bin/env bash
# The connector's stream in TLS (RFC 9329 Appendix A), certificate verified
# against tls-ca with the server name tls-sni: strongSwan initiator ->
# connector -TLS-> relay (tls-listen) -> strongSwan gateway.  Ping and a
# 10 MB transfer; the stream is killed mid-transfer and the reconnect
# resumes the TLS session and the same IKE SA; killed again while idle, the
# new stream is named at once by a copy of the initiator's last ESP message
# (pings from behind the gateway get through).  The C-R link carries
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

kill_mid_transfer 443 "$T/relay.log"
wait_log "$T/cn.log" "session 1: TLS TLSv1\.3 .*resumed" 1 ||
    fail "the reconnect did not resume the TLS session"
say "TLS resumed; transfer completed in $XFER_S s"
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"
[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
    fail "the gateway authenticated the initiator again"

# Idle, and the initiator sends nothing of its own (no DPD): the stream is
# killed, and only the far side has traffic for the client.  The reconnect
# opens with a copy of the initiator's last ESP message, so the relay
# re-attaches the new stream by ESP SPI at once and pings from behind the
# gateway reach the client's virtual IP.  Without that copy the relay
# could not name the new stream until the initiator spoke.
vip=$(ns_exec C ip -4 -o addr show | grep -oE "${GW_POOL_PFX:-10\.99\.0}\.[0-9]+" |
    head -n 1)
[ -n "$vip" ] || fail "no virtual IP on the initiator"
n0=$(count_log "$T/relay.log" "session re-attached by ESP SPI")
ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :443 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream 3 to .* up" 5 || fail "no second reconnect"
out=$(ns_exec G ping -n -c 10 -i 0.2 -W 2 -I "$SVC_ADDR" "$vip" 2>&1) || true
rx=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out")
[ "${rx:-0}" -ge 8 ] || fail "pings from behind the gateway to $vip after \
an idle reconnect: $out"
[ "$(count_log "$T/relay.log" "session re-attached by ESP SPI")" -gt "$n0" ] ||
    fail "the idle reconnect was not re-attached by ESP SPI"
say "idle reconnect: re-attached by ESP SPI, $rx/10 pings from behind the \
gateway reached $vip"
st=$(cn_stats)
grep -q "named by a replayed ESP 2)" <<<"$st" ||
    fail "want two streams named by a replayed ESP: $st"

wire_check --port 443 --tls
[ "$(jget count <<<"$WIRE")" = 3 ] || fail "want 3 TLS streams: $WIRE"
[ "$(jget connections.0.down.appdata <<<"$WIRE")" -gt 100 ] ||
    [ "$(jget connections.1.down.appdata <<<"$WIRE")" -gt 100 ] ||
    fail "want the transfer in TLS records: $WIRE"
ok
