#!/usr/bin/env bash
# t1400-sgp22-transfer.sh - a transfer between two eUICC-backed devices under a
# sequential carrier (Verizon).  SGP.22 v2 cannot move a profile between eUICCs: the
# profile is deleted on the source (the delete notification reaches the SM-DP+), the
# target's binding waits for a new activation code, and 'add NEWCODE --device target'
# (a download onto the target's own eUICC, with its own EID) completes the transfer.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
ICCID=8949449999999990023
ICCID_NEW=8949449999999990031
printf '[%s, %s]\n' "$(order_json MATCH-1 $ICCID)" "$(order_json MATCH-NEW $ICCID_NEW)" >"$ORDERS"
srv_start
sgp_device phone
sgp_device tablet euicc2 tablet
EID2=$(pki_eid euicc2)

run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
ID=$(jq -r .profile.id "$OUT")
run 0 esim euicc enable "$ICCID" --device phone

echo "# --- dry run"
store_save
log_mark
run 0 esim --json transfer "$ID" --to tablet --dry-run
json_eq '.plan.action' '"move"'
json_eq '.plan.from' '"phone"'
json_eq '.plan.needs_new_code' true
json_eq '.dry_run' true
store_same
euicc_is phone '.profiles | map([.iccid, .state])' "[[\"$ICCID\",\"enabled\"]]"
log_is "a dry run contacts nobody" '.event == "request"' 0

echo "# --- transfer"
log_mark
run 0 esim --json transfer "$ID" --to tablet
json_eq '.applied' true
json_eq '.plan.action' '"move"'
json_eq '.plan.needs_new_code' true
json_eq '.notifications | map([.event, .sent])' '[["disable",true],["delete",true]]'
euicc_is phone '.profiles' '[]'
euicc_is phone '.notifications' '[]'
euicc_is tablet '.profiles' '[]'
log_is "the source's disable and delete notifications, valid" \
	".event == \"notification\" and (.type == \"disable\" or .type == \"delete\") and .valid == true and .iccid == \"$ICCID\"" 2
log_is "no download yet" '.event == "request" and .function != "handleNotification"' 0
list_is ".profiles[] | select(.id == \"$ID\") | .bindings | map([.device, .state])" '[["tablet","pending"]]'
list_is '.pending_notifications' '[]'
run 0 esim transfer "$ID" --to tablet --dry-run
run 0 esim list
out_has "awaiting a new activation code"

echo "# --- the new activation code on the target"
log_mark
run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-NEW" --device tablet --carrier Verizon
out_has "ICCID: $ICCID_NEW"
err_has "transfer of profile $ID to 'tablet' completed by this download"
log_is "the target's eUICC authenticated with its own EID" \
	".event == \"authenticated\" and .eid == \"$EID2\" and .matching_id == \"MATCH-NEW\"" 1
log_is "install notification from the target, valid" \
	".event == \"notification\" and .type == \"install\" and .valid == true and .eid == \"$EID2\"" 1
euicc_is tablet '.profiles | map(.iccid)' "[\"$ICCID_NEW\"]"
euicc_is phone '.profiles' '[]'
list_is ".profiles[] | select(.id == \"$ID\") | .bindings" '[]'
list_is ".devices[] | select(.name == \"tablet\") | .holds | length" 1
list_is '.pending_notifications' '[]'
check "history: transfer, then transfer-complete" \
	jq -e "[.history[] | select(.profile // \"\" | startswith(\"$ID\")) | .op] | (index(\"transfer\") // 99) < (index(\"transfer-complete\") // -1)" "$ESIMCTL_STORE"

finish
