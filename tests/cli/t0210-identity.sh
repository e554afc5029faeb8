#!/usr/bin/env bash
# Profile identity: ids that share a prefix, codes compared as codes, shown ids, the one
# resolution order, nicknames that would shadow, re-adding with other options, activation
# codes with fields SGP.22 does not define, and time 0.
. "$(dirname "$0")/lib.sh"

COLL1='LPA:1$rsp.example.com$COLL-61256'
COLL2='LPA:1$rsp.example.com$COLL-89616'
sha16() { printf '%s' "$1" | sha256sum | cut -c1-16; }
store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }

# --- the issue's pair: one 8-digit prefix, two codes -------------------------------------------
check "the two codes share the 8-digit id prefix 7fc9e696" \
	[ "$(sha16 "$COLL1" | cut -c1-8)" = 7fc9e696 -a "$(sha16 "$COLL2" | cut -c1-8)" = 7fc9e696 ]
check "and differ in the 9th digit" [ "$(sha16 "$COLL1")" = 7fc9e696c20d9fd9 -a "$(sha16 "$COLL2")" = 7fc9e69605274473 ]
run 0 esimctl add "$COLL1" --carrier Verizon
out_has 'added profile 7fc9e696 (Verizon, voice+data)'
run 0 esimctl add "$COLL2" --carrier 'AT&T' --nickname second
out_has "added profile 7fc9e6960 'second' (AT&T, voice+data)"
out_lacks 'already have'
check "two profiles, each with its own code" \
	[ "$(store_jq '[.profiles[] | [.id, .activation_code.matching_id, .carrier]]')" = \
	  '[["7fc9e696c20d9fd9","COLL-61256","Verizon"],["7fc9e69605274473","COLL-89616","AT&T"]]' ]
# shown ids grow on the clash, as git abbreviates object names
run 0 esimctl list
out_has '7fc9e696c  -'
out_has '7fc9e6960  second'
run 0 esimctl --json list
json_eq '[.profiles[] | [.id, .full_id]]' '[["7fc9e696c","7fc9e696c20d9fd9"],["7fc9e6960","7fc9e69605274473"]]'
# each answers to its shown id, its full id and any unique prefix of 6 or more digits
run 0 esimctl device add phone --kind phone
for ref in 7fc9e696c 7FC9E696C 7fc9e696c20d9fd9 7fc9e696c2; do
	run 0 esimctl --json transfer "$ref" --to phone --dry-run
	json_eq '.plan | [.profile, .carrier]' '["7fc9e696c","Verizon"]'
done
run 0 esimctl --json transfer 7fc9e69605274473 --to phone --dry-run
json_eq '.plan | [.profile, .carrier]' '["7fc9e6960","AT&T"]'
# a prefix both share is ambiguous; fewer than 6 digits is not an id prefix
cp "$ESIMCTL_STORE" "$T/two"
run 2 esimctl qr 7fc9e696
err_has "'7fc9e696' matches 2 profiles: 7fc9e696c (id prefix), 7fc9e6960 (id prefix, nickname second)"
err_has 'hint: use one of the ids shown'
run 2 esimctl qr 7fc9e6
err_has "'7fc9e6' matches 2 profiles"
run 5 esimctl qr 7fc9e
err_has "no profile matches '7fc9e'"
err_has 'hint: an id prefix needs at least 6 hex digits'
# the same code again is the same profile, found by its code
run 0 esimctl add 'lpa:1$RSP.EXAMPLE.COM$COLL-89616' --carrier att
out_has "already have profile 7fc9e6960 'second' (AT&T, voice+data)"
check "nothing changed" cmp -s "$ESIMCTL_STORE" "$T/two"

