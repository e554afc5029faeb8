/* test_ids.c - EID/ICCID/IMEI validation and BCD coding (src/core/ids.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/ids.h"

static void test_luhn_valid(void **state)
{
	static const struct {
		const char *in;
		int valid;
	} rows[] = {
		{ "79927398713", 1 },
		{ "79927398710", 0 },
		{ "79927398714", 0 },
		{ "89000123456789012341", 1 },
		{ "89000123456789012342", 0 },
		{ "8949449999999990031", 1 },
		{ "89014103211118510720", 1 },
		{ "490154203237518", 1 },
		{ "490154203237517", 0 },
		{ "0", 1 },
		{ "00", 1 },
		{ "18", 1 },
		{ "", 0 },
		{ "7992739871a", 0 },
		{ " 79927398713", 0 },
		{ "-79927398713", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (luhn_valid(rows[i].in) != rows[i].valid)
			fail_msg("row %zu '%s': expected %d", i, rows[i].in, rows[i].valid);
	assert_int_equal(luhn_valid(NULL), 0);
}

static void test_luhn_digit(void **state)
{
	static const struct {
		const char *in;
		int digit;
	} rows[] = {
		{ "7992739871", 3 },
		{ "8900012345678901234", 1 },
		{ "894944999999999003", 1 },
		{ "8901410321111851072", 0 },
		{ "49015420323751", 8 },
		{ "", 0 },
		{ "0", 0 },
		{ "1", 8 },
		{ "9", 1 },
		{ "12a", -1 },
		{ "1 2", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (luhn_digit(rows[i].in) != rows[i].digit)
			fail_msg("row %zu '%s': got %d, expected %d", i, rows[i].in,
				 luhn_digit(rows[i].in), rows[i].digit);
	assert_int_equal(luhn_digit(NULL), -1);
}

/* For many payloads: appending luhn_digit validates; every other last digit does not. */
static void test_luhn_property(void **state)
{
	uint32_t x = 12345;
	size_t i, len, k;

	(void)state;
	for (i = 0; i < 2000; i++) {
		char s[24];
		int d;

		len = 1 + i % 20;
		for (k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			s[k] = (char)('0' + (x >> 16) % 10);
		}
		s[len] = '\0';
		d = luhn_digit(s);
		assert_true(d >= 0 && d <= 9);
		for (k = 0; k < 10; k++) {
			s[len] = (char)('0' + k);
			s[len + 1] = '\0';
			assert_int_equal(luhn_valid(s), (int)k == d);
		}
	}
}

struct id_case {
	const char *in;
	int ok;
	const char *err; /* substring of err.msg when not ok */
};

static void run_id_table(int (*fn)(const char *, struct esim_err *), const struct id_case *rows,
			 size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct esim_err err;
		int rc;

		esim_err_clear(&err);
		rc = fn(rows[i].in, &err);
		if (rows[i].ok) {
			if (rc != 0)
				fail_msg("row %zu '%s': unexpected error: %s", i, rows[i].in, err.msg);
			assert_string_equal(err.msg, "");
			continue;
		}
		if (rc != -1)
			fail_msg("row %zu '%s': accepted, expected \"%s\"", i, rows[i].in, rows[i].err);
		assert_int_equal(err.status, ESIM_E_USAGE);
		if (!strstr(err.msg, rows[i].err))
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", i, err.msg, rows[i].err);
	}
}

