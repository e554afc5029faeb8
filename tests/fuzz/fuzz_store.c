/*
 * fuzz_store.c - libFuzzer target: the store loader: store_from_json and the to_json round trip.
 * The logic is fz_store() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_store(data, size))
		abort();
	return 0;
}
