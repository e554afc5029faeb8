#!/usr/bin/env bash
# add: activation code and ICCID validation, idempotence, bindings, warnings, JSON shape.
. "$(dirname "$0")/lib.sh"

# Ids are the first 8 hex digits of SHA-256 of the canonical code.
ID_ABC=0bebd4b3   # LPA:1$rsp.example.com$ABC-123
ID_QR=56e0c4f1    # LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7
ID_OID=0dbca3a8   # LPA:1$smdp.example.net:8443$K2-AB12-CD34$1.3.6.1.4.1.31746$1

# --- invalid input: exit 2, and nothing is written ------------------------------------
run 2 esimctl add 'LPA:2$rsp.example.com$ABC-123' --carrier Verizon
err_has "esimctl: add: activation code: format version '2' is not supported (must be '1')"
err_has 'hint: expected LPA:1$<SM-DP+ address>$<matching ID>'
out_empty
run 2 esimctl add 'LPA:1$rsp.example.com' --carrier Verizon
err_has 'missing matching ID field'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123$' --carrier Verizon
err_has "trailing '\$' after the matching ID"
run 2 esimctl add 'LPA:1$https://rsp.example.com$ABC-123' --carrier Verizon
err_has 'remove the scheme'
run 2 esimctl add 'LPA:1$rsp.example.com$AB_C' --carrier Verizon
err_has "matching ID: character '_' at position 3 is not allowed"
run 2 esimctl add 'LPA:1$rsp$ABC-123' --carrier Verizon
err_has 'single-label host name'
run 2 esimctl add 'LPA:1$rsp.example.com:0$ABC-123' --carrier Verizon
err_has 'out of range (1-65535)'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC 123' --carrier Verizon
err_has 'space at position'
run 2 esimctl add 'not an activation code' --carrier Verizon
run 2 esimctl add --carrier Verizon
err_has 'missing the activation CODE'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' extra --carrier Verizon
err_has "unexpected argument 'extra'"
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --bogus
err_has "unknown option '--bogus'"
err_has "hint: run 'esimctl help add'"
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123'
err_has '--carrier is required'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier
err_has "option '--carrier' needs a value"
# ICCID: 18-20 digits, last digit Luhn
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --iccid 8901260123456789012
err_has "ICCID '8901260123456789012': Luhn check digit does not match (last digit must be 1)"
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --iccid 89012601234567890
err_has '17 digits, must be 18 to 20'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --iccid 890126012345678901234
err_has '21 digits, must be 18 to 20'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --iccid 8901260123456789ABC
err_has "character 'A' at position 17 is not a decimal digit"
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --nickname ''
err_has '--nickname: must not be empty'
run 2 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --nickname "$(printf 'a\tb')"
err_has '--nickname: control character U+0009 at character 2 is not allowed'
check "no store written by failed adds" [ ! -e "$ESIMCTL_STORE" ]

# --- a first add, no device --------------------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --nickname home
out_has "added profile $ID_ABC 'home' (Verizon, voice+data)"
# the matching ID is a bearer secret: first 3 and last 2 characters only
out_has '  code: LPA:1$rsp.example.com$ABC**23'
out_lacks 'ABC-123'
err_empty
check "store is 0600" [ "$(mode_of "$ESIMCTL_STORE")" = 600 ]
check "store directory is 0700" [ "$(mode_of "$(dirname "$ESIMCTL_STORE")")" = 700 ]
cp "$ESIMCTL_STORE" "$T/after-first-add"

# the same code again is idempotent: exit 0, the existing profile, nothing changes
run 0 esimctl add 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon --nickname home
out_has "already have profile $ID_ABC 'home' (Verizon, voice+data)"
check "repeated add leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/after-first-add"
# also when spelled differently: lower-case prefix, upper-case host (canonical form is equal)
# (another spelling of the same carrier is the same carrier)
run 0 esimctl add 'lpa:1$RSP.EXAMPLE.COM$ABC-123' --carrier 'verizon'
out_has "already have profile $ID_ABC 'home' (Verizon, voice+data)"
# but other options are refused, not ignored (t0210-identity has the rest)
run 2 esimctl add 'lpa:1$RSP.EXAMPLE.COM$ABC-123' --carrier 'AT&T'
err_has "this activation code is already profile $ID_ABC, which differs: --carrier 'AT&T' (stored: 'Verizon'); nothing was changed"
run 0 esimctl --json add '  LPA:1$Rsp.Example.Com$ABC-123  ' --carrier Verizon
one_json
json_eq '.ok' true
json_eq '.created' false
json_eq '.profile.id' "\"$ID_ABC\""
check "differently spelled repeat leaves the store byte-identical" cmp -s "$ESIMCTL_STORE" "$T/after-first-add"
check "one profile, one history entry" \
	[ "$(jq -c '[(.profiles | length), (.history | map(.op))]' "$ESIMCTL_STORE")" = '[1,["add"]]' ]

# --- devices, bindings, ICCIDs, the nickname rules ------------------------------------------
run 0 esimctl device add phone --kind phone --primary
run 0 esimctl device add laptop --kind laptop
run 0 esimctl add 'LPA:1$RSP.Example.COM$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone \
	--nickname travel --iccid 8901260123456789011
