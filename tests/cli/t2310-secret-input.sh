#!/usr/bin/env bash
# t2310-secret-input.sh - activation and confirmation codes stay out of argv, core files and
# the server's echoed text; the confirmation prompt always gives the terminal back.
#
#   - add/qr --code-file FILE|- and --confirmation-code-file FILE|-: the file policy
#     (one line, trailing newline removed, regular file or pipe, size limit, mode);
#   - /proc/PID/cmdline of a download stalled by the SM-DP+ shows neither code, whether
#     they came from files (stdin) or from the command line (overwritten in argv);
#   - the code's confirmation-code flag without a code or a terminal fails before any
#     request reaches the SM-DP+;
#   - Ctrl-C at the no-echo prompt (in a pty) leaves the terminal echoing;
#   - esimctl is not dumpable and has a core limit of 0 (seen as another user), and a
#     download killed by SIGSEGV or SIGABRT with "ulimit -c unlimited" leaves no core file
#     (a control process under the same conditions does leave one);
#   - an SM-DP+ message quoting the matching ID (any case, hex, cut short, or another
#     stored profile's) or the confirmation code is shown masked on stderr and in --json.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

CONF=58213947
MID_FILE=K7Q2-FILE-INPUT-MID-ONE
MID_ARGV=K7Q2-ARGV-INPUT-MID-TWO
MID_ARGV2=K7Q2-ARGV-EQUALS-MID-TEN
MID_EARLY=K7Q2-EARLY-CHECK-MID-THREE
MID_PTY=K7Q2-PTY-PROMPT-MID-FOUR
MID_TYPED=K7Q2-PTY-TYPED-MID-FIVE
MID_CRASH1=K7Q2-CRASH-SEGV-MID-SIX
MID_CRASH2=K7Q2-CRASH-ABRT-MID-SEVEN
MID_ECHO=K7Q2-ECHOED-BY-SERVER-MID-EIGHT
MID_OK=K7Q2-PLAIN-DOWNLOAD-MID-NINE
i=0
ORD=()
for m in "$MID_FILE" "$MID_ARGV" "$MID_EARLY" "$MID_PTY" "$MID_TYPED" "$MID_CRASH1" "$MID_CRASH2" "$MID_ECHO" "$MID_OK" "$MID_ARGV2"; do
	i=$((i + 1))
	base=89494499999999901$(printf %02d $i)
	iccid=$base$("$PY" -c '
import sys
d = [int(c) for c in sys.argv[1]][::-1]
s = sum(x if i % 2 else (2 * x if 2 * x < 10 else 2 * x - 9) for i, x in enumerate(d))
print((10 - s % 10) % 10)' "$base")
	case $m in
	"$MID_OK") ORD+=("$(order_json "$m" "$iccid")") ;;
	*) ORD+=("$(order_json "$m" "$iccid" "\"$CONF\"")") ;;
	esac
done
sgp_pki nist
export ESIMCTL_CA_FILE=$CI_PEM
(IFS=,; printf '[%s]\n' "${ORD[*]}") >"$ORDERS"
srv_start
sgp_device phone

# ---- the file policy (no SM-DP+ involved: a device without an eUICC) ----------------------
OFF="LPA:1\$rsp.example.com\$FILE-POLICY-MID-123"
umask 077
printf '%s\n' "$OFF" >"$T/code"
run 0 esim --json add --code-file "$T/code" --carrier Verizon --nickname offline
json_eq '.profile.activation_code.masked' true
check "the stored code is the file's" [ "$(jq -r '.profiles[0].activation_code.matching_id' "$ESIMCTL_STORE")" = FILE-POLICY-MID-123 ]
printf '%s\r\n' "$OFF" | esim --json add --code-file - --carrier Verizon >"$OUT" 2>"$ERR"
check "stdin with CRLF: the same profile again (idempotent)" [ "$(jq -r .created "$OUT")" = false ]
run 0 esim qr --code "$OFF"
cp "$OUT" "$T/qr.argv"
esim qr --code-file - <"$T/code" >"$OUT" 2>"$ERR"
check "qr --code-file - draws the same QR code as qr --code" cmp -s "$OUT" "$T/qr.argv"
run 0 esim qr --code-file "$T/code"
check "qr --code-file FILE draws the same QR code" cmp -s "$OUT" "$T/qr.argv"
mkfifo -m 600 "$T/fifo"
# (bounded: an esimctl that does not read the FIFO must not hang the test)
timeout 20 sh -c 'printf "%s\n" "$1" >"$2"' sh "$OFF" "$T/fifo" &
writer=$!
run 0 esim qr --code-file "$T/fifo"
wait "$writer"
check "qr --code-file FIFO draws the same QR code" cmp -s "$OUT" "$T/qr.argv"

