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
attr eap-identity eap-mschapv2"

# swan_conf DIR [EXTRA]: DIR/strongswan.conf for one charon; EXTRA is
# strongswan.conf text placed inside charon { }.
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
#   GW_PROPOSALS   IKE proposals (aes256gcm16-prfsha384-x25519, default)
#   GW_ESP         ESP proposals (aes256gcm16, default)
#   GW_LOCAL_TS    traffic selector on the gateway side (0.0.0.0/0)
#   GW_CONN_EXTRA  swanctl.conf lines added to the connection
#   GW_CHARON_EXTRA strongswan.conf lines added inside charon { }
# Its directory is $T/NAME (charon.log there; use gw_log).
gw_start()
{
	local name=${1:-gw} n=${2:-G} d
	d=$T/$name
	swan_conf "$d" "${GW_CHARON_EXTRA:-}"
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
	rw {
		version = 2
		local_addrs = %any
		proposals = ${GW_PROPOSALS:-aes256gcm16-prfsha384-x25519, default}
		pools = pool4
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
# Without a listen=... it listens on 127.0.0.1:4500.
relay_conf()
{
	local f=$1 kv
	shift
	{
		printf '[global]\nlog-level = debug\n\n[relay t]\n'
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
	bg "$name" "$IKT_LIFE" ip netns exec "$(ns "$n")" "$IKETCPD" -d -f "$conf"
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
EOT
	bg tinyproxy-run "$IKT_LIFE" ip netns exec "$(ns "$n")" \
	    tinyproxy -d -c "$T/tinyproxy.conf"
	wait_tcp_listen "$n" "$port" 10 || fail "tinyproxy did not start"
}
