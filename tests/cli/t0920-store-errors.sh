#!/bin/bash
# t0920-store-errors.sh - a store or carrier file esimctl cannot use is named, with what is
# wrong and what to do, and an exit status that matches the cause (issue 8 items 8, 14):
#   - the store is a directory, a symbolic link, unreadable, in a read-only directory, or
#     under a home that cannot be written: status 1 (not 3, "corrupt"), hint --store /
#     ESIMCTL_STORE / chmod; a symlinked store is not warned about with its target's mode;
#   - the carrier override file is never looked for in the working directory (HOME unset
#     or relative: the password database's home); a symlink to the user's own file is
#     followed; every problem with it is status 2, as documented.
# The permission cases need a user whom permissions stop: root runs them as 'nobody'.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "# skipped: setpriv not found"; exit 77; }
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	chmod 711 "$T"
	U=$T/u
	mkdir "$U"
	chown 65534:65534 "$U"
else
	AS=()
	U=$T/u
	mkdir "$U"
fi
# asrun STATUS ARGS...: esimctl as the unprivileged user
asrun() { local want=$1; shift; run "$want" "${AS[@]}" "$ESIMCTL" "$@"; }
mine() { "${AS[@]}" "$@"; }

# ---- the store path is a directory ----------------------------------------------------------
mkdir "$T/sdir"
run 1 esimctl --store "$T/sdir" list
err_has "esimctl: list: store '$T/sdir' is a directory, not a regular file"
err_has "hint: move it away; --store PATH or ESIMCTL_STORE selects another store"
run 1 esimctl --store "$T/sdir" --json device add phone --kind phone
json_eq '.error | [.status, .name]' '[1,"error"]'
check "the directory is left as it was" [ -z "$(ls -A "$T/sdir")" ]

# ---- a symbolic link: refused, and no warning with the target's mode --------------------------
printf '{"schema":1}\n' >"$T/real.json"
chmod 644 "$T/real.json"
ln -s real.json "$T/link.json"
run 1 esimctl --store "$T/link.json" list
err_has "store '$T/link.json' is a symbolic link (to 'real.json'), which esimctl does not follow"
err_has "hint: use the file it points to, 'real.json', directly"
err_lacks "has mode 0644"
err_lacks "warning"

# ---- unreadable -----------------------------------------------------------------------------------
mine sh -c "printf '{\"schema\":1}\n' >'$U/unreadable.json' && chmod 000 '$U/unreadable.json'"
asrun 1 --store "$U/unreadable.json" list
err_has "cannot read store '$U/unreadable.json': Permission denied (owner"
err_has "mode 0000)"
err_has "hint: chmod 600 '$U/unreadable.json' as its owner; --store PATH or ESIMCTL_STORE selects another store"
err_lacks "corrupt"
asrun 1 --store "$U/unreadable.json" --json device add phone --kind phone
json_eq '.error.name' '"error"'

# ---- a read-only directory: readers work, writers are told before doing anything ---------------------
mine mkdir "$U/ro"
asrun 0 --store "$U/ro/store.json" device add phone --kind phone
cp "$U/ro/store.json" "$T/ro.before"
mine chmod 500 "$U/ro"
asrun 0 --store "$U/ro/store.json" list
out_has "phone"
asrun 1 --store "$U/ro/store.json" device add tab --kind tablet
err_has "cannot write store '$U/ro/store.json': its directory '$U/ro' is not writable: Permission denied"
err_has "hint: chmod u+w '$U/ro'; --store PATH or ESIMCTL_STORE selects another store"
check "the store is unchanged" cmp -s "$U/ro/store.json" "$T/ro.before"
mine chmod 700 "$U/ro"
rm -f "$U/ro/store.json.lock"
mine chmod 500 "$U/ro"
asrun 1 --store "$U/ro/store.json" device add tab --kind tablet
err_has "its directory '$U/ro' is not writable"

