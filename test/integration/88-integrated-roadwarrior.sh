#!/usr/bin/env bash
# The road-warrior server of conf/roadwarrior.conf -- EAP over UDP with
# TLS fallback -- against unmodified strongSwan initiators, each
# configured as a native client's profile is (issue 12 items 7, 8).  ONE
# server configuration, the sample itself with the test's paths, id and
# DNS servers put in (and accepted by iketcpd -t): udp-listen on 500 and 4500 with udp-encap = yes,
# tls-listen on 443 (and TCP on 4500), an ECDSA server certificate sent
# with its intermediate (the clients have only the root), eap =
# mschapv2 with the users in the secrets file, two DNS servers, a pool.
#
# The profiles (all: EAP-MSCHAPv2 as "alice", the server authenticated by
# its certificate with id responder.test, a virtual IP, no MOBIKE, the
# resolve plugin so that the client asks for and installs DNS servers):
#  ios      iOS / macOS built-in IKEv2 client, a profile with "Username"
#           authentication and no IKE/Child SA parameters: IKE
#           aes256-sha256-modp2048, ESP aes256-sha256, over plain UDP
#           (500, then 4500 with ESP in UDP), no NAT on its path, so the
#           server's udp-encap makes it encapsulate.
#  android  the strongSwan Android app, "IKEv2 EAP (Username/Password)":
#           IKE aes256gcm16-prfsha256-ecp256 and -x25519, ESP aes256gcm16,
#           over plain UDP.
#  ios+tls  the ios profile unchanged (same credentials, same proposals)
#           behind the connector on its own host, which carries it over
#           TLS to 443: what a phone gets on a network that blocks UDP.
# Checked for each: the tunnel comes up (IKE set-up time printed), the
# server certificate was verified through the intermediate, the server
# logs the EAP identity and the transport, pings; the DNS servers of the
# configuration payload are installed by the client (its charon log and
# its resolv.conf); for ios and ios+tls a 10 MB download checked by
# SHA-256 (rate printed in MB/s).
. "$(dirname "$0")/lib.sh"

need_iketcpctl

# The PKI: a root (on the clients), an intermediate, the server's key.
P=$T/pki
mkdir -p "$P"
pki --gen --type ecdsa --size 384 --outform pem >"$P/root.key"
pki --self --ca --in "$P/root.key" --dn "CN=road-warrior test root" \
    --outform pem >"$P/root.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/mid.key"
pki --issue --cacert "$P/root.pem" --cakey "$P/root.key" --type priv \
    --in "$P/mid.key" --dn "CN=road-warrior test mid" --ca \
    --outform pem >"$P/mid.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/srv.key"
pki --issue --cacert "$P/mid.pem" --cakey "$P/mid.key" --type priv \
    --in "$P/srv.key" --dn "CN=responder.test" --san responder.test \
    --flag serverAuth --flag ikeIntermediate --outform pem >"$P/srv.pem"
cat "$P/srv.pem" "$P/mid.pem" >"$P/fullchain.pem"
export EAP_CA=$P/root.pem	# init_eap: the clients trust the root only

integ_topo
SRV=$RELAY_C_ADDR
# The server runs conf/roadwarrior.conf itself, with the test's files, id
# and DNS servers put in and a control socket added; -t accepts it first.
printf '%s\n' 'alice : EAP "correct horse battery"' 'bob : EAP "another one"' \
    >"$T/ipsec.secrets"
chmod 600 "$T/ipsec.secrets"
sed -e "s|/etc/iketcpd/vpn-fullchain.crt|$P/fullchain.pem|" \
    -e "s|/etc/iketcpd/vpn.key|$P/srv.key|" \
    -e "s|/etc/iketcpd/ipsec.secrets|$T/ipsec.secrets|" \
    -e "s|^id = vpn.example.net\$|id = responder.test|" \
    -e "s|^dns = 10.10.0.1\$|dns = 10.10.0.53\\ndns = 10.10.0.54|" \
    -e "s|^\\[global\\]\$|&\\ncontrol-socket = $T/srv.sock|" \
    "$IKT_ROOT/conf/roadwarrior.conf" >"$T/srv.conf"
for k in "id = responder.test" "dns = 10.10.0.54" "control-socket = " \
    "cert = $P/fullchain.pem"; do
	grep -qF "$k" "$T/srv.conf" || fail "the sample has changed: no $k"
done
timeout 10 "$IKETCPD" -t -f "$T/srv.conf" >"$T/check.log" 2>&1 ||
    fail "iketcpd -t refuses the sample: $(cat "$T/check.log")"
relay_start srv "$T/srv.conf" 443 R
grep -q "tun iketcp0 10.10.0.1/24" "$T/srv.log" || fail "srv: no TUN set up"
grep -qF "udp-listen *:500 (IKE)" "$T/srv.log" || fail "server: no UDP 500"
WEB_NS=R web_start

