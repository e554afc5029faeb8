#!/usr/bin/env bash
# pre-travel.sh - put eSIM profiles where they need to be before a trip, and back them up.
#
# usage: pre-travel.sh [--check-only] [--at TIME] [--backup-dir DIR] PROFILE=DEVICE...
#
#   PROFILE=DEVICE    a transfer to make: PROFILE is an ICCID, short id or nickname,
#                     DEVICE a device in the store ("travel=laptop")
#   --check-only      only check; make no transfer (backups are still written)
#   --at TIME         check as of TIME (e.g. your departure, ISO 8601); implies --check-only
#   --backup-dir DIR  where the backup QR codes go (default: ./esim-backup), mode 0700
#
# For every pair the script asks esimctl what the carrier allows (transfer --dry-run --json),
# reports each refusal with the earliest time the transfer becomes possible (for a
# cooldown), carries out the transfers that are possible, and writes a backup QR code (PNG)
# of every profile in the store, so that a lost or broken phone does not leave you
# without your activation codes abroad.  The PNG files hold the full activation codes:
# keep the directory private (the script makes it 0700, esimctl writes the files 0600).
#
# Environment: ESIMCTL_STORE (the store; esimctl's default when unset), ESIMCTL (the
# esimctl binary; default: esimctl from PATH), ESIMCTL_NOW (as for esimctl).  Needs jq.
#
# Exit status: 0 every transfer was made (or is possible, with --check-only); 1 at least one
# was refused or failed (the possible ones were still made); 2 usage or setup errors.
set -eu

ESIMCTL=${ESIMCTL:-esimctl}
backup_dir=./esim-backup
check_only=0
at=

# usage [STATUS]: the synopsis above, on stderr for errors and on stdout for --help
usage() {
	if [ "${1:-2}" = 0 ]; then
		sed -n '4,10s/^# \{0,1\}//p' "$0"
	else
		sed -n '4,10s/^# \{0,1\}//p' "$0" >&2
	fi
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--check-only) check_only=1 ;;
	--at) [ $# -ge 2 ] || usage; at=$2; check_only=1; shift ;;
	--at=*) at=${1#--at=}; check_only=1 ;;
	--backup-dir) [ $# -ge 2 ] || usage; backup_dir=$2; shift ;;
	--backup-dir=*) backup_dir=${1#--backup-dir=} ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) echo "pre-travel.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || usage
for pair in "$@"; do
	case $pair in
	?*=?*) ;;
	*) echo "pre-travel.sh: '$pair': expected PROFILE=DEVICE" >&2; exit 2 ;;
	esac
done
command -v jq >/dev/null 2>&1 || { echo "pre-travel.sh: jq is needed" >&2; exit 2; }
command -v "$ESIMCTL" >/dev/null 2>&1 || { echo "pre-travel.sh: '$ESIMCTL' not found (set ESIMCTL)" >&2; exit 2; }

# esimctl prints exactly one JSON document with --json, errors included, so the status
# and the document together say everything; warnings are in the document too.
esimctl_json() {
	local out st=0
	out=$("$ESIMCTL" --json --quiet "$@" 2>/dev/null) || st=$?
	if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$out"; then
		out='{"ok":false,"error":{"message":"esimctl printed no JSON"}}'
	fi
	printf '%s\n' "$out"
	return "$st"
}

refused=0 failed=0 done_count=0
feasible=()

echo "== checking ${#} transfer(s)${at:+ as of $at}"
for pair in "$@"; do
	profile=${pair%=*}
	device=${pair##*=}
	st=0
	doc=$(esimctl_json transfer "$profile" --to "$device" --dry-run ${at:+--at "$at"}) || st=$?
	action=$(jq -r '.plan.action // empty' <<<"$doc")
	if [ "$st" = 0 ]; then
		if [ "$action" = none ]; then
			echo "ok       $profile -> $device: already there"
		else
			echo "ok       $profile -> $device: $(jq -r '.plan.summary' <<<"$doc")"
			feasible+=("$pair")
		fi
	elif [ "$st" = 6 ]; then
		refused=$((refused + 1))
		earliest=$(jq -r '.plan.earliest // empty' <<<"$doc")
		echo "REFUSED  $profile -> $device: $(jq -r '.error.message' <<<"$doc")"
		if [ -n "$earliest" ]; then
			echo "         earliest possible: $earliest"
		else
			echo "         earliest possible: never (ask the carrier)"
		fi
	else
		failed=$((failed + 1))
		echo "ERROR    $profile -> $device: $(jq -r '.error.message' <<<"$doc") (exit $st)"
	fi
	jq -r '.plan.warnings[]? | "         warning: " + .' <<<"$doc"
done

if [ "$check_only" = 0 ] && [ ${#feasible[@]} -gt 0 ]; then
	echo "== transferring"
	for pair in "${feasible[@]}"; do
		profile=${pair%=*}
		device=${pair##*=}
		st=0
		doc=$(esimctl_json transfer "$profile" --to "$device") || st=$?
		if [ "$st" = 0 ]; then
			done_count=$((done_count + 1))
			echo "done     $profile -> $device"
			jq -r '.plan | select(.action == "move") |
				"         \(.from) has no service now; \(.to) ready by \(.ready_max)"' <<<"$doc"
		else
			# the store may have changed since the check (another esimctl run)
			failed=$((failed + 1))
			echo "FAILED   $profile -> $device: $(jq -r '.error.message' <<<"$doc") (exit $st)"
		fi
	done
fi

echo "== backing up activation codes to $backup_dir"
umask 077
mkdir -p -- "$backup_dir"
chmod 700 -- "$backup_dir"
st=0
list=$(esimctl_json list) || st=$?
if [ "$st" != 0 ]; then
	echo "ERROR    cannot list the profiles: $(jq -r '.error.message' <<<"$list") (exit $st)"
	exit 1
fi
backed=0
index="$backup_dir/index.txt"
printf 'file\tid\tnickname\tcarrier\ticcid\tdevices\n' >"$index"
# fields separated by US (0x1f): unlike a tab, it keeps empty fields apart in read
while IFS=$'\x1f' read -r id nick carrier iccid where; do
	# a file name from the nickname, without anything a file name should not hold
	safe=$(printf '%s' "$nick" | tr -c 'A-Za-z0-9._-' '_')
	file="$backup_dir/$id${safe:+-$safe}.png"
	st=0
	doc=$(esimctl_json qr "$id" --png "$file") || st=$?
	if [ "$st" = 0 ]; then
		backed=$((backed + 1))
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$file")" "$id" "${nick:--}" "$carrier" \
			"${iccid:--}" "${where:--}" >>"$index"
	else
		failed=$((failed + 1))
		echo "FAILED   backup of $id: $(jq -r '.error.message' <<<"$doc") (exit $st)"
	fi
done < <(jq -r '.profiles[] | select(.activation_code != null) |
	[.id, (.nickname // ""), .carrier, (.iccid // ""),
	 ([.bindings[] | .device + " (" + .state + ")"] | join(", "))] | join("\u001f")' <<<"$list")
echo "backed up $backed profile(s); index: $index"

echo "== summary: ${#feasible[@]} possible, $done_count done, $refused refused, $failed failed"
[ "$refused" = 0 ] && [ "$failed" = 0 ]
