#!/usr/bin/env bash
# transfer: the three carrier models, cooldown edges, --dry-run, --at, warnings, references.
. "$(dirname "$0")/lib.sh"

# dry_and_real STATUS PROFILE ARGS...: the dry run exits like the real run and changes nothing
dry_and_real() {
	local want=$1
	shift
	cp "$ESIMCTL_STORE" "$T/before"
	run "$want" esimctl transfer "$@" --dry-run
	check "dry-run leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"
	cp "$OUT" "$T/dry.out"
	run "$want" esimctl transfer "$@"
	if [ "$want" != 0 ]; then
		check "refused transfer leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"
	fi
}
store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
# live bindings of a profile as "device:state" from the store file
bindings_of() { store_jq "[.bindings[] | select((.profile | startswith(\"$1\")) and .state != \"released\") | \"\(.device):\(.state)\"]"; }

ID_TM=0d34e856     # LPA:1$rsp.example.com$TM-HOME-1
ID_QR=56e0c4f1     # LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7

run 0 esimctl device add phone --kind phone --primary
for d in p2 p3 p4 p5 p6; do run 0 esimctl device add $d --kind phone; done
run 0 esimctl device add tablet --kind tablet
run 0 esimctl device add laptop --kind laptop

# --- usage and lookups ----------------------------------------------------------------------
run 2 esimctl transfer --to phone
err_has 'esimctl: transfer: missing the PROFILE to transfer'
err_has "hint: run 'esimctl help transfer'"
run 2 esimctl transfer x
err_has '--to DEVICE is required'
run 2 esimctl transfer x y --to phone
err_has "unexpected argument 'y'"
run 2 esimctl transfer x --to phone --bogus
err_has "unknown option '--bogus'"
run 2 esimctl transfer x --to
err_has "option '--to' needs a value"
run 5 esimctl transfer nosuch --to phone
err_has "esimctl: transfer: no profile matches 'nosuch'"
err_has "hint: run 'esimctl list' to see profiles"
out_empty
run 5 esimctl transfer nosuch --to phone --dry-run

# --- concurrent: T-Mobile, 5 devices at once ---------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$TM-HOME-1' --carrier T-Mobile --device phone --nickname home
run 5 esimctl transfer home --to nosuch
err_has "no device named 'nosuch'"
run 5 esimctl transfer home --to p2 --from nosuch
err_has "no device named 'nosuch'"
run 5 esimctl transfer home --to p3 --from p2
err_has "profile is not on device 'p2' (it is on phone)"
dry_and_real 0 home --to p2
check "dry-run says what the real run does" grep -qF "plan: add 'p2' as another active device; phone keeps the profile (T-Mobile allows 5 devices at once, 2 in use after this)" "$T/dry.out"
out_has "add 'p2' as another active device; phone keeps the profile (T-Mobile allows 5 devices at once, 2 in use after this)"
out_lacks 'plan:'
err_empty
check "concurrent transfer adds a binding" [ "$(bindings_of $ID_TM)" = '["phone:active","p2:active"]' ]
run 0 esimctl transfer home --to p3
out_has 'phone, p2 keep the profile (T-Mobile allows 5 devices at once, 3 in use after this)'
run 0 esimctl transfer $ID_TM --to p4
run 0 esimctl transfer 0d34e8 --to p5
out_has 'phone, p2, p3, p4 keep the profile (T-Mobile allows 5 devices at once, 5 in use after this)'
# the sixth device is refused, naming the limit and the holders
dry_and_real 6 home --to p6
err_has 'esimctl: transfer: T-Mobile allows 5 devices at once; profile is already on phone, p2, p3, p4, p5'
err_has 'hint: move it from one of those devices with --from DEVICE, or release it from one of them first'
out_empty
run 6 esimctl --json transfer home --to p6 --dry-run
one_json
json_eq '.ok' false
json_eq '.dry_run' true
json_eq '.error | [.status, .name]' '[6,"policy_denied"]'
json_eq '.error.message' '"T-Mobile allows 5 devices at once; profile is already on phone, p2, p3, p4, p5"'
json_eq '.error.hint' '"move it from one of those devices with --from DEVICE, or release it from one of them first"'
json_eq '.plan.action' '"refuse"'
json_eq '.plan.model' '"concurrent"'
json_eq '.plan.reason' '"T-Mobile allows 5 devices at once; profile is already on phone, p2, p3, p4, p5"'
err_has 'T-Mobile allows 5 devices at once'
# already there: nothing to do, exit 0, nothing written
cp "$ESIMCTL_STORE" "$T/before"
run 0 esimctl transfer home --to p5
out_has "already on 'p5'"
check "a no-op transfer leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"
run 0 esimctl --json transfer home --to p5
json_eq '.plan.action' '"none"'
# after a release the sixth fits
run 0 esimctl release home --device p3
dry_and_real 0 home --to p6
check "five holders again" [ "$(bindings_of $ID_TM)" = '["phone:active","p2:active","p4:active","p5:active","p6:active"]' ]

