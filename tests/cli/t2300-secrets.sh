#!/usr/bin/env bash
# t2300-secrets.sh - confirmation codes, matching IDs and the eUICC key stay where they belong.
#
# A realistic session against the test SM-DP+ (tests/smdp) with a software eUICC: downloads
# with a confirmation code (given as "--confirmation-code CODE" and "=CODE", a wrong one
# first), one without, list/qr/euicc/transfer/notifications/release in text and --json,
# with and without --show-secret.  Everything esimctl writes goes under one directory:
# the store, the eUICC state, QR backups, and every stdout and stderr.  Then:
#   - no file contains a confirmation code (right or wrong), ever;
#   - a matching ID appears only in the store's activation codes, the QR backups and the
#     output of --show-secret runs (positive controls make sure the search can find it);
#   - the store, the eUICC state, the QR backups and the lock files are 0600, and the
#     store directory esimctl created is 0700;
#   - /proc/PID/cmdline of a running download shows neither the confirmation code nor the
#     matching ID (both overwritten in argv; t2310 covers the file forms);
#   - frozen at its store commit (after the download), the process's memory holds neither
#     the confirmation code nor the eUICC private key (raw scalar or PEM) - needs the fault
#     shim (not under sanitizers) and root: esimctl is not dumpable, so /proc/PID/mem is
#     readable only with CAP_SYS_PTRACE; the shipped binary has no switch to allow it;
#   - a store readable by others gives a warning with the fix (chmod 600), an eUICC state
#     file readable by others is refused (exit 10) with the fix.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

CONF_CODE=58213947           # the confirmation code of the orders
WRONG_CC=90417365     # a wrong one, tried first
MID1=K7Q2-SECRET-MID-ALPHA
MID2=K7Q2-SECRET-MID-BRAVO
MID3=K7Q2-SECRET-MID-CHARLIE
MID4=K7Q2-SECRET-MID-DELTA
MID5=K7Q2-SECRET-MID-ECHO
ICCID1=8949449999999990023
ICCID2=8949449999999990031
ICCID3=8949449999999990049
ICCID4=8949449999999990056
ICCID5=8949449999999990064

W=$T/w                 # everything esimctl writes, and nothing else
mkdir -p "$W/out" "$W/card" "$W/qr"
export ESIMCTL_STORE=$W/store/store.json
N=0
# srun STATUS NAME ARGS...: esimctl with stdout and stderr kept as $W/out/NN-NAME.{out,err}
srun() {
	local want=$1 name=$2
	shift 2
	N=$((N + 1))
	run "$want" esim "$@"
	cp "$OUT" "$W/out/$(printf %02d $N)-$name.out"
	cp "$ERR" "$W/out/$(printf %02d $N)-$name.err"
}

sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
printf '[%s, %s, %s, %s, %s]\n' "$(order_json "$MID1" $ICCID1 "\"$CONF_CODE\"")" "$(order_json "$MID2" $ICCID2 "\"$CONF_CODE\"")" \
	"$(order_json "$MID3" $ICCID3)" "$(order_json "$MID4" $ICCID4 "\"$CONF_CODE\"")" "$(order_json "$MID5" $ICCID5 "\"$CONF_CODE\"")" >"$ORDERS"
srv_start

# ---- the session ------------------------------------------------------------------------
CARD=$W/card/phone.json
srun 0 create-soft euicc create-soft "$CARD" --eid "$(pki_eid euicc)" --cert "$(pki_path euicc cert_der)" \
	--key "$(pki_path euicc key_pem)" --eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
