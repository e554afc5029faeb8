/* test_actcode.c - activation code grammar, formatting, masking (src/core/actcode.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/actcode.h"

struct ac_case {
	const char *in;
	int ok;
	/* when ok */
	const char *smdp;
	const char *mid;
	const char *oid;
	int cc;
	/* when not ok: a substring of err.msg */
	const char *err;
};

#define OK(in, smdp, mid, oid, cc) { in, 1, smdp, mid, oid, cc, NULL }
#define BAD(in, sub) { in, 0, NULL, NULL, NULL, 0, sub }

static const struct ac_case cases[] = {
	/* SGP.22 §4.1 examples (pySim round-trip set) and lpac's */
	OK("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815", "smdp.gsma.com", "04386-AGYFT-A74Y8-3F815", "", 0),
	OK("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$$1", "smdp.gsma.com", "04386-AGYFT-A74Y8-3F815", "", 1),
	OK("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1", "smdp.gsma.com",
	   "04386-AGYFT-A74Y8-3F815", "1.3.6.1.4.1.31746", 1),
	OK("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746", "smdp.gsma.com",
	   "04386-AGYFT-A74Y8-3F815", "1.3.6.1.4.1.31746", 0),
	OK("1$SMDP.GSMA.COM$$1.3.6.1.4.1.31746", "smdp.gsma.com", "", "1.3.6.1.4.1.31746", 0),
	OK("LPA:1$rsp.truphone.com$QR-G-5C-1LS-1W1Z9P7", "rsp.truphone.com", "QR-G-5C-1LS-1W1Z9P7", "", 0),

	/* prefix variants */
	OK("lpa:1$rsp.example.com$ABC-123", "rsp.example.com", "ABC-123", "", 0),
	OK("Lpa:1$rsp.example.com$ABC-123", "rsp.example.com", "ABC-123", "", 0),
	OK("lPA:1$rsp.example.com$ABC-123", "rsp.example.com", "ABC-123", "", 0),
	OK("LPA:1$rsp.example.com$", "rsp.example.com", "", "", 0),
	BAD("LPA:", "nothing after the 'LPA:' prefix"),
	BAD("lpa:", "nothing after the 'LPA:' prefix"),
	BAD("LPA:LPA:1$rsp.example.com$A", "format version 'LPA:1' is not supported"),
	BAD("LPA1$rsp.example.com$A", "format version 'LPA1' is not supported"),
	BAD("LPA;1$rsp.example.com$A", "format version 'LPA;1' is not supported"),
	BAD("LP:1$rsp.example.com$A", "format version 'LP:1'"),
	BAD("LPA:$rsp.example.com$ABC-123", "format version is empty (must be '1')"),
	BAD("LPA: 1$rsp.example.com$A", "space at position 5"),

	/* surrounding and interior whitespace */
	OK("  LPA:1$rsp.example.com$ABC  ", "rsp.example.com", "ABC", "", 0),
	OK("\tLPA:1$rsp.example.com$ABC\r\n", "rsp.example.com", "ABC", "", 0),
	OK("\n\v\f 1$rsp.example.com$ABC\n", "rsp.example.com", "ABC", "", 0),
	BAD("", "activation code: empty"),
	BAD("   \t\r\n", "activation code: empty"),
	BAD("LPA:1$rsp.example.com$AB C", "space at position 25"),
	BAD("  LPA:1$rsp.example.com$AB C", "space at position 27"),
	BAD("LPA:1$rsp.example.com$AB\tC", "control character 0x09 at position 25"),
	BAD("LPA:1$rsp.exa\nmple.com$ABC", "control character 0x0A at position 14"),
	BAD("LPA:1$rsp.example.com$AB\x7f", "control character 0x7F at position 25"),
	BAD("LPA:1$rsp.example.com$AB\x01" "C", "control character 0x01 at position 25"),
	BAD("LPA:1$rsp.example.com$\xc2\xa0" "ABC", "non-ASCII byte 0xC2 at position 23"),
	BAD("LPA:1$r\xc3\xa9sp.example.com$ABC", "non-ASCII byte 0xC3 at position 8"),

	/* format version */
	BAD("2$rsp.example.com$ABC-123", "format version '2' is not supported (must be '1')"),
	BAD("0$rsp.example.com$ABC-123", "format version '0'"),
	BAD("01$rsp.example.com$ABC-123", "format version '01'"),
	BAD("11$rsp.example.com$ABC-123", "format version '11'"),
	BAD("1.0$rsp.example.com$ABC-123", "format version '1.0'"),
	BAD("$rsp.example.com$ABC-123", "format version is empty"),
	BAD("ABC-123", "no '$' separator"),
	BAD("LPA:rsp.example.com", "no '$' separator"),
	BAD("2", "no '$' separator"),

	/* missing fields */
	BAD("1", "missing SM-DP+ address field"),
	BAD("LPA:1", "missing SM-DP+ address field"),
	BAD("1$", "SM-DP+ address is empty"),
	BAD("1$rsp.example.com", "missing matching ID field"),
	BAD("LPA:1$rsp.example.com", "missing matching ID field"),
	BAD("1$$ABC", "SM-DP+ address is empty"),
	BAD("1$$", "SM-DP+ address is empty"),

	/* SM-DP+ address */
	OK("1$RSP.Example.COM$A", "rsp.example.com", "A", "", 0),
	OK("1$localhost$A", "localhost", "A", "", 0),
	OK("1$LocalHost:8443$A", "localhost:8443", "A", "", 0),
	OK("1$a.b$A", "a.b", "A", "", 0),
	OK("1$x-1.y-2.example$A", "x-1.y-2.example", "A", "", 0),
	OK("1$127.0.0.1$A", "127.0.0.1", "A", "", 0),
	OK("1$127.0.0.1:8443$A", "127.0.0.1:8443", "A", "", 0),
	OK("1$smdp.io:1$A", "smdp.io:1", "A", "", 0),
	OK("1$smdp.io:443$A", "smdp.io:443", "A", "", 0),
	OK("1$smdp.io:65535$A", "smdp.io:65535", "A", "", 0),
	OK("1$xn--bcher-kva.example$A", "xn--bcher-kva.example", "A", "", 0),
	BAD("1$rsp..x$A", "SM-DP+ address 'rsp..x': empty label at position 4"),
	BAD("1$.rsp.x$A", "SM-DP+ address '.rsp.x': empty label at position 1"),
	BAD("1$rsp.x.$A", "SM-DP+ address 'rsp.x.': empty label at position 6"),
	BAD("1$.$A", "SM-DP+ address '.': empty label at position 1"),
	BAD("1$rsp.x..:443$A", "empty label at position 6"),
	BAD("1$-rsp.example.com$A", "label at position 1 starts with '-'"),
	BAD("1$rsp-.example.com$A", "label at position 1 ends with '-'"),
	BAD("1$rsp.-example.com$A", "label at position 5 starts with '-'"),
	BAD("1$rsp.example.com-$A", "label at position 13 ends with '-'"),
	BAD("1$rsp_1.example.com$A", "character '_' at position 4 is not allowed (letters, digits, '-' and '.')"),
	BAD("1$rsp.example.com/path$A", "character '/' at position 16 is not allowed"),
	BAD("1$https://rsp.example.com$A", "'https://rsp.example.com': remove the scheme"),
	BAD("1$rsp.example.com?x=1$A", "character '?'"),
	BAD("1$rsp*.example.com$A", "character '*' at position 4"),
	BAD("1$example$A", "SM-DP+ address 'example': single-label host name"),
	BAD("1$localhost2$A", "single-label host name"),
	BAD("1$example:443$A", "single-label host name"),
	BAD("1$:443$A", "empty host name before ':'"),
	BAD("1$rsp.example.com:$A", "'rsp.example.com:': empty port after ':'"),
	BAD("1$rsp.example.com:0$A", "port 0 is out of range (1-65535)"),
	BAD("1$rsp.example.com:65536$A", "port 65536 is out of range (1-65535)"),
	BAD("1$rsp.example.com:99999$A", "port 99999 is out of range"),
	BAD("1$rsp.example.com:4294967297$A", "port 4294967297 is out of range"),
	BAD("1$rsp.example.com:99999999999999999999999$A", "is out of range"),
	BAD("1$rsp.example.com:0443$A", "port '0443' has a leading zero"),
	BAD("1$rsp.example.com:00$A", "port '00' has a leading zero"),
	BAD("1$rsp.example.com:-1$A", "port '-1' is not a number"),
	BAD("1$rsp.example.com:+443$A", "port '+443' is not a number"),
	BAD("1$rsp.example.com:44a$A", "port '44a' is not a number"),
	BAD("1$rsp.example.com:443:1$A", "port '443:1' is not a number"),
	BAD("1$[::1]:443$A", "character '['"),

	/* matching ID */
	OK("1$rsp.example.com$abc-DEF-0123456789", "rsp.example.com", "abc-DEF-0123456789", "", 0),
	OK("1$rsp.example.com$-", "rsp.example.com", "-", "", 0),
	OK("1$rsp.example.com$---", "rsp.example.com", "---", "", 0),
	BAD("1$rsp.example.com$ABC_123", "matching ID: character '_' at position 4 is not allowed (letters, digits and '-')"),
	BAD("1$rsp.example.com$ABC.123", "matching ID: character '.' at position 4"),
	BAD("1$rsp.example.com$A:B", "matching ID: character ':' at position 2"),
	BAD("1$rsp.example.com$A+B", "matching ID: character '+'"),
	BAD("1$rsp.example.com$A/B", "matching ID: character '/'"),

	/* trailing separators */
	BAD("1$rsp.example.com$MID$", "trailing '$' after the matching ID: remove the separator"),
	BAD("LPA:1$rsp.example.com$$", "trailing '$' after the matching ID"),
	BAD("1$rsp.example.com$MID$1.2$", "trailing '$' after the SM-DP+ OID"),
	BAD("1$rsp.example.com$MID$$", "trailing '$' after the SM-DP+ OID"),
	BAD("1$rsp.example.com$MID$$1$", "trailing '$' after the confirmation code flag"),
	BAD("1$rsp.example.com$MID$$1$X$", "field 6 ('X')"),

	/* SM-DP+ OID */
	OK("1$rsp.example.com$A$2.999.10", "rsp.example.com", "A", "2.999.10", 0),
	OK("1$rsp.example.com$A$0.0", "rsp.example.com", "A", "0.0", 0),
	OK("1$rsp.example.com$A$1.39", "rsp.example.com", "A", "1.39", 0),
	OK("1$rsp.example.com$A$2.25.329800735698586629295641978511506172918",
	   "rsp.example.com", "A", "2.25.329800735698586629295641978511506172918", 0),
	OK("1$rsp.example.com$A$1.3.0.10", "rsp.example.com", "A", "1.3.0.10", 0),
	OK("1$rsp.example.com$$2.999.10$1", "rsp.example.com", "", "2.999.10", 1),
	BAD("1$rsp.example.com$A$1", "SM-DP+ OID '1': needs at least two arcs"),
	BAD("1$rsp.example.com$A$2", "needs at least two arcs"),
	BAD("1$rsp.example.com$A$1..3", "SM-DP+ OID '1..3': empty arc at position 2"),
	BAD("1$rsp.example.com$A$.1.3", "empty arc at position 1"),
	BAD("1$rsp.example.com$A$1.3.", "SM-DP+ OID '1.3.': empty arc at position 4"),
	BAD("1$rsp.example.com$A$1.03", "SM-DP+ OID '1.03': arc at position 3 has a leading zero"),
	BAD("1$rsp.example.com$A$01.3", "arc at position 1 has a leading zero"),
	BAD("1$rsp.example.com$A$1.3.00", "arc at position 5 has a leading zero"),
	BAD("1$rsp.example.com$A$1.3a", "SM-DP+ OID '1.3a': character 'a' at position 4 is not allowed (digits and '.')"),
	BAD("1$rsp.example.com$A$1.-3", "character '-' at position 3"),
	BAD("1$rsp.example.com$A$urn:oid:1.3", "character 'u' at position 1"),
	BAD("1$rsp.example.com$A$3.1", "first arc must be 0, 1 or 2"),
	BAD("1$rsp.example.com$A$10.1", "first arc must be 0, 1 or 2"),
	BAD("1$rsp.example.com$A$1.40", "second arc must be 0-39 under arc 1"),
	BAD("1$rsp.example.com$A$0.100", "second arc must be 0-39 under arc 0"),

	/* confirmation code flag */
	OK("1$rsp.example.com$A$$1", "rsp.example.com", "A", "", 1),
	OK("1$rsp.example.com$MID$$1", "rsp.example.com", "MID", "", 1),
	BAD("$$1", "format version is empty"),
	BAD("1$rsp.example.com$A$$0", "confirmation code flag '0' is not supported (must be '1', or leave the field out)"),
	BAD("1$rsp.example.com$A$$2", "confirmation code flag '2'"),
	BAD("1$rsp.example.com$A$$01", "confirmation code flag '01'"),
	BAD("1$rsp.example.com$A$$true", "confirmation code flag 'true'"),
	BAD("1$rsp.example.com$A$1.2$yes", "confirmation code flag 'yes'"),

	/*
	 * Fields beyond SGP.22 section 4.1's five are refused, naming the field, never
	 * dropped: the stored code and the QR code must be the code that was given.
	 */
	BAD("1$rsp.example.com$A$2.999.10$1$EXT", "field 6 ('EXT') is not defined by SGP.22"),
	BAD("LPA:1$h.example.com$ABC$1.2.3$1$extra", "field 6 ('extra')"),
	BAD("1$rsp.example.com$A$$1$anything:goes/here", "field 6 ('anything:goes/here')"),
	BAD("1$rsp.example.com$A$$$EXT", "field 6 ('EXT')"),
	BAD("1$rsp.example.com$A$$$EXT$MORE", "field 6 ('EXT')"),
	BAD("1$rsp.example.com$A$$$$", "field 6 ('')"),
	BAD("1$rsp.example.com$A$$$EXT$MORE$", "field 6 ('EXT')"),
	BAD("1$rsp.example.com$A$1.2$$X", "field 6 ('X')"),
	BAD("1$rsp.example.com$A$$1$$X", "field 6 ('')"),
	BAD("1$rsp.example.com$A$1.2$1$XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	    "field 6 ('XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...')"),
	/* an empty 6th field that only ends the code is a trailing '$' */
	BAD("1$rsp.example.com$A$1.2$1$", "trailing '$' after the confirmation code flag"),
	/* the man page: a code ending in '$' is refused, not shortened */
	BAD("LPA:1$rsp.example.com$ABC-123$", "trailing '$' after the matching ID"),
};

static void check_case(const struct ac_case *c, size_t row)
{
	struct actcode ac;
	struct esim_err err;
	int rc;

	memset(&ac, 0x55, sizeof(ac));
	esim_err_clear(&err);
	rc = actcode_parse(c->in, &ac, &err);
	if (c->ok) {
		if (rc != 0)
			fail_msg("row %zu '%s': unexpected error: %s", row, c->in, err.msg);
		assert_string_equal(ac.smdp, c->smdp);
		assert_string_equal(ac.matching_id, c->mid);
		assert_string_equal(ac.oid, c->oid);
		assert_int_equal(ac.cc_required, c->cc);
		return;
	}
	if (rc != -1)
		fail_msg("row %zu '%s': accepted, expected error containing \"%s\"", row, c->in,
			 c->err);
	assert_int_equal(err.status, ESIM_E_USAGE);
	if (!strstr(err.msg, c->err))
		fail_msg("row %zu '%s': message \"%s\" lacks \"%s\"", row, c->in, err.msg, c->err);
	if (strncmp(err.msg, "activation code: ", 17) != 0)
		fail_msg("row %zu: message \"%s\" lacks the prefix", row, err.msg);
	if (!strstr(err.hint, "expected LPA:1$<SM-DP+ address>$<matching ID>"))
		fail_msg("row %zu: hint \"%s\"", row, err.hint);
	/* the output is cleared on failure */
	assert_string_equal(ac.smdp, "");
	assert_string_equal(ac.matching_id, "");
	assert_string_equal(ac.oid, "");
	assert_int_equal(ac.cc_required, 0);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], i);
}

