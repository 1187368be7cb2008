#!/usr/bin/env bash
# make bench-scale: iketcpd holding many idle relay sessions, and haproxy
# holding as many idle TCP connections, in the same run (issue 13).
#
#   test/bench/scale.sh BUILD-DIR
#
# Everything runs in one network namespace this script makes (ikbs<pid>)
# and deletes on exit, error or signal; every process it starts runs
# under timeout(1) and is stopped by its recorded PID.  Addresses, all on
# the namespace's loopback:
#   10.76.0.1       iketcpd listens on :4500 (a [relay] section),
#                   haproxy on :4600
#   10.77.0.0/16    the clients' source addresses (a local route, so any
#                   of the 65 534 can be bound): several streams share an
#                   address only beyond 65 534, so per-source limits do
#                   not bite and the relay sees many clients
#   10.78.0.1..K    gateway-source addresses of the relay, one per 10 000
#                   sessions (about 28 000 UDP ports each: shared/PERF.md;
#                   a port range kept well below full binds fast)
#   10.78.1.1..16   haproxy's source addresses toward its server (a
#                   "server" line each, round robin), for the same reason
#   10.79.0.1       the gateway stand-in (BUILD/bench/scale gw: UDP echo
#                   on :4500) and haproxy's server (scale sink: TCP echo
#                   on :4600)
#
# The load (BUILD/bench/scale clients, several processes: 20 000 open
# files per process here) opens BENCH_SESSIONS TCP streams; each sends
# "IKETCP" and one framed ESP-like message with an SPI of its own, so
# that the relay makes a session and its UDP leg, and counts as up when
# the gateway's echo of it is back on the stream; then all idle.  The
# haproxy run is the same without the prefix: haproxy (TCP mode) forwards
# each connection to the sink, which echoes.
#
# Reported, for iketcpd and haproxy alike:
#   set-up rate     streams up / (last echo - first connect), all
#                   processes of the load together
#   memory of our processes per session: the sum over the daemon's
#                   processes (master and workers; haproxy's processes)
#                   of Pss and of Private_Dirty (/proc/PID/smaps_rollup),
#                   after set-up minus before it (the daemon started and
#                   listening, no client yet), divided by the streams up
#   kernel memory per session: /proc/meminfo Slab plus the TCP and UDP
#                   "mem" pages of /proc/net/sockstat, after minus
#                   before, divided by the streams up.  It is the whole
#                   machine's: it holds both ends (the client's socket
#                   too: iketcpd a client TCP, its TCP and its UDP socket;
#                   haproxy a client TCP, its two TCP and the sink's), and
#                   whatever else runs meanwhile (other jobs on a shared
#                   machine), so read it as a rough figure
#   sample          at the end, BENCH_SAMPLE streams chosen at random
#                   each send one more message and wait (10 s) for its
#                   echo: through the relay to the gateway and back
#
# Environment:
#   BENCH_SESSIONS  streams (default 100000)
#   BENCH_WORKERS   iketcpd workers (default: one per BENCH_PER_WORKER
#                   sessions, 8000, as one process holds about 9 900
#                   relay sessions here); 1 writes no workers line
#   BENCH_SAMPLE    streams sampled at the end (default 1000)
#   BENCH_HAPROXY   0: skip the haproxy run
#   BENCH_LIFE      seconds any process may live (default 1800)
set -euo pipefail

B=${1:?usage: scale.sh BUILD-DIR}
RELAY=$B/iketcpd
SCALE=$B/bench/scale
N=${BENCH_SESSIONS:-100000}
PER_WORKER=${BENCH_PER_WORKER:-8000}
WORKERS=${BENCH_WORKERS:-$(( (N + PER_WORKER - 1) / PER_WORKER ))}
SAMPLE=${BENCH_SAMPLE:-1000}
WITH_HAPROXY=${BENCH_HAPROXY:-1}
LIFE=${BENCH_LIFE:-1800}
PER_CLIENT=15000	# streams per load process (20 000 files each)
PER_HAPROXY=8000	# connections per haproxy process (two files each)
SETUP_SECS=$(( 60 + N / 500 ))	# set-up deadline: 500 streams/s at worst