run 2 esim add "$OFF" --code-file "$T/code" --carrier Verizon
err_has "give either CODE or --code-file, not both"
run 2 esim qr --code "$OFF" --code-file "$T/code"
err_has "give either --code or --code-file, not both"
run 2 esim add --code-file "$T/nonexistent" --carrier Verizon
err_has "--code-file '$T/nonexistent': No such file or directory"
# "--code" abbreviates --code-file: the code taken for a file name is not echoed
run 2 esim add --code "$OFF" --carrier Verizon
err_has "the argument looks like an activation code, not a file name"
err_lacks "FILE-POLICY-MID"
run 2 esim add --code-file "$T" --carrier Verizon
err_has "is not a regular file or a pipe"
run 2 esim qr --code-file /dev/zero
err_has "--code-file '/dev/zero' is not a regular file or a pipe"
: >"$T/empty"
run 2 esim add --code-file "$T/empty" --carrier Verizon
err_has "--code-file: $T/empty is empty"
printf '\n' >"$T/newline"
run 2 esim add --code-file "$T/newline" --carrier Verizon
err_has "is empty"
printf '%s\n%s\n' "$OFF" "$OFF" >"$T/two"
run 2 esim add --code-file "$T/two" --carrier Verizon
err_has "holds more than one line"
printf '%s\tX\n' "$OFF" >"$T/ctl"
run 2 esim add --code-file "$T/ctl" --carrier Verizon
err_has "holds a control character"
head -c 1030 /dev/zero | tr '\0' A >"$T/big"
run 2 esim add --code-file "$T/big" --carrier Verizon
err_has "holds more than 1024 bytes"
head -c 129 /dev/zero | tr '\0' 7 >"$T/bigcc"
run 2 esim add "$OFF" --confirmation-code-file "$T/bigcc" --carrier Verizon
err_has "--confirmation-code-file: $T/bigcc holds more than 128 bytes"
run 2 esim add --code-file - --confirmation-code-file - --carrier Verizon
err_has "cannot both read standard input"
printf '%s\n' "$CONF" >"$T/cc"
run 2 esim add "$OFF" --confirmation-code 1 --confirmation-code-file "$T/cc" --carrier Verizon
err_has "give either --confirmation-code or --confirmation-code-file, not both"
# modes: writable by others is refused (they could choose the code), readable is a warning
cp "$T/code" "$T/code620"
chmod 620 "$T/code620"
run 2 esim add --code-file "$T/code620" --carrier Verizon
err_has "--code-file '$T/code620' has mode 0620: other users can change the code in it"
err_has "hint: chmod 600 '$T/code620'"
chmod 644 "$T/code"
run 0 esim add --code-file "$T/code" --carrier Verizon
err_has "esimctl: warning: --code-file '$T/code' has mode 0644: other users can read the code in it; fix: chmod 600 '$T/code'"
chmod 600 "$T/code"
run 0 esim add --code-file "$T/code" --carrier Verizon
err_empty

