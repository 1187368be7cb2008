#!/usr/bin/env bash
# transport = fallback where UDP reaches the gateway but its answers are
# lost (nftables in the client namespace drops only gateway -> connector
# UDP).  The gateway got the initiator's IKE_SA_INIT over UDP and made a
# half-open IKE SA; after fallback-timeout the connector replays the same
# IKE_SA_INIT (same SPI, nonce, NAT detection: a transparent proxy cannot
# start a new one, RFC 9329 §5.1) on the stream.  The gateway answers the
# copy from its retransmission cache, to the relay it came from; the
# initiator's IKE_AUTH (message ID 1) over the stream moves the IKE SA's
# peer address to the relay (RFC 7296 §2.23).  One IKE SA, the tunnel
# works, nothing reaches the initiator over UDP from the gateway.
. "$(dirname "$0")/lib.sh"

topo_connector
ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain in {
		type filter hook input priority 0;
		ip saddr $GW_ADDR udp sport { 500, 4500 } counter drop
	}
}
EOF2
relay_for_connector relay
connector_up cn transport=fallback "udp-gateway=$GW_ADDR" \
    fallback-timeout=500ms
initiator_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms (fallback-timeout 500 ms)"
wait_log "$T/cn.log" \
    "transport tcp \(no UDP answer to IKE_SA_INIT within 500 ms\)" 2 ||
    fail "no fallback to tcp logged"
dropped=$(ns_exec C nft list table inet ikt_block |
    sed -nE 's/.*counter packets ([0-9]+).*/\1/p')
[ "${dropped:-0}" -ge 1 ] ||
    fail "the gateway never answered over UDP ($dropped)"
say "gateway answers over UDP dropped by nftables: $dropped"
grep -q "received retransmit of request with ID 0, retransmitting response" \
    "$(gw_log)" ||
    fail "the gateway did not answer the replayed IKE_SA_INIT from its cache"
ping_tunnel 5
say "ping $PING_RTT ms"
n=$(swanctl_ "$T/gw" --list-sas --raw 2>/dev/null |
    grep -c "state=ESTABLISHED" || true)
[ "$n" = 1 ] || fail "want one IKE SA at the gateway, got $n"
[ "$(ike_spis | wc -l)" = 1 ] || fail "want one IKE SA at the initiator"
st=$(cn_stats)
say "connector: ${st#*stats: }"
grep -q "transport tcp" <<<"$st" || fail "session not on tcp: $st"
ok