die() { echo "bench-scale: $*" >&2; exit 1; }
say() { echo "bench-scale: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (a network namespace)"
[ -x "$RELAY" ] || die "$RELAY missing (make builds it)"
[ -x "$SCALE" ] || die "$SCALE missing (make builds it)"
for t in ip ss timeout awk; do
	command -v "$t" >/dev/null || die "$t not installed (make deps)"
done
[ "$WITH_HAPROXY" = 0 ] || command -v haproxy >/dev/null ||
    die "haproxy not installed (make deps)"
[ "$N" -ge 1 ] && [ "$WORKERS" -ge 1 ] || die "bad BENCH_SESSIONS/WORKERS"

NS=ikbs$$
TMP=$(mktemp -d /tmp/iketcp-bench-scale.XXXXXX)
RAW=$B/bench/scale.raw
PIDS=()		# timeout wrappers of what we started, in start order
declare -A PNAME	# their names

# stop PID: TERM to a timeout wrapper (it passes it on, and KILLs its
# child 20 s later), KILL after 25 s; only a child of this shell.  Says
# what took more than 2 s to go.
stop() {
	local pid=$1 i t0=$SECONDS rc=0
	[ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" = $$ ] ||
	    return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 250); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" = 137 ]; then
		say "${PNAME[$pid]:-$pid} did not exit within 20 s of SIGTERM"
	elif [ $((SECONDS - t0)) -ge 2 ]; then
		say "${PNAME[$pid]:-$pid} took $((SECONDS - t0)) s to exit"
	fi
}
stop_all() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop "${PIDS[i]}"
	done
	PIDS=()
}
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	stop_all
	ip netns del "$NS" 2>/dev/null
	if [ "$rc" != 0 ]; then
		for f in "$TMP"/*.log "$TMP"/*.err; do
			[ -s "$f" ] || continue
			echo "=== ${f##*/} (last 20 lines) ===" >&2
			tail -n 20 "$f" >&2
		done
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# bg NAME CMD...: CMD in the namespace under timeout, output in
# $TMP/NAME.log (stdout) and .err; BG_PID is the wrapper's PID.
bg() {
	local name=$1
	shift
	ip netns exec "$NS" timeout -k 20 "$LIFE" "$@" >"$TMP/$name.log" \
	    2>"$TMP/$name.err" &
	BG_PID=$!
	PIDS+=("$BG_PID")
	PNAME[$BG_PID]=$name
}

# child_of PID: the process a timeout wrapper runs (5 s).
child_of() {
	local i c
	for i in $(seq 50); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
		c=${c%% *}
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.1
	done
	return 1
}

# tree PID: PID and all its descendants.
tree() {
	local p c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		tree "$c"
	done
}

# wait_line FILE REGEX SECS [PID]: until a line of FILE matches, while
# PID (a wrapper) lives.
wait_line() {
	local f=$1 re=$2 end=$((SECONDS + $3)) pid=${4:-} out
	while [ "$SECONDS" -le "$end" ]; do
		out=$(grep -E -- "$re" "$f" 2>/dev/null || true)
		[ -n "$out" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.2
	done
	return 1
}

wait_listen() {	# PORT SECS
	local end=$((SECONDS + $2)) out
	while [ "$SECONDS" -le "$end" ]; do
		out=$(ip netns exec "$NS" ss -Hltn "sport = :$1" 2>/dev/null)
		[ -n "$out" ] && return 0
		sleep 0.1
	done
	return 1
}

# umem PIDS...: "PSS_KB PRIVATE_DIRTY_KB" summed over PIDS.
umem() {
	local p
	for p in "$@"; do
		cat "/proc/$p/smaps_rollup" 2>/dev/null || true
	done | awk '/^Pss:/ { p += $2 } /^Private_Dirty:/ { d += $2 }
	    END { print p + 0, d + 0 }'
}

# kmem: kernel KiB: Slab + TCP and UDP sockstat pages.
kmem() {
	local slab pages pg
	pg=$(( $(getconf PAGESIZE) / 1024 ))
	slab=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
	pages=$(ip netns exec "$NS" cat /proc/net/sockstat |
	    awk '$1 == "TCP:" || $1 == "UDP:" { for (i = 2; i < NF; i++)
	        if ($i == "mem") m += $(i + 1) } END { print m + 0 }')
	echo $((slab + pages * pg))
}

# get KEY LINE
get() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# per A B: A/B with two decimals (KiB per session), "-" when B is 0.
per() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }

