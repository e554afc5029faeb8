#!/usr/bin/env bash
# t2000-crash-kill.sh - SIGKILL at any moment never corrupts the store or blocks later runs.
#
#  1. Random kills: store-changing commands (device add, add, transfer, release, device
#     remove), each killed with SIGKILL after a random delay of 0 to 1.3 times the mean time
#     the commands of that phase took on a copy of the store (in microseconds), on a small,
#     a 0.4 MB and a 2.3 MB store, until the wanted number of kills landed while esimctl
#     ran (a kill before the exec or after the exit does not count; the loop goes on, so a
#     slow or loaded machine only takes more attempts).  After each attempt the store is
#     byte-identical to the state before or the state after the command (the "after"
#     state comes from running the command on a copy; ESIMCTL_NOW makes it
#     deterministic); the lock is free at once; when the kill came before the commit, the
#     command run again with --wait-lock 0 succeeds, gives exactly the "after" state and
#     removes any temporary file the killed run left.
#  2. Crash points: the fault shim (tests/faults/inject.c) kills the process just before
#     and just after every file-system call of a commit (store, and the software eUICC when
#     python3-cryptography is present), so every step of temp/write/fsync/rename/dir-fsync
#     is hit exactly; the state must be "before" up to the rename and "after" from it on.
#  3. Stop the world: a writer killed while it waits for the lock; writers frozen with
#     SIGSTOP while they hold the lock (seen in /proc/locks; the store is whole meanwhile,
#     other writers get exit 4 naming the store, readers still work), then killed.
#
# No check depends on the machine's speed: the counts are reached by trying again, and a
# bound (ESIMCTL_KILL_TRIES attempts per wanted kill, default 20, and ESIMCTL_KILL_BUDGET
# seconds for part 1, default 900, within ctest's TIMEOUT) is only reached when esimctl never runs long enough to
# be killed.  ESIMCTL_KILL_RUNS (default 150) sets the number of kills wanted while
# esimctl runs, ESIMCTL_TEST_SEED the seed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc-lib.sh"

RUNS=${ESIMCTL_KILL_RUNS:-150}
TRIES_PER_KILL=${ESIMCTL_KILL_TRIES:-20}
BUDGET=${ESIMCTL_KILL_BUDGET:-900}
SEED=${ESIMCTL_TEST_SEED:-$((EPOCHSECONDS % 32768))}
RANDOM=$SEED
echo "# seed $SEED (ESIMCTL_TEST_SEED=$SEED reproduces the delays)"
GUARD=120
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$T/s" "$T/ref"
export ESIMCTL_STORE=$T/s/store.json
LOCK=$ESIMCTL_STORE.lock

# the name the kernel gives esimctl's process once it has exec()ed (/proc/PID/stat)
ECOMM=${ESIMCTL##*/}
ECOMM=${ECOMM:0:15}
temps() { local f=("$T"/s/store.json.tmp.*); [ -e "${f[0]}" ] && echo "${#f[@]}" || echo 0; }
lock_free() { flock -n "$LOCK" true; }
store_parses() { jq -e '.schema == 1' "$1" >/dev/null 2>&1; }

# The command sequence: every fifth command starts a new cycle on device dK.
plan() {
	local i=$1 k=$(($1 / 5))
	case $((i % 5)) in
	0) CMD=(device add "d$k" --kind phone) ;;
	1) CMD=(add "LPA:1\$rsp.example.com\$KILL-$k" --carrier T-Mobile --device "d$k" --nickname "n$k") ;;
	2) CMD=(transfer "n$k" --to tab) ;;
	3) CMD=(release "n$k" --device "d$k") ;;
	4) CMD=(device remove "d$k") ;;
	esac
}

run 0 esimctl device add tab --kind tablet

# pad N: give the store N more history entries (bigger store, longer commit)
pad() {
	jq -c --argjson n "$1" \
		'.history += [range($n) | {"time":"2026-11-21T09:00:00Z","op":"device-add","to":"tab","outcome":"ok"}]' \
		"$ESIMCTL_STORE" >"$T/padded.json" && cat "$T/padded.json" >"$ESIMCTL_STORE"
}