/* parse(format(parse(x))) == parse(x), and format is a fixed point. */
static void test_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct actcode a, b;
		struct buf s1 = BUF_INIT, s2 = BUF_INIT;
		struct esim_err err;

		if (!cases[i].ok)
			continue;
		if (actcode_parse(cases[i].in, &a, &err) != 0)
			fail_msg("row %zu: %s", i, err.msg);
		actcode_format(&a, &s1);
		if (actcode_parse(s1.buf, &b, &err) != 0)
			fail_msg("row %zu: formatted '%s' rejected: %s", i, s1.buf, err.msg);
		assert_string_equal(a.smdp, b.smdp);
		assert_string_equal(a.matching_id, b.matching_id);
		assert_string_equal(a.oid, b.oid);
		assert_int_equal(a.cc_required, b.cc_required);
		actcode_format(&b, &s2);
		assert_string_equal(s1.buf, s2.buf);
		assert_memory_equal("LPA:1$", s1.buf, 6);
		buf_release(&s1);
		buf_release(&s2);
	}
}

static void test_format(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} rows[] = {
		{ "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815", "LPA:1$smdp.gsma.com$04386-AGYFT-A74Y8-3F815" },
		{ "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$$1", "LPA:1$smdp.gsma.com$04386-AGYFT-A74Y8-3F815$$1" },
		{ "1$SMDP.GSMA.COM$X$1.3.6.1.4.1.31746$1", "LPA:1$smdp.gsma.com$X$1.3.6.1.4.1.31746$1" },
		{ "1$SMDP.GSMA.COM$X$1.3.6.1.4.1.31746", "LPA:1$smdp.gsma.com$X$1.3.6.1.4.1.31746" },
		{ "1$SMDP.GSMA.COM$$1.3.6.1.4.1.31746", "LPA:1$smdp.gsma.com$$1.3.6.1.4.1.31746" },
		{ " lpa:1$Rsp.Example.Com:8443$abc ", "LPA:1$rsp.example.com:8443$abc" },
		{ "1$rsp.example.com$", "LPA:1$rsp.example.com$" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct actcode ac;
		struct buf b = BUF_INIT;
		struct esim_err err;

		if (actcode_parse(rows[i].in, &ac, &err) != 0)
			fail_msg("row %zu: %s", i, err.msg);
		buf_addstr(&b, "prefix:");
		actcode_format(&ac, &b);
		assert_string_equal(b.buf + 7, rows[i].out);
		assert_memory_equal(b.buf, "prefix:", 7); /* appends */
		buf_release(&b);
	}
}

