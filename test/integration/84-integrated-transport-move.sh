#!/usr/bin/env bash
# An IKE SA moves between UDP and a stream and back (RFC 9329 §7.1),
# keeping its IKE SA and Child SA, without re-authentication.  The server
# ([integrated] with udp-listen *:500, *:4500 and a stream listener) also
# owns the address X the unmodified strongSwan initiator talks to; a
# connector in C listens on *:500/4500 with the server's stream as its
# server.  While X is not an address of C, the initiator's datagrams
# reach the server over UDP; once X is added to C's loopback they reach
# the connector instead (UDP "blocked"); removing it again sends them
# over UDP once more.  Each move happens in the middle of a 10 MB
# download, which must complete with its SHA-256 intact.
#   UDP -> stream: the initiator's next request (a liveness check after
#   dpd_delay = 2s without answers) makes the connector open a stream for
#   an SA it never saw; the server proves it (an authenticated new
#   request) and ESP follows the stream.
#   stream -> UDP: the initiator's ESP (or, once a stalled download
#   leaves it nothing to send, its liveness check) reaches the server
#   over UDP from its own address; it proves the keys, the path moves to
#   UDP and the stream is closed.
# iketcpctl shows the transport at each step.
. "$(dirname "$0")/lib.sh"

X=$CN_ADDR
integ_topo
ip -n "$(ns C)" addr del "$X/32" dev lo
ip -n "$(ns C)" route add "$X/32" via "$RELAY_C_ADDR"
ip -n "$(ns R)" addr add "$X/32" dev lo
IKT_GLOBAL="control-socket = $T/ctl.sock" integ_server_up srv \
    "udp-listen=*:500" "udp-listen=*:4500" linger=30s
CN_LISTEN='*' connector_up cn
CTL=$(dirname "$IKETCPD")/iketcpctl
[ -x "$CTL" ] || CTL=$IKT_ROOT/build/iketcpctl

# transport: the TRANSPORT column of the one session the server lists.
transport()
{
	"$CTL" -s "$T/ctl.sock" list --json |
	    "$IKT_PY" -c 'import json, sys
s = [x for x in json.load(sys.stdin)["sessions"] if x["state"] == "live"]
print(",".join(t for x in s for t in x["transport"]) or "none")'
}

INIT_CONN_EXTRA="		encap = yes
		dpd_delay = 2s" initiator_start
tunnel_up
spis=$(ike_spis)
say "over UDP: up in $IKE_MS ms, IKE SA $spis"
wait_log "$T/srv.log" "session moved from udp .* to udp $CLIENT_ADDR:4510" 5 ||
    fail "server: the initiator did not reach it over UDP"
ping_tunnel 5
[ "$(transport)" = UDP ] || fail "iketcpctl: transport $(transport), want UDP"

# A 10 MB download at 20 Mbit/s (about 4 s) through the tunnel, moved
# 1.5 s in; it must complete, checked by SHA-256.
link_rate C R 20mbit
WEB_NS=R web_start
mid_transfer()
{
	fetch_bg
	sleep 1.5
	[ -s "$T/got" ] || fail "the transfer has not started"
	AT=$(stat -c %s "$T/got")
	[ "$AT" -lt $((10 * 1024 * 1024)) ] ||
	    fail "the transfer ended before the move"
}

# UDP blocked mid-transfer: X is local in C, the connector takes the
# datagrams.
mid_transfer
ip -n "$(ns C)" addr add "$X/32" dev lo
wait_log "$T/cn.log" "carries IKE SA ${spis%%_*}, set up before" 15 ||
    fail "connector: did not take the SA over"
wait_log "$T/srv.log" "session re-attached \(proven: a new IKE request" 10 ||
    fail "server: the stream was not proven"
fetch_wait
say "UDP -> stream after $AT bytes: the 10 MB download completed in $XFER_S s"
ping_tunnel 5
[ "$(ike_spis)" = "$spis" ] || fail "a new IKE SA: $(ike_spis), was $spis"
[ "$(count_log "$T/srv.log" "established, fqdn:initiator")" = 1 ] ||
    fail "the client authenticated again"
[ "$(transport)" = TCP ] || fail "iketcpctl: transport $(transport), want TCP"
say "UDP -> stream: same IKE SA, ping $PING_RTT ms"

# UDP back mid-transfer: X is no longer local in C.
mid_transfer
ip -n "$(ns C)" addr del "$X/32" dev lo
wait_log "$T/srv.log" "session moved from a stream to udp $CLIENT_ADDR:4510 .*proven: " 10 ||
    fail "server: the client over UDP did not move the session"
[ "$(ike_spis)" = "$spis" ] || fail "a new IKE SA: $(ike_spis), was $spis"
[ "$(count_log "$T/srv.log" "established, fqdn:initiator")" = 1 ] ||
    fail "the client authenticated again"
[ "$(transport)" = UDP ] || fail "iketcpctl: transport $(transport), want UDP"
fetch_wait
say "stream -> UDP after $AT bytes: the 10 MB download completed in $XFER_S s"
ping_tunnel 3
ok
