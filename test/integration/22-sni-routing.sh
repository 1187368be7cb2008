#!/usr/bin/env bash
# One TLS port in front of two unmodified strongSwan gateways: the TLS SNI
# name picks the [relay] section, so a.test reaches gateway G and b.test
# gateway H, each with its section's own certificate; a CONNECT authority
# routes the same way; an unknown name gets the default section, and with
# no default it is refused with a log line (only that stream).
. "$(dirname "$0")/lib.sh"

GW2_ADDR=198.51.100.2
topo_relay_gw
ns_new H
link_add R 198.51.100.1/24 H "$GW2_ADDR/24"
capture_start gw2 H vR "udp"
gw_start gw2 H
tls_cert a a.test
tls_cert b b.test

write_conf()
{
	cat >"$T/relay.conf" <<EOT
[global]
log-level = debug

[relay a]
tls-listen = 127.0.0.1:443
tls-cert = $T/a.crt
tls-key = $T/a.key
sni = a.test
http-connect = yes
connect-allow = a.test:443
gateway = $GW_ADDR
$1

[relay b]
tls-listen = 127.0.0.1:443
tls-cert = $T/b.crt
tls-key = $T/b.key
sni = b.test
sni = *.b.test
http-connect = yes
connect-allow = b.test:443
gateway = $GW2_ADDR
EOT
}
write_conf "default = yes"
relay_start relay "$T/relay.conf" 443

# routed_to WHAT GWNAME ARGS...: an IKE_SA_INIT answered, seen at GWNAME
# and not at the other gateway.
routed_to()
{
	local what=$1 want=$2 other out spi
	shift 2
	other=gw
	[ "$want" = gw ] && other=gw2
	out=$(ikeclient R init --connect 127.0.0.1:443 "$@") ||
	    fail "$what: $out"
	spi=$(jget spi_i <<<"$out")
	[ "$(pcap_json "$want" --spi "$spi" | jget count)" = 2 ] ||
	    fail "$what: not answered by $want"
	[ "$(pcap_json "$other" --spi "$spi" | jget count)" = 0 ] ||
	    fail "$what: also reached $other"
	say "$what -> $want"
}
routed_to "sni a.test" gw --tls --sni a.test
routed_to "sni b.test" gw2 --tls --sni b.test
routed_to "sni x.b.test (wildcard)" gw2 --tls --sni x.b.test
routed_to "connect b.test:443" gw2 --http-connect b.test:443
routed_to "connect a.test:443 then TLS" gw --http-connect a.test:443 --tls
routed_to "unknown sni (default)" gw --tls --sni nobody.test
routed_to "no sni (default)" gw --tls

# Each section presents its own certificate.
s_client R -connect 127.0.0.1:443 -servername b.test </dev/null \
    >"$T/b.out" 2>&1 || true
grep -q "CN *= *b.test" "$T/b.out" || fail "b.test did not get b's certificate"

# Without a default, an unknown name is refused (TLS alert), logged.
write_conf ""
kill -HUP "$RELAY_DPID"
wait_log "$T/relay.log" "reloaded" 5 || fail "no reload"
out=$(ikeclient R raw --connect 127.0.0.1:443 --tls --sni nobody.test \
    --prefix iketcp --wait 3 --expect-close) ||
    fail "unknown name without default: not refused: $out"
wait_log "$T/relay.log" "refused: TLS SNI nobody.test: no \[relay\] section" 5 ||
    fail "no log line for the refused name"
routed_to "sni a.test after reload" gw --tls --sni a.test
ok
