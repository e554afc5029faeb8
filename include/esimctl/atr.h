/*
 * atr.h - what a card says about itself in its Answer To Reset (ISO/IEC 7816-3 §8.2,
 * historical bytes ISO/IEC 7816-4 §8.1.1).  Pure: no I/O.
 *
 * The ES10 client reads one thing from it: whether the card takes extended-length
 * C-APDUs (Lc of 3 bytes, ISO/IEC 7816-4 §5.1), the bit "extended Lc and Le fields" of
 * the third software function table in the card capabilities (compact-TLV tag 7,
 * ISO/IEC 7816-4 §8.1.1.2.7).
 *
 *	struct atr_info ai;
 *	if (atr_parse(t->atr, t->atrlen, &ai) == 0 && ai.ext_length) ...
 */
#ifndef ESIMCTL_ATR_H
#define ESIMCTL_ATR_H

#include <stddef.h>
#include <stdint.h>

#define ATR_MAX 33 /* TS + 32 bytes (ISO/IEC 7816-3 §8.2.1) */

struct atr_info {
	unsigned protocols;   /* bit n set: T=n offered (T=0 alone when there is no TD1) */
	size_t hist_off;      /* historical bytes: atr[hist_off .. hist_off + nhist) */
	size_t nhist;
	int has_caps;         /* card capabilities present (compact-TLV tag 7) */
	uint8_t caps[3];      /* its software function tables, ncaps of them (1..3) */
	size_t ncaps;
	/* From the third table (all 0 without it): */
	int chaining;         /* b8: command chaining */
	int ext_length;       /* b7: extended Lc and Le fields */
	int ext_info;         /* b6: extended length information in EF.ATR/INFO */
	int channels;         /* b3-b1 + 1: logical channels, 8 meaning "8 or more" */
};

/*
 * Parse atr (TS first).  0 and *out filled, or -1 when it is no well-formed ATR: TS other
 * than 3B/3F, interface or historical bytes cut short, trailing bytes, or a check byte TCK
 * missing or wrong where one is due (any protocol other than T=0 offered).  Historical
 * bytes in a form other than compact-TLV (category 00 or 80) leave has_caps 0; that is no
 * error.
 */
int atr_parse(const uint8_t *atr, size_t len, struct atr_info *out);

#endif
