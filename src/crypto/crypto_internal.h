/*
 * crypto_internal.h - what the files of src/crypto share (private to the part).
 */
#ifndef ESIMCTL_CRYPTO_INTERNAL_H
#define ESIMCTL_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

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

#define RSP_FIELD_LEN 32

/* Append the first queued OpenSSL error, if any, to a message, and clear the queue. */
int crypto_fail(struct esim_err *err, const char *what);
enum rsp_curve pkey_curve(const EVP_PKEY *pkey);
const char *curve_group_name(enum rsp_curve c);
int starts_with_pem(const uint8_t *data, size_t len);
/* Never prompt for a passphrase on the terminal: encrypted keys simply fail to load. */
int no_passphrase(char *buf, int size, int rwflag, void *u);
/* Raw r||s -> DER ECDSA-Sig-Value; *der is OPENSSL_malloc'ed. */
int sig_raw_to_der(const uint8_t raw[RSP_SIG_LEN], unsigned char **der, size_t *der_len);
/* 1 when sig (raw r||s) verifies over msg with pkey. */
int pkey_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[RSP_SIG_LEN]);

#endif
