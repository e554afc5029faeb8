#!/usr/bin/env bash
# t2050-crash-sync.sh - interrupting add, transfer and release on a software eUICC never
# loses what the eUICC did, and the store lock is not held across the network.
#
#  1. The store lock is free while the SM-DP+ is slow: with a download stalled at
#     getBoundProfilePackage (the test SM-DP+'s "hold" mode keeps the answer until told),
#     'list' and 'device add' on the same store complete (--wait-lock 0) while the download
#     is still running, and 'device add' does while 'euicc enable' or 'euicc disable' waits
#     for handleNotification (the notification is queued in the store meanwhile); a second download to the same eUICC is refused by the eUICC's own
#     lock; a device removed or the same profile added meanwhile is reported and the
#     download still recorded.
#  2. SIGINT, SIGTERM and SIGHUP while the install notification is being delivered: exit
#     130 / 143 / 129, the profile is in the store and the notification queued.  The same
#     signals between the eUICC's installation and the store's commit (the store lock held
#     by the test, so add waits there) are deferred: the store is committed, then the
#     process ends with the signal's status.
#  3. SIGKILL at every crash point of add, transfer (phone -> tablet, both eUICCs) and
#     release: while each ES9+ request is held by the SM-DP+, while add waits for the store
#     lock after the installation and after the notification's delivery, and just before
#     and just after the rename that publishes each commit of the store and of the eUICC
#     state (the fault shim, tests/faults/inject.c; t2000 shows that a kill at an earlier
#     call of a commit leaves the file as it was before the rename).  After each kill, 'euicc sync' on the
#     devices leaves the store and the eUICCs in agreement (the ICCIDs bound active to a
#     device are exactly those on its eUICC) and every notification the eUICC produced is
#     either delivered (the SM-DP+'s log has it, verified) or queued in the store.
#
# Every wait is for a condition (a held request, a held lock, a file's content), bounded;
# nothing depends on the machine's speed.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require
command -v flock >/dev/null || { echo "# skipped: flock not found"; exit 77; }
env --default-signal=INT true 2>/dev/null || { echo "# skipped: env --default-signal not supported"; exit 77; }

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
ICCID=8949449999999990023
ICCID_B=8949449999999990031
ICCID_C=8949449999999990049
printf '[%s, %s, %s]\n' "$(order_json MATCH-1 $ICCID)" "$(order_json MATCH-B $ICCID_B)" \
	"$(order_json MATCH-C $ICCID_C)" >"$ORDERS"
srv_start
sgp_device phone
sgp_device tablet euicc2 tablet
LOCK=$ESIMCTL_STORE.lock
CODE="LPA:1\$$SMDP_ADDR\$MATCH-1"
BG=
HOLDER=

