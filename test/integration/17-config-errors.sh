#!/usr/bin/env bash
# iketcpd -t -f FILE: exit 0 on a good file; exit 1 with "file:line:" on
# stderr for an unknown key, a bad value, a missing gateway, a max-message
# above one UDP datagram to the gateway.  The daemon refuses to start on a
# bad file.
. "$(dirname "$0")/lib.sh"
need_iketcpd

good=$T/good.conf
cat >"$good" <<'CONF'
# A good configuration.
[global]
log-level = info

[relay t]
listen = 127.0.0.1:4500
listen = [::1]:4500
gateway = 192.0.2.2
max-message = 1000
idle-timeout = 600s
linger = 60s
handshake-timeout = 10s
max-connections = 8192
max-per-source = 256
CONF
rc=0
timeout 10 "$IKETCPD" -t -f "$good" >"$T/good.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "good file: exit $rc: $(cat "$T/good.log")"

# bad NAME LINE: $T/NAME.conf must be rejected, naming line LINE.
bad()
{
	local name=$1 line=$2 f=$T/$1.conf rc=0
	timeout 10 "$IKETCPD" -t -f "$f" >"$T/$name.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$name: exit $rc, want 1"
	grep -Eq -- "$f:$line:" "$T/$name.log" ||
	    fail "$name: no '$f:$line:' in: $(cat "$T/$name.log")"
	say "$name: $(grep -E -- "$f:" "$T/$name.log" | head -n 1)"
}

sed 's/^max-per-source = 256$/max-per-source = 256\nno-such-key = 1/' \
    "$good" >"$T/unknown-key.conf"
bad unknown-key 15
sed 's/^max-message = 1000$/max-message = lots/' "$good" >"$T/bad-size.conf"
bad bad-size 9
sed 's/^idle-timeout = 600s$/idle-timeout = 10 fortnights/' \
    "$good" >"$T/bad-duration.conf"
bad bad-duration 10
sed 's/^listen = 127.0.0.1:4500$/listen = localhost:http/' \
    "$good" >"$T/bad-listen.conf"
bad bad-listen 6
grep -v '^gateway' "$good" >"$T/no-gateway.conf"
bad no-gateway '[0-9]+'
printf '[relay t\nlisten = 127.0.0.1:4500\n' >"$T/bad-section.conf"
bad bad-section 1
# One UDP/IPv4 datagram carries 65507 bytes: more was accepted, then lost.
sed 's/^max-message = 1000$/max-message = 65508/' "$good" \
    >"$T/udp-max-message.conf"
bad udp-max-message 9
sed 's/^max-message = 1000$/max-message = 65507/' "$good" \
    >"$T/udp-max-message-ok.conf"
timeout 10 "$IKETCPD" -t -f "$T/udp-max-message-ok.conf" \
    >"$T/udp-ok.log" 2>&1 || fail "max-message 65507: $(cat "$T/udp-ok.log")"

# The daemon itself refuses the bad file, and listens on nothing.
need_root
ns_new R
for name in unknown-key no-gateway; do
	rc=0
	timeout 5 ip netns exec "$(ns R)" "$IKETCPD" -d -f "$T/$name.conf" \
	    >"$T/start-$name.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
	    fail "daemon on $name.conf: exit $rc (want a refusal)"
done
rc=0
timeout 5 "$IKETCPD" -t -f "$T/does-not-exist.conf" >"$T/missing.log" 2>&1 ||
    rc=$?
[ "$rc" = 1 ] || fail "missing file: exit $rc, want 1"
ok
