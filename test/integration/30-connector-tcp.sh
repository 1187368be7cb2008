#!/usr/bin/env bash
# Unmodified strongSwan initiator -> connector (UDP 500/4500) -> TCP stream
# -> relay -> unmodified strongSwan gateway.  The tunnel comes up with a
# virtual IP, pings and a 10 MB transfer pass, the initiator's NAT
# keepalives (every 1 s here) stay off the stream, and the C-R link
# carries nothing but TCP to the relay: "IKETCP", then IKE and ESP frames.
. "$(dirname "$0")/lib.sh"

INIT_CHARON_EXTRA="keep_alive = 1s"
topo_connector
relay_for_connector relay
connector_up cn
initiator_start
web_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms"
grep -q "transport tcp" "$T/cn.log" || fail "no 'transport tcp' logged"
spis=$(ike_spis)
[ -n "$spis" ] || fail "no IKE SA listed"

ping_tunnel 10
say "ping RTT through the tunnel: $PING_RTT ms"
fetch_bg
fetch_wait
say "10 MB through the tunnel in $XFER_S s"
sleep 2.5	# idle: the initiator sends NAT keepalives

st=$(cn_stats)
say "connector: ${st#*stats: }"
ka=$(sed -nE 's/.*keepalives dropped ([0-9]+).*/\1/p' <<<"$st")
[ "${ka:-0}" -ge 1 ] || fail "want NAT keepalives dropped, got '$ka'"
up=$(sed -nE 's/.*up ([0-9]+) msgs.*/\1/p' <<<"$st")
[ "${up:-0}" -gt 100 ] || fail "too few messages up (TCP ACKs): $st"
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"
wait_log "$T/relay.log" "session new" 1 || fail "relay: no session"

wire_check
say "C-R link: $(jget connections.0.up connections.0.down <<<"$WIRE" | tr '\n' ' ')"
# IKE_SA_INIT and IKE_AUTH each way; the stream opens with IKE_SA_INIT.
[ "$(jget connections.0.up.ike <<<"$WIRE")" -ge 2 ] &&
    [ "$(jget connections.0.down.ike <<<"$WIRE")" -ge 2 ] ||
    fail "want the IKE exchanges on the stream: $WIRE"
[ "$(jget connections.0.up.first <<<"$WIRE")" = ike ] ||
    fail "want the stream to open with IKE_SA_INIT: $WIRE"
[ "$(jget connections.0.down.esp <<<"$WIRE")" -gt 5000 ] ||
    fail "want the transfer's ESP on the stream: $WIRE"
ok
