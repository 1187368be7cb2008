#!/usr/bin/env bash
# The integrated server's three proposal sets, each chosen by an unmodified
# strongSwan initiator that offers only that set (IKE and ESP), through the
# connector: AES-GCM-256 + Curve25519, AES-CBC-256/HMAC-SHA2-256 +
# MODP-2048, ChaCha20-Poly1305 + ECP-256.  Each IKE SA and Child SA comes
# up with the expected algorithms (swanctl --list-sas), pings pass and
# 10 MB over HTTP arrive intact (full-size packets through each cipher);
# then the initiator deletes it and the next set is tried.  A set the
# server lacks is refused with NO_PROPOSAL_CHOSEN.
. "$(dirname "$0")/lib.sh"

integ_topo
INTEG_PROPOSALS="aes256gcm16-prfsha384-x25519,aes256-sha256-modp2048,chacha20poly1305-prfsha256-ecp256" \
INTEG_ESP="aes256gcm16,aes256-sha256,chacha20poly1305" \
    integ_server_up srv
connector_up cn
WEB_NS=R web_start

# IKE proposal | ESP proposal | IKE algorithms | Child SA algorithms
sets=(
"aes256gcm16-prfsha384-x25519|aes256gcm16|AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519|AES_GCM_16-256"
"aes256-sha256-modp2048|aes256-sha256|AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048|AES_CBC-256/HMAC_SHA2_256_128"
"chacha20poly1305-prfsha256-ecp256|chacha20poly1305|CHACHA20_POLY1305/PRF_HMAC_SHA2_256/ECP_256|CHACHA20_POLY1305"
)
first=1
n=0
for s in "${sets[@]}"; do
	IFS='|' read -r ike esp ike_alg esp_alg <<<"$s"
	n=$((n + 1))
	if [ "$first" = 1 ]; then
		INIT_PROPOSALS=$ike INIT_ESP=$esp initiator_start
		first=0
	else
		sed -i -E "s/^(\t\tproposals = ).*/\1$ike/; s/^(\t\t\t\tesp_proposals = ).*/\1$esp/" \
		    "$T/init/swanctl/swanctl.conf"
		swanctl_ "$T/init" --load-all --noprompt >"$T/load$n.log" 2>&1 ||
		    fail "reload for $ike: $(cat "$T/load$n.log")"
	fi
	grep -q "proposals = $ike\$" "$T/init/swanctl/swanctl.conf" ||
	    fail "initiator not configured for $ike"
	tunnel_up
	sas=$(swanctl_ "$T/init" --list-sas 2>&1)
	grep -q "ESTABLISHED" <<<"$sas" || fail "$ike: not ESTABLISHED: $sas"
	grep -qF "$ike_alg" <<<"$sas" || fail "$ike: IKE SA not $ike_alg: $sas"
	grep -E "INSTALLED" <<<"$sas" | grep -qF "$esp_alg" ||
	    fail "$esp: Child SA not $esp_alg: $sas"
	wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
	ping_tunnel 5
	rm -f "$T/got"
	fetch_bg
	fetch_wait
	say "$ike / $esp: up in $IKE_MS ms, ping $PING_RTT ms, 10 MB in $XFER_S s"
	before=$(count_log "$T/srv.log" "IKE_SA deleted")
	swanctl_ "$T/init" --terminate --ike home --timeout 10 \
	    >"$T/term$n.log" 2>&1 || fail "terminate: $(cat "$T/term$n.log")"
	for _ in $(seq 50); do
		[ "$(count_log "$T/srv.log" "IKE_SA deleted")" -gt "$before" ] &&
		    break
		sleep 0.1
	done
	[ "$(count_log "$T/srv.log" "IKE_SA deleted")" -gt "$before" ] ||
	    fail "$ike: server did not delete the IKE SA"
done

# A set the server does not have: refused with NO_PROPOSAL_CHOSEN.
sed -i -E "s/^(\t\tproposals = ).*/\1aes128-sha1-modp3072/" \
    "$T/init/swanctl/swanctl.conf"
swanctl_ "$T/init" --load-all --noprompt >"$T/load-bad.log" 2>&1 ||
    fail "reload: $(cat "$T/load-bad.log")"
if swanctl_ "$T/init" --initiate --child net --timeout 15 \
    >"$T/initiate-bad.log" 2>&1; then
	fail "aes128-sha1-modp3072 came up"
fi
wait_log "$T/init/charon.log" "NO_PROPOSAL_CHOSEN" 5 ||
    fail "strongSwan did not see NO_PROPOSAL_CHOSEN"
say "aes128-sha1-modp3072: NO_PROPOSAL_CHOSEN"
ok
