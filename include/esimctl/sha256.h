/*
 * sha256.h - SHA-256 (FIPS 180-4), for profile ids in the main binary.
 *
 * The esimctl binary does not link libcrypto, so that commands which need no
 * cryptography start fast (libcrypto is bound eagerly: ~3,700 symbol relocations per
 * start).  Profile ids need a hash of the activation code, nothing more; everything
 * cryptographic (signatures, key agreement, SCP03t) lives in the SGP.22 module, over
 * OpenSSL.  As git does with its own block SHA implementations.
 */
#ifndef ESIMCTL_SHA256_H
#define ESIMCTL_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;      /* bytes hashed so far */
	uint8_t block[64];
	size_t used;       /* bytes in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[32]);
/* One call. */
void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