# --- re-adding a known code with other options: every difference named, exit 2, no change -------
run 0 esimctl device add tablet --kind tablet
run 0 esimctl transfer second --to phone
cp "$ESIMCTL_STORE" "$T/placed"
run 2 esimctl add "$COLL2" --carrier Verizon --device tablet --nickname third
err_has "this activation code is already profile 7fc9e6960, which differs: --carrier 'Verizon' (stored: 'AT&T'); --device 'tablet' (stored: 'phone'); --nickname 'third' (stored: 'second'); nothing was changed"
err_has 'hint: repeat the add without the options that differ'
out_empty
check "a refused re-add leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/placed"
run 2 esimctl add "$COLL2" --device tablet
err_has "differs: --device 'tablet' (stored: 'phone')"
err_has "hint: to move it, run 'esimctl transfer 7fc9e6960 --to tablet'"
run 2 esimctl add "$COLL1" --carrier Verizon --device phone
err_has "differs: --device 'phone' (stored: none)"
run 2 esimctl add "$COLL1" --carrier Verizon --nickname first
err_has "differs: --nickname 'first' (stored: none)"
run 2 esimctl add "$COLL2" --iccid 8901260123456789011
err_has "differs: --iccid '8901260123456789011' (stored: none)"
run 2 esimctl add "$COLL2" --data-only
err_has "differs: --data-only 'data-only' (stored: 'voice+data')"
run 2 esimctl --json add "$COLL2" --carrier Verizon --nickname third
one_json
json_eq '[.ok, .error.status, .error.name]' '[false,2,"usage"]'
json_eq '.differences' '[{"option":"--carrier","stored":"AT&T","given":"Verizon"},{"option":"--nickname","stored":"second","given":"third"}]'
json_eq '.profile | [.id, .carrier, .nickname]' '["7fc9e6960","AT&T","second"]'
check "still byte-identical" cmp -s "$ESIMCTL_STORE" "$T/placed"
# the same options again (the carrier by another of its names) is still the idempotent exit 0
run 0 esimctl add "$COLL2" --carrier 'at&t' --device phone --nickname second
out_has "already have profile 7fc9e6960 'second' (AT&T, voice+data)"
run 0 esimctl --json add "$COLL2" --carrier 'AT&T' --device phone
json_eq '[.ok, .created, .profile.id]' '[true,false,"7fc9e6960"]'
run 0 esimctl add "$COLL2"
out_has 'already have profile 7fc9e6960'
check "and changes nothing" cmp -s "$ESIMCTL_STORE" "$T/placed"

# --- nicknames that could be taken for an id or an ICCID are refused -----------------------------
for nick in 7fc9e696c 7fc9e6 cafe12 FACADE 7fc9e69605274473; do
	run 2 esimctl add 'LPA:1$rsp.example.com$NICK-1' --carrier Verizon --nickname "$nick"
	err_has "nickname '$nick' looks like a profile id (hex digits only)"
done
for nick in 8901260123456789011 42 0; do
	run 2 esimctl add 'LPA:1$rsp.example.com$NICK-1' --carrier Verizon --nickname "$nick"
	err_has "nickname '$nick' looks like an ICCID (digits only)"
done
check "refused nicknames change nothing" cmp -s "$ESIMCTL_STORE" "$T/placed"
run 0 esimctl add 'LPA:1$rsp.example.com$NICK-1' --carrier Verizon --nickname cafe
run 0 esimctl add 'LPA:1$rsp.example.com$NICK-2' --carrier Verizon --nickname 7fc9e696-x
run 0 esimctl --json transfer 7fc9e696-x --to phone --dry-run
json_eq '.plan.nickname' '"7fc9e696-x"'
# device names are only ever looked up as device names (--device, --to, --from): a device
# named like a profile id shadows nothing
run 0 esimctl device add 7fc9e696c --kind phone
run 0 esimctl --json transfer 7fc9e696c --to 7fc9e696c --dry-run
json_eq '.plan | [.profile, .to]' '["7fc9e696c","7fc9e696c"]'

