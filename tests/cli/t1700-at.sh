#!/usr/bin/env bash
# t1700-at.sh - the SGP.22 core flow through an AT modem: at:DEVICE (AT+CCHO/AT+CGLA/
# AT+CCHC) and at-csim:DEVICE (AT+CSIM on the basic channel), against the test modem
# tests/emulators/atmodem.c on a pseudo-terminal with the software eUICC as its SIM.
# Download, enable, disable, release with every notification delivered; then the modem's
# failure modes: unsolicited result codes and echoes, +CME ERROR, a stall, a locked port,
# ModemManager running.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require
modem_require

ICCID=8949449999999990023
ICCID2=8949449999999990031
REAL_MM=$(pgrep -x ModemManager | head -1)
HOLD_PIDS=()
at_cleanup() {
	local p
	for p in ${HOLD_PIDS[@]+"${HOLD_PIDS[@]}"}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	sgp_cleanup
}
trap at_cleanup EXIT

soft_create() {
	run 0 esim euicc create-soft "$1" --eid "$(pki_eid euicc)" \
		--cert "$(pki_path euicc cert_der)" --key "$(pki_path euicc key_pem)" \
		--eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
}

# lifecycle SCHEME: the core flow through one modem form.
lifecycle() {
	local scheme=$1 dev=modem-$1 id apdus
	echo "# --- $scheme"
	soft_create "$T/$dev.json"
	if [ "$scheme" = at-csim ]; then
		modem_start "$dev" "$T/$dev.json" --no-cgla --urc --echo
	else
		# "+CCHO: N" as many modems answer; the suite's reruns on at: (sgp22-lib.sh) keep
		# the bare session id of 3GPP TS 27.007 §8.45, so both forms are driven.
		modem_start "$dev" "$T/$dev.json" --urc --echo --ccho-prefix
	fi
	run 0 esim device add "$dev" --kind phone --euicc "$scheme:$PTY"
	out_has "EID $(pki_eid euicc)"
	[ -n "$REAL_MM" ] || err_lacks warning
	euicc_is "$dev" '.profiles | length' 0

	log_mark
	: >"$T/$dev.apdus"
	ESIMCTL_TIMING=1 run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-$scheme" --device "$dev" --carrier Verizon
	one_json
	json_eq '.download.installed' true
	json_eq '.download.notification_sent' true
	json_eq '.profile.iccid' "\"$ICCID\""
	id=$(jq -r .profile.id "$OUT")
	log_is "install notification, valid" ".event == \"notification\" and .type == \"install\" and .valid == true" 1
	apdus=$(wc -l <"$T/$dev.apdus")
	grep '^esimctl: apdu:' "$ERR" | sed "s/^/# $scheme download: /"
	check "ESIMCTL_TIMING=1 counts the $apdus APDUs the modem carried" \
		grep -q "^esimctl: apdu: $apdus commands, [1-9][0-9]* bytes sent, [1-9][0-9]* bytes received\$" "$ERR"
	if [ "$scheme" = at-csim ]; then
		check "only AT+CSIM on the basic channel" bash -c '! grep -qv "^CSIM 0 " "$1"' _ "$T/$dev.apdus"
		check "no MANAGE CHANNEL through AT+CSIM" bash -c '! grep -q "^CSIM 0 0070" "$1"' _ "$T/$dev.apdus"
	else
		check "only AT+CGLA on logical channel 1" bash -c '! grep -qv "^CGLA 1 81" "$1"' _ "$T/$dev.apdus"
	fi

	log_mark
	run 0 esim euicc enable "$id" --device "$dev"
	out_has "enabled $ICCID on '$dev'"
	euicc_is "$dev" '.profiles[0].state' '"enabled"'
	log_is "enable notification, valid" '.event == "notification" and .type == "enable" and .valid == true' 1

	log_mark
	run 0 esim --json euicc disable "$ICCID" --device "$dev"
	json_eq '.notifications | map([.event, .sent])' '[["disable",true]]'
	log_is "disable notification, valid" '.event == "notification" and .type == "disable" and .valid == true' 1
	run 9 esim euicc disable "$ICCID" --device "$dev"
	err_has "$ICCID"

	run 0 esim euicc enable "$ICCID" --device "$dev"
	log_mark
	run 0 esim --json release "$id" --device "$dev"
	json_eq '.notifications | map([.event, .sent])' '[["disable",true],["delete",true]]'
	log_is "disable and delete notifications, valid" \
		'.event == "notification" and (.type == "disable" or .type == "delete") and .valid == true' 2
	euicc_is "$dev" '.profiles' '[]'
	euicc_is "$dev" '.notifications' '[]'
	list_is '.pending_notifications' '[]'
}

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
printf '[%s, %s, %s, %s, %s]\n' "$(order_json MATCH-at $ICCID)" "$(order_json MATCH-at-csim $ICCID)" \
	"$(order_json MATCH-f $ICCID2)" "$(order_json MATCH-small $ICCID2)" \
	"$(order_json MATCH-lc100 $ICCID2)" >"$ORDERS"
