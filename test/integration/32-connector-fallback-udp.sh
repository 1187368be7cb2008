#!/usr/bin/env bash
# transport = fallback with UDP working (RFC 9329 §5.1: try UDP first): the
# session goes to the gateway over UDP and stays there; "transport udp"
# is logged, the tunnel works, and no stream is ever opened (the C-R link
# carries UDP only; the relay sees no connection).
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn transport=fallback "udp-gateway=$GW_ADDR" \
    fallback-timeout=2s
initiator_start
web_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms"
wait_log "$T/cn.log" "transport udp \(the gateway answered over UDP\)" 2 ||
    fail "no 'transport udp' logged"
ping_tunnel 5
fetch_bg
fetch_wait
say "ping $PING_RTT ms, 10 MB in $XFER_S s over UDP"
st=$(cn_stats)
say "connector: ${st#*stats: }"
grep -q "transport udp" <<<"$st" || fail "session not on udp: $st"
grep -q "streams 0 " <<<"$st" || fail "a stream was opened: $st"
[ "$(count_log "$T/relay.log" "open, relay")" = 0 ] ||
    fail "the relay saw a stream"

stop_pid "$CR_TCPDUMP_PID"
wire=$("$IKT_PY" "$IKT_DIR/tcpwire.py" "$T/cr.pcap" --port 4500) || true
[ "$(jget count <<<"$wire")" = 0 ] || fail "TCP on the C-R link: $wire"
[ "$(jget udp <<<"$wire")" -gt 5000 ] || fail "want the tunnel on UDP: $wire"
ok
