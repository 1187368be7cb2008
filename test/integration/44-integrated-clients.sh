#!/usr/bin/env bash
# Three unmodified strongSwan initiators at once, each in its own
# namespace with its own connector and identity (its own PSK in the
# server's secrets file), against one integrated iketcpd: each gets a
# distinct virtual IP and pings the server's TUN address.  A client that
# sends from another client's virtual IP gets no reply, and authentic ESP
# with that inner source (made with client 1's key) is dropped by the
# server and counted.  A fourth
# initiator with a wrong PSK is refused: strongSwan sees
# AUTHENTICATION_FAILED and the server logs the peer's address, its
# identity and the reason; so
# is an identity the secrets file does not list.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
ns_new R
INTEG_SECRETS=
listen=
for i in 1 2 3 4; do
	ns_new "C$i"
	link_add "C$i" "198.51.10$i.1/24" R "198.51.10$i.2/24"
	ip -n "$(ns "C$i")" addr add "$CN_ADDR/32" dev lo
	listen="$listen 198.51.10$i.2:4500"
	[ "$i" = 4 ] && continue
	INTEG_SECRETS="${INTEG_SECRETS}client$i.test : PSK \"psk-of-client-$i\"
"
done
INTEG_SECRETS="${INTEG_SECRETS}client4.test : PSK \"psk-of-client-4\""
# The server logs at its default level, info: a refusal must show there.
INTEG_LOG_LEVEL=info INTEG_LISTEN=$listen integ_server_up srv

# client I [PSK]: connector and initiator in C<I>.
client()
{
	local i=$1
	CN_NS=C$i connector_up "cn$i" "server=198.51.10$i.2:4500"
	SWAN_LOG_EXTRA="chd = 4" GW_PEER_ID=client$i.test \
	    GW_PSK=${2:-psk-of-client-$i} INIT_NS=C$i \
	    INIT_DIR=$T/init$i INIT_ADDR=198.51.10$i.1 initiator_start
}

declare -A VIP
for i in 1 2 3; do
	client "$i"
done
# All three initiate at the same moment.
pids=()
for i in 1 2 3; do
	(INIT_DIR=$T/init$i tunnel_up) &
	pids+=("$!")
done
for i in 1 2 3; do
	wait "${pids[i - 1]}" || fail "client $i: initiate failed"
done
for i in 1 2 3; do
	sas=$(swanctl_ "$T/init$i" --list-sas 2>&1)
	grep -q ESTABLISHED <<<"$sas" || fail "client $i: not ESTABLISHED: $sas"
	VIP[$i]=$(ip -n "$(ns "C$i")" -4 -o addr show |
	    grep -oE '10\.10\.0\.[0-9]+' | head -1)
	[ -n "${VIP[$i]}" ] || fail "client $i: no virtual IP: $sas"
	PING_NS=C$i ping_tunnel 5
	say "client $i: virtual IP ${VIP[$i]}, ping $PING_RTT ms"
done
[ "$(printf '%s\n' "${VIP[@]}" | sort -u | wc -l)" = 3 ] ||
    fail "virtual IPs not distinct: ${VIP[*]}"
[ "$(count_log "$T/srv.log" "CHILD_SA up")" = 3 ] || fail "server: not 3 CHILD_SAs"

# Client 1 sends from client 2's address: nothing comes back (its own
# strongSwan does not even send it: the Child SA is narrowed to its VIP).
ip -n "$(ns C1)" addr add "${VIP[2]}/32" dev lo
if ns_exec C1 ping -n -c 3 -i 0.2 -W 1 -I "${VIP[2]}" "$SVC_ADDR" \
    >"$T/spoof.log" 2>&1; then
	fail "a reply to client 1 sending as client 2: $(cat "$T/spoof.log")"
fi

# So ESP that client 1's Child SA authenticates (its key from charon's
# log) is made here and sent from its NAT-T port to its connector: with
# its own inner source the server takes it (to the TUN), with client 2's
# it drops every one.
sas=$(swanctl_ "$T/init1" --list-sas 2>&1)
spi=$(sed -nE 's/^ *out ([0-9a-f]{8}),.*/\1/p' <<<"$sas")
pk=$(sed -nE 's/^ *out [0-9a-f]{8}, *[0-9]+ bytes, *([0-9]+) packets.*/\1/p' \
    <<<"$sas")