bg_cleanup() {
	[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
	[ -n "$HOLDER" ] && kill -9 "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	BG= HOLDER=
	return 0
}
trap 'bg_cleanup; sgp_cleanup' EXIT

lock_held() { ! flock -n "$LOCK" true; }
card_has() { jq -e --arg i "$2" 'any(.profiles[]; .iccid == $i)' "$T/$1.json" >/dev/null 2>&1; }
card_notifications_empty() { jq -e '.notifications == []' "$T/$1.json" >/dev/null 2>&1; }
# bg ARGS: esimctl in the background with SIGINT/SIGTERM/SIGHUP at their defaults (a
# non-interactive shell starts background jobs with SIGINT ignored).
bg() {
	env --default-signal=INT,TERM,HUP "$ESIMCTL" "$@" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
	BG=$!
}
bg_wait() {
	local st
	wait "$BG"
	st=$?
	BG=
	return $st
}
hold_store_lock() {
	bash -c 'exec 9<>"$1" && flock 9 && exec sleep 60' _ "$LOCK" &
	HOLDER=$!
	wait_until lock_held
}
free_store_lock() {
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	HOLDER=
}

# agree DEVICE...: store and eUICCs agree, and each eUICC's notification since the mark
# (seq >= SEQ0_<device>) is delivered or queued.
agree() {
	local dev card store what="" seq
	for dev in "$@"; do
		card=$(jq -c '[.profiles[].iccid] | sort' "$T/$dev.json")
		store=$(jq -c --arg d "$dev" '. as $s | [.bindings[] | select(.device == $d and .state == "active")
			| .profile as $p | $s.profiles[] | select(.id == $p) | .iccid] | sort' "$ESIMCTL_STORE")
		[ "$card" = "$store" ] || what="$what; $dev: eUICC holds $card, store binds $store"
		for seq in $(jq -r '.notifications[].seq' "$T/$dev.json"); do
			jq -e --arg d "$dev" --argjson q "$seq" 'any(.notifications[]?; .device == $d and .seq == $q)' \
				"$ESIMCTL_STORE" >/dev/null || what="$what; $dev: notification $seq on the eUICC is not queued"
		done
		local eid s0 s1
		eid=$(jq -r .eid "$T/$dev.json")
		s0=${SEQ0[$dev]}
		s1=$(jq -r .next_seq "$T/$dev.json")
		log_settle
		for ((seq = s0; seq < s1; seq++)); do
			if ! jq -e --arg d "$dev" --argjson q "$seq" 'any(.notifications[]?; .device == $d and .seq == $q)' \
				"$ESIMCTL_STORE" >/dev/null &&
				[ "$(log_new | jq -c --arg e "$eid" --argjson q "$seq" \
					'select(.event == "notification" and .eid == $e and .seq == $q and .valid == true)' | wc -l)" = 0 ]; then
				what="$what; $dev: notification $seq neither delivered nor queued"
			fi
		done
	done
	if [ -z "$what" ]; then ok "$LABEL: store and eUICCs agree; every notification delivered or queued"; else nok "$LABEL:$what"; fi
}
declare -A SEQ0
mark_seqs() {
	local dev
	for dev in phone tablet; do SEQ0[$dev]=$(jq -r .next_seq "$T/$dev.json"); done
	log_mark
}

echo "# ---- 1. the store lock is not held across the network"
hold getBoundProfilePackage
bg --wait-lock 60 add "$CODE" --device phone --carrier Verizon --nickname home
if wait_until held_is getBoundProfilePackage; then ok "the download is stalled at getBoundProfilePackage"; else nok "the download did not reach getBoundProfilePackage"; fi
run 0 esim --wait-lock 0 list
run 0 esim --wait-lock 0 --json list
json_eq '.profiles' '[]'
run 0 esim --wait-lock 0 device add watch --kind watch
check "the download is still running meanwhile" kill -0 "$BG"
# a second download to the same eUICC waits for the eUICC's lock, then gives up
run 10 esim --wait-lock 0 add "LPA:1\$$SMDP_ADDR\$MATCH-B" --device phone --carrier Verizon
err_has "is in use by another process"
unhold
bg_wait
check "the stalled download completed (exit $?)" [ $? = 0 ]
list_is '[.profiles[] | [.iccid, .nickname, (.bindings | map(.device))]]' "[[\"$ICCID\",\"home\",[\"phone\"]]]"
list_is '[.devices[].name] | sort' '["phone","tablet","watch"]'
list_is '.pending_notifications' '[]'
log_mark
check "the second download never reached the SM-DP+" [ "$(admin /test/state | jq '[.orders[] | select(.matching_id == "MATCH-B" and .state != "released")] | length')" = 0 ]

echo "# --- euicc enable and disable: the store lock is free while their notification is sent"
for op in enable disable; do
	log_mark
	hold handleNotification
	bg --wait-lock 60 euicc "$op" "$ICCID" --device phone
	if wait_until held_is handleNotification; then ok "euicc $op: its notification is held at handleNotification"; else nok "euicc $op: no notification reached the SM-DP+"; fi
	run 0 esim --wait-lock 0 device add "spare-$op" --kind laptop
	check "euicc $op is still running meanwhile" kill -0 "$BG"
	list_is '.pending_notifications | length' 1
	unhold
	bg_wait
	check "euicc $op completed (exit $?)" [ $? = 0 ]
	list_is '.pending_notifications' '[]'
	log_settle
	check "euicc $op: its notification was delivered" \
		[ "$(log_new | jq -c 'select(.event == "notification" and .valid == true)' | wc -l)" = 1 ]
done
list_is '[.devices[].name] | sort' '["phone","spare-disable","spare-enable","tablet","watch"]'
run 0 esim device remove spare-enable
run 0 esim device remove spare-disable

echo "# --- the device removed during the download"
mark_seqs
hold getBoundProfilePackage
bg --wait-lock 60 add "LPA:1\$$SMDP_ADDR\$MATCH-B" --device tablet --carrier Verizon
wait_until held_is getBoundProfilePackage || nok "the download did not reach getBoundProfilePackage"
run 0 esim --wait-lock 0 device remove tablet
unhold
bg_wait
check "the download completed (exit $?)" [ $? = 0 ]
check "the user is told the device went away" grep -qF "device 'tablet' was removed while the profile was downloaded" "$T/bg.err"
list_is "[.profiles[] | select(.iccid == \"$ICCID_B\") | .bindings]" '[[]]'
run 0 esim device add tablet --kind tablet --euicc "soft:$T/tablet.json"
LABEL="device removed during a download, then added again and synced"
run 0 esim --json euicc sync --device tablet
json_eq '.changes | map(.action)' '["bind"]'
agree tablet phone

echo "# --- the same profile added by someone else during the download"
admin /test/orders "$(order_json MATCH-D 8949449999999990056)" >/dev/null || nok "POST /test/orders"
mark_seqs
hold getBoundProfilePackage
bg --wait-lock 60 add "LPA:1\$$SMDP_ADDR\$MATCH-D" --device phone --carrier Verizon
wait_until held_is getBoundProfilePackage || nok "the download did not reach getBoundProfilePackage"
run 0 esim --wait-lock 0 add "LPA:1\$$SMDP_ADDR\$MATCH-D" --carrier Verizon --nickname meanwhile
unhold
bg_wait
check "the download completed (exit $?)" [ $? = 0 ]
check "the user is told the profile was added meanwhile" grep -qF "was added by another esimctl during the download" "$T/bg.err"
list_is '[.profiles[] | select(.nickname == "meanwhile") | [.iccid, (.bindings | map(.device))]]' '[["8949449999999990056",["phone"]]]'
LABEL="same profile added during a download"
agree phone tablet

echo "# ---- 2. signals"
# A fresh world for each case: the eUICCs and the store as they are now, orders released.
cp "$ESIMCTL_STORE" "$T/base-store.json"
cp "$T/phone.json" "$T/base-phone.json"
cp "$T/tablet.json" "$T/base-tablet.json"
for f in base-store base-phone base-tablet; do cp "$T/$f.json" "$T/$f-0.json"; done
reset_world() {
	bg_cleanup
	misbehave '{}'
	admin /test/release '{}' >/dev/null
	admin /test/reset '{}' >/dev/null || nok "POST /test/reset"
	cat "$T/base-store.json" >"$ESIMCTL_STORE"
	cat "$T/base-phone.json" >"$T/phone.json"
	cat "$T/base-tablet.json" >"$T/tablet.json"
	mark_seqs
}
# the base: MATCH-C to be downloaded onto phone
for sig in INT TERM HUP; do
	case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
	reset_world
	hold handleNotification
	bg add "LPA:1\$$SMDP_ADDR\$MATCH-C" --device phone --carrier Verizon
	wait_until held_is handleNotification || nok "SIG$sig: the add did not reach handleNotification"
	kill -s "$sig" "$BG"
	bg_wait
	st=$?
	check "SIG$sig during the install notification: exit $want (got $st)" [ "$st" = "$want" ]
	unhold
	list_is "[.profiles[] | select(.iccid == \"$ICCID_C\") | .bindings | map([.device, .state])]" '[[["phone","active"]]]'
	list_is "[.pending_notifications[] | select(.iccid == \"$ICCID_C\") | .event]" '["install"]'
	LABEL="SIG$sig during the install notification"
	agree phone
done
log_mark
run 0 esim --json notifications send
json_eq '[.sent, .failed]' '[1,0]'
log_is "the queued install notification is delivered, valid" '.event == "notification" and .type == "install" and .valid == true' 1

for sig in INT TERM; do
	case $sig in INT) want=130 ;; TERM) want=143 ;; esac
	reset_world
	hold getBoundProfilePackage
	bg --wait-lock 60 add "LPA:1\$$SMDP_ADDR\$MATCH-C" --device phone --carrier Verizon
	wait_until held_is getBoundProfilePackage || nok "SIG$sig: the add did not reach getBoundProfilePackage"
	hold_store_lock || nok "could not take the store lock"
	unhold
	# installed on the eUICC; add now waits for the store lock the test holds
	wait_until card_has phone "$ICCID_C" || nok "SIG$sig: the profile was not installed"
	kill -s "$sig" "$BG"
	free_store_lock
	bg_wait
	st=$?
	check "SIG$sig between the installation and the store's commit: deferred, then exit $want (got $st)" [ "$st" = "$want" ]
	list_is "[.profiles[] | select(.iccid == \"$ICCID_C\") | .bindings | map([.device, .state])]" '[[["phone","active"]]]'
	list_is "[.pending_notifications[] | select(.iccid == \"$ICCID_C\") | .event]" '["install"]'
	LABEL="SIG$sig between the installation and the store's commit"
	agree phone
