#!/usr/bin/env bash
# t1300-sgp22-notifications.sh - notifications that cannot be delivered at once.
#
# Releasing a profile while its SM-DP+ is down still deletes it from the eUICC and
# succeeds (exit 0, with a warning): the notifications stay on the eUICC and are queued
# in the store, 'list' shows them pending, 'notifications send' fails (exit 7) while the
# server is down and delivers them once it is back on the same port.  'notifications
# remove' drops one without sending it; a stored copy is sent even when its eUICC is gone.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
ICCID1=8949449999999990023
ICCID2=8949449999999990031
ICCID3=8949449999999990049
printf '[%s, %s, %s]\n' "$(order_json MATCH-1 $ICCID1)" "$(order_json MATCH-2 $ICCID2)" \
	"$(order_json MATCH-3 $ICCID3)" >"$ORDERS"
srv_start
sgp_device phone

run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
ID1=$(jq -r .profile.id "$OUT")
run 0 esim euicc enable "$ICCID1" --device phone

echo "# --- release while the SM-DP+ is down"
srv_stop
run 0 esim --json release "$ID1" --device phone
json_eq '.released | length' 1
json_eq '.notifications | map([.event, .sent])' '[["disable",false],["delete",false]]'
json_eq '.notifications[0].error | contains("Couldn'"'"'t connect")' true
err_has "was not delivered"
err_has "'esimctl notifications send' retries it"
euicc_is phone '.profiles' '[]'
euicc_is phone '.notifications | map([.event, .iccid])' "[[\"disable\",\"$ICCID1\"],[\"delete\",\"$ICCID1\"]]"
list_is '.pending_notifications | map([.device, .event, .iccid, .attempts])' \
	"[[\"phone\",\"disable\",\"$ICCID1\",1],[\"phone\",\"delete\",\"$ICCID1\",1]]"
list_is '.profiles[0].bindings' '[]'
run 0 esim list
out_has "pending"
run 0 esim --json notifications list
json_eq '[.notifications[] | .address]' "[\"$SMDP_ADDR\",\"$SMDP_ADDR\"]"
json_eq '[.notifications[] | .last_error | contains("connect")]' '[true,true]'
json_eq '.notifications[0].queued' '"2026-11-21T10:00:00Z"'

echo "# --- send while it is still down"
store_save
run 7 esim --json notifications send
json_eq '[.sent, .failed]' '[0,2]'
json_eq '.error.message | startswith("2 notifications could not be delivered (kept)")' true
list_is '.pending_notifications | map(.attempts)' '[2,2]'
euicc_is phone '.notifications | length' 2

echo "# --- the SM-DP+ is back on the same port"
srv_start
log_mark
run 0 esim notifications send --device phone
out_has "2 notifications sent, 0 kept for later"
err_has "(disable) delivered to $SMDP_ADDR"
err_has "(delete) delivered to $SMDP_ADDR"
log_is "disable and delete notifications, valid" \
	".event == \"notification\" and (.type == \"disable\" or .type == \"delete\") and .valid == true and .iccid == \"$ICCID1\"" 2
log_is "two handleNotification requests, nothing else" '.event == "request" and .function == "handleNotification"' 2
log_is "no other request" '.event == "request" and .function != "handleNotification"' 0
list_is '.pending_notifications' '[]'
euicc_is phone '.notifications' '[]'
log_mark
run 0 esim notifications send
out_has "0 notifications sent, 0 kept for later"
log_is "nothing sent twice" '.event == "request"' 0

echo "# --- an install notification that could not be sent"
admin /test/orders "$(order_json MATCH-4 8949449999999990056)" >/dev/null || nok "POST /test/orders MATCH-4"
misbehave '{"mode": "http-500", "functions": ["handleNotification"]}'
run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-4" --device phone --carrier Verizon
json_eq '[.download.installed, .download.notification_sent]' '[true,false]'
json_eq '.notifications | map([.event, .sent])' '[["install",false]]'
err_has "HTTP 500 to handleNotification"
list_is '.pending_notifications | map([.event, .iccid])' '[["install","8949449999999990056"]]'
euicc_is phone '.notifications | map(.event)' '["install"]'
misbehave '{}'
log_mark
run 0 esim --json notifications send
json_eq '[.sent, .failed]' '[1,0]'
log_is "install notification, valid" '.event == "notification" and .type == "install" and .valid == true' 1
list_is '.pending_notifications' '[]'
euicc_is phone '.notifications' '[]'

echo "# --- notifications remove"
run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-2" --device phone --carrier Verizon
srv_stop
run 0 esim --json euicc enable "$ICCID2" --device phone
json_eq '.notifications | map([.event, .sent])' '[["enable",false]]'
SEQ=$(jq -r '.notifications[0].seq' "$OUT")
list_is '.pending_notifications | map([.event, .seq])' "[[\"enable\",$SEQ]]"
run 2 esim notifications remove "$SEQ"
err_has "--device"
run 5 esim notifications remove 999 --device phone
err_has "no notification 999"
store_save
run 5 esim notifications remove "$SEQ" --device nosuch
store_same
run 0 esim --json notifications remove "$SEQ" --device phone
json_eq '.removed' "$SEQ"
list_is '.pending_notifications' '[]'
euicc_is phone '.notifications' '[]'
check "the store's history records the removal" \
	jq -e '[.history[] | select(.op == "notification-remove" and .outcome == "ok")] | length == 1' "$ESIMCTL_STORE"
run 5 esim notifications remove "$SEQ" --device phone

echo "# --- a stored copy whose eUICC is gone"
srv_start
run 0 esim add "LPA:1\$$SMDP_ADDR\$MATCH-3" --device phone --carrier Verizon
srv_stop
run 0 esim --json euicc disable "$ICCID2" --device phone
json_eq '.notifications | map([.event, .sent])' '[["disable",false]]'
# gone: pulled from its reader or modem (card_stop), and the state file away
card_stop phone
mv "$T/phone.json" "$T/phone.json.away"
srv_start
log_mark
run 0 esim --json notifications send
json_eq '[.sent, .failed]' '[1,0]'
err_has "eUICC of device 'phone'"
log_is "the stored copy was delivered and verified" \
	".event == \"notification\" and .type == \"disable\" and .valid == true and .iccid == \"$ICCID2\"" 1
list_is '.pending_notifications' '[]'
# The eUICC comes back with its own copy: sending it again empties the eUICC as well.
mv "$T/phone.json.away" "$T/phone.json"
card_start phone
euicc_is phone '.notifications | map(.event)' '["disable"]'
log_mark
run 0 esim --json notifications send
json_eq '[.sent, .failed]' '[1,0]'
log_is "the eUICC's copy was delivered too" '.event == "notification" and .type == "disable" and .valid == true' 1
euicc_is phone '.notifications' '[]'
list_is '.pending_notifications' '[]'
srv_stop
finish
