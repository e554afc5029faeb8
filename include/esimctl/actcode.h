/*
 * actcode.h - SGP.22 section 4.1 activation codes (pure).
 *
 *   [LPA:]1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<confirmation code required flag>]]
 *
 * actcode_parse() validates every field and reports which one is wrong and why
 * (ESIM_E_USAGE).  actcode_format() writes the canonical string that the QR code
 * carries: "LPA:" prefix, host in lower case, optional trailing fields dropped
 * when empty.  parse(format(x)) == x for every valid x.
 */
#ifndef ESIMCTL_ACTCODE_H
#define ESIMCTL_ACTCODE_H

#include "esimctl/buf.h"
#include "esimctl/error.h"

#define ACTCODE_FIELD_MAX 255

struct actcode {
	char smdp[ACTCODE_FIELD_MAX + 1];        /* FQDN[:port], lower case */
	char matching_id[ACTCODE_FIELD_MAX + 1]; /* may be empty; a bearer secret */
	char oid[ACTCODE_FIELD_MAX + 1];         /* dotted decimal, may be empty */
	int cc_required;                         /* confirmation code required flag */
};

int actcode_parse(const char *text, struct actcode *out, struct esim_err *err);
/* Appends the canonical "LPA:1$..." string to out. */
void actcode_format(const struct actcode *ac, struct buf *out);
/*
 * Mask a matching ID for human output: keep the first 3 and last 2 characters
 * ("QR-G-5C-1LS-1W1Z9P7" -> "QR-**************P7"); IDs of 6 characters or fewer are
 * all stars.  out must have room for strlen(mid) + 1 bytes.
 */
void actcode_mask(const char *mid, char *out, size_t outsz);
/* Appends the canonical code with the matching ID masked. */
void actcode_format_masked(const struct actcode *ac, struct buf *out);
/* Wipe the secret fields. */
void actcode_wipe(struct actcode *ac);

#endif
