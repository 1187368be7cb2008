#!/usr/bin/env bash
# IPv6 in the integrated role: [integrated] with a second pool line,
# fd00:10::/64, an IPv6 dns and local-ts ::/0.  An unmodified strongSwan
# initiator with vips = 0.0.0.0,:: (through the connector) gets both an
# IPv4 and an IPv6 address (RFC 7296 §3.15.1 INTERNAL_IP6_ADDRESS), its
# Child SA covers both families, and it pings the server's TUN addresses
# 10.10.0.1 and fd00:10::1 (the pools' first) through the tunnel: ESP in,
# IPv6 out of the TUN and back by IPv6 destination to the session.  Then
# ESP that the initiator's Child SA authenticates is made here (its key
# from charon's log) carrying ICMPv6 from its own IPv6 address (reaches
# the TUN) and from another address of the pool (every one dropped and
# counted: the inner-source check accepts only the assigned address).
. "$(dirname "$0")/lib.sh"

SVC6=fd00:10::1
integ_topo
integ_server_up srv "pool=fd00:10::/64" "local-ts=::/0" "dns=fd00:10::53"
grep -q "tun iketcp0 $SVC6/64, pool fd00:10::/64" "$T/srv.log" ||
    fail "server: no IPv6 address on the TUN"
# (Captured first: with pipefail, grep -q closing the pipe early can
# fail ip with SIGPIPE.)
a6=$(ip -n "$(ns R)" -6 addr show dev iketcp0)
grep -q "inet6 $SVC6/64" <<<"$a6" || fail "TUN has no $SVC6/64: $a6"
connector_up cn

SWAN_LOG_EXTRA="chd = 4" initiator_start
sed -i -e 's|vips = 0\.0\.0\.0$|vips = 0.0.0.0,::|' \
    -e "s|remote_ts = $SVC_ADDR/32|remote_ts = $SVC_ADDR/32,$SVC6/128|" \
    "$T/init/swanctl/swanctl.conf"
grep -q "vips = 0.0.0.0,::" "$T/init/swanctl/swanctl.conf" ||
    fail "could not ask for an IPv6 virtual IP"
swanctl_ "$T/init" --load-all --noprompt >"$T/load.log" 2>&1 ||
    fail "reload: $(cat "$T/load.log")"
tunnel_up
say "IKE_SA + CHILD_SA + two virtual IPs in $IKE_MS ms"

sas=$(swanctl_ "$T/init" --list-sas 2>&1)
a4=$(ip -n "$(ns C)" -4 -o addr show)
a6=$(ip -n "$(ns C)" -6 -o addr show)
vip4=$(grep -oE '10\.10\.0\.[0-9]+' <<<"$a4" | sed -n 1p)
vip6=$(grep -oE 'fd00:10::[0-9a-f]+' <<<"$a6" | grep -v "^$SVC6\$" |
    sed -n 1p)
[ -n "$vip4" ] || fail "no IPv4 virtual IP: $sas"
[ -n "$vip6" ] || fail "no IPv6 virtual IP: $(ip -n "$(ns C)" -6 addr)"
say "virtual IPs $vip4 and $vip6"
grep -q "local  $vip4/32 $vip6/128" <<<"$sas" ||
    grep -qE "local +.*$vip6/128" <<<"$sas" ||
    fail "the Child SA does not cover $vip6/128: $sas"
grep -qE "remote +.*$SVC6/128" <<<"$sas" ||
    fail "the Child SA's remote side lacks $SVC6/128: $sas"
wait_log "$T/srv.log" "CHILD_SA up, .*virtual IP $vip4 and $vip6" 5 ||
    fail "server: no CHILD_SA with both addresses"

ping_tunnel 5
say "IPv4 ping $PING_RTT ms"
ns_exec C ping -6 -n -c 3 -i 0.2 -W 1 "$SVC6" >/dev/null 2>&1 || true
out=$(ns_exec C ping -6 -n -c 10 -i 0.2 -W 2 "$SVC6" 2>&1) ||
    fail "IPv6 ping through the tunnel: $out"
