#!/usr/bin/env bash
# bench/apdus.sh [--markdown] [BUILD_DIR] - APDUs and bytes each way for one TS.48-sized download
# (a synthetic UPP of 11,768 bytes, the size of TS48V1-A-UNIQUE) per eUICC backend, with
# the STORE DATA block size of before (ESIMCTL_STORE_DATA_BLOCK=120: 120-byte blocks in
# short APDUs) and after (automatic: 255, or 1,024-byte extended-length blocks where the
# ATR advertises them).  The figures are counts, not times: the machine's load does not
# change them.
#
# Backends (one function each below; add one there):
#   soft      soft:PATH, the software eUICC in-process; it presents its ATR (extended length)
#   soft-255  soft:PATH with ESIMCTL_STORE_DATA_BLOCK=255 as "after": what soft: does
#             without its ATR (short APDUs only), for comparison
#   at        at:PTY, tests/emulators/atmodem.c on a pseudo-terminal (AT+CCHO/CGLA/CCHC)
#   at-csim   at-csim:PTY, the same modem with AT+CSIM on the basic channel
#   pcsc      pcsc:READER: `esimctl euicc serve` as the card of a vpcd reader of a private
#             pcscd (tests/cli/pcsc-lib.sh), with serve's own ATR (the software eUICC's,
#             extended length), and as pcsc-short with a T=1 ATR that advertises no
#             extended length (--atr), as many removable cards; not measured when the
#             build has no PC/SC backend, pcscd or vpcd, or no mount namespace is allowed
# Each download is `esimctl --json add` with ESIMCTL_TIMING=1; its "esimctl: apdu:" lines
# (src/cli/rsp/lpa_glue.c) are summed over the eUICC sessions of the command.
#
# Prints one JSON object on stdout: {"upp_bytes": N, "rows": [{backend, mode, block,
# apdus, tx_bytes, rx_bytes, fallbacks} | {backend, skipped: why}]}; with --markdown the
# section "APDUs per download" of docs/performance.md instead (bench/run.sh puts it
# there).  BUILD_DIR needs esimctl, esimctl-rsp.so and tests/atmodem (default build/dev).
set -euo pipefail
cd "$(dirname "$0")/.."

MARKDOWN=0
if [ "${1:-}" = --markdown ]; then
	MARKDOWN=1
	shift
fi
BUILD=${1:-build/dev}
ESIMCTL=$(cd "$BUILD" && pwd)/esimctl
ATMODEM=$(cd "$BUILD" && pwd)/tests/atmodem
PY=/usr/bin/python3
HOST=testsmdpplus1.example.com
UPP_BYTES=11768
[ -x "$ESIMCTL" ] && [ -f "$BUILD/esimctl-rsp.so" ] || {
	echo "apdus.sh: build $ESIMCTL and esimctl-rsp.so first" >&2
	exit 1
}

W=$(mktemp -d "${TMPDIR:-/tmp}/esimctl-bench-apdu.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

unset ESIMCTL_RESOLVE ESIMCTL_TRUST_SYSTEM_CA ESIMCTL_TIMING ESIMCTL_STORE_DATA_BLOCK https_proxy
unset HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY ESIMCTL_NOW
export ESIMCTL_STORE=$W/store.json ESIMCTL_CARRIERS=$W/carriers.json HOME=$W/home
export ESIMCTL_UUCP_LOCK_DIR=$W/lock
mkdir -p "$HOME" "$ESIMCTL_UUCP_LOCK_DIR"

. bench/pki-lib.sh

# One order per download (APDU-0 .. APDU-19), a synthetic UPP of TS.48 size each.
"$PY" - "$UPP_BYTES" >"$W/orders.json" <<'EOF'
import json, sys
def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)
print(json.dumps([{"matching_id": "APDU-%d" % i, "iccid": luhn("894944999999992%03d" % i),
                   "spn": "Bench Operator", "name": "Bench Profile",
                   "upp_size": int(sys.argv[1])} for i in range(20)]))
EOF
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" tests/smdp/smdpp.py --pki "$W/pki" --port "$PORT" --profiles "$W/orders.json" \
	--log "$W/smdp.jsonl" --notify-address "$HOST:$PORT" >"$W/srv.out" 2>"$W/srv.err" &
