#!/usr/bin/env bash
# Stolen SPIs over the UDP front end (relay/README, "UDP paths").  An
# unmodified strongSwan initiator over UDP brings its tunnel up while
# tcpdump records what it sends to UDP 4500 (IKE_AUTH, ESP).  A host on
# the same link (198.51.100.9), which knows every SPI and message ID:
#   - replays each of those datagrams,
#   - sends ESP with the client's SPI and sequence numbers ahead of it,
#   - sends IKE with the SA's SPI pair and the next message ID;
# it receives at most the cached response to the replayed request it
# sent last (RFC 7296 §2.11, at most one a second per session) and
# nothing else, the session's path stays the client's (one move,
# the float to 4500), the tunnel keeps working, and its 100 forged IKE
# messages take no more of the log than log-rate allows (5 a second,
# a burst of 3 s: 15 lines, and the count of those suppressed).  Then the client's
# own NAT mapping changes (nftables in C rewrites its source port 4510
# to 4999, as a NAT rebinding does): its next ESP passes its ICV and
# replay checks, the path moves to :4999, and pings go on through it.
. "$(dirname "$0")/lib.sh"

SRV=$RELAY_C_ADDR
EVIL=198.51.100.9
integ_topo
ip -n "$(ns C)" addr add "$EVIL/24" dev vR
INTEG_LOG_LEVEL=info IKT_GLOBAL="log-rate = 5" \
    integ_server_up srv "udp-listen=$SRV:500" "udp-listen=$SRV:4500"
bg r-tcpdump "$IKT_LIFE" ip netns exec "$(ns R)" tcpdump -n -U \
    --immediate-mode -i vC -w "$T/r.pcap" udp dst port 4500
TCPDUMP_PID=$BG_PID
wait_log "$T/r-tcpdump.log" "listening on" 10

CN_ADDR=$SRV INIT_CONN_EXTRA="		encap = yes" initiator_start
tunnel_up
ping_tunnel 5
sleep 0.5
stop_pid "$TCPDUMP_PID"
"$IKT_PY" "$IKT_DIR/ikeclient.py" pcap "$T/r.pcap" --to-port 4500 \
    --payload >"$T/seen.json"
n=$(jget count <"$T/seen.json")
[ "$n" -ge 5 ] || fail "captured only $n datagrams"
spi=$(grep -oE "CHILD_SA up, spi in [0-9a-f]{8}" "$T/srv.log" |
    sed 's/.* //')
pair=$(grep -oE "IKE_SA [0-9a-f]{16}_[0-9a-f]{16} established" \
    "$T/srv.log" | sed 's/IKE_SA //; s/ .*//')
[ -n "$spi" ] && [ -n "$pair" ] || fail "no SPIs in the server's log"
moves0=$(count_log "$T/srv.log" "session moved")
[ "$moves0" = 1 ] || fail "want one move (the float) so far: $moves0"

lines0=$(wc -l <"$T/srv.log")
got=$(ns_exec C "$IKT_PY" - "$T/seen.json" "$SRV" "$EVIL" "$spi" \
    "$pair" <<'PY'
import json, os, socket, struct, sys, time
seen = json.load(open(sys.argv[1]))["packets"]
srv, evil, spi, pair = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((evil, 0))
s.settimeout(0.2)
sent = 0
for p in seen:					# replays
    s.sendto(bytes.fromhex(p["hex"]), (srv, 4500))
    sent += 1
for seq in range(1000, 1100):			# forged ESP, new numbers
    s.sendto(bytes.fromhex(spi) + struct.pack("!I", seq) +
             os.urandom(64), (srv, 4500))
    sent += 1
spi_i, spi_r = (bytes.fromhex(x) for x in pair.split("_"))
for mid in range(2, 102):			# forged IKE, next IDs
    body = os.urandom(48)
    hdr = spi_i + spi_r + bytes([46, 0x20, 37, 0x08]) + \
        struct.pack("!II", mid, 28 + 4 + len(body))
    sk = bytes([0, 0]) + struct.pack("!H", 4 + len(body))
    s.sendto(b"\0\0\0\0" + hdr + sk + body, (srv, 4500))
    sent += 1
back = 0
t = time.monotonic() + 2
while time.monotonic() < t:
    try:
        s.recvfrom(65536)
        back += 1
    except socket.timeout:
        pass
print(sent, back)
PY
) || fail "attacker: $got"
read -r sent back <<<"$got"
say "attacker sent $sent datagrams with the client's SPIs, got $back back"
[ "$back" -le 1 ] || fail "the attacker received $back datagrams"
lines=$(( $(wc -l <"$T/srv.log") - lines0 ))
say "server log lines during the attack: $lines (log-rate 5)"
[ "$lines" -le 20 ] || fail "the attack wrote $lines log lines"
ping_tunnel 5
[ "$(count_log "$T/srv.log" "session moved")" = 1 ] ||
    fail "the path moved: $(grep "session moved" "$T/srv.log")"

# A genuine rebinding: the client's source port changes under it.
ns_exec C nft -f - <<EOF2
table ip ikt_rebind {
	chain post {
		type nat hook postrouting priority 100;
		ip daddr $SRV udp sport 4510 snat to $CLIENT_ADDR:4999
	}
}
EOF2
ping_tunnel 5
wait_log "$T/srv.log" "session moved from udp $CLIENT_ADDR:4510 -> .* to udp $CLIENT_ADDR:4999 .*proven: ESP" 5 ||
    fail "the client's ESP from its new port did not move the path"
ok
