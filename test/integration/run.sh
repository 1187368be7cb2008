#!/usr/bin/env bash
# run.sh BINARY [TEST...]: runs the integration tests (every NN-*.sh here,
# in order, or the ones named: "14", "14-resume" or a path) against the iketcpd BINARY.  One line per
# test, then "N passed, N failed"; exit 1 if any failed.
#
# Each test runs on its own (own namespaces, own temp dir, own gateway)
# under a time limit of IKT_TIMEOUT seconds (default 120); its output goes
# to stderr only when it fails, or always with IKT_VERBOSE=1.  IKT_SKIP
# names tests to leave out.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY [TEST...]" >&2
	exit 2
fi
bin=$1
shift
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
export IKETCPD=$bin
dir=$(cd "$(dirname "$0")" && pwd)
limit=${IKT_TIMEOUT:-120}

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		case $t in
		*/*) tests+=("$t") ;;
		*.sh) tests+=("$dir/$t") ;;
		[0-9][0-9]) tests+=("$dir/$t"-*.sh) ;;
		*) tests+=("$dir/$t.sh") ;;
		esac
	done
else
	tests=("$dir"/[0-9][0-9]-*.sh)
fi
# IKT_SKIP: test names (NN-name) left out of a full run.
if [ -n "${IKT_SKIP:-}" ]; then
	keep=()
	for t in "${tests[@]}"; do
		case " $IKT_SKIP " in
		*" $(basename "$t" .sh) "*) ;;
		*) keep+=("$t") ;;
		esac
	done
	tests=("${keep[@]}")
fi

# The name column is as wide as the longest name, so the times line up.
w=0
for t in "${tests[@]}"; do
	n=$(basename "$t" .sh)
	[ "${#n}" -le "$w" ] || w=${#n}
done
pass=0
failed=0
out=$(mktemp /tmp/ikt-run.XXXXXX)
trap 'rm -f "$out"' EXIT
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s%N)
	timeout -k 10 "$limit" bash "$t" >"$out" 2>&1
	rc=$?
	ds=$((($(date +%s%N) - start) / 100000000))
	secs=$((ds / 10)).$((ds % 10))
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		printf 'PASS  %-*s %6ss\n' "$w" "$name" "$secs"
		[ -z "${IKT_VERBOSE:-}" ] || sed 's/^/    /' "$out"
	else
		failed=$((failed + 1))
		why=""
		[ "$rc" = 124 ] && why=" (timed out after ${limit}s)"
		printf 'FAIL  %-*s %6ss%s\n' "$w" "$name" "$secs" "$why"
		sed 's/^/    /' "$out" >&2
	fi
done
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
