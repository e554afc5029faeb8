/*
 * pcsc.c - eUICC access through a PC/SC reader with pcsc-lite (see card/pcsc.h).
 *
 * pcsc_transport_open() chooses the reader (src/core/readerpick.c) and connects to its
 * card with SCARD_SHARE_EXCLUSIVE, so one esimctl operation (one ES10 session: a logical
 * channel, the ISD-R's RSP session state) owns the card from its first APDU to its last
 * and no other PC/SC client can send APDUs in between.  SCardBeginTransaction would give
 * the same protection only against clients that also use transactions, and it waits
 * without a bound; SCardConnect in exclusive mode fails at once with
 * SCARD_E_SHARING_VIOLATION, which we retry for ESIMCTL_PCSC_WAIT seconds (default 5)
 * before giving up with exit 10.  The card is reset when the operation ends
 * (SCARD_RESET_CARD), so the next user finds no channel left open.
 *
 * Every pcsc-lite failure keeps pcsc_stringify_error()'s text in the message and the
 * SCARD_* code in detail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "card/pcsc.h"
#include "card/proc.h"
#include "esimctl/buf.h"
#include "esimctl/readerpick.h"

#define PCSC_WAIT_DEFAULT_S 5
#define PCSC_START_HINT "start pcscd (systemctl start pcscd.socket, or pcscd -f)"

struct pcsc_card {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;               /* SCARD_PROTOCOL_T0 or SCARD_PROTOCOL_T1 */
	int have_ctx, connected;
	char reader[256];
};

/* Fill err from a pcsc-lite return code: the message says what failed and why. */
static int scard_fail(struct esim_err *err, enum esim_status st, LONG rv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int scard_fail(struct esim_err *err, enum esim_status st, LONG rv, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	esim_fail(err, st, "%s: %s", what, pcsc_stringify_error(rv));
	if (err)
		snprintf(err->detail, sizeof(err->detail), "SCARD 0x%08lX", (unsigned long)rv);
	if (rv == SCARD_E_NO_SERVICE)
		esim_hint(err, PCSC_START_HINT);
	return -1;
}

static int establish(SCARDCONTEXT *ctx, struct esim_err *err)
{
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx);

	if (rv != SCARD_S_SUCCESS)
		return scard_fail(err, ESIM_E_NOREADER, rv, "cannot reach pcscd");
	return 0;
}

/* The readers and their state (a card? its ATR) in one SCardGetStatusChange. */
static int list_readers(SCARDCONTEXT ctx, struct pcsc_reader **out, size_t *n,
			struct esim_err *err)
{
	LPSTR names = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	SCARD_READERSTATE *st = NULL;
	struct pcsc_reader *r = NULL;
	size_t count = 0, i;
	const char *p;
	LONG rv;

	*out = NULL;
	*n = 0;
	rv = SCardListReaders(ctx, NULL, (LPSTR)&names, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return 0;
	if (rv != SCARD_S_SUCCESS)
		return scard_fail(err, ESIM_E_NOREADER, rv, "cannot list the PC/SC readers");
	for (p = names; *p; p += strlen(p) + 1)
		count++;
	if (count == 0) {
		SCardFreeMemory(ctx, names);
		return 0;
	}
	r = xcalloc(count, sizeof(*r));
	st = xcalloc(count, sizeof(*st));
	for (i = 0, p = names; i < count; i++, p += strlen(p) + 1) {
		snprintf(r[i].name, sizeof(r[i].name), "%s", p);
		st[i].szReader = r[i].name;
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	SCardFreeMemory(ctx, names);
	rv = SCardGetStatusChange(ctx, 0, st, (DWORD)count);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		free(st);
		free(r);
		return scard_fail(err, ESIM_E_NOREADER, rv, "cannot read the PC/SC readers' state");
	}
	for (i = 0; i < count; i++) {
		r[i].has_card = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
		if (r[i].has_card && st[i].cbAtr <= sizeof(r[i].atr)) {
			memcpy(r[i].atr, st[i].rgbAtr, st[i].cbAtr);
			r[i].atrlen = st[i].cbAtr;
		}
	}
	free(st);
	*out = r;
	*n = count;
	return 0;
}

int pcsc_list_readers(struct pcsc_reader **out, size_t *n, struct esim_err *err)
{
	SCARDCONTEXT ctx;
	int rc;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!out || !n)
		return esim_fail(err, ESIM_E_USAGE, "pcsc_list_readers: nowhere to put the list");
	if (establish(&ctx, err) < 0)
		return -1;
	rc = list_readers(ctx, out, n, err);
	SCardReleaseContext(ctx);
	return rc;
}

