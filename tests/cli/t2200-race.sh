#!/usr/bin/env bash
# t2200-race.sh - parallel writers lose nothing, corrupt nothing and never deadlock; a lock
# held too long gives exit 4 naming the store.
#
# 8 processes each run 100 store-changing commands on one store, as fast as they can:
# 33 rounds of add (onto device aN), transfer (to bN), release (from aN), then one more
# add without a device.  Meanwhile a reader lists the store in a loop.  Afterwards the
# store must hold exactly what the 800 operations imply: 272 profiles, 272 adds, 264
# transfers and 264 releases in the history, each profile's operations in order, 528
# bindings of which 264 are live (one per transferred profile, on its bN).  Every command
# must succeed with nothing on stderr, every read must parse, and the race must keep
# moving: a deadlock shows as no operation finishing for ESIMCTL_RACE_STALL seconds
# (default 300; a loaded machine makes the race slower, never still for minutes).
# Durations are reported, never checked from above.
#
# ESIMCTL_RACE_PROCS / ESIMCTL_RACE_ROUNDS change the shape (defaults 8 and 33).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc-lib.sh"

PROCS=${ESIMCTL_RACE_PROCS:-8}
ROUNDS=${ESIMCTL_RACE_ROUNDS:-33}
STALL=${ESIMCTL_RACE_STALL:-300}    # seconds without a finished operation: a deadlock
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
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

export ESIMCTL_STORE=$T/race/store.json
store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
now_ms() { now_us; NOW_MS=$((NOW_US / 1000)); }

for ((i = 1; i <= PROCS; i++)); do
	if "$ESIMCTL" -q device add "a$i" --kind phone >/dev/null && "$ESIMCTL" -q device add "b$i" --kind tablet >/dev/null; then
		:
	else
		nok "setup of devices a$i, b$i"
	fi
done

# worker I: its 3 * ROUNDS + 1 operations; one line per operation in $T/ops.I
# ("op status milliseconds"), stderr in $T/err.I
worker() {
	local i=$1 k t0 st
	# timed OP ARGS...: one esimctl run (a hang shows up as exit 124, or as no progress)
	timed() {
		local op=$1
		shift
		now_ms
		t0=$NOW_MS
		timeout -k 5 3600 "$ESIMCTL" -q --wait-lock 3600 "$@" >/dev/null 2>>"$T/err.$i" </dev/null
		st=$?
		now_ms
		echo "$op $st $((NOW_MS - t0))" >>"$T/ops.$i"
	}
	for ((k = 1; k <= ROUNDS; k++)); do
		timed add add "LPA:1\$rsp.example.com\$RACE-$i-$k" --carrier T-Mobile --device "a$i" --nickname "r$i-$k"
		timed transfer transfer "r$i-$k" --to "b$i"
		timed release release "r$i-$k" --device "a$i"
	done
	timed add add "LPA:1\$rsp.example.com\$RACE-$i-last" --carrier T-Mobile
}

# the reader: list --json until told to stop; one line per read ("status valid-json")
reader() {
	local st
	while [ ! -e "$T/stop" ]; do
		"$ESIMCTL" --json list >"$T/read.json" 2>>"$T/read.err" </dev/null
		st=$?
		if jq -e '.ok == true and (.profiles | type) == "array"' "$T/read.json" >/dev/null 2>&1; then
			echo "$st 1" >>"$T/reads"
		else
			echo "$st 0" >>"$T/reads"
		fi
	done
}

: >"$T/reads"
reader &
rpid=$!
PIDS=("$rpid")
now_ms
t0=$NOW_MS
for ((i = 1; i <= PROCS; i++)); do
	: >"$T/ops.$i"
	: >"$T/err.$i"
	worker "$i" &
	PIDS+=("$!")
done
# wait for the workers while operations keep finishing; STALL seconds without one: a deadlock
done_ops=0 last_progress=$SECONDS longest_still=0
for p in "${PIDS[@]:1}"; do
	while kill -0 "$p" 2>/dev/null && [ $((SECONDS - last_progress)) -lt "$STALL" ]; do
		usleep 200000
		n=$(cat "$T"/ops.* | wc -l)
		if [ "$n" != "$done_ops" ]; then
			[ $((SECONDS - last_progress)) -gt "$longest_still" ] && longest_still=$((SECONDS - last_progress))
			done_ops=$n last_progress=$SECONDS
		fi
	done
done
now_ms
t1=$NOW_MS
hung=0
for p in "${PIDS[@]:1}"; do
	if kill -0 "$p" 2>/dev/null; then
		hung=1
		kill -9 "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
done
touch "$T/stop"
wait "$rpid" 2>/dev/null
PIDS=()

