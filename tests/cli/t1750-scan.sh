#!/usr/bin/env bash
# t1750-scan.sh - 'esimctl euicc scan' and the ISD-R AID override of 'device add'.
#
# Test modems (tests/emulators/atmodem.c) on pseudo-terminals with software eUICCs: one
# answering under the standard ISD-R AID, one only under a vendor AID (the soft eUICC's
# "isdr_aid"), one without logical channels (found as at-csim:), one whose port another
# process holds; a pseudo-terminal nobody answers (bounded by the timeout), a file that is
# no serial port, a missing port.  The scan reads and never writes (state files unchanged,
# only SELECT, GetEID and GetEUICCInfo2 in the modems' APDU logs).  Then --isdr-aid end
# to end: device add finds and stores the vendor AID, a download, enable and disable go
# through it; bad AIDs are usage errors; the store field loads and is checked.  The PC/SC
# part runs with the private pcscd harness (tests/cli/pcsc-lib.sh) when it is in the tree.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require
modem_require

ICCID=8949449999999990049
AID_5BER=A0000005591010FFFFFFFF8900050500
AID_STD=A0000005591010FFFFFFFF8900000100
PIDS=()
scan_cleanup() {
	local p
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	sgp_cleanup
}
trap scan_cleanup EXIT

# start_modem NAME STATE [atmodem options]: at-lib.sh's modem_start (stopped by
# sgp_cleanup); sets PTY_NAME to the modem's port.
start_modem() {
	modem_start "$@"
	printf -v "PTY_$1" '%s' "$PTY"
}

# new_soft NAME [ISD-R AID]: a software eUICC state file $T/NAME.json.
new_soft() {
	run 0 esim euicc create-soft "$T/$1.json" --eid "$(pki_eid euicc)" \
		--cert "$(pki_path euicc cert_der)" --key "$(pki_path euicc key_pem)" \
		--eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
	if [ -n "${2:-}" ]; then
		(umask 077 && jq --arg aid "$2" '.isdr_aid = $aid' "$T/$1.json" >"$T/$1.tmp") && mv "$T/$1.tmp" "$T/$1.json"
	fi
}

# at_entry URI JQ: one field of the scan's entry for URI.
at_entry() {
	jq -c --arg u "$1" ".scanned | map(select(.uri == \$u)) | if length == 1 then .[0] | $2 else \"\(length) entries\" end" "$OUT"
}
entry_is() {
	local got
	got=$(at_entry "$1" "$2")
	if [ "$got" = "$3" ]; then ok "scan: $1: $2 == $3"; else nok "scan: $1: $2 == $got, wanted $3"; fi
}

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
EID=$(pki_eid euicc)

new_soft std
new_soft vendor "$AID_5BER"
new_soft csim
new_soft held
new_soft vendor2 "$AID_5BER"   # for soft: (the modem holds vendor.json)
start_modem std "$T/std.json" --urc --echo
start_modem vendor "$T/vendor.json"
start_modem csim "$T/csim.json" --no-cgla
start_modem held "$T/held.json"
# A pseudo-terminal whose other end is held open and never read: no answer, ever.
"$PY" -c 'import os, pty, sys, time
m, s = pty.openpty()
print(os.ttyname(s), flush=True)
time.sleep(600)' >"$T/silent.out" &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$T/silent.out" ] && break; sleep 0.05; done
PTY_silent=$(cat "$T/silent.out")
[ -c "$PTY_silent" ] || sgp_abort "no silent pseudo-terminal"
# The held modem's port: flock(1) holds it, as a running LPA would.
cp "$(command -v sleep)" "$T/holder"
flock -x -o "$PTY_held" "$T/holder" 600 >/dev/null 2>&1 &
FLOCK_PID=$!
for ((i = 0; i < 100; i++)); do HOLDER=$(pgrep -P "$FLOCK_PID") && break; sleep 0.05; done
PIDS+=("$HOLDER" "$FLOCK_PID")
: >"$T/notaport"
sha256sum "$T"/std.json "$T"/vendor.json "$T"/csim.json >"$T/states.sum"

echo "# --- scan"
PORTS=(--port "$PTY_std" --port "$PTY_vendor" --port "$PTY_csim" --port "$PTY_held"
	--port "$PTY_silent" --port "$T/notaport" --port "$T/missing")
ESIMCTL_AT_TIMEOUT=1 run 0 esim --json euicc scan "${PORTS[@]}"
one_json
json_eq '.ok' true
check "--json: every entry has uri, type, status" \
	jq -e '.scanned | all(has("uri") and has("type") and has("status"))' "$OUT"
