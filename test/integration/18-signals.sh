#!/usr/bin/env bash
# SIGHUP re-reads the configuration: a live stream keeps working, new
# streams get the new settings (max-message 65533 -> 1000); a reload
# with a port that cannot be bound is refused whole.  SIGTERM makes
# the daemon exit 0 promptly.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500
[ -n "$RELAY_DPID" ] || fail "no daemon PID"

# Before: a 2000-byte frame is fine.
out=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --frame-len 2000 --wait 1 --expect-open) ||
    fail "2000-byte frame closed before the reload: $out"

# A live stream across the reload: IKE_SA_INIT now and 3 s later.
client_bg A init --connect 127.0.0.1:4500 --count 2 --interval 3
sleep 0.8
relay_conf "$T/relay.conf" listen=127.0.0.1:4500 max-message=1000
kill -HUP "$RELAY_DPID"
sleep 0.7
kill -0 "$RELAY_DPID" 2>/dev/null || fail "daemon died on SIGHUP"

out=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --frame-len 2000 --wait 3 --expect-close) ||
    fail "new stream did not get max-message 1000 after SIGHUP: $out"
ikeclient R init --connect 127.0.0.1:4500 >/dev/null ||
    fail "new stream after SIGHUP does not work"
client_wait A || fail "live stream broke across SIGHUP: $(client_json A)"

# A reload whose new port cannot be bound fails as a whole: the port it
# could bind (4601) is not left open, the running settings stay
# (max-message 1000), and the log says so instead of "reloaded".
bg holder 30 ip netns exec "$(ns R)" "$IKT_PY" -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 4600)); s.listen(); time.sleep(30)'
wait_tcp_listen R 4600 5 || fail "port holder did not start"
reloads=$(count_log "$T/relay.log" "reloaded ")
relay_conf "$T/relay.conf" listen=127.0.0.1:4500 listen=127.0.0.1:4601 \
    listen=127.0.0.1:4600
kill -HUP "$RELAY_DPID"
wait_log "$T/relay.log" "reload of .* failed; keeping" 5 ||
    fail "a reload with an unbindable port was not refused"
grep -q "listen on 127.0.0.1:4600: Address already in use" "$T/relay.log" ||
    fail "no clear message for the unbindable port"
[ "$(count_log "$T/relay.log" "reloaded ")" = "$reloads" ] ||
    fail "log says reloaded although a port failed"
open4601=$(ip netns exec "$(ns R)" ss -Hltn 'sport = :4601')
[ -z "$open4601" ] || fail "port 4601 left open by a failed reload"
out=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --frame-len 2000 --wait 3 --expect-close) ||
    fail "failed reload changed the running max-message: $out"
# Once the port is free the same new port is taken by a reload.
relay_conf "$T/relay.conf" listen=127.0.0.1:4500 listen=127.0.0.1:4601 \
    max-message=1000
kill -HUP "$RELAY_DPID"
wait_tcp_listen R 4601 5 || fail "reload did not bind the new port"
ikeclient R init --connect 127.0.0.1:4601 >/dev/null ||
    fail "no service on the port a reload added"

# A bad file on SIGHUP keeps the running configuration.
printf 'this is not a configuration\n' >"$T/relay.conf"
kill -HUP "$RELAY_DPID"
sleep 0.5
kill -0 "$RELAY_DPID" 2>/dev/null || fail "daemon died on a bad reload"
ikeclient R init --connect 127.0.0.1:4500 >/dev/null ||
    fail "no service after a rejected reload"

# SIGTERM: exit 0 within 3 s.
relay_sigterm
ok
