#!/usr/bin/env bash
# Run the libFuzzer targets of tests/fuzz (docs/fuzzing.md).
#
# Usage: scripts/fuzz.sh [-k DIR] SECONDS [TARGET...]
#   SECONDS   how long each target runs (-max_total_time)
#   TARGET    fuzz_der, der, ...; default: every tests/fuzz/fuzz_*.c
#   -k DIR    keep each target's grown corpus in DIR/<target>/ (default: thrown away)
#
# Builds the fuzz tree first (clang + libFuzzer; $FUZZ_BUILD, default build-fuzz), then runs
# the targets one after the other, each on a temporary copy of tests/fuzz/corpus/<target>/
# so the committed seeds stay small.  Prints executions, exec/s, coverage (cov: and ft: of
# libFuzzer's final stats), the corpus size and the crashes of every target; "secs" is the
# time the target really ran (a crash stops it early).  A crashing input (crash-*, leak-*,
# timeout-*, oom-*) is kept in $FUZZ_ARTIFACTS/<target>/ (default build-fuzz/artifacts/
# <target>/) with the run's log; replay it with build-fuzz/<target> FILE and, once fixed,
# commit it to tests/fuzz/regress/<target>/ (tests/unit/test_fuzz_regress.c replays it).
# Exit status: 0 when no target crashed, 1 when one did, 2 on usage or build errors.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }

keep=
while getopts k:h opt; do
	case $opt in
	k) keep=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
secs=$1
shift
case $secs in '' | *[!0-9]*) usage ;; esac

build=${FUZZ_BUILD:-build-fuzz}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}

targets=()
if [ $# -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$src" .c)")
	done
else
	for t in "$@"; do
		t=fuzz_${t#fuzz_}
		[ -f "tests/fuzz/$t.c" ] || { echo "fuzz.sh: no target '$t' (tests/fuzz/$t.c)" >&2; exit 2; }
		targets+=("$t")
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

if { [ -f "$build/CMakeCache.txt" ] ||
     CC=clang cmake -S . -B "$build" -DESIMCTL_FUZZ=ON -DESIMCTL_TESTS=OFF -DESIMCTL_WERROR=ON; } \
	>"$work/build.log" 2>&1 &&
   cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >>"$work/build.log" 2>&1; then
	:
else
	tail -n 40 "$work/build.log" >&2
	echo "fuzz.sh: building the fuzz targets in $build failed" >&2
	exit 2
fi

# UBSan is built in recover mode: make every report fatal so libFuzzer keeps the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1

crashed=0
printf '%-16s %6s %10s %8s %6s %7s %14s %7s\n' target secs execs exec/s cov ft corpus crashes
for t in "${targets[@]}"; do
	corpus=$work/$t
	log=$work/$t.log
	mkdir -p "$corpus" "$artifacts/$t"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -R "tests/fuzz/corpus/$t/." "$corpus/"
	fi
	touch "$work/$t.start"
	start=$(date +%s)
	rc=0
	"$build/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/$t/" "$corpus" >"$log" 2>&1 || rc=$?
	elapsed=$(($(date +%s) - start))
	found=$(find "$artifacts/$t" -type f -newer "$work/$t.start" \( -name 'crash-*' -o \
		-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
	new=$(grep -c . <<<"$found" || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[A-Za-z]*\).*/\1/p' <<<"$last")
	if [ "$rc" -ne 0 ] && [ "$new" -eq 0 ]; then
		new=1       # died without an artifact (setup failure, killed): still a failure
	fi
	printf '%-16s %6s %10s %8s %6s %7s %14s %7s\n' "$t" "$elapsed" "${execs:--}" "${rate:--}" \
		"${cov:--}" "${ft:--}" "${corp:--}" "$new"
	if [ "$new" -ne 0 ]; then
		crashed=1
		cp "$log" "$artifacts/$t/last-run.log"
		echo "fuzz.sh: $t failed (exit $rc); log: $artifacts/$t/last-run.log" >&2
		[ -z "$found" ] || sed 's/^/  input: /' <<<"$found" >&2
		grep -E 'ERROR: |SUMMARY: |property violated|runtime error' "$log" | head -n 5 |
			sed 's/^/  /' >&2 || true
	fi
	if [ -n "$keep" ]; then
		mkdir -p "$keep/$t"
		cp -R "$corpus/." "$keep/$t/"
	fi
done
exit $crashed
