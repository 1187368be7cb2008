#!/usr/bin/env bash
# Rekeying through the connector: the initiator rekeys its IKE SA (new
# SPIs, negotiated inside the encrypted CREATE_CHILD_SA) and its Child SA.
# The new IKE SA's messages, with an SPI the connector never saw in an
# IKE_SA_INIT, stay in the same session (tied by the port-4500 flow), the
# tunnel keeps working, and after the stream is killed the relay takes
# the reconnected stream back for the rekeyed SAs.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn
initiator_start
tunnel_up
old=$(ike_spis)
ping_tunnel 3

swanctl_ "$T/init" --rekey --ike home >"$T/rekey-ike.log" 2>&1 ||
    fail "IKE rekey failed: $(cat "$T/rekey-ike.log")"
swanctl_ "$T/init" --rekey --child net >"$T/rekey-child.log" 2>&1 ||
    fail "Child rekey failed: $(cat "$T/rekey-child.log")"
for _ in $(seq 50); do
	new=$(ike_spis)
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$old" ] || fail "IKE SA not rekeyed ($old)"
say "IKE SA rekeyed: $old -> $new"
ping_tunnel 5
[ "$(count_log "$T/cn.log" "session [0-9]+: new")" = 1 ] ||
    fail "the rekeyed IKE SA got a session of its own"

ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :4500 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream 2 to .* up" 5 || fail "no reconnect"
ping_tunnel 5
wait_log "$T/relay.log" "session re-attached" 5 ||
    fail "relay did not re-attach after the rekey"
[ "$(ike_spis)" = "$new" ] || fail "IKE SA changed after the reconnect"
# The new IKE SA answers IKE (DPD-style liveness) over the new stream.
swanctl_ "$T/init" --rekey --child net >"$T/rekey2.log" 2>&1 ||
    fail "Child rekey over the new stream failed"
ping_tunnel 3
say "rekey, reconnect and another Child rekey: ping $PING_RTT ms"
ok
