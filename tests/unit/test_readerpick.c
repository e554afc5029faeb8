/* test_readerpick.c - which reader "pcsc:READER" means (src/core/readerpick.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/readerpick.h"

static void test_table(void **state)
{
	static const char *const two[] = { "Virtual PCD 00 00", "Virtual PCD 00 01" };
	static const char *const mixed[] = { "Gemalto PC Twin Reader 00 00",
					     "Identiv uTrust 4701 F Dual Interface Reader [uTrust 4701 F Contact Reader] 01 00",
					     "Gemalto PC Twin Reader 00 00 extra" };
	static const int none[] = { 0, 0, 0 }, first[] = { 1, 0, 0 }, second[] = { 0, 1, 0 },
			 all[] = { 1, 1, 1 };
	static const struct {
		const char *spec;
		const char *const *names;
		const int *cards;
		size_t n;
		enum reader_pick want;
		size_t chosen;           /* with READER_PICK_OK */
		const char *match;       /* expected match[] as '0'/'1', NULL: not checked */
	} rows[] = {
		/* empty: the only reader with a card */
		{ "", two, first, 2, READER_PICK_OK, 0, "10" },
		{ "", two, second, 2, READER_PICK_OK, 1, "01" },
		{ NULL, two, second, 2, READER_PICK_OK, 1, "01" },
		{ "", two, all, 2, READER_PICK_SEVERAL, 0, "11" },
		{ "", two, none, 2, READER_PICK_NO_CARD, 0, "00" },
		{ "", two, none, 0, READER_PICK_NO_READER, 0, NULL },
		{ "Virtual", two, first, 0, READER_PICK_NO_READER, 0, NULL },
		/* #N, 0-based */
		{ "#0", two, none, 2, READER_PICK_OK, 0, NULL },
		{ "#1", two, none, 2, READER_PICK_OK, 1, NULL },
		{ "#01", two, none, 2, READER_PICK_OK, 1, NULL },
		{ "#2", two, none, 2, READER_PICK_NO_MATCH, 0, NULL },
		{ "#99999999999999999999", two, none, 2, READER_PICK_NO_MATCH, 0, NULL },
		{ "#", two, none, 2, READER_PICK_BAD_INDEX, 0, NULL },
		{ "#-1", two, none, 2, READER_PICK_BAD_INDEX, 0, NULL },
		{ "#1a", two, none, 2, READER_PICK_BAD_INDEX, 0, NULL },
		/* exact name, whether or not it has a card, and preferred to a substring */
		{ "Virtual PCD 00 01", two, first, 2, READER_PICK_OK, 1, NULL },
		{ "Gemalto PC Twin Reader 00 00", mixed, none, 3, READER_PICK_OK, 0, NULL },
		/* a unique substring, any case */
		{ "01", two, none, 2, READER_PICK_OK, 1, "01" },
		{ "utrust", mixed, none, 3, READER_PICK_OK, 1, "010" },
		{ "[uTrust 4701 F Contact", mixed, all, 3, READER_PICK_OK, 1, "010" },
		/* an ambiguous substring lists its candidates, cards or not */
		{ "virtual pcd", two, first, 2, READER_PICK_SEVERAL, 0, "11" },
		{ "Gemalto", mixed, first, 3, READER_PICK_SEVERAL, 0, "101" },
		/* nothing matches */
		{ "Virtual PCD 00 02", two, all, 2, READER_PICK_NO_MATCH, 0, "00" },
		{ "OMNIKEY", mixed, all, 3, READER_PICK_NO_MATCH, 0, "000" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char match[8];
		size_t chosen = 77;
		enum reader_pick r = reader_pick(rows[i].spec, rows[i].names, rows[i].cards,
						 rows[i].n, match, &chosen);

		if (r != rows[i].want)
			fail_msg("row %zu ('%s'): got %d, want %d", i, rows[i].spec ? rows[i].spec : "(null)",
				 (int)r, (int)rows[i].want);
		if (r == READER_PICK_OK && chosen != rows[i].chosen)
			fail_msg("row %zu ('%s'): chose %zu, want %zu", i, rows[i].spec, chosen,
				 rows[i].chosen);
		if (r != READER_PICK_OK && chosen != 77)
			fail_msg("row %zu: *chosen written on failure", i);
		for (j = 0; rows[i].match && j < rows[i].n; j++)
			if (match[j] != (rows[i].match[j] == '1'))
				fail_msg("row %zu ('%s'): match[%zu] = %d", i, rows[i].spec, j, match[j]);
	}
}

/* A NULL match array is allowed. */
static void test_no_match_array(void **state)
{
	static const char *const two[] = { "A 00", "A 01" };
	static const int cards[] = { 0, 1 };
	size_t chosen = 0;

	(void)state;
	assert_int_equal(reader_pick("", two, cards, 2, NULL, &chosen), READER_PICK_OK);
	assert_int_equal(chosen, 1);
	assert_int_equal(reader_pick("a", two, cards, 2, NULL, &chosen), READER_PICK_SEVERAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_match_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