/* "'A', 'B' and 'C'" for the readers with match[i] set (all when match is NULL). */
static void name_list(struct buf *b, const struct pcsc_reader *r, size_t n,
		      const unsigned char *match)
{
	size_t i, total = 0, done = 0;

	for (i = 0; i < n; i++)
		total += !match || match[i];
	for (i = 0; i < n; i++) {
		if (match && !match[i])
			continue;
		if (done)
			buf_addstr(b, done + 1 == total ? " and " : ", ");
		buf_addf(b, "#%zu '%s'", i, r[i].name);
		done++;
	}
}

static int choose(const char *spec, const struct pcsc_reader *r, size_t n, size_t *chosen,
		  struct esim_err *err)
{
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	int *cards = xcalloc(n ? n : 1, sizeof(*cards));
	unsigned char *match = xcalloc(n ? n : 1, 1);
	struct buf list = BUF_INIT;
	enum reader_pick pick;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		names[i] = r[i].name;
		cards[i] = r[i].has_card;
	}
	pick = reader_pick(spec, names, cards, n, match, chosen);
	switch (pick) {
	case READER_PICK_OK:
		rc = 0;
		break;
	case READER_PICK_NO_READER:
		esim_fail(err, ESIM_E_NOREADER, "no PC/SC reader is connected");
		esim_hint(err, "plug in the reader; 'pcsc_scan' lists what pcscd sees");
		break;
	case READER_PICK_NO_CARD:
		name_list(&list, r, n, NULL);
		esim_fail(err, ESIM_E_NOREADER, "no card in any PC/SC reader (%s)", list.buf);
		esim_hint(err, "insert the eUICC card");
		break;
	case READER_PICK_SEVERAL:
		name_list(&list, r, n, match);
		if (spec && *spec)
			esim_fail(err, ESIM_E_USAGE, "PC/SC reader '%s' is ambiguous: %s", spec, list.buf);
		else
			esim_fail(err, ESIM_E_USAGE, "several PC/SC readers hold a card: %s", list.buf);
		esim_hint(err, "name one: pcsc:NAME, a part of the name only it has, or pcsc:#N");
		break;
	case READER_PICK_NO_MATCH:
		name_list(&list, r, n, NULL);
		esim_fail(err, ESIM_E_NOREADER, "no PC/SC reader '%s' (there are %s)", spec, list.buf);
		esim_hint(err, "is the reader plugged in? #N counts from 0 in pcsc_scan's order");
		break;
	case READER_PICK_BAD_INDEX:
		esim_fail(err, ESIM_E_USAGE, "PC/SC reader '%s': # must be followed by the reader's "
			  "number (from 0, as pcsc_scan counts)", spec);
		break;
	}
	buf_release(&list);
	free(match);
	free(cards);
	free(names);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long wait_ms(void)
{
	const char *env = getenv("ESIMCTL_PCSC_WAIT");
	char *end;
	long s;

	if (!env || !*env)
		return PCSC_WAIT_DEFAULT_S * 1000L;
	s = strtol(env, &end, 10);
	if (*end || s < 0 || s > 3600)
		return PCSC_WAIT_DEFAULT_S * 1000L;
	return s * 1000L;
}

