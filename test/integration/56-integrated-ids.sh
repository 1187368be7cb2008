#!/usr/bin/env bash
# Identity types beyond names and addresses (RFC 7296 §3.5), PSK-
# authenticated against an unmodified strongSwan initiator: the server is
# a KEY_ID, the initiator first a DER_ASN1_DN and then a KEY_ID, each found
# in the secrets file by its text form ("C=CH, O=example, CN=carol",
# "@#hex"); a DN that is not in the file is refused and logged.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
PSK=iketcp-ids-test-psk
DN="C=CH, O=example, CN=carol"

ns_new C
ns_new R
link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo

cat >"$T/ipsec.secrets" <<EOS
"$DN" : PSK "$PSK"
@#c0ffee01 : PSK "$PSK"
EOS
chmod 600 "$T/ipsec.secrets"
cat >"$T/srv.conf" <<EOC
[global]
log-level = debug

[integrated vpn]
listen = $RELAY_C_ADDR:4500
id = keyid:0a0b0c0d
secrets = $T/ipsec.secrets
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
tun = iketcp0
EOC
relay_start srv "$T/srv.conf" 4500 R
connector_up cn reconnect-min=100ms reconnect-max=2s

# use_id ID: the initiator's own identity, reloaded into its charon.
use_id()
{
	sed -i "s|^\\(\\s*id\\(-1\\)\\? = \\).*$PEER_RE.*|\\1\"$1\"|" \
	    "$T/init/swanctl/swanctl.conf"
	PEER_RE=$(sed 's/[].[*^$|\\]/\\&/g' <<<"$1")
	swanctl_ "$T/init" --load-all --noprompt >"$T/reload.log" 2>&1 ||
	    fail "swanctl --load-all: $(cat "$T/reload.log")"
}

GW_ID="\"@#0a0b0c0d\"" GW_PEER_ID="\"$DN\"" GW_PSK=$PSK initiator_start
tunnel_up
ping_tunnel 5
grep -q "IKE_SA .* established" "$T/srv.log" || fail "server: no IKE SA"
swanctl_ "$T/init" --list-sas >"$T/sas.log" 2>&1
grep -q "remote '0a:0b:0c:0d'" "$T/sas.log" ||
    fail "the initiator did not see our KEY_ID: $(cat "$T/sas.log")"
say "DN initiator, KEY_ID responder: up"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 ||
    fail "terminate failed"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"

PEER_RE=$(sed 's/[].[*^$|\\]/\\&/g' <<<"$DN")
use_id "@#c0ffee01"
tunnel_up
ping_tunnel 5
say "KEY_ID initiator: up"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 ||
    fail "terminate failed"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"

# A DN that the secrets file does not name.
use_id "C=CH, O=example, CN=mallory"
! swanctl_ "$T/init" --initiate --child net --timeout 10 \
    >"$T/init-bad.log" 2>&1 || fail "an unknown DN authenticated"
wait_log "$T/srv.log" "no PSK for the peer's identity" 5 ||
    fail "server did not log the unknown DN"
say "unknown DN refused"
ok
