# pcsc-lib.sh - a private pcscd with vsmartcard's vpcd readers, and software eUICCs served
# into them with `esimctl euicc serve`, for the PC/SC end-to-end tests.
#
# Sourced after lib.sh / sgp22-lib.sh.  The pcscd is ours alone: it runs in the
# foreground in its own mount namespace (unshare -m as root, unshare -rm otherwise) with
# a tmpfs over /run and the test directory $T/pcscd-run bind-mounted on /run/pcscd, so
# its socket is $T/pcscd-run/pcscd.comm and a system pcscd (and the real /run/pcscd)
# is never touched.  pcsc-lite 1.9.9 reads PCSCLITE_CSOCK_NAME in the client library
# only, which is how esimctl and pcsc_scan find this pcscd.  Its reader.conf.d is
# $T/pcscd-conf (pcscd -c); the vpcd driver is copied into $T and an empty directory
# hides /usr/lib/pcsc/drivers inside the namespace, so this pcscd never claims a real
# USB reader either.  Debian's pcscd 1.9.9 is built without polkit: no option needed.
#
#   pcsc_start [N]                 pcscd with N vpcd readers (default 2; rounded up to an even
#                                  number: reader.conf entry K has two slots, "Virtual PCD K
#                                  00 00" and "Virtual PCD K 00 01", on ports P and P+1);
#                                  exports PCSCLITE_CSOCK_NAME; skips the file (exit 77)
#                                  when pcscd, vpcd or a mount namespace is not available
#   pcsc_card_start NAME STATEFILE [serve options]
#                                  `esimctl euicc serve soft:STATEFILE --vpcd 127.0.0.1:PORT`
#                                  on the next reader without a card; sets CARD_URI
#                                  ("pcsc:<reader name>"), CARD_READER and CARD_PID and
#                                  waits until pcscd sees the card
#   pcsc_card_stop NAME            kill that serve (the card is pulled) and wait for pcscd
#                                  to see the reader empty
#   pcsc_restart                   stop pcscd and start it again with the same readers
#   pcsc_stop                      stop every serve and pcscd (bounded waits; also run by
#                                  the EXIT trap)
#   pcsc_list                      print "INDEX<TAB>NAME<TAB>present|empty" per reader
VPCD_SO=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
PCSCD_PID=
PCSC_NREADERS=0
declare -a PCSC_READER_NAMES=() PCSC_READER_PORTS=() PCSC_NS=()
declare -A PCSC_CARD_PID=() PCSC_CARD_SLOT=()

pcsc_cleanup() {
	pcsc_stop
	sgp_cleanup
}
trap pcsc_cleanup EXIT

# 0 when process $1 has ended (gone, or a zombie its parent has not reaped yet).
pcsc_ended() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

pcsc_kill() { stop_pid "$1"; }

pcsc_stop() {
	local n
	for n in "${!PCSC_CARD_PID[@]}"; do
		pcsc_kill "${PCSC_CARD_PID[$n]}"
		unset "PCSC_CARD_PID[$n]"
	done
	pcsc_kill "$PCSCD_PID"
	PCSCD_PID=
}

# The readers pcscd knows (counted from 0, as pcsc:#N and pcsc_scan count).
pcsc_list() {
	timeout -k 2 5 "$ESIMCTL_BUILD/tests/pcsc_hold" --list 2>/dev/null
}

# 0 when pcscd reports reader $1 (by name) with a card ($2 = 1) or without one ($2 = 0).
pcsc_reader_state() {
	timeout -k 2 5 "$ESIMCTL_BUILD/tests/pcsc_hold" --state "$1" 2>/dev/null |
		grep -qx "$([ "$2" = 1 ] && echo present || echo empty)"
}


