# sgp22-lib.sh - shared setup for the SGP.22 end-to-end tests (t1000..t1400).
#
# Sourced by a test file instead of lib.sh (it sources lib.sh itself).  The tests drive
# the real path: the built esimctl with a software eUICC against the independent test
# SM-DP+ in tests/smdp (see tests/smdp/README.md), over HTTPS on 127.0.0.1.
#
#   sgp_require                      skip the whole file (exit 77) when a tool is missing
#   sgp_pki nist|brp                 one test PKI per curve in $T/pki-CURVE: sets PKI, CUR, CI_PEM
#   sgp_device NAME [euicc|euicc2] [KIND]
#                                    soft eUICC $T/NAME.json with that manifest identity, and a
#                                    device NAME (default kind phone) bound to it through the
#                                    backend ESIMCTL_TEST_BACKEND names (below)
#   card_stop NAME; card_start NAME  pull the card of device NAME and put it back (at, at-csim,
#                                    pcsc; nothing on soft, whose card is esimctl itself)
#   backend_is B...                  the backend is one of B...
#   runs_on WHY B...                 true on backends B...; elsewhere false, saying that WHY
#                                    is left out
#   srv_start [smdpp options]        start the SM-DP+ (orders: $ORDERS) on $SRV_PORT, or on a
#                                    free port when it is empty; sets SMDP_ADDR, ADMIN_PORT and
#                                    ESIMCTL_RESOLVE; srv_stop stops it (bounded waits)
#   admin PATH [JSON]                GET or POST one /test/* admin request
#   misbehave JSON                   set (or with '{}' clear) the global misbehaviour
#   hold FN; held_is FN; unhold      the SM-DP+ holds its answers to FN, until unhold
#   wait_until COND...               poll COND, at most ~30 s
#   log_mark; log_is WHAT SEL N      N records of the server log since the mark match jq SEL
#   esim ARGS...                     esimctl under a timeout guard: a stalled server never hangs
#                                    a test (an overrun shows up as exit 124)
#   store_save; store_same           the store is byte-identical to the saved copy
#
# ESIMCTL_TEST_BACKEND picks the way esimctl reaches each software eUICC (CMakeLists.txt
# registers the SGP.22 files once per backend, as cli/tNNNN-NAME@BACKEND):
#   soft      (default) soft:$T/NAME.json, the eUICC inside esimctl
#   at        at:PORT, the test modem tests/emulators/atmodem.c on a pseudo-terminal (at-lib.sh)
#             with the state file as its SIM, AT+CCHO/AT+CGLA/AT+CCHC, echoes and URCs on
#   at-csim   at-csim:PORT, the same modem without logical channel commands (AT+CSIM)
#   pcsc      pcsc:READER, 'esimctl euicc serve' behind a private pcscd with vpcd (pcsc-lib.sh)
# The modem and 'euicc serve' load the state file once and write every change back to it,
# so a check that reads $T/NAME.json sees what the card holds.  A check that is about the
# soft: URI or the state file as such (one that changes the file under a running card)
# runs on soft only, one that needs a card apart from esimctl not on soft: runs_on says
# so in the output.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/at-lib.sh"

BACKEND=${ESIMCTL_TEST_BACKEND:-soft}
case $BACKEND in
soft | at | at-csim) ;;
pcsc)
	if [ ! -f "$(dirname "${BASH_SOURCE[0]}")/pcsc-lib.sh" ]; then
		echo "not ok - ESIMCTL_TEST_BACKEND=pcsc needs tests/cli/pcsc-lib.sh"
		exit 1
	fi
	. "$(dirname "${BASH_SOURCE[0]}")/pcsc-lib.sh"
	;;
*)
	echo "not ok - ESIMCTL_TEST_BACKEND='$BACKEND': not soft, at, at-csim or pcsc"
	exit 1
	;;
esac
[ "$BACKEND" = soft ] || echo "# backend: $BACKEND"
declare -A CARD_URI_OF=() CARD_PID_OF=()
PCSC_UP=

