/*
 * apdu.h - the APDU transport that eUICC backends plug into.
 *
 * A backend (software eUICC, PC/SC reader, AT modem) fills a struct apdu_transport.
 * transmit() sends one C-APDU (ISO 7816-4 short form) and returns the R-APDU including
 * the two status bytes SW1 SW2.  Logical channels, SELECT and STORE DATA chaining are
 * done above this layer (src/euicc/es10.c), so every backend sees plain APDUs.
 */
#ifndef ESIMCTL_APDU_H
#define ESIMCTL_APDU_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/error.h"

#define APDU_RX_MAX 258 /* 256 data bytes + SW1 SW2 */

struct apdu_transport {
	/* Connect / power up.  ESIM_E_NOREADER when the eUICC cannot be reached. */
	int (*open)(void *priv, struct esim_err *err);
	/*
	 * tx: a full C-APDU (CLA INS P1 P2 [Lc data] [Le]).  rx: at least APDU_RX_MAX bytes;
	 * *rxlen is set to the response length (>= 2).  Transport failures: ESIM_E_NOREADER
	 * or ESIM_E_EUICC.
	 */
	int (*transmit)(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t *rxlen,
			struct esim_err *err);
	/* Disconnect; also frees priv.  Safe to call once after a failed open. */
	void (*close)(void *priv);
	void *priv;
};

/*
 * Open a backend by URI: "soft:PATH" (software eUICC state file).  Other schemes give
 * ESIM_E_USAGE naming the supported ones.
 */
int apdu_transport_open_uri(const char *uri, struct apdu_transport *out, struct esim_err *err);

#endif
