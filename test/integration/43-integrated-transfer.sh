#!/usr/bin/env bash
# 10 MB over HTTP through the integrated tunnel: python3 http.server bound
# to the server's TUN address in the server's namespace, curl in the
# initiator's namespace (strongSwan -> connector -> integrated iketcpd);
# the SHA-256 of what arrived matches, the tunnel still pings afterwards
# and the server dropped no inbound ESP.
. "$(dirname "$0")/lib.sh"

integ_topo
integ_server_up srv
connector_up cn
initiator_start
tunnel_up
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
ping_tunnel 3

WEB_NS=R web_start
fetch_bg
fetch_wait
say "10 MB in $XFER_S s, SHA-256 ok"
ping_tunnel 3
st=$(integ_stats srv)
say "server: $st"
drops=$(sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p' <<<"$st")
[ "$drops" = 0 ] || fail "server dropped $drops inbound ESP packets"
ok