PY=/usr/bin/python3
SMDP=$ESIMCTL_SRC/tests/smdp
SGP_HOST=testsmdpplus1.example.com
SGP_GUARD=${SGP_GUARD:-60}
ORDERS=$T/orders.json
SRV_LOG=$T/smdp-log.jsonl
SRV_STATE=$T/smdp-state.jsonl
SRV_PID=
SRV_PORT=
ADMIN_PORT=
SMDP_ADDR=
LOG_MARK=0

# Proxies would take the requests away from 127.0.0.1; a caller's resolve entries or
# trust choices would change what is tested.
unset ESIMCTL_RESOLVE ESIMCTL_TRUST_SYSTEM_CA https_proxy HTTPS_PROXY http_proxy HTTP_PROXY
unset all_proxy ALL_PROXY no_proxy NO_PROXY

srv_stop() {
	stop_pid "$SRV_PID"
	SRV_PID=
}

sgp_cleanup() {
	srv_stop
	modem_stop_all
	if [ -n "$PCSC_UP" ]; then pcsc_stop; fi
	rm -rf "$T"
}
trap sgp_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# A fatal setup problem: report it and stop the file.
sgp_abort() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	finish
}

sgp_require() {
	local tool
	for tool in jq curl timeout cmp; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			skip_all "$tool not found"
		fi
	done
	if ! "$PY" -c 'import cryptography' 2>/dev/null; then
		skip_all "$PY with python3-cryptography not found (Debian python3-cryptography)"
	fi
	case $BACKEND in at | at-csim) modem_require ;; esac
}

backend_is() {
	local b
	for b in "$@"; do [ "$BACKEND" = "$b" ] && return 0; done
	return 1
}

runs_on() {
	local why=$1
	shift
	backend_is "$@" && return 0
	echo "# not on $BACKEND, on $* only: $why"
	return 1
}

# Under ESIMCTL_VALGRIND (lib.sh's VG) esimctl runs in memcheck here too.
esim() {
	ESIM_RUNS=$((ESIM_RUNS + 1))
	timeout -k 5 "$SGP_GUARD" ${VG[@]+"${VG[@]}"} "$ESIMCTL" "$@"
}

# sgp_pki nist|brp [mkpki options]: brainpool hierarchies get a brainpool TLS key too
# unless the options say otherwise; the server offers TLS 1.3 and esimctl must still
# negotiate 1.2 (tests/smdp/README.md, "Brainpool TLS").
sgp_pki() {
	local curve=$1 extra=("${@:2}")
	PKI=$T/pki-$curve
	if ! "$PY" "$SMDP/mkpki.py" "$PKI" --curve "$curve" "${extra[@]}" --all >"$T/.mkpki" 2>&1; then
		sed 's/^/#   mkpki: /' "$T/.mkpki"
		sgp_abort "mkpki.py --curve $curve"
	fi
	CUR=$(jq -r '.curve | ascii_upcase' "$PKI/manifest.json")
	CI_PEM=$PKI/$(jq -r .ci.cert_pem "$PKI/manifest.json")
}

# pki_path KEY FIELD: a file of the current PKI, from its manifest ("euicc2" "cert_der").
pki_path() {
	echo "$PKI/$(jq -r ".$1.$2" "$PKI/manifest.json")"
}

pki_eid() {
	jq -r ".$1.eid" "$PKI/manifest.json"
}

# card_start NAME: the card of $T/NAME.json in its reader or modem (again); sets
# CARD_URI_OF[NAME], the --euicc URI, the same after a restart.
card_start() {
	local name=$1 uri
	case $BACKEND in
	soft) uri=soft:$T/$name.json ;;
	at)
		modem_start "$name" "$T/$name.json" --urc --echo
		CARD_PID_OF[$name]=$MODEM_PID
		uri=at:$T/$name.tty
		;;
	at-csim)
		modem_start "$name" "$T/$name.json" --no-cgla --urc --echo
		CARD_PID_OF[$name]=$MODEM_PID
		uri=at-csim:$T/$name.tty
		;;
	pcsc)
		if [ -z "$PCSC_UP" ]; then
			pcsc_start "${SGP_READERS:-2}"
			PCSC_UP=1
		fi
		pcsc_card_start "$name" "$T/$name.json"
		uri=$CARD_URI
		;;
	esac
	if [ -n "${CARD_URI_OF[$name]:-}" ] && [ "${CARD_URI_OF[$name]}" != "$uri" ]; then
		sgp_abort "the card of $name came back as $uri, not ${CARD_URI_OF[$name]}"
	fi
	CARD_URI_OF[$name]=$uri
}

