#!/usr/bin/env bash
# Reload with workers (issue 13): the workers run as nobody, the TLS key
# and the secrets file are root's alone (mode 600), and SIGHUP comes
# after the drop.  The master reads them as root and hands the bytes and
# the sockets it bound to the workers, so the reload takes: the new
# certificate is served (openssl s_client), a new listener on port 443
# (below 1024) is bound and serves, a new IKE_AUTH takes the new PSK
# while the live IKE SA carries on.  A reload with a broken key fails as
# a whole: the port it would add stays closed, the old certificate and
# the tunnel carry on.  The master keeps only the capabilities it needs.
. "$(dirname "$0")/lib.sh"

PSK_A=iketcp-workers-reload-first-key
PSK_B=iketcp-workers-reload-second-key
integ_topo
tls_cert one one.test
tls_cert two two.test
cp "$T/one.crt" "$T/tls.crt"
cp "$T/one.key" "$T/tls.key"
printf 'initiator.test : PSK "%s"\n' "$PSK_A" >"$T/ipsec.secrets"
chmod 600 "$T/tls.key" "$T/ipsec.secrets"
# srv_conf [MORE LISTEN LINES]: the configuration, root's alone too.
srv_conf()
{
	cat >"$T/srv.conf" <<EOC
[global]
log-level = debug
workers = 2
user = nobody
group = nogroup

[integrated vpn]
listen = $RELAY_C_ADDR:4500
tls-listen = $RELAY_C_ADDR:4443
${1:-}
tls-cert = $T/tls.crt
tls-key = $T/tls.key
id = responder.test
secrets = $T/ipsec.secrets
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
local-ts = 0.0.0.0/0
tun = iketcp0
EOC
	chmod 600 "$T/srv.conf"
}
srv_conf
relay_start srv "$T/srv.conf" 4500 R
wait_log "$T/srv.log" "started with 2 workers" 10 || fail "workers not up"
read -r -a kids <"/proc/$RELAY_DPID/task/$RELAY_DPID/children" || true
[ "${#kids[@]}" = 2 ] || fail "master $RELAY_DPID has children '${kids[*]}'"
for k in "${kids[@]}"; do
	uid=$(awk '/^Uid:/ { print $3 }' "/proc/$k/status")
	[ "$uid" = 65534 ] || fail "worker $k runs as uid $uid, not nobody"
done
# The master: root's user id, five capabilities (NET_BIND_SERVICE 10,
# DAC_READ_SEARCH 2, SETUID 7, SETGID 6, KILL 5).
caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$RELAY_DPID/status")
[ "$((16#$caps))" = $(((1 << 10) | (1 << 2) | (1 << 7) | (1 << 6) | (1 << 5))) ] ||
    fail "master's effective capabilities $caps"
say "workers ${kids[*]} as nobody, master with capabilities $caps"

# subject PORT: the CN the TLS listener on PORT shows.
subject()
{
	s_client R -connect "$RELAY_C_ADDR:$1" -servername vpn.test \
	    </dev/null 2>/dev/null | sed -nE 's/^subject=.*CN ?= ?([^,/]+).*/\1/p'
}
[ "$(subject 4443)" = one.test ] || fail "before: not one.test on 4443"

connector_up cn
GW_PSK=$PSK_A initiator_start
tunnel_up
ping_tunnel 3
spis=$(ike_spis)

# The new key, certificate and secrets, root's alone, and port 443.
cp "$T/two.crt" "$T/tls.crt"
cp "$T/two.key" "$T/tls.key"
printf 'initiator.test : PSK "%s"\n' "$PSK_B" >"$T/ipsec.secrets"
chmod 600 "$T/tls.key" "$T/ipsec.secrets"
srv_conf "tls-listen = $RELAY_C_ADDR:443"
kill -HUP "$RELAY_DPID"
wait_log "$T/srv.log" "reloaded .*srv.conf" 10 || fail "no 'reloaded' line"
grep -q "failed" "$T/srv.log" && fail "a part of the reload failed"
wait_log "$T/srv.log" "worker 0: integrated vpn: 1 secrets in use" 3 ||
    fail "the section's worker did not take the secrets"
wait_tcp_listen R 443 3 || fail "port 443 is not bound after the reload"
[ "$(subject 443)" = two.test ] || fail "port 443 does not serve two.test"
[ "$(subject 4443)" = two.test ] || fail "4443 still shows the old certificate"
ping_tunnel 3
[ "$(ike_spis)" = "$spis" ] || fail "the IKE SA changed across the reload"
say "reloaded: two.test on 4443 and on the new port 443, IKE SA kept"

# A new IKE_AUTH: the old PSK refused, the new one accepted.
swanctl_ "$T/init" --terminate --ike home --timeout 10 >"$T/term.log" 2>&1 ||
    fail "terminate failed: $(cat "$T/term.log")"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"
! swanctl_ "$T/init" --initiate --child net --timeout 10 \
    >"$T/init-old.log" 2>&1 || fail "the old PSK still authenticates"
sed -i "s/$PSK_A/$PSK_B/" "$T/init/swanctl/swanctl.conf"
swanctl_ "$T/init" --load-creds --noprompt >/dev/null 2>&1 ||
    fail "load-creds failed"
tunnel_up
ping_tunnel 3
say "old PSK refused, new PSK accepted"

# A broken key: the whole reload fails, port 444 is not left open, and
# everything keeps running as before.
printf 'not a key\n' >"$T/tls.key"
cp "$T/one.crt" "$T/tls.crt"
srv_conf "tls-listen = $RELAY_C_ADDR:443
tls-listen = $RELAY_C_ADDR:444"
n=$(count_log "$T/srv.log" "reloaded ")
kill -HUP "$RELAY_DPID"
wait_log "$T/srv.log" "reload of .*srv.conf failed; keeping the running configuration" 10 ||
    fail "a broken key was not refused"
grep -qE "srv.conf:[0-9]+: \\[(relay|integrated) vpn\\]: .*key" "$T/srv.log" ||
    fail "no file:line reason for the broken key"
[ "$(count_log "$T/srv.log" "reloaded ")" = "$n" ] ||
    fail "the log says reloaded although the key failed"
[ -z "$(ns_exec R ss -Hltn 'sport = :444')" ] ||
    fail "port 444 left open by a failed reload"
[ "$(subject 4443)" = two.test ] || fail "the running certificate changed"
[ "$(subject 443)" = two.test ] || fail "port 443 changed"
ping_tunnel 3
kill -0 "${kids[0]}" && kill -0 "${kids[1]}" || fail "a worker died"
say "broken key: reload refused whole, two.test and the tunnel carry on"
ok
