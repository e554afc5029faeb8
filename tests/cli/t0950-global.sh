#!/usr/bin/env bash
# Global options before and after the command, help, --version, unknown commands, one JSON
# document per run (errors included), and output that cannot be written (exit 11).
. "$(dirname "$0")/lib.sh"

# --- --version, help ----------------------------------------------------------------------------
run 0 esimctl --version
check "version line" grep -qE '^esimctl [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
check "one version line" [ "$(wc -l <"$OUT")" = 1 ]
err_empty
run 0 esimctl --json --version
one_json
json_eq '.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' true
json_eq '.ok' true
for h in --help -h help; do
	run 0 esimctl $h
	out_has 'usage: esimctl [--store PATH] [--json] [--quiet] [--wait-lock SECONDS]'
	out_has '  transfer               move a profile to another device, as the carrier allows'
	out_has 'global options (before or after the command):'
	out_has 'exit status: 0 ok, 1 error, 2 usage, 3 store corrupt, 4 store busy, 5 not found,'
	err_empty
done
# every command's help, three ways, identical; no store is touched
for cmd in add transfer list release qr 'device add' 'device list' 'device remove' 'carriers list' 'carriers show'; do
	run 0 esimctl help $cmd
	want=$cmd
	[ "$cmd" = 'carriers list' ] && want='carriers \[list\]'
	check "help $cmd starts with its usage" grep -q "^usage: esimctl $want" "$OUT"
	out_has '  --store PATH         store file'
	cp "$OUT" "$T/help.out"
	run 0 esimctl $cmd --help
	check "'$cmd --help' is 'help $cmd'" cmp -s "$OUT" "$T/help.out"
	run 0 esimctl $cmd -h
	check "'$cmd -h' is 'help $cmd'" cmp -s "$OUT" "$T/help.out"
done
check "help needs no store" [ ! -e "$ESIMCTL_STORE" ]
run 0 esimctl help transfer
out_has 'usage: esimctl transfer PROFILE --to DEVICE [--from DEVICE] [--dry-run [--at TIME]]'
out_has '  --at TIME          with --dry-run: evaluate the plan at TIME (ISO 8601, UTC or offset)'
run 0 esimctl transfer --help
out_has '  --dry-run          print the plan and exit with the status the real run would have'
# help even with a broken store or carriers file
printf 'garbage' >"$ESIMCTL_CARRIERS"
printf 'garbage' >"$T/bad-store.json"
run 0 esimctl --store "$T/bad-store.json" transfer --help
rm -f "$ESIMCTL_CARRIERS"
run 0 esimctl help device
out_has 'usage: esimctl device SUBCOMMAND [ARGS]'
out_has '  device remove          remove a device'
run 0 esimctl device --help
out_has 'usage: esimctl device SUBCOMMAND [ARGS]'
# --json help is still exactly one JSON document
run 0 esimctl --json help transfer
one_json
json_eq '.ok' true
json_eq '.help | startswith("usage: esimctl transfer PROFILE --to DEVICE")' true
run 0 esimctl list --help --json
one_json
json_eq '.help | startswith("usage: esimctl list")' true
run 0 esimctl --json --help
one_json
json_eq '.help | test("commands:")' true

