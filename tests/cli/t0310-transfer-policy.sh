#!/usr/bin/env bash
# transfer and release: policy answers that agree with the policy (issue 8, items 10-12).
#   - a concurrent carrier at its device limit swaps devices with --from;
#   - release advice gives the earliest transfer time and never a command that is refused;
#   - an unknown carrier gets the strictest sequential policy of the table.
. "$(dirname "$0")/lib.sh"

store_jq() { jq -c "$1" "$ESIMCTL_STORE"; }
live_of() { store_jq "[.bindings[] | select(.profile == \"$1\" and .state != \"released\") | \"\(.device):\(.state)\"]"; }
# iso_minus ISO SECONDS: the time SECONDS before ISO
iso_minus() { date -u -d "@$(($(date -u -d "$1" +%s) - $2))" +%Y-%m-%dT%H:%M:%SZ; }

for d in phone tablet watch laptop hotspot spare; do
	kind=$d
	[ "$d" = spare ] && kind=phone
	run 0 esimctl device add $d --kind $kind
done

# --- 10. concurrent at the limit: --from swaps -----------------------------------------------------
run 0 esimctl add 'LPA:1$rsp.example.com$VF-SWAP' --carrier Vodafone --device phone --nickname vf
VF=$(jq -r '.profiles[0].id' "$ESIMCTL_STORE")
run 0 esimctl transfer vf --to tablet
run 0 esimctl transfer vf --to watch
run 6 esimctl transfer vf --to hotspot
err_has 'Vodafone allows 3 devices at once; profile is already on phone, tablet, watch'
err_has 'hint: move it from one of those devices with --from DEVICE'
cp "$ESIMCTL_STORE" "$T/before"
run 0 esimctl --json transfer vf --from phone --to hotspot --dry-run
json_eq '.plan.action' '"swap"'
json_eq '.plan.from' '"phone"'
check "dry-run leaves the store alone" cmp -s "$ESIMCTL_STORE" "$T/before"
run 0 esimctl transfer vf --from phone --to hotspot
out_has "move from 'phone' to 'hotspot': 'phone' is released and 'hotspot' becomes active now (Vodafone allows 3 devices at once, 3 in use after this)"
out_has '  phone: released at once'
out_has '  hotspot: active at once'
check "phone released, hotspot active, the others kept" \
	test "$(live_of "$VF")" = '["tablet:active","watch:active","hotspot:active"]'
check "history: one transfer from phone to hotspot" \
	test "$(store_jq '[.history[] | select(.op == "transfer" and .from == "phone" and .to == "hotspot")] | length')" = 1
# below the limit --from moves too (it used to be ignored), and still at a limit of 5
run 0 esimctl transfer vf --from hotspot --to phone
check "moved back: hotspot released" test "$(live_of "$VF")" = '["tablet:active","watch:active","phone:active"]'
run 5 esimctl transfer vf --from laptop --to spare
err_has "profile is not on device 'laptop'"

# --- 11. release advice agrees with the policy -------------------------------------------------------
# For each sequential carrier (and an unknown one): place, transfer (a cooldown starts), lose
# the device an hour later.  The advice gives the earliest time; a transfer then is allowed
# and one second before it is refused, so the advice never names a command that is refused.
i=0
for carrier in 'AT&T' EE Singtel Etisalat Verizon 'Unknown Telco'; do
	i=$((i + 1))
	export ESIMCTL_STORE="$T/lost$i.json" ESIMCTL_NOW=2026-11-21T10:00:00Z
	run 0 esimctl device add phone --kind phone
	run 0 esimctl device add tablet --kind tablet
	run 0 esimctl --json add "LPA:1\$rsp.example.com\$LOST-$i" --carrier "$carrier" --device phone
	id=$(jq -r '.profile.id' "$OUT")
	run 0 esimctl transfer "$id" --to tablet
	export ESIMCTL_NOW=2026-11-21T11:00:00Z
	run 0 esimctl --json release --device tablet --all --reason lost
	next=$(jq -r '.released[0].next_transfer' "$OUT")
	advice=$(jq -r '.next_steps[1]' "$OUT")
	if [ "$next" = "$ESIMCTL_NOW" ]; then
		check "$carrier: no cooldown, the advice says transfer now" grep -qF "ask for a transfer ('esimctl transfer $id --to DEVICE')" <<<"$advice"
		run 0 esimctl transfer "$id" --to phone --dry-run
	else
		check "$carrier: the advice gives the earliest time ($next)" \
			grep -qF "the earliest transfer to another device is at $next (in " <<<"$advice"
		check "$carrier: and what to run then" grep -qF "then 'esimctl transfer $id --to DEVICE'" <<<"$advice"
		run 0 esimctl transfer "$id" --to phone --dry-run --at "$next"
		run 6 esimctl transfer "$id" --to phone --dry-run --at "$(iso_minus "$next" 1)"
	fi
