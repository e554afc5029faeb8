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
/*
 * The fields of a code, checked as actcode_parse() checks them in a text: smdp and mid
 * (which may be empty) are required, oid may be NULL or empty.  None may hold '$' (the
 * checks refuse it).  On failure *out is all zero.
 */
int actcode_from_fields(const char *smdp, const char *mid, const char *oid, int cc_required,
			struct actcode *out, struct esim_err *err);
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

/*
 * A code as a store keeps it while loaded: the three fields in one allocation of their
 * own length, where struct actcode has three arrays of ACTCODE_FIELD_MAX + 1 bytes (a
 * profile's 772 bytes become about 80).  Read through the members; made from a checked
 * struct actcode only, so the fields are canonical and each fits struct actcode.
 */
struct actcode_packed {
	const char *smdp;        /* into text, lower case */
	const char *matching_id; /* a bearer secret */
	const char *oid;         /* "" when none */
	int cc_required;
	size_t len;              /* bytes of text */
	char text[];             /* smdp, matching ID and OID, each ended by NUL */
};

struct actcode_packed *actcode_pack(const struct actcode *ac);
void actcode_unpack(const struct actcode_packed *p, struct actcode *out);
/* Wipes (the matching ID) and frees; NULL is fine. */
void actcode_packed_free(struct actcode_packed *p);
/* 1 when p is the code ac. */
int actcode_packed_same(const struct actcode_packed *p, const struct actcode *ac);
/* actcode_format(), or actcode_format_masked() when masked. */
void actcode_packed_format(const struct actcode_packed *p, int masked, struct buf *out);

#endif