# ---- /proc/PID/cmdline of a download stalled by the SM-DP+ ---------------------------------
# stall_start NAME STDIN CMD...: the SM-DP+ will stall getBoundProfilePackage; start CMD
# (stdout and stderr in $T/NAME.out/.err) in the background, its pid in $STALLED, and wait
# until the SM-DP+ has its authenticateClient request (both codes used by then).
stall_start() {
	local name=$1 in=$2 n
	shift 2
	misbehave '{"mode": "stall", "functions": ["getBoundProfilePackage"], "seconds": 50, "count": 1}'
	log_mark
	"$@" <"$in" >"$T/$name.out" 2>"$T/$name.err" &
	STALLED=$!
	for ((n = 0; n < 400; n++)); do
		log_new | grep -q '"authenticateClient"' && break
		kill -0 "$STALLED" 2>/dev/null || break
		sleep 0.05
	done
}
# stalled_cmdline NAME MID ARGS...: "esimctl ARGS" (stdin from $T/stdin) stalled; read its
# /proc/PID/cmdline into $T/NAME.cmdline, then end it.
stalled_cmdline() {
	local name=$1 mid=$2 pid
	shift 2
	stall_start "$name" "$T/stdin" "$ESIMCTL" "$@"
	pid=$STALLED
	tr '\0' ' ' <"/proc/$pid/cmdline" >"$T/$name.cmdline" 2>/dev/null
	check "$name: the download was still running when its command line was read" kill -0 "$pid"
	kill -TERM "$pid" 2>/dev/null
	timeout 30 tail --pid="$pid" -f /dev/null
	wait "$pid" 2>/dev/null
	misbehave '{}'
	check "$name: the command line was read ($(cat "$T/$name.cmdline"))" grep -q -- "--device phone" "$T/$name.cmdline"
	if grep -qiF -e "$mid" -e "$CONF" "$T/$name.cmdline"; then
		nok "$name: /proc/PID/cmdline shows a secret: $(cat "$T/$name.cmdline")"
	else
		ok "$name: /proc/PID/cmdline shows neither the matching ID nor the confirmation code"
	fi
}
printf 'LPA:1$%s$%s\n' "$SMDP_ADDR" "$MID_FILE" >"$T/stdin"
stalled_cmdline code-file-stdin "$MID_FILE" add --code-file - --confirmation-code-file "$T/cc" --device phone --carrier Verizon
: >"$T/stdin"
stalled_cmdline code-on-argv "$MID_ARGV" add "LPA:1\$$SMDP_ADDR\$$MID_ARGV" --confirmation-code "$CONF" --device phone --carrier Verizon
stalled_cmdline code-on-argv-eq "$MID_ARGV2" add --device phone "LPA:1\$$SMDP_ADDR\$$MID_ARGV2" --carrier Verizon --confirmation-code="$CONF"

# ---- the CC flag without a code or a terminal: refused before the SM-DP+ ------------------------
store_save
log_mark
run 2 esim add "LPA:1\$$SMDP_ADDR\$$MID_EARLY\$\$1" --device phone --carrier Verizon
err_has "the activation code requires a confirmation code and there is no terminal to ask for it"
err_has "--confirmation-code-file FILE"
# Every download opens with initiateAuthentication; a getBoundProfilePackage record may
# still arrive here from the stalled downloads above, which the SM-DP+ logs when their
# stall ends, at a time no settling can bound.
log_is "no request reached the SM-DP+" 'select(.event == "request" and .function == "initiateAuthentication")' 0
store_same
run 2 esim --json add "LPA:1\$$SMDP_ADDR\$$MID_EARLY\$\$1" --device phone --carrier Verizon
json_eq '.error.name' '"usage"'
json_eq '.download' null
printf '%s\n' "$CONF" | esim add "LPA:1\$$SMDP_ADDR\$$MID_EARLY\$\$1" --device phone --carrier Verizon --confirmation-code-file - >"$OUT" 2>"$ERR"
check "with the code from stdin the download works" grep -q "added profile" "$OUT"

# ---- the prompt in a pty: typed code works, Ctrl-C gives the terminal back ------------------------
cat >"$T/pty.py" <<'EOF'
# pty.py MODE ESIMCTL ARGS...: run esimctl on a new pty (controlling terminal); at the
# confirmation prompt either type the code (MODE=type:CODE) or press Ctrl-C (MODE=intr).
# Prints what it saw: prompt, echo state during the prompt and after, exit status.
import fcntl, os, select, subprocess, sys, termios, time
mode, argv = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
def child_setup():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=child_setup, close_fds=True)
seen = b""
deadline = time.monotonic() + 50   # a guard against a hang, not a measurement
while b"confirmation code" not in seen and time.monotonic() < deadline and p.poll() is None:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            seen += os.read(master, 4096)
        except OSError:
            break
print("prompt", int(b"confirmation code" in seen))
print("echo-during", int(bool(termios.tcgetattr(slave)[3] & termios.ECHO)))
if mode == "intr":
    os.write(master, b"\x03")
else:
    os.write(master, mode.split(":", 1)[1].encode() + b"\n")
try:
    rc = p.wait(50)
except subprocess.TimeoutExpired:
    p.kill()
    rc = p.wait()
while True:
    r, _, _ = select.select([master], [], [], 0.2)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
