#!/usr/bin/env bash
# eap = radius (issue 12 item 4): the integrated server passes the
# client's EAP through to a real freeradius (RFC 3579) started here in
# the server's namespace, and finishes IKE_AUTH with the MSK of the
# Access-Accept (RFC 7296 section 2.16).  An unmodified strongSwan
# initiator, a phone-like profile (server certificate, EAP, virtual IP),
# through the connector.  Checked:
#  - EAP-MSCHAPv2 (freeradius offers it first): up, MSK verified both
#    ways, ping, the identity logged;
#  - EAP-MD5 (auth = eap-md5: the client Naks MSCHAPv2): up, AUTH from
#    SK_pi/SK_pr as the method has no MSK; we only carry the packets;
#  - a wrong password: Access-Reject -> EAP-Failure and
#    AUTHENTICATION_FAILED, logged with address and identity;
#  - Framed-IP-Address in the pool: the client gets that address; one
#    outside the pool: the Child SA refused (INTERNAL_ADDRESS_FAILURE);
#  - freeradius dead: refused after radius-timeout x tries, the client's
#    retransmission meanwhile dropped (not relayed twice), the half-open
#    SA freed; outcome counters.
. "$(dirname "$0")/lib.sh"

need_iketcpctl
P=$T/pki
eap_server_pki "$P"

SECRET=iketcp-radius-secret-69
integ_topo
RAD_USERS='alice	Cleartext-Password := "alice-pw-1"
carol	Cleartext-Password := "carol-pw-2"
	Framed-IP-Address = 10.10.0.77
dave	Cleartext-Password := "dave-pw-3"
	Framed-IP-Address = 10.99.0.5' RAD_EAP_DEFAULT=mschapv2 rad_start rad1 "$SECRET" 1812 R
RAD_PID=$BG_PID
printf '%s\n' "$SECRET" >"$T/radius.secret"
chmod 600 "$T/radius.secret"
IKT_GLOBAL="control-socket = $T/srv.sock" \
    integ_server_up srv cert="$P/srv.pem" key="$P/srv.key" eap=radius \
    eap-timeout=20s radius-server=127.0.0.1:1812 \
    "radius-secret-file=$T/radius.secret" radius-timeout=3s \
    radius-retries=1 radius-nas-identifier=iketcp-69
connector_up cn

# init_eap AUTH USER PASSWORD: the initiator, as a phone's EAP profile.
init_eap() {
	local d=$T/init
	[ -n "${SWAN_PID_init:-}" ] && stop_pid "$SWAN_PID_init"
	SWAN_PID_init=
	rm -rf "$d"
	swan_conf "$d" "	port = 510
	port_nat_t = 4510"
	cp "$P/ca.pem" "$d/swanctl/x509ca/ca.pem"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = $CLIENT_ADDR
		remote_addrs = $CN_ADDR
		proposals = aes256gcm16-prfsha384-x25519
		mobike = no
		vips = 0.0.0.0
		local {
			auth = $1
			id = phone.test
			eap_id = $2
		}
		remote {
			auth = pubkey
			id = responder.test
		}
		children {
			net {
				remote_ts = $SVC_ADDR/32
				esp_proposals = aes256gcm16
			}
		}
	}
}
secrets {
	eap-user {
		id = $2
		secret = "$3"
	}
}
EOF2
	swan_start init C "$d"
}

metric() {	# metric OUTCOME: iketcp_authentications_total, method eap
	"$CTL" -s "$T/srv.sock" metrics | grep "^iketcp_authentications_total" |
	    grep "method=\"eap\"" | grep "outcome=\"$1\"" | awk '{print $NF}'
}
half_open() {
	integ_stats srv >/dev/null
	grep -o "half-open IKE SAs [0-9]*" "$T/srv.log" | tail -1 |
	    awk '{print $NF}'
}
down() {
	swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 || true
}

# 1. EAP-MSCHAPv2 through freeradius.
init_eap eap-mschapv2 alice alice-pw-1
tunnel_up
say "EAP-MSCHAPv2 via RADIUS: IKE_SA + CHILD_SA in $IKE_MS ms"
grep -q "EAP method EAP_MSCHAPV2 succeeded, MSK established" \
    "$T/init/charon.log" || fail "initiator: no MSK"
grep -q "authentication of 'responder.test' with EAP successful" \
    "$T/init/charon.log" || fail "initiator: server AUTH from the MSK failed"
wait_log "$T/srv.log" "$CLIENT_ADDR.*established, fqdn:phone.test authenticated by EAP.* as \"alice\"" 5 ||
    fail "server: no established line with the address and EAP identity"
grep -q 'NAS-Identifier = "iketcp-69"' "$T/rad1.log" ||
    fail "freeradius: no NAS-Identifier"
grep -q 'Calling-Station-Id = "' "$T/rad1.log" ||
    fail "freeradius: no Calling-Station-Id"
grep -q 'State = 0x' "$T/rad1.log" || fail "freeradius: State not given back"
ping_tunnel 5
say "ping: $PING_RTT ms"
[ "$(metric success)" = 1 ] || fail "auth ok (eap): $(metric success)"
down

