/*
 * atr.c - Answer To Reset: interface bytes (ISO/IEC 7816-3 §8.2) and the card
 * capabilities in the historical bytes (ISO/IEC 7816-4 §8.1.1); see esimctl/atr.h.
 */
#include <string.h>

#include "esimctl/atr.h"

/* Compact-TLV objects of hist[0..n) (ISO/IEC 7816-4 §8.1.1.2): pick the card capabilities. */
static void compact_tlv(const uint8_t *p, size_t n, struct atr_info *out)
{
	size_t i = 0;

	while (i < n) {
		unsigned tag = p[i] >> 4, len = p[i] & 0x0F;

		if (len > n - i - 1)
			return;       /* malformed: read nothing more */
		if (tag == 7 && len >= 1 && len <= 3) {
			out->has_caps = 1;
			out->ncaps = len;
			memcpy(out->caps, p + i + 1, len);
			if (len == 3) {
				uint8_t t3 = p[i + 3];

				out->chaining = (t3 & 0x80) != 0;
				out->ext_length = (t3 & 0x40) != 0;
				out->ext_info = (t3 & 0x20) != 0;
				out->channels = (t3 & 0x07) + 1;
			}
		}
		i += 1 + len;
	}
}

int atr_parse(const uint8_t *atr, size_t len, struct atr_info *out)
{
	size_t i = 2, k;
	unsigned y, tck_due = 0, first = 1;
	uint8_t x = 0;

	memset(out, 0, sizeof(*out));
	if (!atr || len < 2 || len > ATR_MAX || (atr[0] != 0x3B && atr[0] != 0x3F))
		return -1;
	y = atr[1] >> 4;
	k = atr[1] & 0x0F;
	out->protocols = 1u;                  /* T=0 when no TD1 says otherwise */
	for (;;) {
		unsigned t;

		i += (y & 1) + (y >> 1 & 1) + (y >> 2 & 1);   /* TAi TBi TCi */
		if (!(y & 8))
			break;
		if (i >= len)
			return -1;
		t = atr[i] & 0x0F;                /* TDi */
		if (first)
			out->protocols = 0;
		first = 0;
		out->protocols |= 1u << t;
		if (t != 0)
			tck_due = 1;
		y = atr[i] >> 4;
		i++;
	}
	if (i > len || k > len - i)
		return -1;
	out->hist_off = i;
	out->nhist = k;
	i += k;
	if (tck_due) {
		if (i + 1 != len)
			return -1;
		for (k = 1; k < len; k++)
			x ^= atr[k];
		if (x != 0)
			return -1;
	} else if (i != len) {
		return -1;
	}
	if (out->nhist >= 1) {
		const uint8_t *h = atr + out->hist_off;

		if (h[0] == 0x80)
			compact_tlv(h + 1, out->nhist - 1, out);
		else if (h[0] == 0x00 && out->nhist >= 4)
			compact_tlv(h + 1, out->nhist - 4, out);   /* status indicator last */
	}
	return 0;
}
