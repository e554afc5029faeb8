#!/usr/bin/env bash
# t1100-sgp22-failures.sh - every way the test SM-DP+ can break a download.
#
# Each case switches one misbehaviour mode of tests/smdp/smdpp.py (or uses an unknown
# matching ID, or no server at all) and checks: the exit status (7 network/TLS, 8 the
# SM-DP+ refused or answered nonsense, 9 the eUICC refused), a message naming the
# problem, the session cancelled on both sides when the eUICC had one (cancelSession in
# the server log), or the eUICC's error result reported with handleNotification once it
# produced one; and every time: the store byte-identical, no new profile on the eUICC,
# the pending notification that was there before still there (one case at the end keeps
# an undelivered error result: that queue entry is the store's only change).
#
# The stall and slow-trickle cases shorten the ES9+ timeout with ESIMCTL_TIMEOUT=2
# (the --timeout option's variable).
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
PRE_ICCID=8949449999999990015
printf '[%s]\n' "$(order_json PRE "$PRE_ICCID")" >"$ORDERS"
srv_start
sgp_device phone
sgp_device phone2 euicc2

# A profile that stays, and a notification that stays pending (its delivery failed).
run 0 esim add "LPA:1\$$SMDP_ADDR\$PRE" --device phone --carrier Verizon
misbehave '{"mode": "http-500", "functions": ["handleNotification"]}'
run 0 esim euicc enable "$PRE_ICCID" --device phone
err_has "was not delivered"
misbehave '{}'
list_is '.pending_notifications | map(.event)' '["enable"]'
euicc_is phone '[(.profiles | map(.iccid)), (.notifications | map(.event))]' "[[\"$PRE_ICCID\"],[\"enable\"]]"


N=0
AC=
# new_order: a fresh order on the server; AC is its activation code.
new_order() {
	N=$((N + 1))
	MID=FAIL-$N
	admin /test/orders "$(order_json "$MID" "$(printf '89494499999999%05d' $((N * 10)))")" >/dev/null ||
		nok "POST /test/orders $MID"
	AC="LPA:1\$$SMDP_ADDR\$$MID"
}

# attempt STATUS MESSAGE: the download fails with STATUS and MESSAGE, and changes nothing.
attempt() {
	local status=$1 msg=$2
	store_save
	log_mark
	run "$status" esim --json add "$AC" --device phone --carrier Verizon
	json_eq '.error.status' "$status"
	err_has "$msg"
	store_same
	euicc_is phone '[(.profiles | map(.iccid)), (.notifications | map(.event))]' "[[\"$PRE_ICCID\"],[\"enable\"]]"
}

# The eUICC had a session: it was cancelled and the SM-DP+ got the eUICC's signed answer.
cancelled() {
	log_is "cancelSession${1:+ reason $1}, signed by the eUICC" \
		".event == \"cancelSession\" and .valid == true${1:+ and .reason == $1}" 1
	log_is "no notification" '.event == "notification"' 0
}

# The eUICC had no session yet: nothing to cancel.
no_session() {
	check "only initiateAuthentication was requested" [ "$(req_functions)" = initiateAuthentication ]
}

# The eUICC returned an error result (BF37): reported with handleNotification, not cancelled.
error_result() {
	log_is "the eUICC's error result was delivered and verified" \
		'.event == "notification" and .type == "install" and .result == "error" and .valid == true' 1
	log_is "no cancelSession" '.function == "cancelSession"' 0
}

case_() {
	echo "# --- $*"
	new_order
}

# ---- refusals by the SM-DP+ (exit 8) ----

case_ unknown matching ID
AC="LPA:1\$$SMDP_ADDR\$NO-SUCH-ORDER"
attempt 8 "refused the matching ID"
json_eq '[.error.subject_code, .error.reason_code]' '["8.2.6","3.8"]'
# the server quotes the matching ID: esimctl shows its words with the secret masked
json_eq '.error.smdp_message' '"Refused: unknown matchingId '"'*************'"'"'
cancelled

