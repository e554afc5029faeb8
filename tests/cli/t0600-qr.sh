#!/usr/bin/env bash
# qr: PNG and SVG decode to exactly the canonical activation code; files are 0600; the
# terminal rendering; option validation; output errors (exit 11).
. "$(dirname "$0")/lib.sh"

QRDECODE="$ESIMCTL_SRC/tests/cli/qrdecode.sh"
# decodes_to FILE TEXT: the QR code in FILE holds exactly TEXT (byte for byte, no newline)
decodes_to() {
	printf '%s' "$2" >"$T/want"
	if sh "$QRDECODE" "$1" >"$T/got" 2>"$T/decode.err" && cmp -s "$T/got" "$T/want"; then
		ok "$(basename "$1") decodes to '$2'"
	else
		nok "$(basename "$1") decodes to '$(cat "$T/got" 2>/dev/null)', wanted '$2'"
	fi
}
# png_size FILE: width and height from the IHDR chunk
png_size() { od -An -tu4 --endian=big -j16 -N8 "$1" | tr -s ' ' | sed 's/^ //'; }

CANON='LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7'

run 0 esimctl device add phone --kind phone
# given in upper case, stored and encoded in the canonical form (host lower-cased)
run 0 esimctl add 'lpa:1$RSP.Example.COM$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device phone --nickname travel
run 0 esimctl add 'LPA:1$SMDP.Example.NET:8443$K2-AB12-cd34$1.3.6.1.4.1.31746$1' --carrier T-Mobile --nickname work

