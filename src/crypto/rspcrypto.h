/*
 * rspcrypto.h - SGP.22 cryptography over OpenSSL libcrypto (internal header).
 *
 * Keys and certificates are opaque so no OpenSSL type leaks into the public headers.
 * Signatures inside SGP.22 structures are raw r||s (BSI TR-03111, 64 bytes for the
 * 256-bit curves); conversion to and from OpenSSL's DER form happens in here.
 * Every secret (private keys, shared secrets, session keys, confirmation codes) is
 * wiped with OPENSSL_cleanse when freed.
 *
 * Return values: 0 ok / -1 error with err set, unless stated otherwise.
 */
#ifndef ESIMCTL_RSPCRYPTO_H
#define ESIMCTL_RSPCRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/buf.h"
#include "esimctl/error.h"

enum rsp_curve { RSP_CURVE_UNKNOWN = 0, RSP_CURVE_P256, RSP_CURVE_BRP256 };

#define RSP_SIG_LEN 64
#define RSP_PUB_LEN 65   /* 04 || X || Y */

/* ---- hashing, randomness, encodings ---- */
void rsp_sha256(const void *data, size_t len, uint8_t out[32]);
int rsp_random(uint8_t *out, size_t len, struct esim_err *err);
/* hashCc = SHA-256(SHA-256(cc) || transactionId) (SGP.22 §5.7.5, hashCc). */
void rsp_hash_cc(const char *cc, const uint8_t *txid, size_t txid_len, uint8_t out[32]);
/* Standard base64 with padding, no line breaks. */
void base64_encode(const uint8_t *in, size_t len, struct buf *out);
/* Ignores ASCII whitespace anywhere; otherwise strict (alphabet, padding).  0 / -1. */
int base64_decode(const char *in, size_t len, struct buf *out);

/* ---- EC private keys ---- */
struct rsp_key;
/* PEM or DER (PKCS#8 or SEC1) EC private key on P-256 or brainpoolP256r1. */
int rsp_key_load(const uint8_t *data, size_t len, struct rsp_key **out, struct esim_err *err);
void rsp_key_free(struct rsp_key *k);
enum rsp_curve rsp_key_curve(const struct rsp_key *k);
/* Serialise a private key as PEM (for the software eUICC state file). */
int rsp_key_to_pem(const struct rsp_key *k, struct buf *out, struct esim_err *err);
/* ECDSA with SHA-256 over msg; sig = raw r||s. */
int rsp_sign(const struct rsp_key *k, const uint8_t *msg, size_t len, uint8_t sig[RSP_SIG_LEN],
	     struct esim_err *err);

/* ---- certificates ---- */
struct rsp_cert;
/* PEM or DER X.509. */
int rsp_cert_load(const uint8_t *data, size_t len, struct rsp_cert **out, struct esim_err *err);
void rsp_cert_free(struct rsp_cert *c);
/* The DER bytes (owned by c). */
void rsp_cert_der(const struct rsp_cert *c, const uint8_t **der, size_t *len);
enum rsp_curve rsp_cert_curve(const struct rsp_cert *c);
/* 1 when sig (raw r||s) verifies over msg with the certificate's public key, else 0. */
int rsp_cert_verify(const struct rsp_cert *c, const uint8_t *msg, size_t len,
		    const uint8_t sig[RSP_SIG_LEN]);
/*
 * 1 when child's signature verifies under issuer's public key (signature by signature,
 * not OpenSSL's chain verifier: SGP.26's EUM nameConstraints upset it) and, when both
 * are present, child's AKI equals issuer's SKI.  0 otherwise.
 */
int rsp_cert_signed_by(const struct rsp_cert *child, const struct rsp_cert *issuer);
/* Subject / Authority Key Identifier (usually 20 bytes).  Returns length or -1 if absent. */
int rsp_cert_ski(const struct rsp_cert *c, uint8_t *out, size_t outsz);
int rsp_cert_aki(const struct rsp_cert *c, uint8_t *out, size_t outsz);
/* 1 when the certificate policies extension contains the dotted OID. */
int rsp_cert_has_policy(const struct rsp_cert *c, const char *oid);
/* SAN registeredID as dotted text ("2.999.10").  0 / -1 when absent. */
int rsp_cert_san_rid(const struct rsp_cert *c, char *out, size_t outsz);
/* Subject serialNumber attribute (the EID in CERT.EUICC).  0 / -1 when absent. */
int rsp_cert_subject_serial(const struct rsp_cert *c, char *out, size_t outsz);
/*
 * 1 when the EUM certificate permits this EID: a nameConstraints permitted subtree with a
 * serialNumber prefix (SGP.26 form), or extension 2.23.146.1.2.2.0 permittedEins whose
 * entries are EID prefixes.  0 when neither matches; an EUM with neither constraint -> 1.
 */
int rsp_cert_eum_permits(const struct rsp_cert *eum, const char *eid);
/* 1 when now (seconds since epoch) is inside notBefore..notAfter. */
int rsp_cert_valid_at(const struct rsp_cert *c, int64_t now);

/* ---- ECKA (ephemeral key agreement) and KDF (SGP.22 5.3) ---- */
int rsp_ecka_generate(enum rsp_curve curve, struct rsp_key **priv, uint8_t pub[RSP_PUB_LEN],
		      struct esim_err *err);
/* Public key of a private key, uncompressed. */
int rsp_key_public(const struct rsp_key *k, uint8_t pub[RSP_PUB_LEN], struct esim_err *err);
/* ShS = x-coordinate of ECDH(priv, peer). */
int rsp_ecka_derive(const struct rsp_key *priv, const uint8_t peer[RSP_PUB_LEN], uint8_t shs[32],
		    struct esim_err *err);
/* X9.63 KDF with SHA-256, 48 bytes out: MCV || S-ENC || S-MAC. */
void rsp_kdf(const uint8_t shs[32], const uint8_t *shared_info, size_t info_len, uint8_t out[48]);

/* ---- SCP03t segment protection (SGP.22 §2.5.3-§2.5.4; BSP in v3) ---- */
struct bsp {
	uint8_t enc[16];
	uint8_t mac[16];
	uint8_t mcv[16];
	uint32_t ctr;
};
/* From the KDF output: mcv = out[0..15], enc = out[16..31], mac = out[32..47], ctr = 1. */
void bsp_init(struct bsp *b, const uint8_t kdf_out[48]);
/* After ReplaceSessionKeys: new keys and MCV, ctr = 1. */
void bsp_init_keys(struct bsp *b, const uint8_t enc[16], const uint8_t mac[16], const uint8_t mcv[16]);
void bsp_wipe(struct bsp *b);
/* Protect one segment (tag 0x86/0x87 encrypt+MAC, 0x88 MAC only); appends the TLV to out. */
int bsp_protect(struct bsp *b, uint8_t tag, const uint8_t *plain, size_t len, struct buf *out,
		struct esim_err *err);
/*
 * Verify (constant time) and, for 86/87, decrypt and unpad one segment TLV.  Appends the
 * plaintext to out.  On failure returns -1 and sets *reason to the SGP.22 ErrorReason:
 * 8 scp03tSecurityError (MAC), 7 scp03tStructureError (lengths, padding, tag).
 */
int bsp_unprotect(struct bsp *b, const uint8_t *seg, size_t seglen, struct buf *out, int *reason);

#endif
