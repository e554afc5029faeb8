/* test_atline.c - AT answer parsing (src/core/atline.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/atline.h"

/*
 * Feed a byte stream in chunks of `split` bytes (0: all at once) through the line
 * assembler and the answer parser; return how many bytes were consumed until AT_DONE
 * (or the total when it never finished).
 */
static size_t feed(struct at_answer *a, const char *stream, size_t split)
{
	struct at_lines lb = AT_LINES_INIT;
	size_t n = strlen(stream), i, chunk = split ? split : n;

	for (i = 0; i < n; i += chunk) {
		size_t j, end = i + chunk < n ? i + chunk : n;

		for (j = i; j < end; j++)
			if (at_lines_push(&lb, stream[j]) && at_answer_line(a, lb.line) == AT_DONE)
				return j + 1;
	}
	return n;
}

static void test_answers(void **state)
{
	static const struct {
		const char *cmd, *prefix;
		int bare;
		const char *stream;
		enum at_final final;
		int cme;
		const char *info;    /* NULL: none */
		unsigned ignored;
	} rows[] = {
		/* plain OK, with and without the echo */
		{ "ATE0", NULL, 0, "\r\nOK\r\n", AT_OK, -1, NULL, 0 },
		{ "ATE0", NULL, 0, "ATE0\r\r\nOK\r\n", AT_OK, -1, NULL, 1 },
		{ "ATE0", NULL, 0, "ate0\r\nOK\r\n", AT_OK, -1, NULL, 1 },
		/* CGLA with URCs before, inside and after */
		{ "AT+CGLA=1,10,\"81E2910003\"", "+CGLA:", 0,
		  "AT+CGLA=1,10,\"81E2910003\"\r\r\n+CREG: 1,\"1A2B\"\r\n\r\nRING\r\n"
		  "\r\n+CGLA: 4,\"9000\"\r\n\r\n^RSSI: 17\r\n\r\nOK\r\n+CMTI: \"SM\",1\r\n",
		  AT_OK, -1, "+CGLA: 4,\"9000\"", 4 },
		/* a URC that looks like a number is not taken for CGLA's answer */
		{ "AT+CGLA=1,4,\"8000\"", "+CGLA:", 0, "\r\n42\r\n+CGLA: 4,6A88\r\nOK\r\n", AT_OK, -1,
		  "+CGLA: 4,6A88", 1 },
		/* CCHO: bare session id, or the +CCHO: form */
		{ "AT+CCHO=\"A0000005591010FFFFFFFF8900000100\"", "+CCHO:", 1, "\r\n2\r\n\r\nOK\r\n",
		  AT_OK, -1, "2", 0 },
		{ "AT+CCHO=\"A0\"", "+CCHO:", 1, "\r\n+CCHO: 3\r\nOK\r\n", AT_OK, -1, "+CCHO: 3", 0 },
		/* errors */
		{ "AT+CGLA=5,4,\"8000\"", "+CGLA:", 0, "\r\n+CME ERROR: 21\r\n", AT_CME, 21, NULL, 0 },
		{ "AT+CSIM=4,\"8000\"", "+CSIM:", 0, "\r\n+CME ERROR: SIM busy\r\n", AT_CME, -1, NULL,
		  0 },
		{ "AT+CCHO=\"A0\"", "+CCHO:", 1, "\r\nERROR\r\n", AT_ERROR, -1, NULL, 0 },
		{ "AT+CSIM=4,\"8000\"", "+CSIM:", 0, "\r\n+CMS ERROR: 500 \r\n", AT_CMS, 500, NULL, 0 },
		/* LF only, CR only line ends */
		{ "AT", NULL, 0, "\nOK\n", AT_OK, -1, NULL, 0 },
		{ "AT", NULL, 0, "\rOK\r", AT_OK, -1, NULL, 0 },
		/* "OK" inside a longer line is not a final result */
		{ "AT", NULL, 0, "\r\n+QIND: OK\r\nOKAY\r\nOK\r\n", AT_OK, -1, NULL, 2 },
	};
	size_t i, split;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (split = 0; split <= 7; split++) {
			struct at_answer a;

			at_answer_init(&a, rows[i].cmd, rows[i].prefix, rows[i].bare);
			feed(&a, rows[i].stream, split);
			if (a.final != rows[i].final || a.cme != rows[i].cme)
				fail_msg("row %zu split %zu: final %d cme %d", i, split, a.final, a.cme);
			if (rows[i].info ? !a.have_info || strcmp(a.info, rows[i].info) : a.have_info)
				fail_msg("row %zu split %zu: info '%s'", i, split, a.info);
			if (a.ignored != rows[i].ignored)
				fail_msg("row %zu split %zu: %u ignored", i, split, a.ignored);
		}
	}
}

/* Bytes after the final result code are not consumed: they belong to the next URC. */
static void test_stops_at_final(void **state)
{
	const char *s = "\r\nOK\r\n\r\nRING\r\n";
	struct at_answer a;
	size_t used;

	(void)state;
	at_answer_init(&a, "AT", NULL, 0);
	used = feed(&a, s, 1);
	assert_int_equal(a.final, AT_OK);
	assert_int_equal(used, 5);   /* up to the CR that ends "OK" */
	assert_int_equal(at_answer_line(&a, "ERROR"), AT_DONE);
	assert_int_equal(a.final, AT_OK);
}

