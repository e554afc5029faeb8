#!/usr/bin/env bash
# The store: where it lives, modes, corrupt and future-schema files (exit 3, untouched),
# a busy lock (exit 4), parallel writers losing nothing, kill -9 never blocking later runs.
#
# No check depends on the machine's speed: waits last until their condition holds (bounded
# by AWAIT seconds, which only a wedged process reaches); durations are reported, and only
# bounded from below (a lower bound holds on any machine).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proc-lib.sh"

AWAIT=120
store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
now_ms() { now_us; NOW_MS=$((NOW_US / 1000)); }

# --- where the store is -----------------------------------------------------------------------
run 0 esimctl device add phone --kind phone
check "ESIMCTL_STORE is used" [ -f "$ESIMCTL_STORE" ]
check "store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]
check "lock file is 0600" [ "$(mode_of "$ESIMCTL_STORE.lock")" = 600 ]
run 0 esimctl --store "$T/a/b/explicit.json" device add x --kind phone
check "--store wins over ESIMCTL_STORE" [ -f "$T/a/b/explicit.json" ]
check "created directories are 0700" [ "$(mode_of "$T/a")$(mode_of "$T/a/b")" = 700700 ]
check "explicit store is 0600" [ "$(mode_of "$T/a/b/explicit.json")" = 600 ]
run 0 esimctl list --store="$T/a/b/explicit.json" --json
json_eq '[.devices[].name]' '["x"]'
ESIMCTL_STORE='' XDG_DATA_HOME="$T/xdg" run 0 esimctl device add y --kind phone
check "XDG_DATA_HOME/esimctl/store.json" [ -f "$T/xdg/esimctl/store.json" ]
check "XDG store directory is 0700" [ "$(mode_of "$T/xdg/esimctl")" = 700 ]
ESIMCTL_STORE='' XDG_DATA_HOME='' run 0 esimctl device add z --kind phone
check "HOME/.local/share/esimctl/store.json" [ -f "$HOME/.local/share/esimctl/store.json" ]
check "default store directory is 0700" [ "$(mode_of "$HOME/.local/share/esimctl")" = 700 ]
# a relative XDG_DATA_HOME is ignored (XDG base directory spec)
ESIMCTL_STORE='' XDG_DATA_HOME=relative run 0 esimctl --json device list
json_eq '[.devices[].name]' '["z"]'
check "no relative store created" [ ! -e relative ]
run 2 esimctl --store '' list
err_has 'esimctl: --store needs a path'
run 2 esimctl list --store
err_has "option '--store' needs a value"
# a writer replaces the file: a store made group-readable by hand is 0600 again
chmod 644 "$ESIMCTL_STORE"
run 0 esimctl device add tab --kind tablet
check "rewritten store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]

