# lib.sh: sourced by every integration test (test/integration/NN-*.sh).
#
# Gives each test a private temp dir, network namespaces with unique names
# (prefix ikt<pid>), background processes under `timeout` whose PIDs are
# recorded, bounded waits, a real strongSwan gateway and the iketcpd relay.
# The EXIT trap stops what was started (by PID only), deletes the
# namespaces and the temp dir, and dumps the logs when the test failed.
#
# Environment:
#   IKETCPD    the daemon under test (default: <repo>/build/iketcpd)
#   IKT_KEEP   when set, keep the temp dir for inspection
#   IKT_QUIET  when set, do not dump logs on failure
#   IKT_RELAY_WRAP  words put before the daemon by relay_start, such as
#              "prlimit --nofile=64:64" (a command that execs its
#              arguments, so RELAY_DPID stays the daemon's PID)

set -eu
set -o pipefail

IKT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IKT_ROOT=$(cd "$IKT_DIR/../.." && pwd)
IKT_NAME=$(basename "$0" .sh)
IKT_PFX="ikt$$"
IKETCPD=${IKETCPD:-$IKT_ROOT/build/iketcpd}
case $IKETCPD in /*) ;; *) IKETCPD=$PWD/$IKETCPD ;; esac
# The system python (a version-manager shim costs a second per call).
if [ -z "${IKT_PY:-}" ]; then
	IKT_PY=python3
	[ -x /usr/bin/python3 ] && IKT_PY=/usr/bin/python3
fi

# Longest life of any daemon a test starts (run.sh allows a test 120 s).
IKT_LIFE=${IKT_LIFE:-200}

T=$(mktemp -d "/tmp/ikt-$IKT_NAME.XXXXXX")
chmod 755 "$T"
IKT_PIDS=()		# background processes, in start order
IKT_NETNS=()		# namespaces created
IKT_RELAYS=()		# relays that must still run at the end
IKT_DONE=0		# set by ok(): the test reached its end

say()
{
	printf '%s: %s\n' "$IKT_NAME" "$*" >&2
}

fail()
{
	say "FAIL: $*"
	exit 1
}

# ok: the test passed, if every relay it started is still running.
ok()
{
	local p
	for p in "${IKT_RELAYS[@]}"; do
		kill -0 "$p" 2>/dev/null ||
		    fail "a relay died during the test (timeout wrapper $p)"
	done
	IKT_DONE=1
	say "ok"
	exit 0
}

# Stop one recorded process: TERM to the timeout wrapper (which passes it
# on and SIGKILLs its child 2 s later), then KILL if still there.  Only a
# process that is still this shell's child is signalled (never a reused
# PID).
stop_pid()
{
	local pid=$1 i ppid
	ppid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || return 0
	[ "$ppid" = "$$" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

ikt_cleanup()
{
	local rc=$? i f
	set +e
	trap - EXIT INT TERM HUP
	[ "$IKT_DONE" = 1 ] || [ "$rc" != 0 ] || rc=1
	for ((i = ${#IKT_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${IKT_PIDS[i]}"
	done
	for f in "${IKT_NETNS[@]}"; do
		ip netns del "$f" 2>/dev/null
	done
	# A sanitizer build of the daemon reports at exit (leaks) or as it
	# happens; either fails the test, whatever else it checked.
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
	    "$T"/*.log >/dev/null 2>&1; then
		say "FAIL: sanitizer report in $(grep -lE \
		    "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log |
		    sed "s|$T/||" | tr '\n' ' ')"
		rc=1
	fi
	if [ "$rc" != 0 ] && [ -z "${IKT_QUIET:-}" ]; then
		for f in "$T"/*.log "$T"/*/*.log; do
			[ -s "$f" ] || continue
			printf '=== %s (last 60 lines) ===\n' \
			    "${f#"$T"/}" >&2
			tail -n 60 "$f" >&2
		done
	fi
	if [ -n "${IKT_KEEP:-}" ]; then
		say "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap ikt_cleanup EXIT
trap 'exit 143' INT TERM HUP