static void test_long_line(void **state)
{
	struct at_lines lb = AT_LINES_INIT;
	size_t i;
	int done = 0;

	(void)state;
	for (i = 0; i < AT_LINE_MAX + 50; i++)
		done |= at_lines_push(&lb, 'A');
	assert_int_equal(done, 0);
	assert_int_equal(at_lines_push(&lb, '\r'), 1);
	assert_int_equal(strlen(lb.line), AT_LINE_MAX);
	assert_int_equal(lb.overflow, 1);
	assert_int_equal(at_lines_push(&lb, 'O'), 0);
	assert_int_equal(lb.overflow, 0);
	assert_int_equal(at_lines_push(&lb, '\0'), 0);   /* NUL bytes are dropped */
	assert_int_equal(at_lines_push(&lb, 'K'), 0);
	assert_int_equal(at_lines_push(&lb, '\n'), 1);
	assert_string_equal(lb.line, "OK");
}

static void test_hex_info(void **state)
{
	static const struct {
		const char *info;
		int ok;
		const char *bytes; /* hex of the expected bytes */
	} rows[] = {
		{ "+CGLA: 4,\"9000\"", 1, "9000" },
		{ "+CGLA:4,9000", 1, "9000" },
		{ "+CGLA: 8,\"bf2e6a88\"", 1, "BF2E6A88" },
		{ "+CGLA: 8,\"Bf2E6a88\" ", 1, "BF2E6A88" },
		{ "+CGLA: 0,\"\"", 1, "" },
		{ "+CGLA: 3,\"900\"", 0, NULL },     /* odd length */
		{ "+CGLA: 6,\"9000\"", 0, NULL },    /* length says 6 */
		{ "+CGLA: 4,\"90G0\"", 0, NULL },    /* not hex */
		{ "+CGLA: 4,\"9000", 0, NULL },      /* unterminated quote */
		{ "+CGLA: 4,\"9000\"x", 0, NULL },
		{ "+CGLA: -4,\"9000\"", 0, NULL },
		{ "+CGLA: \"9000\"", 0, NULL },      /* no length */
		{ "+CSIM: 4,\"9000\"", 0, NULL },    /* other prefix */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t out[8];
		size_t len = 99, k;
		struct esim_err err;
		char hex[20] = "";
		int rc = at_parse_hex_info(rows[i].info, "+CGLA:", out, sizeof(out), &len, &err);

		if ((rc == 0) != rows[i].ok)
			fail_msg("row %zu '%s': rc %d", i, rows[i].info, rc);
		if (!rows[i].ok) {
			assert_int_equal(err.status, ESIM_E_EUICC);
			continue;
		}
		for (k = 0; k < len; k++)
			sprintf(hex + 2 * k, "%02X", out[k]);
		assert_string_equal(hex, rows[i].bytes);
	}
	{
		/* longer than the caller's buffer */
		uint8_t out[1];
		size_t len;
		struct esim_err err;

		assert_int_equal(at_parse_hex_info("+CSIM: 4,\"9000\"", "+CSIM:", out, 1, &len, &err),
				 -1);
	}
}

static void test_session(void **state)
{
	static const struct {
		const char *info;
		long session; /* -1: invalid */
	} rows[] = {
		{ "1", 1 }, { "+CCHO: 2", 2 }, { "+CCHO:19", 19 }, { "3 ", 3 },
		{ "", -1 }, { "+CCHO: ", -1 }, { "x1", -1 }, { "1x", -1 }, { "99999", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long s = -7;
		struct esim_err err;
		int rc = at_parse_session(rows[i].info, &s, &err);

		if (rows[i].session < 0 ? rc != -1 : rc != 0 || s != rows[i].session)
			fail_msg("row %zu '%s': rc %d session %ld", i, rows[i].info, rc, s);
	}
}

static void test_format(void **state)
{
	static const uint8_t apdu[] = { 0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x3E, 0x00 };
	char out[64];

	(void)state;
	assert_int_equal(at_format_apdu(out, sizeof(out), 1, apdu, sizeof(apdu)), 31);
	assert_string_equal(out, "AT+CGLA=1,16,\"81E2910003BF3E00\"");
	assert_int_equal(at_format_apdu(out, sizeof(out), -1, apdu, 4), 20);
	assert_string_equal(out, "AT+CSIM=8,\"81E29100\"");
	assert_int_equal(at_format_apdu(out, 20, 1, apdu, sizeof(apdu)), -1);
}

static void test_cme(void **state)
{
	static const struct {
		int code;
		const char *name;
		enum esim_status status;
	} rows[] = {
		{ 3, "operation not allowed", ESIM_E_EUICC },
		{ 4, "operation not supported", ESIM_E_EUICC },
		{ 10, "SIM not inserted", ESIM_E_NOREADER },
		{ 13, "SIM failure", ESIM_E_NOREADER },
		{ 14, "SIM busy", ESIM_E_NOREADER },
		{ 21, "invalid index", ESIM_E_EUICC },
		{ 50, "incorrect parameters", ESIM_E_EUICC },
		{ 9999, NULL, ESIM_E_EUICC },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *n = at_cme_name(rows[i].code);

		if (rows[i].name ? !n || strcmp(n, rows[i].name) : n != NULL)
			fail_msg("code %d: name '%s'", rows[i].code, n ? n : "(null)");
		assert_int_equal(at_cme_status(rows[i].code), rows[i].status);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_stops_at_final),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_hex_info),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_cme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