# card_stop NAME: the card of NAME is gone (the modem or 'euicc serve' killed).
card_stop() {
	case $BACKEND in
	at | at-csim)
		modem_stop "${CARD_PID_OF[$1]}"
		CARD_PID_OF[$1]=
		# the port goes with the modem: the freed pty number may be another test's next
		# modem, holding a soft eUICC with the same test EID
		rm -f "$T/$1.tty"
		;;
	pcsc) pcsc_card_stop "$1" ;;
	esac
	return 0
}

# Both steps of sgp_device are checked.
sgp_device() {
	local name=$1 id=${2:-euicc}
	run 0 esim euicc create-soft "$T/$name.json" --eid "$(pki_eid "$id")" \
		--cert "$(pki_path "$id" cert_der)" --key "$(pki_path "$id" key_pem)" \
		--eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
	card_start "$name"
	run 0 esim device add "$name" --kind "${3:-phone}" --euicc "${CARD_URI_OF[$name]}"
	out_has "EID $(pki_eid "$id")"
}

sgp_free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# srv_start [smdpp options]: on $SRV_PORT when set (a restart), else on a free port (up
# to three tries: another process may take the port between the probe and the bind).
srv_start() {
	local i tries port
	srv_stop
	for ((tries = 1; ; tries++)); do
		port=${SRV_PORT:-$(sgp_free_port)}
		: >"$T/srv.out"
		"$PY" "$SMDP/smdpp.py" --pki "$PKI" --port "$port" --profiles "$ORDERS" \
			--log "$SRV_LOG" --state "$SRV_STATE" --notify-address "$SGP_HOST:$port" \
			--admin-port 0 "$@" >"$T/srv.out" 2>"$T/srv.err" &
		SRV_PID=$!
		# until it is ready or has exited (at most 120 s: a loaded machine starts it slowly)
		for ((i = 0; i < 1200; i++)); do
			grep -q '^READY ' "$T/srv.out" && break
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.1
		done
		grep -q '^READY ' "$T/srv.out" && break
		srv_stop
		if [ -n "$SRV_PORT" ] || [ "$tries" -ge 3 ]; then
			sed 's/^/#   smdpp: /' "$T/srv.err" | tail -5
			sgp_abort "the test SM-DP+ did not start on port $port"
		fi
	done
	SRV_PORT=$port
	ADMIN_PORT=$(sed -n 's/^ADMIN //p' "$T/srv.out")
	SMDP_ADDR=$SGP_HOST:$SRV_PORT
	# host:443 too, so that anything sent to the address without the port fails at once
	# (connection refused) instead of waiting for DNS.
	export ESIMCTL_RESOLVE=$SGP_HOST:$SRV_PORT:127.0.0.1,$SGP_HOST:443:127.0.0.1
	touch "$SRV_LOG"
}

