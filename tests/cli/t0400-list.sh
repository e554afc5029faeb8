#!/usr/bin/env bash
# list: empty store, text layout, --device / --carrier filters, JSON shape, pending -> active.
. "$(dirname "$0")/lib.sh"

ID_QR=56e0c4f1     # LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7
ID_TM=0d34e856     # LPA:1$rsp.example.com$TM-HOME-1
HEADER='PROFILE   NICKNAME  CARRIER      MODEL          PLAN        NEXT TRANSFER'

# --- an empty (missing) store: nothing listed, nothing created ----------------------------------
run 0 esimctl list
out_empty
err_has "the store is empty; start with 'esimctl device add NAME --kind phone'"
check "list does not create the store" [ ! -e "$ESIMCTL_STORE" ]
check "list takes no lock" [ ! -e "$ESIMCTL_STORE.lock" ]
run 0 esimctl list --quiet
out_empty
err_empty
run 0 esimctl list --json
check "empty store JSON" [ "$(cat "$OUT")" = '{"profiles":[],"devices":[],"pending_notifications":[],"ok":true}' ]
err_empty
run 2 esimctl list extra
err_has "esimctl: list: unexpected argument 'extra'"
run 2 esimctl list --bogus
err_has "unknown option '--bogus'"
run 2 esimctl list --device
err_has "option '--device' needs a value"
run 5 esimctl list --device nosuch
err_has "esimctl: list: no device named 'nosuch'"
run 5 esimctl --json list --device nosuch
one_json
json_eq '.error | [.status, .name]' '[5,"not_found"]'

# --- a populated store -----------------------------------------------------------------------
run 0 esimctl device add phone --kind phone --primary --platform ios
run 0 esimctl device add laptop --kind laptop
run 0 esimctl device add tablet --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone \
	--nickname travel --iccid 8901260123456789011
run 0 esimctl add 'LPA:1$rsp.example.com$TM-HOME-1' --carrier T-Mobile --device phone --nickname home --data-only
run 0 esimctl add 'LPA:1$rsp.example.com$CMCC-1' --carrier CMCC --nickname cm
run 0 esimctl add 'LPA:1$rsp.example.com$ACME-1' --carrier 'Acme Mobile' --nickname acme
run 0 esimctl list
out_has "$HEADER"
out_has '56e0c4f1  travel    AT&T         sequential     voice+data  now'
out_has '          on: phone (active)'
out_has '          ICCID 8901260123456789011'
out_has '0d34e856  home      T-Mobile     concurrent     data-only   now'
out_has 'CMCC         single-device  voice+data  never (new profile)'
# an unknown carrier: the default's model, as in JSON, with a footnote
out_has 'Acme Mobile  sequential*    voice+data  now'
out_has '* carrier not in the table: the conservative default applies'
out_has '          on: no device'
out_has 'DEVICE  KIND    PRIMARY  HOLDS'
out_has "phone   phone   yes      $ID_QR, $ID_TM"
out_has 'laptop  laptop  no       -'
err_empty
# the code itself is not in the text listing
out_lacks 'QR-G-5C'

run 0 esimctl transfer home --to tablet
run 0 esimctl transfer travel --to laptop
cp "$ESIMCTL_STORE" "$T/before"
run 0 esimctl list
out_has '56e0c4f1  travel    AT&T         sequential     voice+data  in 1 d 0 h (2026-11-22T10:00:00Z)'
out_has '          on: laptop (pending until 2026-11-21T10:15:00Z)'
out_has '          on: phone (active), tablet (active)'
# the device table shows pending holdings as such
out_has "laptop  laptop  no       $ID_QR (pending)"
out_has "tablet  tablet  no       $ID_TM"
# time passes: the pending binding shows as active (list itself never writes)
ESIMCTL_NOW=2026-11-21T10:15:00Z run 0 esimctl list
out_has '          on: laptop (active)'
out_has 'in 23 h 45 min (2026-11-22T10:00:00Z)'
ESIMCTL_NOW=2026-11-21T10:14:59Z run 0 esimctl list
out_has '          on: laptop (pending until 2026-11-21T10:15:00Z)'
ESIMCTL_NOW=2026-11-22T10:00:00Z run 0 esimctl list
out_has '56e0c4f1  travel    AT&T         sequential     voice+data  now'
check "list leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"

# --- filters ------------------------------------------------------------------------------------
run 0 esimctl list --device tablet
out_has 'PROFILE   NICKNAME  CARRIER   MODEL       PLAN       NEXT TRANSFER'
out_has "$ID_TM"
out_lacks "$ID_QR"
out_has "tablet  tablet  no       $ID_TM"
out_lacks 'phone   phone'
run 0 esimctl --json list --device phone
json_eq '[.profiles[].id]' "[\"$ID_TM\"]"
json_eq '[.devices[].name]' '["phone"]'
# carrier names match case-, punctuation- and alias-insensitively
for c in 'AT&T' att 'at and t'; do
	run 0 esimctl --json list --carrier "$c"
	json_eq '[.profiles[].id]' "[\"$ID_QR\"]"
