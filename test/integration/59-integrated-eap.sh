#!/usr/bin/env bash
# EAP-MSCHAPv2 against the integrated server (RFC 7296 §2.16; issue 12
# item 3).  An unmodified strongSwan initiator configured as a phone's
# road-warrior profile -- remote auth pubkey (the server's certificate,
# ECDSA, from a test CA), local auth eap-mschapv2 with an eap_id, a
# virtual IP -- goes through the connector (TCP, then TLS) to iketcpd
# with eap = mschapv2 and users in its secrets file.  Checked: the
# tunnel comes up with a virtual IP and pings; the server logs the peer
# address and the EAP identity; strongSwan reports an MSK (the final AUTH
# verified with it on both sides); a wrong password and an unknown user
# are refused (EAP-Failure, then AUTHENTICATION_FAILED) and logged; a
# client that gives up mid-EAP (its AUTHENTICATION_FAILED) ends its SA at
# once, one that stops is timed out and its half-open SA freed; the
# auth counters say so.  A PSK client keeps working beside EAP.
. "$(dirname "$0")/lib.sh"

need_iketcpctl
P=$T/pki
eap_server_pki "$P"

PSK=iketcp-eap-test-psk
integ_topo
tls_cert srv-tls responder.test
INTEG_SECRETS="alice : EAP \"alice's password 1\"
bob : EAP 0x626f622d7077
initiator.test : PSK \"$PSK\"" IKT_GLOBAL="control-socket = $T/srv.sock" \
    integ_server_up srv cert="$P/srv.pem" key="$P/srv.key" eap=mschapv2 \
    eap-timeout=6s dns=10.10.0.53 tls-listen="$RELAY_C_ADDR:443" \
    tls-cert="$T/srv-tls.crt" tls-key="$T/srv-tls.key"
connector_up cn

export EAP_CA=$P/ca.pem	# init_eap: the initiator trusts our test CA

cn_stop() {	# stops the connector we started, and forgets it
	local keep=() p
	stop_pid "$CN_PID"
	for p in "${IKT_RELAYS[@]}"; do
		[ "$p" = "$CN_PID" ] || keep+=("$p")
	done
	IKT_RELAYS=("${keep[@]}")
}

metric() {	# metric OUTCOME: iketcp_authentications_total, method eap
	"$CTL" -s "$T/srv.sock" metrics | grep "^iketcp_authentications_total" |
	    grep "method=\"eap\"" | grep "outcome=\"$1\"" | awk '{print $NF}'
}

# 1. The right password: up, virtual IP, ping, the identity logged.
init_eap alice "alice's password 1"
tunnel_up
say "EAP-MSCHAPv2 IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms"
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -qE "10\\.10\\.0\\.[0-9]+" <<<"$sas" || fail "no virtual IP: $sas"
grep -q "authentication of 'responder.test' with ECDSA.* successful" \
    "$T/init/charon.log" || fail "initiator: server certificate not verified"
grep -q "EAP method EAP_MSCHAPV2 succeeded, MSK established" \
    "$T/init/charon.log" || fail "initiator: no MSK"
grep -q "authentication of 'responder.test' with EAP successful" \
    "$T/init/charon.log" || fail "initiator: server AUTH from the MSK failed"
wait_log "$T/srv.log" "$CLIENT_ADDR.*established, fqdn:phone.test authenticated by EAP-MSCHAPv2 as \"alice\"" 5 ||
    fail "server: no established line with the address and EAP identity"
ping_tunnel 5
say "ping through the EAP tunnel: $PING_RTT ms"
[ "$(metric success)" = 1 ] || fail "auth ok (eap) counter: $(metric success)"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1

# 2. A hex secret (bob) and then TLS through the connector.
cn_stop
connector_up cn2 "server=$RELAY_C_ADDR:443" tls=yes \
    "tls-ca=$T/srv-tls.crt" tls-sni=responder.test
init_eap bob bob-pw
tunnel_up
ping_tunnel 3
wait_log "$T/srv.log" "authenticated by EAP-MSCHAPv2 as \"bob\"" 5 ||
    fail "server: bob not logged"
say "over TLS: up in $IKE_MS ms, ping $PING_RTT ms"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1
cn_stop
connector_up cn

