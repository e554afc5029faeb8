/*
 * isdr.h - ISD-R application identifiers: the standard one, the known vendor alternatives,
 * and the parser of a user's --isdr-aid (pure, src/core/isdr.c).
 *
 * Every SGP.22 eUICC answers SELECT by the standard ISD-R AID (SGP.02 §2.2.3, which
 * SGP.22 refers to).  Some removable eUICC cards sold for travel answer only under a
 * vendor AID; the table below lists those seen in public LPAs, each with its source, so
 * `euicc scan` and `device add` can try them after the standard one.
 */
#ifndef ESIMCTL_ISDR_H
#define ESIMCTL_ISDR_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/error.h"

#define ISDR_AID_MIN 5   /* bytes: ApplicationIdentifier ::= OCTET STRING (SIZE(5..16)) */
#define ISDR_AID_MAX 16
#define ISDR_AID_HEX (2 * ISDR_AID_MAX + 1)

struct isdr_aid {
	const char *vendor;   /* "standard" for the GSMA one, else the card's brand */
	uint8_t aid[ISDR_AID_MAX];
	size_t len;
	const char *source;   /* where the AID is documented */
};

/* The standard AID first, then the known alternatives, in the order they are tried. */
extern const struct isdr_aid isdr_known[];
extern const size_t isdr_known_count;
#define ISDR_KNOWN_MAX 8  /* isdr_known_count never exceeds it (checked by a unit test) */
#define ISDR_STANDARD (&isdr_known[0])

/* The table entry whose AID equals aid, or NULL. */
const struct isdr_aid *isdr_aid_lookup(const uint8_t *aid, size_t len);
/* "standard", a vendor's name, or "custom" for an AID that is not in the table. */
const char *isdr_aid_vendor(const uint8_t *aid, size_t len);
/* 1 when aid is the standard ISD-R AID. */
int isdr_aid_is_standard(const uint8_t *aid, size_t len);

/*
 * Parse an AID in hex (upper or lower case, no separators): 10..32 hex digits (5..16
 * bytes, SGP.22's ApplicationIdentifier), whose first half-byte is a category ISO/IEC
 * 7816-4:2005 §8.2.1.2 (Table 90) defines (not 'B' or 'C', reserved).  ESIM_E_USAGE naming the rule
 * broken, with what as the subject ("--isdr-aid").
 */
int isdr_aid_parse(const char *hex, const char *what, uint8_t out[ISDR_AID_MAX], size_t *len,
		   struct esim_err *err);
/* Upper-case hex of aid into out (ISDR_AID_HEX bytes).  Returns out. */
char *isdr_aid_hex(const uint8_t *aid, size_t len, char out[ISDR_AID_HEX]);

#endif