# 2. EAP-MD5: any method the server offers.
init_eap eap-md5 alice alice-pw-1
tunnel_up
ping_tunnel 3
grep -q "EAP method EAP_MD5 succeeded" "$T/init/charon.log" ||
    fail "initiator: not EAP-MD5"
say "EAP-MD5 via RADIUS: up in $IKE_MS ms"
down

# 3. A wrong password.
init_eap eap-mschapv2 alice not-her-password
swanctl_ "$T/init" --initiate --child net --timeout 15 \
    >"$T/initiate-wrong.log" 2>&1 && fail "came up with a wrong password"
wait_log "$T/srv.log" "$CLIENT_ADDR.*authentication of fqdn:phone.test refused: RADIUS: Access-Reject \\(identity \"alice\"\\)" 5 ||
    fail "server: no refusal line"
grep -q "received AUTHENTICATION_FAILED" "$T/init/charon.log" ||
    fail "initiator: no AUTHENTICATION_FAILED"
grep -q "EAP/FAIL" "$T/init/charon.log" || fail "initiator: no EAP-Failure"
[ "$(metric failure)" = 1 ] || fail "auth failed (eap): $(metric failure)"
say "wrong password refused"

# 4. Framed-IP-Address: in the pool it wins; outside, the Child SA fails.
init_eap eap-mschapv2 carol carol-pw-2
tunnel_up
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -q "10\.10\.0\.77" <<<"$sas" || fail "carol did not get 10.10.0.77: $sas"
ping_tunnel 3
say "Framed-IP-Address 10.10.0.77 applied"
down
init_eap eap-mschapv2 dave dave-pw-3
swanctl_ "$T/init" --initiate --child net --timeout 15 \
    >"$T/initiate-dave.log" 2>&1 && fail "dave: came up outside the pool"
wait_log "$T/srv.log" "Framed-IP-Address 10.99.0.5 outside the pool or in use" 5 ||
    fail "server: Framed-IP outside the pool not refused"
grep -q "INTERNAL_ADDRESS_FAILURE" "$T/init/charon.log" ||
    fail "initiator: no INTERNAL_ADDRESS_FAILURE"
say "Framed-IP-Address outside the pool refused"
down

# 5. freeradius dead: 2 tries x 3 s, then EAP-Failure.  strongSwan
# retransmits its request meanwhile (about 4 s): dropped, not relayed.
stop_pid "$RAD_PID"
init_eap eap-mschapv2 alice alice-pw-1
t0=$(date +%s%N)
swanctl_ "$T/init" --initiate --child net --timeout 20 \
    >"$T/initiate-dead.log" 2>&1 && fail "came up with RADIUS dead"
wait_log "$T/srv.log" "$CLIENT_ADDR.*authentication of fqdn:phone.test refused: RADIUS: no server answered \\(identity \"alice\"\\)" 15 ||
    fail "server: no refusal after the RADIUS timeout"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 5500 ] || fail "refused after $ms ms, before 2 x radius-timeout"
grep -q "while the EAP backend's answer is pending" "$T/srv.log" ||
    fail "no retransmission dropped while pending"
[ "$(count_log "$T/srv.log" "refused: RADIUS: no server answered")" = 1 ] ||
    fail "answered more than once"
grep -q "received AUTHENTICATION_FAILED" "$T/init/charon.log" ||
    fail "initiator: not told"
[ "$(half_open)" = 0 ] || fail "half-open SAs left: $(half_open)"
integ_stats srv >/dev/null
grep -q "RADIUS accepts 4, rejects 1, challenges [0-9]*, timeouts 1, in flight 0" \
    "$T/srv.log" || fail "RADIUS counters: $(grep -o 'RADIUS accepts.*' "$T/srv.log" | tail -1)"
# The same counters for iketcpctl and Prometheus (section vpn).
st=$("$CTL" -s "$T/srv.sock" stats --json) || fail "iketcpctl stats: $st"
for kv in accepts=4 rejects=1 timeouts=1 in_flight=0; do
	[ "$(jget "radius_${kv%%=*}_vpn" <<<"$st")" = "${kv#*=}" ] ||
	    fail "iketcpctl stats: want radius_${kv%%=*}_vpn ${kv#*=}: $st"
done
m=$("$CTL" -s "$T/srv.sock" metrics) || fail "iketcpctl metrics: $m"
grep -q '^iketcp_radius_answers_total{section="vpn",outcome="accept"} 4$' \
    <<<"$m" || fail "metrics: $(grep radius <<<"$m")"
grep -q '^iketcp_radius_answers_total{section="vpn",outcome="timeout"} 1$' \
    <<<"$m" || fail "metrics: $(grep radius <<<"$m")"
grep -q '^iketcp_radius_in_flight{section="vpn"} 0$' <<<"$m" ||
    fail "metrics: $(grep radius <<<"$m")"
say "RADIUS dead: refused after $ms ms, retransmission dropped, half-open freed"
ok
