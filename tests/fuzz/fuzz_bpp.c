/*
 * fuzz_bpp.c - libFuzzer target: Bound Profile Package processing in the software eUICC,
 * after a real session prefix (challenge, AuthenticateServer, PrepareDownload).
 * The logic is fz_bpp() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_bpp_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_bpp(data, size))
		abort();
	return 0;
}