# KILLED: SIGKILLs that landed while esimctl ran (it had exec()ed and not yet exited);
# EARLY: before the exec (nothing of esimctl ran); COMPLETED: it exited before the kill.
# BEFORE/AFTER: the state the store was left in; KBEFORE: kills while running that left
# the state before.  DUR_SUM/DUR_N: the phase's reference runs, for the delays.
KILLED=0 EARLY=0 COMPLETED=0 BEFORE=0 AFTER=0 KBEFORE=0 TEMPS_LEFT=0 RERUN=0 BAD=0 STEP=0
DUR_SUM=0 DUR_N=0
# one_kill: run plan $STEP against a copy for the "after" state and its duration, then for
# real with a SIGKILL after a random delay; check and recover.  Nothing between the start
# of the command and the kill starts a process.
one_kill() {
	local t0 dur delay pid st ntemp what="" mid=0
	plan "$STEP"
	cp -p "$ESIMCTL_STORE" "$T/before.json"
	cp -p "$ESIMCTL_STORE" "$T/ref/store.json"
	now_us
	t0=$NOW_US
	ESIMCTL_STORE=$T/ref/store.json "$ESIMCTL" -q "${CMD[@]}" >/dev/null 2>"$T/ref.err" </dev/null
	st=$?
	now_us
	if [ "$st" != 0 ]; then
		nok "step $STEP: ${CMD[*]} fails even without a kill (exit $st): $(head -1 "$T/ref.err")"
		BAD=$((BAD + 1))
		return 1
	fi
	cp -p "$T/ref/store.json" "$T/after.json"
	dur=$((NOW_US - t0))
	DUR_SUM=$((DUR_SUM + dur)) DUR_N=$((DUR_N + 1))
	# uniform over 0 .. 1.3 x the mean run of this phase so far (not this one run's time)
	delay=$((((RANDOM << 15) | RANDOM) % (DUR_SUM / DUR_N * 13 / 10 + 1)))
	"$ESIMCTL" -q --wait-lock 0 "${CMD[@]}" >"$OUT" 2>"$ERR" </dev/null &
	pid=$!
	PIDS=("$pid")
	usleep "$delay"
	proc_stat "$pid"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	PIDS=()
	if [ "$st" != 137 ]; then
		COMPLETED=$((COMPLETED + 1))
	elif [ "$PCOMM" = "$ECOMM" ]; then
		KILLED=$((KILLED + 1)) mid=1
	else
		EARLY=$((EARLY + 1))
	fi
	ntemp=$(temps)
	TEMPS_LEFT=$((TEMPS_LEFT + ntemp))
	if [ "$st" != 137 ] && [ "$st" != 0 ]; then
		what="exit $st (neither killed nor successful): $(head -1 "$ERR")"
	elif ! lock_free; then
		what="the lock is still held after the kill"
	elif cmp -s "$ESIMCTL_STORE" "$T/after.json"; then
		AFTER=$((AFTER + 1))
		[ "$st" = 0 ] || [ "$ntemp" = 0 ] || what="a temporary file was left after the rename"
	elif cmp -s "$ESIMCTL_STORE" "$T/before.json"; then
		BEFORE=$((BEFORE + 1)) KBEFORE=$((KBEFORE + mid))
		if [ "$st" = 0 ]; then
			what="exit 0 but the store did not change"
		else
			# the command again, with no waiting for the lock: exactly the "after" state
			"$ESIMCTL" -q --wait-lock 0 "${CMD[@]}" >"$OUT" 2>"$ERR" </dev/null
			st=$?
			RERUN=$((RERUN + 1))
			if [ "$st" != 0 ]; then
				what="run again after the kill: exit $st: $(head -1 "$ERR")"
			elif ! cmp -s "$ESIMCTL_STORE" "$T/after.json"; then
				what="run again after the kill: not the expected state"
			elif [ "$(temps)" != 0 ]; then
				what="the next writer did not remove the temporary file"
			fi
		fi
	elif ! store_parses "$ESIMCTL_STORE"; then
		what="the store does not parse"
	else
		what="the store is neither the state before nor the state after"
	fi
	if [ -n "$what" ]; then
		BAD=$((BAD + 1))
		nok "step $STEP: ${CMD[*]} (killed after ${delay} of ${dur} us): $what"
		diff <(jq -S . "$T/before.json") <(jq -S . "$ESIMCTL_STORE" 2>&1) | head -10 | sed 's/^/#   /'
		return 1
	fi
	STEP=$((STEP + 1))
	return 0
}

