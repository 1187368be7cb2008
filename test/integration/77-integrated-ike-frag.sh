#!/usr/bin/env bash
# RFC 7383 IKE fragmentation of what the integrated server sends over UDP
# (issue 12), against an unmodified strongSwan initiator on plain UDP.
# The server authenticates with a certificate chain (RSA root -> RSA mid
# -> RSA server, sent with the intermediate: the IKE_AUTH response is
# about 2.7 KB); the client has only the root, as phones do.  In the
# client's namespace nftables drops IP fragments before reassembly (IPv4:
# non-first fragments; IPv6: any fragment header), as many mobile
# networks do:
#  * ike-fragment-size = 0 (fragmentation off, what the server did
#    before): the IKE_AUTH response needs IP fragments, they are dropped,
#    IKE_AUTH fails -- the drop rule bites;
#  * the default (1280) with the client's fragmentation = yes: the
#    response leaves as Encrypted Fragment payloads (SKF, RFC 7383 §2.5)
#    in datagrams of at most 1280 octets with IP and UDP headers, none IP
#    fragmented; charon logs that it received and reassembled them; the
#    tunnel comes up and carries pings; the server counts them;
#  * fragment 2 dropped once: the client retransmits its request and the
#    server resends every fragment, byte for byte the same (§2.6, RFC
#    7296 §2.1: no new encryption);
#  * the client's fragmentation = no (no IKEV2_FRAGMENTATION_SUPPORTED),
#    drops off: the response goes whole (one IP-fragmented datagram);
#  * IPv6 outer addresses, fragment headers dropped: up through SKF;
#  * the same client through the connector, over a stream: whole
#    messages, never fragments (RFC 9329);
#  * -t refuses a bad ike-fragment-size with file:line.
# The IKE set-up time with and without fragmentation is printed.
. "$(dirname "$0")/lib.sh"

need_root
need_iketcpd
SVC_ADDR=10.10.0.1
SRV6=fd00:77::2
CLI6=fd00:77::1
P=$T/pki
mkdir -p "$P"
pki --gen --type rsa --size 3072 --outform pem >"$P/root.key"
pki --self --ca --in "$P/root.key" --dn "C=CH, O=iketcp test, CN=frag root" \
    --outform pem >"$P/root.pem"
pki --gen --type rsa --size 3072 --outform pem >"$P/mid.key"
pki --issue --cacert "$P/root.pem" --cakey "$P/root.key" --type priv \
    --in "$P/mid.key" --dn "C=CH, O=iketcp test, CN=frag intermediate" --ca \
    --outform pem >"$P/mid.pem"
pki --gen --type rsa --size 3072 --outform pem >"$P/srv.key"
pki --issue --cacert "$P/mid.pem" --cakey "$P/mid.key" --type priv \
    --in "$P/srv.key" --dn "C=CH, O=iketcp test, CN=vpn.test" \
    --san vpn.test --flag serverAuth --flag ikeIntermediate \
    --outform pem >"$P/srv.pem"
cat "$P/srv.pem" "$P/mid.pem" >"$P/chain.pem"
pki --gen --type ecdsa --size 256 --outform pem >"$P/cli.key"
pki --issue --cacert "$P/root.pem" --cakey "$P/root.key" --type priv \
    --in "$P/cli.key" --dn "CN=initiator.test" --san initiator.test \
    --outform pem >"$P/cli.pem"

ns_new C
ns_new R
link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
ip -n "$(ns C)" addr add "$CLI6/64" dev vR nodad
ip -n "$(ns R)" addr add "$SRV6/64" dev vC nodad
ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo

# srv_start [LINE...]: (re)start the server with these extra lines.
srv_start()
{
	if [ -n "${RELAY_PID:-}" ]; then
		# Stopped on purpose: no longer one that must run at the end.
		IKT_RELAYS=()
		stop_pid "$RELAY_PID"
	fi
	{
		cat <<EOC
[global]
log-level = debug

[integrated vpn]
listen = $RELAY_C_ADDR:4500
udp-listen = $RELAY_C_ADDR:500
udp-listen = $RELAY_C_ADDR:4500
udp-listen = [$SRV6]:500
udp-listen = [$SRV6]:4500
udp-encap = yes
id = vpn.test
cert = $P/chain.pem
key = $P/srv.key
ca = $P/root.pem
ike-proposals = aes256gcm16-prfsha384-x25519
esp-proposals = aes256gcm16
pool = 10.10.0.0/24
tun = iketcp0
EOC
		printf '%s\n' "$@"
	} >"$T/srv.conf"
	relay_start srv "$T/srv.conf" 4500 R
}

