#!/usr/bin/env bash
# make demo: an unmodified strongSwan initiator talks UDP to the iketcpd
# connector, which carries its IKE and ESP over an RFC 9329 TCP stream to
# the iketcpd relay, which hands them as UDP to an unmodified strongSwan
# gateway -- each in its own network namespace.  Shows the tunnel working
# (IKE time, ping RTT, a 10 MB transfer, messages and bytes each way, the
# transport in use, what crossed the client-relay link), then removes
# every namespace and process it started.  Bounded: every daemon runs
# under timeout, and the Makefile bounds the whole.
IKETCPD=${1:-build/iketcpd}
export IKETCPD
IKT_LIFE=${IKT_LIFE:-90}
. "$(dirname "$0")/integration/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn
initiator_start
web_start
say "initiator: strongSwan $(/usr/lib/ipsec/charon --version 2>/dev/null | head -n 1 || echo 5.9) in $(ns C), told the gateway is $CN_ADDR"
say "connector: iketcpd in $(ns C), UDP $CN_ADDR:500/4500 -> TCP $RELAY_C_ADDR:4500"
say "relay:     iketcpd in $(ns R), TCP $RELAY_C_ADDR:4500 -> UDP $GW_ADDR:4500"
say "gateway:   strongSwan in $(ns G) at $GW_ADDR, pool 10.99.0.0/24, service $SVC_ADDR"

tunnel_up
vip=$(ns_exec C ip -4 -o addr show | grep -oE '10\.99\.[0-9]+\.[0-9]+' | head -n 1)
say "IKE_SA + CHILD_SA + virtual IP: $IKE_MS ms (IKE SPIs $(ike_spis); virtual IP $vip)"
say "transport: $(grep -oE 'transport [a-z]+ \(.*\)' "$T/cn.log" | head -n 1)"
ping_tunnel 10
say "ping $SVC_ADDR through the tunnel: 10/10, average RTT $PING_RTT ms"
fetch_bg
fetch_wait
say "10 MB over HTTP through the tunnel: $XFER_S s, SHA-256 matches"
st=$(cn_stats)
say "connector session: ${st#*stats: }"
wire_check
say "client-relay link (tcpdump, parsed): $(jget count <<<"$WIRE") TCP stream, $(jget udp <<<"$WIRE") UDP packets"
say "    connector -> relay: IKETCP prefix, $(jget connections.0.up.ike <<<"$WIRE") IKE + $(jget connections.0.up.esp <<<"$WIRE") ESP frames, $(jget connections.0.up.bytes <<<"$WIRE") bytes, $(jget connections.0.up.keepalive <<<"$WIRE") keepalives"
say "    relay -> connector: $(jget connections.0.down.ike <<<"$WIRE") IKE + $(jget connections.0.down.esp <<<"$WIRE") ESP frames, $(jget connections.0.down.bytes <<<"$WIRE") bytes"
say "gateway: $(grep -oE 'IKE_SA rw\[1\] established between .*' "$(gw_log)" | head -n 1) (192.0.2.1: the relay)"
ok
