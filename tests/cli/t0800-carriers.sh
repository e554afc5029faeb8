#!/usr/bin/env bash
# carriers list | show, user overrides ('*' / "overridden"), invalid override files (exit 2),
# and overrides taking effect in transfer.
. "$(dirname "$0")/lib.sh"

HEADER=' CARRIER        REGION         MODEL          DEVICES  SYNC     TRANSFER   COOLDOWN  REPROVISIONING     NOTES'

# --- the built-in table ---------------------------------------------------------------------------
run 0 esimctl carriers
out_has "$HEADER"
out_has ' T-Mobile       USA            concurrent     5        yes      -          -         -'
out_has ' AT&T           USA            sequential     1        unknown  10-15 min  24 h      -                  support can expedite a transfer'
out_has ' Verizon        USA            sequential     1        unknown  5-10 min   none      -'
out_has ' China Mobile   China          single-device  1        unknown  -          -         24-48 h            must be done in-country'
out_has ' America Movil  Latin America  single-device  1        unknown  -          -         varies by country  contact the local subsidiary'
out_lacks '*'
check "header and 14 carriers" [ "$(grep -c '^ [A-Z]' "$OUT")" = 15 ]
err_has "add or override carriers in $ESIMCTL_CARRIERS (see docs/carriers-format.md)"
cp "$OUT" "$T/carriers.out"
run 0 esimctl carriers list
check "'carriers' is 'carriers list'" cmp -s "$OUT" "$T/carriers.out"
run 0 esimctl --quiet carriers list
err_empty
run 0 esimctl --json carriers
one_json
err_empty
json_eq 'keys' '["carriers","ok","override_file"]'
json_eq '.override_file' "\"$ESIMCTL_CARRIERS\""
json_eq '.carriers | length' 14
json_eq '[.carriers[] | select(.overridden)] | length' 0
json_eq '[.carriers[].model] | unique' '["concurrent","sequential","single-device"]'
json_eq '.carriers[0]' '{"name":"T-Mobile","region":"USA","model":"concurrent","max_devices":5,"cloud_sync":"yes","transfer_min_s":null,"transfer_max_s":null,"cooldown_s":null,"reprovision_min_s":null,"reprovision_max_s":null,"reprovision":null,"notes":null,"aliases":["TMobile","T-Mobile US"],"overridden":false}'

# show: names and aliases, case- and punctuation-insensitive
for name in 'AT&T' att 'AT and T' 'a.t-t'; do
	run 0 esimctl carriers show "$name"
	out_has ' AT&T     USA     sequential  1        unknown  10-15 min  24 h'
	out_has 'aliases: ATT, AT and T'
done
run 0 esimctl carriers show 'america movil'
out_has 'aliases: América Móvil, Claro, Telcel'
run 0 esimctl carriers show 'América Móvil'
out_has ' America Movil '
run 0 esimctl --json carriers show att
one_json
json_eq '.carrier' '{"name":"AT&T","region":"USA","model":"sequential","max_devices":1,"cloud_sync":"unknown","transfer_min_s":600,"transfer_max_s":900,"cooldown_s":86400,"reprovision_min_s":null,"reprovision_max_s":null,"reprovision":null,"notes":"support can expedite a transfer","aliases":["ATT","AT and T"],"overridden":false}'
run 0 esimctl carriers show cmcc --json
json_eq '.carrier | [.name, .model, .reprovision_min_s, .reprovision_max_s, .reprovision]' '["China Mobile","single-device",86400,172800,"24-48 h"]'
run 5 esimctl carriers show 'Acme Mobile'
err_has "esimctl: carriers show: carrier 'Acme Mobile' is not in the table"
err_has "hint: esimctl treats it as sequential with unknown times; add it to $ESIMCTL_CARRIERS"
run 5 esimctl --json carriers show 'Acme Mobile'
one_json
json_eq '.error | [.status, .name]' '[5,"not_found"]'
run 2 esimctl carriers show
err_has 'missing the carrier NAME'
run 2 esimctl carriers show att extra
err_has "unexpected argument 'extra'"
run 2 esimctl carriers list extra
err_has "unexpected argument 'extra'"
run 2 esimctl carriers bogus
err_has "esimctl: 'carriers bogus' is not an esimctl command"
err_has "hint: run 'esimctl help carriers'"
run 0 esimctl help carriers
out_has 'usage: esimctl carriers SUBCOMMAND [ARGS]'
out_has '  carriers show          print one carrier'