srun 0 device-add device add phone --kind phone --euicc "soft:$CARD"
srun 0 device-add-tab device add tab --kind tablet
srun 8 add-wrong-cc add "LPA:1\$$SMDP_ADDR\$$MID1" --device phone --carrier Verizon --confirmation-code "$WRONG_CC"
srun 0 add-cc add "LPA:1\$$SMDP_ADDR\$$MID1" --device phone --carrier Verizon --nickname one --confirmation-code "$CONF_CODE"
out_has "added profile"
srun 8 add-json-wrong-cc --json add "LPA:1\$$SMDP_ADDR\$$MID2" --device phone --carrier Verizon --confirmation-code="$WRONG_CC"
srun 0 add-json-cc --json add "LPA:1\$$SMDP_ADDR\$$MID2" --device phone --carrier Verizon --nickname two --confirmation-code="$CONF_CODE"
json_eq '.download.installed' true
srun 0 add-json-plain --json add "LPA:1\$$SMDP_ADDR\$$MID3" --device phone --carrier Verizon --nickname three
srun 0 add-again add "LPA:1\$$SMDP_ADDR\$$MID3" --carrier Verizon
out_has "already have"
srun 0 list list
srun 0 list-json --json list
srun 0 list-show-secret --show-secret list
srun 0 list-json-show-secret --json --show-secret list
srun 0 qr-term qr one
srun 0 qr-json --json qr one
srun 0 qr-png qr one --png "$W/qr/one.png"
srun 0 qr-svg qr two --svg "$W/qr/two.svg"
srun 0 euicc-info euicc info --device phone
srun 0 euicc-info-json --json euicc info --device phone
srun 0 enable euicc enable one --device phone
srun 0 disable --json euicc disable one --device phone
srun 0 transfer-dry --json transfer three --to tab --dry-run
srun 0 notifications notifications list
srun 0 release release three
srun 0 release-json --json release two
srun 0 device-list --json device list
srun 2 bad-code add "LPA:1\$$SMDP_ADDR" --carrier Verizon

# The command line of a running download does not show the code: the server stalls
# getBoundProfilePackage (after the code was used) while we look.
# (20 s: the look happens within that on a loaded machine; the download still succeeds)
misbehave '{"mode": "stall", "functions": ["getBoundProfilePackage"], "seconds": 20, "count": 1}'
log_mark
"$ESIMCTL" add "LPA:1\$$SMDP_ADDR\$$MID4" --device phone --carrier Verizon --nickname four \
	--confirmation-code "$CONF_CODE" >"$W/out/cmdline.out" 2>"$W/out/cmdline.err" </dev/null &
pid=$!
seen=
# until authenticateClient was answered, while the download runs
while kill -0 "$pid" 2>/dev/null; do
	if [ "$(log_new | jq -r 'select(.event == "request" and .function == "authenticateClient") | .function' 2>/dev/null)" ]; then
		seen=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
		break
	fi
	sleep 0.05
done
timeout 300 tail --pid="$pid" -f /dev/null
wait "$pid"
st=$?
check "download with a stalled server finished (exit $st)" [ "$st" = 0 ]
check "its command line was read while it ran" [ -n "$seen" ]
case $seen in
*"$CONF_CODE"*) nok "/proc/PID/cmdline shows the confirmation code: $seen" ;;
*"$MID4"*) nok "/proc/PID/cmdline shows the matching ID: $seen" ;;
*--confirmation-code*) ok "/proc/PID/cmdline hides the confirmation code and the matching ID" ;;
*) nok "/proc/PID/cmdline is not the download's: $seen" ;;
esac
misbehave '{}'

# ---- memory: frozen at the store commit, after the download ---------------------------------
INJ=${ESIMCTL_INJECT:-}
[ -n "$INJ" ] || INJ=${ESIMCTL_BUILD:-$(dirname "$ESIMCTL")}/libesimctl_inject.so
sanitized() {
	[ "${ESIMCTL_SANITIZED:-0}" = 1 ] && return 0
	ldd "$ESIMCTL" 2>/dev/null | grep -q 'lib[atl]san' && return 0
	nm "$ESIMCTL" 2>/dev/null | grep -q ' __asan_init$' && return 0
	return 1
}
cat >"$T/memscan.py" <<'EOF'
# memscan.py PID NAME=HEX...: count each needle in the readable memory of PID
import re, sys
pid = int(sys.argv[1])
needles = dict((a.split("=", 1)[0], bytes.fromhex(a.split("=", 1)[1])) for a in sys.argv[2:])
hits = dict((k, 0) for k in needles)
total = 0
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if "r" not in f[1] or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]", "[vdso]")):
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, OverflowError, ValueError):
            continue
        total += len(data)
        for k, n in needles.items():
            for m in re.finditer(re.escape(n), data):
                hits[k] += 1
                if k != "matching-id" and hits[k] <= 3:
                    where = f[5] if len(f) > 5 else "anonymous"
                    print("context %s %s+%#x %r" % (k, where, m.start(), data[max(0, m.start() - 160):m.end() + 16]))
