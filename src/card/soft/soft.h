/*
 * soft.h - the software eUICC: an ISD-R (SGP.22 ES10a/b/c) behind struct apdu_transport.
 *
 * Internal header (src/card/soft/).  The eUICC lives in one JSON state file (identity,
 * profiles, pending notifications; docs/soft-euicc.md).  soft_euicc_create() makes a new
 * file from an identity; soft_euicc_open() loads it and fills a transport that speaks
 * ISO 7816-4 / GlobalPlatform APDUs: MANAGE CHANNEL, SELECT ISD-R, STORE DATA chaining,
 * GET RESPONSE.  Every state change is written back atomically before the response
 * leaves the card.  RSP session state (challenge, transaction, one-time keys, BSP keys)
 * lives only in memory and is wiped on close.
 *
 *	struct apdu_transport t;
 *	if (soft_euicc_open("euicc.json", &t, err) < 0) return -1;
 *	t.open(t.priv, err);
 *	t.transmit(t.priv, apdu, len, rx, &rxlen, err);
 *	t.close(t.priv);     // frees everything, releases the file lock
 */
#ifndef ESIMCTL_SOFT_EUICC_H
#define ESIMCTL_SOFT_EUICC_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/apdu.h"
#include "esimctl/error.h"

/*
 * Create the state file at path for a new eUICC.  cert/key/eum and each cis[i] are PEM
 * or DER (key: PKCS#8 or SEC1).  Checks: the EID is valid, the key belongs to cert,
 * cert's subject serialNumber is the EID, cert is signed by eum, eum by one of the CIs,
 * eum permits the EID, every CI has a Subject Key Identifier and the curve is P-256 or
 * brainpoolP256r1.  Refuses to replace an existing file.  All failures are ESIM_E_USAGE
 * except writing the file (ESIM_E_OTHER).  The file is written 0600, atomically.
 */
int soft_euicc_create(const char *path, const char *eid, const uint8_t *cert, size_t certlen,
		      const uint8_t *key, size_t keylen, const uint8_t *eum, size_t eumlen,
		      const uint8_t *const *cis, const size_t *cilens, size_t ncis,
		      struct esim_err *err);

/*
 * The software eUICC's Answer To Reset (ISO/IEC 7816-3 §8.2), as a UICC's: T=0 and T=1
 * offered (TD1 80, TD2 B1 with IFSC 254), T=15 class A/B/C (TA4 C7), historical bytes in
 * compact-TLV (category 80): card service data 31 E0, card capabilities 73 F6 21 57 (third
 * table: extended Lc and Le fields, logical channels assigned by the card, 8 or more),
 * status 82 90 00; TCK.  soft_euicc_open() puts it in out->atr, `euicc serve` gives it to
 * the virtual reader.
 */
#define SOFT_EUICC_ATR_LEN 20
extern const uint8_t soft_euicc_atr[SOFT_EUICC_ATR_LEN];

/*
 * Load the state file and fill *out.  The file is locked ("<path>.lock", flock) until
 * out->close(); a second opener waits a few seconds and then fails.  Errors: no such
 * file or busy -> ESIM_E_NOREADER; unreadable or inconsistent file -> ESIM_E_EUICC.
 * On error *out is zeroed and nothing is held.
 */
int soft_euicc_open(const char *path, struct apdu_transport *out, struct esim_err *err);

#endif