PIDS+=($!)
for _ in $(seq 150); do
	grep -q '^READY ' "$W/srv.out" && break
	sleep 0.1
done
grep -q '^READY ' "$W/srv.out" || {
	tail -5 "$W/srv.err" >&2
	echo "apdus.sh: the test SM-DP+ did not start" >&2
	exit 1
}
export ESIMCTL_RESOLVE=$HOST:$PORT:127.0.0.1

N=0
soft_state() {
	"$ESIMCTL" euicc create-soft "$1" --eid "$EID" --cert "$(pki .euicc.cert_der)" \
		--key "$(pki .euicc.key_pem)" --eum "$(pki .eum.cert_der)" --ci "$CI" >/dev/null 2>&1
}

# modem NAME [atmodem options]: starts the test modem on a fresh eUICC; sets PTY.
modem() {
	local name=$1 i
	shift
	soft_state "$W/$name.json"
	"$ATMODEM" --state "$W/$name.json" "$@" >"$W/$name.pty" 2>"$W/$name.err" &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -q '^PTY ' "$W/$name.pty" && break
		sleep 0.05
	done
	PTY=$(sed -n 's/^PTY //p' "$W/$name.pty")
	[ -c "$PTY" ] || { echo "apdus.sh: atmodem did not start: $(cat "$W/$name.err")" >&2; exit 1; }
}

# download BACKEND MODE BLOCK URI: one download on a fresh device; prints one JSON row.
download() {
	local backend=$1 mode=$2 block=$3 uri=$4 name
	N=$((N + 1))
	name=b$N
	"$ESIMCTL" device add "$name" --kind phone --euicc "$uri" >/dev/null
	if ! env ${block:+ESIMCTL_STORE_DATA_BLOCK=$block} ESIMCTL_TIMING=1 "$ESIMCTL" --json add \
		"LPA:1\$$HOST:$PORT\$APDU-$N" --device "$name" >"$W/$name.out" 2>"$W/$name.log"; then
		echo "apdus.sh: download on $backend ($mode) failed:" >&2
		grep -v '^esimctl: timing' "$W/$name.log" >&2
		exit 1
	fi
	"$PY" - "$backend" "$mode" "$W/$name.log" <<'EOF'
import json, re, sys
backend, mode, log = sys.argv[1:]
text = open(log).read()
apdus = tx = rx = fallbacks = 0
block = None
for m in re.finditer(r"^esimctl: apdu: (\d+) commands, (\d+) bytes sent, (\d+) bytes received$", text, re.M):
    apdus += int(m.group(1)); tx += int(m.group(2)); rx += int(m.group(3))
for m in re.finditer(r"^esimctl: apdu: STORE DATA blocks of (\d+) bytes \(([a-z ]+)\), (\d+) fallbacks", text, re.M):
    block = "%s (%s)" % (m.group(1), m.group(2)); fallbacks += int(m.group(3))
print(json.dumps({"backend": backend, "mode": mode, "block": block, "apdus": apdus,
                  "tx_bytes": tx, "rx_bytes": rx, "fallbacks": fallbacks}))
EOF
}

skipped() {
	printf '{"backend":"%s","mode":"%s","skipped":"%s"}\n' "$1" "$2" "$3"
}

# measure BACKEND MODE BLOCK_ENV: soft:, at:, at-csim: on a fresh eUICC.
measure() {
	local backend=$1 mode=$2 block=$3
	case $backend in
	soft | soft-255)
		soft_state "$W/s$N.json"
		download "$backend" "$mode" "$block" "soft:$W/s$N.json" ;;
	at | at-csim)
		if [ ! -x "$ATMODEM" ]; then
			skipped "$backend" "$mode" "no $ATMODEM"
			return
		fi
		if [ "$backend" = at ]; then
			modem "m$N" >/dev/null
			download "$backend" "$mode" "$block" "at:$PTY"
		else
			modem "m$N" --no-cgla >/dev/null
			download "$backend" "$mode" "$block" "at-csim:$PTY"
		fi ;;
	esac
}

# A T=1 eUICC ATR whose card capabilities (73 80 21 17) advertise no extended length
# (ISO/IEC 7816-4 §12.1.1): TS T0 TA1 TD1 TD2 TA3 TB3, historical bytes, TCK.
SHORT_ATR=3B95968131FE4580738021174D