# ---- 1. random kills over three store sizes ------------------------------------------------
# phase NAME N: attempts until N kills landed while esimctl ran, at least one of them
# before the commit (the state before), within the attempt and time bounds.
DEADLINE=$((SECONDS + BUDGET))
phase() {
	local name=$1 n=$2 k0=$KILLED e0=$EARLY c0=$COMPLETED kb0=$KBEFORE b0=$BEFORE a0=$AFTER
	local t0=$TEMPS_LEFT bad0=$BAD s0=$STEP start=$SECONDS max=$(($2 * TRIES_PER_KILL + 50)) mean why=""
	DUR_SUM=0 DUR_N=0
	while [ $((KILLED - k0)) -lt "$n" ] || [ "$KBEFORE" = "$kb0" ]; do
		if [ $((STEP - s0)) -ge "$max" ]; then
			why="$max attempts"
			break
		elif [ "$SECONDS" -ge "$DEADLINE" ]; then
			why="the $BUDGET s budget of part 1 (ESIMCTL_KILL_BUDGET)"
			break
		fi
		one_kill || break
	done
	mean=$((DUR_SUM / (DUR_N > 0 ? DUR_N : 1)))
	check "$name: every attempt left the store whole, in the state before or after" [ "$BAD" = "$bad0" ]
	if [ -n "$why" ]; then
		nok "$name: only $((KILLED - k0)) of the $n kills wanted while esimctl ran ($((KBEFORE - kb0)) before its commit) after $why: $((COMPLETED - c0)) runs finished before the kill, $((EARLY - e0)) kills came before the exec; a run takes $mean us on average, too short to be killed"
	elif [ "$BAD" = "$bad0" ]; then
		ok "$name: $n kills while esimctl ran, $((KBEFORE - kb0)) of them before its commit"
	fi
	echo "# $name: $((STEP - s0)) attempts in $((SECONDS - start)) s (mean run $mean us): $((KILLED - k0)) killed while running ($((KBEFORE - kb0)) of them before the commit), $((EARLY - e0)) before the exec, $((COMPLETED - c0)) finished first; states: $((BEFORE - b0)) before, $((AFTER - a0)) after; $((TEMPS_LEFT - t0)) temporary files left"
}
n_small=$((RUNS * 2 / 5))
n_medium=$((RUNS * 2 / 5))
n_big=$((RUNS - n_small - n_medium))
check "the store parses before the kills" store_parses "$ESIMCTL_STORE"
phase "small store" "$n_small"
pad 5000
phase "$(($(stat -c %s "$ESIMCTL_STORE") / 100000))00 kB store" "$n_medium"
pad 25000
phase "$(($(stat -c %s "$ESIMCTL_STORE") / 100000))00 kB store" "$n_big"
check "the store is still valid and readable" "$ESIMCTL" --wait-lock 0 list >/dev/null
echo "# random kills: $STEP attempts, $KILLED killed while running ($KBEFORE before the commit), $EARLY before the exec, $COMPLETED finished before the kill; $BEFORE before, $AFTER after; $TEMPS_LEFT temporary files left and removed; $RERUN reruns"