# ---- no writable home ---------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	NOHOME=$(getent passwd 65534 | cut -d: -f6)
	mkdir "$T/cwd" && chmod 777 "$T/cwd"
	for h in /nonexistent-esimctl-home UNSET relative; do
		case $h in
		UNSET) set -- -u HOME; want=$NOHOME ;;
		relative) set -- HOME=relative; want=$NOHOME ;;
		*) set -- HOME="$h"; want=$h ;;
		esac
		run 1 env -C "$T/cwd" "$@" ESIMCTL_STORE= "${AS[@]}" "$ESIMCTL" device add phone --kind phone
		err_has "cannot create directory '${want%/}"
		err_has "for store '$want/.local/share/esimctl/store.json'"
		err_has "hint: create it; --store PATH or ESIMCTL_STORE selects another store"
		check "HOME=$h: nothing created in the working directory" [ -z "$(ls -A "$T/cwd")" ]
	done
fi

# ---- the carrier override file -----------------------------------------------------------------------
mkdir -p "$T/dotfiles" "$T/cfg/esimctl"
printf '{"carriers":[{"name":"Home Telecom","model":"sequential"}]}' >"$T/dotfiles/carriers.json"
ln -s ../../dotfiles/carriers.json "$T/cfg/esimctl/carriers.json"
ESIMCTL_CARRIERS= XDG_CONFIG_HOME="$T/cfg" run 0 esimctl --json carriers
json_eq '[.carriers[] | select(.overridden) | .name]' '["Home Telecom"]'
ESIMCTL_CARRIERS= XDG_CONFIG_HOME="$T/cfg" run 0 esimctl list
err_lacks "carrier"
ESIMCTL_CARRIERS="$T/cfg/esimctl/carriers.json" run 0 esimctl carriers show 'Home Telecom'
# a dangling link, a directory, an unreadable file: status 2, as an invalid file
ln -s nothere.json "$T/cfg/dangling.json"
ESIMCTL_CARRIERS="$T/cfg/dangling.json" run 2 esimctl carriers
err_has "carrier override file '$T/cfg/dangling.json' is a symbolic link to '$T/cfg/nothere.json', which does not exist"
mkdir "$T/cfg/adir.json"
ESIMCTL_CARRIERS="$T/cfg/adir.json" run 2 esimctl list
err_has "carrier override file '$T/cfg/adir.json' is a directory, not a regular file"
mine sh -c "printf '{}' >'$U/carriers.json' && chmod 000 '$U/carriers.json'"
ESIMCTL_CARRIERS="$U/carriers.json" asrun 2 --store "$U/s.json" carriers
err_has "cannot read carrier override file '$U/carriers.json': Permission denied"
# never the working directory: a planted ./.config/esimctl/carriers.json sets AT&T's cooldown to 0
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/cwd2/.config/esimctl"
	printf '{"carriers":[{"name":"AT&T","cooldown_hours":0}]}' >"$T/cwd2/.config/esimctl/carriers.json"
	chmod -R a+rX "$T/cwd2"
	for h in UNSET relative; do
		if [ "$h" = UNSET ]; then set -- -u HOME; else set -- HOME=.; fi
		run 0 env -C "$T/cwd2" "$@" ESIMCTL_CARRIERS= XDG_CONFIG_HOME= "${AS[@]}" "$ESIMCTL" --store "$U/s.json" --json carriers show att
		check "HOME=$h: the working directory's carriers.json is not read" \
			[ "$(jq -c '.carrier | [.cooldown_s, .overridden]' "$OUT")" = '[86400,false]' ]
	done
	run 0 env -C "$T/cwd2" -u HOME ESIMCTL_CARRIERS= XDG_CONFIG_HOME= "${AS[@]}" "$ESIMCTL" --store "$U/s.json" --json carriers
	check "the override file is under the password database's home" \
		[ "$(jq -r .override_file "$OUT")" = "$NOHOME/.config/esimctl/carriers.json" ]
fi
finish
