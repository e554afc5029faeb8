#!/usr/bin/env bash
# t2100-faults.sh - injected I/O failures never corrupt the store, the software eUICC or an
# output file, and never lose a notification.
#
# tests/faults/inject.c (LD_PRELOAD) fails one file-system call at a time.  For each
# store-changing command, a first run without faults logs every call it makes in the
# store's directory; then each call is failed in turn with several errno values (plus
# short writes and EINTR on write).  A failed commit must exit with the documented status
# (3 for the store, 11 for qr files, 9 for the eUICC, 1 for create-soft), name the file and
# the error, leave every file byte-identical to before and no temporary file behind, and
# the same command run again without faults and with --wait-lock 0 must give exactly the
# state a fault-free run gives.  Failures of calls whose result esimctl deliberately
# ignores (closing a file it only read, fsync of the directory after the rename, closing
# the lock) must not change the outcome.
#
# The eUICC part runs against the test SM-DP+ (tests/smdp) when /usr/bin/python3 with
# python3-cryptography is present.  Nothing runs when esimctl is built with a sanitizer
# (ASan intercepts the same libc calls): CMakeLists.txt disables this test in such builds,
# by the line below; run by hand there, it exits 77 (skipped).
# ctest: fault shim only
. "$(dirname "$0")/sgp22-lib.sh"

INJ=$(fault_shim)
if sanitized; then
	skip_all "esimctl is built with a sanitizer, which intercepts write/fsync/rename itself"
fi
if [ -z "$INJ" ] || [ ! -f "$INJ" ]; then
	echo "not ok - the fault injection shim libesimctl_inject.so is not built (ESIMCTL_INJECT)"
	FAIL=$((FAIL + 1))
	finish
fi
if [ -n "${ESIMCTL_VALGRIND:-}" ]; then
	skip_all "under ESIMCTL_VALGRIND: t2100 runs in the plain build instead"
fi

declare -A STRERR=(
	[ENOSPC]="No space left on device" [EIO]="Input/output error" [EDQUOT]="Disk quota exceeded"
	[EROFS]="Read-only file system" [EACCES]="Permission denied" [EPERM]="Operation not permitted"
	[EXDEV]="Invalid cross-device link" [EMFILE]="Too many open files" [EFBIG]="File too large"
)
# The errno values each call is failed with.
declare -A ERRS=(
	[mkostemp]="ENOSPC EACCES EMFILE EROFS" [fchmod]="EPERM EROFS"
	[write]="ENOSPC EIO EDQUOT EFBIG" [fsync]="EIO ENOSPC EDQUOT" [fdatasync]="EIO"
	[close]="EIO EDQUOT" [rename]="EIO EXDEV EACCES ENOSPC EROFS" [unlink]="EIO"
)

CASES=0       # faulted runs checked
INJECTED=0    # faults the shim reports having injected
RERUNS=0      # fault-free runs after a fault
RC=0

