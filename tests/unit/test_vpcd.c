/*
 * test_vpcd.c - the vpcd card side (src/card/vpcd.c) against a fake vpcd on 127.0.0.1:
 * frames split anywhere and several in one segment, control messages, malformed frames,
 * the reconnect after vpcd goes away, and SIGTERM ending it with status 0.  vpcd_serve()
 * runs in a child process; the card is a fake transport that tells how often it was reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>

#include <cmocka.h>

#include "card/vpcd.h"

static unsigned resets;

static int fake_open(void *priv, struct esim_err *err)
{
	(void)priv;
	(void)err;
	resets++;
	return 0;
}

/* R-APDU: resets so far, the INS, 90 00. */
static int fake_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t *rxlen,
			 struct esim_err *err)
{
	(void)priv;
	(void)txlen;
	(void)err;
	rx[0] = (uint8_t)resets;
	rx[1] = tx[1];
	rx[2] = 0x90;
	rx[3] = 0x00;
	*rxlen = 4;
	return 0;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static const uint8_t atr[] = { 0x3B, 0x02, 0x14, 0x50 };

static pid_t start_server(const char *port)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct apdu_transport t = { .open = fake_open, .transmit = fake_transmit };
		struct vpcd_serve s = { .host = "127.0.0.1", .port = port, .card = &t, .atr = atr,
					.atrlen = sizeof(atr), .stop = &stop };
		struct esim_err err = { 0 };
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		_exit(vpcd_serve(&s, &err) == 0 ? 0 : 3);
	}
	return pid;
}

/* Read exactly n bytes, at most 20 s (a guard against a hang, not a timing). */
static int read_n(int fd, uint8_t *out, size_t n)
{
	size_t have = 0;

	while (have < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 20000) <= 0)
			return -1;
		r = recv(fd, out + have, n - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return 0;
}

static int accept_one(int lfd)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	if (poll(&p, 1, 20000) <= 0)
		return -1;
	return accept(lfd, NULL, NULL);
}

static void test_frames(void **state)
{
	static const struct {
		const char *what;
		const char *chunks[4];   /* hex, each sent with its own send() */
		const char *want;        /* the frames expected back, hex ("" none) */
	} rows[] = {
		{ "ATR", { "000104" }, "00043B021450" },
		{ "APDU in one piece", { "000400A40400" }, "0004" "01A49000" },
		{ "split after the first length byte", { "00", "0400B0", "0000" }, "0004" "01B09000" },
		{ "two frames in one segment", { "000400CA0000" "000104" }, "000401CA9000" "00043B021450" },
		{ "power off, then an APDU: the card was reset", { "000100", "000400C00000" },
		  "000402C09000" },
		{ "reset", { "000102", "000400C00000" }, "000403C09000" },
		{ "power on", { "000101", "000400C00000" }, "000404C09000" },
		{ "unknown control message ignored", { "000107", "000104" }, "00043B021450" },
		{ "empty frame ignored", { "0000", "000104" }, "00043B021450" },
		{ "too short for an APDU: 6700", { "00020102" }, "00026700" },
		{ "three bytes: 6700", { "0003010203" }, "00026700" },
	};
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	char port[8];
	int lfd, fd, st;
	pid_t pid;
	size_t i, j;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	pid = start_server(port);
	assert_true(pid > 0);
	fd = accept_one(lfd);
	assert_true(fd >= 0);
	/* the connection itself resets the card once: the counter starts at 1 */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t want[64], got[64];
		size_t wl = strlen(rows[i].want) / 2;

		for (j = 0; j < 4 && rows[i].chunks[j]; j++) {
			uint8_t b[64];
			size_t n = strlen(rows[i].chunks[j]) / 2, k;

			for (k = 0; k < n; k++)
				sscanf(rows[i].chunks[j] + 2 * k, "%2hhx", &b[k]);
			assert_int_equal(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
		}
		for (j = 0; j < wl; j++)
			sscanf(rows[i].want + 2 * j, "%2hhx", &want[j]);
		if (read_n(fd, got, wl) < 0 || memcmp(got, want, wl) != 0)
			fail_msg("row %zu (%s): wrong or no answer", i, rows[i].what);
	}
	/* vpcd goes away: the card side connects again by itself, and resets the card */
	close(fd);
	fd = accept_one(lfd);
	assert_true(fd >= 0);
	{
		static const uint8_t apdu[] = { 0x00, 0x04, 0x00, 0xC0, 0x00, 0x00 };
		uint8_t got[6];

		assert_int_equal(send(fd, apdu, sizeof(apdu), MSG_NOSIGNAL), (ssize_t)sizeof(apdu));
		assert_int_equal(read_n(fd, got, sizeof(got)), 0);
		assert_true(got[2] > 4);     /* reset on the loss and on the new connection */
		assert_int_equal(got[3], 0xC0);
	}
	/* SIGTERM: vpcd_serve() returns 0 */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(fd);
	close(lfd);
}

/* Nobody listening at the first attempt: ESIM_E_NOREADER with the vpcd hint. */
static void test_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct apdu_transport t = { .open = fake_open, .transmit = fake_transmit };
	struct vpcd_serve s = { .host = "127.0.0.1", .card = &t, .atr = atr, .atrlen = sizeof(atr),
				.stop = &stop };
	struct esim_err err = { 0 };
	char port[8];
	int fd;

	(void)state;
	/* a port that was free a moment ago and has no listener */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	s.port = port;
	stop = 0;
	assert_int_equal(vpcd_serve(&s, &err), -1);
	close(fd);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_non_null(strstr(err.msg, "cannot connect to vpcd at 127.0.0.1 port"));
	assert_non_null(strstr(err.hint, "vsmartcard-vpcd"));
}

static void test_parse_address(void **state)
{
	static const struct {
		const char *in, *host, *port;   /* host NULL: a usage error */
	} rows[] = {
		{ "127.0.0.1:35963", "127.0.0.1", "35963" },
		{ "localhost:40000", "localhost", "40000" },
		{ "127.0.0.1", "127.0.0.1", "35963" },
		{ "[::1]:35964", "::1", "35964" },
		{ "[::1]", "::1", "35963" },
		{ "::1:35963", NULL, NULL },
		{ "127.0.0.1:0", NULL, NULL },
		{ "127.0.0.1:65536", NULL, NULL },
		{ "127.0.0.1:12ab", NULL, NULL },
		{ "127.0.0.1:", NULL, NULL },
		{ ":35963", NULL, NULL },
		{ "", NULL, NULL },
		{ "[::1", NULL, NULL },
		{ "[::1]x", NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char host[64], port[8];
		struct esim_err err = { 0 };
		int rc = vpcd_parse_address(rows[i].in, host, sizeof(host), port, sizeof(port), &err);

		if (!rows[i].host) {
			if (rc != -1 || err.status != ESIM_E_USAGE)
				fail_msg("row %zu ('%s'): accepted", i, rows[i].in);
			continue;
		}
		if (rc != 0 || strcmp(host, rows[i].host) != 0 || strcmp(port, rows[i].port) != 0)
			fail_msg("row %zu ('%s'): rc %d, '%s' '%s'", i, rows[i].in, rc, rc ? "" : host,
				 rc ? "" : port);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_address),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_frames),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
