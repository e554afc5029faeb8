#!/usr/bin/env bash
# device add | list | remove, validation of EIDs and IMEIs, --force.
. "$(dirname "$0")/lib.sh"

run 0 esimctl device add phone --kind phone --platform ios --primary --imei 490154203237518
out_has "added device 'phone'"
check "store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]
check "store directory exists" [ -d "$(dirname "$ESIMCTL_STORE")" ]
run 0 esimctl device add tab --kind tablet --eid 89049032123451234512345678901235
run 2 esimctl device add tab2 --kind tablet --eid 89049032123451234512345678901234
err_has "EID"
run 2 esimctl device add tab3 --kind tablet --imei 490154203237519
err_has "IMEI"
run 2 esimctl device add x --kind toaster
err_has "--kind 'toaster'"
run 2 esimctl device add y
err_has "--kind is required"
run 2 esimctl device add phone --kind phone
err_has "already exists"
run 2 esimctl device add 'bad name' --kind phone
run 0 esimctl device add w --kind watch
err_lacks "needs a phone"
run 0 esimctl --json device list
one_json
json_eq '.devices | length' 3
json_eq '.devices[0].primary' true
json_eq '.devices[0].imei' '"490154203237518"'
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --device w
run 1 esimctl device remove w
err_has "still holds 1 profile"
run 0 esimctl device remove w --force
run 0 esimctl --json list
json_eq '.profiles[0].bindings | length' 0
json_eq '.devices | length' 2
# Removing a device keeps the record that a profile was on it: a single-device
# carrier's profile cannot be placed again afterwards.
run 0 esimctl device add w --kind watch
run 0 esimctl add 'LPA:1$rsp.example.com$CM-1' --carrier 'China Mobile' --device w
run 0 esimctl device remove w --force
run 6 esimctl transfer "$(jq -r '.profiles[] | select(.carrier == "China Mobile") | .id' "$ESIMCTL_STORE")" --to phone
err_has "China Mobile"
run 5 esimctl device remove nosuch
err_has "no device named 'nosuch'"
run 0 esimctl device list
out_has "phone"
out_has "tablet"
finish
