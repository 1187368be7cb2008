#!/usr/bin/env bash
# iketcpctl against live tunnels (issue 14, items 3, 4 and 8).  An
# unmodified strongSwan initiator -> connector -> TCP -> relay -> strongSwan
# gateway: `iketcpctl list --json` shows the session with the client's
# address, its section, the gateway-side port that `ss -u` shows in R and
# non-zero counters each way; `iketcpctl metrics` passes `promtool check
# metrics`, also over HTTP at metrics-listen; a flood of garbage and idle
# clients (more than the daemon takes at once) leaves it answering; and
# `iketcpctl terminate ID` ends the session: the relay's UDP socket toward
# the gateway is gone from R.  Then control-integ.sh does the same against
# the integrated server (identity, virtual IP, Delete to the client).
. "$(dirname "$0")/lib.sh"

# Next to the daemon, else the plain build's (the ASan build has none).
need_iketcpctl
command -v promtool >/dev/null || fail "promtool missing (Debian: prometheus)"
SOCK=$T/relay.sock

IKT_GLOBAL="control-socket = $SOCK
metrics-listen = 127.0.0.1:9108"
topo_connector
relay_for_connector relay
IKT_GLOBAL=
connector_up cn
initiator_start
tunnel_up
ping_tunnel 5
say "tunnel up in $IKE_MS ms"

# The socket: a 0660 socket file; a missing daemon is a clear error.
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
set +e
"$CTL" -s "$T/nosuch.sock" list >"$T/nosuch.out" 2>&1
rc=$?
set -e
[ "$rc" = 3 ] && grep -q "cannot reach iketcpd" "$T/nosuch.out" ||
    fail "no daemon: rc $rc, $(cat "$T/nosuch.out")"

"$CTL" -s "$SOCK" list --json >"$T/list.json" || fail "list failed"
"$CTL" -s "$SOCK" list >"$T/list.txt" || fail "list (table) failed"
say "list: $(grep -A2 '^Sessions' "$T/list.txt" | tail -1)"
gwport=$(ns_exec R ss -Hun "dst $GW_ADDR:4500" | awk '{ print $(NF - 1) }' |
    sed 's/.*://' | head -1)
[ -n "$gwport" ] || fail "no UDP socket toward the gateway in R"
sid=$("$IKT_PY" - "$T/list.json" "$CLIENT_ADDR" "$gwport" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want_ip, want_port = sys.argv[2], int(sys.argv[3])
ss = [s for s in d["sessions"] if s["state"] == "live"]
assert len(ss) == 1, d
s = ss[0]
assert s["client"].rsplit(":", 1)[0] == want_ip, s
assert s["section"] == "t", s
assert s["backend"] == "relay", s
assert s["gateway_port"] == want_port, (s, want_port)
assert s["transport"] == ["TCP"], s
for k in ("up_msgs", "up_bytes", "down_msgs", "down_bytes"):
    assert s[k] > 0, (k, s)
st = [x for x in d["streams"] if x["id"] == s["stream"]]
assert st and st[0]["role"] == "owner" and st[0]["state"] == "frames", d
assert st[0]["gateway_port"] == want_port, st
print(s["id"])
PY
) || fail "list --json: $(cat "$T/list.json")"
say "session $sid: client $CLIENT_ADDR, section t, gateway-side port $gwport"

"$CTL" -s "$SOCK" stats --json >"$T/stats.json" || fail "stats failed"
"$IKT_PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["sessions"] >= 1 and d["streams"] >= 1, d' "$T/stats.json" ||
    fail "stats: $(cat "$T/stats.json")"

"$CTL" -s "$SOCK" metrics >"$T/metrics.txt" || fail "metrics failed"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 ||
    fail "promtool: $(cat "$T/promtool.log")"
grep -qE '^iketcp_messages_total\{section="t",direction="in"\} [1-9]' \
    "$T/metrics.txt" || fail "no messages counted for section t"
grep -q '^iketcp_sessions{state="live"} 1$' "$T/metrics.txt" ||
    fail "want one live session in the metrics"
ns_exec R curl -sS --max-time 5 http://127.0.0.1:9108/metrics \
    >"$T/http.txt" || fail "HTTP /metrics failed"
promtool check metrics <"$T/http.txt" >"$T/promtool2.log" 2>&1 ||
    fail "promtool (HTTP): $(cat "$T/promtool2.log")"
code=$(ns_exec R curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    http://127.0.0.1:9108/other)
[ "$code" = 404 ] || fail "HTTP /other: $code, want 404"
say "metrics: promtool clean, on the socket and over HTTP"

# Hostile clients: idle ones past the client bound, garbage and a huge
# line.  The daemon answers ERR, refuses the surplus, and still serves.
"$IKT_PY" - "$SOCK" <<'PY' || fail "hostile clients: the daemon misbehaved"
import socket, sys, time
path = sys.argv[1]
idle = []
for _ in range(20):			# CTL_CLIENTS_MAX is 16
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    idle.append(s)
time.sleep(0.3)
refused = 0
for s in idle[16:]:
    s.settimeout(2)
    if s.recv(100).startswith(b"ERR too many"):
        refused += 1
assert refused == 4, refused
for s in idle:
    s.close()
time.sleep(0.3)
def ask(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(data)
    except BrokenPipeError:
        pass
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    s.close()
    return out
assert ask(b"\x00\xff\x01garbage\n").startswith(b"ERR "), "binary"
assert ask(b"A" * 100000).startswith(b"ERR request longer"), "huge"
assert ask(b"terminate 99999999999999999999999\n").startswith(b"ERR bad ID")
assert ask(b"stats\n").startswith(b"OK\n"), "after the flood"
PY
"$CTL" -s "$SOCK" stats --json >"$T/stats2.json"
"$IKT_PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["ctl_refused"] == 4 and d["ctl_bad"] == 3, d' "$T/stats2.json" ||
    fail "control counters: $(cat "$T/stats2.json")"
say "20 idle clients (4 refused), garbage, 100 kB line: still answering"

# terminate: the session's gateway-side socket closes.
"$CTL" -s "$SOCK" terminate "$sid" >"$T/term.out" || fail "terminate failed"
for _ in $(seq 30); do
	ns_exec R ss -Hun "sport = :$gwport" | grep -q . || break
	sleep 0.1
done
! ns_exec R ss -Hun "sport = :$gwport" | grep -q . ||
    fail "UDP port $gwport toward the gateway still open"
wait_log "$T/relay.log" "session $sid terminated \\(closed\\)" 5 ||
    fail "no terminate line in the relay's log"
set +e
"$CTL" -s "$SOCK" terminate "$sid" >/dev/null 2>"$T/term2.err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "no session $sid" "$T/term2.err" ||
    fail "a second terminate: rc $rc $(cat "$T/term2.err")"
say "terminate $sid: gateway-side port $gwport closed"

"$(dirname "$0")/control-integ.sh" >"$T/integ.log" 2>&1 ||
    fail "integrated part: $(tail -40 "$T/integ.log")"
sed 's/^/    /' "$T/integ.log" | grep -v "^    ===" >&2 || true
ok
