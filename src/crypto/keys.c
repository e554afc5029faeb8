/*
 * keys.c - EC curves, private keys and ECDSA signatures with raw r||s
 *
 * Part of src/crypto: SGP.22 cryptography over OpenSSL 3 libcrypto (rspcrypto.h).  Only
 * EVP and X509/ASN1 APIs are used, none of the deprecated EC_KEY ones.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "esimctl/der.h"
#include "crypto/crypto_internal.h"

int crypto_fail(struct esim_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[160];

	ERR_clear_error();
	if (e) {
		ERR_error_string_n(e, detail, sizeof(detail));
		return esim_fail(err, ESIM_E_OTHER, "%s: %s", what, detail);
	}
	return esim_fail(err, ESIM_E_OTHER, "%s", what);
}

/* ---- curves ---- */

enum rsp_curve pkey_curve(const EVP_PKEY *pkey)
{
	char name[64];
	size_t nlen = 0;

	if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
		return RSP_CURVE_UNKNOWN;
	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), &nlen)) {
		ERR_clear_error();
		return RSP_CURVE_UNKNOWN;
	}
	if (strcmp(name, SN_X9_62_prime256v1) == 0 || strcmp(name, "P-256") == 0)
		return RSP_CURVE_P256;
	if (strcmp(name, SN_brainpoolP256r1) == 0)
		return RSP_CURVE_BRP256;
	return RSP_CURVE_UNKNOWN;
}

const char *curve_group_name(enum rsp_curve c)
{
	switch (c) {
	case RSP_CURVE_P256:
		return SN_X9_62_prime256v1;
	case RSP_CURVE_BRP256:
		return SN_brainpoolP256r1;
	default:
		return NULL;
	}
}

int starts_with_pem(const uint8_t *data, size_t len)
{
	static const char tag[] = "-----BEGIN";
	size_t i = 0;

	/* Tolerate leading whitespace (a file that starts with a blank line). */
	while (i < len && isspace(data[i]))
		i++;
	return len - i >= sizeof(tag) - 1 && memcmp(data + i, tag, sizeof(tag) - 1) == 0;
}

/* Never prompt for a passphrase on the terminal: encrypted keys simply fail to load. */
int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* ---- EC private keys ---- */

int rsp_key_load(const uint8_t *data, size_t len, struct rsp_key **out, struct esim_err *err)
{
	EVP_PKEY *pkey = NULL;
	enum rsp_curve curve;

	*out = NULL;
	if (!data || len == 0 || len > INT_MAX)
		return esim_fail(err, ESIM_E_OTHER, "cannot load private key: empty or too large");
	if (starts_with_pem(data, len)) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		if (bio)
			pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	} else {
		const unsigned char *p = data;

		pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
		if (pkey && p != data + len) {
			EVP_PKEY_free(pkey);
			ERR_clear_error();
			return esim_fail(err, ESIM_E_OTHER, "cannot load private key: trailing data");
		}
	}
	if (!pkey)
		return crypto_fail(err, "cannot load private key");
	ERR_clear_error();
	curve = pkey_curve(pkey);
	if (curve == RSP_CURVE_UNKNOWN) {
		EVP_PKEY_free(pkey);
		return esim_fail(err, ESIM_E_OTHER,
				 "private key is not on prime256v1 or brainpoolP256r1");
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pkey;
	(*out)->curve = curve;
	return 0;
}

void rsp_key_free(struct rsp_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);     /* OpenSSL clears the private scalar (BN_clear_free) */
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

enum rsp_curve rsp_key_curve(const struct rsp_key *k)
{
	return k ? k->curve : RSP_CURVE_UNKNOWN;
}

int rsp_key_to_pem(const struct rsp_key *k, struct buf *out, struct esim_err *err)
{
	BIO *bio;
	char *data = NULL;
	long n;
	int ret = -1;

	if (!k)
		return esim_fail(err, ESIM_E_OTHER, "no private key");
	/* A secure-memory BIO clears its buffer when freed. */
	bio = BIO_new(BIO_s_secmem());
	if (!bio)
		return crypto_fail(err, "cannot serialise private key");
	if (!PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) {
		crypto_fail(err, "cannot serialise private key");
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || !data) {
		crypto_fail(err, "cannot serialise private key");
		goto out;
	}
	buf_add(out, data, (size_t)n);
	OPENSSL_cleanse(data, (size_t)n);
	ret = 0;
out:
	BIO_free(bio);
	return ret;
}

/* DER ECDSA-Sig-Value -> raw r||s, each left-padded to 32 bytes (BSI TR-03111 plain format). */
static int sig_der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[RSP_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r = NULL, *ss = NULL;
	int ret = -1;

	if (!s)
		return -1;
	ECDSA_SIG_get0(s, &r, &ss);
	if (p == der + der_len &&
	    BN_bn2binpad(r, raw, RSP_FIELD_LEN) == RSP_FIELD_LEN &&
	    BN_bn2binpad(ss, raw + RSP_FIELD_LEN, RSP_FIELD_LEN) == RSP_FIELD_LEN)
		ret = 0;
	ECDSA_SIG_free(s);
	return ret;
}

/* Raw r||s -> DER ECDSA-Sig-Value; *der is OPENSSL_malloc'ed. */
int sig_raw_to_der(const uint8_t raw[RSP_SIG_LEN], unsigned char **der, size_t *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, RSP_FIELD_LEN, NULL);
	BIGNUM *ss = BN_bin2bn(raw + RSP_FIELD_LEN, RSP_FIELD_LEN, NULL);
	int n;

	*der = NULL;
	if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return -1;
	}
	n = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -1;
	*der_len = (size_t)n;
	return 0;
}

int rsp_sign(const struct rsp_key *k, const uint8_t *msg, size_t len, uint8_t sig[RSP_SIG_LEN],
	     struct esim_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int ret = -1;

	if (!k)
		return esim_fail(err, ESIM_E_OTHER, "no private key");
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &der_len, msg, len) != 1) {
		crypto_fail(err, "cannot sign");
		goto out;
	}
	der = OPENSSL_malloc(der_len);
	if (!der || EVP_DigestSign(ctx, der, &der_len, msg, len) != 1) {
		crypto_fail(err, "cannot sign");
		goto out;
	}
	if (sig_der_to_raw(der, der_len, sig) < 0) {
		crypto_fail(err, "cannot convert signature to r||s");
		goto out;
	}
	ret = 0;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ret;
}