/* A struct filled in by hand is formatted canonically too. */
static void test_format_built(void **state)
{
	struct actcode ac;
	struct buf b = BUF_INIT;

	(void)state;
	memset(&ac, 0, sizeof(ac));
	memcpy(ac.smdp, "RSP.Example.COM", sizeof("RSP.Example.COM"));
	memcpy(ac.matching_id, "MID", sizeof("MID"));
	ac.cc_required = 7;
	actcode_format(&ac, &b);
	assert_string_equal(b.buf, "LPA:1$rsp.example.com$MID$$1");
	buf_release(&b);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* "a.b.c..." host of exactly n characters with labels of at most 63. */
static char *host_of(size_t n)
{
	char *s = repeat('a', n);
	size_t i;

	for (i = 63; i < n - 1; i += 64)
		s[i] = '.';
	return s;
}

static int parse_fmt(struct actcode *ac, struct esim_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_fmt(struct actcode *ac, struct esim_err *err, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(rc > 0 && (size_t)rc < sizeof(text));
	esim_err_clear(err);
	return actcode_parse(text, ac, err);
}

static void expect_err(int rc, const struct esim_err *err, const char *sub)
{
	assert_int_equal(rc, -1);
	assert_int_equal(err->status, ESIM_E_USAGE);
	if (!strstr(err->msg, sub))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, sub);
}

static void test_lengths(void **state)
{
	struct actcode ac;
	struct esim_err err;
	char *s255 = repeat('M', 255), *s256 = repeat('M', 256);
	char *label63 = repeat('b', 63), *label64 = repeat('b', 64);
	char *h253 = host_of(253), *h254 = host_of(254), *h249 = host_of(249);
	char *ext = repeat('E', 250);
	char *oid255, *oid256;
	size_t i;

	(void)state;
	/* matching ID: 255 ok, 256 not */
	assert_int_equal(parse_fmt(&ac, &err, "1$rsp.example.com$%s", s255), 0);
	assert_int_equal(strlen(ac.matching_id), 255);
	expect_err(parse_fmt(&ac, &err, "1$rsp.example.com$%s", s256), &err,
		   "matching ID is 256 characters long (at most 255)");

	/* labels: 63 ok, 64 not */
	assert_int_equal(parse_fmt(&ac, &err, "1$%s.example.com$A", label63), 0);
	expect_err(parse_fmt(&ac, &err, "1$%s.example.com$A", label64), &err,
		   "label at position 1 is 64 characters long (at most 63)");
	expect_err(parse_fmt(&ac, &err, "1$rsp.%s$A", label64), &err,
		   "label at position 5 is 64 characters long");

	/* host: 253 ok, 254 not; field with port: 255 ok, 256 not */
	assert_int_equal(parse_fmt(&ac, &err, "1$%s$A", h253), 0);
	assert_int_equal(strlen(ac.smdp), 253);
	expect_err(parse_fmt(&ac, &err, "1$%s$A", h254), &err,
		   "host name is 254 characters long (at most 253)");
	assert_int_equal(parse_fmt(&ac, &err, "1$%s:65535$A", h249), 0);
	assert_int_equal(strlen(ac.smdp), 255);
	expect_err(parse_fmt(&ac, &err, "1$%s:65535$A", h253), &err,
		   "SM-DP+ address is 259 characters long (at most 255)");
	expect_err(parse_fmt(&ac, &err, "1$%s$A", s256), &err,
		   "SM-DP+ address is 256 characters long (at most 255)");

	/* OID: 255 ok, 256 not */
	oid255 = repeat('1', 255);
	oid256 = repeat('1', 256);
	for (i = 1; i < 255; i += 2) {
		oid255[i] = '.';
		oid256[i] = '.';
	}
	oid255[0] = oid256[0] = '1';
	oid255[2] = oid256[2] = '3';
	assert_int_equal(parse_fmt(&ac, &err, "1$rsp.example.com$A$%s", oid255), 0);
	assert_int_equal(strlen(ac.oid), 255);
	expect_err(parse_fmt(&ac, &err, "1$rsp.example.com$A$%s", oid256), &err,
		   "SM-DP+ OID is 256 characters long (at most 255)");

	/*
	 * whole code: 1024 passes the length check (with "LPA:"; only a 6th field, which is
	 * refused, makes a code that long), 1025 not
	 */
	expect_err(parse_fmt(&ac, &err, "LPA:1$%s$%s$%s$1$%s", h253, s255, oid255, ext), &err,
		   "field 6 ('EEEE");
	expect_err(parse_fmt(&ac, &err, "LPA:1$%s$%s$%s$1$%sE", h253, s255, oid255, ext), &err,
		   "too long (1025 characters, at most 1024)");
	/* surrounding whitespace does not count */
	expect_err(parse_fmt(&ac, &err, "  LPA:1$%s$%s$%s$1$%s\n", h253, s255, oid255, ext), &err,
		   "field 6 ('EEEE");
	/* the longest code of five fields */
	assert_int_equal(parse_fmt(&ac, &err, "  LPA:1$%s$%s$%s$1\n", h253, s255, oid255), 0);

	/* 6th field long enough to break the limit on its own */
	expect_err(parse_fmt(&ac, &err, "1$rsp.example.com$A$$1$%s%s%s%s%s", s256, s256, s256,
			     s256, ext), &err, "too long");

	free(s255);
	free(s256);
	free(label63);
	free(label64);
	free(h253);
	free(h254);
	free(h249);
	free(ext);
	free(oid255);
	free(oid256);
}

static void test_null_args(void **state)
{
	struct actcode ac;
	struct esim_err err;

	(void)state;
	esim_err_clear(&err);
	assert_int_equal(actcode_parse(NULL, &ac, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "activation code"));
	/* err and out are optional */
	assert_int_equal(actcode_parse("1$rsp.example.com$A", NULL, NULL), 0);
	assert_int_equal(actcode_parse("2$rsp.example.com$A", &ac, NULL), -1);
}

/* The matching ID is a bearer secret: it never appears in a message. */
static void test_mid_not_echoed(void **state)
{
	static const char *const bad[] = {
		"1$rsp.example.com$SECRET42_",
		"1$rsp.example.com$SECRET42$",
		"1$rsp.example.com$SECRET42$1..2",
		"1$rsp.example.com$SECRET42$1.2$7",
		"1$rsp.example.com$SECRET42$$1$",
		"1$rsp.example.com$SECRET42 X",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct actcode ac;
		struct esim_err err;

		assert_int_equal(actcode_parse(bad[i], &ac, &err), -1);
		if (strstr(err.msg, "SECRET42") || strstr(err.hint, "SECRET42"))
			fail_msg("'%s' echoed the matching ID: %s", bad[i], err.msg);
	}
}

static void test_mask(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} rows[] = {
		{ "QR-G-5C-1LS-1W1Z9P7", "QR-**************P7" },
		{ "", "" },
		{ "A", "*" },
		{ "ABCDEF", "******" },
		{ "ABCDEFG", "ABC**FG" },
		{ "04386-AGYFT-A74Y8-3F815", "043******************15" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		actcode_mask(rows[i].in, out, strlen(rows[i].in) + 1);
		assert_string_equal(out, rows[i].out);
		actcode_mask(rows[i].in, out, sizeof(out));
		assert_string_equal(out, rows[i].out);
	}
	/* too small: stars only, never overflows */
	memset(out, 'x', sizeof(out));
	actcode_mask("ABCDEFGHIJ", out, 5);
	assert_string_equal(out, "****");
	assert_int_equal(out[5], 'x');
	actcode_mask("ABCDEFGHIJ", out, 0);
	assert_int_equal(out[0], '*');
	actcode_mask(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_format_masked(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} rows[] = {
		{ "LPA:1$rsp.truphone.com$QR-G-5C-1LS-1W1Z9P7", "LPA:1$rsp.truphone.com$QR-**************P7" },
		{ "1$SMDP.GSMA.COM$04386-AGYFT$1.3.6.1$1", "LPA:1$smdp.gsma.com$043******FT$1.3.6.1$1" },
		{ "1$rsp.example.com$", "LPA:1$rsp.example.com$" },
		{ "1$rsp.example.com$ABC$$1", "LPA:1$rsp.example.com$***$$1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct actcode ac;
		struct buf b = BUF_INIT;
		struct esim_err err;

		if (actcode_parse(rows[i].in, &ac, &err) != 0)
			fail_msg("row %zu: %s", i, err.msg);
		actcode_format_masked(&ac, &b);
		assert_string_equal(b.buf, rows[i].out);
		buf_release(&b);
	}
}

static void test_wipe(void **state)
{
	struct actcode ac;
	struct esim_err err;
	size_t i;

	(void)state;
	assert_int_equal(actcode_parse("1$rsp.example.com$SECRET$1.2$1", &ac, &err), 0);
	actcode_wipe(&ac);
	for (i = 0; i < sizeof(ac.matching_id); i++)
		assert_int_equal(ac.matching_id[i], 0);
	assert_string_equal(ac.smdp, "rsp.example.com");
	actcode_wipe(NULL);
}

/*
 * Mutations of valid codes never crash (ASan/UBSan builds) and whatever is accepted
 * round-trips.  Deterministic: a fixed-seed xorshift.
 */
static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_mutations(void **state)
{
	static const char alphabet[] = "1$$$..::-aZ09 \t\x7f\x80/_L";
	uint32_t seed = 0x2545F491u;
	size_t i, accepted = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		const struct ac_case *c = &cases[rng_next(&seed) % (sizeof(cases) / sizeof(cases[0]))];
		char text[128];
		size_t n = strlen(c->in), k, edits = 1 + rng_next(&seed) % 3;
		struct actcode a, b;
		struct buf s = BUF_INIT;
		struct esim_err err;

		if (n >= sizeof(text) - 4)
			continue;
		memcpy(text, c->in, n + 1);
		for (k = 0; k < edits; k++) {
			size_t at = n ? rng_next(&seed) % n : 0;
			char ch = alphabet[rng_next(&seed) % (sizeof(alphabet) - 1)];

			switch (rng_next(&seed) % 3) {
			case 0: /* replace */
				if (n)
					text[at] = ch;
				break;
			case 1: /* delete */
				if (n) {
					memmove(text + at, text + at + 1, n - at);
					n--;
				}
				break;
			default: /* insert */
				memmove(text + at + 1, text + at, n - at + 1);
				text[at] = ch;
				n++;
				break;
			}
		}
		if (actcode_parse(text, &a, &err) != 0) {
			assert_int_equal(err.status, ESIM_E_USAGE);
			assert_true(err.msg[0] != '\0');
			continue;
		}
		accepted++;
		actcode_format(&a, &s);
		if (actcode_parse(s.buf, &b, &err) != 0)
			fail_msg("'%s' -> '%s' rejected: %s", text, s.buf, err.msg);
		assert_string_equal(a.smdp, b.smdp);
		assert_string_equal(a.matching_id, b.matching_id);
		assert_string_equal(a.oid, b.oid);
		assert_int_equal(a.cc_required, b.cc_required);
		buf_release(&s);
	}
	assert_true(accepted > 100);
}

/*
 * The store keeps codes as fields (actcode_from_fields()) and profiles hold them packed:
 * every valid code of the table comes out of both the same as out of actcode_parse().
 */
static void test_fields_and_packed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ac_case *c = &cases[i];
		struct actcode parsed, fields, back;
		struct actcode_packed *pk;
		struct esim_err err = { 0 };
		struct buf a = BUF_INIT, b = BUF_INIT;

		if (!c->ok)
			continue;
		assert_int_equal(actcode_parse(c->in, &parsed, &err), 0);
		if (actcode_from_fields(parsed.smdp, parsed.matching_id, parsed.oid, parsed.cc_required,
					&fields, &err) != 0)
			fail_msg("row %zu '%s': fields refused: %s", i, c->in, err.msg);
		assert_memory_equal(&fields, &parsed, sizeof(parsed));
		pk = actcode_pack(&parsed);
		assert_string_equal(pk->smdp, c->smdp);
		assert_string_equal(pk->matching_id, c->mid);
		assert_string_equal(pk->oid, c->oid);
		assert_int_equal(pk->cc_required, c->cc);
		assert_true(actcode_packed_same(pk, &parsed));
		actcode_unpack(pk, &back);
		assert_memory_equal(&back, &parsed, sizeof(parsed));
		for (int masked = 0; masked <= 1; masked++) {
			buf_reset(&a);
			buf_reset(&b);
			if (masked)
				actcode_format_masked(&parsed, &a);
			else
				actcode_format(&parsed, &a);
			actcode_packed_format(pk, masked, &b);
			assert_string_equal(b.buf, a.buf);
		}
		back.cc_required = !back.cc_required;
		assert_false(actcode_packed_same(pk, &back));
		actcode_packed_free(pk);
		buf_release(&a);
		buf_release(&b);
	}
	actcode_packed_free(NULL);
}

