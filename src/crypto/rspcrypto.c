/*
 * rspcrypto.c - SGP.22 cryptography over OpenSSL 3 libcrypto (see rspcrypto.h).
 *
 * Only EVP and X509/ASN1 APIs are used, none of the deprecated EC_KEY ones.  Sections
 * cited as "digest §x" refer to docs/SGP22.md.
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
#include "crypto/rspcrypto.h"

struct rsp_key {
	EVP_PKEY *pkey;
	enum rsp_curve curve;
};

struct rsp_cert {
	X509 *x509;
	uint8_t *der;
	size_t der_len;
};

/* SGP.22 ErrorReason values used by bsp_unprotect (digest §5.6). */
enum {
	BSP_REASON_STRUCTURE = 7,       /* scp03tStructureError */
	BSP_REASON_SECURITY = 8,        /* scp03tSecurityError */
};

#define BSP_MAX_SEGMENT 1020            /* tag + length + C + MAC (digest §5.4) */
#define BSP_MAC_LEN 8
#define RSP_FIELD_LEN 32

/* Append the first queued OpenSSL error, if any, to a message, and clear the queue. */
static int crypto_fail(struct esim_err *err, const char *what)
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

/* ---- hashing, randomness, encodings ---- */

void rsp_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL)) {
		/* SHA-256 from the default provider does not fail; never return stale bytes. */
		memset(out, 0, 32);
		ERR_clear_error();
	}
}

int rsp_random(uint8_t *out, size_t len, struct esim_err *err)
{
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(out, n) != 1)
			return crypto_fail(err, "cannot get random bytes");
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

void rsp_hash_cc(const char *cc, const uint8_t *txid, size_t txid_len, uint8_t out[32])
{
	uint8_t tmp[32 + 255];
	size_t n;

	/* SGP.22 4.4 (digest §4.4): SHA-256(SHA-256(cc) || transactionId). */
	rsp_sha256(cc ? cc : "", cc ? strlen(cc) : 0, tmp);
	if (txid_len <= sizeof(tmp) - 32) {
		memcpy(tmp + 32, txid, txid_len);
		n = 32 + txid_len;
		rsp_sha256(tmp, n, out);
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned int olen = 32;

		if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(ctx, tmp, 32) || !EVP_DigestUpdate(ctx, txid, txid_len) ||
		    !EVP_DigestFinal_ex(ctx, out, &olen)) {
			memset(out, 0, 32);
			ERR_clear_error();
		}
		EVP_MD_CTX_free(ctx);
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
}

void base64_encode(const uint8_t *in, size_t len, struct buf *out)
{
	/* EVP_EncodeBlock takes an int length: feed it in chunks that are multiples of 3. */
	const size_t chunk = 3 * 1024 * 1024;

	do {
		size_t n = len > chunk ? chunk : len;
		size_t olen = 4 * ((n + 2) / 3);
		int w;

		buf_grow(out, olen);
		w = EVP_EncodeBlock((unsigned char *)out->buf + out->len, in, (int)n);
		out->len += (size_t)(w > 0 ? w : 0);
		out->buf[out->len] = '\0';
		in += n;
		len -= n;
	} while (len > 0);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int base64_decode(const char *in, size_t len, struct buf *out)
{
	size_t start = out->len, i, n = 0, pad = 0;
	unsigned char q[4];
	int bad = 0;

	if (!in && len)
		return -1;
	/* First pass: validate and count, so out is untouched on error. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_b64_space(c))
			continue;
		if (c == '=') {
			pad++;
			n++;
			continue;
		}
		if (pad || b64val(c) < 0) {     /* data after '=' or outside the alphabet */
			bad = 1;
			break;
		}
		n++;
	}
	if (bad || n % 4 != 0 || pad > 2)
		return -1;

	buf_grow(out, n / 4 * 3);
	n = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_b64_space(c))
			continue;
		q[n++] = c;
		if (n < 4)
			continue;
		n = 0;
		{
			int a = b64val(q[0]), b = b64val(q[1]);
			int c2 = q[2] == '=' ? 0 : b64val(q[2]);
			int d = q[3] == '=' ? 0 : b64val(q[3]);
			uint32_t v;

			/* '=' can only be in the last two places, and "x=y" is not padding. */
			if (a < 0 || b < 0 || (q[2] == '=' && q[3] != '=')) {
				out->len = start;
				out->buf[out->len] = '\0';
				return -1;
			}
			v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c2 << 6) | (uint32_t)d;
			out->buf[out->len++] = (char)(v >> 16);
			if (q[2] != '=')
				out->buf[out->len++] = (char)(v >> 8);
			if (q[3] != '=')
				out->buf[out->len++] = (char)v;
		}
	}
	out->buf[out->len] = '\0';
	return 0;
}

