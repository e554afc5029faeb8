#!/bin/bash
# t2400-planted.sh - files planted by another user are refused (issue 9 item 7), as ssh's
# StrictModes refuses them: a store, its lock, a software eUICC's state or lock, or the
# carrier override file that another user owns; a directory on the way that another user
# owns, or that others can write without the sticky bit.  Each error names the file, its
# owner and the fix; nothing is read from or written to the planted file.
#
# The victim is root, the other user 'nobody' (setpriv); SH is a shared sticky directory
# like /tmp.  Skipped (77) when not run as root.
. "$(dirname "$0")/sgp22-lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "# skipped: needs root (and setpriv) to act as a second user"
	exit 77
fi
OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
ONAME=$(id -nu 65534 2>/dev/null || echo 65534)
chmod 711 "$T"
SH=$T/shared
mkdir "$SH"
chmod 1777 "$SH"
# hold FILE: the other user holds flock(FILE) in one process ($holder) until killed
hold() {
	"${OTHER[@]}" bash -c 'exec 9<>"$1" && flock 9 && exec sleep 60' hold "$1" >/dev/null 2>&1 &
	holder=$!
}
EVIL='{"schema":1,"devices":[{"name":"evil","kind":"phone","primary":false,"created":"2026-01-01T00:00:00Z"}]}'

# ---- a store planted in a shared sticky directory -------------------------------------------------
"${OTHER[@]}" sh -c "umask 022; printf '%s\n' '$EVIL' >'$SH/store.json'"
cp "$SH/store.json" "$T/planted.before"
run 1 esimctl --store "$SH/store.json" list
err_has "store '$SH/store.json' is refused: it is owned by $ONAME (uid 65534), not by you (root)"
err_has "another user may have planted it"
err_has "hint: do not use it (its owner or root can remove it); --store PATH or ESIMCTL_STORE selects another store"
err_lacks "chmod"
out_lacks "evil"
run 1 esimctl --store "$SH/store.json" --json device add phone --kind phone
json_eq '.error | [.status, .name]' '[1,"error"]'
check "the planted store is untouched" cmp -s "$SH/store.json" "$T/planted.before"
run 1 esimctl --store "$SH/store.json" qr evil

# the user's own store in the same sticky directory is fine (the control)
run 0 esimctl --store "$SH/mine.json" device add phone --kind phone
run 0 esimctl --store "$SH/mine.json" list
out_has "phone"

# ---- the store's lock owned by another user (planted before the first run) -----------------------------
"${OTHER[@]}" sh -c "umask 077; : >'$SH/v.json.lock'"
run 1 esimctl --store "$SH/v.json" device add phone --kind phone
err_has "lock file of the store '$SH/v.json.lock' is refused: it is owned by $ONAME (uid 65534)"
check "no store was written" [ ! -e "$SH/v.json" ]
# ... while its owner holds it: refused at once, not "busy" (4) forever
hold "$SH/v.json.lock"
for _ in $(seq 100); do "${OTHER[@]}" flock -n "$SH/v.json.lock" true 2>/dev/null || break; sleep 0.05; done
run 1 esimctl --store "$SH/v.json" --wait-lock 0 device add phone --kind phone
err_has "is owned by $ONAME"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# the user's own lock that others can open (and so hold)
run 0 esimctl --store "$SH/mine.json" device add tab --kind tablet
chmod 644 "$SH/mine.json.lock"
run 1 esimctl --store "$SH/mine.json" device add watch --kind watch
err_has "lock file of the store '$SH/mine.json.lock' has mode 0644: other users can open it and hold the lock"
err_has "hint: chmod 600 '$SH/mine.json.lock'"
chmod 600 "$SH/mine.json.lock"