static void test_eid_validate(void **state)
{
	static const struct id_case rows[] = {
		{ "89049032123451234512345678901235", 1, NULL },
		{ "89086030202200000022000023022943", 1, NULL },
		{ "89044045116727494800000004479366", 1, NULL },
		{ "89049032123451234512345678901234",
		  0, "EID '89049032123451234512345678901234': check digits do not match (EID mod 97 must be 1)" },
		{ "89049032123451234512345678901253", 0, "check digits do not match" },
		{ "98049032123451234512345678901235", 0, "check digits do not match" },
		{ "8904903212345123451234567890123", 0,
		  "EID '8904903212345123451234567890123': 31 digits, must be exactly 32" },
		{ "890490321234512345123456789012350", 0, "33 digits, must be exactly 32" },
		{ "8904903212345123451234567890123A", 0,
		  "character 'A' at position 32 is not a decimal digit" },
		{ "89049032 123451234512345678901235", 0, "byte 0x20 at position 9" },
		{ "89049032-12345123-45123456-78901235", 0, "character '-' at position 9" },
		{ "", 0, "EID: empty" },
		{ NULL, 0, "EID: empty" },
	};

	(void)state;
	run_id_table(eid_validate, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_eid_hint(void **state)
{
	struct esim_err err;

	(void)state;
	assert_int_equal(eid_validate("89049032123451234512345678901200", &err), -1);
	assert_string_equal(err.hint, "with these first 30 digits the check digits would be 35");
	assert_int_equal(eid_validate("89086030202200000022000023022999", &err), -1);
	assert_non_null(strstr(err.hint, "would be 43"));
	assert_int_equal(eid_validate("89044045116727494800000004479300", &err), -1);
	assert_non_null(strstr(err.hint, "would be 66"));
}

/* Check digits computed as GSMA SGP.29 §10 says make valid EIDs. */
static void test_eid_generated(void **state)
{
	uint32_t x = 99;
	size_t i, k;

	(void)state;
	for (i = 0; i < 500; i++) {
		char eid[33];
		unsigned m = 0, cd;
		struct esim_err err;

		memcpy(eid, "89049032", 8);
		for (k = 8; k < 30; k++) {
			x = x * 1103515245u + 12345u;
			eid[k] = (char)('0' + (x >> 16) % 10);
		}
		eid[30] = eid[31] = '0';
		eid[32] = '\0';
		for (k = 0; k < 32; k++)
			m = (m * 10 + (unsigned)(eid[k] - '0')) % 97;
		cd = 98 - m;
		eid[30] = (char)('0' + cd / 10);
		eid[31] = (char)('0' + cd % 10);
		if (eid_validate(eid, &err) != 0)
			fail_msg("'%s': %s", eid, err.msg);
		eid[31] = (char)('0' + (cd + 1) % 10);
		assert_int_equal(eid_validate(eid, &err), -1);
	}
}

static void test_iccid_validate(void **state)
{
	static const struct id_case rows[] = {
		{ "89000123456789012341", 1, NULL },
		{ "8949449999999990031", 1, NULL },
		{ "89014103211118510720", 1, NULL },
		{ "894400000000000002", 1, NULL }, /* 18 digits, checked below */
		{ "00000000000000000000", 1, NULL }, /* no '89' prefix needed */
		{ "89000123456789012340", 0,
		  "ICCID '89000123456789012340': Luhn check digit does not match (last digit must be 1)" },
		{ "8949449999999990032", 0, "last digit must be 1" },
		{ "89440000000000000", 0, "ICCID '89440000000000000': 17 digits, must be 18 to 20" },
		{ "890001234567890123410", 0, "21 digits, must be 18 to 20" },
		{ "8900012345678901234F", 0, "character 'F' at position 20 is not a decimal digit" },
		{ "89 000123456789012341", 0, "byte 0x20 at position 3" },
		{ "", 0, "ICCID: empty" },
		{ NULL, 0, "ICCID: empty" },
	};

	(void)state;
	/* the 18-digit row is valid by construction */
	assert_int_equal(luhn_digit("89440000000000000"), 2);
	run_id_table(iccid_validate, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_imei_validate(void **state)
{
	static const struct id_case rows[] = {
		{ "490154203237518", 1, NULL },
		{ "356938035643809", 1, NULL },
		{ "490154203237519", 0,
		  "IMEI '490154203237519': Luhn check digit does not match (last digit must be 8)" },
		{ "49015420323751", 0, "14 digits, must be exactly 15" },
		{ "4901542032375180", 0, "16 digits, must be exactly 15" },
		{ "49-015420-323751-8", 0, "character '-' at position 3" },
		{ "", 0, "IMEI: empty" },
		{ NULL, 0, "IMEI: empty" },
	};

	(void)state;
	assert_int_equal(luhn_digit("35693803564380"), 9);
	run_id_table(imei_validate, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Long or binary input is quoted shortened and printable. */
static void test_message_quoting(void **state)
{
	char s[200];
	struct esim_err err;

	(void)state;
	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(eid_validate(s, &err), -1);
	assert_non_null(strstr(err.msg, "EID '1111111111111111111111111111111111111111...': 199 digits"));
	assert_int_equal(iccid_validate("8900\x1b[31m", &err), -1);
	assert_non_null(strstr(err.msg, "ICCID '8900?[31m': byte 0x1B at position 5"));
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, i + 1 < n ? "%02X " : "%02X", b[i]);
}

static void test_iccid_bcd(void **state)
{
	static const struct {
		const char *iccid;
		const char *bcd;
	} rows[] = {
		/* ETSI TS 102 221 §13.2 */
		{ "89000123456789012341", "98 00 10 32 54 76 98 10 32 14" },
		{ "8949449999999990031", "98 94 44 99 99 99 99 09 30 F1" },
		{ "894400000000000002", "98 44 00 00 00 00 00 00 20 FF" },
		{ "89014103211118510720", "98 10 14 30 12 11 81 15 70 02" },
		{ "1", "F1 FF FF FF FF FF FF FF FF FF" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t b[10];
		char h[31], back[21];

		assert_int_equal(iccid_to_bcd(rows[i].iccid, b), 0);
		hex(b, sizeof(b), h);
		assert_string_equal(h, rows[i].bcd);
		memset(back, 'x', sizeof(back));
		assert_int_equal(iccid_from_bcd(b, back), 0);
		assert_string_equal(back, rows[i].iccid);
	}
}

static void test_iccid_bcd_errors(void **state)
{
	static const char *const bad_in[] = {
		"", "890001234567890123410", "8900012345678901234F", "89 00", "-1",
	};
	static const uint8_t bad_bcd[][10] = {
		{ 0x98, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x1A }, /* A nibble */
		{ 0x98, 0x00, 0x10, 0x32, 0xF4, 0x76, 0x98, 0x10, 0x32, 0x14 }, /* F then digits */
		{ 0x98, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x1F }, /* F low nibble, 1 after */
		{ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* no digits */
		{ 0xC8, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x14 }, /* C nibble */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_in) / sizeof(bad_in[0]); i++) {
		uint8_t b[10];

		if (iccid_to_bcd(bad_in[i], b) != -1)
			fail_msg("'%s' encoded", bad_in[i]);
	}
	{
		uint8_t b[10];

		assert_int_equal(iccid_to_bcd(NULL, b), -1);
	}
	for (i = 0; i < sizeof(bad_bcd) / sizeof(bad_bcd[0]); i++) {
		char out[21];

		memset(out, 'x', sizeof(out));
		if (iccid_from_bcd(bad_bcd[i], out) != -1)
			fail_msg("row %zu decoded to '%s'", i, out);
		assert_string_equal(out, "");
	}
}

static void test_eid_bcd(void **state)
{
	static const char *const eids[] = {
		"89049032123451234512345678901235",
		"89086030202200000022000023022943",
		"89044045116727494800000004479366",
		"00000000000000000000000000000000",
		"99999999999999999999999999999999",
	};
	uint8_t b[16];
	char h[48], out[33];
	size_t i;

	(void)state;
	assert_int_equal(eid_to_bcd(eids[0], b), 0);
	hex(b, sizeof(b), h);
	/* GSMA SGP.29 §10 */
	assert_string_equal(h, "89 04 90 32 12 34 51 23 45 12 34 56 78 90 12 35");
	for (i = 0; i < sizeof(eids) / sizeof(eids[0]); i++) {
		assert_int_equal(eid_to_bcd(eids[i], b), 0);
		memset(out, 'x', sizeof(out));
		assert_int_equal(eid_from_bcd(b, out), 0);
		assert_string_equal(out, eids[i]);
	}
	/* wrong length or alphabet */
	assert_int_equal(eid_to_bcd("8904903212345123451234567890123", b), -1);
	assert_int_equal(eid_to_bcd("890490321234512345123456789012350", b), -1);
	assert_int_equal(eid_to_bcd("8904903212345123451234567890123F", b), -1);
	assert_int_equal(eid_to_bcd("", b), -1);
	assert_int_equal(eid_to_bcd(NULL, b), -1);
	/* non-BCD nibbles, high and low */
	assert_int_equal(eid_to_bcd(eids[0], b), 0);
	b[15] = 0x3A;
	assert_int_equal(eid_from_bcd(b, out), -1);
	assert_string_equal(out, "");
	b[15] = 0x35;
	b[0] = 0xF9;
	assert_int_equal(eid_from_bcd(b, out), -1);
}

static void test_imei_bcd(void **state)
{
	uint8_t b[8];
	char h[24];

	(void)state;
	assert_int_equal(imei_to_bcd("490154203237518", b), 0);
	hex(b, sizeof(b), h);
	assert_string_equal(h, "94 10 45 02 23 73 15 F8");
	assert_int_equal(imei_to_bcd("35693803564380", b), -1);
	assert_int_equal(imei_to_bcd("3569380356438090", b), -1);
	assert_int_equal(imei_to_bcd("35693803564380X", b), -1);
	assert_int_equal(imei_to_bcd(NULL, b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_luhn_valid),
		cmocka_unit_test(test_luhn_digit),
		cmocka_unit_test(test_luhn_property),
		cmocka_unit_test(test_eid_validate),
		cmocka_unit_test(test_eid_hint),
		cmocka_unit_test(test_eid_generated),
		cmocka_unit_test(test_iccid_validate),
		cmocka_unit_test(test_imei_validate),
		cmocka_unit_test(test_message_quoting),
		cmocka_unit_test(test_iccid_bcd),
		cmocka_unit_test(test_iccid_bcd_errors),
		cmocka_unit_test(test_eid_bcd),
		cmocka_unit_test(test_imei_bcd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