need_root()
{
	[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
}

need_iketcpd()
{
	[ -x "$IKETCPD" ] || fail "no daemon binary at $IKETCPD"
}

# need_iketcpctl: CTL, the iketcpctl built with the daemon under test
# (IKETCPCTL overrides), else build/'s.
need_iketcpctl()
{
	CTL=${IKETCPCTL:-$(dirname "$IKETCPD")/iketcpctl}
	[ -x "$CTL" ] || CTL=$IKT_ROOT/build/iketcpctl
	[ -x "$CTL" ] || fail "no iketcpctl at $CTL"
}

# --- namespaces and links -------------------------------------------------

# The full name of namespace NAME for this run.
ns()
{
	printf '%s%s' "$IKT_PFX" "$1"
}

ns_new()
{
	local n
	n=$(ns "$1")
	ip netns add "$n"
	IKT_NETNS+=("$n")
	# No duplicate address detection: its end, a second or two after a
	# link comes up, changes the flags of the link-local address, which
	# strongSwan takes for a roam (MOBIKE update, and under libipsec a
	# rekey of each Child SA) in the middle of the first pings.  IKT_DAD=1
	# keeps it.
	[ "${IKT_DAD:-0}" = 1 ] || ip netns exec "$n" sysctl -qw \
	    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$n" link set lo up
}

# ns_exec NAME CMD...: run CMD inside namespace NAME.
ns_exec()
{
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

# link_add NS_A ADDR_A/LEN NS_B ADDR_B/LEN: a veth pair, "v<B>" in A and
# "v<A>" in B (so the names never meet in the root namespace).
link_add()
{
	local a b
	a=$(ns "$1")
	b=$(ns "$3")
	ip -n "$a" link add "v$3" type veth peer name "v$1" netns "$b"
	ip -n "$a" addr add "$2" dev "v$3"
	ip -n "$b" addr add "$4" dev "v$1"
	ip -n "$a" link set "v$3" up
	ip -n "$b" link set "v$1" up
}

# link_rate A B RATE: shapes what B sends to A over their link (made by
# link_add A .. B ..) to RATE (tc units, e.g. 20mbit) with a token bucket.
# curl's own --limit-rate (7.88) writes the body at full speed and only
# sleeps afterwards, so a test that needs a transfer still running seconds
# later shapes the link instead.
link_rate()
{
	tc -n "$(ns "$2")" qdisc replace dev "v$1" root tbf rate "$3" \
	    burst 32kb latency 200ms
}

# --- processes ------------------------------------------------------------

# bg NAME SECONDS CMD...: run CMD in the background under timeout, output
# in $T/NAME.log; the PID of the timeout wrapper is recorded and left in
# BG_PID.  Do not call from a command substitution (the PID must belong
# to this shell).
bg()
{
	local name=$1 secs=$2
	shift 2
	timeout -k 2 "$secs" "$@" >"$T/$name.log" 2>&1 &
	BG_PID=$!
	IKT_PIDS+=("$BG_PID")
}

# The process that a timeout wrapper runs.
child_of()
{
	local i c
	for i in $(seq 50); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
		c=${c%% *}
		[ -n "$c" ] && { printf '%s' "$c"; return 0; }
		sleep 0.1
	done
	return 1
}

# wait_log FILE REGEX [SECONDS]: wait until an extended regex matches a
# line of FILE.
wait_log()
{
	local f=$1 re=$2 secs=${3:-10} end
	end=$((SECONDS + secs))
	while [ "$SECONDS" -le "$end" ]; do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	say "timed out after ${secs}s waiting for /$re/ in ${f#"$T"/}"
	return 1
}

# count_log FILE REGEX: lines of FILE matching.
count_log()
{
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}

# wait_tcp_listen NS PORT [SECONDS]: until something listens on TCP PORT.
wait_tcp_listen()
{
	local n=$1 port=$2 secs=${3:-10} end
	end=$((SECONDS + secs))
	while [ "$SECONDS" -le "$end" ]; do
		ns_exec "$n" ss -Hltn "sport = :$port" 2>/dev/null |
		    grep -q . && return 0
		sleep 0.1
	done
	say "nothing listens on TCP $port in $n after ${secs}s"
	return 1
}

# --- ikeclient --------------------------------------------------------------

# ikeclient NS ARGS...: run ikeclient.py in namespace NS (bounded).  JSON on
# stdout; the exit status is the client's.  Clients stay in the test's
# process group (--foreground), so a signal to the test reaches them too.
ikeclient()
{
	local n=$1
	shift
	timeout --foreground -k 2 60 ip netns exec "$(ns "$n")" \
	    "$IKT_PY" "$IKT_DIR/ikeclient.py" "$@"
}

# jget KEY...: fields of the JSON on stdin (dotted paths), one per line.
jget()
{
	"$IKT_PY" "$IKT_DIR/ikeclient.py" get "$@"
}

# --- packet capture ---------------------------------------------------------

# capture_start NAME NS IFACE [FILTER...]: tcpdump into $T/NAME.pcap
# (default filter: udp).
capture_start()
{
	local name=$1 n=$2 ifc=$3
	shift 3
	[ $# -gt 0 ] || set -- udp
	bg "$name-tcpdump" "$IKT_LIFE" ip netns exec "$(ns "$n")" tcpdump -n -U \
	    --immediate-mode -Z root -s 0 -i "$ifc" -w "$T/$name.pcap" "$@"
	wait_log "$T/$name-tcpdump.log" "listening on" 10
}

# pcap_json NAME [ARGS]: datagrams captured so far, as JSON.
pcap_json()
{
	local name=$1
	shift
	"$IKT_PY" "$IKT_DIR/ikeclient.py" pcap "$T/$name.pcap" "$@"
}

# --- strongSwan -------------------------------------------------------------

# Charon plugins, in this order (shared/STRONGSWAN.md): kdf is required;
# kernel-libipsec before kernel-netlink.
SWAN_PLUGINS="random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey \
constraints revocation kernel-libipsec kernel-netlink socket-default vici \
attr eap-identity eap-mschapv2 eap-md5"

# swan_conf DIR [EXTRA]: DIR/strongswan.conf for one charon; EXTRA is
# strongswan.conf text placed inside charon { }.  SWAN_LOG_EXTRA: log
# levels for its log file (e.g. "chd = 4": Child SA keys).
swan_conf()
{
	local d=$1 extra=${2:-}
	mkdir -p "$d/run"
	# The directories swanctl --load-all reads (else it complains).
	(cd "$d" && mkdir -p swanctl/conf.d swanctl/x509 swanctl/x509ca \
	    swanctl/x509ocsp swanctl/x509aa swanctl/x509ac swanctl/x509crl \
	    swanctl/pubkey swanctl/private swanctl/rsa swanctl/ecdsa \
	    swanctl/bliss swanctl/pkcs8 swanctl/pkcs12)
	cat >"$d/strongswan.conf" <<EOF
# Written by test/integration/lib.sh for one test's charon.
charon {
	load_modular = no
	load = $SWAN_PLUGINS
	# Tests give up in seconds, not minutes.
	retransmit_timeout = 1.0
	retransmit_tries = 3
	# A relay is one source address for many clients: no per-IP
	# half-open blocking and no cookies (the per-IP cookie threshold
	# defaults to 3 half-open SAs).
	block_threshold = 1000000
	cookie_threshold = 1000000
	cookie_threshold_ip = 1000000
	init_limit_half_open = 0
	filelog {
		charon {
			path = $d/charon.log
			time_format = %H:%M:%S
			default = 1
			${SWAN_LOG_EXTRA:-}
			ike_name = yes
			flush_line = yes
			append = no
		}
	}
	syslog {
		identifier = charon-$IKT_PFX
		daemon {
			default = -1
		}
	}
	plugins {
		vici {
			socket = unix://$d/charon.vici
		}
	}
$extra
}
EOF
}

# swan_start NAME NS DIR: run charon with DIR/strongswan.conf in namespace
# NS (its own /run, so its pid file does not collide), wait for its control
# socket and load DIR/swanctl/swanctl.conf.  Sets SWAN_PID_<NAME>.
swan_start()
{
	local name=$1 n=$2 d=$3
	rm -f "$d/charon.vici"
	# shellcheck disable=SC2016
	bg "$name-charon" "$IKT_LIFE" ip netns exec "$(ns "$n")" sh -c \
	    'mount --bind "$1/run" /run &&
	     exec env STRONGSWAN_CONF="$1/strongswan.conf" \
	     /usr/lib/ipsec/charon' charon "$d"
	printf -v "SWAN_PID_$name" '%s' "$BG_PID"
	local i
	for i in $(seq 100); do
		[ -S "$d/charon.vici" ] && break
		kill -0 "$BG_PID" 2>/dev/null ||
		    fail "$name: charon exited (see $name-charon.log)"
		sleep 0.1
	done
	[ -S "$d/charon.vici" ] || fail "$name: no vici socket after 10 s"
	swanctl_ "$d" --load-all --noprompt >"$T/$name-swanctl.log" 2>&1 ||
	    fail "$name: swanctl --load-all failed"
	grep -q "loaded connection" "$T/$name-swanctl.log" ||
	    fail "$name: no connection loaded"
}

# swanctl_ DIR COMMAND [ARGS...]: swanctl against the charon of DIR.
swanctl_()
{
	local d=$1 c=$2
	shift 2
	SWANCTL_DIR="$d/swanctl" timeout --foreground 20 swanctl "$c" \
	    --uri "unix://$d/charon.vici" "$@"
}

# gw_start [NAME] [NS]: an unmodified strongSwan IKEv2 gateway.  Knobs:
#   GW_ID          its identity (responder.test)
#   GW_PEER_ID     the initiator's identity (initiator.test)
#   GW_PSK         the pre-shared key
#   GW_POOL        virtual-IP pool (10.99.0.0/24)
#   GW_POOL6       a second pool, for IPv6 virtual IPs (none)
#   GW_PROPOSALS   IKE proposals (aes256gcm16-prfsha384-x25519, default)
#   GW_ESP         ESP proposals (aes256gcm16, default)
#   GW_LOCAL_TS    traffic selector on the gateway side (0.0.0.0/0)
#   GW_CONN_EXTRA  swanctl.conf lines added to the connection
#   GW_CHARON_EXTRA strongswan.conf lines added inside charon { }
# Its directory is $T/NAME (charon.log there; use gw_log).
gw_start()
{
	local name=${1:-gw} n=${2:-G} d pool6=
	d=$T/$name
	swan_conf "$d" "${GW_CHARON_EXTRA:-}"
	[ -z "${GW_POOL6:-}" ] ||
	    pool6=$(printf '\tpool6 {\n\t\taddrs = %s\n\t}' "$GW_POOL6")
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
	rw {
		version = 2
		local_addrs = %any
		proposals = ${GW_PROPOSALS:-aes256gcm16-prfsha384-x25519, default}
		pools = pool4${GW_POOL6:+, pool6}
		send_certreq = no
		local {
			auth = psk
			id = ${GW_ID:-responder.test}
		}
		remote {
			auth = psk
			id = ${GW_PEER_ID:-initiator.test}
		}
		children {
			net {
				local_ts = ${GW_LOCAL_TS:-0.0.0.0/0}
				esp_proposals = ${GW_ESP:-aes256gcm16, default}
			}
		}
${GW_CONN_EXTRA:-}
	}
}
pools {
	pool4 {
		addrs = ${GW_POOL:-10.99.0.0/24}
	}
$pool6
}
secrets {
	ike-rw {
		id-1 = ${GW_ID:-responder.test}
		id-2 = ${GW_PEER_ID:-initiator.test}
		secret = "${GW_PSK:-iketcp-integration-test-psk}"
	}
}
EOF
	swan_start "$name" "$n" "$d"
}

# gw_log [NAME]: path of a gateway's charon log.
# shellcheck disable=SC2120
gw_log()
{
	printf '%s' "$T/${1:-gw}/charon.log"
}

# --- topology and relay -----------------------------------------------------

# topo_relay_gw: namespace R (relay, clients; 192.0.2.1) and G (gateway;
# 192.0.2.2) on one veth link, the gateway running, tcpdump on G's side of
# the link into $T/gw.pcap.
GW_ADDR=192.0.2.2
RELAY_ADDR=192.0.2.1
topo_relay_gw()
{
	need_root
	ns_new R
	ns_new G
	link_add R "$RELAY_ADDR/24" G "$GW_ADDR/24"
	capture_start gw G vR "udp"
	gw_start gw G
}

# relay_conf FILE [KEY=VALUE...]: a relay configuration with one
# [relay t] section toward the gateway; each KEY=VALUE becomes a line.
# Without a listen=... it listens on 127.0.0.1:4500.  IKT_GLOBAL adds lines
# to [global].
relay_conf()
{
	local f=$1 kv
	shift
	{
		printf '[global]\nlog-level = debug\n%s\n[relay t]\n' \
		    "${IKT_GLOBAL:-}"
		case " $* " in
		*" listen="*) ;;
		*) printf 'listen = 127.0.0.1:4500\n' ;;
		esac
		printf 'gateway = %s\n' "$GW_ADDR"
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$f"
}

# relay_start NAME CONF PORT [NS]: iketcpd -d -f CONF in NS (default R),
# log in $T/NAME.log, until it listens on TCP PORT.  Sets RELAY_PID (the
# timeout wrapper) and RELAY_DPID (the daemon itself, for signals).
relay_start()
{
	local name=$1 conf=$2 port=$3 n=${4:-R}
	need_iketcpd
	# shellcheck disable=SC2086  # IKT_RELAY_WRAP is split into words
	bg "$name" "$IKT_LIFE" ip netns exec "$(ns "$n")" ${IKT_RELAY_WRAP:-} \
	    "$IKETCPD" -d -f "$conf"
	RELAY_PID=$BG_PID
	IKT_RELAYS+=("$RELAY_PID")
	# shellcheck disable=SC2034  # used by the tests
	RELAY_DPID=$(child_of "$RELAY_PID") || RELAY_DPID=
	wait_tcp_listen "$n" "$port" 10 ||
	    fail "$name did not start listening on $port"
}

# relay_up NAME PORT [KEY=VALUE...]: relay_conf into $T/NAME.conf (listening
# on 127.0.0.1:PORT unless a listen= is given) and relay_start.
relay_up()
{
	local name=$1 port=$2
	shift 2
	case " $* " in
	*" listen="*) relay_conf "$T/$name.conf" "$@" ;;
	*) relay_conf "$T/$name.conf" "listen=127.0.0.1:$port" "$@" ;;
	esac
	relay_start "$name" "$T/$name.conf" "$port"
}

