#!/usr/bin/env bash
# examples/pre-travel.sh against a temporary store: feasibility check with earliest times,
# the feasible transfers carried out, backup PNGs (0600) in a 0700 directory that decode to
# the stored activation codes, and nothing changed with --check-only / --at.
. "$(dirname "$0")/lib.sh"

SCRIPT="$ESIMCTL_SRC/examples/pre-travel.sh"
QRDECODE="$ESIMCTL_SRC/tests/cli/qrdecode.sh"
store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
live_of() { store_jq "[.bindings[] | select((.profile | startswith(\"$1\")) and .state != \"released\") | .device + \":\" + .state]"; }
decodes_to() {
	printf '%s' "$2" >"$T/want"
	if sh "$QRDECODE" "$1" >"$T/got" 2>/dev/null && cmp -s "$T/got" "$T/want"; then
		ok "$(basename "$1") decodes to '$2'"
	else
		nok "$(basename "$1") decodes to '$(cat "$T/got" 2>/dev/null)', wanted '$2'"
	fi
}

ID_QR=56e0c4f1     # travel: LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7 (AT&T)
ID_TM=0d34e856     # home:   LPA:1$rsp.example.com$TM-HOME-1 (T-Mobile)

# --- the store: a trip tomorrow ------------------------------------------------------------------
export ESIMCTL_NOW=2026-11-21T08:00:00Z
run 0 esimctl device add phone --kind phone --primary --platform ios
run 0 esimctl device add laptop --kind laptop --platform macos
run 0 esimctl device add tablet --kind tablet
run 0 esimctl add 'LPA:1$RSP.Example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone --nickname travel
run 0 esimctl add 'LPA:1$rsp.example.com$TM-HOME-1' --carrier T-Mobile --device phone --nickname home --data-only
run 0 esimctl add 'LPA:1$rsp.example.com$CMCC-1' --carrier 'China Mobile' --device phone --nickname cm
run 0 esimctl add 'LPA:1$smdp.example.net$VZ-1$1.3.6.1.4.1.31746' --carrier Verizon --device phone \
	--nickname vz --iccid 8901260123456789011
# travel went to the tablet this morning: AT&T's 24 h cooldown runs until tomorrow 08:00
run 0 esimctl transfer travel --to tablet
export ESIMCTL_NOW=2026-11-21T10:00:00Z
PAIRS=(travel=phone home=laptop cm=tablet vz=laptop nosuch=phone home=phone)

cd "$T" || exit 1   # the default backup directory is relative to the working directory

# --- usage ------------------------------------------------------------------------------------------
run 2 bash "$SCRIPT"
err_has 'usage: pre-travel.sh [--check-only] [--at TIME] [--backup-dir DIR] PROFILE=DEVICE...'
run 2 bash "$SCRIPT" travel
err_has "pre-travel.sh: 'travel': expected PROFILE=DEVICE"
run 2 bash "$SCRIPT" --bogus travel=phone
err_has "unknown option '--bogus'"
run 0 bash "$SCRIPT" --help
out_has 'usage: pre-travel.sh'
ESIMCTL="$T/no-such-esimctl" run 2 bash "$SCRIPT" travel=phone
err_has 'not found (set ESIMCTL)'
check "usage errors write no backup" [ ! -e "$T/esim-backup" ]

