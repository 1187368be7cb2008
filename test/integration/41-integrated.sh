#!/usr/bin/env bash
# Unmodified strongSwan initiator -> iketcpd connector (UDP 500/4500) ->
# TCP stream -> iketcpd as the integrated server: it is the IKEv2
# responder (PSK, virtual IP from its pool) and the ESP data plane on its
# own TUN device.  The IKE SA comes up with an address from the pool and
# pings from the initiator to the server's TUN address (the pool's first
# address) come back through the tunnel; the initiator's Delete ends the
# server's session.  In between, the stream is reset and the new one
# re-attaches to the session, and a stream forging the SA's next request
# from another address gets nothing.
. "$(dirname "$0")/lib.sh"

PSK=iketcp-integrated-test-psk

integ_topo
GW_PSK=$PSK integ_server_up srv
# An integrated section has no gateway and its sessions no UDP port.
grep -q "integrated vpn: listening on $RELAY_C_ADDR:4500\$" "$T/srv.log" ||
    fail "no 'integrated vpn: listening on' line"

connector_up cn reconnect-min=100ms reconnect-max=2s
# MOBIKE off, as integ_server_up set it (test 46 covers MOBIKE).
GW_PSK=$PSK initiator_start

tunnel_up
say "IKE_SA + CHILD_SA + virtual IP in $IKE_MS ms"
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -q "ESTABLISHED" <<<"$sas" || fail "IKE SA not ESTABLISHED: $sas"
vip=$(grep -oE 'local .*\[initiator.test\]|10\.10\.0\.[0-9]+' <<<"$sas" |
    grep -oE '10\.10\.0\.[0-9]+' | head -1)
[ -n "$vip" ] || fail "no virtual IP from the pool: $sas"
say "virtual IP $vip"
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
! grep -q "lport 0" "$T/srv.log" || fail "lport 0 in the server's log"

ping_tunnel 10
say "ping RTT through the tunnel: $PING_RTT ms"

# RFC 9329 §6: the stream is killed; the connector reconnects and the
# server re-attaches the new stream to the session by SPI.
spis=$(ike_spis)
ns_exec C ss -K dst "$RELAY_C_ADDR" dport = :4500 >/dev/null ||
    fail "ss -K failed"
wait_log "$T/cn.log" "stream 2 to .* up" 5 || fail "connector did not reconnect"
ping_tunnel 5
wait_log "$T/srv.log" "session re-attached" 5 ||
    fail "server did not re-attach the new stream"
[ "$(ike_spis)" = "$spis" ] || fail "IKE SA changed: $spis -> $(ike_spis)"
say "re-attached after a reset; ping $PING_RTT ms"

# Another address names the SA by its SPI pair, with a forged request of
# the next message IDs (RFC 9329 section 10): the server holds the keys,
# so it is a probe that ike/ never authenticates; it receives nothing and
# the client's stream stays the owner.
spi_i=${spis%_*} spi_r=${spis#*_}
forged=00000000${spi_i}${spi_r}2e20250800000010000000402300002400$(printf '0%.0s' $(seq 62))
outA=$(ikeclient R raw --connect "$RELAY_C_ADDR:4500" --prefix iketcp \
    --hex "0046$forged" --wait 2 --expect-open) || fail "attacker: $outA"
wait_log "$T/srv.log" "re-attach by IKE SPI $spi_i.*to be proven" 5 ||
    fail "server: the forged stream was not a probe"
[ "$(jget received <<<"$outA")" = 0 ] ||
    fail "an unproven stream received $(jget received <<<"$outA") bytes"
! grep -q "replaced by a stream that proved" "$T/srv.log" ||
    fail "the forged stream took the session"
ping_tunnel 3
say "forged request on another stream: probe, nothing delivered, owner kept"

# The initiator deletes its IKE SA: the server answers and ends the session.
swanctl_ "$T/init" --terminate --ike home --timeout 10 >"$T/term.log" 2>&1 ||
    fail "terminate failed: $(cat "$T/term.log")"
wait_log "$T/srv.log" "IKE_SA deleted" 5 || fail "server: IKE SA not deleted"
wait_log "$T/srv.log" "closed \\(session closed\\)" 5 ||
    fail "server: session not ended"
kill -USR1 "$RELAY_DPID"
wait_log "$T/srv.log" "stats: integrated" 5 || fail "no stats"
say "server: $(grep -o 'stats: integrated.*' "$T/srv.log" | tail -1)"
ok
