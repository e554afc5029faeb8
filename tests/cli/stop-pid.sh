# stop-pid.sh - sourced by lib.sh (and bench/apdus.sh, which runs pcsc-lib.sh without it).
# stop_pid PID: stop one background process of the test: TERM, up to 5 s, then KILL;
# always reaped.  A zombie not yet reaped counts as ended.
stop_pid() {
	local pid=$1 i st
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || break
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
