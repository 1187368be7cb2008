#!/usr/bin/env bash
# run.sh BINARY [CRITERION-OPTION...]: runs the Criterion unit-test BINARY
# with its output in BINARY.log.  Prints Criterion's "[====] Synthesis:" line
# and exits 0 when every test passed.  Otherwise prints the whole log, then
# the failure lines again and the synthesis, and exits 1.
#
# The code under test logs to stderr, and its negative tests provoke about a
# thousand expected errors per run ("ike: SK ICV mismatch", "bad listen ...",
# assertion messages of .signal = SIGABRT tests).  They mean nothing while
# the tests pass and are context when one fails, hence the log.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY [CRITERION-OPTION...]" >&2
	exit 2
fi
bin=$1
shift
log=$bin.log

"$bin" --color=never "$@" >"$log" 2>&1
rc=$?
synth=$(grep -a '^\[====\] Synthesis:' "$log" | sed 's/ *$//')
if [ "$rc" = 0 ] && [ -n "$synth" ]; then
	echo "$synth"
	exit 0
fi
cat "$log"
echo "--- $bin exited with status $rc; failures (full output above and in $log):"
grep -a -E '^\[(----|FAIL|ERR |WARN)\]' "$log"
[ -z "$synth" ] || echo "$synth"
exit 1
