/* test_timeutil.c - ISO 8601 parsing/formatting and durations (src/core/timeutil.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/timeutil.h"

struct tp_case {
	const char *in;
	int ok;
	int64_t t;       /* when ok */
	const char *err; /* substring of err.msg when not ok */
};

#define OK(in, t) { in, 1, t, NULL }
#define BAD(in, sub) { in, 0, 0, sub }

static const struct tp_case cases[] = {
	OK("1970-01-01T00:00:00Z", 0),
	OK("1970-01-01", 0),
	OK("1970-01-01T00:00Z", 0),
	OK("1969-12-31T23:59:59Z", -1),
	OK("2026-11-21T10:00:00Z", 1795255200),
	OK("2026-11-21T10:00Z", 1795255200),
	OK("2026-11-21 10:00:00Z", 1795255200),
	OK("2026-11-21t10:00:00z", 1795255200),
	OK("2026-11-21T10:00:00.999Z", 1795255200),
	OK("2026-11-21T10:00:00.0Z", 1795255200),
	OK("2026-11-21T10:00.5Z", 1795255200),
	OK("2026-11-21T12:00:00+02:00", 1795255200),
	OK("2026-11-21T05:00:00-05:00", 1795255200),
	OK("2026-11-21T15:30:00+05:30", 1795255200),
	OK("2026-11-21T10:00:00+00:00", 1795255200),
	OK("2026-11-21T10:00:00-00:00", 1795255200),
	OK("2026-11-21T10:00:00.25+02:00", 1795255200 - 7200),
	OK("2026-01-01T00:30:00+01:00", 1767223800),
	OK("2026-11-21", 1795255200 - 36000),
	OK("2000-02-29T12:00:00Z", 951825600),
	OK("1600-02-29T06:07:08Z", -11670976372LL),
	OK("1900-03-01", -2203891200LL),
	OK("2100-02-28", 4107456000LL),
	OK("2038-01-19T03:14:08Z", 2147483648LL),
	OK("0000-01-01T00:00:00Z", -62167219200LL),
	OK("9999-12-31T23:59:59Z", 253402300799LL),
	OK("9999-12-31T23:59:59-14:00", 253402300799LL + 14 * 3600),
	OK("2026-12-31T23:59:59Z", 1798761599),

	/* calendar */
	BAD("2026-02-30", "time '2026-02-30': day 30 is out of range for February 2026 (01-28)"),
	BAD("2026-02-29", "day 29 is out of range for February 2026 (01-28)"),
	BAD("1900-02-29", "day 29 is out of range for February 1900 (01-28)"),
	BAD("2024-02-30", "day 30 is out of range for February 2024 (01-29)"),
	BAD("2026-04-31", "day 31 is out of range for April 2026 (01-30)"),
	BAD("2026-01-32", "day 32 is out of range for January 2026 (01-31)"),
	BAD("2026-11-00", "day 00 is out of range"),
	BAD("2026-13-01", "month 13 is out of range (01-12)"),
	BAD("2026-00-10", "month 00 is out of range (01-12)"),

	/* clock */
	BAD("2026-11-21T24:00:00Z", "hour 24 is out of range (00-23)"),
	BAD("2026-11-21T10:60:00Z", "minute 60 is out of range (00-59)"),
	BAD("2026-11-21T10:00:60Z", "second 60 is out of range (00-59)"),
	BAD("2026-11-21T99:00Z", "hour 99"),

	/* zones */
	BAD("2026-11-21T10:00:00", "missing time zone (add 'Z' for UTC)"),
	BAD("2026-11-21T10:00", "missing time zone"),
	BAD("2026-11-21T10:00:00+24:00", "zone offset hour 24 is out of range (00-14)"),
	/* offsets in use: -12:00 to +14:00, minutes 00, 15, 30 or 45 */
	OK("2026-11-21T10:00:00+14:00", 1795255200 - 14 * 3600),
	OK("2026-11-21T10:00:00-14:00", 1795255200 + 14 * 3600),
	OK("2026-11-21T10:00:00+05:45", 1795255200 - 5 * 3600 - 45 * 60),
	OK("2026-11-21T10:00:00-09:30", 1795255200 + 9 * 3600 + 30 * 60),
	OK("2026-11-21T10:00:00+08:45", 1795255200 - 8 * 3600 - 45 * 60),
	OK("2026-11-21T10:00:00-00:00", 1795255200),
	BAD("2026-11-21T10:00:00+15:00", "zone offset hour 15 is out of range (00-14)"),
	BAD("2026-11-21T10:00:00-23:59", "zone offset hour 23 is out of range (00-14)"),
	BAD("2026-11-21T10:00:00+14:15", "zone offset +14:15 is beyond +14:00"),
	BAD("2026-11-21T10:00:00-14:30", "zone offset -14:30 is beyond -14:00"),
	BAD("2026-11-21T10:00:00+14:01", "zone offset +14:01 is beyond +14:00"),
	BAD("2026-11-21T10:00:00+05:03", "zone offset minute 03 is not 00, 15, 30 or 45"),
	BAD("2026-11-21T10:00:00-03:59", "zone offset minute 59 is not 00, 15, 30 or 45"),
	BAD("2026-11-21T10:00:00+02:60", "zone offset minute 60 is out of range (00-59)"),
	BAD("2026-11-21T10:00:00+0200", "expected ':' after the zone offset hour at position 23"),
	BAD("2026-11-21T10:00:00+02", "expected ':' after the zone offset hour"),
	BAD("2026-11-21T10:00:00+2:00", "expected 2-digit zone offset hour at position 21"),
	BAD("2026-11-21T10:00:00 Z", "expected time zone 'Z', '+HH:MM' or '-HH:MM' at position 20"),
	BAD("2026-11-21T10:00:00UTC", "expected time zone"),
	BAD("2026-11-21T10:00:00ZZ", "unexpected 'Z' at position 21 after the time zone"),
	BAD("2026-11-21T10:00:00Z ", "unexpected ' ' at position 21"),
	BAD("2026-11-21T10:00:00+02:00x", "unexpected 'x' at position 26"),

	/* syntax of each part */
	BAD("", "time: empty"),
	BAD("26-11-21", "time '26-11-21': expected 4-digit year at position 1"),
	BAD("+2026-11-21", "expected 4-digit year"),
	BAD("20261121", "expected '-' after the year at position 5"),
	BAD("2026/11/21", "expected '-' after the year"),
	BAD("2026-1-21", "expected 2-digit month at position 6"),
	BAD("2026-11-1", "expected 2-digit day at position 9"),
	BAD("2026-11", "expected '-' after the month at position 8"),
	BAD("2026-11-21X10:00Z", "expected 'T' or the end after the date at position 11"),
	BAD("2026-11-21T", "expected 2-digit hour at position 12"),
	BAD("2026-11-21T10Z", "expected ':' after the hour at position 14"),
	BAD("2026-11-21T10:0Z", "expected 2-digit minute at position 15"),
	BAD("2026-11-21T10:00:Z", "expected 2-digit second at position 18"),
	BAD("2026-11-21T10:00:00.Z", "expected digits of the fraction at position 21"),
	BAD(" 2026-11-21", "expected 4-digit year"),
	BAD("2026-11-21 ", "expected 2-digit hour"),
	BAD("2026-11-21\n", "expected 'T' or the end after the date"),
};

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tp_case *c = &cases[i];
		struct esim_err err;
		int64_t t = 12345;
		int rc;

		esim_err_clear(&err);
		rc = time_parse(c->in, &t, &err);
		if (c->ok) {
			if (rc != 0)
				fail_msg("row %zu '%s': unexpected error: %s", i, c->in, err.msg);
			if (t != c->t)
				fail_msg("row %zu '%s': got %lld, expected %lld", i, c->in,
					 (long long)t, (long long)c->t);
			continue;
		}
		if (rc != -1)
			fail_msg("row %zu '%s': accepted, expected \"%s\"", i, c->in, c->err);
		assert_int_equal(err.status, ESIM_E_USAGE);
		if (!strstr(err.msg, c->err))
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", i, err.msg, c->err);
		assert_non_null(strstr(err.hint, "YYYY-MM-DD"));
		assert_true(t == 0);
	}
}

