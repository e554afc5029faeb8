# at-lib.sh - the test AT modem (tests/emulators/atmodem.c) for the end-to-end tests:
# t1700-at.sh, and sgp22-lib.sh when ESIMCTL_TEST_BACKEND is at or at-csim.
#
# Sourced after lib.sh (it needs $T).  The caller's EXIT trap calls modem_stop_all.
#
#   modem_require                  skip the whole file (exit 77) without the emulator or ptys
#   modem_start NAME STATE [atmodem options]
#                                  a modem on a new pseudo-terminal with the software eUICC
#                                  STATE as its SIM; its APDU log is $T/NAME.apdus.  Sets
#                                  PTY (the slave's path) and MODEM_PID, and points the
#                                  symbolic link $T/NAME.tty at the slave: a stable port name
#                                  across a restart of the modem
#   modem_stop PID                 stop one modem (bounded wait)
#   modem_stop_all                 stop every modem started here
ATMODEM=$ESIMCTL_BUILD/tests/atmodem
MODEM_PIDS=()
MODEM_PID=
PTY=
# The port's UUCP lock files go to a private directory, never /var/lock.
export ESIMCTL_UUCP_LOCK_DIR=$T/lock
mkdir -p "$ESIMCTL_UUCP_LOCK_DIR"

modem_require() {
	[ -x "$ATMODEM" ] || skip_all "$ATMODEM not built"
	[ -e /dev/ptmx ] || skip_all "no /dev/ptmx"
}

modem_start() {
	local name=$1 state=$2 i
	shift 2
	# emptied here, not only by the redirection in the background child, which may come
	# after the loop below has read a restarted modem's old line
	: >"$T/$name.out"
	"$ATMODEM" --state "$state" --log "$T/$name.apdus" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	MODEM_PID=$!
	MODEM_PIDS+=("$MODEM_PID")
	# until it has printed its pty or exited (at most 60 s: a loaded machine starts it slowly)
	for ((i = 0; i < 1200; i++)); do
		grep -q '^PTY ' "$T/$name.out" && break
		kill -0 "$MODEM_PID" 2>/dev/null || break
		sleep 0.05
	done
	PTY=$(sed -n 's/^PTY //p' "$T/$name.out")
	if ! [ -c "$PTY" ]; then
		FAIL=$((FAIL + 1))
		echo "not ok - atmodem $name did not start: $(cat "$T/$name.err")"
		finish
	fi
	ln -sfn "$PTY" "$T/$name.tty"
}

modem_stop() { stop_pid "$1"; }

modem_stop_all() {
	local p
	for p in ${MODEM_PIDS[@]+"${MODEM_PIDS[@]}"}; do
		modem_stop "$p"
	done
	MODEM_PIDS=()
}
