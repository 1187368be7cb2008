#!/usr/bin/env bash
# The integrated server's certificates as OS clients expect them, against
# unmodified strongSwan initiators (through the connector, as in 45):
#  * a chain of three: root -> mid -> the server's certificate.  The
#    initiator has only the root (as phones have only their built-in CAs):
#    the server sends its certificate and then mid (RFC 7296 §3.6), and the
#    tunnel comes up.  The initiator's CERTREQ names the root and a CA the
#    server does not know (§3.7); the server sends its chain regardless.
#  * an RSA server key, answered with RFC 7427 Digital Signature (method
#    14, RSA PKCS#1 v1.5 SHA-256) to an initiator that sends
#    SIGNATURE_HASH_ALGORITHMS; an ECDSA P-384 server key, answered with
#    ECDSA-with-SHA384 (method 14), and with RFC 4754 method 10 to an
#    initiator without RFC 7427 (strongSwan's signature_authentication =
#    no, as Windows' built-in client), whose own P-256 AUTH is method 9.
#  * a CRL (crl =): a revoked client certificate is refused with
#    AUTHENTICATION_FAILED and logged with the peer's address, identity
#    and subject; one not revoked is accepted; a new CRL revoking that one
#    too is read on SIGHUP; a CRL past its nextUpdate is used (what it
#    revokes stays revoked) with a warning.
#  * bad files refuse to start with the reason: a cert file whose second
#    certificate did not issue the first, a CRL that does not parse, a
#    CRL signed by another key than its CA's, crl without ca.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
P=$T/pki
mkdir -p "$P"
# key NAME TYPE SIZE
key() { pki --gen --type "$2" --size "$3" --outform pem >"$P/$1.key"; }
# issue NAME CA DN [pki --issue options]: a certificate of NAME's key.
issue() {
	local n=$1 ca=$2 dn=$3
	shift 3
	pki --issue --cacert "$P/$ca.pem" --cakey "$P/$ca.key" --type priv \
	    --in "$P/$n.key" --dn "$dn" --outform pem "$@" >"$P/$n.pem"
}
key root rsa 3072
pki --self --ca --in "$P/root.key" --dn "CN=root" --outform pem \
    >"$P/root.pem"
key other ecdsa 256
pki --self --ca --in "$P/other.key" --dn "CN=other" --outform pem \
    >"$P/other.pem"
key mid ecdsa 384
issue mid root "CN=mid" --ca
key srvrsa rsa 2048
issue srvrsa mid "CN=vpn.test" --san vpn.test
key srvec ecdsa 384
issue srvec mid "CN=vpn.test" --san vpn.test
key cli ecdsa 256
issue cli root "CN=initiator.test" --san initiator.test --serial 0a
key rev ecdsa 256
issue rev root "CN=revoked.test" --san revoked.test --serial 0b
cat "$P/srvrsa.pem" "$P/mid.pem" >"$P/srvrsa-chain.pem"
cat "$P/srvec.pem" "$P/mid.pem" >"$P/srvec-chain.pem"
# The root's CRL revokes rev (PEM); a second one revokes cli too (DER).
pki --signcrl --cacert "$P/root.pem" --cakey "$P/root.key" \
    --reason key-compromise --serial 0b --outform pem >"$P/root.crl"
pki --signcrl --cacert "$P/root.pem" --cakey "$P/root.key" \
    --serial 0b --serial 0a --outform der >"$P/root2.crl"
# Long past its nextUpdate, revoking rev only.
pki --signcrl --cacert "$P/root.pem" --cakey "$P/root.key" --serial 0b \
    --this-update "01.01.20 00:00:00" --next-update "02.01.20 00:00:00" \
    --outform pem >"$P/stale.crl"
# Names the root but is signed by another key (an impostor "CN=root").
pki --self --ca --in "$P/other.key" --dn "CN=root" --outform pem \
    >"$P/fake.pem"
pki --signcrl --cacert "$P/fake.pem" --cakey "$P/other.key" --serial 0b \
    --outform pem >"$P/forged.crl"

