#!/usr/bin/env bash
# Cookies and the half-open cap over the UDP front end (RFC 7296 §2.6),
# shared with the streams: cookie-threshold is 2.  Two raw IKE_SA_INITs
# over UDP (ikeclient.py) leave two half-open IKE SAs; the next
# IKE_SA_INIT draws only a COOKIE notify (SPIr zero); a flood of 300 more
# from 300 source ports (as spoofed sources look to the server) draws 300
# COOKIEs and leaves no session behind; an IKE_SA_INIT on a stream gets a
# COOKIE too (one count for both transports).  An unmodified strongSwan
# initiator over UDP answers its COOKIE and its tunnel comes up and
# pings.  After handshake-timeout the two half-open SAs are dropped
# (counted), the count is 0 again and IKE_SA_INIT is answered in full.
. "$(dirname "$0")/lib.sh"

N_COOKIE=16390
SRV=$RELAY_C_ADDR
integ_topo
IKT_GLOBAL="control-socket = $T/ctl.sock" integ_server_up srv \
    cookie-threshold=2 handshake-timeout=8s \
    "udp-listen=$SRV:500" "udp-listen=$SRV:4500"

# SIGUSR1; the newest line that matches $1.
stat_line()
{
	local before
	before=$(count_log "$T/srv.log" "$1")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/srv.log" "$1")" -gt "$before" ] && break
		sleep 0.1
	done
	grep -o "$1.*" "$T/srv.log" | tail -n 1
}

for i in 1 2; do
	out=$(ikeclient C udp --to "$SRV:500") ||
	    fail "IKE_SA_INIT $i over UDP not answered in full: $out"
	wait_log "$T/srv.log" "$i half-open IKE SAs \(cookie threshold 2\)" 5 ||
	    fail "server: not $i half-open SAs"
done
t_half=$(date +%s)

# The third: a COOKIE and nothing else, on 500 and on 4500.
for port in 500 4500; do
	out=$(ikeclient C udp --to "$SRV:$port") &&
	    fail "a third IKE_SA_INIT was answered in full: $out"
	[ "$(jget spi_r <<<"$out")" = 0000000000000000 ] ||
	    fail "the COOKIE answer has an SPIr: $out"
	grep -q "\"notifies\": \[$N_COOKIE\]" <<<"$out" ||
	    fail "no COOKIE notify (alone) in the answer: $out"
done

# A flood from 300 source ports: 300 COOKIEs, no state.
got=$(ns_exec C "$IKT_PY" - "$IKT_DIR" "$SRV" <<'PY'
import os, socket, struct, sys
sys.path.insert(0, sys.argv[1])
import ikeclient
n = 0
for _ in range(300):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(ikeclient.build_init(os.urandom(8)), (sys.argv[2], 500))
    try:
        data, _ = s.recvfrom(65536)
    except socket.timeout:
        continue
    p = ikeclient.parse_ike(data)
    if p.get("spi_r") == "0000000000000000" and \
       p.get("notifies") == [16390]:
        n += 1
    s.close()
print(n)
PY
) || fail "flood: $got"
[ "$got" = 300 ] || fail "flood: $got COOKIEs for 300 IKE_SA_INITs"
st=$(stat_line "stats: sessions")
say "after the flood: $st"
grep -q "stats: sessions 2 " <<<"$st" ||
    fail "the flood left sessions behind: $st"
st=$(stat_line "integrated vpn: half-open")
grep -q "half-open IKE SAs 2 .*COOKIEs demanded 302" <<<"$st" ||
    fail "want 2 half-open and 302 COOKIEs: $st"

# The stream side counts the same half-open SAs.
out=$(ikeclient C init --connect "$SRV:4500" --timeout 3) &&
    fail "an IKE_SA_INIT on a stream was answered in full: $out"
grep -q "\"notifies\": \[$N_COOKIE\]" <<<"$out" ||
    fail "no COOKIE on the stream: $out"

# strongSwan over UDP, unmodified, answers the COOKIE and connects.
CN_ADDR=$SRV INIT_CONN_EXTRA="		encap = yes" initiator_start
tunnel_up
say "strongSwan over UDP through the COOKIE: up in $IKE_MS ms"
grep -q "parsed IKE_SA_INIT response 0 \[ N(COOKIE) \]" \
    "$T/init/charon.log" || fail "strongSwan was not asked for a COOKIE"
ping_tunnel 5

# handshake-timeout (8 s) ends the two half-open SAs.
wait_log "$T/srv.log" " 0 half-open IKE SAs" 15 ||
    fail "server: half-open SAs not dropped"
t_end=$(date +%s)
[ $((t_end - t_half)) -ge 7 ] ||
    fail "half-open SAs dropped after $((t_end - t_half)) s, before 8 s"
st=$(stat_line "stats: udp:")
say "server: $st"
grep -q "half-open expired 2," <<<"$st" ||
    fail "want 2 half-open SAs expired: $st"
out=$(ikeclient C udp --to "$SRV:4500") ||
    fail "below the threshold, IKE_SA_INIT not answered in full: $out"
ping_tunnel 3
ok
