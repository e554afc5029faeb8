/*
 * fuzz_carriers.c - libFuzzer target: the carrier override loader: carrier_table_new.
 * The logic is fz_carriers() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_carriers(data, size))
		abort();
	return 0;
}