# relay_sigterm: SIGTERM to the daemon last started (RELAY_DPID), which
# must exit with status 0 within 3 s; no relay is then expected to run
# at the end.
relay_sigterm()
{
	local rc=0
	IKT_RELAYS=()
	kill -TERM "$RELAY_DPID"
	for _ in $(seq 30); do
		kill -0 "$RELAY_DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$RELAY_DPID" 2>/dev/null && fail "still running 3 s after SIGTERM"
	wait "$RELAY_PID" || rc=$?
	[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
}

# relay_stream_log NAME CPORT REGEX: the relay's log lines about the
# stream from client port CPORT that also match REGEX (status 1 if none).
relay_stream_log()
{
	grep -E -- "(127\.0\.0\.1|::1)\]?:$2([^0-9]|$)" "$T/$1.log" |
	    grep -E -- "$3"
}

# wait_stream_log NAME CPORT REGEX [SECONDS]
wait_stream_log()
{
	local end=$((SECONDS + ${4:-5}))
	while [ "$SECONDS" -le "$end" ]; do
		relay_stream_log "$1" "$2" "$3" >/dev/null && return 0
		sleep 0.1
	done
	say "no /$3/ in $1.log for client port $2"
	return 1
}

# --- clients in the background ---------------------------------------------

# client_bg NAME ARGS...: ikeclient in R in the background; JSON in
# $T/NAME.json, stderr in $T/NAME.log.  NAME must be an identifier.
client_bg()
{
	local name=$1
	shift
	timeout --foreground -k 2 60 ip netns exec "$(ns R)" \
	    "$IKT_PY" "$IKT_DIR/ikeclient.py" "$@" \
	    >"$T/$name.json" 2>"$T/$name.log" &
	IKT_PIDS+=("$!")
	printf -v "CLIENT_PID_$name" '%s' "$!"
}

# client_wait NAME: wait for a background client; its exit status.
client_wait()
{
	local v="CLIENT_PID_$1" rc=0
	wait "${!v}" || rc=$?
	return "$rc"
}

# client_json NAME: what a background client printed.
client_json()
{
	cat "$T/$1.json"
}

# hexof FILE: the bytes of FILE as lower-case hex.
hexof()
{
	"$IKT_PY" -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' \
	    "$1"
}

# between X LO HI: LO <= X <= HI for decimal numbers.
between()
{
	"$IKT_PY" -c 'import sys; x, lo, hi = map(float, sys.argv[1:]);
sys.exit(0 if lo <= x <= hi else 1)' "$1" "$2" "$3"
}

# --- TLS, proxies -----------------------------------------------------------

# tls_cert NAME CN: a self-signed ECDSA P-256 certificate for CN in
# $T/NAME.crt with its key in $T/NAME.key (mode 600).
tls_cert()
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj "/CN=$2" -addext "subjectAltName=DNS:$2" -days 2 \
	    -keyout "$T/$1.key" -out "$T/$1.crt" 2>"$T/$1-openssl.log" ||
	    fail "openssl req for $2"
	chmod 600 "$T/$1.key"
}