# --- corrupt stores: exit 3 naming the file and the position; never modified ------------------------
refused_untouched() { # STATUS what: run every kind of command, the file must not change
	local want=$1
	cp "$ESIMCTL_STORE" "$T/corrupt-copy"
	run "$want" esimctl list
	run "$want" esimctl device add new --kind phone
	run "$want" esimctl add 'LPA:1$rsp.example.com$NEW-1' --carrier Verizon
	run "$want" esimctl transfer x --to phone
	run "$want" esimctl transfer x --to phone --dry-run
	run "$want" esimctl release --device phone --all
	run "$want" esimctl qr x
	run "$want" esimctl device remove phone
	check "$2: store left byte-identical" cmp -s "$ESIMCTL_STORE" "$T/corrupt-copy"
}
printf '{"schema": 1,\n  "devices": [,]\n}\n' >"$ESIMCTL_STORE"
refused_untouched 3 "syntax error"
run 3 esimctl list
err_has "esimctl: list: store '$ESIMCTL_STORE' is not valid JSON at line 2, column 15"
err_has 'hint: restore the store from a backup or repair it by hand; it was not modified'
out_empty
run 3 esimctl --json list
one_json
json_eq '.error | [.status, .name]' '[3,"store_corrupt"]'
json_eq '.error.message' "\"store '$ESIMCTL_STORE' is not valid JSON at line 2, column 15\""
printf '{"schema":1,"devices":[]}\ntrailing' >"$ESIMCTL_STORE"
run 3 esimctl list
err_has 'is not valid JSON at line 2, column 1'
: >"$ESIMCTL_STORE"
run 3 esimctl list
err_has "store '$ESIMCTL_STORE' is not valid JSON at line 1, column 1"
# valid JSON, invalid store: the JSON path of the problem
printf '{"schema":1,"profiles":[{"id":"0bebd4b3","plan":"voice+data"}]}' >"$ESIMCTL_STORE"
refused_untouched 3 "missing field"
run 3 esimctl list
err_has "store '$ESIMCTL_STORE': profiles[0].carrier: missing"
printf '{"schema":1,"devices":[{"name":"a","kind":"toaster"}]}' >"$ESIMCTL_STORE"
run 3 esimctl list
err_has "store '$ESIMCTL_STORE': devices[0].kind: unknown kind 'toaster'"
printf '{"schema":"1"}' >"$ESIMCTL_STORE"
run 3 esimctl list
err_has 'schema: expected an integer, found a string'
# a store from a newer esimctl
printf '{"schema":2,"devices":[],"profiles":[],"bindings":[],"history":[],"future":{}}\n' >"$ESIMCTL_STORE"
refused_untouched 3 "schema 2"
run 3 esimctl device add new --kind phone
err_has "esimctl: device add: store '$ESIMCTL_STORE' has schema 2; this esimctl understands schema 1"
err_has 'hint: upgrade esimctl to use this store; it was not modified'
# not a regular file / a symbolic link: refused, not followed (status 1: not corrupt;
# t0920-store-errors.sh has the other access problems)
rm -f "$ESIMCTL_STORE"
mkdir "$ESIMCTL_STORE"
run 1 esimctl list
err_has "store '$ESIMCTL_STORE' is a directory, not a regular file"
rmdir "$ESIMCTL_STORE"
printf '{"schema":1}' >"$T/real.json"
ln -s "$T/real.json" "$ESIMCTL_STORE"
run 1 esimctl list
err_has "is a symbolic link (to '$T/real.json'), which esimctl does not follow"
run 1 esimctl device add new --kind phone
check "symlink target untouched" [ "$(cat "$T/real.json")" = '{"schema":1}' ]
rm -f "$ESIMCTL_STORE"
# "{"schema":1}" alone is a valid empty store
printf '{"schema":1}' >"$ESIMCTL_STORE"
run 0 esimctl --json list
json_eq '[.profiles, .devices]' '[[],[]]'

