#!/usr/bin/env bash
# test/pkg/check.sh: builds the Debian package from a temporary copy of the
# tree and checks it (make package-check; about 30 s on 2 cores):
#
#   1. dpkg-buildpackage -us -uc -b builds iketcpd and iketcpd-dbgsym;
#   2. lintian reports no error and no warning;
#   3. dpkg-deb -x: the binary, every man page in man/, the conffile (and
#      only it, in conffiles), both units and the sysusers.d file are where
#      they belong; iketcpctl too when the build made one;
#   4. every packaged program is PIE with BIND_NOW and RELRO (readelf) and
#      passes hardening-check; iketcpd reports the package's version and
#      accepts the shipped /etc/iketcpd/iketcpd.conf with -t (a warning
#      that it serves nothing is expected);
#   5. systemd-analyze verify is clean on both units;
#   6. as root: dpkg installs the .deb into an empty root with its
#      maintainer scripts (the _iketcp user is created there, nothing
#      touches this host: /run is a private tmpfs, so no systemd is seen),
#      and purges it again, leaving no file of its own;
#   7. as root: the packaged iketcpd, started with the unit's capability
#      bounding set and no_new_privs, binds port 443, creates a TUN device
#      (and its control socket, which iketcpctl list reaches, once both
#      exist), says READY=1, drops to nobody with no capability, and
#      reloads.
#
# Nothing is written to the repository: the copy, the build and the
# package live in one temporary directory, removed on exit (PKG_KEEP=1
# keeps it).  Prints one line per step and "package-check: ok (N s)".
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
T=$(mktemp -d /tmp/iketcp-pkg.XXXXXX)
chmod 755 "$T"		# step 7's daemon reads its files as nobody
cleanup()
{
	if [ -n "${PKG_KEEP:-}" ]; then
		echo "package-check: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

step()
{
	printf '  %-7s %s\n' PKG "$*"
}

fail()
{
	echo "package-check: FAIL: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dpkg-deb lintian readelf systemd-analyze \
    systemd-sysusers; do
	command -v "$tool" >/dev/null ||
	    fail "$tool missing (make deps installs it)"
done

# 1. Build from a copy of the source files: tracked ones and new ones not
# ignored (so build/ and objects stay behind).
mkdir -p "$T/src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$root" && git ls-files -co --exclude-standard -z |
	    xargs -0 cp --parents -t "$T/src")
else
	tar -C "$root" --exclude=./build --exclude=./.git -cf - . |
	    tar -C "$T/src" -xf -
fi
step "dpkg-buildpackage -us -uc -b"
(cd "$T/src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 || {
	tail -40 "$T/build.log" >&2
	fail "dpkg-buildpackage (log above)"
}
version=$(dpkg-parsechangelog -l "$T/src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=$T/iketcpd_${version}_$arch.deb
changes=$T/iketcpd_${version}_$arch.changes
[ -f "$deb" ] || fail "no $deb"
[ -f "$T/iketcpd-dbgsym_${version}_$arch.deb" ] ||
    fail "no iketcpd-dbgsym package"
built_ctl=false
[ ! -e "$T/src/build/iketcpctl" ] || built_ctl=true

# 2. lintian: errors and warnings fail; info and pedantic tags are shown.
step "lintian --fail-on error,warning"
lintian --fail-on error,warning --pedantic "$changes" >"$T/lintian.log" \
    2>&1 || {
	cat "$T/lintian.log" >&2
	fail "lintian"
}
grep -v '^running with root privileges' "$T/lintian.log" |
    sed 's/^/          /' || true

# 3. The files.
step "dpkg-deb -x: files in place"
X=$T/x
dpkg-deb -x "$deb" "$X"
dpkg-deb -e "$deb" "$T/control"
want=(
	usr/sbin/iketcpd
	etc/iketcpd/iketcpd.conf
	lib/systemd/system/iketcpd.service
	lib/systemd/system/iketcpd@.service
	usr/lib/sysusers.d/iketcpd.conf
	usr/share/doc/iketcpd/copyright
	usr/share/doc/iketcpd/iketcpd.conf
	usr/share/doc/iketcpd/connector.conf
	usr/share/doc/iketcpd/integrated.conf
	usr/share/doc/iketcpd/haproxy.cfg
	usr/share/doc/iketcpd/roadwarrior.conf
)
for m in "$root"/man/*.[1-9]; do
	m=${m##*/}
	want+=("usr/share/man/man${m##*.}/$m.gz")
done
if $built_ctl; then
	want+=(usr/sbin/iketcpctl)
fi
for f in "${want[@]}"; do
	[ -f "$X/$f" ] || fail "$f not in the package"
done
[ -x "$X/usr/sbin/iketcpd" ] || fail "usr/sbin/iketcpd not executable"
[ "$(cat "$T/control/conffiles")" = /etc/iketcpd/iketcpd.conf ] ||
    fail "conffiles: $(tr '\n' ' ' <"$T/control/conffiles")"
grep -q '^u _iketcp ' "$X/usr/lib/sysusers.d/iketcpd.conf" ||
    fail "sysusers.d does not create _iketcp"

# 4. The programs: every one in usr/sbin (iketcpctl too) linked with the
# Makefile's LINK, so hardened with the builder's flags.
step "usr/sbin/*: PIE, BIND_NOW, RELRO; version, shipped configuration"
for prog in "$X"/usr/sbin/*; do
	p=${prog##*/}
	# Captured first: grep -q closing a pipe early would fail it (pipefail).
	hdr=$(readelf -h "$prog")
	dyn=$(readelf -d "$prog")
	seg=$(readelf -lW "$prog")
	grep -q 'Type:.*DYN' <<<"$hdr" || fail "$p is not PIE"
	grep -q 'FLAGS_1.*PIE' <<<"$dyn" || fail "$p: no PIE flag"
	grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$dyn" ||
	    fail "$p: no BIND_NOW (link it with \$(LINK))"
	grep -q GNU_RELRO <<<"$seg" || fail "$p: no RELRO"
	if command -v hardening-check >/dev/null; then
		# Bookworm's crt objects carry no CET property, so no program
		# here has one; the Makefile's comment says why it is not asked
		# for.
		hardening-check --nocfprotection "$prog" >"$T/hc.log" 2>&1 || {
			cat "$T/hc.log" >&2
			fail "hardening-check $p"
		}
	fi