print("bytes %d" % total)
for k, v in hits.items():
    print("%s %d" % (k, v))
EOF
hexof() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
if sanitized; then
	# not a skip: this build cannot take the shim; the gcc build scans
	echo "# no memory scan in this build: esimctl is built with a sanitizer (the fault shim cannot stop it)"
elif [ -n "${ESIMCTL_VALGRIND:-}" ]; then
	echo "# skipped the memory scan under ESIMCTL_VALGRIND"
elif [ "$(id -u)" != 0 ]; then
	echo "# skipped the memory scan: esimctl is not dumpable, so only root can read its /proc/PID/mem"
elif [ ! -f "$INJ" ]; then
	nok "the fault injection shim is not built ($INJ)"
else
	KEYPEM=$(pki_path euicc key_pem)
	read -r KBE KLE < <("$PY" -c '
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
k = load_pem_private_key(open(sys.argv[1], "rb").read(), None).private_numbers().private_value.to_bytes(32, "big")
print(k.hex(), k[::-1].hex())' "$KEYPEM")
	PEMPART=$(sed -n 2p "$KEYPEM" | cut -c20-60)
	# the store commit after the eUICC was closed is the second rename in the store's
	# directory (the card is elsewhere): the first records the profile and queues its
	# install notification while the eUICC is still open, the second the delivery
	LD_PRELOAD=$INJ ESIMCTL_FAULT_DIR=$W/store ESIMCTL_FAULT=rename:stop:2 \
		"$ESIMCTL" add "LPA:1\$$SMDP_ADDR\$$MID5" --device phone --carrier Verizon --nickname five \
		--confirmation-code "$CONF_CODE" >"$W/out/memscan.out" 2>"$W/out/memscan.err" </dev/null &
	pid=$!
	# until it stops at the commit, or exits without stopping (at most 600 s)
	for ((i = 0; i < 6000; i++)); do
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = T ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != T ]; then
		nok "the download did not stop at its store commit"
	elif ! "$PY" "$T/memscan.py" "$pid" "cc=$(hexof "$CONF_CODE")" "key-scalar-be=$KBE" "key-scalar-le=$KLE" \
		"key-pem=$(hexof "$PEMPART")" "matching-id=$(hexof "$MID5")" >"$T/scan" 2>"$T/scan.err"; then
		skip_part "the memory scan: /proc/$pid/mem is not readable here ($(tail -1 "$T/scan.err"))"
	else
		check "memory scan covered the process ($(sed -n 's/^bytes //p' "$T/scan") bytes)" grep -q '^bytes [1-9]' "$T/scan"
		check "control: the scan finds the matching ID, which the store holds" grep -q '^matching-id [1-9]' "$T/scan"
		check "no confirmation code in memory after the download" grep -q '^cc 0$' "$T/scan"
		check "no eUICC private key scalar in memory after the eUICC was closed" \
			sh -c "grep -q '^key-scalar-be 0$' '$T/scan' && grep -q '^key-scalar-le 0$' '$T/scan'"
		check "no eUICC private key PEM in memory after the eUICC was closed" grep -q '^key-pem 0$' "$T/scan"
		sed 's/^/#   /' "$T/scan"
	fi
	kill -CONT "$pid" 2>/dev/null
	timeout 300 tail --pid="$pid" -f /dev/null
	wait "$pid"
	check "the frozen download completed after SIGCONT" [ $? = 0 ]
fi