# --- the namespace ---------------------------------------------------------

K=$(( (N + 9999) / 10000 ))		# 10 000 sessions per address
[ "$K" -ge 2 ] || K=2
[ "$K" -le 16 ] || die "BENCH_SESSIONS=$N needs more than 16 gateway-sources"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.76.0.1/32 dev lo
ip -n "$NS" addr add 10.79.0.1/32 dev lo
for ((i = 1; i <= K; i++)); do
	ip -n "$NS" addr add "10.78.0.$i/32" dev lo
done
for ((i = 1; i <= 16; i++)); do
	ip -n "$NS" addr add "10.78.1.$i/32" dev lo
done
ip -n "$NS" route add local 10.77.0.0/16 dev lo
# Our own namespace's accept and SYN queues, for the set-up bursts.
ip netns exec "$NS" sysctl -qw net.core.somaxconn=65535 \
    net.ipv4.tcp_max_syn_backlog=65535
: >"$RAW"

NCLIENT=$(( (N + PER_CLIENT - 1) / PER_CLIENT ))

# run_clients LABEL PORT [ARGS]: the load against PORT, then the
# measurement after set-up; sets SETUP and the AFTER_* figures.  The
# caller measured BEFORE_*.  MEMPIDS: the processes whose memory counts.
run_clients() {
	local label=$1 port=$2 cpid
	shift 2
	bg "$label-clients" "$SCALE" clients -t "10.76.0.1:$port" \
	    -a 10.77.0.1 -A 65534 -n "$N" -P "$NCLIENT" -T "$SETUP_SECS" \
	    -m "$SAMPLE" "$@"
	CLIENT_PID=$BG_PID
	cpid=$(child_of "$CLIENT_PID") || die "$label: the load did not start"
	wait_line "$TMP/$label-clients.log" '^setup ' $((SETUP_SECS + 30)) \
	    "$CLIENT_PID" || die "$label: set-up did not end"
	SETUP=$(grep '^setup ' "$TMP/$label-clients.log")
	echo "$label $SETUP" >>"$RAW"
	say "$label: $SETUP"
	# Let the daemon finish what the last echoes started.
	sleep 2
	AFTER_U=$(umem "${MEMPIDS[@]}")
	AFTER_K=$(kmem)
	echo "$label after pss_privdirty_kb=$AFTER_U kernel_kb=$AFTER_K" \
	    >>"$RAW"
	SAMPLE_CPID=$cpid
}

# sample LABEL: the random sample on the idle streams; sets SAMPLED.
sample() {
	kill -USR1 "$SAMPLE_CPID"
	wait_line "$TMP/$1-clients.log" '^sample ' 60 "$CLIENT_PID" ||
	    die "$1: no sample result"
	SAMPLED=$(grep '^sample ' "$TMP/$1-clients.log")
	echo "$1 $SAMPLED" >>"$RAW"
	say "$1: $SAMPLED"
	stop "$CLIENT_PID"
}

# --- iketcpd ---------------------------------------------------------------

say "$N sessions, $WORKERS worker(s), $K gateway-source addresses," \
    "$NCLIENT load processes"
bg gw "$SCALE" gw -l 10.79.0.1:4500
GW_PID=$BG_PID
wait_line "$TMP/gw.log" '^gw listening' 5 "$GW_PID" ||
    die "the gateway stand-in did not start"

{
	echo "[global]"
	echo "log-level = warning"
	echo "max-sessions = $((N + N / 10 + 100))"
	echo "control-socket = $TMP/ctl.sock"
	[ "$WORKERS" = 1 ] || echo "workers = $WORKERS"
	echo "[relay scale]"
	echo "listen = 10.76.0.1:4500"
	echo "gateway = 10.79.0.1:4500"
	for ((i = 1; i <= K; i++)); do
		echo "gateway-source = 10.78.0.$i"
	done
	echo "max-connections = $((N + N / 10 + 100))"
	echo "max-per-source = 64"
	echo "max-sessions-per-source = 64"
	echo "idle-timeout = 1h"
	echo "handshake-timeout = 60s"
} >"$TMP/iketcpd.conf"
ip netns exec "$NS" "$RELAY" -t -f "$TMP/iketcpd.conf" >"$TMP/conf-t.log" \
    2>&1 || { cat "$TMP/conf-t.log" >&2
	die "iketcpd refuses the configuration (workers = $WORKERS needs" \
	    "the process model of issue 13)"; }
