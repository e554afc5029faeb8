#!/usr/bin/env bash
# t0006-citations.sh - comments and docs cite SGP.22 (or ISO 7816-4, ETSI TS 102 221, RFCs)
# by section, never the private digest of SGP.22 (scripts/check-citations.sh); the check really
# fails on each form of such a citation and lets ordinary uses of the word "digest" pass.
. "$(dirname "$0")/lib.sh"

check=$ESIMCTL_SRC/scripts/check-citations.sh

run 0 "$check" "$ESIMCTL_SRC"
err_empty

# A copy of the tree; each case appends one line to one file, then restores the file.
# The cited forms are assembled at run time so that this file does not cite them itself.
root=$T/root
mkdir -p "$root"
for d in src include tests docs bench; do cp -r "$ESIMCTL_SRC/$d" "$root/$d"; done
D=digest S='§' M=SGP22'.md'
plant() { # plant WANT FILE LINE
	local want=$1 file=$2 line=$3
	cp "$root/$file" "$T/saved"
	printf '%s\n' "$line" >>"$root/$file"
	run "$want" "$check" "$root"
	[ "$want" = 1 ] && err_has "$file:"
	cp "$T/saved" "$root/$file"
}
plant 1 src/core/ids.c "/* ICCID coding ($D ${S}7.1). */"
plant 1 src/rsp/es10.c "/* segments ($D ${S} 5.5) */"
plant 1 include/esimctl/es10.h " * STORE DATA framing ($M ${S}3.2)"
plant 1 src/crypto/hash.c "	/* SGP.22 4.4 ($D 4.4) */"
plant 1 tests/unit/test_der.c "/* SGP.22 $D ${S}3.3 says so */"
plant 1 tests/smdp/smdpp.py "# BPP builder ($D section 5)"
plant 1 tests/smdp/selftest.py "    # KDF vectors (${D} sections 5.3-5.4)"
plant 1 docs/sgp22.md "The download follows the ${D}'s section 0 table."
plant 1 src/rsp/lpa.c " * written from the SGP.22 ${D^}"
# Ordinary uses of the word pass.
plant 0 tests/smdp/smdpp.py "    h = hashlib.sha256(b).${D}()"
plant 0 src/crypto/hash.c "/* a SHA-256 $D of the certificate; X509_$D() */"
plant 0 docs/sgp22.md "The message $D is 32 bytes (SGP.22 ${S}5.7.5)."
finish
