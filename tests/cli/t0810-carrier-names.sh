#!/usr/bin/env bash
# Carrier names and aliases: unambiguous after normalising, never a one-letter match, the
# loader refuses clashes (with the JSON path), "did you mean" for unknown carriers.
. "$(dirname "$0")/lib.sh"

# --- one letter is never a carrier --------------------------------------------------------------
run 5 esimctl carriers show E
err_has "esimctl: carriers show: carrier 'E' is not in the table; did you mean 'EE' or 'Etisalat'?"
run 5 esimctl carriers show e
err_has "did you mean 'EE' or 'Etisalat'?"
run 5 esimctl --json carriers show E
one_json
json_eq '.error.name' '"not_found"'
# Etisalat's brand "e&" still finds it: '&' reads as "and"
for name in 'e&' 'E&' 'e and' 'E-AND' Etisalat; do
	run 0 esimctl carriers show "$name"
	out_has ' Etisalat '
done
for name in 'AT&T' 'at and t' ATT 'A.T.&T.'; do
	run 0 esimctl --json carriers show "$name"
	json_eq '.carrier.name' '"AT&T"'
done

# --- "did you mean" -----------------------------------------------------------------------------
run 5 esimctl carriers show Verizn
err_has "carrier 'Verizn' is not in the table; did you mean 'Verizon'?"
run 5 esimctl carriers show 'Vodafon'
err_has "did you mean 'Vodafone'?"
run 5 esimctl carriers show Clara
err_has "did you mean 'America Movil'?"
run 5 esimctl carriers show 'Zebra Telecom'
err_has "carrier 'Zebra Telecom' is not in the table"
err_lacks "did you mean"
run 0 esimctl device add phone --kind phone
run 0 esimctl add 'LPA:1$rsp.example.com$N-1' --carrier E --device phone
err_has "warning: carrier 'E' is not in the table: did you mean 'EE' or 'Etisalat'?"
err_has "warning: carrier 'E' is not in the table; assuming the strictest sequential policy"
run 0 esimctl device add tab --kind tablet
ID_E=$(jq -r '.profiles[0].id' "$ESIMCTL_STORE")
run 0 esimctl transfer "$ID_E" --to tab --dry-run
err_has "warning: carrier 'E' is not in the table: did you mean 'EE' or 'Etisalat'?"
run 0 esimctl --json list
json_eq '[.profiles[0] | .carrier, .carrier_known]' '["E",false]'
run 0 esimctl add 'LPA:1$rsp.example.com$N-2' --carrier Verizn
err_has "warning: carrier 'Verizn' is not in the table: did you mean 'Verizon'?"
run 0 esimctl list --carrier Vodafon
err_has "no profile of carrier 'Vodafon' (did you mean 'Vodafone'?)"
# the profile stored as "E" is still listed by its own name
run 0 esimctl --json list --carrier E
json_eq '[.profiles[].carrier]' '["E"]'

# --- the override file: clashes and one-letter names are refused, naming the JSON path ----------
cp "$ESIMCTL_STORE" "$T/store.before"
printf '{"carriers":[{"name":"Zed","model":"sequential","aliases":["E"]}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: carriers[0].aliases[0]: must contain at least 2 letters or digits"
run 2 esimctl list
err_has "carriers[0].aliases[0]"
printf '{"carriers":[{"name":"Q","model":"sequential"}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "carriers[0].name: must contain at least 2 letters or digits"
printf '{"carriers":[{"name":"Zed","model":"sequential","aliases":["A.T. and T."]}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: carriers[0].aliases[0]: 'A.T. and T.' already names AT&T"
printf '{"carriers":[{"name":"Zed","model":"sequential","aliases":["E and"]}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers show Zed
err_has "carriers[0].aliases[0]: 'E and' already names Etisalat"
printf '%s' '{"carriers":[{"name":"México Tel","model":"sequential"},' \
	'{"name":"Other","model":"sequential","aliases":["MEXICO-TEL"]}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "carriers[1].aliases[0]: 'MEXICO-TEL' already names México Tel"
run 2 esimctl --json carriers
one_json
json_eq '.error.status' 2
check "a refused carriers file leaves the store alone" cmp -s "$ESIMCTL_STORE" "$T/store.before"

# --- a valid override file: names by display width in the table -------------------------------
printf '%s' '{"carriers":[{"name":"東京データ","model":"sequential","region":"日本","aliases":["Tokyo Data"]},' \
	'{"name":"méxico","model":"concurrent","max_devices":2}]}' >"$ESIMCTL_CARRIERS"
run 0 esimctl carriers
out_has '*東京データ     日本           sequential     1        unknown  unknown    unknown   -'
out_has '*méxico         unknown        concurrent     2        unknown  -          -         -'
out_has ' America Movil  Latin America  single-device  1'
run 0 esimctl carriers show 'tokyo data'
out_has '*東京データ  日本    sequential  1'
out_has 'aliases: Tokyo Data'
run 0 esimctl carriers show MEXICO
out_has '*méxico   unknown  concurrent  2'

finish
