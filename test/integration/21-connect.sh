#!/usr/bin/env bash
# One port (443) serves raw, TLS, CONNECT->raw, CONNECT->TLS and
# TLS->CONNECT streams, detected from the first bytes of each layer; a
# real HTTP proxy (tinyproxy) on the path carries CONNECT->TLS; each time
# an unmodified strongSwan gateway answers a real IKE_SA_INIT.  Refusals
# (403 disallowed target, 405 other method, 400 malformed, 431 100 KB of
# headers, 408 headers dribbled past handshake-timeout, 407 missing or
# wrong credentials, unknown first bytes) close only their own stream,
# with a log line, while a parallel CONNECT->TLS stream keeps working.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
tls_cert relay relay.test
printf 'alice:s3cret-pass\n' >"$T/creds"
chmod 600 "$T/creds"
cat >"$T/relay.conf" <<EOT
[global]
log-level = debug

[relay t]
tls-listen = 127.0.0.1:443
tls-cert = $T/relay.crt
tls-key = $T/relay.key
http-connect = yes
connect-allow = vpn.test:443
connect-allow = 127.0.0.1:443
gateway = $GW_ADDR
handshake-timeout = 2s

[relay auth]
listen = 127.0.0.1:8443
http-connect = yes
connect-allow = vpn.test:443
connect-auth-file = $T/creds
gateway = $GW_ADDR
EOT
relay_start relay "$T/relay.conf" 443
tinyproxy_up R 8888

# The parallel stream: CONNECT then TLS, two requests 5 s apart.
client_bg A init --connect 127.0.0.1:443 --http-connect vpn.test:443 --tls \
    --count 2 --interval 5
sleep 0.5

# expect_path WHAT LAYERS ARGS...: an IKE_SA_INIT answered through these
# layers, and the relay logged them.
expect_path()
{
	local what=$1 layers=$2 out port
	shift 2
	out=$(ikeclient R init "$@") || fail "$what: $out"
	port=$(jget local_port <<<"$out")
	if [ "$layers" != - ]; then
		wait_stream_log relay "$port" "layers $layers, relay t" ||
		    fail "$what: layers '$layers' not logged"
	fi
	say "$what: ok (SPIi $(jget spi_i <<<"$out"))"
}
expect_path raw - --connect 127.0.0.1:443
expect_path tls tls --connect 127.0.0.1:443 --tls
expect_path connect-raw connect --connect 127.0.0.1:443 \
    --http-connect vpn.test:443
expect_path connect-tls "tls connect" --connect 127.0.0.1:443 \
    --http-connect vpn.test:443 --tls
expect_path tls-connect "tls connect" --connect 127.0.0.1:443 --tls \
    --inner-connect vpn.test:443
# Through tinyproxy: the relay sees TLS from the proxy's connection.
expect_path tinyproxy-tls - --connect 127.0.0.1:8888 \
    --http-connect 127.0.0.1:443 --tls
grep -q "CONNECT.*127.0.0.1:443" "$T/tinyproxy.log" ||
    fail "tinyproxy did not carry the CONNECT"

# expect_status WHAT STATUS ARGS...: the stream gets HTTP STATUS and is
# closed; the relay logs why.
expect_status()
{
	local what=$1 status=$2 out got port
	shift 2
	out=$(ikeclient R raw --prefix none --wait 5 --expect-close "$@") ||
	    fail "$what: stream not closed: $out"
	got=$(jget received_line <<<"$out")
	[ -n "$got" ] || got="HTTP/1.1 $(jget http_status <<<"$out")"
	case $got in
	"HTTP/1.1 $status "*|"HTTP/1.1 $status") ;;
	*) fail "$what: want $status, got '$got'" ;;
	esac
	port=$(jget local_port <<<"$out")
	wait_stream_log relay "$port" "closed \(" ||
	    fail "$what: no close line"
	say "$what: $status, $(relay_stream_log relay "$port" "refused" |
	    head -n 1 | sed 's/.*refused: //')"
}
hexs()
{
	printf '%b' "$1" | od -An -tx1 -v | tr -d ' \n'
}
expect_status disallowed 403 --connect 127.0.0.1:443 \
    --http-connect evil.test:443
expect_status get 405 --connect 127.0.0.1:443 \
    --hex "$(hexs 'GET / HTTP/1.1\r\nHost: vpn.test\r\n\r\n')"
expect_status malformed 400 --connect 127.0.0.1:443 \
    --hex "$(hexs 'CONNECT vpn.test HTTP/1.1\r\nHost vpn.test\r\n\r\n')"
"$IKT_PY" -c 'import sys; open(sys.argv[1], "w").write(
    "CONNECT vpn.test:443 HTTP/1.1\r\n" + "X-Pad: " + "a" * 100000 +
    "\r\n\r\n")' "$T/big"
expect_status huge-headers 431 --connect 127.0.0.1:443 --file "$T/big"
expect_status dribbled 408 --connect 127.0.0.1:443 \
    --hex "$(hexs 'CONNECT vpn.test:443 HTTP/1.1\r\nHost: vpn')"
expect_status no-auth 407 --connect 127.0.0.1:8443 \
    --http-connect vpn.test:443
expect_status wrong-auth 407 --connect 127.0.0.1:8443 \
    --http-connect vpn.test:443 --http-auth alice:wrong
out=$(ikeclient R init --connect 127.0.0.1:8443 --http-connect vpn.test:443 \
    --http-auth alice:s3cret-pass) || fail "right credentials: $out"

# Unknown first bytes: closed, with what was seen in hex.
out=$(ikeclient R raw --connect 127.0.0.1:443 --hex 0badc0ffee00 --wait 3 \
    --expect-close) || fail "unknown bytes: not closed: $out"
port=$(jget local_port <<<"$out")
wait_stream_log relay "$port" "unrecognised first bytes: .*0b ?ad ?c0" ||
    fail "unknown bytes: no hex in the log"

client_wait A || fail "parallel stream broke: $(client_json A)"
[ "$(client_json A | jget responses.1.exchange)" = 34 ] ||
    fail "parallel stream: no second response"
ok