key=$(grep -A3 "encryption initiator key" "$T/init1/charon.log" |
    sed -nE 's/.*CHD\] <[^>]*> +[0-9]+: (([0-9A-F]{2} )+) .*/\1/p' |
    tr -d ' \n')
if [ -z "$spi" ] || [ -z "$pk" ] || [ "${#key}" != 72 ]; then
	fail "client 1's Child SA: spi '$spi', packets '$pk', key '$key'"
fi
# inject SEQ SRC COUNT
inject()
{
	ns_exec C1 "$IKT_PY" "$IKT_DIR/espinject.py" "$key" "$spi" "$1" "$2" \
	    "$SVC_ADDR" 198.51.101.1 4510 "$CN_ADDR" 4500 "$3" ||
	    fail "espinject failed"
}
d0=$(integ_esp_drops srv)
r0=$(integ_tun_rx)
inject $((pk + 100)) "${VIP[1]}" 2
sleep 0.5
d1=$(integ_esp_drops srv)
r1=$(integ_tun_rx)
[ "$d1" = "$d0" ] || fail "made ESP from client 1's own VIP dropped ($d0 -> $d1)"
[ "$r1" -ge $((r0 + 2)) ] || fail "made ESP from client 1's own VIP not on the TUN"
inject $((pk + 200)) "${VIP[2]}" 5
sleep 0.5
d2=$(integ_esp_drops srv)
r2=$(integ_tun_rx)
[ "$d2" = $((d1 + 5)) ] ||
    fail "client 1 sending as client 2: dropped $((d2 - d1)) of 5"
[ "$r2" = "$r1" ] || fail "client 1 sending as client 2 reached the TUN"
say "spoofed inner source: 5 of 5 dropped (esp dropped inbound $d1 -> $d2)"
PING_NS=C1 ping_tunnel 3
PING_NS=C2 ping_tunnel 3

# A wrong PSK: refused.
client 4 not-the-psk
if swanctl_ "$T/init4" --initiate --child net --timeout 15 \
    >"$T/initiate4.log" 2>&1; then
	fail "client 4 with a wrong PSK came up"
fi
wait_log "$T/init4/charon.log" "AUTHENTICATION_FAILED" 5 ||
    fail "strongSwan did not see AUTHENTICATION_FAILED"
wait_log "$T/srv.log" "198\.51\.104\.1:[0-9]+.*authentication of fqdn:client4\.test refused: AUTH of the peer does not verify" 5 ||
    fail "server: the refusal is not logged with the peer, its identity and the reason"
say "server: $(grep -o "198\.51\.104\.1:.*AUTH of the peer.*" "$T/srv.log")"

# An identity the secrets file does not list: refused the same way.
sed -i 's/client4\.test/nobody.test/g' "$T/init4/swanctl/swanctl.conf"
swanctl_ "$T/init4" --load-all --noprompt >"$T/load4.log" 2>&1 ||
    fail "reload: $(cat "$T/load4.log")"
before=$(count_log "$T/init4/charon.log" "AUTHENTICATION_FAILED")
if swanctl_ "$T/init4" --initiate --child net --timeout 15 \
    >"$T/initiate4b.log" 2>&1; then
	fail "an unknown identity came up"
fi
[ "$(count_log "$T/init4/charon.log" "AUTHENTICATION_FAILED")" -gt \
    "$before" ] || fail "unknown identity: no AUTHENTICATION_FAILED"
wait_log "$T/srv.log" "198\.51\.104\.1:[0-9]+.*authentication of fqdn:nobody\.test refused: no PSK for the peer's identity" 5 ||
    fail "server: the unknown identity is not logged with the peer and its identity"
say "server: $(grep -o "198\.51\.104\.1:.*no PSK.*" "$T/srv.log")"
[ "$(count_log "$T/srv.log" "CHILD_SA up")" = 3 ] ||
    fail "server: a refused initiator got a CHILD_SA"
ok