/* Fields that actcode_parse() would refuse in a text are refused, and leave nothing. */
static void test_fields_refused(void **state)
{
	static const struct {
		const char *smdp, *mid, *oid;
		const char *err;
	} rows[] = {
		{ "", "A", NULL, "SM-DP+ address is empty" },
		{ "bad host!", "A", NULL, "character ' ' at position 4" },
		{ "https://rsp.example.com", "A", NULL, "remove the scheme" },
		{ "rsp.example.com:0", "A", NULL, "out of range" },
		{ "localhost-only", "A", NULL, "single-label host name" },
		{ "rsp.example.com", "A B", NULL, "matching ID: character ' '" },
		{ "rsp.example.com", "A$B", NULL, "matching ID: character '$'" },
		{ "rsp.example.com", "A", "1.x", "SM-DP+ OID '1.x'" },
		{ "rsp.example.com", "A", "3.1", "first arc must be 0, 1 or 2" },
	};
	struct actcode out;
	const unsigned char zero[sizeof(out)] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct esim_err err = { 0 };

		memset(&out, 0x5a, sizeof(out));
		assert_int_equal(actcode_from_fields(rows[i].smdp, rows[i].mid, rows[i].oid, 0, &out, &err), -1);
		if (!strstr(err.msg, rows[i].err))
			fail_msg("row %zu: '%s', want '%s'", i, err.msg, rows[i].err);
		assert_memory_equal(&out, zero, sizeof(out));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_built),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_mid_not_echoed),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_format_masked),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_fields_and_packed),
		cmocka_unit_test(test_fields_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
