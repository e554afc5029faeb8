#!/usr/bin/env bash
# release: one profile, --all with reasons, the advice per carrier model, history, JSON.
. "$(dirname "$0")/lib.sh"

store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
live_of() { store_jq "[.bindings[] | select((.profile | startswith(\"$1\")) and .state != \"released\") | .device]"; }

ID_QR=56e0c4f1     # LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7  AT&T
ID_TM=0d34e856     # LPA:1$rsp.example.com$TM-HOME-1            T-Mobile
ID_CM=5a6e68c6     # LPA:1$rsp.example.com$CMCC-1               China Mobile

# --- usage -------------------------------------------------------------------------------------
run 2 esimctl release
err_has 'esimctl: release: missing the PROFILE to release (or --device D --all)'
err_has "hint: run 'esimctl help release'"
run 2 esimctl release --all
err_has '--all needs --device DEVICE'
run 2 esimctl release x --device phone --all
err_has '--all takes no PROFILE'
run 2 esimctl release x y
err_has "unexpected argument 'y'"
run 2 esimctl release --device phone --all --reason broken
err_has "--reason 'broken': must be lost, stolen, sold or replaced"
run 2 esimctl release x --bogus
err_has "unknown option '--bogus'"
check "usage errors write no store" [ ! -e "$ESIMCTL_STORE" ]

run 0 esimctl device add phone --kind phone --primary
run 0 esimctl device add tablet --kind tablet
run 0 esimctl device add old --kind phone
run 0 esimctl add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone --nickname travel
run 0 esimctl add 'LPA:1$rsp.example.com$TM-HOME-1' --carrier T-Mobile --device phone --nickname home
run 0 esimctl transfer home --to tablet
run 0 esimctl add 'LPA:1$rsp.example.com$CMCC-1' --carrier 'China Mobile' --device phone --nickname cm
run 0 esimctl add 'LPA:1$rsp.example.com$ACME-1' --carrier 'Acme Mobile' --nickname acme

# --- not found and ambiguous ------------------------------------------------------------------
cp "$ESIMCTL_STORE" "$T/before"
run 5 esimctl release nosuch
err_has "esimctl: release: no profile matches 'nosuch'"
run 5 esimctl release travel --device nosuch
err_has "no device named 'nosuch'"
run 5 esimctl release --device nosuch --all
err_has "no device named 'nosuch'"
run 5 esimctl release travel --device tablet
err_has "esimctl: release: profile $ID_QR is not on device 'tablet'"
err_has "hint: it is on 'phone'"
run 5 esimctl release acme
err_has "profile $(jq -r '.profiles[3].id[:8]' "$ESIMCTL_STORE") is not on any device"
run 2 esimctl release home
err_has "esimctl: release: profile $ID_TM is on 2 devices; say which with --device"
run 5 esimctl --json release travel --device tablet
one_json
json_eq '.error | [.status, .name]' '[5,"not_found"]'
check "failed releases leave the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"