# init_start REMOTE FRAGMENTATION: (re)start the initiator toward REMOTE
# from the address of its family, with swanctl's fragmentation = yes|no.
init_start()
{
	local d=$T/init local=$CLIENT_ADDR
	case $1 in *:*) local=$CLI6 ;; esac
	[ -n "${SWAN_PID_init:-}" ] && stop_pid "$SWAN_PID_init"
	rm -rf "$d"
	swan_conf "$d" "	port = 510
	port_nat_t = 4510"
	cp "$P/cli.pem" "$d/swanctl/x509/cli.pem"
	cp "$P/cli.key" "$d/swanctl/ecdsa/cli.key"
	cp "$P/root.pem" "$d/swanctl/x509ca/"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = $local
		remote_addrs = $1
		proposals = aes256gcm16-prfsha384-x25519
		vips = 0.0.0.0
		mobike = no
		fragmentation = $2
		send_cert = always
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

down()
{
	swanctl_ "$T/init" --terminate --ike home --timeout 10 >/dev/null 2>&1 ||
	    true
}

# The client's network drops IP fragments, before the kernel reassembles
# them (priority below conntrack's defragmentation, -400).
nft_drop()
{
	ns_exec C nft -f - <<'EOF'
table inet ikt77 {
	chain pre {
		type filter hook prerouting priority -450; policy accept;
		ip frag-off & 0x1fff != 0 counter drop
		exthdr frag exists counter drop
	}
}
EOF
}
nft_clear() { ns_exec C nft delete table inet ikt77 2>/dev/null || true; }

# frag_stats: the server's "ike messages fragmented N (M fragments)".
frag_stats()
{
	local before
	before=$(count_log "$T/srv.log" "stats: udp:")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/srv.log" "stats: udp:")" -gt "$before" ] &&
		    break
		sleep 0.1
	done
	grep -o "ike messages fragmented [0-9]* ([0-9]* fragments)" \
	    "$T/srv.log" | tail -n 1
}

# auth_resp PCAP: the server's IKE_AUTH response datagrams (message ID 1,
# exchange 35, Response flag), one JSON object a line.
auth_resp()
{
	pcap_json "$1" --payload | "$IKT_PY" -c '
import json, sys
for p in json.load(sys.stdin)["packets"]:
	if p.get("kind") == "ike" and p.get("exchange") == 35 and \
	    p.get("msgid") == 1 and p.get("flags", 0) & 0x20:
		print(json.dumps(p))'
}

