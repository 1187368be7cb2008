#!/usr/bin/env bash
# SIGHUP with an [integrated] section: the secrets file is read again and
# new IKE_AUTHs use it, while a live IKE SA keeps its keys and traffic;
# a change to a key read at start only (tun), or a secrets file that became
# readable by others, refuses the whole reload with file:line, and the
# daemon carries on with what it runs.
. "$(dirname "$0")/lib.sh"

PSK_A=iketcp-reload-test-first-key
PSK_B=iketcp-reload-test-second-key

integ_topo

printf 'initiator.test : PSK "%s"\n' "$PSK_A" >"$T/ipsec.secrets"
chmod 600 "$T/ipsec.secrets"
srv_conf()
{
	cat >"$T/srv.conf" <<EOC
[global]
log-level = debug

[integrated vpn]
listen = $RELAY_C_ADDR:4500
id = responder.test
secrets = $T/ipsec.secrets
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
tun = ${1:-iketcp0}
EOC
}
srv_conf
relay_start srv "$T/srv.conf" 4500 R
connector_up cn reconnect-min=100ms reconnect-max=2s
GW_PSK=$PSK_A initiator_start
tunnel_up
ping_tunnel 5
spis=$(ike_spis)

# hup N PATTERN: SIGHUP, then wait for PATTERN as the Nth such line.
hup()
{
	kill -HUP "$RELAY_DPID"
	wait_log "$T/srv.log" "$1" 5 || fail "after SIGHUP: no '$1'"
	kill -0 "$RELAY_DPID" 2>/dev/null || fail "daemon died on SIGHUP"
}

# A start-only key changed: refused, named with its section's line.
srv_conf iketcp9
hup "srv.conf:4: \\[integrated vpn\\]: tun changed, but it is read at start only"
wait_log "$T/srv.log" "reload of .*srv.conf failed; keeping" 5 ||
    fail "refused reload not reported"
ping_tunnel 5
say "tun change refused, tunnel carries on"

# A secrets file readable by others: refused too, the old keys stay.
srv_conf
chmod 644 "$T/ipsec.secrets"
n=$(grep -c "failed; keeping" "$T/srv.log")
kill -HUP "$RELAY_DPID"
for _ in $(seq 50); do
	[ "$(grep -c "failed; keeping" "$T/srv.log")" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "failed; keeping" "$T/srv.log")" -gt "$n" ] ||
    fail "world-readable secrets file not refused on SIGHUP"
grep -q "ipsec.secrets.*\\(readable\\|permission\\|mode\\)" "$T/srv.log" ||
    fail "no reason for refusing the secrets file"
chmod 600 "$T/ipsec.secrets"

# The key changes on the server: accepted; the live SA is untouched.
printf 'initiator.test : PSK "%s"\n' "$PSK_B" >"$T/ipsec.secrets"
hup "integrated vpn: 1 secrets in use"
wait_log "$T/srv.log" "reloaded .*srv.conf" 5 || fail "no 'reloaded' line"
ping_tunnel 5
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed on SIGHUP"
say "secrets reloaded, live IKE SA kept"

# A new IKE_AUTH with the old key is refused, with the new key accepted.
swanctl_ "$T/init" --terminate --ike home --timeout 10 >"$T/term.log" 2>&1 ||
    fail "terminate failed: $(cat "$T/term.log")"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"
! swanctl_ "$T/init" --initiate --child net --timeout 10 \
    >"$T/init-old.log" 2>&1 || fail "the old PSK still authenticates"
wait_log "$T/srv.log" "AUTH of the peer does not verify" 5 ||
    fail "server did not log the refused old key"
sed -i "s/$PSK_A/$PSK_B/" "$T/init/swanctl/swanctl.conf"
swanctl_ "$T/init" --load-creds --noprompt >/dev/null 2>&1 ||
    fail "load-creds failed"
tunnel_up
ping_tunnel 5
say "old key refused, new key accepted after SIGHUP"
ok
