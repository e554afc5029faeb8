/*
 * fuzz_soft_apdu.c - libFuzzer target: the software eUICC's APDU handler, fed C-APDUs from an untrusted LPA.
 * The logic is fz_soft_apdu() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_soft_apdu_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_soft_apdu(data, size))
		abort();
	return 0;
}
