#!/usr/bin/env bash
# workers = 2 (issue 13): three unmodified strongSwan initiators, each
# with its own connector in its own namespace, reach one strongSwan
# gateway through one relay that runs two worker processes.  Both
# workers serve (iketcpctl list --json names each session's worker, and
# ps shows the master and its two children).  Then one worker is
# SIGKILLed: the master logs its end and forks it again, the tunnels of
# the other worker's clients carry pings without a single loss meanwhile,
# and the killed worker's clients reconnect (their connectors open a new
# stream) and ping again through the gateway.
. "$(dirname "$0")/lib.sh"

need_iketcpctl
need_root
SOCK=$T/relay.sock
N=3
ns_new R
ns_new G
link_add R "$RELAY_ADDR/24" G "$GW_ADDR/24"
ip -n "$(ns G)" addr add "$SVC_ADDR/32" dev lo
for i in $(seq $N); do
	ns_new "C$i"
	link_add "C$i" "198.51.10$i.1/24" R "198.51.10$i.2/24"
	ip -n "$(ns "C$i")" addr add "$CN_ADDR/32" dev lo
done
# One gateway for all: any initiator identity, one PSK.
GW_PEER_ID=%any gw_start gw G

IKT_GLOBAL="workers = 2
control-socket = $SOCK" relay_conf "$T/relay.conf" listen=0.0.0.0:4500
IKT_GLOBAL=
relay_start relay "$T/relay.conf" 4500 R
wait_log "$T/relay.log" "started with 2 workers" 10 ||
    fail "the master did not report its workers up"
kids=$(cat "/proc/$RELAY_DPID/task/$RELAY_DPID/children")
[ "$(wc -w <<<"$kids")" = 2 ] || fail "master $RELAY_DPID has children '$kids'"
for k in $kids; do
	[ "$(cat "/proc/$k/comm")" = iketcpd ] || fail "child $k is no worker"
done
say "master $RELAY_DPID, workers $kids"

# Each client: its connector and initiator in C<i>, identity client<i>.
# The initiator checks liveness every 2 s, so that after a worker's death
# an IKE message from the new stream tells the gateway the new port.
for i in $(seq $N); do
	CN_NS=C$i connector_up "cn$i" "server=198.51.10$i.2:4500" \
	    reconnect-min=100ms reconnect-max=1s
	GW_PEER_ID=client$i.test INIT_NS=C$i INIT_DIR=$T/init$i \
	    INIT_ADDR=198.51.10$i.1 INIT_CONN_EXTRA="dpd_delay = 2s" \
	    initiator_start
	INIT_DIR=$T/init$i tunnel_up
	PING_NS=C$i ping_tunnel 3
done

# worker_of I: the worker serving client I's live session.
list()
{
	"$CTL" -s "$SOCK" list --json >"$T/list.json" || fail "list failed"
}
worker_of()
{
	"$IKT_PY" - "$T/list.json" "198.51.10$1.1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w = [s["worker"] for s in d["sessions"]
     if s["state"] == "live" and s["client"].rsplit(":", 1)[0] == sys.argv[2]]
assert len(w) == 1, d
print(w[0])
PY
}
list
declare -A W
for i in $(seq $N); do
	W[$i]=$(worker_of "$i") || fail "client $i: $(cat "$T/list.json")"
done
say "clients 1 to $N on workers: $(for i in $(seq $N); do printf '%s ' "${W[$i]}"; done)"
[ "$(printf '%s\n' "${W[@]}" | sort -u | wc -l)" = 2 ] ||
    fail "the sessions are not spread over both workers: ${W[*]}"