print("exit", rc)
print("echo-after", int(bool(termios.tcgetattr(slave)[3] & termios.ECHO)))
stty = subprocess.run(["stty", "-a"], stdin=slave, capture_output=True, text=True).stdout
print("stty-echo", int("echo" in stty.replace(";", " ").split()))
sys.stdout.flush()
os.write(2, seen)
EOF
"$PY" "$T/pty.py" "type:$CONF" "$ESIMCTL" add "LPA:1\$$SMDP_ADDR\$$MID_TYPED" --device phone --carrier Verizon >"$T/pty.typed" 2>"$T/pty.typed.tty"
sed 's/^/#   /' "$T/pty.typed"
check "pty: the prompt was shown" grep -qx 'prompt 1' "$T/pty.typed"
check "pty: echo is off at the prompt" grep -qx 'echo-during 0' "$T/pty.typed"
check "pty: the typed code downloads the profile (exit 0)" grep -qx 'exit 0' "$T/pty.typed"
check "pty: the typed code was not echoed" sh -c "! grep -qF '$CONF' '$T/pty.typed.tty'"
check "pty: echo is on after the prompt" grep -qx 'echo-after 1' "$T/pty.typed"
"$PY" "$T/pty.py" intr "$ESIMCTL" add "LPA:1\$$SMDP_ADDR\$$MID_PTY" --device phone --carrier Verizon >"$T/pty.intr" 2>"$T/pty.intr.tty"
sed 's/^/#   /' "$T/pty.intr"
check "Ctrl-C: the prompt was shown" grep -qx 'prompt 1' "$T/pty.intr"
check "Ctrl-C: echo is off at the prompt" grep -qx 'echo-during 0' "$T/pty.intr"
check "Ctrl-C: esimctl ended by SIGINT" grep -qx 'exit -2' "$T/pty.intr"
check "Ctrl-C: echo is back on (termios)" grep -qx 'echo-after 1' "$T/pty.intr"
check "Ctrl-C: stty -a shows echo" grep -qx 'stty-echo 1' "$T/pty.intr"

# ---- not dumpable, no core limit: seen as another user ------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	NB=$T/nobody
	mkdir -p "$NB"
	chmod 711 "$T"
	mkfifo -m 600 "$NB/code"
	chown -R 65534:65534 "$NB"
	chmod 700 "$NB"
	# blocked opening the FIFO: well after main() set the process up
	ESIMCTL_CARRIERS=$NB/carriers.json setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$ESIMCTL" --store "$NB/store.json" add --code-file "$NB/code" --carrier Verizon >"$T/nb.out" 2>"$T/nb.err" &
	pid=$!
	for ((n = 0; n < 200; n++)); do
		grep -q 'fifo\|partner' "/proc/$pid/wchan" 2>/dev/null && break
		sleep 0.05
	done
	check "esimctl waits for the FIFO ($(cat "/proc/$pid/wchan"))" grep -q 'fifo\|partner' "/proc/$pid/wchan"
	check "esimctl runs as uid 65534" [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 65534 ]
	check "not dumpable: /proc/PID/mem belongs to root, not to the process's user" [ "$(stat -c %u "/proc/$pid/mem")" = 0 ]
	check "core file size limit is 0 (soft and hard)" grep -Eq '^Max core file size +0 +0 ' "/proc/$pid/limits"
	check "control: an ordinary process of that user owns its /proc/PID/mem" \
		[ "$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'stat -c %u /proc/$$/mem')" = 65534 ]
	timeout 20 sh -c 'printf "%s\n" "$1" >"$2"' sh "$OFF" "$NB/code"
	wait "$pid"
	check "then it reads the code from the FIFO and adds the profile" [ $? = 0 ]
	chmod 700 "$T"
else
	echo "# skipped the dumpable check: needs root and setpriv to look as another user"
fi