done

echo "# ---- 3. SIGKILL at every crash point, then euicc sync"
KILLS=0
# after_kill: sync both eUICCs, check agreement
after_kill() {
	KILLS=$((KILLS + 1))
	esim --wait-lock 0 euicc sync --device phone >"$OUT" 2>"$ERR" || nok "$LABEL: euicc sync phone failed: $(head -1 "$ERR")"
	esim --wait-lock 0 euicc sync --device tablet >"$OUT" 2>"$ERR" || nok "$LABEL: euicc sync tablet failed: $(head -1 "$ERR")"
	agree phone tablet
}
# kill_held CMD FUNCTION ARGS...: SIGKILL while the SM-DP+ holds FUNCTION's answer
kill_held() {
	local what=$1 fn=$2
	shift 2
	reset_world
	hold "$fn"
	bg "$@"
	if wait_until held_is "$fn"; then
		kill -9 "$BG"
		bg_wait
		unhold
		LABEL="$what: SIGKILL while the SM-DP+ holds $fn"
		after_kill
	else
		bg_cleanup
		unhold
		nok "$what: never reached $fn: $(head -2 "$T/bg.err")"
	fi
}
ADD=(--wait-lock 60 add "LPA:1\$$SMDP_ADDR\$MATCH-C" --device phone --carrier Verizon)
for fn in initiateAuthentication authenticateClient getBoundProfilePackage handleNotification; do
	kill_held "add" "$fn" "${ADD[@]}"