# --- sequential: AT&T, 10-15 min, 24 h cooldown ---------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone \
	--nickname travel --iccid 8901260123456789011
dry_and_real 0 travel --to laptop
check "dry-run prints the plan" grep -qF "plan: move from 'phone' to 'laptop': 'phone' loses service now and 'laptop' should be ready in 10-15 min; expect a connectivity gap of 10-15 min; next transfer possible at 2026-11-22T10:00:00Z" "$T/dry.out"
out_has "move from 'phone' to 'laptop': 'phone' loses service now and 'laptop' should be ready in 10-15 min; expect a connectivity gap of 10-15 min; next transfer possible at 2026-11-22T10:00:00Z"
out_has '  phone: released at once'
out_has '  laptop: pending, ready between 2026-11-21T10:10:00Z and 2026-11-21T10:15:00Z'
out_has '  next transfer allowed from 2026-11-22T10:00:00Z'
# capability warning: a voice plan on a laptop; and the carrier's notes
err_has "esimctl: warning: voice and SMS will not work on laptop 'laptop'; only data"
err_has 'esimctl: warning: AT&T: support can expedite a transfer'
check "source released, target pending until the slow end" \
	[ "$(store_jq "[.bindings[] | select(.profile | startswith(\"$ID_QR\")) | [.device, .state, .ready_at]]")" = \
	  '[["phone","released",null],["laptop","pending","2026-11-21T10:15:00Z"]]' ]
check "history records the pending move" \
	[ "$(store_jq "[.history[] | select(.op == \"transfer\" and .profile[:8] == \"$ID_QR\") | [.from, .to, .outcome]]")" = \
	  '[["phone","laptop","pending"]]' ]
run 0 esimctl list
out_has 'on: laptop (pending until 2026-11-21T10:15:00Z)'
out_has 'in 1 d 0 h (2026-11-22T10:00:00Z)'
# inside the cooldown: refused with the exact earliest time
dry_and_real 6 travel --to phone
err_has 'esimctl: transfer: AT&T allows one transfer every 24 h; the next one is possible at 2026-11-22T10:00:00Z (in 1 d 0 h)'
# one second before the end: refused
ESIMCTL_NOW=2026-11-22T09:59:59Z dry_and_real 6 travel --to phone
err_has 'the next one is possible at 2026-11-22T10:00:00Z (in 1s)'
ESIMCTL_NOW=2026-11-22T09:59:59Z run 6 esimctl --json transfer travel --to phone
one_json
json_eq '.plan.earliest' '"2026-11-22T10:00:00Z"'
json_eq '.plan.action' '"refuse"'
json_eq '.dry_run' false
json_eq '.error.status' 6
ESIMCTL_NOW=2026-11-22T09:59:59Z run 6 esimctl --json transfer travel --to phone --dry-run
json_eq '.plan.earliest' '"2026-11-22T10:00:00Z"'
json_eq '.dry_run' true
# exactly at the end: allowed (and the finished move to the laptop is promoted first)
ESIMCTL_NOW=2026-11-22T10:00:00Z dry_and_real 0 travel --to phone
out_has "move from 'laptop' to 'phone'"
out_has 'next transfer allowed from 2026-11-23T10:00:00Z'
err_lacks 'voice and SMS'
check "the laptop binding became active before the move" \
	[ "$(store_jq "[.history[] | select(.op == \"ready\" and .profile[:8] == \"$ID_QR\") | [.time, .to, .outcome]]")" = \
	  '[["2026-11-21T10:15:00Z","laptop","active"]]' ]
check "travel is pending on the phone" [ "$(bindings_of $ID_QR)" = '["phone:pending"]' ]

# --- --at: evaluate the plan at another time ------------------------------------------------------
export ESIMCTL_NOW=2026-11-22T10:00:00Z
cp "$ESIMCTL_STORE" "$T/before-at"
run 6 esimctl transfer travel --to laptop --dry-run --at 2026-11-23T09:59:59Z
err_has 'the next one is possible at 2026-11-23T10:00:00Z (in 1s)'
run 0 esimctl transfer travel --to laptop --dry-run --at 2026-11-23T10:00:00Z
out_has 'plan: move from '"'phone'"' to '"'laptop'"
out_has '  laptop: pending, ready between 2026-11-23T10:10:00Z and 2026-11-23T10:15:00Z'
# an offset is converted; the plan says when it was evaluated
run 0 esimctl --json transfer travel --to laptop --dry-run --at 2026-11-23T11:00:00+01:00
one_json
json_eq '.plan.at' '"2026-11-23T10:00:00Z"'
json_eq '.plan | [.action, .from, .to]' '["move","phone","laptop"]'
json_eq '.plan | [.ready_min, .ready_max, .gap_min_s, .gap_max_s, .transfer_time_known]' \
	'["2026-11-23T10:10:00Z","2026-11-23T10:15:00Z",600,900,true]'
json_eq '.plan.cooldown_until' '"2026-11-24T10:00:00Z"'
json_eq '.plan.earliest' null
json_eq '.plan.warnings' "[\"voice and SMS will not work on laptop 'laptop'; only data\",\"AT&T: support can expedite a transfer\"]"
json_eq '.dry_run' true
json_eq '.applied' null
# a date alone is midnight UTC
run 6 esimctl --json transfer travel --to laptop --dry-run --at 2026-11-23
json_eq '.plan.at' '"2026-11-23T00:00:00Z"'
json_eq '.plan.earliest' '"2026-11-23T10:00:00Z"'
run 2 esimctl transfer travel --to laptop --at 2026-11-23T10:00:00Z
err_has '--at only evaluates a plan; add --dry-run'
run 2 esimctl transfer travel --to laptop --dry-run --at 2026-13-01T00:00:00Z
err_has "time '2026-13-01T00:00:00Z': month 13 is out of range (01-12)"
run 2 esimctl transfer travel --to laptop --dry-run --at tomorrow
err_has "time 'tomorrow'"
run 2 esimctl --json transfer travel --to laptop --dry-run --at 2026-11-23T25:00:00Z
one_json
json_eq '.error.status' 2
check "--at runs leave the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before-at"
# an invalid ESIMCTL_NOW is a usage error too
ESIMCTL_NOW=yesterday run 2 esimctl transfer travel --to laptop --dry-run
err_has "ESIMCTL_NOW: time 'yesterday'"

# --- single-device: China Mobile --------------------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$CMCC-1' --carrier 'China Mobile' --nickname cm
# the first placement is allowed and says so
dry_and_real 0 cm --to phone
out_has "place the profile on 'phone' (active); China Mobile binds it to that device for good"
err_has 'esimctl: warning: China Mobile: must be done in-country'
dry_and_real 6 cm --to tablet
err_has "esimctl: transfer: China Mobile binds a profile to the device it was first installed on; to use 'tablet', order a new profile from China Mobile (re-provisioning time: 24-48 h; must be done in-country)"
err_has 'hint: the profile itself cannot be moved; ask China Mobile for a new one'
run 6 esimctl --json transfer cm --to tablet
json_eq '.plan | [.action, .model, .earliest]' '["refuse","single-device",null]'
json_eq '.error.message | test("in-country")' true
# released from the phone, it still cannot go anywhere else (aliases resolve to the same row)
run 0 esimctl add 'LPA:1$rsp.example.com$CMCC-2' --carrier CMCC --device p2 --nickname cm2
run 0 esimctl release cm2 --device p2
dry_and_real 6 cm2 --to p3
err_has 'order a new profile from China Mobile (re-provisioning time: 24-48 h; must be done in-country)'

# --- capability warnings ------------------------------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$VODA-1' --carrier Vodafone --device phone --nickname voda
run 0 esimctl transfer voda --to tablet
err_has "esimctl: warning: voice on tablet 'tablet' may route through the primary phone"
err_has 'esimctl: warning: Vodafone: requires Red Business plan'
run 0 esimctl --quiet transfer voda --to laptop
err_empty
out_has "add 'laptop' as another active device"
# a watch without a phone in the inventory (its own store)
run 0 esimctl --store "$T/watch.json" device add w --kind watch
run 0 esimctl --store "$T/watch.json" device add l --kind laptop
run 0 esimctl --store "$T/watch.json" add 'LPA:1$rsp.example.com$VZ-1' --carrier Verizon --device l --data-only --nickname vz
err_lacks 'warning'
run 0 esimctl --store "$T/watch.json" transfer vz --to w --dry-run
err_has "esimctl: warning: watch 'w' runs in companion mode and needs a phone; none is in the inventory"
run 0 esimctl --store "$T/watch.json" --json transfer vz --to w --dry-run
json_eq '.plan.warnings' "[\"watch 'w' runs in companion mode and needs a phone; none is in the inventory\"]"
# with a phone in the inventory the watch is fine
run 0 esimctl device add w --kind watch
run 0 esimctl transfer travel --to w --dry-run --at 2026-11-24T00:00:00Z
err_lacks 'companion mode'

# --- an unknown carrier: the strictest sequential policy of the table -----------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$ACME-1' --carrier 'Acme Mobile' --device laptop --data-only --nickname acme
dry_and_real 0 acme --to tablet
out_has "move from 'laptop' to 'tablet': 'laptop' loses service now and 'tablet' should be ready in 20-30 min; expect a connectivity gap of 20-30 min; next transfer possible at 2026-11-23T10:00:00Z"
out_has '  tablet: pending, ready between 2026-11-22T10:20:00Z and 2026-11-22T10:30:00Z'
err_has "esimctl: warning: carrier 'Acme Mobile' is not in the table; assuming the strictest sequential policy in it (one device, 24 h cooldown, transfer time 20-30 min)"
err_lacks 'cooldown unknown for this carrier'
run 0 esimctl --json list --carrier 'acme mobile'
json_eq '.profiles[0] | [.carrier_known, .model]' '[false,"sequential"]'

# --- references: ICCID, id, id prefix, nickname; ambiguity lists the candidates -------------------
run 0 esimctl transfer 8901260123456789011 --to phone
out_has "already on 'phone' (transfer pending)"
run 0 esimctl transfer 56E0C4F1 --to phone
out_has "already on 'phone'"
# two ids that share their first 8 digits (7fc9e696c20d9fd9, 7fc9e69605274473)
run 0 esimctl add 'LPA:1$rsp.example.com$COLL-61256' --carrier Verizon
run 0 esimctl add 'LPA:1$rsp.example.com$COLL-89616' --carrier Verizon
cp "$ESIMCTL_STORE" "$T/before"
run 2 esimctl transfer 7fc9e696 --to phone
err_has "esimctl: transfer: '7fc9e696' matches 2 profiles: 7fc9e696c (id prefix), 7fc9e6960 (id prefix)"
err_has 'hint: use one of the ids shown'
run 2 esimctl transfer 7fc9e6 --to phone --dry-run
run 2 esimctl --json transfer 7FC9E6 --to phone
one_json
json_eq '.error.message' "\"'7FC9E6' matches 2 profiles: 7fc9e696c (id prefix), 7fc9e6960 (id prefix)\""
check "ambiguous references change nothing" cmp -s "$ESIMCTL_STORE" "$T/before"
run 0 esimctl transfer 7fc9e696c --to phone
out_has "place the profile on 'phone' (active)"
# an id prefix needs 6 digits
run 5 esimctl transfer 7fc9e --to phone
err_has "no profile matches '7fc9e'"
err_has 'hint: an id prefix needs at least 6 hex digits'

# --- the applied JSON document --------------------------------------------------------------------
run 0 esimctl --json transfer 7fc9e6960 --to tablet
one_json
json_eq '.ok' true
json_eq '.applied' true
json_eq '.dry_run' false
json_eq '.plan | [.action, .profile, .nickname, .carrier, .carrier_known, .model, .from, .to, .at]' \
	'["place","7fc9e6960",null,"Verizon",true,"sequential",null,"tablet","2026-11-22T10:00:00Z"]'
json_eq '.plan.summary' "\"place the profile on 'tablet' (active)\""
json_eq '.plan.reason' null
json_eq '.plan.warnings' "[\"voice on tablet 'tablet' may route through the primary phone\"]"
run 0 esimctl --json transfer 7fc9e6960 --to p4
json_eq '.plan | [.action, .from, .to, .ready_min, .ready_max, .gap_min_s, .gap_max_s, .transfer_time_known, .cooldown_until]' \
	'["move","tablet","p4","2026-11-22T10:05:00Z","2026-11-22T10:10:00Z",300,600,true,null]'

# --- history: exactly one entry per carried-out transfer -----------------------------------------
check "transfer history count" [ "$(store_jq '[.history[] | select(.op == "transfer")] | length')" = 14 ]
check "the store is valid JSON" jq -e . "$ESIMCTL_STORE" >/dev/null
finish
