#!/usr/bin/env bash
# Requests the integrated server initiates itself (RFC 7296 §1.4, §2.4,
# §1.4.1).  With dpd-delay = 2s and dpd-timeout = 4s:
#  - a live strongSwan initiator answers the server's liveness checks and
#    keeps its tunnel;
#  - a client that vanishes (its charon killed: no Delete, no answers; its
#    connector and stream stay up, so the check really goes out on the
#    stream) is declared dead: the server logs the peer and the reason at
#    info, ends the session and releases the virtual IP, which a new
#    client then gets (the pool has room for one client only);
#  - SIGTERM to the server sends a Delete of each IKE SA: strongSwan logs
#    the DELETE it received, and the server still exits within 3 s.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
ns_new R
for i in 1 2; do
	ns_new "C$i"
	link_add "C$i" "198.51.10$i.1/24" R "198.51.10$i.2/24"
	ip -n "$(ns "C$i")" addr add "$CN_ADDR/32" dev lo
done
printf 'client%s.test : PSK "psk-of-client-%s"\n' 1 1 2 2 >"$T/ipsec.secrets"
chmod 600 "$T/ipsec.secrets"
# A /30: 10.10.0.1 is the server's TUN, 10.10.0.2 the only client address.
cat >"$T/srv.conf" <<EOC
[global]
log-level = info

[integrated vpn]
listen = 198.51.101.2:4500
listen = 198.51.102.2:4500
id = responder.test
secrets = $T/ipsec.secrets
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/30
local-ts = 0.0.0.0/0
tun = iketcp0
dpd-delay = 2s
dpd-timeout = 4s
EOC
relay_start srv "$T/srv.conf" 4500 R
grep -q "tun iketcp0 10.10.0.1/30" "$T/srv.log" || fail "no TUN set up"

# client I: connector and initiator in C<I>, tunnel up; its VIP in VIP.
client()
{
	local i=$1
	CN_NS=C$i connector_up "cn$i" "server=198.51.10$i.2:4500"
	CN_PIDS[$i]=$CN_PID
	GW_PEER_ID=client$i.test GW_PSK=psk-of-client-$i INIT_NS=C$i \
	    INIT_DIR=$T/init$i INIT_ADDR=198.51.10$i.1 initiator_start
	INIT_DIR=$T/init$i tunnel_up
	VIP=$(ip -n "$(ns "C$i")" -4 -o addr show |
	    grep -oE '10\.10\.0\.[0-9]+' | head -1)
	[ -n "$VIP" ] || fail "client $i: no virtual IP"
	PING_NS=C$i ping_tunnel 3
	say "client $i: virtual IP $VIP, ping $PING_RTT ms"
}
declare -a CN_PIDS

client 1
[ "$VIP" = 10.10.0.2 ] || fail "client 1 got $VIP, not 10.10.0.2"

# Idle for three liveness intervals: strongSwan answers every check.
sleep 6
wait_log "$T/init1/charon.log" "INFORMATIONAL request 0 \[ \]" 1 ||
    fail "client 1 saw no liveness check"
checks=$(count_log "$T/init1/charon.log" "parsed INFORMATIONAL request [0-9]+ \[ \]")
[ "$checks" -ge 2 ] || fail "client 1 answered $checks liveness checks, want >= 2"
grep -q "peer dead" "$T/srv.log" && fail "a live client was declared dead"
PING_NS=C1 ping_tunnel 3
say "client 1 answered $checks liveness checks and kept its tunnel"

# Client 1 vanishes: its charon is killed (it sends nothing more).
kill -KILL "$(child_of "$SWAN_PID_init1")"
t0=$(date +%s%N)
wait_log "$T/srv.log" "198\.51\.101\.1:[0-9]+.*IKE: peer dead: liveness check \(message ID [0-9]+\) unanswered for [0-9]+ ms" 15 ||
    fail "server: dead peer not logged with the peer and the reason"
t1=$(date +%s%N)
wait_log "$T/srv.log" "198\.51\.101\.1:[0-9]+.*closed \(session closed\)" 5 ||
    fail "server: the dead client's session was not removed"
say "dead peer detected $(( (t1 - t0) / 1000000 )) ms after it vanished: $(grep -o 'IKE: peer dead.*' "$T/srv.log")"

# Its address goes to the next client.
client 2
[ "$VIP" = 10.10.0.2 ] || fail "client 2 got $VIP, not the released 10.10.0.2"

# SIGTERM: the server deletes client 2's IKE SA before it exits.
relay_sigterm
grep -q "exiting after the Delete of 1 IKE SA" "$T/srv.log" ||
    fail "server: no Delete on SIGTERM"
wait_log "$T/init2/charon.log" "received DELETE for IKE_SA home" 5 ||
    fail "client 2 did not receive the server's DELETE"
grep -q "IKE: IKE SA deleted (shutting down)" "$T/srv.log" ||
    fail "server: client 2 did not answer the Delete"
say "SIGTERM: $(grep -o 'received DELETE for IKE_SA.*' "$T/init2/charon.log" | head -1)"
ok