OPS=$((PROCS * (3 * ROUNDS + 1)))
cat "$T"/ops.* >"$T/all-ops"
check "no deadlock: $PROCS x $((3 * ROUNDS + 1)) operations finished, never $STALL s without progress (longest still: ${longest_still} s)" [ "$hung" = 0 ]
check "all $OPS operations ran ($(grep -c . "$T/all-ops"))" [ "$(grep -c . "$T/all-ops")" = "$OPS" ]
check "every operation exited 0" [ "$(awk '$2 != 0' "$T/all-ops" | wc -l)" = 0 ]
awk '$2 != 0 { print "#   " $0 }' "$T/all-ops" | head -5
check "no operation wrote to stderr" [ -z "$(cat "$T"/err.*)" ]
cat "$T"/err.* | head -5 | sed 's/^/#   /'
check "the store parses" jq -e '.schema == 1' "$ESIMCTL_STORE" >/dev/null
run 0 esimctl --wait-lock 0 --json list
one_json

# nothing lost: the history and the bindings are exactly what the operations imply
adds=$((PROCS * (ROUNDS + 1)))
moves=$((PROCS * ROUNDS))
check "$adds profiles" [ "$(store_jq '.profiles | length')" = "$adds" ]
check "history: $adds adds, $moves transfers, $moves releases, $((2 * PROCS)) device adds" \
	[ "$(store_jq '[.history[].op] | group_by(.) | map({(.[0]): length}) | add')" = \
	  "{\"add\":$adds,\"device-add\":$((2 * PROCS)),\"release\":$moves,\"transfer\":$moves}" ]
check "$((2 * moves)) bindings, $moves live" \
	[ "$(store_jq '[(.bindings | length), ([.bindings[] | select(.state != "released")] | length)]')" = "[$((2 * moves)),$moves]" ]
check "every device bN holds its $ROUNDS profiles, no aN holds any" \
	[ "$(store_jq '[.bindings[] | select(.state != "released") | .device] | group_by(.) | map([.[0], length])')" = \
	  "$(for ((i = 1; i <= PROCS; i++)); do printf '["b%s",%s]\n' "$i" "$ROUNDS"; done | sort | jq -sc .)" ]
check "each worker's profiles: add, then transfer, then release, in history order" \
	[ "$(store_jq '[.history[] | select(.op != "device-add")] | group_by(.profile)
		| map(map(.op)) | map(select(. != ["add","transfer","release"] and . != ["add"])) | length')" = 0 ]
check "each profile is known by its nickname" \
	[ "$(store_jq '[.profiles[].nickname | select(. != null)] | length')" = "$((PROCS * ROUNDS))" ]
check "no temporary file left" [ -z "$(find "$T/race" -name 'store.json.tmp.*')" ]
reads=$(grep -c . "$T/reads")
check "the reader read the store while it changed ($reads reads), every read parsed" \
	[ "$reads" -ge 1 -a "$(grep -c ' 1$' "$T/reads")" = "$reads" ]
check "every read exited 0" [ "$(awk '$1 != 0' "$T/reads" | wc -l)" = 0 ]
wait_max=$(sort -k3n "$T/all-ops" | tail -1 | awk '{print $3}')
avg=$(awk '{ s += $3 } END { printf "%d", s / NR }' "$T/all-ops")
echo "# figures: $OPS operations by $PROCS processes in $(((t1 - t0) / 1000)) s; per operation: mean $avg ms, max $wait_max ms (lock wait included); $reads concurrent reads"

# ---- a lock held too long: exit 4, naming the store, within the bound ------------------------
LOCK=$ESIMCTL_STORE.lock
cp -p "$ESIMCTL_STORE" "$T/before.json"
bash -c 'exec 9<>"$1" && flock 9 && exec sleep 600' _ "$LOCK" &
holder=$!
PIDS=("$holder")
lock_ino "$LOCK"
check "an outside process holds the lock (flock)" await 120 flock_held
for cmd in "add LPA:1\$rsp.example.com\$HELD-1 --carrier T-Mobile" "transfer r1-1 --to a1" "release r1-2 --device b1" \
	"device add late --kind phone"; do
	now_ms
	t0=$NOW_MS
	# shellcheck disable=SC2086
	run 4 esimctl --wait-lock 0.3 $cmd
	now_ms
	t1=$NOW_MS
	err_has "store '$ESIMCTL_STORE' is locked by another esimctl (waited 0.3 s)"
	check "waited at least 0.3 s before giving up ($((t1 - t0)) ms)" [ $((t1 - t0)) -ge 280 ]
done
run 4 esimctl --json --wait-lock 0 release r1-3 --device b1
json_eq '.error | [.status, .name]' '[4,"store_busy"]'
json_eq '.error.message' "\"store '$ESIMCTL_STORE' is locked by another esimctl (waited 0 s)\""
run 0 esimctl --wait-lock 0 list
check "the busy runs changed nothing" cmp -s "$ESIMCTL_STORE" "$T/before.json"
kill "$holder"
wait "$holder" 2>/dev/null
PIDS=()
run 0 esimctl --wait-lock 0 device add late --kind phone
finish