bg iketcpd "$RELAY" -d -f "$TMP/iketcpd.conf"
RELAY_PID=$BG_PID
RELAY_DPID=$(child_of "$RELAY_PID") || die "iketcpd did not start"
wait_listen 4500 10 || die "iketcpd does not listen"
# Workers (if any) are up and idle.
for _ in $(seq 50); do
	mapfile -t MEMPIDS < <(tree "$RELAY_DPID")
	[ "${#MEMPIDS[@]}" -gt "$(( WORKERS > 1 ? WORKERS : 0 ))" ] && break
	sleep 0.1
done
sleep 1
mapfile -t MEMPIDS < <(tree "$RELAY_DPID")
BEFORE_U=$(umem "${MEMPIDS[@]}")
BEFORE_K=$(kmem)
echo "ours before pss_privdirty_kb=$BEFORE_U kernel_kb=$BEFORE_K" \
    "pids=${#MEMPIDS[@]}" >>"$RAW"
run_clients ours 4500 -p
OURS_SETUP=$SETUP OURS_AU=$AFTER_U OURS_AK=$AFTER_K
OURS_BU=$BEFORE_U OURS_BK=$BEFORE_K OURS_NP=${#MEMPIDS[@]}
mapfile -t now < <(tree "$RELAY_DPID")
[ "${#now[@]}" = "$OURS_NP" ] ||
    say "iketcpd: ${#now[@]} processes now, $OURS_NP before set-up"
# How the streams spread over the workers: descriptors per process.
echo "ours fds_per_process=$(for p in "${now[@]}"; do
	ls "/proc/$p/fd" 2>/dev/null | wc -l
done | tr '\n' ' ')" >>"$RAW"
OURS_STATS=$(timeout 10 "$B/iketcpctl" -s "$TMP/ctl.sock" stats 2>&1 |
    grep -iE "sessions" | head -3 | tr -s ' \n' ' ' || true)
sample ours
OURS_SAMPLE=$SAMPLED
kill -0 "$RELAY_DPID" 2>/dev/null || die "iketcpd died"
stop "$RELAY_PID"
stop "$GW_PID"
GW_LINE=$(grep '^gw echoed' "$TMP/gw.log" || true)
echo "ours $GW_LINE" >>"$RAW"

# --- haproxy ---------------------------------------------------------------

if [ "$WITH_HAPROXY" != 0 ]; then
	H=$(( (N + PER_HAPROXY - 1) / PER_HAPROXY ))
	HMAX=$(( PER_HAPROXY + PER_HAPROXY / 8 ))
	bg sink "$SCALE" sink -l 10.79.0.1:4600 -P "$NCLIENT"
	wait_line "$TMP/sink.log" '^sink listening' 5 "$BG_PID" ||
	    die "the TCP sink did not start"
	{
		echo "global"
		echo "	maxconn $HMAX"
		echo "	nbthread 1"
		echo "defaults"
		echo "	mode tcp"
		echo "	timeout connect 10s"
		echo "	timeout client 1h"
		echo "	timeout server 1h"
		echo "frontend fe"
		echo "	bind 10.76.0.1:4600"
		echo "	default_backend be"
		echo "backend be"
		echo "	balance roundrobin"
		for ((i = 1; i <= 16; i++)); do
			echo "	server s$i 10.79.0.1:4600 source 10.78.1.$i"
		done
	} >"$TMP/haproxy.cfg"
	HPIDS=()
	for ((i = 0; i < H; i++)); do
		bg "haproxy$i" haproxy -db -f "$TMP/haproxy.cfg"
		p=$(child_of "$BG_PID") || die "haproxy did not start"
		HPIDS+=("$p")
	done
	wait_listen 4600 10 || die "haproxy does not listen"
	sleep 1
	for p in "${HPIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || die "haproxy $p died at start"
	done
	MEMPIDS=("${HPIDS[@]}")
	BEFORE_U=$(umem "${MEMPIDS[@]}")
	BEFORE_K=$(kmem)
	echo "haproxy before pss_privdirty_kb=$BEFORE_U kernel_kb=$BEFORE_K" \
	    "pids=$H" >>"$RAW"
	run_clients haproxy 4600
	HA_SETUP=$SETUP HA_AU=$AFTER_U HA_AK=$AFTER_K
	HA_BU=$BEFORE_U HA_BK=$BEFORE_K
	HA_SPREAD=$(for p in "${HPIDS[@]}"; do
		ls "/proc/$p/fd" 2>/dev/null | wc -l
	done | tr '\n' ' ')
	echo "haproxy fds_per_process=$HA_SPREAD" >>"$RAW"
	sample haproxy
	HA_SAMPLE=$SAMPLED
