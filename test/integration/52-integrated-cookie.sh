#!/usr/bin/env bash
# cookie-threshold (RFC 7296 §2.6) in the integrated role, with real
# traffic: the threshold is 2; two raw clients (ikeclient.py) send an
# IKE_SA_INIT each over their own stream and stay connected, so two IKE
# SAs are half-open; the next IKE_SA_INIT gets only a COOKIE notify
# (SPIr zero, no SA/KE/Nonce) and the server keeps no state for it; an
# unmodified strongSwan initiator (through the connector) answers the
# COOKIE on the same stream and its tunnel comes up and pings.  When
# the two raw clients go away the count drops back to 0 and an
# IKE_SA_INIT is answered without a COOKIE again.  The count is logged at
# debug and shown in the SIGUSR1 stats.
. "$(dirname "$0")/lib.sh"

N_COOKIE=16390
integ_topo
integ_server_up srv cookie-threshold=2 linger=1s
connector_up cn

# SIGUSR1; the section's newest half-open / COOKIE line.
cookie_stats()
{
	local before
	before=$(count_log "$T/srv.log" "integrated vpn: half-open")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/srv.log" "integrated vpn: half-open")" -gt \
		    "$before" ] && break
		sleep 0.1
	done
	grep -o "integrated vpn: half-open.*" "$T/srv.log" | tail -n 1
}

# Two half-open IKE SAs held open.
for i in 1 2; do
	client_bg "hold$i" init --connect "$RELAY_C_ADDR:4500" --keep-open 60
	wait_log "$T/srv.log" "$i half-open IKE SAs \(cookie threshold 2\)" 5 ||
	    fail "server: not $i half-open SAs"
done
st=$(cookie_stats)
say "server: $st"
grep -q "half-open IKE SAs 2 (cookie threshold 2), COOKIEs demanded 0" <<<"$st" ||
    fail "stats: want 2 half-open, no COOKIE yet: $st"

# The third gets a COOKIE and nothing else.
out=$(ikeclient R init --connect "$RELAY_C_ADDR:4500" --timeout 3) &&
    fail "a third IKE_SA_INIT was answered in full: $out"
[ "$(jget responses.0.spi_r <<<"$out")" = 0000000000000000 ] ||
    fail "the COOKIE answer has an SPIr: $out"
grep -q "\"notifies\": \[$N_COOKIE\]" <<<"$out" ||
    fail "no COOKIE notify (alone) in the answer: $out"
grep -q '"payloads": \["N"\]' <<<"$out" ||
    fail "the COOKIE answer carries more than N: $out"
wait_log "$T/srv.log" "half-open SAs over the threshold: COOKIE sent" 2 ||
    fail "server: no COOKIE logged"
st=$(cookie_stats)
grep -q "half-open IKE SAs 2 .*COOKIEs demanded 1" <<<"$st" ||
    fail "stats: the COOKIE left state behind or was not counted: $st"

# strongSwan, unmodified, answers the COOKIE and connects.
initiator_start
tunnel_up
say "strongSwan through the COOKIE: IKE_SA + CHILD_SA in $IKE_MS ms"
grep -q "parsed IKE_SA_INIT response 0 \[ N(COOKIE) \]" "$T/init/charon.log" ||
    fail "strongSwan was not asked for a COOKIE"
wait_log "$T/srv.log" "established, fqdn:initiator\.test authenticated" 5 ||
    fail "server: strongSwan not authenticated"
ping_tunnel 5
st=$(cookie_stats)
say "server: $st"
grep -q "half-open IKE SAs 2 .*COOKIEs demanded 2" <<<"$st" ||
    fail "stats: want 2 half-open (the held ones) and 2 COOKIEs: $st"

# The holders leave: their sessions end and the count drops to 0.
stop_pid "$CLIENT_PID_hold1"
stop_pid "$CLIENT_PID_hold2"
wait_log "$T/srv.log" " 0 half-open IKE SAs" 10 ||
    fail "server: half-open count did not drop to 0"
out=$(ikeclient R init --connect "$RELAY_C_ADDR:4500" --timeout 3) ||
    fail "below the threshold, IKE_SA_INIT not answered in full: $out"
grep -q "\"notifies\": \[[^]]*$N_COOKIE" <<<"$out" &&
    fail "a COOKIE below the threshold: $out"
ping_tunnel 3
ok
