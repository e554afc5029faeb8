#!/usr/bin/env bash
# Stores written by earlier esimctl versions load unchanged (tests/fixtures/stores/):
# `list --json` prints the same document as the version that wrote them, and a rewrite
# that changes nothing keeps the file byte for byte (docs/store-format.md, "Text layout").
. "$(dirname "$0")/lib.sh"

FX="$ESIMCTL_SRC/tests/fixtures/stores"
export ESIMCTL_CARRIERS="$FX/carriers.json"
export ESIMCTL_NOW=2026-11-21T10:00:00Z

# name  device-with-no-live-binding (a release --all there rewrites the store, changing nothing)
while read -r name idle; do
	cp "$FX/$name.json" "$T/$name.json"
	chmod 600 "$T/$name.json"
	run 0 esimctl --store "$T/$name.json" --json list
	# byte for byte, but for the full_id members added with the longer profile ids
	sed 's/,"full_id":"[0-9a-f]*"//g' "$OUT" >"$T/$name.stripped"
	check "$name: list --json is the document the old version printed (plus full_id)" \
		cmp -s "$T/$name.stripped" "$FX/$name.list.json"
	check "$name: each full_id is the old id" \
		test "$(jq -c '[.profiles[] | select(.full_id != .id)]' "$OUT")" = "[]"
	[ -s "$ERR" ] && sed 's/^/#   /' "$ERR"
	run 0 esimctl --store "$T/$name.json" list
	if [ "$idle" != - ]; then
		run 0 esimctl --store "$T/$name.json" release --device "$idle" --all
		out_has "nothing to release"
		check "$name: rewritten byte for byte" cmp -s "$T/$name.json" "$FX/$name.json"
	fi
done <<'LIST'
empty -
family cafe.phone
lost tablet
notifications spare
LIST

# The same stores re-laid out by another JSON tool (any whitespace, any key order, \u
# escapes) load to the same document.
for name in family notifications; do
	jq -S --ascii-output . "$FX/$name.json" >"$T/$name.pretty.json"
	chmod 600 "$T/$name.pretty.json"
	run 0 esimctl --store "$T/$name.pretty.json" --json list
	sed 's/,"full_id":"[0-9a-f]*"//g' "$OUT" >"$T/$name.stripped"
	check "$name: re-laid-out store gives the same list --json" cmp -s "$T/$name.stripped" "$FX/$name.list.json"
done
finish