# --- a store written by an older esimctl, with 8-digit ids and names that shadow -----------------
cat >"$ESIMCTL_STORE" <<'EOF'
{"schema":1,"devices":[{"name":"phone","kind":"phone","primary":true,"created":"2026-11-21T10:00:00Z"}],
"profiles":[
{"id":"7fc9e696","carrier":"Verizon","plan":"voice+data","activation_code":{"smdp":"rsp.example.com","matching_id":"COLL-61256","cc_required":false},"created":"2026-11-21T10:00:00Z"},
{"id":"40b69c91","iccid":"8944100000000000001","carrier":"Verizon","plan":"voice+data","created":"2026-11-21T10:00:00Z"},
{"id":"1a2b3c4d","carrier":"AT&T","plan":"voice+data","nickname":"40b69c91","created":"2026-11-21T10:00:00Z"},
{"id":"5e6f7a8b","carrier":"AT&T","plan":"voice+data","nickname":"8944100000000000001","created":"2026-11-21T10:00:00Z"},
{"id":"abcdef12","carrier":"AT&T","plan":"voice+data","nickname":"cafe12","activation_code":{"smdp":"rsp.example.com","matching_id":"OLD-NICK","cc_required":false},"created":"2026-11-21T10:00:00Z"}
],"bindings":[],"history":[],"notifications":[]}
EOF
chmod 600 "$ESIMCTL_STORE"
# 1. the exact id wins over another profile's nickname (the issue's unreachable profile)
run 0 esimctl --json transfer 40b69c91 --to phone --dry-run
json_eq '.plan.profile' '"40b69c91"'
run 0 esimctl --json transfer 1a2b3c4d --to phone --dry-run
json_eq '.plan | [.profile, .nickname]' '["1a2b3c4d","40b69c91"]'
# 2. the exact ICCID wins over a nickname that spells it
run 0 esimctl --json transfer 8944100000000000001 --to phone --dry-run
json_eq '.plan.profile' '"40b69c91"'
# 4. an id prefix comes last
run 0 esimctl --json transfer 5e6f7a --to phone --dry-run
json_eq '.plan.profile' '"5e6f7a8b"'
# the same code under an old 8-digit id is found by its code
cp "$ESIMCTL_STORE" "$T/old"
run 0 esimctl add "$COLL1" --carrier Verizon
out_has 'already have profile 7fc9e696 (Verizon, voice+data)'
check "old store untouched" cmp -s "$ESIMCTL_STORE" "$T/old"
# repeating an add that an older esimctl accepted, with a nickname refused today, is still exit 0
run 0 esimctl add 'LPA:1$rsp.example.com$OLD-NICK' --carrier 'AT&T' --nickname cafe12
out_has "already have profile abcdef12 'cafe12' (AT&T, voice+data)"
check "old store untouched" cmp -s "$ESIMCTL_STORE" "$T/old"
# the other code of the pair gets a 16-digit id; the old profile keeps answering to its 8
run 0 esimctl add "$COLL2" --carrier 'AT&T'
out_has 'added profile 7fc9e6960 (AT&T, voice+data)'
run 0 esimctl --json list
json_eq '[.profiles[] | .id]' '["7fc9e696","40b69c91","1a2b3c4d","5e6f7a8b","abcdef12","7fc9e6960"]'
run 0 esimctl --json transfer 7fc9e696 --to phone --dry-run
json_eq '.plan | [.profile, .carrier]' '["7fc9e696","Verizon"]'
run 0 esimctl --json transfer 7fc9e6960 --to phone --dry-run
json_eq '.plan | [.profile, .carrier]' '["7fc9e6960","AT&T"]'