/* ---- curves ---- */

static enum rsp_curve pkey_curve(const EVP_PKEY *pkey)
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

static const char *curve_group_name(enum rsp_curve c)
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

static int starts_with_pem(const uint8_t *data, size_t len)
{
	static const char tag[] = "-----BEGIN";
	size_t i = 0;

	/* Tolerate leading whitespace (a file that starts with a blank line). */
	while (i < len && isspace(data[i]))
		i++;
	return len - i >= sizeof(tag) - 1 && memcmp(data + i, tag, sizeof(tag) - 1) == 0;
}

/* Never prompt for a passphrase on the terminal: encrypted keys simply fail to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
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

/* DER ECDSA-Sig-Value -> raw r||s, each left-padded to 32 bytes (digest §4.2). */
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
static int sig_raw_to_der(const uint8_t raw[RSP_SIG_LEN], unsigned char **der, size_t *der_len)
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

/* ---- certificates ---- */

int rsp_cert_load(const uint8_t *data, size_t len, struct rsp_cert **out, struct esim_err *err)
{
	X509 *x = NULL;
	struct rsp_cert *c;
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	if (!data || len == 0 || len > INT_MAX)
		return esim_fail(err, ESIM_E_OTHER, "cannot load certificate: empty or too large");
	if (starts_with_pem(data, len)) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		if (bio)
			x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	} else {
		const unsigned char *p = data;

		x = d2i_X509(NULL, &p, (long)len);
		if (x && p != data + len) {
			X509_free(x);
			ERR_clear_error();
			return esim_fail(err, ESIM_E_OTHER, "cannot load certificate: trailing data");
		}
	}
	if (!x)
		return crypto_fail(err, "cannot load certificate");
	ERR_clear_error();
	n = i2d_X509(x, &der);
	if (n <= 0) {
		X509_free(x);
		return crypto_fail(err, "cannot encode certificate");
	}
	c = xcalloc(1, sizeof(*c));
	c->x509 = x;
	/* Keep the received bytes for DER input: signatures travel over exactly those. */
	if (starts_with_pem(data, len)) {
		c->der_len = (size_t)n;
		c->der = xmalloc(c->der_len);
		memcpy(c->der, der, c->der_len);
	} else {
		c->der_len = len;
		c->der = xmalloc(len);
		memcpy(c->der, data, len);
	}
	OPENSSL_free(der);
	*out = c;
	return 0;
}

void rsp_cert_free(struct rsp_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	free(c->der);
	free(c);
}

void rsp_cert_der(const struct rsp_cert *c, const uint8_t **der, size_t *len)
{
	*der = c ? c->der : NULL;
	*len = c ? c->der_len : 0;
}

enum rsp_curve rsp_cert_curve(const struct rsp_cert *c)
{
	return c ? pkey_curve(X509_get0_pubkey(c->x509)) : RSP_CURVE_UNKNOWN;
}

static int pkey_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[RSP_SIG_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int ok = 0;

	if (!pkey || pkey_curve(pkey) == RSP_CURVE_UNKNOWN)
		return 0;
	if (sig_raw_to_der(sig, &der, &der_len) < 0)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, der, der_len, msg, len) == 1)
		ok = 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

int rsp_cert_verify(const struct rsp_cert *c, const uint8_t *msg, size_t len,
		    const uint8_t sig[RSP_SIG_LEN])
{
	if (!c || !sig || (!msg && len))
		return 0;
	return pkey_verify(X509_get0_pubkey(c->x509), msg, len, sig);
}

