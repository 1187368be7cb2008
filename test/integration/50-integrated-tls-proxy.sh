#!/usr/bin/env bash
# The integrated server over TLS through a real HTTP proxy (issue 6,
# "also over TLS through a real HTTP proxy"): strongSwan initiator ->
# connector -> tinyproxy (CONNECT 198.51.100.2:443) -> TLS (certificate
# for vpn.test verified against the connector's tls-ca, SNI vpn.test) ->
# iketcpd [integrated] on tls-listen.  Pings and 10 MB down through the
# tunnel, SHA-256 checked.  The proxy logs the CONNECT, the connector logs
# the stream "via http-proxy", the server logs TLS 1.3 with the SNI, and
# the C-R link carries exactly one TCP connection to port 443 with only
# TLS records on it (no UDP, no cleartext prefix), the transfer among them.
. "$(dirname "$0")/lib.sh"

integ_topo
bg cr-tcpdump "$IKT_LIFE" ip netns exec "$(ns C)" tcpdump -n -U \
    --immediate-mode -B 65536 -Z root -s 0 -i vR -w "$T/cr.pcap" ip
CR_TCPDUMP_PID=$BG_PID
wait_log "$T/cr-tcpdump.log" "listening on" 10
tls_cert srv-tls vpn.test
integ_server_up srv "tls-listen=$RELAY_C_ADDR:443" \
    "tls-cert=$T/srv-tls.crt" "tls-key=$T/srv-tls.key"
wait_tcp_listen R 443 5 || fail "server: no TLS listener"
tinyproxy_up C 3128
connector_up cn "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/srv-tls.crt" tls-sni=vpn.test http-proxy=127.0.0.1:3128
initiator_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms through proxy and TLS"
wait_log "$T/cn.log" "http-proxy 127\.0\.0\.1:3128: CONNECT $RELAY_C_ADDR:443: 200" 1 ||
    fail "connector: no CONNECT 200 logged"
wait_log "$T/cn.log" "stream 1 to .* up .*via http-proxy" 1 ||
    fail "connector: stream not via the proxy"
wait_log "$T/tinyproxy.log" "CONNECT.*$RELAY_C_ADDR:443" 1 ||
    fail "tinyproxy logged no CONNECT"
wait_log "$T/srv.log" "TLS TLSv1\.3.*sni=vpn\.test" 1 ||
    fail "server: no TLS 1.3 line with the SNI"
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"

ping_tunnel 10
WEB_NS=R web_start
fetch_bg
fetch_wait
say "ping $PING_RTT ms, 10 MB in $XFER_S s through proxy and TLS, SHA-256 ok"

wire_check --port 443 --tls
[ "$(jget count <<<"$WIRE")" = 1 ] || fail "want 1 TLS stream: $WIRE"
[ "$(jget connections.0.down.appdata <<<"$WIRE")" -gt 1000 ] ||
    fail "want the transfer in TLS records: $WIRE"
st=$(integ_stats srv)
say "server: $st"
drops=$(sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p' <<<"$st")
[ "$drops" = 0 ] || fail "server dropped $drops inbound ESP packets"
ok