/* Connect exclusively, retrying while another client holds the card. */
static int connect_card(struct pcsc_card *pc, struct esim_err *err)
{
	long waited = 0, limit = wait_ms();
	LONG rv;

	for (;;) {
		rv = SCardConnect(pc->ctx, pc->reader, SCARD_SHARE_EXCLUSIVE,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &pc->card, &pc->proto);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (rv != SCARD_E_SHARING_VIOLATION || waited >= limit)
			break;
		sleep_ms(100);
		waited += 100;
	}
	if (rv == SCARD_E_SHARING_VIOLATION) {
		long pid = proc_find("scdaemon");

		scard_fail(err, ESIM_E_NOREADER, rv, "PC/SC reader '%s' is in use by another process "
			   "(waited %ld s)", pc->reader, waited / 1000);
		if (pid > 0)
			esim_hint(err, "scdaemon (pid %ld) is running and keeps readers open: "
				  "'gpgconf --kill scdaemon', or disable-ccid / pcsc-shared in scdaemon.conf",
				  pid);
		else
			esim_hint(err, "pcsc-lite does not say which process holds a reader; stop "
				  "the other smart-card program and try again");
		return -1;
	}
	if (rv == SCARD_E_NO_SMARTCARD || rv == SCARD_W_REMOVED_CARD)
		return scard_fail(err, ESIM_E_NOREADER, rv, "no card in PC/SC reader '%s'", pc->reader);
	if (rv != SCARD_S_SUCCESS)
		return scard_fail(err, ESIM_E_NOREADER, rv, "cannot connect to the card in PC/SC "
				  "reader '%s'", pc->reader);
	pc->connected = 1;
	return 0;
}

/*
 * 1 when the reader is empty now or becomes empty within REMOVAL_WAIT_MS: a reader (or
 * vpcd) that lost the card in the middle of a command often reports a transmit error
 * before pcscd's presence poll has seen the card go.
 */
#define REMOVAL_WAIT_MS 2000
static int card_gone(struct pcsc_card *pc)
{
	SCARD_READERSTATE st;
	LONG rv;

	memset(&st, 0, sizeof(st));
	st.szReader = pc->reader;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(pc->ctx, 0, &st, 1) != SCARD_S_SUCCESS)
		return 0;
	if (!(st.dwEventState & SCARD_STATE_PRESENT))
		return 1;
	st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	rv = SCardGetStatusChange(pc->ctx, REMOVAL_WAIT_MS, &st, 1);
	return rv == SCARD_S_SUCCESS && !(st.dwEventState & SCARD_STATE_PRESENT);
}

/* After a failed or short transmit: say "card removed" when that is what happened. */
static int transmit_fail(struct pcsc_card *pc, LONG rv, struct esim_err *err)
{
	DWORD state = 0, proto = 0, atrlen = 0;
	BYTE atr[MAX_ATR_SIZE];
	DWORD namelen = 0;
	LONG srv = SCardStatus(pc->card, NULL, &namelen, &state, &proto, atr, &atrlen);

	if (rv == SCARD_S_SUCCESS)
		rv = srv;
	if (srv == SCARD_W_REMOVED_CARD || srv == SCARD_E_NO_SMARTCARD ||
	    (srv == SCARD_S_SUCCESS && !(state & SCARD_PRESENT)) ||
	    rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD ||
	    (rv != SCARD_E_NO_SERVICE && card_gone(pc)))
		return scard_fail(err, ESIM_E_NOREADER, rv == SCARD_S_SUCCESS ?
				  SCARD_W_REMOVED_CARD : rv,
				  "the card was removed from PC/SC reader '%s'", pc->reader);
	if (rv == SCARD_S_SUCCESS)
		return esim_fail(err, ESIM_E_NOREADER, "PC/SC reader '%s' returned a response "
				 "without a status word", pc->reader);
	return scard_fail(err, ESIM_E_NOREADER, rv, "PC/SC reader '%s': transmit failed", pc->reader);
}