# pcsc: in a subshell, so that pcsc-lib.sh's traps and exits stay there.
measure_pcsc() {
	local why=
	if [ ! -f tests/cli/pcsc-lib.sh ] || ! "$ESIMCTL" euicc serve --help >/dev/null 2>&1; then
		why="this build has no PC/SC backend and no 'euicc serve'"
	elif [ ! -x "$BUILD/tests/pcsc_hold" ]; then
		why="no $BUILD/tests/pcsc_hold"
	fi
	if [ -n "$why" ]; then
		skipped pcsc before "$why"
		skipped pcsc after "$why"
		return
	fi
	(
		# pcsc-lib.sh is written for the tests, which do not run under set -e.
		set +e
		# What pcsc-lib.sh takes from tests/cli/lib.sh and sgp22-lib.sh.
		T=$W/pcsc ESIMCTL_BUILD=$(cd "$BUILD" && pwd)
		mkdir -p "$T"
		skip_all() {
			skipped pcsc before "$*"
			skipped pcsc after "$*"
			exit 0
		}
		sgp_abort() { echo "apdus.sh: $*" >&2; exit 1; }
		sgp_cleanup() { :; }
		. tests/cli/stop-pid.sh
		sgp_free_port() {
			"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		}
		. tests/cli/pcsc-lib.sh
		pcsc_start 2
		for row in "pcsc before 120" "pcsc after -" "pcsc-short before 120" "pcsc-short after -"; do
			set -- $row
			soft_state "$W/p$N.json"
			if [ "$1" = pcsc-short ]; then
				pcsc_card_start "p$N" "$W/p$N.json" --atr "$SHORT_ATR"
			else
				pcsc_card_start "p$N" "$W/p$N.json"
			fi
			download "$1" "$2" "${3#-}" "$CARD_URI" || exit 1
			pcsc_card_stop "p$((N - 1))"
		done
		exit 0
	)
}

{
	for b in soft at at-csim; do
		echo "apdus: $b" >&2
		measure "$b" before 120
		measure "$b" after ""
	done
	measure soft-255 "after, short APDUs only" 255
	echo "apdus: pcsc" >&2
	measure_pcsc
} >"$W/rows.jsonl"
jq -s --argjson upp "$UPP_BYTES" '{upp_bytes: $upp, rows: .}' "$W/rows.jsonl" >"$W/apdus.json"
if [ "$MARKDOWN" = 0 ]; then
	cat "$W/apdus.json"
	exit 0
fi
"$PY" - "$W/apdus.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
print("## APDUs per download\n")
print("One download of a TS.48-sized profile (a synthetic UPP of %s bytes, the size of "
      "TS48V1-A-UNIQUE) per eUICC backend, `bench/apdus.sh`: the C-APDUs exchanged with the "
      "eUICC and their bytes each way (headers and status words included), summed over the "
      "command's eUICC sessions. *before*: `ESIMCTL_STORE_DATA_BLOCK=120`, STORE DATA blocks "
      "of 120 bytes in short APDUs, as esimctl sent them until the block size changed; "
      "*after*: the automatic size, 255-byte blocks, or 1,024-byte blocks in extended-length "
      "APDUs where the card's ATR advertises them (the software eUICC's does; "
      "docs/backends.md, \"APDU sizes\"). Counts, not times: the same on any machine.\n"
      % format(d["upp_bytes"], ","))
print("| backend | mode | STORE DATA blocks | APDUs | bytes sent | bytes received | vs before |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
before = {r["backend"]: r for r in rows if r.get("mode") == "before" and "apdus" in r}
for r in rows:
    if "skipped" in r:
        print("| %s | %s | not measured: %s | - | - | - | - |" % (r["backend"], r["mode"], r["skipped"]))
        continue
    b = before.get(r["backend"].replace("-255", ""))
    ratio = "%.2fx APDUs" % (r["apdus"] / b["apdus"]) if b and b is not r else "-"
    print("| %s | %s | %s | %d | %s | %s | %s |" % (
        r["backend"], r["mode"], r["block"], r["apdus"], format(r["tx_bytes"], ","),
        format(r["rx_bytes"], ","), ratio))
print()
EOF