check "--json: pcsc part present" jq -e '.pcsc.available | type == "boolean"' "$OUT"
entry_is "at:$PTY_std" '.status' '"euicc"'
entry_is "at:$PTY_std" '.eid' "\"$EID\""
entry_is "at:$PTY_std" '.isdr' "{\"aid\":\"$AID_STD\",\"vendor\":\"standard\",\"standard\":true}"
entry_is "at:$PTY_std" '.info.svn' '"2.2.2"'
entry_is "at:$PTY_std" '.info | has("free_nvm") and has("profile_version") and has("ci_keys")' true
entry_is "at:$PTY_std" '.port' "\"$PTY_std\""
entry_is "at:$PTY_vendor" '.status' '"euicc"'
entry_is "at:$PTY_vendor" '.isdr' "{\"aid\":\"$AID_5BER\",\"vendor\":\"5ber.eSIM\",\"standard\":false}"
entry_is "at:$PTY_vendor" '.eid' "\"$EID\""
entry_is "at-csim:$PTY_csim" '.status' '"euicc"'
entry_is "at-csim:$PTY_csim" '.eid' "\"$EID\""
entry_is "at:$PTY_held" '.status' '"busy"'
entry_is "at:$PTY_held" '.reason | test("in use by process [0-9]+ \\(flock\\)")' true
entry_is "at:$PTY_silent" '.status' '"no-answer"'
entry_is "at:$PTY_silent" '.reason | test("did not answer ATE0 within 1 s")' true
entry_is "at:$T/notaport" '.status' '"not-a-modem"'
entry_is "at:$T/missing" '.status' '"absent"'
entry_is "at:$PTY_std" '.devices' '[]'
check "only an eUICC has devices" jq -e '[.scanned[] | select(.status != "euicc") | has("devices")] | any | not' "$OUT"
json_eq "([.scanned[] | select(.status == \"euicc\")] | length) == .found" true
check "the scan wrote nothing to the eUICCs" sha256sum -c --quiet "$T/states.sum"
# Only SELECT (in AT+CCHO, or 00A4 on the basic channel), GetEID (BF3E), GetEUICCInfo2
# (BF22) and GET RESPONSE: nothing that changes the card.
check "only read-only APDUs reached the eUICCs" bash -c '
	! cat "$@" | grep -Ev "^(CGLA|CSIM) [0-9]+ (0[0-3]A40400|8[0-3]E29100[0-9A-F]{2}(BF3E|BF22)|[08][0-3]C0)" | grep -q .' _ \
	"$T/std.apdus" "$T/vendor.apdus" "$T/csim.apdus"
check "the modems saw GetEUICCInfo2" grep -q 'BF22' "$T/std.apdus"

# The same scan for people.
ESIMCTL_AT_TIMEOUT=1 run 0 esim euicc scan --port "$PTY_vendor" --port "$PTY_held" --port "$T/missing"
out_has "at:$PTY_vendor"
out_has "eUICC, EID $EID"
out_has "ISD-R $AID_5BER (5ber.eSIM's AID: the standard one was refused)"
out_has "at:$PTY_held"
out_has "busy: serial port '$PTY_held' is in use by process"
out_has "absent: cannot open serial port '$T/missing'"
out_has "places scanned, 1 eUICC found"
out_has "not in the store: esimctl device add NAME --kind KIND --euicc at:$PTY_vendor"

# ModemManager running: a warning for each port, as device add gives (a process of that
# name stands in for it; not where a real one runs).
if pgrep -x ModemManager >/dev/null; then
	echo "# skipped the ModemManager warning check: ModemManager runs here"
else
	cp "$(command -v sleep)" "$T/ModemManager"
	"$T/ModemManager" 600 >/dev/null 2>&1 &
	PIDS+=($!)
	run 0 esim euicc scan --port "$PTY_std" --port "$PTY_vendor"
	check "one ModemManager warning per port" test "$(grep -c "warning: ModemManager (pid ${PIDS[-1]}) is running and may use" "$ERR")" = 2
	err_has "may use '$PTY_vendor'"
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null
fi

run 2 esim euicc scan --port ''
err_has "--port needs a serial port"
run 2 esim euicc scan extra
err_has "unexpected argument 'extra'"

echo "# --- --isdr-aid"
# Without --isdr-aid the refused standard AID leads to the vendor's, which is stored.
run 0 esim --json device add vend --kind phone --euicc "at:$PTY_vendor"
json_eq '.device.isdr_aid' "\"$AID_5BER\""
run 0 esim device add vend2 --kind phone --euicc "soft:$T/vendor2.json"
out_has "EID $EID"
err_has "the eUICC refused the standard ISD-R AID and answered under 5ber.eSIM's ($AID_5BER): stored for this device"
check "the store keeps the AID" jq -e --arg a "$AID_5BER" '.devices[] | select(.name == "vend2") | .isdr_aid == $a' "$ESIMCTL_STORE"
# A standard card stores nothing.
run 0 esim --json device add plain --kind phone --euicc "at:$PTY_std"
json_eq '.device | has("isdr_aid")' false
# Given: checked, selected, stored as given (upper case).
run 0 esim device add vend3 --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid "${AID_5BER,,}"
out_has "ISD-R AID $AID_5BER"
run 9 esim device add wrong --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid "$AID_STD"
err_has "SELECT ISD-R"
err_has "--isdr-aid"
run 2 esim device add bad --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid A00000055
err_has "odd number of hex digits"
run 2 esim device add bad --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid A0000005
err_has "4 bytes; an AID has 5 to 16"
run 2 esim device add bad --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid A0000005591010FFFFFFFF890005050000
err_has "17 bytes"
run 2 esim device add bad --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid A0000005G9
err_has "'G' at position 9 is not a hex digit"
run 2 esim device add bad --kind phone --euicc "soft:$T/vendor2.json" --isdr-aid B000000559
err_has "category 'B'"
run 2 esim device add bad --kind phone --isdr-aid "$AID_5BER"
err_has "--isdr-aid needs --euicc"