srv_start
lifecycle at
lifecycle at-csim

# ---- failures ----
echo "# --- failures"
soft_create "$T/f.json"

# at: on a modem without logical channels: ERROR to AT+CCHO, advice to use at-csim:.
modem_start nocgla "$T/f.json" --no-cgla
run 9 esim device add f1 --kind phone --euicc "at:$PTY"
err_has "answered ERROR to AT+CCHO"
err_has "at-csim:$PTY"
modem_stop "$MODEM_PID"

# A modem that takes C-APDUs of at most 100 bytes: +CME ERROR: 50 to the STORE DATA blocks
# of 255 and 120 bytes; the session goes down to 64-byte blocks and the download succeeds.
modem_start small "$T/f.json" --max-apdu 100
run 0 esim device add f2 --kind phone --euicc "at:$PTY"
: >"$T/small.apdus"
ESIMCTL_TIMING=1 run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-small" --device f2 --carrier Verizon
one_json
json_eq '.download.installed' true
err_has "esimctl: apdu: STORE DATA blocks of 64 bytes (short), 2 fallbacks, "
check "the modem refused APDUs longer than 100 bytes (+CME ERROR: 50)" \
	grep -q "^esimctl: apdu: STORE DATA blocks of 64 bytes (short), 2 fallbacks, [1-9][0-9]* refused by the transport\$" "$ERR"
check "every APDU the modem carried has at most 100 bytes" \
	bash -c '! awk "length(\$3) > 200" "$1" | grep -q .' _ "$T/small.apdus"
check "blocks of 64 bytes went through" grep -q "^CGLA 1 81E211..40" "$T/small.apdus"
run 0 esim release "$(jq -r .profile.id "$OUT")" --device f2
kill "${MODEM_PIDS[-1]}"; wait "${MODEM_PIDS[-1]}" 2>/dev/null

# A SIM that answers 6700 (wrong length) to more than 100 data bytes, through the modem:
# the same fallback from the card's side; the chain restarts at block 00 each time.
modem_start lc100 "$T/f.json" --max-lc 100
run 0 esim device add f2c --kind phone --euicc "at:$PTY"
: >"$T/lc100.apdus"
ESIMCTL_TIMING=1 run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-lc100" --device f2c --carrier Verizon
one_json
json_eq '.download.installed' true
check "6700 made the session go 255 -> 120 -> 64" \
	grep -q "^esimctl: apdu: STORE DATA blocks of 64 bytes (short), 2 fallbacks, 0 refused by the transport\$" "$ERR"
check "the modem carried a 255-byte block, then a 120-byte block 00" \
	bash -c 'grep -n "^CGLA 1 81E2..00FF" "$1" | head -1 | grep -q . && grep -q "^CGLA 1 81E2..0078" "$1"' _ "$T/lc100.apdus"
run 0 esim release "$(jq -r .profile.id "$OUT")" --device f2c
kill "${MODEM_PIDS[-1]}"; wait "${MODEM_PIDS[-1]}" 2>/dev/null

# A modem that takes C-APDUs of at most 30 bytes: even 32-byte blocks are refused; the
# download fails with the modem's error named, exit 9, nothing stored.
modem_start tiny "$T/f.json" --max-apdu 30
run 0 esim device add f2t --kind phone --euicc "at:$PTY"
store_save
run 9 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-f" --device f2t --carrier Verizon
one_json
json_eq '.error.name' '"euicc"'
json_eq '.download.installed' false
err_has "+CME ERROR: 50 (incorrect parameters) to AT+CGLA"
store_same
modem_stop "$MODEM_PID"

