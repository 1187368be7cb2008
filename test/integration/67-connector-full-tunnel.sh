#!/usr/bin/env bash
# A full tunnel through the connector: the strongSwan initiator asks for
# remote_ts = 0.0.0.0/0, ::/0 and gets an IPv4 and an IPv6 virtual IP;
# its routes (table 220, strongSwan's rule at priority 220) then cover
# the relay's address too.  The connector's bypass rule (priority 210,
# "to 198.51.100.2 lookup main") keeps its stream outside:
#   A  ping (IPv4, IPv6) and a 10 MB transfer to host S *beyond* the
#      gateway, on the first stream; the rule is there while the
#      connector runs and gone after SIGTERM.
#   B  through a local HTTP proxy (tinyproxy): the proxy's own connection
#      to the relay is kept outside by the same rule.
#   C  a SIGKILLed connector: its keeper still removes the rule; a stale
#      rule left at the same priority is replaced at the next start.
#   D  bypass-rule = no: no rule, and the same tunnel loses every ping.
#   F  transport = fallback with UDP open: the udp-gateway's rule keeps the
#      connector's UDP to the gateway outside.
#   E  without CAP_NET_ADMIN the connector says it cannot add the rule
#      (and why it matters) and still serves.
. "$(dirname "$0")/lib.sh"

GW_LOCAL_TS="0.0.0.0/0, ::/0" GW_POOL6=fd00:99::/120 topo_connector
# S: a host behind the gateway, reached only through the tunnel.
S4=10.97.0.2
S6=fd00:97::2
ns_new S
link_add G 10.97.0.1/24 S "$S4/24"
ip -n "$(ns G)" addr add fd00:97::1/64 dev vS
ip -n "$(ns S)" addr add "$S6/64" dev vG
ip -n "$(ns S)" route add default via 10.97.0.1
ip -n "$(ns S)" -6 route add default via fd00:97::1
ns_exec G sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

tinyproxy_up C 3128
relay_for_connector relay "listen=$RELAY_C_ADDR:443"
INIT_REMOTE_TS="0.0.0.0/0, ::/0" INIT_VIPS="0.0.0.0, ::" initiator_start
SVC_ADDR=$S4 WEB_NS=S web_start

# rules_at PRIO: the v4 and v6 rules at PRIO in C.
rules_at()
{
	ip -n "$(ns C)" -4 rule show pref "$1"
	ip -n "$(ns C)" -6 rule show pref "$1"
}

# cn_stop SIG: the connector gets SIG and must be gone within 3 s; its
# keeper must have removed every rule at 210 within 3 s more.
cn_stop()
{
	local keep=() p
	for p in "${IKT_RELAYS[@]}"; do
		[ "$p" = "$CN_PID" ] || keep+=("$p")
	done
	IKT_RELAYS=("${keep[@]}")
	kill "-$1" "$CN_DPID"
	for _ in $(seq 30); do
		kill -0 "$CN_DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$CN_DPID" 2>/dev/null && fail "connector alive 3 s after $1"
	wait "$CN_PID" || true
	for _ in $(seq 30); do
		[ -z "$(rules_at 210)" ] && return 0
		sleep 0.1
	done
	fail "rule left 3 s after the connector's $1: $(rules_at 210)"
}

# pings -4|-6 COUNT ADDR: how many echo replies C gets from ADDR.
pings()
{
	{ ns_exec C ping "$1" -n -c "$2" -i 0.2 -W 1 "$3" 2>&1 || true; } |
	    sed -nE 's/.* ([0-9]+) received.*/\1/p'
}

# tunnel_down [--force]: the initiator deletes its IKE SA.
tunnel_down()
{
	swanctl_ "$T/init" --terminate --ike home --timeout 10 "$@" \
	    >>"$T/terminate.log" 2>&1 || true
}

# --- A: IPv4 and IPv6 to S, a transfer, then SIGTERM ----------------------
connector_up cn
# (Output captured first: with pipefail, grep -q closing a pipe early can
# fail the command before it with SIGPIPE.)
out=$(rules_at 210)
grep -q "to $RELAY_C_ADDR lookup main proto 73" <<<"$out" ||
    fail "no bypass rule: $out"
tunnel_up
out=$(ip -n "$(ns C)" rule)
grep -qE "^220:.*lookup 220" <<<"$out" ||
    fail "strongSwan's rule is not at 220: $(tr '\n\t' '; ' <<<"$out")"
