/*
 * hash.c - hashing, randomness, hashCc and base64
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

	/* hashCc of ES10b.PrepareDownload (SGP.22 §5.7.5): SHA-256(SHA-256(cc) || transactionId). */
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
