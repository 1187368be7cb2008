#!/usr/bin/env bash
# Issue 11, finding 2: many attacker streams, from several addresses,
# before and after A's reconnect, must neither evict A's re-attach nor
# divert A's resume into a new session.
#
# Set-up as in 60 (A idle with no ESP sent, so that its new stream must
# prove itself by IKE; see 60's header).  In order:
#   1. squatting: while A's stream is alive, 2 attacker streams (both
#      addresses of X) open with A's IKE SPIs (first message: a forged
#      INFORMATIONAL request), and stay;
#   2. A's stream is reset right after a DPD exchange; the gateway's
#      datagrams toward the relay are held back for a while (nft in R
#      drops them; the initiator retransmits after 1 s), so that the
#      window between A's request and its answer is wide open;
#   3. before A's reconnect shows a request: 3 streams claim A's SPIs and
#      next message ID;
#   4. A's DPD request goes out on its new stream; then 5 more attacker
#      streams claim the same (today's four probation slots: the newest
#      push A's out, and A's answer goes to an attacker);
#   5. the gateway is let through again.
# 10 attacker streams from 2 addresses in all.  Asserted: no attacker
# stream receives a byte after its prefix; A answers its DPD, keeps the
# SAME IKE SPIs, is authenticated once, pings pass; after the resume all
# of A's traffic to and from the gateway (IKE with A's SPIs and ESP) runs
# over ONE relay port, the one that carried A's answered request, i.e.
# A's session's socket, not a second one; and (loose log match, the only
# observable of which session a stream joined) the relay started one
# session only for A's address, "session ... new" once.
. "$(dirname "$0")/lib.sh"
. "$IKT_DIR/attack.sh"

attack_setup
mid=$(a_next_msgid)
claim_bg squat "$mid" 2 "$ATK_ADDR1,$ATK_ADDR2" 20

kill_a_stream
# Gateway -> relay held back from here.
ns_exec R nft -f - <<'EON' || fail "nft"
table inet ikthold {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.2 udp sport 4500 drop
	}
}
EON
mid=$(a_next_msgid)
say "attackers claim SPIs $A_SPI_I/$A_SPI_R, message ID $mid"
claim_bg before "$mid" 3 "$ATK_ADDR2,$ATK_ADDR1" 15
n=$(dpd_requests)
wait_count dpd_requests "$n" 8 || fail "A sent no request after the break"
sleep 0.3
claim_bg after "$mid" 5 "$ATK_ADDR1,$ATK_ADDR2" 12
sleep 0.2
ns_exec R nft delete table inet ikthold
resumed_at=$(date +%s.%N)

wait_count dpd_answers "$A_KILLED_ANSWERS" 10 ||
    ATTACK_ERRS+=("A's DPD request after the break was not answered")
for c in squat before after; do
	claim_check "$c"
done
a_resumed

# After the resume: one relay port for A's IKE SA and ESP, both ways.
ports=$(pcap_json gw | "$IKT_PY" -c 'import json, sys
t0, spi = float(sys.argv[1]), sys.argv[2]
ports = set()
for p in json.load(sys.stdin)["packets"]:
	if p["ts"] < t0 or "192.0.2.1" not in (p["src"], p["dst"]):
		continue
	mine = p.get("spi_i") == spi if p.get("kind") == "ike" else \
	    p.get("kind") == "esp"
	if mine:
		ports.add(p["sport"] if p["src"] == "192.0.2.1" else p["dport"])
print(" ".join(str(x) for x in sorted(ports)))' "$resumed_at" "$A_SPI_I")
say "relay ports of A's traffic after the resume: $ports"
case $ports in
"") ATTACK_ERRS+=("none of A's traffic reached the gateway after the resume") ;;
*" "*) ATTACK_ERRS+=("A's traffic after the resume is split over relay ports $ports") ;;
esac
# Loose: one "session ... new" for A's address (wording may change).
n=$(grep -E "198\.51\.100\.1:[0-9]+" "$T/relay.log" |
    grep -cE "session( [0-9]+)? new" || true)
[ "$n" = 1 ] ||
    ATTACK_ERRS+=("the relay started $n sessions for A's address, want 1")
attack_verdict
