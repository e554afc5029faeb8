/*
 * test_fuzz_regress.c - replay the fuzzing reproducers and seed corpora.
 *
 * Every file in tests/fuzz/regress/<target>/ (inputs that once crashed a fuzz target or
 * broke one of its properties) and in tests/fuzz/corpus/<target>/ goes through the same
 * entry function as the libFuzzer target (tests/fuzz/fuzz_entry.h), so a fixed finding
 * stays fixed in every normal build, with or without sanitizers, gcc or clang.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_entry.h"

/* Replay every regular file in <tests/fuzz>/<sub>/<target>/; returns how many. */
static size_t replay(const struct fz_target *t, const char *sub)
{
	struct buf rel = BUF_INIT, dir = BUF_INIT, file = BUF_INIT;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	buf_addf(&rel, "%s/%s", sub, t->name);
	fz_path(rel.buf, &dir);
	d = opendir(dir.buf);
	if (!d) {
		/* regress/<target>/ exists only once the target has had a finding */
		buf_release(&rel);
		buf_release(&dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct buf data = BUF_INIT;
		struct esim_err err = { 0 };
		struct stat sb;

		buf_reset(&file);
		buf_addf(&file, "%s/%s", dir.buf, de->d_name);
		if (de->d_name[0] == '.' || stat(file.buf, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (read_whole_file(file.buf, &data, &err) != 0)
			fail_msg("%s: %s", file.buf, err.msg);
		if (t->one((const uint8_t *)data.buf, data.len) != 0)
			fail_msg("%s: %s/%s/%s breaks a property (see stderr)", t->name, sub, t->name,
				 de->d_name);
		buf_release(&data);
		n++;
	}
	closedir(d);
	buf_release(&rel);
	buf_release(&dir);
	buf_release(&file);
	return n;
}

static void test_target(void **state)
{
	const struct fz_target *t = *state;
	size_t seeds, regress;

	regress = replay(t, "regress");
	seeds = replay(t, "corpus");
	/* Every target has committed seeds: none found means the path is wrong. */
	if (seeds == 0)
		fail_msg("%s: no seed corpus found (ESIMCTL_SRC unset and the source moved?)",
			 t->name);
	print_message("%s: %zu reproducers, %zu seeds\n", t->name, regress, seeds);
}

/* Empty input and a few degenerate ones never trip a target. */
static void test_degenerate(void **state)
{
	static const uint8_t inputs[][4] = {
		{ 0 }, { 0xFF, 0xFF, 0xFF, 0xFF }, { 0x01, 0x00, 0x00, 0x00 }, { 0x06, 0x15, 0x01, 0x00 },
	};
	const struct fz_target *t = *state;
	size_t i;

	assert_int_equal(t->one((const uint8_t *)"", 0), 0);
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(t->one(inputs[i], sizeof(inputs[i])), 0);
}

int main(void)
{
	struct CMUnitTest tests[32];
	size_t n, i, k = 0;
	const struct fz_target *t = fz_targets(&n);
	static char names[32][64];

	for (i = 0; i < n && k + 2 <= sizeof(tests) / sizeof(tests[0]); i++) {
		struct CMUnitTest a = cmocka_unit_test_prestate(test_target, (void *)&t[i]);
		struct CMUnitTest b = cmocka_unit_test_prestate(test_degenerate, (void *)&t[i]);

		snprintf(names[k], sizeof(names[k]), "replay %s", t[i].name);
		a.name = names[k];
		tests[k++] = a;
		snprintf(names[k], sizeof(names[k]), "degenerate %s", t[i].name);
		b.name = names[k];
		tests[k++] = b;
	}
	return _cmocka_run_group_tests("fuzz_regress", tests, k, NULL, NULL);
}