fi
stop_all

# --- the table -------------------------------------------------------------

row() {	# LABEL OURS HAPROXY
	printf '%-40s %18s %18s\n' "$1" "$2" "${3:--}"
}
# col SETUP BEFORE_U AFTER_U BEFORE_K AFTER_K SAMPLE: sets C_* for a column.
col() {
	local up
	up=$(get up "$1")
	C_UP="$up/$(get streams "$1")"
	C_RATE="$(get rate "$1") ($(get secs "$1") s)"
	C_PSS=$(per $(( ${3%% *} - ${2%% *} )) "$up")
	C_PD=$(per $(( ${3##* } - ${2##* } )) "$up")
	C_K=$(per $(( $5 - $4 )) "$up")
	C_SAMPLE="$(get ok "$6")/$(get asked "$6")"
	C_DROP=$(get dropped "$6")
}
echo
echo "bench-scale: $N idle sessions, in one namespace, $(nproc) CPUs shared" \
    "by daemon and load"
col "$OURS_SETUP" "$OURS_BU" "$OURS_AU" "$OURS_BK" "$OURS_AK" "$OURS_SAMPLE"
O=("$C_UP" "$C_RATE" "$C_PSS" "$C_PD" "$C_K" "$C_SAMPLE" "$C_DROP")
HA=()
if [ "$WITH_HAPROXY" != 0 ]; then
	col "$HA_SETUP" "$HA_BU" "$HA_AU" "$HA_BK" "$HA_AK" "$HA_SAMPLE"
	HA=("$C_UP" "$C_RATE" "$C_PSS" "$C_PD" "$C_K" "$C_SAMPLE" "$C_DROP")
fi
row "" "iketcpd relay" "haproxy $(haproxy -v 2>/dev/null |
    awk 'NR == 1 { print $3 }')"
row "processes" "$OURS_NP (workers = $WORKERS)" \
    "${H:+$H (SO_REUSEPORT)}"
row "sessions up / streams" "${O[0]}" "${HA[0]:-}"
row "set-up rate, sessions/s" "${O[1]}" "${HA[1]:-}"
row "our memory per session, KiB (Pss)" "${O[2]}" "${HA[2]:-}"
row "  (Private_Dirty)" "${O[3]}" "${HA[3]:-}"
row "kernel memory per session, KiB" "${O[4]}" "${HA[4]:-}"
row "sample both ways, ok / asked" "${O[5]}" "${HA[5]:-}"
row "streams dropped while idle" "${O[6]}" "${HA[6]:-}"
echo "(memory: after set-up minus before, divided by sessions up; kernel:"
echo " Slab + sockstat TCP/UDP pages, whole machine, both ends of each"
echo " stream)"
[ "$WITH_HAPROXY" = 0 ] ||
    echo "(haproxy: TCP mode, $H processes sharing the port with" \
	"SO_REUSEPORT, nbthread 1, a TCP echo as its server)"
[ -z "$OURS_STATS" ] || echo "iketcpctl stats: $OURS_STATS"
[ -z "$GW_LINE" ] || echo "gateway stand-in: ${GW_LINE#gw }"
echo "raw results: $RAW"
