#!/usr/bin/env bash
# transport = fallback moves a live session between UDP and the stream.
# The session starts on UDP straight to the gateway; 100 pings a second
# run through the tunnel.  nftables in the client namespace then drops
# all UDP between the connector and the gateway: the initiator's DPD
# (dpd_delay 2s) gets no UDP answer within fallback-timeout, the
# connector moves the session to the stream via the relay (to the same
# gateway) and replays the DPD there; the pings resume with the same IKE
# SA, once the gateway follows to the relay (here, with MOBIKE, on the
# initiator's UPDATE_SA_ADDRESSES when its DPD sees the NAT mapping
# change; test 73 has MOBIKE off).  Then UDP is unblocked: a UDP probe
# (every 2 s, then 4 s) is answered, the session's traffic goes over UDP
# again, and once the pings pause for the initiator's next DPD, the
# gateway's own traffic returns to UDP too, and the connector closes the
# stream.  A second block opens a new stream, which the relay
# re-attaches to its lingering session.  The gaps (longest time without
# an echo reply) are printed.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn transport=fallback "udp-gateway=$GW_ADDR" \
    fallback-timeout=1s udp-retry-min=2s udp-retry-max=4s
INIT_CONN_EXTRA="		dpd_delay = 2s" initiator_start

tunnel_up
wait_log "$T/cn.log" "transport udp \(the gateway answered over UDP\)" 2 ||
    fail "no 'transport udp' logged"
# The initiator's first DPD checks the path; from this topology (the
# connector's address is local) it moves to another local address and,
# under libipsec, rekeys the Child SA (shared/STRONGSWAN.md, MOBIKE).
# Let that settle before pinging.
wait_log "$T/init/charon.log" "sending DPD request" 10 || fail "no DPD"
sleep 1
ping_tunnel 3
spis0=$(ike_spis)
[ "$(wc -l <<<"$spis0")" = 1 ] || fail "want one IKE SA: $spis0"


bg ping 100 ip netns exec "$(ns C)" stdbuf -oL ping -D -n -i 0.01 -W 1 \
    -w 90 "$SVC_ADDR"
PING_PID=$BG_PID
sleep 1
t_block=$(now)
block()
{
	ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain out {
		type filter hook output priority 0;
		ip daddr $GW_ADDR udp dport { 500, 4500 } counter drop
	}
	chain in {
		type filter hook input priority 0;
		ip saddr $GW_ADDR udp sport { 500, 4500 } counter drop
	}
}
EOF2
}
block
say "UDP blocked"
wait_log "$T/cn.log" \
    "transport tcp \(no UDP answer to an IKE request within 1000 ms\)" 20 ||
    fail "no move to the stream"
wait_log "$T/relay.log" "session new" 10 || fail "relay: no session"
# Echo replies again, over the stream: one less than 0.5 s old.
wait_echo_resumed || fail "no echo replies after the move to the stream"
sleep 2
t_unblock=$(now)
gap1=$(ping_gap "$t_block" "$t_unblock")
between "$gap1" 0 "$(echo "$t_unblock - $t_block - 1.5" | bc)" ||
    fail "no echo replies over the stream (longest gap $gap1 s)"
say "UDP -> stream: longest gap without an echo reply $gap1 s"
spis1=$(ike_spis)
[ "$spis1" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $spis1"
# The gateway took the relay as the IKE SA's peer (authenticated update).
# moved FROM TO: the gateway logged its peer's move from FROM to TO.
moved()
{
	grep -qE "remote endpoint changed from $1\[[0-9]+\] to $2\[" \
	    "$(gw_log)"
}
moved "$CLIENT_ADDR" "$RELAY_ADDR" ||
    fail "the gateway did not follow to the relay"

ns_exec C nft delete table inet ikt_block
say "UDP unblocked"
wait_log "$T/cn.log" "transport udp \(a probe over UDP was answered\)" 20 ||
    fail "no move back to UDP"
t_back=$(now)
sleep 2
t_end=$(now)
gap2=$(ping_gap "$t_unblock" "$t_end")
say "stream -> UDP: longest gap without an echo reply $gap2 s"
between "$gap2" 0 1 || fail "pings lost on the move back to UDP ($gap2 s)"
stop_pid "$PING_PID"

# The connector sends over UDP again; the gateway follows after the
# initiator's next DPD (no traffic for dpd_delay): its ESP then comes
# over UDP, not over the stream.
sleep 5
t_quiet=$(now)
ping_tunnel 10
# udp_after FILTER T: datagrams on the C-R link matching FILTER after T.
udp_after()
{
	tcpdump -r "$T/cr.pcap" -tt -n "udp and $1" 2>/dev/null |
	    awk -v t="$2" '$1 > t' | wc -l
}
up=$(udp_after "dst host $GW_ADDR and dst port 4500" "$t_back")
down=$(udp_after "src host $GW_ADDR and src port 4500" "$t_quiet")
say "after the move back: $up datagrams to the gateway, $down from it" \
    "(after the pause)"
[ "$up" -ge 10 ] || fail "the connector does not send over UDP again ($up)"
[ "$down" -ge 10 ] || fail "the gateway does not send over UDP again ($down)"
moved "$RELAY_ADDR" "$CLIENT_ADDR" ||
    fail "the gateway did not come back to UDP"
spis2=$(ike_spis)
[ "$spis2" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $spis2"
# With the gateway's ESP over UDP again the stream is closed, not kept.
wait_log "$T/cn.log" "stream to .* closed \(the gateway is back on UDP\)" 5 ||
    fail "the stream was not closed"

# A second block: a new stream, which the relay re-attaches to the
# session it still keeps (linger) once the gateway answers a new request
# from it (relay/README, "Proof").
bg ping2 100 ip netns exec "$(ns C)" stdbuf -oL ping -D -n -i 0.01 -W 1 \
    -w 60 "$SVC_ADDR"
PING_PID=$BG_PID
sleep 1
t_block=$(now)
block
wait_log "$T/cn.log" "stream 2 to .* up" 20 || fail "no second stream"
wait_log "$T/relay.log" "session re-attached" 10 ||
    fail "relay: the second stream was not re-attached"
sleep 3
t_end=$(now)
stop_pid "$PING_PID"
cp "$T/ping2.log" "$T/ping.log"
gap3=$(ping_gap "$t_block" "$t_end")
between "$gap3" 0 "$(echo "$t_end - $t_block - 1.5" | bc)" ||
    fail "no echo replies over the second stream (longest gap $gap3 s)"
say "UDP -> stream again, new stream: longest gap without an echo reply $gap3 s"
spis3=$(ike_spis)
[ "$spis3" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $spis3"
st=$(cn_stats)
say "connector: ${st#*stats: }"
grep -q "moved to the stream 2, to udp 1," <<<"$st" ||
    fail "want two moves to the stream, one back: $st"
ok
