#!/usr/bin/env bash
# The relay behind a real haproxy (TCP mode, send-proxy-v2): it logs and
# limits by the real client address that the PROXY header carries, also
# under TLS (PROXY -> TLS), and PROXY v1 works too.  A PROXY header on a
# listener without proxy-protocol, and a stream without one on a listener
# that wants it, each close only that stream with a log line while a
# parallel stream through haproxy keeps working.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
ns_new C
link_add C 203.0.113.2/24 R 203.0.113.1/24
tls_cert relay relay.test
cat >"$T/relay.conf" <<EOT
[global]
log-level = debug

[relay behind]
tls-listen = 127.0.0.1:4443
tls-cert = $T/relay.crt
tls-key = $T/relay.key
proxy-protocol = yes
max-per-source = 2
gateway = $GW_ADDR

[relay direct]
listen = 127.0.0.1:4500
gateway = $GW_ADDR
EOT
relay_start relay "$T/relay.conf" 4443
cat >"$T/haproxy.cfg" <<EOT
global
	log stdout format raw local0 info
defaults
	mode tcp
	log global
	option tcplog
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend fe
	bind 203.0.113.1:443
	default_backend be
backend be
	server relay 127.0.0.1:4443 send-proxy-v2
EOT
bg haproxy "$IKT_LIFE" ip netns exec "$(ns R)" haproxy -db -f "$T/haproxy.cfg"
wait_tcp_listen R 443 10 || fail "haproxy did not start"

# The parallel stream, through haproxy, two requests 4 s apart.
timeout --foreground -k 2 60 ip netns exec "$(ns C)" "$IKT_PY" \
    "$IKT_DIR/ikeclient.py" init --connect 203.0.113.1:443 --count 2 \
    --interval 4 >"$T/A.json" 2>"$T/A.log" &
IKT_PIDS+=("$!")
apid=$!
sleep 0.5

# Through haproxy, raw and TLS: the relay names the real client.
for layers in "" "--tls"; do
	# shellcheck disable=SC2086
	out=$(ikeclient C init --connect 203.0.113.1:443 $layers) ||
	    fail "via haproxy ${layers:-raw}: $out"
	cport=$(jget local_port <<<"$out")
	wait_log "$T/relay.log" \
	    "PROXY: client 203\.0\.113\.2:$cport via 127\.0\.0\.1:" 5 ||
	    fail "via haproxy ${layers:-raw}: real client not logged"
	wait_log "$T/relay.log" "203\.0\.113\.2:$cport lport [0-9]+: session new" 5 ||
	    fail "via haproxy ${layers:-raw}: session not logged by real client"
	say "haproxy ${layers:-raw}: $(grep "PROXY: client 203.0.113.2:$cport" \
	    "$T/relay.log" | sed 's/.*PROXY/PROXY/')"
done
wait_log "$T/relay.log" "layers proxy tls, relay behind" 5 ||
    fail "PROXY -> TLS layering not logged"

# PROXY v1, straight to the relay.
out=$(ikeclient R init --connect 127.0.0.1:4443 --proxy-v1 198.18.0.9:5555) ||
    fail "PROXY v1: $out"
wait_log "$T/relay.log" "PROXY: client 198\.18\.0\.9:5555 via" 5 ||
    fail "PROXY v1: client not logged"

# max-per-source counts the real client: two streams from 198.18.0.7 stay
# open, a third is refused, another client is not.
client_bg P1 init --connect 127.0.0.1:4443 --proxy-v2 198.18.0.7:1001 \
    --keep-open 6
client_bg P2 init --connect 127.0.0.1:4443 --proxy-v2 198.18.0.7:1002 \
    --keep-open 6
sleep 1
out=$(ikeclient R raw --connect 127.0.0.1:4443 --proxy-v2 198.18.0.7:1003 \
    --prefix iketcp --wait 3 --expect-close) ||
    fail "third stream of 198.18.0.7 not refused: $out"
wait_log "$T/relay.log" "refused 198\.18\.0\.7:1003: max-per-source" 5 ||
    fail "no max-per-source line for the real client"
out=$(ikeclient R init --connect 127.0.0.1:4443 --proxy-v2 198.18.0.8:1004) ||
    fail "another real client was refused: $out"

# A PROXY header where none is expected, and none where one is.
out=$(ikeclient R raw --connect 127.0.0.1:4500 --proxy-v2 198.18.0.6:1 \
    --prefix iketcp --wait 3 --expect-close) ||
    fail "PROXY header on a plain listener: not closed: $out"
port=$(jget local_port <<<"$out")
wait_stream_log relay "$port" \
    "refused: PROXY header on a listener without proxy-protocol" ||
    fail "PROXY header on a plain listener: no log line"
out=$(ikeclient R raw --connect 127.0.0.1:4443 --prefix iketcp --wait 3 \
    --expect-close) || fail "no PROXY header: not closed: $out"
port=$(jget local_port <<<"$out")
wait_stream_log relay "$port" "refused: proxy-protocol listener, but" ||
    fail "no PROXY header: no log line"

wait "$apid" || fail "parallel stream through haproxy broke: $(cat "$T/A.json")"
[ "$(jget responses.1.exchange <"$T/A.json")" = 34 ] ||
    fail "parallel stream: no second response"
client_wait P1 || fail "P1: $(client_json P1)"
ok
