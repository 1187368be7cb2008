#!/usr/bin/env bash
# NAT keepalives (the frame 00 03 ff, RFC 9329 section 3) are dropped: the
# gateway receives nothing for them, and the stream stays usable.
. "$(dirname "$0")/lib.sh"

topo_relay_gw
relay_up relay 4500

# Keepalives only: the stream stays open, nothing reaches the gateway.
out=$(ikeclient R raw --connect 127.0.0.1:4500 --prefix iketcp \
    --hex 0003ff --hex 0003ff0003ff --wait 1.5 --expect-open) ||
    fail "keepalive-only stream was closed: $out"

# Three keepalives before each of two IKE_SA_INITs on one stream.
out=$(ikeclient R init --connect 127.0.0.1:4500 --keepalives 3 --count 2 \
    --interval 0.5) || fail "IKE_SA_INIT after keepalives: $out"

sleep 0.3
pj=$(pcap_json gw --src "$RELAY_ADDR")
n=$(jget count <<<"$pj")
[ "$n" = 2 ] || fail "gateway got $n datagrams from the relay, want 2: $pj"
python_check=$("$IKT_PY" -c 'import json, sys
p = json.load(sys.stdin)["packets"]
print(" ".join(x["kind"] + "/" + str(x["len"]) for x in p))' <<<"$pj")
case " $python_check " in
*keepalive*) fail "a keepalive reached the gateway: $python_check" ;;
esac
[ "$(count_log "$(gw_log)" "received packet: from $RELAY_ADDR\[[0-9]+\] to $GW_ADDR\[4500\] \(1 bytes\)")" = 0 ] ||
    fail "gateway logged a 1-byte packet"
ok