# 3. A wrong password: EAP-Failure and AUTHENTICATION_FAILED, logged.
refused() {	# refused USER PASSWORD EXPECTED-SERVER-LOG
	init_eap "$1" "$2"
	if swanctl_ "$T/init" --initiate --child net --timeout 15 \
	    >"$T/initiate-$1.log" 2>&1; then
		fail "$1: came up with a bad password"
	fi
	wait_log "$T/srv.log" "$CLIENT_ADDR.*authentication of fqdn:phone.test refused: $3 \\(identity \"$1\"\\)" 5 ||
	    fail "server: no refusal line for $1 ($3)"
	grep -qE "received EAP_FAILURE|received AUTHENTICATION_FAILED" \
	    "$T/init/charon.log" || fail "initiator: $1 not told"
}
refused alice wrong-password "EAP-MSCHAPv2: wrong password"
grep -q "received AUTHENTICATION_FAILED" "$T/init/charon.log" ||
    fail "initiator: no AUTHENTICATION_FAILED"
say "wrong password refused"
refused mallory "alice's password 1" "EAP-MSCHAPv2: unknown user"
say "unknown user refused (after a challenge, like a wrong password)"
[ "$(metric failure)" = 2 ] || fail "auth failed (eap) counter: $(metric failure)"

# 4a. A client that gives up mid-EAP: strongSwan without a secret for its
# EAP identity answers the identity request, then gives up at the
# challenge and says AUTHENTICATION_FAILED in an INFORMATIONAL of its own
# (RFC 7296 section 2.21.2).  That message is authenticated by the IKE
# SA's keys, so the server answers it and ends the half-open SA at once.
init_eap nosecret x
sed -i '/^secrets {/,$d' "$T/init/swanctl/swanctl.conf"
swanctl_ "$T/init" --load-all --noprompt >/dev/null 2>&1 || true
swanctl_ "$T/init" --load-creds --clear --noprompt >/dev/null 2>&1 || true
swanctl_ "$T/init" --initiate --child net --timeout 10 \
    >"$T/initiate-stall.log" 2>&1 && fail "came up without a secret"
wait_log "$T/srv.log" "authentication of fqdn:phone.test refused: the peer sent AUTHENTICATION_FAILED" 5 ||
    fail "server: the client's AUTHENTICATION_FAILED did not end the SA"
integ_stats srv >/dev/null
grep -o "half-open IKE SAs [0-9]*" "$T/srv.log" | tail -1 |
    grep -q "SAs 0$" || fail "half-open SAs left: $(grep -o 'half-open IKE SAs [0-9]*' "$T/srv.log" | tail -1)"
[ "$(metric failure)" = 3 ] || fail "auth failed (eap) counter: $(metric failure)"
say "client's AUTHENTICATION_FAILED ended the half-open SA at once"

# 4b. A client that stops mid-EAP: nftables in the client's namespace
# drops its IKE_AUTH request with message ID 3 (the MSCHAPv2 response:
# UDP, Non-ESP marker, IKE header with exchange 35 and that ID), so the
# server sent a challenge that is never answered.  The half-open SA ends
# at eap-timeout (6 s, room for a slow client on a loaded machine) and is freed.
ns_exec C nft -f - <<'NFT'
table inet ikt_stall {
	chain out {
		type filter hook output priority 0;
		meta l4proto udp @th,64,32 0 @th,240,8 35 @th,256,32 3 counter drop
	}
}
NFT
init_eap alice "alice's password 1"
swanctl_ "$T/init" --initiate --child net --timeout 10 \
    >"$T/initiate-stall2.log" 2>&1 && fail "came up with its response dropped"
wait_log "$T/srv.log" "EAP: not completed within 6000 ms \\(1 rounds, identity \"alice\"\\)" 12 ||
    fail "server: the stalled EAP conversation was not timed out"
# (Read first, then grep: under pipefail a grep -q that stops reading
# early can fail the pipe with nft's EPIPE.)
stall=$(ns_exec C nft list table inet ikt_stall)
grep -Eq "counter packets [1-9]" <<<"$stall" ||
    fail "nothing was dropped: $stall"
ns_exec C nft delete table inet ikt_stall
swanctl_ "$T/init" --terminate --ike home --timeout 5 >/dev/null 2>&1 || true
sleep 1
integ_stats srv >/dev/null
grep -o "half-open IKE SAs [0-9]*" "$T/srv.log" | tail -1 |
    grep -q "SAs 0$" || fail "half-open SAs left: $(grep -o 'half-open IKE SAs [0-9]*' "$T/srv.log" | tail -1)"
[ "$(metric failure)" = 4 ] || fail "auth failed (eap) counter: $(metric failure)"
say "stalled EAP client timed out, half-open SA freed"

# 5. A PSK client beside EAP.
stop_pid "$SWAN_PID_init"
SWAN_PID_init=
GW_PSK=$PSK initiator_start
tunnel_up
ping_tunnel 3
say "PSK client beside EAP: up"
grep -q "eap" "$T/srv.conf" || fail "config lost eap"
ok
