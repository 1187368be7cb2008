#!/usr/bin/env bash
# Issue 11, findings 3 and 4: one source address must not exhaust the
# daemon.  The attacker (namespace X, 198.18.1.2) loops: connect, prefix,
# one ESP frame with a fresh random SPI, close.  Each such stream makes a
# session that lingers with its UDP socket for `linger` (default 60 s,
# kept here: the finding is about the default configuration), and today
# only live streams are counted, so the descriptors run out; at EMFILE the
# accept path spins (a core, a log line per turn) and nobody else is
# served.
#
# The relay runs under RLIMIT_NOFILE 512 (prlimit) so that the attack is
# quick, with max-sessions-per-source = 16 (design.md: lingering and
# probing sessions count against the source's share; over it the
# source's own oldest lingering session is reclaimed).  Asserted after
# the churn:
#   - the relay holds at most 16 + SLACK descriptors (SLACK 48: listeners,
#     log, event loop, a few streams in flight);
#   - with 8 more streams of the attacker held open (prefix only), it is
#     idle: under 20 % of a core over 2 s (finding 4: no accept spin);
#   - fewer than 1000 log lines carry "Too many open files" (finding 4;
#     a loose match on strerror's text, the only observable of the flood);
#   - a client from ANOTHER address (the relay's namespace, 198.18.1.1 ->
#     itself) still gets its IKE_SA_INIT answered by the gateway.
# When the daemon does not know max-sessions-per-source yet (today's
# build), the key is left out so that the test shows the attack's effect
# rather than a configuration error.
. "$(dirname "$0")/lib.sh"

SHARE=16
SLACK=48
CHURN=${CHURN:-1500}

topo_relay_gw
ns_new X
link_add X 198.18.1.2/24 R 198.18.1.1/24

extra=max-sessions-per-source=$SHARE
relay_conf "$T/probe.conf" "listen=198.18.1.1:4500" "$extra"
if ! "$IKETCPD" -t -f "$T/probe.conf" >"$T/probe.log" 2>&1; then
	say "this build refuses max-sessions-per-source; running without it:" \
	    "$(head -n 1 "$T/probe.log")"
	extra=
fi
relay_conf "$T/relay.conf" "listen=198.18.1.1:4500" ${extra:+"$extra"}
# The debug log would be one line per stream: info is enough here.
sed -i 's/^log-level = debug$/log-level = info/' "$T/relay.conf"
need_iketcpd
bg relay "$IKT_LIFE" ip netns exec "$(ns R)" prlimit --nofile=512:512 \
    "$IKETCPD" -d -f "$T/relay.conf"
RELAY_PID=$BG_PID
IKT_RELAYS+=("$RELAY_PID")
RELAY_DPID=$(child_of "$RELAY_PID") || fail "no relay process"
wait_tcp_listen R 4500 10 || fail "relay did not start"
fds0=$(ls "/proc/$RELAY_DPID/fd" | wc -l)

out=$(timeout --foreground -k 2 60 ip netns exec "$(ns X)" "$IKT_PY" \
    "$IKT_DIR/attacker.py" churn --connect 198.18.1.1:4500 \
    --src 198.18.1.2 --count "$CHURN" --seconds 25) ||
    fail "churn: $out"
say "churn from 198.18.1.2: $out"
sleep 1

errs=()
fds=$(ls "/proc/$RELAY_DPID/fd" | wc -l)
say "relay descriptors: $fds0 at start, $fds after the churn"
[ "$fds" -le $((SHARE + SLACK)) ] ||
    errs+=("the relay holds $fds descriptors (limit $SHARE + $SLACK)")

# Streams that stay open (prefix only, no session): today they take the
# last descriptors, and the next ones wait in the listen queue, where
# each turn of the loop fails accept() again.
bg hold 30 ip netns exec "$(ns X)" "$IKT_PY" "$IKT_DIR/attacker.py" hold \
    --connect 198.18.1.1:4500 --src 198.18.1.2 --streams 8 --hold 6
sleep 1

cpu()
{
	awk '{ print $14 + $15 }' "/proc/$RELAY_DPID/stat"
}
c0=$(cpu)
sleep 2
c1=$(cpu)
pct=$(( (c1 - c0) * 100 / ($(getconf CLK_TCK) * 2) ))
say "relay CPU over 2 s after the churn: $pct % of a core"
[ "$pct" -lt 20 ] || errs+=("the relay uses $pct % of a core while idle")

flood=$(count_log "$T/relay.log" "Too many open files")
say "log lines with 'Too many open files': $flood"
[ "$flood" -lt 1000 ] ||
    errs+=("$flood log lines 'Too many open files'")

out=$(ikeclient R init --connect 198.18.1.1:4500 --timeout 5) ||
    errs+=("a client from another address got no IKE_SA_INIT answer: $out")

[ ${#errs[@]} = 0 ] || fail "$(printf '%s; ' "${errs[@]}")"
ok
