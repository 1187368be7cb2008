#!/usr/bin/env bash
# Issue 13 item 2: with workers = 2 a reconnect may land on the worker
# that does not hold its session; it must reach the one that does, with
# the bytes already read, and resume the tunnel on the same IKE SA.
#
# An unmodified strongSwan initiator -> our connector -> the relay
# (workers = 2, plain on 4500, TLS on 443) -> an unmodified strongSwan
# gateway.  The connector's stream is killed (ss -K) again and again
# until a reconnect is accepted by the other worker, three times over:
#
#   1. by IKE SPI: no ESP has been sent yet, so the new stream opens with
#      the initiator's next DPD request; the other worker hands the
#      client's socket over, and the owner proves it as a probe (the
#      gateway's answer on the probe's own port);
#   2. by ESP first (as a download-only client would): pings run, the
#      connector opens with a copy of the last ESP, and the owner
#      re-attaches it from the previous client address;
#   3. over TLS (a second connector on the same ports, tls = yes): the
#      other worker keeps the TLS stream and splices its plaintext to the
#      owner.
#
# Asserted each time: the handoff in the log of both workers, the resume
# at the owner, pings through the tunnel within 10 s of the kill; at the
# end the same IKE SPIs at the initiator and the gateway, which saw one
# IKE_SA_INIT and one authentication.
. "$(dirname "$0")/lib.sh"

# MOBIKE off: the gateway follows the new port of a proven probe from
# its authenticated request (RFC 7296 §2.23); DPD every 2 s.
INIT_MOBIKE=no
INIT_CONN_EXTRA="		dpd_delay = 2s"
topo_connector
IKT_GLOBAL="workers = 2" relay_tls_for_connector relay linger=60s
wait_log "$T/relay.log" "started with 2 workers" 10 ||
    fail "the master did not report its workers up"
connector_up cn reconnect-min=100ms reconnect-max=1s
initiator_start
tunnel_up
spis=$(ike_spis)
[ -n "$spis" ] || fail "no IKE SA listed"
own=$(sed -nE "s/.*worker ([0-9]+): stream [0-9]+ $CLIENT_ADDR:[0-9]+ .*session new.*/\1/p" \
    "$T/relay.log" | head -n 1)
[ -n "$own" ] || fail "no worker started the client's session"
other=$((1 - own))
say "IKE SA $spis up in $IKE_MS ms, its session in worker $own"