int rsp_cert_signed_by(const struct rsp_cert *child, const struct rsp_cert *issuer)
{
	const ASN1_OCTET_STRING *aki, *ski;
	EVP_PKEY *ipub;
	int ok;

	if (!child || !issuer)
		return 0;
	ipub = X509_get0_pubkey(issuer->x509);
	if (!ipub)
		return 0;
	ok = X509_verify(child->x509, ipub) == 1;
	ERR_clear_error();
	if (!ok)
		return 0;
	aki = X509_get0_authority_key_id(child->x509);
	ski = X509_get0_subject_key_id(issuer->x509);
	if (aki && ski && ASN1_OCTET_STRING_cmp(aki, ski) != 0)
		return 0;
	return 1;
}

static int copy_octets(const ASN1_OCTET_STRING *os, uint8_t *out, size_t outsz)
{
	int n;

	if (!os)
		return -1;
	n = ASN1_STRING_length(os);
	if (n < 0 || (size_t)n > outsz)
		return -1;
	if (n)
		memcpy(out, ASN1_STRING_get0_data(os), (size_t)n);
	return n;
}

int rsp_cert_ski(const struct rsp_cert *c, uint8_t *out, size_t outsz)
{
	return c ? copy_octets(X509_get0_subject_key_id(c->x509), out, outsz) : -1;
}

int rsp_cert_aki(const struct rsp_cert *c, uint8_t *out, size_t outsz)
{
	return c ? copy_octets(X509_get0_authority_key_id(c->x509), out, outsz) : -1;
}

int rsp_cert_has_policy(const struct rsp_cert *c, const char *oid)
{
	CERTIFICATEPOLICIES *pols;
	ASN1_OBJECT *want;
	int found = 0;

	if (!c || !oid)
		return 0;
	want = OBJ_txt2obj(oid, 1);
	if (!want) {
		ERR_clear_error();
		return 0;
	}
	pols = X509_get_ext_d2i(c->x509, NID_certificate_policies, NULL, NULL);
	for (int i = 0; pols && i < sk_POLICYINFO_num(pols); i++) {
		const POLICYINFO *pi = sk_POLICYINFO_value(pols, i);

		if (pi && pi->policyid && OBJ_cmp(pi->policyid, want) == 0) {
			found = 1;
			break;
		}
	}
	CERTIFICATEPOLICIES_free(pols);
	ASN1_OBJECT_free(want);
	ERR_clear_error();
	return found;
}

int rsp_cert_san_rid(const struct rsp_cert *c, char *out, size_t outsz)
{
	GENERAL_NAMES *names;
	int ret = -1;

	if (!c || !out || outsz == 0 || outsz > INT_MAX)
		return -1;
	names = X509_get_ext_d2i(c->x509, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		int n;

		if (!gn || gn->type != GEN_RID)
			continue;
		n = OBJ_obj2txt(out, (int)outsz, gn->d.registeredID, 1);
		if (n > 0 && (size_t)n < outsz)
			ret = 0;
		break;
	}
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	if (ret < 0)
		out[0] = '\0';
	return ret;
}

/* Copy an ASN1_STRING as a C string; refuses embedded NULs and truncation. */
static int copy_text(const ASN1_STRING *s, char *out, size_t outsz)
{
	int n;
	const unsigned char *d;

	if (!s || !out || outsz == 0)
		return -1;
	n = ASN1_STRING_length(s);
	d = ASN1_STRING_get0_data(s);
	if (n < 0 || (size_t)n >= outsz || (n && memchr(d, '\0', (size_t)n)))
		return -1;
	if (n)
		memcpy(out, d, (size_t)n);
	out[n] = '\0';
	return 0;
}

static const ASN1_STRING *name_serial(const X509_NAME *name)
{
	int idx;
	const X509_NAME_ENTRY *e;

	if (!name)
		return NULL;
	idx = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
	if (idx < 0)
		return NULL;
	e = X509_NAME_get_entry(name, idx);
	return e ? X509_NAME_ENTRY_get_data(e) : NULL;
}

