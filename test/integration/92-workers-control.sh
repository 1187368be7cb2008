#!/usr/bin/env bash
# workers = 2 with an [integrated] section and a [relay] section (issue
# 13): an unmodified strongSwan initiator reaches the integrated server
# over TLS through its connector, and raw IKE clients hold relay sessions
# toward a strongSwan gateway.  The integrated section is worker 0's
# alone (its TUN, its listener); the relay's listener is shared and
# sessions land on both workers.  iketcpctl list, stats and metrics (on
# the socket and over HTTP) answer for both workers: sessions carry their
# worker, stats sum them, metrics label them (promtool clean); terminate
# reaches the worker holding the session.  SIGTERM to the master ends the
# workers (the integrated one sends its Delete first) and the master:
# exit 0, no process left.
. "$(dirname "$0")/lib.sh"

need_iketcpctl
command -v promtool >/dev/null || fail "promtool missing (Debian: prometheus)"
SOCK=$T/srv.sock
integ_topo
ns_new G
link_add R "$RELAY_ADDR/24" G "$GW_ADDR/24"
gw_start gw G
tls_cert srv-tls vpn.test
printf 'initiator.test : PSK "iketcp-integration-test-psk"\n' \
    >"$T/ipsec.secrets"
chmod 600 "$T/ipsec.secrets"
cat >"$T/srv.conf" <<EOC
[global]
log-level = debug
workers = 2
control-socket = $SOCK
metrics-listen = 127.0.0.1:9108

[integrated vpn]
tls-listen = $RELAY_C_ADDR:443
tls-cert = $T/srv-tls.crt
tls-key = $T/srv-tls.key
id = responder.test
secrets = $T/ipsec.secrets
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
local-ts = 0.0.0.0/0
tun = iketcp0

[relay t]
listen = 127.0.0.1:4500
gateway = $GW_ADDR
EOC
relay_start srv "$T/srv.conf" 4500 R
wait_log "$T/srv.log" "started with 2 workers" 10 || fail "workers not up"
grep -q "tun iketcp0 10.10.0.1/24" "$T/srv.log" || fail "no TUN set up"
read -r -a kids <"/proc/$RELAY_DPID/task/$RELAY_DPID/children" || true
[ "${#kids[@]}" = 2 ] || fail "master $RELAY_DPID has children '${kids[*]}'"

# The integrated client over TLS.
: "${INIT_MOBIKE:=no}"
connector_up cn "server=$RELAY_C_ADDR:443" tls=yes "tls-ca=$T/srv-tls.crt" \
    tls-sni=vpn.test
initiator_start
tunnel_up
ping_tunnel 5
wait_log "$T/srv.log" "worker 0: .*TLS TLSv1\\.3.*sni=vpn\\.test" 5 ||
    fail "the TLS stream was not served by worker 0, the section's owner"

# Relay sessions: four clients, one after the other, held open.
for i in 1 2 3 4; do
	client_bg "D$i" init --connect 127.0.0.1:4500 --keep-open 40
	for _ in $(seq 50); do
		[ "$(count_log "$T/srv.log" "session new .*relay")" -ge "$i" ] &&
		    break
		sleep 0.1
	done
done
[ "$(count_log "$T/srv.log" "session new .*relay")" = 4 ] ||
    fail "want 4 relay sessions"

"$CTL" -s "$SOCK" list --json >"$T/list.json" || fail "list failed"
"$CTL" -s "$SOCK" list >"$T/list.txt" || fail "list (table) failed"
read -r n0 n1 rid < <("$IKT_PY" - "$T/list.json" "${kids[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pids = sorted(int(p) for p in sys.argv[2:])
assert sorted(w["pid"] for w in d["workers"]) == pids, d["workers"]
assert all(w["answered"] for w in d["workers"]), d["workers"]
live = [s for s in d["sessions"] if s["state"] == "live"]
integ = [s for s in live if s["backend"] == "integrated"]
relay = [s for s in live if s["backend"] == "relay"]
assert len(integ) == 1 and integ[0]["worker"] == 0, integ
assert integ[0]["ike_sa"]["state"] == "ESTABLISHED", integ
assert integ[0]["transport"] == ["TCP", "TLS"], integ
assert len(relay) == 4, relay
assert {s["worker"] for s in relay} == {0, 1}, relay
ids = [s["id"] for s in d["sessions"]]
assert len(set(ids)) == len(ids), ids
for s in d["sessions"]:
    assert s["id"] % 2 == s["worker"], s
for st in d["streams"]:
    assert st["id"] % 2 == st["worker"], st
n = [len([s for s in live if s["worker"] == k]) for k in (0, 1)]
print(n[0], n[1], [s["id"] for s in relay if s["worker"] == 1][0])
PY
) || fail "list --json: $(cat "$T/list.json")"
say "live sessions: worker 0 $n0 (the integrated one among them), worker 1 $n1"
for k in 0 1; do
	grep -q "^Worker $k (pid ${kids[k]})$" "$T/list.txt" ||
	    fail "list: no table of worker $k: $(cat "$T/list.txt")"