case_ mode unknown-matching-id
misbehave '{"mode": "unknown-matching-id"}'
attempt 8 "refused the matching ID"
json_eq '[.error.subject_code, .error.reason_code]' '["8.2.6","3.8"]'
cancelled

case_ mode failed-status with the server\'s own codes
misbehave '{"mode": "failed-status", "subject": "8.1.1", "reason": "3.8", "message": "EID refused here"}'
attempt 8 "SM-DP+ said: EID refused here"
json_eq '[.error.subject_code, .error.reason_code, .error.smdp_message]' '["8.1.1","3.8","EID refused here"]'
# The server answers before it has the eUICC certificate, so it cannot verify the cancel.
log_is "cancelSession sent" '.event == "request" and .function == "cancelSession"' 1

case_ mode expired-transaction on authenticateClient
misbehave '{"mode": "expired-transaction", "functions": ["authenticateClient"]}'
attempt 8 "does not know the transaction"
json_eq '[.error.subject_code, .error.reason_code]' '["8.10.1","3.9"]'
json_eq '.error.hint' '"start the download again"'
log_is "cancelSession sent" '.event == "request" and .function == "cancelSession"' 1

case_ mode expired-transaction on getBoundProfilePackage
misbehave '{"mode": "expired-transaction", "functions": ["getBoundProfilePackage"]}'
attempt 8 "does not know the transaction"
log_is "cancelSession sent" '.event == "request" and .function == "cancelSession"' 1

# ---- invalid answers from the SM-DP+ (exit 8) ----

case_ mode bad-euicc-challenge
misbehave '{"mode": "bad-euicc-challenge"}'
attempt 8 "does not carry our eUICC challenge"
no_session

case_ mode wrong-server-address
misbehave '{"mode": "wrong-server-address"}'
attempt 8 "names another SM-DP+ address"
no_session

case_ mode txid-mismatch
misbehave '{"mode": "txid-mismatch"}'
attempt 8 "transactionId"
no_session

case_ mode malformed-json on initiateAuthentication
misbehave '{"mode": "malformed-json", "functions": ["initiateAuthentication"]}'
attempt 8 "invalid response from the SM-DP+ to initiateAuthentication: not JSON"
no_session

case_ mode malformed-json on getBoundProfilePackage
misbehave '{"mode": "malformed-json", "functions": ["getBoundProfilePackage"]}'
attempt 8 "invalid response from the SM-DP+ to getBoundProfilePackage: not JSON"
cancelled 127

case_ mode invalid-base64 on initiateAuthentication
misbehave '{"mode": "invalid-base64", "functions": ["initiateAuthentication"]}'
attempt 8 "is not valid base64"
no_session

case_ mode invalid-base64 on authenticateClient
misbehave '{"mode": "invalid-base64", "functions": ["authenticateClient"]}'
attempt 8 "to authenticateClient: profileMetadata is not valid base64"
cancelled

case_ mode invalid-base64 on getBoundProfilePackage
misbehave '{"mode": "invalid-base64", "functions": ["getBoundProfilePackage"]}'
attempt 8 "to getBoundProfilePackage: boundProfilePackage is not valid base64"
cancelled

case_ mode truncated-bpp
misbehave '{"mode": "truncated-bpp"}'
attempt 8 "boundProfilePackage is not one DER TLV"
cancelled

case_ mode metadata-mismatch
misbehave '{"mode": "metadata-mismatch"}'
attempt 8 "metadata differs from what it announced (service provider name)"
cancelled 4

# ---- refusals by the eUICC (exit 9) ----

case_ mode wrong-signature-1
misbehave '{"mode": "wrong-signature-1"}'
attempt 9 "serverSignature1"
json_eq '.error.name' '"euicc"'
# AuthenticateServer failed: the eUICC opened no session, so there is nothing to cancel;
# its error answer went back to the SM-DP+ in authenticateClient, and nothing followed.
check "the eUICC's refusal was forwarded in authenticateClient" \
	[ "$(req_functions)" = initiateAuthentication,authenticateClient ]
log_is "no cancelSession" '.function == "cancelSession"' 0

case_ mode wrong-signature-2
misbehave '{"mode": "wrong-signature-2"}'
attempt 9 "smdpSignature2"
cancelled