# --- a busy store: exit 4 after --wait-lock, naming the store --------------------------------------
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tab --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$TM-1' --carrier T-Mobile --device phone --nickname tm
cp "$ESIMCTL_STORE" "$T/before-busy"
# the holder keeps the lock until it is killed (flock(1) would leave its child holding it)
bash -c 'exec 9<>"$1" && flock 9 && exec sleep 600' _ "$ESIMCTL_STORE.lock" &
holder=$!
trap 'kill "$holder" 2>/dev/null; rm -rf "$T"' EXIT
lock_ino "$ESIMCTL_STORE.lock"
check "lock holder started" await "$AWAIT" flock_held
now_ms
t0=$NOW_MS
run 4 esimctl device add new --kind phone --wait-lock 0.5
now_ms
t1=$NOW_MS
err_has "esimctl: device add: store '$ESIMCTL_STORE' is locked by another esimctl (waited 0.5 s)"
err_has 'hint: --wait-lock SECONDS to wait longer'
check "waited at least 0.5 s before giving up ($((t1 - t0)) ms)" [ $((t1 - t0)) -ge 450 ]
run 4 esimctl --wait-lock 0 --json transfer tm --to tab
one_json
json_eq '.error | [.status, .name]' '[4,"store_busy"]'
json_eq '.error.message' "\"store '$ESIMCTL_STORE' is locked by another esimctl (waited 0 s)\""
run 4 esimctl --wait-lock=0.2 add 'LPA:1$rsp.example.com$NEW-1' --carrier Verizon
run 4 esimctl release tm --wait-lock 0.2
# readers are never blocked
run 0 esimctl list --wait-lock 0
run 0 esimctl transfer tm --to tab --dry-run --wait-lock 0
run 0 esimctl qr tm --wait-lock 0
check "busy runs changed nothing" cmp -s "$ESIMCTL_STORE" "$T/before-busy"
# waiting long enough succeeds once the holder is gone: a writer waits, the holder goes
"$ESIMCTL" --wait-lock 600 transfer tm --to tab >"$OUT" 2>"$ERR" </dev/null &
waiter=$!
check "a writer waits for the lock" await "$AWAIT" has_open "$waiter" "$ESIMCTL_STORE.lock"
check "the writer is still waiting" sh -c "kill -0 $waiter && cmp -s '$ESIMCTL_STORE' '$T/before-busy'"
kill "$holder"
wait "$holder" 2>/dev/null
wait "$waiter"
check "the waiting writer succeeded once the holder was gone (exit $?)" [ $? = 0 ]
out_has "add 'tab' as another active device"
check "the transfer is in the store" [ "$(store_jq '[.bindings[] | select(.state != "released") | .device] | sort')" = '["phone","tab"]' ]
run 2 esimctl --wait-lock abc list
err_has "--wait-lock 'abc': expected seconds between 0 and 86400"
run 2 esimctl --wait-lock -1 list
run 2 esimctl --wait-lock 86401 list

# --- parallel writers: 8 processes x 25 transfers + 25 releases, nothing lost ----------------------
export ESIMCTL_STORE="$T/par/store.json"
for i in 1 2 3 4 5 6 7 8; do
	if "$ESIMCTL" -q device add "a$i" --kind phone >/dev/null &&
		"$ESIMCTL" -q device add "b$i" --kind tablet >/dev/null &&
		"$ESIMCTL" -q add "LPA:1\$rsp.example.com\$PAR-$i" --carrier T-Mobile --device "a$i" --nickname "p$i" >/dev/null; then
		ok "parallel setup $i"
	else
		nok "parallel setup $i"
	fi
done
: >"$T/par-failures"
: >"$T/par-stderr"
for i in 1 2 3 4 5 6 7 8; do
	(
		src=a$i dst=b$i
		for k in $(seq 25); do
			"$ESIMCTL" -q --wait-lock 3600 transfer "p$i" --to "$dst" >/dev/null 2>>"$T/par-stderr" ||
				echo "transfer p$i #$k: exit $?" >>"$T/par-failures"
			"$ESIMCTL" -q --wait-lock 3600 release "p$i" --device "$src" >/dev/null 2>>"$T/par-stderr" ||
				echo "release p$i #$k: exit $?" >>"$T/par-failures"
			t=$src src=$dst dst=$t
		done
	) &
done
wait
check "every parallel command succeeded" [ ! -s "$T/par-failures" ]
check "no parallel command wrote to stderr" [ ! -s "$T/par-stderr" ]
cat "$T/par-failures" "$T/par-stderr" | head -10 | sed 's/^/#   /'
check "store is valid JSON after parallel writers" jq -e '.schema == 1' "$ESIMCTL_STORE" >/dev/null
check "200 transfers in history" [ "$(store_jq '[.history[] | select(.op == "transfer")] | length')" = 200 ]
check "200 releases in history" [ "$(store_jq '[.history[] | select(.op == "release")] | length')" = 200 ]
check "8 adds and 16 devices in history" \
	[ "$(store_jq '[([.history[] | select(.op == "add")] | length), ([.history[] | select(.op == "device-add")] | length)]')" = '[8,16]' ]
