#!/usr/bin/env bash
# Bad input closes only the stream that carried it: an oversize frame
# (max-message 1000, a 2000-byte frame), length fields 0 and 1, a bad
# prefix.  A parallel stream keeps working, nothing bad reaches the gateway
# and each close is logged with the peer's address and a reason.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500 max-message=1000

# The parallel stream: two IKE_SA_INITs 3 s apart on one connection.
client_bg A init --connect 127.0.0.1:4500 --count 2 --interval 3
sleep 0.8

bad_ports=()
check_close()
{
	local what=$1 out
	shift
	out=$(ikeclient R raw --connect 127.0.0.1:4500 "$@" --wait 3 \
	    --expect-close) || fail "$what: stream not closed: $out"
	between "$(jget closed_after <<<"$out")" 0 2 ||
	    fail "$what: closed only after $(jget closed_after <<<"$out") s"
	bad_ports+=("$what:$(jget local_port <<<"$out")")
}
check_close oversize --prefix iketcp --frame-len 2000
check_close length0 --prefix iketcp --hex 0000
check_close length1 --prefix iketcp --hex 0001ff
check_close badprefix --prefix none \
    --hex "$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')"
# A frame of exactly max-message bytes is fine (it is not IKE, the gateway
# ignores it, but the stream stays).
out=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --frame-len 1000 --wait 1 --expect-open) ||
    fail "a frame of max-message bytes closed the stream: $out"

client_wait A || fail "parallel stream broke: $(client_json A)"
[ "$(client_json A | jget responses.1.exchange)" = 34 ] ||
    fail "parallel stream: no second response"

for bp in "${bad_ports[@]}"; do
	what=${bp%%:*}
	port=${bp#*:}
	wait_stream_log relay "$port" "closed \(.+\)" ||
	    fail "$what: no close reason logged for 127.0.0.1:$port"
	say "$what: $(relay_stream_log relay "$port" "closed" | head -n 1 |
	    sed 's/^.*closed/closed/')"
done

# The gateway got A's two requests and the one good 1000-byte frame only.
pj=$(pcap_json gw --src "$RELAY_ADDR")
lens=$("$IKT_PY" -c 'import json, sys
print(" ".join(str(x["len"]) for x in json.load(sys.stdin)["packets"]))' <<<"$pj")
n=$(jget count <<<"$pj")
[ "$n" = 3 ] || fail "gateway got $n datagrams (lengths $lens), want 3"
case " $lens " in *" 2000 "*) fail "the oversize frame was forwarded" ;; esac
ok
