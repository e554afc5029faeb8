/*
 * fuzz_der.c - libFuzzer target: the BER/DER reader, hex_decode and base64_decode.
 * The logic is fz_der() in fuzz_entry.h, shared with tests/unit/test_fuzz_regress.c.
 */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_der(data, size))
		abort();
	return 0;
}
