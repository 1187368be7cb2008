#!/usr/bin/env bash
# The integrated server rekeys on its own (RFC 7296 §1.3.2, §1.3.3,
# §2.8, §2.18): its child-lifetime (4 s) and ike-lifetime (7 s) are
# short, strongSwan's lifetimes are long (hours by default), so every
# rekey is the server's.  During a 10 MB HTTP download paced to ~10 s
# (the C-R link shaped to 8 Mbit/s), the server starts CREATE_CHILD_SA
# with REKEY_SA before each Child SA's lifetime ends, installs the new
# SA on the response and deletes the old one; it rekeys the IKE SA (new
# SPIs, KE, nonces; the Child SA moves to the new IKE SA) and deletes
# the old IKE SA.  The transfer completes with the right SHA-256,
# strongSwan lists new Child SA and IKE SA SPIs and logs the rekeyed
# IKE_SA, the tunnel still pings, and the server kept each old inbound
# SA until its Delete was answered (no inbound ESP lost).
. "$(dirname "$0")/lib.sh"

integ_topo
integ_server_up srv child-lifetime=4s ike-lifetime=7s
connector_up cn
initiator_start
tunnel_up
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
ping_tunnel 3
# The SPIs of strongSwan's INSTALLED Child SAs (rekeyed ones linger a
# few seconds as DELETED).
child_spis()
{
	swanctl_ "$T/init" --list-sas 2>/dev/null | awk '
	    / INSTALLED, / { on = 1; next }
	    /, (DELETED|REKEYED|DELETING|REKEYING), / { on = 0; next }
	    on && $1 ~ /^(in|out)$/ { sub(/,/, "", $2); printf "%s ", $2 }'
}
spis0=$(child_spis)
[ -n "$spis0" ] || fail "no Child SA SPIs listed"
ike0=$(ike_spis)

WEB_NS=R web_start
link_rate C R 8mbit
fetch_bg
fetch_wait
# The rekeys happened during the transfer (it lasts about 10 s, a rekey
# every 3-4 s); a slow machine gets a few more seconds for the last one.
for _ in $(seq 50); do
	[ "$(count_log "$T/srv.log" "IKE: Child SA [0-9a-f]{8} rekeyed")" -ge 2 ] &&
	    [ "$(count_log "$T/srv.log" "IKE: IKE SA rekeyed")" -ge 1 ] && break
	sleep 0.1
done
n=$(count_log "$T/srv.log" "IKE: Child SA [0-9a-f]{8} rekeyed")
say "10 MB in $XFER_S s, SHA-256 ok, $n Child SA rekeys by the server"
[ "$n" -ge 2 ] || fail "server rekeyed the Child SA $n times, want >= 2"
# strongSwan saw them as the peer's rekeys, and its SPIs moved on.
grep -q "received CREATE_CHILD_SA\|parsed CREATE_CHILD_SA request" \
    "$T/init/charon.log" || fail "strongSwan saw no CREATE_CHILD_SA request"
spis1=$(child_spis)
[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
    fail "Child SA SPIs unchanged: $spis0 -> $spis1"
say "strongSwan's Child SA SPIs: $spis0-> $spis1"
k=$(count_log "$T/srv.log" "IKE: IKE SA rekeyed: [0-9a-f]{16}_[0-9a-f]{16}")
[ "$k" -ge 1 ] || fail "server did not rekey the IKE SA"
grep -q "IKE: rekeyed IKE SA deleted" "$T/srv.log" ||
    fail "server: the old IKE SA was not deleted"
grep -qE "IKE_SA home\[[0-9]+\] rekeyed" "$T/init/charon.log" ||
    fail "strongSwan did not log a rekeyed IKE_SA"
grep -qE "received DELETE for IKE_SA home\[1\]" "$T/init/charon.log" ||
    fail "strongSwan did not receive the Delete of the old IKE SA"
ike1=$(ike_spis)
[ -n "$ike1" ] && [ "$ike1" != "$ike0" ] ||
    fail "IKE SA SPIs unchanged: $ike0 -> $ike1"
say "$k IKE SA rekeys by the server; strongSwan's IKE SA: $ike0 -> $ike1"
grep -q "peer dead\|rekey refused" "$T/srv.log" &&
    fail "server: $(grep -E 'peer dead|rekey refused' "$T/srv.log" | head -1)"
ping_tunnel 3
st=$(integ_stats srv)
say "server: $st"
drops=$(sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p' <<<"$st")
[ "$drops" = 0 ] || fail "server dropped $drops inbound ESP packets: $st
$(integ_esp_drop_why srv)"
ok