# ---- the user's own store that others can write ------------------------------------------------------
cp -p "$SH/mine.json" "$T/mine.before"
chmod 660 "$SH/mine.json"
run 1 esimctl --store "$SH/mine.json" list
err_has "store '$SH/mine.json' has mode 0660: other users can change it"
err_has "hint: check its contents, then chmod 600 '$SH/mine.json'"
run 1 esimctl --store "$SH/mine.json" device add watch --kind watch
check "the refused store is untouched" cmp -s "$SH/mine.json" "$T/mine.before"
chmod 600 "$SH/mine.json"

# ---- directories ------------------------------------------------------------------------------------------
# owned by another user
"${OTHER[@]}" mkdir "$SH/theirs"
run 1 esimctl --store "$SH/theirs/store.json" device add phone --kind phone
err_has "store '$SH/theirs/store.json' is refused: its directory '$SH/theirs' is owned by $ONAME (uid 65534), not by you (root), so that user can replace the file"
err_has "hint: keep it in a directory that only you can change"
check "nothing written there" [ -z "$(ls -A "$SH/theirs")" ]
# ... even when the store in it is the user's own (they can rename another over it)
printf '%s\n' '{"schema":1}' >"$SH/theirs/store.json"
chmod 600 "$SH/theirs/store.json"
run 1 esimctl --store "$SH/theirs/store.json" list
err_has "its directory '$SH/theirs' is owned by $ONAME"
# and a directory below it
mkdir -p "$SH/theirs2" && chown 65534 "$SH/theirs2" && mkdir "$SH/theirs2/sub"
run 1 esimctl --store "$SH/theirs2/sub/store.json" list
err_has "its directory '$SH/theirs2' is owned by $ONAME"
# writable by others without the sticky bit (also an ancestor, and group-writable)
for m in 0777 0770 0703; do
	mkdir -p "$T/ww$m/sub"
	chmod "$m" "$T/ww$m"
	run 1 esimctl --store "$T/ww$m/sub/store.json" device add phone --kind phone
	err_has "its directory '$T/ww$m' has mode $m: other users can write it (no sticky bit), so they can replace the file"
	err_has "hint: chmod go-w '$T/ww$m' (or chmod +t '$T/ww$m')"
	check "no store written under a $m directory" [ ! -e "$T/ww$m/sub/store.json" ]
done
mkdir "$T/sticky" && chmod 1777 "$T/sticky"
run 0 esimctl --store "$T/sticky/store.json" device add phone --kind phone
# a link on the way that another user owns (it decides where the path goes)
mkdir "$T/target"
"${OTHER[@]}" ln -s "$T/target" "$SH/via"
run 1 esimctl --store "$SH/via/store.json" device add phone --kind phone
err_has "store '$SH/via/store.json': the symbolic link '$SH/via' on its path is owned by $ONAME"
check "nothing written through it" [ -z "$(ls -A "$T/target")" ]
# a link of the user's own to a directory another user owns
"${OTHER[@]}" mkdir "$SH/theirs3"
ln -s "$SH/theirs3" "$T/mylink"
run 1 esimctl --store "$T/mylink/store.json" device add phone --kind phone
err_has "its directory '$SH/theirs3' is owned by $ONAME"

# ---- the carrier override file ---------------------------------------------------------------------------
"${OTHER[@]}" sh -c "umask 022; printf '%s' '{\"carriers\":[{\"name\":\"AT&T\",\"cooldown_hours\":0}]}' >'$SH/carriers.json'"
ESIMCTL_CARRIERS=$SH/carriers.json run 2 esimctl --json carriers show att
json_eq '.error | [.status, .name]' '[2,"usage"]'
err_has "carrier override file '$SH/carriers.json' is refused: it is owned by $ONAME (uid 65534)"
# the user's link to it is no better
ln -s "$SH/carriers.json" "$T/carriers-link.json"
ESIMCTL_CARRIERS=$T/carriers-link.json run 2 esimctl carriers
err_has "carrier override file '$SH/carriers.json' is refused: it is owned by $ONAME"
# another user's link to the user's own file is not followed
printf '%s' '{"carriers":[{"name":"Home Telecom","model":"sequential"}]}' >"$T/mycarriers.json"
"${OTHER[@]}" ln -s "$T/mycarriers.json" "$SH/their-link.json"
ESIMCTL_CARRIERS=$SH/their-link.json run 2 esimctl carriers
err_has "the symbolic link '$SH/their-link.json' is owned by $ONAME"
# a root-owned file in a root-owned directory is trusted (a site-wide file), as by ssh
ESIMCTL_CARRIERS=$T/mycarriers.json run 0 esimctl carriers show 'Home Telecom'

