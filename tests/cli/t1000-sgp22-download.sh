#!/usr/bin/env bash
# t1000-sgp22-download.sh - the whole SGP.22 profile life cycle against the test SM-DP+,
# on both curves (NIST P-256 and brainpoolP256r1; the brainpool PKI uses a P-256 TLS key):
# download (exactly four ES9+ requests on one TLS connection), enable, nickname,
# disable, release (= disable + delete) with every notification delivered and valid;
# then a confirmation-code order: none given without a terminal (exit 2), a wrong code
# (exit 8, 8.2.7/3.8 in --json), the right one.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

ICCID=8949449999999990023
ICCID_CC=8949449999999990031

lifecycle() {
	local curve=$1 dev=phone-$1 id
	echo "# --- curve $curve"
	sgp_pki "$curve"
	SRV_LOG=$T/smdp-$curve-log.jsonl
	SRV_STATE=$T/smdp-$curve-state.jsonl
	export ESIMCTL_CA_FILE=$CI_PEM
	printf '[%s, %s]\n' "$(order_json MATCH-1 $ICCID)" "$(order_json MATCH-CC $ICCID_CC '"QX7391"')" >"$ORDERS"
	SRV_PORT=
	srv_start
	sgp_device "$dev"
	euicc_is "$dev" '.profiles | length' 0

	# Download: initiateAuthentication, authenticateClient, getBoundProfilePackage,
	# handleNotification (the install result) and nothing else.
	log_mark
	run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device "$dev" --carrier Verizon
	one_json
	json_eq '.download.requests' 4
	json_eq '.download.tls_connections' 1
	json_eq '.download.installed' true
	json_eq '.download.notification_sent' true
	json_eq '.profile.iccid' "\"$ICCID\""
	json_eq '.profile.provider' '"Test Operator"'
	json_eq '.profile.profile_name' '"Test Profile"'
	json_eq '.profile.bindings' "[{\"device\":\"$dev\",\"state\":\"active\",\"since\":\"2026-11-21T10:00:00Z\",\"ready_at\":null}]"
	json_eq '.notifications | map(.event)' '["install"]'
	id=$(jq -r .profile.id "$OUT")
	check "requests: the four ES9+ functions of a download, in order" \
		[ "$(req_functions)" = initiateAuthentication,authenticateClient,getBoundProfilePackage,handleNotification ]
	log_is "4 HTTP requests" '.event == "request"' 4
	log_is "every request succeeded" '.event == "request" and (.status == "Executed-Success" or .status == "204")' 4
	log_is "install notification, valid, success" \
		".event == \"notification\" and .type == \"install\" and .valid == true and .result == \"success\" and .iccid == \"$ICCID\"" 1
	log_is "the eUICC was authenticated with its EID" \
		".event == \"authenticated\" and .eid == \"$(pki_eid euicc)\" and .matching_id == \"MATCH-1\"" 1
	log_is "no cancelSession" '.event == "cancelSession"' 0
	check "order MATCH-1 is installed" \
		[ "$(admin /test/state | jq -r '.orders[] | select(.matching_id == "MATCH-1") | .state')" = installed ]
	euicc_is "$dev" '.profiles | map({iccid, state, provider, name, class})' \
		"[{\"iccid\":\"$ICCID\",\"state\":\"disabled\",\"provider\":\"Test Operator\",\"name\":\"Test Profile\",\"class\":\"operational\"}]"
	euicc_is "$dev" '.notifications' '[]'
	list_is '.pending_notifications' '[]'
	# on every backend the card writes its state file (sgp22-lib.sh): the profile is there
	check "the eUICC's state file holds the profile" \
		[ "$(jq -c '[.profiles[].iccid]' "$T/$dev.json")" = "[\"$ICCID\"]" ]

	# Enable: one enable notification, signed by the eUICC, delivered at once.
	log_mark
	run 0 esim euicc enable "$id" --device "$dev"
	out_has "enabled $ICCID on '$dev'"
	err_has "(enable) delivered to $SMDP_ADDR"
	euicc_is "$dev" '.profiles[0].state' '"enabled"'
	log_is "enable notification, valid" ".event == \"notification\" and .type == \"enable\" and .valid == true and .iccid == \"$ICCID\"" 1
	log_is "no other notification" '.event == "notification"' 1

	# Nickname: no notification event exists for it.
	log_mark
	run 0 esim euicc nickname "$id" work --device "$dev"
	out_has "renamed $ICCID"
	euicc_is "$dev" '.profiles[0] | [.nickname, .state]' '["work","enabled"]'
	log_is "no notification for a nickname" '.event == "notification"' 0

	# Disable by ICCID.
	log_mark
	run 0 esim --json euicc disable "$ICCID" --device "$dev"
	json_eq '.result' '"disabled"'
	json_eq '.notifications | map([.event, .sent])' '[["disable",true]]'
	euicc_is "$dev" '.profiles[0].state' '"disabled"'
	log_is "disable notification, valid" ".event == \"notification\" and .type == \"disable\" and .valid == true" 1
	run 9 esim euicc disable "$ICCID" --device "$dev"
	err_has "$ICCID"

	# Release an enabled profile: disable + delete on the eUICC, both notified.
	run 0 esim euicc enable "$ICCID" --device "$dev"
	log_mark
	run 0 esim --json release "$id" --device "$dev"
	json_eq '[.released[] | {profile, device}]' "[{\"profile\":\"$id\",\"device\":\"$dev\"}]"
	json_eq '.notifications | map([.event, .sent])' '[["disable",true],["delete",true]]'
	log_is "disable and delete notifications, valid" \
		".event == \"notification\" and (.type == \"disable\" or .type == \"delete\") and .valid == true and .iccid == \"$ICCID\"" 2
	log_is "only those two" '.event == "notification"' 2
	log_is "only handleNotification requests" '.event == "request" and .function != "handleNotification"' 0
	euicc_is "$dev" '.profiles' '[]'
	euicc_is "$dev" '.notifications' '[]'
	list_is '.pending_notifications' '[]'
	list_is ".profiles[] | select(.id == \"$id\") | .bindings" '[]'
	list_is ".devices[] | select(.name == \"$dev\") | .holds" '[]'
	log_settle
	check "the journal (--state) has every notification as valid" \
		[ "$(jq -c 'select(.event == "notification") | [.type, .valid]' "$SRV_STATE" | paste -sd' ' -)" \
			= '["install",true] ["enable",true] ["disable",true] ["enable",true] ["disable",true] ["delete",true]' ]
}

