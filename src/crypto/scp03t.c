/*
 * scp03t.c - ECKA key agreement, the X9.63 KDF and SCP03t segment protection
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

/* SGP.22 ErrorReason values used by bsp_unprotect (SGP.22 §2.5.6). */
enum {
	BSP_REASON_STRUCTURE = 7,       /* scp03tStructureError */
	BSP_REASON_SECURITY = 8,        /* scp03tSecurityError */
};

#define BSP_MAX_SEGMENT 1020            /* tag + length + C + MAC (SGP.22 v3 §2.5.3) */
#define BSP_MAC_LEN 8

/* ---- ECKA and KDF (SGP.22 v3 §2.6.4.2) ---- */

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

/* ---- SCP03t segment protection (SGP.22 §2.5.3-§2.5.4; v3 §2.6.4) ---- */

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
