#!/usr/bin/env bash
# The whole test suite, as CI runs it: install dependencies, then build from scratch
# twice and run every test in both builds:
#   build/test-gcc    gcc, -Werror
#   build/test-asan   clang, -Werror, AddressSanitizer + UndefinedBehaviorSanitizer
# Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_build() {
	local dir=$1; shift
	rm -rf "$dir"
	cmake -S . -B "$dir" -DESIMCTL_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs" "${CTEST_ARGS[@]}")
}

CTEST_ARGS=("$@")
echo "== gcc build, -Werror ==" >&2
CC=gcc run_build build/test-gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== clang build, -Werror, ASan+UBSan ==" >&2
CC=clang run_build build/test-asan -DCMAKE_BUILD_TYPE=Debug -DESIMCTL_SANITIZE=ON

# ---- fuzz: every libFuzzer target of tests/fuzz briefly (scripts/fuzz.sh, docs/fuzzing.md) ----
echo "== fuzz: each target for 10 s ==" >&2
rm -rf build/test-fuzz
FUZZ_BUILD=build/test-fuzz scripts/fuzz.sh 10
# ---- end fuzz ----

# ---- bench: the performance bench at its smallest sizes, to keep it working -------------
# (bench/run.sh --quick: 20 and 1,000 profiles, a few runs; it asserts no timings and
# writes its report to a temporary file, not docs/performance.md)
echo "== bench --quick ==" >&2
bench/run.sh --quick
# ---- end bench ----

# ---- valgrind: unit tests and the lib.sh end-to-end tests under memcheck (scripts/valgrind.sh, docs/reliability.md) ----
echo "== valgrind: plain debug build under memcheck ==" >&2
scripts/valgrind.sh
# ---- end valgrind ----