lifecycle nist

# ---- confirmation code (NIST server still running) ----
echo "# --- confirmation code"
DEV=phone-nist
CC_AC="LPA:1\$$SMDP_ADDR\$MATCH-CC"

store_save
log_mark
run 2 esim add "$CC_AC" --device "$DEV" --carrier Verizon
err_has "requires a confirmation code"
err_has "--confirmation-code"
store_same
euicc_is "$DEV" '.profiles' '[]'
log_is "session cancelled as postponed(1), signed by the eUICC" '.event == "cancelSession" and .reason == 1 and .valid == true' 1
check "no getBoundProfilePackage without a code" [ "$(req_functions)" = initiateAuthentication,authenticateClient,cancelSession ]

log_mark
run 8 esim --json add "$CC_AC" --device "$DEV" --carrier Verizon --confirmation-code 9999
one_json
json_eq '.error.status' 8
json_eq '.error.name' '"smdp_refused"'
json_eq '.error.subject_code' '"8.2.7"'
json_eq '.error.reason_code' '"3.8"'
json_eq '.error.smdp_message | length > 0' true
json_eq '.download.installed' false
err_has "subject 8.2.7"
store_same
euicc_is "$DEV" '.profiles' '[]'
log_is "the server refused the code" '.event == "cc-refused" and .matching_id == "MATCH-CC" and .attempts == 1' 1
log_is "session cancelled" '.event == "cancelSession" and .valid == true' 1
log_is "no notification" '.event == "notification"' 0

log_mark
run 0 esim --json add "$CC_AC" --device "$DEV" --carrier Verizon --confirmation-code QX7391
json_eq '.profile.iccid' "\"$ICCID_CC\""
json_eq '.download.requests' 4
json_eq '.profile.activation_code.code | contains("QX7391")' false
err_lacks QX7391
log_is "4 requests" '.event == "request"' 4
log_is "install notification, valid" ".event == \"notification\" and .type == \"install\" and .valid == true and .iccid == \"$ICCID_CC\"" 1
euicc_is "$DEV" '.profiles | map(.iccid)' "[\"$ICCID_CC\"]"
check "the code is not in the store" bash -c '! grep -q QX7391 "$1"' _ "$ESIMCTL_STORE"
srv_stop

lifecycle brp
srv_stop
check "the brp eUICC key is on brainpoolP256r1" \
	bash -c 'openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q brainpoolP256r1' _ "$(pki_path euicc key_pem)"
finish
