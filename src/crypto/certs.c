/*
 * certs.c - X.509 certificates: loading, signature checks, SGP.22 extensions
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

int pkey_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[RSP_SIG_LEN])
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

/* OID of the SGP.22 permittedEins extension (SGP.22 EUM certificate profile). */
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