pcsc_start() {
	local want=${1:-2} entries i j port base ns=() run=$T/pcscd-run conf=$T/pcscd-conf
	command -v pcscd >/dev/null 2>&1 || skip_all "pcscd not installed (Debian pcscd)"
	[ -f "$VPCD_SO" ] || skip_all "$VPCD_SO not installed (Debian vsmartcard-vpcd)"
	[ -x "$ESIMCTL_BUILD/tests/pcsc_hold" ] || skip_all "$ESIMCTL_BUILD/tests/pcsc_hold not built"
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		ns=(unshare -m)
	elif unshare -rm true 2>/dev/null; then
		ns=(unshare -rm)
	else
		skip_all "no mount namespace for a private pcscd (unshare -m / unshare -rm refused)"
	fi
	mkdir -p "$run" "$conf" "$T/pcscd-drivers"
	cp "$VPCD_SO" "$T/libifdvpcd.so"
	# Each reader.conf entry is one vpcd with two slots (two readers) on PORT and PORT+1.
	entries=$(((want + 1) / 2))
	for ((i = 0; i < entries; i++)); do
		for ((j = 0; j < 20; j++)); do
			base=$(sgp_free_port)
			port=$((base + 1))
			# both ports free (the probe is only a hint: pcscd's bind decides)
			if "$PY" -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' "$port" 2>/dev/null &&
				"$PY" -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' "$base" 2>/dev/null; then
				break
			fi
		done
		cat >"$conf/vpcd$i" <<-EOF
			FRIENDLYNAME "Virtual PCD $i"
			DEVICENAME   /dev/null:$base
			LIBPATH      $T/libifdvpcd.so
			CHANNELID    $base
		EOF
		PCSC_READER_NAMES+=("Virtual PCD $i 00 00" "Virtual PCD $i 00 01")
		PCSC_READER_PORTS+=("$base" "$port")
	done
	PCSC_NREADERS=$((entries * 2))
	PCSC_NS=("${ns[@]}")
	pcsc_launch
}

# Start pcscd (again) with the configuration pcsc_start wrote; wait for its readers.
pcsc_launch() {
	local i run=$T/pcscd-run
	"${PCSC_NS[@]}" sh -c '
		mount --make-rprivate / &&
		mount -t tmpfs -o mode=0755 pcsc-test /run && mkdir /run/pcscd &&
		mount --bind "$1" /run/pcscd &&
		mount --bind "$2" /usr/lib/pcsc/drivers &&
		exec pcscd -f -c "$3"' sh "$run" "$T/pcscd-drivers" "$T/pcscd-conf" >>"$T/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	export PCSCLITE_CSOCK_NAME=$run/pcscd.comm
	for ((i = 0; i < 100; i++)); do
		kill -0 "$PCSCD_PID" 2>/dev/null || break
		[ "$(pcsc_list | wc -l)" -ge "$PCSC_NREADERS" ] && return 0
		sleep 0.1
	done
	sed 's/^/#   pcscd: /' "$T/pcscd.log" | tail -20
	sgp_abort "private pcscd did not come up with $PCSC_NREADERS vpcd readers"
}

# The slot of the first reader with no serve attached.
pcsc_free_slot() {
	local i n used
	for ((i = 0; i < PCSC_NREADERS; i++)); do
		used=
		for n in "${!PCSC_CARD_SLOT[@]}"; do
			[ -n "${PCSC_CARD_PID[$n]:-}" ] && [ "${PCSC_CARD_SLOT[$n]}" = "$i" ] && used=1
		done
		[ -z "$used" ] && { echo "$i"; return 0; }
	done
	return 1
}

pcsc_card_start() {
	local name=$1 state=$2 slot i
	shift 2
	slot=$(pcsc_free_slot) || sgp_abort "pcsc_card_start $name: every reader has a card"
	"$ESIMCTL" euicc serve "soft:$state" --vpcd "127.0.0.1:${PCSC_READER_PORTS[$slot]}" "$@" \
		>"$T/serve-$name.out" 2>"$T/serve-$name.err" &
	PCSC_CARD_PID[$name]=$!
	PCSC_CARD_SLOT[$name]=$slot
	CARD_PID=$!
	CARD_READER=${PCSC_READER_NAMES[$slot]}
	CARD_URI="pcsc:$CARD_READER"
	for ((i = 0; i < 300; i++)); do
		pcsc_reader_state "$CARD_READER" 1 && return 0
		kill -0 "$CARD_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/#   serve: /' "$T/serve-$name.err"
	sgp_abort "pcsc_card_start $name: pcscd does not see the card in '$CARD_READER'"
}

# pcscd stops and starts again on the same ports (the serves reconnect by themselves).
pcsc_restart() {
	pcsc_kill "$PCSCD_PID"
	PCSCD_PID=
	pcsc_launch
}

pcsc_card_stop() {
	local name=$1 slot i
	slot=${PCSC_CARD_SLOT[$name]:-}
	pcsc_kill "${PCSC_CARD_PID[$name]:-}"
	unset "PCSC_CARD_PID[$name]"
	[ -n "$slot" ] || return 0
	for ((i = 0; i < 300; i++)); do
		pcsc_reader_state "${PCSC_READER_NAMES[$slot]}" 0 && return 0
		sleep 0.1
	done
	sgp_abort "pcsc_card_stop $name: pcscd still sees a card in '${PCSC_READER_NAMES[$slot]}'"
}
