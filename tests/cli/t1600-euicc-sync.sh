#!/usr/bin/env bash
# t1600-euicc-sync.sh - 'esimctl euicc sync' brings the store up to date with what a
# device's eUICC really holds (ES10c.GetProfilesInfo and ES10b.ListNotification).
#
# The eUICC is changed behind the store's back the way a removable card used in another
# device is: a second store ("the other device's LPA") drives the same soft eUICC.  Then:
# --dry-run shows every change and writes nothing; sync adopts the unknown profile (ICCID,
# provider and name from the eUICC, carrier guessed from the provider through the carrier
# table, marked for review), releases the binding whose profile is gone, queues the
# notifications the store lacks, records each change in the history, and a second sync
# finds nothing to do.  The queued notifications are then delivered.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
ICCID1=8949449999999990023
ICCID2=8949449999999990031
ICCID3=8949449999999990049
order_spn() {
	printf '{"matching_id":"%s","iccid":"%s","cc":null,"spn":"%s","name":"%s","notify":["enable","disable","delete"]}' \
		"$1" "$2" "$3" "$4"
}
printf '[%s, %s, %s]\n' "$(order_spn MATCH-1 $ICCID1 'Test Operator' 'Home plan')" \
	"$(order_spn MATCH-2 $ICCID2 'T-Mobile US' 'Travel')" \
	"$(order_spn MATCH-3 $ICCID3 'Nowhere Telecom' 'Other')" >"$ORDERS"
srv_start
sgp_device phone
MAIN=$ESIMCTL_STORE
OTHER=$T/other-store.json

echo "# --- usage"
run 2 esim euicc sync
err_has "--device DEVICE is required"
run 2 esim euicc sync --device phone extra
run 5 esim euicc sync --device nosuch
run 0 esim device add plain --kind tablet
run 2 esim euicc sync --device plain
err_has "has no eUICC backend"

echo "# --- in agreement after an add"
run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon --nickname home
ID1=$(jq -r .profile.id "$OUT")
store_save
run 0 esim --json euicc sync --device phone
one_json
json_eq '[.in_agreement, .dry_run, .changes]' '[true,false,[]]'
run 0 esim euicc sync --device phone
out_has "the store and the eUICC agree"
store_same

echo "# --- the eUICC used with another LPA: a profile added, one deleted, notifications left"
ESIMCTL_STORE=$OTHER run 0 esim device add phone --kind phone --euicc "${CARD_URI_OF[phone]}"
misbehave '{"mode": "http-500", "functions": ["handleNotification"]}'
ESIMCTL_STORE=$OTHER run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-2" --device phone --carrier T-Mobile
ESIMCTL_STORE=$OTHER run 0 esim euicc nickname "$ICCID2" trips --device phone
# the other LPA learns about the first profile with a sync of its own, then deletes it
ESIMCTL_STORE=$OTHER run 0 esim --json euicc sync --device phone
json_eq '.changes | map([.action, .iccid])' "[[\"adopt\",\"$ICCID1\"]]"
ESIMCTL_STORE=$OTHER run 0 esim release "$ICCID1" --device phone
misbehave '{}'
euicc_is phone '.profiles | map(.iccid)' "[\"$ICCID2\"]"
euicc_is phone '.notifications | map([.event, .iccid])' \
	"[[\"install\",\"$ICCID2\"],[\"delete\",\"$ICCID1\"]]"

echo "# --- dry run: every change shown, nothing written"
store_save
run 0 esim --json euicc sync --device phone --dry-run
one_json
json_eq '[.device, .dry_run, .in_agreement]' '["phone",true,false]'
json_eq '.changes | map(.action)' '["adopt","gone","queue-notification","queue-notification"]'
store_same
run 0 esim euicc sync --device phone --dry-run
out_has "would: adopt profile"
out_has "4 changes (dry run: nothing written)"
store_same

echo "# --- sync"
log_mark
run 0 esim --json euicc sync --device phone
json_eq '[.dry_run, .in_agreement]' '[false,false]'
json_eq '.changes[0] | [.action, .iccid, .provider, .profile_name, .nickname, .carrier, .carrier_known, .state]' \
	"[\"adopt\",\"$ICCID2\",\"T-Mobile US\",\"Travel\",\"trips\",\"T-Mobile\",true,\"disabled\"]"
json_eq '.changes[0].review | contains("guessed from the provider name")' true
ID2=$(jq -r '.changes[0].profile' "$OUT")
json_eq '.changes[1] | [.action, .profile, .iccid]' "[\"gone\",\"$ID1\",\"$ICCID1\"]"
json_eq '.changes[2:] | map([.action, .event, .iccid])' \
	"[[\"queue-notification\",\"install\",\"$ICCID2\"],[\"queue-notification\",\"delete\",\"$ICCID1\"]]"
log_is "sync contacts no SM-DP+" '.event == "request"' 0
list_is ".profiles[] | select(.id == \"$ID2\") | [.iccid, .carrier, .provider, .profile_name, .nickname, (.review | type), .activation_code]" \
	"[\"$ICCID2\",\"T-Mobile\",\"T-Mobile US\",\"Travel\",\"trips\",\"string\",null]"
list_is ".profiles[] | select(.id == \"$ID2\") | .bindings | map([.device, .state])" '[["phone","active"]]'
list_is ".profiles[] | select(.id == \"$ID1\") | .bindings" '[]'
list_is ".profiles[] | select(.id == \"$ID1\") | has(\"review\")" 'false'
list_is '.pending_notifications | map([.device, .event, .iccid])' \
	"[[\"phone\",\"install\",\"$ICCID2\"],[\"phone\",\"delete\",\"$ICCID1\"]]"
check "the store records the profile for review" \
	jq -e --arg id "$ID2" '.profiles[] | select(.id | startswith($id)) | .review | test("euicc sync")' "$MAIN"
check "the history records every change" \
	jq -e '[.history[] | select(.op == "euicc-sync" or (.op == "release" and (.detail // "" | test("euicc sync")))) | .outcome] == ["adopted","ok","notification-queued","notification-queued"]' "$MAIN"
run 0 esim list
out_has "$ID2"
out_has "review: adopted from the eUICC of 'phone' by euicc sync; carrier 'T-Mobile' guessed"

echo "# --- a second sync finds nothing; the notifications go out"
store_save
run 0 esim euicc sync --device phone
out_has "the store and the eUICC agree"
store_same
log_mark
run 0 esim --json notifications send
json_eq '[.sent, .failed]' '[2,0]'
log_is "the imported notifications reached the SM-DP+, valid" \
	'.event == "notification" and (.type == "install" or .type == "delete") and .valid == true' 2
list_is '.pending_notifications' '[]'
euicc_is phone '.notifications' '[]'

echo "# --- an unknown provider: carrier not guessed"
ESIMCTL_STORE=$OTHER run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-3" --device phone --carrier X
run 0 esim --json euicc sync --device phone
json_eq '.changes[0] | [.action, .carrier, .carrier_known]' '["adopt","Nowhere Telecom",false]'
json_eq '.changes[0].review | contains("not in the carrier table")' true
json_eq '.changes | length' 1

srv_stop
finish
