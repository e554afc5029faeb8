/*
 * fuzz_es9p.c - libFuzzer target: every ES9+ response parser of src/rsp/es9p_internal.h.
 * The logic is fz_es9p() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_es9p(data, size))
		abort();
	return 0;
}
