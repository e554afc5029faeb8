#!/usr/bin/env bash
# The whole test suite, as CI runs it: install dependencies, then build from scratch
# twice and run every test in both builds:
#   build/test-gcc    gcc, -Werror
#   build/test-asan   clang, -Werror, AddressSanitizer + UndefinedBehaviorSanitizer
# A test that cannot run here (a tool or data set missing) exits 77 and ctest reports it as
# skipped; after each build the skipped tests are listed with their reason, and with CI=true
# any skipped test fails the run: CI runs everything.  Tests disabled in a build (the
# fault-shim-only ones under a sanitizer) are listed, not counted as skipped.
# The SGP.26 tests find the GSMA test PKI at ../shared/sgp26 beside the source tree (or
# $ESIMCTL_SGP26).
# Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# not_run JUNIT: list the skipped and disabled tests of a ctest --output-junit file, each
# skipped one with the lines of its output that say why; 1 when CI=true and any was skipped.
not_run() {
	python3 - "$1" "${CI:-}" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
skipped = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    name = case.get("name")
    if case.get("status") == "disabled":
        print("not run in this build (disabled): %s" % name, file=sys.stderr)
    elif case.find("skipped") is not None:
        skipped += 1
        out = case.findtext("system-out") or ""
        why = [l.strip() for l in out.splitlines() if re.search(r"skip", l, re.I)]
        print("SKIPPED: %s" % name, file=sys.stderr)
        for line in why[:8] or ["(no reason printed)"]:
            print("    %s" % line, file=sys.stderr)
if skipped and sys.argv[2] == "true":
    print("test.sh: %d test(s) skipped; CI must run every test (install what is missing: "
          "scripts/deps.sh; the SGP.26 files at ../shared/sgp26)" % skipped, file=sys.stderr)
    sys.exit(1)
PY
}

run_build() {
	local dir=$1 st=0; shift
	rm -rf "$dir"
	cmake -S . -B "$dir" -DESIMCTL_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs" --output-junit "$PWD/junit.xml" "${CTEST_ARGS[@]}") || st=$?
	not_run "$dir/junit.xml" || st=1
	return "$st"
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