grep -q " 0% packet loss" <<<"$out" || fail "IPv6 ping lost packets: $out"
say "IPv6 ping $(sed -nE 's|.*= [0-9.]+/([0-9.]+)/.*|\1|p' <<<"$out") ms"

# Authentic ESP with an IPv6 inner source: the initiator's own address
# reaches the TUN; another address of the pool is dropped, every time.
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
spi=$(sed -nE 's/^ *out ([0-9a-f]{8}),.*/\1/p' <<<"$sas")
pk=$(sed -nE 's/^ *out [0-9a-f]{8}, *[0-9]+ bytes, *([0-9]+) packets.*/\1/p' \
    <<<"$sas")
key=$(grep -A3 "encryption initiator key" "$T/init/charon.log" |
    sed -nE 's/.*CHD\] <[^>]*> +[0-9]+: (([0-9A-F]{2} )+) .*/\1/p' |
    tr -d ' \n')
if [ -z "$spi" ] || [ -z "$pk" ] || [ "${#key}" != 72 ]; then
	fail "the Child SA: spi '$spi', packets '$pk', key '$key'"
fi
inject()	# inject SEQ SRC COUNT
{
	ns_exec C "$IKT_PY" "$IKT_DIR/espinject.py" "$key" "$spi" "$1" "$2" \
	    "$SVC6" "$CLIENT_ADDR" 4510 "$CN_ADDR" 4500 "$3" ||
	    fail "espinject failed"
}
d0=$(integ_esp_drops srv)
r0=$(integ_tun_rx)
inject $((pk + 100)) "$vip6" 2
sleep 0.5
d1=$(integ_esp_drops srv)
r1=$(integ_tun_rx)
[ "$d1" = "$d0" ] || fail "ESP from its own IPv6 address dropped ($d0 -> $d1)"
[ "$r1" -ge $((r0 + 2)) ] || fail "ESP from its own IPv6 address not on the TUN"
inject $((pk + 200)) fd00:10::99 5
sleep 0.5
d2=$(integ_esp_drops srv)
r2=$(integ_tun_rx)
[ "$d2" = $((d1 + 5)) ] ||
    fail "wrong IPv6 inner source: dropped $((d2 - d1)) of 5"
[ "$r2" = "$r1" ] || fail "a wrong IPv6 inner source reached the TUN"
[ "$(count_log "$T/srv.log" \
    "ESP dropped: ts \(spi [0-9a-f]{8} seq [0-9]+\)$")" = 5 ] ||
    fail "server: the 5 drops are not the traffic-selector check"
say "IPv6 inner source: own 2 of 2 to the TUN; fd00:10::99 5 of 5 dropped"
out=$(ns_exec C ping -6 -n -c 3 -i 0.2 -W 2 "$SVC6" 2>&1) ||
    fail "IPv6 ping after the injection: $out"

# A rekey of the dual-stack Child SA (RFC 7296 §1.3.3) keeps both
# families: the new Child SA is narrowed to both virtual addresses.
swanctl_ "$T/init" --rekey --child net >"$T/rekey.log" 2>&1 ||
    fail "swanctl --rekey: $(cat "$T/rekey.log")"
wait_log "$T/srv.log" "CHILD_SA rekeyed, spi in $spi -> " 10 ||
    fail "server: the Child SA was not rekeyed"
wait_log "$T/srv.log" "CHILD_SA deleted, spi in $spi" 5 ||
    fail "server: the old Child SA was not deleted"
sas=$(swanctl_ "$T/init" --list-sas 2>&1)
grep -qE "local +.*$vip6/128" <<<"$sas" ||
    fail "the rekeyed Child SA does not cover $vip6/128: $sas"
ping_tunnel 3
out=$(ns_exec C ping -6 -n -c 5 -i 0.2 -W 2 "$SVC6" 2>&1) ||
    fail "IPv6 ping after the rekey: $out"
grep -q " 0% packet loss" <<<"$out" || fail "IPv6 ping lost packets: $out"
say "rekeyed: IPv4 and IPv6 still through the tunnel"
ok
