/*
 * pcsc_hold.c - a tiny PC/SC client for the tests (tests/cli/pcsc-lib.sh, t1800-pcsc.sh),
 * written against pcsc-lite directly, not through esimctl:
 *
 *   pcsc_hold --list           one line per reader: "INDEX<TAB>NAME<TAB>present|empty"
 *   pcsc_hold --state READER   "present" or "empty" (exit 1 when READER is unknown)
 *   pcsc_hold --hold READER    connect with SCARD_SHARE_EXCLUSIVE, print "held", and keep
 *                              the card until killed (another process holding a reader)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

static int fail(const char *what, LONG rv)
{
	fprintf(stderr, "pcsc_hold: %s: %s\n", what, pcsc_stringify_error(rv));
	return 1;
}

int main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	SCARD_READERSTATE st[16];
	char names[4096], *p;
	DWORD len = sizeof(names), n = 0, i;
	LONG rv;

	if (argc < 2 || (strcmp(argv[1], "--list") != 0 && argc != 3)) {
		fprintf(stderr, "usage: pcsc_hold --list | --state READER | --hold READER\n");
		return 2;
	}
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) != SCARD_S_SUCCESS)
		return fail("SCardEstablishContext", rv);
	if (strcmp(argv[1], "--hold") == 0) {
		SCARDHANDLE card;
		DWORD proto;

		rv = SCardConnect(ctx, argv[2], SCARD_SHARE_EXCLUSIVE,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
		if (rv != SCARD_S_SUCCESS)
			return fail("SCardConnect", rv);
		printf("held\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	rv = SCardListReaders(ctx, NULL, names, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		len = 0;
	else if (rv != SCARD_S_SUCCESS)
		return fail("SCardListReaders", rv);
	for (p = names; len && *p && n < 16; p += strlen(p) + 1) {
		memset(&st[n], 0, sizeof(st[n]));
		st[n].szReader = p;
		st[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	if (n && (rv = SCardGetStatusChange(ctx, 0, st, n)) != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return fail("SCardGetStatusChange", rv);
	for (i = 0; i < n; i++) {
		const char *state = st[i].dwEventState & SCARD_STATE_PRESENT ? "present" : "empty";

		if (strcmp(argv[1], "--list") == 0)
			printf("%lu\t%s\t%s\n", (unsigned long)i, st[i].szReader, state);
		else if (strcmp(st[i].szReader, argv[2]) == 0) {
			printf("%s\n", state);
			return 0;
		}
	}
	SCardReleaseContext(ctx);
	return strcmp(argv[1], "--list") == 0 ? 0 : 1;
}
