#!/usr/bin/env bash
# busy-poll: the relay keeps polling after traffic and sleeps when idle.
# It relays a real IKE_SA_INIT with busy-poll on; switched on by SIGHUP
# it spins while traffic flows (CPU time grows by at least half the wall
# time of a burst) and sleeps when idle (almost none in 2 s of silence);
# SIGTERM still ends it at once.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500
[ -n "$RELAY_DPID" ] || fail "no daemon PID"

ticks()
{
	awk '{ print $14 + $15 }' "/proc/$RELAY_DPID/stat"
}
hz=$(getconf CLK_TCK)

relay_conf "$T/relay.conf" listen=127.0.0.1:4500 busy-poll=50ms
# relay_conf writes [relay t] keys only: put busy-poll in [global].
sed -i '/^busy-poll/d; s/^\[global\]$/[global]\nbusy-poll = 50ms/' \
    "$T/relay.conf"
kill -HUP "$RELAY_DPID"
wait_log "$T/relay.log" "reloaded" 5 || fail "no reload"

# Traffic: 20 requests 0.04 s apart (0.8 s); the relay never sleeps.
t0=$(ticks)
out=$(ikeclient R init --connect 127.0.0.1:4500 --count 20 --interval 0.04) ||
    fail "IKE_SA_INIT with busy-poll: $out"
busy=$(($(ticks) - t0))
# Idle: 2 s of silence cost (almost) nothing.
sleep 0.2
t0=$(ticks)
sleep 2
idle=$(($(ticks) - t0))
say "CPU ticks ($hz/s): $busy during 0.8 s of traffic, $idle in 2 s idle"
[ "$busy" -ge $((hz * 3 / 10)) ] ||
    fail "busy-poll did not poll during traffic ($busy ticks)"
[ "$idle" -le $((hz / 10)) ] || fail "busy-poll spun while idle ($idle ticks)"

relay_sigterm
ok
