#!/usr/bin/env bash
# Issue 13 item 2, hostile: with workers = 2 an attacker who replays a
# client's SPIs on streams that land on the worker NOT holding the
# session gains nothing there: those streams are handed to the owner,
# which applies the rules of the session layer as to any stream.
#
# Client A (strongSwan initiator -> connector -> relay with workers = 2
# -> strongSwan gateway) and an attacker in namespace X with two
# addresses of its own, reading every cleartext header off the relay ->
# gateway leg (attack.sh; test 60 is the same attack on one process):
#
#   1. A's stream is aborted right after a DPD exchange (no ESP sent
#      yet); eight attacker streams claim A's IKE SPIs and next message
#      ID with a forged body.  Those the other worker accepted are
#      handed to the owner and stay unproven probes there; A's DPD
#      request on its new stream proves A.
#   2. A's client ESP SPI (off the capture): eight attacker streams
#      open with it, and four start a session of their own (an
#      IKE_SA_INIT) whose owner then sends A's SPI, which must not make
#      the key theirs in their worker.  A's stream is killed until its
#      reconnect (a copy of its last ESP) lands on the other worker: it
#      is still handed to the owner and re-attached there.
#
# Asserted: no attacker stream receives a frame of A's session; at least
# one attacker stream of each kind was handed over; A keeps its IKE SA,
# is authenticated once, and pings go through.
. "$(dirname "$0")/lib.sh"
. "$IKT_DIR/attack.sh"

IKT_GLOBAL="workers = 2" attack_setup
wait_log "$T/relay.log" "started with 2 workers" 10 ||
    fail "the master did not report its workers up"
own=$(sed -nE "s/.*worker ([0-9]+): stream [0-9]+ $CLIENT_ADDR:[0-9]+ .*session new.*/\1/p" \
    "$T/relay.log" | head -n 1)
[ -n "$own" ] || fail "no worker started A's session"
other=$((1 - own))
say "A's session in worker $own"

# handed_from RE: streams of clients matching RE that worker $other
# handed over to worker $own (their socket).
handed_from()
{
	count_log "$T/relay.log" "worker $other: stream [0-9]+ $1:[0-9]+: closed \(handed over to worker $own\)"
}
atk_re="198\.18\.1\.[23]"

# 1. IKE SPIs, in rounds until the other worker accepted some attacker
# stream: every worker waits on the same listening socket and the first
# to accept() has the connection, so on two busy cores (ASan) the owner
# may take all eight of a round.
for round in 1 2 3; do
	kill_a_stream
	mid=$(a_next_msgid)
	say "round $round: attacker claims SPIs $A_SPI_I/$A_SPI_R, message ID $mid"
	claim_bg "steal$round" "$mid" 8 "$ATK_ADDR1,$ATK_ADDR2" 8
	wait_count dpd_answers "$A_KILLED_ANSWERS" 10 ||
	    ATTACK_ERRS+=("A's DPD request after break $round was not answered")
	claim_check "steal$round"
	h=$(handed_from "$atk_re")
	[ "$h" -ge 1 ] && break
done
[ "$h" -ge 1 ] ||
    ATTACK_ERRS+=("no attacker stream was handed over: none tested")