ns_new C
ns_new R
link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo
srv_conf() {	# srv_conf CHAIN KEY [LINE...]
	local c=$1 k=$2 l
	shift 2
	{
		cat <<EOC
[global]
log-level = debug

[integrated vpn]
listen = $RELAY_C_ADDR:4500
id = vpn.test
cert = $P/$c
key = $P/$k
ca = $P/root.pem
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
tun = iketcp0
EOC
		for l in "$@"; do
			printf '%s\n' "$l"
		done
	} >"$T/srv.conf"
}
bad_start() {	# bad_start EXPECTED: the daemon refuses $T/srv.conf
	if timeout -k 2 10 ip netns exec "$(ns R)" "$IKETCPD" -d \
	    -f "$T/srv.conf" >"$T/bad-srv.log" 2>&1; then
		fail "started with a bad file, expected '$1'"
	fi
	grep -q -- "$1" "$T/bad-srv.log" ||
	    fail "no '$1': $(cat "$T/bad-srv.log")"
}
cat "$P/srvrsa.pem" "$P/root.pem" >"$P/wrong-chain.pem"
srv_conf wrong-chain.pem srvrsa.key
bad_start "cert $P/wrong-chain.pem: certificate 2 (/CN=root) is not the issuer of the one before it"
printf 'garbage\n' >"$P/junk.crl"
srv_conf srvrsa-chain.pem srvrsa.key "crl = $P/junk.crl"
bad_start "crl $P/junk.crl: no PEM or DER CRL"
srv_conf srvrsa-chain.pem srvrsa.key "crl = $P/forged.crl"
bad_start "crl $P/forged.crl: the CRL of /CN=root does not verify"
srv_conf srvrsa-chain.pem srvrsa.key "crl = $P/root.crl"
sed -i '/^ca = /d' "$T/srv.conf"
printf '%s\n' "secrets = $T/ipsec.secrets" >>"$T/srv.conf"
bad_start "srv.conf:[0-9]*: \[integrated vpn\]: crl without ca"
say "bad cert chain, CRLs and crl without ca refuse to start"

srv_start() {	# srv_start CHAIN KEY: (re)start the server with a CRL
	if [ -n "${RELAY_PID:-}" ]; then
		# Stopped on purpose: no longer one that must run at the end.
		IKT_RELAYS=("$CN_PID")
		stop_pid "$RELAY_PID"
	fi
	srv_conf "$1" "$2" "crl = $P/root.crl"
	relay_start srv "$T/srv.conf" 4500 R
	grep -q "integrated vpn: 1 CRLs from 1 crl files" "$T/srv.log" ||
	    fail "server: CRL not loaded"
}