case_ mode replay of another order\'s package
misbehave '{"mode": "replay"}'
attempt 8 "metadata differs from what it announced (ICCID)"
cancelled 4

# The same order's package from an earlier session (delivered to the second eUICC):
# the metadata agree, the eUICC refuses the stale transaction.
case_ mode replay of an earlier session\'s package of the same order
admin /test/orders '{"matching_id": "AGAIN", "iccid": "8949449999999990106", "reusable": true}' >/dev/null ||
	nok "POST /test/orders AGAIN"
misbehave '{}'
run 0 esim add "LPA:1\$$SMDP_ADDR\$AGAIN" --device phone2 --carrier Verizon
misbehave '{"mode": "replay"}'
AC="LPA:1\$$SMDP_ADDR\$AGAIN\$2.999.10"
attempt 9 "invalidTransactionId"
json_eq '.error.detail' '"bppCommandId 0, errorReason 3"'
error_result

case_ mode other-euicc
misbehave '{"mode": "other-euicc"}'
attempt 9 "signature does not verify"
json_eq '.error.detail' '"bppCommandId 0, errorReason 2"'
error_result

case_ mode other-euicc-mac
misbehave '{"mode": "other-euicc-mac"}'
attempt 9 "while configuring the ISD-P"
json_eq '.error.detail' '"bppCommandId 1, errorReason 8"'
error_result

case_ mode other-eid
misbehave '{"mode": "other-eid"}'
attempt 9 "integrity check"
json_eq '.error.detail' '"bppCommandId 1, errorReason 8"'
error_result

case_ mode tampered-segment
misbehave '{"mode": "tampered-segment"}'
attempt 9 "while loading the profile elements"
json_eq '.error.detail' '"bppCommandId 5, errorReason 8"'
error_result

case_ mode wrong-mac
misbehave '{"mode": "wrong-mac"}'
attempt 9 "scp03tSecurityError"
json_eq '.error.detail' '"bppCommandId 1, errorReason 8"'
error_result

case_ mode wrong-mac-88
misbehave '{"mode": "wrong-mac-88"}'
attempt 9 "while storing the profile metadata"
json_eq '.error.detail' '"bppCommandId 2, errorReason 8"'
error_result

case_ mode wrong-signature-bpp
misbehave '{"mode": "wrong-signature-bpp"}'
attempt 9 "while initialising the secure channel"
json_eq '.error.detail' '"bppCommandId 0, errorReason 2"'
error_result

case_ mode iccid-mismatch
misbehave '{"mode": "iccid-mismatch"}'
attempt 9 "does not match its metadata"
json_eq '.error.detail' '"bppCommandId 5, errorReason 13"'
error_result

# ---- transport failures (exit 7) ----

case_ mode http-500 on initiateAuthentication
misbehave '{"mode": "http-500", "functions": ["initiateAuthentication"]}'
attempt 7 "SM-DP+ answered HTTP 500 to initiateAuthentication"
json_eq '.error.name' '"network"'
no_session

case_ mode http-500 on getBoundProfilePackage
misbehave '{"mode": "http-500", "functions": ["getBoundProfilePackage"]}'
attempt 7 "SM-DP+ answered HTTP 500 to getBoundProfilePackage"
cancelled

case_ mode http-status 503 on authenticateClient
misbehave '{"mode": "http-status", "status": 503, "functions": ["authenticateClient"]}'
attempt 7 "SM-DP+ answered HTTP 503 to authenticateClient"
cancelled

case_ mode oversized-body on initiateAuthentication
misbehave '{"mode": "oversized-body", "functions": ["initiateAuthentication"]}'
attempt 7 "response larger than"
no_session

case_ mode oversized-body with a Content-Length on getBoundProfilePackage
misbehave '{"mode": "oversized-body", "content_length": true, "functions": ["getBoundProfilePackage"]}'
attempt 7 "response larger than"
cancelled

case_ mode redirect on initiateAuthentication
misbehave '{"mode": "redirect", "functions": ["initiateAuthentication"]}'
attempt 7 "redirects are not followed"
err_has "https://redirect.example.com/gsma/rsp2/es9plus/initiateAuthentication"
no_session

