# lib.sh - helpers for the end-to-end tests (tests/cli/tNNNN-*.sh).
#
# Each test file sources this, runs the real binary ($ESIMCTL, set by ctest) against a
# throwaway store and checks stdout, stderr and the exact exit status:
#
#   run 0 esimctl device add phone --kind phone   # expected status, then the command
#   out_has 'added device'                        # substring of stdout
#   err_has 'warning'                             # substring of stderr
#   json_eq '.profiles | length' 1                # jq expression on stdout, expected value
#   finish                                        # prints 'N passed, N failed', sets status
set -u

: "${ESIMCTL:?ESIMCTL must point at the built binary}"
ESIMCTL_SRC=${ESIMCTL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ESIMCTL_STORE="$T/store.json"
export ESIMCTL_CARRIERS="$T/carriers.json"
export ESIMCTL_NOW=2026-11-21T10:00:00Z
export HOME="$T/home" XDG_DATA_HOME= XDG_CONFIG_HOME=
unset ESIMCTL_CA_FILE NO_COLOR COLUMNS
mkdir -p "$HOME"

PASS=0
FAIL=0
OUT="$T/.out"
ERR="$T/.err"
LAST=""

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	echo "#   command: $LAST"
	sed 's/^/#   stdout: /' "$OUT" | head -20
	sed 's/^/#   stderr: /' "$ERR" | head -20
}

# With ESIMCTL_VALGRIND set (scripts/valgrind.sh), "esimctl" runs under memcheck: a memory
# error or a definite/indirect leak makes it exit 99.  Other helpers can use "${VG[@]}".
VG=()
if [ -n "${ESIMCTL_VALGRIND:-}" ]; then
	VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet)
fi

# run STATUS CMD...   ("esimctl" as the command runs $ESIMCTL)
run() {
	local want=$1 got
	shift
	[ "$1" = esimctl ] && set -- "${VG[@]}" "$ESIMCTL" "${@:2}"
	LAST="$*"
	LAST=${LAST#"${VG[*]} "}
	"$@" >"$OUT" 2>"$ERR" </dev/null
	got=$?
	if [ "$got" = "$want" ]; then ok "exit $want: ${LAST#"$ESIMCTL" }"; else nok "exit $got, wanted $want: ${LAST#"$ESIMCTL" }"; fi
	return 0
}

out_has() { if grep -qF -- "$1" "$OUT"; then ok "stdout has '$1'"; else nok "stdout lacks '$1'"; fi; }
out_lacks() { if grep -qF -- "$1" "$OUT"; then nok "stdout has '$1'"; else ok "stdout lacks '$1'"; fi; }
err_has() { if grep -qF -- "$1" "$ERR"; then ok "stderr has '$1'"; else nok "stderr lacks '$1'"; fi; }
err_lacks() { if grep -qF -- "$1" "$ERR"; then nok "stderr has '$1'"; else ok "stderr lacks '$1'"; fi; }
out_empty() { if [ -s "$OUT" ]; then nok "stdout not empty"; else ok "stdout empty"; fi; }
err_empty() { if [ -s "$ERR" ]; then nok "stderr not empty"; else ok "stderr empty"; fi; }
# json_eq JQ-EXPR EXPECTED (compact jq output)
json_eq() {
	local got
	got=$(jq -c "$1" "$OUT" 2>&1)
	if [ "$got" = "$2" ]; then ok "json $1 == $2"; else nok "json $1 == $got, wanted $2"; fi
}
# one_json: stdout is exactly one JSON document
one_json() {
	if [ "$(jq -s 'length' "$OUT" 2>/dev/null)" = 1 ]; then ok "stdout is one JSON document"; else nok "stdout is not one JSON document"; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/stop-pid.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
mode_of() { stat -c %a "$1"; }

# The LD_PRELOAD fault shim (tests/faults/inject.c), or nothing when it was not built.
fault_shim() {
	local d
	if [ -n "${ESIMCTL_INJECT:-}" ]; then
		echo "$ESIMCTL_INJECT"
		return
	fi
	for d in "${ESIMCTL_BUILD:-}" "$(dirname "$ESIMCTL")"; do
		[ -n "$d" ] && [ -f "$d/libesimctl_inject.so" ] && echo "$d/libesimctl_inject.so" && return
	done
}
# True when esimctl is built with a sanitizer, which intercepts the calls the shim does.
sanitized() {
	[ "${ESIMCTL_SANITIZED:-0}" = 1 ] && return 0
	ldd "$ESIMCTL" 2>/dev/null | grep -q 'lib[atl]san' && return 0
	nm "$ESIMCTL" 2>/dev/null | grep -q ' __asan_init$' && return 0
	return 1
}

# A test that cannot run here (a tool or a data set is missing) says why and exits 77,
# which ctest reports as skipped (SKIP_RETURN_CODE), never as passed; scripts/test.sh fails
# in CI when anything was skipped.
#   skip_all REASON    nothing more of this file can run: stop now
#   skip_part REASON   one part cannot run: the rest runs, and the file ends skipped (77)
#                      unless something failed
SKIPS=0
skip_part() { SKIPS=$((SKIPS + 1)); echo "# SKIP $*"; }
skip_all() { skip_part "$@"; finish; }

finish() {
	if [ "$SKIPS" -gt 0 ]; then echo "$PASS passed, $FAIL failed, $SKIPS skipped"; else echo "$PASS passed, $FAIL failed"; fi
	[ "$FAIL" -eq 0 ] || exit 1
	[ "$SKIPS" -eq 0 ] || exit 77
	exit 0
}