done
grep -q "^IKE SAs" "$T/list.txt" || fail "list: no IKE SA table"

"$CTL" -s "$SOCK" stats --json >"$T/stats.json" || fail "stats failed"
"$IKT_PY" - "$T/stats.json" $((n0 + n1)) <<'PY' || fail "stats: $(cat "$T/stats.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["workers"] == 2 and d["worker_restarts"] == 0, d
assert d["sessions_now"] == int(sys.argv[2]), d
assert d["sessions"] >= 5 and d["streams"] >= 5 and d["ike_up"] == 1, d
assert d["tls_ok_tls13"] == 1, d
PY
"$CTL" -s "$SOCK" stats >"$T/stats.txt" || fail "stats (text) failed"
grep -qE "^sessions_now +$((n0 + n1))$" "$T/stats.txt" ||
    fail "stats text: $(cat "$T/stats.txt")"

"$CTL" -s "$SOCK" metrics >"$T/metrics.txt" || fail "metrics failed"
ns_exec R curl -sS --max-time 5 http://127.0.0.1:9108/metrics \
    >"$T/http.txt" || fail "HTTP /metrics failed"
for f in metrics http; do
	promtool check metrics <"$T/$f.txt" >"$T/promtool-$f.log" 2>&1 ||
	    fail "promtool ($f): $(cat "$T/promtool-$f.log")"
	grep -q "^iketcp_sessions{worker=\"0\",state=\"live\"} $n0$" \
	    "$T/$f.txt" || fail "$f: worker 0's live sessions"
	grep -q "^iketcp_sessions{worker=\"1\",state=\"live\"} $n1$" \
	    "$T/$f.txt" || fail "$f: worker 1's live sessions"
	grep -q '^iketcp_ike_sas{worker="0",state="established"} 1$' \
	    "$T/$f.txt" || fail "$f: worker 0's IKE SA"
	grep -q '^iketcp_ike_sas{worker="1",state="established"} 0$' \
	    "$T/$f.txt" || fail "$f: worker 1's IKE SAs"
	for k in 0 1; do
		grep -q "^iketcp_worker_up{worker=\"$k\"} 1$" "$T/$f.txt" ||
		    fail "$f: worker $k not up"
	done
	[ "$(grep -c '^# TYPE iketcp_sessions gauge$' "$T/$f.txt")" = 1 ] ||
	    fail "$f: a family twice"
done
say "list, stats, metrics: both workers; promtool clean"

# terminate: a session of worker 1, asked of the master.
"$CTL" -s "$SOCK" terminate "$rid" >"$T/term.out" ||
    fail "terminate $rid: $(cat "$T/term.out")"
grep -q "session $rid: ended" "$T/term.out" || fail "terminate: $(cat "$T/term.out")"
wait_log "$T/srv.log" "worker 1: control: session $rid terminated" 3 ||
    fail "worker 1 did not terminate session $rid"
set +e
"$CTL" -s "$SOCK" terminate 999999 >"$T/term2.out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "no session 999999" "$T/term2.out" ||
    fail "terminate of no session: rc $rc, $(cat "$T/term2.out")"

# iketcpctl reload: answered once both workers took the configuration.
"$CTL" -s "$SOCK" reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -q "^reloaded$" "$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -q "reloaded .*srv.conf" "$T/srv.log" || fail "no 'reloaded' line"
for k in 0 1; do
	grep -q "worker $k: .*reloaded .*srv.conf" "$T/srv.log" ||
	    fail "worker $k did not take the reload"
done

# SIGTERM: the workers end (the integrated one deletes its IKE SA), then
# the master, with status 0; nothing is left.
relay_sigterm
for k in "${kids[@]}"; do
	kill -0 "$k" 2>/dev/null && fail "worker $k still runs after SIGTERM"
done
wait_log "$T/init/charon.log" "received DELETE for IKE_SA" 3 ||
    fail "the integrated worker sent no Delete at SIGTERM"
[ ! -e "$SOCK" ] || fail "the control socket was left behind"
ok