# transport: the transport of the one live session iketcpctl lists.
transport()
{
	"$CTL" -s "$T/srv.sock" list --json |
	    "$IKT_PY" -c 'import json, sys
s = [x for x in json.load(sys.stdin)["sessions"] if x["state"] == "live"]
print(",".join(t for x in s for t in x["transport"]) or "none")'
}

# profile NAME IKE ESP: the initiator as that client, with the resolve
# plugin writing the DNS servers it receives to $T/init/resolv.conf.
profile()
{
	local rv=$T/$1-resolv.conf
	: >"$rv"
	SWAN_PLUGINS="$SWAN_PLUGINS resolve" INIT_PROPOSALS=$2 INIT_ESP=$3 \
	    INIT_CHARON_EXTRA="plugins {
		resolve {
			file = $rv
		}
	}" init_eap alice "correct horse battery"
}

# checks NAME TRANSPORT: the tunnel just set up by profile NAME.
checks()
{
	local log=$T/init/charon.log n
	grep -q "authentication of 'responder.test' with ECDSA.* successful" \
	    "$log" || fail "$1: server certificate not verified"
	grep -q "CN=road-warrior test mid" "$log" ||
	    fail "$1: the intermediate was not received"
	grep -q "EAP method EAP_MSCHAPV2 succeeded, MSK established" "$log" ||
	    fail "$1: no MSK"
	n=$(count_log "$T/srv.log" "established, fqdn:phone.test authenticated by EAP-MSCHAPv2 as \"alice\"")
	[ "$n" -ge "$SEEN" ] || fail "$1: server logged no EAP login"
	SEEN=$((n + 1))
	[ "$(transport)" = "$2" ] ||
	    fail "$1: iketcpctl transport $(transport), want $2"
	# The configuration payload's DNS servers, installed on the client.
	for d in 10.10.0.53 10.10.0.54; do
		grep -q "installing DNS server $d to $T/$1-resolv.conf" "$log" ||
		    fail "$1: DNS server $d not installed: $(grep -i dns "$log")"
		grep -q "^nameserver $d\b" "$T/$1-resolv.conf" ||
		    fail "$1: $d not in resolv.conf: $(cat "$T/$1-resolv.conf")"
	done
	ping_tunnel 5
}

# transfer NAME: the 10 MB download; prints the rate.
transfer()
{
	rm -f "$T/got"
	fetch_bg
	fetch_wait
	say "$1: 10 MB in $XFER_S s = $(awk -v s="$XFER_S" \
	    'BEGIN { printf "%.1f", 10.48576 / s }') MB/s, SHA-256 ok"
}

down()	# the initiator closes its IKE SA; the server forgets it
{
	swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 ||
	    fail "$1: terminate failed"
	for _ in $(seq 50); do
		[ "$(transport)" = none ] && return 0
		sleep 0.1
	done
	fail "$1: the server still lists the session"
}
SEEN=1

# 1. iOS / macOS over plain UDP, no connector.
CN_ADDR=$SRV profile ios aes256-sha256-modp2048 aes256-sha256
CN_ADDR=$SRV tunnel_up
grep -qF "[510] to ${SRV}[500]" "$T/init/charon.log" ||
    fail "ios: IKE_SA_INIT did not go to UDP 500"
grep -qF "[4510] to ${SRV}[4500]" "$T/init/charon.log" ||
    fail "ios: the client did not float to 4500"
grep -q "remote host is behind NAT" "$T/init/charon.log" ||
    fail "ios: udp-encap = yes did not make the client encapsulate"
checks ios UDP
say "ios over UDP: up in $IKE_MS ms, ping $PING_RTT ms"
transfer "ios over UDP"
down ios

# 2. The strongSwan Android app over plain UDP.
CN_ADDR=$SRV profile android \
    aes256gcm16-prfsha256-ecp256,aes256gcm16-prfsha256-x25519 aes256gcm16
tunnel_up
grep -q "IKE_SA home\[[0-9]*\] established" "$T/init/charon.log" ||
    fail "android: no IKE SA"
grep -q "selected proposal: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_256/ECP_256" \
    "$T/init/charon.log" || fail "android: not its first proposal"
checks android UDP
say "android over UDP: up in $IKE_MS ms, ping $PING_RTT ms"
down android

# 3. The ios profile behind the connector, which carries it over TLS to
# 443 (its IKE goes to the connector's address; nothing else changes).
connector_up cn "server=$SRV:443" tls=yes "tls-ca=$P/root.pem" \
    tls-sni=responder.test
profile ios-tls aes256-sha256-modp2048 aes256-sha256
tunnel_up
wait_log "$T/cn.log" "session 1: TLS TLSv1\.3 .*sni=responder\.test" 1 ||
    fail "connector: no TLS stream: $(tail -5 "$T/cn.log")"
wait_log "$T/cn.log" "stream 1 to $SRV:443 up" 1 ||
    fail "connector: not on 443: $(tail -5 "$T/cn.log")"
checks ios-tls TCP,TLS
say "ios over TLS through the connector: up in $IKE_MS ms, ping $PING_RTT ms"
transfer "ios over TLS"
down ios-tls
ok