# bench: IKE_FRAG_ROUNDS (5) more set-ups of the tunnel just brought
# down; BENCH is "median (min-max) ms" of swanctl's initiate times.
bench()
{
	local i ts=()
	for i in $(seq "${IKE_FRAG_ROUNDS:-5}"); do
		down
		tunnel_up
		ts+=("$IKE_MS")
	done
	BENCH=$(printf '%s\n' "${ts[@]}" | sort -n | awk '
	    { v[NR] = $1 } END { printf "%d (%d-%d)", v[int((NR + 1) / 2)],
	    v[1], v[NR] }')
}

L=$T/init/charon.log
INIT_TO=$RELAY_C_ADDR

# -t: a bad ike-fragment-size names its line.
for v in 300 70000 big -1; do
	cat >"$T/bad.conf" <<EOC
[integrated vpn]
listen = $RELAY_C_ADDR:4500
id = vpn.test
cert = $P/chain.pem
key = $P/srv.key
ca = $P/root.pem
pool = 10.10.0.0/24
ike-fragment-size = $v
EOC
	out=$("$IKETCPD" -t -f "$T/bad.conf" 2>&1) &&
	    fail "-t accepted ike-fragment-size = $v"
	grep -q "bad.conf:8: bad ike-fragment-size \"$v\": want 0 (off) or 576 to 65535" \
	    <<<"$out" || fail "-t on ike-fragment-size = $v: $out"
done
say "-t refuses ike-fragment-size 300, 70000, big, -1 with file:line"

# 1. Fragmentation off at the server, IP fragments dropped: IKE_AUTH fails.
nft_drop
srv_start "ike-fragment-size = 0"
init_start "$INIT_TO" yes
# swanctl gives up waiting after 6 s (charon has retransmitted twice).
swanctl_ "$T/init" --initiate --child net --timeout 6 >"$T/off.log" 2>&1 &&
    fail "IKE_AUTH succeeded though its IP fragments were dropped"
grep -q "parsed IKE_SA_INIT response 0" "$L" || fail "off: no IKE_SA_INIT"
grep -q "parsed IKE_SA_INIT response 0 .*FRAG_SUP" "$L" &&
    fail "off: the server answered IKEV2_FRAGMENTATION_SUPPORTED"
grep -q "parsed IKE_AUTH response" "$L" &&
    fail "off: an IKE_AUTH response arrived through the drop"
grep -q "retransmit .* of request with message ID 1" "$L" ||
    fail "off: the initiator did not retransmit IKE_AUTH"
n=$(ns_exec C nft list table inet ikt77 | sed -nE \
    's/.*frag-off .* packets ([0-9]+) .*/\1/p')
[ "${n:-0}" -gt 0 ] || fail "off: no IP fragment was dropped"
say "fragmentation off: IKE_AUTH fails, $n IP fragments dropped"

# 2. The default, client offers fragmentation: SKF, no IP fragments.
srv_start
capture_start c1 C vR udp
init_start "$INIT_TO" yes
tunnel_up
T_FRAG=$IKE_MS
ping_tunnel 3
grep -q "parsed IKE_SA_INIT response 0 .*FRAG_SUP" "$L" ||
    fail "the server did not answer IKEV2_FRAGMENTATION_SUPPORTED"
grep -q "received fragment #1 of [2-9], waiting for complete IKE message" \
    "$L" || fail "charon logged no first fragment: $(grep -i frag "$L")"
grep -Eq "received fragment #[2-9] of [2-9], reassembled fragmented IKE message \([0-9]+ bytes\)" \
    "$L" || fail "charon did not reassemble: $(grep -i frag "$L")"
grep -q "received end entity cert \"C=CH, O=iketcp test, CN=vpn.test\"" \
    "$L" || fail "no server certificate"
grep -q "received issuer cert \"C=CH, O=iketcp test, CN=frag intermediate\"" \
    "$L" || fail "the intermediate did not arrive"
sleep 0.3
auth_resp c1 >"$T/c1.json"
"$IKT_PY" - "$T/c1.json" <<'EOF' >/dev/null || fail "wire: $(cat "$T/c1.json")"
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
assert len(ps) >= 2, "%d datagrams" % len(ps)
total = ps[0].get("frag_total")
assert total and total >= 2, ps[0]
for i, p in enumerate(ps):
	assert p["payloads"] == ["SKF"], p
	assert p.get("frag_num") == i + 1 and p.get("frag_total") == total, p
	assert not p.get("ipfrag"), "IP fragment: %s" % p
	# IPv4 20 + UDP 8 + the datagram: 1280 at most.
	assert 28 + p["len"] <= 1280, "%d octets" % p["len"]
assert len(ps) == total, "%d of %d" % (len(ps), total)
print(total, sum(p["len"] for p in ps))
EOF
read -r NF NB < <("$IKT_PY" - "$T/c1.json" <<'EOF'
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
print(len(ps), sum(p["len"] for p in ps))
EOF
)
st=$(frag_stats)
case $st in
"ike messages fragmented 1 ($NF fragments)") ;;
*) fail "server stats: '$st', want 1 message in $NF fragments" ;;
esac
say "fragmentation on: IKE_AUTH response in $NF SKF datagrams ($NB octets of UDP payload), none over 1280 with IP and UDP headers; up in $T_FRAG ms; server: $st"
bench
B_FRAG=$BENCH
down

# 3. Fragment 2 dropped once: every fragment resent, the same bytes.
# UDP payload: marker 4, IKE header 28 (Next Payload at 16), SKF header
# 4, then Fragment Number: from the UDP header, octets 28 and 44.
ns_exec C nft add rule inet ikt77 pre udp sport 4500 @th,224,8 53 \
    @th,352,16 2 counter drop comment \"frag2\"
