#!/usr/bin/env bash
# MOBIKE (RFC 4555) with the integrated server and an unmodified
# strongSwan initiator with MOBIKE on (its default), 100 pings a second
# through the tunnel; the longest gap without an echo reply is printed
# for each move.
#
# A. Between UDP and a stream (RFC 9329 §7.1).  The initiator talks to a
#    connector (transport = fallback) whose udp-gateway is the server's
#    UDP and whose server is the server's stream port, as test 74 but
#    with MOBIKE.  nftables in C drops UDP to and from the server: the
#    initiator's liveness check (dpd_delay 2s; with MOBIKE and a NAT it
#    carries NAT_DETECTION) gets no UDP answer, the connector replays it
#    on a stream, the server takes it as proof and answers with the
#    stream's NAT_DETECTION hashes; the initiator sees its "NAT mapping"
#    change and sends UPDATE_SA_ADDRESSES, now over the stream.  No
#    check: a stream's TCP handshake proved the client's address.
#    Unblocked: the connector goes back to UDP, the initiator's ESP comes
#    over UDP from the address its IKE_SA_INIT came from (verified) and
#    the server follows at once; the initiator's next liveness check
#    sees the mapping change back and updates again, over UDP.  Same IKE
#    SA throughout, no second IKE_AUTH; iketcpctl shows UDP, TCP, UDP.
#
# B. Between UDP addresses.  A second initiator talks to the server
#    directly.  Its address changes (a second address on its link, the
#    first removed): it sends UPDATE_SA_ADDRESSES from the new one, the
#    server answers there but keeps ESP on the old path until its return
#    routability check (an INFORMATIONAL request with COOKIE2, sent to
#    the new address only) is answered, then moves; tcpdump in C shows
#    the check and its answer on the wire before the first ESP to the
#    new address.  Then again to a third address, with nftables in C
#    dropping the server's IKE requests to it: the check goes unanswered,
#    the server sends no ESP there and the SA stays on its old path,
#    though the client's own ESP comes from the new address (authentic,
#    but from an address not verified); once the drop is lifted, the
#    check's retransmission is answered and the SA moves.
. "$(dirname "$0")/lib.sh"

SRV=$RELAY_C_ADDR
integ_topo
need_iketcpctl
IKT_GLOBAL="control-socket = $T/ctl.sock" INTEG_LISTEN="$SRV:4500" \
    INIT_MOBIKE=yes integ_server_up srv "udp-listen=$SRV:500" \
    "udp-listen=$SRV:4500" linger=30s

# sa_field KEY: KEY of the one live session's JSON (transport joined).
sa_field()
{
	"$CTL" -s "$T/ctl.sock" list --json | "$IKT_PY" -c 'import json, sys
s = [x for x in json.load(sys.stdin)["sessions"] if x["state"] == "live"]
k = sys.argv[1]
def get(x):
	if k == "transport":
		return ",".join(x["transport"])
	if k in x:
		return str(x[k])
	return str(x["ike_sa"][k])
print(" ".join(get(x) for x in s) or "none")' "$1"
}

# pings_start: 100 pings a second through the tunnel into ping.log
# (wait_echo_resumed, ping_gap); pings_stop NAME keeps it as NAME.log.
pings_start()
{
	bg ping 100 ip netns exec "$(ns C)" stdbuf -oL ping -D -n -i 0.01 \
	    -W 1 -w 90 "$SVC_ADDR"
	PING_PID=$BG_PID
	sleep 1
}

pings_stop()
{
	stop_pid "$PING_PID"
	cp "$T/ping.log" "$T/$1.log"
}

# clog: the initiator's charon log.
clog()
{
	printf '%s' "$T/init/charon.log"
}

# ---- A: UDP -> stream -> UDP through the connector ----------------------

connector_up cn transport=fallback "udp-gateway=$SRV" fallback-timeout=1s \
    udp-retry-min=2s udp-retry-max=4s
INIT_MOBIKE=yes INIT_CONN_EXTRA="		dpd_delay = 2s" initiator_start
tunnel_up
spis=$(ike_spis)
[ "$(wc -l <<<"$spis")" = 1 ] || fail "want one IKE SA: $spis"
grep -q "peer supports MOBIKE" "$(clog)" || fail "MOBIKE not agreed"
[ "$(sa_field mobike)" = True ] || fail "iketcpctl: mobike $(sa_field mobike)"
tr1=$(sa_field transport)
[ "$tr1" = UDP ] || fail "iketcpctl: transport $tr1, want UDP"
# The initiator's first INFORMATIONAL (its address update once the
# virtual IP is up, or a liveness check after 2 s idle) brings
# NAT_DETECTION back; what it learns is the base for the changes below.
wait_log "$(clog)" "parsed INFORMATIONAL response [0-9]+ \[ .*N\(NATD_D_IP\)" 10 ||
    fail "no NAT_DETECTION in an INFORMATIONAL response"