c_re="$CLIENT_ADDR:[0-9]+"
# Streams of the client's that worker $other handed to $own: its socket,
# or spliced; and what the owner took.
handed()
{
	count_log "$T/relay.log" "worker $other: stream [0-9]+ $c_re: (closed \(handed over to worker $own\)|handed over to worker $own, spliced)"
}
spliced()
{
	count_log "$T/relay.log" "worker $other: stream [0-9]+ $c_re: handed over to worker $own, spliced \(TLS stays here\)"
}
taken()
{
	count_log "$T/relay.log" "worker $own: stream [0-9]+ $c_re: open, relay t, handed over by worker $other"
}
proven()
{
	count_log "$T/relay.log" "worker $own: stream [0-9]+ $c_re .*session re-attached \(proven"
}
by_esp()
{
	count_log "$T/relay.log" "worker $own: stream [0-9]+ $c_re .*session re-attached by ESP SPI"
}
dpd_answers()
{
	count_log "$T/init/charon.log" "parsed INFORMATIONAL response"
}
# wait_above FUNC N SECONDS: until FUNC prints a number above N.
wait_above()
{
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -le "$end" ]; do
		[ "$($1)" -gt "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# kill_stream PORT: the connector's stream to PORT aborted; KILLED: when.
kill_stream()
{
	ns_exec C ss -K dst "$RELAY_C_ADDR" dport = ":$1" >/dev/null \
	    2>>"$T/ss.log" || fail "ss -K failed"
	KILLED=$EPOCHREALTIME
}
# ping_after_kill: one echo through the tunnel within 10 s of KILLED.
ping_after_kill()
{
	local end=$((SECONDS + 12)) t
	while [ "$SECONDS" -le "$end" ]; do
		if ns_exec C ping -n -c 1 -W 1 "$SVC_ADDR" >/dev/null 2>&1; then
			t=$(awk -v k="$KILLED" -v n="$EPOCHREALTIME" \
			    'BEGIN { printf "%.2f", n - k }')
			awk -v t="$t" 'BEGIN { exit !(t < 10) }' ||
			    fail "$1: first echo $t s after the kill"
			PING_AFTER=$t
			return 0
		fi
	done
	fail "$1: no echo through the tunnel after the kill"
}
# outage: the longest silence between echo replies of $T/ping.out (every
# 0.2 s) across KILLED, once a reply came 3 s after it (at most 13 s).
outage()
{
	local end=$((SECONDS + 13)) gap
	while [ "$SECONDS" -le "$end" ]; do
		replies | awk -v k="$KILLED" '$1 > k + 3 { f = 1 } END { exit !f }' &&
		    break
		sleep 0.2
	done
	gap=$(replies | awk -v k="$KILLED" '$1 > k && p != "" && $1 - p > m {
	    m = $1 - p } { p = $1 } END { if (p > k) printf "%.2f\n", m }')
	[ -n "$gap" ] || fail "$1: no echo 13 s after the kill"
	awk -v g="$gap" 'BEGIN { exit !(g < 10) }' ||
	    fail "$1: outage $gap s, want under 10 s"
	OUTAGE=$gap
}
replies()
{
	sed -nE 's/^\[([0-9.]+)\] .*icmp_seq=.*/\1/p' "$T/ping.out"
}

# 1. By IKE SPI.  Each kill right after a DPD exchange, so that the next
# request (on the new stream, first) is the initiator's next DPD.
landed=
for try in $(seq 8); do
	h0=$(handed)
	p0=$(proven)
	n=$(dpd_answers)
	wait_above dpd_answers "$n" 8 || fail "no DPD exchange seen"
	kill_stream 4500
	wait_above proven "$p0" 10 ||
	    fail "reconnect $try (IKE): not proven in worker $own"
	if [ "$(handed)" -gt "$h0" ]; then
		landed=$try
		break
	fi
done
[ -n "$landed" ] || fail "8 reconnects, none accepted by worker $other"
grep -qE "worker $own: stream [0-9]+ $c_re .*re-attach by IKE SPI .*to be proven" \
    "$T/relay.log" || fail "the owner did not probe by IKE SPI"
ping_after_kill "IKE resume"
say "1. by IKE SPI: reconnect $landed handed over by worker $other," \
    "proven in worker $own; first echo ${PING_AFTER} s after the kill"

# 2. By ESP first: pings run (so the connector has an ESP to open with).
timeout -k 2 60 ip netns exec "$(ns C)" ping -n -D -i 0.2 -W 1 -c 250 \
    "$SVC_ADDR" >"$T/ping.out" 2>&1 &
IKT_PIDS+=("$!")
sleep 1.5
landed=
for try in $(seq 8); do
	h0=$(handed)
	e0=$(by_esp)
	kill_stream 4500
	wait_above by_esp "$e0" 8 ||
	    fail "reconnect $try (ESP): not re-attached in worker $own"
	if [ "$(handed)" -gt "$h0" ]; then
		landed=$try
		break
	fi
	sleep 1
done
[ -n "$landed" ] || fail "8 reconnects, none accepted by worker $other"
outage "ESP resume"
say "2. by ESP: reconnect $landed handed over by worker $other," \
    "re-attached in worker $own; outage $OUTAGE s"

# 3. TLS: the connector again, over TLS, on the same UDP ports.
keep=()
for p in "${IKT_RELAYS[@]}"; do
	[ "$p" = "$CN_PID" ] || keep+=("$p")
done
IKT_RELAYS=("${keep[@]}")
stop_pid "$CN_PID"
connector_up cn2 "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/relay-tls.crt" tls-sni=relay.test reconnect-min=100ms \
    reconnect-max=1s
wait_log "$T/cn2.log" "TLS TLSv1\.3" 10 || fail "no TLS stream"
sleep 1
landed=
[ "$(spliced)" -gt 0 ] && landed=0
for try in $(seq 8); do
	[ -z "$landed" ] || break
	h0=$(spliced)
	e0=$(by_esp)
	kill_stream 443
	wait_above by_esp "$e0" 8 ||
	    fail "reconnect $try (TLS): not re-attached in worker $own"
	if [ "$(spliced)" -gt "$h0" ]; then
		landed=$try
		break
	fi
	sleep 1
done
[ -n "$landed" ] || fail "8 TLS reconnects, none accepted by worker $other"
[ "$landed" = 0 ] || outage "TLS resume"
ping_tunnel 5
say "3. TLS: stream $landed spliced by worker $other to worker $own;" \
    "outage ${OUTAGE:-n/a} s, ping $PING_RTT ms"

[ "$(taken)" -ge 3 ] || fail "worker $own took $(taken) streams, want 3"
[ "$(ike_spis)" = "$spis" ] ||
    fail "initiator: IKE SA changed: $spis -> $(ike_spis)"
gspis=$(swanctl_ "$T/gw" --list-sas --raw 2>/dev/null |
    grep -oE 'initiator-spi=[0-9a-f]+ responder-spi=[0-9a-f]+' |
    sed 's/initiator-spi=//; s/ responder-spi=/_/')
[ "$gspis" = "$spis" ] || fail "gateway: IKE SAs $gspis, want $spis"
[ "$(count_log "$(gw_log)" "parsed IKE_SA_INIT request")" = 1 ] ||
    fail "the gateway saw a second IKE_SA_INIT"
[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
    fail "the gateway authenticated the initiator again"
[ "$(count_log "$T/relay.log" "session new")" = 1 ] ||
    fail "more than one session: $(grep "session new" "$T/relay.log")"
say "IKE SA $spis kept; $(handed) streams handed over, $(spliced) spliced"
ok
