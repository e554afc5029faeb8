#!/usr/bin/env bash
# t1210-trust.sh - what esimctl trusts for SM-DP+ TLS (docs/trust.md): the built-in
# ES9+ bundle and --ca, never the system store unless asked (--trust-system-ca,
# ESIMCTL_TRUST_SYSTEM_CA=1), and never a server certificate without a subjectAltName
# DNS name.
#
# The system store is replaced for one command at a time inside a private mount
# namespace (unshare -m, then a bind mount of a bundle over the system bundle): nothing
# on the machine changes.  Without unshare the file is skipped (77).
. "$(dirname "$0")/sgp22-lib.sh"
sgp_require

SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt
if ! command -v unshare >/dev/null 2>&1 || [ ! -f "$SYS_BUNDLE" ] ||
	! unshare -m sh -c "mount --bind /dev/null $SYS_BUNDLE" 2>/dev/null; then
	echo "# skipped: no private mount namespace (unshare -m with a bind mount over $SYS_BUNDLE)"
	exit 77
fi

sgp_pki nist
printf '[%s,%s,%s]\n' "$(order_json MATCH-1 8949449999999990049)" "$(order_json MATCH-2 8949449999999990056)" \
	"$(order_json MATCH-3 8949449999999990064)" >"$ORDERS"
sgp_device phone

# ---- the built-in bundle is the one docs/trust.md documents ----

fp_file() {
	local f=$1 n i
	n=$(grep -c 'BEGIN CERTIFICATE' "$f")
	for ((i = 1; i <= n; i++)); do
		awk -v want="$i" '/BEGIN CERTIFICATE/ {k++} k == want {print} /END CERTIFICATE/ && k == want {exit}' "$f" |
			openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'
	done
}
fp_file "$ESIMCTL_SRC/data/es9p-trust.pem" >"$T/fp.data"
grep -o '`[0-9A-F]\{2\}\(:[0-9A-F]\{2\}\)\{31\}`' "$ESIMCTL_SRC/docs/trust.md" | tr -d '`' >"$T/fp.docs"
if [ -s "$T/fp.data" ] && cmp -s "$T/fp.data" "$T/fp.docs"; then
	ok "data/es9p-trust.pem holds exactly the $(wc -l <"$T/fp.data") certificates of docs/trust.md, in order"
else
	nok "data/es9p-trust.pem and docs/trust.md differ"
	diff "$T/fp.data" "$T/fp.docs" | sed 's/^/#   /'
fi
check "no SGP.26 test CI in the built-in bundle" \
	bash -c "! grep -q -i 'test' <(openssl crl2pkcs7 -nocrl -certfile '$ESIMCTL_SRC/data/es9p-trust.pem' | openssl pkcs7 -print_certs -noout)"

# ---- a private CA, known only to a private system bundle ----

# The private CA issues a proper SM-DP+ TLS certificate for the test host (SAN DNS).
mkdir -p "$T/priv"
(
	cd "$T/priv" || exit 1
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -x509 -new -key ca.key -subj "/O=Corp/CN=Corp TLS Inspection Root" -days 30 -out ca.pem \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" &&
		openssl ecparam -name prime256v1 -genkey -noout -out srv.key &&
		openssl req -new -key srv.key -subj "/CN=$SGP_HOST" -out srv.csr &&
		printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' \
			"$SGP_HOST" >leaf.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
			-extfile leaf.ext -out srv.pem &&
		cat "$SYS_BUNDLE" ca.pem >bundle.crt
) >"$T/priv.log" 2>&1 || {
	sed 's/^/#   /' "$T/priv.log"
	sgp_abort "private CA not created"
}
ok "private CA and its SM-DP+ TLS certificate created (openssl CLI)"

# in_ns CMD...: CMD with the private bundle bind-mounted over the system bundle.
in_ns() {
	unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' in_ns "$T/priv/bundle.crt" "$SYS_BUNDLE" \
		timeout -k 5 "$SGP_GUARD" "$@"
}

check "inside the namespace the system bundle holds the private CA" \
	in_ns sh -c "grep -q \"\$(sed -n 2p '$T/priv/ca.pem')\" $SYS_BUNDLE"
check "outside it, the machine's bundle is unchanged" \
	bash -c "! grep -q \"\$(sed -n 2p '$T/priv/ca.pem')\" $SYS_BUNDLE"

srv_start --tls-cert "$T/priv/srv.pem" --tls-key "$T/priv/srv.key"