capture_start c2 C vR udp
init_start "$INIT_TO" yes
swanctl_ "$T/init" --initiate --child net --timeout 30 >"$T/rtx.log" 2>&1 &
RTX_PID=$!
for _ in $(seq 100); do
	n=$(ns_exec C nft list table inet ikt77 | sed -nE \
	    's/.*packets ([0-9]+) .*comment "frag2".*/\1/p')
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.05
done
[ "${n:-0}" -gt 0 ] || fail "fragment 2 never seen"
h=$(ns_exec C nft -a list chain inet ikt77 pre | sed -nE \
    's/.*comment "frag2" # handle ([0-9]+)/\1/p')
ns_exec C nft delete rule inet ikt77 pre handle "$h"
wait "$RTX_PID" || fail "IKE_AUTH after the lost fragment: $(cat "$T/rtx.log")"
grep -q "retransmit 1 of request with message ID 1" "$L" ||
    fail "the initiator did not retransmit IKE_AUTH"
sleep 0.3
auth_resp c2 >"$T/c2.json"
"$IKT_PY" - "$T/c2.json" <<'EOF' >/dev/null || fail "resend: $(cat "$T/c2.json")"
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
total = ps[0]["frag_total"]
by = {}
for p in ps:
	by.setdefault(p["frag_num"], []).append(p["hex"])
for k in range(1, total + 1):
	assert len(by.get(k, [])) >= 2, "fragment %d sent %d times" % \
	    (k, len(by.get(k, [])))
	assert len(set(by[k])) == 1, "fragment %d resent with other bytes" % k
print(total)
EOF
ping_tunnel 3
say "fragment 2 lost once: all fragments resent, byte for byte the same"
down

# 4. The client does not offer fragmentation: the response goes whole.
nft_clear
capture_start c3 C vR udp
init_start "$INIT_TO" no
tunnel_up
T_WHOLE=$IKE_MS
ping_tunnel 3
grep -q "received fragment" "$L" && fail "fragments without the offer"
sleep 0.3
auth_resp c3 >"$T/c3.json"
"$IKT_PY" - "$T/c3.json" <<'EOF' || fail "whole check: $(cat "$T/c3.json")"
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
assert len(ps) == 1, "%d datagrams" % len(ps)
p = ps[0]
assert p.get("ipfrag") and p["udp_len"] > 1280, p
assert p.get("next") == 46, p		# SK, not SKF
EOF
say "fragmentation = no at the client: one whole IKE_AUTH response (IP fragmented); up in $T_WHOLE ms"
bench
B_WHOLE=$BENCH
down

# 5. IPv6: fragment headers dropped, SKF datagrams of 1280 octets at most.
nft_drop
capture_start c4 C vR udp
init_start "$SRV6" yes
tunnel_up
T_FRAG6=$IKE_MS
ping_tunnel 3
grep -Eq "reassembled fragmented IKE message" "$L" ||
    fail "IPv6: no reassembled fragments"
sleep 0.3
auth_resp c4 >"$T/c4.json"
"$IKT_PY" - "$T/c4.json" <<'EOF' || fail "IPv6 check: $(cat "$T/c4.json")"
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
assert len(ps) >= 2 and len(ps) == ps[0]["frag_total"], ps
for p in ps:
	assert p["payloads"] == ["SKF"] and 48 + p["len"] <= 1280, p
EOF
say "IPv6, fragment headers dropped: up through SKF in $T_FRAG6 ms"
down

# 6. Over a stream (the connector, TCP to 4500): whole messages only.
before=$(frag_stats)
connector_up cn
init_start "$CN_ADDR" yes
tunnel_up
T_STREAM=$IKE_MS
ping_tunnel 3
grep -q "parsed IKE_AUTH response 1 \[ IDr CERT CERT AUTH" "$L" ||
    fail "stream: no whole IKE_AUTH response: $(grep 'IKE_AUTH response' "$L")"
grep -q "received fragment" "$L" && fail "stream: fragments reached the client"
after=$(frag_stats)
[ "$after" = "$before" ] || fail "stream: the server fragmented ($after)"
say "over a stream: whole IKE_AUTH response, nothing fragmented; up in $T_STREAM ms"
down
say "IKE set-up (median (min-max) of ${IKE_FRAG_ROUNDS:-5}, ms): $B_FRAG with fragmentation (3 SKF datagrams), $B_WHOLE without (one IP-fragmented datagram); once: IPv6 with fragmentation $T_FRAG6, over TCP $T_STREAM"
ok
