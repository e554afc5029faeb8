/*
 * fuzz_actcode.c - libFuzzer target: activation codes: actcode_parse and the format round trip.
 * The logic is fz_actcode() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_actcode(data, size))
		abort();
	return 0;
}
