#!/usr/bin/env bash
# Regenerate the fuzzing test identity with the openssl command line tool.
#
# TEST-ONLY key material: these keys are published in the source tree and protect
# nothing.  They give the fuzz harnesses (tests/fuzz/fuzz_soft_apdu.c, fuzz_bpp.c) and
# tests/unit/test_fuzz_regress.c a fixed, reproducible PKI shaped like SGP.26 on P-256:
#
#   test-only-ci          CI: self-signed, CA, SKI, policy 2.23.146.1.2.1.0
#   test-only-eum         EUM: signed by the CI, nameConstraints serialNumber=89049032
#   test-only-euicc       eUICC: signed by the EUM, serialNumber = the EID below
#   test-only-dpauth      SM-DP+ authentication: signed by the CI, policy ...1.4, RID 2.999.10
#   test-only-dppb        SM-DP+ profile binding: signed by the CI, policy ...1.5, RID 2.999.10
#
# Usage: tests/fuzz/identity/mkidentity.sh   (rewrites the *.pem files next to it; the
# CI and EUM keys are thrown away after signing)
# Changing the identity changes what the committed corpora and reproducers mean for
# fuzz_bpp; rerun scripts/fuzz.sh afterwards.
set -euo pipefail
cd "$(dirname "$0")"

EID=89049032123451234512345678901235
DAYS=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/ext.cnf" <<CNF
[ci]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
certificatePolicies = critical,2.23.146.1.2.1.0
[eum]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = critical,2.23.146.1.2.1.2
nameConstraints = critical,permitted;dirName:nc_dn
[nc_dn]
serialNumber = 89049032
[euicc]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = critical,2.23.146.1.2.1.1
[dpauth]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = critical,2.23.146.1.2.1.4
subjectAltName = RID:2.999.10
[dppb]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = critical,2.23.146.1.2.1.5
subjectAltName = RID:2.999.10
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "test-only-$1.key.pem"; }
csr() { openssl req -new -key "test-only-$1.key.pem" -subj "$2" -out "$tmp/$1.csr"; }

for n in ci eum euicc dpauth dppb; do key "$n"; done
openssl req -new -x509 -key test-only-ci.key.pem -subj "/C=ES/O=esimctl FUZZ TEST ONLY/CN=Fuzz Test CI" \
	-days $DAYS -set_serial 1 -config "$tmp/ext.cnf" -extensions ci -out test-only-ci.cert.pem
sign() { # name issuer serial
	openssl x509 -req -in "$tmp/$1.csr" -CA "test-only-$2.cert.pem" -CAkey "test-only-$2.key.pem" \
		-set_serial "$3" -days $DAYS -sha256 -extfile "$tmp/ext.cnf" -extensions "$1" \
		-out "test-only-$1.cert.pem" 2>/dev/null
}
csr eum "/C=ES/O=esimctl FUZZ TEST ONLY/CN=Fuzz Test EUM"
sign eum ci 2
csr euicc "/C=ES/O=esimctl FUZZ TEST ONLY/serialNumber=$EID/CN=Fuzz Test eUICC"
sign euicc eum 3
csr dpauth "/C=ES/O=esimctl FUZZ TEST ONLY/CN=Fuzz Test SM-DP+"
sign dpauth ci 4
csr dppb "/C=ES/O=esimctl FUZZ TEST ONLY/CN=Fuzz Test SM-DP+"
sign dppb ci 5
# The CI and EUM keys only sign the certificates above: not kept.
rm -f test-only-ci.key.pem test-only-eum.key.pem
echo "$EID" >eid.txt
ls -l test-only-*.pem