# init_start CERT [STRONGSWAN.CONF LINES]: (re)start the initiator with
# its certificate, only the root and the unknown CA "other" as CAs.
init_start() {
	local d=$T/init id=initiator.test
	[ "$1" = rev ] && id=revoked.test
	[ -n "${SWAN_PID_init:-}" ] && stop_pid "$SWAN_PID_init"
	rm -rf "$d"
	swan_conf "$d" "	port = 510
	port_nat_t = 4510
	${2:-}"
	cp "$P/$1.pem" "$d/swanctl/x509/cli.pem"
	cp "$P/$1.key" "$d/swanctl/ecdsa/cli.key"
	cp "$P/root.pem" "$P/other.pem" "$d/swanctl/x509ca/"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = $CLIENT_ADDR
		remote_addrs = $CN_ADDR
		proposals = aes256gcm16-prfsha384-x25519
		vips = 0.0.0.0
		mobike = no
		send_cert = always
		local {
			auth = pubkey
			certs = cli.pem
			id = $id
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
down() { swanctl_ "$T/init" --terminate --ike home --timeout 10 \
    >/dev/null 2>&1 || true; }
# refused NAME PATTERN: the initiator's IKE SA fails, the server says why.
refused() {
	swanctl_ "$T/init" --initiate --child net --timeout 20 \
	    >"$T/refused.log" 2>&1 && fail "$1: accepted"
	grep -q AUTHENTICATION_FAILED "$T/refused.log" "$T/init/charon.log" ||
	    fail "$1: initiator got no AUTHENTICATION_FAILED"
	wait_log "$T/srv.log" "$2" 5 || fail "$1: server did not log '$2'"
}

connector_up cn
srv_start srvrsa-chain.pem srvrsa.key
init_start cli
tunnel_up
say "RSA server, chain of three, initiator with the root only: up in $IKE_MS ms"
L=$T/init/charon.log
grep -q 'received cert request for "CN=root"' "$L" ||
    fail "initiator: no CERTREQ for the root"
grep -q 'sending cert request for "CN=other"' "$L" ||
    fail "initiator: no CERTREQ for the unknown CA"
grep -q 'received end entity cert "CN=vpn.test"' "$L" ||
    fail "initiator: no end-entity certificate"
grep -q 'received issuer cert "CN=mid"' "$L" ||
    fail "initiator: the intermediate was not sent"
grep -q "authentication of 'vpn.test' with RSA_EMSA_PKCS1_SHA2_256 successful" \
    "$L" || fail "initiator: no RFC 7427 RSA SHA-256 AUTH from the server"
ping_tunnel 3
down

# RFC 7296 §3.6: the end-entity CERT first, then the intermediate.
srv_start srvec-chain.pem srvec.key
init_start cli
tunnel_up
grep -q "authentication of 'vpn.test' with ECDSA_WITH_SHA384_DER successful" \
    "$L" || fail "initiator: no ECDSA-with-SHA384 (method 14) AUTH"
ping_tunnel 3
say "ECDSA P-384 server, RFC 7427 initiator: up in $IKE_MS ms"
down
init_start cli "signature_authentication = no"
tunnel_up
grep -q "authentication of 'vpn.test' with ECDSA-384 signature successful" \
    "$L" || fail "initiator: no RFC 4754 method 10 AUTH from the server"
grep -q "authentication of 'initiator.test' (myself) with ECDSA-256 signature successful" \
    "$L" || fail "initiator: did not use method 9"
ping_tunnel 3
say "ECDSA P-384 server, initiator without RFC 7427 (methods 9/10): up in $IKE_MS ms"
down

init_start rev
refused revoked "$CLIENT_ADDR:[0-9]+.*authentication of fqdn:revoked\.test refused: certificate /CN=revoked\.test not trusted: certificate revoked"
say "revoked client refused: $(grep -o 'IKE: .*certificate revoked' "$T/srv.log" | tail -1)"

# SIGHUP: a new CRL (DER) revokes cli too; nothing else changes.
cp "$P/root2.crl" "$P/root.crl"
kill -HUP "$RELAY_DPID"
wait_log "$T/srv.log" "reloaded .*srv.conf" 5 || fail "no reload"
init_start cli
refused "cli after SIGHUP" "authentication of fqdn:initiator\.test refused: certificate /CN=initiator\.test not trusted: certificate revoked"
say "CRL re-read on SIGHUP: initiator.test now refused"

# A stale CRL: a warning, and what it revokes stays revoked.
sed -i "s|^crl = .*|crl = $P/stale.crl|" "$T/srv.conf"
kill -HUP "$RELAY_DPID"
wait_log "$T/srv.log" "crl $P/stale.crl: 1 of its 1 CRLs are past their next update" 5 ||
    fail "no warning for the stale CRL"
wait_log "$T/srv.log" "reloaded .*srv.conf" 5 || fail "no second reload"
tunnel_up
say "stale CRL: warned, initiator.test accepted again"
down
init_start rev
n=$(count_log "$T/srv.log" "revoked\.test not trusted: certificate revoked")
swanctl_ "$T/init" --initiate --child net --timeout 20 >/dev/null 2>&1 &&
    fail "revoked client accepted with the stale CRL"
for _ in $(seq 50); do
	[ "$(count_log "$T/srv.log" "revoked\.test not trusted: certificate revoked")" -gt "$n" ] &&
	    break
	sleep 0.1
done
[ "$(count_log "$T/srv.log" "revoked\.test not trusted: certificate revoked")" -gt "$n" ] ||
    fail "stale CRL: revoked.test not refused"
say "stale CRL: revoked.test still refused"
ok