# s_client NS ARGS...: openssl s_client in NS, input on stdin, bounded.
s_client()
{
	local n=$1
	shift
	timeout --foreground -k 2 20 ip netns exec "$(ns "$n")" \
	    openssl s_client "$@"
}

# frames_of PREFIX REQFILE [SPI]: the stream bytes for PREFIX
# (iketcp|ikev2) then one framed IKE message (Non-ESP marker + REQFILE,
# its initiator SPI replaced by SPI, 16 hex digits, when given).
frames_of()
{
	"$IKT_PY" -c 'import sys, struct
p = {"iketcp": b"IKETCP", "ikev2": b"IKEv2"}[sys.argv[1]]
r = open(sys.argv[2], "rb").read()
if len(sys.argv) > 3:
	r = bytes.fromhex(sys.argv[3]) + r[8:]
m = b"\0\0\0\0" + r
sys.stdout.buffer.write(p + struct.pack("!H", len(m) + 2) + m)' "$@"
}

# tinyproxy_up NS PORT: a real HTTP proxy (tinyproxy) on 127.0.0.1:PORT in
# NS that allows CONNECT to port 443 only; its log is $T/tinyproxy.log.
# TINYPROXY_EXTRA: more tinyproxy.conf lines (e.g. BasicAuth).
tinyproxy_up()
{
	local n=$1 port=$2
	: >"$T/tinyproxy.log"
	chmod 666 "$T/tinyproxy.log"
	cat >"$T/tinyproxy.conf" <<EOT
User nobody
Group nogroup
Port $port
Listen 127.0.0.1
Timeout 60
MaxClients 20
Allow 127.0.0.1
ConnectPort 443
LogFile "$T/tinyproxy.log"
LogLevel Info
${TINYPROXY_EXTRA:-}
EOT
	bg tinyproxy-run "$IKT_LIFE" ip netns exec "$(ns "$n")" \
	    tinyproxy -d -c "$T/tinyproxy.conf"
	wait_tcp_listen "$n" "$port" 10 || fail "tinyproxy did not start"
}

# --- connector: strongSwan initiator -> connector -> relay -> gateway ------

