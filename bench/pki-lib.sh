# pki-lib.sh - sourced by bench/download.sh and bench/apdus.sh: one test PKI (P-256) in
# $W/pki from tests/smdp/mkpki.py.  Sets man (its manifest), CI (the CI certificate, also
# ESIMCTL_CA_FILE) and EID, and defines pki JQPATH (the path of one of its files).
"$PY" tests/smdp/mkpki.py "$W/pki" --curve nist >"$W/mkpki.log" 2>&1 || {
	cat "$W/mkpki.log" >&2
	exit 1
}
man=$W/pki/manifest.json
pki() { echo "$W/pki/$(jq -r "$1" "$man")"; }
CI=$(pki .ci.cert_pem)
EID=$(jq -r .euicc.eid "$man")
export ESIMCTL_CA_FILE=$CI
