#!/usr/bin/env bash
# The RADIUS client for EAP pass-through (relay/radclient.c; issue 12
# item 4) against a real freeradius started here, in a namespace of its
# own with its own raddb (a copy of the installed one, the eap module cut
# down to md5 and mschapv2; never the system's service).  The driver
# build/radtest plays the EAP peer through the client, configured by the
# radius-* keys of an [integrated] section.  Checked:
#  - EAP-MD5: Identity -> Access-Challenge (MD5-Challenge, State) ->
#    response -> Access-Accept with EAP-Success; freeradius took our
#    Message-Authenticator;
#  - EAP-MSCHAPv2 (after a Nak of md5): Access-Accept with the MS-MPPE
#    keys, the MSK 64 octets and equal to what the peer computes;
#  - a wrong password: Access-Reject with EAP-Failure;
#  - Framed-IP-Address and Class of a user configured with them;
#  - a dead first server: 3 tries at radius-timeout each, then failover;
#  - freeradius with another secret: it refuses our Message-Authenticator
#    (logged), no answer, timeout after every server's tries;
#  - a hostile server (radspoof.py): wrong Response Authenticator, wrong
#    Message-Authenticator, wrong identifier, a runt, the right answer
#    from another port and a flood are dropped and counted; the real
#    answers are taken.
. "$(dirname "$0")/lib.sh"

need_root
RADTEST=${RADTEST:-$(dirname "$IKETCPD")/radtest}
[ -x "$RADTEST" ] || fail "no $RADTEST (make build/radtest)"
command -v freeradius >/dev/null || fail "no freeradius (test/deps.sh)"

SECRET=iketcp-radius-secret-1
ns_new rad
N=$(ns rad)
ip -n "$N" addr add 127.0.0.2/8 dev lo 2>/dev/null || true

rad_start rad1 "$SECRET" 1812 rad
rad_start rad2 "wrong-$SECRET" 1813 rad

printf '%s\n' "$SECRET" >"$T/radius.secret"
chmod 600 "$T/radius.secret"

# conf NAME SERVER... : an [integrated] section with those radius-servers.
conf() {
	local f=$T/$1.conf s
	shift
	{
		printf '[integrated r]\nlisten = 127.0.0.1:4443\n'
		printf 'pool = 10.9.0.0/24\nid = responder.test\n'
		printf 'secrets = %s/none.secrets\n' "$T"
		printf 'radius-secret-file = %s/radius.secret\n' "$T"
		printf 'radius-timeout = 300ms\nradius-retries = 2\n'
		printf 'radius-nas-identifier = iketcp-test\n'
		for s in "$@"; do printf 'radius-server = %s\n' "$s"; done
	} >"$f"
	printf '%s' "$f"
}

# drive OUT CONF USER PASSWORD METHOD: radtest in the namespace.
drive() {
	local out=$1
	shift
	timeout -k 2 30 ip netns exec "$N" "$RADTEST" "$1" r "$2" "$3" "$4" \
	    >"$T/$out.out" 2>"$T/$out.log" ||
	    fail "radtest $out exited $? ($(cat "$T/$out.log" | tail -3))"
	say "$out: $(head -1 "$T/$out.out")"
}
# field OUT KEY: a key=value of OUT's lines.
field() {
	tr ' ' '\n' <"$T/$1.out" | sed -n "s/^$2=//p" | head -1
}

ONE=$(conf one 127.0.0.1:1812)

# EAP-MD5, three rounds: Identity, MD5 response, then the Accept.
drive md5 "$ONE" alice alice-pw-1 md5
[ "$(field md5 result)" = accept ] || fail "md5: not accepted"
[ "$(field md5 eap_code)" = 3 ] || fail "md5: no EAP-Success"
[ "$(field md5 rounds)" = 2 ] || fail "md5: rounds $(field md5 rounds)"
grep -q 'Message-Authenticator' "$T/rad1.log" ||
    fail "freeradius shows no Message-Authenticator"
grep -qi 'invalid Message-Authenticator' "$T/rad1.log" &&
    fail "freeradius refused our Message-Authenticator"
grep -q 'NAS-Identifier = "iketcp-test"' "$T/rad1.log" ||
    fail "no NAS-Identifier at freeradius"