# ---- 2. crash points: SIGKILL just before / just after each file-system call -------------------
INJ=$(fault_shim)
POINTS=0
# crash_points LABEL FILE... -- ARGS: FILES are the state (compared as a whole)
crash_points() {
	local label=$1 files=() rpos=() i pos call n path want w what st act
	shift
	while [ "$1" != -- ]; do files+=("$1"); shift; done
	shift
	for i in "${!files[@]}"; do cp -p "${files[$i]}" "$T/cp-before.$i"; done
	: >"$T/flog"
	LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$FDIR ESIMCTL_FAULT_LOG=$T/flog "$ESIMCTL" -q "$@" >/dev/null 2>"$ERR" </dev/null
	st=$?
	if [ "$st" != 0 ]; then
		nok "$label: runs without a kill (exit $st)"
		return
	fi
	for i in "${!files[@]}"; do cp -p "${files[$i]}" "$T/cp-after.$i"; done
	mapfile -t lines <"$T/flog"
	# each file's last rename publishes its new state
	for i in "${!files[@]}"; do
		rpos[$i]=-1
		for pos in "${!lines[@]}"; do
			case ${lines[$pos]} in *" rename "*"/${files[$i]##*/}") rpos[$i]=$pos ;; esac
		done
		[ "${rpos[$i]}" -ge 0 ] || nok "$label: no rename of ${files[$i]##*/} seen"
	done
	for pos in "${!lines[@]}"; do
		read -r _ call n path <<<"${lines[$pos]}"
		for act in kill killafter; do
			for i in "${!files[@]}"; do cp -p "$T/cp-before.$i" "${files[$i]}"; done
			find "$FDIR" -name '*.tmp.*' -delete
			LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$FDIR ESIMCTL_FAULT=$call:$act:$n \
				"$ESIMCTL" -q "$@" >/dev/null 2>"$ERR" </dev/null
			st=$?
			POINTS=$((POINTS + 1))
			what=""
			want=""
			[ "$st" = 137 ] || what="exit $st, not killed"
			for i in "${!files[@]}"; do
				if [ "$pos" -gt "${rpos[$i]}" ] || { [ "$pos" = "${rpos[$i]}" ] && [ $act = killafter ]; }; then
					w=after
				else
					w=before
				fi
				want="$want ${files[$i]##*/}=$w"
				jq -e . "${files[$i]}" >/dev/null 2>&1 || what="${what:+$what; }${files[$i]##*/} does not parse"
				cmp -s "${files[$i]}" "$T/cp-$w.$i" || what="${what:+$what; }${files[$i]##*/} is not the state $w"
			done
			lock_free || what="${what:+$what; }store lock held"
			if [ -z "$what" ] && cmp -s "$ESIMCTL_STORE" "$T/cp-before.$((${#files[@]} - 1))"; then
				# finish the job: the command again, at once
				"$ESIMCTL" -q --wait-lock 0 "$@" >/dev/null 2>"$ERR" </dev/null
				st=$?
				[ "$st" = 0 ] || what="run again: exit $st: $(head -1 "$ERR")"
				find "$FDIR" -name '*.tmp.*' | grep -q . && what="run again: temporary file not removed"
			fi
			if [ -z "$what" ]; then
				ok "$label: SIGKILL $([ $act = kill ] && echo before || echo after) $call #$n (${path##*/}):$want, next run ok"
			else
				nok "$label: SIGKILL $([ $act = kill ] && echo before || echo after) $call #$n (${path##*/}): $what"
			fi
		done
	done
}
if sanitized; then
	# not a skip: the sanitizer build cannot take the shim; the gcc build runs this part
	echo "# no crash points in this build: esimctl is built with a sanitizer, which intercepts the same calls"
elif [ -z "$INJ" ] || [ ! -f "$INJ" ]; then
	nok "the fault injection shim libesimctl_inject.so is not built (ESIMCTL_INJECT)"
elif [ -n "${ESIMCTL_VALGRIND:-}" ]; then
	echo "# skipped the crash points under ESIMCTL_VALGRIND"
