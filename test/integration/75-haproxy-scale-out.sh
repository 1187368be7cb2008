#!/usr/bin/env bash
# Issue 13, item 4: two relays behind haproxy (TCP mode, balance
# roundrobin, PROXY v2 to the relays, TLS not used: haproxy passes the
# bytes through), in front of an unmodified strongSwan gateway.  The
# connector's stream is killed (ss -K); its reconnect goes to the OTHER
# relay, which knows nothing of the session and opens a new one toward
# the gateway from a new UDP source port.  The tunnel resumes on the
# same IKE SA without re-authentication: the initiator's DPD (dpd_delay
# 2s; no answer comes while the gateway still sends to the first relay)
# goes through the new relay, the gateway answers it there, the
# initiator's MOBIKE sees the changed NAT mapping and sends
# UPDATE_SA_ADDRESSES, and the gateway moves the SA to the new relay's
# address (RFC 4555 §3.5).  Pings run through the whole break; the gap
# (kill -> first echo reply after it) must be under 10 s.
#
# With SCALE_STICK=yes (76-haproxy-stick), haproxy also sticks on the
# client's address: the reconnect goes back to the relay that holds the
# session, which re-attaches it at once by ESP from the previous client
# address; the gateway's peer does not change and the outage is under
# 1 s.
#
# Asserted: which relay got each stream (the relays' logs, by the
# client address haproxy's PROXY header names); pings again within 10 s;
# the same IKE SPIs at the initiator and at the gateway; one IKE_SA_INIT
# and one authentication in the gateway's log; the gateway's peer
# address for the SA is now the second relay's UDP port.
. "$(dirname "$0")/lib.sh"

INIT_CONN_EXTRA="		dpd_delay = 2s"
STICK=${SCALE_STICK:-no}
stick=
[ "$STICK" = no ] ||
    stick=$(printf '\tstick-table type ip size 1k expire 30m\n\tstick on src')
topo_connector

# Relays A and B in R on loopback ports only haproxy (also in R) reaches;
# they take PROXY headers only from haproxy's source address 127.0.0.2.
for x in a b; do
	port=460$([ "$x" = a ] && echo 1 || echo 2)
	relay_conf "$T/relay-$x.conf" "listen=127.0.0.1:$port" \
	    proxy-protocol=yes proxy-from=127.0.0.2 linger=60s
	relay_start "relay-$x" "$T/relay-$x.conf" "$port" R
done
cat >"$T/haproxy.cfg" <<EOT
global
	log stdout format raw local0 info
defaults
	mode tcp
	log global
	option tcplog
	timeout connect 5s
	timeout client 120s
	timeout server 120s
frontend fe
	bind $RELAY_C_ADDR:4500
	default_backend relays
backend relays
	balance roundrobin
	source 127.0.0.2
$stick
	server a 127.0.0.1:4601 send-proxy-v2
	server b 127.0.0.1:4602 send-proxy-v2
EOT
bg haproxy "$IKT_LIFE" ip netns exec "$(ns R)" haproxy -db -f "$T/haproxy.cfg"
wait_tcp_listen R 4500 10 || fail "haproxy did not start"

connector_up cn reconnect-min=100ms reconnect-max=1s
initiator_start
tunnel_up
ping_tunnel 3
spis=$(ike_spis)
[ -n "$spis" ] || fail "no IKE SA listed"
say "IKE SA $spis up in $IKE_MS ms; ping $PING_RTT ms"

# relay_streams X: streams relay X got from the connector (PROXY lines).
relay_streams()
{
	count_log "$T/relay-$1.log" "PROXY: client $CLIENT_ADDR:[0-9]+ via"
}
if [ "$(relay_streams a)" = 1 ] && [ "$(relay_streams b)" = 0 ]; then
	first=a second=b
elif [ "$(relay_streams a)" = 0 ] && [ "$(relay_streams b)" = 1 ]; then
	first=b second=a
else
	fail "want stream 1 on one relay: a $(relay_streams a), b $(relay_streams b)"
fi
grep -q "session new" "$T/relay-$first.log" ||
    fail "relay $first: no session for stream 1"
say "stream 1 on relay $first"
# Where the reconnect must land.
back=$second
[ "$STICK" = no ] || back=$first

# gw_peer: the gateway's peer address:port for its IKE SA.
gw_peer()
{
	swanctl_ "$T/gw" --list-sas --raw 2>/dev/null |
	    sed -nE 's/.*remote-host=([0-9.]+) remote-port=([0-9]+).*/\1:\2/p' |
	    head -n 1
}
peer1=$(gw_peer)
[ -n "$peer1" ] || fail "the gateway lists no IKE SA"

# Pings through the break, each with its time.
timeout -k 2 40 ip netns exec "$(ns C)" ping -n -D -i 0.2 -W 1 -c 150 \
    "$SVC_ADDR" >"$T/ping.out" 2>&1 &