out_has "added profile $ID_QR 'travel' (AT&T, voice+data)"
out_has '  code: LPA:1$rsp.example.com$QR-**************P7'
out_has '  ICCID: 8901260123456789011'
# the carrier's notes come with the first placement
err_has 'esimctl: warning: AT&T: support can expedite a transfer'
run 0 esimctl --json list --device phone
json_eq '.profiles | length' 1
json_eq '.profiles[0].bindings' '[{"device":"phone","state":"active","since":"2026-11-21T10:00:00Z","ready_at":null}]'
# an ICCID belongs to one profile
run 2 esimctl add 'LPA:1$rsp.example.com$OTHER-1' --carrier Verizon --iccid 8901260123456789011
err_has "ICCID 8901260123456789011 already belongs to profile $ID_QR"
# a nickname is unique, and may not look like another profile's id or ICCID
run 2 esimctl add 'LPA:1$rsp.example.com$OTHER-1' --carrier Verizon --nickname travel
err_has "nickname 'travel' is already used by (or looks like) another profile"
err_has 'hint: pick another --nickname'
run 2 esimctl add 'LPA:1$rsp.example.com$OTHER-1' --carrier Verizon --nickname "$ID_QR"
err_has "nickname '$ID_QR' looks like a profile id"
run 2 esimctl add 'LPA:1$rsp.example.com$OTHER-1' --carrier Verizon --nickname 8901260123456789011
err_has "nickname '8901260123456789011' looks like an ICCID"
run 2 esimctl add 'LPA:1$rsp.example.com$NICK-DIGITS' --carrier Verizon --nickname 89441000000000000018
err_has "nickname '89441000000000000018' looks like an ICCID"
# an unknown device: not found
run 5 esimctl add 'LPA:1$rsp.example.com$OTHER-1' --carrier Verizon --device nosuch
err_has "esimctl: add: no device named 'nosuch'"
err_has "hint: run 'esimctl device list'"
# 18- and 20-digit ICCIDs are fine
run 0 esimctl add 'LPA:1$rsp.example.com$ICCID-18' --carrier Verizon --iccid 890126012345678906
out_has 'ICCID: 890126012345678906'
run 0 esimctl add 'LPA:1$rsp.example.com$ICCID-20' --carrier Verizon --iccid 89012601234567890121
out_has 'ICCID: 89012601234567890121'

# --- capability and carrier warnings ---------------------------------------------------------
# a voice plan placed on a laptop: data only
run 0 esimctl add 'LPA:1$rsp.example.com$LAPTOP-VOICE' --carrier Verizon --device laptop
err_has "esimctl: warning: voice and SMS will not work on laptop 'laptop'; only data"
run 0 esimctl add 'LPA:1$rsp.example.com$LAPTOP-DATA' --carrier Verizon --device laptop --data-only
out_has '(Verizon, data-only)'
err_lacks 'voice and SMS'
# an unknown carrier gets the conservative default, with a warning
run 0 esimctl add 'LPA:1$rsp.example.com$ACME-1' --carrier 'Acme Mobile'
err_has "esimctl: warning: carrier 'Acme Mobile' is not in the table"
# --quiet drops warnings, not data
run 0 esimctl --quiet add 'LPA:1$rsp.example.com$ACME-2' --carrier 'Acme Mobile'
err_empty
out_has 'added profile'
# carrier names match by alias
run 0 esimctl add 'LPA:1$rsp.example.com$ATT-ALIAS' --carrier ATT
err_empty

# --- the JSON document --------------------------------------------------------------------
run 0 esimctl add --json 'LPA:1$SMDP.example.NET:8443$K2-AB12-CD34$1.3.6.1.4.1.31746$1' --carrier T-Mobile \
	--device phone --nickname work --data-only
one_json
json_eq '.ok' true
json_eq '.created' true
json_eq '.profile.id' "\"$ID_OID\""
json_eq '.profile.nickname' '"work"'
json_eq '.profile.carrier' '"T-Mobile"'
json_eq '.profile.carrier_known' true
json_eq '.profile.model' '"concurrent"'
json_eq '.profile.plan' '"data-only"'
json_eq '.profile.activation_code' '{"code":"LPA:1$smdp.example.net:8443$K2-*******34$1.3.6.1.4.1.31746$1","smdp":"smdp.example.net:8443","matching_id":"K2-*******34","masked":true,"oid":"1.3.6.1.4.1.31746","cc_required":true}'
json_eq '.profile.bindings | map(.device)' '["phone"]'
json_eq '.profile.created' '"2026-11-21T10:00:00Z"'
json_eq '.profile.transferable' true
run 0 esimctl add --json --show-secret 'LPA:1$smdp.example.net:8443$K2-AB12-CD34$1.3.6.1.4.1.31746$1' --carrier T-Mobile
json_eq '.created' false
json_eq '.profile.activation_code.code' '"LPA:1$smdp.example.net:8443$K2-AB12-CD34$1.3.6.1.4.1.31746$1"'
json_eq '.profile.activation_code.matching_id' '"K2-AB12-CD34"'
json_eq '.profile.activation_code.masked' false
# --show-secret in text output too
run 0 esimctl add --show-secret 'LPA:1$rsp.example.com$ABC-123' --carrier Verizon
out_has '  code: LPA:1$rsp.example.com$ABC-123'
# errors are one JSON document too, with the text on stderr
run 2 esimctl add --json 'LPA:1$rsp.example.com$X' --carrier Verizon --iccid 123
one_json
json_eq '.ok' false
json_eq '.error.status' 2
json_eq '.error.name' '"usage"'
json_eq '.error.message' "\"ICCID '123': 3 digits, must be 18 to 20\""
err_has "esimctl: add: ICCID '123': 3 digits, must be 18 to 20"
run 5 esimctl add --json 'LPA:1$rsp.example.com$X' --carrier Verizon --device nosuch
one_json
json_eq '.error | [.status, .name]' '[5,"not_found"]'

# --- history: one "add" per created profile --------------------------------------------------
check "history has one add per new profile" \
	[ "$(jq '[.history[] | select(.op == "add")] | length' "$ESIMCTL_STORE")" = 10 ]
check "profile count" [ "$(jq '.profiles | length' "$ESIMCTL_STORE")" = 10 ]
finish