# frun SPEC ARGS...: esimctl with the shim; status in RC, output in $OUT/$ERR, shim log in $T/flog.
frun() {
	local spec=$1
	shift
	: >"$T/flog"
	LAST="ESIMCTL_FAULT=$spec esimctl $*"
	LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$FDIR ESIMCTL_FAULT=$spec ESIMCTL_FAULT_LOG=$T/flog \
		timeout -k 5 "$SGP_GUARD" "$ESIMCTL" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# The watched files (WATCH) as one state: save, restore (temporary files removed), compare.
state_save() {
	local d=$T/snap-$1 i
	rm -rf "$d"
	mkdir -p "$d"
	for i in "${!WATCH[@]}"; do
		[ -e "${WATCH[$i]}" ] && cp -p "${WATCH[$i]}" "$d/$i"
	done
	return 0
}
state_restore() {
	local d=$T/snap-$1 i
	for i in "${!WATCH[@]}"; do
		rm -f "${WATCH[$i]}"
		[ -e "$d/$i" ] && cp -p "$d/$i" "${WATCH[$i]}"
	done
	find "$FDIR" -name '*.tmp.*' -delete
	return 0
}
state_same() {
	local d=$T/snap-$1 i
	for i in "${!WATCH[@]}"; do
		if [ -e "$d/$i" ]; then
			cmp -s "$d/$i" "${WATCH[$i]}" || return 1
		else
			[ ! -e "${WATCH[$i]}" ] || return 1
		fi
	done
}
temps_left() {
	find "$FDIR" -name '*.tmp.*' | grep -q .
}

# report LABEL PROBLEMS...: one ok / not ok line per faulted run.
report() {
	local label=$1
	shift
	if [ $# -eq 0 ]; then
		ok "$label"
	else
		nok "$label: $*"
		sed 's/^/#   shim: /' "$T/flog" | head -12
	fi
}

# fault_case LABEL WANT KIND MSG SPEC ARGS...
#   KIND critical: exit WANT, stderr has MSG (a fixed string; "errno:E" for the target file
#   and E's text), files as before, no temporary file; then ARGS again without faults gives
#   exit 0 and the "after" state.  KIND benign: exit 0 and the "after" state.
fault_case() {
	local label=$1 want=$2 kind=$3 msg=$4 spec=$5 injected
	local -a p=()
	shift 5
	state_restore base
	frun "$spec" "$@"
	CASES=$((CASES + 1))
	injected=$(grep -c -- ' -> ' "$T/flog")
	INJECTED=$((INJECTED + injected))
	[ "$injected" -ge 1 ] || p+=("the shim injected nothing")
	if [ "$kind" = critical ]; then
		[ "$RC" = "$want" ] || p+=("exit $RC, wanted $want")
		state_same base || p+=("files changed")
		case $msg in
		errno:*)
			grep -qF -- "'$TARGET'" "$ERR" || p+=("stderr does not name '$TARGET'")
			grep -qF -- "${STRERR[${msg#errno:}]}" "$ERR" || p+=("stderr lacks '${STRERR[${msg#errno:}]}'")
			;;
		*) grep -qF -- "$msg" "$ERR" || p+=("stderr lacks '$msg'") ;;
		esac
		temps_left && p+=("temporary file left: $(find "$FDIR" -name '*.tmp.*' | head -1)")
		frun "" --wait-lock 0 "$@"
		RERUNS=$((RERUNS + 1))
		[ "$RC" = 0 ] || p+=("run again: exit $RC")
		state_same after || p+=("run again: not the fault-free result")
	else
		[ "$RC" = 0 ] || p+=("exit $RC, wanted 0")
		state_same after || p+=("not the fault-free result")
		temps_left && p+=("temporary file left")
	fi
	report "$label: $spec -> $([ "$kind" = critical ] && echo "exit $want, unchanged; rerun ok" || echo "exit 0, done")" "${p[@]}"
}

