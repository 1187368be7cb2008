#!/usr/bin/env bash
# An on-path attacker blocks and unblocks UDP at will (nftables in the
# client namespace, 1 s blocked, 0.5 s open, 16 times) to make a
# transport = fallback session flap between UDP and the stream.  Moves
# back to UDP happen only on probes, spaced udp-retry-min (1 s) doubling
# to udp-retry-max (8 s), so in 24 s there are at most 6 of them, and at
# most one move to the stream after each (plus the first); the log gets
# four lines per round trip (statistics aside: the two moves, the
# stream's opening and its close).  The connector's descriptors do not grow (two
# UDP sockets and at most one stream for the session), nor does its
# memory, and the tunnel still works on the same IKE SA once UDP stays
# open.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn transport=fallback "udp-gateway=$GW_ADDR" \
    fallback-timeout=500ms udp-retry-min=1s udp-retry-max=8s
INIT_CONN_EXTRA="		dpd_delay = 1s" initiator_start

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

fds() { find "/proc/$CN_DPID/fd" -mindepth 1 | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$CN_DPID/status"; }
block()
{
	ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain out {
		type filter hook output priority 0;
		ip daddr $GW_ADDR udp dport { 500, 4500 } drop
	}
	chain in {
		type filter hook input priority 0;
		ip saddr $GW_ADDR udp sport { 500, 4500 } drop
	}
}
EOF2
}
unblock() { ns_exec C nft delete table inet ikt_block; }

# A first round trip before the baseline, so that the stream's descriptor
# and buffers are there (they are the session's, made once).
bg ping 100 ip netns exec "$(ns C)" ping -n -i 0.05 -W 1 -w 80 "$SVC_ADDR"
block
wait_log "$T/cn.log" "transport tcp \(no UDP answer to an IKE request" 20 ||
    fail "no move to the stream"
unblock
wait_log "$T/cn.log" "transport udp \(a probe over UDP was answered\)" 10 ||
    fail "no move back to UDP"
fd0=$(fds)
rss0=$(rss)
nlog() { grep -vc "stats" "$T/cn.log"; }
lines0=$(nlog)
say "before flapping: $fd0 descriptors, VmRSS $rss0 kB"

for _ in $(seq 16); do
	block
	sleep 1
	unblock
	sleep 0.5
done
say "flapping done"
# Until the session is on UDP again: a probe within udp-retry-max (8 s)
# of the last failed one.
for _ in $(seq 120); do
	[ "$(grep -oE "transport (udp|tcp) \(" "$T/cn.log" | tail -n 1)" = \
	    "transport udp (" ] && break
	sleep 0.1
done
ping_tunnel 5
fd1=$(fds)
rss1=$(rss)
st=$(cn_stats)
say "after: $fd1 descriptors, VmRSS $rss1 kB; ${st#*stats: }"
moves_udp=$(sed -nE 's/.*, to udp ([0-9]+),.*/\1/p' <<<"$st")
moves_tcp=$(sed -nE 's/.*moved to the stream ([0-9]+),.*/\1/p' <<<"$st")
lines=$(($(nlog) - lines0))
say "moves to the stream $moves_tcp, to udp $moves_udp; log lines $lines"
[ "$moves_udp" -le 8 ] || fail "too many moves back to UDP: $moves_udp"
[ "$moves_tcp" -le $((moves_udp + 1)) ] ||
    fail "moves: $moves_tcp > $moves_udp + 1"
# The stream may be open at the baseline and closed by now (the
# gateway's ESP back on UDP), not the other way round.
[ "$fd1" -le "$fd0" ] || fail "descriptors $fd0 -> $fd1"
[ "$((rss1 - rss0))" -lt 1024 ] || fail "VmRSS grew $rss0 -> $rss1 kB"
[ "$lines" -le $((4 * moves_udp + 2)) ] || fail "$lines log lines"
spis1=$(ike_spis)
[ "$spis1" = "$spis0" ] || fail "IKE SA changed: $spis0 -> $spis1"
ok
