#!/usr/bin/env bash
# The integrated server rekeys on its own (RFC 7296 §1.3.3, §2.8): its
# child-lifetime is short (4 s), strongSwan's lifetimes are long (1 h by
# default), so every rekey is the server's.  During a 10 MB HTTP download
# paced to ~10 s, the server starts CREATE_CHILD_SA with REKEY_SA before
# each Child SA's lifetime ends, installs the new SA on the response and
# deletes the old one; the transfer completes with the right SHA-256,
# strongSwan lists new SPIs, the tunnel still pings, and the server kept
# the old inbound SA until its Delete was answered (no inbound ESP lost).
. "$(dirname "$0")/lib.sh"

integ_topo
integ_server_up srv child-lifetime=4s ike-lifetime=1h
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

WEB_NS=R web_start
fetch_bg --limit-rate 1M
fetch_wait
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
grep -q "peer dead\|rekey refused" "$T/srv.log" &&
    fail "server: $(grep -E 'peer dead|rekey refused' "$T/srv.log" | head -1)"
ping_tunnel 3
st=$(integ_stats srv)
say "server: $st"
drops=$(sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p' <<<"$st")
[ "$drops" = 0 ] || fail "server dropped $drops inbound ESP packets"
ok
