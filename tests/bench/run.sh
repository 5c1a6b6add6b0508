#!/bin/bash
# `make bench`: every benchmark against the other tools, then one table of the
# ratios against the goals of issue 8.
#   tests/bench/run.sh [BUILD_DIR]        (as root; default build-bench)
# Builds nothing: `make bench` has built BUILD_DIR with -O2 (and bench-floor).
#
# Sub-benchmarks, run in this order when present, each as `SCRIPT BUILD_DIR`:
#   runtime.py   gkrun vs runc and crun (run, create/start/delete, RSS,
#                memory limit, 100 containers, the floor)
#   image.sh / image.py   gkimg vs skopeo + umoci
#   push.py      gkimg push vs skopeo copy (busybox and a 5-layer image)
#   regcopy.py   gkimg copy vs skopeo copy, registry -> registry (Debian)
# Each prints its own figures and appends its ratio lines to the file named by
# $BENCH_RESULTS, one per line, tab-separated:
#   METRIC <TAB> RATIO <TAB> GOAL (">= 1.5", "<= 2", "> 1") <TAB> PASS|MISS <TAB> DETAIL
# (INFO instead of PASS|MISS, goal "-": a figure without a goal, such as a floor)
# Environment: BENCH_ROUNDS, BENCH_ROUNDS_100, BENCH_RUNTIMES, BENCH_MEM_REPS,
# BENCH_CASES (runtime.py), BENCH_IMAGE_ROUNDS (image.py),
# BENCH_COPY_ROUNDS (regcopy.py), BENCH_ONLY="runtime image push regcopy" to run a subset,
# GK_BENCH_BASELINE=DIR: DIR/gkrun (an older build, say) runs as "gkrun-before"
# in the same interleaved rounds as gkrun, so that one run gives before and
# after figures; its ratio lines are INFO.
set -u
cd "$(dirname "$0")/../.." || exit 2
O=${1:-build-bench}
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 2; }
[ -x "$O/gkrun" ] || { echo "bench: $O/gkrun not built (make bench builds it)" >&2; exit 2; }
if [ -n "${GK_BENCH_BASELINE:-}" ] && [ ! -x "$GK_BENCH_BASELINE/gkrun" ]; then
	echo "bench: GK_BENCH_BASELINE: $GK_BENCH_BASELINE/gkrun is not executable" >&2; exit 2
fi

results=$(mktemp /tmp/gk-bench-results.XXXXXX)
child=
cleanup() {
	# each sub-benchmark removes what it made on SIGINT/SIGTERM; wait for it
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
	rm -f "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

export BENCH_RESULTS=$results
only=${BENCH_ONLY:-runtime image push regcopy}
status=0
for name in $only; do
	for script in tests/bench/$name.py tests/bench/$name.sh; do
		[ -x "$script" ] || continue
		echo "=== $script"
		"$script" "$O" &
		child=$!
		wait "$child" || { echo "bench: $script failed" >&2; status=1; }
		child=
		echo
		break
	done
done

echo "=== ratios against the goals ($(uname -r), $(nproc) CPUs, $(date '+%F %T'))"
printf '%-50s %7s  %-8s %s\n' metric ratio goal result
while IFS=$'\t' read -r metric ratio goal verdict detail; do
	printf '%-50s %7s  %-8s %-4s  %s\n' "$metric" "$ratio" "$goal" "$verdict" "$detail"
done <"$results"
pass=$(grep -c $'\tPASS\t' "$results")
miss=$(grep -c $'\tMISS\t' "$results")
echo "$pass at or past their goal, $miss missed"
exit $status
