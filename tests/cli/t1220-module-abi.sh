#!/usr/bin/env bash
# t1220-module-abi.sh - the boundary between esimctl and esimctl-rsp.so.
#
# The module exports one versioned descriptor (src/cli/rsp/rsp_module.h); the loader
# refuses a module whose ABI number or shared struct sizes differ, with exit 1 and
# "esimctl-rsp.so at PATH is version X, this esimctl needs Y: reinstall", before it
# calls anything in it.  The mismatched modules are built by the test suite
# (tests/faults/badmodule.c, $ESIMCTL_BUILD/tests/badmodule-*.so); their entry points
# abort, so a loader that called one would die with SIGABRT.
#
# Also: libcurl, libcrypto and libpcsclite are in the module only; the binary does not link them and
# the offline commands never open them (ldd, strace).
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

: "${ESIMCTL_BUILD:?ESIMCTL_BUILD must point at the build directory}"
B=$ESIMCTL_BUILD
ABI=$(sed -n 's/^#define RSP_MODULE_ABI \([0-9]*\)u$/\1/p' "$ESIMCTL_SRC/src/cli/rsp/rsp_module.h")
[ -n "$ABI" ] || {
	nok "RSP_MODULE_ABI not found in src/cli/rsp/rsp_module.h"
	finish
}
MODULE=$(dirname "$ESIMCTL")/esimctl-rsp.so

# ---- the real module ----

check "the module exports exactly one symbol, esimctl_rsp_module" \
	[ "$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | tr '\n' ' ')" = "esimctl_rsp_module " ]
sgp_pki nist
sgp_device phone

# ---- mismatched modules ----

# refused KIND WANTED-MESSAGE: the module is refused, nothing in it runs, nothing changes.
refused() {
	local so=$B/tests/badmodule-$1.so
	[ -f "$so" ] || {
		nok "$so not built"
		return
	}
	cp "$ESIMCTL_STORE" "$T/store.before"
	ESIMCTL_RSP_MODULE=$so run 1 esimctl euicc info --device phone
	err_has "esimctl-rsp.so at $so is version $2, this esimctl needs $3: reinstall"
	err_has "hint: install esimctl-rsp.so from the same build"
	ESIMCTL_RSP_MODULE=$so run 1 esimctl --json euicc info --device phone
	one_json
	json_eq '.error.message' "\"esimctl-rsp.so at $so is version $2, this esimctl needs $3: reinstall\""
	# A download is refused the same way, before any network or eUICC work.
	ESIMCTL_RSP_MODULE=$so run 1 esimctl add 'LPA:1$rsp.example.com$MOD-1' --device phone --carrier Verizon
	err_has "is version $2, this esimctl needs $3: reinstall"
	check "$1: the store is unchanged" cmp -s "$T/store.before" "$ESIMCTL_STORE"
}

refused abi "$((ABI + 1))" "$ABI"
refused none "0 (it has no esimctl_rsp_module descriptor)" "$ABI"
ESIMCTL_RSP_MODULE=$B/tests/badmodule-size.so run 1 esimctl euicc info --device phone
APP=$(sed -n 's/.*needs [0-9]* (struct app of \([0-9]*\) bytes).*/\1/p' "$ERR")
check "size mismatch: the message names struct app and both sizes" [ -n "$APP" ]
refused size "$ABI (struct app of $((APP + 8)) bytes)" "$ABI (struct app of $APP bytes)"

# The right module again: everything works.
run 0 esimctl euicc info --device phone
out_has "$(pki_eid euicc)"

# ---- libcurl, libcrypto and libpcsclite stay in the module ----

ldd "$ESIMCTL" >"$T/ldd.bin" 2>&1
ldd "$MODULE" >"$T/ldd.mod" 2>&1
check "ldd esimctl: no libcurl" bash -c "! grep -q libcurl '$T/ldd.bin'"
check "ldd esimctl: no libcrypto, no libssl" bash -c "! grep -qE 'lib(crypto|ssl)\\.' '$T/ldd.bin'"
check "ldd esimctl-rsp.so: libcurl (the ES9+ transport lives there)" grep -q libcurl "$T/ldd.mod"
check "ldd esimctl: no libpcsclite" bash -c "! grep -q libpcsclite '$T/ldd.bin'"
check "ldd esimctl-rsp.so: libpcsclite (the PC/SC backend lives there)" grep -q libpcsclite "$T/ldd.mod"

if command -v strace >/dev/null 2>&1 && strace -f -qq -e trace=openat -o "$T/st" true 2>/dev/null; then
	run 0 esimctl device add laptop --kind laptop
	run 0 esimctl add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device laptop --nickname travel
	run 0 esimctl device add tablet --kind tablet
	# The control: a command that drives the eUICC opens the module, libcurl, libcrypto and
	# libpcsclite.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=openat -o "$T/st" "$ESIMCTL" euicc info --device phone >/dev/null 2>&1
	check "strace control: euicc info opens esimctl-rsp.so, libcurl, libcrypto and libpcsclite" \
		test "$(grep -oE '(libcurl|libcrypto|libpcsclite|esimctl-rsp)[^"/]*\.so' "$T/st" | sed 's/[.-].*//' | sort -u | tr '\n' ' ')" = "esimctl libcrypto libcurl libpcsclite "
	while read -r label args; do
		# shellcheck disable=SC2086
		# LeakSanitizer cannot run under ptrace: leaks are checked in the other tests.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
			strace -f -qq -e trace=openat,execve -o "$T/st" "$ESIMCTL" $args >"$T/st.out" 2>&1
		rc=$?
		opened=$(grep -oE '(libcurl|libssl|libcrypto|libpcsclite|esimctl-rsp)[^"/]*\.so[^"]*' "$T/st" | sort -u | tr '\n' ' ')
		check "strace $label: exit 0 ($rc), opens neither libcurl, libssl, libcrypto, libpcsclite nor the module${opened:+ (opened: $opened)}" \
			test "$rc" = 0 -a -z "$opened"
	done <<EOF2
list list
transfer transfer travel --to tablet --dry-run
qr qr travel --png $T/o.png
device device list
carriers carriers list
EOF2
else
	echo "# strace not available: the offline-commands check is not run"
fi
finish