static int pcsc_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			 size_t *rxlen, struct esim_err *err)
{
	struct pcsc_card *pc = priv;
	const SCARD_IO_REQUEST *pci;
	DWORD len = (DWORD)*rxlen;
	LONG rv;
	int ext;

	if (!pc || !pc->connected)
		return esim_fail(err, ESIM_E_NOREADER, "PC/SC card is not connected");
	ext = txlen > 5 && tx[4] == 0;   /* extended length: Lc 00 xx xx (ISO 7816-4 §5.1) */
	if (pc->proto == SCARD_PROTOCOL_T0) {
		pci = SCARD_PCI_T0;
		/* T=0 carries no extended-length command (ISO/IEC 7816-3 §12.1): a smaller one */
		if (ext) {
			esim_fail(err, ESIM_E_NOREADER, "PC/SC reader '%s': T=0 carries no "
				  "extended-length APDU", pc->reader);
			return APDU_TOO_LONG;
		}
		/*
		 * T=0 carries a case 4 command as its case 3 TPDU, without Le (ISO/IEC 7816-3
		 * §12.2.5); the card then answers 61xx, which es10_apdu.c follows with GET
		 * RESPONSE.  Many reader drivers do this themselves; doing it here as well is
		 * harmless, since a case 3 command is left alone.
		 */
		if (txlen > 5 && tx[4] != 0 && txlen == 5u + tx[4] + 1u)
			txlen--;
	} else {
		pci = SCARD_PCI_T1;
	}
	rv = SCardTransmit(pc->card, pci, tx, (DWORD)txlen, NULL, rx, &len);
	if (ext && (rv == SCARD_E_INSUFFICIENT_BUFFER || rv == SCARD_E_INVALID_PARAMETER ||
		    rv == SCARD_E_INVALID_VALUE)) {
		/* pcscd refuses a command longer than the reader's driver declares */
		scard_fail(err, ESIM_E_NOREADER, rv, "PC/SC reader '%s' refused a %zu-byte APDU",
			   pc->reader, txlen);
		return APDU_TOO_LONG;
	}
	if (rv != SCARD_S_SUCCESS || len < 2)
		return transmit_fail(pc, rv, err);
	*rxlen = len;
	return 0;
}

static void pcsc_close(void *priv)
{
	struct pcsc_card *pc = priv;

	if (!pc)
		return;
	if (pc->connected)
		SCardDisconnect(pc->card, SCARD_RESET_CARD);
	if (pc->have_ctx)
		SCardReleaseContext(pc->ctx);
	free(pc);
}

int pcsc_transport_open(const char *spec, struct apdu_transport *out, struct esim_err *err)
{
	struct pcsc_reader *r = NULL;
	struct pcsc_card *pc;
	BYTE atr[MAX_ATR_SIZE];
	DWORD atrlen = sizeof(atr), state, proto, namelen = 0;
	size_t n = 0, chosen = 0;
	LONG rv;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!out)
		return esim_fail(err, ESIM_E_USAGE, "pcsc: no transport to fill");
	if (!spec)
		spec = "";
	pc = xcalloc(1, sizeof(*pc));
	if (establish(&pc->ctx, err) < 0)
		goto fail;
	pc->have_ctx = 1;
	if (list_readers(pc->ctx, &r, &n, err) < 0 || choose(spec, r, n, &chosen, err) < 0)
		goto fail;
	snprintf(pc->reader, sizeof(pc->reader), "%s", r[chosen].name);
	if (connect_card(pc, err) < 0)
		goto fail;
	rv = SCardStatus(pc->card, NULL, &namelen, &state, &proto, atr, &atrlen);
	if (rv != SCARD_S_SUCCESS) {
		transmit_fail(pc, rv, err);
		goto fail;
	}
	if (atrlen <= sizeof(out->atr)) {
		memcpy(out->atr, atr, atrlen);
		out->atrlen = atrlen;
	}
	free(r);
	out->transmit = pcsc_transmit;
	out->close = pcsc_close;
	out->priv = pc;
	return 0;
fail:
	free(r);
	pcsc_close(pc);
	memset(out, 0, sizeof(*out));
	return -1;
}
