#!/usr/bin/env bash
# TLS on a relay listener (RFC 9329 Appendix A), against a real strongSwan
# gateway: a Python ssl client (TLS 1.3 and 1.2) and openssl s_client
# each get a real IKE_SA_INIT answer through TLS, byte for byte on the
# gateway wire; a client offering only NULL-encryption suites is refused
# by default and served with tls-null = yes (Appendix A: "SHOULD allow the
# NULL cipher", an opt-in here); bad tls-ciphers and tls-ciphersuites
# elements are named by -t; a session resumes, also across a SIGHUP that
# loads a new certificate without dropping a live TLS stream; the same
# port still takes a raw stream; TLS garbage closes only its own stream.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
tls_cert cert1 relay-one.test
tls_cert cert2 relay-two.test
cp "$T/cert1.crt" "$T/relay.crt"
cp "$T/cert1.key" "$T/relay.key"
relay_up relay 443 listen=127.0.0.1:4500 tls-listen=127.0.0.1:443 \
    tls-cert="$T/relay.crt" tls-key="$T/relay.key"

# Python ssl, TLS 1.3: the gateway gets the request byte for byte.
out=$(ikeclient R init --connect 127.0.0.1:443 --tls --sni relay-one.test \
    --save-req "$T/req13" --save-resp "$T/resp13") || fail "TLS 1.3: $out"
[ "$(jget tls_version <<<"$out")" = TLSv1.3 ] ||
    fail "want TLSv1.3: $(jget tls_version <<<"$out")"
spi=$(jget spi_i <<<"$out")
pj=$(pcap_json gw --spi "$spi" --payload)
[ "$(jget count <<<"$pj")" = 2 ] || fail "TLS 1.3: want 2 datagrams: $pj"
[ "$(jget packets.0.hex <<<"$pj")" = "00000000$(hexof "$T/req13")" ] ||
    fail "TLS 1.3: the datagram is not marker + request byte for byte"
[ "$(jget packets.1.hex <<<"$pj")" = "$(hexof "$T/resp13")" ] ||
    fail "TLS 1.3: the response differs from the gateway's datagram"
cport=$(jget local_port <<<"$out")
wait_stream_log relay "$cport" "TLS TLSv1.3 .* sni=relay-one.test" ||
    fail "no TLS line with version and SNI"
say "TLS 1.3 ok: $(relay_stream_log relay "$cport" "TLS TLSv" |
    sed 's/.*: TLS/TLS/')"

# TLS 1.2; a client that offers only NULL-encryption suites is refused by
# default (tls-null = no): scanners flag NULL, and it shows CONNECT
# credentials to the path.
out=$(ikeclient R init --connect 127.0.0.1:443 --tls --tls-max 1.2) ||
    fail "TLS 1.2: $out"
[ "$(jget tls_version <<<"$out")" = TLSv1.2 ] || fail "want TLSv1.2: $out"
if out=$(ikeclient R init --connect 127.0.0.1:443 --tls --tls-max 1.2 \
    --tls-ciphers 'eNULL:@SECLEVEL=0' 2>&1); then
	fail "the default negotiated a NULL suite: $out"
fi
say "NULL-only client refused by default"

# openssl s_client, with the prefix and one frame on stdin.
ikeclient R init --connect 127.0.0.1:4500 --save-req "$T/req-s" >/dev/null ||
    fail "raw stream on the same relay"
spi=5c11e47000000001
{ frames_of iketcp "$T/req-s" "$spi"; sleep 2; } |
    s_client R -connect 127.0.0.1:443 -servername relay-one.test -quiet -no_ign_eof \
    -sess_out "$T/sess.pem" >"$T/s_client.out" 2>"$T/s_client.log" || true
out=$("$IKT_PY" "$IKT_DIR/ikeclient.py" frames "$T/s_client.out" \
    --spi "$spi") || fail "s_client got no IKE_SA_INIT answer: $out"
[ -s "$T/sess.pem" ] || fail "s_client saved no session"

