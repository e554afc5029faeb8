/* readerpick.c - choose a PC/SC reader from a "pcsc:READER" URI (see readerpick.h). */
#include <ctype.h>
#include <string.h>

#include "esimctl/readerpick.h"

/* 1 when needle occurs in hay, ignoring ASCII case. */
static int contains_nocase(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < nl && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == nl)
			return 1;
	}
	return nl == 0;
}

enum reader_pick reader_pick(const char *spec, const char *const *names, const int *has_card,
			     size_t n, unsigned char *match, size_t *chosen)
{
	size_t i, count = 0, last = 0;

	if (match)
		memset(match, 0, n);
	if (n == 0)
		return READER_PICK_NO_READER;
	if (!spec)
		spec = "";
	if (spec[0] == '#') {
		size_t k = 0;
		const char *p = spec + 1;

		if (!*p)
			return READER_PICK_BAD_INDEX;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return READER_PICK_BAD_INDEX;
			if (k < 100000)       /* larger is past the end anyway */
				k = k * 10 + (size_t)(*p - '0');
		}
		if (k >= n)
			return READER_PICK_NO_MATCH;
		*chosen = k;
		return READER_PICK_OK;
	}
	if (spec[0]) {
		for (i = 0; i < n; i++)
			if (strcmp(names[i], spec) == 0) {
				*chosen = i;
				return READER_PICK_OK;
			}
	}
	for (i = 0; i < n; i++) {
		int cand = spec[0] ? contains_nocase(names[i], spec) : has_card[i] != 0;

		if (!cand)
			continue;
		if (match)
			match[i] = 1;
		count++;
		last = i;
	}
	if (count == 1) {
		*chosen = last;
		return READER_PICK_OK;
	}
	if (count > 1)
		return READER_PICK_SEVERAL;
	return spec[0] ? READER_PICK_NO_MATCH : READER_PICK_NO_CARD;
}