done
bin=$X/usr/sbin/iketcpd
v=$("$bin" -V)
[ "$v" = "iketcpd ${version%%-*}" ] ||
    fail "iketcpd -V says \"$v\"; debian/changelog says $version"
"$bin" -t -f "$X/etc/iketcpd/iketcpd.conf" >"$T/t.log" 2>&1 || {
	cat "$T/t.log" >&2
	fail "the shipped iketcpd.conf does not pass -t"
}

# 5. The units, with ExecStart pointing at the extracted binary (verify
# checks that it exists) and man: links resolved in the package.
step "systemd-analyze verify iketcpd.service iketcpd@.service"
mkdir "$T/units"
for u in iketcpd.service iketcpd@.service; do
	sed "s,/usr/sbin/iketcpd,$X/usr/sbin/iketcpd,g" \
	    "$X/lib/systemd/system/$u" >"$T/units/$u"
done
cp "$T/units/iketcpd@.service" "$T/units/iketcpd@home.service"
MANPATH=$X/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify \
    "$T/units/iketcpd.service" "$T/units/iketcpd@home.service" \
    >"$T/verify.log" 2>&1 || true
if [ -s "$T/verify.log" ]; then
	cat "$T/verify.log" >&2
	fail "systemd-analyze verify"
fi

# 6. Install and purge with the maintainer scripts, into an empty root.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	step "dpkg --root: install (creates _iketcp), purge"
	R=$T/root
	mkdir -p "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/info"
	: >"$R/var/lib/dpkg/status"
	: >"$R/var/lib/dpkg/available"
	dpkg_r()
	{
		unshare --mount sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' \
		    sh dpkg --root="$R" --force-script-chrootless \
		    --force-depends "$@" >>"$T/dpkg.log" 2>&1 || {
			cat "$T/dpkg.log" >&2
			fail "dpkg $*"
		}
	}
	dpkg_r -i "$deb"
	grep -q '^_iketcp:' "$R/etc/passwd" ||
	    fail "installing did not create _iketcp"
	for f in "${want[@]}"; do
		[ -f "$R/$f" ] || fail "$f not installed"
	done
	dpkg_r --purge iketcpd
	left=$(cd "$R" && find . -type f ! -path './var/lib/dpkg/*' \
	    ! -path './etc/passwd*' ! -path './etc/group*' \
	    ! -path './etc/shadow*' ! -path './etc/gshadow*' \
	    ! -name .pwd.lock)
	[ -z "$left" ] || fail "left after purge: $left"
else
	step "dpkg --root install: skipped (needs root and unshare)"
fi