victim=${W[1]}
old_ids=$("$IKT_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(str(s["id"]) for s in d["sessions"]))' "$T/list.json")
vpid=$("$IKT_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([w["pid"] for w in d["workers"] if w["worker"] == int(sys.argv[2])][0])' \
    "$T/list.json" "$victim")
grep -qw "$vpid" <<<"$kids" || fail "worker $victim's pid $vpid is not a child"

# Pings from every client across the kill (ping -D stamps each reply).
for i in $(seq $N); do
	timeout -k 2 40 ip netns exec "$(ns "C$i")" ping -D -n -i 0.2 -c 60 \
	    -W 1 "$SVC_ADDR" >"$T/ping$i.out" 2>&1 &
	IKT_PIDS+=("$!")
	printf -v "PING_PID_$i" '%s' "$!"
done
sleep 3
killed_at=$(now)
kill -KILL "$vpid"
say "worker $victim (pid $vpid) killed"
wait_log "$T/relay.log" "worker $victim \\(pid $vpid\\) killed by signal 9; restarting" 5 ||
    fail "the master did not log the worker's death"
for _ in $(seq 50); do
	[ "$(count_log "$T/relay.log" "worker $victim \\(pid [0-9]+\\) started")" -ge 2 ] &&
	    break
	sleep 0.1
done
npid=$(grep -oE "worker $victim \\(pid [0-9]+\\) started" "$T/relay.log" |
    tail -n 1 | grep -oE '[0-9]+\)' | tr -d ')')
[ "$npid" != "$vpid" ] && kill -0 "$npid" 2>/dev/null ||
    fail "no new worker $victim (pid '$npid')"
kill -0 "$RELAY_DPID" || fail "the master died"
say "worker $victim restarted as pid $npid"

# The other worker's clients: every echo answered, from a second before
# the kill to the end (60 echoes, 12 s, the kill 3 s in).
for i in $(seq $N); do
	v="PING_PID_$i"
	[ "${W[$i]}" = "$victim" ] && continue
	wait "${!v}" || true
	lost=$("$IKT_PY" - "$T/ping$i.out" "$killed_at" <<'PY'
import re, sys
got = {}
for l in open(sys.argv[1]):
    m = re.match(r"\[([0-9.]+)\] .*icmp_seq=([0-9]+)", l)
    if m:
        got[int(m.group(2))] = float(m.group(1))
t = float(sys.argv[2]) - 1
first = min((s for s, at in got.items() if at >= t), default=None)
if first is None or first > 20:
    print("no echo after the kill")
else:
    print(",".join(str(s) for s in range(first, 61) if s not in got))
PY
)
	[ -z "$lost" ] ||
	    fail "client $i on the surviving worker lost echoes $lost: $(tail -n 2 "$T/ping$i.out")"
	say "client $i (worker ${W[$i]}): no echo lost across the kill ($(grep -o '[0-9]* received' "$T/ping$i.out") of 60)"
done

# The killed worker's clients: a new stream, and the tunnel carries again.
for i in $(seq $N); do
	[ "${W[$i]}" = "$victim" ] || continue
	wait_log "$T/cn$i.log" "stream 2 to .* up" 15 ||
	    fail "client $i: its connector did not reconnect"
	ok=
	for _ in $(seq 30); do
		if ns_exec "C$i" ping -n -c 1 -W 1 "$SVC_ADDR" >/dev/null 2>&1
		then
			ok=1
			break
		fi
	done
	[ -n "$ok" ] || fail "client $i: no ping through the tunnel after the restart"
	say "client $i (killed worker): reconnected, pings again"
done
list
grep -q "\"pid\":$npid,\"answered\":true" "$T/list.json" ||
    fail "the new worker does not answer: $(cat "$T/list.json")"
# The restarted worker's sessions have ids its earlier life never gave.
"$IKT_PY" - "$T/list.json" "$victim" $old_ids <<'PY' ||
import json, sys
d = json.load(open(sys.argv[1]))
victim, old = int(sys.argv[2]), {int(x) for x in sys.argv[3:]}
new = [s["id"] for s in d["sessions"] if s["worker"] == victim]
assert new and not old & set(new), (new, old)
assert all(i % 2 == victim for i in new), new
PY
    fail "session ids after the restart: $(cat "$T/list.json")"
ok
