#!/usr/bin/env bash
# RFC 9329 §6: the stream between connector and relay is killed in the
# middle of a 10 MB transfer (ss -K on the connector's socket: the kernel
# aborts it and sends a RST).  The connector reconnects, sends the prefix
# and a copy of the initiator's last ESP message, and carries on; the relay re-attaches the new stream to the session; the
# same IKE SA (same SPIs, no second authentication at the gateway) carries
# the rest of the transfer, and a DPD exchange afterwards runs over the
# new stream.
. "$(dirname "$0")/lib.sh"

INIT_CONN_EXTRA="		dpd_delay = 2s"
topo_connector
relay_for_connector relay
connector_up cn reconnect-min=100ms reconnect-max=2s
initiator_start
web_start

tunnel_up
spis=$(ike_spis)
[ -n "$spis" ] || fail "no IKE SA listed"
say "IKE SA $spis up in $IKE_MS ms"

kill_mid_transfer 4500 "$T/relay.log"
say "transfer completed in $XFER_S s across the reconnect"

[ "$(ike_spis)" = "$spis" ] ||
    fail "IKE SA changed: $spis -> $(ike_spis)"
[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
    fail "the gateway authenticated the initiator again"
# Idle now: DPD (an IKE INFORMATIONAL) must be answered over stream 2.
before=$(count_log "$T/init/charon.log" "parsed INFORMATIONAL response")
sleep 3
ping_tunnel 3
after=$(count_log "$T/init/charon.log" "parsed INFORMATIONAL response")
[ "$after" -gt "$before" ] || fail "no DPD answered after the reconnect"
say "DPD answered after the reconnect ($before -> $after); ping $PING_RTT ms"

wire_check
[ "$(jget count <<<"$WIRE")" = 2 ] ||
    fail "want 2 streams on the C-R link: $WIRE"
[ "$(jget connections.0.reset connections.1.reset <<<"$WIRE" | sort | tr '\n' ' ')" = "false true " ] ||
    fail "want one stream reset, one not: $WIRE"
# The new stream opens with ESP (the copy of the initiator's last ESP
# message) and the relay re-attached it by that SPI.
first=$("$IKT_PY" -c 'import json, sys
for c in json.load(sys.stdin)["connections"]:
	if not c["reset"]:
		print(c["up"]["first"], c["up"]["first_spi"])' <<<"$WIRE")
[ "${first% *}" = esp ] || fail "stream 2 opens with ${first:-nothing}, want ESP"
grep -q "session re-attached by ESP SPI ${first#* }" "$T/relay.log" ||
    fail "the relay did not re-attach by ESP SPI ${first#* }"
ok