sleep 1
upd0=$(count_log "$(clog)" "generating INFORMATIONAL request [0-9]+ \[ N\(UPD_SA_ADDR\)")
acc0=$(count_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path")
say "A: over UDP, up in $IKE_MS ms, IKE SA $spis, MOBIKE agreed"

pings_start
t_block=$(now)
ns_exec C nft -f - <<EOF2
table inet ikt_block {
	chain out {
		type filter hook output priority 0;
		ip daddr $SRV udp dport { 500, 4500 } counter drop
	}
	chain in {
		type filter hook input priority 0;
		ip saddr $SRV udp sport { 500, 4500 } counter drop
	}
}
EOF2
wait_log "$T/cn.log" \
    "transport tcp \(no UDP answer to an IKE request within 1000 ms\)" 20 ||
    fail "A: no move to the stream"
wait_log "$T/srv.log" "session re-attached \(proven: " 10 ||
    fail "A: the stream was not proven"
wait_log "$(clog)" "detected changes in NAT mappings, initiating MOBIKE update" 10 ||
    fail "A: the initiator saw no change of path in our NAT detection"
wait_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path" 10 ||
    fail "A: no UPDATE_SA_ADDRESSES over the stream"
wait_echo_resumed || fail "A: no echo replies over the stream"
sleep 2
t_unblock=$(now)
pings_stop pingA1
gapA1=$(ping_gap "$t_block" "$t_unblock")
tr2=$(sa_field transport)
[ "$tr2" = TCP ] || fail "iketcpctl: transport $tr2, want TCP"
[ "$(count_log "$(clog)" "generating INFORMATIONAL request [0-9]+ \[ N\(UPD_SA_ADDR\) N\(NATD_S_IP\) N\(NATD_D_IP\) N\(COOKIE2\)")" -gt "$upd0" ] ||
    fail "A: charon sent no UPDATE_SA_ADDRESSES"
grep -qE "parsed INFORMATIONAL response [0-9]+ \[ N\(NATD_S_IP\) N\(NATD_D_IP\) N\(COOKIE2\) \]" "$(clog)" ||
    fail "A: charon got no answer to its UPDATE_SA_ADDRESSES"
[ "$(ike_spis)" = "$spis" ] || fail "A: a new IKE SA: $(ike_spis), was $spis"
say "A: UDP -> stream: longest gap without an echo reply $gapA1 s;" \
    "UPDATE_SA_ADDRESSES over the stream"

pings_start
t_unblock=$(now)
ns_exec C nft delete table inet ikt_block
wait_log "$T/cn.log" "transport udp \(a probe over UDP was answered\)" 20 ||
    fail "A: no move back to UDP"
wait_log "$T/srv.log" "session moved from a stream to udp $CLIENT_ADDR:[0-9]+ -> $SRV:4500 \(proven: " 10 ||
    fail "A: the server did not follow to UDP"
sleep 2
t_back=$(now)
pings_stop pingA2
gapA2=$(ping_gap "$t_unblock" "$t_back")
tr3=$(sa_field transport)
[ "$tr3" = UDP ] || fail "iketcpctl: transport $tr3, want UDP"
# Idle: the initiator's liveness check sees the path change back.
acc1=$(count_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path")
for _ in $(seq 100); do
	[ "$(count_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path")" -gt "$acc1" ] && break
	sleep 0.1
done
[ "$(count_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path")" -gt "$acc1" ] ||
    fail "A: no UPDATE_SA_ADDRESSES back over UDP"
[ "$(sa_field transport)" = UDP ] ||
    fail "iketcpctl: transport $(sa_field transport) after the update"
[ "$(ike_spis)" = "$spis" ] || fail "A: a new IKE SA: $(ike_spis), was $spis"
[ "$(count_log "$T/srv.log" "established, fqdn:initiator")" = 1 ] ||
    fail "A: the client authenticated again"
ping_tunnel 3
say "A: stream -> UDP: longest gap without an echo reply $gapA2 s;" \
    "UPDATE_SA_ADDRESSES over UDP; same IKE SA, $(( \
    $(count_log "$T/srv.log" "UPDATE_SA_ADDRESSES accepted on the session's path") - acc0)) updates"
[ "$(count_log "$T/srv.log" "return routability check")" = 0 ] ||
    fail "A: a check where none was needed"
say "A: iketcpctl list: transport $tr1 -> $tr2 -> $tr3, IKE SA" \
    "$(sa_field spi_i)_$(sa_field spi_r) throughout"
stop_pid "$SWAN_PID_init"
stop_pid "$CN_PID"
IKT_RELAYS=("$RELAY_PID")
mv "$T/init" "$T/initA"
wait_log "$T/srv.log" "IKE_SA deleted" 10 || fail "A: the IKE SA did not end"

# ---- B: between UDP addresses, with the return routability check -------

A1=$CLIENT_ADDR
A2=198.51.100.11
A3=198.51.100.12
# Deleting the primary address promotes the secondary (the new one).
ns_exec C sysctl -qw net.ipv4.conf.vR.promote_secondaries=1
capture_start mob C vR "udp and host $SRV"
CN_ADDR=$SRV INIT_MOBIKE=yes initiator_start
tunnel_up
spis=$(ike_spis)
wait_log "$T/srv.log" "session moved from udp $A1:[0-9]+ -> $SRV:500 to udp $A1:4510 -> $SRV:4500" 5 ||
    fail "B: the initiator did not reach the server over UDP"
[ "$(sa_field client)" = "$A1:4510" ] ||
    fail "B: iketcpctl: client $(sa_field client)"
say "B: over UDP from $A1, up in $IKE_MS ms, IKE SA $spis"
ping_tunnel 3

# rr_wire ADDR: from tcpdump in C, our checks of ADDR (INFORMATIONAL
# requests with neither the Initiator nor the Response flag) and the
# answer to the last one; "ok ..." when no ESP went to ADDR before that
# answer and some did after.
rr_wire()
{
	pcap_json mob | "$IKT_PY" -c 'import json, sys
srv, a = sys.argv[1], sys.argv[2]
p = json.load(sys.stdin)["packets"]
def ike(x, src, dst):
	return x["src"] == src and x["dst"] == dst and x["kind"] == "ike" \
	    and x["exchange"] == 37
chk = [x for x in p if ike(x, srv, a) and not x["flags"] & 0x28]
if not chk:
	print("no check from the server to", a); sys.exit()
ans = [x for x in p if ike(x, a, srv) and x["flags"] & 0x20 and
    x["msgid"] == chk[0]["msgid"]]
if not ans:
	print("the check was not answered"); sys.exit()
t = ans[0]["ts"]
sent = [x for x in chk if x["ts"] < t]
esp_to = [x for x in p if x["dst"] == a and x["kind"] == "esp"]
esp_from = [x for x in p if x["src"] == a and x["kind"] == "esp" and
    x["ts"] < t]
early = [x for x in esp_to if x["ts"] < t]
if early or not esp_to:
	print("%d ESP to %s before the answer, %d in all" % (len(early), a,
	    len(esp_to))); sys.exit()
print("ok %d check(s) of %d octets (message ID %d) sent to %s, answered "
    "%.1f ms after the first; no ESP there before, %d after; %d ESP from "
    "it before" % (len(sent), chk[0]["len"], chk[0]["msgid"], a,
    1000 * (t - chk[0]["ts"]), len(esp_to), len(esp_from)))' "$SRV" "$1"
}

# move FROM TO: the initiator's address changes from FROM to TO.
move()
{
	ip -n "$(ns C)" addr add "$2/24" dev vR
	ip -n "$(ns C)" addr del "$1/24" dev vR
}

pings_start
t_move=$(now)
move "$A1" "$A2"
wait_log "$T/srv.log" "MOBIKE: UPDATE_SA_ADDRESSES from udp $A2:4510 -> $SRV:4500, an address not verified" 10 ||
    fail "B: no UPDATE_SA_ADDRESSES from the new address"
wait_log "$T/srv.log" "session moved from udp $A1:4510 -> $SRV:4500 to udp $A2:4510 -> $SRV:4500 \(proven: return routability check answered with its COOKIE2\)" 10 ||
    fail "B: the server did not move after the check"
wait_echo_resumed || fail "B: no echo replies from the new address"
sleep 2
t_end=$(now)
pings_stop pingB1
gapB1=$(ping_gap "$t_move" "$t_end")
# charon: the update it sent, and our check it answered, COOKIE2 each way.
grep -qE "generating INFORMATIONAL request [0-9]+ \[ N\(UPD_SA_ADDR\) N\(NATD_S_IP\) N\(NATD_D_IP\) N\(COOKIE2\)" "$(clog)" ||
    fail "B: charon sent no UPDATE_SA_ADDRESSES"
grep -qE "parsed INFORMATIONAL request [0-9]+ \[ N\(COOKIE2\) \]" "$(clog)" ||
    fail "B: charon got no check with COOKIE2"
grep -qE "generating INFORMATIONAL response [0-9]+ \[ N\(COOKIE2\) \]" "$(clog)" ||
    fail "B: charon did not echo COOKIE2"
wire=$(rr_wire "$A2")
case $wire in ok*) ;; *) fail "B: on the wire: $wire" ;; esac
[ "$(sa_field client)" = "$A2:4510" ] ||
    fail "B: iketcpctl: client $(sa_field client)"
[ "$(ike_spis)" = "$spis" ] || fail "B: a new IKE SA: $(ike_spis), was $spis"
say "B: $A1 -> $A2: longest gap without an echo reply $gapB1 s; ${wire#ok }"

# The check's request toward the next address is dropped in C.
ns_exec C nft -f - <<EOF2
table inet ikt_rr {
	chain in {
		type filter hook input priority 0;
		ip saddr $SRV ip daddr $A3 udp sport 4500 @th,64,32 0 @th,248,8 & 0x20 == 0 counter drop
	}
}
EOF2
pings_start
t_move=$(now)
move "$A2" "$A3"
wait_log "$T/srv.log" "MOBIKE: UPDATE_SA_ADDRESSES from udp $A3:4510 -> $SRV:4500, an address not verified" 10 ||
    fail "B: no UPDATE_SA_ADDRESSES from the third address"
wait_log "$T/srv.log" "return routability check \(COOKIE2\) sent to udp $A3:4510" 5 ||
    fail "B: no check of the third address"
# Its first retransmission, 2 s later, is dropped too.
for _ in $(seq 60); do
	dropped=$(ns_exec C nft list table inet ikt_rr |
	    sed -nE 's/.*counter packets ([0-9]+).*/\1/p')
	[ "${dropped:-0}" -ge 2 ] && break
	sleep 0.1
done
[ "${dropped:-0}" -ge 2 ] || fail "B: nftables dropped $dropped checks"
grep -qE "session moved .* to udp $A3:" "$T/srv.log" &&
    fail "B: the SA moved without an answer to the check"
[ "$(sa_field client)" = "$A2:4510" ] ||
    fail "B: iketcpctl: client $(sa_field client), want the old $A2:4510"
[ "$(sa_field mobike_check)" = "$A3:4510" ] ||
    fail "B: iketcpctl: mobike_check $(sa_field mobike_check)"
held=$("$CTL" -s "$T/ctl.sock" stats | sed -nE 's/^mob_withheld +//p')
[ "${held:-0}" -gt 0 ] || fail "B: mob_withheld $held"
say "B: $A2 -> $A3 with the check dropped: $dropped checks dropped, the SA" \
    "stays on $A2 ($held authentic messages from $A3 held back)"

ns_exec C nft delete table inet ikt_rr
wait_log "$T/srv.log" "session moved from udp $A2:4510 -> $SRV:4500 to udp $A3:4510 -> $SRV:4500 \(proven: return routability check answered" 20 ||
    fail "B: the check's retransmission did not move the SA"
wait_echo_resumed || fail "B: no echo replies from $A3"
sleep 1
t_end=$(now)
pings_stop pingB2
gapB2=$(ping_gap "$t_move" "$t_end")
wire=$(rr_wire "$A3")
case $wire in ok*) ;; *) fail "B: on the wire: $wire" ;; esac
[ "$(sa_field client)" = "$A3:4510" ] ||
    fail "B: iketcpctl: client $(sa_field client)"
[ "$(ike_spis)" = "$spis" ] || fail "B: a new IKE SA: $(ike_spis), was $spis"
[ "$(count_log "$T/srv.log" "established, fqdn:initiator")" = 2 ] ||
    fail "B: the client authenticated again"
ping_tunnel 3
say "B: drop lifted, the check's retransmission answered: moved to $A3;" \
    "longest gap without an echo reply $gapB2 s (the drop included);" \
    "${wire#ok }"
ok
