#!/usr/bin/env bash
# 10 MB over HTTP through the integrated tunnel: python3 http.server bound
# to the server's TUN address in the server's namespace, curl in the
# initiator's namespace (strongSwan -> connector -> integrated iketcpd);
# the SHA-256 of what arrived matches; then 10 MB upward to a TCP sink
# there, hashed too; the tunnel still pings afterwards and the server
# dropped no inbound ESP.
. "$(dirname "$0")/lib.sh"

integ_topo
integ_server_up srv
connector_up cn
initiator_start
tunnel_up
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
ping_tunnel 3

WEB_NS=R web_start
fetch_bg
fetch_wait
say "10 MB in $XFER_S s, SHA-256 ok"

# And 10 MB the other way (inbound ESP, full-size): a TCP sink on the
# server's TUN address hashes what arrives.
# shellcheck disable=SC2016
bg sink 60 ip netns exec "$(ns R)" "$IKT_PY" -c '
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9000))
s.listen(1)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
	b = c.recv(65536)
	if not b:
		break
	h.update(b)
	n += len(b)
print("got", n, h.hexdigest(), flush=True)' "$SVC_ADDR"
wait_tcp_listen R 9000 10 || fail "sink did not start"
t0=$(date +%s%N)
timeout 60 ip netns exec "$(ns C)" "$IKT_PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 9000), timeout=50)
c.sendall(open(sys.argv[2], "rb").read())
c.shutdown(socket.SHUT_WR)
c.recv(1)' "$SVC_ADDR" "$T/www/blob" >"$T/upload.log" 2>&1 ||
    fail "upload failed: $(cat "$T/upload.log")"
wait_log "$T/sink.log" "^got " 10 || fail "sink: nothing complete"
t1=$(date +%s%N)
grep -q "^got $((10 * 1024 * 1024)) $WEB_SUM\$" "$T/sink.log" ||
    fail "upload corrupted: $(cat "$T/sink.log")"
say "10 MB up in $(( (t1 - t0) / 1000000 )) ms, SHA-256 ok"
ping_tunnel 3
st=$(integ_stats srv)
say "server: $st"
drops=$(sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p' <<<"$st")
[ "$drops" = 0 ] || fail "server dropped $drops inbound ESP packets"
ok
