#!/usr/bin/env bash
# Limits, each on its own relay (three daemons, one gateway):
#   max-per-source = 2: a third concurrent stream from one IP is closed at
#     once while the first two keep working;
#   idle-timeout = 2s: an idle stream is closed after 1..6 s;
#   handshake-timeout = 2s: a stream that sends no prefix (or half of one)
#     is closed after 1..6 s.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up perip 4501 max-per-source=2
relay_up idle 4502 idle-timeout=2s
relay_up hs 4503 handshake-timeout=2s

# Idle and handshake run in the background meanwhile.
client_bg I init --connect 127.0.0.1:4502 --keep-open 12
client_bg H0 raw --connect 127.0.0.1:4503 --wait 12 --expect-close
client_bg H1 raw --connect 127.0.0.1:4503 --hex 494b45 --wait 12 \
    --expect-close

client_bg A init --connect 127.0.0.1:4501 --count 2 --interval 2
client_bg B init --connect 127.0.0.1:4501 --count 2 --interval 2
sleep 1
out=$(ikeclient R raw --connect 127.0.0.1:4501 --prefix iketcp --wait 4 \
    --expect-close) || fail "third stream from one IP not closed: $out"
between "$(jget closed_after <<<"$out")" 0 1 ||
    fail "third stream closed only after $(jget closed_after <<<"$out") s"
client_wait A || fail "A: $(client_json A)"
client_wait B || fail "B: $(client_json B)"
# Once they are gone, a new stream is accepted again.
sleep 0.5
ikeclient R init --connect 127.0.0.1:4501 >/dev/null ||
    fail "no stream accepted after the first two closed"

client_wait I || fail "I: $(client_json I)"
[ "$(client_json I | jget closed_while_open)" = true ] ||
    fail "idle stream not closed: $(client_json I)"
between "$(client_json I | jget closed_after)" 1 6 ||
    fail "idle stream closed after $(client_json I | jget closed_after) s"

for h in H0 H1; do
	client_wait "$h" || fail "$h: stream without prefix not closed"
	between "$(client_json "$h" | jget closed_after)" 1 6 ||
	    fail "$h closed after $(client_json "$h" | jget closed_after) s"
done
say "idle closed after $(client_json I | jget closed_after) s," \
    "no prefix after $(client_json H0 | jget closed_after) s"
ok