# The scan names the store's devices on each eUICC (by URI, or by the EID device add read).
ESIMCTL_AT_TIMEOUT=1 run 0 esim --json euicc scan --port "$PTY_vendor" --port "$PTY_std"
entry_is "at:$PTY_vendor" '.devices | index("vend") != null' true
entry_is "at:$PTY_std" '.devices | index("plain") != null' true
ESIMCTL_AT_TIMEOUT=1 run 0 esim euicc scan --port "$PTY_vendor"
out_has "in the store as device 'vend'"
# A store that cannot be read costs only that.
printf '{"schema":1,' >"$T/broken.json"
chmod 600 "$T/broken.json"
ESIMCTL_AT_TIMEOUT=1 run 0 esim --store "$T/broken.json" euicc scan --port "$PTY_vendor"
err_has "the store's devices are not shown: store '$T/broken.json' is not valid JSON"
out_has "eUICC, EID $EID"

# End to end through the stored AID: download, enable, disable, release.
printf '[%s]\n' "$(order_json MATCH-vendor $ICCID)" >"$ORDERS"
srv_start
run 0 esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-vendor" --device vend --carrier Verizon
json_eq '.download.installed' true
id=$(jq -r .profile.id "$OUT")
run 0 esim euicc enable "$id" --device vend
out_has "enabled $ICCID on 'vend'"
euicc_is vend '.profiles[0].state' '"enabled"'
run 0 esim euicc disable "$ICCID" --device vend
run 0 esim --json release "$id" --device vend
euicc_is vend '.profiles' '[]'
# The card answers only under the vendor AID, so all of that went through the stored one;
# without it the same command fails.
run 0 esim euicc info --device vend2
jq '(.devices[] | select(.name == "vend2")) |= del(.isdr_aid)' "$ESIMCTL_STORE" >"$T/noaid.json"
chmod 600 "$T/noaid.json"
run 9 esim --store "$T/noaid.json" euicc info --device vend2
err_has "SELECT ISD-R"
err_has "SW 6A82"

# The store field: kept as written, checked on load.
store_save
run 0 esim device list
store_same
jq '(.devices[] | select(.name == "vend2") | .isdr_aid) = "A0000005"' "$ESIMCTL_STORE" >"$T/bad.json"
chmod 600 "$T/bad.json"
run 3 esim --store "$T/bad.json" device list
err_has "isdr_aid"
err_has "4 bytes"
jq '(.devices[] | select(.name == "vend2")) |= del(.euicc)' "$ESIMCTL_STORE" >"$T/bad2.json"
chmod 600 "$T/bad2.json"
run 3 esim --store "$T/bad2.json" device list
err_has "no \"euicc\""

echo "# --- PC/SC"
# No pcscd: the scan still runs (exit 0) and says why there are no readers.
PCSCLITE_CSOCK_NAME=$T/no-pcscd.comm run 0 esim --json euicc scan --port "$T/missing"
json_eq '.pcsc.available' false
json_eq '.pcsc.error | test("pcscd")' true
. "$(dirname "$0")/pcsc-lib.sh"
trap 'pcsc_stop; scan_cleanup' EXIT
new_soft pc
new_soft pcvendor "$AID_5BER"
pcsc_start 2
pcsc_card_start pc "$T/pc.json"
PC_URI=$CARD_URI
run 0 esim --json euicc scan
json_eq '.pcsc.available' true
json_eq '.pcsc.readers' 2
entry_is "$PC_URI" '.status' '"euicc"'
entry_is "$PC_URI" '.eid' "\"$EID\""
entry_is "$PC_URI" '.isdr.vendor' '"standard"'
entry_is "$PC_URI" '.atr | type' '"string"'
check "a reader without a card: no card" jq -e \
	'[.scanned[] | select(.type == "pcsc" and .status == "no-card")] | length == 1' "$OUT"
pcsc_card_start pcvendor "$T/pcvendor.json"
run 0 esim euicc scan
out_has "$PC_URI"
out_has "$CARD_URI"
out_has "ISD-R $AID_5BER (5ber.eSIM's AID"
out_lacks "no-card"
# A reader whose card another process holds: busy at once, not waited for.
"$ESIMCTL_BUILD/tests/pcsc_hold" --hold "$CARD_READER" >"$T/hold.out" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do grep -q held "$T/hold.out" && break; sleep 0.05; done
run 0 esim --json euicc scan
entry_is "$CARD_URI" '.status' '"busy"'
entry_is "$CARD_URI" '.reason | test("in use by another process \\(waited 0 s\\)")' true
entry_is "$PC_URI" '.status' '"euicc"'
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null
pcsc_card_stop pcvendor
run 0 esim euicc scan
out_has "$CARD_URI"
out_has "no-card: no card in the reader"
pcsc_stop
finish