done
# the text form, for the case of the issue
export ESIMCTL_STORE="$T/lost-text.json" ESIMCTL_NOW=2026-11-21T10:00:00Z
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tablet --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$ATT-LOST' --carrier 'AT&T' --device phone --nickname att
run 0 esimctl transfer att --to tablet
export ESIMCTL_NOW=2026-11-21T11:00:00Z
run 0 esimctl release --device tablet --all --reason lost
out_has "AT&T allows one transfer every 24 h: the earliest transfer to another device is at 2026-11-22T10:00:00Z (in 23 h 00 min); then 'esimctl transfer"
out_lacks "ask for a transfer"
# a concurrent carrier at its limit after a release is told to move, which is allowed
export ESIMCTL_STORE="$T/lost-conc.json" ESIMCTL_NOW=2026-11-21T10:00:00Z
for d in a b c d; do run 0 esimctl device add $d --kind phone; done
run 0 esimctl add 'LPA:1$rsp.example.com$DOCOMO' --carrier 'NTT Docomo' --device a --nickname dc
run 0 esimctl transfer dc --to b
run 0 esimctl release dc --device a --reason lost
out_has "NTT Docomo: the profile stays in use on 1 other device"
run 0 esimctl transfer dc --to c --dry-run

# --- 12. an unknown carrier: the strictest sequential policy of the table ---------------------------
export ESIMCTL_STORE="$T/unknown.json" ESIMCTL_NOW=2026-11-21T10:00:00Z
run 0 esimctl device add phone --kind phone
run 0 esimctl device add tablet --kind tablet
run 0 esimctl add 'LPA:1$rsp.example.com$FOO-1' --carrier 'Foo Telecom' --device phone --nickname foo
run 0 esimctl --json transfer foo --to tablet
json_eq '.plan | [.carrier_known, .model, .action, .cooldown_until, .gap_min_s, .gap_max_s]' \
	'[false,"sequential","move","2026-11-22T10:00:00Z",1200,1800]'
json_eq '.plan.warnings[0]' "\"carrier 'Foo Telecom' is not in the table; assuming the strictest sequential policy in it (one device, 24 h cooldown, transfer time 20-30 min). Record the real policy in your carriers file ('esimctl carriers list' shows where; format: docs/carriers-format.md)\""
# back-to-back transfers are refused, as for AT&T or Etisalat
export ESIMCTL_NOW=2026-11-21T10:40:00Z
run 6 esimctl transfer foo --to phone
err_has 'Foo Telecom allows one transfer every 24 h; the next one is possible at 2026-11-22T10:00:00Z'
# derived from the table: a stricter row in the carriers file makes the default stricter
cat >"$ESIMCTL_CARRIERS" <<'JSON'
{"carriers":[{"name":"Slow Telecom","model":"sequential","transfer_minutes":[30,90],"cooldown_hours":48}]}
JSON
run 6 esimctl transfer foo --to phone --dry-run --at 2026-11-22T10:00:00Z
err_has 'Foo Telecom allows one transfer every 48 h; the next one is possible at 2026-11-23T10:00:00Z'
run 0 esimctl transfer foo --to phone --dry-run --at 2026-11-23T10:00:00Z
out_has "should be ready in 30-90 min"
err_has 'assuming the strictest sequential policy in it (one device, 48 h cooldown, transfer time 30-90 min)'
finish