# --- the man page documents every command and every option the help texts name ------------------
MAN="$ESIMCTL_SRC/docs/esimctl.1"
if [ -f "$MAN" ]; then
	LAST="esimctl.1 against the help texts"
	: >"$OUT"
	: >"$ERR"
	# the commands, and the subcommands of groups, as the binary lists them
	"$ESIMCTL" help >"$T/all-help" 2>&1
	for cmd in $(sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$T/all-help"); do
		"$ESIMCTL" help "$cmd" >"$T/cmd-help" 2>&1
		cat "$T/cmd-help" >>"$T/all-help"
		subs=$(sed -n "/^subcommands:/,/^\$/s/^  $cmd \([a-z-]*\) .*/\1/p" "$T/cmd-help")
		if [ -z "$subs" ]; then
			check "esimctl.1 has a section for $cmd" grep -q "^\.SS \"$cmd " "$MAN"
		fi
		for sub in $subs; do
			"$ESIMCTL" help "$cmd" "$sub" >>"$T/all-help" 2>&1
			check "esimctl.1 has a section for $cmd $sub" grep -qE "^\.SS \"$cmd (\[)?${sub//-/'\\-'}" "$MAN"
		done
	done
	for opt in $(grep -oE -- '--[a-z][a-z-]*' "$T/all-help" | sort -u); do
		check "esimctl.1 documents $opt" grep -qF -- "${opt//-/\\-}" "$MAN"
	done
else
	nok "docs/esimctl.1 is missing"
fi

# --- usage errors -------------------------------------------------------------------------------
run 2 esimctl
out_empty
err_has 'usage: esimctl [--store PATH]'
err_has 'esimctl: no command given'
run 2 esimctl --json
one_json
json_eq '.error | [.status, .name, .message]' '[2,"usage","no command given"]'
run 2 esimctl bogus
out_empty
err_has "esimctl: 'bogus' is not an esimctl command"
err_has "hint: run 'esimctl --help' for the list of commands"
run 2 esimctl help bogus
err_has "'bogus' is not an esimctl command"
run 2 esimctl --json bogus
one_json
json_eq '.error.hint' "\"run 'esimctl --help' for the list of commands\""
run 2 esimctl device
err_has "esimctl: 'device' needs a subcommand"
err_has 'usage: esimctl device SUBCOMMAND [ARGS]'
out_empty
run 2 esimctl device bogus
err_has "esimctl: 'device bogus' is not an esimctl command"
run 2 esimctl --bogus list
err_has "esimctl: unknown option '--bogus'"
run 2 esimctl list --bogus
err_has "esimctl: list: unknown option '--bogus'"
# usage errors still print with --quiet (errors are not notes)
run 2 esimctl -q transfer
err_has 'esimctl: transfer: missing the PROFILE to transfer'
run 2 esimctl --json transfer
one_json
json_eq '.error | [.status, .name, .message, .hint]' "[2,\"usage\",\"missing the PROFILE to transfer\",\"run 'esimctl help transfer'\"]"
err_has 'esimctl: transfer: missing the PROFILE to transfer'
run 2 esimctl --wait-lock
err_has "esimctl: option '--wait-lock' needs a value"
run 2 esimctl --json --wait-lock 1x list
one_json
json_eq '.error.message' "\"--wait-lock '1x': expected seconds between 0 and 86400\""
ESIMCTL_NOW=2026-02-30T00:00:00Z run 2 esimctl list
err_has 'ESIMCTL_NOW:'
# after "--" nothing is a global option: here "--json" is the activation code
run 2 esimctl add --carrier Verizon -- --json
err_has "activation code: no '\$' separator"
check "no JSON after --" [ ! -s "$OUT" ]

# --- global options before or after the command -------------------------------------------------------
run 0 esimctl device add phone --kind phone
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier 'Acme Mobile' --device phone --nickname home
err_has "esimctl: warning: carrier 'Acme Mobile' is not in the table"
run 0 esimctl list --json
one_json
json_eq '.profiles[0].nickname' '"home"'
run 0 esimctl --json list
json_eq '.profiles[0].nickname' '"home"'
run 0 esimctl list --device phone --json --show-secret
json_eq '.profiles[0].activation_code.code' '"LPA:1$rsp.example.com$ABC-123"'
run 0 esimctl list --json
json_eq '.profiles[0].activation_code.code' '"LPA:1$rsp.example.com$ABC**23"'
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier 'Acme Mobile' --show-secret
out_has 'code: LPA:1$rsp.example.com$ABC-123'
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier 'Acme Mobile'
out_has 'code: LPA:1$rsp.example.com$ABC**23'
out_lacks 'ABC-123'
# --store in both positions and both spellings
run 0 esimctl device add other --kind phone --store "$T/other.json"
run 0 esimctl --store="$T/other.json" --json device list
json_eq '[.devices[].name]' '["other"]'
run 0 esimctl device list --json --store "$T/other.json"
json_eq '[.devices[].name]' '["other"]'
# --quiet: no warnings or notes, data still printed
run 0 esimctl add 'LPA:1$rsp.example.com$QUIET-1' --carrier 'Acme Mobile' --quiet
err_empty
out_has 'added profile'
run 0 esimctl -q add 'LPA:1$rsp.example.com$QUIET-2' --carrier 'Acme Mobile' --json
err_empty
one_json
# warnings go into the JSON document too
run 0 esimctl add 'LPA:1$rsp.example.com$WARN-1' --carrier 'Acme Mobile' --json
one_json
json_eq '.warnings | length' 1
json_eq '.warnings[0] | startswith("carrier '"'Acme Mobile'"' is not in the table")' true
err_has "esimctl: warning: carrier 'Acme Mobile' is not in the table"
# --wait-lock after the command
run 0 esimctl device add tab --kind tablet --wait-lock 0

# --- one JSON document for every command, success or failure ---------------------------------------
for args in 'list' 'device list' 'carriers' 'carriers show att' 'transfer home --to tab --dry-run' \
	'qr home' 'transfer nosuch --to tab' 'release nosuch' 'carriers show nosuch' 'qr --code bad' \
	'device remove nosuch' 'add LPA:1$rsp.example.com$ABC-123 --carrier Verizon'; do
	"$ESIMCTL" --json $args >"$OUT" 2>"$ERR" </dev/null
	LAST="--json $args"
	one_json
	json_eq '.ok | type' '"boolean"'
done

# --- output that cannot be written: exit 11 ------------------------------------------------------------
if [ -w /dev/full ]; then
	for args in 'list' '--json list' 'device list' 'carriers' '--version' 'help' 'help transfer' \
		'transfer home --to tab --dry-run' 'qr home'; do
		"$ESIMCTL" $args >/dev/full 2>"$ERR" </dev/null
		st=$?
		LAST="$args >/dev/full"
		if [ "$st" = 11 ]; then ok "exit 11: $LAST"; else nok "exit $st, wanted 11: $LAST"; fi
		err_has 'esimctl: cannot write output: No space left on device'
	done
	# a failing command keeps its own status
	"$ESIMCTL" transfer nosuch --to tab >/dev/full 2>"$ERR" </dev/null
	check "not found stays 5 with a full stdout" [ $? = 5 ]
else
	nok "/dev/full is not writable here"
fi
finish
