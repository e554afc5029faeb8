/* test_secrets.c - the secret registry and secret_mask() (src/core/secrets.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/secrets.h"

#define MID "K7Q2-SECRET-MID-ALPHA"
#define CC "58213947"

static void test_mask_table(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
		/* quoted whole, in any case */
		{ "matchingId " MID " is unknown", "matchingId ********************* is unknown" },
		{ "matchingId k7q2-secret-mid-alpha is unknown", "matchingId ********************* is unknown" },
		{ MID, "*********************" },
		/* cut short (a server truncating its message) and a fragment of 8 or more */
		{ "id=K7Q2-SECRET-MI", "id=**************" },
		{ "order SECRET-MID gone", "order ********** gone" },
		/* hex of its bytes ("K7Q2-SEC" = 4B 37 51 32 2D 53 45 43), either case */
		{ "ctx 4B3751322D534543 end", "ctx **************** end" },
		{ "ctx 4b3751322d534543524554 end", "ctx ********************** end" },
		/* the confirmation code */
		{ "expected code 58213947!", "expected code ********!" },
		/* short fragments and other text are left alone */
		{ "SECRET gone", "SECRET gone" },
		{ "K7Q2-SEC", "********" },
		{ "K7Q2-SE", "K7Q2-SE" },
		{ "5821394", "5821394" },
		{ "4B3751322D5345", "4B3751322D5345" },
		{ "Refused (misbehave)", "Refused (misbehave)" },
		{ "", "" },
		/* a short secret (under 8 characters) only whole */
		{ "pin 4711 and 471", "pin **** and 471" },
	};
	char text[256];
	size_t i;

	(void)state;
	secret_add(SECRET_MATCHING_ID, MID);
	secret_add(SECRET_CC, CC);
	secret_add(SECRET_CC, "4711");
	secret_add(SECRET_MATCHING_ID, MID);   /* a repeat is ignored */
	secret_add(SECRET_MATCHING_ID, "");
	secret_add(SECRET_MATCHING_ID, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), "%s", rows[i].in);
		secret_mask(text);
		if (strcmp(text, rows[i].want))
			fail_msg("row %zu '%s': got '%s', wanted '%s'", i, rows[i].in, text, rows[i].want);
	}
	secret_forget_all();
}

static void test_forget(void **state)
{
	char text[64];

	(void)state;
	secret_add(SECRET_MATCHING_ID, MID);
	secret_add(SECRET_CC, CC);
	snprintf(text, sizeof(text), "%s %s", CC, MID);
	assert_int_equal(secret_mask(text), 8 + 21);
	/* the confirmation code is forgotten after its download, the matching ID is not */
	secret_forget_kind(SECRET_CC);
	snprintf(text, sizeof(text), "%s %s", CC, MID);
	assert_int_equal(secret_mask(text), 21);
	assert_string_equal(text, CC " *********************");
	secret_add(SECRET_CC, CC);   /* known again after being forgotten */
	snprintf(text, sizeof(text), "%s", CC);
	assert_int_equal(secret_mask(text), 8);
	secret_forget_all();
	snprintf(text, sizeof(text), "%s %s", CC, MID);
	assert_int_equal(secret_mask(text), 0);
	assert_int_equal(secret_mask(NULL), 0);
}

/* Thousands of matching IDs (a big store): each is found, others are not touched. */
static void test_many(void **state)
{
	char mid[32], text[96];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(mid, sizeof(mid), "QR-G-%05d-1W1Z9P7", i);
		secret_add(SECRET_MATCHING_ID, mid);
	}
	snprintf(text, sizeof(text), "unknown qr-g-04711-1w1z9p7, try QR-H-1");
	secret_mask(text);
	assert_string_equal(text, "unknown ******************, try QR-H-1");
	secret_forget_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_table),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