case_ mode redirect 307 on getBoundProfilePackage
misbehave '{"mode": "redirect", "status": 307, "location": "https://elsewhere.example.com/", "functions": ["getBoundProfilePackage"]}'
attempt 7 "HTTP 307 to getBoundProfilePackage, redirecting to 'https://elsewhere.example.com/'"
cancelled

case_ mode trickle, connection closed inside the body
# cut after a byte count, not a time, so the cut is inside the body on any machine
misbehave '{"mode": "trickle", "interval": 0.001, "max_bytes": 400, "functions": ["getBoundProfilePackage"]}'
attempt 7 "getBoundProfilePackage to SM-DP+ '$SMDP_ADDR' failed"
cancelled
log_is "the response was cut short, inside the body" '.function == "getBoundProfilePackage" and .trickle_sent == 400' 1

export ESIMCTL_TIMEOUT=2
case_ mode stall on getBoundProfilePackage, ES9+ timeout 2 s
misbehave '{"mode": "stall", "seconds": 30, "functions": ["getBoundProfilePackage"]}'
attempt 7 "timed out"
cancelled 2
# the server stalls 30 s: a record with stall_aborted_after says the client went first
log_is "the server saw the client give up during the stall" '.function == "getBoundProfilePackage" and .stall_aborted_after != null' 1

case_ mode trickle on authenticateClient, ES9+ timeout 2 s
misbehave '{"mode": "trickle", "functions": ["authenticateClient"]}'
attempt 7 "timed out"
cancelled 2
unset ESIMCTL_TIMEOUT

# Killed while waiting (the guard's SIGTERM, as a user's ^C): the TLS connection goes with
# it, the store is untouched and its lock released (the next cases use it).
case_ esimctl killed during a stalled authenticateClient
# The guard's SIGTERM comes KILL_AFTER s after the start; the stall lasts 60 s, so esimctl
# may take up to 60 - KILL_AFTER s to reach authenticateClient (seconds, even on a loaded
# machine) and still be killed inside it.
KILL_AFTER=20
[ -n "${ESIMCTL_VALGRIND:-}" ] && KILL_AFTER=40
misbehave '{"mode": "stall", "seconds": 60, "functions": ["authenticateClient"]}'
store_save
log_mark
SGP_GUARD=$KILL_AFTER run 124 esim add "$AC" --device phone --carrier Verizon
store_same
log_is "the connection closed with esimctl, during the stall" '.function == "authenticateClient" and .stall_aborted_after != null' 1
euicc_is phone '[(.profiles | map(.iccid)), (.notifications | map(.event))]' "[[\"$PRE_ICCID\"],[\"enable\"]]"

misbehave '{}'
case_ no SM-DP+ listening
SAVED_RESOLVE=$ESIMCTL_RESOLVE
DEAD_PORT=$(sgp_free_port)
export ESIMCTL_RESOLVE=$SGP_HOST:$DEAD_PORT:127.0.0.1
AC="LPA:1\$$SGP_HOST:$DEAD_PORT\$$MID"
attempt 7 "Couldn't connect"
export ESIMCTL_RESOLVE=$SAVED_RESOLVE

# The eUICC's error result cannot be delivered either (the order's own mode breaks the
# package, the global one handleNotification): it stays on the eUICC and is queued.
case_ an error result that cannot be delivered
admin /test/orders "$(order_json ERR-UNSENT 8949449999999990999 | jq -c '. + {misbehave: {mode: "tampered-segment"}}')" \
	>/dev/null || nok "POST /test/orders ERR-UNSENT"
misbehave '{"mode": "http-500", "functions": ["handleNotification"]}'
log_mark
run 9 esim --json add "LPA:1\$$SMDP_ADDR\$ERR-UNSENT" --device phone --carrier Verizon
json_eq '.notifications | map([.event, .sent])' '[["install",false]]'
err_has "scp03tSecurityError"
err_has "was not delivered"
log_is "no cancelSession" '.function == "cancelSession"' 0
euicc_is phone '[(.profiles | map(.iccid)), (.notifications | map(.event))]' "[[\"$PRE_ICCID\"],[\"enable\",\"install\"]]"
list_is '.pending_notifications | map(.event)' '["enable","install"]'
list_is '[.profiles[] | select(.bindings | map(.device) == ["phone"]) | .iccid]' "[\"$PRE_ICCID\"]"
misbehave '{}'

