/*
 * pcsc.h - the PC/SC backend (src/card/pcsc.c): "pcsc:[READER]" through pcsc-lite.
 *
 * Internal header (src/card/), also used by `euicc scan` (src/cli/rsp/).  No pcsc-lite
 * types appear here, so callers need not include <winscard.h>.
 *
 * READER is an exact reader name, a substring matching exactly one reader, or "#N" (the
 * N-th reader, 0-based, in the order SCardListReaders() gives them); empty means the only
 * reader that holds a card.  The choice itself is pcsc_choose_reader() in src/core/.
 */
#ifndef ESIMCTL_CARD_PCSC_H
#define ESIMCTL_CARD_PCSC_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/apdu.h"
#include "esimctl/error.h"

struct pcsc_reader {
	char name[256];   /* as pcscd names it, e.g. "Virtual PCD 00 00" */
	int has_card;     /* 1: a card is present (SCARD_STATE_PRESENT) */
	uint8_t atr[33];  /* the card's Answer To Reset (ISO 7816-3 §8), when has_card */
	size_t atrlen;    /* 0 when no card or not known */
};

/*
 * Every reader pcscd knows, as a malloc'd array the caller frees; *n = 0 (and *out NULL)
 * when there is none.  No pcscd: ESIM_E_NOREADER with the start-pcscd hint.
 */
int pcsc_list_readers(struct pcsc_reader **out, size_t *n, struct esim_err *err);

/*
 * Open "READER" (the part of the URI after "pcsc:") as an APDU transport: choose the
 * reader, connect to its card exclusively (retrying for ESIMCTL_PCSC_WAIT seconds,
 * default 5, while another process holds it) and fill out->atr.  The card stays held
 * until out->close().  Errors: ESIM_E_USAGE (ambiguous READER or a bad #N: the message
 * lists the readers), ESIM_E_NOREADER (no pcscd, no such reader, no card, busy, card
 * removed).  On error *out is zeroed and nothing is held.
 */
int pcsc_transport_open(const char *spec, struct apdu_transport *out, struct esim_err *err);

#endif
