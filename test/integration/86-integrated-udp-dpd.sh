#!/usr/bin/env bash
# Requests the server starts, toward a UDP client (RFC 7296 §1.4, §2.1,
# §2.4), with dpd-delay = 2s and dpd-timeout = 6s:
#  - an idle strongSwan initiator on UDP answers the liveness checks and
#    keeps its tunnel;
#  - SIGTERM: the Delete of its IKE SA goes out over UDP and is answered;
#  - (a new server) once the initiator's charon is killed, the server
#    sends its check again (over UDP it retransmits, unlike on a stream,
#    RFC 9329 §7.2), declares the peer dead at dpd-timeout and ends the
#    session.
. "$(dirname "$0")/lib.sh"

SRV=$RELAY_C_ADDR
integ_topo

# SIGUSR1; "datagrams out" of the newest "stats: udp" line.
udp_out()
{
	local before
	before=$(count_log "$T/$1.log" "stats: udp:")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/$1.log" "stats: udp:")" -gt "$before" ] &&
		    break
		sleep 0.1
	done
	grep -o "stats: udp: .*" "$T/$1.log" | tail -n 1 |
	    sed -nE 's/.*datagrams out ([0-9]+).*/\1/p'
}

integ_server_up srv "udp-listen=$SRV:500" "udp-listen=$SRV:4500" \
    dpd-delay=2s dpd-timeout=6s
CN_ADDR=$SRV INIT_CONN_EXTRA="		encap = yes" initiator_start
tunnel_up
ping_tunnel 3
sleep 6
checks=$(count_log "$T/init/charon.log" "parsed INFORMATIONAL request [0-9]+ \[ \]")
[ "$checks" -ge 2 ] || fail "answered $checks liveness checks, want >= 2"
grep -q "peer dead" "$T/srv.log" && fail "a live client was declared dead"
ping_tunnel 3
say "the UDP client answered $checks liveness checks"

relay_sigterm
grep -q "exiting after the Delete of 1 IKE SA" "$T/srv.log" ||
    fail "server: no Delete on SIGTERM"
wait_log "$T/init/charon.log" "received DELETE for IKE_SA home" 5 ||
    fail "the UDP client did not receive the server's Delete"
grep -q "IKE: IKE SA deleted (shutting down)" "$T/srv.log" ||
    fail "server: the UDP client did not answer the Delete"

integ_server_up srv2 "udp-listen=$SRV:500" "udp-listen=$SRV:4500" \
    dpd-delay=2s dpd-timeout=6s
tunnel_up
ping_tunnel 3
out0=$(udp_out srv2)
kill -KILL "$(child_of "$SWAN_PID_init")"
t0=$(date +%s%N)
wait_log "$T/srv2.log" "udp $CLIENT_ADDR:4510 .*IKE: peer dead: liveness check \(message ID [0-9]+\) unanswered for [0-9]+ ms" 20 ||
    fail "server: the vanished UDP client was not declared dead"
t1=$(date +%s%N)
out1=$(udp_out srv2)
say "dead $(( (t1 - t0) / 1000000 )) ms after it vanished; $((out1 - out0)) datagrams sent to it meanwhile"
[ $((out1 - out0)) -ge 2 ] ||
    fail "the liveness check was not sent again ($out0 -> $out1)"
sleep 1
kill -USR1 "$RELAY_DPID"
wait_log "$T/srv2.log" "stats: sessions 0 " 5 ||
    fail "the dead client's session is still there"
ok
