#!/usr/bin/env bash
# smoke.sh DIR SECONDS JOBS TARGET...: runs each libFuzzer TARGET for
# SECONDS on its corpus (DIR/corpus/NAME, which it grows, plus the seeds in
# test/fuzz/corpus/NAME when there are any), JOBS targets at a time.
# Every target runs even after one fails; a target's output is in
# DIR/NAME.log and is shown (its last 50 lines) only when it failed.  The
# last line is "fuzz: N targets ok, N failed" (test/check.sh counts it);
# the exit status is 1 when any target failed.
set -u
[ $# -ge 4 ] || { echo "usage: $0 DIR SECONDS JOBS TARGET..." >&2; exit 2; }
dir=$1 secs=$2 jobs=$3
shift 3
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# one TARGET: its result in DIR/NAME.rc.
one()
{
	local f=$1 n c
	n=${f##*/}
	c=test/fuzz/corpus/${n%_fuzz}
	mkdir -p "$dir/corpus/$n"
	echo "  FUZZ    $n ($secs s)"
	set -- "$dir/corpus/$n"
	[ -d "$c" ] && set -- "$@" "$c"
	"$f" -max_total_time="$secs" -print_final_stats=0 "$@" \
	    >"$dir/$n.log" 2>&1
	echo $? >"$dir/$n.rc"
}

running=0
for f in "$@"; do
	rm -f "$dir/${f##*/}.rc"
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	one "$f" &
	running=$((running + 1))
done
wait

ok=0
bad=0
for f in "$@"; do
	n=${f##*/}
	if [ "$(cat "$dir/$n.rc" 2>/dev/null)" = 0 ]; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		tail -50 "$dir/$n.log"
		echo "  FAIL    $n (log: $dir/$n.log)"
	fi
done
echo "fuzz: $ok targets ok, $bad failed"
[ "$bad" = 0 ]