# --- PNG ----------------------------------------------------------------------------------------
run 0 esimctl qr travel --png "$T/travel.png"
out_has "wrote $T/travel.png (PNG, 29 modules, mode 0600)"
err_has 'this QR code holds the full activation code: store it like a password'
check "PNG signature" [ "$(head -c 8 "$T/travel.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
check "PNG is 0600" [ "$(mode_of "$T/travel.png")" = 600 ]
decodes_to "$T/travel.png" "$CANON"
# 8 px per module and a 4-module quiet zone by default: (29 + 8) * 8
check "default PNG size" [ "$(png_size "$T/travel.png")" = '296 296' ]
run 0 esimctl qr travel --png "$T/small.png" --size 4 --margin 1
check "--size 4 --margin 1" [ "$(png_size "$T/small.png")" = '124 124' ]
decodes_to "$T/small.png" "$CANON"
# the OID and CC flag are kept, the matching ID keeps its case, the host does not
run 0 esimctl qr work --png "$T/work.png" --level H
decodes_to "$T/work.png" 'LPA:1$smdp.example.net:8443$K2-AB12-cd34$1.3.6.1.4.1.31746$1'
for level in L M Q H l; do
	run 0 esimctl qr 56e0c4f1 --png "$T/level-$level.png" --level $level
	decodes_to "$T/level-$level.png" "$CANON"
done
check "a higher level needs more modules" [ "$(png_size "$T/level-H.png")" != "$(png_size "$T/level-L.png")" ]
# a mode-0644 file in the way is replaced, and ends up 0600 whatever the umask
printf 'old\n' >"$T/old.png"
chmod 644 "$T/old.png"
(umask 000 && "$ESIMCTL" qr travel --png "$T/old.png" >/dev/null 2>&1)
check "replaced file is 0600" [ "$(mode_of "$T/old.png")" = 600 ]
decodes_to "$T/old.png" "$CANON"
(umask 000 && "$ESIMCTL" qr travel --png "$T/umask.png" >/dev/null 2>&1)
check "new file is 0600 under umask 000" [ "$(mode_of "$T/umask.png")" = 600 ]

# --- SVG ----------------------------------------------------------------------------------------
run 0 esimctl qr travel --svg "$T/travel.svg"
out_has "wrote $T/travel.svg (SVG, 29 modules, mode 0600)"
check "SVG is 0600" [ "$(mode_of "$T/travel.svg")" = 600 ]
check "SVG document" grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$T/travel.svg"
check "SVG size" grep -q 'width="296" height="296" viewBox="0 0 37 37"' "$T/travel.svg"
decodes_to "$T/travel.svg" "$CANON"
run 0 esimctl qr --code 'lpa:1$RSP.EXAMPLE.COM$abc-Def$1.3.6.1.4.1.31746$1' --svg "$T/code.svg" --size 2 --margin 0
decodes_to "$T/code.svg" 'LPA:1$rsp.example.com$abc-Def$1.3.6.1.4.1.31746$1'

# --- --code needs no store at all (offline) ------------------------------------------------------
printf '{ not json' >"$T/corrupt.json"
run 0 esimctl --store "$T/corrupt.json" qr --code 'LPA:1$Rsp.Example.Com$ABC-123' --png "$T/code.png"
decodes_to "$T/code.png" 'LPA:1$rsp.example.com$ABC-123'
run 3 esimctl --store "$T/corrupt.json" qr travel --png "$T/never.png"
check "no file written on error" [ ! -e "$T/never.png" ]

# --- the terminal -----------------------------------------------------------------------------
run 0 esimctl qr --code 'LPA:1$rsp.example.com$ABC-123'
err_empty
check "terminal output uses half blocks" grep -q '[▀▄█]' "$OUT"
# 29 modules + 2 x 2 quiet zone = 33 rows, two per line
check "17 lines" [ "$(wc -l <"$OUT")" = 17 ]
check "no escape sequences when not a terminal" [ "$(grep -c $'\033' "$OUT")" = 0 ]
run 0 esimctl qr --code 'LPA:1$rsp.example.com$ABC-123' --margin 0
check "15 lines without quiet zone" [ "$(wc -l <"$OUT")" = 15 ]
run 0 esimctl qr travel
check "profile on the terminal" grep -q '▀' "$OUT"
out_lacks 'QR-G-5C'
if command -v script >/dev/null 2>&1; then
	# on a terminal: black on white, so it scans on dark themes; NO_COLOR turns it off
	script -qc "$ESIMCTL qr --code 'LPA:1\$rsp.example.com\$ABC-123'" /dev/null >"$T/tty.out" </dev/null
	check "ANSI colours on a terminal" grep -q $'\033\\[30;47m' "$T/tty.out"
	NO_COLOR=1 script -qc "$ESIMCTL qr --code 'LPA:1\$rsp.example.com\$ABC-123'" /dev/null >"$T/tty.out" </dev/null
	check "NO_COLOR on a terminal" [ "$(grep -c $'\033' "$T/tty.out")" = 0 ]
fi
run 0 esimctl --json qr --code 'LPA:1$rsp.example.com$ABC-123'
one_json
json_eq '[.format, .modules, .ok]' '["terminal",29,true]'
json_eq '.text | test("▀")' true
json_eq '.text | split("\n") | length' 18

# --- JSON for files -----------------------------------------------------------------------------
run 0 esimctl --json qr travel --png "$T/j.png"
one_json
err_empty
json_eq 'keys' '["bytes","file","format","modules","ok"]'
json_eq '[.file, .format, .modules]' "[\"$T/j.png\",\"png\",29]"
json_eq '.bytes' "$(stat -c %s "$T/j.png")"
run 0 esimctl qr travel --svg "$T/j.svg" --json
json_eq '.format' '"svg"'

# --- errors -------------------------------------------------------------------------------------
run 2 esimctl qr
err_has 'esimctl: qr: missing the PROFILE (or --code CODE)'
run 2 esimctl qr travel --code 'LPA:1$rsp.example.com$ABC-123'
err_has 'give either PROFILE or --code, not both'
run 2 esimctl qr travel --png "$T/x.png" --svg "$T/x.svg"
err_has 'give either --png or --svg, not both'
run 2 esimctl qr travel --size 0
err_has "--size '0': expected a whole number from 1 to 64"
run 2 esimctl qr travel --size 65
run 2 esimctl qr travel --size 8px
run 2 esimctl qr travel --margin 17
err_has "--margin '17': expected a whole number from 0 to 16"
run 2 esimctl qr travel --margin -1
run 2 esimctl qr travel --level X
err_has "--level 'X': must be L, M, Q or H"
run 2 esimctl qr --code 'LPA:2$rsp.example.com$ABC-123'
err_has "activation code: format version '2' is not supported"
run 2 esimctl qr --code 'LPA:1$rsp.example.com$A_B' --png "$T/bad.png"
check "no file for an invalid code" [ ! -e "$T/bad.png" ]
run 5 esimctl qr nosuch --png "$T/nosuch.png"
err_has "esimctl: qr: no profile matches 'nosuch'"
check "no file for an unknown profile" [ ! -e "$T/nosuch.png" ]
run 0 esimctl add 'LPA:1$rsp.example.com$COLL-61256' --carrier Verizon
run 0 esimctl add 'LPA:1$rsp.example.com$COLL-89616' --carrier Verizon
run 2 esimctl qr 7fc9e696
err_has "'7fc9e696' matches 2 profiles: 7fc9e696c (id prefix), 7fc9e6960 (id prefix)"
# output that cannot be written: exit 11, nothing left behind
run 11 esimctl qr travel --png "$T/no/such/dir/x.png"
err_has "esimctl: qr: cannot create a temporary file for '$T/no/such/dir/x.png'"
mkdir "$T/adir"
run 11 esimctl qr travel --svg "$T/adir"
err_has "not writing '$T/adir': it is a directory; esimctl replaces only regular files"
check "no temporary file left" [ -z "$(find "$T" -maxdepth 1 -name 'adir.tmp.*')" ]
run 11 esimctl --json qr travel --png "$T/no/such/dir/x.png"
one_json
json_eq '.error | [.status, .name]' '[11,"output"]'
run 11 sh -c '"$0" qr travel >/dev/full' "$ESIMCTL"
err_has 'esimctl: cannot write output'
finish