# sweep LABEL WANT MSG ARGS...: fail every call ARGS makes in FDIR, one at a time.
sweep() {
	local label=$1 want=$2 msg=$3 pid call n path kind e
	shift 3
	state_restore base
	frun "" "$@"
	if [ "$RC" != 0 ]; then
		nok "$label: fault-free run: exit $RC"
		return
	fi
	state_save after
	cp "$T/flog" "$T/trace"
	check "$label: the shim saw the commit ($(grep -c . "$T/trace") calls)" grep -q ' rename ' "$T/trace"
	while read -r pid call n path; do
		: "$pid"
		case $path in
		*.tmp.*) kind=critical ;;
		*) kind=benign ;;
		esac
		case $call in rename | mkostemp) kind=critical ;; esac
		for e in ${ERRS[$call]}; do
			fault_case "$label: $call #$n ${path##*/}" "$want" "$kind" "${msg/ERRNO/$e}" "$call:$e:$n" "$@"
		done
		if [ "$call" = write ] && [ "$kind" = critical ]; then
			# a short write is completed by the next one; EINTR is retried
			fault_case "$label: write #$n" "$want" benign "" "write:short:$n" "$@"
			fault_case "$label: write #$n" "$want" benign "" "write:EINTR:$n" "$@"
			# disk full part-way through: a short write, then ENOSPC for the rest
			fault_case "$label: write #$n" "$want" critical "${msg/ERRNO/ENOSPC}" \
				"write:short:$n,write:ENOSPC:$((n + 1))+" "$@"
		fi
	done <"$T/trace"
	# The clean-up of the temporary file fails too: it stays, the next writer removes it.
	state_restore base
	frun "write:ENOSPC:1,unlink:EIO:1" "$@"
	CASES=$((CASES + 1))
	INJECTED=$((INJECTED + $(grep -c -- ' -> ' "$T/flog")))
	check "$label: write and unlink fail: exit $want ($RC)" [ "$RC" = "$want" ]
	check "$label: write and unlink fail: files unchanged" state_same base
	check "$label: write and unlink fail: the temporary file is left" temps_left
}

SGP_GUARD=60
mkdir -p "$T/s" "$T/q" "$T/c"
export ESIMCTL_STORE=$T/s/store.json

# ---- the store: add, transfer, release, device add, device remove -------------------------
FDIR=$T/s
TARGET=$ESIMCTL_STORE
WATCH=("$ESIMCTL_STORE")
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tab --kind tablet
run 0 esimctl device add old --kind phone
run 0 esimctl add 'LPA:1$rsp.example.com$TM-FAULT-1' --carrier T-Mobile --device phone --nickname tm
run 0 esimctl add 'LPA:1$rsp.example.com$VZ-FAULT-2' --carrier Verizon --device phone --nickname vz
run 0 esimctl add 'LPA:1$rsp.example.com$OLD-FAULT-3' --carrier Vodafone --device old --nickname op
state_save base
check "the base store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]

STORE_MSG=errno:ERRNO
sweep "add" 3 "$STORE_MSG" add 'LPA:1$rsp.example.com$NEW-FAULT-4' --carrier T-Mobile --device tab --nickname new
sweep "transfer" 3 "$STORE_MSG" transfer tm --to tab
sweep "release" 3 "$STORE_MSG" release vz
sweep "device add" 3 "$STORE_MSG" device add laptop --kind laptop
sweep "device remove --force" 3 "$STORE_MSG" device remove old --force
# the hint says what was left alone
state_restore base
frun "rename:EIO:1" transfer tm --to tab
check "store write failure: exit 3" [ "$RC" = 3 ]
err_has "esimctl: transfer: cannot replace '$ESIMCTL_STORE': Input/output error"
err_has "hint: the store file was not modified"
frun "rename:EIO:1" --json transfer tm --to tab
json_eq '.error | [.status, .name]' '[3,"store_corrupt"]'

# ---- qr --png / --svg: exit 11, the output file absent or as it was ------------------------
FDIR=$T/q
TARGET=$T/q/backup.png
WATCH=("$TARGET" "$ESIMCTL_STORE")
state_save base
sweep "qr --png (new file)" 11 errno:ERRNO qr tm --png "$TARGET"
TARGET=$T/q/backup.svg
printf 'the previous backup\n' >"$TARGET"
chmod 600 "$TARGET"
WATCH=("$TARGET" "$ESIMCTL_STORE")
state_save base
sweep "qr --svg (replacing a file)" 11 errno:ERRNO qr tm --svg "$TARGET"
check "qr: the previous backup is intact" [ "$(cat "$TARGET")" = "the previous backup" ]

# ---- the software eUICC: create-soft, and every state write of the card ---------------------
if ! "$PY" -c 'import cryptography' 2>/dev/null || ! command -v curl >/dev/null 2>&1; then
	skip_part "the eUICC part: $PY with python3-cryptography or curl not found"
	echo "# figures: $CASES faulted runs, $INJECTED faults injected, $RERUNS fault-free reruns"
	finish