# ---- the card pulled mid-download (exit 10) ----
# The SM-DP+ holds its answer (mode hold) until the card is gone: the modem emulator or
# 'euicc serve' killed, with esimctl in the middle of the download; then it answers.
# esimctl must stop with exit 10 at once (no hang, no retry loop), change nothing in the
# store, and leave the card, once back, as it was.  Not on soft: that card is esimctl's
# own memory and cannot go while esimctl runs (t2000 kills esimctl itself mid-download).
# pulled FUNCTION ORDER-STATE: pulled while the answer to FUNCTION is held; the order is
# then in ORDER-STATE on the SM-DP+.
pulled() {
	local fn=$1 state=$2 i pid
	case_ card pulled while the SM-DP+ holds its answer to "$fn"
	hold "$fn"
	store_save
	log_mark
	esim --json add "$AC" --device phone --carrier Verizon >"$OUT" 2>"$ERR" </dev/null &
	pid=$!
	ESIM_RUNS=$((ESIM_RUNS + 1))
	LAST="esimctl --json add $AC --device phone (card pulled during $fn)"
	check "the SM-DP+ holds its answer to $fn" wait_until held_is "$fn"
	card_stop phone
	admin /test/release '{}' >/dev/null || nok "POST /test/release"
	wait "$pid"
	i=$?
	if [ "$i" = 10 ]; then ok "exit 10: card pulled during $fn"; else nok "exit $i, wanted 10: card pulled during $fn"; fi
	one_json
	json_eq '.error.name' '"euicc_unreachable"'
	json_eq '.download.installed' false
	case $BACKEND in
	at | at-csim) err_has "(modem gone? reconnect it and try again)" ;;
	pcsc) err_has "the card was removed from PC/SC reader" ;;
	esac
	store_same
	check "order $MID is $state on the SM-DP+" \
		[ "$(admin /test/state | jq -r --arg m "$MID" '.orders[] | select(.matching_id == $m) | .state')" = "$state" ]
	misbehave '{}'
	card_start phone
	euicc_is phone '[(.profiles | map(.iccid)), (.notifications | map(.event))]' "[[\"$PRE_ICCID\"],[\"enable\",\"install\"]]"
	list_is '.pending_notifications | map(.event)' '["enable","install"]'
}
if runs_on "a card pulled mid-download" at at-csim pcsc; then
	# after the package was bound: the SM-DP+ counts it downloaded (no eUICC signed a cancel)
	pulled getBoundProfilePackage downloaded
	# before it was bound: the order can be downloaded again (below, once the card is back)
	pulled authenticateClient released
fi

# ---- afterwards: nothing leaked, and the eUICC still works ----
echo "# --- afterwards"
list_is '[.profiles[] | select(.bindings | map(.device) == ["phone"]) | .iccid]' "[\"$PRE_ICCID\"]"
# where the card was pulled, the order whose download it interrupted is downloaded now
backend_is soft && new_order
log_mark
run 0 esim --json add "$AC" --device phone --carrier Verizon
json_eq '.download.requests' 4
euicc_is phone '.profiles | length' 2
log_mark
run 0 esim --json notifications send --device phone
json_eq '[.sent, .failed]' '[2,0]'
log_is "the enable notification, valid" ".event == \"notification\" and .type == \"enable\" and .valid == true and .iccid == \"$PRE_ICCID\"" 1
log_is "the queued error result, valid" '.event == "notification" and .type == "install" and .result == "error" and .valid == true' 1
euicc_is phone '.notifications' '[]'
list_is '.pending_notifications' '[]'
log_settle
check "the server recorded no internal error" bash -c '! grep -q "\"internal-error\"" "$1"' _ "$SRV_LOG"
finish
