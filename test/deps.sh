#!/usr/bin/env bash
# Installs the Debian packages iketcp builds and tests with.
# --check: exit 0 when all are installed, 1 otherwise (installs nothing).
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
	# real proxies and baselines
	tinyproxy haproxy nftables udptunnel stunnel4
	# man page rendering check
	man-db groff-base
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
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' own services must not start (tests run their own instances).
apt-get install -y -qq --no-install-recommends "${missing[@]}"
