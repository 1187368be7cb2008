# shellcheck shell=bash
# attack.sh: sourced after lib.sh by the re-attach attack tests (60, 61):
# a genuine client A (strongSwan initiator -> our connector -> relay ->
# strongSwan gateway) and an attacker namespace X with two addresses of
# its own, which sees every cleartext header (it reads the relay ->
# gateway leg, $T/gw.pcap) but holds no keys.

ATK_ADDR1=198.18.1.2
ATK_ADDR2=198.18.1.3

# attack_setup: topo_connector, the capture of the relay -> gateway leg,
# namespace X (198.18.1.2 and .3, routed through R), the relay, the
# connector and the initiator with its IKE SA and Child SA up; no ESP has
# been sent (see the tests' header comments).  A's IKE SPIs in A_SPI_I
# and A_SPI_R (hex, as on the wire), "SPIi_SPIr" as listed in A_SPIS.
#
# The initiator: MOBIKE off, so that the gateway follows a new NAT port
# from any authenticated request (RFC 7296 §2.23; strongSwan makes no
# implicit update on an IKE SA with MOBIKE, and the fixed relay's
# IKE-proven resume changes the gateway-side port, design.md); DPD every
# 3 s, so that A sends fresh INFORMATIONAL requests while idle.
attack_setup()
{
	# shellcheck disable=SC2034  # read by initiator_start (lib.sh)
	INIT_MOBIKE=no
	# shellcheck disable=SC2034
	INIT_CONN_EXTRA="		dpd_delay = 3s"
	topo_connector
	capture_start gw G vR udp
	ns_new X
	link_add X "$ATK_ADDR1/24" R 198.18.1.1/24
	ip -n "$(ns X)" addr add "$ATK_ADDR2/24" dev vR
	ip -n "$(ns X)" route add default via 198.18.1.1
	relay_for_connector relay
	connector_up cn reconnect-min=100ms reconnect-max=1s
	initiator_start
	tunnel_up
	A_SPIS=$(ike_spis)
	[ -n "$A_SPIS" ] || fail "no IKE SA listed"
	a_spis_from_pcap
	say "A: IKE SA $A_SPIS up in $IKE_MS ms"
}