# --- a valid override file ----------------------------------------------------------------------
cp "$ESIMCTL_SRC/examples/carriers.json" "$ESIMCTL_CARRIERS"
run 0 esimctl carriers
out_has '*AT&T             USA            sequential     1        unknown  10-15 min  12 h      -                  business account: support can expedite a transfer'
out_has '*Free Mobile      France         sequential     1        no       10-15 min  12 h      -                  transfers are done from the Free Mobile app'
out_has '*Example Telecom  Atlantis       single-device  1        unknown  -          -         24-48 h            order the new profile in a shop'
out_has ' Verizon          USA            sequential     1        unknown  5-10 min   none'
out_has "* changed or added by $ESIMCTL_CARRIERS"
check "three rows marked" [ "$(grep -c '^\*[A-Z]' "$OUT")" = 3 ]
err_empty
run 0 esimctl --json carriers
json_eq '.carriers | length' 16
json_eq '[.carriers[] | select(.overridden) | .name]' '["AT&T","Free Mobile","Example Telecom"]'
json_eq '.carriers[] | select(.name == "AT&T") | [.cooldown_s, .transfer_min_s, .aliases]' '[43200,600,["ATT","AT and T"]]'
run 0 esimctl --json carriers show free
json_eq '.carrier | [.name, .overridden, .cloud_sync, .transfer_min_s, .transfer_max_s, .cooldown_s, .aliases]' \
	'["Free Mobile",true,"no",600,900,43200,["Free"]]'
run 0 esimctl carriers show extel
out_has '*Example Telecom'

# overrides take effect: AT&T now has a 12 h cooldown; Free Mobile is known
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tab --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$ATT-1' --carrier ATT --device phone --nickname att
err_has 'esimctl: warning: AT&T: business account: support can expedite a transfer'
run 0 esimctl transfer att --to tab
out_has 'next transfer possible at 2026-11-21T22:00:00Z'
ESIMCTL_NOW=2026-11-21T21:59:59Z run 6 esimctl transfer att --to phone --dry-run
err_has 'AT&T allows one transfer every 12 h; the next one is possible at 2026-11-21T22:00:00Z (in 1s)'
ESIMCTL_NOW=2026-11-21T22:00:00Z run 0 esimctl transfer att --to phone --dry-run
run 0 esimctl add 'LPA:1$rsp.example.com$FREE-1' --carrier Free --device phone --nickname free
err_lacks 'not in the table'
run 0 esimctl --json transfer free --to tab --dry-run
json_eq '.plan | [.carrier_known, .model, .gap_min_s, .gap_max_s, .cooldown_until]' '[true,"sequential",600,900,"2026-11-21T22:00:00Z"]'
run 0 esimctl add 'LPA:1$rsp.example.com$EXTEL-1' --carrier 'Example Telecom' --device phone --nickname extel
run 6 esimctl transfer extel --to tab
err_has 'Example Telecom binds a profile to the device it was first installed on'
err_has '(re-provisioning time: 24-48 h; order the new profile in a shop)'
# a partial override keeps the built-in fields
printf '{"carriers":[{"name":"T-Mobile","max_devices":2}]}\n' >"$ESIMCTL_CARRIERS"
run 0 esimctl carriers show tmobile
out_has '*T-Mobile  USA     concurrent  2        yes'
run 0 esimctl add 'LPA:1$rsp.example.com$TM-1' --carrier T-Mobile --device phone --nickname tm
run 0 esimctl transfer tm --to tab
run 0 esimctl device add third --kind phone
run 6 esimctl transfer tm --to third
err_has 'T-Mobile allows 2 devices at once; profile is already on phone, tab'

