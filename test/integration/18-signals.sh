#!/usr/bin/env bash
# SIGHUP re-reads the configuration: a live stream keeps working, new
# streams get the new settings (max-message 65533 -> 1000).  SIGTERM makes
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
