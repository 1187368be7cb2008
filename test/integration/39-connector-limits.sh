#!/usr/bin/env bash
# The connector's bounds and its two UDP forms, with a scripted initiator
# (ikeclient) instead of strongSwan:
#   - IKE_SA_INIT to port 500 (bare) gets a bare answer, to port 4500 (with
#     the Non-ESP marker) an answer with the marker, through the relay;
#   - max-sessions = 2: a third initiator is refused and counted;
#   - idle-timeout = 2s: sessions end and are logged with their counters;
#   - SIGHUP leaves the connector as it is, with a warning;
#   - handshake-timeout = 1s: a server that accepts TCP but never answers
#     (a silent "proxy") is dropped and retried with back-off.
. "$(dirname "$0")/lib.sh"

topo_connector
relay_for_connector relay
connector_up cn max-sessions=2 idle-timeout=2s

out=$(ikeclient C udp --to "$CN_ADDR:500") || fail "port 500: $out"
say "port 500: answer in $(jget rtt_ms <<<"$out") ms, SPIr $(jget spi_r <<<"$out")"
out=$(ikeclient C udp --to "$CN_ADDR:4500") || fail "port 4500: $out"
say "port 4500: answer in $(jget rtt_ms <<<"$out") ms (marker kept)"
out=$(ikeclient C udp --to "$CN_ADDR:500" --timeout 2) &&
    fail "a third session was served: $out"
st=$(kill -USR1 "$CN_DPID"; sleep 0.3; grep "refused (max-sessions)" "$T/cn.log" | tail -n 1)
grep -q "refused (max-sessions) 1," <<<"$st" || fail "not refused: $st"
wait_log "$T/cn.log" "session 1: closed \(idle timeout\)" 5 ||
    fail "session 1 did not end after idle-timeout"
closed1=$(grep -E "session 1: closed" "$T/cn.log")
grep -q "up 1 msgs/.* down 1 msgs" <<<"$closed1" ||
    fail "session 1's counters: $(grep "session 1: closed" "$T/cn.log")"
wait_log "$T/cn.log" "session 2: closed \(idle timeout\)" 5 ||
    fail "session 2 did not end"
# With both gone, a new initiator is served again.
ikeclient C udp --to "$CN_ADDR:500" >/dev/null || fail "not served after idle"
# SIGHUP: connectors are not reloaded, say so, and keep serving.
kill -HUP "$CN_DPID"
wait_log "$T/cn.log" "connector\] sections are read at start only" 5 ||
    fail "no reload warning"
ikeclient C udp --to "$CN_ADDR:4500" >/dev/null || fail "not served after HUP"

# A silent server: accepts, never sends, never reads the prefix back.
bg silent "$IKT_LIFE" ip netns exec "$(ns C)" "$IKT_PY" -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 3129)); s.listen(8)
conns = []
while True:
	c, _ = s.accept(); conns.append(c)'
wait_tcp_listen C 3129 5 || fail "silent server did not start"
cat >"$T/slow.conf" <<EOF2
[global]
log-level = debug
[connector slow]
udp-listen = 127.0.0.1:4500
server = $RELAY_C_ADDR:443
http-proxy = 127.0.0.1:3129
handshake-timeout = 1s
reconnect-min = 200ms
EOF2
bg slow "$IKT_LIFE" ip netns exec "$(ns C)" "$IKETCPD" -d -f "$T/slow.conf"
for _ in $(seq 50); do
	ns_exec C ss -Hlun "sport = :4500" | grep -q 127.0.0.1 && break
	sleep 0.1
done
ikeclient C udp --to 127.0.0.1:4500 --timeout 1 >/dev/null 2>&1 || true
wait_log "$T/slow.log" "lost \(handshake timeout in state proxy\); reconnecting in 200 ms" 5 ||
    fail "no handshake timeout"
wait_log "$T/slow.log" "lost \(handshake timeout in state proxy\); reconnecting in 400 ms" 5 ||
    fail "no back-off after the handshake timeout"
ok
