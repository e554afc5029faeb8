/* test_jsonalloc.c - the chunk allocator behind cJSON (src/core/jsonalloc.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "esimctl/jsonalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The alignment a block of n bytes gets: as its size allows, at most 8 (jsonalloc.c). */
static size_t want_align(size_t n)
{
	size_t a = 1;

	while (a < 8 && n % (a * 2) == 0)
		a *= 2;
	return a;
}

/* Blocks of every size class: aligned as their size allows, disjoint, keeping what was written. */
static void test_blocks(void **state)
{
	static const size_t sizes[] = { 1, 3, 7, 8, 9, 16, 17, 63, 64, 65, 200, 4095, 16383,
					16384, 40000, 65536, 200000, 2, 6, 12, 4, 24, 40000 - 1 };
	unsigned char *p[NELEM(sizes) * 40];
	size_t n = 0;

	(void)state;
	for (int round = 0; round < 40; round++)
		for (size_t i = 0; i < NELEM(sizes); i++, n++) {
			p[n] = jsonalloc_malloc(sizes[i]);
			assert_non_null(p[n]);
			if ((uintptr_t)p[n] % want_align(sizes[i]))
				fail_msg("block of %zu bytes at %p: want %zu-byte alignment", sizes[i],
					 (void *)p[n], want_align(sizes[i]));
			memset(p[n], (int)(n & 0xff), sizes[i]);
		}
	for (size_t k = 0; k < n; k++) {
		size_t sz = sizes[k % NELEM(sizes)];

		for (size_t j = 0; j < sz; j++)
			if (p[k][j] != (unsigned char)(k & 0xff))
				fail_msg("block %zu (%zu bytes) overwritten at %zu", k, sz, j);
	}
	/* freed in another order than allocated: every chunk empties at some point */
	for (size_t k = 0; k < n; k += 2)
		jsonalloc_free(p[k]);
	for (size_t k = 1; k < n; k += 2)
		jsonalloc_free(p[k]);
	jsonalloc_free(NULL);
}

/* The current chunk, emptied, is wiped and rewound: the next block is the same, zeroed. */
static void test_wiped(void **state)
{
	unsigned char *a, *b, *c;

	(void)state;
	/* no block lives in this program now: the current chunk is empty */
	a = jsonalloc_malloc(48);
	memset(a, 'S', 48);
	b = jsonalloc_malloc(8);
	memset(b, 'T', 8);
	jsonalloc_free(a);
	c = jsonalloc_malloc(48);
	assert_ptr_not_equal(c, a); /* b still lives: nothing is rewound */
	jsonalloc_free(c);
	jsonalloc_free(b);
	c = jsonalloc_malloc(48);
	assert_ptr_equal(c, a);
	for (int i = 0; i < 48 + 8; i++) /* a and b: blocks have no header */
		assert_int_equal(c[i], 0);
	jsonalloc_free(c);
}

/* cJSON through the hooks: parse, print, delete a document with big strings. */
static void test_cjson(void **state)
{
	char *big = malloc(70000), *text, *again;
	cJSON *root, *arr;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 69999);
	big[69999] = '\0';
	jsonalloc_install();
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "a");
	for (int i = 0; i < 5000; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", "5bd1e995");
		cJSON_AddNumberToObject(o, "n", i);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddStringToObject(root, "big", big);
	text = cJSON_PrintUnformatted(root);
	assert_non_null(text);
	cJSON_Delete(root);
	root = cJSON_Parse(text);
	assert_non_null(root);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "a")), 5000);
	assert_string_equal(cJSON_GetObjectItem(root, "big")->valuestring, big);
	again = cJSON_PrintUnformatted(root);
	assert_string_equal(again, text);
	cJSON_free(again);
	cJSON_free(text);
	cJSON_Delete(root);
	cJSON_InitHooks(NULL);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_wiped),
		cmocka_unit_test(test_cjson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
