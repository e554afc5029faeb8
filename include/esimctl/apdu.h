/*
 * apdu.h - the APDU transport that eUICC backends plug into.
 *
 * A backend (software eUICC, PC/SC reader, AT modem) fills a struct apdu_transport.
 * transmit() sends one C-APDU (ISO 7816-4 short form) and returns the R-APDU including
 * the two status bytes SW1 SW2.  Logical channels, SELECT and STORE DATA chaining are
 * done above this layer (src/rsp/es10_apdu.c), so every backend sees plain APDUs.
 *
 * How es10_open() reaches the ISD-R, in this order:
 *   1. basic_channel set: SELECT on the basic channel 0, no logical channel (a modem with
 *      AT+CSIM only: many refuse MANAGE CHANNEL through it);
 *   2. open_channel set: one call opens a logical channel with the AID selected on it
 *      (AT+CCHO does both, 3GPP TS 27.007 §8.45); close_channel ends it (AT+CCHC, §8.46);
 *   3. neither: MANAGE CHANNEL open (ISO 7816-4 §11.1.2), then SELECT by AID on it, and
 *      MANAGE CHANNEL close at the end.
 * In every case the APDUs that follow carry the channel number in CLA (ISO 7816-4 §5.4.1),
 * so a backend that must name the channel (AT+CGLA) reads it from there.
 */
#ifndef ESIMCTL_APDU_H
#define ESIMCTL_APDU_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/error.h"

#define APDU_RX_MAX 258 /* 256 data bytes + SW1 SW2 */
/*
 * transmit() result for a C-APDU that the transport, or a device on its way, refused for
 * its length (a modem's command line too short, a reader without extended-length
 * support), with err filled as for -1.  The ES10 layer then resends the data in smaller
 * STORE DATA blocks, as for a card's 6700 (wrong length); src/rsp/es10_apdu.c.
 */
#define APDU_TOO_LONG (-2)

struct apdu_transport {
	/* Connect / power up.  ESIM_E_NOREADER when the eUICC cannot be reached. */
	int (*open)(void *priv, struct esim_err *err);
	/*
	 * tx: a full C-APDU (CLA INS P1 P2 [Lc data] [Le]), short or, when the ATR below
	 * advertises them, extended length (ISO 7816-4 §5.1: Lc 00 xx xx, Le 2 bytes; never
	 * more than 256 response bytes asked for).  rx: at least APDU_RX_MAX bytes; *rxlen is
	 * set to the response length (>= 2).  Transport failures: -1 with ESIM_E_NOREADER or
	 * ESIM_E_EUICC; APDU_TOO_LONG (above) for a C-APDU refused for its length.
	 */
	int (*transmit)(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t *rxlen,
			struct esim_err *err);
	/* Disconnect; also frees priv.  Safe to call once after a failed open. */
	void (*close)(void *priv);
	/*
	 * Optional: open a logical channel and select aid on it in one step.  *channel gets
	 * the channel number 1..19 that the following APDUs code in CLA.  A SELECT that the
	 * card refuses is ESIM_E_EUICC naming it.  NULL: see the list above.
	 */
	int (*open_channel)(void *priv, const uint8_t *aid, size_t aidlen, int *channel,
			    struct esim_err *err);
	/* Optional, with open_channel: close that channel (errors are not reported). */
	void (*close_channel)(void *priv, int channel);
	/* 1: the backend reaches the basic channel only (see the list above). */
	int basic_channel;
	/*
	 * Set by the backend when it opens: a warning for the user that is no error (for
	 * example "ModemManager is running and may use this port").  The command prints it.
	 */
	char warning[256];
	/*
	 * Set by the backend when it knows the card's Answer To Reset (PC/SC readers, as
	 * soon as apdu_transport_open_uri() returns; the software eUICC; ISO 7816-3 §8):
	 * the ES10 layer reads the card's capabilities from it (extended length,
	 * ISO 7816-4 §8.1.1.2.7; esimctl/atr.h).  atrlen 0: not known (AT modems), short
	 * APDUs only.
	 */
	uint8_t atr[33];
	size_t atrlen;
	void *priv;
};

/*
 * Open a backend by URI: "soft:PATH" (software eUICC state file), "at:DEVICE" (AT modem
 * with logical channels: AT+CCHO/AT+CGLA/AT+CCHC), "at-csim:DEVICE" (AT modem, AT+CSIM on
 * the basic channel); src/card/at.c; "pcsc:[READER]" (a PC/SC reader through pcscd: a name,
 * a unique part of one, #N from 0, or empty for the only reader with a card);
 * src/card/pcsc.c.  Other schemes give ESIM_E_USAGE naming the
 * supported ones.
 */
int apdu_transport_open_uri(const char *uri, struct apdu_transport *out, struct esim_err *err);

#endif