done

# add killed while it waits for the store lock: after the installation, after the delivery
reset_world
hold getBoundProfilePackage
bg "${ADD[@]}"
wait_until held_is getBoundProfilePackage || nok "add did not reach getBoundProfilePackage"
hold_store_lock
unhold
wait_until card_has phone "$ICCID_C" || nok "the profile was not installed"
kill -9 "$BG"
bg_wait
free_store_lock
LABEL="add: SIGKILL after the installation, before the store's commit"
list_is "[.profiles[] | select(.iccid == \"$ICCID_C\")] | length" 0
run 0 esim --json euicc sync --device phone
json_eq '.changes | map([.action, .iccid, .event])' "[[\"adopt\",\"$ICCID_C\",null],[\"queue-notification\",\"$ICCID_C\",\"install\"]]"
agree phone tablet
KILLS=$((KILLS + 1))

reset_world
hold handleNotification
bg "${ADD[@]}"
wait_until held_is handleNotification || nok "add did not reach handleNotification"
hold_store_lock
unhold
wait_until card_notifications_empty phone || nok "the install notification was not delivered"
kill -9 "$BG"
bg_wait
free_store_lock
LABEL="add: SIGKILL after the delivery, before its outcome is committed"
after_kill

# transfer phone -> tablet and release, from a base with the profile on phone
reset_world
run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-C" --device phone --carrier Verizon
run 0 esim euicc enable "$ICCID_C" --device phone
cp "$ESIMCTL_STORE" "$T/base-store.json"
cp "$T/phone.json" "$T/base-phone.json"
TRANSFER=(--wait-lock 60 transfer "$ICCID_C" --to tablet)
RELEASE=(--wait-lock 60 release "$ICCID_C" --device phone)
kill_held "transfer" handleNotification "${TRANSFER[@]}"
kill_held "release" handleNotification "${RELEASE[@]}"