fi
sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
FDIR=$T/c
TARGET=$T/c/card.json
WATCH=("$TARGET")
state_save base
sweep "euicc create-soft" 1 errno:ERRNO euicc create-soft "$TARGET" --eid "$(pki_eid euicc)" \
	--cert "$(pki_path euicc cert_der)" --key "$(pki_path euicc key_pem)" \
	--eum "$(pki_path eum cert_der)" --ci "$CI_PEM"

ICCID1=8949449999999990023
ICCID2=8949449999999990031
printf '[%s, %s]\n' "$(order_json BASE-1 $ICCID1)" \
	"$(order_json NEW-2 $ICCID2 | sed 's/}$/,"reusable":true}/')" >"$ORDERS"
srv_start
mkdir -p "$T/e"
CARD=$T/e/phone.json
run 0 esim euicc create-soft "$CARD" --eid "$(pki_eid euicc)" --cert "$(pki_path euicc cert_der)" \
	--key "$(pki_path euicc key_pem)" --eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
run 0 esim device add phone2 --kind phone --euicc "soft:$CARD"
run 0 esim add "LPA:1\$$SMDP_ADDR\$BASE-1" --device phone2 --carrier Verizon --nickname p1
check "the eUICC state file is 0600" [ "$(mode_of "$CARD")" = 600 ]
WATCH=("$CARD" "$ESIMCTL_STORE")
state_save base

# card_json / store_json: the parts of each state that matter (signatures are randomised)
card_view() { jq -c '{profiles: [.profiles[] | {iccid, state, nickname}], notifications: [.notifications[] | {seq, event, iccid}]}' "$CARD"; }
store_view() { jq -c '{bindings, history, profiles: [.profiles[] | {id, iccid}], notifications: [.notifications[] | {device, seq, event}]}' "$ESIMCTL_STORE"; }

# card_sweep LABEL ARGS...: fail each call of each eUICC state commit in turn.  The first
# commit is the operation itself: it must fail with exit 9 and leave the card and the store
# as they were.  Later commits remove notifications the SM-DP+ has acknowledged: the
# command succeeds, and the notification stays on the card and in the store's queue, so
# it is sent again rather than lost.
card_sweep() {
	local label=$1 commits=0 k pid call n path e injected view
	local -a p
	shift
	FDIR=$T/e
	state_restore base
	frun "" "$@"
	if [ "$RC" != 0 ]; then
		nok "$label: fault-free run: exit $RC"
		return
	fi
	card_view >"$T/card-after"
	store_view >"$T/store-after"
	cp "$T/flog" "$T/trace"
	check "$label: the card committed its state ($(grep -c ' rename ' "$T/trace") times)" grep -q ' rename ' "$T/trace"
	while read -r pid call n path; do
		: "$pid"
		case $call:$path in
		rename:* | mkostemp:* | *.tmp.*) ;;
		*) continue ;;
		esac
		k=$((commits + 1))
		[ "$call" = rename ] && commits=$k
		e=${ERRS[$call]%% *}
		state_restore base
		frun "$call:$e:$n" "$@"
		CASES=$((CASES + 1))
		injected=$(grep -c -- ' -> ' "$T/flog")
		INJECTED=$((INJECTED + injected))
		p=()
		[ "$injected" -ge 1 ] || p+=("the shim injected nothing")
		temps_left && p+=("temporary file left")
		if [ "$k" = 1 ]; then
			[ "$RC" = 9 ] || p+=("exit $RC, wanted 9")
			state_same base || p+=("card or store changed")
			grep -qF 'memory failure (SW 6581)' "$ERR" || p+=("stderr lacks the eUICC's memory failure")
			frun "" --wait-lock 0 "$@"
			RERUNS=$((RERUNS + 1))
			[ "$RC" = 0 ] || p+=("run again: exit $RC")
			[ "$(card_view)" = "$(cat "$T/card-after")" ] || p+=("run again: card differs")
			[ "$(store_view)" = "$(cat "$T/store-after")" ] || p+=("run again: store differs")
			view="exit 9, card and store unchanged; rerun ok"
		else
			[ "$RC" = 0 ] || p+=("exit $RC, wanted 0")
			grep -qF 'was delivered to testsmdpplus1.example.com' "$ERR" && grep -qF 'but the eUICC kept it' "$ERR" || p+=("no warning about the kept notification")
			[ "$(jq '.notifications | length' "$CARD")" = 1 ] || p+=("the card lost the notification")
			[ "$(jq '.notifications | length' "$ESIMCTL_STORE")" = 1 ] || p+=("the store did not queue it")
			frun "" --wait-lock 0 notifications send
			RERUNS=$((RERUNS + 1))
			[ "$RC" = 0 ] || p+=("notifications send: exit $RC")
			[ "$(jq -c '[(.notifications | length)]' "$CARD" "$ESIMCTL_STORE" | paste -sd,)" = '[0],[0]' ] ||
				p+=("notifications send left some behind")
			view="exit 0, notification kept on the card and queued; sent later"
		fi
		report "$label: card commit $k: $call:$e:$n -> $view" "${p[@]}"
	done <"$T/trace"
}
card_sweep "add (download)" add "LPA:1\$$SMDP_ADDR\$NEW-2" --device phone2 --carrier Verizon --nickname p2
card_sweep "euicc enable" euicc enable p1 --device phone2
card_sweep "euicc nickname" euicc nickname p1 work --device phone2
card_sweep "release (delete)" release p1