else
	mkdir -p "$T/cp"
	export ESIMCTL_STORE=$T/cp/store.json
	LOCK=$ESIMCTL_STORE.lock
	FDIR=$T/cp
	run 0 esimctl device add phone --kind phone
	run 0 esimctl device add tab --kind tablet
	run 0 esimctl add 'LPA:1$rsp.example.com$CP-1' --carrier T-Mobile --device phone --nickname cp
	crash_points "transfer" "$ESIMCTL_STORE" -- transfer cp --to tab
	crash_points "device add" "$ESIMCTL_STORE" -- device add watch --kind watch
	if "/usr/bin/python3" -c 'import cryptography' 2>/dev/null; then
		# A software eUICC with one profile on it (written into its state file, so no
		# SM-DP+ is needed): a nickname commits the card, then the store.
		PKI=$T/pki
		if /usr/bin/python3 "$ESIMCTL_SRC/tests/smdp/mkpki.py" "$PKI" --curve nist >"$T/mkpki.log" 2>&1; then
			m() { echo "$PKI/$(jq -r ".$1.$2" "$PKI/manifest.json")"; }
			run 0 esimctl euicc create-soft "$T/cp/card.json" --eid "$(jq -r .euicc.eid "$PKI/manifest.json")" \
				--cert "$(m euicc cert_der)" --key "$(m euicc key_pem)" --eum "$(m eum cert_der)" --ci "$(m ci cert_pem)"
			jq '.profiles = [{"iccid": "8949449999999990023", "isdp_aid": "A0000005591010FFFFFFFF8900001000",
				"state": "disabled", "service_provider_name": "Test Operator", "profile_name": "Test Profile",
				"class": "operational", "notification_config": []}]' "$T/cp/card.json" >"$T/card.tmp" &&
				cat "$T/card.tmp" >"$T/cp/card.json"
			run 0 esimctl device add card --kind phone --euicc "soft:$T/cp/card.json"
			run 0 esimctl euicc nickname 8949449999999990023 before --device card
			crash_points "euicc nickname (card, then store)" "$T/cp/card.json" "$ESIMCTL_STORE" -- \
				euicc nickname 8949449999999990023 after --device card
		else
			nok "mkpki.py failed: $(tail -1 "$T/mkpki.log")"
		fi
	else
		skip_part "the eUICC crash points: /usr/bin/python3 with python3-cryptography not found"
	fi
	echo "# crash points: $POINTS runs killed at a chosen call"
	export ESIMCTL_STORE=$T/s/store.json
	LOCK=$ESIMCTL_STORE.lock
fi

# ---- 3. stop the world ----------------------------------------------------------------------
# Every wait below lasts until its condition holds (at most 120 s: only a wedged process
# takes that long).
AWAIT=120
lock_ino "$LOCK"
# A writer killed while it waits for the lock leaves nothing behind.
cp -p "$ESIMCTL_STORE" "$T/before.json"
# the holder is the process that has the lock open (flock(1) would leave its child holding
# it); it holds the lock until it is killed
bash -c 'exec 9<>"$1" && flock 9 && exec sleep 600' _ "$LOCK" &
holder=$!
PIDS=("$holder")
check "an outside process holds the lock" await "$AWAIT" flock_held
"$ESIMCTL" -q --wait-lock 600 device add waiter --kind phone >/dev/null 2>&1 &
waiter=$!
PIDS+=("$waiter")
# waiting: it runs esimctl and has the lock file open, which the holder keeps locked
check "the waiter is waiting for the lock" await "$AWAIT" has_open "$waiter" "$LOCK"
proc_stat "$waiter"
check "the waiter is esimctl, still running ($PCOMM, state $PSTATE)" [ "$PCOMM" = "$ECOMM" -a "$PSTATE" != Z -a "$PSTATE" != gone ]
kill -9 "$waiter"
wait "$waiter" 2>/dev/null
check "the waiter was killed (exit $?)" [ $? = 137 ]
kill "$holder"
wait "$holder" 2>/dev/null
PIDS=()
check "killed while waiting for the lock: store unchanged" cmp -s "$ESIMCTL_STORE" "$T/before.json"
check "killed while waiting for the lock: lock free" lock_free
check "killed while waiting for the lock: no temporary file" [ "$(temps)" = 0 ]
run 0 esimctl --wait-lock 0 device add waiter --kind phone