grep -q 'NAS-Port-Type = Virtual' "$T/rad1.log" ||
    fail "no NAS-Port-Type Virtual at freeradius"
grep -q 'Calling-Station-Id = "198.51.100.7:4500"' "$T/rad1.log" ||
    fail "no Calling-Station-Id at freeradius"

# EAP-MSCHAPv2: md5 offered first, Nak, then MSCHAPv2; the MSK.
drive mschap "$ONE" alice alice-pw-1 mschapv2
[ "$(field mschap result)" = accept ] || fail "mschapv2: not accepted"
[ "$(field mschap msk_len)" = 64 ] ||
    fail "mschapv2: MSK of $(field mschap msk_len) octets"
[ "$(field mschap msk_match)" = yes ] ||
    fail "mschapv2: MSK differs from the peer's (MS-MPPE decryption)"
grep -q 'MS-MPPE-Recv-Key' "$T/rad1.log" || fail "no MPPE keys sent"

# A wrong password: Access-Reject, EAP-Failure.
drive wrong "$ONE" alice not-her-password md5
[ "$(field wrong result)" = reject ] || fail "wrong password not rejected"
[ "$(field wrong eap_code)" = 4 ] || fail "wrong password: no EAP-Failure"
drive wrongms "$ONE" alice not-her-password mschapv2
[ "$(field wrongms result)" = reject ] ||
    fail "wrong MSCHAPv2 password not rejected"

# Framed-IP-Address and Class.
drive framed "$ONE" carol carol-pw-2 md5
[ "$(field framed result)" = accept ] || fail "carol not accepted"
[ "$(field framed framed_ip)" = 10.9.0.77 ] ||
    fail "Framed-IP-Address $(field framed framed_ip)"
[ "$(field framed class)" = yes ] || fail "no Class"
[ "$(field md5 framed_ip)" = - ] || fail "alice got a Framed-IP-Address"

# A dead first server: 1 + 2 retransmissions of 300 ms, then rad1.
DEAD=$(conf dead 127.0.0.2:1999 127.0.0.1:1812)
drive dead "$DEAD" alice alice-pw-1 md5
[ "$(field dead result)" = accept ] || fail "no failover"
[ "$(field dead failovers)" = 1 ] || fail "failovers $(field dead failovers)"
[ "$(field dead retransmits)" = 2 ] ||
    fail "retransmits $(field dead retransmits)"
[ "$(field dead server)" = 127.0.0.1:1812 ] || fail "answered by?"
ms=$(field dead ms)
[ "$ms" -ge 880 ] && [ "$ms" -le 5000 ] ||
    fail "failover after $ms ms, want about 900 ms"

# freeradius with another secret: our Message-Authenticator is refused
# there, so no answer; every server's tries, then a timeout.
WRONG=$(conf wrongsecret 127.0.0.1:1813)
drive wrongsecret "$WRONG" alice alice-pw-1 md5
[ "$(field wrongsecret result)" = timeout ] || fail "wrong secret answered"
[ "$(field wrongsecret pending)" = 0 ] || fail "a request left pending"
grep -q 'invalid Message-Authenticator' "$T/rad2.log" ||
    fail "rad2 did not refuse the Message-Authenticator"
ms=$(field wrongsecret ms)
[ "$ms" -ge 880 ] || fail "timed out after $ms ms < 3 x 300 ms"

# A hostile server: spoofed and broken answers dropped and counted.
bg spoof 60 ip netns exec "$N" "$IKT_PY" "$IKT_DIR/radspoof.py" \
    127.0.0.1 1814 "$SECRET" 200
wait_log "$T/spoof.log" ready 10 || fail "radspoof did not start"
SPOOF=$(conf spoof 127.0.0.1:1814)
drive spoof "$SPOOF" alice alice-pw-1 md5
[ "$(field spoof result)" = reject ] ||
    fail "hostile server: $(head -1 "$T/spoof.out")"
[ "$(field spoof answers)" = 2 ] || fail "answers $(field spoof answers)"
for k in drop_auth drop_msg_auth drop_id drop_form; do
	[ "$(field spoof $k)" -ge 2 ] || fail "$k $(field spoof $k) < 2"
done
[ "$(field spoof drop_source)" -ge 100 ] ||
    fail "drop_source $(field spoof drop_source)"
say "spoof: $(tail -1 "$T/spoof.out")"
ok