# The SIM fails mid-session: +CME ERROR: 13 (SIM failure), exit 10.
modem_start simfail "$T/f.json" --sim-failure-after 3
run 0 esim device add f3 --kind phone --euicc "at:$PTY"
run 10 esim --json euicc info --device f3
json_eq '.error.name' '"euicc_unreachable"'
err_has "+CME ERROR: 13 (SIM failure)"
modem_stop "$MODEM_PID"

# A modem that stops answering: a timeout error (exit 10), not a hang.
modem_start stall "$T/f.json" --stall-after 0
ESIMCTL_AT_TIMEOUT=1 run 10 esim device add f4 --kind phone --euicc "at:$PTY"
err_has "did not answer AT+CGLA within 1 s"
ESIMCTL_AT_TIMEOUT=0 run 2 esim device add f4 --kind phone --euicc "at:$PTY"
err_has "ESIMCTL_AT_TIMEOUT"
modem_stop "$MODEM_PID"

# A port another process holds: flock(1) -> exit 10 naming it; a live UUCP lock file too;
# a stale one is no obstacle.
modem_start locked "$T/f.json"
cp "$(command -v sleep)" "$T/holder"
flock -x -o "$PTY" "$T/holder" 300 >/dev/null 2>&1 &
FLOCK_PID=$!
for ((i = 0; i < 100; i++)); do HOLDER=$(pgrep -P "$FLOCK_PID") && break; sleep 0.05; done
HOLD_PIDS+=("$HOLDER" "$FLOCK_PID")
run 10 esim device add f5 --kind phone --euicc "at:$PTY"
err_has "serial port '$PTY' is in use by process"
err_has "(flock)"
kill "$HOLDER" "$FLOCK_PID"; wait "$FLOCK_PID" 2>/dev/null
"$T/holder" 300 >/dev/null 2>&1 &
HOLD_PIDS+=($!)
printf '%10d\n' "${HOLD_PIDS[-1]}" >"$ESIMCTL_UUCP_LOCK_DIR/LCK..${PTY##*/}"
run 10 esim device add f5 --kind phone --euicc "at:$PTY"
err_has "is locked by process ${HOLD_PIDS[-1]} (holder)"
kill "${HOLD_PIDS[-1]}"; wait "${HOLD_PIDS[-1]}" 2>/dev/null
run 0 esim device add f5 --kind phone --euicc "at:$PTY"
rm -f "$ESIMCTL_UUCP_LOCK_DIR/LCK..${PTY##*/}"

# ModemManager running: a warning naming it (a process of that name stands in for it;
# not where a real one runs, whose pid would be named instead).
if [ -n "$REAL_MM" ]; then
	echo "# skipped the ModemManager warning check: ModemManager runs here (pid $REAL_MM)"
else
cp "$(command -v sleep)" "$T/ModemManager"
"$T/ModemManager" 300 >/dev/null 2>&1 &
HOLD_PIDS+=($!)
run 0 esim euicc info --device f5
err_has "warning: ModemManager (pid ${HOLD_PIDS[-1]}) is running and may use '$PTY'"
# device add warns as every other command does: --quiet silences it, --json carries it.
run 0 esim device add f7 --kind phone --euicc "at:$PTY"
err_has "warning: ModemManager (pid ${HOLD_PIDS[-1]}) is running and may use '$PTY'"
run 0 esim --quiet device add f8 --kind phone --euicc "at:$PTY"
err_lacks "ModemManager"
run 0 esim --json device add f9 --kind phone --euicc "at:$PTY"
one_json
check "device add --json carries the ModemManager warning" \
	jq -e '.warnings | any(test("ModemManager \\(pid [0-9]+\\) is running"))' "$OUT"
kill "${HOLD_PIDS[-1]}"; wait "${HOLD_PIDS[-1]}" 2>/dev/null
fi

# Not a serial port; no such port.
run 10 esim device add f6 --kind phone --euicc "at:$T/f.json"
err_has "is not a serial port"
run 10 esim device add f6 --kind phone --euicc "at:$T/nonexistent"
err_has "cannot open serial port"
run 2 esim device add f6 --kind phone --euicc "at:"
err_has "needs a serial port"
finish
