#!/usr/bin/env bash
# make bench: iketcpd's relay data path side by side with Debian's udptunnel
# (and, for TLS, stunnel's server in front of udptunnel).
#
#   test/bench/run.sh BUILD-DIR
#
# Everything runs on loopback: the relay (iketcpd or udptunnel) on core 0,
# the load generator and sink (BUILD/bench/load) on core 1.  Every case runs
# as PAIRS alternating pairs of short runs (ours, baseline, ours, ...) since
# this kind of machine flips between two speed phases; the table gives the
# medians and the median per-pair ratio with its min and max.  Raw results go
# to BUILD/bench/results.raw.
#
# Environment:
#   BENCH_SECONDS   measured seconds per run (default 1.8, plus 0.2 warm-up)
#   BENCH_PAIRS     pairs per case (default 5)
#   BENCH_CASES     space-separated subset of: t1 t1s t100 t100s u u0 us us0 rtt
#                   rttb (rtt with iketcpd's busy-poll = 2ms)
#                   tls1 tls1s esp (AES-GCM, default) espc (ChaCha20-
#                   Poly1305, opt-in) w100 w100s wesp wesps (workers,
#                   below)
#   BENCH_NO_RELAY  1: run the baseline only (while iketcpd cannot run)
#
# udptunnel framing differs from RFC 9329: its length field counts only the
# payload, so the load tool runs with -x against it.  udptunnel sends from
# an ephemeral port but receives on UDPPORT, so replies go to
# 127.0.0.1:UDPPORT (-r).  It serves one connection and exits, so each run
# starts fresh processes; for 100 streams it runs 100 processes on 100 ports.
#
# TLS cases (tls1 tls1s): the load tool is the TLS client (-S, OpenSSL
# defaults) in both runs, so only the server side differs: iketcpd's
# tls-listen against a stunnel server (Debian stunnel4, its defaults) that
# connects to udptunnel, both on the relay core.  A self-signed P-256
# certificate is made in the temporary directory.
#
# The esp case is not a relay case: BUILD/bench/esp_bench, on the relay's
# core, compares integrated-mode ESP (esp_encap / esp_decap) with the raw
# per-packet AEAD ceiling in the same run (PAIRS pairs of SECS seconds).
#
# Workers cases (issue 13): iketcpd with workers = 1 against itself with
# workers = 2, in alternating pairs, nothing pinned:
#   w100 w100s   TCP->UDP, 100 streams of 1400 B / 100 B messages (the
#                t100 cases) through a [relay] section
#   wesp wesps   ESP over one stream into an [integrated] section's TUN,
#                inner packets of 1400 B / 100 B, end to end with a Child
#                SA that strongSwan set up through the connector
#                (test/bench/espflow.sh says how)
# What the numbers mean: this machine has two CPUs, and the load
# generator (and for wesp its AES-GCM encryption, and the kernel's TCP,
# UDP and TUN work) runs on them too, so msg/s is what the whole machine
# moves, not what two cores of relay would; a second worker helps only as
# far as a CPU is left for it.  "cpu" is the daemon's CPU (master and
# workers, from /proc/PID/stat, user + system) in % of one CPU over the
# measured window, and "cpu s/Mmsg" that CPU time per million messages:
# the daemon's cost per message, which sharing the CPUs disturbs less.
# An integrated section is served by one worker (its owner), so wesp
# shows what workers = 2 costs or saves there, not a second core's worth.
# A daemon built without workers (iketcpd -t refuses "workers = 2")
# skips these cases with a line saying so.
set -euo pipefail

B=${1:?usage: run.sh BUILD-DIR}
RELAY=$B/iketcpd
LOAD=$B/bench/load
SECS=${BENCH_SECONDS:-1.8}
WARM=0.2
PAIRS=${BENCH_PAIRS:-5}
CASES=${BENCH_CASES:-t1 t1s t100 t100s u u0 us us0 rtt rttb tls1 tls1s esp \
    w100 w100s wesp wesps}
NO_RELAY=${BENCH_NO_RELAY:-0}

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$LOAD" ] || die "$LOAD missing (make builds it)"
if [ "$NO_RELAY" != 1 ]; then
	[ -x "$RELAY" ] || die "$RELAY missing (make builds it)"
