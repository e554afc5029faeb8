#!/usr/bin/env bash
# t1800-pcsc.sh - the SGP.22 core flow through a PC/SC reader: pcsc:READER against a
# private pcscd with vsmartcard's vpcd driver (tests/cli/pcsc-lib.sh), the card being the
# software eUICC served by `esimctl euicc serve`.
#
# An independent PC/SC client (pcsc-tools' scriptor) reads the EID from the served card.
# Download (and one with a confirmation code), enable, disable, nickname, release with
# every notification delivered; the reader named by exact name, a part of it, #N and
# nothing; then the failures: several cards and no name (exit 2 listing them), no pcscd
# (exit 10, "start pcscd"), a reader another process holds (exit 10 after the retry), a
# card pulled during a download (exit 10, no hang, the store and the eUICC unchanged, the
# download works once the card is back) and during the package's load (before and after
# the eUICC's commit: nothing lost, euicc sync adopts what the eUICC installed), a T=1-only
# card, a T=0-only card advertising extended length (the block size falls back), pcscd
# restarted under a serving card, and `euicc serve`'s own errors.
. "$(dirname "$0")/sgp22-lib.sh"
. "$(dirname "$0")/pcsc-lib.sh"
sgp_require

ICCID=8949449999999990023
ICCID_CC=8949449999999990031
ICCID_P=8949449999999990049
ICCID_R=8949449999999990064
ICCID_S=8949449999999990072
ICCID_T=8949449999999990080
HOLD=$ESIMCTL_BUILD/tests/pcsc_hold
BG=
HOLDER=
t1800_cleanup() {
	[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
	[ -n "$HOLDER" ] && kill -9 "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	pcsc_cleanup
}
trap t1800_cleanup EXIT

soft_create() {
	run 0 esim euicc create-soft "$1" --eid "$(pki_eid "${2:-euicc}")" \
		--cert "$(pki_path "${2:-euicc}" cert_der)" --key "$(pki_path "${2:-euicc}" key_pem)" \
		--eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
}

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
printf '[%s, %s, %s, %s, %s, %s, %s]\n' "$(order_json MATCH-1 $ICCID)" "$(order_json MATCH-CC $ICCID_CC '"QX7391"')" \
	"$(order_json MATCH-P $ICCID_P)" "$(order_json MATCH-Q $ICCID_P)" "$(order_json MATCH-R $ICCID_R)" \
	"$(order_json MATCH-S $ICCID_S)" "$(order_json MATCH-T $ICCID_T)" >"$ORDERS"
srv_start
pcsc_start 2
EID=$(pki_eid euicc)
EID2=$(pki_eid euicc2)
soft_create "$T/a.json"
soft_create "$T/b.json" euicc2

echo "# --- euicc serve, seen by pcscd and by an independent PC/SC client"
pcsc_card_start a "$T/a.json"
READER_A=$CARD_READER
check "serve says what it serves and where" \
	grep -qF "serving eUICC $EID (soft:$T/a.json) as the card of vpcd at 127.0.0.1 port ${PCSC_READER_PORTS[0]}" "$T/serve-a.err"
check "pcsc_hold lists the card in '$READER_A'" bash -c '"$1" --list | grep -qxF "0	$2	present"' _ "$HOLD" "$READER_A"
if command -v scriptor >/dev/null 2>&1; then
	# MANAGE CHANNEL open, SELECT ISD-R on channel 1, ES10c GetEUICCData (EID) (SGP.22 §5.7.20)
	printf '%s\n' '00 70 00 00 01' '01 A4 04 00 10 A0 00 00 05 59 10 10 FF FF FF FF 89 00 00 01 00' \
		'81 E2 91 00 06 BF 3E 03 5C 01 5A 00' '00 70 80 01 00' >"$T/apdus"
	# T=0 only, as lpac connects (SCARD_PROTOCOL_T0, SCARD_PCI_T0)
	timeout -k 2 20 scriptor -r "$READER_A" -p T=0 "$T/apdus" >"$T/scriptor.out" 2>&1
	# scriptor breaks responses after 16 bytes: join the lines first
	EIDSP=$(echo "$EID" | sed 's/../& /g; s/ $//')
	check "scriptor (pcsc-tools) reads the EID: BF3E 12 5A 10 EID 9000" \
		bash -c 'tr -s " \n" "  " <"$1" | grep -qF "< BF 3E 12 5A 10 $2 90 00"' _ "$T/scriptor.out" "$EIDSP"
	grep -q "BF 3E 12" "$T/scriptor.out" || sed 's/^/#   scriptor: /' "$T/scriptor.out"
	check "scriptor: T=0, the ATR's default protocol" grep -qF "Using T=0 protocol" "$T/scriptor.out"
	timeout -k 2 20 pcsc_scan -c -t 1 >"$T/pcsc_scan.out" 2>&1
	check "pcsc_scan (pcsc-tools): the card's ATR is the built-in eUICC ATR" \
		grep -qF "ATR: 3B 9A 96 80 B1 FE 45 1F C7 80 31 E0 73 F6 21 57 82 90 00 EE" "$T/pcsc_scan.out"
else
	skip_part "scriptor not installed (Debian pcsc-tools): no independent client check"
fi

echo "# --- the reader by exact name, a part of it, #N, nothing"
run 0 esim device add exact --kind phone --euicc "pcsc:$READER_A"
out_has "EID $EID"
run 0 esim device add part --kind phone --euicc "pcsc:pcd 0 00 00"
out_has "EID $EID"
run 0 esim device add index --kind phone --euicc "pcsc:#0"
out_has "EID $EID"
run 0 esim device add only --kind phone --euicc "pcsc:"
out_has "EID $EID"
run 0 esim --json device list
json_eq '[.devices[] | select(.name == "part") | .euicc]' '["pcsc:pcd 0 00 00"]'

echo "# --- download, enable, disable, nickname, release"
DEV=exact
log_mark
ESIMCTL_TIMING=1 run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device $DEV --carrier Verizon
one_json
json_eq '.download.installed' true
json_eq '.download.notification_sent' true
json_eq '.profile.iccid' "\"$ICCID\""
ID=$(jq -r .profile.id "$OUT")
grep '^esimctl: apdu:' "$ERR" | sed 's/^/# pcsc download: /'
log_is "install notification, valid" '.event == "notification" and .type == "install" and .valid == true' 1
check "the profile is in the served eUICC's state file" \
	bash -c 'jq -e --arg i "$1" "any(.profiles[]; .iccid == \$i)" "$2" >/dev/null' _ "$ICCID" "$T/a.json"

log_mark
run 0 esim euicc enable "$ID" --device $DEV
out_has "enabled $ICCID on '$DEV'"
euicc_is $DEV '.profiles[0].state' '"enabled"'
log_is "enable notification, valid" '.event == "notification" and .type == "enable" and .valid == true' 1
run 0 esim euicc nickname "$ID" travel --device $DEV
euicc_is $DEV '.profiles[0].nickname' '"travel"'
log_mark
run 0 esim --json euicc disable "$ICCID" --device $DEV
json_eq '.notifications | map([.event, .sent])' '[["disable",true]]'
log_is "disable notification, valid" '.event == "notification" and .type == "disable" and .valid == true' 1
euicc_is $DEV '.profiles[0].state' '"disabled"'

log_mark
run 2 esim add "LPA:1\$$SMDP_ADDR\$MATCH-CC" --device part --carrier Verizon
err_has "requires a confirmation code"
run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-CC" --device part --carrier Verizon --confirmation-code QX7391
json_eq '.profile.iccid' "\"$ICCID_CC\""
log_is "the confirmation-code download's install notification" '.event == "notification" and .type == "install" and .valid == true' 1
euicc_is index '[.profiles[].iccid] | sort' "[\"$ICCID\",\"$ICCID_CC\"]"

run 0 esim euicc enable "$ICCID" --device $DEV
log_mark
run 0 esim --json release "$ID" --device $DEV
json_eq '.notifications | map([.event, .sent])' '[["disable",true],["delete",true]]'
log_is "disable and delete notifications, valid" \
	'.event == "notification" and (.type == "disable" or .type == "delete") and .valid == true' 2
run 0 esim --json release "$ICCID_CC" --device part
json_eq '.notifications | map([.event, .sent])' '[["delete",true]]'
euicc_is $DEV '.profiles' '[]'
euicc_is $DEV '.notifications' '[]'
list_is '.pending_notifications' '[]'

echo "# --- several readers with a card"
pcsc_card_start b "$T/b.json"
READER_B=$CARD_READER
run 2 esim device add x --kind phone --euicc "pcsc:"
err_has "several PC/SC readers hold a card: #0 '$READER_A' and #1 '$READER_B'"
err_has "pcsc:#N"
run 2 esim --json device add x --kind phone --euicc "pcsc:virtual"
one_json
json_eq '.error.name' '"usage"'
err_has "PC/SC reader 'virtual' is ambiguous"
run 0 esim device add second --kind phone --euicc "pcsc:#1"
out_has "EID $EID2"
run 0 esim euicc info --device exact
out_has "$EID"
run 10 esim device add x --kind phone --euicc "pcsc:#2"
err_has "no PC/SC reader '#2'"
run 10 esim device add x --kind phone --euicc "pcsc:OMNIKEY"
err_has "no PC/SC reader 'OMNIKEY' (there are #0 '$READER_A' and #1 '$READER_B')"
run 2 esim device add x --kind phone --euicc "pcsc:#x"
err_has "# must be followed by the reader's number"
pcsc_card_stop b
run 10 esim euicc info --device second
err_has "no card in PC/SC reader '$READER_B'"

echo "# --- no pcscd"
PCSCLITE_CSOCK_NAME=$T/nothing/pcscd.comm run 10 esim --json euicc info --device exact
one_json
json_eq '.error.name' '"euicc_unreachable"'
err_has "cannot reach pcscd"
err_has "start pcscd (systemctl start pcscd.socket, or pcscd -f)"

echo "# --- a reader another process holds"
"$HOLD" --hold "$READER_A" >"$T/holder.out" 2>&1 &
HOLDER=$!
wait_until grep -qx held "$T/holder.out" || nok "pcsc_hold did not take '$READER_A'"
ESIMCTL_PCSC_WAIT=1 run 10 esim euicc info --device exact
err_has "PC/SC reader '$READER_A' is in use by another process (waited 1 s)"
err_has "Sharing violation"
# GnuPG's scdaemon keeps readers open: named when it runs (a process of that name stands
# in for it; not where a real one runs).
REAL_SCD=$(pgrep -x scdaemon | head -1)
if [ -n "$REAL_SCD" ]; then
	echo "# skipped the scdaemon hint check: scdaemon runs here (pid $REAL_SCD)"
else
	cp "$(command -v sleep)" "$T/scdaemon"
	"$T/scdaemon" 300 >/dev/null 2>&1 &
	SCD=$!
	ESIMCTL_PCSC_WAIT=0 run 10 esim euicc info --device exact
	err_has "hint: scdaemon (pid $SCD) is running and keeps readers open"
	pcsc_kill "$SCD"
fi
pcsc_kill "$HOLDER"; HOLDER=
run 0 esim euicc info --device exact
out_has "$EID"
# Released while esimctl waits: it gets the reader.
"$HOLD" --hold "$READER_A" >"$T/holder.out" 2>&1 &
HOLDER=$!
wait_until grep -qx held "$T/holder.out" || nok "pcsc_hold did not take '$READER_A'"
ESIMCTL_PCSC_WAIT=60 esim euicc info --device exact >"$T/wait.out" 2>"$T/wait.err" &
BG=$!
pcsc_kill "$HOLDER"; HOLDER=
wait "$BG"
st=$?
BG=
check "an esimctl waiting for the reader gets it once it is free (exit $st)" grep -qF "$EID" "$T/wait.out"

echo "# --- the card pulled during a download"
store_save
cp "$T/a.json" "$T/a.before"
hold getBoundProfilePackage
esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-P" --device exact --carrier Verizon >"$T/bg.out" 2>"$T/bg.err" </dev/null &
BG=$!
if wait_until held_is getBoundProfilePackage; then ok "the download is held at getBoundProfilePackage"; else nok "the download did not reach getBoundProfilePackage"; fi
pcsc_card_stop a
unhold
wait "$BG"
st=$?
BG=
check "the download ends with exit 10, not a hang (exit $st)" [ "$st" = 10 ]
check "the message says the card was removed" grep -qF "the card was removed from PC/SC reader '$READER_A'" "$T/bg.err"
check "one JSON document, euicc_unreachable" \
	bash -c 'jq -e ".error.name == \"euicc_unreachable\"" "$1" >/dev/null' _ "$T/bg.out"
store_same
check "the eUICC's state is unchanged" cmp -s "$T/a.before" "$T/a.json"
# The SM-DP+ delivered the package, so it counts the order as downloaded (the eUICC, gone,
# could not sign a cancelSession): the truthful outcome is a refusal of the same code.
pcsc_card_start a "$T/a.json"
check "the card is back in the same reader" [ "$CARD_READER" = "$READER_A" ]
run 8 esim add "LPA:1\$$SMDP_ADDR\$MATCH-P" --device exact --carrier Verizon
err_has "already used"
store_same
run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-Q" --device exact --carrier Verizon
json_eq '.profile.iccid' "\"$ICCID_P\""
euicc_is exact '[.profiles[].iccid]' "[\"$ICCID_P\"]"

echo "# --- the card pulled during the bound profile package's load"
# The serve process dies (SIGKILL from the fault shim, tests/faults/inject.c) at the one
# commit of its state file in a download, the installation at the end of the package:
# before the rename (nothing installed) and after it (installed, the answer lost).
INJ=$(fault_shim)
if sanitized; then
	# not a skip: the sanitizer build cannot take the shim; the gcc build runs this part
	echo "# no kill during the package load in this build: the sanitizer intercepts the shim's calls"
elif [ -z "$INJ" ] || [ ! -f "$INJ" ]; then
	nok "the fault injection shim libesimctl_inject.so is not built"
else
	pcsc_card_stop a
	LD_PRELOAD=$INJ ESIMCTL_FAULT=rename:kill:1 ESIMCTL_FAULT_DIR=$T pcsc_card_start a "$T/a.json"
	store_save
	cp "$T/a.json" "$T/a.before"
	run 10 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-R" --device exact --carrier Verizon
	err_has "the card was removed from PC/SC reader '$READER_A'"
	json_eq '.download.installed' false
	store_same
	check "killed before its commit: the eUICC's state is unchanged" cmp -s "$T/a.before" "$T/a.json"
	pcsc_card_stop a

	LD_PRELOAD=$INJ ESIMCTL_FAULT=rename:killafter:1 ESIMCTL_FAULT_DIR=$T pcsc_card_start a "$T/a.json"
	run 10 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-S" --device exact --carrier Verizon
	err_has "the card was removed from PC/SC reader '$READER_A'"
	store_same
	check "killed after its commit: the eUICC holds the profile" \
		bash -c 'jq -e --arg i "$1" "any(.profiles[]; .iccid == \$i)" "$2" >/dev/null' _ "$ICCID_S" "$T/a.json"
	pcsc_card_stop a
	pcsc_card_start a "$T/a.json"
	# nothing is lost: sync adopts the profile and queues its install notification, which
	# is then delivered
	run 0 esim --json euicc sync --device exact
	json_eq '.changes | map(.action)' '["adopt","queue-notification"]'
	json_eq '.changes[0].iccid' "\"$ICCID_S\""
	log_mark
	run 0 esim notifications send --device exact
	log_is "the install notification of the interrupted download, delivered and valid" \
		'.event == "notification" and .type == "install" and .valid == true' 1
	list_is '.pending_notifications' '[]'
fi

echo "# --- pcscd restarted under a serving card"
pcsc_restart
wait_until pcsc_reader_state "$READER_A" 1 || nok "the card did not come back after pcscd restarted"
check "serve said it reconnected" grep -qF "reconnecting" "$T/serve-a.err"
run 0 esim euicc info --device exact
out_has "$ICCID_P"

echo "# --- a T=1-only card without card capabilities (the built-in ATR makes T=0 the default)"
pcsc_card_stop a
pcsc_card_start a "$T/a.json" --atr 3B800181
run 0 esim --json euicc info --device exact
json_eq '.euicc.eid' "\"$EID\""
json_eq '.euicc.profiles | map(.iccid) | index("'"$ICCID_P"'") != null' true
if command -v scriptor >/dev/null 2>&1; then
	echo '00 70 00 00 01' | timeout -k 2 20 scriptor -r "$READER_A" >"$T/scriptor1.out" 2>&1
	check "scriptor: T=1 with a T=1-only ATR" grep -qF "Using T=1 protocol" "$T/scriptor1.out"
fi

echo "# --- a T=0-only card that advertises extended length: T=0 cannot carry it"
pcsc_card_stop a
pcsc_card_start a "$T/a.json" --atr 3B058073F62157
ESIMCTL_TIMING=1 run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-T" --device exact --carrier Verizon
json_eq '.profile.iccid' "\"$ICCID_T\""
grep '^esimctl: apdu:' "$ERR" | sed 's/^/# pcsc T=0 download: /'
err_has "STORE DATA blocks of 255 bytes (short), 1 fallbacks, 1 refused by the transport"

echo "# --- euicc serve: SIGTERM, errors"
kill -TERM "$CARD_PID"
wait_until pcsc_ended "$CARD_PID" || kill -9 "$CARD_PID"
wait "$CARD_PID"
st=$?
check "SIGTERM ends serve with exit 0 ($st)" [ "$st" = 0 ]
check "serve says it stopped" grep -q "stopped after [1-9][0-9]* APDUs" "$T/serve-a.err"
unset "PCSC_CARD_PID[a]"
run 2 esim euicc serve "pcsc:$READER_A" --vpcd "127.0.0.1:${PCSC_READER_PORTS[0]}"
err_has "only a software eUICC can be served (soft:PATH)"
run 2 esim euicc serve "soft:$T/a.json" --vpcd 127.0.0.1:99999
err_has "the port must be a number from 1 to 65535"
run 2 esim euicc serve "soft:$T/a.json" --atr 3C00
err_has "--atr '3C00'"
run 10 esim euicc serve "soft:$T/nothing.json" --vpcd "127.0.0.1:${PCSC_READER_PORTS[0]}"
err_has "does not exist"
FREE=$(sgp_free_port)
run 10 esim euicc serve "soft:$T/a.json" --vpcd "127.0.0.1:$FREE"
err_has "cannot connect to vpcd at 127.0.0.1 port $FREE: Connection refused"
err_has "vsmartcard-vpcd"
finish
