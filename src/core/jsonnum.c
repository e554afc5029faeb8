/* jsonnum.c - whole numbers for cJSON output (see jsonnum.h). */
#include "esimctl/jsonnum.h"

cJSON *json_number_int(int64_t v)
{
	char text[24], *p = text + sizeof(text);
	uint64_t u;

	if (v <= -JSON_PLAIN_INT_LIMIT || v >= JSON_PLAIN_INT_LIMIT)
		return cJSON_CreateNumber((double)v);
	u = v < 0 ? (uint64_t)-v : (uint64_t)v;
	*--p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return cJSON_CreateRaw(p);
}