# --- one profile from one device -------------------------------------------------------------
run 0 esimctl release home --device tablet
out_has "released profile $ID_TM from 'tablet'"
out_has 'to do with the carrier:'
out_has "  - make sure profile $ID_TM is deleted or disabled on 'tablet'"
out_has '  - T-Mobile: the profile stays in use on 1 other device'
err_empty
check "binding ended" [ "$(live_of $ID_TM)" = '["phone"]' ]
check "released binding keeps its time" \
	[ "$(store_jq "[.bindings[] | select((.profile | startswith(\"$ID_TM\")) and .device == \"tablet\") | [.state, .released_at]]")" = \
	  '[["released","2026-11-21T10:00:00Z"]]' ]
check "history records the release" \
	[ "$(store_jq "[.history[] | select(.op == \"release\") | [.profile[:8], .from, .outcome, .detail]]")" = \
	  "[[\"$ID_TM\",\"tablet\",\"ok\",null]]" ]
# the only holder: no device needed; the advice for a concurrent carrier with none left
run 0 esimctl release home
out_has "released profile $ID_TM from 'phone'"
out_has '  - T-Mobile: the profile can be added to another device (up to 5 at once)'
run 5 esimctl release home
err_has "profile $ID_TM is not on any device"

# --- --all with a reason ---------------------------------------------------------------------------
run 0 esimctl transfer home --to phone
run 0 esimctl transfer home --to old
run 0 esimctl --json release --device phone --all --reason stolen
one_json
json_eq '.ok' true
json_eq '.reason' '"stolen"'
# in binding order: home was placed on the phone again after cm
json_eq '[.released[] | {profile, device}]' "[{\"profile\":\"$ID_QR\",\"device\":\"phone\"},{\"profile\":\"$ID_CM\",\"device\":\"phone\"},{\"profile\":\"$ID_TM\",\"device\":\"phone\"}]"
json_eq '[.released[].next_transfer]' '["2026-11-21T10:00:00Z",null,"2026-11-21T10:00:00Z"]'
json_eq '.next_steps | length' 6
json_eq '.next_steps[0]' "\"contact AT&T now to suspend the line and block profile $ID_QR on the stolen device 'phone'\""
json_eq '.next_steps[1]' "\"AT&T: to use the profile elsewhere, ask for a transfer ('esimctl transfer $ID_QR --to DEVICE'); support can expedite a transfer\""
json_eq '.next_steps[2]' "\"contact China Mobile now to suspend the line and block profile $ID_CM on the stolen device 'phone'\""
json_eq '.next_steps[3]' '"China Mobile does not move profiles: order a new one (re-provisioning 24-48 h); must be done in-country"'
json_eq '.next_steps[5]' '"T-Mobile: the profile stays in use on 1 other device"'
err_empty
check "phone holds nothing" [ "$(store_jq '[.bindings[] | select(.device == "phone" and .state != "released")] | length')" = 0 ]
check "home stays on old" [ "$(live_of $ID_TM)" = '["old"]' ]
check "history: one release per binding, with the reason" \
	[ "$(store_jq '[.history[] | select(.op == "release" and .detail == "stolen")] | length')" = 3 ]
# nothing left: exit 0 and says so
run 0 esimctl release --device phone --all --reason stolen
out_has "nothing to release: device 'phone' holds no profile"
run 0 esimctl --json release --device phone --all
json_eq '[.released, .next_steps, .reason]' '[[],[],null]'

# the other reasons change the advice
run 0 esimctl release --device old --all --reason sold
out_has "released profile $ID_TM from 'old' (sold)"
out_has "  - erase the eSIM on 'old' before handing it over, and tell T-Mobile that profile $ID_TM left the device"
run 0 esimctl transfer travel --to tablet
run 0 esimctl release travel --reason lost
out_has "released profile $ID_QR from 'tablet' (lost)"
out_has "  - contact AT&T now to suspend the line and block profile $ID_QR on the lost device 'tablet'"
run 0 esimctl transfer acme --to tablet
run 0 esimctl release acme --device tablet --reason replaced
out_has "  - make sure profile $(store_jq '.profiles[3].id[:8]' | tr -d '"') is deleted or disabled on 'tablet'"
out_has "  - Acme Mobile: to use the profile elsewhere, ask for a transfer"
check "release history total" [ "$(store_jq '[.history[] | select(.op == "release")] | length')" = 8 ]
# re-placing a released profile is a carrier transfer: it waits for the cooldown of the
# placement on 'tablet' above, then is allowed and starts a new one
run 6 esimctl transfer travel --to phone
err_has "AT&T allows one transfer every 24 h"
ESIMCTL_NOW=2026-11-22T10:00:00Z run 0 esimctl transfer travel --to phone
out_has "place the profile on 'phone' (active)"
ESIMCTL_NOW=2026-11-22T10:00:00Z run 0 esimctl --json list
json_eq '.profiles[] | select(.nickname == "travel") | .next_transfer' '"2026-11-23T10:00:00Z"'
# a pending binding can be released too
run 0 esimctl add 'LPA:1$rsp.example.com$VZ-1' --carrier Verizon --device phone --nickname vz
run 0 esimctl transfer vz --to tablet
run 0 esimctl release vz --device tablet
check "pending binding released" [ "$(store_jq '[.bindings[] | select(.device == "tablet" and .state != "released")] | length')" = 0 ]
# global options after the command, --quiet keeps data
run 0 esimctl release travel --json --quiet
json_eq '.released[0].device' '"phone"'
finish