# topo_connector: three namespaces.
#   C  the client: a strongSwan initiator and the iketcpd connector.
#      198.51.100.1 toward R; 203.0.113.1 on lo is "the gateway" as the
#      initiator knows it (the connector's udp-listen).
#   R  the relay: 198.51.100.2 toward C, 192.0.2.1 toward G, forwarding
#      (so UDP from C can reach the gateway unless a test blocks it).
#   G  the gateway: 192.0.2.2, and 10.98.0.1 on lo, the service reached
#      through the tunnel.
# tcpdump records all IP on C's side of the C-R link into $T/cr.pcap
# (kernel buffer enlarged so a 10 MB transfer is captured whole).
CLIENT_ADDR=198.51.100.1
RELAY_C_ADDR=198.51.100.2
CN_ADDR=203.0.113.1
SVC_ADDR=10.98.0.1
topo_connector()
{
	need_root
	ns_new C
	ns_new R
	ns_new G
	link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
	link_add R "$RELAY_ADDR/24" G "$GW_ADDR/24"
	ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo
	ip -n "$(ns C)" route add 192.0.2.0/24 via "$RELAY_C_ADDR"
	ip -n "$(ns G)" addr add "$SVC_ADDR/32" dev lo
	ip -n "$(ns G)" route add 198.51.100.0/24 via "$RELAY_ADDR"
	ns_exec R sysctl -qw net.ipv4.ip_forward=1
	bg cr-tcpdump "$IKT_LIFE" ip netns exec "$(ns C)" tcpdump -n -U \
	    --immediate-mode -B 65536 -Z root -s 0 -i vR -w "$T/cr.pcap" ip
	CR_TCPDUMP_PID=$BG_PID
	wait_log "$T/cr-tcpdump.log" "listening on" 10
	GW_LOCAL_TS=${GW_LOCAL_TS:-$SVC_ADDR/32} gw_start gw G
}

# connector_conf FILE [KEY=VALUE...]: [connector c] listening on
# $CN_ADDR:500 and :4500 (CN_LISTEN: another address, e.g. *), server =
# the relay on 198.51.100.2:4500 unless a server= is given.
connector_conf()
{
	local f=$1 kv
	shift
	{
		printf '[global]\nlog-level = %s\n\n[connector c]\n' \
		    "${CN_LOG_LEVEL:-info}"
		printf 'udp-listen = %s:500\nudp-listen = %s:4500\n' \
		    "${CN_LISTEN:-$CN_ADDR}" "${CN_LISTEN:-$CN_ADDR}"
		case " $* " in
		*" server="*) ;;
		*) printf 'server = %s:4500\n' "$RELAY_C_ADDR" ;;
		esac
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$f"
}

# connector_up NAME [KEY=VALUE...]: iketcpd with connector_conf in C, until
# it has UDP 4500 open.  Sets CN_PID (timeout wrapper) and CN_DPID.
connector_up()
{
	local name=$1 i
	shift
	need_iketcpd
	connector_conf "$T/$name.conf" "$@"
	bg "$name" "$IKT_LIFE" ip netns exec "$(ns "${CN_NS:-C}")" "$IKETCPD" -d \
	    -f "$T/$name.conf"
	CN_PID=$BG_PID
	IKT_RELAYS+=("$CN_PID")
	# shellcheck disable=SC2034  # used by the tests
	CN_DPID=$(child_of "$CN_PID") || CN_DPID=
	for i in $(seq 100); do
		ns_exec "${CN_NS:-C}" ss -Hlun "sport = :4500" 2>/dev/null |
		    grep -q . &&
		    return 0
		sleep 0.1
	done
	fail "$name did not open UDP 4500"
}

# relay_for_connector NAME [KEY=VALUE...]: the relay in R on
# 198.51.100.2:4500 toward the gateway.
relay_for_connector()
{
	local name=$1
	shift
	relay_conf "$T/$name.conf" "listen=$RELAY_C_ADDR:4500" "$@"
	relay_start "$name" "$T/$name.conf" 4500 R
}

# initiator_start: an unmodified strongSwan initiator in C (PSK, virtual
# IP from the gateway's pool, kernel-libipsec) that believes the gateway
# is $CN_ADDR.  Its own IKE ports are 510/4510 so that the connector can
# have 500/4500; it still sends to 500 first and floats to 4500.  Its
# directory is $T/init.  INIT_CHARON_EXTRA: strongswan.conf lines;
# INIT_CONN_EXTRA: swanctl.conf lines in the connection.  INIT_PROPOSALS,
# INIT_ESP: its IKE and ESP proposals.  INIT_NS (C), INIT_DIR ($T/init),
# INIT_ADDR ($CLIENT_ADDR): another namespace, directory and address, for
# several initiators.  INIT_MOBIKE: yes (strongSwan's default) or no;
# integ_server_up makes it no: with an integrated server that agrees to
# MOBIKE, strongSwan follows an address update with a rekey of every
# Child SA (libipsec cannot move SAs), which tests that use the first
# Child SA's key do not want.  (ns_new turns off IPv6 DAD, whose end
# used to set off such an update a second after the links came up.)
# INIT_REMOTE_TS ($SVC_ADDR/32) and INIT_VIPS (0.0.0.0): a full tunnel is
# "0.0.0.0/0, ::/0" with "0.0.0.0, ::".
initiator_start()
{
	local d=${INIT_DIR:-$T/init}
	swan_conf "$d" "	port = 510
	port_nat_t = 4510
	${INIT_CHARON_EXTRA:-}"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = ${INIT_ADDR:-$CLIENT_ADDR}
		remote_addrs = $CN_ADDR
		proposals = ${INIT_PROPOSALS:-aes256gcm16-prfsha384-x25519}
		mobike = ${INIT_MOBIKE:-yes}
		vips = ${INIT_VIPS:-0.0.0.0}
		send_certreq = no
		local {
			auth = psk
			id = ${GW_PEER_ID:-initiator.test}
		}
		remote {
			auth = psk
			id = ${GW_ID:-responder.test}
		}
		children {
			net {
				remote_ts = ${INIT_REMOTE_TS:-$SVC_ADDR/32}
				esp_proposals = ${INIT_ESP:-aes256gcm16}
			}
		}
${INIT_CONN_EXTRA:-}
	}
}
secrets {
	ike-home {
		id-1 = ${GW_PEER_ID:-initiator.test}
		id-2 = ${GW_ID:-responder.test}
		secret = "${GW_PSK:-iketcp-integration-test-psk}"
	}
}
EOF2
	swan_start "$(basename "$d")" "${INIT_NS:-C}" "$d"
}

