#!/usr/bin/env bash
# A real NAT in front of the client, and NAT detection (RFC 7296 §2.23)
# computed on the real UDP addresses of a wildcard udp-listen socket.
# nftables in C rewrites the initiator's source to 198.51.100.7 and a
# port of its choice, as a home router does; the unmodified strongSwan
# initiator (no encap = yes) must find itself behind a NAT, float to
# 4500 and encapsulate ESP in UDP, and must not find the server behind
# one (our NAT_DETECTION_SOURCE_IP hashes the address and port it sent
# to, learnt with IP_PKTINFO).  Tunnel up, pings; charon's NAT
# keepalives (keep_alive = 1s) reach the server and are dropped and
# counted; the server names the client by its translated address.
. "$(dirname "$0")/lib.sh"

NAT_ADDR=198.51.100.7
integ_topo
ip -n "$(ns C)" addr add "$NAT_ADDR/32" dev vR
ns_exec C nft -f - <<EOF2
table ip ikt_nat {
	chain post {
		type nat hook postrouting priority 100;
		ip daddr $RELAY_C_ADDR udp sport { 510, 4510 } snat to $NAT_ADDR:20000-20100
	}
}
EOF2
integ_server_up srv "udp-listen=*:500" "udp-listen=*:4500"

CN_ADDR=$RELAY_C_ADDR INIT_CHARON_EXTRA="keep_alive = 1s" initiator_start
tunnel_up
say "behind a NAT, over UDP: up in $IKE_MS ms"
log=$T/init/charon.log
grep -q "local host is behind NAT" "$log" ||
    fail "strongSwan did not see its NAT"
grep -q "remote host is behind NAT" "$log" &&
    fail "strongSwan believes the server is behind a NAT (bad NATD)"
grep -q "faking NAT" "$log" && fail "encapsulation was forced"
grep -qF "[4510] to $RELAY_C_ADDR[4500]" "$log" ||
    fail "the initiator did not float to 4500"
wait_log "$T/srv.log" "session moved from udp $NAT_ADDR:[0-9]+ -> $RELAY_C_ADDR:500 to udp $NAT_ADDR:[0-9]+ -> $RELAY_C_ADDR:4500" 5 ||
    fail "server: no move to the client's translated 4500 flow"
ping_tunnel 10
say "ping $PING_RTT ms"

# Idle: charon sends NAT keepalives; they are dropped and counted.
sleep 3
kill -USR1 "$RELAY_DPID"
wait_log "$T/srv.log" "stats: udp: .*keepalives dropped [1-9]" 5 ||
    fail "no NAT keepalive counted: $(grep 'stats: udp' "$T/srv.log")"
ping_tunnel 3
ok