check "each process's transfers all recorded" \
	[ "$(store_jq '[.history[] | select(.op == "transfer")] | group_by(.profile) | map(length) | unique')" = '[25]' ]
# 25 moves (odd): every profile ends on its b device, with exactly one live binding
check "each profile ends on b" \
	[ "$(store_jq '[.bindings[] | select(.state != "released") | .device] | sort')" = '["b1","b2","b3","b4","b5","b6","b7","b8"]' ]
check "8 placements + 200 transfers = 208 bindings" [ "$(store_jq '.bindings | length')" = 208 ]
check "no temporary files left" [ -z "$(find "$T/par" -name 'store.json.tmp.*')" ]
run 0 esimctl --json list
json_eq '[.profiles[].bindings | length] | unique' '[1]'
# parallel adds: 8 x 10 distinct profiles, none lost
for i in 1 2 3 4 5 6 7 8; do
	(
		for k in $(seq 10); do
			"$ESIMCTL" -q --wait-lock 3600 add "LPA:1\$rsp.example.com\$ADD-$i-$k" --carrier Verizon >/dev/null 2>>"$T/par-stderr" ||
				echo "add $i-$k: exit $?" >>"$T/par-failures"
		done
	) &
done
wait
check "every parallel add succeeded" [ ! -s "$T/par-failures" ]
check "no parallel add wrote to stderr" [ ! -s "$T/par-stderr" ]
check "88 profiles" [ "$(store_jq '.profiles | length')" = 88 ]

# --- kill -9 of a running esimctl never blocks later runs --------------------------------------------
export ESIMCTL_STORE="$T/kill/store.json"
run 0 esimctl device add phone --kind phone
# a big store makes every run hold the lock for a while
jq -c '.history += [range(150000) | {"time":"2026-11-21T10:00:00Z","op":"device-add","to":"phone","outcome":"ok"}]' \
	"$ESIMCTL_STORE" >"$T/big.json"
cp "$T/big.json" "$ESIMCTL_STORE"
lock_ino "$ESIMCTL_STORE.lock"
# Each run is frozen (SIGSTOP) once /proc/locks shows its lock, then killed while frozen,
# so the kill certainly lands while it holds the lock; a run that let the lock go before
# the freeze does not count.  Until 5 kills landed (at most 100 runs).
killed=0 tries=0
while [ "$killed" -lt 5 ] && [ "$tries" -lt 100 ]; do
	tries=$((tries + 1))
	"$ESIMCTL" -q --wait-lock 600 device add "k$tries" --kind phone >/dev/null 2>&1 &
	pid=$!
	if freeze_holding "$pid" 20000; then
		kill -9 "$pid"
		killed=$((killed + 1))
	fi
	kill -CONT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
check "5 runs killed while holding the lock ($killed in $tries runs)" [ "$killed" = 5 ]
# leftovers a killed writer might leave: a temp file (the next writer removes it)
printf 'partial' >"$ESIMCTL_STORE.tmp.AbC123"
printf 'keep' >"$ESIMCTL_STORE.tmp.notmine"
now_ms
t0=$NOW_MS
# --wait-lock 0: exit 0 proves the lock was free at once
run 0 esimctl --wait-lock 0 device add after --kind phone
now_ms
t1=$NOW_MS
echo "# the first run after the kills took $((t1 - t0)) ms"
check "store valid after kill -9" jq -e '.schema == 1' "$ESIMCTL_STORE" >/dev/null
check "devices after kill -9" [ "$(store_jq '[.devices[].name] | (index("phone") != null) and (index("after") != null)')" = true ]
check "stale temp file removed by the next writer" [ ! -e "$ESIMCTL_STORE.tmp.AbC123" ]
check "other files left alone" [ -e "$ESIMCTL_STORE.tmp.notmine" ]
run 0 esimctl --wait-lock 0 --json device list
one_json
finish