static void test_parse_null(void **state)
{
	struct esim_err err;
	int64_t t = 1;
	char longer[100];

	(void)state;
	assert_int_equal(time_parse(NULL, &t, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(time_parse("2026-11-21", NULL, NULL), 0);
	assert_int_equal(time_parse("2026-11-31", NULL, NULL), -1);
	/* long and unprintable input is quoted short and clean */
	memset(longer, '9', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[2] = '\x1b';
	assert_int_equal(time_parse(longer, &t, &err), -1);
	assert_non_null(strstr(err.msg, "time '99?9999999999999999999999999999999999999...': "));
}

static void test_format(void **state)
{
	static const struct {
		int64_t t;
		const char *out;
	} rows[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59Z" },
		{ 1795255200, "2026-11-21T10:00:00Z" },
		{ 951825600, "2000-02-29T12:00:00Z" },
		{ 951868799, "2000-02-29T23:59:59Z" },
		{ 951868800, "2000-03-01T00:00:00Z" },
		{ -11670976372LL, "1600-02-29T06:07:08Z" },
		{ -2203891200LL, "1900-03-01T00:00:00Z" },
		{ 4107456000LL, "2100-02-28T00:00:00Z" },
		{ 2147483648LL, "2038-01-19T03:14:08Z" },
		{ -62167219200LL, "0000-01-01T00:00:00Z" },
		{ 253402300799LL, "9999-12-31T23:59:59Z" },
		/* clamped */
		{ -62167219201LL, "0000-01-01T00:00:00Z" },
		{ 253402300800LL, "9999-12-31T23:59:59Z" },
		{ INT64_MIN, "0000-01-01T00:00:00Z" },
		{ INT64_MAX, "9999-12-31T23:59:59Z" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[TIME_ISO_LEN + 1];

		out[TIME_ISO_LEN] = 'x';
		time_format(rows[i].t, out);
		assert_string_equal(out, rows[i].out);
		assert_int_equal(out[TIME_ISO_LEN], 'x');
	}
}

/* Independent calendar walk: every day 0000..9999 parses to the next midnight. */
static void test_every_day(void **state)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t expect = -62167219200LL;
	int y, m, d;

	(void)state;
	for (y = 0; y <= 9999; y++) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		for (m = 1; m <= 12; m++) {
			int n = mdays[m - 1] + (m == 2 && leap);

			for (d = 1; d <= n; d++) {
				char in[32], out[TIME_ISO_LEN];
				int64_t t;
				struct esim_err err;

				snprintf(in, sizeof(in), "%04d-%02d-%02d", y, m, d);
				if (time_parse(in, &t, &err) != 0)
					fail_msg("'%s': %s", in, err.msg);
				if (t != expect)
					fail_msg("'%s': got %lld, expected %lld", in, (long long)t,
						 (long long)expect);
				time_format(t + 86399, out);
				if (memcmp(out, in, 10) != 0 || strcmp(out + 10, "T23:59:59Z") != 0)
					fail_msg("%lld formatted as '%s'", (long long)(t + 86399), out);
				expect += 86400;
			}
			/* the day after the last is rejected */
			{
				char in[32];

				snprintf(in, sizeof(in), "%04d-%02d-%02d", y, m, n + 1);
				assert_int_equal(time_parse(in, NULL, NULL), -1);
			}
		}
	}
	assert_int_equal(expect, 253402300800LL);
}

/* format -> parse is the identity over the range, at odd seconds too. */
static void test_format_parse(void **state)
{
	int64_t t;

	(void)state;
	for (t = -62167219200LL; t <= 253402300799LL; t += 7777777) {
		char out[TIME_ISO_LEN];
		int64_t back;
		struct esim_err err;

		time_format(t, out);
		if (time_parse(out, &back, &err) != 0)
			fail_msg("'%s': %s", out, err.msg);
		assert_int_equal(back, t);
	}
}

static void test_duration(void **state)
{
	static const struct {
		int64_t s;
		const char *out;
	} rows[] = {
		{ 0, "0s" },
		{ 1, "1s" },
		{ 45, "45s" },
		{ 59, "59s" },
		{ 60, "1 min" },
		{ 119, "1 min" },
		{ 720, "12 min" },
		{ 3599, "59 min" },
		{ 3600, "1 h 00 min" },
		{ 7500, "2 h 05 min" },
		{ 7559, "2 h 05 min" },
		{ 86399, "23 h 59 min" },
		{ 86400, "1 d 0 h" },
		{ 97200, "1 d 3 h" },
		{ 100799, "1 d 3 h" },
		{ 30 * 86400 + 23 * 3600, "30 d 23 h" },
		{ -45, "-45s" },
		{ -720, "-12 min" },
		{ -7500, "-2 h 05 min" },
		{ -97200, "-1 d 3 h" },
		{ INT64_MAX, "106751991167300 d 15 h" },
		{ INT64_MIN, "-106751991167300 d 15 h" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];

		duration_format(rows[i].s, out, sizeof(out));
		if (strcmp(out, rows[i].out) != 0)
			fail_msg("%lld: got '%s', expected '%s'", (long long)rows[i].s, out,
				 rows[i].out);
	}
}

static void test_duration_small_buffer(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	duration_format(7500, out, 5);
	assert_string_equal(out, "2 h ");
	assert_int_equal(out[5], 'x');
	duration_format(7500, out, 1);
	assert_string_equal(out, "");
	out[0] = 'x';
	duration_format(7500, out, 0);
	assert_int_equal(out[0], 'x');
	duration_format(7500, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_null),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