# --- --check-only: report, back up, change nothing ------------------------------------------------------
cp "$ESIMCTL_STORE" "$T/before"
run 1 bash "$SCRIPT" --check-only --backup-dir "$T/backup" "${PAIRS[@]}"
out_has '== checking 6 transfer(s)'
out_has 'REFUSED  travel -> phone: AT&T allows one transfer every 24 h; the next one is possible at 2026-11-22T08:00:00Z (in 22 h 00 min)'
out_has '         earliest possible: 2026-11-22T08:00:00Z'
out_has "ok       home -> laptop: add 'laptop' as another active device; phone keeps the profile (T-Mobile allows 5 devices at once, 2 in use after this)"
out_has 'REFUSED  cm -> tablet: China Mobile binds a profile to the device it was first installed on'
out_has '         earliest possible: never (ask the carrier)'
out_has "ok       vz -> laptop: move from 'phone' to 'laptop'"
out_has "         warning: voice and SMS will not work on laptop 'laptop'; only data"
out_has "ERROR    nosuch -> phone: no profile matches 'nosuch' (exit 5)"
out_has 'ok       home -> phone: already there'
out_lacks '== transferring'
out_has "== backing up activation codes to $T/backup"
out_has 'backed up 4 profile(s)'
out_has '== summary: 2 possible, 0 done, 2 refused, 1 failed'
check "--check-only leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"
check "backup directory is 0700" [ "$(mode_of "$T/backup")" = 700 ]
check "four PNG files" [ "$(find "$T/backup" -name '*.png' | wc -l)" = 4 ]
for f in "$T/backup"/*.png; do
	check "$(basename "$f") is 0600" [ "$(mode_of "$f")" = 600 ]
done
decodes_to "$T/backup/$ID_QR-travel.png" 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7'
decodes_to "$T/backup/$ID_TM-home.png" 'LPA:1$rsp.example.com$TM-HOME-1'
decodes_to "$(echo "$T"/backup/*-vz.png)" 'LPA:1$smdp.example.net$VZ-1$1.3.6.1.4.1.31746'
decodes_to "$(echo "$T"/backup/*-cm.png)" 'LPA:1$rsp.example.com$CMCC-1'
check "index lists every backup" [ "$(wc -l <"$T/backup/index.txt")" = 5 ]
check "index row for vz" grep -qP '^[0-9a-f]{8}-vz\.png\t[0-9a-f]{8}\tvz\tVerizon\t8901260123456789011\tphone \(active\)$' "$T/backup/index.txt"
check "index row without ICCID" grep -qP "^$ID_TM-home\\.png\\t$ID_TM\\thome\\tT-Mobile\\t-\\tphone \\(active\\)\$" "$T/backup/index.txt"
check "index holds no matching ID" [ "$(grep -c 'QR-G-5C\|TM-HOME\|VZ-1' "$T/backup/index.txt")" = 0 ]

# --- --at: as of tomorrow 08:00 the AT&T move is possible (still nothing changes) ------------------------
run 0 bash "$SCRIPT" --at 2026-11-22T08:00:00Z --backup-dir "$T/backup" travel=phone
out_has '== checking 1 transfer(s) as of 2026-11-22T08:00:00Z'
out_has "ok       travel -> phone: move from 'tablet' to 'phone'"
out_has '== summary: 1 possible, 0 done, 0 refused, 0 failed'
run 1 bash "$SCRIPT" --at=2026-11-22T07:59:59Z --backup-dir "$T/backup" travel=phone
out_has '         earliest possible: 2026-11-22T08:00:00Z'
check "--at leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"

# --- the real run: the feasible transfers are made, the refused ones are reported -------------------------
chmod 755 "$T/backup"
run 1 bash "$SCRIPT" --backup-dir "$T/backup" "${PAIRS[@]}"
out_has '== transferring'
out_has 'done     home -> laptop'
out_has 'done     vz -> laptop'
out_has '         phone has no service now; laptop ready by 2026-11-21T10:10:00Z'
out_lacks 'done     travel'
out_lacks 'done     cm'
out_has '== summary: 2 possible, 2 done, 2 refused, 1 failed'
check "an existing backup directory is made 0700" [ "$(mode_of "$T/backup")" = 700 ]
check "home on phone and laptop" [ "$(live_of $ID_TM)" = '["phone:active","laptop:active"]' ]
check "vz pending on the laptop" [ "$(live_of "$(store_jq '.profiles[] | select(.nickname == "vz") | .id' | tr -d '"')")" = '["laptop:pending"]' ]
check "travel stays on the tablet" [ "$(live_of $ID_QR)" = '["tablet:active"]' ]
check "exactly two transfers made by the script" \
	[ "$(store_jq '[.history[] | select(.op == "transfer" and .time == "2026-11-21T10:00:00Z")] | length')" = 2 ]
check "index shows the new places" grep -qF 'vz	Verizon	8901260123456789011	laptop (pending)' "$T/backup/index.txt"
# running it again changes nothing more: home is already there, vz is pending there
cp "$ESIMCTL_STORE" "$T/before"
run 0 bash "$SCRIPT" --backup-dir "$T/backup" home=laptop vz=laptop
out_has 'ok       home -> laptop: already there'
out_has 'ok       vz -> laptop: already there'
out_has '== summary: 0 possible, 0 done, 0 refused, 0 failed'
check "an idempotent run leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/before"

# --- tomorrow at 08:00 everything left is possible: exit 0 --------------------------------------------
ESIMCTL_NOW=2026-11-22T08:00:00Z run 0 bash "$SCRIPT" --backup-dir "$T/backup" travel=phone
out_has 'done     travel -> phone'
out_has '         tablet has no service now; phone ready by 2026-11-22T08:15:00Z'
check "travel pending on the phone" [ "$(live_of $ID_QR)" = '["phone:pending"]' ]
# the default backup directory is ./esim-backup
mkdir "$T/wd"
(cd "$T/wd" && bash "$SCRIPT" --check-only home=laptop >/dev/null 2>&1)
check "default backup directory" [ "$(mode_of "$T/wd/esim-backup")" = 700 ]
check "default backup has the PNGs" [ "$(find "$T/wd/esim-backup" -name '*.png' | wc -l)" = 4 ]
# a broken store: the check reports it, nothing is transferred, the script fails
printf 'garbage' >"$ESIMCTL_STORE"
run 1 bash "$SCRIPT" --backup-dir "$T/backup2" home=laptop
out_has "ERROR    home -> laptop: store '$ESIMCTL_STORE' is not valid JSON at line 1, column 1 (exit 3)"
out_has 'ERROR    cannot list the profiles'
check "broken store untouched" [ "$(cat "$ESIMCTL_STORE")" = garbage ]
finish
