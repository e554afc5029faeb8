/*
 * actcode.c - SGP.22 §4.1 activation codes: parse, validate, format (see actcode.h).
 *
 *   [LPA:]1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<CC flag>]]
 *
 * Policy choices where SGP.22 is silent or unconfirmed (SGP.22 §4.1):
 * - The whole code (after trimming, "LPA:" included) is at most 1024 characters and
 *   every field at most ACTCODE_FIELD_MAX.  Only printable ASCII may appear inside it:
 *   the code is meant for QR alphanumeric mode, and pasted codes often carry stray
 *   spaces or non-breaking spaces that would otherwise surface as a confusing
 *   per-field error.
 * - The matching ID field is mandatory (it may be empty): "1$host" is rejected.
 * - A '$' that ends the code after the matching ID ("1$host$MID$") leaves an empty
 *   last field; we reject it instead of guessing (a code cut short loses its OID or
 *   flag this way), and format() never emits it.
 * - A 6th and later field is refused, naming it.  SGP.22 §4.1 defines five fields;
 *   a later version may add one whose meaning we cannot know, and dropping it would
 *   store, compare and put in QR codes a different code than the one given, while
 *   keeping it would hand the SM-DP+ and other LPAs something we never checked.
 * - The SM-DP+ address is an FQDN of two or more labels, or "localhost", with an
 *   optional ":port" for test servers.  All-digit labels pass, so an IPv4 literal
 *   does too.
 * - The OID must be one a certificate can carry: first arc 0-2, second arc 0-39
 *   under arcs 0 and 1 (X.660).
 * - Messages never quote the matching ID: it is a bearer secret.
 *
 * Positions in messages count from 1: within the quoted field for field errors, and
 * within the text as given (before trimming) for whole-code errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esimctl/actcode.h"
#include "esimctl/buf.h"

#define AC_TEXT_MAX 1024 /* whole code, "LPA:" included */
#define AC_HOST_MAX 253  /* RFC 1035 name length in text form */
#define AC_LABEL_MAX 63
#define AC_PORT_MAX 65535u
#define AC_HINT "expected LPA:1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$1]], " \
	"e.g. LPA:1$rsp.example.com$ABC-123"

enum ac_field { F_FORMAT, F_SMDP, F_MID, F_OID, F_CC, F_KNOWN };

struct span {
	const char *p;
	size_t len;
};

static const char *const field_names[F_KNOWN] = {
	[F_FORMAT] = "format version",
	[F_SMDP] = "SM-DP+ address",
	[F_MID] = "matching ID",
	[F_OID] = "SM-DP+ OID",
	[F_CC] = "confirmation code flag",
};

