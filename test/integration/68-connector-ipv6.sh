#!/usr/bin/env bash
# IPv6 outside the tunnel.  The initiator reaches the connector on
# [2001:db8:cc::1] (udp-listen on IPv6), the connector reaches the relay
# on [2001:db8:c::2]:4500 (server on IPv6), the relay's gateway stays
# IPv4.  The tunnel is full (0.0.0.0/0, ::/0), so the connector's IPv6
# bypass rule (to 2001:db8:c::2 lookup main, priority 210) is what keeps
# its stream out of it once it reconnects (the stream is killed after the
# tunnel came up): pings (IPv4 and IPv6 inside) and a 10 MB transfer, the
# stream is TCP over IPv6, nothing the connector sends goes over IPv4.
# Then the integrated server, listening on IPv6 only (plain and TLS),
# serves the same initiator through a connector over IPv6 and TLS.
. "$(dirname "$0")/lib.sh"

C6=2001:db8:c::1
R6=2001:db8:c::2
CN6=2001:db8:cc::1
SVC6=fd00:98::1
GW_LOCAL_TS="0.0.0.0/0, ::/0" GW_POOL6=fd00:99::/120 topo_connector
ip -n "$(ns C)" addr add "$C6/64" dev vR
ip -n "$(ns R)" addr add "$R6/64" dev vC
ip -n "$(ns C)" addr add "$CN6/128" dev lo
ip -n "$(ns G)" addr add "$SVC6/128" dev lo
# IPv4 from C to the relay's link address is refused from now on, so an
# IPv4 stream could not pass unnoticed.
ns_exec R nft -f - <<EOF2
table ip t {
	chain i {
		type filter hook input priority 0;
		ip saddr $CLIENT_ADDR tcp dport 4500 reject
	}
}
EOF2

relay_conf "$T/relay.conf" "listen=[$R6]:4500"
relay_start relay "$T/relay.conf" 4500 R
CN_LISTEN="[$CN6]" connector_up cn "server=[$R6]:4500"
# (Captured first: with pipefail, grep -q can fail ip with SIGPIPE.)
out=$(ip -n "$(ns C)" -6 rule show pref 210)
grep -q "to $R6 lookup main" <<<"$out" || fail "no IPv6 bypass rule: $out"
CN_ADDR=$CN6 INIT_ADDR=$C6 INIT_REMOTE_TS="0.0.0.0/0, ::/0" \
    INIT_VIPS="0.0.0.0, ::" initiator_start
web_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IPs in $IKE_MS ms over IPv6"
ping_tunnel 3
# A connected IPv6 socket keeps the route it was given before the tunnel's
# routes appeared; a reconnect looks it up again, in table 220 first.
ns_exec C ss -K dst "[$R6]" dport = :4500 >/dev/null || fail "ss -K failed"
wait_log "$T/cn.log" "stream 2 to \[$R6\]:4500 up" 5 ||
    fail "connector did not reconnect over IPv6"
ping_tunnel 10
out=$(ns_exec C ping -6 -n -c 10 -i 0.2 -W 1 "$SVC6" 2>&1) ||
    fail "IPv6 ping through the tunnel: $out"
grep -q " 0% packet loss" <<<"$out" || fail "IPv6 ping lost packets: $out"
fetch_bg
fetch_wait
say "ping $PING_RTT ms, 10 MB in $XFER_S s, connector to relay over IPv6"
est=$(ns_exec C ss -Htn state established)
grep -q "\[$R6\]:4500" <<<"$est" || fail "no TCP to [$R6]:4500: $est"
grep -q "$RELAY_C_ADDR:4500" <<<"$est" && fail "a stream over IPv4: $est"
grep -q "stream 3 " "$T/cn.log" && fail "the stream broke again"
wait_log "$T/relay.log" "\[$C6\]:[0-9]+.*session new" 1 ||
    fail "the relay logged no session from [$C6]"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 || true

# --- the integrated server on IPv6 listeners --------------------------------
relay_sigterm
kill -TERM "$CN_DPID"
wait "$CN_PID" || true
stop_pid "$SWAN_PID_init"
tls_cert srv-tls vpn.test
INTEG_LISTEN="[$R6]:4500" integ_server_up srv "tls-listen=[$R6]:443" \
    "tls-cert=$T/srv-tls.crt" "tls-key=$T/srv-tls.key"
out=$(ns_exec R ss -Hltn)
grep -q "\[$R6\]:443" <<<"$out" || fail "no TLS listener on [$R6]:443: $out"
CN_LISTEN="[$CN6]" connector_up cn2 "server=[$R6]:443" tls=yes \
    "tls-ca=$T/srv-tls.crt" tls-sni=vpn.test
# A new initiator: the integrated server has no IPv6 pool here.
INIT_DIR=$T/init2 CN_ADDR=$CN6 INIT_ADDR=$C6 SVC_ADDR=10.10.0.1 \
    INIT_MOBIKE=no initiator_start
INIT_DIR=$T/init2 tunnel_up
SVC_ADDR=10.10.0.1 ping_tunnel 10
wait_log "$T/cn2.log" "stream 1 to \[$R6\]:443 up" 1 ||
    fail "connector: no TLS stream to [$R6]:443"
say "integrated server over [$R6]:443 (TLS): ping $PING_RTT ms"
ok
