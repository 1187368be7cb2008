#!/usr/bin/env bash
# transport = fallback with UDP blocked (nftables drops UDP to the gateway
# in the client namespace): IKE_SA_INIT gets no UDP answer within
# fallback-timeout, the session moves to the stream ("transport tcp"
# logged), the connector replays the IKE_SA_INIT on it at once, and the
# tunnel works; the C-R link carries only the TCP stream.
. "$(dirname "$0")/lib.sh"

topo_connector
ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain out {
		type filter hook output priority 0;
		ip daddr $GW_ADDR udp dport { 500, 4500 } counter drop
	}
}
EOF2
relay_for_connector relay
connector_up cn transport=fallback "udp-gateway=$GW_ADDR" \
    fallback-timeout=500ms
initiator_start
web_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms (fallback-timeout 500 ms)"
wait_log "$T/cn.log" "transport tcp \(no UDP answer to IKE_SA_INIT within 500 ms\)" 2 ||
    fail "no fallback to tcp logged"
blocked=$(ns_exec C nft list table inet ikt_block |
    sed -nE 's/.*counter packets ([0-9]+).*/\1/p')
[ "${blocked:-0}" -ge 1 ] || fail "no UDP was tried (blocked: '$blocked')"
say "UDP datagrams dropped by nftables: $blocked"
ping_tunnel 5
fetch_bg
fetch_wait
say "ping $PING_RTT ms, 10 MB in $XFER_S s over TCP"
st=$(cn_stats)
grep -q "transport tcp" <<<"$st" || fail "session not on tcp: $st"
wait_log "$T/relay.log" "session new" 1 || fail "relay: no session"

wire_check
[ "$(jget count <<<"$WIRE")" = 1 ] || fail "want one stream: $WIRE"
[ "$(jget connections.0.up.ike <<<"$WIRE")" -ge 2 ] ||
    fail "want IKE on the stream: $WIRE"
ok