# --- an id taken by another code (a hand-edited store): compared, never taken as the same code ---
B='LPA:1$rsp.example.com$TAKEN-2'
cat >"$ESIMCTL_STORE" <<EOF
{"schema":1,"profiles":[
{"id":"$(sha16 "$B")","carrier":"Verizon","plan":"voice+data","activation_code":{"smdp":"rsp.example.com","matching_id":"TAKEN-1","cc_required":false},"created":"2026-11-21T10:00:00Z"}
]}
EOF
chmod 600 "$ESIMCTL_STORE"
run 0 esimctl add "$B" --carrier Verizon --nickname taken
out_has "added profile"
out_lacks 'already have'
check "the second code got the first free alternative id, sha256(code#1)" \
	[ "$(store_jq '[.profiles[] | [.id, .activation_code.matching_id]]')" = \
	  "[[\"$(sha16 "$B")\",\"TAKEN-1\"],[\"$(sha16 "$B#1")\",\"TAKEN-2\"]]" ]
run 0 esimctl add "$B" --carrier Verizon --nickname taken
out_has "already have profile $(sha16 "$B#1" | cut -c1-8) 'taken'"

# --- activation codes: fields beyond SGP.22's five are refused, never dropped -------------------
rm -f "$ESIMCTL_STORE"
run 2 esimctl add 'LPA:1$h.example.com$ABC$1.2.3$1$extra' --carrier Verizon
err_has "activation code: field 6 ('extra') is not defined by SGP.22 section 4.1, which has 5 fields"
check "no store written" [ ! -e "$ESIMCTL_STORE" ]
run 2 esimctl add 'LPA:1$h.example.com$ABC$$$x' --carrier Verizon
err_has "field 6 ('x')"
run 2 esimctl qr --code 'LPA:1$h.example.com$ABC$1.2.3$1$extra' --png "$T/x.png"
err_has "field 6 ('extra')"
check "no QR code of another code" [ ! -e "$T/x.png" ]
# as the man page says: a code ending in '$' is refused, not shortened
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123$' --carrier Verizon
err_has "trailing '\$' after the matching ID: remove the separator"
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123$1.2$' --carrier Verizon
err_has "trailing '\$' after the SM-DP+ OID"
check "still no store" [ ! -e "$ESIMCTL_STORE" ]

# --- time 0 is a time; impossible zone offsets are refused ----------------------------------------
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tablet --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$EPOCH-1' --carrier 'AT&T' --device phone --nickname epoch
run 0 esimctl --json transfer epoch --to tablet --dry-run --at 1970-01-01T00:00:00Z
json_eq '.plan.at' '"1970-01-01T00:00:00Z"'
run 0 esimctl --json transfer epoch --to tablet --dry-run --at 1970-01-01T14:00:00+14:00
json_eq '.plan.at' '"1970-01-01T00:00:00Z"'
run 0 esimctl --json transfer epoch --to tablet --dry-run --at 1969-12-31T10:00:00-14:00
json_eq '.plan.at' '"1970-01-01T00:00:00Z"'
for at in 2026-11-21T10:00:00+14:30 2026-11-21T10:00:00+15:00 2026-11-21T10:00:00-23:59 \
	2026-11-21T10:00:00+05:03 1970-01-01T00:00:00-14:01; do
	run 2 esimctl transfer epoch --to tablet --dry-run --at "$at"
	err_has "time '$at': zone offset"
done
run 2 esimctl transfer epoch --to tablet --dry-run --at 2026-11-21T10:00:00+14:30
err_has 'zone offset +14:30 is beyond +14:00'
# a transfer made at time 0 is recorded at time 0 and starts AT&T's 24 h cooldown
ESIMCTL_NOW=1970-01-01T00:00:00Z run 0 esimctl transfer epoch --to tablet
check "last_transfer is time 0, not 'never'" \
	[ "$(store_jq '.profiles[] | select(.nickname == "epoch") | .last_transfer')" = '"1970-01-01T00:00:00Z"' ]
ESIMCTL_NOW=1970-01-01T01:00:00Z run 6 esimctl --json transfer epoch --to phone
json_eq '.plan | [.at, .earliest]' '["1970-01-01T01:00:00Z","1970-01-02T00:00:00Z"]'
ESIMCTL_NOW=1970-01-01T01:00:00Z run 0 esimctl --json list
json_eq '.profiles[0] | [.last_transfer, .next_transfer, .cooldown_remaining_s]' '["1970-01-01T00:00:00Z","1970-01-02T00:00:00Z",82800]'
json_eq '.profiles[0].bindings[0] | [.state, .ready_at]' '["active","1970-01-01T00:15:00Z"]'

finish