int rsp_cert_subject_serial(const struct rsp_cert *c, char *out, size_t outsz)
{
	if (out && outsz)
		out[0] = '\0';
	if (!c)
		return -1;
	return copy_text(name_serial(X509_get_subject_name(c->x509)), out, outsz);
}

/* 1 when the non-empty prefix (length n) begins eid. */
static int eid_has_prefix(const char *eid, const unsigned char *prefix, int n)
{
	size_t elen = strlen(eid);

	return n > 0 && (size_t)n <= elen && memcmp(eid, prefix, (size_t)n) == 0;
}

/*
 * Walk serialNumber attributes of DirectoryName subtrees.  Returns the number of
 * serialNumber constraints seen; *match is set when one is a prefix of eid.
 */
static int subtrees_match(const STACK_OF(GENERAL_SUBTREE) *trees, const char *eid, int *match)
{
	int seen = 0;

	for (int i = 0; trees && i < sk_GENERAL_SUBTREE_num(trees); i++) {
		const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(trees, i);
		const X509_NAME *dn;
		int idx = -1;

		if (!st || !st->base || st->base->type != GEN_DIRNAME)
			continue;
		dn = st->base->d.directoryName;
		while ((idx = X509_NAME_get_index_by_NID(dn, NID_serialNumber, idx)) >= 0) {
			const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(dn, idx));

			seen++;
			if (s && eid_has_prefix(eid, ASN1_STRING_get0_data(s), ASN1_STRING_length(s)))
				*match = 1;
		}
	}
	return seen;
}

/* OID of the SGP.22 permittedEins extension (digest §4.3). */
#define OID_PERMITTED_EINS "2.23.146.1.2.2.0"

int rsp_cert_eum_permits(const struct rsp_cert *eum, const char *eid)
{
	NAME_CONSTRAINTS *nc = NULL;
	ASN1_OBJECT *eins_oid = NULL;
	STACK_OF(ASN1_TYPE) *eins = NULL;
	int crit = 0, idx, constrained = 0, permitted = 0, excluded = 0, ret = 0;

	if (!eum || !eid || !*eid)
		return 0;

	/* SGP.26 form: nameConstraints permitted DirectoryName with serialNumber=<prefix>. */
	nc = X509_get_ext_d2i(eum->x509, NID_name_constraints, &crit, NULL);
	if (!nc && crit != -1)
		goto out;       /* present but undecodable, or duplicated: fail closed */
	if (nc) {
		if (subtrees_match(nc->permittedSubtrees, eid, &permitted) > 0)
			constrained = 1;
		subtrees_match(nc->excludedSubtrees, eid, &excluded);
	}

	/* Extension permittedEins ::= SEQUENCE OF PrintableString. */
	eins_oid = OBJ_txt2obj(OID_PERMITTED_EINS, 1);
	if (!eins_oid)
		goto out;
	idx = X509_get_ext_by_OBJ(eum->x509, eins_oid, -1);
	if (idx >= 0) {
		X509_EXTENSION *ext = X509_get_ext(eum->x509, idx);
		const ASN1_OCTET_STRING *os = ext ? X509_EXTENSION_get_data(ext) : NULL;
		const unsigned char *p;
		long plen;

		if (X509_get_ext_by_OBJ(eum->x509, eins_oid, idx) >= 0 || !os)
			goto out;       /* duplicated or empty */
		p = ASN1_STRING_get0_data(os);
		plen = ASN1_STRING_length(os);
		eins = d2i_ASN1_SEQUENCE_ANY(NULL, &p, plen);
		if (!eins || p != ASN1_STRING_get0_data(os) + plen)
			goto out;
		constrained = 1;
		for (int i = 0; i < sk_ASN1_TYPE_num(eins); i++) {
			const ASN1_TYPE *t = sk_ASN1_TYPE_value(eins, i);

			if (!t || t->type != V_ASN1_PRINTABLESTRING)
				goto out;
			if (eid_has_prefix(eid, ASN1_STRING_get0_data(t->value.printablestring),
					   ASN1_STRING_length(t->value.printablestring)))
				permitted = 1;
		}
	}

	if (excluded)
		ret = 0;
	else
		ret = constrained ? permitted : 1;
out:
	sk_ASN1_TYPE_pop_free(eins, ASN1_TYPE_free);
	ASN1_OBJECT_free(eins_oid);
	NAME_CONSTRAINTS_free(nc);
	ERR_clear_error();
	return ret;
}

