#!/usr/bin/env bash
# make bench's wesp cases (test/bench/run.sh): ESP over one stream into an
# [integrated] section's TUN device, end to end, with workers = 1 and
# workers = 2 in alternating runs.
#
#   test/bench/espflow.sh BUILD-DIR SIZE
#
# Each run: the integrated server (iketcpd, namespace R, workers = W) and
# an unmodified strongSwan initiator behind the connector (namespace C)
# set up an IKE SA and a Child SA (AES-GCM-16-256) over a stream, as the
# integration tests do (test/integration/lib.sh).  The Child SA's key is
# taken from the initiator's log, the connector is stopped (its stream
# ends, the session lingers), and BUILD/bench/load esp opens a stream from
# the same client address and sends ESP of that SA as fast as TCP takes
# it: the session is re-attached by the ESP SPI (relay/README), and each
# message is decrypted and written to the TUN as an inner IPv4/UDP packet
# of SIZE bytes from the client's virtual IP to 10.99.0.1, which R drops
# (no forwarding).  Measured over the middle 60 % of the run, as run.sh
# does: packets the TUN received per second, and the CPU of the server's
# processes (master and workers).  Nothing is pinned: the server, the
# load (which encrypts) and the kernel share the machine's CPUs.
#
# Output, one line per run on stdout:
#   espw w=W i=PAIR msg_s=TUN-PACKETS/S sent_s=LOAD-PACKETS/S cpu_pct=%
# Environment: BENCH_SECONDS (1.8), BENCH_PAIRS (5), BENCH_WORKERS_LIST
# ("1 2": the workers of each pair, in order).
B=${1:?usage: espflow.sh BUILD-DIR SIZE}
SIZE=${2:?usage: espflow.sh BUILD-DIR SIZE}
case $B in /*) ;; *) B=$PWD/$B ;; esac
# shellcheck disable=SC2034  # lib.sh reads IKETCPD and IKT_LIFE
IKETCPD=$B/iketcpd
LOAD=$B/bench/load
# shellcheck disable=SC2034
IKT_LIFE=900
IKT_QUIET=${IKT_QUIET:-}
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

SECS=${BENCH_SECONDS:-1.8}
WARM=0.2
PAIRS=${BENCH_PAIRS:-5}
WLIST=${BENCH_WORKERS_LIST:-1 2}
HZ=$(getconf CLK_TCK)
[ -x "$LOAD" ] || fail "$LOAD missing (make builds it)"

# tree PID: PID and its descendants.
tree()
{
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		tree "$c"
	done
}

# ticks PID: user + system clock ticks of PID's tree.
ticks()
{
	local p f t=0 a
	for p in $(tree "$1"); do
		read -r f 2>/dev/null <"/proc/$p/stat" || continue
		f=${f##*) }
		read -ra a <<<"$f"
		t=$((t + a[11] + a[12]))
	done
	echo "$t"
}

# rx: packets the server's TUN received (iketcpd wrote) so far.
rx()
{
	ip netns exec "$(ns R)" cat /sys/class/net/iketcp0/statistics/rx_packets
}

integ_topo
INIT_MOBIKE=no SWAN_LOG_EXTRA="chd = 4" initiator_start

# one_run W I: one measured run with workers = W.
one_run()
{
	local w=$1 i=$2 name="srv$1-$2" sas spi pk key vip out c0 c1 r0 r1 t0 t1
	IKT_GLOBAL=$([ "$w" = 1 ] || echo "workers = $w") \
	    INTEG_LOG_LEVEL=info integ_server_up "$name"
	connector_up "cn$w-$i" reconnect-min=10s
	swanctl_ "$T/init" --terminate --ike home --force >/dev/null 2>&1 ||
	    true
	tunnel_up
	sas=$(swanctl_ "$T/init" --list-sas 2>&1)
	spi=$(sed -nE 's/^ *out ([0-9a-f]{8}),.*/\1/p' <<<"$sas" | tail -n 1)
	pk=$(sed -nE 's/^ *out [0-9a-f]{8}, *[0-9]+ bytes, *([0-9]+) packets.*/\1/p' \
	    <<<"$sas" | tail -n 1)
	# The newest Child SA's initiator encryption key (and salt).
	key=$(grep -A3 "encryption initiator key" "$T/init/charon.log" |
	    tail -n 4 |
	    sed -nE 's/.*CHD\] <[^>]*> +[0-9]+: (([0-9A-F]{2} )+) .*/\1/p' |
	    tr -d ' \n')
	vip=$(ip -n "$(ns C)" -4 -o addr show |
	    grep -oE '10\.10\.0\.[0-9]+' | head -n 1)
	if [ -z "$spi" ] || [ -z "$pk" ] || [ "${#key}" != 72 ] ||
	    [ -z "$vip" ]; then
		fail "run $w/$i: spi '$spi', packets '$pk', key '$key', vip '$vip'"
	fi
	# The stream ends; the session lingers for the load's stream.
	stop_pid "$CN_PID"
	wait_log "$T/$name.log" "closed \(" 5 ||
	    fail "run $w/$i: the server did not see the connector's stream end"
	timeout 30 ip netns exec "$(ns C)" "$LOAD" esp \
	    -t "$RELAY_C_ADDR:4500" -K "$key" -I "$spi" -q $((pk + 10)) \
	    -i "$vip" -o 10.99.0.1 -s "$SIZE" -d "$SECS" -w "$WARM" \
	    >"$T/load.out" 2>"$T/load.log" &
	local lp=$!
	sleep "$(awk -v w="$WARM" -v s="$SECS" 'BEGIN { print w + s * 0.1 }')"
	c0=$(ticks "$RELAY_DPID") r0=$(rx) t0=$EPOCHREALTIME
	sleep "$(awk -v s="$SECS" 'BEGIN { print s * 0.6 }')"
	c1=$(ticks "$RELAY_DPID") r1=$(rx) t1=$EPOCHREALTIME
	wait "$lp" || fail "run $w/$i: load esp failed: $(cat "$T/load.log")"
	out=$(cat "$T/load.out")
	grep -q "session re-attached by ESP SPI" "$T/$name.log" ||
	    fail "run $w/$i: the load's stream was not re-attached"
	awk -v w="$w" -v i="$i" -v r0="$r0" -v r1="$r1" -v c0="$c0" \
	    -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$HZ" -v o="$out" '
	    BEGIN {
		d = t1 - t0
		split(o, kv, /[ =]/)
		for (k = 1; k in kv; k += 2) v[kv[k]] = kv[k + 1]
		printf "espw w=%s i=%s msg_s=%.0f sent_s=%s cpu_pct=%.0f\n",
		    w, i, (r1 - r0) / d, v["msg_s"], 100 * (c1 - c0) / hz / d
	    }'
	stop_pid "$RELAY_PID"
	# shellcheck disable=SC2034  # ok() in lib.sh reads it
	IKT_RELAYS=()
}

for ((i = 1; i <= PAIRS; i++)); do
	for w in $WLIST; do
		one_run "$w" "$i"
	done
done
ok