# init_eap USER PASSWORD: an unmodified strongSwan initiator in C ($T/init)
# configured as an OS client's "IKEv2 EAP" profile: it authenticates the
# server by its certificate (id responder.test, chained to EAP_CA, the only
# CA it has, as a phone has its trusted roots) and itself with
# EAP-MSCHAPv2 as USER, asks for a virtual IP, and talks to $CN_ADDR from
# ports 510/4510.  INIT_PROPOSALS, INIT_ESP: its proposals (the default as
# initiator_start); INIT_CONN_EXTRA, INIT_CHARON_EXTRA as there; MOBIKE
# off.  A running one is stopped first.
init_eap()
{
	local d=$T/init
	[ -n "${SWAN_PID_init:-}" ] && stop_pid "$SWAN_PID_init"
	SWAN_PID_init=
	rm -rf "$d"
	swan_conf "$d" "	port = 510
	port_nat_t = 4510
	${INIT_CHARON_EXTRA:-}"
	cp "$EAP_CA" "$d/swanctl/x509ca/ca.pem"
	cat >"$d/swanctl/swanctl.conf" <<EOF2
connections {
	home {
		version = 2
		local_addrs = $CLIENT_ADDR
		remote_addrs = $CN_ADDR
		proposals = ${INIT_PROPOSALS:-aes256gcm16-prfsha384-x25519}
		mobike = no
		vips = 0.0.0.0
		local {
			auth = eap-mschapv2
			id = phone.test
			eap_id = $1
		}
		remote {
			auth = pubkey
			id = responder.test
		}
		children {
			net {
				remote_ts = $SVC_ADDR/32
				esp_proposals = ${INIT_ESP:-aes256gcm16}
			}
		}
${INIT_CONN_EXTRA:-}
	}
}
secrets {
	eap-user {
		id = $1
		secret = "$2"
	}
}
EOF2
	swan_start init C "$d"
}

# tunnel_up: initiate the initiator's Child SA; sets IKE_MS (how long the
# IKE_SA + CHILD_SA + virtual IP took, as swanctl saw it).
tunnel_up()
{
	local t0 t1
	t0=$(date +%s%N)
	swanctl_ "${INIT_DIR:-$T/init}" --initiate --child net --timeout 30 \
	    >"$T/initiate.log" 2>&1 || fail "initiate failed"
	t1=$(date +%s%N)
	IKE_MS=$(( (t1 - t0) / 1000000 ))
	grep -q "initiate completed successfully" "$T/initiate.log" ||
	    fail "no Child SA established"
}

# ike_spis: the initiator's IKE SAs as "SPIi_SPIr" lines.
ike_spis()
{
	swanctl_ "$T/init" --list-sas --raw 2>/dev/null |
	    grep -oE 'initiator-spi=[0-9a-f]+ responder-spi=[0-9a-f]+' |
	    sed 's/initiator-spi=//; s/ responder-spi=/_/'
}

# ping_tunnel COUNT: pings $SVC_ADDR from C (PING_NS) through the tunnel;
# sets PING_RTT (average, ms) and fails when any is lost.
ping_tunnel()
{
	local out C=${PING_NS:-C}
	# Warm-up, losses allowed: the first echo can go while the initiator
	# still installs its virtual IP and routes.
	ns_exec "$C" ping -n -c 3 -i 0.2 -W 1 "$SVC_ADDR" >/dev/null 2>&1 || true
	out=$(ns_exec "$C" ping -n -c "$1" -i 0.2 -W 2 "$SVC_ADDR" 2>&1) ||
	    fail "ping through the tunnel: $out"
	grep -q " 0% packet loss" <<<"$out" || fail "ping lost packets: $out"
	PING_RTT=$(sed -nE 's|.*= [0-9.]+/([0-9.]+)/.*|\1|p' <<<"$out")
}

# web_start: a 10 MB file served over HTTP by python3 on $SVC_ADDR:8080 in
# G (WEB_NS); its SHA-256 in WEB_SUM.
web_start()
{
	mkdir -p "$T/www"
	head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/www/blob"
	WEB_SUM=$(sha256sum "$T/www/blob" | cut -d' ' -f1)
	bg web "$IKT_LIFE" ip netns exec "$(ns "${WEB_NS:-G}")" "$IKT_PY" \
	    -m http.server --bind "$SVC_ADDR" --directory "$T/www" 8080
	wait_tcp_listen "${WEB_NS:-G}" 8080 10 || fail "web server did not start"
}

# fetch_bg [CURL ARGS...]: curl in C fetches the blob in the background
# into $T/got; FETCH_PID.  fetch_wait: its status, XFER_S (seconds) and
# the checksum check.
fetch_bg()
{
	timeout -k 2 90 ip netns exec "$(ns C)" curl -sS --max-time 80 \
	    -o "$T/got" -w '%{time_total} %{size_download}\n' "$@" \
	    "http://$SVC_ADDR:8080/blob" >"$T/fetch.out" 2>"$T/fetch.log" &
	FETCH_PID=$!
	IKT_PIDS+=("$FETCH_PID")
}

fetch_wait()
{
	local rc=0 sum
	wait "$FETCH_PID" || rc=$?
	[ "$rc" = 0 ] || fail "transfer failed ($rc): $(cat "$T/fetch.log")"
	read -r XFER_S _ <"$T/fetch.out"
	sum=$(sha256sum "$T/got" | cut -d' ' -f1)
	[ "$sum" = "$WEB_SUM" ] || fail "transfer corrupted ($sum)"
}

# kill_mid_transfer PORT LOG: a 10 MB download through the tunnel with
# the C-R link shaped to 20 Mbit/s (about 4 s); 1.5 s in, the connector's
# stream to PORT is killed (ss -K: the kernel aborts it and sends a RST).
# Waits for the connector to lose and reopen it (stream 2) and for LOG
# (the relay's or the server's) to show the re-attach, then for the
# download, which must have gone on after the kill.  KILLED_AT: bytes
# received before the kill.
kill_mid_transfer()
{
	link_rate C R 20mbit
	fetch_bg
	sleep 1.5
	[ -s "$T/got" ] || fail "the transfer has not started"
	KILLED_AT=$(stat -c %s "$T/got")
	[ "$KILLED_AT" -lt $((10 * 1024 * 1024)) ] ||
	    fail "the transfer ended before the kill"
	ns_exec C ss -K dst "$RELAY_C_ADDR" dport = ":$1" >/dev/null ||
	    fail "ss -K failed"
	say "stream killed after $KILLED_AT bytes"
	wait_log "$T/cn.log" "stream to .* lost" 5 || fail "connector saw no loss"
	wait_log "$T/cn.log" "stream 2 to .* up" 5 ||
	    fail "connector did not reconnect"
	wait_log "$2" "session re-attached" 10 ||
	    fail "${2##*/}: the new stream was not re-attached"
	fetch_wait
	[ "$(stat -c %s "$T/got")" -gt "$KILLED_AT" ] ||
	    fail "nothing after the kill"
}