done
run 0 esimctl --json list --carrier 'China Mobile'
json_eq '[.profiles[].nickname]' '["cm"]'
run 0 esimctl --json list --carrier 'acme-mobile'
json_eq '[.profiles[].nickname]' '["acme"]'
# --carrier filters the devices too (docs/json-output.md): only holders of that carrier's profiles
run 0 esimctl list --carrier Vodafone
out_lacks 'PROFILE'
out_lacks 'DEVICE'
err_has "no profile of carrier 'Vodafone'"
run 0 esimctl --json list --carrier Vodafone --device laptop
json_eq '.profiles' '[]'
json_eq '.devices' '[]'
run 0 esimctl --json list --carrier T-Mobile
json_eq '[.devices[].name]' '["phone","tablet"]'
json_eq '[.devices[].holds[].profile]' "[\"$ID_TM\",\"$ID_TM\"]"
run 0 esimctl --json list --carrier att
json_eq '[.devices[] | [.name, .holds]]' "[[\"laptop\",[{\"profile\":\"$ID_QR\",\"state\":\"pending\"}]]]"
run 0 esimctl list --carrier att
out_has "laptop  laptop  no       $ID_QR (pending)"
out_lacks 'phone   phone'
out_lacks "$ID_TM"

# --- the JSON document -----------------------------------------------------------------------------
run 0 esimctl list --json
one_json
err_empty
json_eq 'keys' '["devices","ok","pending_notifications","profiles"]'
json_eq '.profiles | length' 4
json_eq '.profiles[0] | keys' '["activation_code","bindings","carrier","carrier_known","cooldown_remaining_s","created","full_id","iccid","id","last_transfer","model","next_transfer","nickname","plan","profile_class","profile_name","provider","transferable"]'
json_eq '.profiles[0] | [.id, .iccid, .nickname, .carrier, .carrier_known, .model, .plan]' \
	"[\"$ID_QR\",\"8901260123456789011\",\"travel\",\"AT&T\",true,\"sequential\",\"voice+data\"]"
json_eq '.profiles[0].activation_code' '{"code":"LPA:1$rsp.example.com$QR-**************P7","smdp":"rsp.example.com","matching_id":"QR-**************P7","masked":true,"oid":null,"cc_required":false}'
json_eq '.profiles[0] | [.last_transfer, .next_transfer, .cooldown_remaining_s, .transferable]' \
	'["2026-11-21T10:00:00Z","2026-11-22T10:00:00Z",86400,true]'
json_eq '.profiles[0].bindings' '[{"device":"laptop","state":"pending","since":"2026-11-21T10:00:00Z","ready_at":"2026-11-21T10:15:00Z"}]'
json_eq '.profiles[1].bindings | map([.device, .state])' '[["phone","active"],["tablet","active"]]'
json_eq '.profiles[1] | [.next_transfer, .cooldown_remaining_s]' '["2026-11-21T10:00:00Z",0]'
json_eq '.profiles[2] | [.carrier, .carrier_known, .model, .transferable, .next_transfer, .bindings]' \
	'["CMCC",true,"single-device",false,null,[]]'
json_eq '.profiles[3] | [.carrier_known, .model]' '[false,"sequential"]'
json_eq '.devices[0]' "{\"name\":\"phone\",\"kind\":\"phone\",\"platform\":\"ios\",\"eid\":null,\"imei\":null,\"primary\":true,\"euicc\":null,\"data_only\":false,\"created\":\"2026-11-21T10:00:00Z\",\"holds\":[{\"profile\":\"$ID_TM\",\"state\":\"active\"}]}"
json_eq '.devices[1] | [.name, .data_only, .holds]' "[\"laptop\",true,[{\"profile\":\"$ID_QR\",\"state\":\"pending\"}]]"
grep -qF 'QR-G-5C-1LS-1W1Z9P7' "$OUT" && nok "matching ID masked in list --json" || ok "matching ID masked in list --json"
ESIMCTL_NOW=2026-11-21T10:15:00Z run 0 esimctl list --json
json_eq '.profiles[0].bindings[0].state' '"active"'
json_eq '.profiles[0].cooldown_remaining_s' 85500
json_eq '.devices[1].holds[0].state' '"active"'
# --show-secret, as a global option before or after the command
run 0 esimctl --show-secret list --json
json_eq '.profiles[0].activation_code | [.code, .matching_id, .masked]' '["LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7","QR-G-5C-1LS-1W1Z9P7",false]'
run 0 esimctl list --json --show-secret --device laptop
json_eq '.profiles[0].activation_code.matching_id' '"QR-G-5C-1LS-1W1Z9P7"'
check "list leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"
finish