admin() {
	if [ $# -ge 2 ]; then
		curl -sf --noproxy '*' -m 10 -H 'Content-Type: application/json' -d "$2" \
			"http://127.0.0.1:$ADMIN_PORT$1"
	else
		curl -sf --noproxy '*' -m 10 "http://127.0.0.1:$ADMIN_PORT$1"
	fi
}

misbehave() {
	if ! admin /test/misbehave "$1" >/dev/null; then
		nok "POST /test/misbehave $1"
	fi
}

# wait_until COND...: poll a condition, at most ~30 s (a bound against hangs, not a timing).
wait_until() {
	local i
	for ((i = 0; i < 600; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# hold FUNCTION: the SM-DP+ keeps its answers to FUNCTION until unhold; held_is FUNCTION:
# it holds exactly that one now; unhold: normal answers, and the held ones go out.
hold() { misbehave "{\"mode\": \"hold\", \"functions\": [\"$1\"]}"; }
held_is() { [ "$(admin /test/state | jq -c '.held')" = "[\"$1\"]" ]; }
unhold() {
	misbehave '{}'
	admin /test/release '{}' >/dev/null || nok "POST /test/release"
}

# The server writes a request's record after it has answered, so the client can be done
# first: wait until the log stops growing, once per esimctl run (at most ~3 s).
ESIM_RUNS=0
SETTLED_AT=-1
log_settle() {
	local i size last stable=0
	[ "$SETTLED_AT" = "$ESIM_RUNS" ] && return 0
	last=$(wc -c <"$SRV_LOG")
	for ((i = 0; i < 60 && stable < 2; i++)); do
		sleep 0.05
		size=$(wc -c <"$SRV_LOG")
		if [ "$size" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
		last=$size
	done
	SETTLED_AT=$ESIM_RUNS
}

log_mark() {
	log_settle
	LOG_MARK=$(wc -l <"$SRV_LOG")
}

log_new() {
	tail -n +"$((LOG_MARK + 1))" "$SRV_LOG"
}

log_count() {
	log_new | jq -c "select($1)" | wc -l
}

# log_is WHAT JQ-SELECT N: exactly N log records since log_mark match.
log_is() {
	local got i
	log_settle
	# the records may come late on a loaded machine: wait for them (at most 60 s)
	for ((i = 0; i < 600; i++)); do
		got=$(log_count "$2")
		[ "$got" -ge "$3" ] && break
		sleep 0.1
	done
	if [ "$got" = "$3" ]; then
		ok "server log: $1"
	else
		nok "server log: $1: $got records, wanted $3"
		log_new | jq -c '{event, function, status, subjectCode, reasonCode, type, valid, reason, error}
			| with_entries(select(.value != null))' | sed 's/^/#   log: /' | tail -15
	fi
}

# req_functions: the ES9+ functions requested since log_mark, comma-separated.
req_functions() {
	log_settle
	log_new | jq -r 'select(.event == "request") | .function' | paste -sd, -
}

store_save() {
	cp "$ESIMCTL_STORE" "$T/store.saved"
}

store_same() {
	if cmp -s "$T/store.saved" "$ESIMCTL_STORE"; then
		ok "store is byte-identical to before"
	else
		nok "store changed"
		diff <(jq -S . "$T/store.saved") <(jq -S . "$ESIMCTL_STORE") | sed 's/^/#   diff: /' | head -20
	fi
}

# euicc_is DEVICE JQ-EXPR EXPECTED: check 'esimctl euicc info --json' (.euicc).
euicc_is() {
	local got
	esim --json euicc info --device "$1" >"$T/.info" 2>"$T/.info.err"
	got=$(jq -c ".euicc | $2" "$T/.info" 2>&1)
	if [ "$got" = "$3" ]; then
		ok "eUICC of $1: $2 == $3"
	else
		nok "eUICC of $1: $2 == $got, wanted $3"
		sed 's/^/#   info: /' "$T/.info.err" | head -5
	fi
}

# list_is JQ-EXPR EXPECTED: check 'esimctl list --json'.
list_is() {
	local got
	esim --json list >"$T/.list" 2>/dev/null
	got=$(jq -c "$1" "$T/.list" 2>&1)
	if [ "$got" = "$2" ]; then ok "list: $1 == $2"; else nok "list: $1 == $got, wanted $2"; fi
}

# An order for the server's --profiles file or POST /test/orders.
order_json() {
	local mid=$1 iccid=$2 cc=${3:-null}
	printf '{"matching_id":"%s","iccid":"%s","cc":%s,"spn":"Test Operator","name":"Test Profile","notify":["enable","disable","delete"]}' \
		"$mid" "$iccid" "$cc"
}