static int ac_fail(struct esim_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int ac_fail(struct esim_err *err, const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	esim_fail(err, ESIM_E_USAGE, "activation code: %s", msg);
	return esim_hint(err, "%s", AC_HINT);
}

/* Locale-independent character classes: the grammar is ASCII. */
static int is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int span_eq_ci(struct span s, const char *lit)
{
	size_t i;

	if (s.len != strlen(lit))
		return 0;
	for (i = 0; i < s.len; i++)
		if (to_lower((unsigned char)s.p[i]) != to_lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

static int span_eq(struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static int check_format(struct span f, size_t nfields, struct esim_err *err)
{
	if (span_eq(f, "1"))
		return 0;
	if (nfields == 1)
		return ac_fail(err, "no '$' separator: this is not an activation code");
	if (f.len == 0)
		return ac_fail(err, "%s is empty (must be '1')", field_names[F_FORMAT]);
	return ac_fail(err, "%s '%.*s' is not supported (must be '1')", field_names[F_FORMAT],
		       f.len > 32 ? 32 : (int)f.len, f.p);
}

/* Port of a test SM-DP+: decimal 1-65535, no sign, no leading zero. */
static int check_port(struct span a, struct span port, struct esim_err *err)
{
	const char *name = field_names[F_SMDP];
	unsigned long v = 0;
	size_t i;

	if (port.len == 0)
		return ac_fail(err, "%s '%.*s': empty port after ':'", name, (int)a.len, a.p);
	for (i = 0; i < port.len; i++)
		if (!is_digit((unsigned char)port.p[i]))
			return ac_fail(err, "%s '%.*s': port '%.*s' is not a number", name,
				       (int)a.len, a.p, (int)port.len, port.p);
	if (port.len > 1 && port.p[0] == '0')
		return ac_fail(err, "%s '%.*s': port '%.*s' has a leading zero", name,
			       (int)a.len, a.p, (int)port.len, port.p);
	for (i = 0; i < port.len && v <= AC_PORT_MAX; i++)
		v = v * 10 + (unsigned long)(port.p[i] - '0');
	if (v == 0 || v > AC_PORT_MAX)
		return ac_fail(err, "%s '%.*s': port %.*s is out of range (1-65535)", name,
			       (int)a.len, a.p, (int)port.len, port.p);
	return 0;
}

/*
 * SGP.22 types the address as an FQDN.  An empty label is reported at the '.' that
 * delimits it: "rsp..x" -> position 4, ".x" -> 1, "x." -> 2.
 */
static int check_smdp(struct span a, char out[ACTCODE_FIELD_MAX + 1], struct esim_err *err)
{
	const char *name = field_names[F_SMDP];
	const char *colon;
	size_t host_len, start = 0, labels = 0, i;

	if (a.len == 0)
		return ac_fail(err, "%s is empty", name);
	if (a.len > ACTCODE_FIELD_MAX)
		return ac_fail(err, "%s is %zu characters long (at most %d)", name, a.len,
			       ACTCODE_FIELD_MAX);
	if (memmem(a.p, a.len, "://", 3))
		return ac_fail(err, "%s '%.*s': remove the scheme, only the host name "
			       "(and an optional :port) is expected", name, (int)a.len, a.p);
	colon = memchr(a.p, ':', a.len);
	host_len = colon ? (size_t)(colon - a.p) : a.len;
	if (host_len == 0)
		return ac_fail(err, "%s '%.*s': empty host name before ':'", name, (int)a.len, a.p);

	for (i = 0; i <= host_len; i++) {
		int c = i < host_len ? (unsigned char)a.p[i] : '.';
		size_t label_len;

		if (c != '.') {
			if (!is_alnum(c) && c != '-')
				return ac_fail(err, "%s '%.*s': character '%c' at position %zu is "
					       "not allowed (letters, digits, '-' and '.')",
					       name, (int)a.len, a.p, c, i + 1);
			continue;
		}
		label_len = i - start;
		if (label_len == 0)
			return ac_fail(err, "%s '%.*s': empty label at position %zu", name,
				       (int)a.len, a.p, start ? start : 1);
		if (label_len > AC_LABEL_MAX)
			return ac_fail(err, "%s '%.*s': label at position %zu is %zu characters "
				       "long (at most %d)", name, (int)a.len, a.p, start + 1,
				       label_len, AC_LABEL_MAX);
		if (a.p[start] == '-')
			return ac_fail(err, "%s '%.*s': label at position %zu starts with '-'",
				       name, (int)a.len, a.p, start + 1);
		if (a.p[i - 1] == '-')
			return ac_fail(err, "%s '%.*s': label at position %zu ends with '-'",
				       name, (int)a.len, a.p, start + 1);
		labels++;
		start = i + 1;
	}
	if (host_len > AC_HOST_MAX)
		return ac_fail(err, "%s: host name is %zu characters long (at most %d)", name,
			       host_len, AC_HOST_MAX);
	if (labels == 1 && !span_eq_ci((struct span){ a.p, host_len }, "localhost"))
		return ac_fail(err, "%s '%.*s': single-label host name, expected a fully "
			       "qualified domain name such as rsp.example.com", name,
			       (int)a.len, a.p);
	if (colon) {
		struct span port = { colon + 1, a.len - host_len - 1 };

		if (check_port(a, port, err) < 0)
			return -1;
	}
	/* The address compares case-insensitively (SGP.22 ES9+); keep one spelling. */
	for (i = 0; i < a.len; i++)
		out[i] = (char)to_lower((unsigned char)a.p[i]);
	out[a.len] = '\0';
	return 0;
}

/* lpac's is_strict_matching_id policy: [0-9A-Za-z-]. The value is never quoted. */
static int check_mid(struct span m, char out[ACTCODE_FIELD_MAX + 1], struct esim_err *err)
{
	const char *name = field_names[F_MID];
	size_t i;

	if (m.len > ACTCODE_FIELD_MAX)
		return ac_fail(err, "%s is %zu characters long (at most %d)", name, m.len,
			       ACTCODE_FIELD_MAX);
	for (i = 0; i < m.len; i++) {
		int c = (unsigned char)m.p[i];

		if (!is_alnum(c) && c != '-')
			return ac_fail(err, "%s: character '%c' at position %zu is not allowed "
				       "(letters, digits and '-')", name, c, i + 1);
	}
	memcpy(out, m.p, m.len);
	out[m.len] = '\0';
	return 0;
}

/* Empty, or dotted decimal with X.660 limits on the first two arcs. */
static int check_oid(struct span o, char out[ACTCODE_FIELD_MAX + 1], struct esim_err *err)
{
	const char *name = field_names[F_OID];
	size_t i, start = 0, arcs = 0;
	unsigned first = 0;

	if (o.len > ACTCODE_FIELD_MAX)
		return ac_fail(err, "%s is %zu characters long (at most %d)", name, o.len,
			       ACTCODE_FIELD_MAX);
	if (o.len == 0) {
		out[0] = '\0';
		return 0;
	}
	for (i = 0; i <= o.len; i++) {
		int c = i < o.len ? (unsigned char)o.p[i] : '.';
		size_t arc_len;

		if (c != '.') {
			if (!is_digit(c))
				return ac_fail(err, "%s '%.*s': character '%c' at position %zu is "
					       "not allowed (digits and '.')", name, (int)o.len,
					       o.p, c, i + 1);
			continue;
		}
		arc_len = i - start;
		if (arc_len == 0)
			return ac_fail(err, "%s '%.*s': empty arc at position %zu", name,
				       (int)o.len, o.p, start ? start : 1);
		if (arc_len > 1 && o.p[start] == '0')
			return ac_fail(err, "%s '%.*s': arc at position %zu has a leading zero",
				       name, (int)o.len, o.p, start + 1);
		if (arcs == 0) {
			if (arc_len > 1 || o.p[start] > '2')
				return ac_fail(err, "%s '%.*s': first arc must be 0, 1 or 2", name,
					       (int)o.len, o.p);
			first = (unsigned)(o.p[start] - '0');
		} else if (arcs == 1 && first < 2) {
			int second = o.p[start] - '0';

			if (arc_len == 2)
				second = second * 10 + (o.p[start + 1] - '0');
			if (arc_len > 2 || second > 39)
				return ac_fail(err, "%s '%.*s': second arc must be 0-39 under "
					       "arc %u", name, (int)o.len, o.p, first);
		}
		arcs++;
		start = i + 1;
	}
	if (arcs < 2)
		return ac_fail(err, "%s '%.*s': needs at least two arcs (e.g. 2.999.10)", name,
			       (int)o.len, o.p);
	memcpy(out, o.p, o.len);
	out[o.len] = '\0';
	return 0;
}

static int check_cc(struct span f, int *cc, struct esim_err *err)
{
	if (f.len == 0) {
		*cc = 0;
		return 0;
	}
	if (span_eq(f, "1")) {
		*cc = 1;
		return 0;
	}
	return ac_fail(err, "%s '%.*s' is not supported (must be '1', or leave the field out)",
		       field_names[F_CC], f.len > 32 ? 32 : (int)f.len, f.p);
}

static const char *field_before_trailing(size_t nfields)
{
	switch (nfields) {
	case 4:
		return "the matching ID";
	case 5:
		return "the SM-DP+ OID";
	default:
		return "the confirmation code flag";
	}
}

static int parse_fields(const char *code, size_t len, struct actcode *ac, struct esim_err *err)
{
	struct span f[F_KNOWN + 1] = { { NULL, 0 } };
	size_t nfields = 0, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && code[i] != '$')
			continue;
		if (nfields <= F_KNOWN)
			f[nfields] = (struct span){ code + start, i - start };
		nfields++;
		start = i + 1;
	}

	if (check_format(f[F_FORMAT], nfields, err) < 0)
		return -1;
	if (nfields <= F_SMDP)
		return ac_fail(err, "missing %s field after the %s", field_names[F_SMDP],
			       field_names[F_FORMAT]);
	if (check_smdp(f[F_SMDP], ac->smdp, err) < 0)
		return -1;
	if (nfields <= F_MID)
		return ac_fail(err, "missing %s field after the %s (end the code with '$' "
			       "if there is none)", field_names[F_MID], field_names[F_SMDP]);
	if (check_mid(f[F_MID], ac->matching_id, err) < 0)
		return -1;
	/* An empty 6th field that only ends the code is reported as a trailing '$' below. */
	if (nfields > F_KNOWN + 1 || (nfields == F_KNOWN + 1 && f[F_KNOWN].len > 0))
		return ac_fail(err, "field %d ('%.*s%s') is not defined by SGP.22 section 4.1, "
			       "which has %d fields; esimctl refuses it rather than drop it",
			       F_KNOWN + 1, f[F_KNOWN].len > 32 ? 32 : (int)f[F_KNOWN].len,
			       f[F_KNOWN].p, f[F_KNOWN].len > 32 ? "..." : "", F_KNOWN);
	if (nfields > F_OID && code[len - 1] == '$')
		return ac_fail(err, "trailing '$' after %s: remove the separator",
			       field_before_trailing(nfields));
	if (nfields > F_OID && check_oid(f[F_OID], ac->oid, err) < 0)
		return -1;
	if (nfields > F_CC && check_cc(f[F_CC], &ac->cc_required, err) < 0)
		return -1;
	return 0;
}

int actcode_parse(const char *text, struct actcode *out, struct esim_err *err)
{
	struct actcode ac, *dst = out ? out : &ac;
	size_t start = 0, end, i;
	const char *code;
	size_t len;
	int ret;

	memset(dst, 0, sizeof(*dst));
	if (!text)
		return ac_fail(err, "none given");
	end = strlen(text);
	while (start < end && is_space((unsigned char)text[start]))
		start++;
	while (end > start && is_space((unsigned char)text[end - 1]))
		end--;
	if (start == end)
		return ac_fail(err, "empty");
	if (end - start > AC_TEXT_MAX)
		return ac_fail(err, "too long (%zu characters, at most %d)", end - start,
			       AC_TEXT_MAX);
	for (i = start; i < end; i++) {
		unsigned c = (unsigned char)text[i];

		if (c == ' ')
			return ac_fail(err, "space at position %zu", i + 1);
		if (c < 0x20 || c == 0x7f)
			return ac_fail(err, "control character 0x%02X at position %zu", c, i + 1);
		if (c > 0x7f)
			return ac_fail(err, "non-ASCII byte 0x%02X at position %zu", c, i + 1);
	}

	code = text + start;
	len = end - start;
	if (len >= 4 && span_eq_ci((struct span){ code, 4 }, "LPA:")) {
		code += 4;
		len -= 4;
		if (len == 0)
			return ac_fail(err, "nothing after the 'LPA:' prefix");
	}

	/* Straight into out: a code that fails leaves none of it behind, nor a check alone. */
	if ((ret = parse_fields(code, len, dst, err)) < 0 || !out)
		secure_wipe(dst, sizeof(*dst));
	return ret;
}

/*
 * A code kept as its fields (the store's "activation_code" object): the same checks as
 * actcode_parse() gives them, without joining the fields into a text to split again.
 */
int actcode_from_fields(const char *smdp, const char *mid, const char *oid, int cc_required,
			struct actcode *out, struct esim_err *err)
{
	struct span o = { oid ? oid : "", oid ? strlen(oid) : 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_smdp((struct span){ smdp, strlen(smdp) }, out->smdp, err);
	if (ret == 0)
		ret = check_mid((struct span){ mid, strlen(mid) }, out->matching_id, err);
	if (ret == 0)
		ret = check_oid(o, out->oid, err);
	if (ret < 0) {
		secure_wipe(out, sizeof(*out));
		return -1;
	}
	out->cc_required = cc_required != 0;
	return 0;
}

/* Length of a struct actcode field, never reading past its array. */
static size_t field_len(const char *s)
{
	const char *nul = memchr(s, '\0', ACTCODE_FIELD_MAX + 1);

	return nul ? (size_t)(nul - s) : ACTCODE_FIELD_MAX + 1;
}

/* Written in place after one buf_grow(): list --json formats a code per profile. */
static void format_fields(const char *smdp, size_t ns, const char *mid, const char *oidf, size_t no,
			  int cc, struct buf *out)
{
	size_t nm = field_len(mid), i;
	int oid = no || cc;
	char *w;

	buf_grow(out, 6 + ns + 1 + nm + (oid ? 1 + no : 0) + (cc ? 2 : 0));
	w = out->buf + out->len;
	memcpy(w, "LPA:1$", 6);
	w += 6;
	for (i = 0; i < ns; i++)
		*w++ = (char)to_lower((unsigned char)smdp[i]);
	*w++ = '$';
	memcpy(w, mid, nm);
	w += nm;
	if (oid) {
		*w++ = '$';
		memcpy(w, oidf, no);
		w += no;
	}
	if (cc) {
		memcpy(w, "$1", 2);
		w += 2;
	}
	*w = '\0';
	out->len = (size_t)(w - out->buf);
}

static void format_with(const struct actcode *ac, const char *mid, struct buf *out)
{
	format_fields(ac->smdp, field_len(ac->smdp), mid, ac->oid, field_len(ac->oid),
		      ac->cc_required, out);
}

void actcode_format(const struct actcode *ac, struct buf *out)
{
	format_with(ac, ac->matching_id, out);
}

void actcode_mask(const char *mid, char *out, size_t outsz)
{
	size_t n, i;

	if (!out || outsz == 0)
		return;
	n = mid ? strlen(mid) : 0;
	if (n >= outsz) {
		/* Too small to show the contract's shape: reveal nothing. */
		memset(out, '*', outsz - 1);
		out[outsz - 1] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		out[i] = (n > 6 && (i < 3 || i >= n - 2)) ? mid[i] : '*';
	out[n] = '\0';
}

void actcode_format_masked(const struct actcode *ac, struct buf *out)
{
	char mid[ACTCODE_FIELD_MAX + 2];
	char masked[ACTCODE_FIELD_MAX + 2];
	size_t n = field_len(ac->matching_id);

	memcpy(mid, ac->matching_id, n);
	mid[n] = '\0';
	actcode_mask(mid, masked, sizeof(masked));
	secure_wipe(mid, sizeof(mid));
	format_with(ac, masked, out);
}

void actcode_wipe(struct actcode *ac)
{
	if (ac)
		secure_wipe(ac->matching_id, sizeof(ac->matching_id));
}

/* ---- packed ---- */

struct actcode_packed *actcode_pack(const struct actcode *ac)
{
	size_t ns = field_len(ac->smdp), nm = field_len(ac->matching_id), no = field_len(ac->oid);
	size_t len = ns + 1 + nm + 1 + no + 1;
	struct actcode_packed *p = xmalloc(sizeof(*p) + len);
	char *w = p->text;

	p->len = len;
	p->cc_required = ac->cc_required != 0;
	p->smdp = w;
	memcpy(w, ac->smdp, ns);
	w[ns] = '\0';
	w += ns + 1;
	p->matching_id = w;
	memcpy(w, ac->matching_id, nm);
	w[nm] = '\0';
	w += nm + 1;
	p->oid = w;
	memcpy(w, ac->oid, no);
	w[no] = '\0';
	return p;
}

void actcode_unpack(const struct actcode_packed *p, struct actcode *out)
{
	memset(out, 0, sizeof(*out));
	/* Packed from a struct actcode: each field fits its array. */
	memcpy(out->smdp, p->smdp, strlen(p->smdp));
	memcpy(out->matching_id, p->matching_id, strlen(p->matching_id));
	memcpy(out->oid, p->oid, strlen(p->oid));
	out->cc_required = p->cc_required;
}

void actcode_packed_free(struct actcode_packed *p)
{
	if (!p)
		return;
	secure_wipe(p->text, p->len);
	free(p);
}

int actcode_packed_same(const struct actcode_packed *p, const struct actcode *ac)
{
	/* Both are checked, so canonical: equal fields are equal canonical codes. */
	return !strcmp(p->smdp, ac->smdp) && !strcmp(p->matching_id, ac->matching_id) &&
	       !strcmp(p->oid, ac->oid) && !p->cc_required == !ac->cc_required;
}

void actcode_packed_format(const struct actcode_packed *p, int masked, struct buf *out)
{
	char m[ACTCODE_FIELD_MAX + 2];

	if (!masked) {
		format_fields(p->smdp, strlen(p->smdp), p->matching_id, p->oid, strlen(p->oid),
			      p->cc_required, out);
		return;
	}
	actcode_mask(p->matching_id, m, sizeof(m));
	format_fields(p->smdp, strlen(p->smdp), m, p->oid, strlen(p->oid), p->cc_required, out);
}
