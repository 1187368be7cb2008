#!/usr/bin/env bash
# strongSwan initiator with a client certificate -> connector -> integrated
# iketcpd with a certificate for vpn.test: both from a test CA.  The tunnel
# comes up (the client sends its certificate because our CERTREQ asks for
# it, RFC 7296 §3.7) and pings the server's TUN address; a client
# certificate from another CA is refused (AUTHENTICATION_FAILED) and the
# server logs the peer's address, its identity and why.  The successful
# authentication is logged with the certificate's identity.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
P=$T/pki
mkdir -p "$P"
mkcert() {	# mkcert NAME CA SAN [KEYTYPE]: an ECDSA (or rsa) certificate
	if [ "${4:-ecdsa}" = rsa ]; then
		pki --gen --type rsa --size 2048 --outform pem >"$P/$1.key"
	else
		pki --gen --type ecdsa --size 256 --outform pem >"$P/$1.key"
	fi
	pki --req --type priv --in "$P/$1.key" --dn "CN=$3" --san "$3" \
	    --outform pem >"$P/$1.req"
	pki --issue --cacert "$P/$2.pem" --cakey "$P/$2.key" --type pkcs10 \
	    --in "$P/$1.req" --outform pem >"$P/$1.pem"
}
mkca() {
	pki --gen --type ecdsa --size 256 --outform pem >"$P/$1.key"
	pki --self --ca --in "$P/$1.key" --dn "CN=$1" --outform pem \
	    >"$P/$1.pem"
}
mkca ca
mkca evil
# An intermediate CA under ca: only the root is in the server's ca file.
pki --gen --type ecdsa --size 256 --outform pem >"$P/mid.key"
pki --issue --cacert "$P/ca.pem" --cakey "$P/ca.key" --type priv --ca \
    --in "$P/mid.key" --dn "CN=mid" --outform pem >"$P/mid.pem"
mkcert srv ca vpn.test
mkcert cli ca initiator.test
mkcert bad evil initiator.test
mkcert rsa mid initiator.test rsa

ns_new C
ns_new R
link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo
cat >"$T/srv.conf" <<EOC
[global]
log-level = debug

[integrated vpn]
listen = $RELAY_C_ADDR:4500
id = vpn.test
cert = $P/srv.pem
key = $P/srv.key
ca = $P/ca.pem
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
tun = iketcp0
EOC
# Our own certificate is checked at start: an id it does not carry, or a
# key that is not its, stops the daemon with the reason.
bad_start() {	# bad_start SED-EXPR EXPECTED
	sed "$1" "$T/srv.conf" >"$T/bad-srv.conf"
	if timeout -k 2 10 ip netns exec "$(ns R)" "$IKETCPD" -d \
	    -f "$T/bad-srv.conf" >"$T/bad-srv.log" 2>&1; then
		fail "started with $1"
	fi
	grep -q "$2" "$T/bad-srv.log" ||
	    fail "no '$2' for $1: $(cat "$T/bad-srv.log")"
}
bad_start "s/^id = vpn.test/id = other.test/" "id other.test: id is not in"
bad_start "s|^key = .*|key = $P/cli.key|" "key does not match the certificate"
say "a foreign id or key in [integrated] refuses to start"
relay_start srv "$T/srv.conf" 4500 R
connector_up cn

init_cert() {	# init_cert CLIENT: (re)start the initiator with that cert
	local d=$T/init
	[ -n "${SWAN_PID_init:-}" ] && stop_pid "$SWAN_PID_init"
	rm -rf "$d"
	swan_conf "$d" "	port = 510
	port_nat_t = 4510"
	cp "$P/$1.pem" "$d/swanctl/x509/cli.pem"
	if [ "$1" = rsa ]; then
		mkdir -p "$d/swanctl/rsa"
		cp "$P/$1.key" "$d/swanctl/rsa/cli.key"
		cp "$P/mid.pem" "$d/swanctl/x509ca/mid.pem"
	else
		cp "$P/$1.key" "$d/swanctl/ecdsa/cli.key"
	fi
	cp "$P/ca.pem" "$d/swanctl/x509ca/ca.pem"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = $CLIENT_ADDR
		remote_addrs = $CN_ADDR
		proposals = aes256gcm16-prfsha384-x25519
		vips = 0.0.0.0
		send_certreq = no
		${SEND_CERT:-}
		local {
			auth = pubkey
			certs = cli.pem
			id = initiator.test
		}
		remote {
			auth = pubkey
			id = vpn.test
		}
		children {
			net {
				remote_ts = $SVC_ADDR/32
				esp_proposals = aes256gcm16
			}
		}
	}
}
EOF2
	swan_start init C "$d"
}

# strongSwan's default send_cert = ifasked: it sends its certificate only
# because our IKE_SA_INIT response carries a CERTREQ naming the CA.
init_cert cli
tunnel_up
say "certificate IKE_SA + CHILD_SA in $IKE_MS ms"
grep -q "received cert request for \"CN=ca\"" \
    "$T/init/charon.log" || fail "initiator: no CERTREQ received"
grep -q "sending end entity cert" "$T/init/charon.log" ||
    fail "initiator did not send its certificate"
wait_log "$T/srv.log" "CHILD_SA up" 5 || fail "server: no CHILD_SA"
wait_log "$T/srv.log" "established, fqdn:initiator\.test authenticated" 1 ||
    fail "server: the authenticated identity is not logged"
ping_tunnel 5
say "ping through the tunnel: $PING_RTT ms"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1

# An RSA client certificate from an intermediate CA: the client sends the
# intermediate as a second CERT, the server builds the chain to its root.
init_cert rsa
tunnel_up
grep -q "sending issuer cert \"CN=mid\"" "$T/init/charon.log" ||
    fail "initiator did not send the intermediate"
[ "$(grep -c "CHILD_SA up" "$T/srv.log")" = 2 ] ||
    fail "server: no second CHILD_SA (rsa)"
ping_tunnel 5
say "RSA client certificate via an intermediate CA: up"
swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1

SEND_CERT="send_cert = always" init_cert bad
swanctl_ "$T/init" --initiate --child net --timeout 20 >"$T/bad.log" 2>&1 &&
    fail "untrusted client certificate accepted"
wait_log "$T/srv.log" "$CLIENT_ADDR:[0-9]+.*authentication of fqdn:initiator\.test refused: .*not trusted" 5 ||
    fail "server: the untrusted certificate is not logged with the peer, its identity and the reason"
say "refused: $(grep -o 'IKE: .*not trusted.*' "$T/srv.log" | tail -1)"
grep -q AUTHENTICATION_FAILED "$T/bad.log" "$T/init/charon.log" ||
    fail "initiator: no AUTHENTICATION_FAILED"
ok