out=$(ip -n "$(ns C)" route show table 220)
grep -q "^default dev ipsec0" <<<"$out" ||
    fail "no default route into the tunnel in table 220: $out"
out=$(ip -n "$(ns C)" -6 addr)
grep -q "fd00:99::" <<<"$out" || fail "no IPv6 virtual IP: $out"
SVC_ADDR=$S4 ping_tunnel 10
say "IPv4 ping $PING_RTT ms to $S4 beyond the gateway"
n=$(pings -6 10 "$S6")
[ "$n" = 10 ] || fail "IPv6 ping to $S6: $n of 10 replies"
SVC_ADDR=$S4 fetch_bg
fetch_wait
say "10 MB in $XFER_S s from $S4 through the full tunnel"
grep -q "stream 2 " "$T/cn.log" && fail "the stream broke during the test"
tunnel_down
cn_stop TERM
grep -q "removed the routing rule to $RELAY_C_ADDR/32" "$T/cn.log" ||
    fail "the keeper logged no removal"

# --- B: through a local HTTP proxy ---------------------------------------
connector_up cnp "server=$RELAY_C_ADDR:443" http-proxy=127.0.0.1:3128
tunnel_up
SVC_ADDR=$S4 ping_tunnel 5
n=$(pings -6 5 "$S6")
[ "$n" = 5 ] || fail "IPv6 ping through the proxy: $n of 5 replies"
wait_log "$T/tinyproxy.log" "CONNECT.*$RELAY_C_ADDR:443" 1 ||
    fail "tinyproxy logged no CONNECT"
tunnel_down
cn_stop TERM

# --- C: a crash, and a stale rule ------------------------------------------
connector_up cnk
[ -n "$(rules_at 210)" ] || fail "no rule after restart"
cn_stop KILL
ip -n "$(ns C)" rule add to "$RELAY_C_ADDR" lookup main pref 210 proto 73
connector_up cns
wait_log "$T/cns.log" "removed a stale rule to $RELAY_C_ADDR/32" 1 ||
    fail "the stale rule was not reported"
[ "$(rules_at 210 | wc -l)" = 1 ] || fail "want one rule: $(rules_at 210)"
cn_stop TERM

# --- D: without the rule, the tunnel carries its own stream ---------------
connector_up cnoff bypass-rule=no
[ -z "$(rules_at 210)" ] || fail "bypass-rule = no installed $(rules_at 210)"
swanctl_ "$T/init" --initiate --child net --timeout 30 >"$T/initiate-off.log" \
    2>&1 || true
n=$(pings -4 5 "$S4")
[ "${n:-0}" = 0 ] || fail "without the rule $n of 5 pings passed"
say "without bypass-rule: 0 of 5 pings"
tunnel_down --force
cn_stop TERM

# --- F: fallback, over UDP to the gateway, kept outside as well ------------
connector_up cnu transport=fallback "udp-gateway=$GW_ADDR"
out=$(rules_at 210)
grep -q "to $GW_ADDR lookup main proto 73" <<<"$out" ||
    fail "no bypass rule for the udp-gateway: $out"
tunnel_up
wait_log "$T/cnu.log" "transport udp \(the gateway answered over UDP\)" 2 ||
    fail "the session did not go over UDP"
SVC_ADDR=$S4 ping_tunnel 5
n=$(pings -6 5 "$S6")
[ "$n" = 5 ] || fail "IPv6 ping over UDP: $n of 5 replies"
tunnel_down
cn_stop TERM

# --- E: no CAP_NET_ADMIN ----------------------------------------------------
connector_conf "$T/cncap.conf"
bg cncap "$IKT_LIFE" ip netns exec "$(ns C)" setpriv --bounding-set=-net_admin \
    "$IKETCPD" -d -f "$T/cncap.conf"
wait_log "$T/cncap.log" "iketcpd .* started" 5 || fail "no start without the cap"
grep -q "cannot add the routing rule to $RELAY_C_ADDR/32 .*: Operation not permitted; a full tunnel" \
    "$T/cncap.log" || fail "no clear warning: $(cat "$T/cncap.log")"
[ -z "$(rules_at 210)" ] || fail "a rule without the capability"
out=$(ns_exec C ss -Hlun "sport = :4500")
[ -n "$out" ] || fail "not serving"
ok
