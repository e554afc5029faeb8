/*
 * atmodem.c - a test AT modem on a pseudo-terminal, with the software eUICC as its SIM.
 *
 *	atmodem --state EUICC.json [options]     prints "PTY /dev/pts/N", then serves
 *
 * Speaks what an LTE modem's AT port speaks for SIM access (3GPP TS 27.007): AT, ATE0/ATE1,
 * AT+CSIM (§8.17), AT+CGLA (§8.43), AT+CCHO (§8.45), AT+CCHC (§8.46); anything else is
 * ERROR.  Echo is on until ATE0, as on a modem after power-up.  Options:
 *   --no-cgla           no logical channel commands (ERROR), for at-csim:
 *   --echo              keep echoing after ATE0 (a modem that forgets it)
 *   --urc               unsolicited result codes before and inside answers, and answers
 *                       written in two pieces
 *   --stall-after N     stop answering after N APDU commands (CSIM/CGLA)
 *   --max-apdu N        +CME ERROR: 50 for a longer C-APDU (default 261), as a modem
 *                       whose command line is too short for it
 *   --max-lc N          the SIM answers 6700 (wrong length) to a C-APDU with more than N
 *                       data bytes or in extended-length form, as a card with a small
 *                       buffer does (the modem passes it on)
 *   --sim-failure-after N  +CME ERROR: 13 (SIM failure) after N APDU commands
 *   --log FILE          one line per APDU command ("CGLA 1 81E29100..."), appended
 * Test-only: never installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "card/soft/soft.h"
#include "esimctl/apdu.h"

static struct apdu_transport card;
static int mfd = -1;
static int echo = 1, keep_echo, urc, no_cgla;
static long stall_after = -1, fail_after = -1, max_apdu = 261, max_lc = -1, napdu;
static FILE *apdu_log;
static int open_ch[20];

static void put(const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		size_t chunk = len - off;
		ssize_t w;

		if (urc && off == 0 && len > 6)
			chunk = len / 2;   /* an answer split across reads */
		w = write(mfd, s + off, chunk);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			exit(1);
		}
		off += (size_t)w;
		if (urc && off < len) {
			struct timespec ts = { 0, 2 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

static void putline(const char *s)
{
	put("\r\n");
	put(s);
	put("\r\n");
}

static int unhex(const char *h, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void tohex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", b[i]);
	out[2 * n] = '\0';
}

static int card_apdu(const uint8_t *tx, size_t txlen, uint8_t *rx, size_t *rxlen)
{
	struct esim_err err;

	*rxlen = APDU_RX_MAX;
	return card.transmit(card.priv, tx, txlen, rx, rxlen, &err);
}

/* "<len>,\"HEX\"" -> bytes; the CME code on error. */
static int parse_apdu(const char *p, uint8_t *apdu, size_t *len)
{
	char *end;
	long n = strtol(p, &end, 10);
	const char *hex;
	size_t hl;

	if (end == p || *end != ',' || end[1] != '"')
		return 50;
	hex = end + 2;
	hl = strcspn(hex, "\"");
	if (hex[hl] != '"' || hex[hl + 1] || (long)hl != n || hl % 2 || hl < 8)
		return 50;
	if ((long)(hl / 2) > max_apdu)
		return 50;    /* too long for this modem */
	if (unhex(hex, hl, apdu) < 0)
		return 50;
	*len = hl / 2;
	return 0;
}

static void apdu_cmd(const char *name, long ch, const char *args)
{
	uint8_t tx[600], rx[APDU_RX_MAX];
	size_t txlen, rxlen;
	char line[700], hex[2 * APDU_RX_MAX + 1];
	int cme;

	if (stall_after >= 0 && napdu >= stall_after)
		return;         /* stalled: the command is swallowed */
	napdu++;
	if (fail_after >= 0 && napdu > fail_after) {
		putline("+CME ERROR: 13");
		return;
	}
	if ((cme = parse_apdu(args, tx, &txlen)) != 0) {
		snprintf(line, sizeof(line), "+CME ERROR: %d", cme);
		putline(line);
		return;
	}
	if (apdu_log) {
		tohex(tx, txlen, line);
		fprintf(apdu_log, "%s %ld %s\n", name, ch, line);
		fflush(apdu_log);
	}
	if (ch > 0) {
		/* The modem puts the channel into CLA; here the LPA already did. */
		if ((tx[0] & 0x40 ? 4 + (tx[0] & 0x0F) : tx[0] & 3) != ch) {
			putline("+CME ERROR: 50");
			return;
		}
	}
	if (max_lc >= 0 && txlen > 5 && (tx[4] == 0 || tx[4] > max_lc)) {
		rx[0] = 0x67;
		rx[1] = 0x00;
		rxlen = 2;
	} else if (card_apdu(tx, txlen, rx, &rxlen) < 0) {
		putline("+CME ERROR: 13");
		return;
	}
	tohex(rx, rxlen, hex);
	if (urc)
		putline("+CREG: 1,\"1A2B\",\"0C3D4E5F\",7");
	snprintf(line, sizeof(line), "+%s: %zu,\"%s\"", name, 2 * rxlen, hex);
	putline(line);
	if (urc)
		putline("^RSSI: 17");
	putline("OK");
}

static void ccho(const char *args)
{
	uint8_t tx[40], rx[APDU_RX_MAX];
	size_t hl, rxlen, i;
	char line[64];
	int ch;

	if (args[0] != '"' || (hl = strcspn(args + 1, "\"")) < 10 || hl > 32 || hl % 2 ||
	    strcmp(args + 1 + hl, "\"") != 0) {
		putline("+CME ERROR: 50");
		return;
	}
	/* MANAGE CHANNEL open, then SELECT by AID on the new channel (ISO 7816-4 §11.1.2). */
	memcpy(tx, "\x00\x70\x00\x00\x01", 5);
	if (card_apdu(tx, 5, rx, &rxlen) < 0 || rxlen != 3 || rx[1] != 0x90) {
		putline("+CME ERROR: 3");
		return;
	}
	ch = rx[0];
	tx[0] = (uint8_t)(ch < 4 ? ch : 0x40 | (ch - 4));
	tx[1] = 0xA4;
	tx[2] = 0x04;
	tx[3] = 0x00;
	tx[4] = (uint8_t)(hl / 2);
	if (unhex(args + 1, hl, tx + 5) < 0) {
		putline("+CME ERROR: 50");
		return;
	}
	i = 5 + hl / 2;
	tx[i++] = 0x00;
	if (card_apdu(tx, i, rx, &rxlen) < 0 || rx[rxlen - 2] != 0x90) {
		uint8_t cl[5] = { 0x00, 0x70, 0x80, (uint8_t)ch, 0x00 };

		card_apdu(cl, 4, rx, &rxlen);
		putline("+CME ERROR: 22");   /* not found: no such application */
		return;
	}
	open_ch[ch] = 1;
	snprintf(line, sizeof(line), "%d", ch);
	putline(line);
	putline("OK");
}

static void cchc(const char *args)
{
	long ch = strtol(args, NULL, 10);
	uint8_t tx[4] = { 0x00, 0x70, 0x80, 0 }, rx[APDU_RX_MAX];
	size_t rxlen;

	if (ch < 1 || ch > 19 || !open_ch[ch]) {
		putline("+CME ERROR: 21");
		return;
	}
	tx[3] = (uint8_t)ch;
	card_apdu(tx, 4, rx, &rxlen);
	open_ch[ch] = 0;
	putline("OK");
}

static void command(char *cmd)
{
	if (echo) {
		put(cmd);
		put("\r");
	}
	if (urc)
		putline("RING");
	if (strcasecmp(cmd, "AT") == 0) {
		putline("OK");
	} else if (strcasecmp(cmd, "ATE0") == 0) {
		echo = keep_echo;
		putline("OK");
	} else if (strcasecmp(cmd, "ATE1") == 0 || strcasecmp(cmd, "ATE") == 0) {
		echo = 1;
		putline("OK");
	} else if (strncasecmp(cmd, "AT+CSIM=", 8) == 0) {
		apdu_cmd("CSIM", 0, cmd + 8);
	} else if (!no_cgla && strncasecmp(cmd, "AT+CGLA=", 8) == 0) {
		char *end;
		long ch = strtol(cmd + 8, &end, 10);

		if (*end != ',' || ch < 1 || ch > 19 || !open_ch[ch]) {
			putline("+CME ERROR: 21");   /* invalid index: no such channel */
			return;
		}
		apdu_cmd("CGLA", ch, end + 1);
	} else if (!no_cgla && strncasecmp(cmd, "AT+CCHO=", 8) == 0) {
		ccho(cmd + 8);
	} else if (!no_cgla && strncasecmp(cmd, "AT+CCHC=", 8) == 0) {
		cchc(cmd + 8);
	} else {
		putline("ERROR");
	}
}

int main(int argc, char **argv)
{
	const char *state = NULL;
	struct esim_err err;
	struct termios tio;
	char line[2048];
	size_t len = 0;
	int sfd, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--state") && i + 1 < argc)
			state = argv[++i];
		else if (!strcmp(argv[i], "--no-cgla"))
			no_cgla = 1;
		else if (!strcmp(argv[i], "--echo"))
			keep_echo = 1;
		else if (!strcmp(argv[i], "--urc"))
			urc = 1;
		else if (!strcmp(argv[i], "--stall-after") && i + 1 < argc)
			stall_after = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--sim-failure-after") && i + 1 < argc)
			fail_after = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--max-apdu") && i + 1 < argc)
			max_apdu = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--max-lc") && i + 1 < argc)
			max_lc = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			if (!(apdu_log = fopen(argv[++i], "a"))) {
				perror(argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "atmodem: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!state) {
		fprintf(stderr, "usage: atmodem --state EUICC.json [options]\n");
		return 2;
	}
	if (soft_euicc_open(state, &card, &err) < 0 || card.open(card.priv, &err) < 0) {
		fprintf(stderr, "atmodem: %s\n", err.msg);
		return 1;
	}
	if ((mfd = posix_openpt(O_RDWR | O_NOCTTY)) < 0 || grantpt(mfd) < 0 || unlockpt(mfd) < 0) {
		perror("atmodem: posix_openpt");
		return 1;
	}
	/*
	 * Hold the slave open and raw: no line discipline echo of our own answers, and no
	 * hang-up on the master between two clients.
	 */
	if ((sfd = open(ptsname(mfd), O_RDWR | O_NOCTTY)) < 0 || tcgetattr(sfd, &tio) < 0) {
		perror("atmodem: slave");
		return 1;
	}
	cfmakeraw(&tio);
	tcsetattr(sfd, TCSANOW, &tio);
	printf("PTY %s\n", ptsname(mfd));
	fflush(stdout);
	for (;;) {
		char c;
		ssize_t r = read(mfd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\r') {
			line[len] = '\0';
			if (len)
				command(line);
			len = 0;
		} else if (c != '\n' && len < sizeof(line) - 1) {
			line[len++] = c;
		}
	}
	card.close(card.priv);
	return 0;
}
