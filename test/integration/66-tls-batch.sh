#!/usr/bin/env bash
# Issue 11, finding 6b: on the TLS fast path (nothing queued) the frames
# of one batch of gateway datagrams are gathered in the process's TLS
# buffer of 256 KiB; with write-buffer above that, frames past it are
# dropped, IKE included, and counted nowhere.  Every frame that
# write-buffer admits must reach the client.
#
# A stand-in gateway (attacker.py flood on 127.0.0.2:4500 in R; this
# tests our stream path, not interoperability) learns the session's
# port from the client's first ESP frame; the relay is stopped (SIGSTOP)
# while it sends 6 ESP-shaped datagrams of 60000 bytes (360 KB, in the
# session socket's receive buffer), so that one recvmmsg takes them as one
# batch when the relay goes on (SIGCONT).  With max-message = 60000 and
# write-buffer = 4M the TLS client must receive all 6 frames; today 4.
. "$(dirname "$0")/lib.sh"

N=${N:-6}
SIZE=60000

need_root
ns_new R
tls_cert relay relay.test
cat >"$T/relay.conf" <<EOC
[global]
log-level = debug

[relay t]
tls-listen = 127.0.0.1:4443
tls-cert = $T/relay.crt
tls-key = $T/relay.key
gateway = 127.0.0.2:4500
max-message = $SIZE
write-buffer = 4M
EOC
relay_start relay "$T/relay.conf" 4443

bg flood 40 ip netns exec "$(ns R)" "$IKT_PY" "$IKT_DIR/attacker.py" \
    flood --bind 127.0.0.2:4500 --learn 1 --size "$SIZE" \
    --bytes $((N * SIZE)) --seconds 30 --go "$T/flood.go"
FLOOD_PID=$BG_PID
sleep 0.5
bg tls 40 ip netns exec "$(ns R)" "$IKT_PY" "$IKT_DIR/attacker.py" \
    tlscount --connect 127.0.0.1:4443 --hold 6
TLS_PID=$BG_PID
for _ in $(seq 100); do [ -s "$T/flood.go.learnt" ] && break; sleep 0.1; done
[ -s "$T/flood.go.learnt" ] || fail "the stand-in gateway saw no datagram"
kill -STOP "$RELAY_DPID"
touch "$T/flood.go"
wait "$FLOOD_PID" || { kill -CONT "$RELAY_DPID"; fail "flood: $(cat "$T/flood.log")"; }
kill -CONT "$RELAY_DPID"
say "sent: $(cat "$T/flood.log")"
wait "$TLS_PID" || fail "TLS client: $(cat "$T/tls.log")"
got=$(jget frames <"$T/tls.log")
say "TLS client: $(cat "$T/tls.log")"
[ "$got" = "$N" ] ||
    fail "the TLS client received $got of $N frames of $SIZE bytes sent in one batch"
ok
