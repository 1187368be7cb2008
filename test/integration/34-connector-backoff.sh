#!/usr/bin/env bash
# The relay is not there yet when the initiator starts: the connector's
# connects are refused and retried with back-off that doubles from
# reconnect-min (100, 200, 400 ms ...) up to reconnect-max (800 ms), while
# IKE_SA_INIT waits in the stream's buffer.  Once the relay listens, the
# next attempt connects, sends the prefix ("IKEv2" here, prefix = ikev2)
# and the queued IKE_SA_INIT, and the tunnel comes up.
. "$(dirname "$0")/lib.sh"

topo_connector
connector_up cn prefix=ikev2 reconnect-min=100ms reconnect-max=800ms
initiator_start
swanctl_ "$T/init" --initiate --child net --timeout 30 \
    >"$T/initiate.log" 2>&1 &
INIT_PID=$!
IKT_PIDS+=("$INIT_PID")
wait_log "$T/cn.log" "lost \(Connection refused\); reconnecting in 800 ms" 10 ||
    fail "no back-off up to reconnect-max"
for ms in 100 200 400; do
	grep -q "Connection refused); reconnecting in $ms ms" "$T/cn.log" ||
	    fail "no $ms ms step"
done
relay_for_connector relay
wait "$INIT_PID" || fail "initiate failed: $(tail -3 "$T/initiate.log")"
grep -q "initiate completed successfully" "$T/initiate.log" ||
    fail "no tunnel"
wait_log "$T/cn.log" "stream 1 to .* up" 1 || fail "no stream up"
ping_tunnel 3
say "tunnel up after the relay appeared; ping $PING_RTT ms"
wire_check --prefix IKEv2
[ "$(jget count <<<"$WIRE")" = 1 ] || fail "want one stream: $WIRE"
[ "$(jget refused <<<"$WIRE")" -ge 4 ] || fail "want the refused connects: $WIRE"
ok
