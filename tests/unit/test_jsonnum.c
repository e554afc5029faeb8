/* test_jsonnum.c - json_number_int() prints exactly what cJSON_CreateNumber() prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "esimctl/jsonnum.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* v printed by cJSON through each path, compared; 1 when json_number_int() took the raw path. */
static int check(int64_t v)
{
	cJSON *mine = json_number_int(v), *ref = cJSON_CreateNumber((double)v);
	char *a = cJSON_PrintUnformatted(mine), *b = cJSON_PrintUnformatted(ref);
	int raw = cJSON_IsRaw(mine);

	assert_non_null(a);
	assert_non_null(b);
	if (strcmp(a, b))
		fail_msg("%lld: json_number_int printed '%s', cJSON_CreateNumber '%s'", (long long)v, a, b);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(mine);
	cJSON_Delete(ref);
	return raw;
}

static void test_edges(void **state)
{
	static const int64_t vals[] = {
		0, 1, -1, 9, 10, -10, 99, 100, 86400, 2147483647, 2147483648, -2147483648,
		-2147483649, 4294967296, 99999999999999, 100000000000000, 999999999999999,
		-999999999999999, 1000000000000000, -1000000000000000, 1000000000000001,
		9007199254740992, -9007199254740992, 123456789012345678,
	};

	(void)state;
	for (size_t i = 0; i < NELEM(vals); i++)
		check(vals[i]);
	/* both paths are taken: raw below 10^15, cJSON's from there on */
	assert_true(check(999999999999999));
	assert_false(check(1000000000000000));
	assert_false(check(-1000000000000000));
}

/* Powers of ten and their neighbours, and a spread of values, in both signs. */
static void test_spread(void **state)
{
	uint64_t x = 88172645463325252u;

	(void)state;
	for (int64_t p = 1;; p *= 10) {
		for (int64_t d = -1; d <= 1; d++) {
			check(p + d);
			check(-(p + d));
		}
		if (p > INT64_MAX / 10)
			break;
	}
	for (int i = 0; i < 20000; i++) {
		/* xorshift64: magnitudes of every size up to 2^53 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check((int64_t)(x >> (11 + (x & 63) % 53)) * ((x & 64) ? -1 : 1));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
