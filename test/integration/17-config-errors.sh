#!/usr/bin/env bash
# iketcpd -t -f FILE: exit 0 on a good file; exit 1 with "file:line:" on
# stderr for an unknown key, a bad value, a missing gateway, a max-message
# above one UDP datagram to the gateway; each error line is bare
# "file:line: message" (no time in front), an included file's errors name
# that file.  A file with no section that serves passes -t with a warning
# and the daemon refuses it.  -h prints usage with status 0.  The daemon
# refuses to start on a bad file.  SIGUSR1's statistics are written at
# log-level = warning, in key=value form with log-format = kv.
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
	grep -Eq -- "^$f:$line: " "$T/$name.log" ||
	    fail "$name: no line starting '$f:$line: ' in: $(cat "$T/$name.log")"
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

# include: the included file's own name and line; a glob matching nothing
# is said and is no error; a missing plain name is an error.
mkdir -p "$T/conf.d"
printf 'include = conf.d/*.conf\ninclude = none.d/*.conf\n' >"$T/inc.conf"
sed 's/^max-message = 1000$/max-message = lots/' "$good" >"$T/conf.d/10-t.conf"
rc=0
"$IKETCPD" -t -f "$T/inc.conf" >"$T/inc.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "include: exit $rc, want 1"
grep -q "^$T/conf.d/10-t.conf:9: bad max-message \"lots\"" "$T/inc.log" ||
    fail "include: the error does not name the included file: $(cat "$T/inc.log")"
grep -q "^$T/inc.conf:2: .*no file matches" "$T/inc.log" ||
    fail "include: an empty glob is not said: $(cat "$T/inc.log")"
cp "$good" "$T/conf.d/10-t.conf"
"$IKETCPD" -t -f "$T/inc.conf" >"$T/inc.log" 2>&1 ||
    fail "include: good files refused: $(cat "$T/inc.log")"
printf 'include = missing.conf\n' >>"$T/inc.conf"
bad inc 3

# Nothing to serve: -t warns and passes, the daemon refuses.
printf '# only comments\n[global]\nlog-level = info\n' >"$T/idle.conf"
rc=0
"$IKETCPD" -t -f "$T/idle.conf" >"$T/idle.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "idle file: -t exit $rc, want 0: $(cat "$T/idle.log")"
grep -q "^$T/idle.conf: warning: no \[relay\], \[integrated\] or \[connector\]" \
    "$T/idle.log" || fail "idle file: no warning: $(cat "$T/idle.log")"
rc=0
timeout 5 "$IKETCPD" -d -f "$T/idle.conf" >"$T/idle-d.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "idle file: daemon exit $rc, want 1"
grep -q "refusing to start" "$T/idle-d.log" ||
    fail "idle file: daemon says: $(cat "$T/idle-d.log")"
say "idle: $(head -n 1 "$T/idle-d.log")"

# -h: usage on stdout, status 0; a bad option: status 1.
out=$("$IKETCPD" -h) || fail "-h: exit $?"
grep -q '^usage: iketcpd' <<<"$out" || fail "-h: $out"
rc=0
"$IKETCPD" -Z >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "bad option: exit $rc, want 1"

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

# log-level = warning, log-format = kv: SIGUSR1's statistics are written
# anyway (level=notice), as key=value pairs; info lines are not.
printf '[global]\nlog-level = warning\nlog-format = kv\nsyslog-facility = local0\n' \
    >"$T/kv.conf"
sed -n '/^\[relay t\]/,$p' "$good" >>"$T/kv.conf"
relay_start kv "$T/kv.conf" 4500
kill -USR1 "$RELAY_DPID"
wait_log "$T/kv.log" 'level=notice msg="stats: sessions' 5 ||
    fail "kv: no stats at log-level = warning: $(cat "$T/kv.log")"
grep -Eq '^ts=[0-9T:.-]+Z level=notice msg="stats: ' "$T/kv.log" ||
    fail "kv: not key=value: $(cat "$T/kv.log")"
! grep -q 'level=info' "$T/kv.log" || fail "kv: info lines at warning"
say "kv: $(grep -m 1 'stats: sessions' "$T/kv.log")"
relay_sigterm

rc=0
timeout 5 "$IKETCPD" -t -f "$T/does-not-exist.conf" >"$T/missing.log" 2>&1 ||
    rc=$?
[ "$rc" = 1 ] || fail "missing file: exit $rc, want 1"
ok