# Writers frozen (SIGSTOP) while they hold the lock, inside their commit: the store stays
# whole, other writers get exit 4 naming the store, readers are not blocked; killed, a
# writer leaves a state that the next writer uses at once.  A writer is frozen a random
# 0-5 ms after /proc/locks shows its lock (the 2.3 MB store makes the commit long); when
# it let the lock go first, that try does not count and another one starts, until 3 were
# frozen holding the lock (at most 100 tries).  Then one exactly between the write of the
# temporary file and the rename (fault shim).
STOPS=0 TRIES=0 MISSED=0
# frozen LABEL PID: the checks while PID is stopped, then SIGKILL and the checks after
frozen() {
	local label=$1 pid=$2 name=$3
	check "$label: the store parses" store_parses "$ESIMCTL_STORE"
	run 4 esimctl --wait-lock 0.2 device add other --kind phone
	err_has "store '$ESIMCTL_STORE' is locked by another esimctl (waited 0.2 s)"
	run 0 esimctl --wait-lock 0 list
	kill -9 "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	PIDS=()
	check "$label, then killed: lock free" lock_free
	check "$label, then killed: store whole" store_parses "$ESIMCTL_STORE"
	if jq -e --arg n "$name" 'any(.devices[]; .name == $n)' "$ESIMCTL_STORE" >/dev/null; then
		check "$label finished its commit before the kill: no temporary file" [ "$(temps)" = 0 ]
	else
		check "$label killed before its commit: store unchanged" cmp -s "$ESIMCTL_STORE" "$T/before.json"
		run 0 esimctl --wait-lock 0 device add "$name" --kind phone
		check "$label: the next writer removed any temporary file" [ "$(temps)" = 0 ]
	fi
}
while [ "$STOPS" -lt 3 ] && [ "$TRIES" -lt 100 ]; do
	TRIES=$((TRIES + 1))
	cp -p "$ESIMCTL_STORE" "$T/before.json"
	"$ESIMCTL" -q --wait-lock 0 device add "frozen$TRIES" --kind phone >/dev/null 2>&1 &
	pid=$!
	PIDS=("$pid")
	if freeze_holding "$pid" 5000; then
		STOPS=$((STOPS + 1))
		frozen "frozen writer $TRIES" "$pid" "frozen$TRIES"
	else
		MISSED=$((MISSED + 1))
		kill -CONT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		st=$?
		PIDS=()
		# let the lock go before the freeze: it finished (or failed) on its own
		check "writer $TRIES (done before the freeze): exit $st, store whole" \
			sh -c "[ $st = 0 ] && jq -e '.schema == 1' '$ESIMCTL_STORE' >/dev/null"
	fi
done
check "3 writers frozen while holding the lock ($STOPS in $TRIES tries; $MISSED let it go first)" [ "$STOPS" -ge 3 ]
if [ -f "${INJ:-}" ] && ! sanitized && [ -z "${ESIMCTL_VALGRIND:-}" ]; then
	cp -p "$ESIMCTL_STORE" "$T/before.json"
	LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$T/s ESIMCTL_FAULT=rename:stop:1 \
		"$ESIMCTL" -q --wait-lock 0 device add frozen-commit --kind phone >/dev/null 2>&1 &
	pid=$!
	PIDS=("$pid")
	check "writer stopped by the shim before its rename" await "$AWAIT" is_stopped "$pid"
	check "writer stopped between its temporary file and the rename" [ "$(temps)" = 1 ]
	STOPS=$((STOPS + 1))
	frozen "writer frozen before its rename" "$pid" frozen-commit
fi
echo "# figures: $STEP commands killed at random ($KILLED during the run), $POINTS crash points, $STOPS frozen writers"
finish
