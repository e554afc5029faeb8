/* test_isdr.c - ISD-R AIDs: parsing, the table of known alternatives (src/core/isdr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/es10.h"
#include "esimctl/isdr.h"

static void test_parse(void **state)
{
	static const struct {
		const char *in;
		size_t len;          /* 0: refused */
		const char *msg;     /* part of the message when refused */
	} rows[] = {
		{ "A0000005591010FFFFFFFF8900000100", 16, NULL },
		{ "a0000005591010ffffffff8900050500", 16, NULL },
		{ "A000000559", 5, NULL },                      /* shortest: 5 bytes */
		{ "D276000085", 5, NULL },                      /* national registration */
		{ "F012345678", 5, NULL },                      /* proprietary */
		{ "1234567890", 5, NULL },                      /* ISO/IEC 7812 category */
		{ "A0000005", 0, "4 bytes; an AID has 5 to 16" },
		{ "A0000005591010FFFFFFFF890005050000", 0, "17 bytes" },
		{ "A00000055", 0, "odd number of hex digits (9)" },
		{ "A0000005G9", 0, "'G' at position 9 is not a hex digit" },
		{ "A0 00 00 05 59", 0, "' ' at position 3" },
		{ "B000000559", 0, "category 'B'" },
		{ "C000000559", 0, "category 'C'" },
		{ "", 0, "empty" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct esim_err err = { 0 };
		uint8_t aid[ISDR_AID_MAX];
		size_t len = 99;
		int rc = isdr_aid_parse(rows[i].in, "--isdr-aid", aid, &len, &err);

		if (rows[i].len) {
			if (rc != 0 || len != rows[i].len)
				fail_msg("'%s': rc %d len %zu (%s)", rows[i].in, rc, len, err.msg);
		} else {
			if (rc != -1 || len != 0 || err.status != ESIM_E_USAGE || !strstr(err.msg, rows[i].msg) ||
			    !strstr(err.msg, "--isdr-aid"))
				fail_msg("'%s': rc %d status %d msg '%s', wanted '%s'", rows[i].in, rc, err.status,
					 err.msg, rows[i].msg);
		}
	}
}

static void test_hex_roundtrip(void **state)
{
	uint8_t aid[ISDR_AID_MAX];
	char hex[ISDR_AID_HEX];
	size_t len;

	(void)state;
	assert_int_equal(isdr_aid_parse("a06573746b6d65ffffffff4953442d52", NULL, aid, &len, NULL), 0);
	assert_string_equal(isdr_aid_hex(aid, len, hex), "A06573746B6D65FFFFFFFF4953442D52");
	assert_string_equal(isdr_aid_vendor(aid, len), "eSTK.me");
}

/* The table as published (isdr.c names the sources). */
static void test_table(void **state)
{
	static const struct {
		const char *vendor, *hex;
	} want[] = {
		{ "standard", "A0000005591010FFFFFFFF8900000100" },
		{ "5ber.eSIM", "A0000005591010FFFFFFFF8900050500" },
		{ "eSIM.me", "A0000005591010000000008900000300" },
		{ "Xesim", "A0000005591010FFFFFFFF8900000177" },
		{ "eSTK.me", "A06573746B6D65FFFFFFFF4953442D52" },
	};
	char hex[ISDR_AID_HEX];

	(void)state;
	assert_int_equal(isdr_known_count, sizeof(want) / sizeof(want[0]));
	assert_true(isdr_known_count <= ISDR_KNOWN_MAX);
	for (size_t i = 0; i < isdr_known_count; i++) {
		assert_string_equal(isdr_known[i].vendor, want[i].vendor);
		assert_string_equal(isdr_aid_hex(isdr_known[i].aid, isdr_known[i].len, hex), want[i].hex);
		assert_non_null(isdr_known[i].source);
		assert_ptr_equal(isdr_aid_lookup(isdr_known[i].aid, isdr_known[i].len), &isdr_known[i]);
		for (size_t j = 0; j < i; j++)   /* no AID twice */
			assert_false(isdr_known[j].len == isdr_known[i].len &&
				     !memcmp(isdr_known[j].aid, isdr_known[i].aid, isdr_known[i].len));
	}
	/* The standard one first, and the same as the ES10 client's. */
	assert_ptr_equal(ISDR_STANDARD, &isdr_known[0]);
	assert_memory_equal(ISDR_STANDARD->aid, es10_isdr_aid, sizeof(es10_isdr_aid));
	assert_true(isdr_aid_is_standard(es10_isdr_aid, sizeof(es10_isdr_aid)));
	assert_false(isdr_aid_is_standard(isdr_known[1].aid, isdr_known[1].len));
	/* A prefix is not the AID. */
	assert_null(isdr_aid_lookup(es10_isdr_aid, 15));
	assert_string_equal(isdr_aid_vendor(es10_isdr_aid, 15), "custom");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
