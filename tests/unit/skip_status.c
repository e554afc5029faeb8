/*
 * skip_status.c - linked into every unit test (CMakeLists.txt, with ld's --wrap): a test
 * file in which a case called cmocka's skip() exits 77 when nothing failed, so that ctest
 * reports it as skipped (SKIP_RETURN_CODE 77), never as passed.  cmocka 1.1 counts skipped
 * cases only in its printed summary and returns the number of failures, so the two calls
 * are wrapped at link time: _skip(), which skip() expands to, and the test's main().
 * A failure wins over a skip (exit 1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

void __real__skip(const char *const file, const int line);
void __wrap__skip(const char *const file, const int line);
int __real_main(int argc, char **argv);
int __wrap_main(int argc, char **argv);

static unsigned skipped;

void __wrap__skip(const char *const file, const int line)
{
	skipped++;
	print_message("[  SKIP    ] %s:%d: this case cannot run here (see the note above); "
		      "the file exits 77, skipped\n", file, line);
	__real__skip(file, line);
}

int __wrap_main(int argc, char **argv)
{
	int failed = __real_main(argc, argv);

	if (failed != 0)
		return 1;       /* not the count: 77 or 256 failures must not read as skip or pass */
	return skipped ? 77 : 0;
}
