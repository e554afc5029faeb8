/*
 * vpcd.h - serve a card to vsmartcard's vpcd, a virtual PC/SC reader driver of pcscd
 * (src/card/vpcd.c).
 *
 * Internal header (src/card/).  The wire protocol (vsmartcard: virtualsmartcard/src/vpcd):
 * one TCP connection per reader slot; every message either way is a frame of a 2-byte
 * big-endian length and then that many bytes.  From vpcd, a 1-byte frame is a control
 * message: 0 power off, 1 power on, 2 reset, 4 "send the ATR" (the answer is a frame with
 * the ATR; vpcd also polls with it to see that the card is still there); a longer frame
 * is a C-APDU, answered with one frame holding the R-APDU.
 *
 * vpcd_serve() connects OUT to a vpcd that listens (Debian's default reader.conf:
 * "DEVICENAME /dev/null:0x8C7B", ports 35963 and 35964 on every interface) and serves the
 * card until *stop is set, reconnecting with a bounded backoff when vpcd goes away (pcscd
 * restarted).  Power off, power on and reset call card->open(), which drops the card's
 * session state (logical channels, the RSP session) as a real card's reset does.
 */
#ifndef ESIMCTL_CARD_VPCD_H
#define ESIMCTL_CARD_VPCD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "esimctl/apdu.h"
#include "esimctl/error.h"

#define VPCD_DEFAULT_HOST "127.0.0.1"
#define VPCD_DEFAULT_PORT "35963"

struct vpcd_serve {
	const char *host, *port;        /* where vpcd listens */
	struct apdu_transport *card;    /* opened; not closed here */
	const uint8_t *atr;             /* the ATR to announce */
	size_t atrlen;
	volatile sig_atomic_t *stop;    /* set (by a signal handler) to end vpcd_serve() */
	/* Progress for the user ("connected to vpcd at ..."); the caller prints it. */
	void (*note)(void *arg, const char *msg);
	void *note_arg;
	/* Counters, for the caller's last words. */
	unsigned long apdus, connections;
};

/*
 * Split "HOST:PORT" or "[V6ADDR]:PORT" (or just "HOST": the default port) into host and
 * port.  ESIM_E_USAGE on a malformed string.
 */
int vpcd_parse_address(const char *text, char *host, size_t hostsz, char *port, size_t portsz,
		       struct esim_err *err);

/*
 * Serve until *s->stop: returns 0 then.  The first connection must succeed: vpcd not
 * listening is ESIM_E_NOREADER (exit 10) with a hint; a host that does not resolve is
 * ESIM_E_USAGE.  Later losses of the connection are retried every 0.1 s growing to 5 s.
 */
int vpcd_serve(struct vpcd_serve *s, struct esim_err *err);

#endif