# ---- a crash during a download leaves no core file ---------------------------------------------
PATTERN=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
# the directory cores go to, relative to the crashing process's directory
core_dir() {
	case $PATTERN in
	*/*) case $PATTERN in /*) dirname "$PATTERN" ;; *) echo "$1/$(dirname "$PATTERN")" ;; esac ;;
	*) echo "$1" ;;
	esac
}
# crash NAME SIGNAL MID: start a download in $T/crash-NAME with "ulimit -c unlimited", kill
# it with SIGNAL while the SM-DP+ stalls (the ES9+ request with the matching ID is in its
# memory); list the core directory before and after.
crash() {
	local name=$1 sig=$2 mid=$3 dir=$T/crash-$1 pid st cdir
	mkdir -p "$dir"
	cdir=$(core_dir "$dir")
	ls -A "$cdir" >"$T/$name.before" 2>/dev/null
	stall_start "$name" /dev/null sh -c 'cd "$1" && ulimit -c unlimited && shift && exec "$@"' sh "$dir" \
		"$ESIMCTL" add "LPA:1\$$SMDP_ADDR\$$mid" --device phone --carrier Verizon --confirmation-code "$CONF"
	pid=$STALLED
	check "$name: the download is running" kill -0 "$pid"
	check "$name: its core limit is 0 though the shell's was unlimited" grep -Eq '^Max core file size +0 ' "/proc/$pid/limits"
	kill "-$sig" "$pid"
	wait "$pid"
	st=$?
	misbehave '{}'
	if [ "$sig" = SEGV ] && sanitized; then
		# ASan handles SIGSEGV itself: a report and exit 1
		check "$name: esimctl died of SIG$sig (exit $st, under ASan)" [ "$st" != 0 ]
	else
		check "$name: esimctl died of SIG$sig (exit $st)" [ "$st" = $((128 + $(kill -l "$sig"))) ]
	fi
	ls -A "$cdir" >"$T/$name.after" 2>/dev/null
	if cmp -s "$T/$name.before" "$T/$name.after"; then
		ok "$name: no core file in $cdir"
	else
		nok "$name: new files in $cdir: $(comm -13 "$T/$name.before" "$T/$name.after" | tr '\n' ' ')"
	fi
}
case $PATTERN in
"|"*)
	echo "# core_pattern pipes cores to a handler ($PATTERN): no core file to look for;"
	echo "# not being dumpable (checked above) is what keeps the handler from getting one"
	;;
*)
	# control: a process that may dump core does leave one here, so the check can fail
	mkdir -p "$T/control"
	cdir=$(core_dir "$T/control")
	ls -A "$cdir" >"$T/control.before" 2>/dev/null
	(cd "$T/control" && ulimit -c unlimited && exec sleep 60) &
	pid=$!
	for ((n = 0; n < 200; n++)); do
		case $(readlink "/proc/$pid/exe") in */sleep) break ;; esac
		sleep 0.05
	done
	kill -SEGV "$pid"
	wait "$pid"
	ls -A "$cdir" >"$T/control.after" 2>/dev/null
	if cmp -s "$T/control.before" "$T/control.after"; then
		echo "# skipped the core file checks: even an ordinary process leaves no core here (core_pattern '$PATTERN')"
	else
		ok "control: an ordinary crashing process leaves a core file in $cdir"
		crash segv SEGV "$MID_CRASH1"
		crash abrt ABRT "$MID_CRASH2"
	fi
	;;
esac

# ---- server text that quotes secrets is masked -----------------------------------------------------
run 0 esim add "LPA:1\$$SMDP_ADDR\$$MID_OK" --device phone --carrier Verizon --nickname plain
HEXMID=$(printf %s "${MID_ECHO:0:10}" | od -An -tx1 | tr -d ' \n')
LOWER=$(printf %s "$MID_ECHO" | tr A-Z a-z)
MSG="order $MID_ECHO refused; again: $LOWER; bytes $HEXMID; cc $CONF; other $MID_OK; cut ${MID_ECHO:0:12}"
misbehave "$(jq -cn --arg m "$MSG" '{mode: "failed-status", subject: "8.2.6", reason: "3.8", message: $m, count: 1}')"
run 8 esim add "LPA:1\$$SMDP_ADDR\$$MID_ECHO" --device phone --carrier Verizon --confirmation-code "$CONF"
err_has "esimctl: SM-DP+ said: order "
err_has "refused; again: "
MASKED="order ${MID_ECHO//?/*} refused; again: ${LOWER//?/*}; bytes ${HEXMID//?/*}; cc ${CONF//?/*}; other ${MID_OK//?/*}; cut ************"
err_has "SM-DP+ said: $MASKED [subject 8.2.6, reason 3.8]"
misbehave "$(jq -cn --arg m "$MSG" '{mode: "failed-status", subject: "8.2.6", reason: "3.8", message: $m, count: 1}')"
run 8 esim --json add "LPA:1\$$SMDP_ADDR\$$MID_ECHO" --device phone --carrier Verizon --confirmation-code "$CONF"
json_eq '.error.smdp_message' "$(jq -cn --arg m "$MASKED" '$m')"
leaks=0
for f in "$OUT" "$ERR"; do
	for s in "$MID_ECHO" "$LOWER" "$HEXMID" "$CONF" "$MID_OK" "${MID_ECHO:0:12}"; do
		grep -qiF -- "$s" "$f" && leaks=$((leaks + 1)) && echo "#   $(basename "$f") holds '$s'"
	done
done
check "no secret, whole or cut, in any case or in hex, in stdout or stderr" [ "$leaks" = 0 ]
misbehave '{}'
finish
