#!/usr/bin/env bash
# An unmodified strongSwan initiator against the ike/ responder (through the
# test-only UDP front end build/ikeresp): PSK, FQDN identities, a virtual IP
# from the responder's pool.  Runs: AES-GCM-256 + PRF-SHA384 + X25519 (ESP
# AES-GCM-256); AES-CBC-256 + HMAC-SHA256 + MODP2048 (ESP AES-CBC-256 +
# HMAC-SHA256); then a wrong PSK.  Each good run: the IKE SA is ESTABLISHED
# and the CHILD_SA INSTALLED on the initiator with the pool's address, then
# the initiator deletes the IKE SA and the responder sees it go; the first
# also answers DPD.  Then: IKE_AUTH in RFC 7383 fragments, a wrong KE guess
# (INVALID_KE_PAYLOAD, retry) and a COOKIE challenge.
. "$(dirname "$0")/lib.sh"

IKERESP=${IKERESP:-$(dirname "$IKETCPD")/ikeresp}
[ -x "$IKERESP" ] || fail "no $IKERESP (make build/ikeresp)"
need_root
PSK=iketcp-responder-test-psk
INI_ADDR=192.0.2.1
RESP_ADDR=192.0.2.2

ns_new I
ns_new S
link_add I "$INI_ADDR/24" S "$RESP_ADDR/24"

bg ikeresp "$IKT_LIFE" ip netns exec "$(ns S)" "$IKERESP" -l "$RESP_ADDR" \
    -k "$PSK" -i responder.test -r initiator.test -P 10.10.0.0/24 \
    -d 10.10.0.53 \
    -I aes256gcm16-prfsha384-x25519,aes256-sha256-modp2048 \
    -E aes256gcm16,aes256-sha256
IKERESP_PID=$BG_PID
wait_log "$T/ikeresp.log" "^READY" 10 || fail "ikeresp did not start"

d=$T/ini
swan_conf "$d"
# ini_conf SECRET: the initiator's swanctl.conf, one connection per run.
ini_conf()
{
	cat >"$d/swanctl/swanctl.conf" <<EOT
connections {
	gcm {
		version = 2
		local_addrs = $INI_ADDR
		remote_addrs = $RESP_ADDR
		vips = 0.0.0.0
		proposals = aes256gcm16-prfsha384-x25519
		send_certreq = no
		dpd_delay = 1s
		local {
			auth = psk
			id = initiator.test
		}
		remote {
			auth = psk
			id = responder.test
		}
		children {
			net {
				remote_ts = 0.0.0.0/0
				esp_proposals = aes256gcm16
			}
		}
	}
	cbc {
		version = 2
		local_addrs = $INI_ADDR
		remote_addrs = $RESP_ADDR
		vips = 0.0.0.0
		proposals = aes256-sha256-modp2048
		send_certreq = no
		local {
			auth = psk
			id = initiator.test
		}
		remote {
			auth = psk
			id = responder.test
		}
		children {
			net2 {
				remote_ts = 0.0.0.0/0
				esp_proposals = aes256-sha256
			}
		}
	}
	ke {
		version = 2
		local_addrs = $INI_ADDR
		remote_addrs = $RESP_ADDR
		vips = 0.0.0.0
		proposals = aes256gcm16-prfsha384-ecp256-x25519
		send_certreq = no
		local {
			auth = psk
			id = initiator.test
		}
		remote {
			auth = psk
			id = responder.test
		}
		children {
			net3 {
				remote_ts = 0.0.0.0/0
				esp_proposals = aes256gcm16
			}
		}
	}
}
secrets {
	ike-1 {
		id-1 = initiator.test
		id-2 = responder.test
		secret = "$1"
	}
}
EOT
}
ini_conf "$PSK"
swan_start ini I "$d"

# run_up CONN CHILD: initiate, check the SAs on the initiator.
run_up()
{
	local conn=$1 child=$2 sas
	swanctl_ "$d" --initiate --ike "$conn" --child "$child" --timeout 15 \
	    >"$T/initiate-$conn.log" 2>&1 ||
	    fail "$conn: swanctl --initiate failed"
	sas=$(swanctl_ "$d" --list-sas --ike "$conn")
	printf '%s\n' "$sas" >"$T/sas-$conn.log"
	grep -Eq "^$conn: #[0-9]+, ESTABLISHED, IKEv2" <<<"$sas" ||
	    fail "$conn: IKE SA not ESTABLISHED: $sas"
	grep -Eq "^ +$child: #[0-9]+, reqid [0-9]+, INSTALLED, TUNNEL" \
	    <<<"$sas" || fail "$conn: CHILD_SA not INSTALLED: $sas"
	grep -Eq "^ +local +10\.10\.0\.[0-9]+/32" <<<"$sas" ||
	    fail "$conn: no virtual IP from 10.10.0.0/24 as local TS: $sas"
	grep -Eq "^ +remote +0\.0\.0\.0/0" <<<"$sas" ||
	    fail "$conn: remote TS is not 0.0.0.0/0: $sas"
	grep -q "installing new virtual IP 10.10.0." "$d/charon.log" ||
	    fail "$conn: initiator did not install a virtual IP"
	say "$conn: $(grep -E "^$conn: #|^ +$child: #|^ +local +10" \
	    <<<"$sas" | tr -s ' \n' ' ')"
	say "$conn: $(grep -E '^ +(AES|ENCR|aes)|^ +[A-Z0-9_]+/' <<<"$sas" |
	    head -2 | tr -s ' \n' ' ')"
}