# 7. The packaged daemon started as the unit starts it, as far as it can
# be without systemd as PID 1: the unit's CapabilityBoundingSet and
# NoNewPrivileges through setpriv, -d, NOTIFY_SOCKET, in a private network
# namespace.  Port 443 and a TUN device need the start's capabilities; a
# secrets file owned by the drop user with mode 600 needs
# CAP_DAC_READ_SEARCH as root, and is read again as that user on the
# reload (ExecReload: -t, then SIGHUP).  READY=1 must arrive, and the
# process must run as the user with no capability left; a connector's
# bypass rule must be in place, its keeper (iketcpd-rules) hold
# CAP_NET_ADMIN alone, and the rule be gone after the exit.
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] &&
    command -v setpriv >/dev/null && command -v python3 >/dev/null; then
	step "iketcpd as the unit runs it: caps, READY=1, TUN, reload"
	D=$T/run
	mkdir -m 755 "$D"
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' \
	    "$X/lib/systemd/system/iketcpd.service")
	bset=-all
	for c in $caps; do
		c=${c#CAP_}
		bset+=",+${c,,}"
	done
	grep -q '^NoNewPrivileges=yes' "$X/lib/systemd/system/iketcpd.service" ||
	    fail "iketcpd.service: NoNewPrivileges changed; update this test"
	printf 'client.test : PSK "0123456789abcdef"\n' >"$D/secrets"
	chown nobody: "$D/secrets"
	chmod 600 "$D/secrets"
	cat >"$D/iketcpd.conf" <<-EOF
	[global]
	user = nobody
	group = $(id -gn nobody)

	[relay main]
	listen = 127.0.0.1:443
	gateway = 127.0.0.1

	[integrated vpn]
	listen = 127.0.0.1:4500
	id = vpn.example.net
	secrets = $D/secrets
	pool = 10.10.0.0/24
	tun = iketcp-pkg0

	[connector laptop]
	udp-listen = 127.0.0.1:4501
	server = 192.0.2.1:443
	EOF
	# With a control socket (when this iketcpd has the key), handed to
	# the drop user by chown, and iketcpctl list when it is packaged.
	ctl=
	if zgrep -q 'control-socket' \
	    "$X/usr/share/man/man5/iketcpd.conf.5.gz"; then
		sed -i "/^group = /a control-socket = $D/ctl.sock" \
		    "$D/iketcpd.conf"
		[ ! -x "$X/usr/sbin/iketcpctl" ] || ctl=$X/usr/sbin/iketcpctl
	fi
	cat >"$D/notify.py" <<-'EOF'
	import os, socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	os.chmod(sys.argv[1], 0o777)
	s.settimeout(15)
	print(s.recv(4096).decode(), flush=True)
	EOF
	cat >"$D/run.sh" <<-'EOF'
	set -u
	D=$1 B=$2 BSET=$3 CTL=$4
	run() { setpriv --bounding-set="$BSET" --no-new-privs "$@"; }
	ip link set lo up
	python3 "$D/notify.py" "$D/notify.sock" >"$D/ready" 2>&1 &
	np=$!
	for i in $(seq 50); do [ -S "$D/notify.sock" ] && break; sleep 0.1; done
	NOTIFY_SOCKET=$D/notify.sock timeout -k 5 30 \
	    setpriv --bounding-set="$BSET" --no-new-privs \
	    "$B" -d -f "$D/iketcpd.conf" 2>"$D/log" &
	tp=$!
	rc=0
	wait "$np" || rc=1
	[ "$(cat "$D/ready")" = READY=1 ] || { echo "no READY=1"; rc=1; }
	dp=$(pgrep -P "$tp" || echo "$tp")
	grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' "/proc/$dp/status" \
	    >"$D/status" || rc=1
	grep -q '^Uid:.*65534' "$D/status" || { echo "uid not dropped"; rc=1; }
	grep -q '^CapEff:.*0000000000000000' "$D/status" ||
	    { echo "capabilities left"; rc=1; }
	grep -q '^NoNewPrivs:.*1' "$D/status" || { echo "no NNP"; rc=1; }
	ip link show iketcp-pkg0 >/dev/null 2>&1 || { echo "no TUN"; rc=1; }
	# The connector's bypass rule, and its keeper with CAP_NET_ADMIN
	# (bit 12) alone.
	rules=$(ip rule show pref 210)
	case $rules in
	*"to 192.0.2.1 lookup main proto 73"*) ;;
	*) echo "no bypass rule: $rules"; rc=1 ;;
	esac
	kp=$(pgrep -P "$dp" -x iketcpd-rules || true)
	if [ -z "$kp" ]; then
		echo "no iketcpd-rules keeper"; rc=1
	else
		grep -q '^CapEff:.*0000000000001000' "/proc/$kp/status" ||
		    { echo "keeper: $(grep CapEff "/proc/$kp/status")"; rc=1; }
	fi
	if [ -n "$CTL" ]; then
		"$CTL" -s "$D/ctl.sock" list >"$D/ctl.out" 2>&1 ||
		    { echo "iketcpctl list failed:"; cat "$D/ctl.out"; rc=1; }
	fi
	if run "$B" -t -f "$D/iketcpd.conf" 2>>"$D/log"; then
		kill -HUP "$dp"
		for i in $(seq 50); do
			grep -q 'reloaded' "$D/log" && break
			sleep 0.1
		done
		grep -q 'reloaded' "$D/log" || { echo "no reload"; rc=1; }
	else
		echo "ExecReload's -t failed"; rc=1
	fi
	kill -TERM "$dp" 2>/dev/null
	wait "$tp" || { echo "exit status $?"; rc=1; }
	for i in $(seq 30); do
		[ -z "$(ip rule show pref 210)" ] && break
		sleep 0.1
	done
	[ -z "$(ip rule show pref 210)" ] ||
	    { echo "bypass rule left after exit"; rc=1; }
	exit $rc
	EOF
	unshare --net bash "$D/run.sh" "$D" "$X/usr/sbin/iketcpd" "$bset" \
	    "$ctl" >"$D/out" 2>&1 || {
		cat "$D/out" "$D/status" "$D/log" >&2 2>/dev/null || true
		fail "iketcpd under the unit's capabilities"
	}
else
	step "iketcpd under the unit's capabilities: skipped (needs root," \
	    "/dev/net/tun, setpriv, python3)"
fi

echo "package-check: ok ($(($(date +%s) - start)) s)"