# --- invalid override files: exit 2 naming the file; the file is left alone ---------------------------
printf '{"carriers":[{"name":"Xyz","model":"bogus"}]}\n' >"$ESIMCTL_CARRIERS"
cp "$ESIMCTL_CARRIERS" "$T/bad-copy"
cp "$ESIMCTL_STORE" "$T/store-before"
run 2 esimctl carriers
err_has "esimctl: carriers list: $ESIMCTL_CARRIERS: carriers[0].model: must be one of concurrent, sequential, single-device"
err_has 'hint: fix the file (format: docs/carriers-format.md) or move it away'
out_empty
run 2 esimctl carriers show att
err_has "$ESIMCTL_CARRIERS: carriers[0].model"
# every command that needs policies refuses rather than apply a policy you did not mean
run 2 esimctl list
err_has "esimctl: list: $ESIMCTL_CARRIERS: carriers[0].model"
run 2 esimctl transfer att --to phone --dry-run
err_has "$ESIMCTL_CARRIERS"
run 2 esimctl transfer att --to phone
run 2 esimctl add 'LPA:1$rsp.example.com$NEW-1' --carrier Verizon
run 2 esimctl release att
run 2 esimctl --json carriers
one_json
json_eq '.error | [.status, .name]' '[2,"usage"]'
json_eq '.error.message' "\"$ESIMCTL_CARRIERS: carriers[0].model: must be one of concurrent, sequential, single-device\""
check "the override file is left byte-identical" cmp -s "$ESIMCTL_CARRIERS" "$T/bad-copy"
check "the store is left byte-identical" cmp -s "$ESIMCTL_STORE" "$T/store-before"
# other problems: syntax (line and column), unknown keys, max_devices on a sequential carrier
printf '{"carriers": [\n  {"name": "X",\n' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: line 3, column 1: invalid JSON"
printf '{"carriers":[{"name":"Free","model":"sequential","modle":1}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: carriers[0]"
err_has "unknown key 'modle'"
printf '{"carriers":[{"name":"Xy","model":"sequential","max_devices":3}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: carriers[0].max_devices"
printf '{"carriers":[{"name":"Xy","model":"concurrent"}]}' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS: carriers[0]"
printf '[]' >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS"
# an empty file is not a valid override file either
: >"$ESIMCTL_CARRIERS"
run 2 esimctl carriers
err_has "$ESIMCTL_CARRIERS"

# --- where the file is looked for -------------------------------------------------------------
rm -f "$ESIMCTL_CARRIERS"
mkdir -p "$T/cfg/esimctl" "$HOME/.config/esimctl"
cp "$ESIMCTL_SRC/examples/carriers.json" "$T/cfg/esimctl/carriers.json"
ESIMCTL_CARRIERS='' XDG_CONFIG_HOME="$T/cfg" run 0 esimctl --json carriers
json_eq '.override_file' "\"$T/cfg/esimctl/carriers.json\""
json_eq '[.carriers[] | select(.overridden)] | length' 3
printf '{"carriers":[{"name":"Home Telecom","model":"sequential"}]}' >"$HOME/.config/esimctl/carriers.json"
ESIMCTL_CARRIERS='' XDG_CONFIG_HOME='' run 0 esimctl --json carriers
json_eq '.override_file' "\"$HOME/.config/esimctl/carriers.json\""
json_eq '[.carriers[] | select(.overridden) | .name]' '["Home Telecom"]'
# a relative XDG_CONFIG_HOME is ignored (XDG base directory spec)
ESIMCTL_CARRIERS='' XDG_CONFIG_HOME=cfg run 0 esimctl --json carriers
json_eq '.override_file' "\"$HOME/.config/esimctl/carriers.json\""
finish
