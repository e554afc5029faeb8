/* test_strpool.c - pooled string copies (src/core/strpool.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/strpool.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Copies of every length class, kept as written while more are made, all owned. */
static void test_copies(void **state)
{
	static const size_t lens[] = { 0, 1, 7, 8, 63, 4095, 4096, 4097, 16383, 70000, 300000 };
	struct strpool p = STRPOOL_INIT;
	char *copy[NELEM(lens) * 30], *want[NELEM(lens) * 30];
	size_t n = 0;

	(void)state;
	assert_null(strpool_dup(&p, NULL));
	for (int round = 0; round < 30; round++)
		for (size_t i = 0; i < NELEM(lens); i++, n++) {
			want[n] = malloc(lens[i] + 1);
			assert_non_null(want[n]);
			memset(want[n], 'a' + (int)(n % 26), lens[i]);
			want[n][lens[i]] = '\0';
			copy[n] = strpool_dup(&p, want[n]);
			assert_ptr_not_equal(copy[n], want[n]);
		}
	for (size_t k = 0; k < n; k++) {
		assert_string_equal(copy[k], want[k]);
		assert_true(strpool_owns(&p, copy[k]));
		/* every byte of a copy, its NUL included, is the pool's */
		assert_true(strpool_owns(&p, copy[k] + strlen(copy[k])));
		assert_false(strpool_owns(&p, want[k]));
		free(want[k]);
	}
	strpool_release(&p);
	assert_int_equal(p.nblocks, 0);
	assert_null(p.blocks);
}

/* Pointers next to the blocks, and a pool with nothing in it, are not the pool's. */
static void test_owns_edges(void **state)
{
	struct strpool p = STRPOOL_INIT, other = STRPOOL_INIT;
	char stack[8] = "x";
	char *heap = malloc(16), *a, *b;

	(void)state;
	assert_non_null(heap);
	assert_false(strpool_owns(&p, stack));
	assert_false(strpool_owns(&p, NULL));
	a = strpool_dup(&p, "first");
	b = strpool_dup(&other, "second");
	assert_true(strpool_owns(&p, a));
	assert_false(strpool_owns(&p, b));
	assert_false(strpool_owns(&other, a));
	assert_false(strpool_owns(&p, heap));
	assert_false(strpool_owns(&p, stack));
	assert_false(strpool_owns(&p, NULL));
	strpool_release(&other);
	strpool_release(&p);
	strpool_release(&p); /* twice is fine */
	free(heap);
}

/* Blocks are kept in address order whatever order malloc() gives them. */
static void test_many_blocks(void **state)
{
	struct strpool p = STRPOOL_INIT;
	char big[40000];
	char *own[200];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 0; i < NELEM(own); i++) {
		own[i] = strpool_dup(&p, big);           /* a block of its own each */
		assert_non_null(strpool_dup(&p, "small")); /* between them, in shared blocks */
	}
	for (size_t i = 1; i < p.nblocks; i++)
		assert_true((uintptr_t)p.blocks[i - 1] < (uintptr_t)p.blocks[i]);
	for (size_t i = 0; i < NELEM(own); i++) {
		assert_true(strpool_owns(&p, own[i]));
		assert_true(strpool_owns(&p, own[i] + sizeof(big) - 1));
	}
	strpool_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_owns_edges),
		cmocka_unit_test(test_many_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
