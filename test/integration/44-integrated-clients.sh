#!/usr/bin/env bash
# Three unmodified strongSwan initiators at once, each in its own
# namespace with its own connector and identity (its own PSK in the
# server's secrets file), against one integrated iketcpd: each gets a
# distinct virtual IP and pings the server's TUN address.  A client that
# sends from another client's virtual IP gets no reply.  A fourth
# initiator with a wrong PSK is refused: strongSwan sees
# AUTHENTICATION_FAILED and the server logs the peer and the reason.
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
	GW_PEER_ID=client$i.test GW_PSK=${2:-psk-of-client-$i} INIT_NS=C$i \
	    INIT_DIR=$T/init$i INIT_ADDR=198.51.10$i.1 initiator_start
}

declare -A VIP
for i in 1 2 3; do
	client "$i"
done
for i in 1 2 3; do
	INIT_DIR=$T/init$i tunnel_up
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

# Client 1 sends from client 2's address: nothing comes back to either.
ip -n "$(ns C1)" addr add "${VIP[2]}/32" dev lo
if ns_exec C1 ping -n -c 3 -i 0.2 -W 1 -I "${VIP[2]}" "$SVC_ADDR" \
    >"$T/spoof.log" 2>&1; then
	fail "a reply to client 1 sending as client 2: $(cat "$T/spoof.log")"
fi
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
wait_log "$T/srv.log" "198\.51\.104\.1:[0-9]+.*AUTH of the peer does not verify" 5 ||
    fail "server: the refusal is not logged with the peer and the reason"
say "server: $(grep -o "198\.51\.104\.1:.*AUTH of the peer.*" "$T/srv.log")"
ok