int rsp_cert_valid_at(const struct rsp_cert *c, int64_t now)
{
	time_t t = (time_t)now;
	const ASN1_TIME *nb, *na;
	int r;

	if (!c || (int64_t)t != now)
		return 0;
	nb = X509_get0_notBefore(c->x509);
	na = X509_get0_notAfter(c->x509);
	if (!nb || !na)
		return 0;
	/* ASN1_TIME_cmp_time_t: -1 before, 0 equal, 1 after, -2 error. */
	r = ASN1_TIME_cmp_time_t(nb, t);
	if (r != -1 && r != 0)
		return 0;
	r = ASN1_TIME_cmp_time_t(na, t);
	if (r != 1 && r != 0)
		return 0;
	return 1;
}

/* ---- ECKA and KDF (digest §5.3) ---- */

int rsp_key_public(const struct rsp_key *k, uint8_t pub[RSP_PUB_LEN], struct esim_err *err)
{
	size_t n = 0;

	if (!k)
		return esim_fail(err, ESIM_E_OTHER, "no private key");
	if (!EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
					     RSP_PUB_LEN, &n) ||
	    n != RSP_PUB_LEN || pub[0] != 0x04)
		return crypto_fail(err, "cannot get the public key");
	return 0;
}

int rsp_ecka_generate(enum rsp_curve curve, struct rsp_key **priv, uint8_t pub[RSP_PUB_LEN],
		      struct esim_err *err)
{
	const char *group = curve_group_name(curve);
	EVP_PKEY *pkey;
	struct rsp_key *k;

	*priv = NULL;
	if (!group)
		return esim_fail(err, ESIM_E_OTHER, "unsupported curve");
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	if (!pkey)
		return crypto_fail(err, "cannot generate an EC key");
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->curve = curve;
	if (rsp_key_public(k, pub, err) < 0) {
		rsp_key_free(k);
		return -1;
	}
	*priv = k;
	return 0;
}

/* Public key on curve from an uncompressed point; checked to lie on the curve. */
static EVP_PKEY *peer_key(enum rsp_curve curve, const uint8_t pt[RSP_PUB_LEN])
{
	const char *group = curve_group_name(curve);
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];

	if (!group || pt[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt,
						      RSP_PUB_LEN);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!chk || EVP_PKEY_public_check(chk) != 1)
		goto fail;
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
fail:
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return NULL;
}

int rsp_ecka_derive(const struct rsp_key *priv, const uint8_t peer[RSP_PUB_LEN], uint8_t shs[32],
		    struct esim_err *err)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t tmp[64];
	size_t n = sizeof(tmp);
	int ret = -1;

	if (!priv || !peer)
		return esim_fail(err, ESIM_E_OTHER, "no key for key agreement");
	pk = peer_key(priv->curve, peer);
	if (!pk) {
		crypto_fail(err, "invalid peer public key");
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv->pkey, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pk) != 1 ||
	    EVP_PKEY_derive(ctx, tmp, &n) != 1) {
		crypto_fail(err, "key agreement failed");
		goto out;
	}
	if (n != 32) {
		esim_fail(err, ESIM_E_OTHER, "key agreement gave %zu bytes, expected 32", n);
		goto out;
	}
	memcpy(shs, tmp, 32);
	ret = 0;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ret;
}

void rsp_kdf(const uint8_t shs[32], const uint8_t *shared_info, size_t info_len, uint8_t out[48])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t block[32];
	size_t done = 0;
	uint32_t i;

	/* ANSI X9.63: K_i = SHA-256(Z || i (32-bit BE) || SharedInfo), i = 1, 2, ... */
	for (i = 1; done < 48; i++) {
		uint8_t cnt[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		unsigned int olen = sizeof(block);
		size_t take;

		if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(ctx, shs, 32) || !EVP_DigestUpdate(ctx, cnt, 4) ||
		    (info_len && !EVP_DigestUpdate(ctx, shared_info, info_len)) ||
		    !EVP_DigestFinal_ex(ctx, block, &olen)) {
			/* Cannot happen with the default provider; never hand out partial keys. */
			memset(out, 0, 48);
			ERR_clear_error();
			break;
		}
		take = 48 - done < sizeof(block) ? 48 - done : sizeof(block);
		memcpy(out + done, block, take);
		done += take;
	}
	OPENSSL_cleanse(block, sizeof(block));
	EVP_MD_CTX_free(ctx);
}

