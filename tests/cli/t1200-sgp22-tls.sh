#!/usr/bin/env bash
# t1200-sgp22-tls.sh - the TLS side of ES9+ against the test SM-DP+: a certificate for
# another host, one from an untrusted CA (a second CI with the same name), an expired
# one, and no CA given at all each end in exit 7 naming the problem, before anything
# reaches the SM-DP+ or the eUICC; --ca (repeatable) and ESIMCTL_CA_FILE are the trust
# anchors.  The test SM-DP+ offers TLS 1.2 and 1.3: esimctl negotiates 1.2 (SGP.22
# §2.6.6), which a brainpool TLS certificate needs (OpenSSL 3.0 cannot use one in 1.3),
# and a whole download is 4 requests over 1 handshake, as the server counts them.
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

sgp_pki nist
TLS_KEY=$(pki_path dptls key_pem)
ICCID=8949449999999990023
printf '[%s]\n' "$(order_json MATCH-1 $ICCID)" >"$ORDERS"
srv_start
sgp_device phone
export ESIMCTL_CA_FILE=$CI_PEM

# tls_refused WHAT STATUS MESSAGE HINT: the download fails at the first request.
tls_refused() {
	store_save
	log_mark
	run "$2" esim --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon "${@:5}"
	one_json
	json_eq '.error.name' '"network"'
	err_has "initiateAuthentication to SM-DP+ '$SMDP_ADDR' failed"
	err_has "$3"
	[ -z "$4" ] || json_eq ".error.hint | contains(\"$4\")" true
	json_eq '.download.requests' 1
	store_same
	euicc_is phone '.profiles' '[]'
	log_is "$1: no ES9+ request reached the server" '.event == "request"' 0
}

# with_cert CERT-KEY: restart the server with another TLS certificate (same key).
with_cert() {
	echo "# --- TLS certificate: $1"
	srv_start --tls-cert "$(pki_path "$1" cert_pem)" --tls-key "$TLS_KEY"
}

with_cert wronghost_tls
tls_refused "wrong host" 7 "hostname mismatch" "the TLS certificate is not for this host"
err_has "no alternative certificate subject name matches target host name '$SGP_HOST'"

with_cert untrusted_tls
tls_refused "untrusted CA" 7 "unable to get local issuer certificate" "does not chain to a trusted CA"
log_is "the server saw the client reject its certificate" \
	'.event == "tls-handshake-failed" and (.error | test("unknown ca"; "i"))' 1

with_cert expired_tls
tls_refused "expired" 7 "certificate has expired" "has expired"
log_is "the server saw the client reject its certificate" \
	'.event == "tls-handshake-failed" and (.error | test("expired"; "i"))' 1

echo "# --- the right certificate, but no CA given"
srv_start
unset ESIMCTL_CA_FILE
tls_refused "no CA" 7 "unable to get local issuer certificate" "pass the CI of a test or private SM-DP+ with --ca"
tls_refused "only the untrusted CI" 7 "unable to get local issuer certificate" "" --ca "$(pki_path untrusted_ci cert_pem)"

echo "# --- trust anchors that work"
# --ca before the command, repeatable: the first one is useless, the second one is the CI.
log_mark
run 0 esim --ca "$(pki_path untrusted_ci cert_pem)" --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" \
	--device phone --carrier Verizon
json_eq '.download.installed' true
json_eq '.download.notification_sent' true
log_is "install notification, valid" '.event == "notification" and .type == "install" and .valid == true' 1
log_is "TLS 1.3 on offer, TLS 1.2 negotiated" '.event == "tls-handshake" and .version == "TLSv1.2"' 1
log_is "no other TLS version" '.event == "tls-handshake" and .version != "TLSv1.2"' 0
log_is "one download: 4 requests" '.event == "request"' 4
if echo | timeout 10 openssl s_client -tls1_3 -connect "127.0.0.1:$SRV_PORT" -servername "$SGP_HOST" \
	2>&1 | grep -q 'TLSv1.3'; then
	ok "the test SM-DP+ offers TLS 1.3 (openssl s_client -tls1_3)"
else
	nok "the test SM-DP+ does not offer TLS 1.3"
fi
euicc_is phone '.profiles | map(.iccid)' "[\"$ICCID\"]"
# The DER form of the CI through ESIMCTL_CA_FILE: the delete notification goes out.
log_mark
ESIMCTL_CA_FILE=$(pki_path ci cert_der) run 0 esim --json release "$ICCID" --device phone
json_eq '.notifications | map([.event, .sent])' '[["delete",true]]'
log_is "delete notification, valid" '.event == "notification" and .type == "delete" and .valid == true' 1

echo "# --- brainpool: a brainpoolP256r1 TLS certificate, the server offering TLS 1.3"
sgp_pki brp
jq -e '.tls_curve == "brp"' "$PKI/manifest.json" >/dev/null || nok "the brp PKI has a brainpool TLS key"
openssl x509 -in "$(pki_path dptls cert_pem)" -noout -text | grep -q brainpoolP256r1 &&
	ok "the TLS certificate is brainpoolP256r1" || nok "the TLS certificate is not brainpool"
printf '[%s]\n' "$(order_json MATCH-BRP 8949449999999990031)" >"$ORDERS"
srv_start
sgp_device bphone
log_mark
run 0 esim --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-BRP" --device bphone --carrier Verizon
json_eq '.download.installed' true
json_eq '.download.notification_sent' true
json_eq '.download.requests' 4
json_eq '.download.tls_connections' 1
log_is "brainpool: TLS 1.2 negotiated" '.event == "tls-handshake" and .version == "TLSv1.2"' 1
log_is "brainpool: no failed handshake" '.event == "tls-handshake-failed"' 0
log_is "brainpool: 4 requests over that one handshake" '.event == "request"' 4
euicc_is bphone '.profiles | map(.iccid)' '["8949449999999990031"]'

# An unusable CA file is a usage error, reported before any connection is made.
store_save
run 2 esim --ca "$T/no-such-ca.pem" add "LPA:1\$$SMDP_ADDR\$OTHER" --device phone --carrier Verizon
err_has "no-such-ca.pem"
store_same
finish