# The store commit fails after the card changed: the store is left alone (exit 3) and the
# card's notification is not lost: delivered, or kept on the card when the SM-DP+ is down.
FDIR=$T/s
state_restore base
log_mark
frun "write:ENOSPC:1" add "LPA:1\$$SMDP_ADDR\$NEW-2" --device phone2 --carrier Verizon --nickname p2
INJECTED=$((INJECTED + $(grep -c -- ' -> ' "$T/flog")))
CASES=$((CASES + 1))
check "download, store write fails: exit 3 ($RC)" [ "$RC" = 3 ]
check "download, store write fails: store unchanged" cmp -s "$T/snap-base/1" "$ESIMCTL_STORE"
check "download, store write fails: the card has the profile" \
	[ "$(jq -c '[.profiles[].iccid]' "$CARD")" = "[\"$ICCID1\",\"$ICCID2\"]" ]
log_is "download, store write fails: the install notification was delivered" \
	".event == \"notification\" and .type == \"install\" and .valid == true and .iccid == \"$ICCID2\"" 1
state_restore base
misbehave '{"mode": "http-500", "functions": ["handleNotification"]}'
frun "write:ENOSPC:1" release p1
INJECTED=$((INJECTED + $(grep -c -- ' -> ' "$T/flog")))
CASES=$((CASES + 1))
check "release, SM-DP+ down, store write fails: exit 3 ($RC)" [ "$RC" = 3 ]
check "release, SM-DP+ down, store write fails: store unchanged" cmp -s "$T/snap-base/1" "$ESIMCTL_STORE"
check "release, SM-DP+ down, store write fails: the delete notification stays on the card" \
	[ "$(jq -c '[.notifications[].event]' "$CARD")" = '["delete"]' ]
misbehave '{}'
log_mark
run 0 esim --wait-lock 0 notifications send
log_is "the kept delete notification is delivered later" \
	".event == \"notification\" and .type == \"delete\" and .valid == true and .iccid == \"$ICCID1\"" 1
check "nothing left on the card" [ "$(jq '.notifications | length' "$CARD")" = 0 ]
run 0 esim --wait-lock 0 release p1
err_has "was already gone from the eUICC"

echo "# figures: $CASES faulted runs, $INJECTED faults injected, $RERUNS fault-free reruns"
finish