say "1. $h of $((round * 8)) attacker streams handed over by worker $other; A proven:" \
    "$(count_log "$T/relay.log" "worker $own: .*session re-attached \(proven")"
a_resumed
[ ${#ATTACK_ERRS[@]} = 0 ] || attack_verdict

# 2. A's client ESP SPI, as sent to the gateway.
esp_spi=$(pcap_json gw --src "$RELAY_ADDR" | "$IKT_PY" -c 'import json, sys
for p in json.load(sys.stdin)["packets"]:
	if p.get("kind") == "esp":
		print(p["esp_spi"])
		break')
[ -n "$esp_spi" ] || fail "no ESP of A's in the gateway capture"
h0=$(handed_from "$atk_re")
claim_esp()
{
	local name=$1
	shift
	timeout -k 2 60 ip netns exec "$(ns X)" "$IKT_PY" \
	    "$IKT_DIR/attacker.py" claim --connect "$RELAY_C_ADDR:4500" \
	    --esp-spi "$esp_spi" --src "$ATK_ADDR1,$ATK_ADDR2" \
	    --ready "$T/$name.ready" "$@" >"$T/$name.json" 2>"$T/$name.log" &
	IKT_PIDS+=("$!")
	printf -v "CLAIM_PID_$name" '%s' "$!"
	for _ in $(seq 100); do
		[ -s "$T/$name.ready" ] && return 0
		sleep 0.05
	done
	fail "$name: the attacker's streams did not open"
}
# Rounds of attacker streams until some were accepted by the other
# worker (which of two waiting workers accepts is the kernel's choice):
# plain claims, handed over; and sessions of the attacker's own there.
claims=()
for round in 1 2 3; do
	claim_esp "espsteal$round" --streams 8 --hold 20
	claims+=("espsteal$round")
	sleep 1
	[ "$(handed_from "$atk_re")" -gt "$h0" ] && break
done
[ "$(handed_from "$atk_re")" -gt "$h0" ] ||
    ATTACK_ERRS+=("no ESP-claiming attacker stream was handed over")
own_sessions=0
for round in 1 2 3; do
	claim_esp "espown$round" --streams 4 --own --hold 20
	claims+=("espown$round")
	sleep 1
	own_sessions=$(count_log "$T/relay.log" "worker $other: stream [0-9]+ $atk_re:[0-9]+ .*session new")
	[ "$own_sessions" -ge 1 ] && break
done
[ "$own_sessions" -ge 1 ] ||
    ATTACK_ERRS+=("no attacker session in worker $other: none tested")

# A's reconnects until one lands on the other worker, where the
# attacker's own sessions sent A's SPI as theirs.
by_esp()
{
	count_log "$T/relay.log" "worker $own: stream [0-9]+ $CLIENT_ADDR:[0-9]+ .*session re-attached by ESP SPI $esp_spi"
}
landed=
for try in $(seq 8); do
	a0=$(handed_from "$CLIENT_ADDR")
	e0=$(by_esp)
	ns_exec C ping -n -c 2 -i 0.2 -W 1 "$SVC_ADDR" >/dev/null 2>&1 || true
	ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :4500 >/dev/null \
	    2>>"$T/ss.log" || fail "ss -K failed"
	wait_count by_esp "$e0" 8 || {
		ATTACK_ERRS+=("A's reconnect $try was not re-attached by ESP in worker $own")
		break
	}
	if [ "$(handed_from "$CLIENT_ADDR")" -gt "$a0" ]; then
		landed=$try
		break
	fi
done
[ -n "$landed" ] ||
    ATTACK_ERRS+=("no reconnect of A's was accepted by worker $other")
say "2. $own_sessions attacker sessions in worker $other sent A's ESP SPI;" \
    "A's reconnect ${landed:-(none)} handed over by worker $other and" \
    "re-attached by ESP in worker $own"
for name in "${claims[@]}"; do
	v="CLAIM_PID_$name"
	wait "${!v}" || fail "$name: attacker failed: $(cat "$T/$name.log")"
	got=$(jget victim_frames <"$T/$name.json")
	all=$(jget total_frames <"$T/$name.json")
	say "$name: $all frames received, $got of A's"
	# A stream that only claims gets nothing at all; one with a
	# session of its own may get that session's IKE, never A's.
	[ "$got" = 0 ] && { [ "${name#espown}" != "$name" ] || [ "$all" = 0 ]; } ||
	    ATTACK_ERRS+=("attacker $name received frames: $(cat "$T/$name.json")")
done
[ "$(count_log "$T/relay.log" "session re-attached by ESP SPI $esp_spi from the previous client address" )" = \
    "$(by_esp)" ] || ATTACK_ERRS+=("a re-attach by A's ESP SPI outside worker $own")
a_resumed
attack_verdict
