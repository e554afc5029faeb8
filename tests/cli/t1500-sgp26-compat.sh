#!/usr/bin/env bash
# Compatibility with the GSMA SGP.26 test PKI and a real TS.48 test profile, when the
# shared sgp26/ folder sits beside the repository (it is never copied into it): a soft
# eUICC made from the SGP.26 eUICC/EUM/CI certificates downloads TS48V1-A-UNIQUE from the
# independent test SM-DP+ running on the SGP.26 DPauth/DPpb/DPtls certificates, the way
# osmo-smdpp serves packages (matching ID = package name), sends the install notification,
# then deletes the profile and sends the delete notification.
. "$(dirname "$0")/lib.sh"

# ESIMCTL_SGP26 names the folder; by default ../shared/sgp26 beside the source tree, where
# CI puts its copy of shared/.
SGP26=${ESIMCTL_SGP26:-$ESIMCTL_SRC/../shared/sgp26}
if [ ! -f "$SGP26/eUICC/CERT_EUICC_ECDSA_NIST.der" ] || [ ! -f "$SGP26/upp/TS48V1-A-UNIQUE.der" ]; then
	skip_all "SGP.26 files not found at $SGP26 (set ESIMCTL_SGP26 to the sgp26 folder)"
fi
PY=/usr/bin/python3
"$PY" -c 'import cryptography' 2>/dev/null || skip_all "$PY with python3-cryptography not found (Debian python3-cryptography)"
HOST=testsmdpplus1.example.com
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" "$ESIMCTL_SRC/tests/smdp/smdpp.py" --pki "$SGP26" --curve nist --port "$PORT" --host "$HOST" \
	--upp-dir "$SGP26/upp" --log "$T/smdp.log" >"$T/smdp.out" 2>"$T/smdp.err" &
SMDP=$!
trap 'kill $SMDP 2>/dev/null; rm -rf "$T"' EXIT
# until it is ready or has exited (at most 120 s: a slow machine only takes longer)
end=$((SECONDS + 120))
while ! grep -q READY "$T/smdp.out" 2>/dev/null && kill -0 "$SMDP" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
check "test SM-DP+ started on the SGP.26 certificates" grep -q READY "$T/smdp.out"

export ESIMCTL_RESOLVE="$HOST:$PORT:127.0.0.1"
CI="$SGP26/CertificateIssuer/CERT_CI_ECDSA_NIST.pem"
run 0 esimctl euicc create-soft "$T/euicc.json" --eid 89049032123451234512345678901235 \
	--cert "$SGP26/eUICC/CERT_EUICC_ECDSA_NIST.der" --key "$SGP26/eUICC/SK_EUICC_ECDSA_NIST.pem" \
	--eum "$SGP26/EUM/CERT_EUM_ECDSA_NIST.der" --ci "$CI"
run 0 esimctl device add phone --kind phone --imei 490154203237518 --euicc "soft:$T/euicc.json"
out_has "EID 89049032123451234512345678901235"

# Without the CI as a trust anchor the TLS handshake must fail (exit 7), store unchanged.
cp "$ESIMCTL_STORE" "$T/before.json"
run 7 timeout 60 "$ESIMCTL" add "LPA:1\$$HOST:$PORT\$TS48V1-A-UNIQUE" --device phone --carrier Test
check "store unchanged after the TLS failure" cmp -s "$ESIMCTL_STORE" "$T/before.json"

run 0 timeout 60 "$ESIMCTL" --ca "$CI" --json add "LPA:1\$$HOST:$PORT\$TS48V1-A-UNIQUE" --device phone --carrier Test
one_json
json_eq '.download | [.installed, .notification_sent, .requests, .tls_connections]' '[true,true,4,1]'
json_eq '.profile.iccid' '"8949449999999990023"'
ID=$(jq -r .profile.id "$OUT")

run 0 esimctl --json euicc info --device phone
json_eq '[.euicc.profiles[] | .iccid]' '["8949449999999990023"]'
json_eq '.euicc.notifications | length' 0

run 0 timeout 60 "$ESIMCTL" --ca "$CI" release "$ID" --device phone
run 0 esimctl --json euicc info --device phone
json_eq '.euicc.profiles | length' 0
run 0 esimctl --json notifications list
json_eq '.notifications | length' 0

check "the SM-DP+ verified the install notification" \
	jq -e -s 'map(select(.event == "notification" and .type == "install" and .valid == true)) | length == 1' "$T/smdp.log"
check "the SM-DP+ verified the delete notification" \
	jq -e -s 'map(select(.event == "notification" and .type == "delete" and .valid == true)) | length == 1' "$T/smdp.log"
finish
