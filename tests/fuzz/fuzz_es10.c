/*
 * fuzz_es10.c - libFuzzer target: the ES10 response parsers, es10_load_bpp and the APDU layer over a fake card.
 * The logic is fz_es10() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_es10(data, size))
		abort();
	return 0;
}