# wire_check [ARGS]: stops the C-R capture (so it is complete) and runs
# tcpwire.py over it (relay port 4500 unless ARGS give --port); JSON in
# WIRE.
wire_check()
{
	local size last=-1
	# Stop the capture only once the link is quiet (its file has not grown
	# for 0.5 s, at most 10 s): a record still in flight when tcpdump
	# stops would read as a partial record at the end.
	for _ in $(seq 20); do
		size=$(stat -c %s "$T/cr.pcap" 2>/dev/null || echo 0)
		[ "$size" = "$last" ] && break
		last=$size
		sleep 0.5
	done
	stop_pid "$CR_TCPDUMP_PID"
	case " $* " in
	*" --port "*) ;;
	*) set -- --port 4500 "$@" ;;
	esac
	WIRE=$("$IKT_PY" "$IKT_DIR/tcpwire.py" "$T/cr.pcap" "$@") ||
	    fail "C-R link: $WIRE"
}

# relay_tls_for_connector NAME [KEY=VALUE...]: as relay_for_connector, and
# TLS on 198.51.100.2:443 with a certificate for relay.test that the
# connector trusts as its CA ($T/relay-tls.crt).
relay_tls_for_connector()
{
	local name=$1
	shift
	tls_cert relay-tls relay.test
	relay_for_connector "$name" "tls-listen=$RELAY_C_ADDR:443" \
	    "tls-cert=$T/relay-tls.crt" "tls-key=$T/relay-tls.key" "$@"
}

# cn_stats: the connector's counters (SIGUSR1) into its log; the last
# session line is echoed.
cn_stats()
{
	local before
	before=$(count_log "$T/cn.log" "session [0-9]+: stats")
	kill -USR1 "$CN_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/cn.log" "session [0-9]+: stats")" -gt \
		    "$before" ] && break
		sleep 0.1
	done
	grep -E "session [0-9]+: stats" "$T/cn.log" | tail -n 1
}

# --- integrated server: strongSwan -> connector -> integrated iketcpd -----

# integ_topo: namespaces C (the initiator and its connector, as in
# topo_connector) and R (iketcpd as the integrated server on
# 198.51.100.2:4500); no gateway.  SVC_ADDR becomes the server's TUN
# address (the pool's first).
integ_topo()
{
	need_root
	need_iketcpd
	SVC_ADDR=10.10.0.1
	ns_new C
	ns_new R
	link_add C "$CLIENT_ADDR/24" R "$RELAY_C_ADDR/24"
	ip -n "$(ns C)" addr add "$CN_ADDR/32" dev lo
}

