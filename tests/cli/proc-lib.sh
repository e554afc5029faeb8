# proc-lib.sh - waiting for, timing, freezing and killing processes in the end-to-end tests
# (sourced after lib.sh by the files that need it).
#
# Nothing here depends on the machine's speed: a wait lasts until its condition holds, with
# a generous bound that only a wedged process reaches, and the timing helpers start no
# process (bash builtins only), so that they cost microseconds, not the milliseconds of a
# fork, even on a loaded machine.
#
#   usleep US                sleep US microseconds (read -t on a pipe that nobody writes)
#   now_us                   NOW_US = microseconds since the epoch (EPOCHREALTIME)
#   await SECONDS CMD...     run CMD every 10 ms until it succeeds; 1 after SECONDS
#   proc_stat PID            PCOMM, PSTATE from /proc/PID/stat ("" and "gone" when it is gone)
#   is_stopped PID           PID is stopped (SIGSTOP, state T)
#   stopped_or_exited PID    stopped, or exited (a zombie or gone)
#   has_open PID FILE        PID has FILE open (/proc/PID/fd)
#   lock_ino FILE            LOCKINO = FILE's inode, for flock_held (one stat(1) run)
#   flock_held [PID]         /proc/locks shows an flock on inode LOCKINO (held by PID)

exec {SLEEPFD}<> <(:)
usleep() {
	local frac
	[ "$1" -gt 0 ] || return 0
	printf -v frac %06d $(($1 % 1000000))
	read -r -t "$(($1 / 1000000)).$frac" -u "$SLEEPFD" _
	return 0
}

now_us() { NOW_US=${EPOCHREALTIME//[!0-9]/}; }

await() {
	local end=$((SECONDS + $1 + 1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		usleep 10000
	done
}

proc_stat() {
	local line rest
	PCOMM= PSTATE=gone
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	rest=${line#*(}
	PCOMM=${rest%)*}
	rest=${line##*) }
	PSTATE=${rest%% *}
}

is_stopped() { proc_stat "$1"; [ "$PSTATE" = T ]; }

has_open() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $f -ef $2 ]] && return 0
	done
	return 1
}

lock_ino() { LOCKINO=$(stat -c %i "$1"); }

# /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"; a blocked request has
# "->" as its second field, so it never matches.
flock_held() {
	local f
	while read -r -a f; do
		[ "${f[1]:-}" = FLOCK ] && [ "${f[5]##*:}" = "$LOCKINO" ] && { [ -z "${1:-}" ] || [ "${f[4]}" = "$1" ]; } && return 0
	done </proc/locks
	return 1
}

# stopped_or_exited PID: stopped (T), exited and not yet reaped (Z), or gone
stopped_or_exited() { proc_stat "$1"; [ "$PSTATE" = T ] || [ "$PSTATE" = Z ] || [ "$PSTATE" = gone ]; }

# freeze_holding PID MAX_US: spin (no process started) until PID holds the lock or has
# exited, then after a random 0..MAX_US µs stop it with SIGSTOP.  True when it is stopped
# while holding the lock (it can no longer change the lock then); the caller kills or
# continues it.
freeze_holding() {
	local pid=$1 max=$2
	PSTATE=
	while ! flock_held "$pid"; do
		proc_stat "$pid"
		[ "$PSTATE" = Z ] && break
	done
	if [ "$PSTATE" != Z ]; then
		usleep $((RANDOM % max))
		kill -STOP "$pid" 2>/dev/null
		await 120 stopped_or_exited "$pid"
	fi
	is_stopped "$pid" && flock_held "$pid"
}