# the fault shim: SIGKILL just before and just after every commit (rename) of the store
# and of the eUICC state
INJ=$(fault_shim)
SHIM_ERR=$(mktemp "${TMPDIR:-/tmp}/esimctl-t2050-err.XXXXXX")
POINTS=0
shim_points() {
	local what=$1 n call i act lines
	shift
	reset_world
	: >"$T/flog"
	LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$T ESIMCTL_FAULT_LOG=$T/flog "$ESIMCTL" -q "$@" >/dev/null 2>"$SHIM_ERR" </dev/null ||
		{ nok "$what: runs without a kill: $(head -1 "$SHIM_ERR")"; return; }
	# the commit points: each rename publishes a new store or eUICC state (t2000 shows that
	# a kill at any earlier call of a commit leaves the file as it was before the rename)
	mapfile -t lines < <(awk '$2 == "rename" {print $2, $3, $4}' "$T/flog")
	for i in "${!lines[@]}"; do
		read -r call n _ <<<"${lines[$i]}"
		for act in kill killafter; do
			reset_world
			LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$T ESIMCTL_FAULT=$call:$act:$n \
				"$ESIMCTL" -q "$@" >/dev/null 2>"$SHIM_ERR" </dev/null
			st=$?
			POINTS=$((POINTS + 1))
			LABEL="$what: SIGKILL $([ $act = kill ] && echo before || echo after) $call #$n (${lines[$i]##* })"
			if [ "$st" != 137 ]; then
				nok "$LABEL: exit $st, not killed"
				continue
			fi
			after_kill
		done
	done
}
if sanitized; then
	echo "# skipped the file-system crash points: esimctl is built with a sanitizer"
elif [ -z "$INJ" ] || [ ! -f "$INJ" ]; then
	nok "the fault injection shim libesimctl_inject.so is not built"
elif [ -n "${ESIMCTL_VALGRIND:-}" ]; then
	echo "# skipped the file-system crash points under ESIMCTL_VALGRIND"
else
	# add: from the base without the profile
	cp "$T/base-store.json" "$T/base-store-with.json"
	cp "$T/base-phone.json" "$T/base-phone-with.json"
	cp "$T/base-store-0.json" "$T/base-store.json"
	cp "$T/base-phone-0.json" "$T/base-phone.json"
	shim_points "add" add "LPA:1\$$SMDP_ADDR\$MATCH-C" --device phone --carrier Verizon
	cp "$T/base-store-with.json" "$T/base-store.json"
	cp "$T/base-phone-with.json" "$T/base-phone.json"
	shim_points "transfer" transfer "$ICCID_C" --to tablet
	shim_points "release" release "$ICCID_C" --device phone
fi
rm -f "$SHIM_ERR"
echo "# figures: $((KILLS - POINTS)) SIGKILLs at held requests and locks, $POINTS at commits (before and after each rename), each followed by euicc sync"
finish