/* ---- SCP03t segment protection (digest §5.4) ---- */

void bsp_init(struct bsp *b, const uint8_t kdf_out[48])
{
	memcpy(b->mcv, kdf_out, 16);
	memcpy(b->enc, kdf_out + 16, 16);
	memcpy(b->mac, kdf_out + 32, 16);
	b->ctr = 1;
}

void bsp_init_keys(struct bsp *b, const uint8_t enc[16], const uint8_t mac[16], const uint8_t mcv[16])
{
	memcpy(b->enc, enc, 16);
	memcpy(b->mac, mac, 16);
	memcpy(b->mcv, mcv, 16);
	b->ctr = 1;
}

void bsp_wipe(struct bsp *b)
{
	if (b)
		OPENSSL_cleanse(b, sizeof(*b));
}

/* One AES-128 pass without padding: ECB for the ICV, CBC for the data. */
static int aes128(const EVP_CIPHER *cipher, int enc, const uint8_t key[16], const uint8_t *iv,
		  const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	ok = ctx && len <= INT_MAX && len % 16 == 0 &&
	     EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_CipherUpdate(ctx, out, &n1, in, (int)len) == 1 &&
	     EVP_CipherFinal_ex(ctx, out + n1, &n2) == 1 && (size_t)(n1 + n2) == len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -1;
}

/* ICV = AES-ECB(S-ENC, ctr as a 16-byte big-endian block). */
static int bsp_icv(const struct bsp *b, uint8_t icv[16])
{
	uint8_t blk[16] = { 0 };

	blk[12] = (uint8_t)(b->ctr >> 24);
	blk[13] = (uint8_t)(b->ctr >> 16);
	blk[14] = (uint8_t)(b->ctr >> 8);
	blk[15] = (uint8_t)b->ctr;
	return aes128(EVP_aes_128_ecb(), 1, b->enc, NULL, blk, 16, icv);
}

