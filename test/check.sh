#!/usr/bin/env bash
# check.sh: the stages of `make check` and the line that sums them up.
#
#   check.sh start                forget the results of an earlier run
#   check.sh run NAME CMD...      run one stage: CMD's output goes to
#                                 build/check/NAME.log and to the terminal
#                                 without build progress lines (CC, LD, ...;
#                                 all of it with V=1); its result and
#                                 duration are recorded
#   check.sh summary              print one line for all stages recorded,
#                                 ending "N passed, N failed"; exit 1 if a
#                                 stage failed
#
# A stage that fails does not stop the ones after it, so that one run says
# everything that is wrong; the summary names the stages that failed.
# Counts come from the stage's own closing line: Criterion's
# "[====] Synthesis:", run.sh's "N passed, N failed", fuzz-smoke's
# "fuzz: N targets ok, N failed".  A stage without one (a build, a package
# check) counts as one failure when its command fails.
set -u

dir=build/check
results=$dir/results

noise='^  (CC|AR|LD|FUZZ) +build/|^make(\[[0-9]+\])?: (Nothing to be done|.* is up to date)'

secs() {
	printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

case ${1:-} in
start)
	mkdir -p "$dir"
	: >"$results"
	date +%s >"$dir/start"
	;;
run)
	[ $# -ge 3 ] || { echo "usage: $0 run NAME CMD..." >&2; exit 2; }
	name=$2
	shift 2
	mkdir -p "$dir"
	log=$dir/$name.log
	t0=$(date +%s)
	echo "check: $name ..."
	if [ "${V:-0}" = 0 ]; then
		"$@" 2>&1 | tee "$log" | grep -a --line-buffered -v -E "$noise"
	else
		"$@" 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	t=$(($(date +%s) - t0))
	echo "$name $rc $t" >>"$results"
	if [ "$rc" = 0 ]; then
		echo "check: $name ok ($(secs "$t"))"
	else
		echo "check: $name FAILED ($(secs "$t")); its output: $log"
	fi
	exit 0
	;;
summary)
	[ -s "$results" ] || { echo "check: no stage ran: 0 passed, 1 failed"; exit 1; }
	tp=0
	tf=0
	parts=()
	while read -r name rc t; do
		log=$dir/$name.log
		p=""
		f=0
		s=$(grep -a '^\[====\] Synthesis:' "$log" | tail -1)
		r=$(grep -a -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
		z=$(grep -a -E '^fuzz: [0-9]+ targets ok, [0-9]+ failed$' "$log" | tail -1)
		if [ -n "$s" ]; then
			p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$s")
			f=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$s")
			what=$p
		elif [ -n "$r" ]; then
			p=${r%% passed*}
			f=${r#*passed, }
			f=${f% failed}
			what=$p
		elif [ -n "$z" ]; then
			# Fuzz targets are not tests: listed, counted only if failed.
			f=${z##*ok, }
			f=${f% failed}
			what="${z#fuzz: }"
			what="${what%% ok*}"
		else
			what=ok
		fi
		if [ "$f" -gt 0 ]; then
			what="$what + $f FAILED"
		elif [ "$rc" != 0 ]; then
			# Failed without a failed test (a build error, a crash
			# of the runner, a leak at exit): counts once.
			f=1
			[ "$what" = ok ] && what=FAILED || what="$what FAILED"
		fi
		tp=$((tp + ${p:-0}))
		tf=$((tf + f))
		parts+=("$name $what")
	done <"$results"
	took=""
	[ -s "$dir/start" ] && took=" in $(secs $(($(date +%s) - $(cat "$dir/start"))))"
	line=$(printf '%s, ' "${parts[@]}")
	echo "check: ${line%, }$took: $tp passed, $tf failed"
	[ "$tf" = 0 ]
	;;
*)
	echo "usage: $0 start | run NAME CMD... | summary" >&2
	exit 2
	;;
esac