# a_spis_from_pcap: A_SPI_I and A_SPI_R from the IKE_AUTH request on the
# relay -> gateway leg.
a_spis_from_pcap()
{
	local v
	v=$(pcap_json gw --src "$RELAY_ADDR" | "$IKT_PY" -c 'import json, sys
for p in json.load(sys.stdin)["packets"]:
	if p.get("exchange") == 35 and not p["flags"] & 0x20:
		print(p["spi_i"], p["spi_r"])
		break')
	A_SPI_I=${v% *}
	A_SPI_R=${v#* }
	[ -n "$A_SPI_I" ] && [ -n "$A_SPI_R" ] ||
	    fail "no IKE_AUTH request of A's in the gateway capture"
}

# a_next_msgid: A's next request message ID, as an attacker reading the
# relay -> gateway leg sees it: one above the highest request ID of A's
# IKE SA so far.
a_next_msgid()
{
	pcap_json gw --spi "$A_SPI_I" --src "$RELAY_ADDR" |
	    "$IKT_PY" -c 'import json, sys
ids = [p["msgid"] for p in json.load(sys.stdin)["packets"]
    if p.get("kind") == "ike" and not p["flags"] & 0x20]
print(max(ids) + 1)'
}

# dpd_answers: how many INFORMATIONAL responses the initiator has parsed.
dpd_answers()
{
	count_log "$T/init/charon.log" "parsed INFORMATIONAL response"
}

# dpd_requests: how many INFORMATIONAL requests the initiator has sent.
dpd_requests()
{
	count_log "$T/init/charon.log" "generating INFORMATIONAL request"
}

# wait_count FUNC ABOVE SECONDS: until FUNC prints a number above ABOVE.
wait_count()
{
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -le "$end" ]; do
		[ "$($1)" -gt "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# kill_a_stream: right after a DPD exchange of A's (so that no request of
# A's is outstanding and the next one is dpd_delay away), the connector's
# stream is aborted (ss -K: the kernel resets it).
kill_a_stream()
{
	local n
	n=$(dpd_answers)
	wait_count dpd_answers "$n" 8 || fail "no DPD exchange of A's seen"
	ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :4500 >/dev/null \
	    2>>"$T/ss.log" || fail "ss -K failed"
	wait_log "$T/cn.log" "stream to .* lost" 5 || fail "connector saw no loss"
	A_KILLED_ANSWERS=$(dpd_answers)
	say "A's stream killed after DPD answer $A_KILLED_ANSWERS"
}

# claim_bg NAME MSGID STREAMS SRC[,SRC] HOLD: attacker streams in X, in
# the background, each claiming A's SPIs and MSGID with a forged body;
# waits until all have sent their claim.  JSON in $T/NAME.json.
# IKT_NO_ATTACK=1 opens no attacker stream: the test's own control run
# (everything else as in the attack), which passes on today's build.
claim_bg()
{
	local name=$1 n=$3
	[ -z "${IKT_NO_ATTACK:-}" ] || n=0
	rm -f "$T/$name.ready"
	timeout -k 2 60 ip netns exec "$(ns X)" "$IKT_PY" \
	    "$IKT_DIR/attacker.py" claim --connect "$RELAY_C_ADDR:4500" \
	    --spi-i "$A_SPI_I" --spi-r "$A_SPI_R" --msgid "$2" \
	    --streams "$n" --src "$4" --hold "$5" --ready "$T/$name.ready" \
	    >"$T/$name.json" 2>"$T/$name.log" &
	IKT_PIDS+=("$!")
	printf -v "CLAIM_PID_$name" '%s' "$!"
	for _ in $(seq 100); do
		[ -s "$T/$name.ready" ] && return 0
		sleep 0.05
	done
	fail "$name: the attacker's streams did not open"
}

# claim_check NAME: waits for the attacker NAME; fails when any of its
# streams received a byte after the prefix (a datagram of A's session).
claim_check()
{
	local v="CLAIM_PID_$1" got
	wait "${!v}" || fail "$1: attacker failed: $(cat "$T/$1.log")"
	got=$(jget total_rx_bytes <"$T/$1.json")
	say "$1: $(jget streams.0.src streams.0.closed_after <"$T/$1.json" |
	    tr '\n' ' ')... received $got bytes in" \
	    "$(jget total_frames <"$T/$1.json") frames"
	[ "$got" = 0 ] ||
	    ATTACK_ERRS+=("attacker $1 received $got bytes of A's session: $(cat "$T/$1.json")")
}
ATTACK_ERRS=()

# a_resumed: A's IKE SA is the one it had (same SPIs), the gateway
# authenticated it once only, and pings go through the tunnel.
a_resumed()
{
	local out
	# As ping_tunnel, but an error is gathered, not fatal.
	ns_exec C ping -n -c 3 -i 0.2 -W 1 "$SVC_ADDR" >/dev/null 2>&1 || true
	out=$(ns_exec C ping -n -c 3 -i 0.2 -W 2 "$SVC_ADDR" 2>&1) || true
	grep -q " 0% packet loss" <<<"$out" ||
	    ATTACK_ERRS+=("pings through A's tunnel lost: $(grep -o '[0-9]* received' <<<"$out" || echo "$out")")
	[ "$(ike_spis)" = "$A_SPIS" ] ||
	    ATTACK_ERRS+=("A's IKE SA changed: $A_SPIS -> $(ike_spis || true)")
	[ "$(count_log "$(gw_log)" "authentication of 'initiator.test'.*successful")" = 1 ] ||
	    ATTACK_ERRS+=("the gateway authenticated A again")
	say "A after the attack: IKE SA $(ike_spis || true)," \
	    "$(grep -o '[0-9]*% packet loss' <<<"$out")"
}

# attack_verdict: fails with every error gathered, else ok.
attack_verdict()
{
	[ ${#ATTACK_ERRS[@]} = 0 ] || fail "$(printf '%s; ' "${ATTACK_ERRS[@]}")"
	ok
}
