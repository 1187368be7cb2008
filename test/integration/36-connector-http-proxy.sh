#!/usr/bin/env bash
# TLS through a real HTTP proxy on the path: strongSwan initiator ->
# connector -> tinyproxy (CONNECT 198.51.100.2:443, Basic proxy
# authorisation) -> TLS -> relay -> strongSwan gateway.  Ping and a 10 MB
# transfer; the proxy logs the CONNECT; the stream is killed once and the
# connector comes back through the proxy with the same IKE SA; the C-R
# link carries only TLS from the proxy to the relay's port 443.  A wrong
# password is refused by the proxy (tinyproxy answers 401, not 407) and
# the connector logs it and backs off.
. "$(dirname "$0")/lib.sh"

topo_connector
TINYPROXY_EXTRA="BasicAuth ikt s3cret" tinyproxy_up C 3128
relay_tls_for_connector relay
connector_up cn "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/relay-tls.crt" tls-sni=relay.test \
    http-proxy=127.0.0.1:3128 http-proxy-auth=ikt:s3cret
initiator_start
web_start

tunnel_up
spis=$(ike_spis)
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms through the proxy"
wait_log "$T/cn.log" "http-proxy 127\.0\.0\.1:3128: CONNECT $RELAY_C_ADDR:443: 200" 1 ||
    fail "no CONNECT 200 logged"
wait_log "$T/tinyproxy.log" "CONNECT.*$RELAY_C_ADDR:443" 1 ||
    fail "tinyproxy logged no CONNECT"
ping_tunnel 10
fetch_bg
fetch_wait
say "ping $PING_RTT ms, 10 MB in $XFER_S s through proxy and TLS"

# The proxy's connection to the relay is killed (RST to both ends).
ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :443 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream 2 to .* up .*via http-proxy" 10 ||
    fail "no reconnect through the proxy"
ping_tunnel 3
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"

wire_check --port 443 --tls
[ "$(jget count <<<"$WIRE")" = 2 ] || fail "want 2 proxied TLS streams: $WIRE"

# A second connector with a wrong password never gets through.
cat >"$T/bad.conf" <<EOF2
[connector bad]
udp-listen = 127.0.0.1:4500
server = $RELAY_C_ADDR:443
tls = yes
tls-ca = $T/relay-tls.crt
tls-sni = relay.test
http-proxy = 127.0.0.1:3128
http-proxy-auth = ikt:wrong
EOF2
bg bad "$IKT_LIFE" ip netns exec "$(ns C)" "$IKETCPD" -d -f "$T/bad.conf"
for _ in $(seq 50); do
	ns_exec C ss -Hlun "sport = :4500" | grep -q 127.0.0.1 && break
	sleep 0.1
done
ikeclient C udp --to 127.0.0.1:4500 --timeout 2 >/dev/null 2>&1 || true
wait_log "$T/bad.log" "http-proxy refused CONNECT: 40[17]" 5 ||
    fail "a wrong proxy password was not refused (401/407)"
ok
