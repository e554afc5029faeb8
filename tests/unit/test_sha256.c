/* test_sha256.c - the main binary's SHA-256 against FIPS 180-4 / NIST vectors and OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "esimctl/sha256.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_vectors(void **state)
{
	static const struct { const char *in; const char *md; } cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	uint8_t md[32];
	char h[65];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sha256(cases[i].in, strlen(cases[i].in), md);
		hex(md, h);
		assert_string_equal(h, cases[i].md);
	}
}

static void test_million_a(void **state)
{
	struct sha256 c;
	uint8_t md[32];
	char h[65], a[1000];

	(void)state;
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, a, sizeof(a));
	sha256_final(&c, md);
	hex(md, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length 0..300 and split points against OpenSSL. */
static void test_against_openssl(void **state)
{
	uint8_t msg[300], md[32], ref[32];
	unsigned int rlen;

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		struct sha256 c;
		size_t cut = len / 3;

		sha256_init(&c);
		sha256_update(&c, msg, cut);
		sha256_update(&c, msg + cut, len - cut);
		sha256_final(&c, md);
		assert_true(EVP_Digest(msg, len, ref, &rlen, EVP_sha256(), NULL) == 1);
		assert_memory_equal(md, ref, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_against_openssl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
