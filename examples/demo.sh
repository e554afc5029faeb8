#!/usr/bin/env bash
# A guided run of esimctl on a throwaway store inside the build tree (BUILD_DIR/demo-run):
# two software eUICCs (phone, laptop) and a local test SM-DP+ (tests/smdp/smdpp.py, real
# HTTPS on 127.0.0.1 with a test PKI generated here), so a real SGP.22 download happens.
# Usage: examples/demo.sh BUILD_DIR   (scripts/demo.sh builds and calls this)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build/demo}" && pwd)
esimctl="$build/esimctl"
run="$build/demo-run"
py=/usr/bin/python3
rm -rf "$run"
mkdir -p "$run"
cd "$run"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
note() { printf '\n# %s\n' "$*"; }

note "a test PKI (CI, EUM, eUICCs, SM-DP+ certificates) and a local SM-DP+ with two download orders"
"$py" "$src/tests/smdp/mkpki.py" pki --curve nist --second-euicc >/dev/null
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=testsmdpplus1.example.com
cat > orders.json <<JSON
[{"matching_id": "DEMO-PHONE-1", "iccid": "8949449999999990023", "spn": "Demo Mobile", "name": "Travel data",
  "notify": ["enable", "disable", "delete"]},
 {"matching_id": "DEMO-LAPTOP-2", "iccid": "8949449999999990031", "spn": "Demo Mobile", "name": "Travel data",
  "notify": ["enable", "disable", "delete"]}]
JSON
"$py" "$src/tests/smdp/smdpp.py" --pki pki --port "$port" --host "$host" --profiles orders.json \
	--notify-address "$host:$port" --log smdp.log >smdp.out 2>smdp.err &
smdp=$!
trap 'kill $smdp 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q READY smdp.out 2>/dev/null && break; sleep 0.1; done
grep -q READY smdp.out || { echo "demo: the test SM-DP+ did not start" >&2; cat smdp.err >&2; exit 1; }
echo "SM-DP+ https://$host:$port (TLS verified against the test CI)"

export ESIMCTL_STORE="$run/store.json" ESIMCTL_CARRIERS="$run/carriers.json"
export ESIMCTL_RESOLVE="$host:$port:127.0.0.1" ESIMCTL_CA_FILE="$run/pki/CertificateIssuer/CERT_CI_ECDSA_NIST.pem"
eid2=$("$py" -c 'import json; print(json.load(open("pki/manifest.json"))["euicc2"]["eid"])')

step "$esimctl" euicc create-soft phone-euicc.json --eid 89049032123451234512345678901235 \
	--cert pki/eUICC/CERT_EUICC_ECDSA_NIST.der --key pki/eUICC/SK_EUICC_ECDSA_NIST.pem \
	--eum pki/EUM/CERT_EUM_ECDSA_NIST.der --ci pki/CertificateIssuer/CERT_CI_ECDSA_NIST.pem
step "$esimctl" euicc create-soft laptop-euicc.json --eid "$eid2" \
	--cert pki/eUICC/CERT_EUICC2_ECDSA_NIST.der --key pki/eUICC/SK_EUICC2_ECDSA_NIST.pem \
	--eum pki/EUM/CERT_EUM_ECDSA_NIST.der --ci pki/CertificateIssuer/CERT_CI_ECDSA_NIST.pem
step "$esimctl" device add phone --kind phone --platform android --primary --euicc soft:phone-euicc.json
step "$esimctl" device add laptop --kind laptop --platform linux --euicc soft:laptop-euicc.json
step "$esimctl" device add tablet --kind tablet --platform ios
step "$esimctl" device add watch --kind watch

note "download and install a profile from the SM-DP+ (ES9+ over HTTPS, ES10 over APDUs)"
step "$esimctl" add "LPA:1\$$host:$port\$DEMO-PHONE-1" --device phone --carrier Verizon --nickname travel --data-only
step "$esimctl" euicc enable travel --device phone
step "$esimctl" euicc info --device phone
step "$esimctl" list

note "Verizon moves profiles one device at a time; eUICCs cannot hand a profile over, so the"
note "transfer deletes it on the phone (the SM-DP+ is notified) and waits for a new code"
step "$esimctl" transfer travel --to laptop --dry-run
step "$esimctl" transfer travel --to laptop
step "$esimctl" add "LPA:1\$$host:$port\$DEMO-LAPTOP-2" --device laptop --carrier Verizon --nickname travel-laptop --data-only
step "$esimctl" list

note "devices without a reachable eUICC are tracked in the store; T-Mobile lets one line live"
note "on up to 5 devices at once, AT&T moves one at a time with a 24 h cooldown"
step "$esimctl" add 'LPA:1$smdp.example.net$K2-AB12-CD34' --carrier T-Mobile --device tablet --nickname home
step "$esimctl" transfer home --to watch
step "$esimctl" add 'LPA:1$rsp.example.com$QR-G-5C-1LS-1W1Z9P7' --carrier 'AT&T' --device tablet --nickname work
step "$esimctl" transfer work --to watch
step "$esimctl" transfer work --to tablet --dry-run || echo "(exit status $?: refused by carrier policy)"
step "$esimctl" --json transfer work --to tablet --dry-run --at "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)"

note "an offline backup QR code of an activation code (it is a bearer secret: mode 0600)"
step "$esimctl" qr home --png "$run/home.png"
step "$esimctl" qr home

note "release the laptop's profile: deleted on its eUICC, delete notification sent"
step "$esimctl" release travel-laptop --device laptop
step "$esimctl" notifications list
echo
echo "store: $ESIMCTL_STORE   SM-DP+ log: $run/smdp.log   backup QR: $run/home.png"