# ---- a software eUICC's state and its lock ----------------------------------------------------------------
if ! "$PY" -c 'import cryptography' 2>/dev/null; then
	# what ran must pass; the file as a whole is reported skipped, not passed
	echo "# skipped: python3-cryptography not found: the software eUICC cases did not run"
	[ "$FAIL" -eq 0 ] || finish
	echo "$PASS passed, $FAIL failed (software eUICC cases skipped)"
	exit 77
fi
sgp_pki nist
mkcard() {
	run 0 esimctl euicc create-soft "$1" --eid "$(pki_eid euicc)" --cert "$(pki_path euicc cert_der)" \
		--key "$(pki_path euicc key_pem)" --eum "$(pki_path eum cert_der)" --ci "$CI_PEM"
}
export ESIMCTL_STORE=$T/store/store.json
mkcard "$SH/card1.json"
run 0 esimctl device add phone --kind phone --euicc "soft:$SH/card1.json"
run 0 esimctl euicc info --device phone
# the state handed to another user
cp -p "$SH/card1.json" "$T/card1.before"
chown 65534 "$SH/card1.json"
run 10 esimctl euicc info --device phone
err_has "software eUICC '$SH/card1.json' is refused: it is owned by $ONAME (uid 65534)"
run 10 esimctl --json euicc info --device phone
json_eq '.error | [.status, .name]' '[10,"euicc_unreachable"]'
run 10 esimctl device add phone2 --kind phone --euicc "soft:$SH/card1.json"
err_has "is owned by $ONAME"
chown 0 "$SH/card1.json"
check "the refused state was not touched" cmp -s "$SH/card1.json" "$T/card1.before"
run 0 esimctl euicc info --device phone
# its lock planted by another user (removed first: the user's own lock cannot be replaced in SH)
rm -f "$SH/card1.json.lock"
"${OTHER[@]}" sh -c "umask 077; : >'$SH/card1.json.lock'"
run 10 esimctl euicc info --device phone
err_has "lock file of the software eUICC '$SH/card1.json.lock' is refused: it is owned by $ONAME (uid 65534)"
hold "$SH/card1.json.lock"
for _ in $(seq 100); do "${OTHER[@]}" flock -n "$SH/card1.json.lock" true 2>/dev/null || break; sleep 0.05; done
run 10 esimctl euicc info --device phone
err_has "is owned by $ONAME"
err_lacks "in use by another process"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
rm -f "$SH/card1.json.lock"
run 0 esimctl euicc info --device phone
# a state in a directory another user owns
"${OTHER[@]}" mkdir -m 755 "$SH/cards"
mkcard "$SH/cards/card2.json"
run 10 esimctl device add tab --kind tablet --euicc "soft:$SH/cards/card2.json"
err_has "software eUICC '$SH/cards/card2.json' is refused: its directory '$SH/cards' is owned by $ONAME"
check "no lock created in their directory" [ ! -e "$SH/cards/card2.json.lock" ]
# ... or in one others can write
mkdir -m 777 "$T/wcards"
chmod 777 "$T/wcards"
mkcard "$T/wcards/card3.json"
run 10 esimctl device add tab --kind tablet --euicc "soft:$T/wcards/card3.json"
err_has "its directory '$T/wcards' has mode 0777: other users can write it (no sticky bit)"
finish
