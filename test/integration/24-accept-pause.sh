#!/usr/bin/env bash
# Accept errors pause accepting (issue 11, finding 4).  The relay runs with
# 64 descriptors; 200 connections that send nothing use them up, so
# accept(2) fails with EMFILE while the rest wait in the listen queue.
# Over 3 s of that the relay must (a) use little CPU (it used to retry at
# once: a core at ~100 %), (b) log a handful of accept lines, not one per
# retry (it used to log ~170 000 a second), and (c) once the connections
# close, serve a new client again.
. "$(dirname "$0")/lib.sh"

HOLD=7		# seconds the connections stay open
CONNS=200

topo_relay_gw
# fd-reserve = 0: no descriptor budget below the limit, so that accept(2)
# itself runs out (with the default reserve the relay refuses connections
# before the kernel does: 62 covers that).
IKT_GLOBAL="fd-reserve = 0" IKT_RELAY_WRAP="prlimit --nofile=64:64" \
    relay_up relay 4500

# utime + stime of the daemon, in clock ticks (proc(5), fields 14 and 15).
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$RELAY_DPID/stat"
}

bg holder $((HOLD + 10)) ip netns exec "$(ns R)" "$IKT_PY" -c '
import socket, sys, time
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.connect(("127.0.0.1", 4500))
    held.append(s)
print("holding", len(held), flush=True)
time.sleep(float(sys.argv[2]))
' "$CONNS" "$HOLD"
HOLDER=$BG_PID
wait_log "$T/holder.log" "^holding $CONNS" 10 || fail "could not connect"
sleep 1
wait_log "$T/relay.log" "Too many open files" 5 ||
    fail "the relay never ran out of descriptors"

hz=$(getconf CLK_TCK)
t0=$(cpu_ticks)
sleep 3
t1=$(cpu_ticks)
cpu=$("$IKT_PY" -c "print(f'{($t1 - $t0) / $hz:.2f}')")
lines=$(count_log "$T/relay.log" "Too many open files")
say "with descriptors exhausted: ${cpu} s of CPU in 3 s," \
    "$lines accept error lines"

wait "$HOLDER" || true
sleep 1.5
out=$(ikeclient R init --connect 127.0.0.1:4500) ||
    fail "no IKE_SA_INIT answer once the connections closed: $out"

between "$cpu" 0 0.3 || fail "accept spins: ${cpu} s of CPU in 3 s"
[ "$lines" -le 5 ] || fail "$lines accept error lines in the log"
wait_log "$T/relay.log" "accepting again after [0-9]+ accept errors?" 5 ||
    fail "no line closing the pause"
say "$(grep -E 'accepting again' "$T/relay.log" | head -1 | cut -c14-)"
ok
