#!/usr/bin/env bash
# 70-connector-switch against the integrated server (issue 15 item 2):
# one [integrated] section listens on UDP 500/4500 and on a stream port,
# the connector (transport = fallback) has the server's UDP as its
# udp-gateway and its stream as its server.  The session starts on UDP;
# nftables in the client's namespace drops UDP to and from the server
# under 100 pings a second: the initiator's DPD gets no UDP answer, the
# connector moves to the stream and replays it there, the server takes
# it as proof (an authenticated new request) and the pings resume on the
# same IKE SA.  Unblocked: the connector's UDP probe (a copy of the last
# request) is answered from the server's cache to the probe's own address
# (RFC 7296 §2.11) without moving the SA, the connector goes back to UDP,
# the initiator's ESP over UDP moves the server's SA back (it passes the
# ESP checks), and the connector closes the stream once the server's ESP
# comes over UDP.  The gaps (longest time without an echo reply) are
# printed.
. "$(dirname "$0")/lib.sh"

integ_topo
INTEG_LISTEN="$RELAY_C_ADDR:4500" integ_server_up srv \
    "udp-listen=$RELAY_C_ADDR:500" "udp-listen=$RELAY_C_ADDR:4500"
connector_up cn transport=fallback "udp-gateway=$RELAY_C_ADDR" \
    fallback-timeout=1s udp-retry-min=2s udp-retry-max=4s
INIT_CONN_EXTRA="		dpd_delay = 2s" initiator_start

tunnel_up
wait_log "$T/cn.log" "transport udp \(the gateway answered over UDP\)" 2 ||
    fail "no 'transport udp' logged"
ping_tunnel 3
spis0=$(ike_spis)
[ "$(wc -l <<<"$spis0")" = 1 ] || fail "want one IKE SA: $spis0"


bg ping 100 ip netns exec "$(ns C)" stdbuf -oL ping -D -n -i 0.01 -W 1 \
    -w 60 "$SVC_ADDR"
PING_PID=$BG_PID
sleep 1
t_block=$(now)
ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain out {
		type filter hook output priority 0;
		ip daddr $RELAY_C_ADDR udp dport { 500, 4500 } counter drop
	}
	chain in {
		type filter hook input priority 0;
		ip saddr $RELAY_C_ADDR udp sport { 500, 4500 } counter drop
	}
}
EOF2
say "UDP blocked"
wait_log "$T/cn.log" \
    "transport tcp \(no UDP answer to an IKE request within 1000 ms\)" 20 ||
    fail "no move to the stream"
# Echo replies again, over the stream: one less than 0.5 s old.
wait_echo_resumed || fail "no echo replies after the move to the stream"
sleep 2
t_unblock=$(now)
gap1=$(ping_gap "$t_block" "$t_unblock")
between "$gap1" 0 "$(echo "$t_unblock - $t_block - 1.5" | bc)" ||
    fail "no echo replies over the stream (longest gap $gap1 s)"
say "UDP -> stream: longest gap without an echo reply $gap1 s"
[ "$(ike_spis)" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $(ike_spis)"

ns_exec C nft delete table inet ikt_block
say "UDP unblocked"
wait_log "$T/cn.log" "transport udp \(a probe over UDP was answered\)" 20 ||
    fail "no move back to UDP"
sleep 2
t_end=$(now)
gap2=$(ping_gap "$t_unblock" "$t_end")
say "stream -> UDP: longest gap without an echo reply $gap2 s"
between "$gap2" 0 1 || fail "pings lost on the move back to UDP ($gap2 s)"
wait_log "$T/cn.log" "stream to .* closed \(the gateway is back on UDP\)" 10 ||
    fail "the stream was not closed: the server's ESP did not come back over UDP"
stop_pid "$PING_PID"
[ "$(ike_spis)" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $(ike_spis)"
ping_tunnel 5
ok