/* full = AES-CMAC(S-MAC, MCV || hdr || C). */
static int bsp_cmac(const struct bsp *b, const uint8_t *hdr, size_t hlen, const uint8_t *c,
		    size_t clen, uint8_t full[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t olen = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_MAC_init(ctx, b->mac, 16, params) == 1 &&
	     EVP_MAC_update(ctx, b->mcv, 16) == 1 && EVP_MAC_update(ctx, hdr, hlen) == 1 &&
	     (clen == 0 || EVP_MAC_update(ctx, c, clen) == 1) &&
	     EVP_MAC_final(ctx, full, &olen, 16) == 1 && olen == 16;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -1;
}

int bsp_protect(struct bsp *b, uint8_t tag, const uint8_t *plain, size_t len, struct buf *out,
		struct esim_err *err)
{
	struct buf hdr = BUF_INIT;
	uint8_t *c = NULL;
	uint8_t icv[16], full[16];
	size_t clen;
	int encrypt = tag == 0x86 || tag == 0x87;
	int ret = -1;

	if (!b || (!plain && len))
		return esim_fail(err, ESIM_E_OTHER, "bsp: no input");
	if (!encrypt && tag != 0x88)
		return esim_fail(err, ESIM_E_OTHER, "bsp: tag %02X is not 86, 87 or 88", tag);
	if (len > BSP_MAX_SEGMENT)
		return esim_fail(err, ESIM_E_OTHER, "bsp: %zu-byte segment over %d bytes", len,
				 BSP_MAX_SEGMENT);
	/* The 80 padding byte is always added: 16 bytes of plaintext become 32. */
	clen = encrypt ? (len / 16 + 1) * 16 : len;
	buf_addch(&hdr, tag);
	der_put_len(&hdr, clen + BSP_MAC_LEN);
	if (hdr.len + clen + BSP_MAC_LEN > BSP_MAX_SEGMENT) {
		esim_fail(err, ESIM_E_OTHER, "bsp: %zu-byte segment over %d bytes",
			  hdr.len + clen + BSP_MAC_LEN, BSP_MAX_SEGMENT);
		goto out;
	}
	c = xmalloc(clen ? clen : 1);
	if (encrypt) {
		if (len)
			memcpy(c, plain, len);
		c[len] = 0x80;
		memset(c + len + 1, 0, clen - len - 1);
		if (bsp_icv(b, icv) < 0 ||
		    aes128(EVP_aes_128_cbc(), 1, b->enc, icv, c, clen, c) < 0) {
			esim_fail(err, ESIM_E_OTHER, "bsp: encryption failed");
			goto out;
		}
	} else if (len) {
		memcpy(c, plain, len);
	}
	if (bsp_cmac(b, (const uint8_t *)hdr.buf, hdr.len, c, clen, full) < 0) {
		esim_fail(err, ESIM_E_OTHER, "bsp: CMAC failed");
		goto out;
	}
	/* Commit: the counter advances for every segment, MAC-only 88 too. */
	b->ctr++;
	memcpy(b->mcv, full, 16);
	buf_add(out, hdr.buf, hdr.len);
	buf_add(out, c, clen);
	buf_add(out, full, BSP_MAC_LEN);
	ret = 0;
out:
	if (c) {
		OPENSSL_cleanse(c, clen ? clen : 1);
		free(c);
	}
	OPENSSL_cleanse(icv, sizeof(icv));
	OPENSSL_cleanse(full, sizeof(full));
	buf_release(&hdr);
	return ret;
}

int bsp_unprotect(struct bsp *b, const uint8_t *seg, size_t seglen, struct buf *out, int *reason)
{
	struct der_node n;
	const uint8_t *c, *mac;
	uint8_t icv[16], full[16];
	uint8_t *p = NULL;
	size_t clen, hlen, plen = 0;
	int encrypt, dummy, ret = -1;

	if (!reason)
		reason = &dummy;
	*reason = BSP_REASON_STRUCTURE;
	/*
	 * Segments over BSP_MAX_SEGMENT are accepted here: some SM-DP+ builds (pySim's
	 * BspInstance) emit 1036-byte 86 segments, and rejecting them gains nothing.
	 */
	if (!b || !seg || der_parse(seg, seglen, &n) < 0)
		return -1;
	if (n.tag != 0x86 && n.tag != 0x87 && n.tag != 0x88)
		return -1;
	if (n.len < BSP_MAC_LEN)
		return -1;
	encrypt = n.tag != 0x88;
	hlen = (size_t)(n.value - seg);
	c = n.value;
	clen = n.len - BSP_MAC_LEN;
	mac = n.value + clen;

	if (bsp_cmac(b, seg, hlen, c, clen, full) < 0)
		goto out;
	if (CRYPTO_memcmp(full, mac, BSP_MAC_LEN) != 0) {
		*reason = BSP_REASON_SECURITY;
		goto out;
	}
	if (encrypt) {
		if (clen == 0 || clen % 16 != 0)
			goto out;
		p = xmalloc(clen);
		if (bsp_icv(b, icv) < 0 || aes128(EVP_aes_128_cbc(), 0, b->enc, icv, c, clen, p) < 0)
			goto out;
		/* Unpad: strip trailing 00s, then require 80, all inside the last block. */
		plen = clen;
		while (plen > 0 && p[plen - 1] == 0x00)
			plen--;
		if (plen == 0 || p[plen - 1] != 0x80 || clen - (plen - 1) > 16)
			goto out;
		plen--;
		buf_add(out, p, plen);
	} else {
		buf_add(out, c, clen);
	}
	b->ctr++;
	memcpy(b->mcv, full, 16);
	*reason = 0;
	ret = 0;
out:
	if (p) {
		OPENSSL_cleanse(p, clen);
		free(p);
	}
	OPENSSL_cleanse(icv, sizeof(icv));
	OPENSSL_cleanse(full, sizeof(full));
	return ret;
}
