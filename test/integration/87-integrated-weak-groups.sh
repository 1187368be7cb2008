#!/usr/bin/env bash
# MODP groups 2 and 5 are off unless a section says allow-weak-dh = yes.
# The initiator stands for Windows' built-in IKEv2 client with its default
# policy: IKE aes256-sha1-modp1024 (AES-CBC-256, HMAC-SHA1-96, PRF-HMAC-SHA1,
# MODP 1024) and ESP aes256-sha1, nothing else; unmodified strongSwan
# (kernel-libipsec) through the connector.  The server's lists are written
# as strongSwan writes them, with a blank (a space, a tab) after commas.
#  1. -t refuses modp1024 without the opt-in, at its file:line, with the
#     hint; it takes the same file with allow-weak-dh = yes; it names an
#     unknown algorithm in a spaced list at its line.
#  2. Without the opt-in the server answers NO_PROPOSAL_CHOSEN and logs it.
#  3. With it the server warns at start naming the section and the group,
#     the IKE SA comes up on MODP_1024 with SHA1, the Child SA on
#     AES_CBC-256/HMAC_SHA1_96, pings pass; a SIGHUP says the warning again.
. "$(dirname "$0")/lib.sh"

WIN_IKE=aes256-sha1-modp1024
WIN_ESP=aes256-sha1
IKE_ALG=AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024
ESP_ALG=AES_CBC-256/HMAC_SHA1_96

integ_topo

# 1. -t: refused at the line that names modp1024, then accepted.
printf 'initiator.test : PSK "iketcp-integration-test-psk"\n' >"$T/t.secrets"
chmod 600 "$T/t.secrets"
cat >"$T/t.conf" <<EOF
[integrated vpn]
listen = 127.0.0.1:4500
id = responder.test
secrets = $T/t.secrets
pool = 10.10.0.0/24
ike-proposals = aes256gcm16-prfsha384-x25519, $WIN_IKE
EOF
rc=0
timeout 10 "$IKETCPD" -t -f "$T/t.conf" >"$T/t.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-t without allow-weak-dh: exit $rc: $(cat "$T/t.log")"
grep -qF "$T/t.conf:6: [integrated vpn]: ike-proposals names modp1024" \
    "$T/t.log" || fail "-t: no file:line for modp1024: $(cat "$T/t.log")"
grep -qF "add allow-weak-dh = yes" "$T/t.log" ||
    fail "-t: no hint: $(cat "$T/t.log")"
echo "allow-weak-dh = yes" >>"$T/t.conf"
timeout 10 "$IKETCPD" -t -f "$T/t.conf" >"$T/t2.log" 2>&1 ||
    fail "-t with allow-weak-dh: $(cat "$T/t2.log")"
say "-t: modp1024 refused at line 6 without allow-weak-dh, taken with it"
# An unknown algorithm in a spaced list: refused by -t at its line, named.
sed -i 's/^ike-proposals = .*/ike-proposals = aes256-sha256-modp2048, aes257-sha1-modp1024/' \
    "$T/t.conf"
rc=0
timeout 10 "$IKETCPD" -t -f "$T/t.conf" >"$T/t3.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-t with aes257: exit $rc: $(cat "$T/t3.log")"
grep -qF "$T/t.conf:6: [integrated vpn]: bad ike-proposals: proposal 2 'aes257-sha1-modp1024': unknown algorithm 'aes257'" \
    "$T/t3.log" || fail "-t: aes257 not named at line 6: $(cat "$T/t3.log")"

# 2. Without the opt-in: NO_PROPOSAL_CHOSEN.
TAB=$'\t'
INTEG_PROPOSALS="aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048" \
INTEG_ESP="aes256gcm16,${TAB}aes256-sha256" \
    integ_server_up srv
grep -q "allow-weak-dh" "$T/srv.log" && fail "weak warning without opt-in"
connector_up cn
INIT_PROPOSALS=$WIN_IKE INIT_ESP=$WIN_ESP initiator_start
grep -q "proposals = $WIN_IKE\$" "$T/init/swanctl/swanctl.conf" ||
    fail "initiator not configured for $WIN_IKE"
if swanctl_ "$T/init" --initiate --child net --timeout 15 \
    >"$T/initiate-refused.log" 2>&1; then
	fail "$WIN_IKE came up without allow-weak-dh"
fi
wait_log "$T/init/charon.log" "NO_PROPOSAL_CHOSEN" 5 ||
    fail "strongSwan did not see NO_PROPOSAL_CHOSEN"
wait_log "$T/srv.log" "no acceptable proposal" 5 ||
    fail "server did not log the refusal"
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -q ESTABLISHED <<<"$sas" && fail "an IKE SA is up after NO_PROPOSAL_CHOSEN"
say "without allow-weak-dh: $WIN_IKE refused with NO_PROPOSAL_CHOSEN"
relay_sigterm

# 3. With it: a warning, then the tunnel.
INTEG_PROPOSALS="aes256gcm16-prfsha384-x25519, ${WIN_IKE} ,${TAB}aes256-sha256-modp2048" \
INTEG_ESP="aes256gcm16, $WIN_ESP" \
    integ_server_up srv2 allow-weak-dh=yes
grep -q "integrated vpn: allow-weak-dh: accepting weak key exchange modp1024" \
    "$T/srv2.log" || fail "no warning at start: $(cat "$T/srv2.log")"
tunnel_up
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -q "ESTABLISHED" <<<"$sas" || fail "not ESTABLISHED: $sas"
grep -qF "$IKE_ALG" <<<"$sas" || fail "IKE SA not $IKE_ALG: $sas"
grep -E "INSTALLED" <<<"$sas" | grep -qF "$ESP_ALG" ||
    fail "Child SA not $ESP_ALG: $sas"
wait_log "$T/srv2.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
ping_tunnel 5
say "allow-weak-dh = yes: $IKE_ALG up in $IKE_MS ms, ping $PING_RTT ms"

before=$(count_log "$T/srv2.log" "allow-weak-dh: accepting weak")
kill -HUP "$RELAY_DPID"
wait_log "$T/srv2.log" "reloaded" 5 || fail "no reload"
[ "$(count_log "$T/srv2.log" "allow-weak-dh: accepting weak")" -gt \
    "$before" ] || fail "no warning on reload"
ping_tunnel 3
say "SIGHUP: the warning again, the tunnel still up"
ok
