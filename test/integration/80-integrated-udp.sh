#!/usr/bin/env bash
# The integrated server's UDP front end (udp-listen), with an unmodified
# strongSwan initiator over plain UDP, no connector: IKE_SA_INIT to UDP
# 500, the float to 4500 for IKE_AUTH (RFC 7296 §2.23), ESP in UDP
# (RFC 3948) both ways; tunnel up, pings, a 10 MB download checked by
# SHA-256; NAT keepalives are dropped and counted; malformed datagrams from another host are counted
# and dropped while the tunnel carries on; iketcpctl lists the session's
# transport as UDP.  The initiator stands for a phone's built-in client
# behind a NAT: it forces UDP encapsulation (encap = yes, which fakes its
# NAT_DETECTION_SOURCE_IP), as a NAT would make it do.  UDP_FAMILY=6: the
# same with IPv6 outer addresses.  UDP_ENCAP=server: the initiator does
# not force it; the server does (udp-encap = yes: its NAT detection says
# it is behind a NAT), as for a phone on IPv6 without any NAT.
. "$(dirname "$0")/lib.sh"

# SIGUSR1; the newest "stats: udp" line.
udp_stats()
{
	local before
	before=$(count_log "$T/srv.log" "stats: udp:")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/srv.log" "stats: udp:")" -gt "$before" ] &&
		    break
		sleep 0.1
	done
	grep -o "stats: udp: .*" "$T/srv.log" | tail -n 1
}

integ_topo
fam=${UDP_FAMILY:-4}
if [ "$fam" = 6 ]; then
	ip -n "$(ns C)" addr add fd00:cc::1/64 dev vR nodad
	ip -n "$(ns R)" addr add fd00:cc::2/64 dev vC nodad
	SRV=fd00:cc::2
	SRV_U="[$SRV]"
	INIT_ADDR=fd00:cc::1
else
	SRV=$RELAY_C_ADDR
	SRV_U=$SRV
fi
if [ "${UDP_ENCAP:-client}" = server ]; then
	set -- udp-encap=yes
	init_extra=
else
	set --
	init_extra="		encap = yes"
fi
IKT_GLOBAL="control-socket = $T/ctl.sock" integ_server_up srv \
    "udp-listen=$SRV_U:500" "udp-listen=$SRV_U:4500" "$@"
grep -qF "udp-listen $SRV_U:500 (IKE)" "$T/srv.log" ||
    fail "server: no udp-listen on 500"
grep -qF "udp-listen $SRV_U:4500 (IKE with the Non-ESP marker" "$T/srv.log" ||
    fail "server: no udp-listen on 4500"

# The initiator talks to the server itself.
CN_ADDR=$SRV
INIT_CONN_EXTRA=$init_extra initiator_start
tunnel_up
say "over UDP: IKE_SA + CHILD_SA in $IKE_MS ms"
log=$T/init/charon.log
grep -qF "[510] to $SRV[500]" "$log" ||
    fail "IKE_SA_INIT did not go to UDP 500"
grep -qF "[4510] to $SRV[4500]" "$log" ||
    fail "the initiator did not float to 4500"
if [ "${UDP_ENCAP:-client}" = server ]; then
	grep -q "remote host is behind NAT" "$log" ||
	    fail "udp-encap = yes: the initiator saw no NAT at the server"
	grep -q "faking NAT" "$log" && fail "the initiator forced encapsulation"
fi
grep -q "parsed IKE_AUTH response 1" "$log" ||
    fail "no IKE_AUTH response"
wait_log "$T/srv.log" "session moved from udp .*:510 -> .* to udp .*:4510" 5 ||
    fail "server: the float to 4500 did not move the path"
wait_log "$T/srv.log" "established, fqdn:initiator\.test authenticated" 5 ||
    fail "server: IKE SA not established"
ping_tunnel 10
say "ping through the tunnel: $PING_RTT ms"

# iketcpctl: the session is on UDP.
CTL=$(dirname "$IKETCPD")/iketcpctl
[ -x "$CTL" ] || CTL=$IKT_ROOT/build/iketcpctl
list=$("$CTL" -s "$T/ctl.sock" list 2>&1) ||
    fail "iketcpctl list: $list"
grep -qE "^[0-9]+ +vpn +integrated +live +.* UDP " <<<"$list" ||
    fail "iketcpctl: no live UDP session: $list"

WEB_NS=R web_start
fetch_bg
fetch_wait
say "10 MB over ESP in UDP in $XFER_S s, SHA-256 matches"

# NAT keepalives (RFC 3948 §2.3), 500 from the client host: every one
# dropped and counted, the tunnel unaffected.
ka0=$(sed -nE 's/.*keepalives dropped ([0-9]+).*/\1/p' <<<"$(udp_stats)")
ns_exec C "$IKT_PY" - "$SRV" <<'PY' || fail "could not send datagrams"
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for _ in range(500):
    s.sendto(b"\xff", (sys.argv[1], 4500))
PY
ping_tunnel 3
st=$(udp_stats)
say "server: $st"
ka=$(sed -nE 's/.*keepalives dropped ([0-9]+).*/\1/p' <<<"$st")
[ $((ka - ka0)) = 500 ] || fail "keepalives: $ka0 -> $ka, want +500: $st"

# Malformed datagrams from another source port of the client host: each
# counted and dropped, the tunnel unaffected.
inv0=$(sed -nE 's/.*invalid dropped ([0-9]+).*/\1/p' <<<"$st")
ns_exec C "$IKT_PY" - "$SRV" <<'PY' || fail "could not send datagrams"
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
bad = [b"\x00\x00\x00\x00" + b"\x01" * 10,	# marker, short IKE header
       b"\x00\x00\x00",			# too short for a marker
       b"\x00\x00\x00\x00" + b"\x11" * 16 + b"\x00\x00\x00\x00\x00\x00\x00\x00" + b"\x21\x10\x22\x08" + b"\x00" * 8,	# version 1
       b"\x01\x02\x03"]			# ESP too short
for b in bad * 25:
    s.sendto(b, (sys.argv[1], 4500))
s.sendto(b"\x01" * 10, (sys.argv[1], 500))	# not IKE on 500
PY
ping_tunnel 5
st=$(udp_stats)
inv=$(sed -nE 's/.*invalid dropped ([0-9]+).*/\1/p' <<<"$st")
[ $((inv - inv0)) -ge 101 ] ||
    fail "malformed datagrams not counted ($inv0 -> $inv): $st"
say "malformed datagrams dropped: $((inv - inv0))"
ok