# integ_server_up NAME [KEY=VALUE...]: the integrated server in R, its
# configuration in $T/NAME.conf ([integrated vpn], more keys as given),
# the secrets file $T/ipsec.secrets: INTEG_SECRETS when set, else
# initiator.test with GW_PSK.  INTEG_PROPOSALS, INTEG_ESP: its proposals.
# INTEG_LISTEN: listen addresses (198.51.100.2:4500).  INTEG_LOG_LEVEL
# (debug).  IKT_GLOBAL adds lines to [global], as for relay_conf.
integ_server_up()
{
	local name=$1 kv l
	shift
	: "${INIT_MOBIKE:=no}"	# see initiator_start
	if [ -n "${INTEG_SECRETS:-}" ]; then
		printf '%s\n' "$INTEG_SECRETS" >"$T/ipsec.secrets"
	else
		printf 'initiator.test : PSK "%s"\n' \
		    "${GW_PSK:-iketcp-integration-test-psk}" >"$T/ipsec.secrets"
	fi
	chmod 600 "$T/ipsec.secrets"
	{
		printf '[global]\nlog-level = %s\n%s\n[integrated vpn]\n' \
		    "${INTEG_LOG_LEVEL:-debug}" "${IKT_GLOBAL:-}"
		for l in ${INTEG_LISTEN:-$RELAY_C_ADDR:4500}; do
			printf 'listen = %s\n' "$l"
		done
		cat <<EOC
id = responder.test
secrets = $T/ipsec.secrets
ike-proposals = ${INTEG_PROPOSALS:-aes256gcm16-prfsha384-x25519}
esp-proposals = ${INTEG_ESP:-aes256gcm16}
pool = 10.10.0.0/24
local-ts = 0.0.0.0/0
tun = iketcp0
EOC
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$T/$name.conf"
	relay_start "$name" "$T/$name.conf" 4500 R
	grep -q "tun iketcp0 10.10.0.1/24" "$T/$name.log" ||
	    fail "$name: no TUN set up"
}

# integ_tun_rx: packets the server's TUN (iketcp0 in R) has received.
integ_tun_rx()
{
	ip -n "$(ns R)" -s -j link show iketcp0 |
	    "$IKT_PY" -c 'import json, sys
print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# integ_esp_drops NAME: the server's count of inbound ESP dropped.
integ_esp_drops()
{
	integ_stats "$1" | sed -nE 's/.*esp dropped inbound ([0-9]+).*/\1/p'
}

# integ_esp_drop_why NAME: what the server logged of its inbound ESP drops
# (reason, SPI, sequence number; at log-level debug) and its lines naming
# each SPI they name (that Child SA's rekey and Delete, with the time),
# for a test's failure message.
integ_esp_drop_why()
{
	local f="$T/$1.log" spi
	grep -E "ESP dropped" "$f" | head -n 5 || true
	for spi in $(sed -nE 's/.*ESP dropped: .*\(spi ([0-9a-f]{8}) .*/\1/p' \
	    "$f" | sort -u | head -n 3); do
		grep -E "(CHILD_SA|Child SA) .*$spi" "$f" | head -n 6 || true
	done
}

# integ_stats NAME: SIGUSR1 to the server (RELAY_DPID); its newest
# "stats: integrated" line is echoed.
integ_stats()
{
	local before
	before=$(count_log "$T/$1.log" "stats: integrated")
	kill -USR1 "$RELAY_DPID"
	for _ in $(seq 30); do
		[ "$(count_log "$T/$1.log" "stats: integrated")" -gt \
		    "$before" ] && break
		sleep 0.1
	done
	grep -o "stats: integrated.*" "$T/$1.log" | tail -n 1
}

# --- freeradius (tests 58, 69) ---------------------------------------
# rad_raddb DIR SECRET PORT: a copy of /etc/freeradius/3.0 in DIR that
# runs as root from DIR, logs to stdout, listens on 127.0.0.1:PORT only,
# takes 127.0.0.1 with SECRET (Message-Authenticator required), offers
# EAP-MD5 (RAD_EAP_DEFAULT: another) first and EAP-MSCHAPv2; users from RAD_USERS (the "files"
# module's authorize form), by default alice and carol (Framed-IP,
# Class).  Never the system's service.
rad_raddb()
{
	local d=$1 secret=$2
	cp -a /etc/freeradius/3.0 "$d"
	rm -f "$d/sites-enabled/default"
	sed -i -e 's|^\(\s*\)\(user\|group\) = .*|\1# \2 (test: root)|' \
	    -e "s|^run_dir = .*|run_dir = $d/run|" \
	    -e "s|^logdir = .*|logdir = $d/log|" \
	    -e "s|^raddbdir = .*|raddbdir = $d|" \
	    -e 's|^\(\s*\)reject_delay = .*|\1reject_delay = 0|' \
	    "$d/radiusd.conf"
	mkdir -p "$d/run" "$d/log"
	rm -f "$d/sites-enabled/inner-tunnel"
	cat >"$d/clients.conf" <<EOF
client test {
	ipaddr = 127.0.0.1
	secret = $secret
	require_message_authenticator = yes
}
EOF
	cat >"$d/mods-enabled/eap" <<EOF
eap {
	default_eap_type = ${RAD_EAP_DEFAULT:-md5}
	timer_expire = 60
	max_sessions = 64
	md5 {
	}
	mschapv2 {
		send_error = no
	}
}
EOF
	printf '%s\n' "${RAD_USERS:-alice	Cleartext-Password := \"alice-pw-1\"
carol	Cleartext-Password := \"carol-pw-2\"
	Framed-IP-Address = 10.9.0.77,
	Class = \"gold\"}" >"$d/mods-config/files/authorize"
	# The default site with one listener: auth on 127.0.0.1:PORT.
	awk -v port="$3" '
	    /^listen \{/ { skip = 1; next }
	    skip && /^\}/ { skip = 0; next }
	    skip { next }
	    { print }
	    /^server default \{/ {
		printf "listen {\n\ttype = auth\n\tipaddr = 127.0.0.1\n"
		printf "\tport = %s\n}\n", port
	    }' /etc/freeradius/3.0/sites-available/default \
	    >"$d/sites-enabled/default"
}

# rad_start NAME SECRET PORT NS: freeradius -X from $T/NAME in namespace
# NS (of ns_new), its log $T/NAME.log; stopped by the cleanup.
rad_start()
{
	local name=$1 d=$T/$1
	command -v freeradius >/dev/null || fail "no freeradius (test/deps.sh)"
	rad_raddb "$d" "$2" "$3"
	bg "$name" 100 ip netns exec "$(ns "$4")" freeradius -X -d "$d"
	wait_log "$T/$name.log" "Ready to process requests" 20 ||
	    fail "freeradius $name did not start"
}

# --- pings through a moving tunnel ------------------------------------------

now() { date +%s.%N; }

# ping_gap FROM TO: the longest time between echo replies in $T/ping.log
# (ping -D stamps) from FROM to TO, with FROM and TO themselves as bounds.
ping_gap()
{
	"$IKT_PY" - "$T/ping.log" "$1" "$2" <<'EOF'
import re, sys
lo, hi = float(sys.argv[2]), float(sys.argv[3])
ts = [float(m.group(1)) for m in
      (re.match(r"\[([0-9.]+)\] .*bytes from", l) for l in open(sys.argv[1]))
      if m]
pts = [lo] + [t for t in ts if lo < t < hi] + [hi]
print("%.2f" % max(b - a for a, b in zip(pts, pts[1:])))
EOF
}

# wait_echo_resumed: until $T/ping.log has an echo reply less than 0.5 s
# old (10 s at most); 1 if none came.
wait_echo_resumed()
{
	local last
	for _ in $(seq 50); do
		last=$(grep -oE '^\[[0-9.]+\] .*bytes from' "$T/ping.log" |
		    tail -n 1 | sed -E 's/^\[([0-9.]+)\].*/\1/')
		between "${last:-0}" \
		    "$(now | awk '{ printf "%.3f", $1 - 0.5 }')" 1e12 && return 0
		sleep 0.2
	done
	return 1
}

# eap_server_pki DIR: an ECDSA test CA (DIR/ca.pem) and a certificate for
# responder.test it issued (DIR/srv.pem, DIR/srv.key), as an EAP server
# authenticates with.
eap_server_pki()
{
	local p=$1
	mkdir -p "$p"
	pki --gen --type ecdsa --size 256 --outform pem >"$p/ca.key"
	pki --self --ca --in "$p/ca.key" --dn "CN=test ca" --outform pem \
	    >"$p/ca.pem"
	pki --gen --type ecdsa --size 256 --outform pem >"$p/srv.key"
	pki --req --type priv --in "$p/srv.key" --dn "CN=responder.test" \
	    --san responder.test --outform pem >"$p/srv.req"
	pki --issue --cacert "$p/ca.pem" --cakey "$p/ca.key" --type pkcs10 \
	    --in "$p/srv.req" --outform pem >"$p/srv.pem"
}
