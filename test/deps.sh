#!/usr/bin/env bash
# Installs the Debian packages iketcp builds and tests with, and leaves none
# of their services running or enabled at boot (see below).
# --check: exit 0 when all are installed, 1 otherwise (installs nothing,
# needs no root).
set -euo pipefail

pkgs=(
	# build
	gcc make pkg-config libssl-dev libev-dev node-llhttp clang libclang-rt-14-dev
	# unit tests
	libcriterion-dev
	# integration tests: real strongSwan peers (../shared/STRONGSWAN.md)
	strongswan-charon strongswan-swanctl strongswan-pki
	libstrongswan-standard-plugins libcharon-extra-plugins
	libcharon-extauth-plugins
	iproute2 iputils-ping tcpdump python3 openssl procps psmisc
	# EAP pass-through: a real RADIUS server (test 58-radius)
	freeradius freeradius-utils
	# real proxies and baselines
	tinyproxy haproxy nftables udptunnel stunnel4
	# man page rendering check
	man-db groff-base
	# metrics exposition check (promtool, test 57)
	prometheus
	# Debian package build and checks (test/pkg/check.sh)
	debhelper devscripts lintian dpkg-dev fakeroot systemd util-linux
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
	    missing+=("$p")
done

if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] && exit 0
	echo "deps: missing: ${missing[*]}" >&2
	exit 1
fi
[ ${#missing[@]} -eq 0 ] && { echo "deps: all installed"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

# The packages' own services (haproxy, tinyproxy, stunnel, strongSwan's
# starter, ...) must neither start nor be enabled at boot: the tests run
# their own instances in namespaces, and a developer's machine should not
# grow a proxy listening on :8888.  invoke-rc.d and deb-systemd-invoke ask
# policy-rc.d, so a policy that forbids every start (exit 101, "action
# forbidden by policy") is in place for the install only; an existing
# policy is put back afterwards.  Enabling is not covered by the policy, so
# what the install enabled is disabled afterwards, and only that: units and
# init scripts of the packages this run installed whose links appeared
# during it.  Nothing is stopped or killed.
policy=/usr/sbin/policy-rc.d
saved=""
exec 9>/run/lock/iketcp-deps.lock
flock 9
restore() {
	rm -f "$policy"
	[ -z "$saved" ] || mv "$saved" "$policy"
}
if [ -e "$policy" ] || [ -L "$policy" ]; then
	saved=$(mktemp "$policy.iketcp.XXXXXX")
	mv "$policy" "$saved"
fi
trap restore EXIT
trap 'exit 130' INT TERM
printf '#!/bin/sh\n# test/deps.sh of iketcp: no service starts while it installs.\nexit 101\n' \
    >"$policy"
chmod 755 "$policy"

installed() {
	dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' |
	    awk '$1 == "ii" { print $2 }' | sort
}
links() {
	find /etc/systemd/system -type l 2>/dev/null
	ls -d /etc/rc[0-6S].d/S* 2>/dev/null
	true
}
pkgs_before=$(installed)
links_before=$(links)

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/iketcp-deps.XXXXXX)
if ! { apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$log" 2>&1; then
	cat "$log" >&2
	echo "deps: apt-get failed (output above, also in $log)" >&2
	exit 1
fi
rm -f "$log"

new_pkgs=$(comm -13 <(echo "$pkgs_before") <(installed))
# systemd's links first: update-rc.d disable also disables a native unit
# of the same name, and the rc links of one script are handled once.
new_links=$(comm -13 <(echo "$links_before" | sort) <(links | sort) |
    sort -r)
files=""
# shellcheck disable=SC2086 # one argument per package
[ -z "$new_pkgs" ] || files=$(dpkg-query -L $new_pkgs 2>/dev/null)
disabled=()
for l in $new_links; do
	[ -L "$l" ] || continue # gone with an earlier disable
	case $l in
	/etc/rc*)
		s=${l##*/S[0-9][0-9]}
		grep -qx "/etc/init.d/$s" <<<"$files" || continue
		update-rc.d "$s" disable >/dev/null 2>&1 || rm -f "$l"
		disabled+=("/etc/init.d/$s")
		;;
	*)
		u=$(readlink "$l")
		u=${u##*/}
		grep -qxF -e "/lib/systemd/system/$u" \
		    -e "/usr/lib/systemd/system/$u" <<<"$files" || continue
		case ${l##*/} in
		*@?*)	# an enabled instance of a template unit
			rm -f "$l"
			disabled+=("${l##*/}")
			;;
		*)
			deb-systemd-helper disable "$u" >/dev/null 2>&1 ||
			    rm -f "$l"
			disabled+=("$u")
			;;
		esac
		;;
	esac
done
echo "deps: installed $(echo "$new_pkgs" | grep -c .) packages;" \
    "policy-rc.d kept their services from starting"
[ ${#disabled[@]} -eq 0 ] ||
    echo "deps: disabled at boot what they enabled: ${disabled[*]}"