# Resumption: the saved session is reused (RFC 9329 Appendix A).
resumed()
{
	{ sleep 1; } | s_client R -connect 127.0.0.1:443 \
	    -servername relay-one.test -sess_in "$T/sess.pem" \
	    >"$T/resume.out" 2>&1 || true
	grep -q '^Reused, ' "$T/resume.out"
}
resumed || fail "session not resumed: $(grep -E 'New|Reused' "$T/resume.out")"
wait_log "$T/relay.log" "TLS TLSv1.3 .* resumed" 5 ||
    fail "the relay did not log a resumed session"

# A live TLS stream (two requests 4 s apart) survives a SIGHUP that loads
# a new certificate; new handshakes get the new one; tickets still work.
client_bg A init --connect 127.0.0.1:443 --tls --count 2 --interval 4
sleep 1
cp "$T/cert2.crt" "$T/relay.crt"
cp "$T/cert2.key" "$T/relay.key"
kill -HUP "$RELAY_DPID"
wait_log "$T/relay.log" "reloaded" 5 || fail "no reload"
s_client R -connect 127.0.0.1:443 </dev/null >"$T/new.out" 2>&1 || true
grep -q "CN *= *relay-two.test" "$T/new.out" ||
    fail "new handshakes do not get the reloaded certificate"
resumed || fail "a ticket from before the reload did not resume"

# TLS garbage: a ClientHello header with junk behind it closes that stream.
out=$(ikeclient R raw --connect 127.0.0.1:443 \
    --hex 160301002001"$(printf 'ff%.0s' $(seq 31))" --wait 3 --expect-close) ||
    fail "TLS garbage: stream not closed: $out"
gport=$(jget local_port <<<"$out")
wait_stream_log relay "$gport" "TLS handshake failed" ||
    fail "no log line for the TLS garbage"
say "garbage: $(relay_stream_log relay "$gport" "TLS handshake failed" |
    sed 's/.*: TLS/TLS/')"

client_wait A || fail "live TLS stream broke across the reload: $(client_json A)"
[ "$(client_json A | jget responses.1.exchange)" = 34 ] ||
    fail "live TLS stream: no second response"

# tls-null = yes (the opt-in) still negotiates a NULL suite, on a second
# relay; the client offers nothing else.
relay_up relaynull 8443 listen=127.0.0.1:4501 tls-listen=127.0.0.1:8443 \
    tls-cert="$T/relay.crt" tls-key="$T/relay.key" tls-null=yes
out=$(ikeclient R init --connect 127.0.0.1:8443 --tls --tls-max 1.2 \
    --tls-ciphers 'eNULL:@SECLEVEL=0') || fail "tls-null = yes: $out"
case $(jget tls_cipher <<<"$out") in
*NULL*) say "tls-null = yes: $(jget tls_cipher <<<"$out")" ;;
*) fail "a NULL suite was offered alone, got $(jget tls_cipher <<<"$out")" ;;
esac

# -t names the cipher-list element OpenSSL would skip without a word.
for kv in 'tls-ciphers=ECDHE+AESGCM:ECDHE-RSA-AES128-GCM-SHA265' \
    'tls-ciphersuites=TLS_AES_256_GCM_SHA384:TLS_AES_129_GCM'; do
	relay_conf "$T/badciph.conf" listen=127.0.0.1:4502 \
	    tls-listen=127.0.0.1:8444 tls-cert="$T/relay.crt" \
	    tls-key="$T/relay.key" "$kv"
	rc=0
	"$IKETCPD" -t -f "$T/badciph.conf" >"$T/badciph.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "${kv%%=*}: -t exit $rc, want 1"
	grep -Eq "^$T/badciph.conf:[0-9]+: .*\"(ECDHE-RSA-AES128-GCM-SHA265|TLS_AES_129_GCM)\"" \
	    "$T/badciph.log" || fail "${kv%%=*}: $(cat "$T/badciph.log")"
	say "$(head -n 1 "$T/badciph.log" | sed 's/.*: \[relay t\]: //')"
done
ok