fi
TOOLS="udptunnel taskset ss timeout awk"
[[ " $CASES " != *" tls"* ]] || TOOLS="$TOOLS stunnel openssl"
for t in $TOOLS; do
	command -v "$t" >/dev/null || die "$t not installed (make deps)"
done
if [ "$(nproc)" -ge 2 ]; then
	CPU_RELAY=0 CPU_LOAD=1
else
	echo "bench: one CPU only: relay and load share it" >&2
	CPU_RELAY=0 CPU_LOAD=0
fi

TMP=$(mktemp -d /tmp/iketcp-bench.XXXXXX)
RAW=$B/bench/results.raw
: >"$RAW"
PIDS=()
LOADPID=
TLS=0		# 1: the current case runs over TLS

stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
}
cleanup() {
	[ -z "$LOADPID" ] || kill "$LOADPID" 2>/dev/null || true
	stop_all
	if [ -s "$TMP/iketcpd.log" ]; then
		cp "$TMP/iketcpd.log" "$B/bench/iketcpd.log"
	fi
	if [ -s "$TMP/stunnel.log" ]; then
		cp "$TMP/stunnel.log" "$B/bench/stunnel.log"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Fresh ports for every run: TCP ports [PORT, PORT+n), UDP [PORT+n, PORT+2n),
# and for stunnel -> udptunnel TCP [PORT+2n, PORT+3n).
# Below the ephemeral range (32768-60999).
PORT=$((20000 + ($$ % 20) * 500))
alloc_ports() {
	local n=$1
	[ $((PORT + 3 * n)) -lt 32000 ] || PORT=20000
	TP=$PORT
	UP=$((PORT + n))
	XP=$((PORT + 2 * n))
	PORT=$((PORT + 3 * n))
}

# tls_cert: a self-signed P-256 certificate for both TLS servers, once.
CERT=$TMP/cert.pem
KEY=$TMP/key.pem
tls_cert() {
	[ -s "$CERT" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj /CN=bench.iketcp.test -keyout "$KEY" \
	    -out "$CERT" 2>"$TMP/openssl.log" ||
	    { cat "$TMP/openssl.log" >&2; die "openssl req failed"; }
}

# wait_listen PORT COUNT: until COUNT TCP ports from PORT listen (5 s).
wait_listen() {
	local p=$1 n=$2 i got
	for i in $(seq 100); do
		got=$(ss -Hltn "sport >= :$p and sport < :$((p + n))" | wc -l)
		[ "$got" -ge "$n" ] && return 0
		for q in "${PIDS[@]}"; do
			kill -0 "$q" 2>/dev/null || {
				tail -20 "$TMP"/*.log >&2 || true
				die "relay process $q died at start"
			}
		done
		sleep 0.05
	done
	die "relay did not listen on $p..$((p + n - 1)) within 5 s"
}

start_ours() {
	local conf=$TMP/iketcpd.conf listen
	if [ "$TLS" = 1 ]; then
		tls_cert
		listen="tls-listen = 127.0.0.1:$TP
tls-cert = $CERT
tls-key = $KEY"
	else
		listen="listen = 127.0.0.1:$TP"
	fi
	cat >"$conf" <<-EOF
	[global]
	log-level = warning
	busy-poll = ${BUSY:-0}
	$([ "${WORKERS:-1}" = 1 ] || echo "workers = $WORKERS")
	[relay bench]
	$listen
	gateway = 127.0.0.2:$UP
	max-connections = 1000
	max-per-source = 1000
	EOF
	taskset -c "$(cpus_relay)" "$RELAY" -d -f "$conf" \
	    >>"$TMP/iketcpd.log" 2>&1 &
	PIDS+=($!)
	wait_listen "$TP" 1
}

# With TLS: stunnel accepts on TP+i and connects to udptunnel on XP+i.
start_base() {
	local n=$1 i tp=$TP conf=$TMP/stunnel.conf
	[ "$TLS" = 1 ] && tp=$XP
	for ((i = 0; i < n; i++)); do
		taskset -c $CPU_RELAY udptunnel -s $((tp + i)) \
		    127.0.0.2/$((UP + i)) 2>>"$TMP/udptunnel.log" &
		PIDS+=($!)
	done
	wait_listen "$tp" "$n"
	[ "$TLS" = 1 ] || return 0
	tls_cert
	cat >"$conf" <<-EOF
	foreground = yes
	pid =
	debug = warning
	EOF
	for ((i = 0; i < n; i++)); do
		cat >>"$conf" <<-EOF
		[bench$i]
		accept = 127.0.0.1:$((TP + i))
		connect = 127.0.0.1:$((XP + i))
		cert = $CERT
		key = $KEY
		EOF
	done
	taskset -c $CPU_RELAY stunnel "$conf" 2>>"$TMP/stunnel.log" &
	PIDS+=($!)
	wait_listen "$TP" "$n"
}

# The CPUs of the relay and of the load: pinned apart, or with UNPIN=1
# (the workers cases) all of them for both.
ALL_CPUS=0-$(( $(nproc) - 1 ))
cpus_relay() { [ "${UNPIN:-0}" = 1 ] && echo "$ALL_CPUS" || echo "$CPU_RELAY"; }
cpus_load() { [ "${UNPIN:-0}" = 1 ] && echo "$ALL_CPUS" || echo "$CPU_LOAD"; }

# tree PID: PID and its descendants (a daemon's workers).
tree() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		tree "$c"
	done
}

# cpu_ticks: user+system clock ticks used so far by the relay processes
# and their children (workers).
cpu_ticks() {
	local p t=0 f a
	for p in $(for q in "${PIDS[@]}"; do tree "$q"; done); do
		read -r f 2>/dev/null <"/proc/$p/stat" || continue
		f=${f##*) }	# fields from 3 on; the name may hold spaces
		read -ra a <<<"$f"
		t=$((t + a[11] + a[12]))	# utime, stime
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

# load ARGS...: one bounded run of the load tool on the load core.
load() {
	timeout 30 taskset -c "$(cpus_load)" "$LOAD" "$@" -d "$SECS" -w "$WARM"
}

# run_one WHO KIND STREAMS ARGS...: sets OUT to the tool's key=value line.
# Not called in a subshell: it tracks PIDS and PORT.
run_one() {
	local who=$1 kind=$2 n=$3 c0 c1 t0 t1 rc=0
	shift 3
	alloc_ports "$n"
	if [ "$who" = ours ] || [ "$who" = w1 ] || [ "$who" = w2 ]; then
		WORKERS=1
		[ "$who" != w2 ] || WORKERS=2
		start_ours
		set -- -p "$@"
	else
		start_base "$n"
		set -- -x -T "$n" -U "$n" "$@"
		# udptunnel receives on 0.0.0.0:UP, not on its sending port.
		[ "$kind" = tcp2udp ] || set -- "$@" -r 127.0.0.1:$UP
	fi
	[ "$TLS" = 0 ] || set -- -S "$@"

	load "$kind" -t 127.0.0.1:$TP -u 127.0.0.2:$UP "$@" >"$TMP/out" &
	LOADPID=$!
	# Relay CPU over the measured window, while its processes still live.
	sleep "$(awk -v w="$WARM" -v s="$SECS" 'BEGIN { print w + s * 0.1 }')"
	c0=$(cpu_ticks) t0=$(date +%s.%N)
	sleep "$(awk -v s="$SECS" 'BEGIN { print s * 0.6 }')"
	c1=$(cpu_ticks) t1=$(date +%s.%N)
	wait "$LOADPID" || rc=$?
	LOADPID=
	stop_all
	if [ "$rc" -ne 0 ] || [ ! -s "$TMP/out" ]; then
		if [ "$who" != base ]; then
			tail -20 "$TMP/iketcpd.log" >&2 || true
		elif [ "$TLS" = 1 ]; then
			tail -20 "$TMP/stunnel.log" >&2 || true
		fi
		die "load $kind failed against $who relay (exit $rc)"
	fi
	# % of one core, summed over the relay's processes.
	OUT="$(cat "$TMP/out") relay_cpu_pct=$(awk -v c="$((c1 - c0))" \
	    -v hz="$HZ" -v t="$t0" -v u="$t1" \
	    'BEGIN { printf "%.0f", 100 * c / hz / (u - t) }')"
}

# get KEY LINE
get() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# stats: reads numbers, prints "median min max".
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# ratio A B: A/B, or "-".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
	else printf "%.3f\n", a / b }'; }

# num FORMAT VALUE: printf FORMAT, or "-" when VALUE is not a number.
num() { awk -v f="$1" -v v="$2" 'BEGIN {
	if (v == "" || v == "-") print "-"; else printf f "\n", v }'; }

fmt_ratio() {	# "median min max" -> "1.23 (1.10-1.40)"
	awk '{ if ($1 == "-") print "-"
	       else printf "%.2f (%.2f-%.2f)\n", $1, $2, $3 }' <<<"$1"
}

# warn_odd LABEL LINE: say when iketcpd closed streams or mangled messages.
warn_odd() {
	local c b
	c=$(get closed "$2") b=$(get bad "$2")
	if [ -n "$c" ] && [ "$c" != 0 ]; then
		echo "bench: $1: iketcpd closed $c streams" >&2
	fi
	if [ -n "$b" ] && [ "$b" != 0 ]; then
		echo "bench: $1: $b malformed messages via iketcpd" >&2
	fi
	if [[ $2 == *broken=1* ]]; then
		echo "bench: $1: iketcpd's stream could not be parsed" >&2
	fi
}

ROWS_T=()
ROWS_L=()
ROWS_W=()
ESP_OUT=

# has_workers: whether this iketcpd takes "workers = 2" (issue 13); once.
HAS_WORKERS=
has_workers() {
	if [ -z "$HAS_WORKERS" ]; then
		printf '[global]\nworkers = 2\n[relay w]\nlisten = 127.0.0.1:%s\n%s\n' \
		    "$PORT" "gateway = 127.0.0.2:$PORT" >"$TMP/workers.conf"
		if "$RELAY" -t -f "$TMP/workers.conf" >/dev/null 2>&1; then
			HAS_WORKERS=1
		else
			HAS_WORKERS=0
			echo "bench: this iketcpd has no workers (issue 13):" \
			    "workers cases skipped" >&2
		fi
	fi
	[ "$HAS_WORKERS" = 1 ]
}

# per_m CPU_PCT MSG_S: CPU seconds per million messages.
per_m() { awk -v c="$1" -v m="$2" 'BEGIN {
	if (c == "" || m == "" || m + 0 == 0) print "-"
	else printf "%.2f\n", c / 100 / m * 1e6 }'; }

# workers_row LABEL DIR: a row of ROWS_W from DIR/{1,2,c1,c2,m1,m2,r}.
workers_row() {
	local d=$2 k
	local -A S
	for k in 1 2 c1 c2 m1 m2 r; do
		S[$k]=$(stats <"$d/$k")
	done
	ROWS_W+=("$(printf '%-28s %9s %9s  %-18s %5s %5s %7s %7s' "$1" \
	    "$(num %.0f "${S[1]%% *}")" "$(num %.0f "${S[2]%% *}")" \
	    "$(fmt_ratio "${S[r]}")" "$(num %.0f "${S[c1]%% *}")" \
	    "$(num %.0f "${S[c2]%% *}")" "$(num %.2f "${S[m1]%% *}")" \
	    "$(num %.2f "${S[m2]%% *}")")")
}

# workers_case LABEL KIND STREAMS ARGS...: iketcpd with workers = 1
# against workers = 2, alternating, nothing pinned.
workers_case() {
	local label=$1 kind=$2 n=$3 i w o m c d=$TMP/wc
	shift 3
	has_workers || return 0
	rm -rf "$d" && mkdir "$d"
	for k in 1 2 c1 c2 m1 m2 r; do : >"$d/$k"; done
	UNPIN=1
	for ((i = 1; i <= PAIRS; i++)); do
		for w in 1 2; do
			run_one "w$w" "$kind" "$n" "$@"; o=$OUT
			echo "$label w$w $i $o" >>"$RAW"
			m=$(get msg_s "$o") c=$(get relay_cpu_pct "$o")
			echo "$m" >>"$d/$w"
			echo "$c" >>"$d/c$w"
			per_m "$c" "$m" >>"$d/m$w"
			warn_odd "$label" "$o"
			printf '  %-28s %d: workers = %d %7s msg/s (cpu %3s%%)\n' \
			    "$label" "$i" "$w" "$m" "$c" >&2
		done
		ratio "$(tail -n 1 "$d/2")" "$(tail -n 1 "$d/1")" >>"$d/r"
	done
	UNPIN=0
	workers_row "$label" "$d"
}

# esp_workers_case LABEL SIZE: test/bench/espflow.sh's pairs.
esp_workers_case() {
	local label=$1 line w m c d=$TMP/wc i
	has_workers || return 0
	rm -rf "$d" && mkdir "$d"
	for k in 1 2 c1 c2 m1 m2 r; do : >"$d/$k"; done
	BENCH_PAIRS=$PAIRS BENCH_SECONDS=$SECS IKT_QUIET='' \
	    timeout $((120 + PAIRS * 60)) "$(dirname "$0")/espflow.sh" "$B" \
	    "$2" >"$TMP/espflow.out" 2>"$TMP/espflow.log" || {
		tail -n 40 "$TMP/espflow.log" >&2
		die "$label: espflow.sh failed"
	}
	while read -r line; do
		echo "$label $line" >>"$RAW"
		w=$(get w "$line") m=$(get msg_s "$line") c=$(get cpu_pct "$line")
		i=$(get i "$line")
		echo "$m" >>"$d/$w"
		echo "$c" >>"$d/c$w"
		per_m "$c" "$m" >>"$d/m$w"
		printf '  %-28s %d: workers = %d %7s msg/s (cpu %3s%%)\n' \
		    "$label" "$i" "$w" "$m" "$c" >&2
		[ "$w" != 2 ] ||
		    ratio "$m" "$(tail -n 1 "$d/1")" >>"$d/r"
	done < <(grep '^espw ' "$TMP/espflow.out")
	workers_row "$label" "$d"
}

# esp_case AEAD: integrated-mode ESP against the per-packet AEAD ceiling.
esp_case() {
	local bin=$B/bench/esp_bench out
	[ -x "$bin" ] || die "$bin missing (make builds it)"
	out=$(taskset -c $CPU_RELAY "$bin" -d "$SECS" -p "$PAIRS" -t "$1") ||
	    die "esp_bench failed"
	echo "esp $(tail -1 <<<"$out")" >>"$RAW"
	ESP_OUT+=$'\n'$(head -n -1 <<<"$out")
}

# throughput_case LABEL KIND STREAMS ARGS...
throughput_case() {
	local label=$1 kind=$2 n=$3 i o b ro rb
	shift 3
	local fo=$TMP/o fb=$TMP/b fr=$TMP/r fgo=$TMP/go fgb=$TMP/gb
	local flo=$TMP/lo flb=$TMP/lb
	: >"$fo"; : >"$fb"; : >"$fr"; : >"$fgo"; : >"$fgb"; : >"$flo"; : >"$flb"
	for ((i = 1; i <= PAIRS; i++)); do
		if [ "$NO_RELAY" != 1 ]; then
			run_one ours "$kind" "$n" "$@"; o=$OUT
			echo "$label ours $i $o" >>"$RAW"
			ro=$(get msg_s "$o")
			echo "$ro" >>"$fo"
			get gbit_s "$o" >>"$fgo"
			get loss_pct "$o" >>"$flo"
			warn_odd "$label" "$o"
		else
			ro=-
		fi
		run_one base "$kind" "$n" "$@"; b=$OUT
		echo "$label base $i $b" >>"$RAW"
		rb=$(get msg_s "$b")
		echo "$rb" >>"$fb"
		get gbit_s "$b" >>"$fgb"
		get loss_pct "$b" >>"$flb"
		r=$(ratio "$ro" "$rb")
		[ "$r" = - ] || echo "$r" >>"$fr"
		printf '  %-28s %d: ours %7s msg/s (cpu %3s%%)' "$label" "$i" \
		    "$ro" "$(num %s "$(get relay_cpu_pct "${o:-}")")" >&2
		printf '  %s %7s msg/s (cpu %3s%%)\n' \
		    "$([ "$TLS" = 1 ] && echo stunnel+udpt || echo udptunnel)" \
		    "$rb" "$(get relay_cpu_pct "$b")" >&2
	done
	local so sb sgo sgb slo slb sr
	so=$(stats <"$fo"); sb=$(stats <"$fb"); sr=$(stats <"$fr")
	sgo=$(stats <"$fgo"); sgb=$(stats <"$fgb")
	slo=$(stats <"$flo"); slb=$(stats <"$flb")
	local loss=""
	if [ "$kind" = udp2tcp ]; then
		loss=$(printf '%6s%% %6s%%' "$(num %.1f "${slo%% *}")" \
		    "$(num %.1f "${slb%% *}")")
	fi
	ROWS_T+=("$(printf '%-28s %10s %10s %7s %7s  %-18s %s' "$label" \
	    "$(num %.0f "${so%% *}")" "$(num %.0f "${sb%% *}")" \
	    "$(num %.2f "${sgo%% *}")" "$(num %.2f "${sgb%% *}")" \
	    "$(fmt_ratio "$sr")" "$loss")")
}

latency_case() {
	local label=$1 i o b
	shift
	local f
	for f in o50 o99 b50 b99 r50 r99 d50; do : >"$TMP/$f"; done
	for ((i = 1; i <= PAIRS; i++)); do
		local a50=- a99=-
		if [ "$NO_RELAY" != 1 ]; then
			run_one ours rtt 1 "$@"; o=$OUT
			echo "$label ours $i $o" >>"$RAW"
			a50=$(get added_p50_us "$o")
			a99=$(get added_p99_us "$o")
			echo "$a50" >>"$TMP/o50"; echo "$a99" >>"$TMP/o99"
			get direct_p50_us "$o" >>"$TMP/d50"
		fi
		run_one base rtt 1 "$@"; b=$OUT
		echo "$label base $i $b" >>"$RAW"
		get added_p50_us "$b" >>"$TMP/b50"
		get added_p99_us "$b" >>"$TMP/b99"
		get direct_p50_us "$b" >>"$TMP/d50"
		f=$(ratio "$a50" "$(get added_p50_us "$b")")
		[ "$f" = - ] || echo "$f" >>"$TMP/r50"
		f=$(ratio "$a99" "$(get added_p99_us "$b")")
		[ "$f" = - ] || echo "$f" >>"$TMP/r99"
		printf '  %-28s %d: added p50/p99 ours %s/%s' "$label" "$i" \
		    "$a50" "$a99" >&2
		printf '  udptunnel %s/%s us\n' "$(get added_p50_us "$b")" \
		    "$(get added_p99_us "$b")" >&2
	done
	local -A S
	for f in o50 o99 b50 b99 r50 r99 d50; do
		S[$f]=$(stats <"$TMP/$f")
	done
	ROWS_L+=("$(printf '%-28s %7s/%-7s %7s/%-7s %-18s %-18s %s' "$label" \
	    "$(num %.1f "${S[o50]%% *}")" "$(num %.1f "${S[o99]%% *}")" \
	    "$(num %.1f "${S[b50]%% *}")" "$(num %.1f "${S[b99]%% *}")" \
	    "$(fmt_ratio "${S[r50]}")" "$(fmt_ratio "${S[r99]}")" \
	    "$(num %.1f "${S[d50]%% *}")")")
}

echo "bench: $PAIRS pairs x ${SECS}+${WARM} s per case; relay on CPU" \
    "$CPU_RELAY, load on CPU $CPU_LOAD" >&2
for c in $CASES; do
	case $c in
	t1)	throughput_case "TCP->UDP 1 stream 1400 B" tcp2udp 1 \
		    -n 1 -s 1400 ;;
	t1s)	throughput_case "TCP->UDP 1 stream 100 B" tcp2udp 1 \
		    -n 1 -s 100 ;;
	t100)	throughput_case "TCP->UDP 100 streams 1400 B" tcp2udp 100 \
		    -n 100 -s 1400 ;;
	t100s)	throughput_case "TCP->UDP 100 streams 100 B" tcp2udp 100 \
		    -n 100 -s 100 ;;
	u)	throughput_case "UDP->TCP 1400 B @200k/s" udp2tcp 1 \
		    -s 1400 -R 200000 ;;
	u0)	throughput_case "UDP->TCP 1400 B unlimited" udp2tcp 1 \
		    -s 1400 -R 0 ;;
	us)	throughput_case "UDP->TCP 100 B @200k/s" udp2tcp 1 \
		    -s 100 -R 200000 ;;
	us0)	throughput_case "UDP->TCP 100 B unlimited" udp2tcp 1 \
		    -s 100 -R 0 ;;
	rtt)	latency_case "RTT 100 B ping-pong" -s 100 -N 20000 ;;
	rttb)	BUSY=2ms
		latency_case "RTT 100 B, busy-poll 2ms" -s 100 -N 20000
		BUSY=0 ;;
	tls1)	TLS=1
		throughput_case "TLS TCP->UDP 1 stream 1400 B" tcp2udp 1 \
		    -n 1 -s 1400
		TLS=0 ;;
	tls1s)	TLS=1
		throughput_case "TLS TCP->UDP 1 stream 100 B" tcp2udp 1 \
		    -n 1 -s 100
		TLS=0 ;;
	esp)	esp_case gcm ;;
	espc)	esp_case chacha ;;
	w100)	workers_case "TCP->UDP 100 streams 1400 B" tcp2udp 100 \
		    -n 100 -s 1400 ;;
	w100s)	workers_case "TCP->UDP 100 streams 100 B" tcp2udp 100 \
		    -n 100 -s 100 ;;
	wesp)	esp_workers_case "ESP->TUN 1 stream 1400 B" 1400 ;;
	wesps)	esp_workers_case "ESP->TUN 1 stream 100 B" 100 ;;
	*)	die "unknown case $c" ;;
	esac
done

if [ ${#ROWS_T[@]} -gt 0 ] || [ ${#ROWS_L[@]} -gt 0 ]; then
	echo
	echo "iketcpd vs udptunnel (Debian 1.1), loopback," \
	    "medians of $PAIRS alternating pairs"
fi
if [ ${#ROWS_T[@]} -gt 0 ]; then
	printf '%-28s %10s %10s %7s %7s  %-18s %s\n' "throughput case" \
	    "ours msg/s" "udpt msg/s" "ours Gb" "udpt Gb" "ratio (min-max)" \
	    "loss: ours   udpt"
	printf '%s\n' "${ROWS_T[@]}"
	echo "(Gb: Gbit/s of UDP payload; ratio: ours/udptunnel per pair," \
	    "higher is better)"
	if [[ " $CASES " == *" tls"* ]]; then
		echo "(TLS rows: udpt is a stunnel $(stunnel -version 2>&1 |
		    awk '/^stunnel/ { print $2; exit }') server in front of" \
		    "udptunnel; the load tool is the TLS client of both)"
	fi
fi
if [ ${#ROWS_L[@]} -gt 0 ]; then
	echo
	printf '%-28s %15s %15s %-18s %-18s %s\n' "latency case" \
	    "ours p50/p99" "udpt p50/p99" "ratio p50" "ratio p99" "direct p50"
	printf '%s\n' "${ROWS_L[@]}"
	echo "(round trip us added over direct UDP; ratio: ours/udptunnel," \
	    "lower is better)"
fi
if [ ${#ROWS_W[@]} -gt 0 ]; then
	echo
	echo "iketcpd workers = 1 vs workers = 2, nothing pinned (daemon, load" \
	    "and kernel share $(nproc) CPUs), medians of $PAIRS alternating pairs"
	printf '%-28s %9s %9s  %-18s %5s %5s %7s %7s\n' "workers case" \
	    "w1 msg/s" "w2 msg/s" "ratio w2/w1" "cpu1%" "cpu2%" "s/Mmsg1" \
	    "s/Mmsg2"
	printf '%s\n' "${ROWS_W[@]}"
	echo "(cpu: the daemon's processes, % of one CPU; s/Mmsg: their CPU" \
	    "seconds per million messages; ESP->TUN msg/s: packets the TUN got)"
fi
if [ -n "$ESP_OUT" ]; then
	echo "$ESP_OUT"
fi
echo "raw results: $RAW"