# run_down CONN: the initiator deletes the IKE SA.
run_down()
{
	local conn=$1
	swanctl_ "$d" --terminate --ike "$conn" --timeout 10 \
	    >"$T/terminate-$conn.log" 2>&1 ||
	    fail "$conn: swanctl --terminate failed"
}

# run CONN CHILD: up, checked, down.
run()
{
	run_up "$1" "$2"
	run_down "$1"
}

run_up gcm net
# DPD (dpd_delay = 1s): an empty INFORMATIONAL gets an empty response.
wait_log "$d/charon.log" "parsed INFORMATIONAL response 2 \[ \]" 5 ||
    fail "gcm: no answer to the initiator's DPD"
say "gcm: $(grep -m1 "parsed INFORMATIONAL response 2" "$d/charon.log" |
    cut -c1-70)"
run_down gcm
want="^CHILD_UP .*encr=20/256 .*vip=10\.10\.0\.1 tsi=10\.10\.0\.1-10\.10\.0\.1"
want="$want tsr=0\.0\.0\.0-255\.255\.255\.255 "
wait_log "$T/ikeresp.log" "$want" 5 ||
    fail "gcm: responder saw no CHILD_UP with 10.10.0.1"
wait_log "$T/ikeresp.log" "^IKE_DOWN" 5 || fail "gcm: no IKE_DOWN"
say "responder: $(grep -E '^(IKE|CHILD)_UP' "$T/ikeresp.log" | tail -2 |
    tr '\n' ' ')"

run cbc net2
wait_log "$T/ikeresp.log" "^IKE_UP .*encr=12/256 prf=5 integ=12 dh=14" 5 ||
    fail "cbc: responder saw no CBC/MODP2048 IKE SA"
wait_log "$T/ikeresp.log" "^CHILD_UP .*encr=12/256 integ=12 " 5 ||
    fail "cbc: responder saw no CBC Child SA"
[ "$(count_log "$T/ikeresp.log" '^IKE_DOWN')" = 2 ] ||
    wait_log "$T/ikeresp.log" "^IKE_DOWN.*" 5
say "responder: $(grep -E '^(IKE|CHILD)_UP' "$T/ikeresp.log" | tail -2 |
    tr '\n' ' ')"

# Wrong PSK: the initiator is told AUTHENTICATION_FAILED.
ini_conf "wrong-$PSK"
swanctl_ "$d" --load-creds --clear --noprompt >>"$T/ini-swanctl.log" 2>&1 ||
    fail "swanctl --load-creds failed"
if swanctl_ "$d" --initiate --ike gcm --child net --timeout 15 \
    >"$T/initiate-wrong.log" 2>&1; then
	fail "wrong PSK: initiation succeeded"
fi
grep -q "received AUTHENTICATION_FAILED notify error" "$d/charon.log" ||
    fail "wrong PSK: no AUTHENTICATION_FAILED in the initiator's log"
wait_log "$T/ikeresp.log" "does not verify" 5 ||
    fail "wrong PSK: the responder did not log the failed AUTH"
say "wrong PSK: $(grep -m1 'received AUTHENTICATION_FAILED' \
    "$d/charon.log" | cut -c1-90)"

# RFC 7383: an initiator with a small fragment size sends IKE_AUTH in
# encrypted fragments; the responder reassembles them.
# shellcheck disable=SC2154  # set by swan_start
stop_pid "$SWAN_PID_ini"
d=$T/ini2
swan_conf "$d" "fragment_size = 300"
ini_conf "$PSK"
swan_start ini2 I "$d"
run gcm net
grep -Eq "sending packet.*IKE_AUTH request 1 \[ EF\(1/[0-9]\) \]" \
    "$d/charon.log" ||
    grep -Eq "generating IKE_AUTH request 1 \[ EF\(1/[0-9]\) \]" \
    "$d/charon.log" || fail "fragments: IKE_AUTH was not fragmented"
say "fragments: $(grep -m1 -E "IKE_AUTH request 1 \[ EF" "$d/charon.log" |
    cut -c1-90)"

# §1.3: the initiator guesses ECP-256, we want Curve25519 and say so.
run ke net3
grep -q "requested CURVE_25519" "$d/charon.log" ||
    fail "ke: the initiator saw no INVALID_KE_PAYLOAD naming Curve25519"
say "ke: $(grep -m1 "requested CURVE_25519" "$d/charon.log" | cut -c1-90)"

# §2.6: a responder under load asks for a cookie first.
stop_pid "$IKERESP_PID"
bg ikeresp2 "$IKT_LIFE" ip netns exec "$(ns S)" "$IKERESP" -c \
    -l "$RESP_ADDR" -k "$PSK" -i responder.test -r initiator.test \
    -P 10.10.0.0/24
wait_log "$T/ikeresp2.log" "^READY" 10 || fail "ikeresp -c did not start"
run gcm net
wait_log "$T/ikeresp2.log" "COOKIE sent" 1 || fail "cookie: none was sent"
grep -Eq "parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]" \
    "$d/charon.log" || fail "cookie: the initiator did not get a COOKIE"
say "cookie: $(grep -m1 "N(COOKIE)" "$d/charon.log" | cut -c1-90)"
ok