# ---- where the secrets are, in every file esimctl wrote ------------------------------------------
# allowed: the store's activation codes, QR backups, and --show-secret output
mapfile -t FILES < <(find "$W" -type f | sort)
bytes=$(cat "${FILES[@]}" | wc -c)
check "files to search: ${#FILES[@]} ($bytes bytes)" [ "${#FILES[@]}" -ge 50 ]
bad=()
for f in "${FILES[@]}"; do
	for s in "$CONF_CODE" "$WRONG_CC"; do
		grep -aqF -- "$s" "$f" && bad+=("${f#"$W"/} has confirmation code $s")
	done
	for m in "$MID1" "$MID2" "$MID3" "$MID4" "$MID5"; do
		grep -aqF -- "$m" "$f" || continue
		case $f in
		"$ESIMCTL_STORE")
			jq -c 'del(.profiles[].activation_code)' "$f" | grep -qF -- "$m" &&
				bad+=("the store has matching ID $m outside an activation code")
			;;
		"$W"/qr/* | *show-secret*) ;;
		*) bad+=("${f#"$W"/} has matching ID $m") ;;
		esac
	done
done
check "no confirmation code and no misplaced matching ID in ${#FILES[@]} files" [ ${#bad[@]} = 0 ]
printf '#   %s\n' "${bad[@]}" | head -20
# positive controls: the search does find what is there
check "control: the store holds the matching IDs in its activation codes" \
	[ "$(jq -r '[.profiles[].activation_code.matching_id] | join(" ")' "$ESIMCTL_STORE" | grep -oF -e "$MID1" -e "$MID2" -e "$MID3" | sort -u | wc -l)" = 3 ]
check "control: --show-secret output shows a matching ID" grep -qF -- "$MID1" "$W"/out/*-list-json-show-secret.out
check "control: the default output shows it masked" grep -qF -- "${MID1:0:3}****************${MID1: -2}" "$W"/out/*-list-json.out "$W"/out/*-add-cc.out
check "control: the eUICC state was searched" grep -q private_key "$CARD"

# ---- file modes ----------------------------------------------------------------------------------
for f in "$ESIMCTL_STORE" "$ESIMCTL_STORE.lock" "$CARD" "$CARD.lock" "$W/qr/one.png" "$W/qr/two.svg"; do
	check "${f#"$W"/} is 0600" [ "$(mode_of "$f")" = 600 ]
done
check "the store directory esimctl created is 0700" [ "$(mode_of "$W/store")" = 700 ]
echo "# figures: searched ${#FILES[@]} files ($bytes bytes) for 2 confirmation codes and 5 matching IDs"

# ---- readable by others: a warning for the store, a refusal for the eUICC ---------------------------
chmod 644 "$ESIMCTL_STORE"
run 0 esim list
err_has "esimctl: warning: store '$ESIMCTL_STORE' has mode 0644: other users can read the activation codes in it; fix: chmod 600 '$ESIMCTL_STORE'"
run 0 esim --json list
json_eq '.warnings' "[\"store '$ESIMCTL_STORE' has mode 0644: other users can read the activation codes in it; fix: chmod 600 '$ESIMCTL_STORE'\"]"
run 0 esim -q list
err_empty
chmod 640 "$ESIMCTL_STORE"
run 0 esim transfer one --to tab --dry-run
err_has "has mode 0640: other users can read"
# (a store others can write is refused: t2400-planted.sh)
# a writer replaces the file with a 0600 one; the warning is gone afterwards
run 0 esim device add laptop --kind laptop
check "the rewritten store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]
run 0 esim list
err_lacks "other users can read"
cp -p "$CARD" "$T/card.before"
chmod 640 "$CARD"
run 10 esim euicc info --device phone
err_has "esimctl: euicc info: eUICC of device 'phone': software eUICC '$CARD' has mode 0640: other users can read its private key"
err_has "hint: chmod 600 '$CARD'"
run 10 esim --json euicc enable one --device phone
json_eq '.error | [.status, .name]' '[10,"euicc_unreachable"]'
run 10 esim device add phone2 --kind phone --euicc "soft:$CARD"
err_has "has mode 0640: other users can read its private key"
chmod 604 "$CARD"
run 10 esim euicc info --device phone
check "the refused eUICC was not touched" cmp -s "$CARD" "$T/card.before"
chmod 600 "$CARD"
run 0 esim euicc info --device phone
finish