# refused WHAT ARGS...: exit 7 at the first request, the store and the card unchanged.
REFUSED_MSG="unable to get local issuer certificate"
refused() {
	local what=$1 before
	shift
	before=$(esim --json euicc info --device phone | jq -c '.euicc.profiles')
	store_save
	log_mark
	run 7 "$@"
	one_json
	json_eq '.error.name' '"network"'
	err_has "$REFUSED_MSG"
	json_eq '.download.requests' 1
	store_same
	euicc_is phone '.profiles' "$before"
	log_is "$what: no ES9+ request reached the server" '.event == "request"' 0
}

echo "# --- the private CA only in the system bundle: refused"
refused "private CA in the system bundle, the CI with --ca" \
	in_ns "$ESIMCTL" --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
refused "private CA in the system bundle, no --ca" \
	in_ns "$ESIMCTL" --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
# OpenSSL's own environment variables do not add trust either.
refused "private CA in SSL_CERT_FILE and SSL_CERT_DIR" \
	env SSL_CERT_FILE="$T/priv/bundle.crt" SSL_CERT_DIR="$T/priv" CURL_CA_BUNDLE="$T/priv/bundle.crt" \
	"$ESIMCTL" --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
run 7 in_ns "$ESIMCTL" --ca "$CI_PEM" add "LPA:1\$$SMDP_ADDR\$MATCH-1" --device phone --carrier Verizon
err_has "does not chain to a trusted CA"
err_has "--trust-system-ca"

echo "# --- asked for explicitly: the system store is trusted"
log_mark
run 0 in_ns "$ESIMCTL" --trust-system-ca --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-1" \
	--device phone --carrier Verizon
json_eq '.download.installed' true
json_eq '.download.notification_sent' true
log_is "--trust-system-ca: the download went through" '.event == "request"' 4
log_mark
ESIMCTL_TRUST_SYSTEM_CA=1 run 0 in_ns "$ESIMCTL" --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-2" \
	--device phone --carrier Verizon
json_eq '.download.installed' true
log_is "ESIMCTL_TRUST_SYSTEM_CA=1: the download went through" '.event == "request"' 4
store_save
ESIMCTL_TRUST_SYSTEM_CA=yes run 2 esimctl list
err_has "ESIMCTL_TRUST_SYSTEM_CA='yes': expected 1 or 0"
ESIMCTL_TRUST_SYSTEM_CA=0 refused "ESIMCTL_TRUST_SYSTEM_CA=0" \
	in_ns "$ESIMCTL" --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-3" --device phone --carrier Verizon

# ---- the host name only in the subject CN: refused ----

# ca_leaf NAME EXT: a TLS certificate for the test host from the test CI, with EXT.
ca_leaf() {
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n%s' \
		"$2" >"$T/$1.ext"
	openssl req -new -key "$(pki_path dptls key_pem)" -subj "/O=ACME/CN=$SGP_HOST" -out "$T/$1.csr" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$CI_PEM" -CAkey "$(pki_path ci key_pem)" -set_serial "0x$RANDOM$RANDOM" \
			-days 30 -extfile "$T/$1.ext" -out "$T/$1.pem"
}
{
	ca_leaf cnonly "" &&
		ca_leaf iponly "subjectAltName=IP:127.0.0.1" &&
		ca_leaf emailonly "subjectAltName=email:ops@$SGP_HOST"
} >"$T/leaf.log" 2>&1 || {
	sed 's/^/#   /' "$T/leaf.log"
	sgp_abort "test TLS certificates not created"
}
if openssl x509 -in "$T/cnonly.pem" -noout -ext subjectAltName 2>/dev/null | grep -q .; then
	nok "the CN-only certificate has a subjectAltName"
else
	ok "the CN-only certificate names $SGP_HOST only in its subject CN"
fi
check "the CN-only certificate chains to the test CI" openssl verify -CAfile "$CI_PEM" "$T/cnonly.pem"

REFUSED_MSG="no subjectAltName DNS name"
for leaf in cnonly iponly emailonly; do
	echo "# --- TLS certificate: $leaf"
	srv_start --tls-cert "$T/$leaf.pem" --tls-key "$(pki_path dptls key_pem)"
	refused "$leaf" esim --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-3" --device phone --carrier Verizon
	json_eq '.error.hint | contains("subjectAltName")' true
	log_is "$leaf: the server saw the client reject its certificate" '.event == "tls-handshake-failed"' 1
done

echo "# --- the same CI and key with a subjectAltName DNS entry: accepted"
srv_start
log_mark
run 0 esim --ca "$CI_PEM" --json add "LPA:1\$$SMDP_ADDR\$MATCH-3" --device phone --carrier Verizon
json_eq '.download.installed' true
finish
