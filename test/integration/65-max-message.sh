#!/usr/bin/env bash
# Issue 11, finding 6a: max-message may not exceed what one UDP datagram
# toward the gateway carries (65535 - 20 - 8 = 65507 octets over IPv4,
# 65535 - 8 = 65527 over IPv6: RFC 768, RFC 8200 without jumbograms).
# Above that, frames pass the stream's check and are then dropped at
# sendmsg without a word.  iketcpd -t must refuse such a [relay] section
# with "file:line:" (any line of the file, and the words max-message,
# so the lead may report it at the key or at the section's end) and
# accept the largest value that fits, whichever order the keys come in.
. "$(dirname "$0")/lib.sh"
need_iketcpd

# conf NAME GATEWAY MAX [ORDER]: a one-section file; ORDER "late" puts
# max-message before the gateway key.
conf()
{
	local f=$T/$1.conf
	{
		printf '[global]\nlog-level = info\n\n[relay t]\n'
		printf 'listen = 127.0.0.1:4500\n'
		if [ "${4:-}" = late ]; then
			printf 'max-message = %s\ngateway = %s\n' "$3" "$2"
		else
			printf 'gateway = %s\nmax-message = %s\n' "$2" "$3"
		fi
	} >"$f"
}

good()
{
	local rc=0
	timeout 10 "$IKETCPD" -t -f "$T/$1.conf" >"$T/$1.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "$1: exit $rc, want 0: $(cat "$T/$1.log")"
}

bad()
{
	local f=$T/$1.conf rc=0
	timeout 10 "$IKETCPD" -t -f "$f" >"$T/$1.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$1: exit $rc, want 1 (refused): $(cat "$T/$1.log")"
	grep -Eq -- "$f:[0-9]+:.*max-message" "$T/$1.log" ||
	    fail "$1: no '$f:LINE: ... max-message' in: $(cat "$T/$1.log")"
	say "$1: $(grep -E -- "$f:" "$T/$1.log" | head -n 1)"
}

conf v4max 192.0.2.2 65507
good v4max
conf v4over 192.0.2.2 65508
bad v4over
conf v4over-late 192.0.2.2 65508 late
bad v4over-late
conf v4top 192.0.2.2 65533
bad v4top
conf v6max '[2001:db8::2]:4500' 65527
good v6max
conf v6over '[2001:db8::2]:4500' 65528
bad v6over
ok
