#!/usr/bin/env bash
# Run by 57-control.sh: iketcpctl against the integrated server.  An
# unmodified strongSwan initiator -> connector -> TCP -> iketcpd as the
# integrated server: `iketcpctl list --json` shows the IKE SA with the
# initiator's identity, the virtual IP strongSwan got, the negotiated
# algorithms and ESP counters; `iketcpctl terminate ID` sends a Delete
# (the server-started Delete path) and strongSwan loses the SA.
. "$(dirname "$0")/lib.sh"

# Next to the daemon, else the plain build's (the ASan build has none).
need_iketcpctl
PSK=iketcp-integrated-test-psk
SOCK=$T/srv.sock

integ_topo
IKT_GLOBAL="control-socket = $SOCK" GW_PSK=$PSK integ_server_up srv
connector_up cn
GW_PSK=$PSK initiator_start
tunnel_up
ping_tunnel 5
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
vip=$(grep -oE '10\.10\.0\.[0-9]+' <<<"$sas" | head -1)
[ -n "$vip" ] || fail "no virtual IP: $sas"

"$CTL" -s "$SOCK" list --json >"$T/list.json" || fail "list failed"
"$CTL" -s "$SOCK" list >"$T/list.txt" || fail "list (table) failed"
say "IKE SA: $(grep -A2 '^IKE SAs' "$T/list.txt" | tail -1)"
sid=$("$IKT_PY" - "$T/list.json" "$vip" "$CLIENT_ADDR" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
vip, client = sys.argv[2], sys.argv[3]
ss = [s for s in d["sessions"] if s["state"] == "live"]
assert len(ss) == 1, d
s = ss[0]
assert s["backend"] == "integrated" and s["section"] == "vpn", s
assert s["client"].rsplit(":", 1)[0] == client, s
sa = s["ike_sa"]
assert sa["state"] == "ESTABLISHED", sa
assert sa["identity"] == "fqdn:initiator.test", sa
assert sa["virtual_ips"] == [vip], (sa, vip)
assert sa["ike_algorithms"] == "aes256gcm16-prfsha384-x25519", sa
assert sa["esp_algorithms"] == "aes256gcm16", sa
assert sa["child_sas"] == 1, sa
assert sa["esp_in_packets"] > 0 and sa["esp_out_packets"] > 0, sa
assert s["up_msgs"] > 0 and s["down_msgs"] > 0, s
print(s["id"])
PY
) || fail "list --json: $(cat "$T/list.json")"
say "session $sid: initiator.test, virtual IP $vip"

"$CTL" -s "$SOCK" metrics >"$T/metrics.txt" || fail "metrics failed"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 ||
    fail "promtool: $(cat "$T/promtool.log")"
grep -q '^iketcp_ike_sas{state="established"} 1$' "$T/metrics.txt" ||
    fail "want one established IKE SA in the metrics"
grep -q '^iketcp_authentications_total{method="psk",outcome="success"} 1$' \
    "$T/metrics.txt" || fail "want one successful PSK authentication"

"$CTL" -s "$SOCK" terminate "$sid" >"$T/term.out" ||
    fail "terminate failed"
grep -q "Delete of its IKE SA sent" "$T/term.out" ||
    fail "terminate: $(cat "$T/term.out")"
for _ in $(seq 50); do
	sas=$(swanctl_ "$T/init" --list-sas 2>/dev/null)
	grep -q ESTABLISHED <<<"$sas" || break
	sleep 0.1
done
sas=$(swanctl_ "$T/init" --list-sas 2>/dev/null)
! grep -q ESTABLISHED <<<"$sas" || fail "the initiator still has its IKE SA"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"
say "terminate $sid: Delete sent, the initiator lost its SA"
ok
