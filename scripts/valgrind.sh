#!/usr/bin/env bash
# The valgrind step of CI (docs/reliability.md): a plain debug build (no sanitizer) in
# build/test-valgrind, then
#   - every unit test under memcheck, two at a time, except the ones listed in SKIP_UNIT;
#   - the end-to-end tests in CLI_TESTS with ESIMCTL_VALGRIND=1: tests/cli/lib.sh runs
#     esimctl under memcheck there, and a memory error or a definite/indirect leak makes it
#     exit 99, which fails the test.
# Any error, leak or failed test fails the script.  Runtime on 2 cores: about 6 minutes.
# Usage: scripts/valgrind.sh [ctest -R regex for the end-to-end tests]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
	echo "valgrind: installing valgrind" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi

# Every unit test runs under memcheck (test_es9p included: ES9+ no longer spawns a helper).
SKIP_UNIT=${SKIP_UNIT:-}
# The end-to-end tests that run esimctl under memcheck (lib.sh's run() and sgp22-lib.sh's
# esim() both honour ESIMCTL_VALGRIND): the commands, the store, QR output, JSON, global
# options, and the SGP.22 download, TLS, notification, transfer and SGP.26 tests.  Left to
# the ASan build: t0900 and t1100 (lock waits and 2 s ES9+ stalls that memcheck's slowdown
# makes flaky) and t2000-t2300 (they kill esimctl, preload a fault shim or scan its memory).
CLI_TESTS=${1:-'cli/t(0(1|2|3|4|5|6|8|9[59])|1(0|2|3|4|5))'}
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet)

dir=build/test-valgrind
jobs=2
start=$(date +%s)
rm -rf "$dir"
CC=gcc cmake -S . -B "$dir" -DESIMCTL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)"

# ESIMCTL_VALGRIND also tells unit tests with time limits that memcheck slows them down.
export ESIMCTL_SRC=$PWD ESIMCTL_BUILD=$PWD/$dir ESIMCTL_VALGRIND=1
mkdir -p "$dir/valgrind-logs"
failed=0
run_unit() {
	local t=$1 log=$dir/valgrind-logs/${1##*/}.log
	local st=0
	(cd "$dir" && timeout 1200 "${VG[@]}" "./${t##*/}") >"$log" 2>&1 || st=$?
	if [ "$st" = 0 ]; then
		echo "valgrind: ${t##*/}: clean" >&2
	elif [ "$st" = 77 ] && [ "${CI:-}" != true ]; then
		# a case called skip() (tests/unit/skip_status.c); in CI nothing may be skipped
		echo "valgrind: ${t##*/}: clean, some cases skipped: $(grep -i skip "$log" | head -3 | tr '\n' ' ')" >&2
	else
		echo "valgrind: ${t##*/}: FAILED (exit $st), log: $log" >&2
		grep -E '^==[0-9]+==|FAILED|ERROR' "$log" | head -40 >&2
		return 1
	fi
}
export -f run_unit
export dir
units=()
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	case " $SKIP_UNIT " in *" ${t##*/} "*) echo "valgrind: ${t##*/}: skipped (see SKIP_UNIT)" >&2; continue ;; esac
	units+=("$t")
done
VG_STR="${VG[*]}"
export VG_STR
printf '%s\n' "${units[@]}" |
	xargs -P "$jobs" -I{} bash -c 'VG=($VG_STR); run_unit "$1"' _ {} || failed=1
unit_end=$(date +%s)

# -E '@': not the reruns of those files through another eUICC backend (cli/tNNNN-NAME@at
# and so on, CMakeLists.txt), whose card side (the modem emulator, 'euicc serve') memcheck
# would not see; their esimctl runs are the ones above.
(cd "$dir" && ctest --output-on-failure -j "$jobs" -R "$CLI_TESTS" -E '@') || failed=1
end=$(date +%s)
echo "valgrind: ${#units[@]} unit tests in $((unit_end - start)) s (with the build), end-to-end tests '$CLI_TESTS' in $((end - unit_end)) s" >&2
exit "$failed"