IKT_PIDS+=("$!")
sleep 2
grep -q "icmp_seq=" "$T/ping.out" || fail "no ping before the kill"
killed=$(date +%s.%N)
ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :4500 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream to .* lost" 5 || fail "connector saw no loss"
wait_log "$T/cn.log" "stream 2 to .* up" 5 ||
    fail "connector did not reconnect"
if [ "$STICK" = no ]; then
	wait_log "$T/relay-$second.log" \
	    "PROXY: client $CLIENT_ADDR:[0-9]+ via" 5 ||
	    fail "the reconnect did not reach relay $second"
	[ "$(relay_streams "$first")" = 1 ] ||
	    fail "relay $first got the reconnect too"
else
	wait_log "$T/relay-$first.log" "session re-attached by ESP SPI [0-9a-f]+ from the previous client address" 5 ||
	    fail "relay $first did not re-attach the reconnect by ESP"
	[ "$(relay_streams "$first") $(relay_streams "$second")" = "2 0" ] ||
	    fail "want both streams on relay $first: $(relay_streams a), $(relay_streams b)"
fi
say "stream 2 on relay $back"

# The outage: the longest silence between echo replies (every 0.2 s)
# that ends after the kill, once a reply has come 3 s after the kill (or
# 13 s have passed).
replies()
{
	sed -nE 's/^\[([0-9.]+)\] .*icmp_seq=.*/\1/p' "$T/ping.out"
}
end=$((SECONDS + 13))
while [ "$SECONDS" -le "$end" ]; do
	replies | awk -v k="$killed" '$1 > k + 3 { f = 1 } END { exit !f }' &&
	    break
	sleep 0.2
done
gap=$(replies | awk -v k="$killed" '$1 > k && p != "" && $1 - p > m {
    m = $1 - p } { p = $1 } END { if (p > k) printf "%.2f\n", m }')
[ -n "$gap" ] || fail "no ping through the tunnel 13 s after the kill"
say "outage ${gap} s: the longest silence between echo replies across the kill (initiator dpd_delay 2s)"
want=10
[ "$STICK" = no ] || want=1
awk -v g="$gap" -v w="$want" 'BEGIN { exit !(g < w) }' ||
    fail "outage $gap s: want under $want s"
ping_tunnel 5

# The same IKE SA on both ends, no second IKE_SA_INIT or authentication.
[ "$(ike_spis)" = "$spis" ] || fail "initiator: IKE SA changed: $spis -> $(ike_spis)"
gspis=$(swanctl_ "$T/gw" --list-sas --raw 2>/dev/null |
    grep -oE 'initiator-spi=[0-9a-f]+ responder-spi=[0-9a-f]+' |
    sed 's/initiator-spi=//; s/ responder-spi=/_/')
[ "$gspis" = "$spis" ] || fail "gateway: IKE SAs $gspis, want $spis"
[ "$(count_log "$(gw_log)" "parsed IKE_SA_INIT request")" = 1 ] ||
    fail "the gateway saw a second IKE_SA_INIT"
[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
    fail "the gateway authenticated the initiator again"
# lport_of X: the UDP port of relay X's session toward the gateway.
lport_of()
{
	sed -nE 's/.* lport ([0-9]+): session new.*/\1/p' "$T/relay-$1.log" |
	    head -n 1
}
[ "$peer1" = "$RELAY_ADDR:$(lport_of "$first")" ] ||
    fail "gateway peer before the kill $peer1, want relay $first's port"
peer2=$(gw_peer)
[ "$peer2" = "$RELAY_ADDR:$(lport_of "$back")" ] ||
    fail "gateway peer $peer2, want relay $back's port $(lport_of "$back")"
say "gateway peer $peer1 -> $peer2; IKE SA $spis kept"

# Hostile: a PROXY header from anyone but haproxy would name the victim's
# address, which an ESP re-attach trusts; proxy-from refuses the stream
# before its first byte is read as anything.
for x in a b; do
	port=460$([ "$x" = a ] && echo 1 || echo 2)
	out=$(ikeclient R raw --connect "127.0.0.1:$port" --proxy-v2 \
	    "$CLIENT_ADDR:999" --prefix iketcp --wait 3 --expect-close) ||
	    fail "relay $x: forged PROXY header not refused: $out"
	cport=$(jget local_port <<<"$out")
	wait_stream_log "relay-$x" "$cport" \
	    "refused: proxy-protocol listener, but 127\.0\.0\.1:$cport is not a proxy-from address" ||
	    fail "relay $x: no log line for the forged PROXY header"
	[ "$(count_log "$T/relay-$x.log" "PROXY: client $CLIENT_ADDR:999 ")" = 0 ] ||
	    fail "relay $x took the forged client address"
done
ping_tunnel 3
say "forged PROXY headers refused on both relays; tunnel still up"
ok
