#!/bin/sh
# qrdecode.sh FILE - print the payload of the one QR code in FILE (PNG or SVG) exactly.
#
# zbarimg --raw -Sbinary writes the symbol data exactly as decoded: no charset
# guessing and, unlike plain --raw, no newline after it (checked with zbar 0.23.92:
# a payload "AB\n\n" comes out as the 4 bytes A B \n \n).  So nothing is stripped.
# An SVG is rasterised with rsvg-convert first.
# Exit status: 0 decoded, 1 nothing decoded, 2 usage or missing tool.
set -eu

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: qrdecode.sh FILE.png|FILE.svg" >&2
	exit 2
fi
command -v zbarimg >/dev/null 2>&1 || { echo "qrdecode.sh: zbarimg not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

img=$1
case $img in -*) img=./$img ;; esac
case $img in
*.svg|*.SVG)
	command -v rsvg-convert >/dev/null 2>&1 ||
		{ echo "qrdecode.sh: rsvg-convert not found" >&2; exit 2; }
	# About 1200 px per side: several px per module even for a version 40 code.
	rsvg-convert --format=png --keep-aspect-ratio --width=1200 \
		--background-color=white -o "$tmp/img.png" "$img"
	img=$tmp/img.png
	;;
esac

# Without a D-Bus daemon, zbarimg built with D-Bus support complains on stderr.
nodbus=
if zbarimg --help 2>&1 | grep -q -e --nodbus; then
	nodbus=--nodbus
fi

if ! zbarimg $nodbus --raw -q -Sbinary "$img" >"$tmp/out"; then
	echo "qrdecode.sh: no QR code found in '$1'" >&2
	exit 1
fi
cat "$tmp/out"
